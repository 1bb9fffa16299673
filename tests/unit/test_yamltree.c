/*
 * test_yamltree.c - YAML text to positioned nodes: positions, duplicate keys, aliases and
 * their budget, depth, documents, syntax errors, the core schema, ${VAR} substitution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "strbuf.h"
#include "yamltree.h"

struct yfx {
    struct ydoc doc;
    struct diag_list dl;
    int rc;
};

static void yparse_opts(struct yfx *y, const char *text, const char *const *env, int max_depth,
                        size_t max_nodes)
{
    struct ydoc_options o;

    memset(&o, 0, sizeof(o));
    o.env = test_env;
    o.env_ctx = (void *)env;
    o.max_depth = max_depth;
    o.max_nodes = max_nodes;
    diag_list_init(&y->dl);
    y->rc = ydoc_parse(&y->doc, "y.yaml", text, strlen(text), &o, &y->dl);
}

static void yparse(struct yfx *y, const char *text)
{
    yparse_opts(y, text, NULL, 0, 0);
}

static void yparse_env(struct yfx *y, const char *text, const char *const *env)
{
    yparse_opts(y, text, env, 0, 0);
}

static void yrelease(struct yfx *y)
{
    ydoc_release(&y->doc);
    diag_list_release(&y->dl);
}

/* The scalar at key of the root map (which must exist). */
static const struct ynode *val(const struct yfx *y, const char *key)
{
    const struct ynode *n;

    assert_non_null(y->doc.root);
    n = ynode_get(y->doc.root, key);
    if (!n) {
        dump_diags(&y->dl);
        fail_msg("no key '%s'", key);
    }
    return n;
}

static void assert_parsed(const struct yfx *y)
{
    if (y->rc != 0 || y->dl.errors != 0) {
        dump_diags(&y->dl);
        fail_msg("parse failed (rc %d)", y->rc);
    }
}

/* ---- positions ---- */

static void test_yamltree_positions_are_one_based(void **state)
{
    struct yfx y;
    const struct ynode *b, *c;
    (void)state;

    yparse(&y, "a: 1\nb:\n  c: hello\n");
    assert_parsed(&y);
    assert_int_equal(y.doc.root->pos.line, 1);
    assert_int_equal(y.doc.root->pos.col, 1);
    assert_int_equal(val(&y, "a")->pos.line, 1);
    assert_int_equal(val(&y, "a")->pos.col, 4);
    b = val(&y, "b");
    assert_int_equal(b->kind, YN_MAP);
    assert_int_equal(b->pos.line, 3);
    assert_int_equal(b->pos.col, 3);
    /* key node, then value node */
    assert_int_equal(b->items[0]->pos.line, 3);
    assert_int_equal(b->items[0]->pos.col, 3);
    c = ynode_get(b, "c");
    assert_non_null(c);
    assert_string_equal(c->text, "hello");
    assert_int_equal(c->pos.line, 3);
    assert_int_equal(c->pos.col, 6);
    yrelease(&y);
}

static void test_yamltree_sequence_item_positions(void **state)
{
    struct yfx y;
    const struct ynode *l;
    (void)state;

    yparse(&y, "l:\n  - x\n  - { k: v }\n");
    assert_parsed(&y);
    l = val(&y, "l");
    assert_int_equal(l->kind, YN_SEQ);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->items[0]->pos.line, 2);
    assert_int_equal(l->items[0]->pos.col, 5);
    assert_int_equal(l->items[1]->kind, YN_MAP);
    assert_int_equal(l->items[1]->pos.line, 3);
    assert_int_equal(l->items[1]->pos.col, 5);
    yrelease(&y);
}

static void test_yamltree_empty_document_has_no_root(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "");
    assert_int_equal(y.rc, 0);
    assert_null(y.doc.root);
    assert_int_equal(y.dl.errors, 0);
    yrelease(&y);
}

/* ---- duplicate keys ---- */

static void test_yamltree_duplicate_key_is_error_with_first_line(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 1\nb: 2\na: 3\n");
    assert_int_equal(y.dl.errors, 1);
    EXPECT_ERROR(&y.dl, "a", 3, 1, "duplicate key 'a' (first defined at line 1)");
    yrelease(&y);
}

static void test_yamltree_duplicate_key_in_nested_map(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "q:\n  x: 1\n  y: 2\n  x: 3\n");
    assert_int_equal(y.dl.errors, 1);
    EXPECT_ERROR(&y.dl, "q.x", 4, 3, "duplicate key 'x' (first defined at line 2)");
    yrelease(&y);
}

