/* runtime/text/normalize.c — English text normalisation before espeak-ng (see normalize.h).
 *
 * One left-to-right pass over the bytes. At each token start (a byte whose predecessor is not an ASCII letter or
 * digit) the rules are tried in order: currency, phone number, number-led forms (ISO date, time, fraction, ordinal,
 * decade, percent, degrees, units, year, cardinal, decimal), then word forms (abbreviations, Roman numerals after
 * names and chapter words, short month/day names next to numbers) and "&". Anything no rule takes is copied byte
 * for byte. Words come out in the corpus's spelling (models/data/build_text.py: n2w, ord2w, year2w, time2w) with
 * spaces instead of hyphens ("twenty third"). The writer is bounded: overflow sets a flag and the call fails.
 */
#include "runtime/text/normalize.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/internal.h"
#include "runtime/text/frontend.h"

struct wr {
    char *p; size_t cap, n; int over;
    int date_dmy;              /* numeric dates day first (the input names DD/MM somewhere) */
    size_t n_skipped;          /* words in a script the voice cannot speak */
    char first_skipped[48];
};

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_alnum(int c) { return is_digit(c) || is_alpha(c); }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int lower(int c) { return is_upper(c) ? c + 32 : c; }

static void put(struct wr *w, const char *s, size_t n) {
    if (w->over || w->n + n >= w->cap) { w->over = 1; return; }
    memcpy(w->p + w->n, s, n);
    w->n += n;
}

/* Append a word, with a space first when the output so far ends in a letter or digit. */
static void say(struct wr *w, const char *s) {
    if (w->n && is_alnum((unsigned char)w->p[w->n - 1])) put(w, " ", 1);
    put(w, s, strlen(s));
}

static const char *const ONES[20] = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen" };
static const char *const TENS[10] = { "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
    "ninety" };
static const char *const MONTHS[12] = { "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December" };

/* Cardinal words for v < 10^12 ("one thousand four hundred eighty two"). */
static void say_int(struct wr *w, uint64_t v) {
    static const struct { uint64_t div; const char *name; } scale[] = {
        { 1000000000ull, "billion" }, { 1000000ull, "million" }, { 1000ull, "thousand" } };
    for (int i = 0; i < 3; i++) {
        if (v >= scale[i].div) {
            say_int(w, v / scale[i].div);
            say(w, scale[i].name);
            v %= scale[i].div;
            if (!v) return;
        }
    }
    if (v >= 100) { say(w, ONES[v / 100]); say(w, "hundred"); v %= 100; if (!v) return; }
    if (v >= 20) { say(w, TENS[v / 10]); if (v % 10) say(w, ONES[v % 10]); return; }
    say(w, ONES[v]);
}

static void say_digits(struct wr *w, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) if (is_digit((unsigned char)s[i])) say(w, ONES[s[i] - '0']);
}

/* Rewrite the last word of the text written since `from` (ordinal or plural form). */
static void last_word_suffix(struct wr *w, size_t from, int ordinal) {
    static const struct { const char *card, *ord; } irr[] = { { "one", "first" }, { "two", "second" },
        { "three", "third" }, { "five", "fifth" }, { "eight", "eighth" }, { "nine", "ninth" }, { "twelve", "twelfth" } };
    if (w->over || w->n <= from) return;
    size_t s = w->n;
    while (s > from && w->p[s - 1] != ' ') s--;
    char last[16];
    size_t n = w->n - s;
    if (n >= sizeof last) return;
    memcpy(last, w->p + s, n);
    last[n] = 0;
    w->n = s;
    if (ordinal) {
        for (size_t i = 0; i < sizeof irr / sizeof irr[0]; i++)
            if (!strcmp(last, irr[i].card)) { put(w, irr[i].ord, strlen(irr[i].ord)); return; }
    }
    if (last[n - 1] == 'y') { put(w, last, n - 1); put(w, ordinal ? "ieth" : "ies", ordinal ? 4 : 3); return; }
    put(w, last, n);
    if (ordinal) put(w, "th", 2);
    else put(w, (last[n - 1] == 'x' || last[n - 1] == 's') ? "es" : "s", (last[n - 1] == 'x' || last[n - 1] == 's') ? 2 : 1);
}

static void say_ord(struct wr *w, uint64_t v) {
    size_t from = w->n;
    say_int(w, v);
    last_word_suffix(w, from, 1);
}

/* Years the corpus's way: 1984 → nineteen eighty four, 1905 → nineteen oh five, 1900 → nineteen hundred,
 * 2000-2009 → two thousand (one). */
static void say_year(struct wr *w, uint64_t y) {
    if ((y >= 2000 && y <= 2009) || y < 1000 || y > 9999) { say_int(w, y); return; }
    say_int(w, y / 100);
    if (y % 100 == 0) say(w, "hundred");
    else if (y % 100 < 10) { say(w, "oh"); say(w, ONES[y % 100]); }
    else say_int(w, y % 100);
}

/* A number as written: integer part (commas allowed in groups of three), optional fraction. */
struct num {
    uint64_t v;            /* integer value (valid when nd <= 12) */
    size_t nd;             /* integer digits */
    int commas;
    size_t frac, nfrac;    /* offset and length of the fraction digits */
    size_t end;            /* offset after the number */
};

static int parse_num(const char *s, size_t i, size_t len, struct num *n) {
    memset(n, 0, sizeof *n);
    size_t j = i, g = 0;
    while (j < len && is_digit((unsigned char)s[j])) { if (n->nd < 19) n->v = n->v * 10 + (uint64_t)(s[j] - '0'); n->nd++; j++; g++; }
    if (!n->nd) return 0;
    /* thousands separators: 1-3 digits, then groups of exactly three */
    while (g <= 3 && j + 3 < len + 0 && s[j] == ',' && is_digit((unsigned char)s[j + 1]) && is_digit((unsigned char)s[j + 2]) &&
           is_digit((unsigned char)s[j + 3]) && (j + 4 >= len || !is_digit((unsigned char)s[j + 4]))) {
        for (int k = 1; k <= 3; k++) if (n->nd < 19) n->v = n->v * 10 + (uint64_t)(s[j + k] - '0');
        n->nd += 3; n->commas = 1; j += 4; g = 3;
    }
    if (j + 1 < len && s[j] == '.' && is_digit((unsigned char)s[j + 1])) {
        n->frac = j + 1;
        j++;
        while (j < len && is_digit((unsigned char)s[j])) j++;
        n->nfrac = j - n->frac;
    }
    n->end = j;
    return 1;
}

/* Integer part as words: digit by digit when it has a leading zero or is too long for words. */
static void say_num_int(struct wr *w, const char *s, size_t i, const struct num *n) {
    if (n->nd > 12 || (n->nd > 1 && s[i] == '0' && !n->commas)) say_digits(w, s + i, n->end - i - (n->nfrac ? n->nfrac + 1 : 0));
    else say_int(w, n->v);
}

/* "2.75" → "two point seven five"; further ".d" groups (versions) also read as "point d". */
static size_t say_num(struct wr *w, const char *s, size_t i, size_t len, const struct num *n) {
    say_num_int(w, s, i, n);
    size_t j = n->end;
    if (n->nfrac) { say(w, "point"); say_digits(w, s + n->frac, n->nfrac); }
    while (n->nfrac && j + 1 < len && s[j] == '.' && is_digit((unsigned char)s[j + 1])) {
        say(w, "point");
        j++;
        while (j < len && is_digit((unsigned char)s[j])) { say(w, ONES[s[j] - '0']); j++; }
    }
    return j;
}

/* Does s[i..] start with word `lit` (case-sensitive unless icase) followed by a non-alphanumeric byte? */
static int word_at(const char *s, size_t i, size_t len, const char *lit, int icase) {
    size_t n = strlen(lit);
    if (i + n > len) return 0;
    for (size_t k = 0; k < n; k++) {
        int a = (unsigned char)s[i + k], b = (unsigned char)lit[k];
        if (icase ? lower(a) != lower(b) : a != b) return 0;
    }
    return i + n == len || !is_alnum((unsigned char)s[i + n]);
}

