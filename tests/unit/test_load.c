/*
 * test_load.c - topology files into the model (topology.md, "Shape", "Values", "Errors").
 *
 * Every YAML text here starts with TOPO_HEAD (helpers.h): lines 1-3 are the version, "vhosts:"
 * and the vhost "v"; so a section starts on line 4 and its first object on line 5, column 7.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static const struct vhost *vhost0(const struct fx *f)
{
    assert_true(f->t.n_vhosts >= 1);
    return &f->t.vhosts[0];
}

static const struct queue *queue_named(const struct fx *f, const char *name)
{
    const struct queue *q = vhost_find_queue(vhost0(f), name);
    if (!q) {
        dump_diags(&f->dl);
        fail_msg("no queue '%s'", name);
    }
    return q;
}

static const struct exchange *exchange_named(const struct fx *f, const char *name)
{
    const struct exchange *x = vhost_find_exchange(vhost0(f), name);
    if (!x) {
        dump_diags(&f->dl);
        fail_msg("no exchange '%s'", name);
    }
    return x;
}

static const struct targ *arg_of(const struct targs *a, const char *key)
{
    const struct targ *t = targs_get(a, key);
    if (!t)
        fail_msg("no argument '%s'", key);
    return t;
}

static void assert_int_arg(const struct targs *a, const char *key, int64_t want)
{
    const struct targ *t = arg_of(a, key);
    assert_int_equal(t->val.kind, TV_INT);
    assert_true(t->val.i == want);
}

static void assert_str_arg(const struct targs *a, const char *key, const char *want)
{
    const struct targ *t = arg_of(a, key);
    assert_int_equal(t->val.kind, TV_STRING);
    assert_string_equal(t->val.s, want);
}

#define QHEAD TOPO_HEAD "    queues:\n      q:\n" /* queue q at 5:7; its keys from line 6 */
#define XHEAD TOPO_HEAD "    exchanges:\n      x:\n"

static void assert_clean(const struct fx *f)
{
    if (f->load_rc != 0 || f->dl.errors != 0) {
        dump_diags(&f->dl);
        fail_msg("load failed (rc %d)", f->load_rc);
    }
}

/* ---- the whole format ---- */

static void test_load_contract_example_loads_cleanly(void **state)
{
    static const char *const yaml = TOPOLOGY_SHAPE_EXAMPLE;
    struct fx *f = *state;
    const struct vhost *vh;

    fx_load(f, yaml);
    assert_clean(f);
    assert_int_equal(f->t.version, 1);
    assert_int_equal(f->t.n_vhosts, 1);
    vh = vhost0(f);
    assert_string_equal(vh->name, "orders");
    assert_int_equal(vh->n_exchanges, 4);
    assert_int_equal(vh->n_queues, 3);
    assert_int_equal(vh->n_bindings, 4);
    assert_int_equal(vh->n_policies, 1);
    assert_string_equal(vh->policies[0].pattern, "\\.dlq$");
    assert_string_equal(f->t.file, "t.yaml");
}

static void test_load_several_vhosts(void **state)
{
    struct fx *f = *state;

    fx_load(f, "version: 1\nvhosts:\n  /:\n    queues: { a: {} }\n  other: {}\n");
    assert_clean(f);
    assert_int_equal(f->t.n_vhosts, 2);
    assert_string_equal(f->t.vhosts[0].name, "/");
    assert_string_equal(f->t.vhosts[1].name, "other");
    assert_int_equal(f->t.vhosts[0].n_queues, 1);
    assert_int_equal(f->t.vhosts[1].n_queues, 0);
}

/* ---- version and file-level problems ---- */

static void test_load_version_1_is_accepted(void **state)
{
    struct fx *f = *state;

    fx_load(f, "version: 1\nvhosts: {}\n");
    assert_clean(f);
    assert_int_equal(f->t.version, 1);
}

static void test_load_missing_version_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, "vhosts:\n  v: {}\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "version", 1, 1, "missing");
}

static void test_load_version_2_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, "version: 2\nvhosts: {}\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "version", 1, 10, "unsupported version '2'");
}

static void test_load_version_as_string_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, "version: \"1\"\nvhosts: {}\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "version", 1, 10, "unsupported version '1'");
}

static void test_load_missing_vhosts_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, "version: 1\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "vhosts", 1, 1, "missing");
}

static void test_load_empty_file_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, "");
    assert_int_equal(f->load_rc, -1);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "", 1, 1, "the file is empty");
}

static void test_load_comments_only_file_is_empty(void **state)
{
    struct fx *f = *state;

    fx_load(f, "# nothing here yet\n\n");
    assert_int_equal(f->load_rc, -1);
    EXPECT_ERROR(&f->dl, "", 0, 0, "the file is empty");
}

static void test_load_nul_byte_is_refused(void **state)
{
    static const char buf[] = "version: 1\nvhosts:\0 {}\n";
    struct fx *f = *state;
    struct load_options opts;

    memset(&opts, 0, sizeof(opts));
    opts.env = test_env;
    topology_init(&f->t);
    diag_list_init(&f->dl);
    f->load_rc = topology_load_buffer(&f->t, "t.yaml", buf, sizeof(buf) - 1, &opts, &f->dl);
    assert_int_equal(f->load_rc, -1);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "", 0, 0, "NUL byte (at offset 18)");
}

static void test_load_root_that_is_not_a_map_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, "- version: 1\n");
    assert_int_equal(f->load_rc, -1);
    EXPECT_ERROR(&f->dl, "", 1, 1, "a topology file is a map");
}