static void test_yamltree_same_key_in_different_maps_is_fine(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: { x: 1 }\nb: { x: 2 }\n");
    assert_parsed(&y);
    yrelease(&y);
}

static void test_yamltree_every_duplicate_is_reported(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 1\na: 2\nb: 1\nb: 2\n");
    assert_int_equal(y.dl.errors, 2);
    EXPECT_ERROR(&y.dl, "a", 2, 1, "duplicate key 'a'");
    EXPECT_ERROR(&y.dl, "b", 4, 1, "duplicate key 'b'");
    yrelease(&y);
}

/* ---- aliases and the node budget ---- */

static void test_yamltree_alias_refers_to_anchored_node(void **state)
{
    struct yfx y;
    const struct ynode *b;
    (void)state;

    yparse(&y, "a: &base { type: topic, durable: true }\nb: *base\n");
    assert_parsed(&y);
    b = val(&y, "b");
    assert_int_equal(b->kind, YN_MAP);
    assert_non_null(ynode_get(b, "type"));
    assert_string_equal(ynode_get(b, "type")->text, "topic");
    yrelease(&y);
}

static void test_yamltree_scalar_alias(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: &n 42\nb: *n\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "b")->type, YS_INT);
    assert_int_equal(val(&y, "b")->i, 42);
    yrelease(&y);
}

static void test_yamltree_unknown_alias_is_error(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 1\nb: *nope\n");
    assert_int_equal(y.rc, -1);
    EXPECT_ERROR(&y.dl, "", 2, 4, "*nope");
    yrelease(&y);
}

static void test_yamltree_billion_laughs_is_refused(void **state)
{
    static const char doc[] = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                              "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                              "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                              "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                              "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                              "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                              "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                              "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    struct yfx y;
    (void)state;

    yparse(&y, doc);
    assert_int_equal(y.rc, -1);
    assert_null(y.doc.root);
    EXPECT_ERROR(&y.dl, "", 0, 0, "document too large");
    yrelease(&y);
}

static void test_yamltree_node_budget_counts_expanded_aliases(void **state)
{
    struct yfx y;
    (void)state;

    /* 10 scalars, then 5 aliases of that 11-node list: about 66 nodes once expanded */
    yparse_opts(&y, "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a]\n", NULL, 0,
                50);
    assert_int_equal(y.rc, -1);
    EXPECT_ERROR(&y.dl, "", 0, 0, "more than 50 nodes");
    yrelease(&y);
}

static void test_yamltree_node_budget_allows_what_fits(void **state)
{
    struct yfx y;
    (void)state;

    yparse_opts(&y, "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a]\n", NULL, 0,
                1000);
    assert_parsed(&y);
    assert_int_equal(val(&y, "b")->n, 5);
    yrelease(&y);
}

/* ---- depth ---- */

static void test_yamltree_depth_limit_is_enforced(void **state)
{
    struct yfx y;
    (void)state;

    yparse_opts(&y, "a:\n  b:\n    c:\n      d: 1\n", NULL, 3, 0);
    assert_int_equal(y.rc, -1);
    EXPECT_ERROR(&y.dl, "", 4, 7, "nesting deeper than 3 levels");
    yrelease(&y);
}

static void test_yamltree_depth_within_limit_is_fine(void **state)
{
    struct yfx y;
    (void)state;

    yparse_opts(&y, "a:\n  b:\n    c: 1\n", NULL, 3, 0);
    assert_parsed(&y);
    yrelease(&y);
}

static void test_yamltree_default_depth_limit_refuses_deep_nesting(void **state)
{
    struct strbuf sb = {0};
    struct yfx y;
    int k;
    (void)state;

    for (k = 0; k < 10000; k++)
        strbuf_addc(&sb, '[');
    for (k = 0; k < 10000; k++)
        strbuf_addc(&sb, ']');
    yparse(&y, strbuf_str(&sb));
    assert_int_equal(y.rc, -1);
    EXPECT_ERROR(&y.dl, "", 0, 0, "nesting deeper than 64 levels");
    yrelease(&y);
    strbuf_release(&sb);
}

/* ---- documents and syntax ---- */

