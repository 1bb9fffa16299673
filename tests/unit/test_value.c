/*
 * test_value.c - the typed value tree: equality, canonical form, copies, descriptions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "value.h"

/* Canonical forms may hold NUL bytes (strings do): compare them with their lengths. */
static bool same_canonical(const struct tval *a, const struct tval *b)
{
    struct strbuf x = {0}, y = {0};
    bool same;

    tval_canonical(&x, a);
    tval_canonical(&y, b);
    same = x.len == y.len && memcmp(strbuf_str(&x), strbuf_str(&y), x.len) == 0;
    strbuf_release(&x);
    strbuf_release(&y);
    return same;
}

static char *described(const struct tval *v)
{
    struct strbuf sb = {0};

    tval_describe(&sb, v);
    return strbuf_detach(&sb, NULL);
}

static void set_double(struct tval *v, double d)
{
    tval_release(v);
    v->kind = TV_DOUBLE;
    v->d = d;
}

/* {a: 1, b: "x", c: [true, null]} in the given key order ("abc" or "cba") */
static void build_map(struct tval *m, const char *order)
{
    const char *o;

    memset(m, 0, sizeof(*m));
    tval_set_map(m);
    for (o = order; *o; o++) {
        char key[2] = {*o, '\0'};
        struct tval *v = tval_append(m, key);
        if (*o == 'a') {
            tval_set_int(v, 1);
        } else if (*o == 'b') {
            tval_set_string(v, "x", 1);
        } else {
            tval_set_list(v);
            tval_set_bool(tval_append(v, NULL), true);
            tval_append(v, NULL);
        }
    }
}

