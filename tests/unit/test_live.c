/*
 * test_live.c - reading the broker's answers into the model: GET /api/overview and
 * GET /api/definitions/{vhost} (broker-facts.md, "Reading the broker"), without a broker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brokerver.h"
#include "error.h"
#include "live.h"
#include "model.h"
#include "value.h"

/* What a 3.10.8 broker answers for GET /api/definitions/orders (its shape: per-vhost exports
 * have no users, vhosts or permissions, and their objects no "vhost"), plus built-ins and
 * server-named queues, which some versions and endpoints list and which are never managed. */
static const char realistic[] =
    "{\n"
    "  \"rabbit_version\": \"3.10.8\",\n"
    "  \"rabbitmq_version\": \"3.10.8\",\n"
    "  \"product_name\": \"RabbitMQ\",\n"
    "  \"product_version\": \"3.10.8\",\n"
    "  \"parameters\": [\n"
    "    {\"value\": {\"max-connections\": 100}, \"component\": \"vhost-limits\","
    " \"name\": \"limits\"}\n"
    "  ],\n"
    "  \"policies\": [\n"
    "    {\"name\": \"dlq-cap\", \"pattern\": \"\\\\.dlq$\", \"apply-to\": \"queues\",\n"
    "     \"definition\": {\"max-length\": 1000000, \"overflow\": \"reject-publish\"},"
    " \"priority\": 5},\n"
    "    {\"name\": \"ha\", \"pattern\": \".*\", \"apply-to\": \"all\",\n"
    "     \"definition\": {\"ha-mode\": \"exactly\", \"ha-params\": 2,"
    " \"ha-sync-mode\": \"automatic\"}, \"priority\": 0}\n"
    "  ],\n"
    "  \"queues\": [\n"
    "    {\"name\": \"orders.placed\", \"durable\": true, \"auto_delete\": false,\n"
    "     \"arguments\": {\"x-queue-type\": \"quorum\", \"x-delivery-limit\": 5,"
    " \"x-dead-letter-exchange\": \"orders.dlx\", \"x-dead-letter-strategy\": \"at-least-once\","
    " \"x-overflow\": \"reject-publish\"}},\n"
    "    {\"name\": \"orders.dlq\", \"durable\": true, \"auto_delete\": false,\n"
    "     \"arguments\": {\"x-message-ttl\": 604800000, \"x-max-priority\": 10}},\n"
    "    {\"name\": \"orders.audit.log\", \"durable\": true, \"auto_delete\": false,\n"
    "     \"arguments\": {\"x-queue-type\": \"stream\", \"x-max-age\": \"7D\","
    " \"x-max-length-bytes\": 20000000000}},\n"
    "    {\"name\": \"scratch\", \"durable\": false, \"auto_delete\": true, \"arguments\": {}},\n"
    "    {\"name\": \"amq.gen-JzTY20BRgKO-HjmUJj0wLg\", \"durable\": false,"
    " \"auto_delete\": false, \"arguments\": {}},\n"
    "    {\"name\": \"reply.to\", \"durable\": false, \"auto_delete\": true,"
    " \"exclusive\": true, \"arguments\": {}}\n"
    "  ],\n"
    "  \"exchanges\": [\n"
    "    {\"name\": \"orders\", \"type\": \"topic\", \"durable\": true, \"auto_delete\": false,"
    " \"internal\": false, \"arguments\": {\"alternate-exchange\": \"orders.unrouted\"}},\n"
    "    {\"name\": \"orders.dlx\", \"type\": \"topic\", \"durable\": true,"
    " \"auto_delete\": false, \"internal\": false, \"arguments\": {}},\n"
    "    {\"name\": \"orders.unrouted\", \"type\": \"fanout\", \"durable\": true,"
    " \"auto_delete\": false, \"internal\": false, \"arguments\": {}},\n"
    "    {\"name\": \"orders.audit\", \"type\": \"fanout\", \"durable\": false,"
    " \"auto_delete\": true, \"internal\": true, \"arguments\": {}},\n"
    "    {\"name\": \"\", \"type\": \"direct\", \"durable\": true, \"auto_delete\": false,"
    " \"internal\": false, \"arguments\": {}},\n"
    "    {\"name\": \"amq.direct\", \"type\": \"direct\", \"durable\": true,"
    " \"auto_delete\": false, \"internal\": false, \"arguments\": {}},\n"
    "    {\"name\": \"amq.topic\", \"type\": \"topic\", \"durable\": true,"
    " \"auto_delete\": false, \"internal\": false, \"arguments\": {}},\n"
    "    {\"name\": \"amq.rabbitmq.trace\", \"type\": \"topic\", \"durable\": true,"
    " \"auto_delete\": false, \"internal\": true, \"arguments\": {}}\n"
    "  ],\n"
    "  \"bindings\": [\n"
    "    {\"source\": \"orders\", \"vhost\": \"orders\", \"destination\": \"orders.placed\","
    " \"destination_type\": \"queue\", \"routing_key\": \"order.placed\", \"arguments\": {}},\n"
    "    {\"source\": \"orders.dlx\", \"vhost\": \"orders\", \"destination\": \"orders.dlq\","
    " \"destination_type\": \"queue\", \"routing_key\": \"#\", \"arguments\": {}},\n"
    "    {\"source\": \"orders\", \"vhost\": \"orders\", \"destination\": \"orders.audit\","
    " \"destination_type\": \"exchange\", \"routing_key\": \"order.*\","
    " \"arguments\": {\"x-match\": \"any\", \"region\": \"eu\"}},\n"
    "    {\"source\": \"\", \"vhost\": \"orders\", \"destination\": \"orders.dlq\","
    " \"destination_type\": \"queue\", \"routing_key\": \"orders.dlq\", \"arguments\": {}},\n"
    "    {\"source\": \"amq.topic\", \"vhost\": \"orders\", \"destination\": \"scratch\","
    " \"destination_type\": \"queue\", \"routing_key\": \"#\", \"arguments\": {}}\n"
    "  ]\n"
    "}\n";

