/* tests/test_normalize.c — text normalisation (runtime/text/normalize.c): a table of written form → words for every
 * rule, tails, byte-identical pass-through, bounded output (guard bytes on overflow), invalid UTF-8 (passed
 * through unchanged: eg_phonemize() rejects it later), and every line of the shared edge-case texts. */
#include "tests/harness.h"
#include "runtime/text/normalize.h"

static const struct { const char *in, *want; } CASES[] = {
    /* currency */
    { "$5.50", "five dollars fifty cents" }, { "$1", "one dollar" }, { "\xe2\x82\xac" "3.20", "three euros twenty cents" },
    { "$3.99", "three dollars ninety nine cents" }, { "$0.99", "ninety nine cents" }, { "\xc2\xa3" "1.01", "one pound one penny" },
    { "It was \xc2\xa3" "2.95 in Leeds.", "It was two pounds ninety five pence in Leeds." },
    { "$1,299.99 and $49.", "one thousand two hundred ninety nine dollars ninety nine cents and forty nine dollars." },
    { "now -$250.75.", "now minus two hundred fifty dollars seventy five cents." }, { "$2 million", "two million dollars" },
    { "for 5\xc2\xa2 extra", "for five cents extra" }, { "\xc2\xa5" "600", "six hundred yen" }, { "$5.5", "five dollars fifty cents" },
    /* times */
    { "12:05", "twelve oh five" }, { "7:00 pm", "seven PM" }, { "7 p.m.", "seven PM." }, { "10:45", "ten forty five" },
    { "at 7 p.m. sharp", "at seven PM sharp" }, { "at 3pm EST", "at three PM EST" }, { "At 7:00.", "At seven o'clock." },
    { "23:45, then", "twenty three forty five, then" }, { "5:10 a.m.", "five ten AM." }, { "12:30:15", "twelve thirty" },
    /* ordinals */
    { "1st", "first" }, { "23rd", "twenty third" }, { "101st", "one hundred first" }, { "the 12th.", "the twelfth." },
    { "2nd and 3rd", "second and third" }, { "the 20th century", "the twentieth century" },
    /* years vs numbers, dates */
    { "in 1984", "in nineteen eighty four" }, { "1984", "one thousand nine hundred eighty four" },
    { "since 2015.", "since twenty fifteen." }, { "in 1905", "in nineteen oh five" }, { "in 1900", "in nineteen hundred" },
    { "in 2000", "in two thousand" }, { "July 4th, 1990", "July fourth, nineteen ninety" },
    { "May 5", "May fifth" }, { "12 Nov 2024", "twelfth November twenty twenty four" },
    { "the late 2020s", "the late twenty twenties" }, { "the 80s", "the eighties" },
    { "2024-03-15", "March fifteenth, twenty twenty four" },
    { "2025-06-01T14:30:00Z", "June first, twenty twenty five at fourteen thirty" },
    { "Tue, 12 Nov", "Tuesday, twelfth November" }, { "07/11/2023", "seven slash eleven slash twenty twenty three" },
    /* cardinals, decimals, negatives, percent, degrees */
    { "1,482", "one thousand four hundred eighty two" }, { "8,336,000", "eight million three hundred thirty six thousand" },
    { "1,234,567,890", "one billion two hundred thirty four million five hundred sixty seven thousand eight hundred ninety" },
    { "2.75", "two point seven five" }, { "0.5", "zero point five" }, { "v 2.0.1", "v two point zero point one" },
    { "-8\xc2\xb0" "C", "minus eight degrees Celsius" }, { "356\xc2\xb0" "F)", "three hundred fifty six degrees Fahrenheit)" },
    { "1\xc2\xb0", "one degree" }, { "58%", "fifty eight percent" }, { "3\xe2\x80\x93" "2", "three to two" },
    { "0042", "zero zero four two" }, { "1234567890123", "one two three four five six seven eight nine zero one two three" },
    { "1/2 cup, 3/4", "one half cup, three quarters" }, { "x 1/3", "x one third" },
    /* units */
    { "1 kg", "one kilogram" }, { "3.5 kg", "three point five kilograms" }, { "40 cm", "forty centimeters" },
    { "5 km.", "five kilometers." }, { "30 km/h", "thirty kilometers per hour" }, { "20 mph", "twenty miles per hour" },
    { "128GB", "one hundred twenty eight gigabytes" }, { "5 MB", "five megabytes" }, { "2 kB", "two kilobytes" },
    { "3 lbs", "three pounds" }, { "1 lb", "one pound" }, { "8 oz", "eight ounces" }, { "250 ml", "two hundred fifty milliliters" },
    { "2 l", "two liters" }, { "3 m", "three meters" }, { "4 mm", "four millimeters" }, { "5 g", "five grams" },
    { "5 mg", "five milligrams" }, { "50 Hz", "fifty hertz" }, { "44 kHz", "forty four kilohertz" }, { "25 min.", "twenty five minutes." },
    /* abbreviations */
    { "Mr. and Mrs. Lee", "Mister and Missus Lee" }, { "Ms. Chen", "Miz Chen" }, { "Dr. Okafor", "Doctor Okafor" },
    { "Prof. Haddad", "Professor Haddad" }, { "St. Louis", "Saint Louis" }, { "42 Birch St. last", "forty two Birch Street last" },
    { "Elm St. The end", "Elm Street. The end" }, { "tools, etc.", "tools, et cetera." }, { "e.g. a hammer", "for example a hammer" },
    { "i.e. the street", "that is the street" }, { "Lions vs. Tigers", "Lions versus Tigers" }, { "No. 7", "number seven" },
    { "No. we", "No. we" }, { "Harbor Ave., i.e.", "Harbor Avenue, that is" },
    /* Roman numerals */
    { "Chapter IV", "Chapter four" }, { "King Henry VIII is", "King Henry the eighth is" }, { "World War II", "World War two" },
    { "I saw II", "I saw II" },
    /* phone numbers */
    { "(212) 555-0147", "two one two, five five five, zero one four seven" }, { "555-0147.", "five five five, zero one four seven." },
    { "+1 415 555 0182,", "plus one, four one five, five five five, zero one eight two," },
    { "+44 20 7946 0321", "plus four four, two zero, seven nine four six, zero three two one" },
    /* & and pass-through */
    { "A & B", "A and B" }, { "AT&T", "AT and T" }, { "", "" }, { "plain words.", "plain words." },
    { "caf\xc3\xa9 \xf0\x9f\x8e\x82 \xd0\x94\xd0\xbe", "caf\xc3\xa9 \xf0\x9f\x8e\x82 \xd0\x94\xd0\xbe" },
    { "https://www.example.com/help/start?lang=en", "https://www.example.com/help/start?lang=en" },
    { "the NASA FAQ", "the NASA FAQ" }, { "mp3 H2O", "mp3 H2O" }, { "7", "seven" }, { "at 9", "at nine" },
};

