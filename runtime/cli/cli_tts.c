/* runtime/cli/cli_tts.c — `edgegen tts "text" -o out.wav`: text → speech, streamed as it is generated.
 *
 * Text comes from the argument(s) or stdin; it is checked (size, NUL bytes, UTF-8, something to say) before
 * anything else, then the output is opened (a temporary next to the target, so an unwritable path fails before
 * the model loads), then the model and a context are created and the text is synthesised sentence by sentence
 * through the public API (edgegen.h) with runtime/text/text.c (espeak-ng) as the phonemiser. Audio goes to the WAV
 * writer as each decoder window is ready: with `-o -` it streams to stdout while the sentence is being generated.
 * Any failure removes the temporary: no partial output file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cli/cli.h"
#include "runtime/edgegen.h"
#include "runtime/text/text.h"

#define MAX_TEXT_BYTES (16u << 20)   /* stdin or argument text */

static void usage(FILE *f) {
    fprintf(f,
            "usage: edgegen tts [TEXT...] -o OUT [options]\n"
            "\n"
            "Speak TEXT (UTF-8; several arguments are joined with spaces; none or \"-\" reads stdin, up to 16 MiB)\n"
            "into 16-bit mono audio. Sentences are spoken one by one and the audio is written as it is generated,\n"
            "so with -o - playback can start before the first sentence is finished.\n"
            "\n"
            "options:\n"
            "  -o, --output OUT      WAV file (written to a temporary name and renamed when complete: a failure\n"
            "                        leaves no file); \"-\" streams to stdout (not to a terminal)\n"
            "      --raw             headerless s16le samples instead of WAV, at the decoder's sample rate (22050 Hz\n"
            "                        for the default pico-voice, 16000 Hz for pico-codec; `edgegen inspect CODEC` shows it)\n"
            "  -m, --model PATH      AR model GGUF (edgegen.ar). Default: pico-ar-q8_0.gguf, pico-ar-f16.gguf or\n"
            "                        pico-ar-f32.gguf in $EDGEGEN_MODEL_DIR, <binary>/../models, " EG_DATADIR "/models\n"
            "                        (each also with an ar/ subdirectory)\n"
            "      --codec PATH      codec decoder GGUF: edgegen.codec, or a voice v2 decoder (edgegen.voice, e.g.\n"
            "                        models/voice/pico-voice-q8_0.gguf, made by `make voice-gguf`). Default:\n"
            "                        pico-voice-{q8_0,f16,f32}.gguf (22.05 kHz), else pico-codec-{q8_0,f16,f32}.gguf\n"
            "                        (16 kHz), next to the AR model or in ../voice/ or ../codec/ relative to it.\n"
            "                        The WAV header carries the decoder's own sample rate\n"
            "      --draft PATH      speculative decoding (with --spec-k): a small draft AR model GGUF distilled from\n"
            "                        the model (models/ar/pico-ar-draft-q8_0.gguf for the default one) proposes\n"
            "                        tokens that the model checks in one pass. The audio does not change\n"
            "                        (identical at --temperature 0, the same distribution when sampling); only the\n"
            "                        speed does: it pays where weights stream from slow memory (small boards).\n"
            "                        A draft whose tokens or phonemes differ from the model's is refused. Off by default\n"
            "      --spec-k K        draft tokens per model pass with --draft, 1 .. 8 (default 4 with --draft)\n"
            "      --seed N          sampling seed, 0 .. 2^64-1 (default 0); same seed → identical audio\n"
            "      --temperature T   0 .. 100 (default 0.3; 0 = greedy)\n"
            "      --top-k K         0 .. 65536 (default 50; 0 = off)\n"
            "      --top-p P         (0, 1] (default 1 = off)\n"
            "      --speed S         0.1 .. 10 (default 1; 2 = twice as fast)\n"
            "      --pause MS        silence between sentences, 0 .. 10000 ms (default 100); every sentence is\n"
            "                        also faded in and out over 5 ms so joins do not click\n"
            "  -t, --threads N       1 .. 256 (default: online cores, at most 4); output is identical for any N\n"
            "      --isa NAME        kernel table: auto, ref, avx2, avx512, neon, neon-dotprod (default auto; overrides EDGEGEN_ISA)\n"
            "      --device NAME     where the decoder network runs: auto, cpu, opencl (default auto, or\n"
            "                        $EDGEGEN_BACKEND): auto uses an OpenCL device only when a self-test proves it\n"
            "                        correct and faster; opencl fails if the device does not work\n"
            "      --chunk N         first decoder window of each sentence in frames, 1 .. 1024 (default 16; later\n"
            "                        windows are max(N, 64)): smaller starts audio sooner; the audio is the same\n"
            "      --max-phonemes N  longest sentence in phonemes, 1 .. 2000 (default 256; longer ones are split at a\n"
            "                        word boundary); sizes the context's memory\n"
            "      --voice NAME      espeak-ng voice for phonemes (default en-us)\n"
            "      --ssml            the input is SSML (default: SSML when it starts with <speak>, else plain text)\n"
            "      --plain           the input is plain text even if it starts with <speak>\n"
            "      --lexicon FILE    your pronunciations: one \"WORD PHONEMES\" a line (IPA, as edgegen phonemize prints\n"
            "                        it; '#' starts a comment). A word matches as written, or in any case when the\n"
            "                        entry is all lower case (\"nasa\" covers NASA); punctuation around a word is ignored\n"
            "      --no-normalize    speak numbers, money, dates ... as the phonemiser reads them (no rewriting)\n"
            "      --timings FILE    word and phoneme start/end times (JSON; seconds and samples), from the model's own\n"
            "                        durations: exact to the 20 ms frame, after --speed, pauses and breaks\n"
            "      --subtitles FILE  subtitles from the same times: FILE.srt (SubRip) or FILE.vtt (WebVTT)\n"
            "      --dry-run         print each sentence's normalised text and phonemes (edgegen phonemize) and stop;\n"
            "                        no model is loaded, no audio written\n"
            "  -v, --verbose         model, kernels, time to first audio and real-time factor on stderr\n"
            "      --debug           the library's debug log on stderr: each sentence's phoneme ids and codec tokens\n"
            "                        (\"edgegen: debug: sentence S ids|tokens I: ...\"), to compare builds\n"
            "  -h, --help            this help\n"
            "\n"
            "Text: plain text may hold phonemes in double brackets, \"Call [[ ʃɪvˈɔːn ]] now\", in the\n"
            "model's IPA (edgegen phonemize shows it); a symbol the model lacks is an error. SSML: <speak>, <p>, <s>,\n"
            "<break time=\"500ms\" strength=\"..\"/>, <phoneme alphabet=\"ipa\" ph=\"..\">, <sub alias=\"..\">,\n"
            "<say-as interpret-as=\"characters|spell-out|cardinal|ordinal|digits|date|time|telephone\" format=\"dmy\">,\n"
            "<prosody rate=\"slow|fast|120%%\">; other elements are read as their text (one warning). Malformed\n"
            "markup is one error naming line and column, and nothing is written.\n"
            "\n"
            "A progress line is shown on stderr when stderr is a terminal.\n"
            "\n"
            "environment:\n"
            "  EDGEGEN_MODEL_DIR   first directory searched for the default model\n"
            "  EDGEGEN_ISA         kernel table when --isa is not given\n"
            "  EDGEGEN_BACKEND     auto|cpu|opencl when --device is not given\n"
            "\n"
            "exit status: 0 ok, 1 failure (bad text, model, memory, I/O; one line on stderr says why), 2 usage error,\n"
            "             130 / 143 interrupted by SIGINT / SIGTERM (the output file is not written)\n"
            "\n"
            "examples:\n"
            "  edgegen tts \"Hello there.\" -o hello.wav\n"
            "  echo \"Streaming starts early.\" | edgegen tts -o - | aplay\n"
            "  edgegen tts --raw --seed 7 -o - \"Raw samples.\" | aplay -f S16_LE -r 16000 -c 1\n"
            "  edgegen tts --lexicon names.lex --subtitles talk.srt -o talk.wav \"Siobhan will talk.\"\n"
            "  edgegen tts -o b.wav '<speak>Wait<break time=\"1s\"/>now.</speak>'\n");
}

