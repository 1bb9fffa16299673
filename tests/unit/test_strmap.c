/*
 * test_strmap.c - the string -> index hash map.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static void test_strmap_empty_map_finds_nothing(void **state)
{
    struct strmap m;
    size_t v = 42;
    (void)state;

    strmap_init(&m);
    assert_false(strmap_get(&m, "a", 1, &v));
    assert_int_equal(v, 42);
    strmap_release(&m);
}

static void test_strmap_zeroed_map_is_valid(void **state)
{
    struct strmap m = {0};
    size_t v;
    (void)state;

    assert_false(strmap_get(&m, "a", 1, &v));
    assert_true(strmap_put(&m, "a", 1, 7));
    assert_true(strmap_get(&m, "a", 1, &v));
    assert_int_equal(v, 7);
    strmap_release(&m);
}

static void test_strmap_put_then_get(void **state)
{
    struct strmap m;
    size_t v = 0;
    (void)state;

    strmap_init(&m);
    assert_true(strmap_put(&m, "orders", 6, 3));
    assert_true(strmap_put(&m, "audit", 5, 9));
    assert_true(strmap_get(&m, "orders", 6, &v));
    assert_int_equal(v, 3);
    assert_true(strmap_get(&m, "audit", 5, &v));
    assert_int_equal(v, 9);
    assert_int_equal(m.n, 2);
    strmap_release(&m);
}

static void test_strmap_put_existing_key_keeps_first_value(void **state)
{
    struct strmap m;
    size_t v = 0;
    (void)state;

    strmap_init(&m);
    assert_true(strmap_put(&m, "q", 1, 1));
    assert_false(strmap_put(&m, "q", 1, 2));
    assert_true(strmap_get(&m, "q", 1, &v));
    assert_int_equal(v, 1);
    assert_int_equal(m.n, 1);
    strmap_release(&m);
}

static void test_strmap_keys_are_compared_by_length(void **state)
{
    struct strmap m;
    size_t v = 0;
    (void)state;

    strmap_init(&m);
    /* "abc" and its prefix "ab" (same pointer, different length) are different keys */
    assert_true(strmap_put(&m, "abc", 3, 1));
    assert_true(strmap_put(&m, "abc", 2, 2));
    assert_true(strmap_get(&m, "ab", 2, &v));
    assert_int_equal(v, 2);
    assert_true(strmap_get(&m, "abc", 3, &v));
    assert_int_equal(v, 1);
    assert_false(strmap_get(&m, "a", 1, &v));
    strmap_release(&m);
}

static void test_strmap_empty_key_is_a_key(void **state)
{
    struct strmap m;
    size_t v = 0;
    (void)state;

    strmap_init(&m);
    assert_false(strmap_get(&m, "", 0, &v));
    assert_true(strmap_put(&m, "", 0, 5));
    assert_true(strmap_get(&m, "", 0, &v));
    assert_int_equal(v, 5);
    strmap_release(&m);
}

static void test_strmap_keys_may_hold_nul_bytes(void **state)
{
    struct strmap m;
    size_t v = 0;
    (void)state;

    strmap_init(&m);
    assert_true(strmap_put(&m, "a\0b", 3, 1));
    assert_true(strmap_put(&m, "a\0c", 3, 2));
    assert_true(strmap_get(&m, "a\0c", 3, &v));
    assert_int_equal(v, 2);
    strmap_release(&m);
}

static void test_strmap_grows_to_100k_keys(void **state)
{
    enum { N = 100000 };
    char **keys = malloc(N * sizeof(*keys));
    struct strmap m;
    size_t k, v;
    (void)state;

    assert_non_null(keys);
    strmap_init(&m);
    for (k = 0; k < N; k++) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "queue.%zu", k);
        keys[k] = malloc((size_t)n + 1);
        assert_non_null(keys[k]);
        memcpy(keys[k], buf, (size_t)n + 1);
        assert_true(strmap_put(&m, keys[k], (size_t)n, k));
    }
    assert_int_equal(m.n, N);
    /* kept at most half full, and a power of two */
    assert_true(m.cap >= 2 * (size_t)N);
    assert_int_equal(m.cap & (m.cap - 1), 0);
    for (k = 0; k < N; k++) {
        v = (size_t)-1;
        assert_true(strmap_get(&m, keys[k], strlen(keys[k]), &v));
        assert_int_equal(v, k);
    }
    assert_false(strmap_get(&m, "queue.100000", 12, &v));
    assert_false(strmap_put(&m, keys[N / 2], strlen(keys[N / 2]), 0));
    strmap_release(&m);
    for (k = 0; k < N; k++)
        free(keys[k]);
    free(keys);
}

static void test_strmap_release_leaves_an_empty_reusable_map(void **state)
{
    struct strmap m;
    size_t v;
    (void)state;

    strmap_init(&m);
    assert_true(strmap_put(&m, "a", 1, 1));
    strmap_release(&m);
    assert_int_equal(m.n, 0);
    assert_false(strmap_get(&m, "a", 1, &v));
    assert_true(strmap_put(&m, "a", 1, 2));
    assert_true(strmap_get(&m, "a", 1, &v));
    assert_int_equal(v, 2);
    strmap_release(&m);
    strmap_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strmap_empty_map_finds_nothing),
        cmocka_unit_test(test_strmap_zeroed_map_is_valid),
        cmocka_unit_test(test_strmap_put_then_get),
        cmocka_unit_test(test_strmap_put_existing_key_keeps_first_value),
        cmocka_unit_test(test_strmap_keys_are_compared_by_length),
        cmocka_unit_test(test_strmap_empty_key_is_a_key),
        cmocka_unit_test(test_strmap_keys_may_hold_nul_bytes),
        cmocka_unit_test(test_strmap_grows_to_100k_keys),
        cmocka_unit_test(test_strmap_release_leaves_an_empty_reusable_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