TEST(normalize_table) {
    char out[1024];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        size_t n = 12345;
        enum eg_status st = eg_text_normalize(CASES[i].in, out, sizeof out, &n);
        CHECK(st == EG_OK, "'%s': status %d", CASES[i].in, (int)st);
        CHECK(!strcmp(out, CASES[i].want), "'%s':\n    got:  '%s'\n    want: '%s'", CASES[i].in, out, CASES[i].want);
        CHECK(n == strlen(out), "'%s': n_out %zu != %zu", CASES[i].in, n, strlen(out));
    }
}

static void count_log(enum eg_log_level level, const char *msg, void *user) {
    if (level == EG_LOG_ERROR && strstr(msg, "normalise")) (*(int *)user)++;
}

/* Overflow at every buffer size below the need: EG_ERR_INVALID_ARG with one log line, "" and nothing written
 * past out_len. */
TEST(normalize_overflow_guarded) {
    int n_logs = 0;
    eg_log_set(count_log, &n_logs);
    const char *in = "He paid $1,299.99 on 2024-03-15 at 10:45 & left.";
    char ref[512];
    size_t need;
    REQUIRE(eg_text_normalize(in, ref, sizeof ref, &need) == EG_OK, "reference");
    enum { G = 64 };
    static char buf[512 + 2 * G];
    for (size_t cap = 1; cap <= need + 1; cap++) {
        memset(buf, 0xA5, sizeof buf);
        size_t n = 99;
        int logs_before = n_logs;
        enum eg_status st = eg_text_normalize(in, buf + G, cap, &n);
        if (cap <= need) {
            CHECK(st == EG_ERR_INVALID_ARG && n == 0 && buf[G] == 0, "cap %zu: status %d n %zu", cap, (int)st, n);
            CHECK(n_logs == logs_before + 1, "cap %zu: expected one log line", cap);
        } else {
            CHECK(st == EG_OK && n == need && !strcmp(buf + G, ref), "cap %zu: status %d", cap, (int)st);
        }
        int clean = 1;
        for (size_t k = 0; k < G; k++) if ((unsigned char)buf[k] != 0xA5) clean = 0;
        for (size_t k = G + cap; k < sizeof buf; k++) if ((unsigned char)buf[k] != 0xA5) clean = 0;
        CHECK(clean, "cap %zu: write outside the buffer", cap);
    }
    CHECK(eg_text_normalize(NULL, ref, sizeof ref, NULL) == EG_ERR_INVALID_ARG, "NULL input");
    CHECK(eg_text_normalize("x", NULL, 4, NULL) == EG_ERR_INVALID_ARG, "NULL output");
    CHECK(eg_text_normalize("x", ref, 0, NULL) == EG_ERR_INVALID_ARG, "empty output");
    eg_log_set(NULL, NULL);
}

