#!/usr/bin/env python3
"""Build the teacher-corpus sentence lists (deterministic).

Sources (Debian packages): wordnet-base, dict-gcide, dict-devil, fortunes(-min),
plus templated sentences (numbers, dates, times, money, units, phones, abbreviations).

Outputs (models/data/text/):
  train.tsv  id<TAB>text   (shuffled with a fixed seed, so any prefix is a representative sample)
  valid.tsv  200 held-out sentences, same distribution (validation, not eval)
  eval.tsv   the Harvard dev lists (1-36) — teacher audio for the quality gate ONLY, never trained on
  train.txt / valid.txt  plain text, one sentence per line
  counts.json  per-source counts and filter statistics

Eval protection: every candidate is compared (normalised) against
../shared/eval/harvard-dev.txt, ../shared/eval/edge-cases.txt and the held-back
Harvard lists 37-72 (stored only as salted word hashes in text/harvard_heldout.hashes;
regenerate with --make-heldout-hashes FILE).  Rejected if: same normalised text, or
shares a 5-word shingle, or word-set Jaccard >= 0.6 with any eval sentence.
"""
import argparse
import gzip
import hashlib
import os
import json
import random
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXT = HERE / "text"
EVAL_DIR = Path(os.environ.get("EDGEGEN_EVAL_DIR", Path(__file__).resolve().parents[3] / "shared" / "eval"))
SEED = 20261122
SALT = "edgegen-heldout-v1:"

TARGETS = {  # max sentences per source in train+valid (sampled deterministically)
    "wordnet_example": 6500,
    "wordnet_gloss": 3300,
    "gcide_quote": 3300,
    "devil": 1200,
    "fortune": 2000,
    "generated": 2700,
}
# Extension appended after the base list (ids continue, base lines unchanged) to reach ~20 h.
TARGETS_EXT = {"wordnet_example": 1500, "wordnet_gloss": 1000, "gcide_quote": 1000, "devil": 300,
               "fortune": 800, "generated": 700}

BAD_WORDS = set("""
fuck fucking fucked shit shitty cunt bitch bastard whore slut nigger nigga fag faggot dick cock pussy
tits boobs penis vagina rape raped rapist porn porno orgasm masturbate masturbation dildo asshole arse
retard retarded kike spic chink wetback tranny homo dyke crap damn goddamn piss pissed sex sexual sexy
nazi hitler negro negroes jew jews jewish suicide kill killed killing murder murdered bomb
""".split())

ABBREV = [
    (r"\bMr\.", "Mister"), (r"\bMrs\.", "Missus"), (r"\bMs\.", "Miz"), (r"\bDr\.", "Doctor"),
    (r"\bSt\. (?=[A-Z])", "Saint "), (r"\bProf\.", "Professor"), (r"\bGen\.", "General"),
    (r"\bCol\.", "Colonel"), (r"\bCapt\.", "Captain"), (r"\bLt\.", "Lieutenant"), (r"\bSgt\.", "Sergeant"),
    (r"\bRev\.", "Reverend"), (r"\bHon\.", "Honorable"), (r"\bJr\.", "Junior"), (r"\bSr\.", "Senior"),
    (r"\be\.g\.", "for example"), (r"\bi\.e\.", "that is"), (r"\betc\.(?=.)", "et cetera"),
    (r"\betc\.$", "et cetera."), (r"\bvs\.", "versus"), (r"\bviz\.", "namely"), (r"\bcf\.", "compare"),
    (r"\bNo\. (?=\d)", "number "), (r"\bca\. ", "circa "),
]

STOP = set("""a an the of and or to in on at by for with from as is are was were be been it its this that these those
he she they we you i his her their our your my me him them us not no but if so than then there here which who whom
what when where how all any some into out up down over under about after before""".split())


# ---------------------------------------------------------------- normalisation
def ascii_fold(s: str) -> str:
    s = (s.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
         .replace("\u2013", "-").replace("\u2014", " -- ").replace("\u2026", "..."))
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c))


def norm_key(s: str) -> str:
    s = ascii_fold(s).lower().replace("'", "")
    return " ".join(re.findall(r"[a-z0-9]+", s))


