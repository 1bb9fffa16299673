/*
 * test_diff.c - the plan: the file's model (loaded from YAML) against the broker's (parsed
 * from GET /api/definitions/{vhost} JSON), as cli.md's "plan / apply" and broker-facts.md's
 * "Declaring and what the broker compares" / "Changing things: in place or not" describe it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "diff.h"
#include "error.h"
#include "live.h"
#include "load.h"
#include "model.h"
#include "strbuf.h"
#include "value.h"

/* Tests never read the process environment: every variable is unset. */
static const char *no_env(const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    return NULL;
}

/* A plan of a file against a broker, with both models (the plan borrows from them). */
struct fx {
    struct topology want, live;
    struct plan plan;
};

static void print_diags(const struct diag_list *dl)
{
    size_t k;

    for (k = 0; k < dl->n; k++)
        print_error("%s:%d:%d: %s: %s\n", dl->v[k].file, dl->v[k].pos.line, dl->v[k].pos.col,
                    dl->v[k].path, dl->v[k].message);
}

static void load_desired(struct topology *t, const char *yaml)
{
    struct load_options opts;
    struct diag_list dl;
    int rc;

    memset(&opts, 0, sizeof(opts));
    opts.env = no_env;
    topology_init(t);
    diag_list_init(&dl);
    rc = topology_load_buffer(t, "test.yaml", yaml, strlen(yaml), &opts, &dl);
    if (rc != 0 || dl.errors)
        print_diags(&dl);
    assert_int_equal(rc, 0);
    assert_int_equal(dl.errors, 0);
    diag_list_release(&dl);
}

/* Adds vhost `name` to live, read from a definitions document. */
static void add_live_vhost(struct topology *live, const char *name, const char *json)
{
    struct rmqt_error err;
    struct vhost *vh = topology_add_vhost(live, name);
    int rc;

    rmqt_error_init(&err);
    rc = live_parse_definitions(vh, json, strlen(json), &err);
    if (rc != 0)
        print_error("%s\n", err.message);
    assert_int_equal(rc, 0);
}

/* A definitions document (3.10's shape) with these JSON arrays (NULL: empty). */
static void add_array(struct strbuf *sb, const char *key, const char *objects)
{
    size_t len = objects ? strlen(objects) : 0;

    if (len && objects[len - 1] == ',')
        len--; /* the objects' macros end each with a comma */
    strbuf_addf(sb, ",\"%s\":[", key);
    if (len)
        strbuf_add(sb, objects, len);
    strbuf_addc(sb, ']');
}

static char *defs(const char *exchanges, const char *queues, const char *bindings,
                  const char *policies)
{
    struct strbuf sb = {0};

    strbuf_adds(&sb, "{\"rabbit_version\":\"3.10.8\",\"rabbitmq_version\":\"3.10.8\","
                     "\"product_name\":\"RabbitMQ\",\"product_version\":\"3.10.8\","
                     "\"parameters\":[]");
    add_array(&sb, "policies", policies);
    add_array(&sb, "queues", queues);
    add_array(&sb, "exchanges", exchanges);
    add_array(&sb, "bindings", bindings);
    strbuf_addc(&sb, '}');
    return strbuf_detach(&sb, NULL);
}

/* Plans yaml (whose only vhost is "v") against a broker whose vhost "v" holds these. */
static void plan_against(struct fx *f, const char *yaml, const char *exchanges, const char *queues,
                         const char *bindings, const char *policies, bool prune)
{
    struct diff_options opts = {.prune = prune};
    char *json = defs(exchanges, queues, bindings, policies);

    memset(f, 0, sizeof(*f));
    load_desired(&f->want, yaml);
    topology_init(&f->live);
    add_live_vhost(&f->live, "v", json);
    free(json);
    plan_init(&f->plan);
    plan_compute(&f->plan, &f->want, &f->live, &opts);
}

static void fx_release(struct fx *f)
{
    plan_release(&f->plan);
    topology_release(&f->want);
    topology_release(&f->live);
}

static void print_plan(const struct plan *p)
{
    size_t k, j;

    for (k = 0; k < p->n; k++) {
        const struct change *c = &p->v[k];
        print_error("  %s %s vhost=%s name=%s src=%s dst=%s rk=%s note=%s\n",
                    change_action_name(c->action), change_kind_name(c->kind), c->vhost,
                    c->name ? c->name : "-", c->source ? c->source : "-",
                    c->destination ? c->destination : "-", c->routing_key ? c->routing_key : "-",
                    c->note ? c->note : "-");
        for (j = 0; j < c->n_fields; j++)
            print_error("    field %s old=%d new=%d\n", c->fields[j].field, c->fields[j].has_old,
                        c->fields[j].has_new);
    }
}

static void expect_plan_size(const struct plan *p, size_t n)
{
    if (p->n != n)
        print_plan(p);
    assert_int_equal(p->n, n);
}

/* The one change of this action, kind and name (bindings: NULL name), or NULL. */
static const struct change *find_change(const struct plan *p, enum change_action a,
                                        enum change_kind k, const char *name)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        const struct change *c = &p->v[i];
        if (c->action == a && c->kind == k &&
            (name ? c->name && strcmp(c->name, name) == 0 : c->name == NULL))
            return c;
    }
    return NULL;
}

static const struct change *find_binding(const struct plan *p, enum change_action a,
                                         const char *source, const char *destination,
                                         const char *routing_key)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        const struct change *c = &p->v[i];
        if (c->action == a && c->kind == CK_BINDING && strcmp(c->source, source) == 0 &&
            strcmp(c->destination, destination) == 0 && strcmp(c->routing_key, routing_key) == 0)
            return c;
    }
    return NULL;
}

static const struct change *must_find(const struct plan *p, enum change_action a,
                                      enum change_kind k, const char *name)
{
    const struct change *c = find_change(p, a, k, name);
    if (!c) {
        print_error("no %s of %s '%s' in the plan:\n", change_action_name(a), change_kind_name(k),
                    name ? name : "(binding)");
        print_plan(p);
    }
    assert_non_null(c);
    return c;
}

static const struct change_field *find_field(const struct change *c, const char *field)
{
    size_t k;

    for (k = 0; k < c->n_fields; k++)
        if (strcmp(c->fields[k].field, field) == 0)
            return &c->fields[k];
    return NULL;
}

static const struct change_field *must_field(const struct change *c, const char *field)
{
    const struct change_field *f = find_field(c, field);
    if (!f) {
        size_t k;
        print_error("no field '%s' in the change of '%s'; it has:\n", field,
                    c->name ? c->name : "(binding)");
        for (k = 0; k < c->n_fields; k++)
            print_error("  %s\n", c->fields[k].field);
    }
    assert_non_null(f);
    return f;
}

static void expect_int_field(const struct change *c, const char *field, int64_t old_value,
                             int64_t new_value)
{
    const struct change_field *f = must_field(c, field);
    assert_true(f->has_old);
    assert_true(f->has_new);
    assert_int_equal(f->old_value.kind, TV_INT);
    assert_int_equal(f->new_value.kind, TV_INT);
    assert_int_equal(f->old_value.i, old_value);
    assert_int_equal(f->new_value.i, new_value);
}