/* The word (letters) ending before offset i, skipping spaces and commas; *ws gets its start. 0 if none. */
static size_t prev_word(const char *s, size_t i, size_t *ws) {
    size_t e = i;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == ',')) e--;
    size_t b = e;
    while (b > 0 && is_alnum((unsigned char)s[b - 1])) b--;
    *ws = b;
    return e - b;
}

static int month_index(const char *s, size_t n) {   /* full or 3-4 letter name, case-insensitive; -1 if none */
    for (int m = 0; m < 12; m++) {
        size_t ml = strlen(MONTHS[m]);
        if (n != ml && !(n == 3 || (n == 4 && m == 8))) continue;
        if (n > ml) continue;
        size_t k = 0;
        while (k < n && lower((unsigned char)s[k]) == lower((unsigned char)MONTHS[m][k])) k++;
        if (k == n) return m;
    }
    return -1;
}

static int is_year_context(const char *s, size_t i) {
    static const char *const trig[] = { "in", "since", "year", "by", "from", "until", "till", "before",
        "after", "during", "around", "circa", "between", "spring", "summer", "autumn", "fall", "winter",
        "early", "late", "mid", "born", "died", "built", "founded", "vintage", NULL };
    size_t ws, n = prev_word(s, i, &ws);
    if (!n) return 0;
    if (is_digit((unsigned char)s[ws])) {   /* "July 4th, 1990", "12 Nov 2024": a day number after a month */
        if (n > 4) return 0;
        n = prev_word(s, ws, &ws);
        return n >= 3 && month_index(s + ws, n) >= 0;
    }
    if (n >= 3 && month_index(s + ws, n) >= 0) return 1;
    for (int k = 0; trig[k]; k++)
        if (strlen(trig[k]) == n && word_at(s, ws, ws + n, trig[k], 1)) return 1;
    return 0;
}

/* am/pm after a time or an hour: " pm", "pm", " p.m.", "PM". Returns bytes consumed (0 if none); *final is set
 * when a consumed "." also ends the sentence (end of text, or spaces then a capital). */
static size_t ampm(const char *s, size_t i, size_t len, int *pm, int *final) {
    size_t j = i;
    if (j < len && s[j] == ' ') j++;
    if (j >= len || (lower((unsigned char)s[j]) != 'a' && lower((unsigned char)s[j]) != 'p')) return 0;
    *pm = lower((unsigned char)s[j]) == 'p';
    j++;
    int dot = j < len && s[j] == '.';
    if (dot) j++;
    if (j >= len || lower((unsigned char)s[j]) != 'm') return 0;
    j++;
    if (dot) { if (j >= len || s[j] != '.') return 0; j++; }
    if (j < len && is_alnum((unsigned char)s[j])) return 0;
    *final = 0;
    if (dot) {
        size_t k = j;
        while (k < len && s[k] == ' ') k++;
        *final = k == len || (k > j && is_upper((unsigned char)s[k]));
    }
    return j - i;
}

/* h:mm[:ss] [am|pm]; returns the end offset, or 0 if s[i..] is not a time. */
static size_t try_time(struct wr *w, const char *s, size_t i, size_t len) {
    size_t j = i;
    unsigned h = 0, m;
    while (j < len && is_digit((unsigned char)s[j]) && j - i < 2) h = h * 10 + (unsigned)(s[j++] - '0');
    if (j == i || j + 2 >= len || s[j] != ':' || !is_digit((unsigned char)s[j + 1]) || !is_digit((unsigned char)s[j + 2])) return 0;
    m = (unsigned)((s[j + 1] - '0') * 10 + (s[j + 2] - '0'));
    j += 3;
    if (h > 24 || m > 59 || (j < len && is_digit((unsigned char)s[j]))) return 0;
    unsigned sec = 0;
    if (j + 2 < len && s[j] == ':' && is_digit((unsigned char)s[j + 1]) && is_digit((unsigned char)s[j + 2]) &&
        (j + 3 >= len || !is_digit((unsigned char)s[j + 3]))) {
        sec = (unsigned)((s[j + 1] - '0') * 10 + (s[j + 2] - '0'));
        if (sec > 59) return 0;
        j += 3;
    }
    int pm = 0, final = 0;
    size_t a = ampm(s, j, len, &pm, &final);
    say_int(w, h);
    if (m == 0 && !a) say(w, "o'clock");
    else if (m > 0 && m < 10) { say(w, "oh"); say(w, ONES[m]); }
    else if (m) say_int(w, m);
    if (sec) { say(w, "and"); say_int(w, sec); say(w, sec == 1 ? "second" : "seconds"); }
    if (a) { say(w, pm ? "PM" : "AM"); if (final) put(w, ".", 1); }
    return j + a;
}

/* Units after a number: written form, singular, plural. Longest forms first. */
static const struct { const char *sym, *one, *many; } UNITS[] = {
    { "km/h", "kilometer per hour", "kilometers per hour" }, { "mph", "mile per hour", "miles per hour" },
    { "m/s", "meter per second", "meters per second" }, { "Gbps", "gigabit per second", "gigabits per second" },
    { "Mbps", "megabit per second", "megabits per second" }, { "kbps", "kilobit per second", "kilobits per second" },
    { "fps", "frame per second", "frames per second" }, { "rpm", "revolution per minute", "revolutions per minute" },
    { "kcal", "kilocalorie", "kilocalories" }, { "MWh", "megawatt hour", "megawatt hours" },
    { "GWh", "gigawatt hour", "gigawatt hours" }, { "Wh", "watt hour", "watt hours" },
    { "km\xC2\xB2", "square kilometer", "square kilometers" }, { "m\xC2\xB2", "square meter", "square meters" },
    { "cm\xC2\xB2", "square centimeter", "square centimeters" }, { "m\xC2\xB3", "cubic meter", "cubic meters" },
    { "k\xCE\xA9", "kilohm", "kilohms" }, { "\xCE\xA9", "ohm", "ohms" }, { "\xE2\x84\xA6", "ohm", "ohms" },
    { "MW", "megawatt", "megawatts" }, { "GW", "gigawatt", "gigawatts" }, { "mW", "milliwatt", "milliwatts" },
    { "kV", "kilovolt", "kilovolts" }, { "mV", "millivolt", "millivolts" }, { "mA", "milliamp", "milliamps" },
    { "dB", "decibel", "decibels" }, { "kPa", "kilopascal", "kilopascals" }, { "hPa", "hectopascal", "hectopascals" },
    { "psi", "P S I", "P S I" }, { "ms", "millisecond", "milliseconds" }, { "\xC2\xB5s", "microsecond", "microseconds" },
    { "\xCE\xBCs", "microsecond", "microseconds" }, { "ns", "nanosecond", "nanoseconds" },
    { "\xC2\xB5m", "micrometer", "micrometers" }, { "\xCE\xBCm", "micrometer", "micrometers" },
    { "nm", "nanometer", "nanometers" }, { "\xC2\xB5g", "microgram", "micrograms" },
    { "gal", "gallon", "gallons" }, { "yd", "yard", "yards" }, { "mi", "mile", "miles" },
    { "W", "watt", "watts" }, { "V", "volt", "volts" },
    { "kWh", "kilowatt hour", "kilowatt hours" }, { "mAh", "milliamp hour", "milliamp hours" },
    { "kHz", "kilohertz", "kilohertz" }, { "MHz", "megahertz", "megahertz" }, { "GHz", "gigahertz", "gigahertz" },
    { "Hz", "hertz", "hertz" }, { "kW", "kilowatt", "kilowatts" },
    { "km", "kilometer", "kilometers" }, { "cm", "centimeter", "centimeters" }, { "mm", "millimeter", "millimeters" },
    { "kg", "kilogram", "kilograms" }, { "mg", "milligram", "milligrams" }, { "lbs", "pound", "pounds" },
    { "lb", "pound", "pounds" }, { "oz", "ounce", "ounces" }, { "ml", "milliliter", "milliliters" },
    { "mL", "milliliter", "milliliters" }, { "TB", "terabyte", "terabytes" }, { "GB", "gigabyte", "gigabytes" },
    { "MB", "megabyte", "megabytes" }, { "kB", "kilobyte", "kilobytes" }, { "KB", "kilobyte", "kilobytes" },
    { "min", "minute", "minutes" }, { "hrs", "hour", "hours" }, { "hr", "hour", "hours" },
    { "ft", "foot", "feet" }, { "m", "meter", "meters" }, { "g", "gram", "grams" }, { "l", "liter", "liters" },
    { "L", "liter", "liters" },
    { " s", "second", "seconds" }, { " h", "hour", "hours" },   /* only after a space: "5s" stays a plural */
};

