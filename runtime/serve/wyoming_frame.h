/* runtime/serve/wyoming_frame.h — the Wyoming protocol's framing, as a pure function over a buffer.
 *
 * A Wyoming event on the wire (the `wyoming` PyPI package, wyoming/event.py, version 1.10):
 *   one JSON object on a line ending in "\n": {"type": "...", "data": {...}?, "data_length": N?, "payload_length": M?,
 *                                             "version": "..."?}
 *   then N bytes of UTF-8 JSON (an object merged over "data"), then M bytes of binary payload (audio).
 * Every length is bounded by struct wy_limits, so a header line that never ends or a length that lies (too big, not
 * an integer, data that is not a JSON object) is refused at once with one line saying why, never buffered without
 * bound. No I/O, no globals: tests/fuzz_wyoming.c runs it under libFuzzer.
 */
#ifndef EG_SERVE_WYOMING_FRAME_H
#define EG_SERVE_WYOMING_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

struct wy_limits {
    size_t max_line;      /* header line, newline included */
    size_t max_data;      /* data_length */
    size_t max_payload;   /* payload_length */
};
#define WY_DEFAULT_LIMITS { 8192, 65536, 65536 }

enum wy_parse {
    WY_PARSE_OK = 0,      /* one whole event: *event set (caller frees it with cJSON_Delete), *used = its bytes */
    WY_PARSE_MORE = 1,    /* the buffer holds the start of an event only: read more (nothing to free) */
    WY_PARSE_ERROR = -1,  /* refuse the stream: why holds one line; the connection cannot be resynchronised */
};

/* Parse the event at the start of buf[0..n). On OK: *event is a cJSON object {"type": string, "data": object}
 * (data_length's bytes merged over the header's "data"), *payload / *payload_len point into buf (NULL / 0 when
 * there is none), *used is the event's size in bytes. */
enum wy_parse wy_parse_event(const uint8_t *buf, size_t n, const struct wy_limits *lim, struct cJSON **event,
                             const uint8_t **payload, size_t *payload_len, size_t *used, char *why, size_t why_len);

/* Serialise an event into out (cap bytes): header line + data JSON + payload. Returns the size, or 0 when it does
 * not fit or data cannot be printed. data may be NULL (no data), payload_len may be 0. */
size_t wy_write_event(const char *type, const struct cJSON *data, const void *payload, size_t payload_len,
                      uint8_t *out, size_t cap);

#define WY_PROTOCOL_VERSION "1.10.2"   /* the wyoming package version whose framing this follows */

#endif
