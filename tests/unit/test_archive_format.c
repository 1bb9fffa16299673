/*
 * test_archive_format.c - the archive format of dlq.md: a record keeps every property and
 * header with its type, the broker's delivery counters apart, the body with its size and
 * SHA-256; the header names format, version, vhost and queue; the reader names lines, bounds
 * them and tells a truncated last line from a whole one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_format.h"
#include "msgdigest.h"
#include "msgjson.h"

static char exchange_bytes[] = "dl\xff";
static char body_bytes[] = "\x00\x01payload\xfe";

struct fixture {
    amqp_table_entry_t headers[4], inner[1];
    amqp_envelope_t env;
};

static void make_envelope(struct fixture *f, bool with_counter)
{
    amqp_basic_properties_t *p = &f->env.message.properties;

    memset(f, 0, sizeof(*f));
    f->inner[0].key = amqp_cstring_bytes("queue");
    f->inner[0].value.kind = AMQP_FIELD_KIND_UTF8;
    f->inner[0].value.value.bytes = amqp_cstring_bytes("orders");
    f->headers[0].key = amqp_cstring_bytes("h-long");
    f->headers[0].value.kind = AMQP_FIELD_KIND_I64;
    f->headers[0].value.value.i64 = -7;
    f->headers[1].key = amqp_cstring_bytes("h-ts");
    f->headers[1].value.kind = AMQP_FIELD_KIND_TIMESTAMP;
    f->headers[1].value.value.u64 = 1700000000;
    f->headers[2].key = amqp_cstring_bytes("h-table");
    f->headers[2].value.kind = AMQP_FIELD_KIND_TABLE;
    f->headers[2].value.value.table.num_entries = 1;
    f->headers[2].value.value.table.entries = f->inner;
    f->headers[3].key = amqp_cstring_bytes("x-delivery-count");
    f->headers[3].value.kind = AMQP_FIELD_KIND_I64;
    f->headers[3].value.value.i64 = 3;
    p->_flags = AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG;
    p->headers.num_entries = with_counter ? 4 : 3;
    p->headers.entries = f->headers;
    p->message_id = amqp_cstring_bytes("m-1");
    p->delivery_mode = 2;
    p->priority = 4;
    f->env.exchange.bytes = exchange_bytes;
    f->env.exchange.len = 3;
    f->env.routing_key = amqp_cstring_bytes("orders.placed");
    f->env.message.body.bytes = body_bytes;
    f->env.message.body.len = 10;
}

static char *record_line(const amqp_envelope_t *env)
{
    json_t *j = archive_record_json(env);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(j);
    assert_non_null(s);
    return s;
}

static void test_archive_record_round_trip_keeps_types_body_and_delivery(void **state)
{
    struct fixture f, g;
    struct archive_record r;
    struct rmqt_error err;
    amqp_pool_t pool;
    char *line;
    (void)state;

    make_envelope(&f, false);
    line = record_line(&f.env);
    init_amqp_pool(&pool, 4096);
    assert_int_equal(archive_record_parse(line, strlen(line), &pool, &r, &err), 0);
    make_envelope(&g, false);
    assert_true(rmqt_props_equal(&r.props, &g.env.message.properties));
    assert_int_equal(r.body.len, 10);
    assert_memory_equal(r.body.bytes, "\x00\x01payload\xfe", 10);
    assert_int_equal(r.exchange.len, 3);
    assert_memory_equal(r.exchange.bytes, "dl\xff", 3);
    assert_int_equal(r.routing_key.len, strlen("orders.placed"));
    empty_amqp_pool(&pool);
    free(line);
}

static void test_archive_record_keeps_delivery_counters_out_of_headers(void **state)
{
    struct fixture f;
    struct archive_record r;
    struct rmqt_error err;
    amqp_pool_t pool;
    json_t *j;
    char *line;
    (void)state;

    make_envelope(&f, true);
    j = archive_record_json(&f.env);
    assert_null(json_object_get(json_object_get(j, "headers"), "x-delivery-count"));
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(j, "delivery_counters"), "x-delivery-count"), "value")),
        3);
    json_decref(j);
    line = record_line(&f.env);
    init_amqp_pool(&pool, 4096);
    assert_int_equal(archive_record_parse(line, strlen(line), &pool, &r, &err), 0);
    assert_int_equal(r.props.headers.num_entries, 3);
    empty_amqp_pool(&pool);
    free(line);
}

static void test_archive_record_without_headers_stays_without(void **state)
{
    struct fixture f;
    struct archive_record r;
    struct rmqt_error err;
    amqp_pool_t pool;
    char *line;
    (void)state;

    make_envelope(&f, false);
    f.env.message.properties._flags &= ~AMQP_BASIC_HEADERS_FLAG;
    line = record_line(&f.env);
    assert_null(strstr(line, "\"headers\""));
    init_amqp_pool(&pool, 4096);
    assert_int_equal(archive_record_parse(line, strlen(line), &pool, &r, &err), 0);
    assert_false(r.props._flags & AMQP_BASIC_HEADERS_FLAG);
    empty_amqp_pool(&pool);
    free(line);
}

/* Parses line after replacing the first `from` by `to`; returns the error message. */
static const char *parse_edited(const char *from, const char *to, struct rmqt_error *err)
{
    struct fixture f;
    struct archive_record r;
    amqp_pool_t pool;
    char *line, *at, *edited;
    int rc;

    make_envelope(&f, false);
    line = record_line(&f.env);
    at = strstr(line, from);
    assert_non_null(at);
    edited = malloc(strlen(line) + strlen(to) + 1);
    memcpy(edited, line, (size_t)(at - line));
    strcpy(edited + (at - line), to);
    strcat(edited, at + strlen(from));
    init_amqp_pool(&pool, 4096);
    rc = archive_record_parse(edited, strlen(edited), &pool, &r, err);
    assert_int_equal(rc, -1);
    empty_amqp_pool(&pool);
    free(edited);
    free(line);
    return err->message;
}

