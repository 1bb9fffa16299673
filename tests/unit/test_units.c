/*
 * test_units.c - durations, sizes and the broker's x-max-age form (topology.md, "Values").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "units.h"

static int64_t duration_ok(const char *s)
{
    int64_t ms = -1;
    const char *why = NULL;

    if (units_parse_duration(s, &ms, &why) != 0)
        fail_msg("duration '%s' refused: %s", s, why ? why : "(no reason)");
    return ms;
}

static const char *duration_bad(const char *s)
{
    int64_t ms = 12345;
    const char *why = NULL;

    assert_int_equal(units_parse_duration(s, &ms, &why), -1);
    assert_non_null(why);
    return why;
}

static int64_t size_ok(const char *s)
{
    int64_t bytes = -1;
    const char *why = NULL;

    if (units_parse_size(s, &bytes, &why) != 0)
        fail_msg("size '%s' refused: %s", s, why ? why : "(no reason)");
    return bytes;
}

static const char *size_bad(const char *s)
{
    int64_t bytes = 0;
    const char *why = NULL;

    assert_int_equal(units_parse_size(s, &bytes, &why), -1);
    assert_non_null(why);
    return why;
}

/* max_age text -> canonical broker string */
static void max_age_is(const char *in, const char *want)
{
    int64_t secs = 0;
    const char *why = NULL;
    char out[24];

    if (units_parse_max_age(in, &secs, &why) != 0)
        fail_msg("max_age '%s' refused: %s", in, why ? why : "(no reason)");
    memset(out, 'X', sizeof(out));
    units_format_max_age(secs, out, sizeof(out));
    assert_string_equal(out, want);
}

static const char *max_age_bad(const char *s)
{
    int64_t secs = 0;
    const char *why = NULL;

    assert_int_equal(units_parse_max_age(s, &secs, &why), -1);
    assert_non_null(why);
    return why;
}

/* ---- durations ---- */

static void test_units_duration_bare_integer_is_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("0"), 0);
    assert_int_equal(duration_ok("60000"), 60000);
}

static void test_units_duration_ms(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("500ms"), 500);
}

static void test_units_duration_seconds(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("10s"), 10000);
}

static void test_units_duration_minutes(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("30m"), 1800000);
}

static void test_units_duration_hours(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("2h"), 7200000);
}

static void test_units_duration_days(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("7d"), 604800000);
}

static void test_units_duration_weeks(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("1w"), 604800000);
    assert_int_equal(duration_ok("2w"), 1209600000);
}

static void test_units_duration_unknown_unit_is_refused(void **state)
{
    (void)state;
    const char *why = duration_bad("5x");
    assert_non_null(strstr(why, "unit"));
}

static void test_units_duration_units_are_case_sensitive(void **state)
{
    (void)state;
    /* 'M' would be a month for the broker: never guess a minute */
    duration_bad("5M");
    duration_bad("5S");
    duration_bad("5MS");
}

static void test_units_duration_negative_is_refused(void **state)
{
    (void)state;
    const char *why = duration_bad("-5s");
    assert_non_null(strstr(why, "negative"));
}

static void test_units_duration_fraction_is_refused(void **state)
{
    (void)state;
    duration_bad("1.5h");
    duration_bad("0.5s");
}

static void test_units_duration_overflow_is_refused(void **state)
{
    (void)state;
    /* fits in int64 as a number, but not once multiplied to milliseconds */
    duration_bad("9223372036854775807w");
    duration_bad("10000000000000000d");
    /* does not fit in int64 at all */
    duration_bad("99999999999999999999999");
}

static void test_units_duration_largest_exact_value_is_accepted(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("9223372036854775807"), INT64_MAX);
    assert_int_equal(duration_ok("9223372036854775ms"), 9223372036854775LL);
}

static void test_units_duration_empty_and_unit_only_are_refused(void **state)
{
    (void)state;
    duration_bad("");
    duration_bad("s");
    duration_bad("ms");
}

static void test_units_duration_trailing_garbage_is_refused(void **state)
{
    (void)state;
    duration_bad("10s5");
    duration_bad("10ss");
}

/* ---- sizes ---- */

static void test_units_size_bare_integer_is_bytes(void **state)
{
    (void)state;
    assert_int_equal(size_ok("512"), 512);
    assert_int_equal(size_ok("100B"), 100);
}

static void test_units_size_decimal_units_are_powers_of_1000(void **state)
{
    (void)state;
    assert_int_equal(size_ok("64kB"), 64000);
    assert_int_equal(size_ok("5MB"), 5000000);
    assert_int_equal(size_ok("20GB"), 20000000000LL);
    assert_int_equal(size_ok("2TB"), 2000000000000LL);
}

static void test_units_size_binary_units_are_powers_of_1024(void **state)
{
    (void)state;
    assert_int_equal(size_ok("1KiB"), 1024);
    assert_int_equal(size_ok("3MiB"), 3145728);
    assert_int_equal(size_ok("1GiB"), 1073741824LL);
    assert_int_equal(size_ok("1TiB"), 1099511627776LL);
}

static void test_units_size_units_are_spelt_exactly(void **state)
{
    (void)state;
    /* units.h: case-sensitive, because "KB" could mean either 1000 or 1024 */
    assert_int_equal(size_ok("1kB"), 1000);
    size_bad("1KB");
    size_bad("1kb");
    size_bad("1gb");
    size_bad("1Gb");
    size_bad("1b");
}

static void test_units_size_binary_units_are_spelt_exactly(void **state)
{
    (void)state;
    assert_int_equal(size_ok("1GiB"), 1073741824LL);
    size_bad("1gib");
    size_bad("1GIB");
    size_bad("2kib");
}