struct lfx {
    struct topology t;
    struct vhost *vh;
    struct rmqt_error err;
    int rc;
};

static void parse(struct lfx *f, const char *json)
{
    topology_init(&f->t);
    rmqt_error_init(&f->err);
    f->vh = topology_add_vhost(&f->t, "orders");
    f->rc = live_parse_definitions(f->vh, json, strlen(json), &f->err);
}

static void parse_ok(struct lfx *f, const char *json)
{
    parse(f, json);
    if (f->rc != 0)
        print_error("%s\n", f->err.message);
    assert_int_equal(f->rc, 0);
}

static void lfx_release(struct lfx *f)
{
    topology_release(&f->t);
}

static const struct binding *find_binding(const struct vhost *vh, const char *source,
                                          const char *destination)
{
    size_t k;

    for (k = 0; k < vh->n_bindings; k++)
        if (strcmp(vh->bindings[k].source, source) == 0 &&
            strcmp(vh->bindings[k].destination, destination) == 0)
            return &vh->bindings[k];
    return NULL;
}

static const struct policy *find_policy(const struct vhost *vh, const char *name)
{
    size_t k;

    for (k = 0; k < vh->n_policies; k++)
        if (strcmp(vh->policies[k].name, name) == 0)
            return &vh->policies[k];
    return NULL;
}

static const struct tval *arg(const struct targs *args, const char *key)
{
    const struct targ *a = targs_get(args, key);
    if (!a)
        print_error("no argument '%s'\n", key);
    assert_non_null(a);
    assert_null(a->field); /* live arguments are all raw */
    return &a->val;
}

/* ---------------------------------------------------------------------------------------- */

static void test_live_parses_a_realistic_definitions_document(void **state)
{
    struct lfx f;
    (void)state;

    parse_ok(&f, realistic);
    assert_int_equal(f.vh->n_exchanges, 4);
    assert_int_equal(f.vh->n_queues, 4);
    assert_int_equal(f.vh->n_bindings, 4);
    assert_int_equal(f.vh->n_policies, 2);
    assert_string_equal(f.vh->name, "orders");
    lfx_release(&f);
}

static void test_live_reads_exchanges_with_type_flags_and_arguments(void **state)
{
    struct lfx f;
    const struct exchange *x;
    (void)state;

    parse_ok(&f, realistic);
    x = vhost_find_exchange(f.vh, "orders");
    assert_non_null(x);
    assert_string_equal(x->type, "topic");
    assert_true(x->durable.set && x->durable.value);
    assert_true(x->auto_delete.set && !x->auto_delete.value);
    assert_true(x->internal.set && !x->internal.value);
    assert_int_equal(x->args.n, 1);
    assert_string_equal(arg(&x->args, "alternate-exchange")->s, "orders.unrouted");
    x = vhost_find_exchange(f.vh, "orders.audit");
    assert_non_null(x);
    assert_false(x->durable.value);
    assert_true(x->auto_delete.value);
    assert_true(x->internal.value);
    lfx_release(&f);
}

