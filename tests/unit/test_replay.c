/*
 * test_replay.c - reading x-death (ops/death) and replay's decisions and headers
 * (ops/replay): where a message goes, what the filters select, the loop guard, and which
 * headers a replayed copy carries (cli.md, dlq.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "death.h"
#include "replay.h"

#define NOW 1800000000

/* A message under construction: headers and the x-death entries they point to. */
struct msg {
    amqp_table_entry_t h[16];
    amqp_table_entry_t death[2][6];
    amqp_field_value_t deaths[2];
    amqp_field_value_t keys[2][3];
    amqp_basic_properties_t p;
};

static amqp_table_entry_t str_entry(const char *k, const char *v)
{
    amqp_table_entry_t e;
    memset(&e, 0, sizeof(e));
    e.key = amqp_cstring_bytes(k);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(v);
    return e;
}

static amqp_table_entry_t long_entry(const char *k, int64_t v)
{
    amqp_table_entry_t e;
    memset(&e, 0, sizeof(e));
    e.key = amqp_cstring_bytes(k);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = v;
    return e;
}

static void add_header(struct msg *m, amqp_table_entry_t e)
{
    m->h[m->p.headers.num_entries++] = e;
    m->p._flags |= AMQP_BASIC_HEADERS_FLAG;
    m->p.headers.entries = m->h;
}

static void msg_init(struct msg *m)
{
    memset(m, 0, sizeof(*m));
    m->p._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
    m->p.message_id = amqp_cstring_bytes("m-1");
    add_header(m, long_entry("app-header", 7));
}

/* Adds x-death with n entries (most recent first): entry i died in queue[i] for reason[i]. */
static void add_deaths(struct msg *m, int n, const char *const *queue, const char *const *reason,
                       const char *const *exchange, int nkeys, const char *const *keys,
                       uint64_t time)
{
    amqp_table_entry_t x;
    int i, k;

    for (i = 0; i < n; i++) {
        amqp_table_entry_t *e = m->death[i];
        for (k = 0; k < nkeys; k++) {
            m->keys[i][k].kind = AMQP_FIELD_KIND_UTF8;
            m->keys[i][k].value.bytes = amqp_cstring_bytes(keys[k]);
        }
        e[0] = long_entry("count", i + 1);
        e[1] = str_entry("reason", reason[i]);
        e[2] = str_entry("queue", queue[i]);
        e[3].key = amqp_cstring_bytes("time");
        e[3].value.kind = AMQP_FIELD_KIND_TIMESTAMP;
        e[3].value.value.u64 = time - (uint64_t)i * 100;
        e[4] = str_entry("exchange", exchange[i]);
        e[5].key = amqp_cstring_bytes("routing-keys");
        e[5].value.kind = AMQP_FIELD_KIND_ARRAY;
        e[5].value.value.array.num_entries = nkeys;
        e[5].value.value.array.entries = m->keys[i];
        m->deaths[i].kind = AMQP_FIELD_KIND_TABLE;
        m->deaths[i].value.table.num_entries = 6;
        m->deaths[i].value.table.entries = e;
    }
    memset(&x, 0, sizeof(x));
    x.key = amqp_cstring_bytes("x-death");
    x.value.kind = AMQP_FIELD_KIND_ARRAY;
    x.value.value.array.num_entries = n;
    x.value.value.array.entries = m->deaths;
    add_header(m, x);
    add_header(m, str_entry("x-first-death-queue", queue[n - 1]));
    add_header(m, str_entry("x-first-death-reason", reason[n - 1]));
}

static void died_once(struct msg *m, const char *queue, const char *reason)
{
    const char *q[] = {queue}, *r[] = {reason}, *x[] = {"orders"}, *k[] = {"order.placed"};
    add_deaths(m, 1, q, r, x, 1, k, NOW - 3600);
}

static bool bytes_is(amqp_bytes_t b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.bytes, s, b.len) == 0;
}