static void test_load_syntax_error_makes_load_fail(void **state)
{
    struct fx *f = *state;

    fx_load(f, "version: 1\nvhosts: [\n");
    assert_int_equal(f->load_rc, -1);
    EXPECT_ERROR(&f->dl, "", 0, 0, "YAML syntax error");
    assert_int_equal(f->t.n_vhosts, 0);
}

static void test_load_unknown_top_level_key_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, "version: 1\nvhosts: {}\nvhost: {}\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "vhost", 3, 1, "unknown key 'vhost' (did you mean 'vhosts'?)");
}

static void test_load_unknown_vhost_section_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    queue: {}\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queue", 4, 5, "unknown key 'queue' (did you mean 'queues'?)");
}

static void test_load_diagnostics_name_the_file(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        durable: yes\n");
    assert_int_equal(f->dl.n, 1);
    assert_string_equal(f->dl.v[0].file, "t.yaml");
}

static void test_load_reports_every_error_in_one_run(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    exchanges:\n"
                         "      x: { type: topik }\n"
                         "    queues:\n"
                         "      a: { durable: yes }\n"
                         "      b: { message_ttl: 5 parsecs }\n"
                         "      c: { colour: red }\n");
    assert_int_equal(f->load_rc, 0);
    EXPECT_COUNTS(&f->dl, 4, 0);
    EXPECT_ERROR(&f->dl, "exchanges.x.type", 5, 18, "topik");
    EXPECT_ERROR(&f->dl, "queues.a.durable", 7, 21, "'yes'");
    EXPECT_ERROR(&f->dl, "queues.b.message_ttl", 8, 25, "5 parsecs");
    EXPECT_ERROR(&f->dl, "queues.c.colour", 9, 12, "unknown key 'colour'");
}

/* ---- exchanges ---- */

static void test_load_exchange_every_key(void **state)
{
    struct fx *f = *state;
    const struct exchange *x;

    fx_load(f, XHEAD "        type: topic\n"
                     "        durable: false\n"
                     "        auto_delete: true\n"
                     "        internal: true\n"
                     "        alternate_exchange: ae\n"
                     "        arguments: { x-custom: 5 }\n"
                     "      ae: { type: fanout }\n");
    assert_clean(f);
    x = exchange_named(f, "x");
    assert_string_equal(x->type, "topic");
    assert_int_equal(x->type_pos.line, 6);
    assert_int_equal(x->type_pos.col, 15);
    assert_int_equal(x->pos.line, 5);
    assert_int_equal(x->pos.col, 7);
    assert_true(x->durable.set);
    assert_false(x->durable.value);
    assert_true(x->auto_delete.set);
    assert_true(x->auto_delete.value);
    assert_true(x->internal.set);
    assert_true(x->internal.value);
    assert_str_arg(&x->args, "alternate-exchange", "ae");
    assert_string_equal(arg_of(&x->args, "alternate-exchange")->field, "alternate_exchange");
    assert_int_arg(&x->args, "x-custom", 5);
    assert_null(arg_of(&x->args, "x-custom")->field);
    assert_int_equal(x->args.n, 2);
}

static void test_load_exchange_defaults_are_not_set(void **state)
{
    struct fx *f = *state;
    const struct exchange *x;

    fx_load(f, XHEAD "        type: direct\n");
    assert_clean(f);
    x = exchange_named(f, "x");
    assert_false(x->durable.set);
    assert_false(x->auto_delete.set);
    assert_false(x->internal.set);
    assert_int_equal(x->args.n, 0);
}

static void test_load_exchange_types(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    exchanges:\n"
                         "      a: { type: direct }\n"
                         "      b: { type: fanout }\n"
                         "      c: { type: topic }\n"
                         "      d: { type: headers }\n"
                         "      e: { type: x-delayed-message }\n");
    assert_clean(f);
    assert_string_equal(exchange_named(f, "d")->type, "headers");
    assert_string_equal(exchange_named(f, "e")->type, "x-delayed-message");
}

static void test_load_exchange_missing_type_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, XHEAD "        durable: true\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "exchanges.x.type", 5, 7, "needs a type");
}

static void test_load_exchange_with_no_settings_is_missing_type(void **state)
{
    struct fx *f = *state;

    fx_load(f, XHEAD);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "exchanges.x.type", 5, 7, "needs a type");
}

static void test_load_exchange_invalid_type_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, XHEAD "        type: topik\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "exchanges.x.type", 6, 15, "invalid exchange type 'topik'");
    EXPECT_ERROR(&f->dl, "exchanges.x.type", 6, 15, "did you mean 'topic'?");
}