static void test_live_skips_the_default_and_amq_exchanges(void **state)
{
    struct lfx f;
    (void)state;

    parse_ok(&f, realistic);
    assert_null(vhost_find_exchange(f.vh, ""));
    assert_null(vhost_find_exchange(f.vh, "amq.direct"));
    assert_null(vhost_find_exchange(f.vh, "amq.topic"));
    assert_null(vhost_find_exchange(f.vh, "amq.rabbitmq.trace"));
    lfx_release(&f);
}

static void test_live_skips_server_named_and_exclusive_queues(void **state)
{
    struct lfx f;
    (void)state;

    parse_ok(&f, realistic);
    assert_null(vhost_find_queue(f.vh, "amq.gen-JzTY20BRgKO-HjmUJj0wLg"));
    assert_null(vhost_find_queue(f.vh, "reply.to"));
    assert_non_null(vhost_find_queue(f.vh, "scratch"));
    lfx_release(&f);
}

static void test_live_moves_x_queue_type_into_the_queue_type(void **state)
{
    struct lfx f;
    const struct queue *q;
    (void)state;

    parse_ok(&f, realistic);
    q = vhost_find_queue(f.vh, "orders.placed");
    assert_non_null(q);
    assert_true(q->type_set);
    assert_int_equal(q->type, QT_QUORUM);
    assert_null(targs_get(&q->args, "x-queue-type"));
    assert_int_equal(q->args.n, 4);
    q = vhost_find_queue(f.vh, "orders.audit.log");
    assert_non_null(q);
    assert_int_equal(q->type, QT_STREAM);
    assert_null(targs_get(&q->args, "x-queue-type"));
    assert_int_equal(q->args.n, 2);
    lfx_release(&f);
}

static void test_live_queue_without_x_queue_type_is_classic(void **state)
{
    struct lfx f;
    const struct queue *q;
    (void)state;

    parse_ok(&f, realistic);
    q = vhost_find_queue(f.vh, "orders.dlq");
    assert_non_null(q);
    assert_true(q->type_set);
    assert_int_equal(q->type, QT_CLASSIC);
    assert_int_equal(q->args.n, 2);
    lfx_release(&f);
}

static void test_live_reads_queue_flags(void **state)
{
    struct lfx f;
    const struct queue *q;
    (void)state;

    parse_ok(&f, realistic);
    q = vhost_find_queue(f.vh, "scratch");
    assert_non_null(q);
    assert_true(q->durable.set);
    assert_false(q->durable.value);
    assert_true(q->auto_delete.set);
    assert_true(q->auto_delete.value);
    q = vhost_find_queue(f.vh, "orders.dlq");
    assert_true(q->durable.value);
    assert_false(q->auto_delete.value);
    assert_false(q->has_messages);
    lfx_release(&f);
}