static void test_units_size_unknown_unit_is_refused(void **state)
{
    (void)state;
    const char *why = size_bad("5PB");
    assert_non_null(strstr(why, "unit"));
    size_bad("5 bytes");
    size_bad("5Gi");
}

static void test_units_size_negative_is_refused(void **state)
{
    (void)state;
    size_bad("-1GB");
}

static void test_units_size_fraction_is_refused(void **state)
{
    (void)state;
    size_bad("1.5GB");
}

static void test_units_size_overflow_is_refused(void **state)
{
    (void)state;
    size_bad("9000000TiB");
    size_bad("99999999999999999999999");
}

/* ---- max_age ---- */

static void test_units_max_age_7d_is_7D(void **state)
{
    (void)state;
    max_age_is("7d", "7D");
}

static void test_units_max_age_1w_is_7D(void **state)
{
    (void)state;
    max_age_is("1w", "7D");
}

static void test_units_max_age_90m_stays_90m(void **state)
{
    (void)state;
    max_age_is("90m", "90m");
}

static void test_units_max_age_36h_stays_36h(void **state)
{
    (void)state;
    max_age_is("36h", "36h");
}

static void test_units_max_age_24h_is_1D(void **state)
{
    (void)state;
    max_age_is("24h", "1D");
}

static void test_units_max_age_30d_is_1M(void **state)
{
    (void)state;
    max_age_is("30d", "1M");
}

static void test_units_max_age_365d_is_1Y(void **state)
{
    (void)state;
    max_age_is("365d", "1Y");
}

static void test_units_max_age_seconds_stay_seconds(void **state)
{
    (void)state;
    max_age_is("45s", "45s");
    max_age_is("120s", "2m");
}

static void test_units_max_age_broker_units_are_accepted(void **state)
{
    (void)state;
    max_age_is("7D", "7D");
    max_age_is("2M", "2M");
    max_age_is("1Y", "1Y");
    max_age_is("14D", "14D");
}

static void test_units_max_age_ms_is_refused(void **state)
{
    (void)state;
    const char *why = max_age_bad("500ms");
    assert_non_null(strstr(why, "milliseconds"));
}

static void test_units_max_age_zero_is_refused(void **state)
{
    (void)state;
    max_age_bad("0s");
    max_age_bad("0d");
    max_age_bad("0");
}

static void test_units_max_age_unknown_unit_is_refused(void **state)
{
    (void)state;
    max_age_bad("7x");
    max_age_bad("7");
}

static void test_units_max_age_negative_is_refused(void **state)
{
    (void)state;
    max_age_bad("-7d");
}

static void test_units_format_max_age_uses_largest_exact_unit(void **state)
{
    char out[24];
    (void)state;

    units_format_max_age(604800, out, sizeof(out));
    assert_string_equal(out, "7D");
    units_format_max_age(5400, out, sizeof(out));
    assert_string_equal(out, "90m");
    units_format_max_age(31536000, out, sizeof(out));
    assert_string_equal(out, "1Y");
    units_format_max_age(61, out, sizeof(out));
    assert_string_equal(out, "61s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_duration_bare_integer_is_milliseconds),
        cmocka_unit_test(test_units_duration_ms),
        cmocka_unit_test(test_units_duration_seconds),
        cmocka_unit_test(test_units_duration_minutes),
        cmocka_unit_test(test_units_duration_hours),
        cmocka_unit_test(test_units_duration_days),
        cmocka_unit_test(test_units_duration_weeks),
        cmocka_unit_test(test_units_duration_unknown_unit_is_refused),
        cmocka_unit_test(test_units_duration_units_are_case_sensitive),
        cmocka_unit_test(test_units_duration_negative_is_refused),
        cmocka_unit_test(test_units_duration_fraction_is_refused),
        cmocka_unit_test(test_units_duration_overflow_is_refused),
        cmocka_unit_test(test_units_duration_largest_exact_value_is_accepted),
        cmocka_unit_test(test_units_duration_empty_and_unit_only_are_refused),
        cmocka_unit_test(test_units_duration_trailing_garbage_is_refused),
        cmocka_unit_test(test_units_size_bare_integer_is_bytes),
        cmocka_unit_test(test_units_size_decimal_units_are_powers_of_1000),
        cmocka_unit_test(test_units_size_binary_units_are_powers_of_1024),
        cmocka_unit_test(test_units_size_units_are_spelt_exactly),
        cmocka_unit_test(test_units_size_binary_units_are_spelt_exactly),
        cmocka_unit_test(test_units_size_unknown_unit_is_refused),
        cmocka_unit_test(test_units_size_negative_is_refused),
        cmocka_unit_test(test_units_size_fraction_is_refused),
        cmocka_unit_test(test_units_size_overflow_is_refused),
        cmocka_unit_test(test_units_max_age_7d_is_7D),
        cmocka_unit_test(test_units_max_age_1w_is_7D),
        cmocka_unit_test(test_units_max_age_90m_stays_90m),
        cmocka_unit_test(test_units_max_age_36h_stays_36h),
        cmocka_unit_test(test_units_max_age_24h_is_1D),
        cmocka_unit_test(test_units_max_age_30d_is_1M),
        cmocka_unit_test(test_units_max_age_365d_is_1Y),
        cmocka_unit_test(test_units_max_age_seconds_stay_seconds),
        cmocka_unit_test(test_units_max_age_broker_units_are_accepted),
        cmocka_unit_test(test_units_max_age_ms_is_refused),
        cmocka_unit_test(test_units_max_age_zero_is_refused),
        cmocka_unit_test(test_units_max_age_unknown_unit_is_refused),
        cmocka_unit_test(test_units_max_age_negative_is_refused),
        cmocka_unit_test(test_units_format_max_age_uses_largest_exact_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