static void test_archive_record_refuses_a_body_that_does_not_match(void **state)
{
    struct rmqt_error err;
    (void)state;

    assert_string_equal(parse_edited("\"body_size\":10", "\"body_size\":11", &err),
                        "body_size: does not match, but the body holds 10 bytes");
    assert_string_equal(parse_edited("\"body_sha256\":\"", "\"body_sha256\":\"0", &err),
                        "body_sha256: does not match the body (damaged?)");
    assert_string_equal(parse_edited("\"body\":\"", "\"body\":\"*", &err),
                        "body: not valid base64");
}

static void test_archive_record_names_the_bad_member(void **state)
{
    struct rmqt_error err;
    (void)state;

    assert_string_equal(parse_edited("\"value\":-7", "\"value\":\"x\"", &err),
                        "properties: headers.h-long: expected an integer for type 'i64'");
    assert_string_equal(parse_edited("\"properties\":{", "\"properties\":{\"colour\":1,", &err),
                        "properties: unknown property 'colour'");
    assert_string_equal(
        parse_edited("\"routing_key\":\"orders.placed\"", "\"routing_key\":5", &err),
        "routing_key: expected a string or {\"base64\": \"...\"}, got an integer");
}

static void test_archive_record_refuses_headers_inside_properties(void **state)
{
    struct rmqt_error err;
    (void)state;

    assert_string_equal(parse_edited("\"properties\":{", "\"properties\":{\"headers\":{},", &err),
                        "properties.headers: headers belong beside properties, not in them");
}

static void test_archive_record_refuses_what_is_not_a_record(void **state)
{
    struct archive_record r;
    struct rmqt_error err;
    amqp_pool_t pool;
    (void)state;

    init_amqp_pool(&pool, 4096);
    assert_int_equal(archive_record_parse("[1]", 3, &pool, &r, &err), -1);
    assert_string_equal(err.message, "not a JSON object");
    assert_int_equal(archive_record_parse("{\"prop", 6, &pool, &r, &err), -1);
    assert_non_null(strstr(err.message, "not JSON"));
    assert_int_equal(archive_record_parse("{}", 2, &pool, &r, &err), -1);
    assert_string_equal(err.message, "properties: missing or not an object");
    empty_amqp_pool(&pool);
}