def words_of(s: str):
    return norm_key(s).split()


def wh(w: str) -> str:
    return hashlib.sha1((SALT + w).encode()).hexdigest()[:12]


ALLOWED = re.compile(r"^[A-Za-z0-9 .,;:!?'\"()\-]+$")


def clean(s: str, allow_symbols: bool = False):
    """Return a cleaned sentence or None."""
    s = ascii_fold(s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s*--+\s*", ", ", s)
    s = s.replace("``", '"').replace("''", '"')
    for pat, rep in ABBREV:
        s = re.sub(pat, rep, s)
    s = re.sub(r"\s+([,.;:!?])", r"\1", s)
    s = re.sub(r",\s*,", ",", s).strip(" ,;:")
    if not s:
        return None
    if s.startswith(", "):
        s = s[2:]
    if not allow_symbols and not ALLOWED.match(s):
        return None
    if not s.isascii():
        return None
    if s.count("(") != s.count(")") or s.count('"') % 2:
        return None
    if re.search(r"\.\.|[!?.][A-Za-z]|\b[a-z]\.[a-z]\.|\d", s) and not allow_symbols:
        return None
    if re.search(r"[.!?;] [a-z]|\b(n|v|adj|adv|vt|vi)\.[,:]? ", s):
        return None
    if s[0].islower():
        s = s[0].upper() + s[1:]
    if not (s[0].isalpha() or s[0] in "\"'(" or (allow_symbols and s[0].isalnum())):
        return None
    if s[-1] in ",;:":
        s = s[:-1]
    if s[-1] not in ".!?\"')":
        s += "."
    ws = s.split()
    if not (3 <= len(ws) <= 30):
        return None
    toks = words_of(s)
    if any(t in BAD_WORDS for t in toks):
        return None
    caps = sum(1 for w in ws if len(w) > 1 and w.isupper())
    if caps > 2 or caps > len(ws) / 4:
        return None
    if max(len(w) for w in ws) > 24:
        return None
    return s


def sentence_split(text: str):
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"(?<=[.!?])[\"']?\s+(?=[A-Z\"'])", text)
    return [p.strip() for p in parts if p.strip()]