static void test_load_exchange_bare_x_prefix_is_not_a_type(void **state)
{
    struct fx *f = *state;

    fx_load(f, XHEAD "        type: x-\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "exchanges.x.type", 6, 15, "invalid exchange type");
}

static void test_load_exchange_unknown_key_lists_expected(void **state)
{
    struct fx *f = *state;

    fx_load(f, XHEAD "        type: topic\n        colour: red\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "exchanges.x.colour", 7, 9, "unknown key 'colour' (expected one of: type");
}

static void test_load_exchange_internal_must_be_boolean(void **state)
{
    struct fx *f = *state;

    fx_load(f, XHEAD "        type: topic\n        internal: 1\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "exchanges.x.internal", 7, 19, "expected true or false, found '1'");
    assert_false(exchange_named(f, "x")->internal.set);
}

/* ---- queues: defaults, types ---- */

static void test_load_queue_defaults_are_not_set(void **state)
{
    struct fx *f = *state;
    const struct queue *q;

    fx_load(f, TOPO_HEAD "    queues:\n      q: {}\n");
    assert_clean(f);
    q = queue_named(f, "q");
    assert_int_equal(q->type, QT_CLASSIC);
    assert_false(q->type_set);
    assert_false(q->durable.set);
    assert_false(q->auto_delete.set);
    assert_int_equal(q->args.n, 0);
    assert_int_equal(vhost0(f)->n_bindings, 0);
}

static void test_load_queue_with_null_settings_is_a_default_queue(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD);
    assert_clean(f);
    assert_int_equal(queue_named(f, "q")->type, QT_CLASSIC);
    assert_int_equal(queue_named(f, "q")->pos.line, 5);
    assert_int_equal(queue_named(f, "q")->pos.col, 7);
}

static void test_load_queue_type_quorum(void **state)
{
    struct fx *f = *state;
    const struct queue *q;

    fx_load(f, QHEAD "        type: quorum\n");
    assert_clean(f);
    q = queue_named(f, "q");
    assert_int_equal(q->type, QT_QUORUM);
    assert_true(q->type_set);
    assert_string_equal(q->type_field, "type");
    assert_int_equal(q->type_pos.line, 6);
    assert_int_equal(q->type_pos.col, 15);
    /* the type is not an argument of the model */
    assert_null(targs_get(&q->args, "x-queue-type"));
}

static void test_load_queue_type_stream(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: stream\n");
    assert_clean(f);
    assert_int_equal(queue_named(f, "q")->type, QT_STREAM);
}

static void test_load_queue_invalid_type_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: quorom\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.type", 6, 15, "invalid value 'quorom'");
    EXPECT_ERROR(&f->dl, "queues.q.type", 6, 15, "did you mean 'quorum'?");
}

static void test_load_x_queue_type_argument_is_the_type(void **state)
{
    struct fx *f = *state;
    const struct queue *q;

    fx_load(f, QHEAD "        arguments: { x-queue-type: quorum, x-other: 1 }\n");
    assert_clean(f);
    q = queue_named(f, "q");
    assert_int_equal(q->type, QT_QUORUM);
    assert_true(q->type_set);
    assert_string_equal(q->type_field, "arguments.x-queue-type");
    assert_null(targs_get(&q->args, "x-queue-type"));
    assert_int_arg(&q->args, "x-other", 1);
    assert_int_equal(q->args.n, 1);
}

static void test_load_type_and_x_queue_type_together_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: quorum\n        arguments: { x-queue-type: quorum }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-queue-type", 7, 36, "set twice");
}

static void test_load_invalid_x_queue_type_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        arguments: { x-queue-type: lazy }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-queue-type", 6, 36, "invalid queue type");
}

static void test_load_queue_durable_and_auto_delete(void **state)
{
    struct fx *f = *state;
    const struct queue *q;

    fx_load(f, QHEAD "        durable: false\n        auto_delete: true\n");
    assert_clean(f);
    q = queue_named(f, "q");
    assert_true(q->durable.set);
    assert_false(q->durable.value);
    assert_int_equal(q->durable.pos.line, 6);
    assert_int_equal(q->durable.pos.col, 18);
    assert_true(q->auto_delete.set);
    assert_true(q->auto_delete.value);
}

static void test_load_durable_yes_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        durable: yes\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.durable", 6, 18, "expected true or false, found 'yes'");
    assert_false(queue_named(f, "q")->durable.set);
}

static void test_load_queue_unknown_key_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        durabel: true\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.durabel", 6, 9,
                 "unknown key 'durabel' (did you mean 'durable'?)");
}

static void test_load_queue_misspelt_ttl_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        messsage_ttl: 5s\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.messsage_ttl", 6, 9, "did you mean 'message_ttl'?");
}

static void test_load_queue_settings_must_be_a_map(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    queues:\n      q: 5\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q", 5, 10, "expected a map, found '5'");
}

static void test_load_section_must_be_a_map(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    queues: [a, b]\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues", 4, 13, "expected a map, found a list");
}

static void test_load_duplicate_queue_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    queues:\n      q: {}\n      q: {}\n");
    EXPECT_ERROR(&f->dl, NULL, 6, 7, "duplicate key 'q' (first defined at line 5)");
}

static void test_load_duplicate_field_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        message_ttl: 5s\n        message_ttl: 5s\n");
    EXPECT_ERROR(&f->dl, NULL, 7, 9, "duplicate key 'message_ttl' (first defined at line 6)");
}

/* ---- queues: first-class fields become x-arguments ---- */

static void test_load_message_ttl_7d_becomes_long_milliseconds(void **state)
{
    struct fx *f = *state;
    const struct targ *a;

    fx_load(f, QHEAD "        message_ttl: 7d\n");
    assert_clean(f);
    a = arg_of(&queue_named(f, "q")->args, "x-message-ttl");
    assert_int_equal(a->val.kind, TV_INT);
    assert_true(a->val.i == 604800000);
    assert_string_equal(a->field, "message_ttl");
    assert_int_equal(a->pos.line, 6);
    assert_int_equal(a->pos.col, 22);
}

static void test_load_message_ttl_integer_is_milliseconds(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        message_ttl: 60000\n");
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-message-ttl", 60000);
}