/* Invalid UTF-8 is not this module's business: bytes pass through unchanged, numbers around them still convert. */
TEST(normalize_invalid_utf8_passes_through) {
    char out[128];
    CHECK(eg_text_normalize("ab\xff" "cd \xc3", out, sizeof out, NULL) == EG_OK && !strcmp(out, "ab\xff" "cd \xc3"), "%s", out);
    CHECK(eg_text_normalize("\xe2\x82 5 \xc2", out, sizeof out, NULL) == EG_OK && !strcmp(out, "\xe2\x82 five \xc2"), "%s", out);
    CHECK(eg_text_normalize("5\xc2", out, sizeof out, NULL) == EG_OK && !strcmp(out, "five\xc2"), "%s", out);
}

/* The documented bound (EG_NORMALIZE_GROWTH x input + 64) holds for the densest inputs we know. */
TEST(normalize_growth_bound) {
    static const char *const dense[] = { "777777777777", "7%7%7%7%7%7%7%", "$777,777,777,777.77", "XX", "A XX",
        "-$777.77", "7m,7m,7m", "&&&&", "(777) 777-7777", "+7 77 7777 7777", "2077-07-27T17:17:17Z", "77/77/7777" };
    char out[1024];
    for (size_t i = 0; i < sizeof dense / sizeof dense[0]; i++) {
        size_t n, bound = EG_NORMALIZE_GROWTH * strlen(dense[i]) + 64;
        CHECK(eg_text_normalize(dense[i], out, sizeof out, &n) == EG_OK && n < bound, "'%s': %zu bytes", dense[i], n);
    }
}

/* Every edge-case line normalises within the documented bound, and digits/currency signs no longer reach espeak. */
TEST(normalize_edge_cases) {
    FILE *f = fopen("tests/data/edge-cases.txt", "r");   /* a copy of the shared ../shared/eval/edge-cases.txt */
    REQUIRE(f != NULL, "tests/data/edge-cases.txt: cannot open (run from the repository root)");
    char line[2048];
    int n_lines = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        size_t cap = EG_NORMALIZE_GROWTH * strlen(line) + 64, n;
        char *out = malloc(cap);
        REQUIRE(out, "out of memory");
        CHECK(eg_text_normalize(line, out, cap, &n) == EG_OK, "line %d: '%s'", n_lines + 1, line);
        CHECK(!strpbrk(out, "$%") && !strstr(out, "\xe2\x82\xac") && !strstr(out, "\xc2\xa3"), "line %d: '%s'",
              n_lines + 1, out);
        free(out);
        n_lines++;
    }
    fclose(f);
    CHECK(n_lines >= 50, "only %d lines", n_lines);
}
