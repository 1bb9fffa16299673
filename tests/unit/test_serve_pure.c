/*
 * test_serve_pure.c - the pure rules of dlq serve's HTTP layer: --listen, which hosts are
 * loopback, path segments decoded one by one ("a%2Fb" is one name), the token comparison.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "serve.h"

static void test_listen_parses_v4_v6_and_port_zero(void **state)
{
    char host[64];
    unsigned port = 1;
    (void)state;
    assert_int_equal(serve_parse_listen("127.0.0.1:8479", host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8479);
    assert_int_equal(serve_parse_listen("[::1]:0", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(serve_parse_listen("localhost:1", host, sizeof(host), &port), 0);
    assert_string_equal(host, "localhost");
}

static void test_listen_refuses_malformed(void **state)
{
    static const char *const bad[] = {"127.0.0.1",     "127.0.0.1:", ":80",   "::1:80", "[::1]80",
                                      "1.2.3.4:65536", "h:-1",       "h:+1",  "h:80x",  "[::1",
                                      "h: 80",         "h: -0",      "h:\t1", NULL};
    char host[64];
    unsigned port;
    size_t k;
    (void)state;
    for (k = 0; bad[k]; k++)
        if (serve_parse_listen(bad[k], host, sizeof(host), &port) == 0)
            fail_msg("'%s' was taken", bad[k]);
}

static void test_loopback_names_and_addresses(void **state)
{
    (void)state;
    assert_true(serve_is_loopback("localhost"));
    assert_true(serve_is_loopback("LOCALHOST"));
    assert_true(serve_is_loopback("app.localhost"));
    assert_true(serve_is_loopback("127.0.0.1"));
    assert_true(serve_is_loopback("127.9.8.7"));
    assert_true(serve_is_loopback("::1"));
    assert_false(serve_is_loopback("0.0.0.0"));
    assert_false(serve_is_loopback("128.0.0.1"));
    assert_false(serve_is_loopback("localhost.evil.example"));
    assert_false(serve_is_loopback("evil-localhost"));
    assert_false(serve_is_loopback("::"));
    assert_false(serve_is_loopback("example.com"));
}

static void test_segments_decode_one_by_one(void **state)
{
    char *s;
    (void)state;
    s = serve_decode_segment("dlq%2Fa", 7);
    assert_string_equal(s, "dlq/a");
    free(s);
    s = serve_decode_segment("%2F", 3);
    assert_string_equal(s, "/");
    free(s);
    s = serve_decode_segment("a+b%20c", 7); /* '+' is a plus in a path */
    assert_string_equal(s, "a+b c");
    free(s);
    s = serve_decode_segment("%e2%9c%93", 9);
    assert_string_equal(s, "\xe2\x9c\x93");
    free(s);
    assert_null(serve_decode_segment("%2", 2));
    assert_null(serve_decode_segment("%zz", 3));
    assert_null(serve_decode_segment("a%00b", 5)); /* a NUL would cut the name */
}

static void test_token_compare(void **state)
{
    (void)state;
    assert_true(serve_token_equal("abc", "abc"));
    assert_false(serve_token_equal("abd", "abc"));
    assert_false(serve_token_equal("ab", "abc"));
    assert_false(serve_token_equal("abcd", "abc"));
    assert_false(serve_token_equal("", "abc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_parses_v4_v6_and_port_zero),
        cmocka_unit_test(test_listen_refuses_malformed),
        cmocka_unit_test(test_loopback_names_and_addresses),
        cmocka_unit_test(test_segments_decode_one_by_one),
        cmocka_unit_test(test_token_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