static void test_live_keeps_argument_types(void **state)
{
    struct lfx f;
    const struct queue *q;
    const struct tval *v;
    (void)state;

    parse_ok(&f, "{\"queues\":[{\"name\":\"q\",\"durable\":true,\"auto_delete\":false,"
                 "\"arguments\":{\"x-int\":60000,\"x-str\":\"60000\",\"x-true\":true,"
                 "\"x-false\":false,\"x-double\":1.5,\"x-whole-double\":3.0,\"x-null\":null,"
                 "\"x-big\":9007199254740993,\"x-neg\":-7,"
                 "\"x-map\":{\"a\":1,\"b\":{\"c\":[1,\"two\"]}},"
                 "\"x-list\":[1,\"a\",false,2.5,null,{\"k\":\"v\"}],\"x-empty\":\"\"}}]}");
    q = vhost_find_queue(f.vh, "q");
    assert_non_null(q);
    assert_int_equal(q->args.n, 12);
    v = arg(&q->args, "x-int");
    assert_int_equal(v->kind, TV_INT);
    assert_int_equal(v->i, 60000);
    v = arg(&q->args, "x-str");
    assert_int_equal(v->kind, TV_STRING);
    assert_string_equal(v->s, "60000");
    assert_int_equal(v->len, 5);
    v = arg(&q->args, "x-true");
    assert_int_equal(v->kind, TV_BOOL);
    assert_true(v->b);
    v = arg(&q->args, "x-false");
    assert_int_equal(v->kind, TV_BOOL);
    assert_false(v->b);
    v = arg(&q->args, "x-double");
    assert_int_equal(v->kind, TV_DOUBLE);
    assert_true(v->d == 1.5);
    v = arg(&q->args, "x-whole-double");
    assert_int_equal(v->kind, TV_DOUBLE); /* JSON 3.0 is a double to the broker */
    assert_true(v->d == 3.0);
    assert_int_equal(arg(&q->args, "x-null")->kind, TV_NULL);
    v = arg(&q->args, "x-big");
    assert_int_equal(v->kind, TV_INT);
    assert_true(v->i == INT64_C(9007199254740993));
    assert_int_equal(arg(&q->args, "x-neg")->i, -7);
    v = arg(&q->args, "x-map");
    assert_int_equal(v->kind, TV_MAP);
    assert_int_equal(v->n, 2);
    assert_int_equal(tval_get(v, "a")->i, 1);
    v = tval_get(v, "b");
    assert_int_equal(v->kind, TV_MAP);
    v = tval_get(v, "c");
    assert_int_equal(v->kind, TV_LIST);
    assert_int_equal(v->n, 2);
    assert_int_equal(v->entries[0].val.i, 1);
    assert_string_equal(v->entries[1].val.s, "two");
    assert_null(v->entries[1].key);
    v = arg(&q->args, "x-list");
    assert_int_equal(v->kind, TV_LIST);
    assert_int_equal(v->n, 6);
    assert_int_equal(v->entries[0].val.kind, TV_INT);
    assert_int_equal(v->entries[1].val.kind, TV_STRING);
    assert_int_equal(v->entries[2].val.kind, TV_BOOL);
    assert_int_equal(v->entries[3].val.kind, TV_DOUBLE);
    assert_int_equal(v->entries[4].val.kind, TV_NULL);
    assert_int_equal(v->entries[5].val.kind, TV_MAP);
    v = arg(&q->args, "x-empty");
    assert_int_equal(v->kind, TV_STRING);
    assert_int_equal(v->len, 0);
    lfx_release(&f);
}

static void test_live_keeps_argument_order(void **state)
{
    struct lfx f;
    const struct queue *q;
    (void)state;

    parse_ok(&f, "{\"queues\":[{\"name\":\"q\",\"arguments\":"
                 "{\"x-c\":1,\"x-a\":2,\"x-b\":3}}]}");
    q = vhost_find_queue(f.vh, "q");
    assert_non_null(q);
    assert_int_equal(q->args.n, 3);
    assert_string_equal(q->args.v[0].key, "x-c");
    assert_string_equal(q->args.v[1].key, "x-a");
    assert_string_equal(q->args.v[2].key, "x-b");
    lfx_release(&f);
}

static void test_live_skips_bindings_of_the_default_exchange(void **state)
{
    struct lfx f;
    size_t k;
    (void)state;

    parse_ok(&f, realistic);
    for (k = 0; k < f.vh->n_bindings; k++)
        assert_string_not_equal(f.vh->bindings[k].source, "");
    lfx_release(&f);
}

static void test_live_keeps_bindings_from_amq_exchanges(void **state)
{
    struct lfx f;
    const struct binding *b;
    (void)state;

    /* amq.topic itself is built in, but a binding from it to a queue of ours is ours */
    parse_ok(&f, realistic);
    b = find_binding(f.vh, "amq.topic", "scratch");
    assert_non_null(b);
    assert_false(b->dest_is_exchange);
    assert_string_equal(b->routing_key, "#");
    lfx_release(&f);
}

static void test_live_reads_binding_fields(void **state)
{
    struct lfx f;
    const struct binding *b;
    (void)state;

    parse_ok(&f, realistic);
    b = find_binding(f.vh, "orders", "orders.placed");
    assert_non_null(b);
    assert_false(b->dest_is_exchange);
    assert_string_equal(b->routing_key, "order.placed");
    assert_int_equal(b->args.kind, TV_MAP);
    assert_int_equal(b->args.n, 0);
    assert_null(b->bind_queue);
    b = find_binding(f.vh, "orders", "orders.audit");
    assert_non_null(b);
    assert_true(b->dest_is_exchange);
    assert_string_equal(b->routing_key, "order.*");
    assert_int_equal(b->args.kind, TV_MAP);
    assert_int_equal(b->args.n, 2);
    assert_string_equal(tval_get(&b->args, "region")->s, "eu");
    lfx_release(&f);
}

