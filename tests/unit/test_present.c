/*
 * test_present.c - the shared wording for people: the broker line, rounded measurements in
 * JSON, body previews.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "present.h"

static struct rmqt_broker_info info(const char *version, const char *cluster)
{
    struct rmqt_broker_info i;
    memset(&i, 0, sizeof(i));
    snprintf(i.version_str, sizeof(i.version_str), "%s", version);
    snprintf(i.cluster_name, sizeof(i.cluster_name), "%s", cluster);
    return i;
}

static void assert_line(const char *url, const struct rmqt_broker_info *i, const char *want)
{
    struct strbuf sb = {0};
    rmqt_broker_line(&sb, url, i);
    assert_string_equal(strbuf_str(&sb), want);
    strbuf_release(&sb);
}

static void test_broker_line_names_url_version_cluster(void **state)
{
    struct rmqt_broker_info i = info("3.10.8", "rabbit@host");
    (void)state;
    assert_line("http://localhost:15672", &i,
                "broker: http://localhost:15672 (RabbitMQ 3.10.8, cluster rabbit@host)");
}

static void test_broker_line_without_cluster_or_version(void **state)
{
    struct rmqt_broker_info i = info("4.1.0", "");
    (void)state;
    assert_line("https://mq:15671/prefix", &i, "broker: https://mq:15671/prefix (RabbitMQ 4.1.0)");
    assert_line("http://h:1", NULL, "broker: http://h:1 (version unknown)");
}

static void test_broker_line_escapes_what_the_broker_says(void **state)
{
    struct rmqt_broker_info i = info("3.10.8", "evil\033[2J\nname");
    (void)state;
    assert_line("http://h:1", &i,
                "broker: http://h:1 (RabbitMQ 3.10.8, cluster evil\\x1b[2J\\nname)");
}

static void test_broker_json_fields(void **state)
{
    struct rmqt_broker_info i = info("3.10.8", "c1");
    json_t *j = rmqt_broker_json("http://h:1", &i), *n = rmqt_broker_json("http://h:1", NULL);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER),
         *t = json_dumps(n, JSON_COMPACT | JSON_PRESERVE_ORDER);
    (void)state;
    assert_string_equal(s, "{\"url\":\"http://h:1\",\"version\":\"3.10.8\",\"cluster\":\"c1\"}");
    assert_string_equal(t, "{\"url\":\"http://h:1\",\"version\":null,\"cluster\":null}");
    free(s);
    free(t);
    json_decref(j);
    json_decref(n);
}

static void assert_dumps(json_t *v, const char *want)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | RMQT_JSON_MEASURED);
    assert_string_equal(s, want);
    free(s);
    json_decref(v);
}

static void test_json_seconds_to_the_millisecond(void **state)
{
    (void)state;
    assert_dumps(rmqt_json_seconds(0.061766839000028995), "0.062");
    assert_dumps(rmqt_json_seconds(12.3456), "12.346");
    assert_dumps(rmqt_json_seconds(2), "2.0");
    assert_dumps(rmqt_json_seconds(0.0004), "0.0");
}

static void test_json_rate_to_a_tenth(void **state)
{
    (void)state;
    assert_dumps(rmqt_json_rate(1234.56), "1234.6");
    assert_dumps(rmqt_json_rate(0.1), "0.1");
    assert_dumps(rmqt_json_rate(48321.04999), "48321.0");
    assert_dumps(rmqt_json_rate(1.0 / 0.0), "0.0");
}

static void test_json_significant_digits(void **state)
{
    (void)state;
    assert_dumps(rmqt_json_significant(0.016666666666666666, 3), "0.0167");
    assert_dumps(rmqt_json_significant(-2.71828, 2), "-2.7");
    assert_dumps(rmqt_json_significant(0, 3), "0.0");
}

static void assert_preview(const char *body, size_t len, size_t max, const char *want)
{
    struct strbuf sb = {0};
    rmqt_preview_add(&sb, body, len, max);
    assert_string_equal(strbuf_str(&sb), want);
    strbuf_release(&sb);
}

static void test_preview_text_cut_and_escaped(void **state)
{
    (void)state;
    assert_preview("{\"order\":17}", 12, 40, "{\"order\":17}");
    assert_preview("abcdefghij", 10, 4, "abcd...");
    assert_preview("a\nb\033c", 5, 40, "a\\nb\\x1bc");
    assert_preview("", 0, 40, "<empty>");
    assert_preview("\x00\x01\xff", 3, 40, "<binary, 3 bytes>");
    /* a cut never splits a character */
    assert_preview("\xc3\xa9\xc3\xa9", 4, 3, "\xc3\xa9...");
}

static void test_age_format(void **state)
{
    char b[16];
    (void)state;
    rmqt_age_format(b, sizeof(b), 42);
    assert_string_equal(b, "42s");
    rmqt_age_format(b, sizeof(b), 600);
    assert_string_equal(b, "10m");
    rmqt_age_format(b, sizeof(b), 3 * 3600);
    assert_string_equal(b, "3h");
    rmqt_age_format(b, sizeof(b), 5 * 86400);
    assert_string_equal(b, "5d");
    rmqt_age_format(b, sizeof(b), -5);
    assert_string_equal(b, "0s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broker_line_names_url_version_cluster),
        cmocka_unit_test(test_broker_line_without_cluster_or_version),
        cmocka_unit_test(test_broker_line_escapes_what_the_broker_says),
        cmocka_unit_test(test_broker_json_fields),
        cmocka_unit_test(test_json_seconds_to_the_millisecond),
        cmocka_unit_test(test_json_rate_to_a_tenth),
        cmocka_unit_test(test_json_significant_digits),
        cmocka_unit_test(test_preview_text_cut_and_escaped),
        cmocka_unit_test(test_age_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