static size_t try_unit(struct wr *w, const char *s, size_t j, size_t len, int one) {
    for (size_t u = 0; u < sizeof UNITS / sizeof UNITS[0]; u++) {
        const char *sym = UNITS[u].sym;
        size_t k = j < len && s[j] == ' ' ? j + 1 : j;
        if (sym[0] == ' ') { if (k == j) continue; sym++; }
        size_t n = strlen(sym);
        if (k + n > len || memcmp(s + k, sym, n)) continue;
        if (k + n < len && (is_alnum((unsigned char)s[k + n]) || (s[k + n] == '/' && k + n + 1 < len &&
                                                                  is_alpha((unsigned char)s[k + n + 1])))) continue;
        say(w, one ? UNITS[u].one : UNITS[u].many);
        return k + n;
    }
    return 0;
}

static const char *const DENOM[][2] = { { "", "" }, { "", "" }, { "half", "halves" }, { "third", "thirds" },
    { "quarter", "quarters" }, { "fifth", "fifths" }, { "sixth", "sixths" }, { "seventh", "sevenths" },
    { "eighth", "eighths" }, { "ninth", "ninths" }, { "tenth", "tenths" } };

/* Number-led tokens at s[i] (a digit, or '-' then a digit). Returns the end offset, or 0 to copy instead. */
static size_t try_number(struct wr *w, const char *s, size_t i, size_t len) {
    int neg = s[i] == '-';
    size_t i0 = i;
    if (neg) i++;
    struct num n;
    if (!parse_num(s, i, len, &n)) return 0;
    size_t j = n.end;
    int plain = !n.commas && !n.nfrac;
    /* ISO date 2024-03-15 (optionally THH:MM[:SS][Z]) */
    if (!neg && plain && n.nd == 4 && j + 5 < len + 0 && s[j] == '-' && is_digit((unsigned char)s[j + 1]) &&
        is_digit((unsigned char)s[j + 2]) && s[j + 3] == '-' && is_digit((unsigned char)s[j + 4]) &&
        is_digit((unsigned char)s[j + 5]) && (j + 6 >= len || !is_digit((unsigned char)s[j + 6]))) {
        int mo = (s[j + 1] - '0') * 10 + (s[j + 2] - '0'), d = (s[j + 4] - '0') * 10 + (s[j + 5] - '0');
        if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
            say(w, MONTHS[mo - 1]);
            say_ord(w, (uint64_t)d);
            put(w, ", ", 2);
            say_year(w, n.v);
            j += 6;
            if (j + 1 < len && s[j] == 'T' && is_digit((unsigned char)s[j + 1])) {
                size_t save = w->n;
                say(w, "at");
                size_t t = try_time(w, s, j + 1, len);
                if (t) { j = t; if (j < len && s[j] == 'Z') j++; }
                else w->n = save;
            }
            return j;
        }
    }
    if (!neg && plain && n.nd <= 2 && j < len && s[j] == ':') {
        size_t t = try_time(w, s, i, len);
        if (t) return t;
    }
    /* fractions 3/4 and slash chains 07/11/2023 */
    if (!neg && plain && j + 1 < len && s[j] == '/' && is_digit((unsigned char)s[j + 1])) {
        struct num d;
        parse_num(s, j + 1, len, &d);
        int chain = d.end < len && s[d.end] == '/';
        if (!chain && !d.commas && !d.nfrac && d.nd <= 2 && d.v >= 2 && d.v <= 10 && n.v >= 1 && n.v < d.v &&
            n.nd <= 2) {
            say_int(w, n.v);
            say(w, DENOM[d.v][n.v > 1]);
            return d.end;
        }
        if (n.nd > 4) return 0;
        say_int(w, n.v);
        while (j + 1 < len && s[j] == '/' && is_digit((unsigned char)s[j + 1])) {
            parse_num(s, j + 1, len, &d);
            if (d.commas || d.nfrac || d.nd > 4) break;
            say(w, "slash");
            if (d.nd == 4) say_year(w, d.v); else say_int(w, d.v);
            j = d.end;
        }
        return j;
    }
    if (neg) say(w, "minus");
    int one = plain && n.v == 1 && n.nd == 1 && !neg;
    /* ordinals 1st 22nd 23rd 101st */
    if (!neg && plain && n.nd <= 12 && j + 2 <= len) {
        static const char *const suf[] = { "st", "nd", "rd", "th" };
        for (int k = 0; k < 4; k++) if (word_at(s, j, len, suf[k], 1)) { say_ord(w, n.v); return j + 2; }
    }
    /* decades: 1990s, 2020s, 80s */
    if (!neg && plain && (n.nd == 4 || n.nd == 2) && n.v % 10 == 0 && n.v >= 10 && word_at(s, j, len, "s", 0)) {
        size_t from = w->n;
        if (n.nd == 4) say_year(w, n.v); else say_int(w, n.v);
        last_word_suffix(w, from, 0);
        return j + 1;
    }
    /* hours with am/pm: 3pm, 7 p.m. */
    int pm = 0, final = 0;
    size_t a;
    if (!neg && plain && n.v >= 1 && n.v <= 12 && (a = ampm(s, j, len, &pm, &final)) != 0) {
        say_int(w, n.v);
        say(w, pm ? "PM" : "AM");
        if (final) put(w, ".", 1);
        return j + a;
    }
    /* day of the month next to a month name: "July 4" → July fourth, "12 Nov" → twelfth November */
    if (!neg && plain && n.nd <= 2 && n.v >= 1 && n.v <= 31 && (j >= len || !is_alnum((unsigned char)s[j]))) {
        size_t ws, pn = prev_word(s, i0, &ws), k = j;
        while (k < len && s[k] == ' ') k++;
        size_t ke = k;
        while (ke < len && is_alpha((unsigned char)s[ke])) ke++;
        int before = pn >= 3 && is_upper((unsigned char)s[ws]) && month_index(s + ws, pn) >= 0 &&
                     ws + pn < i0 && s[ws + pn] != ',';
        int after = k > j && ke - k >= 3 && is_upper((unsigned char)s[k]) && month_index(s + k, ke - k) >= 0;
        if (before || after) { say_ord(w, n.v); return j; }
    }
    /* year ranges: 1990-2000, 1914–1918 */
    if (!neg && plain && n.nd == 4 && n.v >= 1100 && n.v <= 2099 && j + 5 < len + 1) {
        size_t k = j;
        if (s[k] == '-') k++;
        else if (k + 2 < len && (unsigned char)s[k] == 0xE2 && (unsigned char)s[k + 1] == 0x80 && (unsigned char)s[k + 2] == 0x93) k += 3;
        if (k > j && k + 4 <= len && is_digit((unsigned char)s[k]) && is_digit((unsigned char)s[k + 1]) &&
            is_digit((unsigned char)s[k + 2]) && is_digit((unsigned char)s[k + 3]) && (k + 4 == len || !is_alnum((unsigned char)s[k + 4]))) {
            uint64_t y2 = (uint64_t)strtoul(s + k, NULL, 10);
            if (y2 > n.v && y2 <= 2099) {
                say_year(w, n.v);
                say(w, "to");
                say_year(w, y2);
                return k + 4;
            }
        }
    }
    /* years next to year words */
    if (!neg && plain && n.nd == 4 && ((n.v >= 1100 && n.v <= 1999) || (n.v >= 2010 && n.v <= 2099)) &&
        is_year_context(s, i0)) {
        say_year(w, n.v);
        return j;
    }
    j = say_num(w, s, i, len, &n);
    /* what follows the number */
    const unsigned char *u = (const unsigned char *)s;
    if (j < len && s[j] == '%') { say(w, "percent"); return j + 1; }
    if (j + 1 < len && u[j] == 0xC2 && u[j + 1] == 0xA2) { say(w, one ? "cent" : "cents"); return j + 2; }
    if (j + 1 < len && u[j] == 0xC2 && u[j + 1] == 0xB0) {   /* ° */
        say(w, one ? "degree" : "degrees");
        j += 2;
        if (j < len && (s[j] == 'C' || s[j] == 'F') && (j + 1 >= len || !is_alnum(u[j + 1]))) {
            say(w, s[j] == 'C' ? "Celsius" : "Fahrenheit");
            j++;
        }
        return j;
    }
    if (j + 3 < len && u[j] == 0xE2 && u[j + 1] == 0x80 && u[j + 2] == 0x93 && is_digit(u[j + 3])) {   /* 3–2 */
        say(w, "to");
        return j + 3;
    }
    size_t e = try_unit(w, s, j, len, one);
    return e ? e : j;
}