static void test_yamltree_second_document_is_refused(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 1\n---\nb: 2\n");
    assert_int_equal(y.rc, -1);
    EXPECT_ERROR(&y.dl, "", 2, 1, "only one YAML document");
    yrelease(&y);
}

static void test_yamltree_explicit_single_document_is_fine(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "---\na: 1\n...\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->i, 1);
    yrelease(&y);
}

static void test_yamltree_syntax_error_has_position(void **state)
{
    struct yfx y;
    const struct diag *d;
    (void)state;

    yparse(&y, "a: 1\nb: [1, 2\nc: 3\n");
    assert_int_equal(y.rc, -1);
    assert_null(y.doc.root);
    assert_int_equal(y.dl.errors, 1);
    d = EXPECT_ERROR(&y.dl, "", 0, 0, "YAML syntax error");
    assert_true(d->pos.line >= 2);
    assert_true(d->pos.col >= 1);
    assert_string_equal(d->file, "y.yaml");
    yrelease(&y);
}

static void test_yamltree_syntax_error_mapping_in_plain_value(void **state)
{
    struct yfx y;
    const struct diag *d;
    (void)state;

    yparse(&y, "ok: 1\nkey: value: other\n");
    assert_int_equal(y.rc, -1);
    d = EXPECT_ERROR(&y.dl, "", 0, 0, "YAML syntax error");
    assert_int_equal(d->pos.line, 2);
    assert_int_equal(d->pos.col, 11);
    yrelease(&y);
}

static void test_yamltree_tab_indentation_is_a_syntax_error(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a:\n\tb: 1\n");
    assert_int_equal(y.rc, -1);
    EXPECT_ERROR(&y.dl, "", 0, 0, "YAML syntax error");
    yrelease(&y);
}

static void test_yamltree_invalid_utf8_is_refused(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: \xff\xfe\n");
    assert_int_equal(y.rc, -1);
    assert_int_equal(y.dl.errors, 1);
    yrelease(&y);
}

static void test_yamltree_non_scalar_key_is_error(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "? [a, b]\n: 1\n");
    EXPECT_ERROR(&y.dl, "", 1, 3, "a map key must be a plain value");
    yrelease(&y);
}

/* ---- core schema ---- */

static void test_yamltree_yes_and_on_are_strings(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: yes\nb: on\nc: no\nd: off\ne: y\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_STRING);
    assert_int_equal(val(&y, "b")->type, YS_STRING);
    assert_int_equal(val(&y, "c")->type, YS_STRING);
    assert_int_equal(val(&y, "d")->type, YS_STRING);
    assert_int_equal(val(&y, "e")->type, YS_STRING);
    assert_string_equal(val(&y, "a")->text, "yes");
    yrelease(&y);
}

static void test_yamltree_true_false_are_booleans(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: true\nb: False\nc: TRUE\nd: tRUE\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_BOOL);
    assert_true(val(&y, "a")->b);
    assert_int_equal(val(&y, "b")->type, YS_BOOL);
    assert_false(val(&y, "b")->b);
    assert_int_equal(val(&y, "c")->type, YS_BOOL);
    assert_int_equal(val(&y, "d")->type, YS_STRING);
    yrelease(&y);
}

static void test_yamltree_decimal_integers(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 5\nb: -17\nc: +3\nd: 0\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_INT);
    assert_int_equal(val(&y, "a")->i, 5);
    assert_int_equal(val(&y, "b")->i, -17);
    assert_int_equal(val(&y, "c")->type, YS_INT);
    assert_int_equal(val(&y, "c")->i, 3);
    assert_int_equal(val(&y, "d")->i, 0);
    yrelease(&y);
}

static void test_yamltree_hex_is_an_integer(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 0x1F\nb: 0o17\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_INT);
    assert_int_equal(val(&y, "a")->i, 31);
    assert_int_equal(val(&y, "b")->type, YS_INT);
    assert_int_equal(val(&y, "b")->i, 15);
    yrelease(&y);
}

static void test_yamltree_exponent_is_a_float(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 1e3\nb: 2.5\nc: .5\nd: -1.5E-2\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_FLOAT);
    assert_true(val(&y, "a")->d == 1000.0);
    assert_int_equal(val(&y, "b")->type, YS_FLOAT);
    assert_true(val(&y, "b")->d == 2.5);
    assert_int_equal(val(&y, "c")->type, YS_FLOAT);
    assert_int_equal(val(&y, "d")->type, YS_FLOAT);
    assert_true(val(&y, "d")->d == -0.015);
    yrelease(&y);
}

