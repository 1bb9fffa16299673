/*
 * test_diag.c - the diagnostics list: adding, counting, the cap, sorting, --strict.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "diag.h"

static struct rmqt_pos at(int line, int col)
{
    struct rmqt_pos p;
    p.line = line;
    p.col = col;
    return p;
}

static void test_diag_add_copies_file_path_and_formats_message(void **state)
{
    struct diag_list dl;
    char file[] = "f.yaml", path[] = "queues.q";
    (void)state;

    diag_list_init(&dl);
    diag_add(&dl, DIAG_ERROR, file, at(3, 7), path, "value %d of '%s'", 5, "q");
    file[0] = 'X'; /* the list keeps its own copies */
    path[0] = 'X';
    assert_int_equal(dl.n, 1);
    assert_int_equal(dl.v[0].severity, DIAG_ERROR);
    assert_string_equal(dl.v[0].file, "f.yaml");
    assert_string_equal(dl.v[0].path, "queues.q");
    assert_string_equal(dl.v[0].message, "value 5 of 'q'");
    assert_int_equal(dl.v[0].pos.line, 3);
    assert_int_equal(dl.v[0].pos.col, 7);
    diag_list_release(&dl);
}

static void test_diag_null_file_and_path_become_empty(void **state)
{
    struct diag_list dl;
    (void)state;

    diag_list_init(&dl);
    diag_add(&dl, DIAG_WARNING, NULL, at(0, 0), NULL, "whole file");
    assert_string_equal(dl.v[0].file, "");
    assert_string_equal(dl.v[0].path, "");
    diag_list_release(&dl);
}

static void test_diag_counts_errors_and_warnings(void **state)
{
    struct diag_list dl;
    (void)state;

    diag_list_init(&dl);
    diag_add(&dl, DIAG_ERROR, "f", at(1, 1), "", "e1");
    diag_add(&dl, DIAG_WARNING, "f", at(1, 1), "", "w1");
    diag_add(&dl, DIAG_ERROR, "f", at(2, 1), "", "e2");
    assert_int_equal(dl.errors, 2);
    assert_int_equal(dl.warnings, 1);
    assert_int_equal(dl.n, 3);
    diag_list_release(&dl);
    assert_int_equal(dl.n, 0);
    assert_int_equal(dl.errors, 0);
    diag_list_release(NULL);
}

static void test_diag_limit_keeps_counts_exact(void **state)
{
    struct diag_list dl;
    int k;
    (void)state;

    diag_list_init(&dl);
    dl.limit = 3;
    for (k = 0; k < 5; k++)
        diag_add(&dl, k % 2 ? DIAG_WARNING : DIAG_ERROR, "f", at(k + 1, 1), "", "d%d", k);
    assert_int_equal(dl.n, 3);
    assert_int_equal(dl.dropped, 2);
    assert_int_equal(dl.errors, 3);
    assert_int_equal(dl.warnings, 2);
    assert_string_equal(dl.v[2].message, "d2");
    diag_list_release(&dl);
}

static void test_diag_sort_orders_by_file_line_column(void **state)
{
    struct diag_list dl;
    (void)state;

    diag_list_init(&dl);
    diag_add(&dl, DIAG_ERROR, "b.yaml", at(1, 1), "", "b1");
    diag_add(&dl, DIAG_ERROR, "a.yaml", at(10, 2), "", "a10.2");
    diag_add(&dl, DIAG_ERROR, "a.yaml", at(2, 9), "", "a2.9");
    diag_add(&dl, DIAG_ERROR, "a.yaml", at(10, 1), "", "a10.1");
    diag_add(&dl, DIAG_ERROR, "a.yaml", at(2, 3), "", "a2.3");
    diag_list_sort(&dl);
    assert_string_equal(dl.v[0].message, "a2.3");
    assert_string_equal(dl.v[1].message, "a2.9");
    assert_string_equal(dl.v[2].message, "a10.1");
    assert_string_equal(dl.v[3].message, "a10.2");
    assert_string_equal(dl.v[4].message, "b1");
    diag_list_release(&dl);
}

static void test_diag_sort_is_stable_for_equal_positions(void **state)
{
    struct diag_list dl;
    char want[8];
    int k;
    (void)state;

    diag_list_init(&dl);
    /* many equal positions interleaved with others: a stable sort keeps them in order */
    for (k = 0; k < 40; k++)
        diag_add(&dl, DIAG_ERROR, "f", at(k % 2 ? 5 : 3, 1), "", "%d", k);
    diag_list_sort(&dl);
    for (k = 0; k < 20; k++) {
        snprintf(want, sizeof(want), "%d", 2 * k);
        assert_string_equal(dl.v[k].message, want);
        snprintf(want, sizeof(want), "%d", 2 * k + 1);
        assert_string_equal(dl.v[20 + k].message, want);
    }
    diag_list_release(&dl);
}

static void test_diag_sort_keeps_counts_and_handles_tiny_lists(void **state)
{
    struct diag_list dl;
    (void)state;

    diag_list_init(&dl);
    diag_list_sort(&dl);
    diag_add(&dl, DIAG_WARNING, "f", at(1, 1), "p", "only");
    diag_list_sort(&dl);
    assert_int_equal(dl.n, 1);
    assert_string_equal(dl.v[0].message, "only");
    assert_int_equal(dl.warnings, 1);
    diag_list_release(&dl);
}

static void test_diag_promote_warnings_makes_them_errors(void **state)
{
    struct diag_list dl;
    (void)state;

    diag_list_init(&dl);
    diag_add(&dl, DIAG_ERROR, "f", at(1, 1), "", "e");
    diag_add(&dl, DIAG_WARNING, "f", at(2, 1), "", "w");
    diag_add(&dl, DIAG_WARNING, "f", at(3, 1), "", "w");
    diag_list_promote_warnings(&dl);
    assert_int_equal(dl.errors, 3);
    assert_int_equal(dl.warnings, 0);
    assert_int_equal(dl.v[1].severity, DIAG_ERROR);
    assert_int_equal(dl.v[2].severity, DIAG_ERROR);
    diag_list_release(&dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diag_add_copies_file_path_and_formats_message),
        cmocka_unit_test(test_diag_null_file_and_path_become_empty),
        cmocka_unit_test(test_diag_counts_errors_and_warnings),
        cmocka_unit_test(test_diag_limit_keeps_counts_exact),
        cmocka_unit_test(test_diag_sort_orders_by_file_line_column),
        cmocka_unit_test(test_diag_sort_is_stable_for_equal_positions),
        cmocka_unit_test(test_diag_sort_keeps_counts_and_handles_tiny_lists),
        cmocka_unit_test(test_diag_promote_warnings_makes_them_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