static void test_load_message_ttl_fraction_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        message_ttl: 1.5h\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.message_ttl", 6, 22, "invalid duration '1.5h'");
    assert_null(targs_get(&queue_named(f, "q")->args, "x-message-ttl"));
}

static void test_load_message_ttl_float_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        message_ttl: 1.5\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.message_ttl", 6, 22, "expected a duration");
}

static void test_load_message_ttl_boolean_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        message_ttl: true\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.message_ttl", 6, 22, "found 'true'");
}

static void test_load_expires_30m(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        expires: 30m\n");
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-expires", 1800000);
    assert_string_equal(arg_of(&queue_named(f, "q")->args, "x-expires")->field, "expires");
}

static void test_load_max_length(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        max_length: 100000\n");
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-max-length", 100000);
}

static void test_load_max_length_as_string_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        max_length: \"100\"\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_length", 6, 21,
                 "expected a whole number, found the string '100' (remove the quotes)");
}

static void test_load_max_length_out_of_range_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        max_length: 99999999999999999999\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_length", 6, 21, "out of range");
}

static void test_load_max_length_bytes_1GiB(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        max_length_bytes: 1GiB\n");
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-max-length-bytes", 1073741824LL);
}

static void test_load_max_length_bytes_20GB(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        max_length_bytes: 20GB\n");
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-max-length-bytes", 20000000000LL);
}

static void test_load_max_length_bytes_integer(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        max_length_bytes: 4096\n");
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-max-length-bytes", 4096);
}

static void test_load_max_length_bytes_bad_unit_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        max_length_bytes: 1GiG\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_length_bytes", 6, 27, "invalid size '1GiG'");
}

static void test_load_max_age_7d_becomes_7D(void **state)
{
    struct fx *f = *state;
    const struct targ *a;

    fx_load(f, QHEAD "        type: stream\n        max_age: 7d\n");
    assert_clean(f);
    a = arg_of(&queue_named(f, "q")->args, "x-max-age");
    assert_int_equal(a->val.kind, TV_STRING);
    assert_string_equal(a->val.s, "7D");
    assert_string_equal(a->field, "max_age");
}

static void test_load_max_age_36h_stays_36h(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: stream\n        max_age: 36h\n");
    assert_clean(f);
    assert_str_arg(&queue_named(f, "q")->args, "x-max-age", "36h");
}

static void test_load_max_age_integer_is_milliseconds(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: stream\n        max_age: 86400000\n");
    assert_clean(f);
    assert_str_arg(&queue_named(f, "q")->args, "x-max-age", "1D");
}

static void test_load_max_age_integer_not_whole_seconds_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: stream\n        max_age: 1500\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_age", 7, 18, "whole seconds");
}

static void test_load_max_age_in_ms_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: stream\n        max_age: 1500ms\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_age", 7, 18, "invalid max_age '1500ms'");
}

static void test_load_max_age_zero_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        type: stream\n        max_age: 0s\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_age", 7, 18, "invalid max_age '0s'");
}

static void test_load_overflow_becomes_string_argument(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        overflow: reject-publish\n");
    assert_clean(f);
    assert_str_arg(&queue_named(f, "q")->args, "x-overflow", "reject-publish");
}

static void test_load_overflow_invalid_value_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        overflow: reject-publsh\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.overflow", 6, 19, "invalid value 'reject-publsh'");
    EXPECT_ERROR(&f->dl, "queues.q.overflow", 6, 19, "did you mean 'reject-publish'?");
}

static void test_load_dead_letter_fields(void **state)
{
    struct fx *f = *state;
    const struct queue *q;

    fx_load(f, QHEAD "        type: quorum\n"
                     "        dead_letter_exchange: dlx\n"
                     "        dead_letter_routing_key: q.dead\n"
                     "        dead_letter_strategy: at-least-once\n");
    assert_clean(f);
    q = queue_named(f, "q");
    assert_str_arg(&q->args, "x-dead-letter-exchange", "dlx");
    assert_str_arg(&q->args, "x-dead-letter-routing-key", "q.dead");
    assert_str_arg(&q->args, "x-dead-letter-strategy", "at-least-once");
    assert_string_equal(arg_of(&q->args, "x-dead-letter-exchange")->field, "dead_letter_exchange");
}

static void test_load_dead_letter_exchange_may_be_default_exchange(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        dead_letter_exchange: \"\"\n");
    assert_clean(f);
    assert_str_arg(&queue_named(f, "q")->args, "x-dead-letter-exchange", "");
}

static void test_load_dead_letter_strategy_invalid_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        dead_letter_strategy: exactly-once\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 6, 31, "invalid value 'exactly-once'");
}

static void test_load_delivery_limit_and_group_size_are_integers(void **state)
{
    struct fx *f = *state;
    const struct queue *q;

    fx_load(f, QHEAD "        type: quorum\n"
                     "        delivery_limit: 5\n"
                     "        initial_group_size: 3\n");
    assert_clean(f);
    q = queue_named(f, "q");
    assert_int_arg(&q->args, "x-delivery-limit", 5);
    assert_int_arg(&q->args, "x-quorum-initial-group-size", 3);
}

static void test_load_single_active_consumer_is_boolean(void **state)
{
    struct fx *f = *state;
    const struct targ *a;

    fx_load(f, QHEAD "        single_active_consumer: true\n");
    assert_clean(f);
    a = arg_of(&queue_named(f, "q")->args, "x-single-active-consumer");
    assert_int_equal(a->val.kind, TV_BOOL);
    assert_true(a->val.b);
}