static void test_live_binding_without_routing_key_or_arguments_gets_empty_ones(void **state)
{
    struct lfx f;
    const struct binding *b;
    (void)state;

    parse_ok(&f, "{\"bindings\":[{\"source\":\"x\",\"destination\":\"q\","
                 "\"destination_type\":\"queue\"}]}");
    assert_int_equal(f.vh->n_bindings, 1);
    b = &f.vh->bindings[0];
    assert_string_equal(b->routing_key, "");
    assert_int_equal(b->args.kind, TV_MAP);
    assert_int_equal(b->args.n, 0);
    lfx_release(&f);
}

static void test_live_reads_policies(void **state)
{
    struct lfx f;
    const struct policy *p;
    (void)state;

    parse_ok(&f, realistic);
    p = find_policy(f.vh, "dlq-cap");
    assert_non_null(p);
    assert_string_equal(p->pattern, "\\.dlq$");
    assert_string_equal(p->apply_to, "queues");
    assert_int_equal(p->priority, 5);
    assert_int_equal(p->definition.kind, TV_MAP);
    assert_int_equal(p->definition.n, 2);
    assert_int_equal(tval_get(&p->definition, "max-length")->kind, TV_INT);
    assert_int_equal(tval_get(&p->definition, "max-length")->i, 1000000);
    assert_string_equal(tval_get(&p->definition, "overflow")->s, "reject-publish");
    p = find_policy(f.vh, "ha");
    assert_non_null(p);
    assert_string_equal(p->apply_to, "all");
    assert_int_equal(p->priority, 0);
    assert_int_equal(tval_get(&p->definition, "ha-params")->i, 2);
    lfx_release(&f);
}

static void test_live_policy_without_apply_to_applies_to_all(void **state)
{
    struct lfx f;
    const struct policy *p;
    (void)state;

    parse_ok(&f, "{\"policies\":[{\"name\":\"p\",\"pattern\":\"^a\","
                 "\"definition\":{\"max-length\":1}}]}");
    p = find_policy(f.vh, "p");
    assert_non_null(p);
    assert_string_equal(p->apply_to, "all");
    assert_int_equal(p->priority, 0);
    lfx_release(&f);
}

static void test_live_indexes_the_vhost(void **state)
{
    struct lfx f;
    size_t k;
    (void)state;

    parse_ok(&f, realistic);
    for (k = 0; k < f.vh->n_queues; k++)
        assert_ptr_equal(vhost_find_queue(f.vh, f.vh->queues[k].name), &f.vh->queues[k]);
    for (k = 0; k < f.vh->n_exchanges; k++)
        assert_ptr_equal(vhost_find_exchange(f.vh, f.vh->exchanges[k].name), &f.vh->exchanges[k]);
    lfx_release(&f);
}

static void test_live_keeps_unicode_names(void **state)
{
    struct lfx f;
    (void)state;

    parse_ok(&f, "{\"queues\":[{\"name\":\"caf\\u00e9 \\u20ac/q\",\"arguments\":{}}],"
                 "\"exchanges\":[{\"name\":\"\xc3\xa9x\",\"type\":\"direct\"}]}");
    assert_non_null(vhost_find_queue(f.vh, "caf\xc3\xa9 \xe2\x82\xac/q"));
    assert_non_null(vhost_find_exchange(f.vh, "\xc3\xa9x"));
    lfx_release(&f);
}

static void test_live_empty_definitions_give_an_empty_vhost(void **state)
{
    struct lfx f;
    (void)state;

    parse_ok(&f, "{}");
    assert_int_equal(f.vh->n_exchanges + f.vh->n_queues + f.vh->n_bindings + f.vh->n_policies, 0);
    lfx_release(&f);
}

static void test_live_ignores_entries_of_the_wrong_shape(void **state)
{
    struct lfx f;
    (void)state;

    parse_ok(&f, "{\"queues\":[1,\"q\",null,{\"durable\":true},{\"name\":5}],"
                 "\"exchanges\":{\"name\":\"x\"},\"bindings\":\"b\",\"policies\":null}");
    assert_int_equal(f.vh->n_exchanges + f.vh->n_queues + f.vh->n_bindings + f.vh->n_policies, 0);
    lfx_release(&f);
}

