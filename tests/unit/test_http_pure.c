/*
 * test_http_pure.c - the pure parts of the management API client: percent-encoding a name for
 * one path segment, and the message of an error answer (http.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "strbuf.h"

static char *encoded(const char *s)
{
    struct strbuf sb = {0};

    rmqt_url_encode(&sb, s);
    strbuf_str(&sb);
    return strbuf_detach(&sb, NULL);
}

static char *reason_of(const char *body, size_t len)
{
    struct strbuf sb = {0};

    rmqt_http_reason(&sb, body, len);
    strbuf_str(&sb);
    return strbuf_detach(&sb, NULL);
}

static void expect_encoding(const char *s, const char *expect)
{
    char *got = encoded(s);
    assert_string_equal(got, expect);
    free(got);
}

static void expect_reason(const char *body, const char *expect)
{
    char *got = reason_of(body, strlen(body));
    assert_string_equal(got, expect);
    free(got);
}

/* ---- rmqt_url_encode --------------------------------------------------------------------- */

static void test_url_encode_default_vhost_is_percent_2f(void **state)
{
    (void)state;

    expect_encoding("/", "%2F");
}

static void test_url_encode_keeps_unreserved_characters(void **state)
{
    const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    (void)state;

    expect_encoding(unreserved, unreserved);
    expect_encoding("orders.placed", "orders.placed");
}

static void test_url_encode_escapes_spaces_and_reserved_characters(void **state)
{
    (void)state;

    expect_encoding("a b", "a%20b");
    expect_encoding("%", "%25");
    expect_encoding("a+b", "a%2Bb");
    expect_encoding("?#&=;:@!$'()*,[]", "%3F%23%26%3D%3B%3A%40%21%24%27%28%29%2A%2C%5B%5D");
    expect_encoding("\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D");
    expect_encoding("/vhost/with/slashes", "%2Fvhost%2Fwith%2Fslashes");
}

static void test_url_encode_escapes_each_byte_of_utf8(void **state)
{
    (void)state;

    expect_encoding("caf\xc3\xa9", "caf%C3%A9");
    expect_encoding("\xe2\x82\xac", "%E2%82%AC");
    expect_encoding("\xf0\x9f\x90\x87", "%F0%9F%90%87");
}

static void test_url_encode_escapes_control_characters(void **state)
{
    (void)state;

    expect_encoding("a\nb\tc\x7f", "a%0Ab%09c%7F");
    expect_encoding("\x01", "%01");
}

static void test_url_encode_uses_uppercase_hex(void **state)
{
    (void)state;

    expect_encoding("\xab\xcd\xef", "%AB%CD%EF");
}

static void test_url_encode_of_empty_string_adds_nothing(void **state)
{
    char *got = encoded("");
    (void)state;

    assert_string_equal(got, "");
    free(got);
}

static void test_url_encode_appends(void **state)
{
    struct strbuf sb = {0};
    (void)state;

    strbuf_adds(&sb, "/api/queues/");
    rmqt_url_encode(&sb, "/");
    strbuf_adds(&sb, "/");
    rmqt_url_encode(&sb, "my queue");
    assert_string_equal(strbuf_str(&sb), "/api/queues/%2F/my%20queue");
    strbuf_release(&sb);
}

/* ---- rmqt_http_reason -------------------------------------------------------------------- */

static void test_http_reason_takes_the_reason(void **state)
{
    (void)state;

    expect_reason("{\"error\":\"x\",\"reason\":\"y\"}", "y");
}

static void test_http_reason_takes_the_brokers_406_text(void **state)
{
    (void)state;

    expect_reason("{\"error\":\"bad_request\",\"reason\":\"inequivalent arg 'x-message-ttl' for "
                  "queue 'q' in vhost '/': received the value '5000' of type 'long' but current "
                  "is none\"}",
                  "inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received the "
                  "value '5000' of type 'long' but current is none");
}

/* seen on 3.10.8: a policy with an unknown key */
static void test_http_reason_undoes_html_escapes_and_folds_lines(void **state)
{
    (void)state;

    expect_reason("{\"error\":\"bad_request\",\"reason\":\"Validation failed\\n\\n[{&lt;&lt;"
                  "\\\"no-such-key\\\"&gt;&gt;,1}] are not recognised policy settings\\n\"}",
                  "Validation failed [{<<\"no-such-key\">>,1}] are not recognised policy settings");
}

static void test_http_reason_without_reason_takes_the_error(void **state)
{
    (void)state;

    expect_reason("{\"error\":\"Object Not Found\"}", "Object Not Found");
    expect_reason("{\"error\":\"not_found\",\"reason\":5}", "not_found");
}

static void test_http_reason_with_empty_reason_takes_the_error(void **state)
{
    (void)state;

    expect_reason("{\"error\":\"not_authorised\",\"reason\":\"\"}", "not_authorised");
}

static void test_http_reason_of_json_without_text_is_the_body(void **state)
{
    (void)state;

    expect_reason("{\"error\":5}", "{\"error\":5}");
    expect_reason("[\"error\"]", "[\"error\"]");
}

