/*
 * test_brokerver.c - parsing and comparing RabbitMQ versions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "brokerver.h"

static void assert_parses(const char *s, int major, int minor, int patch)
{
    struct rmqt_version v;

    if (rmqt_version_parse(s, &v) != 0)
        fail_msg("'%s' refused", s);
    assert_int_equal(v.major, major);
    assert_int_equal(v.minor, minor);
    assert_int_equal(v.patch, patch);
}

static void assert_refused(const char *s)
{
    struct rmqt_version v;

    if (rmqt_version_parse(s, &v) != -1)
        fail_msg("'%s' accepted", s ? s : "(null)");
}

static struct rmqt_version ver(int major, int minor, int patch)
{
    struct rmqt_version v;
    v.major = major;
    v.minor = minor;
    v.patch = patch;
    return v;
}

static void test_brokerver_parses_full_version(void **state)
{
    (void)state;
    assert_parses("3.10.8", 3, 10, 8);
    assert_parses("4.1.0", 4, 1, 0);
}

static void test_brokerver_ignores_prerelease_suffix(void **state)
{
    (void)state;
    assert_parses("4.0.0-rc.1", 4, 0, 0);
    assert_parses("3.13.7+1.g1234abc", 3, 13, 7);
}

static void test_brokerver_missing_parts_are_zero(void **state)
{
    (void)state;
    assert_parses("3.12", 3, 12, 0);
    assert_parses("4", 4, 0, 0);
}

static void test_brokerver_refuses_empty_and_null(void **state)
{
    (void)state;
    assert_refused("");
    assert_refused(NULL);
}

static void test_brokerver_refuses_non_numeric(void **state)
{
    (void)state;
    assert_refused("abc");
    assert_refused("v3.10.8");
    assert_refused("3.x");
    assert_refused("3.10.x");
}

static void test_brokerver_refuses_malformed_dots(void **state)
{
    (void)state;
    assert_refused("3..8");
    assert_refused("3.10.");
    assert_refused(".3.10");
    assert_refused("3.10.8.1");
}

static void test_brokerver_refuses_trailing_garbage(void **state)
{
    (void)state;
    assert_refused("3.10.8a");
    assert_refused("3.10.8/");
}

static void test_brokerver_refuses_absurdly_large_parts(void **state)
{
    (void)state;
    assert_refused("99999999999999999999.0.0");
}

static void test_brokerver_cmp_orders_by_major_minor_patch(void **state)
{
    struct rmqt_version v = ver(3, 10, 8);
    (void)state;

    assert_int_equal(rmqt_version_cmp(&v, 3, 10, 8), 0);
    assert_true(rmqt_version_cmp(&v, 3, 10, 9) < 0);
    assert_true(rmqt_version_cmp(&v, 3, 10, 7) > 0);
    assert_true(rmqt_version_cmp(&v, 3, 12, 0) < 0);
    assert_true(rmqt_version_cmp(&v, 3, 9, 29) > 0);
    assert_true(rmqt_version_cmp(&v, 4, 0, 0) < 0);
    assert_true(rmqt_version_cmp(&v, 2, 99, 99) > 0);
}

static void test_brokerver_minor_compares_numerically_not_as_text(void **state)
{
    struct rmqt_version v;
    (void)state;

    assert_int_equal(rmqt_version_parse("3.10.0", &v), 0);
    assert_true(rmqt_version_cmp(&v, 3, 9, 0) > 0);
    assert_true(rmqt_version_at_least(&v, 3, 9, 0));
}

static void test_brokerver_at_least(void **state)
{
    struct rmqt_version v310 = ver(3, 10, 8), v312 = ver(3, 12, 0), v4 = ver(4, 0, 0);
    (void)state;

    assert_false(rmqt_version_at_least(&v310, 3, 12, 0));
    assert_true(rmqt_version_at_least(&v312, 3, 12, 0));
    assert_true(rmqt_version_at_least(&v4, 3, 12, 0));
    assert_true(rmqt_version_at_least(&v310, 3, 10, 8));
    assert_false(rmqt_version_at_least(&v310, 3, 10, 9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brokerver_parses_full_version),
        cmocka_unit_test(test_brokerver_ignores_prerelease_suffix),
        cmocka_unit_test(test_brokerver_missing_parts_are_zero),
        cmocka_unit_test(test_brokerver_refuses_empty_and_null),
        cmocka_unit_test(test_brokerver_refuses_non_numeric),
        cmocka_unit_test(test_brokerver_refuses_malformed_dots),
        cmocka_unit_test(test_brokerver_refuses_trailing_garbage),
        cmocka_unit_test(test_brokerver_refuses_absurdly_large_parts),
        cmocka_unit_test(test_brokerver_cmp_orders_by_major_minor_patch),
        cmocka_unit_test(test_brokerver_minor_compares_numerically_not_as_text),
        cmocka_unit_test(test_brokerver_at_least),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