static void test_live_malformed_json_is_an_error(void **state)
{
    struct lfx f;
    (void)state;

    parse(&f, "{\"queues\": [ {\"name\": \"q\", ");
    assert_int_equal(f.rc, -1);
    assert_int_equal(f.err.code, RMQT_ERR_PARSE);
    assert_true(strlen(f.err.message) > 0);
    assert_non_null(strstr(f.err.message, "orders"));
    lfx_release(&f);
}

static void test_live_json_that_is_not_an_object_is_an_error(void **state)
{
    struct lfx f;
    (void)state;

    parse(&f, "[{\"name\":\"q\"}]");
    assert_int_equal(f.rc, -1);
    assert_int_equal(f.err.code, RMQT_ERR_PARSE);
    assert_true(strlen(f.err.message) > 0);
    lfx_release(&f);
}

static void test_live_empty_body_is_an_error(void **state)
{
    struct lfx f;
    (void)state;

    parse(&f, "");
    assert_int_equal(f.rc, -1);
    assert_int_equal(f.err.code, RMQT_ERR_PARSE);
    lfx_release(&f);
}

static void test_live_reads_only_len_bytes(void **state)
{
    struct topology t;
    struct vhost *vh;
    struct rmqt_error err;
    const char json[] = "{\"queues\":[{\"name\":\"q\"}]}GARBAGE";
    (void)state;

    topology_init(&t);
    rmqt_error_init(&err);
    vh = topology_add_vhost(&t, "v");
    assert_int_equal(live_parse_definitions(vh, json, strlen(json) - strlen("GARBAGE"), &err), 0);
    assert_int_equal(vh->n_queues, 1);
    topology_release(&t);
}

/* An AMQP string may hold NUL bytes, and the management API writes them as \u0000; the model
 * keeps them (value.h: len, not strlen). One such argument must not make the whole vhost
 * unreadable. */
static void test_live_keeps_a_nul_inside_an_argument_string(void **state)
{
    struct lfx f;
    const struct queue *q;
    const struct targ *a;
    bool kept;
    (void)state;

    parse(&f, "{\"queues\":[{\"name\":\"q\",\"durable\":true,\"auto_delete\":false,"
              "\"arguments\":{\"x-foo\":\"a\\u0000b\"}}]}");
    q = f.rc == 0 ? vhost_find_queue(f.vh, "q") : NULL;
    a = q ? targs_get(&q->args, "x-foo") : NULL;
    kept = a && a->val.kind == TV_STRING && a->val.len == 3 && memcmp(a->val.s, "a\0b", 3) == 0;
    if (f.rc != 0)
        print_error("%s\n", f.err.message);
    lfx_release(&f);
    assert_true(kept);
}

/* Bindings to queues that are left out as built-ins (server-named amq.*, exclusive) are
 * theirs too: never touched (topology.md, "What is managed"), so not read as ours either
 * (otherwise `plan` reports them as unmanaged and `apply --prune` deletes them). */
static void test_live_skips_bindings_to_skipped_queues(void **state)
{
    struct lfx f;
    bool mine, theirs;
    (void)state;

    parse_ok(&f, "{\"queues\":[{\"name\":\"amq.gen-abc\",\"durable\":false,"
                 "\"auto_delete\":false,\"arguments\":{}},"
                 "{\"name\":\"mine\",\"durable\":true,\"auto_delete\":false,\"arguments\":{}}],"
                 "\"exchanges\":[{\"name\":\"x\",\"type\":\"direct\"}],"
                 "\"bindings\":[{\"source\":\"x\",\"destination\":\"amq.gen-abc\","
                 "\"destination_type\":\"queue\",\"routing_key\":\"k\",\"arguments\":{}},"
                 "{\"source\":\"x\",\"destination\":\"mine\",\"destination_type\":\"queue\","
                 "\"routing_key\":\"k\",\"arguments\":{}}]}");
    mine = find_binding(f.vh, "x", "mine") != NULL;
    theirs = find_binding(f.vh, "x", "amq.gen-abc") != NULL;
    lfx_release(&f);
    assert_true(mine);
    assert_false(theirs);
}

/* ---------------------------------------------------------------------------------------- */