/* ---- argument parsing -------------------------------------------------------------------------------------- */

static int parse_int(const char *s, long lo, long hi, int *out) { return eg_cli_parse_int(s, lo, hi, out); }
static int parse_u64(const char *s, uint64_t *out) { return eg_cli_parse_u64(s, out); }
static int parse_float(const char *s, double lo, double hi, int lo_open, float *out) {
    double v;
    if (!eg_cli_parse_double(s, lo, hi, lo_open, &v)) return 0;
    *out = (float)v;
    return 1;
}

/* ---- text input ------------------------------------------------------------------------------------------- */

/* Read all of stdin (at most MAX_TEXT_BYTES) into a NUL-terminated buffer. */
static char *read_stdin(size_t *n_out) {
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > MAX_TEXT_BYTES) {
                eg_cli_error("input text is larger than %u bytes (the limit)", MAX_TEXT_BYTES);
                free(buf);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) { eg_cli_error("out of memory reading the input text"); free(buf); return NULL; }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, stdin);
        n += r;
        if (r == 0) break;
    }
    if (ferror(stdin)) { eg_cli_error("reading standard input: %s", strerror(errno)); free(buf); return NULL; }
    if (n > MAX_TEXT_BYTES) { eg_cli_error("input text is larger than %u bytes (the limit)", MAX_TEXT_BYTES); free(buf); return NULL; }
    buf[n] = 0;
    *n_out = n;
    return buf;
}

