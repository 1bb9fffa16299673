/*
 * test_textutil.c - edit distance, "did you mean", quoting of untrusted text, hashing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "textutil.h"

/* rmqt_quote_add of len bytes, as a new string (caller frees). */
static char *quoted(const char *s, size_t len, size_t max)
{
    struct strbuf sb = {0};

    rmqt_quote_add(&sb, s, len, max);
    return strbuf_detach(&sb, NULL);
}

static void assert_quotes_to(const char *s, size_t len, const char *want)
{
    char *got = quoted(s, len, 1000);
    assert_string_equal(got, want);
    free(got);
}

static void test_textutil_edit_distance_of_equal_strings_is_zero(void **state)
{
    (void)state;
    assert_int_equal(rmqt_edit_distance("durable", "durable", 3), 0);
    assert_int_equal(rmqt_edit_distance("", "", 3), 0);
}

static void test_textutil_edit_distance_counts_edits(void **state)
{
    (void)state;
    assert_int_equal(rmqt_edit_distance("kitten", "sitting", 10), 3);
    assert_int_equal(rmqt_edit_distance("durabel", "durable", 10), 2);
    assert_int_equal(rmqt_edit_distance("", "abc", 10), 3);
    assert_int_equal(rmqt_edit_distance("abc", "", 10), 3);
    assert_int_equal(rmqt_edit_distance("typ", "type", 10), 1);
}

static void test_textutil_edit_distance_is_capped_at_limit_plus_one(void **state)
{
    (void)state;
    assert_int_equal(rmqt_edit_distance("kitten", "sitting", 1), 2);
    assert_int_equal(rmqt_edit_distance("abcdef", "uvwxyz", 2), 3);
    /* length difference alone exceeds the limit */
    assert_int_equal(rmqt_edit_distance("a", "abcdefgh", 2), 3);
}

static void test_textutil_did_you_mean_finds_close_candidate(void **state)
{
    static const char *const keys[] = {"type", "durable", "auto_delete", "arguments", NULL};
    (void)state;

    assert_string_equal(rmqt_did_you_mean("durabel", keys), "durable");
    assert_string_equal(rmqt_did_you_mean("autodelete", keys), "auto_delete");
    assert_string_equal(rmqt_did_you_mean("typ", keys), "type");
}

static void test_textutil_did_you_mean_returns_null_when_nothing_is_close(void **state)
{
    static const char *const keys[] = {"type", "durable", "auto_delete", "arguments", NULL};
    (void)state;

    assert_null(rmqt_did_you_mean("xylophone", keys));
    assert_null(rmqt_did_you_mean("q", keys));
}

static void test_textutil_did_you_mean_prefers_the_closest(void **state)
{
    static const char *const words[] = {"topics", "topic", NULL};
    (void)state;

    assert_string_equal(rmqt_did_you_mean("topik", words), "topic");
}

static void test_textutil_did_you_mean_with_empty_list_is_null(void **state)
{
    static const char *const none[] = {NULL};
    (void)state;

    assert_null(rmqt_did_you_mean("anything", none));
}

static void test_textutil_quote_keeps_plain_text(void **state)
{
    (void)state;
    assert_quotes_to("orders.placed", 13, "orders.placed");
}

static void test_textutil_quote_escapes_newline_and_tab(void **state)
{
    (void)state;
    assert_quotes_to("a\nb\tc", 5, "a\\nb\\tc");
}

static void test_textutil_quote_escapes_control_characters(void **state)
{
    (void)state;
    assert_quotes_to("\x1b[31mred", 8, "\\x1b[31mred");
    assert_quotes_to("bell\a", 5, "bell\\x07");
    assert_quotes_to("del\x7f", 4, "del\\x7f");
}

static void test_textutil_quote_escapes_embedded_nul(void **state)
{
    (void)state;
    assert_quotes_to("a\0b", 3, "a\\x00b");
}

static void test_textutil_quote_escapes_quotes_and_backslashes(void **state)
{
    (void)state;
    assert_quotes_to("it's a\\b", 8, "it\\'s a\\\\b");
}

