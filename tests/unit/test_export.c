/*
 * test_export.c - a model written as a topology file must load back as the same model
 * (export.h): names, types, flags, every argument with its type, bindings as identities and
 * policies; and the output must validate wherever the input did.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "diff.h"
#include "error.h"
#include "export.h"
#include "live.h"
#include "load.h"
#include "model.h"
#include "strbuf.h"
#include "textutil.h"
#include "validate.h"
#include "value.h"

/* Tests never read the process environment: every variable is unset. */
static const char *no_env(const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    return NULL;
}

static void print_diags(const struct diag_list *dl)
{
    size_t k;

    for (k = 0; k < dl->n; k++)
        if (dl->v[k].severity == DIAG_ERROR)
            print_error("%s:%d:%d: %s: %s\n", dl->v[k].file, dl->v[k].pos.line, dl->v[k].pos.col,
                        dl->v[k].path, dl->v[k].message);
}

/* Loads yaml; returns the number of errors of loading and validating it (-1: unusable). */
static int load_text(struct topology *t, const char *file, const char *yaml, size_t len, bool show)
{
    struct load_options opts;
    struct diag_list dl;
    int rc;

    memset(&opts, 0, sizeof(opts));
    opts.env = no_env;
    topology_init(t);
    diag_list_init(&dl);
    rc = topology_load_buffer(t, file, yaml, len, &opts, &dl);
    if (rc == 0)
        topology_validate(t, NULL, &dl);
    if (show && (rc != 0 || dl.errors))
        print_diags(&dl);
    rc = rc != 0 ? -1 : (int)dl.errors;
    diag_list_release(&dl);
    return rc;
}

static char *export_text(const struct topology *t)
{
    struct strbuf sb = {0};
    topology_export(t, NULL, &sb);
    return strbuf_detach(&sb, NULL);
}

/* ---- comparing two models ---------------------------------------------------------------- */

static bool eff(const struct tflag *f, bool dflt)
{
    return f->set ? f->value : dflt;
}

static enum queue_type eff_type(const struct queue *q)
{
    return q->type_set ? q->type : QT_CLASSIC;
}