/* Currency: [-]$ £ € ¥ then an amount, optionally "million"/"billion". */
static size_t try_currency(struct wr *w, const char *s, size_t i, size_t len) {
    static const struct { const char *sym, *one, *many, *cent, *cents; } cur[] = {
        { "$", "dollar", "dollars", "cent", "cents" }, { "\xC2\xA3", "pound", "pounds", "penny", "pence" },
        { "\xE2\x82\xAC", "euro", "euros", "cent", "cents" }, { "\xC2\xA5", "yen", "yen", NULL, NULL },
        { "\xE2\x82\xB9", "rupee", "rupees", "paisa", "paise" }, { "\xE2\x82\xA9", "won", "won", NULL, NULL },
        { "\xE2\x82\xBD", "ruble", "rubles", "kopeck", "kopecks" }, { "\xE2\x82\xBA", "lira", "lira", "kurus", "kurus" },
        { "\xE2\x82\xBF", "bitcoin", "bitcoin", NULL, NULL }, { "\xE2\x82\xB4", "hryvnia", "hryvnias", NULL, NULL },
        { "\xE2\x82\xA6", "naira", "naira", "kobo", "kobo" }, { "\xE2\x82\xB1", "peso", "pesos", "centavo", "centavos" },
        { "\xE2\x82\xAB", "dong", "dong", NULL, NULL }, { "\xE2\x82\xAA", "shekel", "shekels", "agora", "agorot" },
        { "\xE2\x82\xA1", "colon", "colones", NULL, NULL }, { "\xE2\x82\xB2", "guarani", "guaranis", NULL, NULL },
        { "\xE2\x82\xB8", "tenge", "tenge", NULL, NULL }, { "\xE2\x82\xBC", "manat", "manat", NULL, NULL },
        { "\xE2\x82\xAD", "kip", "kip", NULL, NULL }, { "\xE2\x82\xAE", "tugrik", "tugriks", NULL, NULL },
        { "\xE2\x82\xB5", "cedi", "cedis", "pesewa", "pesewas" }, { "\xE2\x82\xA3", "franc", "francs", NULL, NULL },
        { "\xE0\xB8\xBF", "baht", "baht", "satang", "satang" }, { "\xE2\x82\xA8", "rupee", "rupees", NULL, NULL },
        { "\xE2\x82\xB3", "austral", "australs", NULL, NULL } };
    size_t j = i;
    int neg = s[j] == '-';
    if (neg) j++;
    for (size_t c = 0; c < sizeof cur / sizeof cur[0]; c++) {
        size_t sl = strlen(cur[c].sym);
        if (j + sl >= len || memcmp(s + j, cur[c].sym, sl) || !is_digit((unsigned char)s[j + sl])) continue;
        struct num n;
        parse_num(s, j + sl, len, &n);
        if (n.nd > 12) return 0;
        if (neg) say(w, "minus");
        size_t e = n.end;
        static const char *const big[] = { "thousand", "million", "billion", "trillion" };
        for (int b = 0; b < 4; b++) {
            if (e + 1 < len && s[e] == ' ' && word_at(s, e + 1, len, big[b], 0)) {
                say_num(w, s, j + sl, len, &n);
                say(w, big[b]);
                say(w, cur[c].many);
                return e + 1 + strlen(big[b]);
            }
        }
        if (n.nfrac > 2 || (n.nfrac && !cur[c].cent)) {
            e = say_num(w, s, j + sl, len, &n);
            say(w, cur[c].many);
            return e;
        }
        uint64_t minor = 0;
        if (n.nfrac) minor = (uint64_t)(s[n.frac] - '0') * 10 + (n.nfrac == 2 ? (uint64_t)(s[n.frac + 1] - '0') : 0);
        if (n.v || !minor) { say_int(w, n.v); say(w, n.v == 1 ? cur[c].one : cur[c].many); }
        if (minor) { say_int(w, minor); say(w, minor == 1 ? cur[c].cent : cur[c].cents); }
        return e;
    }
    return 0;
}

/* Phone numbers, read digit by digit in their groups: (212) 555-0147, +1 415 555 0182, 555-0147. */
static size_t try_phone(struct wr *w, const char *s, size_t i, size_t len) {
    size_t grp[8][2], ng = 0, j = i, digits = 0;
    int plus = s[j] == '+', paren = s[j] == '(';
    if (plus || paren) j++;
    while (ng < 8) {
        size_t b = j;
        while (j < len && is_digit((unsigned char)s[j]) && j - b < 5) j++;
        if (j == b || (j < len && is_digit((unsigned char)s[j]))) return 0;
        grp[ng][0] = b; grp[ng][1] = j - b; ng++; digits += j - b;
        if (paren && ng == 1) {
            if (j - b != 3 || j >= len || s[j] != ')') return 0;
            j++;
            if (j < len && s[j] == ' ') j++;
            continue;
        }
        if (j + 1 < len && (s[j] == '-' || (s[j] == ' ' && plus)) && is_digit((unsigned char)s[j + 1])) { j++; continue; }
        break;
    }
    if (j < len && is_alnum((unsigned char)s[j])) return 0;
    if (plus) { if (ng < 3 || digits < 8 || grp[0][1] > 3) return 0; }
    else {
        /* ddd-dddd, ddd-ddd-dddd, (ddd) ddd-dddd */
        int ok = (ng == 2 && grp[0][1] == 3 && grp[1][1] == 4) ||
                 (ng == 3 && grp[0][1] == 3 && grp[1][1] == 3 && grp[2][1] == 4);
        if (!ok) return 0;
    }
    if (plus) say(w, "plus");
    for (size_t g = 0; g < ng; g++) {
        if (g) put(w, ", ", 2);
        say_digits(w, s + grp[g][0], grp[g][1]);
    }
    return j;
}

/* ---- web addresses and e-mail ------------------------------------------------------------------------------- */

/* One URL/e-mail piece: letters as a word (a run of 2+ consonant-only letters like "www" is spelled), digits one by
 * one, separators by name. */
static void say_addr_part(struct wr *w, const char *s, size_t a, size_t b) {
    static const struct { char c; const char *name; } sep[] = { { '.', "dot" }, { '/', "slash" }, { '-', "dash" },
        { '_', "underscore" }, { '?', "question mark" }, { '=', "equals" }, { '&', "and" }, { '#', "hash" },
        { '%', "percent" }, { '+', "plus" }, { '~', "tilde" }, { ':', "colon" }, { '@', "at" } };
    size_t i = a;
    while (i < b) {
        unsigned char c = (unsigned char)s[i];
        if (is_digit(c)) { say(w, ONES[c - '0']); i++; continue; }
        if (is_alpha(c)) {
            size_t e = i;
            int vowel = 0;
            while (e < b && is_alpha((unsigned char)s[e])) { vowel |= strchr("aeiouyAEIOUY", s[e]) != NULL; e++; }
            if (!vowel && e - i >= 2 && e - i <= 4) {   /* "www", "ftp": letter by letter */
                for (size_t k = i; k < e; k++) { char l[2] = { (char)lower((unsigned char)s[k]), 0 }; say(w, l); }
            } else {
                if (w->n && is_alnum((unsigned char)w->p[w->n - 1])) put(w, " ", 1);
                for (size_t k = i; k < e; k++) { char l = (char)lower((unsigned char)s[k]); put(w, &l, 1); }
            }
            i = e;
            continue;
        }
        for (size_t k = 0; k < sizeof sep / sizeof sep[0]; k++)
            if (sep[k].c == (char)c) { say(w, sep[k].name); break; }
        i++;
    }
}