static void test_http_reason_of_non_json_is_the_body_made_safe(void **state)
{
    (void)state;

    expect_reason("<html>\r\n<body>502 Bad\tGateway\x1b[31m</body></html>\n",
                  "<html>  <body>502 Bad Gateway [31m</body></html> ");
}

static void test_http_reason_of_non_json_replaces_non_ascii_bytes(void **state)
{
    char *got;
    size_t k;
    (void)state;

    got = reason_of("caf\xc3\xa9 \xff", strlen("caf\xc3\xa9 \xff"));
    for (k = 0; got[k]; k++)
        assert_true(got[k] >= 0x20 && got[k] < 0x7f);
    assert_memory_equal(got, "caf", 3);
    free(got);
}

static void test_http_reason_of_a_long_body_is_cut(void **state)
{
    char body[1000], *got;
    (void)state;

    memset(body, 'a', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    got = reason_of(body, strlen(body));
    assert_int_equal(strlen(got), 200 + 3);
    assert_memory_equal(got + 200, "...", 3);
    assert_true(got[199] == 'a');
    free(got);
}

static void test_http_reason_of_a_body_of_exactly_200_bytes_is_not_cut(void **state)
{
    char body[201], *got;
    (void)state;

    memset(body, 'b', 200);
    body[200] = '\0';
    got = reason_of(body, 200);
    assert_string_equal(got, body);
    free(got);
}

static void test_http_reason_reads_only_len_bytes(void **state)
{
    char *got;
    (void)state;

    got = reason_of("Bad GatewayIGNORED", strlen("Bad Gateway"));
    assert_string_equal(got, "Bad Gateway");
    free(got);
    got = reason_of("{\"reason\":\"r\"}garbage", strlen("{\"reason\":\"r\"}"));
    assert_string_equal(got, "r");
    free(got);
}

static void test_http_reason_of_an_empty_body_is_empty(void **state)
{
    char *got = reason_of("", 0);
    (void)state;

    assert_string_equal(got, "");
    free(got);
}

static void test_http_reason_appends(void **state)
{
    struct strbuf sb = {0};
    const char body[] = "{\"reason\":\"r\"}";
    (void)state;

    strbuf_adds(&sb, "400 ");
    rmqt_http_reason(&sb, body, strlen(body));
    assert_string_equal(strbuf_str(&sb), "400 r");
    strbuf_release(&sb);
}

/* The reason goes into error messages printed as they are; the broker's reasons quote names
 * (queue 'q\e[2J'), which can hold anything: terminal control characters must not reach the
 * message, as they do not from a non-JSON body. */
static void test_http_reason_makes_a_json_reason_safe(void **state)
{
    char *got;
    size_t k;
    bool found;
    unsigned bad = 0;
    const char body[] = "{\"error\":\"precondition_failed\",\"reason\":\"inequivalent arg "
                        "for queue 'q\\u001b[2J\\u001b]0;owned\\u0007' in vhost '/'\"}";
    (void)state;

    got = reason_of(body, strlen(body));
    found = strstr(got, "inequivalent arg") != NULL;
    for (k = 0; got[k] && !bad; k++)
        if ((unsigned char)got[k] < 0x20 || got[k] == 0x7f)
            bad = (unsigned char)got[k];
    free(got);
    assert_true(found);
    if (bad)
        print_error("control character 0x%02x in the reason\n", bad);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_encode_default_vhost_is_percent_2f),
        cmocka_unit_test(test_http_reason_undoes_html_escapes_and_folds_lines),
        cmocka_unit_test(test_url_encode_keeps_unreserved_characters),
        cmocka_unit_test(test_url_encode_escapes_spaces_and_reserved_characters),
        cmocka_unit_test(test_url_encode_escapes_each_byte_of_utf8),
        cmocka_unit_test(test_url_encode_escapes_control_characters),
        cmocka_unit_test(test_url_encode_uses_uppercase_hex),
        cmocka_unit_test(test_url_encode_of_empty_string_adds_nothing),
        cmocka_unit_test(test_url_encode_appends),
        cmocka_unit_test(test_http_reason_takes_the_reason),
        cmocka_unit_test(test_http_reason_takes_the_brokers_406_text),
        cmocka_unit_test(test_http_reason_without_reason_takes_the_error),
        cmocka_unit_test(test_http_reason_with_empty_reason_takes_the_error),
        cmocka_unit_test(test_http_reason_of_json_without_text_is_the_body),
        cmocka_unit_test(test_http_reason_of_non_json_is_the_body_made_safe),
        cmocka_unit_test(test_http_reason_of_non_json_replaces_non_ascii_bytes),
        cmocka_unit_test(test_http_reason_of_a_long_body_is_cut),
        cmocka_unit_test(test_http_reason_of_a_body_of_exactly_200_bytes_is_not_cut),
        cmocka_unit_test(test_http_reason_reads_only_len_bytes),
        cmocka_unit_test(test_http_reason_of_an_empty_body_is_empty),
        cmocka_unit_test(test_http_reason_appends),
        cmocka_unit_test(test_http_reason_makes_a_json_reason_safe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
