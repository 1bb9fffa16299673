/*
 * test_msgjson.c - AMQP properties, tables and values as typed JSON (the archive format of
 * dlq.md): every kind survives a trip through JSON text bit for bit, and malformed JSON is
 * refused with a message naming the bad element.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgjson.h"

/* ---- fixture: a pool for what decoding allocates, emptied even when a test fails ---- */

static int pool_setup(void **state)
{
    amqp_pool_t *pool = test_malloc(sizeof(*pool));

    if (!pool)
        return -1;
    init_amqp_pool(pool, 4096);
    *state = pool;
    return 0;
}

static int pool_teardown(void **state)
{
    empty_amqp_pool(*state);
    test_free(*state);
    return 0;
}

#define POOL_TEST(name) cmocka_unit_test_setup_teardown(name, pool_setup, pool_teardown)

/* ---- building values ---- */

static amqp_field_value_t mk(uint8_t kind)
{
    amqp_field_value_t v;

    memset(&v, 0, sizeof(v));
    v.kind = kind;
    return v;
}

static amqp_field_value_t mk_bytes(uint8_t kind, const void *data, size_t len)
{
    amqp_field_value_t v = mk(kind);

    v.value.bytes.bytes = (void *)data;
    v.value.bytes.len = len;
    return v;
}

static amqp_field_value_t mk_f64_bits(uint64_t bits)
{
    amqp_field_value_t v = mk(AMQP_FIELD_KIND_F64);

    memcpy(&v.value.f64, &bits, sizeof(bits));
    return v;
}

static amqp_field_value_t mk_f32_bits(uint32_t bits)
{
    amqp_field_value_t v = mk(AMQP_FIELD_KIND_F32);

    memcpy(&v.value.f32, &bits, sizeof(bits));
    return v;
}

static amqp_table_entry_t entry(const char *key, amqp_field_value_t v)
{
    amqp_table_entry_t e;

    e.key = amqp_cstring_bytes(key);
    e.value = v;
    return e;
}

static amqp_table_entry_t entry_bytes(const void *key, size_t len, amqp_field_value_t v)
{
    amqp_table_entry_t e;

    e.key.bytes = (void *)key;
    e.key.len = len;
    e.value = v;
    return e;
}

/* ---- through text ---- */

static char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));

    assert_non_null(s);
    return s;
}

/* j written as JSON text and read back; takes j's reference, returns a new one. */
static json_t *through_text(json_t *j)
{
    json_error_t je;
    char *s = dump(j);
    json_t *r = json_loads(s, JSON_DECODE_ANY, &je);

    if (!r)
        fail_msg("json_loads of '%s': %s", s, je.text);
    free(s);
    json_decref(j);
    return r;
}

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

    if (!j)
        fail_msg("test JSON '%s' does not parse: %s", text, je.text);
    return j;
}

/* v encoded, through text, decoded again: the same kind and value, bit for bit. */
static void assert_value_roundtrip_(amqp_pool_t *pool, const amqp_field_value_t *v,
                                    const char *file, int line)
{
    json_t *j = through_text(rmqt_value_to_json(v));
    amqp_field_value_t out;
    struct rmqt_error err;
    int rc = rmqt_value_from_json(j, pool, &out, &err);
    char *s = dump(j);

    json_decref(j);
    if (rc != 0 || !rmqt_value_equal(v, &out)) {
        print_error("round trip of %s: %s\n", s, rc ? err.message : "decoded to another value");
        free(s);
        _fail(file, line);
    }
    free(s);
}

#define assert_value_roundtrip(pool, v) assert_value_roundtrip_((pool), (v), __FILE__, __LINE__)

/* The JSON text of v's encoding (caller frees). */
static char *encode_text(const amqp_field_value_t *v)
{
    json_t *j = rmqt_value_to_json(v);
    char *s = dump(j);

    json_decref(j);
    return s;
}

enum target { VALUE, TABLE, PROPS };

/* Decoding text as target fails with exactly message, and leaves the output empty. */
static void expect_error_(amqp_pool_t *pool, enum target t, const char *text, const char *message,
                          const char *file, int line)
{
    json_t *j = parse(text);
    struct rmqt_error err;
    amqp_field_value_t v;
    amqp_table_t tab;
    amqp_basic_properties_t p;
    bool empty;
    int rc;

    rmqt_error_init(&err);
    if (t == VALUE) {
        rc = rmqt_value_from_json(j, pool, &v, &err);
        empty = v.kind == AMQP_FIELD_KIND_VOID;
    } else if (t == TABLE) {
        rc = rmqt_table_from_json(j, pool, &tab, &err);
        empty = tab.num_entries == 0;
    } else {
        rc = rmqt_props_from_json(j, pool, &p, &err);
        empty = p._flags == 0;
    }
    json_decref(j);
    if (rc != -1 || strcmp(err.message, message) != 0 || !empty) {
        print_error("decoding %s\n  expected -1 and '%s'\n  got %d and '%s'%s\n", text, message, rc,
                    err.message, empty ? "" : " (output not empty)");
        _fail(file, line);
    }
}

#define expect_error(pool, t, text, message)                                                       \
    expect_error_((pool), (t), (text), (message), __FILE__, __LINE__)

static void decode_props_ok(amqp_pool_t *pool, const char *text, amqp_basic_properties_t *p)
{
    json_t *j = parse(text);
    struct rmqt_error err;
    int rc = rmqt_props_from_json(j, pool, p, &err);

    json_decref(j);
    if (rc != 0)
        fail_msg("decoding %s: %s", text, err.message);
}

/* ---- base64 ---- */

static void test_base64_encodes_the_rfc4648_vectors(void **state)
{
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        char *s = rmqt_base64_encode(vec[i][0], strlen(vec[i][0]));
        assert_string_equal(s, vec[i][1]);
        free(s);
    }
}

static void test_base64_decodes_the_rfc4648_vectors(void **state)
{
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    size_t i, n;
    unsigned char *out;
    (void)state;

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        assert_int_equal(rmqt_base64_decode(vec[i][1], strlen(vec[i][1]), &out, &n), 0);
        assert_non_null(out);
        assert_int_equal(n, strlen(vec[i][0]));
        if (n)
            assert_memory_equal(out, vec[i][0], n);
        free(out);
    }
}