static void test_live_json_to_tval_maps_every_json_type(void **state)
{
    json_error_t jerr;
    json_t *j = json_loads("{\"i\":-3,\"s\":\"a\\u0000b\",\"t\":true,\"f\":false,\"d\":0.25,"
                           "\"n\":null,\"l\":[[],{}],\"m\":{\"x\":{\"y\":1}}}",
                           JSON_ALLOW_NUL, &jerr);
    struct tval v, expect;
    const struct tval *e;
    (void)state;

    assert_non_null(j);
    live_json_to_tval(j, &v);
    assert_int_equal(v.kind, TV_MAP);
    assert_int_equal(v.n, 8);
    assert_string_equal(v.entries[0].key, "i");
    assert_int_equal(tval_get(&v, "i")->i, -3);
    e = tval_get(&v, "s");
    assert_int_equal(e->kind, TV_STRING);
    assert_int_equal(e->len, 3); /* the NUL is kept: len, not strlen */
    assert_memory_equal(e->s, "a\0b", 3);
    assert_int_equal(tval_get(&v, "t")->kind, TV_BOOL);
    assert_true(tval_get(&v, "t")->b);
    assert_false(tval_get(&v, "f")->b);
    assert_int_equal(tval_get(&v, "d")->kind, TV_DOUBLE);
    assert_true(tval_get(&v, "d")->d == 0.25);
    assert_int_equal(tval_get(&v, "n")->kind, TV_NULL);
    e = tval_get(&v, "l");
    assert_int_equal(e->kind, TV_LIST);
    assert_int_equal(e->n, 2);
    assert_int_equal(e->entries[0].val.kind, TV_LIST);
    assert_int_equal(e->entries[1].val.kind, TV_MAP);
    e = tval_get(tval_get(tval_get(&v, "m"), "x"), "y");
    assert_non_null(e);
    assert_int_equal(e->i, 1);
    /* a copy is equal, and the conversion is deterministic */
    tval_copy(&expect, &v);
    assert_true(tval_equal(&v, &expect));
    tval_release(&expect);
    live_json_to_tval(j, &expect);
    assert_true(tval_equal(&v, &expect));
    tval_release(&expect);
    tval_release(&v);
    json_decref(j);
}

static void test_live_json_to_tval_of_a_scalar(void **state)
{
    json_t *j = json_integer(42);
    struct tval v;
    (void)state;

    live_json_to_tval(j, &v);
    assert_int_equal(v.kind, TV_INT);
    assert_int_equal(v.i, 42);
    tval_release(&v);
    json_decref(j);
}

/* ---------------------------------------------------------------------------------------- */

static void test_live_overview_reads_the_version(void **state)
{
    struct rmqt_broker_info info;
    struct rmqt_error err;
    const char json[] = "{\"management_version\":\"3.10.8\",\"rates_mode\":\"basic\","
                        "\"product_version\":\"3.10.8\",\"product_name\":\"RabbitMQ\","
                        "\"rabbitmq_version\":\"3.10.8\",\"cluster_name\":\"rabbit@host\","
                        "\"erlang_version\":\"25.2.1\",\"node\":\"rabbit@host\"}";
    (void)state;

    rmqt_error_init(&err);
    assert_int_equal(rmqt_broker_info_parse(json, strlen(json), &info, &err), 0);
    assert_int_equal(info.version.major, 3);
    assert_int_equal(info.version.minor, 10);
    assert_int_equal(info.version.patch, 8);
    assert_string_equal(info.version_str, "3.10.8");
    assert_string_equal(info.cluster_name, "rabbit@host");
}

static void test_live_overview_falls_back_to_product_version(void **state)
{
    struct rmqt_broker_info info;
    struct rmqt_error err;
    const char json[] = "{\"product_version\":\"4.0.5\",\"product_name\":\"RabbitMQ\"}";
    (void)state;

    rmqt_error_init(&err);
    assert_int_equal(rmqt_broker_info_parse(json, strlen(json), &info, &err), 0);
    assert_int_equal(info.version.major, 4);
    assert_int_equal(info.version.minor, 0);
    assert_int_equal(info.version.patch, 5);
    assert_string_equal(info.cluster_name, "");
}

static void test_live_overview_without_a_version_is_an_error(void **state)
{
    struct rmqt_broker_info info;
    struct rmqt_error err;
    const char json[] = "{\"cluster_name\":\"c\",\"node\":\"rabbit@host\"}";
    (void)state;

    rmqt_error_init(&err);
    assert_int_equal(rmqt_broker_info_parse(json, strlen(json), &info, &err), -1);
    assert_int_equal(err.code, RMQT_ERR_PARSE);
    assert_non_null(strstr(err.message, "version"));
}