static void test_yamltree_special_floats(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: .inf\nb: -.Inf\nc: .nan\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_FLOAT);
    assert_true(val(&y, "a")->d > 1e308);
    assert_int_equal(val(&y, "b")->type, YS_FLOAT);
    assert_true(val(&y, "b")->d < -1e308);
    assert_int_equal(val(&y, "c")->type, YS_FLOAT);
    yrelease(&y);
}

static void test_yamltree_null_forms(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: ~\nb: null\nc:\nd: Null\ne: nul\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_NULL);
    assert_int_equal(val(&y, "b")->type, YS_NULL);
    assert_int_equal(val(&y, "c")->type, YS_NULL);
    assert_int_equal(val(&y, "d")->type, YS_NULL);
    assert_int_equal(val(&y, "e")->type, YS_STRING);
    yrelease(&y);
}

static void test_yamltree_quoted_scalars_are_strings(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: \"5\"\nb: 'true'\nc: \"\"\nd: '~'\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_STRING);
    assert_string_equal(val(&y, "a")->text, "5");
    assert_int_equal(val(&y, "b")->type, YS_STRING);
    assert_int_equal(val(&y, "c")->type, YS_STRING);
    assert_int_equal(val(&y, "c")->len, 0);
    assert_int_equal(val(&y, "d")->type, YS_STRING);
    yrelease(&y);
}

static void test_yamltree_out_of_range_integer_is_flagged(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 99999999999999999999\nb: -99999999999999999999\nc: 9223372036854775807\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_INT_RANGE);
    assert_int_equal(val(&y, "b")->type, YS_INT_RANGE);
    assert_int_equal(val(&y, "c")->type, YS_INT);
    assert_true(val(&y, "c")->i == INT64_MAX);
    yrelease(&y);
}

static void test_yamltree_numbers_with_units_are_strings(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 7d\nb: 1GiB\nc: 1_000\nd: 1.2.3\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_STRING);
    assert_int_equal(val(&y, "b")->type, YS_STRING);
    assert_int_equal(val(&y, "c")->type, YS_STRING);
    assert_int_equal(val(&y, "d")->type, YS_STRING);
    yrelease(&y);
}

static void test_yamltree_str_tag_forces_string(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: !!str 5\nb: !!int \"7\"\n");
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_STRING);
    assert_int_equal(val(&y, "b")->type, YS_INT);
    assert_int_equal(val(&y, "b")->i, 7);
    yrelease(&y);
}

static void test_yamltree_unknown_tag_is_error(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: !custom 5\n");
    EXPECT_ERROR(&y.dl, "a", 1, 4, "unsupported YAML tag");
    yrelease(&y);
}

static void test_yamltree_describe_kind(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: 1\nb: x\nc: [1]\nd: {}\ne: ~\nf: true\ng: 1.5\n");
    assert_parsed(&y);
    assert_string_equal(ynode_describe_kind(val(&y, "a")), "integer");
    assert_string_equal(ynode_describe_kind(val(&y, "b")), "string");
    assert_string_equal(ynode_describe_kind(val(&y, "c")), "list");
    assert_string_equal(ynode_describe_kind(val(&y, "d")), "map");
    assert_string_equal(ynode_describe_kind(val(&y, "e")), "null");
    assert_string_equal(ynode_describe_kind(val(&y, "f")), "boolean");
    assert_string_equal(ynode_describe_kind(val(&y, "g")), "number");
    yrelease(&y);
}

/* ---- ${VAR} substitution ---- */