# ---------------------------------------------------------------- sources
def src_wordnet():
    ex, gl = [], []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(f"/usr/share/wordnet/data.{pos}", encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue
                head, gloss = line.split("|", 1)
                fields = head.split()
                nw = int(fields[3], 16)
                lemmas = [fields[4 + 2 * i] for i in range(nw)]
                for q in re.findall(r'"([^"]+)"', gloss):
                    q = q.strip()
                    if len(q.split()) >= 5:
                        ex.append(q)
                d = gloss.split('"')[0].strip().rstrip(";").strip()
                d = re.sub(r"\([^()]*\)", "", d).strip()
                d = d.split(";")[0].strip()
                lemma = re.sub(r"\(.*?\)", "", lemmas[0]).replace("_", " ")
                if not re.fullmatch(r"[a-z][a-z \-]*", lemma) or len(d.split()) < 3:
                    continue
                if pos == "noun":
                    art = "An" if lemma[0] in "aeiou" else "A"
                    if re.match(r"(a|an|the|any|one|someone|something|an?)\b", d):
                        gl.append(f"{art} {lemma} is {d}.")
                    else:
                        gl.append(f"The word {lemma} means {d}.")
                elif pos == "verb":
                    gl.append(f"To {lemma} is to {d}.")
                else:
                    gl.append(f"{lemma[0].upper() + lemma[1:]} means {d}.")
    return ex, gl


def src_gcide():
    raw = gzip.open("/usr/share/dictd/gcide.dict.dz", "rt", encoding="utf-8", errors="replace").read()
    out = []
    buf = []
    for line in raw.split("\n"):
        m = re.match(r"^ {6,}(\S.*)$", line)
        if m and not line.strip().startswith("["):
            txt = m.group(1)
            am = re.search(r"\s--\s*[A-Z][^\s]*.*$|^--[A-Z].*$", txt)
            if am:
                buf.append(txt[: am.start()])
                q = " ".join(b.strip() for b in buf).strip()
                if q:
                    out.append(q)
                buf = []
            else:
                buf.append(txt)
        else:
            buf = []
    res = []
    for q in out:
        for s in sentence_split(q):
            res.append(s)
    return res


def src_devil():
    raw = gzip.open("/usr/share/dictd/devil.dict.dz", "rt", encoding="latin-1").read()
    out = []
    for block in re.split(r"\n\s*\n", raw):
        m = re.match(r"^([A-Z][A-Z' \-]+), ([a-z. ]+?)\.\s+(.*)$", block, re.S)
        if not m:
            continue
        word = m.group(1).strip().lower()
        body = m.group(3)
        body = "\n".join(l for l in body.split("\n") if not l.startswith("    "))
        body = re.sub(r"\[.*?\]|\{|\}|_", "", body)
        sents = sentence_split(body)
        for i, s in enumerate(sents):
            if i == 0 and re.match(r"(A|An|The|One|Any)\b", s) and len(s.split()) <= 26:
                s = f"{word[0].upper() + word[1:]} is {s[0].lower() + s[1:]}"
            out.append(s)
    return out


FORTUNE_SKIP = {"ascii-art", "ethnic", "drugs", "men-women", "perl", "linux", "linuxcookie", "debian",
                "translate-me", "zippy", "knghtbrd", "art", "love", "politics", "medicine"}


def src_fortunes():
    out = []
    d = Path("/usr/share/games/fortunes")
    for p in sorted(d.iterdir()):
        if p.suffix in (".dat", ".u8") or p.name in FORTUNE_SKIP or p.is_dir():
            continue
        raw = p.read_text(encoding="utf-8", errors="replace")
        for entry in raw.split("\n%\n"):
            lines = [l for l in entry.split("\n") if l.strip()]
            if not lines or len(lines) > 4:
                continue
            if any(re.match(r"^\s*--", l) or l.startswith("\t\t") for l in lines):
                lines = [l for l in lines if not (re.match(r"^\s*--", l) or l.startswith("\t\t"))]
            if any(":" in l[:15] and l[:1].isupper() and l.split(":")[0].isalpha() for l in lines):
                continue  # dialogue / "Q:" style
            text = " ".join(l.strip() for l in lines)
            if re.search(r"[<>{}\[\]|@#$%^&*_=+~`/\\]", text):
                continue
            ss = sentence_split(text)
            if 1 <= len(ss) <= 2:
                out.append(" ".join(ss))
    return out


# ---------------------------------------------------------------- generated
ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
ORD_IRR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
           "twelve": "twelfth"}