static const amqp_field_value_t *header(const amqp_basic_properties_t *p, const char *k)
{
    return (p->_flags & AMQP_BASIC_HEADERS_FLAG) ? death_table_get(&p->headers, k) : NULL;
}

static void options(struct replay_options *o)
{
    memset(o, 0, sizeof(*o));
    o->queue = "orders.dlq";
    o->max_replays = REPLAY_DEFAULT_MAX;
}

static void test_death_reads_the_most_recent_entry_not_the_first_death(void **state)
{
    struct msg m;
    struct death d;
    const char *q[] = {"orders.retry", "orders.placed"}, *r[] = {"expired", "rejected"};
    const char *x[] = {"orders.dlx", "orders"}, *k[] = {"order.placed", "audit"};
    (void)state;

    msg_init(&m);
    add_deaths(&m, 2, q, r, x, 2, k, NOW);
    death_read(&m.p, &d);
    assert_true(d.present);
    assert_false(d.fallback);
    assert_true(bytes_is(d.queue, "orders.retry"));
    assert_true(bytes_is(d.reason, "expired"));
    assert_true(bytes_is(d.exchange, "orders.dlx"));
    assert_int_equal(d.count, 1);
    assert_true(d.has_time);
    assert_int_equal(d.time, NOW);
    assert_int_equal(d.entries, 2);
    assert_int_equal(d.routing_keys->num_entries, 2);
    assert_true(bytes_is(death_first_key(&d), "order.placed"));
}

static void test_death_falls_back_to_first_death_headers(void **state)
{
    struct msg m;
    struct death d;
    (void)state;

    msg_init(&m);
    add_header(&m, str_entry("x-first-death-queue", "q1"));
    add_header(&m, str_entry("x-first-death-reason", "maxlen"));
    add_header(&m, str_entry("x-first-death-exchange", "ex"));
    death_read(&m.p, &d);
    assert_true(d.present);
    assert_true(d.fallback);
    assert_true(bytes_is(d.queue, "q1"));
    assert_true(bytes_is(d.reason, "maxlen"));
    assert_null(d.routing_keys);
    assert_false(d.has_time);
}

static void test_death_ignores_entries_of_the_wrong_shape(void **state)
{
    struct msg m;
    struct death d;
    (void)state;

    msg_init(&m);
    add_header(&m, long_entry("x-death", 3)); /* not an array: as if absent */
    death_read(&m.p, &d);
    assert_false(d.present);
    msg_init(&m);
    m.p._flags = 0;
    death_read(&m.p, &d);
    assert_false(d.present);
}

static void test_death_headers_are_recognised(void **state)
{
    (void)state;
    assert_true(death_is_header(amqp_cstring_bytes("x-death")));
    assert_true(death_is_header(amqp_cstring_bytes("x-first-death-queue")));
    assert_true(death_is_header(amqp_cstring_bytes("x-last-death-reason")));
    assert_false(death_is_header(amqp_cstring_bytes("x-deaths")));
    assert_false(death_is_header(amqp_cstring_bytes("x-delivery-count")));
}

static void test_replay_goes_home_to_the_queue_it_died_in(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    (void)state;

    options(&o);
    msg_init(&m);
    died_once(&m, "orders.placed", "rejected");
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_REPLAY);
    assert_int_equal(d.exchange.len, 0);
    assert_true(bytes_is(d.routing_key, "orders.placed"));
    assert_int_equal(d.cc.num_entries, 0);
}

static void test_replay_to_origin_uses_the_first_key_and_the_rest_as_cc(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    const char *q[] = {"orders.placed"}, *r[] = {"rejected"}, *x[] = {"orders"};
    const char *k[] = {"order.placed", "audit", "billing"};
    (void)state;

    options(&o);
    o.route = ROUTE_ORIGIN;
    msg_init(&m);
    add_deaths(&m, 1, q, r, x, 3, k, NOW);
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_REPLAY);
    assert_true(bytes_is(d.exchange, "orders"));
    assert_true(bytes_is(d.routing_key, "order.placed"));
    assert_int_equal(d.cc.num_entries, 2);
    assert_true(bytes_is(d.cc.entries[0].value.bytes, "audit"));
    assert_true(bytes_is(d.cc.entries[1].value.bytes, "billing"));
}