static int all_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v')) return 0;
    return 1;
}

/* 1 when the (valid UTF-8) text has a letter or digit: ASCII alphanumerics, or a codepoint from U+00C0 up outside
 * the punctuation blocks (U+2000..U+206F, U+3000..U+303F). espeak-ng would otherwise read "!?" aloud as words. */
static int has_word(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)eg_utf8_decode(s + i, &cp);
        if ((cp < 0x80 && ((cp | 0x20) - 'a' < 26 || cp - '0' < 10)) ||
            (cp >= 0xC0 && !(cp >= 0x2000 && cp <= 0x206F) && !(cp >= 0x3000 && cp <= 0x303F))) return 1;
    }
    return 0;
}

/* ---- audio sink: WAV writer, first-audio time, progress line -------------------------------------------------- */

struct out {
    struct eg_wav *wav;
    struct eg_ctx *ctx;
    int rate, progress;
    uint64_t t_start, t_first, t_last_progress;
};

/* SIGINT / SIGTERM: the next audio chunk cancels synthesis, the temporary output file is removed and the
 * command exits 130 (128 + SIGINT), so an interrupted run leaves no partial file. */
static volatile sig_atomic_t g_interrupted;
static void on_signal(int sig) { g_interrupted = sig; }

static enum eg_status on_audio(void *user, const void *samples, int n) {
    struct out *o = user;
    if (g_interrupted) return EG_ERR_IO;
    const uint64_t now = eg_cli_time_ns();
    if (!o->t_first) o->t_first = now;
    enum eg_status st = eg_wav_write_f32(o->wav, samples, (size_t)n);
    if (st == EG_OK && o->progress && now - o->t_last_progress > 100000000ull) {
        struct eg_ctx_stats s;
        eg_ctx_get_stats(o->ctx, &s);
        fprintf(stderr, "\r  sentence %lld, %.1f s of audio in %.1f s ", (long long)s.n_sentences,
                (double)s.n_samples / o->rate, (double)(now - o->t_start) * 1e-9);
        o->t_last_progress = now;
    }
    return st;
}

/* ---- timings: collected per sentence (on_timing), written as JSON / SRT / VTT at the end ------------------------ */

struct t_word { char *text; int64_t start, end; int ph0, n_ph; };
struct t_ph { uint32_t cp; int64_t start, end; int word; };
struct t_sent { char *text; int64_t start, end; int w0, n_w, p0, n_p; };

struct timings {
    struct t_sent *s; int n_s, cap_s;
    struct t_word *w; int n_w, cap_w;
    struct t_ph *p; int n_p, cap_p;
    int rate;
};

static int t_grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 1;
    int c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *n = realloc(*p, (size_t)c * elem);
    if (!n) return 0;
    *p = n;
    *cap = c;
    return 1;
}

static enum eg_status on_timing(void *user, const struct eg_sentence_timing *t) {
    struct timings *tm = user;
    if (!t_grow((void **)&tm->s, &tm->cap_s, tm->n_s + 1, sizeof *tm->s) ||
        !t_grow((void **)&tm->w, &tm->cap_w, tm->n_w + t->n_words, sizeof *tm->w) ||
        !t_grow((void **)&tm->p, &tm->cap_p, tm->n_p + t->n_phonemes, sizeof *tm->p)) return EG_ERR_NOMEM;
    struct t_sent *s = &tm->s[tm->n_s];
    if (!(s->text = strdup(t->text))) return EG_ERR_NOMEM;
    tm->n_s++;
    *s = (struct t_sent){ s->text, t->start_sample, t->end_sample, tm->n_w, t->n_words, tm->n_p, t->n_phonemes };
    for (int i = 0; i < t->n_words; i++) {
        char *txt = strdup(t->words[i].text);
        if (!txt) { s->n_w = i; return EG_ERR_NOMEM; }
        tm->w[tm->n_w++] = (struct t_word){ txt, t->words[i].start_sample, t->words[i].end_sample,
                                            t->words[i].first_phoneme, t->words[i].n_phonemes };
    }
    for (int i = 0; i < t->n_phonemes; i++)
        tm->p[tm->n_p++] = (struct t_ph){ t->phonemes[i].phoneme, t->phonemes[i].start_sample,
                                          t->phonemes[i].end_sample, t->phonemes[i].word };
    return EG_OK;
}