/* End of an address token starting at i: up to whitespace or a quote/bracket, minus trailing sentence punctuation. */
static size_t addr_end(const char *s, size_t i, size_t len) {
    size_t e = i;
    while (e < len && (unsigned char)s[e] > ' ' && !strchr("\"'<>()[]{}", s[e]) && (unsigned char)s[e] < 0x80) e++;
    while (e > i && strchr(".,;:!?", s[e - 1])) e--;
    return e;
}

/* http(s)://, ftp://, www.: the scheme "http(s)://" is not read (a listener knows it is a web address); the rest
 * piece by piece. */
static size_t try_url(struct wr *w, const char *s, size_t i, size_t len) {
    static const char *const schemes[] = { "https://", "http://", "ftp://", "www." };
    size_t k = 0, skip = 0;
    for (; k < 4; k++) {
        size_t n = strlen(schemes[k]), q = 0;
        while (q < n && i + q < len && lower((unsigned char)s[i + q]) == schemes[k][q]) q++;
        if (q == n) { skip = k < 2 ? n : k == 2 ? 0 : 0; break; }
    }
    if (k == 4) return 0;
    size_t e = addr_end(s, i, len);
    if (e <= i + skip || e < i + strlen(schemes[k]) + 1) return 0;
    if (k == 2) { say(w, "F T P"); skip = 6; }
    say_addr_part(w, s, i + skip, e);
    return e;
}

/* local@domain.tld */
static size_t try_email(struct wr *w, const char *s, size_t i, size_t len) {
    size_t j = i;
    while (j < len && (is_alnum((unsigned char)s[j]) || strchr("._%+-", s[j]))) j++;
    if (j == i || j >= len || s[j] != '@') return 0;
    size_t d = j + 1, e = d, last_dot = 0;
    while (e < len && (is_alnum((unsigned char)s[e]) || s[e] == '-' || s[e] == '.')) e++;
    while (e > d && s[e - 1] == '.') e--;
    for (size_t q = d; q < e; q++) if (s[q] == '.') last_dot = q;
    if (!last_dot || last_dot >= e || e - last_dot < 3) return 0;
    for (size_t q = last_dot + 1; q < e; q++) if (!is_alpha((unsigned char)s[q])) return 0;
    say_addr_part(w, s, i, e);
    return e;
}

/* ---- numeric dates ------------------------------------------------------------------------------------------ */

/* d/m/y or m/d/y with '/', '-' or '.' (the same separator twice), years of 4 digits (2 also with '/'). Which
 * number is the month: the one that can be (the other is > 12); else day first with '.' (the European form) or
 * when the input spells out DD/MM somewhere; else month first (the voice is US English). Read as
 * "Month ordinal, year". */
static size_t try_numeric_date(struct wr *w, const char *s, size_t i, size_t len) {
    unsigned v[3] = { 0, 0, 0 };
    size_t nd[3] = { 0, 0, 0 }, j = i;
    char sep = 0;
    for (int k = 0; k < 3; k++) {
        while (j < len && is_digit((unsigned char)s[j]) && nd[k] < 5) { v[k] = v[k] * 10 + (unsigned)(s[j] - '0'); nd[k]++; j++; }
        if (!nd[k]) return 0;
        if (k < 2) {
            if (j >= len || !strchr("/-.", s[j]) || (sep && s[j] != sep)) return 0;
            sep = s[j++];
        }
    }
    if (nd[0] > 2 || nd[1] > 2 || !(nd[2] == 4 || (nd[2] == 2 && sep == '/'))) return 0;
    if (j < len && (is_alnum((unsigned char)s[j]) || ((s[j] == '.' || s[j] == '/' || s[j] == '-') && j + 1 < len &&
                                                       is_digit((unsigned char)s[j + 1])))) return 0;
    int dmy = sep == '.' || w->date_dmy;
    if (v[0] > 12 && v[1] <= 12) dmy = 1;
    else if (v[1] > 12 && v[0] <= 12) dmy = 0;
    unsigned mo = dmy ? v[1] : v[0], d = dmy ? v[0] : v[1];
    static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return 0;
    say(w, MONTHS[mo - 1]);
    say_ord(w, d);
    put(w, ", ", 2);
    if (nd[2] == 4) say_year(w, v[2]);
    else if (v[2] < 10) { say(w, "oh"); say(w, ONES[v[2]]); }
    else say_int(w, v[2]);
    return j;
}

/* ---- codes and identifiers ---------------------------------------------------------------------------------- */

/* A digit group of a code: one or two digits as a number ("18" → eighteen, "05" → zero five), longer ones digit by
 * digit (their value means nothing). */
static void say_code_group(struct wr *w, const char *s, size_t a, size_t b) {
    if (b - a == 2 && s[a] != '0') say_int(w, (uint64_t)((s[a] - '0') * 10 + (s[a + 1] - '0')));
    else say_digits(w, s + a, b - a);
}

static size_t try_code_digits(struct wr *w, const char *s, size_t i, size_t len) {
    size_t j = i;
    while (j < len && is_digit((unsigned char)s[j])) j++;
    if (j - i >= 4) say_digits(w, s + i, j - i);
    else say_int(w, (uint64_t)strtoul(s + i, NULL, 10));
    return j;
}

/* Groups of letters/digits joined by '-': "B-20931-18", "SKU-4471-X", "F-16", "20931-18-7". A code has a digit
 * group and either an upper-case letter group (at most 4 letters, spelled) or, digits only, three groups or a
 * group of 5+ digits (phone numbers, dates and ranges like 1990-2000 are taken before). Lower-case word groups
 * ("3-year-old") are ordinary text. Two digit groups in a row are separated by a comma (a short pause, as in phone numbers). */
static size_t try_code(struct wr *w, const char *s, size_t i, size_t len) {
    size_t g[8][2], ng = 0, j = i;
    int has_digit = 0, has_letters = 0, long_digits = 0;
    while (ng < 8) {
        size_t b = j;
        int alpha = 0, digit = 0, lowerc = 0;
        while (j < len && is_alnum((unsigned char)s[j])) {
            alpha |= is_alpha((unsigned char)s[j]);
            digit |= is_digit((unsigned char)s[j]);
            lowerc |= s[j] >= 'a' && s[j] <= 'z';
            j++;
        }
        if (j == b) return 0;
        if (alpha && (digit || lowerc || j - b > 4)) return 0;   /* words, mixed groups: not a code we read */
        g[ng][0] = b; g[ng][1] = j; ng++;
        has_digit |= digit;
        has_letters |= alpha;
        long_digits |= digit && j - b >= 5;
        if (j + 1 < len && s[j] == '-' && is_alnum((unsigned char)s[j + 1])) { j++; continue; }
        break;
    }
    if (ng < 2 || !has_digit || (j < len && (s[j] == '-' || is_alnum((unsigned char)s[j])))) return 0;
    if (!has_letters && ng < 3 && !long_digits) return 0;
    if (!has_letters && ng == 3 && g[0][1] - g[0][0] == 4 && g[1][1] - g[1][0] == 2 && g[2][1] - g[2][0] == 2)
        return 0;   /* an ISO date: the number rule reads it */
    for (size_t k = 0; k < ng; k++) {
        if (k && is_digit((unsigned char)s[g[k][0]]) && is_digit((unsigned char)s[g[k - 1][0]])) put(w, ", ", 2);
        if (is_alpha((unsigned char)s[g[k][0]])) {
            for (size_t q = g[k][0]; q < g[k][1]; q++) {
                if (s[q] == 'A') say(w, "eh");   /* a lone "A" would be read as the article */
                else { char l[2] = { s[q], 0 }; say(w, l); }
            }
        } else say_code_group(w, s, g[k][0], g[k][1]);
    }
    return j;
}

/* ---- scripts the voice cannot speak ------------------------------------------------------------------------- */