static void test_textutil_quote_keeps_valid_utf8(void **state)
{
    (void)state;
    assert_quotes_to("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x87", 14,
                     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x87");
}

static void test_textutil_quote_escapes_invalid_utf8(void **state)
{
    (void)state;
    /* a lone continuation byte, a lone lead byte, and a truncated sequence at the end */
    assert_quotes_to("a\x80"
                     "b",
                     3, "a\\x80b");
    assert_quotes_to("a\xff"
                     "b",
                     3, "a\\xffb");
    assert_quotes_to("a\xc3", 2, "a\\xc3");
}

static void test_textutil_quote_escapes_overlong_utf8(void **state)
{
    (void)state;
    /* "/" encoded in two bytes is invalid UTF-8 */
    assert_quotes_to("\xc0\xaf", 2, "\\xc0\\xaf");
}

static void test_textutil_quote_escapes_surrogates(void **state)
{
    (void)state;
    assert_quotes_to("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");
}

static void test_textutil_quote_escapes_bidi_override(void **state)
{
    (void)state;
    /* U+202E RIGHT-TO-LEFT OVERRIDE could reorder what the terminal shows */
    assert_quotes_to("a\xe2\x80\xae"
                     "b",
                     5, "a\\xe2\\x80\\xaeb");
}

static void test_textutil_quote_cuts_long_text(void **state)
{
    char in[200];
    char *got;
    size_t len;
    (void)state;

    memset(in, 'x', sizeof(in));
    got = quoted(in, sizeof(in), 10);
    len = strlen(got);
    assert_true(len >= 13 && len <= 20);
    assert_string_equal(got + len - 3, "...");
    assert_memory_equal(got, "xxxxxxxxxx", 10);
    free(got);
}

static void test_textutil_quote_appends_to_existing_content(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_adds(&sb, "name='");
    rmqt_quote_add(&sb, "q\n", 2, 5);
    strbuf_addc(&sb, '\'');
    assert_string_equal(strbuf_str(&sb), "name='q\\n'");
    strbuf_release(&sb);
}

static void test_textutil_sanitize_keeps_quotes_and_escapes_controls(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    rmqt_sanitize_add(&sb, "it's \\ \x1b[2J", 11);
    assert_string_equal(strbuf_str(&sb), "it's \\ \\x1b[2J");
    strbuf_release(&sb);
}

static void test_textutil_hash_is_deterministic_and_length_aware(void **state)
{
    (void)state;
    assert_true(rmqt_hash("abc", 3) == rmqt_hash("abc", 3));
    assert_true(rmqt_hash("abc", 3) != rmqt_hash("abd", 3));
    assert_true(rmqt_hash("abc", 3) != rmqt_hash("abc", 2));
    /* FNV-1a 64 of the empty input is its offset basis */
    assert_true(rmqt_hash("", 0) == 1469598103934665603ULL);
}

static void test_textutil_has_prefix(void **state)
{
    (void)state;
    assert_true(rmqt_has_prefix("amq.topic", "amq."));
    assert_true(rmqt_has_prefix("x", ""));
    assert_false(rmqt_has_prefix("amq", "amq."));
    assert_false(rmqt_has_prefix("AMQ.topic", "amq."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textutil_edit_distance_of_equal_strings_is_zero),
        cmocka_unit_test(test_textutil_edit_distance_counts_edits),
        cmocka_unit_test(test_textutil_edit_distance_is_capped_at_limit_plus_one),
        cmocka_unit_test(test_textutil_did_you_mean_finds_close_candidate),
        cmocka_unit_test(test_textutil_did_you_mean_returns_null_when_nothing_is_close),
        cmocka_unit_test(test_textutil_did_you_mean_prefers_the_closest),
        cmocka_unit_test(test_textutil_did_you_mean_with_empty_list_is_null),
        cmocka_unit_test(test_textutil_quote_keeps_plain_text),
        cmocka_unit_test(test_textutil_quote_escapes_newline_and_tab),
        cmocka_unit_test(test_textutil_quote_escapes_control_characters),
        cmocka_unit_test(test_textutil_quote_escapes_embedded_nul),
        cmocka_unit_test(test_textutil_quote_escapes_quotes_and_backslashes),
        cmocka_unit_test(test_textutil_quote_keeps_valid_utf8),
        cmocka_unit_test(test_textutil_quote_escapes_invalid_utf8),
        cmocka_unit_test(test_textutil_quote_escapes_overlong_utf8),
        cmocka_unit_test(test_textutil_quote_escapes_surrogates),
        cmocka_unit_test(test_textutil_quote_escapes_bidi_override),
        cmocka_unit_test(test_textutil_quote_cuts_long_text),
        cmocka_unit_test(test_textutil_quote_appends_to_existing_content),
        cmocka_unit_test(test_textutil_sanitize_keeps_quotes_and_escapes_controls),
        cmocka_unit_test(test_textutil_hash_is_deterministic_and_length_aware),
        cmocka_unit_test(test_textutil_has_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