static void test_base64_of_every_byte_value_decodes_back(void **state)
{
    unsigned char all[256], *out;
    size_t i, n;
    char *s;
    (void)state;

    for (i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    s = rmqt_base64_encode(all, sizeof(all));
    assert_int_equal(strlen(s), 344);
    assert_int_equal(rmqt_base64_decode(s, strlen(s), &out, &n), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(out, all, 256);
    free(out);
    free(s);
}

static void test_base64_decode_refuses_malformed_input(void **state)
{
    static const char *const bad[] = {
        "Zg",       /* not padded to a multiple of 4 */
        "Zg=",      /* short padding */
        "Z===",     /* three pad characters */
        "====",     /* padding only */
        "Zm9v!A==", /* a character outside the alphabet */
        "Zg==Zg==", /* padding in the middle */
        "Zh==",     /* unused bits set: not the canonical form of "f" */
        "Zm9=",     /* unused bits set with one pad character */
        " Zg=",     /* whitespace */
        "Zm9vYg=a", /* pad then a character */
        "Zm-_",     /* the URL-safe alphabet */
    };
    unsigned char *out = (unsigned char *)"x";
    size_t i, n = 7;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (rmqt_base64_decode(bad[i], strlen(bad[i]), &out, &n) != -1)
            fail_msg("'%s' decoded", bad[i]);
        assert_null(out);
        assert_int_equal(n, 0);
    }
    /* a NUL inside the counted length is a bad character, not an end */
    assert_int_equal(rmqt_base64_decode("Zg\0=", 4, &out, &n), -1);
}

static void test_base64_decode_of_empty_input_gives_a_buffer(void **state)
{
    unsigned char *out = NULL;
    size_t n = 99;
    (void)state;

    assert_int_equal(rmqt_base64_decode("", 0, &out, &n), 0);
    assert_non_null(out);
    assert_int_equal(n, 0);
    free(out);
}

/* ---- round trips of every kind ---- */

static void test_msgjson_roundtrips_integer_kinds_at_their_limits(void **state)
{
    amqp_field_value_t v;

    v = mk(AMQP_FIELD_KIND_I8);
    v.value.i8 = INT8_MIN;
    assert_value_roundtrip(*state, &v);
    v.value.i8 = INT8_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_U8);
    v.value.u8 = UINT8_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_I16);
    v.value.i16 = INT16_MIN;
    assert_value_roundtrip(*state, &v);
    v.value.i16 = INT16_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_U16);
    v.value.u16 = UINT16_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_I32);
    v.value.i32 = INT32_MIN;
    assert_value_roundtrip(*state, &v);
    v.value.i32 = INT32_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_U32);
    v.value.u32 = UINT32_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_I64);
    v.value.i64 = INT64_MIN;
    assert_value_roundtrip(*state, &v);
    v.value.i64 = INT64_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_U64);
    v.value.u64 = 0;
    assert_value_roundtrip(*state, &v);
    v.value.u64 = (uint64_t)INT64_MAX + 1;
    assert_value_roundtrip(*state, &v);
    v.value.u64 = UINT64_MAX;
    assert_value_roundtrip(*state, &v);
}

static void test_msgjson_minimums_of_unsigned_kinds_are_zero(void **state)
{
    amqp_field_value_t v;
    char *s;

    v = mk(AMQP_FIELD_KIND_U8);
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_U16);
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_U32);
    assert_value_roundtrip(*state, &v);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"u32\",\"value\":0}");
    free(s);
}

static void test_msgjson_writes_u64_above_int64_max_as_a_decimal_string(void **state)
{
    amqp_field_value_t v = mk(AMQP_FIELD_KIND_U64);
    char *s;
    (void)state;

    v.value.u64 = UINT64_MAX;
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"u64\",\"value\":\"18446744073709551615\"}");
    free(s);
    v.value.u64 = INT64_MAX;
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"u64\",\"value\":9223372036854775807}");
    free(s);
}

static void test_msgjson_reads_u64_as_integer_or_decimal_string(void **state)
{
    amqp_field_value_t v;
    struct rmqt_error err;
    json_t *j = parse("[{\"type\":\"u64\",\"value\":\"42\"},{\"type\":\"u64\",\"value\":42}]");

    assert_int_equal(rmqt_value_from_json(json_array_get(j, 0), *state, &v, &err), 0);
    assert_int_equal(v.kind, AMQP_FIELD_KIND_U64);
    assert_true(v.value.u64 == 42);
    assert_int_equal(rmqt_value_from_json(json_array_get(j, 1), *state, &v, &err), 0);
    assert_true(v.value.u64 == 42);
    json_decref(j);
}

static void test_msgjson_roundtrips_f64_special_values_bit_exact(void **state)
{
    static const uint64_t bits[] = {
        0x7ff8000000000000u, /* the default quiet NaN */
        0xfff8000000000000u, /* the NaN x86 makes of 0/0: sign bit set */
        0x7ff0000000000001u, /* a signalling NaN */
        0x7ff4000000abcdefu, /* a NaN with a payload */
        0x7ff0000000000000u, /* +inf */
        0xfff0000000000000u, /* -inf */
        0x8000000000000000u, /* -0.0 */
        0x0000000000000000u, /* +0.0 */
        0x0000000000000001u, /* the smallest denormal */
        0x000fffffffffffffu, /* the largest denormal */
        0x0010000000000000u, /* DBL_MIN */
        0x7fefffffffffffffu, /* DBL_MAX */
        0x3fb999999999999au, /* 0.1 */
        0xbff0000000000001u, /* -1 - ulp */
    };
    size_t i;

    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        amqp_field_value_t v = mk_f64_bits(bits[i]);
        assert_value_roundtrip(*state, &v);
    }
}

static void test_msgjson_roundtrips_f32_special_values_bit_exact(void **state)
{
    static const uint32_t bits[] = {
        0x7fc00000u, /* the default quiet NaN */
        0xffc00000u, /* negative NaN */
        0x7f800001u, /* a signalling NaN */
        0x7fa5a5a5u, /* a NaN with a payload */
        0x7f800000u, /* +inf */
        0xff800000u, /* -inf */
        0x80000000u, /* -0.0 */
        0x00000001u, /* the smallest denormal */
        0x007fffffu, /* the largest denormal */
        0x00800000u, /* FLT_MIN */
        0x7f7fffffu, /* FLT_MAX */
        0xff7fffffu, /* -FLT_MAX */
        0x3dcccccdu, /* 0.1f */
    };
    size_t i;

    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        amqp_field_value_t v = mk_f32_bits(bits[i]);
        assert_value_roundtrip(*state, &v);
    }
}