static void test_value_int_equals_same_int(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    tval_set_int(&a, 60000);
    tval_set_int(&b, 60000);
    assert_true(tval_equal(&a, &b));
    tval_set_int(&b, 60001);
    assert_false(tval_equal(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_string_never_equals_number(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    tval_set_int(&a, 60000);
    tval_set_string(&b, "60000", 5);
    assert_false(tval_equal(&a, &b));
    assert_false(tval_equal(&b, &a));
    assert_false(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_int_never_equals_double(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    tval_set_int(&a, 1);
    set_double(&b, 1.0);
    assert_false(tval_equal(&a, &b));
    assert_false(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_bool_never_equals_string(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    tval_set_bool(&a, true);
    tval_set_string(&b, "true", 4);
    assert_false(tval_equal(&a, &b));
    assert_false(same_canonical(&a, &b));
    tval_set_bool(&b, false);
    assert_false(tval_equal(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_strings_compare_all_bytes(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    tval_set_string(&a, "a\0b", 3);
    tval_set_string(&b, "a\0c", 3);
    assert_int_equal(a.len, 3);
    assert_false(tval_equal(&a, &b));
    assert_false(same_canonical(&a, &b));
    tval_set_string(&b, "a", 1);
    assert_false(tval_equal(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_maps_equal_regardless_of_key_order(void **state)
{
    struct tval a, b;
    (void)state;

    build_map(&a, "abc");
    build_map(&b, "cba");
    assert_true(tval_equal(&a, &b));
    assert_true(tval_equal(&b, &a));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_canonical_form_is_key_order_independent(void **state)
{
    struct tval a, b;
    (void)state;

    build_map(&a, "abc");
    build_map(&b, "bca");
    assert_true(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_maps_with_different_values_differ(void **state)
{
    struct tval a, b;
    (void)state;

    build_map(&a, "abc");
    build_map(&b, "abc");
    tval_set_int(&b.entries[0].val, 2);
    assert_false(tval_equal(&a, &b));
    assert_false(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_map_with_extra_key_differs(void **state)
{
    struct tval a, b;
    (void)state;

    build_map(&a, "ab");
    build_map(&b, "abc");
    assert_false(tval_equal(&a, &b));
    assert_false(tval_equal(&b, &a));
    assert_false(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_lists_are_ordered(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    tval_set_list(&a);
    tval_set_int(tval_append(&a, NULL), 1);
    tval_set_int(tval_append(&a, NULL), 2);
    tval_set_list(&b);
    tval_set_int(tval_append(&b, NULL), 2);
    tval_set_int(tval_append(&b, NULL), 1);
    assert_false(tval_equal(&a, &b));
    assert_false(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_canonical_form_does_not_confuse_nesting(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    /* ["ab"] and ["a", "b"]; {"a": "b"} and ["a", "b"] */
    tval_set_list(&a);
    tval_set_string(tval_append(&a, NULL), "ab", 2);
    tval_set_list(&b);
    tval_set_string(tval_append(&b, NULL), "a", 1);
    tval_set_string(tval_append(&b, NULL), "b", 1);
    assert_false(same_canonical(&a, &b));
    tval_set_map(&a);
    tval_set_string(tval_append(&a, "a"), "b", 1);
    assert_false(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_equal_values_have_equal_canonical_forms(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    tval_set_int(&a, -5);
    tval_set_int(&b, -5);
    assert_true(same_canonical(&a, &b));
    set_double(&a, 2.5);
    set_double(&b, 2.5);
    assert_true(same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
    assert_true(same_canonical(&a, &b)); /* two nulls */
}

/* The header promises: equal exactly when the canonical forms are equal. */
static void test_value_signed_zero_equality_matches_canonical_form(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    set_double(&a, 0.0);
    set_double(&b, -0.0);
    assert_true(tval_equal(&a, &b) == same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_nan_equality_matches_canonical_form(void **state)
{
    struct tval a = {0}, b = {0};
    (void)state;

    set_double(&a, NAN);
    set_double(&b, NAN);
    assert_true(tval_equal(&a, &b) == same_canonical(&a, &b));
    tval_release(&a);
    tval_release(&b);
}

static void test_value_copy_is_deep_and_equal(void **state)
{
    struct tval a, c;
    (void)state;

    build_map(&a, "abc");
    tval_copy(&c, &a);
    assert_true(tval_equal(&a, &c));
    assert_ptr_not_equal(a.entries, c.entries);
    assert_ptr_not_equal(a.entries[1].val.s, c.entries[1].val.s);
    tval_release(&a); /* the copy must not share anything with the original */
    assert_int_equal(c.n, 3);
    assert_string_equal(c.entries[1].val.s, "x");
    assert_int_equal(c.entries[2].val.n, 2);
    tval_release(&c);
}

static void test_value_get_finds_key_in_map_only(void **state)
{
    struct tval m, l = {0};
    const struct tval *v;
    (void)state;

    build_map(&m, "abc");
    v = tval_get(&m, "b");
    assert_non_null(v);
    assert_int_equal(v->kind, TV_STRING);
    assert_null(tval_get(&m, "z"));
    tval_set_list(&l);
    assert_null(tval_get(&l, "a"));
    assert_null(tval_get(NULL, "a"));
    tval_release(&m);
    tval_release(&l);
}

static void test_value_release_leaves_null_and_accepts_null(void **state)
{
    struct tval m;
    (void)state;

    build_map(&m, "abc");
    tval_release(&m);
    assert_int_equal(m.kind, TV_NULL);
    assert_int_equal(m.n, 0);
    assert_null(m.entries);
    tval_release(NULL);
}

static void test_value_set_replaces_previous_contents(void **state)
{
    struct tval v;
    (void)state;

    build_map(&v, "abc");
    tval_set_string(&v, "s", 1); /* frees the map (ASan would see a leak otherwise) */
    assert_int_equal(v.kind, TV_STRING);
    assert_int_equal(v.n, 0);
    assert_string_equal(v.s, "s");
    tval_release(&v);
}

static void test_value_kind_names(void **state)
{
    (void)state;
    assert_string_equal(tval_kind_name(TV_INT), "integer");
    assert_string_equal(tval_kind_name(TV_STRING), "string");
    assert_string_equal(tval_kind_name(TV_BOOL), "boolean");
    assert_string_equal(tval_kind_name(TV_MAP), "map");
    assert_string_equal(tval_kind_name(TV_LIST), "list");
    assert_string_equal(tval_kind_name(TV_NULL), "null");
}

static void test_value_describe_quotes_strings_safely(void **state)
{
    struct tval v = {0};
    char *s;
    (void)state;

    tval_set_string(&v, "60000\n", 6);
    s = described(&v);
    assert_string_equal(s, "'60000\\n'");
    free(s);
    tval_set_int(&v, 60000);
    s = described(&v);
    assert_string_equal(s, "60000");
    free(s);
    tval_release(&v);
}

static void test_value_describe_shortens_large_maps(void **state)
{
    struct tval m = {0};
    char *s;
    int k;
    (void)state;

    tval_set_map(&m);
    for (k = 0; k < 6; k++) {
        char key[2] = {(char)('a' + k), '\0'};
        tval_set_int(tval_append(&m, key), k);
    }
    s = described(&m);
    assert_string_equal(s, "{a: 0, b: 1, c: 2, d: 3, ...}");
    free(s);
    tval_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_int_equals_same_int),
        cmocka_unit_test(test_value_string_never_equals_number),
        cmocka_unit_test(test_value_int_never_equals_double),
        cmocka_unit_test(test_value_bool_never_equals_string),
        cmocka_unit_test(test_value_strings_compare_all_bytes),
        cmocka_unit_test(test_value_maps_equal_regardless_of_key_order),
        cmocka_unit_test(test_value_canonical_form_is_key_order_independent),
        cmocka_unit_test(test_value_maps_with_different_values_differ),
        cmocka_unit_test(test_value_map_with_extra_key_differs),
        cmocka_unit_test(test_value_lists_are_ordered),
        cmocka_unit_test(test_value_canonical_form_does_not_confuse_nesting),
        cmocka_unit_test(test_value_equal_values_have_equal_canonical_forms),
        cmocka_unit_test(test_value_signed_zero_equality_matches_canonical_form),
        cmocka_unit_test(test_value_nan_equality_matches_canonical_form),
        cmocka_unit_test(test_value_copy_is_deep_and_equal),
        cmocka_unit_test(test_value_get_finds_key_in_map_only),
        cmocka_unit_test(test_value_release_leaves_null_and_accepts_null),
        cmocka_unit_test(test_value_set_replaces_previous_contents),
        cmocka_unit_test(test_value_kind_names),
        cmocka_unit_test(test_value_describe_quotes_strings_safely),
        cmocka_unit_test(test_value_describe_shortens_large_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