static void test_load_negative_values_are_kept_for_validate(void **state)
{
    struct fx *f = *state;

    /* the loader takes any integer; validate says which ranges the broker refuses */
    fx_load(f, QHEAD "        max_length: -1\n");
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-max-length", -1);
}

/* ---- raw arguments ---- */

static void test_load_raw_arguments_keep_yaml_types(void **state)
{
    struct fx *f = *state;
    const struct queue *q;
    const struct targ *a;

    fx_load(f, QHEAD "        arguments:\n"
                     "          x-s: \"60000\"\n"
                     "          x-i: 60000\n"
                     "          x-b: true\n"
                     "          x-d: 1.5\n"
                     "          x-l: [1, a]\n"
                     "          x-m: { k: v }\n"
                     "          x-n: ~\n"
                     "          x-y: yes\n");
    assert_clean(f);
    q = queue_named(f, "q");
    assert_str_arg(&q->args, "x-s", "60000");
    assert_int_arg(&q->args, "x-i", 60000);
    assert_int_equal(arg_of(&q->args, "x-b")->val.kind, TV_BOOL);
    a = arg_of(&q->args, "x-d");
    assert_int_equal(a->val.kind, TV_DOUBLE);
    assert_true(a->val.d == 1.5);
    a = arg_of(&q->args, "x-l");
    assert_int_equal(a->val.kind, TV_LIST);
    assert_int_equal(a->val.n, 2);
    assert_int_equal(a->val.entries[0].val.kind, TV_INT);
    assert_int_equal(a->val.entries[1].val.kind, TV_STRING);
    a = arg_of(&q->args, "x-m");
    assert_int_equal(a->val.kind, TV_MAP);
    assert_non_null(tval_get(&a->val, "k"));
    assert_int_equal(arg_of(&q->args, "x-n")->val.kind, TV_NULL);
    assert_str_arg(&q->args, "x-y", "yes");
    assert_null(arg_of(&q->args, "x-s")->field);
    /* the position of each raw argument is its value's */
    assert_int_equal(arg_of(&q->args, "x-s")->pos.line, 7);
    assert_int_equal(arg_of(&q->args, "x-s")->pos.col, 16);
}

static void test_load_raw_argument_out_of_range_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        arguments: { x-max-length: 99999999999999999999 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-max-length", 6, 36, "out of range");
    assert_null(targs_get(&queue_named(f, "q")->args, "x-max-length"));
}

static void test_load_empty_argument_name_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        arguments: { \"\": 1 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, NULL, 6, 22, "an argument name must not be empty");
}

static void test_load_arguments_must_be_a_map(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        arguments: [x-max-length]\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments", 6, 20, "expected a map");
}

/* ---- bind sugar ---- */

static void test_load_bind_entries_become_bindings(void **state)
{
    struct fx *f = *state;
    const struct vhost *vh;
    const struct binding *b;

    fx_load(f, QHEAD "        bind:\n"
                     "          - { exchange: x, routing_key: a.b, arguments: { h: 1 } }\n"
                     "          - { exchange: y }\n");
    assert_clean(f);
    vh = vhost0(f);
    assert_int_equal(vh->n_bindings, 2);
    b = &vh->bindings[0];
    assert_string_equal(b->source, "x");
    assert_string_equal(b->destination, "q");
    assert_false(b->dest_is_exchange);
    assert_string_equal(b->bind_queue, "q");
    assert_int_equal(b->index, 0);
    assert_string_equal(b->routing_key, "a.b");
    assert_int_equal(b->args.kind, TV_MAP);
    assert_int_equal(b->args.n, 1);
    assert_int_equal(b->source_pos.line, 7);
    assert_int_equal(b->source_pos.col, 25);
    b = &vh->bindings[1];
    assert_string_equal(b->source, "y");
    assert_string_equal(b->routing_key, "");
    assert_int_equal(b->index, 1);
    assert_int_equal(b->args.n, 0);
}

static void test_load_bind_entry_needs_exchange(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        bind:\n          - { routing_key: a }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.bind[0]", 7, 13, "needs 'exchange'");
}

static void test_load_bind_entry_unknown_key_suggests(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        bind:\n          - { exchange: x, routng_key: a }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.bind[0].routng_key", 7, 28, "did you mean 'routing_key'?");
}

static void test_load_bind_must_be_a_list(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        bind: { exchange: x }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.bind", 6, 15, "expected a list of bindings");
}

static void test_load_bind_numeric_routing_key_is_text(void **state)
{
    struct fx *f = *state;

    fx_load(f, QHEAD "        bind:\n          - { exchange: x, routing_key: 404 }\n");
    assert_clean(f);
    assert_string_equal(vhost0(f)->bindings[0].routing_key, "404");
}

/* ---- bindings ---- */

static void test_load_bindings_every_key(void **state)
{
    struct fx *f = *state;
    const struct binding *b;

    fx_load(f, TOPO_HEAD "    bindings:\n"
                         "      - source: x\n"
                         "        destination: y\n"
                         "        destination_type: exchange\n"
                         "        routing_key: \"order.*\"\n"
                         "        arguments: { x-match: all }\n");
    assert_clean(f);
    assert_int_equal(vhost0(f)->n_bindings, 1);
    b = &vhost0(f)->bindings[0];
    assert_string_equal(b->source, "x");
    assert_string_equal(b->destination, "y");
    assert_true(b->dest_is_exchange);
    assert_string_equal(b->routing_key, "order.*");
    assert_null(b->bind_queue);
    assert_non_null(tval_get(&b->args, "x-match"));
    assert_int_equal(b->pos.line, 5);
    assert_int_equal(b->pos.col, 9);
    assert_int_equal(b->source_pos.line, 5);
    assert_int_equal(b->source_pos.col, 17);
    assert_int_equal(b->dest_pos.line, 6);
    assert_int_equal(b->dest_pos.col, 22);
}