static void expect_str_field(const struct change *c, const char *field, const char *old_value,
                             const char *new_value)
{
    const struct change_field *f = must_field(c, field);
    assert_true(f->has_old);
    assert_true(f->has_new);
    assert_int_equal(f->old_value.kind, TV_STRING);
    assert_int_equal(f->new_value.kind, TV_STRING);
    assert_string_equal(f->old_value.s, old_value);
    assert_string_equal(f->new_value.s, new_value);
}

static void expect_bool_field(const struct change *c, const char *field, bool old_value,
                              bool new_value)
{
    const struct change_field *f = must_field(c, field);
    assert_true(f->has_old);
    assert_true(f->has_new);
    assert_int_equal(f->old_value.kind, TV_BOOL);
    assert_int_equal(f->new_value.kind, TV_BOOL);
    assert_int_equal(f->old_value.b, old_value);
    assert_int_equal(f->new_value.b, new_value);
}

/* ---------------------------------------------------------------------------------------- */

/* One object of a definitions array, with its trailing comma (defs() drops the last). */
#define Q(name, args)                                                                              \
    "{\"name\":\"" name "\",\"durable\":true,\"auto_delete\":false,\"arguments\":" args "},"
#define X(name, type, args)                                                                        \
    "{\"name\":\"" name "\",\"type\":\"" type "\",\"durable\":true,\"auto_delete\":false,"         \
    "\"internal\":false,\"arguments\":" args "},"
#define BQ(src, dst, rk, args)                                                                     \
    "{\"source\":\"" src "\",\"destination\":\"" dst "\",\"destination_type\":\"queue\","          \
    "\"routing_key\":\"" rk "\",\"arguments\":" args "},"
#define BX(src, dst, rk, args)                                                                     \
    "{\"source\":\"" src "\",\"destination\":\"" dst "\",\"destination_type\":\"exchange\","       \
    "\"routing_key\":\"" rk "\",\"arguments\":" args "},"
#define P(name, pattern, apply, def, prio)                                                         \
    "{\"name\":\"" name "\",\"pattern\":\"" pattern "\",\"apply-to\":\"" apply "\","               \
    "\"definition\":" def ",\"priority\":" #prio "},"

static const char full_yaml[] =
    "version: 1\n"
    "vhosts:\n"
    "  v:\n"
    "    exchanges:\n"
    "      orders: { type: topic, alternate_exchange: orders.unrouted }\n"
    "      orders.dlx: { type: topic }\n"
    "      orders.unrouted: { type: fanout }\n"
    "      orders.audit: { type: fanout, internal: true }\n"
    "      hdr: { type: headers }\n"
    "    queues:\n"
    "      orders.placed:\n"
    "        type: quorum\n"
    "        message_ttl: 7d\n"
    "        max_length: 100000\n"
    "        overflow: reject-publish\n"
    "        dead_letter_exchange: orders.dlx\n"
    "        dead_letter_strategy: at-least-once\n"
    "        delivery_limit: 5\n"
    "        bind:\n"
    "          - { exchange: orders, routing_key: order.placed }\n"
    "      orders.dlq:\n"
    "        message_ttl: 1h\n"
    "        arguments: { x-max-priority: 10 }\n"
    "        bind:\n"
    "          - { exchange: orders.dlx, routing_key: \"#\" }\n"
    "          - { exchange: hdr, arguments: { x-match: all, a: 1 } }\n"
    "      orders.audit.log:\n"
    "        type: stream\n"
    "        max_age: 7d\n"
    "        max_length_bytes: 20GB\n"
    "    bindings:\n"
    "      - { source: orders, destination: orders.audit, destination_type: exchange,"
    " routing_key: \"order.*\" }\n"
    "      - { source: orders.audit, destination: orders.audit.log }\n"
    "    policies:\n"
    "      dlq-cap:\n"
    "        pattern: \"\\\\.dlq$\"\n"
    "        apply_to: queues\n"
    "        priority: 1\n"
    "        definition: { max-length: 1000000, overflow: reject-publish }\n";

static const char full_exchanges[] =
    "{\"name\":\"orders\",\"type\":\"topic\",\"durable\":true,\"auto_delete\":false,"
    "\"internal\":false,\"arguments\":{\"alternate-exchange\":\"orders.unrouted\"}},"
    "{\"name\":\"orders.dlx\",\"type\":\"topic\",\"durable\":true,\"auto_delete\":false,"
    "\"internal\":false,\"arguments\":{}},"
    "{\"name\":\"orders.unrouted\",\"type\":\"fanout\",\"durable\":true,"
    "\"auto_delete\":false,\"internal\":false,\"arguments\":{}},"
    "{\"name\":\"orders.audit\",\"type\":\"fanout\",\"durable\":true,"
    "\"auto_delete\":false,\"internal\":true,\"arguments\":{}},"
    "{\"name\":\"hdr\",\"type\":\"headers\",\"durable\":true,\"auto_delete\":false,"
    "\"internal\":false,\"arguments\":{}}";

static const char full_queues[] =
    "{\"name\":\"orders.placed\",\"durable\":true,\"auto_delete\":false,\"arguments\":"
    "{\"x-queue-type\":\"quorum\",\"x-message-ttl\":604800000,\"x-max-length\":100000,"
    "\"x-overflow\":\"reject-publish\",\"x-dead-letter-exchange\":\"orders.dlx\","
    "\"x-dead-letter-strategy\":\"at-least-once\",\"x-delivery-limit\":5}},"
    "{\"name\":\"orders.dlq\",\"durable\":true,\"auto_delete\":false,\"arguments\":"
    "{\"x-max-priority\":10,\"x-message-ttl\":3600000}},"
    "{\"name\":\"orders.audit.log\",\"durable\":true,\"auto_delete\":false,\"arguments\":"
    "{\"x-queue-type\":\"stream\",\"x-max-age\":\"7D\",\"x-max-length-bytes\":20000000000}}";

static const char full_bindings[] =
    "{\"source\":\"orders\",\"destination\":\"orders.placed\",\"destination_type\":\"queue\","
    "\"routing_key\":\"order.placed\",\"arguments\":{}},"
    "{\"source\":\"orders.dlx\",\"destination\":\"orders.dlq\",\"destination_type\":\"queue\","
    "\"routing_key\":\"#\",\"arguments\":{}},"
    "{\"source\":\"hdr\",\"destination\":\"orders.dlq\",\"destination_type\":\"queue\","
    "\"routing_key\":\"\",\"arguments\":{\"a\":1,\"x-match\":\"all\"}},"
    "{\"source\":\"orders\",\"destination\":\"orders.audit\","
    "\"destination_type\":\"exchange\",\"routing_key\":\"order.*\",\"arguments\":{}},"
    "{\"source\":\"orders.audit\",\"destination\":\"orders.audit.log\","
    "\"destination_type\":\"queue\",\"routing_key\":\"\",\"arguments\":{}}";

