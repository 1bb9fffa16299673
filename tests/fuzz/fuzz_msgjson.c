/*
 * fuzz_msgjson.c - libFuzzer target: any bytes as an archived message's properties, through
 * the typed JSON decoder, and as base64.
 *
 * Debian's jansson is not instrumented, so the coverage that guides this run is our own
 * decoding. Whatever decodes must survive the trip back exactly: encoded, written as text,
 * read and decoded again, it is equal (typed, bit for bit) to what was decoded first. Any
 * base64 that decodes is canonical: encoding the bytes again gives the input back.
 */
#include "msgjson.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *through_text(json_t *j)
{
    char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_t *back;

    if (!text)
        abort();
    back = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!back)
        abort();
    free(text);
    json_decref(j);
    return back;
}

static void check_props(const json_t *j, amqp_pool_t *pool)
{
    amqp_basic_properties_t p, q;
    struct rmqt_error err;
    json_t *again;

    if (rmqt_props_from_json(j, pool, &p, &err) != 0)
        return;
    again = through_text(rmqt_props_to_json(&p));
    if (rmqt_props_from_json(again, pool, &q, &err) != 0 || !rmqt_props_equal(&p, &q))
        abort();
    json_decref(again);
}

static void check_value(const json_t *j, amqp_pool_t *pool)
{
    amqp_field_value_t v, w;
    struct rmqt_error err;
    json_t *again;

    if (rmqt_value_from_json(j, pool, &v, &err) != 0)
        return;
    again = through_text(rmqt_value_to_json(&v));
    if (rmqt_value_from_json(again, pool, &w, &err) != 0 || !rmqt_value_equal(&v, &w))
        abort();
    json_decref(again);
}

static void check_base64(const uint8_t *data, size_t size)
{
    unsigned char *raw;
    size_t len;
    char *s;

    if (rmqt_base64_decode((const char *)data, size, &raw, &len) != 0)
        return;
    s = rmqt_base64_encode(raw, len);
    if (strlen(s) != size || memcmp(s, data, size) != 0)
        abort();
    free(s);
    free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    amqp_pool_t pool;
    json_t *j;

    check_base64(data, size);
    j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j)
        return 0;
    init_amqp_pool(&pool, 4096);
    check_props(j, &pool);
    check_value(j, &pool);
    empty_amqp_pool(&pool);
    json_decref(j);
    return 0;
}