static void test_replay_without_death_has_no_home_unless_a_target_is_given(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    (void)state;

    options(&o);
    msg_init(&m);
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_NO_HOME);
    o.route = ROUTE_ORIGIN;
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_NO_HOME);
    o.route = ROUTE_QUEUE;
    o.to_queue = "elsewhere";
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_REPLAY);
    assert_true(bytes_is(d.routing_key, "elsewhere"));
    o.route = ROUTE_EXCHANGE;
    o.to_exchange = "ex";
    o.routing_key = NULL;
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_NO_HOME); /* no key of its own and none given */
    o.routing_key = "k";
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_REPLAY);
    assert_true(bytes_is(d.exchange, "ex"));
    assert_true(bytes_is(d.routing_key, "k"));
}

static void test_replay_filters_select_by_reason_queue_and_age(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    (void)state;

    options(&o);
    msg_init(&m);
    died_once(&m, "orders.placed", "expired"); /* died an hour before NOW */
    o.filter.reason = "rejected";
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_FILTERED);
    o.filter.reason = "expired";
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_REPLAY);
    o.filter.from_queue = "orders.paid";
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_FILTERED);
    o.filter.from_queue = "orders.placed";
    o.filter.has_older_than = true;
    o.filter.older_than_s = 7200;
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_FILTERED);
    o.filter.older_than_s = 1800;
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_REPLAY);
}

static void test_replay_filters_never_select_a_message_without_death(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    (void)state;

    options(&o);
    o.route = ROUTE_QUEUE;
    o.to_queue = "q";
    msg_init(&m);
    o.filter.has_older_than = true;
    o.filter.older_than_s = 0;
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_FILTERED);
}

static void test_replay_guard_leaves_or_parks_at_max_replays(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    (void)state;

    options(&o);
    msg_init(&m);
    died_once(&m, "orders.placed", "rejected");
    add_header(&m, long_entry(REPLAY_COUNT_HEADER, 4));
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_REPLAY);
    assert_int_equal(d.replays, 4);
    m.h[m.p.headers.num_entries - 1].value.value.i64 = 5;
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_AT_MAX);
    o.park_queue = "orders.parked";
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_PARK);
    assert_int_equal(d.exchange.len, 0);
    assert_true(bytes_is(d.routing_key, "orders.parked"));
    o.max_replays = 0; /* never replay */
    m.p.headers.num_entries--;
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_PARK);
}

static void test_replay_copy_drops_death_headers_and_counts(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    amqp_basic_properties_t out;
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    const amqp_field_value_t *v;
    (void)state;

    options(&o);
    msg_init(&m);
    died_once(&m, "orders.placed", "rejected");
    add_header(&m, long_entry(REPLAY_COUNT_HEADER, 2));
    add_header(&m, long_entry("x-delivery-count", 3));
    add_header(&m, str_entry("CC", "other-queue"));
    replay_decide(&o, &m.p, NOW, &d);
    replay_build_props(&o, &d, &m.p, &out, &scratch, &cap);
    assert_null(header(&out, "x-death"));
    assert_null(header(&out, "x-first-death-queue"));
    assert_null(header(&out, "x-delivery-count"));
    assert_null(header(&out, "CC")); /* would copy the message into other-queue */
    v = header(&out, "app-header");
    assert_non_null(v);
    assert_int_equal(v->kind, AMQP_FIELD_KIND_I64);
    assert_int_equal(v->value.i64, 7);
    v = header(&out, REPLAY_COUNT_HEADER);
    assert_non_null(v);
    assert_int_equal(v->kind, AMQP_FIELD_KIND_I64);
    assert_int_equal(v->value.i64, 3);
    assert_true(bytes_is(out.message_id, "m-1"));
    /* the counter appears once */
    {
        int i, n = 0;
        for (i = 0; i < out.headers.num_entries; i++)
            n += bytes_is(out.headers.entries[i].key, REPLAY_COUNT_HEADER);
        assert_int_equal(n, 1);
    }
    free(scratch);
}

