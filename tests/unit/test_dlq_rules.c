/*
 * test_dlq_rules.c - the dlq operations' success rules and warnings (ops/): the same for
 * every front end, so they are tested here rather than through the command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive.h"
#include "inspect.h"
#include "replay.h"
#include "source.h"
#include "warn.h"

static void test_inspect_ok_fails_on_a_stop_or_a_message_at_the_limit(void **state)
{
    struct inspect_result r;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_true(inspect_ok(&r, false));
    assert_false(inspect_ok(&r, true));
    r.at_limit = 1;
    assert_false(inspect_ok(&r, false));
}

static void test_replay_ok_fails_on_anything_selected_left(void **state)
{
    struct replay_result r;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_true(replay_ok(0, &r, false));
    assert_false(replay_ok(-1, &r, false));
    assert_false(replay_ok(0, &r, true));
    r.mover.at_limit = 2;
    assert_false(replay_ok(0, &r, false));
    r.mover.at_limit = 0;
    r.at_max = 1;
    assert_false(replay_ok(0, &r, false));
    r.at_max = 0;
    r.filtered = 5; /* not selected: they stay, and that is success */
    assert_true(replay_ok(0, &r, false));
}

static void test_archive_ok_takes_what_limit_left(void **state)
{
    struct archive_options o;
    struct archive_result r;

    (void)state;
    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    r.mover.moved = 10;
    r.mover.left = 5;
    assert_false(archive_ok(&o, 0, &r, false));
    o.limit = 10;
    assert_true(archive_limit_reached(&o, &r));
    assert_true(archive_ok(&o, 0, &r, false));
    r.unarchivable = 1;
    assert_false(archive_ok(&o, 0, &r, false));
    r.unarchivable = 0;
    assert_false(archive_ok(&o, 0, &r, true));
    assert_false(archive_ok(&o, -1, &r, false));
}

static void test_restore_ok_fails_on_a_return_or_a_nack(void **state)
{
    struct restore_result r;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_true(restore_ok(0, &r, false));
    r.returned = 1;
    assert_false(restore_ok(0, &r, false));
    r.returned = 0;
    r.nacked = 1;
    assert_false(restore_ok(0, &r, false));
    r.nacked = 0;
    assert_false(restore_ok(0, &r, true));
}

static void test_at_limit_warning_names_a_long_queue_whole(void **state)
{
    char name[600], *w;

    (void)state;
    assert_null(dlq_at_limit_warning("q", 0, 20));
    memset(name, 'q', sizeof(name) - 2);
    name[sizeof(name) - 2] = 'Z'; /* the end of the name must survive */
    name[sizeof(name) - 1] = '\0';
    w = dlq_at_limit_warning(name, 3, 20);
    assert_non_null(w);
    assert_non_null(strstr(w, "3 message(s) read from quorum queue"));
    assert_non_null(strstr(w, "qZ' had been delivered 20 time(s)"));
    assert_string_equal(w + strlen(w) - 3, "qZ'");
    free(w);
}

static void test_delivery_count_warning_says_the_limit_in_force(void **state)
{
    struct inspect_result r;
    char *w;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_null(inspect_delivery_count_warning(&r, 20));
    r.any_delivery_count = true;
    r.max_delivery_count = 7;
    w = inspect_delivery_count_warning(&r, 20);
    assert_string_equal(w,
                        "the highest x-delivery-count read is 7, against a delivery limit of 20");
    free(w);
    w = inspect_delivery_count_warning(&r, -1);
    assert_string_equal(w, "the highest x-delivery-count read is 7 (no delivery limit in force)");
    free(w);
}

static void test_warnings_keep_order_and_length(void **state)
{
    struct ops_warnings w = {0};
    char long_name[3000];

    (void)state;
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    ops_warnings_addf(&w, "first %d", 1);
    ops_warnings_addf(&w, "queue '%s'", long_name);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.v[0], "first 1");
    assert_int_equal(strlen(w.v[1]), strlen(long_name) + 8);
    ops_warnings_release(&w);
    assert_int_equal(w.n, 0);
    ops_warnings_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inspect_ok_fails_on_a_stop_or_a_message_at_the_limit),
        cmocka_unit_test(test_replay_ok_fails_on_anything_selected_left),
        cmocka_unit_test(test_archive_ok_takes_what_limit_left),
        cmocka_unit_test(test_restore_ok_fails_on_a_return_or_a_nack),
        cmocka_unit_test(test_at_limit_warning_names_a_long_queue_whole),
        cmocka_unit_test(test_delivery_count_warning_says_the_limit_in_force),
        cmocka_unit_test(test_warnings_keep_order_and_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