static void test_live_overview_with_an_unreadable_version_is_an_error(void **state)
{
    struct rmqt_broker_info info;
    struct rmqt_error err;
    const char json[] = "{\"rabbitmq_version\":\"banana\"}";
    (void)state;

    rmqt_error_init(&err);
    assert_int_equal(rmqt_broker_info_parse(json, strlen(json), &info, &err), -1);
    assert_int_equal(err.code, RMQT_ERR_PARSE);
}

static void test_live_overview_malformed_json_is_an_error(void **state)
{
    struct rmqt_broker_info info;
    struct rmqt_error err;
    const char html[] = "<html><body>502 Bad Gateway</body></html>";
    (void)state;

    rmqt_error_init(&err);
    assert_int_equal(rmqt_broker_info_parse(html, strlen(html), &info, &err), -1);
    assert_int_equal(err.code, RMQT_ERR_PARSE);
    assert_true(strlen(err.message) > 0);
    rmqt_error_init(&err);
    assert_int_equal(rmqt_broker_info_parse("[]", 2, &info, &err), -1);
    assert_int_equal(err.code, RMQT_ERR_PARSE);
}

static void test_live_overview_cuts_an_overlong_cluster_name(void **state)
{
    struct rmqt_broker_info info;
    struct rmqt_error err;
    char json[600];
    char name[400];
    (void)state;

    memset(name, 'c', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(json, sizeof(json), "{\"rabbitmq_version\":\"3.10.8\",\"cluster_name\":\"%s\"}", name);
    rmqt_error_init(&err);
    assert_int_equal(rmqt_broker_info_parse(json, strlen(json), &info, &err), 0);
    assert_int_equal(strlen(info.cluster_name), sizeof(info.cluster_name) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_parses_a_realistic_definitions_document),
        cmocka_unit_test(test_live_reads_exchanges_with_type_flags_and_arguments),
        cmocka_unit_test(test_live_skips_the_default_and_amq_exchanges),
        cmocka_unit_test(test_live_skips_server_named_and_exclusive_queues),
        cmocka_unit_test(test_live_moves_x_queue_type_into_the_queue_type),
        cmocka_unit_test(test_live_queue_without_x_queue_type_is_classic),
        cmocka_unit_test(test_live_reads_queue_flags),
        cmocka_unit_test(test_live_keeps_argument_types),
        cmocka_unit_test(test_live_keeps_argument_order),
        cmocka_unit_test(test_live_skips_bindings_of_the_default_exchange),
        cmocka_unit_test(test_live_keeps_bindings_from_amq_exchanges),
        cmocka_unit_test(test_live_reads_binding_fields),
        cmocka_unit_test(test_live_binding_without_routing_key_or_arguments_gets_empty_ones),
        cmocka_unit_test(test_live_reads_policies),
        cmocka_unit_test(test_live_policy_without_apply_to_applies_to_all),
        cmocka_unit_test(test_live_indexes_the_vhost),
        cmocka_unit_test(test_live_keeps_unicode_names),
        cmocka_unit_test(test_live_empty_definitions_give_an_empty_vhost),
        cmocka_unit_test(test_live_ignores_entries_of_the_wrong_shape),
        cmocka_unit_test(test_live_malformed_json_is_an_error),
        cmocka_unit_test(test_live_json_that_is_not_an_object_is_an_error),
        cmocka_unit_test(test_live_empty_body_is_an_error),
        cmocka_unit_test(test_live_reads_only_len_bytes),
        cmocka_unit_test(test_live_keeps_a_nul_inside_an_argument_string),
        cmocka_unit_test(test_live_skips_bindings_to_skipped_queues),
        cmocka_unit_test(test_live_json_to_tval_maps_every_json_type),
        cmocka_unit_test(test_live_json_to_tval_of_a_scalar),
        cmocka_unit_test(test_live_overview_reads_the_version),
        cmocka_unit_test(test_live_overview_falls_back_to_product_version),
        cmocka_unit_test(test_live_overview_without_a_version_is_an_error),
        cmocka_unit_test(test_live_overview_with_an_unreadable_version_is_an_error),
        cmocka_unit_test(test_live_overview_malformed_json_is_an_error),
        cmocka_unit_test(test_live_overview_cuts_an_overlong_cluster_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