static const char full_policies[] =
    "{\"name\":\"dlq-cap\",\"pattern\":\"\\\\.dlq$\",\"apply-to\":\"queues\","
    "\"definition\":{\"overflow\":\"reject-publish\",\"max-length\":1000000},\"priority\":1}";

static void test_diff_identical_models_give_an_empty_plan(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, full_yaml, full_exchanges, full_queues, full_bindings, full_policies, false);
    /* both sides hold everything: the empty plan is not from an empty model */
    assert_int_equal(f.live.vhosts[0].n_exchanges, 5);
    assert_int_equal(f.live.vhosts[0].n_queues, 3);
    assert_int_equal(f.live.vhosts[0].n_bindings, 5);
    assert_int_equal(f.live.vhosts[0].n_policies, 1);
    assert_int_equal(f.want.vhosts[0].n_bindings, 5);
    expect_plan_size(&f.plan, 0);
    assert_int_equal(plan_change_count(&f.plan), 0);
    fx_release(&f);
}

static void test_diff_identical_models_with_prune_give_an_empty_plan(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, full_yaml, full_exchanges, full_queues, full_bindings, full_policies, true);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_unset_queue_fields_equal_a_durable_classic_live_queue(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: {}\n      r:\n", NULL,
                 Q("q", "{}") Q("r", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

/* From 3.11 a vhost may have a default queue type: a queue the file leaves untyped is
 * declared without x-queue-type and gets it, so it must compare with that type. */
static void test_diff_untyped_queue_compares_with_the_vhost_default_type(void **state)
{
    struct topology want, live;
    struct plan plan;
    char *doc = defs(NULL, Q("q", "{\"x-queue-type\":\"quorum\"}"), NULL, NULL);
    const char *info = "{\"name\":\"v\",\"default_queue_type\":\"quorum\"}";
    (void)state;

    load_desired(&want, "version: 1\nvhosts:\n  v:\n    queues:\n      q: {}\n");
    topology_init(&live);
    add_live_vhost(&live, "v", doc);
    live_parse_vhost_info(&live.vhosts[0], info, strlen(info));
    plan_init(&plan);
    plan_compute(&plan, &want, &live, NULL);
    assert_int_equal(plan.n, 0);
    plan_release(&plan);
    /* without the default (3.10 says "undefined"), the same pair is a replace */
    {
        const char *undefined = "{\"default_queue_type\":\"undefined\"}";
        live.vhosts[0].has_default_type = false;
        live_parse_vhost_info(&live.vhosts[0], undefined, strlen(undefined));
        assert_false(live.vhosts[0].has_default_type);
    }
    plan_init(&plan);
    plan_compute(&plan, &want, &live, NULL);
    assert_int_equal(plan.n, 1);
    assert_int_equal(plan.v[0].action, CH_REPLACE);
    plan_release(&plan);
    free(doc);
    topology_release(&want);
    topology_release(&live);
}

static void test_diff_live_queue_without_x_queue_type_equals_type_classic(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { type: classic }\n", NULL,
                 Q("q", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_live_x_queue_type_classic_equals_unset_type(void **state)
{
    struct fx f;
    (void)state;

    /* 3.13.4+ fills x-queue-type in for queues that never set one */
    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: {}\n", NULL,
                 Q("q", "{\"x-queue-type\":\"classic\"}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_unset_exchange_flags_equal_live_defaults(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n",
                 X("x", "direct", "{}"), NULL, NULL, NULL, false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_missing_queue_is_a_create(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { type: quorum }\n", NULL,
                 NULL, NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_CREATE, CK_QUEUE, "q");
    assert_string_equal(c->vhost, "v");
    /* a create lists what it sets, each with no old value: here only the type */
    assert_int_equal(c->n_fields, 1);
    assert_string_equal(c->fields[0].field, "type");
    assert_false(c->fields[0].has_old);
    assert_true(c->fields[0].has_new);
    assert_string_equal(c->fields[0].new_value.s, "quorum");
    assert_non_null(c->want_queue);
    assert_null(c->live_queue);
    assert_int_equal(f.plan.count[CH_CREATE], 1);
    assert_int_equal(plan_change_count(&f.plan), 1);
    fx_release(&f);
}

static void test_diff_missing_exchange_is_a_create(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: fanout }\n", NULL,
                 NULL, NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_CREATE, CK_EXCHANGE, "x");
    assert_string_equal(c->vhost, "v");
    assert_non_null(c->want_exchange);
    fx_release(&f);
}

static void test_diff_missing_binding_is_a_create(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n"
                 "    queues:\n      q:\n        bind: [ { exchange: x, routing_key: k } ]\n",
                 X("x", "direct", "{}"), Q("q", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = find_binding(&f.plan, CH_CREATE, "x", "q", "k");
    assert_non_null(c);
    assert_null(c->name);
    assert_false(c->dest_is_exchange);
    assert_int_equal(c->args.kind, TV_MAP);
    assert_int_equal(c->args.n, 0);
    assert_null(c->note);
    fx_release(&f);
}

static void test_diff_missing_policy_is_a_create(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    policies:\n"
                 "      p: { pattern: \"^a\", definition: { max-length: 5 } }\n",
                 NULL, NULL, NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_CREATE, CK_POLICY, "p");
    assert_non_null(c->want_policy);
    fx_release(&f);
}

static void test_diff_changed_queue_type_is_a_replace(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { type: quorum }\n", NULL,
                 Q("q", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    assert_int_equal(c->n_fields, 1);
    expect_str_field(c, "type", "classic", "quorum");
    assert_non_null(c->want_queue);
    assert_non_null(c->live_queue);
    assert_int_equal(f.plan.count[CH_REPLACE], 1);
    fx_release(&f);
}

static void test_diff_changed_queue_durable_is_a_replace(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { durable: false }\n", NULL,
                 Q("q", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    assert_int_equal(c->n_fields, 1);
    expect_bool_field(c, "durable", true, false);
    assert_null(c->note);
    fx_release(&f);
}

static void test_diff_changed_queue_auto_delete_is_a_replace(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: {}\n", NULL,
                 "{\"name\":\"q\",\"durable\":true,\"auto_delete\":true,\"arguments\":{}}", NULL,
                 NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    expect_bool_field(c, "auto_delete", true, false);
    fx_release(&f);
}

static void test_diff_changed_ttl_is_a_replace_with_old_and_new_values(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { message_ttl: 1m }\n", NULL,
                 Q("q", "{\"x-message-ttl\":5000}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    assert_int_equal(c->n_fields, 1);
    expect_int_field(c, "arguments.x-message-ttl", 5000, 60000);
    assert_null(c->note);
    fx_release(&f);
}

static void test_diff_argument_only_in_the_file_has_no_old_value(void **state)
{
    struct fx f;
    const struct change *c;
    const struct change_field *fl;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { max_length: 10 }\n", NULL,
                 Q("q", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    fl = must_field(c, "arguments.x-max-length");
    assert_false(fl->has_old);
    assert_int_equal(fl->old_value.kind, TV_NULL);
    assert_true(fl->has_new);
    assert_int_equal(fl->new_value.kind, TV_INT);
    assert_int_equal(fl->new_value.i, 10);
    fx_release(&f);
}

static void test_diff_argument_only_on_the_broker_is_a_replace(void **state)
{
    struct fx f;
    const struct change *c;
    const struct change_field *fl;
    (void)state;

    /* re-declaring without it is a 406: the broker compares what the queue type knows */
    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: {}\n", NULL,
                 Q("q", "{\"x-message-ttl\":5000}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    fl = must_field(c, "arguments.x-message-ttl");
    assert_true(fl->has_old);
    assert_int_equal(fl->old_value.kind, TV_INT);
    assert_int_equal(fl->old_value.i, 5000);
    assert_false(fl->has_new);
    assert_int_equal(fl->new_value.kind, TV_NULL);
    assert_null(c->note);
    fx_release(&f);
}

static void test_diff_string_is_not_equal_to_an_integer(void **state)
{
    struct fx f;
    const struct change *c;
    const struct change_field *fl;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    queues:\n"
                 "      q: { arguments: { x-message-ttl: \"60000\" } }\n",
                 NULL, Q("q", "{\"x-message-ttl\":60000}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    fl = must_field(c, "arguments.x-message-ttl");
    assert_int_equal(fl->old_value.kind, TV_INT);
    assert_int_equal(fl->old_value.i, 60000);
    assert_int_equal(fl->new_value.kind, TV_STRING);
    assert_string_equal(fl->new_value.s, "60000");
    fx_release(&f);
}

static void test_diff_equal_integers_are_equal(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    queues:\n"
                 "      q: { message_ttl: 1m, max_length_bytes: 1GiB,"
                 " arguments: { x-max-priority: 10 } }\n",
                 NULL,
                 Q("q", "{\"x-max-priority\":10,\"x-max-length-bytes\":1073741824,"
                        "\"x-message-ttl\":60000}"),
                 NULL, NULL, false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_max_age_compares_the_canonical_string(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    /* 7d is sent as "7D"; the broker compares x-max-age as a string: "168h" differs */
    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    queues:\n"
                 "      s1: { type: stream, max_age: 7d }\n"
                 "      s2: { type: stream, max_age: 1w }\n",
                 NULL,
                 Q("s1", "{\"x-queue-type\":\"stream\",\"x-max-age\":\"7D\"}")
                     Q("s2", "{\"x-queue-type\":\"stream\",\"x-max-age\":\"168h\"}"),
                 NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "s2");
    expect_str_field(c, "arguments.x-max-age", "168h", "7D");
    fx_release(&f);
}

static void test_diff_changed_exchange_type_is_a_replace(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: topic }\n",
                 X("x", "direct", "{}"), NULL, NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_EXCHANGE, "x");
    assert_int_equal(c->n_fields, 1);
    expect_str_field(c, "type", "direct", "topic");
    assert_null(c->note);
    assert_non_null(c->want_exchange);
    assert_non_null(c->live_exchange);
    fx_release(&f);
}

static void test_diff_changed_exchange_internal_is_a_replace(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n"
                 "      x: { type: direct, internal: true }\n",
                 X("x", "direct", "{}"), NULL, NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_EXCHANGE, "x");
    expect_bool_field(c, "internal", false, true);
    assert_null(c->note);
    fx_release(&f);
}

static void test_diff_changed_alternate_exchange_is_a_replace_without_note(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n"
                 "      x: { type: direct, alternate_exchange: b }\n      a: { type: fanout }\n"
                 "      b: { type: fanout }\n",
                 X("x", "direct", "{\"alternate-exchange\":\"a\"}") X("a", "fanout", "{}")
                     X("b", "fanout", "{}"),
                 NULL, NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_EXCHANGE, "x");
    expect_str_field(c, "arguments.alternate-exchange", "a", "b");
    assert_null(c->note);
    fx_release(&f);
}

static void test_diff_changed_other_exchange_argument_is_a_replace_with_note(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    /* the broker ignores it on re-declare: plan must still show it, and say why */
    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n"
                 "      x: { type: x-delayed-message, arguments: { x-delayed-type: topic } }\n",
                 X("x", "x-delayed-message", "{\"x-delayed-type\":\"direct\"}"), NULL, NULL, NULL,
                 false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_EXCHANGE, "x");
    expect_str_field(c, "arguments.x-delayed-type", "direct", "topic");
    assert_non_null(c->note);
    assert_true(strlen(c->note) > 0);
    fx_release(&f);
}

static void test_diff_unknown_queue_argument_is_a_replace_with_note(void **state)
{
    struct fx f;
    const struct change *c;
    const struct change_field *fl;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    queues:\n      q: { arguments: { x-foo: 2 } }\n",
                 NULL, Q("q", "{\"x-foo\":1}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    fl = must_field(c, "arguments.x-foo");
    assert_int_equal(fl->old_value.i, 1);
    assert_int_equal(fl->new_value.i, 2);
    assert_non_null(c->note);
    fx_release(&f);
}

static void test_diff_known_queue_argument_change_has_no_note(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    queues:\n"
                 "      q: { type: quorum, delivery_limit: 3 }\n",
                 NULL, Q("q", "{\"x-queue-type\":\"quorum\",\"x-delivery-limit\":5}"), NULL, NULL,
                 false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    expect_int_field(c, "arguments.x-delivery-limit", 5, 3);
    assert_null(c->note);
    fx_release(&f);
}

static const char policy_yaml[] = "version: 1\nvhosts:\n  v:\n    policies:\n"
                                  "      p:\n"
                                  "        pattern: \"^b\"\n"
                                  "        apply_to: queues\n"
                                  "        priority: 2\n"
                                  "        definition: { max-length: 20, message-ttl: 1000 }\n";

static void test_diff_changed_policy_is_an_update_with_every_field(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(&f, policy_yaml, NULL, NULL, NULL,
                 P("p", "^a", "all", "{\"max-length\":10,\"message-ttl\":1000}", 1), false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_UPDATE, CK_POLICY, "p");
    assert_int_equal(c->n_fields, 4);
    expect_int_field(c, "definition.max-length", 10, 20);
    expect_str_field(c, "pattern", "^a", "^b");
    expect_int_field(c, "priority", 1, 2);
    expect_str_field(c, "apply-to", "all", "queues");
    assert_null(find_field(c, "definition.message-ttl"));
    assert_non_null(c->want_policy);
    assert_non_null(c->live_policy);
    assert_int_equal(f.plan.count[CH_UPDATE], 1);
    assert_int_equal(f.plan.count[CH_REPLACE], 0);
    fx_release(&f);
}

static void test_diff_policy_definition_key_only_live_has_no_new_value(void **state)
{
    struct fx f;
    const struct change *c;
    const struct change_field *fl;
    (void)state;

    plan_against(
        &f, policy_yaml, NULL, NULL, NULL,
        P("p", "^b", "queues", "{\"max-length\":20,\"message-ttl\":1000,\"expires\":5000}", 2),
        false);
    expect_plan_size(&f.plan, 1);
    c = must_find(&f.plan, CH_UPDATE, CK_POLICY, "p");
    assert_int_equal(c->n_fields, 1);
    fl = must_field(c, "definition.expires");
    assert_true(fl->has_old);
    assert_int_equal(fl->old_value.i, 5000);
    assert_false(fl->has_new);
    fx_release(&f);
}

static void test_diff_identical_policy_is_no_change(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, policy_yaml, NULL, NULL, NULL,
                 P("p", "^b", "queues", "{\"message-ttl\":1000,\"max-length\":20}", 2), false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_policy_without_apply_to_equals_live_all(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    policies:\n"
                 "      p: { pattern: \".*\", definition: { max-length: 1 } }\n",
                 NULL, NULL, NULL, P("p", ".*", "all", "{\"max-length\":1}", 0), false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_binding_with_other_arguments_is_create_and_unmanaged(void **state)
{
    struct fx f;
    const struct change *create, *unmanaged;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      h: { type: headers }\n"
                 "    queues:\n      q:\n"
                 "        bind: [ { exchange: h, arguments: { x-match: any, a: 1 } } ]\n",
                 X("h", "headers", "{}"), Q("q", "{}"),
                 BQ("h", "q", "", "{\"x-match\":\"all\",\"a\":1}"), NULL, false);
    expect_plan_size(&f.plan, 2);
    create = find_binding(&f.plan, CH_CREATE, "h", "q", "");
    unmanaged = find_binding(&f.plan, CH_UNMANAGED, "h", "q", "");
    assert_non_null(create);
    assert_non_null(unmanaged);
    assert_string_equal(tval_get(&create->args, "x-match")->s, "any");
    assert_string_equal(tval_get(&unmanaged->args, "x-match")->s, "all");
    assert_int_equal(f.plan.count[CH_UPDATE], 0);
    assert_int_equal(f.plan.count[CH_REPLACE], 0);
    assert_int_equal(plan_change_count(&f.plan), 1);
    fx_release(&f);
}

static void test_diff_binding_with_other_routing_key_is_create_and_unmanaged(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n"
                 "    queues:\n      q:\n        bind: [ { exchange: x, routing_key: new } ]\n",
                 X("x", "direct", "{}"), Q("q", "{}"), BQ("x", "q", "old", "{}"), NULL, false);
    expect_plan_size(&f.plan, 2);
    assert_non_null(find_binding(&f.plan, CH_CREATE, "x", "q", "new"));
    assert_non_null(find_binding(&f.plan, CH_UNMANAGED, "x", "q", "old"));
    assert_int_equal(f.plan.count[CH_UPDATE], 0);
    fx_release(&f);
}

static void test_diff_binding_destination_type_is_part_of_its_identity(void **state)
{
    struct fx f;
    const struct change *create, *unmanaged;
    (void)state;

    /* a queue and an exchange may share a name */
    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: fanout }\n"
                 "      d: { type: fanout }\n"
                 "    queues:\n      d:\n        bind: [ { exchange: x } ]\n",
                 X("x", "fanout", "{}") X("d", "fanout", "{}"), Q("d", "{}"),
                 BX("x", "d", "", "{}"), NULL, false);
    expect_plan_size(&f.plan, 2);
    create = find_binding(&f.plan, CH_CREATE, "x", "d", "");
    unmanaged = find_binding(&f.plan, CH_UNMANAGED, "x", "d", "");
    assert_non_null(create);
    assert_non_null(unmanaged);
    assert_false(create->dest_is_exchange);
    assert_true(unmanaged->dest_is_exchange);
    fx_release(&f);
}

static void test_diff_binding_argument_order_does_not_matter(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      h: { type: headers }\n"
                 "    queues:\n      q:\n"
                 "        bind: [ { exchange: h, arguments: { x-match: all, a: 1, b: \"2\" } } ]\n",
                 X("h", "headers", "{}"), Q("q", "{}"),
                 BQ("h", "q", "", "{\"b\":\"2\",\"a\":1,\"x-match\":\"all\"}"), NULL, false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static void test_diff_bindings_list_and_bind_sugar_are_the_same_binding(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n"
                 "    queues:\n      q: {}\n"
                 "    bindings:\n      - { source: x, destination: q, routing_key: k }\n",
                 X("x", "direct", "{}"), Q("q", "{}"), BQ("x", "q", "k", "{}"), NULL, false);
    expect_plan_size(&f.plan, 0);
    fx_release(&f);
}

static const char extra_exchanges[] = X("x", "direct", "{}") X("extra.x", "topic", "{}");
static const char extra_queues[] = Q("q", "{}") Q("extra.q", "{}");
static const char extra_bindings[] = BQ("x", "q", "k", "{}") BQ("x", "extra.q", "e", "{}");
static const char extra_policies[] = P("extra.p", ".*", "all", "{\"max-length\":1}", 0);
static const char small_yaml[] =
    "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n"
    "    queues:\n      q:\n        bind: [ { exchange: x, routing_key: k } ]\n";

static void test_diff_extra_live_objects_are_unmanaged(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, small_yaml, extra_exchanges, extra_queues, extra_bindings, extra_policies,
                 false);
    expect_plan_size(&f.plan, 4);
    assert_non_null(must_find(&f.plan, CH_UNMANAGED, CK_QUEUE, "extra.q")->live_queue);
    assert_non_null(must_find(&f.plan, CH_UNMANAGED, CK_EXCHANGE, "extra.x")->live_exchange);
    assert_non_null(must_find(&f.plan, CH_UNMANAGED, CK_POLICY, "extra.p")->live_policy);
    assert_non_null(find_binding(&f.plan, CH_UNMANAGED, "x", "extra.q", "e"));
    assert_int_equal(f.plan.count[CH_UNMANAGED], 4);
    assert_int_equal(f.plan.count[CH_DELETE], 0);
    fx_release(&f);
}

static void test_diff_extra_live_objects_with_prune_are_deletes(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, small_yaml, extra_exchanges, extra_queues, extra_bindings, extra_policies,
                 true);
    expect_plan_size(&f.plan, 4);
    must_find(&f.plan, CH_DELETE, CK_QUEUE, "extra.q");
    must_find(&f.plan, CH_DELETE, CK_EXCHANGE, "extra.x");
    must_find(&f.plan, CH_DELETE, CK_POLICY, "extra.p");
    assert_non_null(find_binding(&f.plan, CH_DELETE, "x", "extra.q", "e"));
    assert_int_equal(f.plan.count[CH_DELETE], 4);
    assert_int_equal(f.plan.count[CH_UNMANAGED], 0);
    assert_int_equal(plan_change_count(&f.plan), 4);
    fx_release(&f);
}

static void test_diff_prune_deletes_bindings_before_their_queues_and_exchanges(void **state)
{
    struct fx f;
    size_t k, binding_at = 0, queue_at = 0, exchange_at = 0;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v: {}\n", X("x", "direct", "{}"), Q("q", "{}"),
                 BQ("x", "q", "k", "{}"), NULL, true);
    expect_plan_size(&f.plan, 3);
    for (k = 0; k < f.plan.n; k++) {
        if (f.plan.v[k].kind == CK_BINDING)
            binding_at = k;
        else if (f.plan.v[k].kind == CK_QUEUE)
            queue_at = k;
        else if (f.plan.v[k].kind == CK_EXCHANGE)
            exchange_at = k;
    }
    assert_true(binding_at < queue_at);
    assert_true(binding_at < exchange_at);
    fx_release(&f);
}