static void test_load_binding_defaults_queue_and_empty_key(void **state)
{
    struct fx *f = *state;
    const struct binding *b;

    fx_load(f, TOPO_HEAD "    bindings:\n      - { source: x, destination: q }\n");
    assert_clean(f);
    b = &vhost0(f)->bindings[0];
    assert_false(b->dest_is_exchange);
    assert_string_equal(b->routing_key, "");
    assert_int_equal(b->args.kind, TV_MAP);
    assert_int_equal(b->args.n, 0);
}

static void test_load_binding_needs_source_and_destination(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    bindings:\n      - { routing_key: a }\n");
    EXPECT_COUNTS(&f->dl, 2, 0);
    EXPECT_ERROR(&f->dl, "bindings[0]", 5, 9, "needs 'source'");
    EXPECT_ERROR(&f->dl, "bindings[0]", 5, 9, "needs 'destination'");
}

static void test_load_binding_destination_type_invalid_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD
            "    bindings:\n      - { source: x, destination: q, destination_type: stream }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "bindings[0].destination_type", 5, 56, "invalid value 'stream'");
}

static void test_load_bindings_must_be_a_list(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    bindings: { source: x }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "bindings", 4, 15, "expected a list of bindings");
}

static void test_load_second_binding_path_has_its_index(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    bindings:\n"
                         "      - { source: x, destination: q }\n"
                         "      - { source: x, destinaton: q }\n");
    EXPECT_ERROR(&f->dl, "bindings[1].destinaton", 6, 22, "did you mean 'destination'?");
}

/* ---- policies ---- */

static void test_load_policy_every_key(void **state)
{
    struct fx *f = *state;
    const struct policy *p;

    fx_load(f, TOPO_HEAD "    policies:\n"
                         "      p:\n"
                         "        pattern: \"^q$\"\n"
                         "        apply_to: quorum_queues\n"
                         "        priority: 5\n"
                         "        definition: { max-length: 10, overflow: reject-publish }\n");
    assert_clean(f);
    assert_int_equal(vhost0(f)->n_policies, 1);
    p = &vhost0(f)->policies[0];
    assert_string_equal(p->name, "p");
    assert_string_equal(p->pattern, "^q$");
    assert_string_equal(p->apply_to, "quorum_queues");
    assert_true(p->apply_to_set);
    assert_true(p->priority == 5);
    assert_int_equal(p->definition.kind, TV_MAP);
    assert_int_equal(p->definition.n, 2);
    assert_int_equal(tval_get(&p->definition, "max-length")->kind, TV_INT);
    assert_non_null(p->def_pos);
    assert_int_equal(p->def_pos[0].line, 9);
    assert_int_equal(p->def_pos[0].col, 35);
    assert_int_equal(p->def_pos[1].col, 49);
}

static void test_load_policy_defaults(void **state)
{
    struct fx *f = *state;
    const struct policy *p;

    fx_load(f, TOPO_HEAD
            "    policies:\n      p: { pattern: \".*\", definition: { max-length: 1 } }\n");
    assert_clean(f);
    p = &vhost0(f)->policies[0];
    assert_string_equal(p->apply_to, "all");
    assert_false(p->apply_to_set);
    assert_true(p->priority == 0);
}

static void test_load_policy_every_apply_to_value(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD
            "    policies:\n"
            "      a: { pattern: a, apply_to: queues, definition: { max-length: 1 } }\n"
            "      b: { pattern: b, apply_to: exchanges, definition: { alternate-exchange: x } }\n"
            "      c: { pattern: c, apply_to: all, definition: { max-length: 1 } }\n"
            "      d: { pattern: d, apply_to: classic_queues, definition: { max-length: 1 } }\n"
            "      e: { pattern: e, apply_to: quorum_queues, definition: { max-length: 1 } }\n"
            "      f: { pattern: f, apply_to: streams, definition: { max-age: 1D } }\n");
    assert_clean(f);
    assert_int_equal(vhost0(f)->n_policies, 6);
    assert_string_equal(vhost0(f)->policies[5].apply_to, "streams");
}

static void test_load_policy_needs_pattern(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    policies:\n      p: { definition: { max-length: 1 } }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.pattern", 5, 7, "needs a pattern");
}

static void test_load_policy_needs_definition(void **state)
{
    struct fx *f = *state;

    fx_load(f, TOPO_HEAD "    policies:\n      p: { pattern: x }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.definition", 5, 7, "needs a definition");
}

static void test_load_policy_invalid_apply_to_is_error(void **state)
{
    struct fx *f = *state;

    fx_load(
        f, TOPO_HEAD
        "    policies:\n      p: { pattern: x, apply_to: queue, definition: { max-length: 1 } }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.apply_to", 5, 34, "did you mean 'queues'?");
}

static void test_load_policy_priority_must_be_integer(void **state)
{
    struct fx *f = *state;

    fx_load(
        f, TOPO_HEAD
        "    policies:\n      p: { pattern: x, priority: high, definition: { max-length: 1 } }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.priority", 5, 34, "expected a whole number, found 'high'");
}