static void test_msgjson_writes_special_floats_as_strings(void **state)
{
    amqp_field_value_t v;
    char *s;
    (void)state;

    v = mk_f64_bits(0x7ff8000000000000u);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"f64\",\"value\":\"NaN\"}");
    free(s);
    v = mk_f64_bits(0xfff8000000000000u);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"f64\",\"value\":\"NaN\",\"bits\":\"fff8000000000000\"}");
    free(s);
    v = mk_f32_bits(0xff800000u);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"f32\",\"value\":\"-Infinity\"}");
    free(s);
    v = mk_f64_bits(0x8000000000000000u);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"f64\",\"value\":-0.0}");
    free(s);
}

static void test_msgjson_accepts_an_integer_for_a_float(void **state)
{
    amqp_field_value_t v;
    struct rmqt_error err;
    json_t *j = parse("[{\"type\":\"f64\",\"value\":3},{\"type\":\"f32\",\"value\":-7}]");

    assert_int_equal(rmqt_value_from_json(json_array_get(j, 0), *state, &v, &err), 0);
    assert_int_equal(v.kind, AMQP_FIELD_KIND_F64);
    assert_true(v.value.f64 == 3.0);
    assert_int_equal(rmqt_value_from_json(json_array_get(j, 1), *state, &v, &err), 0);
    assert_int_equal(v.kind, AMQP_FIELD_KIND_F32);
    assert_true(v.value.f32 == -7.0f);
    json_decref(j);
}

static void test_msgjson_roundtrips_bool_decimal_timestamp_and_void(void **state)
{
    amqp_field_value_t v;
    char *s;

    v = mk(AMQP_FIELD_KIND_BOOLEAN);
    v.value.boolean = 1;
    assert_value_roundtrip(*state, &v);
    v.value.boolean = 0;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_DECIMAL);
    v.value.decimal.decimals = 255;
    v.value.decimal.value = UINT32_MAX;
    assert_value_roundtrip(*state, &v);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"decimal\",\"decimals\":255,\"value\":4294967295}");
    free(s);
    v = mk(AMQP_FIELD_KIND_TIMESTAMP);
    v.value.u64 = 1700000000;
    assert_value_roundtrip(*state, &v);
    v.value.u64 = UINT64_MAX;
    assert_value_roundtrip(*state, &v);
    v = mk(AMQP_FIELD_KIND_VOID);
    assert_value_roundtrip(*state, &v);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"void\"}");
    free(s);
}

static void test_msgjson_writes_utf8_strings_as_text(void **state)
{
    const char *text = "caf\xc3\xa9 \xf0\x9f\x90\x87";
    amqp_field_value_t v = mk_bytes(AMQP_FIELD_KIND_UTF8, text, strlen(text));
    char *s = encode_text(&v);

    assert_string_equal(s, "{\"type\":\"string\",\"value\":\"caf\xc3\xa9 \xf0\x9f\x90\x87\"}");
    free(s);
    assert_value_roundtrip(*state, &v);
    v = mk_bytes(AMQP_FIELD_KIND_UTF8, NULL, 0);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"string\",\"value\":\"\"}");
    free(s);
    assert_value_roundtrip(*state, &v);
}

static void test_msgjson_writes_binary_strings_as_base64(void **state)
{
    static const char *const bins[] = {
        "a\0b",         /* a NUL */
        "\xff\xfe",     /* not UTF-8 */
        "\xc0\x80",     /* an overlong NUL */
        "\xed\xa0\x80", /* a surrogate */
        "\xe2\x82",     /* a cut sequence */
    };
    static const size_t lens[] = {3, 2, 2, 3, 2};
    size_t i;

    for (i = 0; i < 5; i++) {
        amqp_field_value_t v = mk_bytes(AMQP_FIELD_KIND_UTF8, bins[i], lens[i]);
        char *s = encode_text(&v);
        if (!strstr(s, "\"base64\":") || strstr(s, "\"value\""))
            fail_msg("string %zu encoded as %s", i, s);
        free(s);
        assert_value_roundtrip(*state, &v);
    }
}