static void test_diff_plan_change_count_excludes_unmanaged(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n"
                 "      new.x: { type: direct }\n"
                 "    queues:\n      q:\n        bind: [ { exchange: x, routing_key: k } ]\n",
                 extra_exchanges, extra_queues, extra_bindings, extra_policies, false);
    expect_plan_size(&f.plan, 5);
    assert_int_equal(f.plan.count[CH_CREATE], 1);
    assert_int_equal(f.plan.count[CH_UNMANAGED], 4);
    assert_int_equal(plan_change_count(&f.plan), 1);
    fx_release(&f);
}

static void test_diff_bindings_of_a_replaced_queue_are_recreated(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    plan_against(
        &f,
        "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n"
        "    queues:\n"
        "      q:\n        type: quorum\n"
        "        bind: [ { exchange: x, routing_key: a }, { exchange: x, routing_key: b } ]\n"
        "      other:\n        bind: [ { exchange: x, routing_key: c } ]\n",
        X("x", "direct", "{}"), Q("q", "{}") Q("other", "{}"),
        BQ("x", "q", "a", "{}") BQ("x", "q", "b", "{}") BQ("x", "other", "c", "{}"), NULL, false);
    expect_plan_size(&f.plan, 3);
    must_find(&f.plan, CH_REPLACE, CK_QUEUE, "q");
    c = find_binding(&f.plan, CH_CREATE, "x", "q", "a");
    assert_non_null(c);
    assert_non_null(c->note);
    assert_non_null(strstr(c->note, "'q'"));
    assert_non_null(c->live_binding);
    c = find_binding(&f.plan, CH_CREATE, "x", "q", "b");
    assert_non_null(c);
    assert_non_null(c->note);
    assert_null(find_binding(&f.plan, CH_CREATE, "x", "other", "c"));
    assert_int_equal(f.plan.count[CH_UNMANAGED], 0);
    fx_release(&f);
}