/* ---- ${VAR} through the loader ---- */

static void test_load_env_substitution_in_names_and_values(void **state)
{
    static const char *const env[] = {"ENV", "prod", "TTL", "", NULL};
    struct fx *f = *state;

    fx_load_env(f, TOPO_HEAD "    queues:\n      orders.${ENV}:\n        message_ttl: ${TTL:-7d}\n",
                env);
    assert_clean(f);
    assert_int_arg(&queue_named(f, "orders.prod")->args, "x-message-ttl", 604800000);
}

static void test_load_env_integer_substitution_is_an_integer(void **state)
{
    static const char *const env[] = {"LIMIT", "5", NULL};
    struct fx *f = *state;

    fx_load_env(f, QHEAD "        type: quorum\n        delivery_limit: ${LIMIT}\n", env);
    assert_clean(f);
    assert_int_arg(&queue_named(f, "q")->args, "x-delivery-limit", 5);
}

static void test_load_unset_variable_is_error_naming_it(void **state)
{
    struct fx *f = *state;

    fx_load_env(f, QHEAD "        dead_letter_exchange: ${DLX}\n", NULL);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_exchange", 6, 31,
                 "environment variable 'DLX' is not set");
}

static void test_load_unset_variable_in_a_typed_field_is_one_error(void **state)
{
    struct fx *f = *state;

    /* the variable is the problem, not the empty text left in its place */
    fx_load_env(f, QHEAD "        durable: ${DURABLE}\n        max_length: ${MAX}\n", NULL);
    EXPECT_COUNTS(&f->dl, 2, 0);
    EXPECT_ERROR(&f->dl, "queues.q.durable", 6, 18, "'DURABLE' is not set");
    EXPECT_ERROR(&f->dl, "queues.q.max_length", 7, 21, "'MAX' is not set");
}

static void test_load_unset_variable_in_a_key_is_one_error(void **state)
{
    struct fx *f = *state;

    fx_load_env(f, TOPO_HEAD "    queues:\n      orders.${ENV}: { type: quorum }\n", NULL);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, NULL, 5, 7, "environment variable 'ENV' is not set");
}

/* ---- topology_load_file ---- */

static void test_load_file_reads_a_file(void **state)
{
    char path[] = "/tmp/rmqt_test_load_XXXXXX";
    static const char yaml[] = "version: 1\nvhosts:\n  v:\n    queues: { q: {} }\n";
    struct fx *f = *state;
    struct load_options opts;
    int fd;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)(sizeof(yaml) - 1));
    close(fd);
    memset(&opts, 0, sizeof(opts));
    opts.env = test_env;
    topology_init(&f->t);
    diag_list_init(&f->dl);
    f->load_rc = topology_load_file(&f->t, path, &opts, &f->dl);
    unlink(path);
    assert_clean(f);
    assert_string_equal(f->t.file, path);
    assert_non_null(queue_named(f, "q"));
}

static void test_load_file_missing_is_error(void **state)
{
    struct fx *f = *state;

    topology_init(&f->t);
    diag_list_init(&f->dl);
    f->load_rc = topology_load_file(&f->t, "/nonexistent/rmqt.yaml", NULL, &f->dl);
    assert_int_equal(f->load_rc, -1);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "", 0, 0, "cannot open");
    assert_string_equal(f->dl.v[0].file, "/nonexistent/rmqt.yaml");
}

static void test_load_file_directory_is_error(void **state)
{
    struct fx *f = *state;

    topology_init(&f->t);
    diag_list_init(&f->dl);
    f->load_rc = topology_load_file(&f->t, "/tmp", NULL, &f->dl);
    assert_int_equal(f->load_rc, -1);
    EXPECT_ERROR(&f->dl, "", 0, 0, "directory");
}

