/*
 * fuzz_serve.c - libFuzzer target: the dashboard's (dlq serve) pure input handling, what a
 * request or the command line hands it before anything reaches the broker:
 * - the whole input as a %-encoded path segment (serve_decode_segment): NULL exactly when it
 *   holds a malformed escape or decodes to a NUL, else the decoding (no NUL, no longer than
 *   the input), checked against a decoder written here;
 * - the input split at its newlines: the first part as a --listen value (serve_parse_listen,
 *   with a host buffer of a size taken from the input) and its host, and the part itself, as
 *   a host name (serve_is_loopback, which ignores case); the first two parts as tokens
 *   (serve_token_equal is strcmp() == 0);
 * - the whole input as a JSON body (json_loadb, as the API reads one) given to
 *   serve_filter_from_json (the message ids it allocates freed as api.c does) and
 *   serve_opt_string: what they take is what the body holds.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "replay.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void check_segment(const uint8_t *s, size_t len)
{
    char *got = serve_decode_segment((const char *)s, len);
    char *want = malloc(len + 1);
    size_t i, n = 0;
    bool ok = true;

    if (!want)
        abort();
    for (i = 0; i < len && ok; i++) {
        int c = s[i];
        if (c == '%') {
            if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
                ok = false;
                break;
            }
            c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (c == 0)
            ok = false;
        want[n++] = (char)c;
    }
    if (!ok ? got != NULL : !got || strlen(got) != n || n > len || memcmp(got, want, n) != 0)
        abort();
    free(got);
    free(want);
}

static void check_loopback(const char *host)
{
    size_t n = strlen(host), i;
    char *up = malloc(n + 1);
    bool lb = serve_is_loopback(host);

    if (!up)
        abort();
    for (i = 0; i <= n; i++)
        up[i] = (char)toupper((unsigned char)host[i]);
    if (serve_is_loopback(up) != lb)
        abort();
    free(up);
}

static void check_listen(const char *s, size_t cap)
{
    char *host = malloc(cap); /* exactly cap bytes: a write past them is ASan's to see */
    unsigned port = 99999;
    const char *colon;
    size_t hl, k;

    if (!host)
        abort();
    if (serve_parse_listen(s, host, cap, &port) == 0) {
        /* "HOST:PORT" or "[HOST]:PORT": a host that fits, a port of decimal digits */
        hl = strlen(host);
        colon = strrchr(s, ':');
        if (hl == 0 || hl >= cap || port > 65535 || !colon || !colon[1])
            abort();
        for (k = 1; colon[k]; k++)
            if (!isdigit((unsigned char)colon[k]))
                abort();
        if (s[0] == '['
                ? (size_t)(colon - s) != hl + 2 || memcmp(s + 1, host, hl) != 0 || s[hl + 1] != ']'
                : (size_t)(colon - s) != hl || memcmp(s, host, hl) != 0 || strchr(host, ':'))
            abort();
        if ((unsigned)strtoul(colon + 1, NULL, 10) != port)
            abort();
        check_loopback(host);
    }
    free(host);
}

static void check_body(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"reason", "from_queue", "search", "older_than", "file"};
    json_t *body = json_loadb((const char *)data, size, 0, NULL);
    struct replay_filter f;
    char why[200];
    size_t k;

    if (!body)
        return;
    for (k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
        const char *s = (const char *)1;
        json_t *v = json_object_get(body, keys[k]);
        /* absent or null: NULL; a non-empty string without a NUL: it; anything else refused */
        bool absent = !v || json_is_null(v),
             fine = json_is_string(v) && json_string_length(v) > 0 &&
                    strlen(json_string_value(v)) == json_string_length(v);
        why[0] = '\0';
        if (serve_opt_string(body, keys[k], &s, why, sizeof(why)) == 0) {
            if (absent ? s != NULL : !fine || s != json_string_value(v))
                abort();
        } else if (absent || fine || s != NULL || !why[0]) {
            abort();
        }
    }
    memset(&f, 0, sizeof(f));
    why[0] = '\0';
    if (serve_filter_from_json(body, &f, why, sizeof(why)) == 0) {
        const json_t *ids = json_object_get(body, "message_ids");
        if (f.has_older_than && !(f.older_than_s >= 0))
            abort();
        if (f.n_message_ids != (ids && !json_is_null(ids) ? json_array_size(ids) : 0) ||
            (f.n_message_ids == 0) != (f.message_ids == NULL))
            abort();
        for (k = 0; k < f.n_message_ids; k++)
            if (f.message_ids[k] != json_string_value(json_array_get(ids, k)))
                abort();
        free((void *)f.message_ids); /* the list is allocated, its strings are the body's */
    } else if (!why[0] || f.message_ids) {
        abort();
    }
    json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *parts[2] = {NULL, NULL};
    const uint8_t *p = data, *end = data + size, *nl;
    size_t i, cap;

    check_segment(data, size);
    /* the first two newline-separated parts, as C strings (a NUL ends one early) */
    for (i = 0; i < 2; i++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        parts[i] = strndup((const char *)p, (size_t)(nl - p));
        if (!parts[i])
            abort();
        check_segment(p, (size_t)(nl - p));
        p = nl < end ? nl + 1 : end;
    }
    cap = size ? 1 + data[size - 1] % 64 : 256;
    check_listen(parts[0], cap);
    check_listen(parts[0], 256);
    check_loopback(parts[0]);
    if (serve_token_equal(parts[0], parts[1]) != (strcmp(parts[0], parts[1]) == 0) ||
        serve_token_equal(parts[1], parts[0]) != (strcmp(parts[0], parts[1]) == 0) ||
        !serve_token_equal(parts[0], parts[0]))
        abort();
    free(parts[0]);
    free(parts[1]);
    check_body(data, size);
    return 0;
}