static void test_diff_bindings_of_a_replaced_exchange_are_recreated(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    /* into and out of it: the source of a queue binding and the destination of an e2e one */
    plan_against(
        &f,
        "version: 1\nvhosts:\n  v:\n    exchanges:\n"
        "      up: { type: fanout }\n      x: { type: topic }\n"
        "      keep: { type: direct }\n"
        "    queues:\n      q:\n"
        "        bind: [ { exchange: x, routing_key: a }, { exchange: keep, routing_key: k } ]\n"
        "    bindings:\n"
        "      - { source: up, destination: x, destination_type: exchange }\n",
        X("up", "fanout", "{}") X("x", "direct", "{}") X("keep", "direct", "{}"), Q("q", "{}"),
        BQ("x", "q", "a", "{}") BQ("keep", "q", "k", "{}") BX("up", "x", "", "{}"), NULL, false);
    expect_plan_size(&f.plan, 3);
    must_find(&f.plan, CH_REPLACE, CK_EXCHANGE, "x");
    c = find_binding(&f.plan, CH_CREATE, "x", "q", "a");
    assert_non_null(c);
    assert_non_null(c->note);
    c = find_binding(&f.plan, CH_CREATE, "up", "x", "");
    assert_non_null(c);
    assert_true(c->dest_is_exchange);
    assert_non_null(c->note);
    assert_null(find_binding(&f.plan, CH_CREATE, "keep", "q", "k"));
    fx_release(&f);
}