static void test_yamltree_env_variable_is_substituted(void **state)
{
    static const char *const env[] = {"HOST", "rabbit-1", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: amqp://${HOST}:5672\n", env);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "amqp://rabbit-1:5672");
    yrelease(&y);
}

static void test_yamltree_env_substitution_happens_before_resolution(void **state)
{
    static const char *const env[] = {"N", "5", "B", "true", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: ${N}\nb: ${B}\nc: \"${N}\"\n", env);
    assert_parsed(&y);
    assert_int_equal(val(&y, "a")->type, YS_INT);
    assert_int_equal(val(&y, "a")->i, 5);
    assert_int_equal(val(&y, "b")->type, YS_BOOL);
    assert_int_equal(val(&y, "c")->type, YS_STRING);
    assert_string_equal(val(&y, "c")->text, "5");
    yrelease(&y);
}

static void test_yamltree_colon_default_used_when_unset(void **state)
{
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: ${NOPE:-fallback}\n", NULL);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "fallback");
    yrelease(&y);
}

static void test_yamltree_colon_default_not_used_when_set(void **state)
{
    static const char *const env[] = {"X", "given", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: ${X:-fallback}\n", env);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "given");
    yrelease(&y);
}

static void test_yamltree_colon_default_used_when_set_but_empty(void **state)
{
    static const char *const env[] = {"X", "", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: ${X:-fallback}\n", env);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "fallback");
    yrelease(&y);
}

static void test_yamltree_dash_default_used_only_when_unset(void **state)
{
    static const char *const env[] = {"EMPTY", "", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: \"<${EMPTY-fallback}>\"\nb: ${NOPE-fallback}\n", env);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "<>");
    assert_string_equal(val(&y, "b")->text, "fallback");
    yrelease(&y);
}

static void test_yamltree_empty_default_is_allowed(void **state)
{
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: \"x${NOPE:-}y\"\n", NULL);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "xy");
    yrelease(&y);
}

static void test_yamltree_unset_variable_without_default_is_error_naming_it(void **state)
{
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: 1\nb: ${DB_PASSWORD}\n", NULL);
    assert_int_equal(y.dl.errors, 1);
    EXPECT_ERROR(&y.dl, "b", 2, 4, "environment variable 'DB_PASSWORD' is not set");
    yrelease(&y);
}

static void test_yamltree_several_unset_variables_are_all_reported(void **state)
{
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: ${ONE}\nb: ${TWO}\n", NULL);
    assert_int_equal(y.dl.errors, 2);
    EXPECT_ERROR(&y.dl, "a", 1, 4, "'ONE'");
    EXPECT_ERROR(&y.dl, "b", 2, 4, "'TWO'");
    yrelease(&y);
}

static void test_yamltree_double_dollar_is_literal(void **state)
{
    static const char *const env[] = {"X", "no", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: \"$${X} costs $5\"\n", env);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "${X} costs $5");
    yrelease(&y);
}

static void test_yamltree_unterminated_reference_is_error(void **state)
{
    static const char *const env[] = {"X", "v", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: \"${X\"\n", env);
    assert_int_equal(y.dl.errors, 1);
    EXPECT_ERROR(&y.dl, "a", 1, 4, "unterminated");
    yrelease(&y);
}

static void test_yamltree_invalid_variable_name_is_error(void **state)
{
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: \"${1X}\"\nb: \"${}\"\n", NULL);
    assert_int_equal(y.dl.errors, 2);
    EXPECT_ERROR(&y.dl, "a", 1, 4, "invalid variable reference");
    EXPECT_ERROR(&y.dl, "b", 2, 4, "invalid variable reference");
    yrelease(&y);
}

static void test_yamltree_variables_are_substituted_in_keys(void **state)
{
    static const char *const env[] = {"ENV", "prod", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "orders.${ENV}: 1\n", env);
    assert_parsed(&y);
    assert_int_equal(val(&y, "orders.prod")->i, 1);
    yrelease(&y);
}

static void test_yamltree_substituted_keys_are_checked_for_duplicates(void **state)
{
    static const char *const env[] = {"ENV", "prod", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "q.${ENV}: 1\nq.prod: 2\n", env);
    assert_int_equal(y.dl.errors, 1);
    EXPECT_ERROR(&y.dl, "q.prod", 2, 1, "duplicate key 'q.prod'");
    yrelease(&y);
}

static void test_yamltree_several_variables_in_one_scalar(void **state)
{
    static const char *const env[] = {"A", "x", "B", "y", NULL};
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: ${A}.${B}.${C:-z}\n", env);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "x.y.z");
    yrelease(&y);
}

static void test_yamltree_lone_dollar_is_kept(void **state)
{
    struct yfx y;
    (void)state;

    yparse_env(&y, "a: pa$$word$\nb: \"$X\"\n", NULL);
    assert_parsed(&y);
    assert_string_equal(val(&y, "a")->text, "pa$$word$");
    assert_string_equal(val(&y, "b")->text, "$X");
    yrelease(&y);
}