static int unspeakable_cp(uint32_t cp) {
    static const uint32_t r[][2] = { { 0x0370, 0x03FF }, { 0x0400, 0x052F }, { 0x0530, 0x058F }, { 0x0590, 0x05FF },
        { 0x0600, 0x06FF }, { 0x0700, 0x074F }, { 0x0750, 0x077F }, { 0x0780, 0x07BF }, { 0x08A0, 0x08FF },
        { 0x0900, 0x0DFF }, { 0x0E00, 0x0EFF }, { 0x0F00, 0x0FFF }, { 0x1000, 0x109F }, { 0x10A0, 0x10FF },
        { 0x1100, 0x11FF }, { 0x1200, 0x139F }, { 0x1780, 0x17FF }, { 0x1800, 0x18AF }, { 0x2E80, 0x2FDF },
        { 0x3000, 0x303F }, { 0x3040, 0x30FF }, { 0x3100, 0x31BF }, { 0x31F0, 0x31FF }, { 0x3400, 0x4DBF },
        { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF }, { 0xAC00, 0xD7AF }, { 0xF900, 0xFAFF }, { 0xFB1D, 0xFDFF },
        { 0xFE70, 0xFEFF }, { 0xFF66, 0xFF9F }, { 0x20000, 0x2FA1F } };
    for (size_t k = 0; k < sizeof r / sizeof r[0]; k++) if (cp >= r[k][0] && cp <= r[k][1]) return 1;
    return 0;
}