static void test_diff_missing_vhost_is_created_with_all_its_objects(void **state)
{
    struct topology want, live;
    struct plan plan;
    struct diff_options opts = {.prune = false};
    const struct change *c;
    (void)state;

    load_desired(&want, full_yaml);
    topology_init(&live);
    plan_init(&plan);
    plan_compute(&plan, &want, &live, &opts);
    c = must_find(&plan, CH_CREATE, CK_VHOST, "v");
    assert_string_equal(c->vhost, "v");
    assert_non_null(c->want_vhost);
    /* 5 exchanges, 3 queues, 5 bindings, 1 policy, and the vhost */
    expect_plan_size(&plan, 15);
    assert_int_equal(plan.count[CH_CREATE], 15);
    must_find(&plan, CH_CREATE, CK_EXCHANGE, "orders");
    must_find(&plan, CH_CREATE, CK_QUEUE, "orders.audit.log");
    must_find(&plan, CH_CREATE, CK_POLICY, "dlq-cap");
    assert_non_null(find_binding(&plan, CH_CREATE, "orders", "orders.audit", "order.*"));
    /* the vhost comes before what goes in it */
    assert_int_equal(plan.v[0].kind, CK_VHOST);
    plan_release(&plan);
    topology_release(&want);
    topology_release(&live);
}

static void test_diff_compares_only_the_vhosts_of_the_file(void **state)
{
    struct topology want, live;
    struct plan plan;
    struct diff_options opts = {.prune = true};
    char *json = defs(X("x", "direct", "{}"), Q("q", "{}"), NULL, NULL);
    char *empty = defs(NULL, NULL, NULL, NULL);
    (void)state;

    load_desired(&want, "version: 1\nvhosts:\n  v: {}\n");
    topology_init(&live);
    add_live_vhost(&live, "other", json);
    add_live_vhost(&live, "v", empty);
    plan_init(&plan);
    plan_compute(&plan, &want, &live, &opts);
    expect_plan_size(&plan, 0);
    plan_release(&plan);
    topology_release(&want);
    topology_release(&live);
    free(json);
    free(empty);
}

static void test_diff_changes_carry_their_vhost(void **state)
{
    struct topology want, live;
    struct plan plan;
    struct diff_options opts = {.prune = false};
    char *a = defs(NULL, NULL, NULL, NULL), *b = defs(NULL, Q("q", "{}"), NULL, NULL);
    const struct change *c;
    size_t k, in_b = 0;
    (void)state;

    load_desired(&want, "version: 1\nvhosts:\n  a:\n    queues: { q: {} }\n"
                        "  b:\n    queues: { q: { max_length: 1 } }\n");
    topology_init(&live);
    add_live_vhost(&live, "a", a);
    add_live_vhost(&live, "b", b);
    plan_init(&plan);
    plan_compute(&plan, &want, &live, &opts);
    expect_plan_size(&plan, 2);
    c = must_find(&plan, CH_CREATE, CK_QUEUE, "q");
    assert_string_equal(c->vhost, "a");
    c = must_find(&plan, CH_REPLACE, CK_QUEUE, "q");
    assert_string_equal(c->vhost, "b");
    for (k = 0; k < plan.n; k++)
        in_b += strcmp(plan.v[k].vhost, "b") == 0;
    assert_int_equal(in_b, 1);
    plan_release(&plan);
    topology_release(&want);
    topology_release(&live);
    free(a);
    free(b);
}