static void test_msgjson_roundtrips_bytes_with_every_byte_value(void **state)
{
    unsigned char all[256];
    amqp_field_value_t v;
    size_t i;
    char *s;

    for (i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    v = mk_bytes(AMQP_FIELD_KIND_BYTES, all, sizeof(all));
    assert_value_roundtrip(*state, &v);
    /* text bytes stay base64: the kind, not the content, decides */
    v = mk_bytes(AMQP_FIELD_KIND_BYTES, "hi", 2);
    s = encode_text(&v);
    assert_string_equal(s, "{\"type\":\"bytes\",\"base64\":\"aGk=\"}");
    free(s);
    v = mk_bytes(AMQP_FIELD_KIND_BYTES, NULL, 0);
    assert_value_roundtrip(*state, &v);
}

static void test_msgjson_roundtrips_a_table_in_an_array_in_a_table(void **state)
{
    amqp_table_entry_t inner[2], outer[2];
    amqp_field_value_t items[3], v;

    inner[0] = entry("count", mk(AMQP_FIELD_KIND_I64));
    inner[0].value.value.i64 = 3;
    inner[1] = entry("reason", mk_bytes(AMQP_FIELD_KIND_UTF8, "expired", 7));
    items[0] = mk(AMQP_FIELD_KIND_TABLE);
    items[0].value.table.num_entries = 2;
    items[0].value.table.entries = inner;
    items[1] = mk(AMQP_FIELD_KIND_VOID);
    items[2] = mk(AMQP_FIELD_KIND_ARRAY); /* an empty array */
    outer[0] = entry("x-death", mk(AMQP_FIELD_KIND_ARRAY));
    outer[0].value.value.array.num_entries = 3;
    outer[0].value.value.array.entries = items;
    outer[1] = entry("empty", mk(AMQP_FIELD_KIND_TABLE));
    v = mk(AMQP_FIELD_KIND_TABLE);
    v.value.table.num_entries = 2;
    v.value.table.entries = outer;
    assert_value_roundtrip(*state, &v);
}

static void test_msgjson_keeps_the_order_of_table_keys(void **state)
{
    amqp_table_entry_t e[4];
    amqp_table_t t, out;
    struct rmqt_error err;
    json_t *j;
    char *s;
    int k;

    e[0] = entry("zulu", mk(AMQP_FIELD_KIND_VOID));
    e[1] = entry("alpha", mk(AMQP_FIELD_KIND_VOID));
    e[2] = entry("mike", mk(AMQP_FIELD_KIND_VOID));
    e[3] = entry("bravo", mk(AMQP_FIELD_KIND_VOID));
    t.num_entries = 4;
    t.entries = e;
    j = rmqt_table_to_json(&t);
    s = dump(j);
    assert_string_equal(s, "{\"zulu\":{\"type\":\"void\"},\"alpha\":{\"type\":\"void\"},"
                           "\"mike\":{\"type\":\"void\"},\"bravo\":{\"type\":\"void\"}}");
    free(s);
    j = through_text(j);
    assert_int_equal(rmqt_table_from_json(j, *state, &out, &err), 0);
    json_decref(j);
    assert_int_equal(out.num_entries, 4);
    for (k = 0; k < 4; k++)
        assert_true(out.entries[k].key.len == e[k].key.len &&
                    memcmp(out.entries[k].key.bytes, e[k].key.bytes, e[k].key.len) == 0);
}

static void test_msgjson_escapes_binary_and_prefixed_keys(void **state)
{
    amqp_table_entry_t e[4];
    amqp_table_t t, out;
    struct rmqt_error err;
    json_t *j;
    char *s;

    e[0] = entry_bytes("\xff", 1, mk(AMQP_FIELD_KIND_VOID));
    e[1] = entry("base64:Zg==", mk(AMQP_FIELD_KIND_VOID)); /* text that looks escaped */
    e[2] = entry_bytes("a\0b", 3, mk(AMQP_FIELD_KIND_VOID));
    e[3] = entry("", mk(AMQP_FIELD_KIND_VOID));
    t.num_entries = 4;
    t.entries = e;
    j = rmqt_table_to_json(&t);
    s = dump(j);
    assert_string_equal(s, "{\"base64:/w==\":{\"type\":\"void\"},"
                           "\"base64:YmFzZTY0OlpnPT0=\":{\"type\":\"void\"},"
                           "\"base64:YQBi\":{\"type\":\"void\"},\"\":{\"type\":\"void\"}}");
    free(s);
    j = through_text(j);
    assert_int_equal(rmqt_table_from_json(j, *state, &out, &err), 0);
    json_decref(j);
    assert_true(rmqt_table_equal(&t, &out));
}

static void test_msgjson_keeps_every_entry_of_a_repeated_key(void **state)
{
    amqp_table_entry_t e[3], inner[2];
    amqp_field_value_t nested;
    amqp_table_t t, out;
    struct rmqt_error err;
    json_t *j;
    char *s;

    inner[0] = entry("n", mk(AMQP_FIELD_KIND_VOID));
    inner[1] = entry("n", mk(AMQP_FIELD_KIND_BOOLEAN));
    nested = mk(AMQP_FIELD_KIND_TABLE);
    nested.value.table.num_entries = 2;
    nested.value.table.entries = inner;
    e[0] = entry("k", mk(AMQP_FIELD_KIND_I8));
    e[0].value.value.i8 = 1;
    e[1] = entry("t", nested);
    e[2] = entry("k", mk(AMQP_FIELD_KIND_I16));
    e[2].value.value.i16 = 2;
    t.num_entries = 3;
    t.entries = e;
    j = rmqt_table_to_json(&t);
    s = dump(j);
    /* pairs in the table's order, both "k" entries with their own types; the nested table
     * repeats a key too */
    assert_string_equal(s, "[[\"k\",{\"type\":\"i8\",\"value\":1}],"
                           "[\"t\",{\"type\":\"table\",\"value\":[[\"n\",{\"type\":\"void\"}],"
                           "[\"n\",{\"type\":\"bool\",\"value\":false}]]}],"
                           "[\"k\",{\"type\":\"i16\",\"value\":2}]]");
    free(s);
    j = through_text(j);
    assert_int_equal(rmqt_table_from_json(j, *state, &out, &err), 0);
    json_decref(j);
    assert_true(rmqt_table_equal(&t, &out));
    /* a table without a repeated key stays an object */
    t.num_entries = 2;
    j = rmqt_table_to_json(&t);
    assert_true(json_is_object(j));
    json_decref(j);
}

static void test_msgjson_repeated_keys_after_escaping_use_pairs(void **state)
{
    amqp_table_entry_t e[2];
    amqp_table_t t, out;
    struct rmqt_error err;
    json_t *j;
    char *s;

    e[0] = entry_bytes("a\0", 2, mk(AMQP_FIELD_KIND_VOID));
    e[1] = entry_bytes("a\0", 2, mk(AMQP_FIELD_KIND_VOID));
    t.num_entries = 2;
    t.entries = e;
    j = rmqt_table_to_json(&t);
    s = dump(j);
    assert_string_equal(s, "[[\"base64:YQA=\",{\"type\":\"void\"}],[\"base64:YQA=\",{\"type\":"
                           "\"void\"}]]");
    free(s);
    j = through_text(j);
    assert_int_equal(rmqt_table_from_json(j, *state, &out, &err), 0);
    json_decref(j);
    assert_true(rmqt_table_equal(&t, &out));
}

static void test_msgjson_refuses_pairs_that_are_not_pairs_or_need_none(void **state)
{
    expect_error(*state, TABLE, "[[\"a\",{\"type\":\"void\"}],[\"b\",{\"type\":\"void\"}]]",
                 "an array of pairs for a table in which no key repeats (write it as an object)");
    expect_error(*state, TABLE, "[]",
                 "an empty array of pairs for a table (an empty table is written {})");
    expect_error(*state, TABLE, "[[\"a\",{\"type\":\"void\"}],[\"a\"]]",
                 "[1]: expected a pair [key, typed value]");
    expect_error(*state, TABLE, "[[1,{\"type\":\"void\"}]]",
                 "[0]: expected a pair [key, typed value]");
    expect_error(*state, TABLE, "[[\"a\",{\"type\":\"void\"}],[\"a\",{\"type\":\"i8\"}]]",
                 "a: missing 'value' for type 'i8'");
}

/* A table nested `depth` levels deep (the outermost is level 1), built in *store. */
static amqp_table_t nested_tables(amqp_table_entry_t *store, int depth)
{
    amqp_table_t t;
    int k;

    for (k = depth - 1; k >= 0; k--) {
        store[k].key = amqp_cstring_bytes("a");
        if (k == depth - 1) {
            store[k].value = mk(AMQP_FIELD_KIND_I8);
        } else {
            store[k].value = mk(AMQP_FIELD_KIND_TABLE);
            store[k].value.value.table.num_entries = 1;
            store[k].value.value.table.entries = &store[k + 1];
        }
    }
    t.num_entries = 1;
    t.entries = store;
    return t;
}

static void test_msgjson_check_takes_exactly_what_the_decoder_takes(void **state)
{
    amqp_table_entry_t store[80];
    int depth;

    /* the same limit both ways: for each depth, the check passes iff the encoding decodes */
    for (depth = 1; depth <= 70; depth++) {
        amqp_table_t t = nested_tables(store, depth), out;
        struct rmqt_error e1, e2;
        json_t *j = through_text(rmqt_table_to_json(&t));
        int checked = rmqt_table_check(&t, 0, &e1);
        int decoded = rmqt_table_from_json(j, *state, &out, &e2);

        json_decref(j);
        if (checked != decoded)
            fail_msg("depth %d: check %d (%s), decode %d (%s)", depth, checked, e1.message, decoded,
                     e2.message);
        assert_int_equal(checked, depth <= RMQT_MSGJSON_MAX_DEPTH ? 0 : -1);
        if (checked == 0)
            assert_true(rmqt_table_equal(&t, &out));
        else
            assert_non_null(strstr(e1.message, "tables and arrays nested deeper than 64 levels"));
    }
}

static void test_msgjson_check_refuses_arrays_too_deep_and_unknown_kinds(void **state)
{
    amqp_field_value_t arr[70];
    amqp_table_entry_t e[2];
    amqp_table_t t;
    struct rmqt_error err;
    int k;
    (void)state;

    /* headers (level 1) -> 63 arrays: level 64, fine; one more is too deep */
    for (k = 0; k < 70; k++) {
        arr[k] = mk(AMQP_FIELD_KIND_ARRAY);
        arr[k].value.array.num_entries = 1;
        arr[k].value.array.entries = &arr[k + 1];
    }
    arr[63] = mk(AMQP_FIELD_KIND_VOID); /* arr[0..62]: levels 2..64 */
    e[0] = entry("x", arr[0]);
    t.num_entries = 1;
    t.entries = e;
    assert_int_equal(rmqt_table_check(&t, 0, &err), 0);
    arr[63] = mk(AMQP_FIELD_KIND_ARRAY); /* level 65 */
    arr[63].value.array.num_entries = 1;
    arr[63].value.array.entries = &arr[64];
    arr[64] = mk(AMQP_FIELD_KIND_VOID);
    assert_int_equal(rmqt_table_check(&t, 0, &err), -1);
    assert_int_equal(err.code, RMQT_ERR_LIMIT);
    assert_non_null(strstr(err.message, "x[0][0]"));
    e[0] = entry("odd", mk('?'));
    assert_int_equal(rmqt_table_check(&t, 0, &err), -1);
    assert_string_equal(err.message, "odd: a field value of kind '?' (63), which is not an AMQP "
                                     "0-9-1 field type this tool can write back");
}

static void test_msgjson_check_with_unique_keys_refuses_a_repeat(void **state)
{
    amqp_table_entry_t e[2];
    amqp_basic_properties_t p;
    struct rmqt_error err;
    (void)state;

    e[0] = entry("k", mk(AMQP_FIELD_KIND_VOID));
    e[1] = entry("k", mk(AMQP_FIELD_KIND_VOID));
    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_HEADERS_FLAG;
    p.headers.num_entries = 2;
    p.headers.entries = e;
    assert_int_equal(rmqt_props_check(&p, 0, &err), 0);
    assert_int_equal(rmqt_props_check(&p, RMQT_MSGJSON_UNIQUE_KEYS, &err), -1);
    assert_string_equal(err.message,
                        "headers.k: the key is the same as an earlier key of the table");
}

static void test_msgjson_ignores_unknown_members_of_a_typed_value(void **state)
{
    amqp_field_value_t v;
    struct rmqt_error err;
    json_t *j = parse("{\"note\":\"archived by hand\",\"type\":\"i8\",\"value\":-5,\"base64\":1}");

    assert_int_equal(rmqt_value_from_json(j, *state, &v, &err), 0);
    json_decref(j);
    assert_int_equal(v.kind, AMQP_FIELD_KIND_I8);
    assert_int_equal(v.value.i8, -5);
}

/* ---- properties ---- */

static amqp_bytes_t cbytes(const char *s)
{
    return amqp_cstring_bytes(s);
}

static void test_msgjson_roundtrips_all_14_properties_through_text(void **state)
{
    static const char *const names[] = {
        "content_type",   "content_encoding", "headers",    "delivery_mode", "priority",
        "correlation_id", "reply_to",         "expiration", "message_id",    "timestamp",
        "type",           "user_id",          "app_id",     "cluster_id",
    };
    amqp_table_entry_t h[2];
    amqp_basic_properties_t p, out;
    struct rmqt_error err;
    json_t *j;
    size_t i;

    h[0] = entry("x-retry", mk(AMQP_FIELD_KIND_I32));
    h[0].value.value.i32 = 3;
    h[1] = entry("x-first-death-reason", mk_bytes(AMQP_FIELD_KIND_UTF8, "rejected", 8));
    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
               AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG |
               AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG |
               AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
               AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_USER_ID_FLAG | AMQP_BASIC_APP_ID_FLAG |
               AMQP_BASIC_CLUSTER_ID_FLAG;
    p.content_type = cbytes("application/json");
    p.content_encoding = cbytes("gzip");
    p.headers.num_entries = 2;
    p.headers.entries = h;
    p.delivery_mode = 2;
    p.priority = 255;
    p.correlation_id = cbytes("c-1");
    p.reply_to = cbytes("amq.rabbitmq.reply-to");
    p.expiration = cbytes("60000");
    p.message_id = cbytes("m-\xff"); /* binary: goes as {"base64": ...} */
    p.timestamp = UINT64_MAX;
    p.type = cbytes("order.placed");
    p.user_id = cbytes("guest");
    p.app_id = cbytes("");
    p.cluster_id = cbytes("c");

    j = through_text(rmqt_props_to_json(&p));
    assert_int_equal(json_object_size(j), 14);
    for (i = 0; i < 14; i++)
        if (!json_object_get(j, names[i]))
            fail_msg("no member '%s'", names[i]);
    assert_int_equal(rmqt_props_from_json(j, *state, &out, &err), 0);
    json_decref(j);
    assert_int_equal(out._flags, p._flags);
    assert_true(rmqt_props_equal(&p, &out));
    assert_int_equal(out.priority, 255);
}

static void test_msgjson_props_without_headers_have_no_headers_member(void **state)
{
    amqp_basic_properties_t p;
    json_t *j;
    char *s;
    (void)state;

    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.delivery_mode = 2;
    p.headers.num_entries = 0;
    j = rmqt_props_to_json(&p);
    s = dump(j);
    assert_string_equal(s, "{\"delivery_mode\":2}");
    free(s);
    json_decref(j);
    /* an empty headers table that is present stays present */
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
    j = rmqt_props_to_json(&p);
    s = dump(j);
    assert_string_equal(s, "{\"headers\":{},\"delivery_mode\":2}");
    free(s);
    json_decref(j);
}

static void test_msgjson_writes_a_binary_short_string_as_a_base64_object(void **state)
{
    amqp_basic_properties_t p, out;
    json_t *j;
    char *s;

    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_CORRELATION_ID_FLAG;
    p.correlation_id.bytes = (void *)"\x01\x00\xff";
    p.correlation_id.len = 3;
    j = rmqt_props_to_json(&p);
    s = dump(j);
    assert_string_equal(s, "{\"correlation_id\":{\"base64\":\"AQD/\"}}");
    free(s);
    json_decref(j);
    /* a NUL in a JSON string (read with JSON_ALLOW_NUL) is kept as a byte */
    decode_props_ok(*state, "{\"correlation_id\":\"a\\u0000b\"}", &out);
    assert_int_equal(out.correlation_id.len, 3);
    assert_memory_equal(out.correlation_id.bytes, "a\0b", 3);
}

static void test_msgjson_sets_the_flag_of_every_property_read(void **state)
{
    amqp_basic_properties_t p;

    decode_props_ok(*state, "{\"priority\":0,\"app_id\":{\"base64\":\"\"},\"timestamp\":\"5\"}",
                    &p);
    assert_int_equal(p._flags,
                     AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG);
    assert_int_equal(p.priority, 0);
    assert_int_equal(p.app_id.len, 0);
    assert_true(p.timestamp == 5);
}

static void test_msgjson_props_equal_tells_presence_and_values_apart(void **state)
{
    amqp_basic_properties_t a, b;
    (void)state;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_true(rmqt_props_equal(&a, &b));
    b._flags = AMQP_BASIC_MESSAGE_ID_FLAG; /* present and empty is not absent */
    assert_false(rmqt_props_equal(&a, &b));
    a._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
    assert_true(rmqt_props_equal(&a, &b));
    a.message_id = cbytes("x");
    assert_false(rmqt_props_equal(&a, &b));
    b.message_id = cbytes("x");
    b.priority = 3; /* a value whose flag is absent does not count */
    assert_true(rmqt_props_equal(&a, &b));
}

static void test_msgjson_value_equal_compares_kind_and_bits(void **state)
{
    amqp_field_value_t a = mk(AMQP_FIELD_KIND_I32), b = mk(AMQP_FIELD_KIND_I64);
    (void)state;

    a.value.i32 = 5;
    b.value.i64 = 5;
    assert_false(rmqt_value_equal(&a, &b));
    a = mk_f64_bits(0x8000000000000000u);
    b = mk_f64_bits(0);
    assert_false(rmqt_value_equal(&a, &b)); /* -0.0 == 0.0 numerically, not here */
    a = mk_f64_bits(0x7ff8000000000000u);
    b = mk_f64_bits(0x7ff8000000000000u);
    assert_true(rmqt_value_equal(&a, &b)); /* NaN != NaN numerically, equal here */
}

/* ---- malformed input ---- */

static void test_msgjson_refuses_an_unknown_type_name(void **state)
{
    expect_error(*state, VALUE, "{\"type\":\"int\",\"value\":1}", "unknown type 'int'");
    expect_error(*state, VALUE, "{\"type\":\"I8\",\"value\":1}", "unknown type 'I8'");
    expect_error(*state, VALUE, "{\"type\":\"i8\\u0000\",\"value\":1}", "unknown type 'i8\\x00'");
}

static void test_msgjson_refuses_integers_out_of_range_for_the_kind(void **state)
{
    static const char *const cases[][2] = {
        {"{\"type\":\"i8\",\"value\":128}", "128 is out of range for type 'i8' (-128..127)"},
        {"{\"type\":\"i8\",\"value\":-129}", "-129 is out of range for type 'i8' (-128..127)"},
        {"{\"type\":\"u8\",\"value\":256}", "256 is out of range for type 'u8' (0..255)"},
        {"{\"type\":\"u8\",\"value\":-1}", "-1 is out of range for type 'u8' (0..255)"},
        {"{\"type\":\"i16\",\"value\":32768}",
         "32768 is out of range for type 'i16' (-32768..32767)"},
        {"{\"type\":\"i16\",\"value\":-32769}",
         "-32769 is out of range for type 'i16' (-32768..32767)"},
        {"{\"type\":\"u16\",\"value\":65536}", "65536 is out of range for type 'u16' (0..65535)"},
        {"{\"type\":\"i32\",\"value\":2147483648}",
         "2147483648 is out of range for type 'i32' (-2147483648..2147483647)"},
        {"{\"type\":\"i32\",\"value\":-2147483649}",
         "-2147483649 is out of range for type 'i32' (-2147483648..2147483647)"},
        {"{\"type\":\"u32\",\"value\":4294967296}",
         "4294967296 is out of range for type 'u32' (0..4294967295)"},
        {"{\"type\":\"u32\",\"value\":-1}", "-1 is out of range for type 'u32' (0..4294967295)"},
        {"{\"type\":\"u64\",\"value\":-1}",
         "-1 is out of range for type 'u64' (0..18446744073709551615)"},
        {"{\"type\":\"u64\",\"value\":\"18446744073709551616\"}",
         "'18446744073709551616' is not a decimal integer in 0..18446744073709551615 for type "
         "'u64'"},
        {"{\"type\":\"timestamp\",\"value\":\"-1\"}",
         "'-1' is not a decimal integer in 0..18446744073709551615 for type 'timestamp'"},
        {"{\"type\":\"decimal\",\"decimals\":256,\"value\":1}",
         "256 is out of range as 'decimals' for type 'decimal' (0..255)"},
        {"{\"type\":\"f32\",\"value\":1e39}", "1e+39 is out of range for type 'f32'"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(*state, VALUE, cases[i][0], cases[i][1]);
}

static void test_msgjson_refuses_a_value_that_is_not_an_integer(void **state)
{
    expect_error(*state, VALUE, "{\"type\":\"i64\",\"value\":\"5\"}",
                 "expected an integer for type 'i64'");
    expect_error(*state, VALUE, "{\"type\":\"i32\",\"value\":1.5}",
                 "expected an integer for type 'i32'");
    expect_error(*state, VALUE, "{\"type\":\"u8\",\"value\":true}",
                 "expected an integer for type 'u8'");
    expect_error(*state, VALUE, "{\"type\":\"i16\"}", "missing 'value' for type 'i16'");
    expect_error(*state, VALUE, "{\"type\":\"u64\",\"value\":\"\"}",
                 "'' is not a decimal integer in 0..18446744073709551615 for type 'u64'");
}

static void test_msgjson_names_the_path_of_the_bad_element(void **state)
{
    expect_error(*state, PROPS,
                 "{\"headers\":{\"x-death\":{\"type\":\"array\",\"value\":[{\"type\":\"table\","
                 "\"value\":{\"count\":{\"type\":\"i64\",\"value\":\"1\"}}}]}}}",
                 "headers.x-death[0].count: expected an integer for type 'i64'");
    expect_error(*state, TABLE, "{\"a\":{\"type\":\"array\",\"value\":[{\"type\":\"void\"},7]}}",
                 "a[1]: expected a typed value (an object), got an integer");
}

static void test_msgjson_refuses_bad_base64(void **state)
{
    expect_error(*state, VALUE, "{\"type\":\"bytes\",\"base64\":\"Zm9v!A==\"}",
                 "invalid base64 in 'base64'");
    expect_error(*state, VALUE, "{\"type\":\"string\",\"base64\":\"Zg=\"}",
                 "invalid base64 in 'base64'");
    expect_error(*state, TABLE, "{\"base64:Zh==\":{\"type\":\"void\"}}",
                 "base64:Zh==: invalid base64 in the key");
    expect_error(*state, PROPS, "{\"user_id\":{\"base64\":\"@@@@\"}}",
                 "user_id: invalid base64 in 'base64'");
}

static void test_msgjson_refuses_a_missing_or_malformed_member(void **state)
{
    expect_error(*state, VALUE, "{\"value\":1}", "missing 'type'");
    expect_error(*state, VALUE, "{\"type\":8}", "expected a string as 'type', got an integer");
    expect_error(*state, VALUE, "[]", "expected a typed value (an object), got an array");
    expect_error(*state, VALUE, "{\"type\":\"bytes\",\"value\":\"x\"}",
                 "missing 'base64' for type 'bytes'");
    expect_error(*state, VALUE, "{\"type\":\"string\"}",
                 "missing 'value' or 'base64' for type 'string'");
    expect_error(*state, VALUE, "{\"type\":\"string\",\"value\":\"a\",\"base64\":\"YQ==\"}",
                 "both 'value' and 'base64' for type 'string'");
    expect_error(*state, VALUE, "{\"type\":\"bool\",\"value\":1}",
                 "expected true or false for type 'bool'");
    expect_error(*state, VALUE, "{\"type\":\"f64\",\"value\":\"nan\"}",
                 "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\" for type 'f64'");
    expect_error(*state, VALUE,
                 "{\"type\":\"f64\",\"value\":\"NaN\",\"bits\":\"7ff0000000000000\"}",
                 "'bits' of type 'f64' is not a NaN");
    expect_error(*state, VALUE, "{\"type\":\"f32\",\"value\":\"NaN\",\"bits\":\"7fc0\"}",
                 "expected 8 hex digits as 'bits' for type 'f32'");
    expect_error(*state, VALUE, "{\"type\":\"decimal\",\"value\":1}",
                 "missing 'decimals' for type 'decimal'");
}

static void test_msgjson_refuses_a_table_value_that_is_not_an_object(void **state)
{
    expect_error(*state, VALUE, "{\"type\":\"table\",\"value\":[]}",
                 "an empty array of pairs for a table (an empty table is written {})");
    expect_error(*state, VALUE, "{\"type\":\"table\"}",
                 "expected an object (or an array of pairs) as 'value' for type 'table'");
    expect_error(*state, VALUE, "{\"type\":\"array\",\"value\":{}}",
                 "expected an array as 'value' for type 'array'");
    expect_error(*state, TABLE, "[1]", "[0]: expected a pair [key, typed value]");
    expect_error(*state, TABLE, "1",
                 "expected an object of typed values (or an array of [key, typed value] pairs), "
                 "got an integer");
    expect_error(*state, PROPS, "{\"headers\":[]}",
                 "headers: an empty array of pairs for a table (an empty table is written {})");
}

/* count arrays nested inside each other, the innermost holding a void */
static char *nested_arrays(int count)
{
    static const char open[] = "{\"type\":\"array\",\"value\":[";
    size_t len = (size_t)count * (sizeof(open) - 1 + 2) + 32;
    char *s = malloc(len);
    int i;

    assert_non_null(s);
    s[0] = '\0';
    for (i = 0; i < count; i++)
        strcat(s, open);
    strcat(s, "{\"type\":\"void\"}");
    for (i = 0; i < count; i++)
        strcat(s, "]}");
    return s;
}

static void test_msgjson_refuses_nesting_deeper_than_64_levels(void **state)
{
    char *ok = nested_arrays(64), *deep = nested_arrays(65);
    amqp_field_value_t v;
    struct rmqt_error err;
    json_t *j = parse(ok);
    int rc = rmqt_value_from_json(j, *state, &v, &err);

    json_decref(j);
    free(ok);
    assert_int_equal(rc, 0);
    j = parse(deep);
    free(deep);
    rc = rmqt_value_from_json(j, *state, &v, &err);
    json_decref(j);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, RMQT_ERR_LIMIT);
    assert_non_null(strstr(err.message, "[0][0][0]"));
    assert_non_null(strstr(err.message, ": tables and arrays nested deeper than 64 levels"));
}

static void test_msgjson_refuses_an_unknown_property(void **state)
{
    expect_error(*state, PROPS, "{\"content_type\":\"a\",\"conten_type\":\"b\"}",
                 "unknown property 'conten_type'");
    expect_error(*state, PROPS, "{\"x-death\":{}}", "unknown property 'x-death'");
    expect_error(*state, PROPS, "[]", "expected an object of properties, got an array");
}

static void test_msgjson_refuses_a_short_string_over_255_bytes(void **state)
{
    char text[400], b64buf[400];
    char *b64;
    unsigned char raw[256];

    memset(raw, 'a', sizeof(raw));
    snprintf(text, sizeof(text), "{\"message_id\":\"%.*s\"}", 256, (const char *)raw);
    expect_error(*state, PROPS, text,
                 "message_id: 256 bytes, longer than the 255 of a short string");
    b64 = rmqt_base64_encode(raw, sizeof(raw));
    snprintf(b64buf, sizeof(b64buf), "{\"reply_to\":{\"base64\":\"%s\"}}", b64);
    free(b64);
    expect_error(*state, PROPS, b64buf,
                 "reply_to: 256 bytes, longer than the 255 of a short string");
    /* 255 is the limit, not over it */
    snprintf(text, sizeof(text), "{\"message_id\":\"%.*s\"}", 255, (const char *)raw);
    {
        amqp_basic_properties_t p;
        decode_props_ok(*state, text, &p);
        assert_int_equal(p.message_id.len, 255);
    }
}

static void test_msgjson_refuses_octet_properties_out_of_range(void **state)
{
    expect_error(*state, PROPS, "{\"priority\":256}", "priority: 256 is out of range (0..255)");
    expect_error(*state, PROPS, "{\"delivery_mode\":\"2\"}", "delivery_mode: expected an integer");
    expect_error(*state, PROPS, "{\"timestamp\":-5}",
                 "timestamp: -5 is out of range (0..18446744073709551615)");
}

static void test_msgjson_refuses_keys_that_decode_to_the_same_bytes(void **state)
{
    expect_error(*state, TABLE, "{\"a\":{\"type\":\"void\"},\"base64:YQ==\":{\"type\":\"void\"}}",
                 "base64:YQ==: the key is the same as an earlier key of the table");
}

static void test_msgjson_refuses_a_key_over_255_bytes(void **state)
{
    char text[400], message[400];

    snprintf(text, sizeof(text), "{\"%0256d\":{\"type\":\"void\"}}", 0);
    /* the path is cut to fit its fixed buffer, and says so */
    snprintf(message, sizeof(message),
             "%0199d...: key of 256 bytes, longer than the 255 of a short string", 0);
    expect_error(*state, TABLE, text, message);
}

static void test_msgjson_never_crashes_on_odd_shapes(void **state)
{
    static const char *const odd[] = {
        "null",
        "true",
        "0",
        "\"x\"",
        "[]",
        "{}",
        "{\"type\":null}",
        "{\"type\":\"table\",\"value\":null}",
        "{\"type\":\"array\",\"value\":[null]}",
        "{\"type\":\"f32\",\"value\":null}",
    };
    amqp_field_value_t v;
    amqp_table_t t;
    amqp_basic_properties_t p;
    struct rmqt_error err;
    size_t i;

    for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        json_t *j = parse(odd[i]);
        if (rmqt_value_from_json(j, *state, &v, &err) != -1)
            fail_msg("'%s' decoded as a value", odd[i]);
        assert_true(err.message[0] != '\0');
        if (strcmp(odd[i], "{}") == 0) { /* an empty table, no properties: both fine */
            json_decref(j);
            continue;
        }
        if (rmqt_table_from_json(j, *state, &t, &err) != -1)
            fail_msg("'%s' decoded as a table", odd[i]);
        if (rmqt_props_from_json(j, *state, &p, &err) != -1)
            fail_msg("'%s' decoded as properties", odd[i]);
        json_decref(j);
    }
    assert_int_equal(rmqt_value_from_json(NULL, *state, &v, &err), -1);
    assert_int_equal(rmqt_props_from_json(NULL, *state, &p, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_encodes_the_rfc4648_vectors),
        cmocka_unit_test(test_base64_decodes_the_rfc4648_vectors),
        cmocka_unit_test(test_base64_of_every_byte_value_decodes_back),
        cmocka_unit_test(test_base64_decode_refuses_malformed_input),
        cmocka_unit_test(test_base64_decode_of_empty_input_gives_a_buffer),
        POOL_TEST(test_msgjson_roundtrips_integer_kinds_at_their_limits),
        POOL_TEST(test_msgjson_minimums_of_unsigned_kinds_are_zero),
        POOL_TEST(test_msgjson_writes_u64_above_int64_max_as_a_decimal_string),
        POOL_TEST(test_msgjson_reads_u64_as_integer_or_decimal_string),
        POOL_TEST(test_msgjson_roundtrips_f64_special_values_bit_exact),
        POOL_TEST(test_msgjson_roundtrips_f32_special_values_bit_exact),
        POOL_TEST(test_msgjson_writes_special_floats_as_strings),
        POOL_TEST(test_msgjson_accepts_an_integer_for_a_float),
        POOL_TEST(test_msgjson_roundtrips_bool_decimal_timestamp_and_void),
        POOL_TEST(test_msgjson_writes_utf8_strings_as_text),
        POOL_TEST(test_msgjson_writes_binary_strings_as_base64),
        POOL_TEST(test_msgjson_roundtrips_bytes_with_every_byte_value),
        POOL_TEST(test_msgjson_roundtrips_a_table_in_an_array_in_a_table),
        POOL_TEST(test_msgjson_keeps_the_order_of_table_keys),
        POOL_TEST(test_msgjson_escapes_binary_and_prefixed_keys),
        POOL_TEST(test_msgjson_keeps_every_entry_of_a_repeated_key),
        POOL_TEST(test_msgjson_repeated_keys_after_escaping_use_pairs),
        POOL_TEST(test_msgjson_refuses_pairs_that_are_not_pairs_or_need_none),
        POOL_TEST(test_msgjson_check_takes_exactly_what_the_decoder_takes),
        POOL_TEST(test_msgjson_check_refuses_arrays_too_deep_and_unknown_kinds),
        POOL_TEST(test_msgjson_check_with_unique_keys_refuses_a_repeat),
        POOL_TEST(test_msgjson_ignores_unknown_members_of_a_typed_value),
        POOL_TEST(test_msgjson_roundtrips_all_14_properties_through_text),
        POOL_TEST(test_msgjson_props_without_headers_have_no_headers_member),
        POOL_TEST(test_msgjson_writes_a_binary_short_string_as_a_base64_object),
        POOL_TEST(test_msgjson_sets_the_flag_of_every_property_read),
        POOL_TEST(test_msgjson_props_equal_tells_presence_and_values_apart),
        POOL_TEST(test_msgjson_value_equal_compares_kind_and_bits),
        POOL_TEST(test_msgjson_refuses_an_unknown_type_name),
        POOL_TEST(test_msgjson_refuses_integers_out_of_range_for_the_kind),
        POOL_TEST(test_msgjson_refuses_a_value_that_is_not_an_integer),
        POOL_TEST(test_msgjson_names_the_path_of_the_bad_element),
        POOL_TEST(test_msgjson_refuses_bad_base64),
        POOL_TEST(test_msgjson_refuses_a_missing_or_malformed_member),
        POOL_TEST(test_msgjson_refuses_a_table_value_that_is_not_an_object),
        POOL_TEST(test_msgjson_refuses_nesting_deeper_than_64_levels),
        POOL_TEST(test_msgjson_refuses_an_unknown_property),
        POOL_TEST(test_msgjson_refuses_a_short_string_over_255_bytes),
        POOL_TEST(test_msgjson_refuses_octet_properties_out_of_range),
        POOL_TEST(test_msgjson_refuses_keys_that_decode_to_the_same_bytes),
        POOL_TEST(test_msgjson_refuses_a_key_over_255_bytes),
        POOL_TEST(test_msgjson_never_crashes_on_odd_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