static void test_yamltree_ynode_get_on_non_map_is_null(void **state)
{
    struct yfx y;
    (void)state;

    yparse(&y, "a: [1]\n");
    assert_parsed(&y);
    assert_null(ynode_get(val(&y, "a"), "x"));
    assert_null(ynode_get(NULL, "x"));
    assert_null(ynode_get(y.doc.root, "missing"));
    yrelease(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yamltree_positions_are_one_based),
        cmocka_unit_test(test_yamltree_sequence_item_positions),
        cmocka_unit_test(test_yamltree_empty_document_has_no_root),
        cmocka_unit_test(test_yamltree_duplicate_key_is_error_with_first_line),
        cmocka_unit_test(test_yamltree_duplicate_key_in_nested_map),
        cmocka_unit_test(test_yamltree_same_key_in_different_maps_is_fine),
        cmocka_unit_test(test_yamltree_every_duplicate_is_reported),
        cmocka_unit_test(test_yamltree_alias_refers_to_anchored_node),
        cmocka_unit_test(test_yamltree_scalar_alias),
        cmocka_unit_test(test_yamltree_unknown_alias_is_error),
        cmocka_unit_test(test_yamltree_billion_laughs_is_refused),
        cmocka_unit_test(test_yamltree_node_budget_counts_expanded_aliases),
        cmocka_unit_test(test_yamltree_node_budget_allows_what_fits),
        cmocka_unit_test(test_yamltree_depth_limit_is_enforced),
        cmocka_unit_test(test_yamltree_depth_within_limit_is_fine),
        cmocka_unit_test(test_yamltree_default_depth_limit_refuses_deep_nesting),
        cmocka_unit_test(test_yamltree_second_document_is_refused),
        cmocka_unit_test(test_yamltree_explicit_single_document_is_fine),
        cmocka_unit_test(test_yamltree_syntax_error_has_position),
        cmocka_unit_test(test_yamltree_syntax_error_mapping_in_plain_value),
        cmocka_unit_test(test_yamltree_tab_indentation_is_a_syntax_error),
        cmocka_unit_test(test_yamltree_invalid_utf8_is_refused),
        cmocka_unit_test(test_yamltree_non_scalar_key_is_error),
        cmocka_unit_test(test_yamltree_yes_and_on_are_strings),
        cmocka_unit_test(test_yamltree_true_false_are_booleans),
        cmocka_unit_test(test_yamltree_decimal_integers),
        cmocka_unit_test(test_yamltree_hex_is_an_integer),
        cmocka_unit_test(test_yamltree_exponent_is_a_float),
        cmocka_unit_test(test_yamltree_special_floats),
        cmocka_unit_test(test_yamltree_null_forms),
        cmocka_unit_test(test_yamltree_quoted_scalars_are_strings),
        cmocka_unit_test(test_yamltree_out_of_range_integer_is_flagged),
        cmocka_unit_test(test_yamltree_numbers_with_units_are_strings),
        cmocka_unit_test(test_yamltree_str_tag_forces_string),
        cmocka_unit_test(test_yamltree_unknown_tag_is_error),
        cmocka_unit_test(test_yamltree_describe_kind),
        cmocka_unit_test(test_yamltree_env_variable_is_substituted),
        cmocka_unit_test(test_yamltree_env_substitution_happens_before_resolution),
        cmocka_unit_test(test_yamltree_colon_default_used_when_unset),
        cmocka_unit_test(test_yamltree_colon_default_not_used_when_set),
        cmocka_unit_test(test_yamltree_colon_default_used_when_set_but_empty),
        cmocka_unit_test(test_yamltree_dash_default_used_only_when_unset),
        cmocka_unit_test(test_yamltree_empty_default_is_allowed),
        cmocka_unit_test(test_yamltree_unset_variable_without_default_is_error_naming_it),
        cmocka_unit_test(test_yamltree_several_unset_variables_are_all_reported),
        cmocka_unit_test(test_yamltree_double_dollar_is_literal),
        cmocka_unit_test(test_yamltree_unterminated_reference_is_error),
        cmocka_unit_test(test_yamltree_invalid_variable_name_is_error),
        cmocka_unit_test(test_yamltree_variables_are_substituted_in_keys),
        cmocka_unit_test(test_yamltree_substituted_keys_are_checked_for_duplicates),
        cmocka_unit_test(test_yamltree_several_variables_in_one_scalar),
        cmocka_unit_test(test_yamltree_lone_dollar_is_kept),
        cmocka_unit_test(test_yamltree_ynode_get_on_non_map_is_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