def n2w(n: int) -> str:
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else "-" + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + n2w(n % 100))
    for div, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= div:
            return n2w(n // div) + " " + name + ("" if n % div == 0 else " " + n2w(n % div))
    raise ValueError(n)


def ord2w(n: int) -> str:
    w = n2w(n)
    head, sep, last = w.rpartition("-") if "-" in w.split()[-1] else w.rpartition(" ")
    if last in ORD_IRR:
        last = ORD_IRR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last = last + "th"
    return head + sep + last


def year2w(y: int) -> str:
    if 2000 <= y <= 2009:
        return n2w(y)
    hi, lo = divmod(y, 100)
    if lo == 0:
        return n2w(hi) + " hundred"
    return n2w(hi) + " " + ("oh " + ONES[lo] if lo < 10 else n2w(lo))


def time2w(h: int, m: int) -> str:
    if m == 0:
        return n2w(h) + " o'clock"
    return n2w(h) + " " + ("oh " + ONES[m] if m < 10 else n2w(m))


MONTHS = "January February March April May June July August September October November December".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
NAMES = "Anna Ben Carla David Elena Frank Grace Henry Irene Jack Karen Leo Maria Nathan Olivia Peter Rosa Sam Tina Victor Wendy Yusuf Zoe Omar Priya Chen Lucas Amara".split()
PLACES = "the station|the library|the harbor|the north gate|the old mill|the market|the clinic|the bakery|the hotel|the museum|the school|the airport|the bridge".split("|")
THINGS = "apples|books|chairs|tickets|bottles|bricks|pages|boxes|lamps|coins|seeds|stamps|nails|eggs|shirts|maps".split("|")
UNITS = [("kilometer", "kilometers"), ("meter", "meters"), ("centimeter", "centimeters"), ("kilogram", "kilograms"),
         ("gram", "grams"), ("liter", "liters"), ("mile", "miles"), ("pound", "pounds"), ("foot", "feet"),
         ("inch", "inches"), ("degree", "degrees"), ("hour", "hours"), ("minute", "minutes"), ("second", "seconds"),
         ("megabyte", "megabytes"), ("volt", "volts"), ("watt", "watts"), ("percent", "percent")]
CURR = [("dollar", "dollars", "cent", "cents"), ("euro", "euros", "cent", "cents"), ("pound", "pounds", "penny", "pence")]
ABBR_SENT = [
    "Doctor {n} will see you at {t} on {d}.", "Mister {n} and Missus {n2} live on Elm Street.",
    "The meeting with Professor {n} moved to {d}.", "Saint {n2}'s Church is next to {p}.",
    "The train leaves at {t}, so please do not be late.", "{n} works for the NASA team and the FBI office.",
    "Please reply to the memo by {d}, as soon as possible.", "The BBC and the UN both reported it on {d}.",
    "Send the PDF to {n} before {t}.", "The USB cable is in the box near the TV.",
    "Captain {n} gave the order at {t}.", "General {n} arrived with Colonel {n2} on {d}.",
]


def src_generated(rng: random.Random, n: int):
    out = []
    kinds = ["card", "card_digits", "ord", "ord_digits", "date", "year", "time", "money", "money_sym", "unit", "phone",
             "abbr", "decimal", "percent", "fraction", "age", "address", "score"]
    for i in range(n * 2):
        k = kinds[i % len(kinds)]
        nm, nm2 = rng.choice(NAMES), rng.choice(NAMES)
        pl, th = rng.choice(PLACES), rng.choice(THINGS)
        dd = f"{rng.choice(DAYS)}, {rng.choice(MONTHS)} {ord2w(rng.randint(1, 28))}"
        tt = time2w(rng.randint(1, 12), rng.choice([0, 5, 10, 15, 20, 25, 30, 40, 45, 50, 55, rng.randint(1, 59)])) + " " + rng.choice(["in the morning", "in the evening", "at night", "in the afternoon", "sharp"])
        if k == "card":
            v = rng.choice([rng.randint(2, 99), rng.randint(100, 999), rng.randint(1000, 99999), rng.randint(10**5, 10**7)])
            s = rng.choice([f"{nm} counted {n2w(v)} {th} at {pl}.", f"There were {n2w(v)} people waiting near {pl}.",
                            f"The total came to {n2w(v)} {th} after the second count."])
        elif k == "card_digits":
            v = rng.choice([rng.randint(2, 99), rng.randint(100, 999), rng.randint(1000, 9999)])
            s = rng.choice([f"{nm} packed {v} {th} into the van.", f"We sold {v} {th} last week.",
                            f"About {v} visitors came to {pl} on {rng.choice(DAYS)}."])
        elif k == "ord":
            v = rng.randint(1, 120)
            s = rng.choice([f"{nm} finished in {ord2w(v)} place.", f"This is the {ord2w(v)} time I have asked.",
                            f"Take the {ord2w(rng.randint(1, 12))} turn on the left after {pl}."])
        elif k == "ord_digits":
            v = rng.randint(1, 40)
            suf = "th" if 10 <= v % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(v % 10, "th")
            s = rng.choice([f"{nm} lives on the {v}{suf} floor.", f"The {v}{suf} runner crossed the line slowly."])
        elif k == "date":
            s = rng.choice([f"The parcel should arrive on {dd}.", f"{nm} was born on {rng.choice(MONTHS)} {ord2w(rng.randint(1, 31))}, {year2w(rng.randint(1940, 2024))}.",
                            f"Our lease ends on the {ord2w(rng.randint(1, 30))} of {rng.choice(MONTHS)}."])
        elif k == "year":
            y = rng.randint(1500, 2030)
            s = rng.choice([f"The bridge was built in {year2w(y)}.", f"In {year2w(y)}, the town had only one school.",
                            f"The records from {year2w(y)} were lost in a fire."])
        elif k == "time":
            s = rng.choice([f"The bus to {pl[4:]} leaves at {tt}.", f"Meet me at {pl} at {tt}.",
                            f"{nm} woke up at {tt} and made coffee."])
        elif k == "money":
            c = rng.choice(CURR)
            a, b = rng.randint(1, 999), rng.randint(1, 99)
            amt = f"{n2w(a)} {c[0] if a == 1 else c[1]}" + (f" and {n2w(b)} {c[2] if b == 1 else c[3]}" if rng.random() < 0.6 else "")
            s = rng.choice([f"The ticket costs {amt}.", f"{nm} paid {amt} for the {th}.", f"That will be {amt}, please."])
        elif k == "money_sym":
            a = rng.randint(2, 5000)
            s = rng.choice([f"The repair came to {n2w(a)} dollars in total.", f"Rent went up by {n2w(rng.randint(10, 300))} dollars this year."])
        elif k == "unit":
            u = rng.choice(UNITS)
            v = rng.randint(1, 500)
            s = rng.choice([f"The path is {n2w(v)} {u[0] if v == 1 else u[1]} long.", f"Add {n2w(v)} {u[0] if v == 1 else u[1]} to the total.",
                            f"It measured {n2w(v)} point {ONES[rng.randint(0, 9)]} {u[1]}."])
        elif k == "phone":
            digits = [rng.randint(0, 9) for _ in range(10)]
            dw = lambda ds: " ".join("oh" if (d == 0 and rng.random() < 0.5) else ONES[d] for d in ds)
            s = rng.choice([f"Call {nm} at {dw(digits[:3])}, {dw(digits[3:6])}, {dw(digits[6:])}.",
                            f"The office number is {dw(digits[:3])}, {dw(digits[3:7])}."])
        elif k == "abbr":
            s = rng.choice(ABBR_SENT).format(n=nm, n2=nm2, t=tt, d=dd, p=pl)
        elif k == "decimal":
            s = f"The reading was {n2w(rng.randint(0, 99))} point {' '.join(ONES[rng.randint(0, 9)] for _ in range(rng.randint(1, 3)))} this morning."
        elif k == "percent":
            s = rng.choice([f"Prices rose by {n2w(rng.randint(1, 99))} percent last year.", f"About {rng.randint(2, 98)}% of the seats were taken."])
        elif k == "fraction":
            s = rng.choice([f"Add {rng.choice(['one half', 'one third', 'two thirds', 'three quarters', 'one quarter'])} of a cup of flour.",
                            f"Nearly {rng.choice(['half', 'a third', 'a quarter', 'two thirds'])} of the {th} were broken."])
        elif k == "age":
            s = f"{nm} turned {n2w(rng.randint(2, 99))} on {dd}."
        elif k == "address":
            s = f"The shop is at {n2w(rng.randint(1, 999))} {rng.choice(['Oak', 'Pine', 'Maple', 'River', 'Hill', 'Lake', 'Park'])} {rng.choice(['Street', 'Road', 'Avenue', 'Lane', 'Drive'])}."
        else:
            s = f"The final score was {n2w(rng.randint(0, 9))} to {n2w(rng.randint(0, 9))} after {n2w(rng.randint(2, 5))} periods."
        out.append(s)
    return out


# ---------------------------------------------------------------- eval protection
class EvalGuard:
    def __init__(self, heldout_hash_file: Path):
        self.keys = set()
        self.shingles = set()
        self.sets = []
        self.index = defaultdict(list)
        lines = []
        for fn in ("harvard-dev.txt", "edge-cases.txt"):
            lines += [l.strip() for l in open(EVAL_DIR / fn, encoding="utf-8") if l.strip()]
        hashed = [[wh(w) for w in words_of(l)] for l in lines]
        if heldout_hash_file.exists():
            for l in open(heldout_hash_file):
                if l.strip():
                    hashed.append(l.split())
        self.n = len(hashed)
        for ws in hashed:
            self.keys.add(" ".join(ws))
            for i in range(len(ws) - 4):
                self.shingles.add(" ".join(ws[i:i + 5]))
            j = len(self.sets)
            self.sets.append(set(ws))
            for w in set(ws):
                self.index[w].append(j)

    def reject(self, s: str):
        ws = [wh(w) for w in words_of(s)]
        if " ".join(ws) in self.keys:
            return "exact"
        for i in range(len(ws) - 4):
            if " ".join(ws[i:i + 5]) in self.shingles:
                return "shingle"
        cs = set(ws)
        cnt = Counter(j for w in cs for j in self.index.get(w, ()))
        for j, c in cnt.items():
            if c >= 3 and c / len(cs | self.sets[j]) >= 0.6:
                return "jaccard"
        return None


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-heldout-hashes", help="text file of held-back Harvard lists 37-72 (kept outside the repo)")
    ap.add_argument("--n-valid", type=int, default=200)
    args = ap.parse_args()
    TEXT.mkdir(exist_ok=True)
    hfile = TEXT / "harvard_heldout.hashes"
    if args.make_heldout_hashes:
        with open(hfile, "w") as f:
            for l in open(args.make_heldout_hashes, encoding="utf-8"):
                if l.strip():
                    f.write(" ".join(wh(w) for w in words_of(l)) + "\n")
    guard = EvalGuard(hfile)

    rng = random.Random(SEED)
    ex, gl = src_wordnet()
    raw = {"wordnet_example": ex, "wordnet_gloss": gl, "gcide_quote": src_gcide(), "devil": src_devil(),
           "fortune": src_fortunes(), "generated": src_generated(random.Random(SEED + 1), TARGETS["generated"])}
    stats = {}
    seen = set()
    pools = {}
    ext_pools = {}
    for src in TARGETS:  # fixed order
        st = Counter(raw=len(raw[src]))
        pool = []
        for s in raw[src]:
            c = clean(s, allow_symbols=(src == "generated"))
            if c is None:
                st["filtered"] += 1
                continue
            k = norm_key(c)
            if k in seen:
                st["duplicate"] += 1
                continue
            r = guard.reject(c)
            if r:
                st["eval_overlap_" + r] += 1
                continue
            seen.add(k)
            pool.append(c)
        st["clean"] = len(pool)
        r2 = random.Random(f"{SEED}:{src}")
        r2.shuffle(pool)
        pools[src] = pool[: TARGETS[src]]
        ext_pools[src] = pool[TARGETS[src]: TARGETS[src] + TARGETS_EXT[src]]
        st["used"] = len(pools[src]) + len(ext_pools[src])
        stats[src] = dict(st)

    items = [(src, s) for src in TARGETS for s in pools[src]]
    rng.shuffle(items)
    valid, train = items[: args.n_valid], items[args.n_valid:]
    ext = [(src, s) for src in TARGETS for s in ext_pools[src]]
    random.Random(SEED + 2).shuffle(ext)
    n_base = len(train)
    train = train + ext
    prefix = {"wordnet_example": "wx", "wordnet_gloss": "wg", "gcide_quote": "gq", "devil": "dv", "fortune": "ft",
              "generated": "gn"}

    def write(name, rows, tag):
        with open(TEXT / f"{name}.tsv", "w", encoding="utf-8") as f, open(TEXT / f"{name}.txt", "w", encoding="utf-8") as g:
            for i, (src, s) in enumerate(rows):
                f.write(f"{tag}{i:05d}-{prefix[src]}\t{s}\n")
                g.write(s + "\n")

    write("train", train, "tr")
    write("valid", valid, "va")
    with open(TEXT / "eval.tsv", "w", encoding="utf-8") as f:
        for i, l in enumerate(l.strip() for l in open(EVAL_DIR / "harvard-dev.txt", encoding="utf-8") if l.strip()):
            f.write(f"hv{i + 1:04d}\t{l}\n")
    summary = {
        "seed": SEED, "sources": stats,
        "train": dict(Counter(src for src, _ in train)), "valid": dict(Counter(src for src, _ in valid)),
        "n_train": len(train), "n_train_base": n_base, "n_train_ext": len(ext), "n_valid": len(valid), "eval_guard_sentences": guard.n,
        "train_words": sum(len(s.split()) for _, s in train),
    }
    (TEXT / "counts.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
