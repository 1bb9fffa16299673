/*
 * test_msgdigest.c - message digests (how the safe mover matches a basic.return to its
 * publish) and the broker's delivery counters (never copied as headers: cli.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "msgdigest.h"

static amqp_table_entry_t entry_long(const char *key, int64_t v)
{
    amqp_table_entry_t e;
    memset(&e, 0, sizeof(e));
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = v;
    return e;
}

static struct rmqt_digest digest_of(const amqp_basic_properties_t *p, const char *body)
{
    struct rmqt_digest d;
    rmqt_digest_init(&d);
    rmqt_digest_message(&d, amqp_cstring_bytes("ex"), amqp_cstring_bytes("rk"), p,
                        amqp_cstring_bytes(body));
    return d;
}

static void test_msgdigest_digest_ignores_the_order_of_table_entries(void **state)
{
    amqp_table_entry_t a[2], b[2];
    amqp_basic_properties_t p, q;
    struct rmqt_digest x, y;
    (void)state;

    a[0] = entry_long("one", 1);
    a[1] = entry_long("two", 2);
    b[0] = a[1];
    b[1] = a[0];
    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_HEADERS_FLAG;
    p.headers.num_entries = 2;
    p.headers.entries = a;
    q = p;
    q.headers.entries = b;
    /* a quorum queue re-encodes headers sorted: the same message */
    x = digest_of(&p, "body");
    y = digest_of(&q, "body");
    assert_true(rmqt_digest_equal(&x, &y));
}

static void test_msgdigest_digest_tells_types_values_and_bodies_apart(void **state)
{
    amqp_table_entry_t a[1], b[1];
    amqp_basic_properties_t p, q;
    struct rmqt_digest x, y;
    (void)state;

    a[0] = entry_long("n", 5);
    b[0] = a[0];
    b[0].value.kind = AMQP_FIELD_KIND_I32; /* same number, other AMQP type */
    b[0].value.value.i32 = 5;
    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_HEADERS_FLAG;
    p.headers.num_entries = 1;
    p.headers.entries = a;
    q = p;
    q.headers.entries = b;
    x = digest_of(&p, "body");
    y = digest_of(&q, "body");
    assert_false(rmqt_digest_equal(&x, &y));
    y = digest_of(&p, "bodY");
    assert_false(rmqt_digest_equal(&x, &y));
    /* a property present differs from one absent */
    q = p;
    q._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    q.message_id = amqp_cstring_bytes("");
    y = digest_of(&q, "body");
    assert_false(rmqt_digest_equal(&x, &y));
    /* the strings are length-delimited: "ab"+"c" is not "a"+"bc" */
    rmqt_digest_init(&x);
    rmqt_digest_message(&x, amqp_cstring_bytes("ab"), amqp_cstring_bytes("c"), &p,
                        amqp_cstring_bytes(""));
    rmqt_digest_init(&y);
    rmqt_digest_message(&y, amqp_cstring_bytes("a"), amqp_cstring_bytes("bc"), &p,
                        amqp_cstring_bytes(""));
    assert_false(rmqt_digest_equal(&x, &y));
}

static void test_msgdigest_strips_the_delivery_counters_only(void **state)
{
    amqp_table_entry_t h[3];
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    amqp_basic_properties_t in, out;
    (void)state;

    h[0] = entry_long("x-delivery-count", 3);
    h[1] = entry_long("keep", 1);
    h[2] = entry_long("x-acquired-count", 4);
    memset(&in, 0, sizeof(in));
    in._flags = AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_PRIORITY_FLAG;
    in.priority = 7;
    in.headers.num_entries = 3;
    in.headers.entries = h;
    rmqt_props_without_counters(&in, &out, &scratch, &cap);
    assert_int_equal(out.headers.num_entries, 1);
    assert_memory_equal(out.headers.entries[0].key.bytes, "keep", 4);
    assert_int_equal(out.priority, 7);
    assert_true(out._flags & AMQP_BASIC_HEADERS_FLAG);
    assert_int_equal(in.headers.num_entries, 3); /* the delivery itself is untouched */
    free(scratch);
}

static void test_msgdigest_drops_a_table_that_held_only_a_counter(void **state)
{
    amqp_table_entry_t h[1];
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    amqp_basic_properties_t in, out;
    (void)state;

    h[0] = entry_long("x-delivery-count", 1);
    memset(&in, 0, sizeof(in));
    in._flags = AMQP_BASIC_HEADERS_FLAG;
    in.headers.num_entries = 1;
    in.headers.entries = h;
    rmqt_props_without_counters(&in, &out, &scratch, &cap);
    assert_false(out._flags & AMQP_BASIC_HEADERS_FLAG);
    assert_true(rmqt_is_delivery_counter(amqp_cstring_bytes("x-acquired-count")));
    assert_false(rmqt_is_delivery_counter(amqp_cstring_bytes("x-death")));
    free(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msgdigest_digest_ignores_the_order_of_table_entries),
        cmocka_unit_test(test_msgdigest_digest_tells_types_values_and_bodies_apart),
        cmocka_unit_test(test_msgdigest_strips_the_delivery_counters_only),
        cmocka_unit_test(test_msgdigest_drops_a_table_that_held_only_a_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