static void test_load_file_over_the_size_cap_is_error(void **state)
{
    char path[] = "/tmp/rmqt_test_big_XXXXXX";
    char block[4096];
    struct fx *f = *state;
    struct load_options opts;
    int fd, k;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    memset(block, '#', sizeof(block));
    for (k = 0; k < 64; k++)
        assert_int_equal(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
    close(fd);
    memset(&opts, 0, sizeof(opts));
    opts.max_file_size = 100000;
    topology_init(&f->t);
    diag_list_init(&f->dl);
    f->load_rc = topology_load_file(&f->t, path, &opts, &f->dl);
    unlink(path);
    assert_int_equal(f->load_rc, -1);
    EXPECT_ERROR(&f->dl, "", 0, 0, "file too large");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_load_contract_example_loads_cleanly),
        FX_TEST(test_load_several_vhosts),
        FX_TEST(test_load_version_1_is_accepted),
        FX_TEST(test_load_missing_version_is_error),
        FX_TEST(test_load_version_2_is_error),
        FX_TEST(test_load_version_as_string_is_error),
        FX_TEST(test_load_missing_vhosts_is_error),
        FX_TEST(test_load_empty_file_is_error),
        FX_TEST(test_load_comments_only_file_is_empty),
        FX_TEST(test_load_nul_byte_is_refused),
        FX_TEST(test_load_root_that_is_not_a_map_is_error),
        FX_TEST(test_load_syntax_error_makes_load_fail),
        FX_TEST(test_load_unknown_top_level_key_suggests),
        FX_TEST(test_load_unknown_vhost_section_suggests),
        FX_TEST(test_load_diagnostics_name_the_file),
        FX_TEST(test_load_reports_every_error_in_one_run),
        FX_TEST(test_load_exchange_every_key),
        FX_TEST(test_load_exchange_defaults_are_not_set),
        FX_TEST(test_load_exchange_types),
        FX_TEST(test_load_exchange_missing_type_is_error),
        FX_TEST(test_load_exchange_with_no_settings_is_missing_type),
        FX_TEST(test_load_exchange_invalid_type_suggests),
        FX_TEST(test_load_exchange_bare_x_prefix_is_not_a_type),
        FX_TEST(test_load_exchange_unknown_key_lists_expected),
        FX_TEST(test_load_exchange_internal_must_be_boolean),
        FX_TEST(test_load_queue_defaults_are_not_set),
        FX_TEST(test_load_queue_with_null_settings_is_a_default_queue),
        FX_TEST(test_load_queue_type_quorum),
        FX_TEST(test_load_queue_type_stream),
        FX_TEST(test_load_queue_invalid_type_suggests),
        FX_TEST(test_load_x_queue_type_argument_is_the_type),
        FX_TEST(test_load_type_and_x_queue_type_together_is_error),
        FX_TEST(test_load_invalid_x_queue_type_is_error),
        FX_TEST(test_load_queue_durable_and_auto_delete),
        FX_TEST(test_load_durable_yes_is_error),
        FX_TEST(test_load_queue_unknown_key_suggests),
        FX_TEST(test_load_queue_misspelt_ttl_suggests),
        FX_TEST(test_load_queue_settings_must_be_a_map),
        FX_TEST(test_load_section_must_be_a_map),
        FX_TEST(test_load_duplicate_queue_is_error),
        FX_TEST(test_load_duplicate_field_is_error),
        FX_TEST(test_load_message_ttl_7d_becomes_long_milliseconds),
        FX_TEST(test_load_message_ttl_integer_is_milliseconds),
        FX_TEST(test_load_message_ttl_fraction_is_error),
        FX_TEST(test_load_message_ttl_float_is_error),
        FX_TEST(test_load_message_ttl_boolean_is_error),
        FX_TEST(test_load_expires_30m),
        FX_TEST(test_load_max_length),
        FX_TEST(test_load_max_length_as_string_is_error),
        FX_TEST(test_load_max_length_out_of_range_is_error),
        FX_TEST(test_load_max_length_bytes_1GiB),
        FX_TEST(test_load_max_length_bytes_20GB),
        FX_TEST(test_load_max_length_bytes_integer),
        FX_TEST(test_load_max_length_bytes_bad_unit_is_error),
        FX_TEST(test_load_max_age_7d_becomes_7D),
        FX_TEST(test_load_max_age_36h_stays_36h),
        FX_TEST(test_load_max_age_integer_is_milliseconds),
        FX_TEST(test_load_max_age_integer_not_whole_seconds_is_error),
        FX_TEST(test_load_max_age_in_ms_is_error),
        FX_TEST(test_load_max_age_zero_is_error),
        FX_TEST(test_load_overflow_becomes_string_argument),
        FX_TEST(test_load_overflow_invalid_value_suggests),
        FX_TEST(test_load_dead_letter_fields),
        FX_TEST(test_load_dead_letter_exchange_may_be_default_exchange),
        FX_TEST(test_load_dead_letter_strategy_invalid_is_error),
        FX_TEST(test_load_delivery_limit_and_group_size_are_integers),
        FX_TEST(test_load_single_active_consumer_is_boolean),
        FX_TEST(test_load_negative_values_are_kept_for_validate),
        FX_TEST(test_load_raw_arguments_keep_yaml_types),
        FX_TEST(test_load_raw_argument_out_of_range_is_error),
        FX_TEST(test_load_empty_argument_name_is_error),
        FX_TEST(test_load_arguments_must_be_a_map),
        FX_TEST(test_load_bind_entries_become_bindings),
        FX_TEST(test_load_bind_entry_needs_exchange),
        FX_TEST(test_load_bind_entry_unknown_key_suggests),
        FX_TEST(test_load_bind_must_be_a_list),
        FX_TEST(test_load_bind_numeric_routing_key_is_text),
        FX_TEST(test_load_bindings_every_key),
        FX_TEST(test_load_binding_defaults_queue_and_empty_key),
        FX_TEST(test_load_binding_needs_source_and_destination),
        FX_TEST(test_load_binding_destination_type_invalid_is_error),
        FX_TEST(test_load_bindings_must_be_a_list),
        FX_TEST(test_load_second_binding_path_has_its_index),
        FX_TEST(test_load_policy_every_key),
        FX_TEST(test_load_policy_defaults),
        FX_TEST(test_load_policy_every_apply_to_value),
        FX_TEST(test_load_policy_needs_pattern),
        FX_TEST(test_load_policy_needs_definition),
        FX_TEST(test_load_policy_invalid_apply_to_is_error),
        FX_TEST(test_load_policy_priority_must_be_integer),
        FX_TEST(test_load_env_substitution_in_names_and_values),
        FX_TEST(test_load_env_integer_substitution_is_an_integer),
        FX_TEST(test_load_unset_variable_is_error_naming_it),
        FX_TEST(test_load_unset_variable_in_a_typed_field_is_one_error),
        FX_TEST(test_load_unset_variable_in_a_key_is_one_error),
        FX_TEST(test_load_file_reads_a_file),
        FX_TEST(test_load_file_missing_is_error),
        FX_TEST(test_load_file_directory_is_error),
        FX_TEST(test_load_file_over_the_size_cap_is_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