static void timings_free(struct timings *tm) {
    for (int i = 0; i < tm->n_s; i++) free(tm->s[i].text);
    for (int i = 0; i < tm->n_w; i++) free(tm->w[i].text);
    free(tm->s); free(tm->w); free(tm->p);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_cp(FILE *f, uint32_t cp) {
    char b[8] = { 0 };
    if (cp < 0x80) b[0] = (char)cp;
    else if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 63)); }
    else if (cp < 0x10000) { b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 63)); b[2] = (char)(0x80 | (cp & 63)); }
    else { b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 63)); b[2] = (char)(0x80 | ((cp >> 6) & 63)); b[3] = (char)(0x80 | (cp & 63)); }
    json_str(f, b);
}

#define SEC(x) ((double)(x) / tm->rate)

static void write_json(FILE *f, const struct timings *tm) {
    fprintf(f, "{\n  \"sample_rate\": %d,\n  \"sentences\": [", tm->rate);
    for (int i = 0; i < tm->n_s; i++) {
        const struct t_sent *s = &tm->s[i];
        fprintf(f, "%s\n    {\"text\": ", i ? "," : "");
        json_str(f, s->text);
        fprintf(f, ", \"start\": %.6f, \"end\": %.6f, \"start_sample\": %lld, \"end_sample\": %lld,\n     \"words\": [",
                SEC(s->start), SEC(s->end), (long long)s->start, (long long)s->end);
        for (int k = 0; k < s->n_w; k++) {
            const struct t_word *w = &tm->w[s->w0 + k];
            fprintf(f, "%s\n      {\"text\": ", k ? "," : "");
            json_str(f, w->text);
            fprintf(f, ", \"start\": %.6f, \"end\": %.6f, \"start_sample\": %lld, \"end_sample\": %lld, \"phonemes\": [",
                    SEC(w->start), SEC(w->end), (long long)w->start, (long long)w->end);
            for (int q = 0; q < w->n_ph; q++) {
                const struct t_ph *p = &tm->p[s->p0 + w->ph0 + q];
                fprintf(f, "%s{\"phoneme\": ", q ? ", " : "");
                json_cp(f, p->cp);
                fprintf(f, ", \"start\": %.6f, \"end\": %.6f}", SEC(p->start), SEC(p->end));
            }
            fprintf(f, "]}");
        }
        fprintf(f, "%s],\n     \"phonemes\": [", s->n_w ? "\n     " : "");
        for (int q = 0; q < s->n_p; q++) {
            const struct t_ph *p = &tm->p[s->p0 + q];
            fprintf(f, "%s{\"phoneme\": ", q ? ", " : "");
            json_cp(f, p->cp);
            fprintf(f, ", \"start\": %.6f, \"end\": %.6f, \"word\": %d}", SEC(p->start), SEC(p->end), p->word);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ]\n}\n");
}

static void cue_time(FILE *f, int64_t samples, int rate, char sep) {
    const int64_t ms = (samples * 1000 + rate / 2) / rate;
    fprintf(f, "%02lld:%02lld:%02lld%c%03lld", (long long)(ms / 3600000), (long long)(ms / 60000 % 60),
            (long long)(ms / 1000 % 60), sep, (long long)(ms % 1000));
}