static int decode_at(const char *s, size_t i, size_t len, uint32_t *cp) {   /* 0 when not a valid sequence */
    const unsigned char *u = (const unsigned char *)s + i;
    int n = u[0] < 0x80 ? 1 : (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : (u[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || i + (size_t)n > len) return 0;
    *cp = n == 1 ? u[0] : n == 2 ? u[0] & 0x1Fu : n == 3 ? u[0] & 0x0Fu : u[0] & 0x07u;
    for (int k = 1; k < n; k++) { if ((u[k] & 0xC0) != 0x80) return 0; *cp = (*cp << 6) | (u[k] & 0x3F); }
    return n;
}

/* A run of letters in a script the voice cannot speak (with spaces between such letters): skipped and counted.
 * A lone Greek letter (π, θ) is kept: the voice reads its name. */
static size_t try_unspeakable(struct wr *w, const char *s, size_t i, size_t len) {
    uint32_t cp;
    int n = decode_at(s, i, len, &cp);
    if (!n || !unspeakable_cp(cp)) return 0;
    size_t j = i + (size_t)n, last = j;
    int letters = 1, greek = cp >= 0x370 && cp <= 0x3FF;
    for (;;) {   /* take following unspeakable codepoints, also across single spaces */
        size_t k = j;
        while (k < len && s[k] == ' ') k++;
        int m = decode_at(s, k, len, &cp);
        if (!m || !(unspeakable_cp(cp) || cp == 0x200C || cp == 0x200D || (cp >= 0x300 && cp <= 0x36F))) break;
        greek &= cp >= 0x370 && cp <= 0x3FF;
        j = k + (size_t)m;
        last = j;
        letters++;
    }
    j = last;
    if (greek && letters == 1 && (i == 0 || !is_alnum((unsigned char)s[i - 1])) && (j >= len || !is_alnum((unsigned char)s[j])))
        return 0;
    if (!w->n_skipped++) {
        size_t n_copy = j - i < sizeof w->first_skipped - 1 ? j - i : 0;
        if (!n_copy) {   /* cut at a codepoint boundary */
            n_copy = sizeof w->first_skipped - 1;
            while (n_copy && ((unsigned char)s[i + n_copy] & 0xC0) == 0x80) n_copy--;
        }
        memcpy(w->first_skipped, s + i, n_copy);
        w->first_skipped[n_copy] = 0;
    }
    return j;
}

static int cap_word_at(const char *s, size_t i, size_t len) {   /* a capitalised word starts at s[i] */
    return i + 1 < len && is_upper((unsigned char)s[i]) && is_alpha((unsigned char)s[i + 1]);
}

/* After an abbreviation's '.', does the sentence end here (end of text, or spaces then a capital or quote)? */
static int sentence_end_after(const char *s, size_t j, size_t len) {
    size_t k = j;
    while (k < len && s[k] == ' ') k++;
    return k == len || (k > j && (is_upper((unsigned char)s[k]) || s[k] == '"'));
}

static int roman_value(const char *s, size_t n) {
    static const char *const r1[] = { "", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX" };
    static const char *const r10[] = { "", "X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC" };
    for (int v = 1; v < 100; v++) {
        char buf[16];
        size_t a = strlen(r10[v / 10]), b = strlen(r1[v % 10]);
        memcpy(buf, r10[v / 10], a);
        memcpy(buf + a, r1[v % 10], b);
        if (a + b == n && !memcmp(buf, s, n)) return v;
    }
    return 0;
}

/* Street, address and company abbreviations (with or without a period). Each needs the context that makes it
 * unambiguous: after a capitalised word ("Sunset Blvd", "Acme Inc."), or before a number ("Apt 4", "Ste 200"), or a
 * compass letter between a house number and a street name ("42 N. Main"). */
static const char *address_word(const char *s, size_t i, size_t n, int prev_cap, int prev_digit, int next_cap,
                                int next_digit) {
    static const struct { const char *abbr, *word; char ctx; } t[] = {   /* ctx: p = after a capitalised word,
                                                                            d = before a number */
        { "Blvd", "Boulevard", 'p' }, { "Ln", "Lane", 'p' }, { "Ct", "Court", 'p' }, { "Pl", "Place", 'p' },
        { "Hwy", "Highway", 'a' }, { "Pkwy", "Parkway", 'p' }, { "Sq", "Square", 'p' }, { "Ter", "Terrace", 'p' },
        { "Cres", "Crescent", 'p' }, { "Ave", "Avenue", 'p' }, { "Rd", "Road", 'p' }, { "St", "Street", 'p' },
        { "Apt", "Apartment", 'd' }, { "Ste", "Suite", 'd' }, { "Bldg", "Building", 'a' }, { "Rm", "Room", 'd' },
        { "Inc", "Incorporated", 'p' }, { "Ltd", "Limited", 'p' }, { "Corp", "Corporation", 'p' },
        { "Co", "Company", 'p' }, { "Bros", "Brothers", 'p' }, { "Dept", "Department", 'a' },
        { "Univ", "University", 'a' }, { "Intl", "International", 'a' }, { "Assn", "Association", 'a' },
        { "Mfg", "Manufacturing", 'a' }, { "Natl", "National", 'a' } };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        if (strlen(t[k].abbr) != n || memcmp(s + i, t[k].abbr, n)) continue;
        if (t[k].ctx == 'p' && !prev_cap) return NULL;
        if (t[k].ctx == 'd' && !next_digit) return NULL;
        return t[k].word;
    }
    static const struct { const char *abbr, *word; } compass[] = { { "N", "North" }, { "S", "South" }, { "E", "East" },
        { "W", "West" }, { "NE", "Northeast" }, { "NW", "Northwest" }, { "SE", "Southeast" }, { "SW", "Southwest" } };
    if (prev_digit && next_cap)
        for (size_t k = 0; k < sizeof compass / sizeof compass[0]; k++)
            if (strlen(compass[k].abbr) == n && !memcmp(s + i, compass[k].abbr, n)) return compass[k].word;
    return NULL;
}

/* Word-led tokens at s[i] (a letter). Returns the end offset; copies plain words through. */
static size_t try_word(struct wr *w, const char *s, size_t i, size_t len) {
    size_t j = i;
    while (j < len && is_alpha((unsigned char)s[j])) j++;
    size_t n = j - i;
    int dot = j < len && s[j] == '.';
    size_t after = j + dot;
    size_t nx = after;
    while (nx < len && s[nx] == ' ') nx++;
    int next_cap = nx < len && nx > after - 0 && cap_word_at(s, nx, len);
    int next_digit = nx < len && is_digit((unsigned char)s[nx]);
    size_t pws, pn = prev_word(s, i, &pws);
    int prev_cap = pn >= 2 && is_upper((unsigned char)s[pws]) && !is_upper((unsigned char)s[pws + 1]);
    int prev_digit = pn && is_digit((unsigned char)s[pws]);
    if (j < len && is_digit((unsigned char)s[j])) goto copy;

    /* e.g. / i.e. */
    if (n == 1 && j + 2 < len && s[j] == '.' && is_alpha((unsigned char)s[j + 1]) && s[j + 2] == '.' &&
        (j + 3 >= len || !is_alnum((unsigned char)s[j + 3]))) {
        int a = lower((unsigned char)s[i]), b = lower((unsigned char)s[j + 1]);
        if (a == 'e' && b == 'g') { say(w, "for example"); return j + 3; }
        if (a == 'i' && b == 'e') { say(w, "that is"); return j + 3; }
    }
    if (dot) {
        /* titles: the '.' never ends the sentence */
        static const struct { const char *abbr, *word; } title[] = { { "Mr", "Mister" }, { "Mrs", "Missus" },
            { "Ms", "Miz" }, { "Prof", "Professor" }, { "Mt", "Mount" }, { "Capt", "Captain" }, { "Gen", "General" },
            { "Sgt", "Sergeant" }, { "Gov", "Governor" }, { "Sen", "Senator" }, { "Rep", "Representative" } };
        for (size_t k = 0; k < sizeof title / sizeof title[0]; k++)
            if (strlen(title[k].abbr) == n && !memcmp(s + i, title[k].abbr, n) && (next_cap || k < 3)) {
                say(w, title[k].word); return after; }
        const char *word = NULL;
        if (n == 2 && !memcmp(s + i, "Dr", 2)) {
            if (next_cap || !prev_cap) { say(w, "Doctor"); return after; }
            word = "Drive";
        } else if (n == 2 && !memcmp(s + i, "St", 2)) {
            if (next_cap && !prev_cap) { say(w, "Saint"); return after; }
            word = "Street";
        } else if (n == 2 && !memcmp(s + i, "No", 2) && next_digit) {
            say(w, "number"); return after;
        } else if (n == 2 && word_at(s, i, len, "vs", 1)) {
            say(w, "versus"); return after;
        } else if (n == 3 && word_at(s, i, len, "etc", 1)) word = "et cetera";
        else if (n == 3 && !memcmp(s + i, "Ave", 3)) word = "Avenue";
        else if (n == 2 && !memcmp(s + i, "Rd", 2) && prev_cap) word = "Road";
        else if (n == 2 && !memcmp(s + i, "Jr", 2)) word = "Junior";
        else if (n == 2 && !memcmp(s + i, "Sr", 2)) word = "Senior";
        else if (n == 6 && word_at(s, i, len, "approx", 1)) word = "approximately";
        else if (!word) {
            const char *aw = address_word(s, i, n, prev_cap, prev_digit, next_cap, next_digit);
            if (aw) word = aw;
        }
        if (word) {
            say(w, word);
            const int compass = strlen(word) >= 4 && (!strncmp(word, "North", 5) || !strncmp(word, "South", 5) ||
                                                      !strcmp(word, "East") || !strcmp(word, "West"));
            if (!compass && sentence_end_after(s, after, len)) put(w, ".", 1);
            return after;
        }
    }
    if (n == 2 && word_at(s, i, len, "vs", 0)) { say(w, "versus"); return j; }
    if (!dot && (j >= len || !is_alnum((unsigned char)s[j]))) {   /* the same words written without the period */
        const char *aw = address_word(s, i, n, prev_cap, prev_digit, next_cap, next_digit);
        if (aw && strcmp(aw, "North") && strcmp(aw, "South") && strcmp(aw, "East") && strcmp(aw, "West")) {
            say(w, aw); return j; }
    }
    /* short month names next to a day number or year: "12 Nov 2024", "Nov. 5" */
    if ((n == 3 || n == 4) && is_upper((unsigned char)s[i]) && (next_digit || prev_digit)) {
        int m = month_index(s + i, n);
        if (m >= 0 && (n == 3 || m == 8) && strlen(MONTHS[m]) != n) { say(w, MONTHS[m]); return dot ? after : j; }
    }
    /* short day names before a date: "Tue, 12 Nov" */
    if (n >= 3 && n <= 4 && is_upper((unsigned char)s[i]) && j + 2 < len && (s[j] == ',' || s[j] == '.')) {
        static const char *const day[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
        size_t k = j + 1;
        while (k < len && s[k] == ' ') k++;
        if (k < len && is_digit((unsigned char)s[k])) {
            for (int d = 0; d < 7; d++) {
                size_t q = 0;
                while (q < n && lower((unsigned char)s[i + q]) == lower((unsigned char)day[d][q])) q++;
                if (q == n) { say(w, day[d]); return s[j] == '.' ? j + 1 : j; }
            }
        }
    }
    /* Roman numerals: "Chapter IV" → four, "Henry VIII" → the eighth */
    int rv = roman_value(s + i, n);
    if (rv && !dot) {
        static const char *const card_words[] = { "Chapter", "Part", "Volume", "Book", "Act", "Scene", "Section",
            "War", "Phase", "Round", "Stage", "Article", "Level", "Appendix", "Super", "Bowl", NULL };
        if (pn) for (int k = 0; card_words[k]; k++)
            if (strlen(card_words[k]) == pn && !memcmp(s + pws, card_words[k], pn)) { say_int(w, (uint64_t)rv); return j; }
        int ivx = 1;
        for (size_t k = 0; k < n; k++) if (!strchr("IVX", s[i + k])) ivx = 0;
        if (ivx && n >= 2 && prev_cap && pws + pn == i - 1) { say(w, "the"); say_ord(w, (uint64_t)rv); return j; }
    }
copy:   /* the whole letters-and-digits run ("mp3", "H2O"): no number rule inside a word */
    while (j < len && is_alnum((unsigned char)s[j])) j++;
    put(w, s + i, j - i);
    return j;
}

/* Does the text name a day-first date format ("DD/MM/YYYY", "dd.mm.yy")? */
static int names_day_first(const char *s) {
    for (; *s; s++)
        if (lower((unsigned char)s[0]) == 'd' && lower((unsigned char)s[1]) == 'd' && s[2] && strchr("/.-", s[2]) &&
            lower((unsigned char)s[3]) == 'm' && lower((unsigned char)s[4]) == 'm') return 1;
    return 0;
}

enum eg_status eg_text_normalize(const char *in, char *out, size_t out_len, size_t *n_out) {
    return eg_text_normalize_ex(in, out, out_len, n_out, NULL);
}

enum eg_status eg_text_normalize_ex(const char *in, char *out, size_t out_len, size_t *n_out,
                                    struct eg_normalize_info *info) {
    if (n_out) *n_out = 0;
    if (info) memset(info, 0, sizeof *info);
    if (!in || !out || !out_len) {
        EG_LOGE("text normalise: NULL input or empty output buffer");
        return EG_ERR_INVALID_ARG;
    }
    struct wr w = { out, out_len, 0, 0, 0, 0, "" };
    w.date_dmy = names_day_first(in);
    const size_t len = strlen(in);
    const unsigned char *u = (const unsigned char *)in;
    for (size_t i = 0; i < len && !w.over;) {
        int start = i == 0 || !is_alnum(u[i - 1]);
        size_t e = 0;
        if (start) {
            if (u[i] == 'h' || u[i] == 'H' || u[i] == 'f' || u[i] == 'F' || u[i] == 'w' || u[i] == 'W')
                e = try_url(&w, in, i, len);
            if (!e && is_alnum(u[i])) e = try_email(&w, in, i, len);
            if (!e && (u[i] == '$' || u[i] == 0xC2 || u[i] == 0xE2 || u[i] == 0xE0 ||
                       (u[i] == '-' && i + 1 < len && !is_digit(u[i + 1]))))
                e = try_currency(&w, in, i, len);
            if (!e && is_digit(u[i])) e = try_numeric_date(&w, in, i, len);
            if (!e && u[i] == '#' && i + 1 < len && is_digit(u[i + 1])) {
                say(&w, "number");
                e = try_code_digits(&w, in, i + 1, len);
            }
            if (!e && (u[i] == '(' || u[i] == '+' || is_digit(u[i]))) e = try_phone(&w, in, i, len);
            if (!e && is_alnum(u[i])) e = try_code(&w, in, i, len);
            if (!e && (is_digit(u[i]) || (u[i] == '-' && i + 1 < len && is_digit(u[i + 1]) &&
                                          (i == 0 || u[i - 1] == ' ' || u[i - 1] == '(')))) e = try_number(&w, in, i, len);
            if (!e && is_alpha(u[i])) e = try_word(&w, in, i, len);
        }
        if (!e && u[i] == '&') { say(&w, "and"); e = i + 1; }
        if (!e && u[i] >= 0x80 && (e = try_unspeakable(&w, in, i, len)) != 0) {
            /* no double space or ", ," where the words were */
            if (w.n >= 2 && w.p[w.n - 1] == ' ' && w.p[w.n - 2] == ',' && e < len && u[e] == ',') e++;
            if ((w.n == 0 || w.p[w.n - 1] == ' ') && e < len && u[e] == ' ') e++;
            if (w.n && w.p[w.n - 1] == ' ' && e < len && strchr(".,;:!?", u[e])) w.n--;
        }
        if (e) {
            if (e < len && is_alnum(u[e]) && w.n && is_alnum((unsigned char)w.p[w.n - 1])) put(&w, " ", 1);
            i = e;
            continue;
        }
        put(&w, in + i, 1);
        i++;
    }
    if (w.over) {
        out[0] = 0;
        EG_LOGE("text normalise: output buffer of %zu bytes too small for %zu bytes of input", out_len, len);
        return EG_ERR_INVALID_ARG;
    }
    out[w.n] = 0;
    if (n_out) *n_out = w.n;
    if (info) { info->n_skipped = w.n_skipped; memcpy(info->first_skipped, w.first_skipped, sizeof info->first_skipped); }
    return EG_OK;
}

/* ---- <say-as> ------------------------------------------------------------------------------------------------ */

/* Letters one by one (upper case; "A" written "eh", which the voice reads as the letter, not the article), digits
 * as words, common symbols by name; other characters are dropped. */
static void say_characters(struct wr *w, const char *s, size_t len) {
    static const struct { char c; const char *name; } sym[] = { { '-', "dash" }, { '.', "dot" }, { '@', "at" },
        { '/', "slash" }, { '_', "underscore" }, { '+', "plus" }, { '#', "hash" }, { '&', "and" }, { '*', "star" },
        { '%', "percent" }, { '$', "dollar" }, { '=', "equals" } };
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = decode_at(s, i, len, &cp);
        if (!n) { i++; continue; }
        if (cp < 0x80 && is_digit((int)cp)) say(w, ONES[cp - '0']);
        else if (cp < 0x80 && is_alpha((int)cp)) {
            char l[2] = { (char)(is_upper((int)cp) ? cp : cp - 32), 0 };
            say(w, l[0] == 'A' ? "eh" : l);
        } else if (cp < 0x80) {
            for (size_t k = 0; k < sizeof sym / sizeof sym[0]; k++) if (sym[k].c == (char)cp) { say(w, sym[k].name); break; }
        } else if (!unspeakable_cp(cp)) {   /* other letters as written, one by one */
            if (w->n) put(w, " ", 1);
            put(w, s + i, (size_t)n);
        }
        i += (size_t)n;
    }
}

/* Numbers of a date in the order `format` names (d, m, y); "" = month first (day first when the first number
 * cannot be a month, year first for a 4-digit first number). 0 when it is not such a date. */
static int say_date(struct wr *w, const char *s, size_t len, const char *format) {
    unsigned v[3];
    size_t nd[3], n = 0, i = 0;
    while (i < len && n < 3) {
        while (i < len && !is_digit((unsigned char)s[i])) { if (is_alpha((unsigned char)s[i])) return 0; i++; }
        if (i >= len) break;
        v[n] = 0; nd[n] = 0;
        while (i < len && is_digit((unsigned char)s[i]) && nd[n] < 5) { v[n] = v[n] * 10 + (unsigned)(s[i] - '0'); nd[n]++; i++; }
        n++;
    }
    while (i < len && !is_alnum((unsigned char)s[i])) i++;
    if (i < len || n == 0) return 0;
    char f[8];
    if (format && *format) snprintf(f, sizeof f, "%s", format);
    else if (n == 3) snprintf(f, sizeof f, "%s", nd[0] == 4 ? "ymd" : v[0] > 12 ? "dmy" : "mdy");
    else if (n == 2) snprintf(f, sizeof f, "%s", nd[0] == 4 ? "ym" : nd[1] == 4 ? "my" : v[0] > 12 ? "dm" : "md");
    else snprintf(f, sizeof f, "y");
    if (strlen(f) != n) return 0;
    int d = -1, m = -1, y = -1;
    for (size_t k = 0; k < n; k++) {
        if (f[k] == 'd') d = (int)v[k]; else if (f[k] == 'm') m = (int)v[k]; else if (f[k] == 'y') y = (int)v[k]; else return 0;
    }
    if ((m != -1 && (m < 1 || m > 12)) || (d != -1 && (d < 1 || d > 31)) || (d != -1 && m == -1)) return 0;
    if (m != -1) say(w, MONTHS[m - 1]);
    if (d != -1) say_ord(w, (uint64_t)d);
    if (y != -1) {
        if (m != -1 && d != -1) put(w, ", ", 2);
        say_year(w, (uint64_t)y);
    }
    return 1;
}

enum eg_status eg_text_say_as(int kind, const char *format, const char *in, char *out, size_t out_len,
                              size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!in || !out || !out_len) return EG_ERR_INVALID_ARG;
    struct wr w = { out, out_len, 0, 0, 0, 0, "" };
    size_t len = strlen(in), a = 0;
    while (a < len && (in[a] == ' ' || in[a] == '\n' || in[a] == '\t' || in[a] == '\r')) a++;
    while (len > a && (in[len - 1] == ' ' || in[len - 1] == '\n' || in[len - 1] == '\t' || in[len - 1] == '\r')) len--;
    const char *s = in + a;
    len -= a;
    int done = 0;
    struct num n;
    switch (kind) {
    case EG_SAY_CHARACTERS:
        say_characters(&w, s, len);
        done = 1;
        break;
    case EG_SAY_DIGITS:
        for (size_t i = 0; i < len; i++) if (is_digit((unsigned char)s[i])) { say(&w, ONES[s[i] - '0']); done = 1; }
        break;
    case EG_SAY_CARDINAL: {
        size_t i = s[0] == '-' ? 1 : 0;
        if (parse_num(s, i, len, &n) && n.end == len && n.nd <= 12) {
            if (i) say(&w, "minus");
            say_num(&w, s, i, len, &n);
            done = 1;
        }
        break;
    }
    case EG_SAY_ORDINAL:
        if (parse_num(s, 0, len, &n) && !n.nfrac && n.nd <= 12 &&
            (n.end == len || (n.end + 2 == len && (word_at(s, n.end, len, "st", 1) || word_at(s, n.end, len, "nd", 1) ||
                                                   word_at(s, n.end, len, "rd", 1) || word_at(s, n.end, len, "th", 1))))) {
            say_ord(&w, n.v);
            done = 1;
        }
        break;
    case EG_SAY_DATE:
        done = say_date(&w, s, len, format);
        break;
    case EG_SAY_TIME: {
        size_t e = try_time(&w, s, 0, len);
        done = e == len && e > 0;
        break;
    }
    case EG_SAY_TELEPHONE: {
        int group = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '+' && !done) { say(&w, "plus"); continue; }
            if (is_digit((unsigned char)s[i])) {
                if (group) { put(&w, ", ", 2); group = 0; }
                say(&w, ONES[s[i] - '0']);
                done = 1;
            } else if (done && strchr(" -.()/", s[i])) group = 1;
        }
        break;
    }
    default:
        break;
    }
    if (!done) {   /* not in the form the element asked for: read as ordinary text */
        w.n = 0;
        char *tmp = malloc(len + 1);
        if (!tmp) return EG_ERR_NOMEM;
        memcpy(tmp, s, len);
        tmp[len] = 0;
        enum eg_status st = eg_text_normalize_ex(tmp, out, out_len, n_out, NULL);
        free(tmp);
        return st;
    }
    if (w.over) { out[0] = 0; EG_LOGE("say-as: output buffer of %zu bytes too small", out_len); return EG_ERR_INVALID_ARG; }
    out[w.n] = 0;
    if (n_out) *n_out = w.n;
    return EG_OK;
}