static void test_archive_header_round_trip_and_refusals(void **state)
{
    struct archive_header h;
    struct rmqt_error err;
    json_t *j = archive_header_json("orders", "orders.dlq", "3.10.8", 1764979200, true,
                                    "0123456789abcdef0123456789abcdef");
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *other = "{\"format\":\"other\",\"version\":1}";
    (void)state;

    assert_string_equal(s, "{\"format\":\"rmqtopo-archive\",\"version\":2,\"vhost\":\"orders\","
                           "\"queue\":\"orders.dlq\",\"broker\":\"3.10.8\","
                           "\"created\":\"2025-12-06T00:00:00Z\",\"copy\":true,"
                           "\"id\":\"0123456789abcdef0123456789abcdef\"}");
    assert_int_equal(archive_header_parse(s, strlen(s), &h, &err), 0);
    assert_string_equal(h.id, "0123456789abcdef0123456789abcdef");
    assert_int_equal(strlen(h.header_sha256), 64);
    assert_string_equal(h.vhost, "orders");
    assert_string_equal(h.queue, "orders.dlq");
    assert_true(h.copy);
    archive_header_release(&h);
    json_decref(j);

    free(s);
    s = strdup("{\"format\":\"rmqtopo-archive\",\"version\":3,\"vhost\":\"v\",\"queue\":\"q\"}");
    assert_int_equal(archive_header_parse(s, strlen(s), &h, &err), -1);
    assert_string_equal(err.message, "archive format version 3 is not known to this rmqtopo (it "
                                     "reads versions 1 to 2)");
    free(s);
    /* version 1 is still read */
    s = strdup("{\"format\":\"rmqtopo-archive\",\"version\":1,\"vhost\":\"v\",\"queue\":\"q\"}");
    assert_int_equal(archive_header_parse(s, strlen(s), &h, &err), 0);
    assert_int_equal(h.version, 1);
    assert_null(h.id); /* from before ids: the ledger knows it by its digest */
    archive_header_release(&h);
    assert_int_equal(archive_header_parse(other, strlen(other), &h, &err), -1);
    assert_non_null(strstr(err.message, "not an rmqtopo archive"));
    free(s);
    s = strdup("{\"format\":\"rmqtopo-archive\",\"version\":1,\"vhost\":\"v\"}");
    assert_int_equal(archive_header_parse(s, strlen(s), &h, &err), -1);
    assert_string_equal(err.message, "the archive's header lacks \"queue\"");
    free(s);
}

/* A record line written by rmqtopo before version 2 (headers an object, a nested table). */
static void test_archive_reads_a_version_1_record(void **state)
{
    static const char v1[] =
        "{\"exchange\":\"dlx\",\"routing_key\":\"k\",\"redelivered\":false,"
        "\"delivery_counters\":{},\"death\":null,\"properties\":{\"message_id\":\"m-1\","
        "\"delivery_mode\":2},\"headers\":{\"h\":{\"type\":\"i64\",\"value\":1},\"t\":{\"type\":"
        "\"table\",\"value\":{\"q\":{\"type\":\"string\",\"value\":\"x\"}}}},\"body_size\":3,"
        "\"body_sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
        "\"body\":\"YWJj\"}";
    struct archive_record r;
    struct rmqt_error err;
    amqp_pool_t pool;
    (void)state;

    init_amqp_pool(&pool, 4096);
    assert_int_equal(archive_record_parse(v1, strlen(v1), &pool, &r, &err), 0);
    assert_int_equal(r.props.headers.num_entries, 2);
    assert_int_equal(r.props.headers.entries[1].value.kind, AMQP_FIELD_KIND_TABLE);
    assert_int_equal(r.props.headers.entries[1].value.value.table.num_entries, 1);
    assert_memory_equal(r.body.bytes, "abc", 3);
    empty_amqp_pool(&pool);
}