static void test_diff_action_and_kind_names(void **state)
{
    (void)state;

    assert_string_equal(change_action_name(CH_CREATE), "create");
    assert_string_equal(change_action_name(CH_UPDATE), "update");
    assert_string_equal(change_action_name(CH_REPLACE), "replace");
    assert_string_equal(change_action_name(CH_DELETE), "delete");
    assert_string_equal(change_action_name(CH_UNMANAGED), "unmanaged");
    assert_string_equal(change_kind_name(CK_VHOST), "vhost");
    assert_string_equal(change_kind_name(CK_EXCHANGE), "exchange");
    assert_string_equal(change_kind_name(CK_QUEUE), "queue");
    assert_string_equal(change_kind_name(CK_BINDING), "binding");
    assert_string_equal(change_kind_name(CK_POLICY), "policy");
}

static void test_diff_release_accepts_null_and_empty_plans(void **state)
{
    struct plan p;
    (void)state;

    plan_release(NULL);
    plan_init(&p);
    plan_release(&p);
    plan_release(&p);
    assert_int_equal(p.n, 0);
    assert_int_equal(plan_change_count(&p), 0);
}

/* ---------------------------------------------------------------------------------------- */

/* Large plans are checked for their result here; their speed is a benchmark's claim
 * (scripts/bench_plan.sh), never a unit test's wall clock. */
#define BIG 20000

static void big_models(struct topology *want, struct topology *live)
{
    struct strbuf y = {0}, j = {0};
    size_t k;

    strbuf_adds(&y, "version: 1\nvhosts:\n  v:\n    exchanges:\n      ex: { type: direct }\n"
                    "    queues:\n");
    for (k = 0; k < BIG; k++)
        strbuf_addf(&y,
                    "      q%05zu: { message_ttl: %zu, bind: [ { exchange: ex, routing_key: "
                    "k%05zu } ] }\n",
                    k, k + 1, k);
    strbuf_adds(&j, "{\"exchanges\":[{\"name\":\"ex\",\"type\":\"direct\"}],\"queues\":[");
    for (k = 0; k < BIG; k++)
        strbuf_addf(&j,
                    "%s{\"name\":\"q%05zu\",\"durable\":true,\"auto_delete\":false,"
                    "\"arguments\":{\"x-message-ttl\":%zu}}",
                    k ? "," : "", k, k + 1);
    strbuf_adds(&j, "],\"bindings\":[");
    for (k = 0; k < BIG; k++)
        strbuf_addf(&j,
                    "%s{\"source\":\"ex\",\"destination\":\"q%05zu\",\"destination_type\":"
                    "\"queue\",\"routing_key\":\"k%05zu\",\"arguments\":{}}",
                    k ? "," : "", k, k);
    strbuf_adds(&j, "],\"policies\":[]}");
    load_desired(want, strbuf_str(&y));
    topology_init(live);
    add_live_vhost(live, "v", strbuf_str(&j));
    strbuf_release(&y);
    strbuf_release(&j);
}

static void test_diff_plans_20000_queues_and_bindings(void **state)
{
    struct topology want, live;
    struct plan plan;
    struct diff_options opts = {.prune = true};
    (void)state;

    big_models(&want, &live);
    assert_int_equal(want.vhosts[0].n_queues, BIG);
    assert_int_equal(want.vhosts[0].n_bindings, BIG);
    assert_int_equal(live.vhosts[0].n_queues, BIG);
    assert_int_equal(live.vhosts[0].n_bindings, BIG);
    plan_init(&plan);
    plan_compute(&plan, &want, &live, &opts);
    expect_plan_size(&plan, 0);
    plan_release(&plan);
    topology_release(&want);
    topology_release(&live);
}

static void test_diff_plans_20000_unmanaged_objects(void **state)
{
    struct topology want, live, empty;
    struct plan plan;
    struct diff_options opts = {.prune = false};
    (void)state;

    /* the other way round: nothing in the file, everything on the broker */
    big_models(&want, &live);
    load_desired(&empty, "version: 1\nvhosts:\n  v: {}\n");
    plan_init(&plan);
    plan_compute(&plan, &empty, &live, &opts);
    assert_int_equal(plan.count[CH_UNMANAGED], 2 * BIG + 1);
    plan_release(&plan);
    /* and all of it missing from the broker */
    plan_init(&plan);
    plan_compute(&plan, &want, &empty, &opts);
    assert_int_equal(plan.count[CH_CREATE], 2 * BIG + 1);
    plan_release(&plan);
    topology_release(&want);
    topology_release(&live);
    topology_release(&empty);
}

/* apply's migration: a holding queue left by an interrupted run belongs to the migration. */
static void test_diff_unmanaged_binding_of_a_replaced_exchange_is_bound_again(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;

    /* another team's binding from an exchange whose type changes: the replace deletes it,
     * and only --prune may delete what the file does not name */
    plan_against(&f,
                 "version: 1\nvhosts:\n  v:\n    exchanges:\n      x: { type: direct }\n"
                 "    queues:\n      q: {}\n",
                 X("x", "topic", "{}"), Q("q", "{}") Q("theirs", "{}"),
                 "{\"source\":\"x\",\"destination\":\"theirs\",\"destination_type\":\"queue\","
                 "\"routing_key\":\"k\",\"arguments\":{}},",
                 NULL, false);
    c = find_binding(&f.plan, CH_UNMANAGED, "x", "theirs", "k");
    assert_non_null(c);
    assert_true(c->rebind);
    assert_non_null(strstr(c->note, "re-created"));
    fx_release(&f);
}

static void test_diff_holding_queue_of_a_wanted_queue_is_not_unmanaged_nor_pruned(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { type: quorum }\n", NULL,
                 Q("q", "{\"x-queue-type\":\"quorum\"}") Q("rmqtopo.migrate.q", "{}"), NULL, NULL,
                 true);
    /* not a delete (even with prune): an update of q that moves the messages back */
    expect_plan_size(&f.plan, 1);
    assert_non_null(find_change(&f.plan, CH_UPDATE, CK_QUEUE, "q"));
    assert_non_null(find_change(&f.plan, CH_UPDATE, CK_QUEUE, "q")->holding_queue);
    assert_non_null(
        strstr(find_change(&f.plan, CH_UPDATE, CK_QUEUE, "q")->note, "rmqtopo.migrate.q"));
    assert_int_equal(plan_change_count(&f.plan), 1);
    fx_release(&f);
}

