/* tests/fuzz_wyoming.c — libFuzzer target for the Wyoming framing parser (runtime/serve/wyoming_frame.c). The input
 * is a byte stream as a client would send it; it is parsed event by event like the connection loop does, and each
 * event must satisfy the parser's promises (traps otherwise):
 *   - OK: used <= n, the payload lies inside the event, the event is {"type": non-empty string, "data": object};
 *     every shorter prefix of the event parses as MORE (the parser never acts on half an event); serialising the
 *     event again (wy_write_event) and parsing that gives the same type, data and payload
 *   - MORE: only when no newline is within the line limit, or the lengths promise more bytes than there are
 *   - ERROR: a one-line reason
 * Bounded: every buffer is the input's size; nothing is read beyond it (ASan).
 *   make fuzz-wyoming FUZZ_SECONDS=60    (corpus tests/fuzz/corpus_wyoming) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "runtime/serve/wyoming_frame.h"

#define TRAP(c) do { if (!(c)) { fprintf(stderr, "fuzz_wyoming.c:%d: broken: %s\n", __LINE__, #c); abort(); } } while (0)

static int same_json(const cJSON *a, const cJSON *b) {
    char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
    int eq = x && y && !strcmp(x, y);
    cJSON_free(x);
    cJSON_free(y);
    return eq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const struct wy_limits lim = { 512, 2048, 2048 };   /* small limits: the fuzzer reaches them */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    size_t off = 0;
    for (int guard = 0; guard < 64 && off <= size; guard++) {
        cJSON *ev = NULL;
        const uint8_t *payload;
        size_t plen, used;
        char why[256];
        enum wy_parse r = wy_parse_event(buf + off, size - off, &lim, &ev, &payload, &plen, &used, why, sizeof why);
        if (r == WY_PARSE_ERROR) { TRAP(!ev && why[0] && !strchr(why, '\n')); break; }
        if (r == WY_PARSE_MORE) { TRAP(!ev && used == 0); break; }
        TRAP(r == WY_PARSE_OK && ev && used >= 2 && used <= size - off);
        TRAP(!plen || (payload >= buf + off && payload + plen == buf + off + used));
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type"), *d = cJSON_GetObjectItemCaseSensitive(ev, "data");
        TRAP(cJSON_IsString(type) && type->valuestring[0] && cJSON_IsObject(d));
        /* a prefix of the event is never an event */
        for (size_t cut = used > 64 ? used - 64 : 0; cut < used; cut++) {
            cJSON *e2 = NULL;
            const uint8_t *p2;
            size_t l2, u2;
            enum wy_parse r2 = wy_parse_event(buf + off, cut, &lim, &e2, &p2, &l2, &u2, NULL, 0);
            TRAP(r2 == WY_PARSE_MORE && !e2);
        }
        /* round trip through the writer (larger limits: numbers may print longer than they were written) */
        const size_t cap = 3 * used + 4096;
        uint8_t *out = malloc(cap);
        if (out) {
            size_t n = wy_write_event(type->valuestring, d, payload, plen, out, cap);
            const struct wy_limits big = { 1 << 20, 1 << 20, 1 << 20 };
            if (n) {
                cJSON *e3 = NULL;
                const uint8_t *p3;
                size_t l3, u3;
                TRAP(wy_parse_event(out, n, &big, &e3, &p3, &l3, &u3, NULL, 0) == WY_PARSE_OK && u3 == n);
                TRAP(same_json(ev, e3) && l3 == plen && (!plen || !memcmp(p3, payload, plen)));
                cJSON_Delete(e3);
            }
            free(out);
        }
        cJSON_Delete(ev);
        off += used;
    }
    free(buf);
    return 0;
}