static void test_archive_record_keeps_every_repeated_header_key(void **state)
{
    struct fixture f;
    struct archive_record r;
    struct rmqt_error err;
    amqp_table_entry_t h[4], inner[2];
    amqp_pool_t pool;
    json_t *j;
    char *line;
    size_t len;
    (void)state;

    make_envelope(&f, false);
    memset(h, 0, sizeof(h));
    memset(inner, 0, sizeof(inner));
    inner[0].key = amqp_cstring_bytes("n");
    inner[0].value.kind = AMQP_FIELD_KIND_I32;
    inner[0].value.value.i32 = 1;
    inner[1] = inner[0];
    inner[1].value.kind = AMQP_FIELD_KIND_I64;
    h[0].key = amqp_cstring_bytes("k");
    h[0].value.kind = AMQP_FIELD_KIND_UTF8;
    h[0].value.value.bytes = amqp_cstring_bytes("first");
    h[1].key = amqp_cstring_bytes("t");
    h[1].value.kind = AMQP_FIELD_KIND_TABLE;
    h[1].value.value.table.num_entries = 2;
    h[1].value.value.table.entries = inner;
    h[2].key = amqp_cstring_bytes("k");
    h[2].value.kind = AMQP_FIELD_KIND_BYTES;
    h[2].value.value.bytes = amqp_cstring_bytes("second");
    h[3] = f.headers[3]; /* a delivery counter: kept apart, as always */
    f.env.message.properties.headers.entries = h;
    f.env.message.properties.headers.num_entries = 4;
    line = archive_record_line(&f.env, ARCHIVE_FORMAT_VERSION, &len, &err);
    assert_non_null(line);
    assert_int_equal(len, strlen(line));
    assert_non_null(
        strstr(line, "\"headers\":[[\"k\",{\"type\":\"string\",\"value\":\"first\"}],"));
    j = json_loads(line, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "headers")), 3);
    json_decref(j);
    init_amqp_pool(&pool, 4096);
    assert_int_equal(archive_record_parse(line, len, &pool, &r, &err), 0);
    /* every entry, in order, with its type: the table the broker held, minus the counter */
    f.env.message.properties.headers.num_entries = 3;
    assert_true(rmqt_props_equal(&r.props, &f.env.message.properties));
    empty_amqp_pool(&pool);
    free(line);
    /* a version-1 file cannot hold it: the writer says so instead of dropping an entry */
    assert_null(archive_record_line(&f.env, 1, &len, &err));
    assert_string_equal(err.message,
                        "headers.t.n: the key is the same as an earlier key of the table (a "
                        "version-1 archive cannot hold a repeated key: archive into a new file, "
                        "which is version 2)");
}

/* Whether the record of env reads back: archive_record_json, written, parsed. */
static bool reads_back(const amqp_envelope_t *env)
{
    struct archive_record r;
    struct rmqt_error err;
    amqp_pool_t pool;
    char *line = record_line(env);
    bool ok;

    init_amqp_pool(&pool, 4096);
    ok = archive_record_parse(line, strlen(line), &pool, &r, &err) == 0;
    empty_amqp_pool(&pool);
    free(line);
    return ok;
}

