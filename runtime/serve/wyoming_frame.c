/* runtime/serve/wyoming_frame.c — Wyoming event framing (see wyoming_frame.h). Pure: no I/O, no globals. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "runtime/serve/wyoming_frame.h"

#define WHY(...) do { if (why && why_len) snprintf(why, why_len, __VA_ARGS__); } while (0)

/* A length field: absent or null → 0; else a non-negative integer no larger than max. */
static int get_length(const cJSON *hdr, const char *key, size_t max, size_t *out, char *why, size_t why_len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(hdr, key);
    *out = 0;
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble != floor(v->valuedouble)) {
        WHY("%s: expected a non-negative integer", key);
        return 0;
    }
    if (v->valuedouble > (double)max) {
        WHY("%s: %.0f bytes is over the limit of %zu", key, v->valuedouble, max);
        return 0;
    }
    *out = (size_t)v->valuedouble;
    return 1;
}

/* Move every member of `from` into `into`; a key already there is replaced (Python's dict.update(): the last of
 * duplicate keys wins, as json.loads() keeps it). */
static void merge(cJSON *into, cJSON *from) {
    for (cJSON *it = from->child; it;) {
        cJSON *next = it->next;
        cJSON_DetachItemViaPointer(from, it);
        cJSON_DeleteItemFromObjectCaseSensitive(into, it->string);
        cJSON_AddItemToObject(into, it->string, it);   /* copies the key, then frees the item's own copy */
        it = next;
    }
}

enum wy_parse wy_parse_event(const uint8_t *buf, size_t n, const struct wy_limits *lim, cJSON **event,
                             const uint8_t **payload, size_t *payload_len, size_t *used, char *why, size_t why_len) {
    *event = NULL;
    *payload = NULL;
    *payload_len = 0;
    *used = 0;
    if (why && why_len) why[0] = 0;
    const uint8_t *nl = memchr(buf, '\n', n < lim->max_line ? n : lim->max_line);
    if (!nl) {
        if (n >= lim->max_line) { WHY("header line longer than %zu bytes without a newline", lim->max_line); return WY_PARSE_ERROR; }
        return WY_PARSE_MORE;
    }
    const size_t line = (size_t)(nl - buf);
    const char *end = NULL;
    cJSON *hdr = cJSON_ParseWithLengthOpts((const char *)buf, line, &end, 0);
    if (!hdr) {
        WHY("header line is not JSON (at byte %ld)", end ? (long)(end - (const char *)buf) : 0L);
        return WY_PARSE_ERROR;
    }
    for (const char *c = end; c && c < (const char *)nl; c++)   /* only whitespace may follow the object */
        if (!(*c == ' ' || *c == '\t' || *c == '\r')) { WHY("header line has bytes after its JSON object"); goto bad; }
    if (!cJSON_IsObject(hdr)) { WHY("header line is not a JSON object"); goto bad; }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(hdr, "type");
    if (!cJSON_IsString(type) || !type->valuestring[0]) { WHY("header: \"type\" missing or not a non-empty string"); goto bad; }
    cJSON *data = cJSON_GetObjectItemCaseSensitive(hdr, "data");
    if (data && !cJSON_IsObject(data) && !cJSON_IsNull(data)) { WHY("header: \"data\" is not an object"); goto bad; }
    size_t dlen, plen;
    if (!get_length(hdr, "data_length", lim->max_data, &dlen, why, why_len)) goto bad;
    if (!get_length(hdr, "payload_length", lim->max_payload, &plen, why, why_len)) goto bad;
    const size_t total = line + 1 + dlen + plen;
    if (n < total) { cJSON_Delete(hdr); return WY_PARSE_MORE; }

    /* the event: {"type": ..., "data": header data with data_length's object merged over it} */
    cJSON *ev = cJSON_CreateObject();
    cJSON *merged = cJSON_CreateObject();
    if (!ev || !merged || !cJSON_AddStringToObject(ev, "type", type->valuestring)) {
        cJSON_Delete(ev); cJSON_Delete(merged); WHY("out of memory"); goto bad;
    }
    cJSON_AddItemToObject(ev, "data", merged);
    if (data && cJSON_IsObject(data)) merge(merged, data);
    if (dlen) {
        const char *dend = NULL;
        const char *dp = (const char *)buf + line + 1;
        cJSON *extra = cJSON_ParseWithLengthOpts(dp, dlen, &dend, 0);
        int ok = extra && cJSON_IsObject(extra);
        for (const char *c = dend; ok && c && c < dp + dlen; c++)
            if (!(*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')) ok = 0;
        if (!ok) {
            cJSON_Delete(extra); cJSON_Delete(ev);
            WHY("data (%zu bytes after the header) is not one JSON object", dlen);
            goto bad;
        }
        merge(merged, extra);
        cJSON_Delete(extra);
    }
    cJSON_Delete(hdr);
    if (plen) { *payload = buf + line + 1 + dlen; *payload_len = plen; }
    *event = ev;
    *used = total;
    return WY_PARSE_OK;
bad:
    cJSON_Delete(hdr);
    return WY_PARSE_ERROR;
}

size_t wy_write_event(const char *type, const cJSON *data, const void *payload, size_t payload_len,
                      uint8_t *out, size_t cap) {
    char *djson = NULL;
    size_t dlen = 0;
    if (data && data->child) {
        if (!(djson = cJSON_PrintUnformatted(data))) return 0;
        dlen = strlen(djson);
    }
    cJSON *hdr = cJSON_CreateObject();
    char *hjson = NULL;
    if (hdr && cJSON_AddStringToObject(hdr, "type", type) && cJSON_AddStringToObject(hdr, "version", WY_PROTOCOL_VERSION) &&
        (!dlen || cJSON_AddNumberToObject(hdr, "data_length", (double)dlen)) &&
        (!payload_len || cJSON_AddNumberToObject(hdr, "payload_length", (double)payload_len)))
        hjson = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    size_t total = 0;
    if (hjson) {
        const size_t hlen = strlen(hjson);
        if (hlen + 1 + dlen + payload_len <= cap) {
            memcpy(out, hjson, hlen);
            out[hlen] = '\n';
            if (dlen) memcpy(out + hlen + 1, djson, dlen);
            if (payload_len) memcpy(out + hlen + 1 + dlen, payload, payload_len);
            total = hlen + 1 + dlen + payload_len;
        }
    }
    cJSON_free(hjson);
    cJSON_free(djson);
    return total;
}