/* Cues of at most 42 characters / 7 words per sentence, timed by their first and last word. */
static void write_cues(FILE *f, const struct timings *tm, int vtt) {
    int n = 0;
    if (vtt) fprintf(f, "WEBVTT\n\n");
    for (int i = 0; i < tm->n_s; i++) {
        const struct t_sent *s = &tm->s[i];
        int k = 0;
        while (k < s->n_w) {
            int e = k, len = 0;
            while (e < s->n_w && e - k < 7 && (e == k || len + 1 + (int)strlen(tm->w[s->w0 + e].text) <= 42))
                len += (e > k) + (int)strlen(tm->w[s->w0 + e].text), e++;
            fprintf(f, "%s%d\n", vtt ? "" : "", ++n);
            cue_time(f, tm->w[s->w0 + k].start, tm->rate, vtt ? '.' : ',');
            fprintf(f, " --> ");
            cue_time(f, tm->w[s->w0 + e - 1].end, tm->rate, vtt ? '.' : ',');
            fputc('\n', f);
            for (int q = k; q < e; q++) fprintf(f, "%s%s", q > k ? " " : "", tm->w[s->w0 + q].text);
            fprintf(f, "\n\n");
            k = e;
        }
    }
}

/* Write to a temporary next to path (renamed by commit_file), so a failure leaves nothing. */
static char *write_temp(const char *path, const struct timings *tm, int kind) {
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return NULL;
    int fd = -1;
    for (unsigned i = 0; i < 100 && fd < 0; i++) {   /* 0666 & ~umask, as the WAV writer */
        snprintf(tmp, n, "%s.tmp%05u", path, ((unsigned)getpid() * 131u + 7u + i) % 100000u);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) { eg_cli_error("cannot create %s (temporary %s): %s", path, tmp, strerror(errno)); free(tmp); return NULL; }
    FILE *f = fdopen(fd, "w");
    if (!f) { close(fd); unlink(tmp); free(tmp); return NULL; }
    if (kind == 0) write_json(f, tm); else write_cues(f, tm, kind == 2);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) { eg_cli_error("%s: write failed: %s", path, strerror(errno)); unlink(tmp); free(tmp); return NULL; }
    return tmp;
}

/* ---- the command ------------------------------------------------------------------------------------------------ */