static void test_archive_writer_takes_exactly_what_the_reader_takes(void **state)
{
    amqp_table_entry_t store[70];
    struct fixture f;
    struct rmqt_error err;
    char *line;
    size_t len;
    int depth, k;
    unsigned mode;
    (void)state;

    /* headers nested 1..69 levels deep: written exactly when read back, 64 the most */
    for (depth = 1; depth < 70; depth++) {
        make_envelope(&f, false);
        for (k = depth - 1; k >= 0; k--) {
            memset(&store[k], 0, sizeof(store[k]));
            store[k].key = amqp_cstring_bytes("a");
            store[k].value.kind = AMQP_FIELD_KIND_I8;
            if (k < depth - 1) {
                store[k].value.kind = AMQP_FIELD_KIND_TABLE;
                store[k].value.value.table.num_entries = 1;
                store[k].value.value.table.entries = &store[k + 1];
            }
        }
        f.env.message.properties.headers.entries = store;
        f.env.message.properties.headers.num_entries = 1;
        line = archive_record_line(&f.env, ARCHIVE_FORMAT_VERSION, &len, &err);
        if ((line != NULL) != reads_back(&f.env))
            fail_msg("depth %d: the writer %s, the reader %s", depth, line ? "takes" : "refuses",
                     line ? "refuses" : "takes");
        assert_true((line != NULL) == (depth <= 64));
        if (!line)
            assert_non_null(strstr(err.message, "headers.a.a.a"));
        if (!line)
            assert_non_null(strstr(err.message, "nested deeper than 64 levels"));
        free(line);
    }
    /* delivery modes: 1 and 2 only, with the reader's own message */
    for (mode = 0; mode < 4; mode++) {
        make_envelope(&f, false);
        f.env.message.properties.delivery_mode = (uint8_t)mode;
        line = archive_record_line(&f.env, ARCHIVE_FORMAT_VERSION, &len, &err);
        assert_true((line != NULL) == reads_back(&f.env));
        assert_true((line != NULL) == (mode == 1 || mode == 2));
        if (!line)
            assert_non_null(strstr(err.message, "properties.delivery_mode"));
        free(line);
    }
    /* a field kind the format has no name for */
    make_envelope(&f, false);
    f.headers[0].value.kind = 'Z';
    line = archive_record_line(&f.env, ARCHIVE_FORMAT_VERSION, &len, &err);
    assert_null(line);
    assert_false(reads_back(&f.env));
    assert_non_null(strstr(err.message, "headers.h-long: a field value of kind 'Z'"));
}

static void read_all(const char *text, size_t len, size_t max_line, int *kinds, size_t *n,
                     struct rmqt_error *err)
{
    struct archive_reader r;
    size_t l;
    int k;

    memset(&r, 0, sizeof(r));
    r.f = fmemopen((void *)text, len, "r");
    r.name = "a.jsonl";
    r.max_line = max_line;
    assert_non_null(r.f);
    *n = 0;
    do {
        k = archive_reader_next(&r, &l, err);
        kinds[(*n)++] = k;
    } while (k == ARCHIVE_LINE);
    fclose(r.f);
    archive_reader_release(&r);
}

static void test_archive_reader_tells_a_truncated_last_line(void **state)
{
    struct rmqt_error err;
    int kinds[8];
    size_t n;
    (void)state;

    read_all("h\na\nb\n", 6, 0, kinds, &n, &err);
    assert_int_equal(n, 4);
    assert_int_equal(kinds[2], ARCHIVE_LINE);
    assert_int_equal(kinds[3], ARCHIVE_END);
    read_all("h\na\nb", 5, 0, kinds, &n, &err);
    assert_int_equal(n, 3);
    assert_int_equal(kinds[2], ARCHIVE_TRUNCATED);
}

static void test_archive_reader_bounds_a_line(void **state)
{
    struct rmqt_error err;
    int kinds[8];
    size_t n;
    (void)state;

    read_all("h\n0123456789\n", 13, 8, kinds, &n, &err);
    assert_int_equal(kinds[n - 1], -1);
    assert_string_equal(err.message, "a.jsonl:2: a line longer than 8 bytes");
}

static void test_archive_sha256_of_known_input(void **state)
{
    char hex[65];
    (void)state;

    archive_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    archive_sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_archive_record_round_trip_keeps_types_body_and_delivery),
        cmocka_unit_test(test_archive_record_keeps_delivery_counters_out_of_headers),
        cmocka_unit_test(test_archive_record_without_headers_stays_without),
        cmocka_unit_test(test_archive_record_refuses_a_body_that_does_not_match),
        cmocka_unit_test(test_archive_record_names_the_bad_member),
        cmocka_unit_test(test_archive_record_refuses_headers_inside_properties),
        cmocka_unit_test(test_archive_record_refuses_what_is_not_a_record),
        cmocka_unit_test(test_archive_header_round_trip_and_refusals),
        cmocka_unit_test(test_archive_reads_a_version_1_record),
        cmocka_unit_test(test_archive_record_keeps_every_repeated_header_key),
        cmocka_unit_test(test_archive_writer_takes_exactly_what_the_reader_takes),
        cmocka_unit_test(test_archive_reader_tells_a_truncated_last_line),
        cmocka_unit_test(test_archive_reader_bounds_a_line),
        cmocka_unit_test(test_archive_sha256_of_known_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