static void test_diff_interrupted_migration_marks_the_replace_and_the_create(void **state)
{
    struct fx f;
    (void)state;

    /* killed before the old queue was deleted: still a replace, now with a holding queue */
    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { type: quorum }\n", NULL,
                 Q("q", "{}") Q("rmqtopo.migrate.q", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    assert_non_null(find_change(&f.plan, CH_REPLACE, CK_QUEUE, "q")->holding_queue);
    /* the note says the count may include copies a kill left in both queues */
    assert_non_null(find_change(&f.plan, CH_REPLACE, CK_QUEUE, "q")->note);
    assert_non_null(
        strstr(find_change(&f.plan, CH_REPLACE, CK_QUEUE, "q")->note, "may include copies"));
    fx_release(&f);
    /* killed after the delete: a create that also moves the messages back */
    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: { type: quorum }\n", NULL,
                 Q("rmqtopo.migrate.q", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    assert_non_null(find_change(&f.plan, CH_CREATE, CK_QUEUE, "q")->holding_queue);
    fx_release(&f);
}

static void test_diff_holding_queue_of_an_unknown_queue_is_unmanaged(void **state)
{
    struct fx f;
    (void)state;

    plan_against(&f, "version: 1\nvhosts:\n  v:\n    queues:\n      q: {}\n", NULL,
                 Q("q", "{}") Q("rmqtopo.migrate.other", "{}"), NULL, NULL, false);
    expect_plan_size(&f.plan, 1);
    assert_non_null(find_change(&f.plan, CH_UNMANAGED, CK_QUEUE, "rmqtopo.migrate.other"));
    fx_release(&f);
}

static void test_diff_holding_queue_name_is_derived_and_bounded(void **state)
{
    char long_name[256];
    char *a, *b, *c;
    (void)state;

    a = holding_queue_name("orders");
    assert_string_equal(a, "rmqtopo.migrate.orders");
    assert_true(is_holding_queue_name(a));
    assert_false(is_holding_queue_name("orders"));
    memset(long_name, 'x', 255);
    long_name[255] = '\0';
    b = holding_queue_name(long_name);
    long_name[254] = 'y';
    c = holding_queue_name(long_name);
    assert_true(strlen(b) <= 255);
    assert_true(is_holding_queue_name(b));
    assert_string_not_equal(b, c); /* cut names still differ by their hash */
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_identical_models_give_an_empty_plan),
        cmocka_unit_test(test_diff_identical_models_with_prune_give_an_empty_plan),
        cmocka_unit_test(test_diff_unset_queue_fields_equal_a_durable_classic_live_queue),
        cmocka_unit_test(test_diff_live_queue_without_x_queue_type_equals_type_classic),
        cmocka_unit_test(test_diff_untyped_queue_compares_with_the_vhost_default_type),
        cmocka_unit_test(test_diff_live_x_queue_type_classic_equals_unset_type),
        cmocka_unit_test(test_diff_unset_exchange_flags_equal_live_defaults),
        cmocka_unit_test(test_diff_missing_queue_is_a_create),
        cmocka_unit_test(test_diff_missing_exchange_is_a_create),
        cmocka_unit_test(test_diff_missing_binding_is_a_create),
        cmocka_unit_test(test_diff_missing_policy_is_a_create),
        cmocka_unit_test(test_diff_changed_queue_type_is_a_replace),
        cmocka_unit_test(test_diff_changed_queue_durable_is_a_replace),
        cmocka_unit_test(test_diff_changed_queue_auto_delete_is_a_replace),
        cmocka_unit_test(test_diff_changed_ttl_is_a_replace_with_old_and_new_values),
        cmocka_unit_test(test_diff_argument_only_in_the_file_has_no_old_value),
        cmocka_unit_test(test_diff_argument_only_on_the_broker_is_a_replace),
        cmocka_unit_test(test_diff_string_is_not_equal_to_an_integer),
        cmocka_unit_test(test_diff_equal_integers_are_equal),
        cmocka_unit_test(test_diff_max_age_compares_the_canonical_string),
        cmocka_unit_test(test_diff_changed_exchange_type_is_a_replace),
        cmocka_unit_test(test_diff_changed_exchange_internal_is_a_replace),
        cmocka_unit_test(test_diff_changed_alternate_exchange_is_a_replace_without_note),
        cmocka_unit_test(test_diff_changed_other_exchange_argument_is_a_replace_with_note),
        cmocka_unit_test(test_diff_unknown_queue_argument_is_a_replace_with_note),
        cmocka_unit_test(test_diff_known_queue_argument_change_has_no_note),
        cmocka_unit_test(test_diff_changed_policy_is_an_update_with_every_field),
        cmocka_unit_test(test_diff_policy_definition_key_only_live_has_no_new_value),
        cmocka_unit_test(test_diff_identical_policy_is_no_change),
        cmocka_unit_test(test_diff_policy_without_apply_to_equals_live_all),
        cmocka_unit_test(test_diff_binding_with_other_arguments_is_create_and_unmanaged),
        cmocka_unit_test(test_diff_binding_with_other_routing_key_is_create_and_unmanaged),
        cmocka_unit_test(test_diff_binding_destination_type_is_part_of_its_identity),
        cmocka_unit_test(test_diff_binding_argument_order_does_not_matter),
        cmocka_unit_test(test_diff_bindings_list_and_bind_sugar_are_the_same_binding),
        cmocka_unit_test(test_diff_extra_live_objects_are_unmanaged),
        cmocka_unit_test(test_diff_extra_live_objects_with_prune_are_deletes),
        cmocka_unit_test(test_diff_prune_deletes_bindings_before_their_queues_and_exchanges),
        cmocka_unit_test(test_diff_plan_change_count_excludes_unmanaged),
        cmocka_unit_test(test_diff_bindings_of_a_replaced_queue_are_recreated),
        cmocka_unit_test(test_diff_bindings_of_a_replaced_exchange_are_recreated),
        cmocka_unit_test(test_diff_missing_vhost_is_created_with_all_its_objects),
        cmocka_unit_test(test_diff_compares_only_the_vhosts_of_the_file),
        cmocka_unit_test(test_diff_changes_carry_their_vhost),
        cmocka_unit_test(test_diff_action_and_kind_names),
        cmocka_unit_test(test_diff_release_accepts_null_and_empty_plans),
        cmocka_unit_test(test_diff_unmanaged_binding_of_a_replaced_exchange_is_bound_again),
        cmocka_unit_test(test_diff_holding_queue_of_a_wanted_queue_is_not_unmanaged_nor_pruned),
        cmocka_unit_test(test_diff_interrupted_migration_marks_the_replace_and_the_create),
        cmocka_unit_test(test_diff_holding_queue_of_an_unknown_queue_is_unmanaged),
        cmocka_unit_test(test_diff_holding_queue_name_is_derived_and_bounded),
        cmocka_unit_test(test_diff_plans_20000_queues_and_bindings),
        cmocka_unit_test(test_diff_plans_20000_unmanaged_objects),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