static int run(int argc, char **argv) {
    const char *out_path = NULL, *model_path = NULL, *codec_path = NULL, *voice = "en-us", *draft_path = NULL;
    int spec_k = -1;
    const char *lex_path = NULL, *timings_path = NULL, *subs_path = NULL;
    int dry_run = 0, subs_vtt = 0;
    struct eg_text_params tp = eg_text_default_params();
    const char **words = calloc((size_t)argc + 1, sizeof *words);
    int n_words = 0, raw = 0, verbose = 0, isa = EG_ISA_AUTO, device = EG_DEVICE_AUTO, threads = 0, dashdash = 0;
    struct eg_ctx_params cp = eg_ctx_default_params();
    char model_buf[PATH_MAX + 64];

    if (!words) { fprintf(stderr, "edgegen tts: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int iv;
#define NEED_VAL() do { if (!val) { fprintf(stderr, "edgegen tts: %s needs a value\n", a); goto usage_err; } i++; } while (0)
#define BAD_VAL(range) do { fprintf(stderr, "edgegen tts: invalid value '%s' for %s (expected %s)\n", val, a, range); goto usage_err; } while (0)
        if (dashdash || !(a[0] == '-' && a[1])) { words[n_words++] = a; continue; }
        if (!strcmp(a, "--")) dashdash = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); free(words); return 0; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { NEED_VAL(); out_path = val; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { NEED_VAL(); model_path = val; }
        else if (!strcmp(a, "--codec")) { NEED_VAL(); codec_path = val; }
        else if (!strcmp(a, "--draft")) { NEED_VAL(); draft_path = val; }
        else if (!strcmp(a, "--spec-k")) { NEED_VAL(); if (!parse_int(val, 1, 8, &spec_k)) BAD_VAL("1 .. 8"); }
        else if (!strcmp(a, "--voice")) { NEED_VAL(); if (!*val || strlen(val) >= 64) BAD_VAL("an espeak-ng voice name"); voice = val; }
        else if (!strcmp(a, "--seed")) { NEED_VAL(); if (!parse_u64(val, &cp.seed)) BAD_VAL("0 .. 18446744073709551615"); }
        else if (!strcmp(a, "--temperature")) { NEED_VAL(); if (!parse_float(val, 0, 100, 0, &cp.temperature)) BAD_VAL("0 .. 100"); }
        else if (!strcmp(a, "--top-k")) { NEED_VAL(); if (!parse_int(val, 0, 65536, &cp.top_k)) BAD_VAL("0 .. 65536"); }
        else if (!strcmp(a, "--top-p")) { NEED_VAL(); if (!parse_float(val, 0, 1, 1, &cp.top_p)) BAD_VAL("a number in (0, 1]"); }
        else if (!strcmp(a, "--speed")) { NEED_VAL(); if (!parse_float(val, 0.1, 10, 0, &cp.speed)) BAD_VAL("0.1 .. 10"); }
        else if (!strcmp(a, "--pause")) { NEED_VAL(); if (!parse_int(val, 0, 10000, &cp.sentence_pause_ms)) BAD_VAL("0 .. 10000 ms"); }
        else if (!strcmp(a, "--max-phonemes")) { NEED_VAL(); if (!parse_int(val, 1, 2000, &cp.max_phonemes)) BAD_VAL("1 .. 2000"); }
        else if (!strcmp(a, "--chunk")) { NEED_VAL(); if (!parse_int(val, 1, 1024, &cp.chunk_frames)) BAD_VAL("1 .. 1024 frames"); }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { NEED_VAL(); if (!parse_int(val, 1, 256, &threads)) BAD_VAL("1 .. 256"); }
        else if (!strcmp(a, "--isa")) { NEED_VAL(); if ((isa = eg_isa_from_name(val)) < 0) BAD_VAL("auto, ref, avx2, avx512, neon or neon-dotprod"); }
        else if (!strcmp(a, "--device")) {
            NEED_VAL();
            if (!strcmp(val, "auto")) device = EG_DEVICE_AUTO;
            else if (!strcmp(val, "cpu")) device = EG_DEVICE_CPU;
            else if (!strcmp(val, "opencl")) device = EG_DEVICE_OPENCL;
            else BAD_VAL("auto, cpu or opencl");
        }
        else if (!strcmp(a, "--raw")) raw = 1;
        else if (!strcmp(a, "--ssml")) tp.format = EG_TEXT_SSML;
        else if (!strcmp(a, "--plain")) tp.format = EG_TEXT_PLAIN;
        else if (!strcmp(a, "--no-normalize")) tp.normalize = 0;
        else if (!strcmp(a, "--dry-run")) dry_run = 1;
        else if (!strcmp(a, "--lexicon")) { NEED_VAL(); lex_path = val; }
        else if (!strcmp(a, "--timings")) { NEED_VAL(); timings_path = val; }
        else if (!strcmp(a, "--subtitles")) {
            NEED_VAL();
            const char *dot = strrchr(val, '.');
            if (!dot || (strcmp(dot, ".srt") && strcmp(dot, ".vtt"))) BAD_VAL("a file name ending in .srt or .vtt");
            subs_path = val;
            subs_vtt = !strcmp(dot, ".vtt");
        }
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) verbose = 1;
        else if (!strcmp(a, "--debug")) eg_log_set_level(EG_LOG_DEBUG);
        else { fprintf(stderr, "edgegen tts: unknown option '%s' (edgegen tts --help lists them)\n", a); goto usage_err; }
        (void)iv;
#undef NEED_VAL
#undef BAD_VAL
    }
    if (spec_k > 0 && !draft_path) { fprintf(stderr, "edgegen tts: --spec-k needs --draft FILE.gguf\n"); goto usage_err; }
    if (!out_path && !dry_run) { fprintf(stderr, "edgegen tts: no output: give -o FILE.wav, or -o - for stdout\n"); goto usage_err; }
    if (!out_path) out_path = "";
    if (!strcmp(out_path, "-")) {
        if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
            fprintf(stderr, "edgegen: error: standard output is closed\n");
            free(words);
            return 1;
        }
        if (isatty(STDOUT_FILENO)) {
            fprintf(stderr, "edgegen: error: refusing to write binary audio to a terminal (use -o file.wav or a pipe)\n");
            goto usage_err;
        }
    }
    /* a closed stdout pipe must be a write error (EPIPE), not a silent death by SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }

    int rc = 1;
    enum eg_status st;
    char *text = NULL;
    size_t n_text = 0;
    struct eg_model *model = NULL;
    struct eg_ctx *ctx = NULL;
    struct eg_phonemizer *ph = NULL;
    struct eg_lexicon *lex = NULL;
    struct timings tm = { 0 };
    char *tmp_timings = NULL, *tmp_subs = NULL;
    struct out o = { 0 };

    /* 1. the text: read and checked before anything slow or anything that creates files */
    if (n_words == 0 || (n_words == 1 && !strcmp(words[0], "-"))) {
        if (!(text = read_stdin(&n_text))) goto out;
    } else {
        size_t len = 0;
        for (int i = 0; i < n_words; i++) len += strlen(words[i]) + 1;
        if (len > MAX_TEXT_BYTES) { eg_cli_error("input text is larger than %u bytes (the limit)", MAX_TEXT_BYTES); goto out; }
        if (!(text = malloc(len + 1))) { eg_cli_error("out of memory"); goto out; }
        text[0] = 0;
        for (int i = 0; i < n_words; i++) { if (i) strcat(text, " "); strcat(text, words[i]); }
        n_text = strlen(text);
    }
    if (memchr(text, 0, n_text)) {
        eg_cli_error("input text contains a NUL byte at byte %ld", (long)((char *)memchr(text, 0, n_text) - text));
        goto out;
    }
    {
        long bad = eg_utf8_invalid_at(text, n_text);
        if (bad >= 0) {
            eg_cli_error("input text is not valid UTF-8 at byte %ld (byte 0x%02X)", bad, (unsigned)(unsigned char)text[bad]);
            goto out;
        }
    }
    if (all_space(text, n_text)) { eg_cli_error("no text to synthesize (input is %s)", n_text ? "only whitespace" : "empty"); goto out; }
    if (!has_word(text, n_text)) { eg_cli_error("no text to synthesize (input has no letters or digits)"); goto out; }
    if (lex_path && eg_lexicon_load(lex_path, &lex) != EG_OK) goto out;   /* one line names file and line */
    tp.lexicon = lex;
    if (dry_run) {   /* the front end only: no model, no audio */
        if ((st = eg_phonemizer_create(voice, NULL, &ph)) != EG_OK) goto out;
        tp.max_phonemes = cp.max_phonemes;
        rc = eg_cli_dry_run(text, &tp, ph, NULL, stdout);
        goto out;
    }

    /* 2. the model path: the bundled default when --model is absent (none found: say where we looked) */
    if (!model_path) {
        static const char *const names[] = { "pico-ar-q8_0.gguf", "pico-ar-f16.gguf", "pico-ar-f32.gguf", NULL };
        if (!eg_cli_default_model("ar", names, model_buf, sizeof model_buf)) {
            eg_cli_error("no TTS model found (pico-ar-q8_0.gguf, pico-ar-f16.gguf or pico-ar-f32.gguf in $EDGEGEN_MODEL_DIR, "
                    "<binary>/../models or %s/models, each also under ar/); use --model PATH",
                    EG_DATADIR);
            goto out;
        }
        model_path = model_buf;
    }
    if (!threads) {
        threads = eg_default_threads();
    }

    /* 3. the output file first (an unwritable path fails before the model loads: its temporary is created now,
     *    with a provisional rate fixed below), then the model; stdout is opened only once the model has loaded,
     *    so a bad model writes no header bytes to a pipe */
    const int to_stdout = !strcmp(out_path, "-");
    struct eg_wav_params wp = { .sample_rate_hz = 16000, .raw = raw, .n_samples_hint = 0 };
    if (!to_stdout && (st = eg_wav_open(out_path, &wp, &o.wav)) != EG_OK) goto out;
    const uint64_t t_load = eg_cli_time_ns();
    if (!(model = eg_model_load(model_path, codec_path, &st))) goto out;
    if (draft_path && (st = eg_model_set_draft(model, draft_path)) != EG_OK) goto out;
    const uint64_t t_loaded = eg_cli_time_ns();
    o.rate = eg_model_sample_rate(model);
    if (!to_stdout && o.rate != wp.sample_rate_hz) {   /* reopen with the model's rate (nothing written yet) */
        eg_wav_abort(o.wav);
        o.wav = NULL;
    }
    wp.sample_rate_hz = o.rate;
    if (!o.wav && (st = eg_wav_open(out_path, &wp, &o.wav)) != EG_OK) goto out;

    /* 4. the context: memory plan checked before allocating */
    cp.spec_k = draft_path ? (spec_k > 0 ? spec_k : 4) : 0;
    cp.n_threads = threads;
    cp.isa = (enum eg_isa)isa;
    cp.device = (enum eg_device)device;
    cp.format = EG_SAMPLE_F32;
    cp.on_audio = on_audio;
    cp.on_audio_user = &o;
    if (timings_path || subs_path) { cp.on_timing = on_timing; cp.on_timing_user = &tm; }
    if (!(ctx = eg_ctx_create(model, &cp, &st))) goto out;
    o.ctx = ctx;
    o.progress = isatty(STDERR_FILENO);

    /* the phonemiser (fails here when the build has no espeak-ng); after the memory plan, which it is not in */
    if ((st = eg_phonemizer_create(voice, NULL, &ph)) != EG_OK) goto out;

    /* 5. speak */
    struct eg_cli_phon pu = { .ph = ph };
    const uint64_t t_synth = eg_cli_time_ns();
    o.t_start = t_synth;
    tm.rate = o.rate;
    st = eg_ctx_synthesize_markup(ctx, text, &tp, eg_cli_phonemiser, &pu);
    if (o.progress) fprintf(stderr, "\r%60s\r", "");
    if (g_interrupted) {
        eg_cli_error("interrupted by signal %d: no output written", (int)g_interrupted);
        rc = 128 + (int)g_interrupted;
        goto out;
    }
    if (st != EG_OK) goto out;
    const uint64_t t_done = eg_cli_time_ns();
    const uint64_t n_samples = eg_wav_n_samples(o.wav);
    /* timing files complete in temporaries before the audio is committed; renamed after it */
    if (timings_path && !(tmp_timings = write_temp(timings_path, &tm, 0))) goto out;
    if (subs_path && !(tmp_subs = write_temp(subs_path, &tm, subs_vtt ? 2 : 1))) goto out;
    st = eg_wav_close(o.wav);
    o.wav = NULL;
    if (st != EG_OK) goto out;
    if (tmp_timings && rename(tmp_timings, timings_path) != 0) {
        eg_cli_error("cannot rename %s to %s: %s", tmp_timings, timings_path, strerror(errno));
        goto out;
    }
    if (tmp_subs && rename(tmp_subs, subs_path) != 0) {
        eg_cli_error("cannot rename %s to %s: %s", tmp_subs, subs_path, strerror(errno));
        goto out;
    }
    free(tmp_timings); free(tmp_subs);
    tmp_timings = tmp_subs = NULL;
    if (verbose) {
        struct eg_ctx_stats s;
        eg_ctx_get_stats(ctx, &s);
        const double sec = (double)(t_done - t_synth) * 1e-9, audio = (double)n_samples / o.rate;
        fprintf(stderr, "model %s (+ decoder %s, %d Hz), loaded in %.1f ms; kernels %s, %d thread(s); context memory "
                "%.1f MiB\n", model_path, codec_path ? codec_path : "found next to it", eg_model_sample_rate(model),
                (double)(t_loaded - t_load) * 1e-6, eg_ctx_isa_name(ctx), threads,
                (double)eg_ctx_memory_bytes(model, &cp) / 1048576.0);
        fprintf(stderr, "decoder: %s\n", eg_ctx_device_info(ctx));
        fprintf(stderr, "%lld sentence(s), %lld frames, %.2f s of audio in %.3f s: RTF %.4f; first audio after %.1f ms"
                        "%s\n", (long long)s.n_sentences, (long long)s.n_frames, audio, sec, audio > 0 ? sec / audio : 0.0,
                o.t_first ? (double)(o.t_first - t_synth) * 1e-6 : 0.0,
                s.n_unknown_phonemes ? " (some phonemes unknown to the model were skipped)" : "");
        if (cp.spec_k > 0)
            fprintf(stderr, "speculative decoding: k %d, draft %s: %lld of %lld draft tokens accepted (%.1f %%), %.2f "
                            "tokens per model pass\n", cp.spec_k, draft_path, (long long)s.n_spec_accepted,
                    (long long)s.n_spec_drafted,
                    s.n_spec_drafted ? 100.0 * (double)s.n_spec_accepted / (double)s.n_spec_drafted : 0.0,
                    s.n_spec_rounds ? (double)s.n_frames / (double)s.n_spec_rounds : 0.0);
    }
    rc = 0;

out:
    if (tmp_timings) { unlink(tmp_timings); free(tmp_timings); }
    if (tmp_subs) { unlink(tmp_subs); free(tmp_subs); }
    timings_free(&tm);
    eg_lexicon_free(lex);
    eg_wav_abort(o.wav);
    eg_ctx_destroy(ctx);
    eg_model_free(model);
    eg_phonemizer_destroy(ph);
    free(text);
    free(words);
    if (rc == 0 && !dry_run && !strcmp(out_path, "-") && (fflush(stdout) != 0 || ferror(stdout))) {
        eg_cli_error("write to standard output failed: %s", strerror(errno));
        rc = 1;
    }
    return rc;

usage_err:   /* the line above said what is wrong; --help is named in the unknown-option line */
    free(words);
    return 2;
}

const struct eg_cli_cmd eg_cli_tts = {
    .name = "tts",
    .summary = "text → speech (WAV), streamed as it is generated",
    .run = run,
};
