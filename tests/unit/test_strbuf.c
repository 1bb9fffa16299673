/*
 * test_strbuf.c - the growable, always NUL-terminated buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static void test_strbuf_zeroed_buffer_reads_as_empty_string(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    assert_non_null(strbuf_str(&sb));
    assert_string_equal(strbuf_str(&sb), "");
    assert_int_equal(sb.len, 0);
    strbuf_release(&sb);
}

static void test_strbuf_init_makes_an_empty_buffer(void **state)
{
    struct strbuf sb;
    (void)state;

    memset(&sb, 0xAB, sizeof(sb));
    strbuf_init(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(strbuf_str(&sb), "");
    strbuf_release(&sb);
}

static void test_strbuf_adds_and_addc_append(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_adds(&sb, "orders");
    strbuf_addc(&sb, '.');
    strbuf_adds(&sb, "dlq");
    assert_string_equal(strbuf_str(&sb), "orders.dlq");
    assert_int_equal(sb.len, 10);
    assert_int_equal(sb.buf[sb.len], '\0');
    strbuf_release(&sb);
}

static void test_strbuf_add_keeps_embedded_nul(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_add(&sb, "a\0b", 3);
    assert_int_equal(sb.len, 3);
    assert_memory_equal(sb.buf, "a\0b", 4);
    strbuf_release(&sb);
}

static void test_strbuf_add_of_nothing_still_terminates(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_add(&sb, "", 0);
    assert_non_null(sb.buf);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.buf[0], '\0');
    strbuf_release(&sb);
}

static void test_strbuf_addf_formats(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_adds(&sb, "x=");
    strbuf_addf(&sb, "%d:%s:%zu", -5, "q", (size_t)7);
    assert_string_equal(strbuf_str(&sb), "x=-5:q:7");
    assert_int_equal(sb.len, 8);
    strbuf_release(&sb);
}

static void test_strbuf_addf_of_empty_format_changes_nothing(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_adds(&sb, "abc");
    strbuf_addf(&sb, "%s", "");
    assert_string_equal(strbuf_str(&sb), "abc");
    assert_int_equal(sb.len, 3);
    strbuf_release(&sb);
}

static void test_strbuf_grows_over_many_appends(void **state)
{
    struct strbuf sb = {0};
    size_t k;
    (void)state;

    for (k = 0; k < 100000; k++)
        strbuf_addc(&sb, (char)('a' + k % 26));
    assert_int_equal(sb.len, 100000);
    assert_true(sb.cap > sb.len);
    assert_int_equal(sb.buf[0], 'a');
    assert_int_equal(sb.buf[99999], 'a' + 99999 % 26);
    assert_int_equal(sb.buf[100000], '\0');
    strbuf_release(&sb);
}

static void test_strbuf_addf_longer_than_any_fixed_buffer(void **state)
{
    struct strbuf sb = {0};
    char big[5000];
    (void)state;

    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    strbuf_adds(&sb, "<");
    strbuf_addf(&sb, "%s>", big);
    assert_int_equal(sb.len, 5001);
    assert_int_equal(sb.buf[0], '<');
    assert_int_equal(sb.buf[4999], 'z');
    assert_int_equal(sb.buf[5000], '>');
    assert_int_equal(sb.buf[5001], '\0');
    strbuf_release(&sb);
}

static void test_strbuf_reset_empties_but_keeps_storage(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_adds(&sb, "hello");
    strbuf_reset(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(strbuf_str(&sb), "");
    assert_true(sb.cap > 0);
    strbuf_adds(&sb, "ok");
    assert_string_equal(strbuf_str(&sb), "ok");
    strbuf_release(&sb);
}

static void test_strbuf_reset_of_zeroed_buffer_is_safe(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_reset(&sb);
    assert_string_equal(strbuf_str(&sb), "");
    strbuf_release(&sb);
}

static void test_strbuf_detach_hands_over_contents(void **state)
{
    struct strbuf sb = {0};
    size_t len = 0;
    char *s;
    (void)state;

    strbuf_adds(&sb, "mine");
    s = strbuf_detach(&sb, &len);
    assert_string_equal(s, "mine");
    assert_int_equal(len, 4);
    assert_int_equal(sb.len, 0);
    assert_null(sb.buf);
    assert_string_equal(strbuf_str(&sb), "");
    free(s);
}

static void test_strbuf_detach_of_empty_buffer_returns_empty_string(void **state)
{
    struct strbuf sb = {0};
    size_t len = 99;
    char *s;
    (void)state;

    s = strbuf_detach(&sb, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

static void test_strbuf_release_leaves_a_reusable_buffer(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_adds(&sb, "abc");
    strbuf_release(&sb);
    assert_null(sb.buf);
    assert_int_equal(sb.len, 0);
    assert_int_equal(sb.cap, 0);
    strbuf_adds(&sb, "def");
    assert_string_equal(strbuf_str(&sb), "def");
    strbuf_release(&sb);
    strbuf_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strbuf_zeroed_buffer_reads_as_empty_string),
        cmocka_unit_test(test_strbuf_init_makes_an_empty_buffer),
        cmocka_unit_test(test_strbuf_adds_and_addc_append),
        cmocka_unit_test(test_strbuf_add_keeps_embedded_nul),
        cmocka_unit_test(test_strbuf_add_of_nothing_still_terminates),
        cmocka_unit_test(test_strbuf_addf_formats),
        cmocka_unit_test(test_strbuf_addf_of_empty_format_changes_nothing),
        cmocka_unit_test(test_strbuf_grows_over_many_appends),
        cmocka_unit_test(test_strbuf_addf_longer_than_any_fixed_buffer),
        cmocka_unit_test(test_strbuf_reset_empties_but_keeps_storage),
        cmocka_unit_test(test_strbuf_reset_of_zeroed_buffer_is_safe),
        cmocka_unit_test(test_strbuf_detach_hands_over_contents),
        cmocka_unit_test(test_strbuf_detach_of_empty_buffer_returns_empty_string),
        cmocka_unit_test(test_strbuf_release_leaves_a_reusable_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