static void test_replay_keep_headers_keeps_death_but_not_counters(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    amqp_basic_properties_t out;
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    (void)state;

    options(&o);
    o.keep_headers = true;
    msg_init(&m);
    died_once(&m, "orders.placed", "rejected");
    add_header(&m, long_entry("x-delivery-count", 3));
    replay_decide(&o, &m.p, NOW, &d);
    replay_build_props(&o, &d, &m.p, &out, &scratch, &cap);
    assert_non_null(header(&out, "x-death"));
    assert_non_null(header(&out, "x-first-death-queue"));
    assert_null(header(&out, "x-delivery-count"));
    assert_int_equal(header(&out, REPLAY_COUNT_HEADER)->value.i64, 1);
    free(scratch);
}

static void test_replay_parked_copy_keeps_its_history(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    amqp_basic_properties_t out;
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    (void)state;

    options(&o);
    o.park_queue = "parked";
    msg_init(&m);
    died_once(&m, "orders.placed", "rejected");
    add_header(&m, long_entry(REPLAY_COUNT_HEADER, 5));
    replay_decide(&o, &m.p, NOW, &d);
    assert_int_equal(d.action, ACT_PARK);
    replay_build_props(&o, &d, &m.p, &out, &scratch, &cap);
    assert_non_null(header(&out, "x-death"));
    assert_int_equal(header(&out, REPLAY_COUNT_HEADER)->value.i64, 5);
    free(scratch);
}

static void test_replay_to_origin_sets_cc_as_an_array(void **state)
{
    struct replay_options o;
    struct replay_decision d;
    struct msg m;
    amqp_basic_properties_t out;
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    const amqp_field_value_t *cc;
    const char *q[] = {"a"}, *r[] = {"rejected"}, *x[] = {"ex"}, *k[] = {"k1", "k2"};
    (void)state;

    options(&o);
    o.route = ROUTE_ORIGIN;
    msg_init(&m);
    add_deaths(&m, 1, q, r, x, 2, k, NOW);
    replay_decide(&o, &m.p, NOW, &d);
    replay_build_props(&o, &d, &m.p, &out, &scratch, &cap);
    cc = header(&out, "CC");
    assert_non_null(cc);
    assert_int_equal(cc->kind, AMQP_FIELD_KIND_ARRAY);
    assert_int_equal(cc->value.array.num_entries, 1);
    assert_true(bytes_is(cc->value.array.entries[0].value.bytes, "k2"));
    free(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_death_reads_the_most_recent_entry_not_the_first_death),
        cmocka_unit_test(test_death_falls_back_to_first_death_headers),
        cmocka_unit_test(test_death_ignores_entries_of_the_wrong_shape),
        cmocka_unit_test(test_death_headers_are_recognised),
        cmocka_unit_test(test_replay_goes_home_to_the_queue_it_died_in),
        cmocka_unit_test(test_replay_to_origin_uses_the_first_key_and_the_rest_as_cc),
        cmocka_unit_test(test_replay_without_death_has_no_home_unless_a_target_is_given),
        cmocka_unit_test(test_replay_filters_select_by_reason_queue_and_age),
        cmocka_unit_test(test_replay_filters_never_select_a_message_without_death),
        cmocka_unit_test(test_replay_guard_leaves_or_parks_at_max_replays),
        cmocka_unit_test(test_replay_copy_drops_death_headers_and_counts),
        cmocka_unit_test(test_replay_keep_headers_keeps_death_but_not_counters),
        cmocka_unit_test(test_replay_parked_copy_keeps_its_history),
        cmocka_unit_test(test_replay_to_origin_sets_cc_as_an_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
