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
#include <string.h>

#include "runtime/core/internal.h"

struct wr { char *p; size_t cap, n; int over; };

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
    if (j + 2 < len && s[j] == ':' && is_digit((unsigned char)s[j + 1]) && is_digit((unsigned char)s[j + 2]) &&
        (j + 3 >= len || !is_digit((unsigned char)s[j + 3]))) j += 3;   /* seconds: not read */
    int pm = 0, final = 0;
    size_t a = ampm(s, j, len, &pm, &final);
    say_int(w, h);
    if (m == 0 && !a) say(w, "o'clock");
    else if (m > 0 && m < 10) { say(w, "oh"); say(w, ONES[m]); }
    else if (m) say_int(w, m);
    if (a) { say(w, pm ? "PM" : "AM"); if (final) put(w, ".", 1); }
    return j + a;
}

/* Units after a number: written form, singular, plural. Longest forms first. */
static const struct { const char *sym, *one, *many; } UNITS[] = {
    { "km/h", "kilometer per hour", "kilometers per hour" }, { "mph", "mile per hour", "miles per hour" },
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
};

static size_t try_unit(struct wr *w, const char *s, size_t j, size_t len, int one) {
    size_t k = j < len && s[j] == ' ' ? j + 1 : j;
    for (size_t u = 0; u < sizeof UNITS / sizeof UNITS[0]; u++) {
        size_t n = strlen(UNITS[u].sym);
        if (k + n > len || memcmp(s + k, UNITS[u].sym, n)) continue;
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
        { "\xE2\x82\xAC", "euro", "euros", "cent", "cents" }, { "\xC2\xA5", "yen", "yen", NULL, NULL } };
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
        if (word) {
            say(w, word);
            if (sentence_end_after(s, after, len)) put(w, ".", 1);
            return after;
        }
    }
    if (n == 2 && word_at(s, i, len, "vs", 0)) { say(w, "versus"); return j; }
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

enum eg_status eg_text_normalize(const char *in, char *out, size_t out_len, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!in || !out || !out_len) {
        EG_LOGE("text normalise: NULL input or empty output buffer");
        return EG_ERR_INVALID_ARG;
    }
    struct wr w = { out, out_len, 0, 0 };
    const size_t len = strlen(in);
    const unsigned char *u = (const unsigned char *)in;
    for (size_t i = 0; i < len && !w.over;) {
        int start = i == 0 || !is_alnum(u[i - 1]);
        size_t e = 0;
        if (start) {
            if (u[i] == '$' || u[i] == 0xC2 || u[i] == 0xE2 || (u[i] == '-' && i + 1 < len && !is_digit(u[i + 1])))
                e = try_currency(&w, in, i, len);
            if (!e && (u[i] == '(' || u[i] == '+' || is_digit(u[i]))) e = try_phone(&w, in, i, len);
            if (!e && (is_digit(u[i]) || (u[i] == '-' && i + 1 < len && is_digit(u[i + 1]) &&
                                          (i == 0 || u[i - 1] == ' ' || u[i - 1] == '(')))) e = try_number(&w, in, i, len);
            if (!e && is_alpha(u[i])) e = try_word(&w, in, i, len);
        }
        if (!e && u[i] == '&') { say(&w, "and"); e = i + 1; }
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
    return EG_OK;
}