/* The comparisons report what differs and return false rather than assert, so that a failing
 * round trip still frees everything (the sanitizer run then shows only real leaks). */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error("%s:%d: not true: %s\n", __FILE__, __LINE__, #cond);                       \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

static bool same_args(const char *what, const char *name, const struct targs *a,
                      const struct targs *b)
{
    size_t k;

    if (a->n != b->n)
        print_error("%s '%s': %zu arguments, then %zu\n", what, name, a->n, b->n);
    CHECK(a->n == b->n);
    for (k = 0; k < a->n; k++) {
        const struct targ *x = &a->v[k], *y = targs_get(b, x->key);
        if (!y || !tval_equal(&x->val, &y->val)) {
            struct strbuf d1 = {0}, d2 = {0};
            tval_describe(&d1, &x->val);
            if (y)
                tval_describe(&d2, &y->val);
            print_error("%s '%s': argument '%s' was %s, is %s\n", what, name, x->key,
                        strbuf_str(&d1), y ? strbuf_str(&d2) : "missing");
            strbuf_release(&d1);
            strbuf_release(&d2);
            return false;
        }
    }
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    const struct strbuf *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->buf, y->buf, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The bindings of a vhost as a sorted list of identities. */
static struct strbuf *binding_ids(const struct vhost *vh)
{
    struct strbuf *ids = calloc(vh->n_bindings + 1, sizeof(*ids));
    size_t k;

    assert_non_null(ids);
    for (k = 0; k < vh->n_bindings; k++) {
        binding_identity(&ids[k], &vh->bindings[k]);
        strbuf_str(&ids[k]);
    }
    qsort(ids, vh->n_bindings, sizeof(*ids), cmp_str);
    return ids;
}

static void free_ids(struct strbuf *ids, size_t n)
{
    size_t k;

    for (k = 0; k < n; k++)
        strbuf_release(&ids[k]);
    free(ids);
}

static bool same_bindings(const struct vhost *a, const struct vhost *b)
{
    struct strbuf *ia, *ib;
    bool same = a->n_bindings == b->n_bindings;
    size_t k;

    if (!same) {
        print_error("vhost '%s': %zu bindings, then %zu\n", a->name, a->n_bindings, b->n_bindings);
        return false;
    }
    ia = binding_ids(a);
    ib = binding_ids(b);
    for (k = 0; same && k < a->n_bindings; k++)
        same = ia[k].len == ib[k].len && memcmp(ia[k].buf, ib[k].buf, ia[k].len) == 0;
    if (!same)
        print_error("vhost '%s': the bindings differ\n", a->name);
    free_ids(ia, a->n_bindings);
    free_ids(ib, b->n_bindings);
    return same;
}

static bool same_vhost(const struct vhost *a, const struct vhost *b)
{
    size_t k, j;

    CHECK(strcmp(a->name, b->name) == 0);
    CHECK(a->n_exchanges == b->n_exchanges);
    for (k = 0; k < a->n_exchanges; k++) {
        const struct exchange *x = &a->exchanges[k], *y = vhost_find_exchange(b, x->name);
        if (!y)
            print_error("exchange '%s' is lost\n", x->name);
        CHECK(y);
        CHECK(strcmp(x->type ? x->type : "direct", y->type ? y->type : "direct") == 0);
        CHECK(eff(&x->durable, true) == eff(&y->durable, true));
        CHECK(eff(&x->auto_delete, false) == eff(&y->auto_delete, false));
        CHECK(eff(&x->internal, false) == eff(&y->internal, false));
        CHECK(same_args("exchange", x->name, &x->args, &y->args));
    }
    CHECK(a->n_queues == b->n_queues);
    for (k = 0; k < a->n_queues; k++) {
        const struct queue *x = &a->queues[k], *y = vhost_find_queue(b, x->name);
        if (!y)
            print_error("queue '%s' is lost\n", x->name);
        CHECK(y);
        CHECK(eff_type(x) == eff_type(y));
        CHECK(eff(&x->durable, true) == eff(&y->durable, true));
        CHECK(eff(&x->auto_delete, false) == eff(&y->auto_delete, false));
        CHECK(same_args("queue", x->name, &x->args, &y->args));
    }
    CHECK(same_bindings(a, b));
    CHECK(a->n_policies == b->n_policies);
    for (k = 0; k < a->n_policies; k++) {
        const struct policy *x = &a->policies[k], *y = NULL;
        for (j = 0; j < b->n_policies; j++)
            if (strcmp(b->policies[j].name, x->name) == 0)
                y = &b->policies[j];
        if (!y)
            print_error("policy '%s' is lost\n", x->name);
        CHECK(y);
        CHECK(strcmp(x->pattern, y->pattern) == 0);
        CHECK(strcmp(x->apply_to, y->apply_to) == 0);
        CHECK(x->priority == y->priority);
        CHECK(tval_equal(&x->definition, &y->definition));
    }
    return true;
}

static bool same_topology(const struct topology *a, const struct topology *b)
{
    size_t k, j;

    CHECK(a->n_vhosts == b->n_vhosts);
    for (k = 0; k < a->n_vhosts; k++) {
        const struct vhost *y = NULL;
        for (j = 0; j < b->n_vhosts; j++)
            if (strcmp(b->vhosts[j].name, a->vhosts[k].name) == 0)
                y = &b->vhosts[j];
        if (!y)
            print_error("vhost '%s' is lost\n", a->vhosts[k].name);
        CHECK(y);
        CHECK(same_vhost(&a->vhosts[k], y));
    }
    return true;
}

/* Planning one against the other finds nothing (not even unmanaged objects). */
static bool plans_nothing(const struct topology *want, const struct topology *live)
{
    struct plan p;
    struct diff_options opts = {.prune = true};
    size_t k, n;

    plan_init(&p);
    plan_compute(&p, want, live, &opts);
    for (k = 0; k < p.n; k++)
        print_error("unexpected %s of %s '%s'\n", change_action_name(p.v[k].action),
                    change_kind_name(p.v[k].kind), p.v[k].name ? p.v[k].name : "(binding)");
    n = p.n;
    plan_release(&p);
    return n == 0;
}

/* Shows (the start of) an export, made safe for the terminal. */
static void show_export(const char *out)
{
    struct strbuf sb = {0};
    size_t len = strlen(out);

    rmqt_sanitize_add(&sb, out, len > 1500 ? 1500 : len);
    print_error("the export was:\n%s%s\n", strbuf_str(&sb), len > 1500 ? "..." : "");
    strbuf_release(&sb);
}

/* Loads yaml, exports it, loads the export and compares the two models. Returns what went
 * wrong, without asserting (the caller frees, then asserts). */
enum rt_result { RT_SAME, RT_INPUT_INVALID, RT_EXPORT_INVALID, RT_DIFFERENT };

static enum rt_result roundtrip_result(const char *yaml)
{
    struct topology a, b;
    char *out;
    enum rt_result r = RT_DIFFERENT;

    if (load_text(&a, "in.yaml", yaml, strlen(yaml), true) != 0) {
        topology_release(&a);
        return RT_INPUT_INVALID;
    }
    out = export_text(&a);
    if (load_text(&b, "export.yaml", out, strlen(out), true) != 0) {
        show_export(out);
        r = RT_EXPORT_INVALID;
    } else if (same_topology(&a, &b) && same_topology(&b, &a) && plans_nothing(&a, &b) &&
               plans_nothing(&b, &a)) {
        r = RT_SAME;
    }
    topology_release(&b);
    topology_release(&a);
    free(out);
    return r;
}

/* yaml must be valid; its export must be valid too and load as the same model. */
static void roundtrip(const char *yaml)
{
    assert_int_equal(roundtrip_result(yaml), RT_SAME);
}

/* The same for a built text, which is released first. */
static void roundtrip_buf(struct strbuf *yaml)
{
    enum rt_result r = roundtrip_result(strbuf_str(yaml));

    strbuf_release(yaml);
    assert_int_equal(r, RT_SAME);
}

/* ---------------------------------------------------------------------------------------- */

static void test_export_roundtrips_every_first_class_field(void **state)
{
    (void)state;

    roundtrip("version: 1\n"
              "vhosts:\n"
              "  orders:\n"
              "    exchanges:\n"
              "      orders: { type: topic, alternate_exchange: orders.unrouted }\n"
              "      orders.dlx: { type: topic, durable: true }\n"
              "      orders.unrouted: { type: fanout, durable: false, auto_delete: true }\n"
              "      orders.audit: { type: fanout, internal: true }\n"
              "      orders.headers: { type: headers, internal: false, auto_delete: false }\n"
              "    queues:\n"
              "      orders.placed:\n"
              "        type: quorum\n"
              "        durable: true\n"
              "        auto_delete: false\n"
              "        message_ttl: 7d\n"
              "        expires: 30m\n"
              "        max_length: 100000\n"
              "        max_length_bytes: 1GiB\n"
              "        overflow: reject-publish\n"
              "        dead_letter_exchange: orders.dlx\n"
              "        dead_letter_routing_key: orders.placed.dead\n"
              "        dead_letter_strategy: at-least-once\n"
              "        delivery_limit: 5\n"
              "        single_active_consumer: true\n"
              "        initial_group_size: 3\n"
              "        bind:\n"
              "          - { exchange: orders, routing_key: order.placed }\n"
              "          - { exchange: orders, routing_key: order.placed.again }\n"
              "      orders.dlq:\n"
              "        type: quorum\n"
              "        message_ttl: 1500\n"
              "        expires: 90s\n"
              "        max_length_bytes: 512MB\n"
              "        dead_letter_exchange: \"\"\n"
              "        dead_letter_routing_key: \"\"\n"
              "        single_active_consumer: false\n"
              "        bind:\n"
              "          - { exchange: orders.dlx, routing_key: \"#\" }\n"
              "      orders.classic:\n"
              "        durable: false\n"
              "        auto_delete: true\n"
              "        message_ttl: 0\n"
              "        max_length: 0\n"
              "        overflow: drop-head\n"
              "        bind:\n"
              "          - { exchange: orders.headers, arguments: { x-match: all, a: 1 } }\n"
              "      orders.audit.log:\n"
              "        type: stream\n"
              "        max_age: 7d\n"
              "        max_length_bytes: 20GB\n"
              "    bindings:\n"
              "      - source: orders\n"
              "        destination: orders.audit\n"
              "        destination_type: exchange\n"
              "        routing_key: \"order.*\"\n"
              "        arguments: { x-note: e2e }\n"
              "      - { source: orders.audit, destination: orders.audit.log }\n"
              "      - { source: orders.audit, destination: orders.headers,"
              " destination_type: exchange }\n"
              "    policies:\n"
              "      dlq-cap:\n"
              "        pattern: \"\\\\.dlq$\"\n"
              "        apply_to: queues\n"
              "        priority: 7\n"
              "        definition: { max-length: 1000000, overflow: reject-publish }\n"
              "      everything:\n"
              "        pattern: \".*\"\n"
              "        definition: { message-ttl: 60000 }\n"
              "      exchanges-only:\n"
              "        pattern: \"^orders$\"\n"
              "        apply_to: exchanges\n"
              "        priority: -1\n"
              "        definition: { alternate-exchange: orders.unrouted }\n"
              "  \"/\": {}\n");
}

static void test_export_roundtrips_raw_arguments_of_every_type(void **state)
{
    (void)state;

    roundtrip("version: 1\n"
              "vhosts:\n"
              "  v:\n"
              "    exchanges:\n"
              "      x:\n"
              "        type: x-custom\n"
              "        arguments:\n"
              "          int: 42\n"
              "          neg: -9223372036854775808\n"
              "          big: 9223372036854775807\n"
              "          str: \"42\"\n"
              "          empty: \"\"\n"
              "          withnul: \"a\\0b\"\n"
              "          t: true\n"
              "          f: false\n"
              "          yes: \"yes\"\n"
              "          d: 1.5\n"
              "          whole: 3.0\n"
              "          negzero: -0.0\n"
              "          tiny: 1.0e-300\n"
              "          huge: 1.7976931348623157e308\n"
              "          third: 0.333333333333333315\n"
              "          nul: null\n"
              "          list: [1, \"1\", true, 2.0, null, [], {}, [[1]], { k: v }]\n"
              "          map: { a: 1, \"b c\": { d: [x, \"y: z\"] }, \"\": 0 }\n"
              "          emptylist: []\n"
              "          emptymap: {}\n"
              "    queues:\n"
              "      q:\n"
              "        arguments:\n"
              "          x-max-priority: 10\n"
              "          x-queue-mode: lazy\n"
              "          x-queue-version: 2\n"
              "          x-overflow-unknown: drop-head\n"
              "          x-foo: { nested: [1, 2.5, \"three\", false] }\n"
              "          x-dead-letter-exchange: x\n"
              "        bind:\n"
              "          - exchange: x\n"
              "            routing_key: k\n"
              "            arguments: { i: 1, s: \"1\", d: 1.0, b: false, n: null, l: [1] }\n"
              "    policies:\n"
              "      p:\n"
              "        pattern: \"^q$\"\n"
              "        definition:\n"
              "          max-length: 5\n"
              "          ha-mode: exactly\n"
              "          ha-params: 2\n"
              "          federation-upstream-set: all\n"
              "          x: { a: [1, \"2\"] }\n");
}

/* Every name the YAML syntax could take for something else. */
static const char *const odd_names[] = {
    "it's \\\"quoted\\\"",
    "with space",
    "line\\nbreak",
    "$${HOME}",
    "$$${HOME}",
    "a$b",
    "true",
    "False",
    "null",
    "~",
    "yes",
    "no",
    "on",
    "y",
    "123",
    "-1.5e3",
    "0x1F",
    "0o17",
    ".inf",
    ".nan",
    "-x",
    "- x",
    "a: b",
    "a:b",
    "#c",
    "a #c",
    "/",
    "?q",
    "[x]",
    "{y}",
    "*star",
    "&anchor",
    "!tag",
    "%pct",
    "@at",
    "`tick",
    "|pipe",
    ">gt",
    "trailing ",
    " leading",
    "'single'",
    "back\\\\slash",
    ",comma",
    "tab\\there",
    "caf\\u00e9",
    "\\u20ac",
    "<<",
    "=",
    "\\r\\n",
    "\\u0001bell",
    "\\\\u0041",
    "---",
    "...",
    "a-",
};

static void test_export_roundtrips_odd_names(void **state)
{
    struct strbuf y = {0};
    size_t k, n = sizeof(odd_names) / sizeof(odd_names[0]);
    (void)state;

    /* each name as an exchange (bound to a queue of the same name), a queue, a routing key,
     * an argument key and value, a policy name and definition, and a vhost */
    strbuf_adds(&y, "version: 1\nvhosts:\n");
    for (k = 0; k < n; k++) {
        const char *s = odd_names[k];
        strbuf_addf(&y, "  \"%s\":\n", s);
        strbuf_addf(&y,
                    "    exchanges:\n      \"%s\": { type: direct,"
                    " arguments: { \"%s\": \"%s\" } }\n",
                    s, s, s);
        strbuf_addf(&y,
                    "    queues:\n      \"%s\":\n        dead_letter_exchange: \"%s\"\n"
                    "        dead_letter_routing_key: \"%s\"\n"
                    "        arguments: { \"x-%s\": \"%s\" }\n"
                    "        bind:\n          - { exchange: \"%s\", routing_key: \"%s\","
                    " arguments: { \"%s\": \"%s\" } }\n",
                    s, s, s, s, s, s, s, s, s);
        strbuf_addf(&y,
                    "    bindings:\n      - { source: \"%s\", destination: \"%s\","
                    " destination_type: exchange, routing_key: \"%s\" }\n",
                    s, s, s);
        strbuf_addf(&y,
                    "    policies:\n      \"%s\": { pattern: \"^odd$\","
                    " definition: { \"%s\": \"%s\" } }\n",
                    s, s, s);
    }
    roundtrip_buf(&y);
}

static void test_export_roundtrips_a_variable_like_name_literally(void **state)
{
    struct topology a, b;
    char *out;
    (void)state;

    /* "$${HOME}" in a file is the literal text "${HOME}" */
    assert_int_equal(load_text(&a, "in.yaml",
                               "version: 1\nvhosts:\n  v:\n    queues:\n      \"$${HOME}\": {}\n",
                               strlen("version: 1\nvhosts:\n  v:\n    queues:\n"
                                      "      \"$${HOME}\": {}\n"),
                               true),
                     0);
    assert_non_null(vhost_find_queue(&a.vhosts[0], "${HOME}"));
    out = export_text(&a);
    assert_int_equal(load_text(&b, "export.yaml", out, strlen(out), true), 0);
    assert_non_null(vhost_find_queue(&b.vhosts[0], "${HOME}"));
    topology_release(&a);
    topology_release(&b);
    free(out);
}

static void test_export_keeps_a_non_canonical_max_age_raw(void **state)
{
    struct topology a, b;
    const struct targ *age;
    const char yaml[] = "version: 1\nvhosts:\n  v:\n    queues:\n"
                        "      s:\n        type: stream\n        arguments: { x-max-age: 168h }\n"
                        "      t:\n        type: stream\n        arguments: { x-max-age: 7D }\n";
    char *out;
    (void)state;

    assert_int_equal(load_text(&a, "in.yaml", yaml, strlen(yaml), true), 0);
    out = export_text(&a);
    /* max_age: 168h would be sent as "7D", which the broker compares as a different string */
    assert_null(strstr(out, "max_age: 168h"));
    assert_int_equal(load_text(&b, "export.yaml", out, strlen(out), true), 0);
    age = targs_get(&vhost_find_queue(&b.vhosts[0], "s")->args, "x-max-age");
    assert_non_null(age);
    assert_int_equal(age->val.kind, TV_STRING);
    assert_string_equal(age->val.s, "168h");
    age = targs_get(&vhost_find_queue(&b.vhosts[0], "t")->args, "x-max-age");
    assert_non_null(age);
    assert_string_equal(age->val.s, "7D");
    assert_true(same_topology(&a, &b));
    topology_release(&a);
    topology_release(&b);
    free(out);
}

static void test_export_writes_integers_as_integers_and_strings_as_strings(void **state)
{
    struct topology a, b;
    const struct queue *q;
    const char yaml[] = "version: 1\nvhosts:\n  v:\n    queues:\n"
                        "      q: { arguments: { x-message-ttl: 60000, x-foo: \"60000\" } }\n";
    char *out;
    (void)state;

    assert_int_equal(load_text(&a, "in.yaml", yaml, strlen(yaml), true), 0);
    out = export_text(&a);
    assert_int_equal(load_text(&b, "export.yaml", out, strlen(out), true), 0);
    q = vhost_find_queue(&b.vhosts[0], "q");
    assert_int_equal(targs_get(&q->args, "x-message-ttl")->val.kind, TV_INT);
    assert_int_equal(targs_get(&q->args, "x-message-ttl")->val.i, 60000);
    assert_int_equal(targs_get(&q->args, "x-foo")->val.kind, TV_STRING);
    assert_string_equal(targs_get(&q->args, "x-foo")->val.s, "60000");
    topology_release(&a);
    topology_release(&b);
    free(out);
}

/* The monitoring thresholds survive an export (what `rmqtopo expand` writes). */
static void test_export_keeps_alert_thresholds(void **state)
{
    static const char yaml[] = "version: 1\n"
                               "vhosts:\n"
                               "  v:\n"
                               "    alert_defaults:\n"
                               "      messages: { warning: 1, critical: 100 }\n"
                               "      age: { critical: 90s }\n"
                               "    queues:\n"
                               "      q.dlq:\n"
                               "        type: quorum\n"
                               "        alert:\n"
                               "          messages: { warning: 10 }\n"
                               "          age: { warning: 1h, critical: 1d }\n"
                               "          rate: { warning: 7/h, critical: 100/m }\n";
    struct topology a, b;
    char *out;
    int m;
    (void)state;

    assert_int_equal(load_text(&a, "in.yaml", yaml, strlen(yaml), true), 0);
    out = export_text(&a);
    if (load_text(&b, "export.yaml", out, strlen(out), true) != 0)
        show_export(out);
    assert_true(b.n_vhosts == 1 && b.vhosts[0].has_alert_defaults);
    assert_true(b.vhosts[0].n_queues == 1 && b.vhosts[0].queues[0].has_alert);
    for (m = 0; m < RMQT_METRIC_COUNT; m++) {
        const struct rmqt_threshold *x = &a.vhosts[0].queues[0].alert.t[m];
        const struct rmqt_threshold *y = &b.vhosts[0].queues[0].alert.t[m];
        const struct rmqt_threshold *dx = &a.vhosts[0].alert_defaults.t[m];
        const struct rmqt_threshold *dy = &b.vhosts[0].alert_defaults.t[m];
        assert_int_equal(x->has_warning, y->has_warning);
        assert_int_equal(x->has_critical, y->has_critical);
        assert_true(fabs(x->warning - y->warning) < 1e-9 && fabs(x->critical - y->critical) < 1e-9);
        assert_int_equal(dx->has_warning, dy->has_warning);
        assert_int_equal(dx->has_critical, dy->has_critical);
        assert_true(fabs(dx->warning - dy->warning) < 1e-9 &&
                    fabs(dx->critical - dy->critical) < 1e-9);
    }
    topology_release(&b);
    topology_release(&a);
    free(out);
}

static void test_export_of_an_empty_topology_loads_back(void **state)
{
    struct topology t, b;
    struct strbuf sb = {0};
    (void)state;

    topology_init(&t);
    topology_export(&t, NULL, &sb);
    assert_int_equal(load_text(&b, "export.yaml", strbuf_str(&sb), sb.len, true), 0);
    assert_int_equal(b.version, 1);
    assert_int_equal(b.n_vhosts, 0);
    topology_release(&b);
    topology_release(&t);
    strbuf_release(&sb);
}

static void test_export_of_an_empty_vhost_loads_back(void **state)
{
    (void)state;

    roundtrip("version: 1\nvhosts:\n  empty: {}\n  \"/\": {}\n");
}

static void test_export_puts_the_header_first(void **state)
{
    struct topology t, b;
    struct strbuf sb = {0};
    const char *header = "# exported from rabbit@host\n# by rmqtopo\n";
    (void)state;

    assert_int_equal(load_text(&t, "in.yaml", "version: 1\nvhosts:\n  v: {}\n",
                               strlen("version: 1\nvhosts:\n  v: {}\n"), true),
                     0);
    topology_export(&t, header, &sb);
    assert_memory_equal(sb.buf, header, strlen(header));
    assert_int_equal(load_text(&b, "export.yaml", strbuf_str(&sb), sb.len, true), 0);
    assert_int_equal(b.n_vhosts, 1);
    topology_release(&b);
    topology_release(&t);
    strbuf_release(&sb);
}

static void test_export_of_a_live_broker_plans_no_changes(void **state)
{
    const char json[] =
        "{\"rabbit_version\":\"3.10.8\",\"rabbitmq_version\":\"3.10.8\","
        "\"product_name\":\"RabbitMQ\",\"product_version\":\"3.10.8\",\"parameters\":[],"
        "\"policies\":[{\"name\":\"cap\",\"pattern\":\"^q\",\"apply-to\":\"queues\","
        "\"definition\":{\"max-length\":10,\"ha-mode\":\"all\"},\"priority\":3}],"
        "\"queues\":["
        "{\"name\":\"q1\",\"durable\":true,\"auto_delete\":false,\"arguments\":"
        "{\"x-queue-type\":\"quorum\",\"x-delivery-limit\":5,\"x-message-ttl\":86400000,"
        "\"x-overflow\":\"reject-publish\",\"x-dead-letter-strategy\":\"at-least-once\","
        "\"x-dead-letter-exchange\":\"dlx\"}},"
        "{\"name\":\"q2\",\"durable\":false,\"auto_delete\":true,\"arguments\":"
        "{\"x-max-priority\":5,\"x-expires\":1,\"x-max-length-bytes\":1000}},"
        "{\"name\":\"s\",\"durable\":true,\"auto_delete\":false,\"arguments\":"
        "{\"x-queue-type\":\"stream\",\"x-max-age\":\"168h\","
        "\"x-stream-max-segment-size-bytes\":500000000}},"
        "{\"name\":\"weird \\\"name\\\" ${X}\",\"durable\":true,\"auto_delete\":false,"
        "\"arguments\":{\"x-foo\":[1,2.5,\"3\",{\"a\":null}]}}"
        "],"
        "\"exchanges\":["
        "{\"name\":\"x\",\"type\":\"topic\",\"durable\":true,\"auto_delete\":false,"
        "\"internal\":false,\"arguments\":{\"alternate-exchange\":\"ae\"}},"
        "{\"name\":\"ae\",\"type\":\"fanout\",\"durable\":false,\"auto_delete\":true,"
        "\"internal\":true,\"arguments\":{}},"
        "{\"name\":\"dlx\",\"type\":\"x-delayed-message\",\"durable\":true,"
        "\"auto_delete\":false,\"internal\":false,\"arguments\":{\"x-delayed-type\":\"direct\"}}"
        "],"
        "\"bindings\":["
        "{\"source\":\"x\",\"destination\":\"q1\",\"destination_type\":\"queue\","
        "\"routing_key\":\"a.*\",\"arguments\":{}},"
        "{\"source\":\"x\",\"destination\":\"q1\",\"destination_type\":\"queue\","
        "\"routing_key\":\"\",\"arguments\":{\"x-match\":\"any\",\"k\":1}},"
        "{\"source\":\"x\",\"destination\":\"ae\",\"destination_type\":\"exchange\","
        "\"routing_key\":\"#\",\"arguments\":{}},"
        "{\"source\":\"amq.topic\",\"destination\":\"weird \\\"name\\\" ${X}\","
        "\"destination_type\":\"queue\",\"routing_key\":\"w\",\"arguments\":{}}"
        "]}";
    struct topology live, b;
    struct rmqt_error err;
    struct vhost *vh;
    char *out;
    int rc;
    bool same = false;
    (void)state;

    topology_init(&live);
    rmqt_error_init(&err);
    vh = topology_add_vhost(&live, "/");
    assert_int_equal(live_parse_definitions(vh, json, strlen(json), &err), 0);
    out = export_text(&live);
    rc = load_text(&b, "export.yaml", out, strlen(out), true);
    if (rc != 0)
        show_export(out);
    else
        same = plans_nothing(&b, &live) && same_topology(&live, &b);
    topology_release(&b);
    topology_release(&live);
    free(out);
    assert_int_equal(rc, 0);
    assert_true(same);
}

/* Issue 12, "Adopting a real broker": the broker accepts an alternate exchange and a
 * dead-letter exchange (argument or policy) that do not exist; the export of such a broker
 * validates with warnings only (each saying where the messages go) and plans nothing. */
static void test_export_of_a_broker_with_missing_exchanges_plans_no_changes(void **state)
{
    const char json[] =
        "{\"policies\":[{\"name\":\"dl\",\"pattern\":\"^p\\\\.\",\"apply-to\":\"queues\","
        "\"definition\":{\"dead-letter-exchange\":\"gone.policy\"},\"priority\":0}],"
        "\"queues\":["
        "{\"name\":\"q\",\"durable\":true,\"auto_delete\":false,\"arguments\":"
        "{\"x-queue-type\":\"quorum\",\"x-dead-letter-exchange\":\"gone.dlx\"}},"
        "{\"name\":\"p.q\",\"durable\":false,\"auto_delete\":false,\"arguments\":{}}],"
        "\"exchanges\":[{\"name\":\"x\",\"type\":\"topic\",\"durable\":true,"
        "\"auto_delete\":false,\"internal\":false,\"arguments\":{\"alternate-exchange\":"
        "\"gone.ae\"}}],"
        "\"bindings\":[{\"source\":\"x\",\"destination\":\"q\",\"destination_type\":\"queue\","
        "\"routing_key\":\"k\",\"arguments\":{}}]}";
    struct topology live, b;
    struct rmqt_error err;
    struct diag_list dl;
    struct load_options opts;
    char *out;
    int rc;
    bool same = false;
    (void)state;

    topology_init(&live);
    rmqt_error_init(&err);
    assert_int_equal(
        live_parse_definitions(topology_add_vhost(&live, "v"), json, strlen(json), &err), 0);
    out = export_text(&live);
    rc = load_text(&b, "export.yaml", out, strlen(out), true);
    if (rc != 0)
        show_export(out);
    else
        same = plans_nothing(&b, &live) && same_topology(&live, &b);
    topology_release(&b);
    assert_int_equal(rc, 0);
    assert_true(same);
    /* the three missing exchanges are warnings, and say what happens to the messages */
    memset(&opts, 0, sizeof(opts));
    opts.env = no_env;
    topology_init(&b);
    diag_list_init(&dl);
    assert_int_equal(topology_load_buffer(&b, "export.yaml", out, strlen(out), &opts, &dl), 0);
    topology_validate(&b, NULL, &dl);
    assert_int_equal(dl.errors, 0);
    {
        size_t k, ae = 0, dlx = 0, policy = 0;
        for (k = 0; k < dl.n; k++) {
            const char *m = dl.v[k].message;
            ae += strstr(m, "'gone.ae' is not defined") && strstr(m, "are dropped") ? 1 : 0;
            dlx += strstr(m, "'gone.dlx' is not defined") && strstr(m, "are dropped") ? 1 : 0;
            policy += strstr(m, "'gone.policy' is not defined") && strstr(m, "are dropped") ? 1 : 0;
        }
        assert_int_equal(ae, 1);
        assert_int_equal(dlx, 1);
        assert_int_equal(policy, 1);
    }
    diag_list_release(&dl);
    topology_release(&b);
    topology_release(&live);
    free(out);
}

/* Issue 19 item 3: rmqtopo's own queues are never exported (validate would refuse the file):
 * an unfinished migration's holding queue (durable, not exclusive: the broker lists it) with
 * its bindings, and a lock queue; each is named, safely, in a comment and in the notes. */
static void test_export_leaves_out_rmqtopos_own_queues(void **state)
{
    const char json[] =
        "{\"policies\":[],\"exchanges\":[],"
        "\"queues\":["
        "{\"name\":\"q\",\"durable\":true,\"auto_delete\":false,\"arguments\":{}},"
        "{\"name\":\"rmqtopo.migrate.q\",\"durable\":true,\"auto_delete\":false,"
        "\"arguments\":{}},"
        "{\"name\":\"rmqtopo.migrate.gone\",\"durable\":true,\"auto_delete\":false,"
        "\"arguments\":{}},"
        "{\"name\":\"rmqtopo.migrate.a\\nb: 1\",\"durable\":true,\"auto_delete\":false,"
        "\"arguments\":{}},"
        "{\"name\":\"rmqtopo.lock\",\"durable\":false,\"auto_delete\":true,\"arguments\":{}}],"
        "\"bindings\":[{\"source\":\"amq.direct\",\"destination\":\"rmqtopo.migrate.q\","
        "\"destination_type\":\"queue\",\"routing_key\":\"k\",\"arguments\":{}},"
        "{\"source\":\"amq.direct\",\"destination\":\"q\","
        "\"destination_type\":\"queue\",\"routing_key\":\"k\",\"arguments\":{}}]}";
    struct topology live, b;
    struct rmqt_error err;
    struct strbuf notes = {0};
    const struct vhost *vh;
    char *out;
    size_t k, lines = 0;
    (void)state;

    topology_init(&live);
    rmqt_error_init(&err);
    assert_int_equal(
        live_parse_definitions(topology_add_vhost(&live, "v"), json, strlen(json), &err), 0);
    assert_int_equal(live.vhosts[0].n_queues, 5);
    out = export_text(&live);
    if (load_text(&b, "export.yaml", out, strlen(out), true) != 0)
        show_export(out);
    vh = &b.vhosts[0];
    assert_int_equal(vh->n_queues, 1);
    assert_non_null(vhost_find_queue(vh, "q"));
    assert_int_equal(vh->n_bindings, 1);
    assert_string_equal(vh->bindings[0].destination, "q");
    /* the comments at the top, one line per queue left out */
    assert_non_null(strstr(out, "# not exported: queue rmqtopo.migrate.q in vhost v: it holds "
                                "the messages of an unfinished migration of queue q ("));
    assert_non_null(strstr(out,
                           "migration of queue gone (an apply was interrupted; queue gone does not "
                           "exist now): apply of a file that names queue gone moves them back\n"));
    assert_non_null(strstr(out, "# not exported: queue \"rmqtopo.migrate.a\\nb: 1\""));
    assert_non_null(strstr(out, "# not exported: queue rmqtopo.lock in vhost v: it is the lock"));
    assert_int_equal(topology_export_skipped(&live, &notes), 4);
    for (k = 0; k < notes.len; k++)
        lines += notes.buf[k] == '\n';
    assert_int_equal(lines, 4);
    assert_non_null(strstr(notes.buf, "queue rmqtopo.migrate.q in vhost v: it holds the "
                                      "messages of an unfinished migration of queue q"));
    strbuf_release(&notes);
    topology_release(&b);
    topology_release(&live);
    free(out);
}

/* A vhost whose only queues are rmqtopo's exports as an empty vhost. */
static void test_export_of_a_vhost_holding_only_rmqtopos_queues(void **state)
{
    const char json[] = "{\"policies\":[],\"exchanges\":[],\"queues\":["
                        "{\"name\":\"rmqtopo.migrate.q\",\"durable\":true,\"auto_delete\":false,"
                        "\"arguments\":{}}],\"bindings\":[]}";
    struct topology live, b;
    struct rmqt_error err;
    struct strbuf notes = {0};
    char *out;
    (void)state;

    topology_init(&live);
    rmqt_error_init(&err);
    assert_int_equal(
        live_parse_definitions(topology_add_vhost(&live, "v"), json, strlen(json), &err), 0);
    out = export_text(&live);
    assert_non_null(strstr(out, "\n  v: {}\n"));
    assert_int_equal(load_text(&b, "export.yaml", out, strlen(out), true), 0);
    assert_int_equal(b.n_vhosts, 1);
    assert_int_equal(b.vhosts[0].n_queues, 0);
    assert_int_equal(topology_export_skipped(&live, &notes), 1);
    strbuf_release(&notes);
    topology_release(&b);
    topology_release(&live);
    free(out);
}

static void test_export_add_string_writes_plain_identifiers_plainly(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    export_add_string(&sb, "orders.placed", strlen("orders.placed"));
    assert_string_equal(strbuf_str(&sb), "orders.placed");
    strbuf_reset(&sb);
    export_add_string(&sb, "x-message-ttl", strlen("x-message-ttl"));
    assert_string_equal(strbuf_str(&sb), "x-message-ttl");
    strbuf_release(&sb);
}

static void test_export_add_string_quotes_what_yaml_would_misread(void **state)
{
    static const char *const words[] = {"true", "True", "NULL", "~",  "yes", "No",   "123", "1.5",
                                        "",     "-x",   "a b",  "#c", "/",   "a: b", NULL};
    struct strbuf sb = {0};
    size_t k;
    (void)state;

    for (k = 0; words[k]; k++) {
        strbuf_reset(&sb);
        export_add_string(&sb, words[k], strlen(words[k]));
        if (strbuf_str(&sb)[0] != '"')
            print_error("'%s' was written as %s\n", words[k], strbuf_str(&sb));
        assert_int_equal(strbuf_str(&sb)[0], '"');
    }
    strbuf_release(&sb);
}

static void test_export_add_string_escapes_variable_references(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    export_add_string(&sb, "${HOME}", strlen("${HOME}"));
    assert_string_equal(strbuf_str(&sb), "\"$${HOME}\"");
    strbuf_reset(&sb);
    export_add_string(&sb, "a$b$", strlen("a$b$"));
    assert_string_equal(strbuf_str(&sb), "\"a$b$\"");
    strbuf_release(&sb);
}

/* Strings that a JSON encoder leaves raw but YAML does not read back as they were: C1 controls
 * and DEL are not printable YAML (a load error), NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR
 * are line breaks (folded into a space or a newline). The broker allows any of them in a name. */
static void test_export_roundtrips_yaml_line_breaks_and_non_printables(void **state)
{
    (void)state;

    roundtrip("version: 1\nvhosts:\n  v:\n    queues:\n"
              "      \"nel\\Nq\": {}\n"
              "      \"ls\\Lq\": {}\n"
              "      \"ps\\Pq\": {}\n"
              "      \"del\\x7fq\": {}\n"
              "      \"csi\\x9bq\": {}\n"
              "      q:\n        arguments: { x-a: \"\\N\\L\\P\\x7f\\x80\\x9f\" }\n");
}

/* YAML's .inf, -.inf and .nan are doubles; "inf" and "nan" are strings. */
static void test_export_roundtrips_infinite_and_nan_doubles(void **state)
{
    (void)state;

    roundtrip("version: 1\nvhosts:\n  v:\n    queues:\n"
              "      q:\n        arguments: { x-inf: .inf, x-ninf: -.inf, x-nan: .nan }\n");
}

/* A 255-byte name (the broker's limit) of characters that need escapes is longer than the
 * 1024 characters YAML allows for an implicit key. */
static void test_export_roundtrips_a_long_name_of_escaped_characters(void **state)
{
    struct strbuf y = {0};
    size_t k;
    (void)state;

    strbuf_adds(&y, "version: 1\nvhosts:\n  v:\n    queues:\n      \"");
    for (k = 0; k < 255; k++)
        strbuf_adds(&y, "\\x01");
    strbuf_adds(&y, "\": {}\n");
    roundtrip_buf(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_roundtrips_every_first_class_field),
        cmocka_unit_test(test_export_roundtrips_raw_arguments_of_every_type),
        cmocka_unit_test(test_export_roundtrips_odd_names),
        cmocka_unit_test(test_export_roundtrips_a_variable_like_name_literally),
        cmocka_unit_test(test_export_keeps_a_non_canonical_max_age_raw),
        cmocka_unit_test(test_export_writes_integers_as_integers_and_strings_as_strings),
        cmocka_unit_test(test_export_keeps_alert_thresholds),
        cmocka_unit_test(test_export_of_an_empty_topology_loads_back),
        cmocka_unit_test(test_export_of_an_empty_vhost_loads_back),
        cmocka_unit_test(test_export_puts_the_header_first),
        cmocka_unit_test(test_export_of_a_live_broker_plans_no_changes),
        cmocka_unit_test(test_export_of_a_broker_with_missing_exchanges_plans_no_changes),
        cmocka_unit_test(test_export_leaves_out_rmqtopos_own_queues),
        cmocka_unit_test(test_export_of_a_vhost_holding_only_rmqtopos_queues),
        cmocka_unit_test(test_export_add_string_writes_plain_identifiers_plainly),
        cmocka_unit_test(test_export_add_string_quotes_what_yaml_would_misread),
        cmocka_unit_test(test_export_add_string_escapes_variable_references),
        cmocka_unit_test(test_export_roundtrips_yaml_line_breaks_and_non_printables),
        cmocka_unit_test(test_export_roundtrips_infinite_and_nan_doubles),
        cmocka_unit_test(test_export_roundtrips_a_long_name_of_escaped_characters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
