/*
 * test_routing.c - AMQP topic matching and whether a binding could match a routing key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "routing.h"

#define MATCH(p, k) assert_true(routing_topic_match((p), (k)))
#define NO_MATCH(p, k) assert_false(routing_topic_match((p), (k)))

static void test_routing_topic_literal_words_match_exactly(void **state)
{
    (void)state;
    MATCH("order.placed", "order.placed");
    NO_MATCH("order.placed", "order.place");
    NO_MATCH("order.placed", "order.placed.eu");
    NO_MATCH("order", "order.placed");
    NO_MATCH("order.placed", "order");
}

static void test_routing_topic_words_are_case_sensitive(void **state)
{
    (void)state;
    NO_MATCH("Order.placed", "order.placed");
}

static void test_routing_topic_star_is_exactly_one_word(void **state)
{
    (void)state;
    MATCH("order.*", "order.placed");
    NO_MATCH("order.*", "order");
    NO_MATCH("order.*", "order.placed.eu");
    MATCH("*.placed", "order.placed");
    MATCH("*", "order");
    NO_MATCH("*", "order.placed");
}

static void test_routing_topic_star_matches_an_empty_word(void **state)
{
    (void)state;
    MATCH("a.*.b", "a..b");
}

static void test_routing_topic_hash_matches_everything(void **state)
{
    (void)state;
    MATCH("#", "order.placed");
    MATCH("#", "a");
    MATCH("#", "a.b.c.d.e.f");
    MATCH("#", "");
}

static void test_routing_topic_hash_matches_zero_or_more_words(void **state)
{
    (void)state;
    MATCH("order.#", "order");
    MATCH("order.#", "order.placed");
    MATCH("order.#", "order.placed.eu.west");
    NO_MATCH("order.#", "orders.placed");
    MATCH("#.placed", "placed");
    MATCH("#.placed", "order.eu.placed");
    NO_MATCH("#.placed", "order.placed.eu");
}

static void test_routing_topic_hash_in_the_middle(void **state)
{
    (void)state;
    MATCH("a.#.b", "a.b");
    MATCH("a.#.b", "a.x.b");
    MATCH("a.#.b", "a.x.y.z.b");
    NO_MATCH("a.#.b", "a.x.y");
    NO_MATCH("a.#.b", "b.x.b");
    NO_MATCH("a.#.b", "a");
}

static void test_routing_topic_many_hashes(void **state)
{
    (void)state;
    MATCH("#.#", "");
    MATCH("#.#", "a");
    MATCH("#.#.#", "a.b.c");
    MATCH("#.a.#", "a");
    MATCH("#.a.#", "x.y.a.z");
    NO_MATCH("#.a.#", "x.y.z");
    MATCH("#.*", "a");
    NO_MATCH("#.*", "");
    MATCH("*.#.*", "a.b");
    NO_MATCH("*.#.*", "a");
}

static void test_routing_topic_many_hashes_stay_fast(void **state)
{
    /* a backtracking matcher would take exponential time on this; the DP is quadratic */
    char pattern[2 * 60 + 2], key[2 * 60 + 1];
    size_t k;
    (void)state;

    for (k = 0; k < 60; k++) {
        pattern[2 * k] = '#';
        pattern[2 * k + 1] = '.';
        key[2 * k] = 'a';
        key[2 * k + 1] = '.';
    }
    pattern[120] = 'b';
    pattern[121] = '\0';
    key[119] = '\0';
    NO_MATCH(pattern, key);
    key[119] = '.';
    key[120] = '\0';
    /* "a.a. ... a." ends with an empty word; "b" must still be literal */
    NO_MATCH(pattern, key);
}

static void test_routing_topic_empty_key(void **state)
{
    (void)state;
    MATCH("", "");
    NO_MATCH("*", "");
    NO_MATCH("a", "");
    NO_MATCH("", "a");
}

static void test_routing_direct_needs_equal_keys(void **state)
{
    (void)state;
    assert_true(routing_could_match("direct", "orders.placed", "orders.placed"));
    assert_false(routing_could_match("direct", "orders.placed", "orders.other"));
    /* no wildcard meaning on a direct exchange */
    assert_false(routing_could_match("direct", "#", "orders.placed"));
    assert_true(routing_could_match("direct", "", ""));
}

static void test_routing_fanout_matches_any_key(void **state)
{
    (void)state;
    assert_true(routing_could_match("fanout", "ignored", "anything"));
    assert_true(routing_could_match("fanout", "", "x.y"));
}

static void test_routing_topic_exchange_uses_topic_matching(void **state)
{
    (void)state;
    assert_true(routing_could_match("topic", "order.*", "order.placed"));
    assert_false(routing_could_match("topic", "order.*", "invoice.placed"));
}

static void test_routing_unknown_key_could_match(void **state)
{
    (void)state;
    assert_true(routing_could_match("direct", "x", NULL));
    assert_true(routing_could_match("topic", "a.b", NULL));
}

static void test_routing_headers_and_plugin_types_could_match(void **state)
{
    (void)state;
    assert_true(routing_could_match("headers", "", "whatever"));
    assert_true(routing_could_match("x-consistent-hash", "10", "whatever"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing_topic_literal_words_match_exactly),
        cmocka_unit_test(test_routing_topic_words_are_case_sensitive),
        cmocka_unit_test(test_routing_topic_star_is_exactly_one_word),
        cmocka_unit_test(test_routing_topic_star_matches_an_empty_word),
        cmocka_unit_test(test_routing_topic_hash_matches_everything),
        cmocka_unit_test(test_routing_topic_hash_matches_zero_or_more_words),
        cmocka_unit_test(test_routing_topic_hash_in_the_middle),
        cmocka_unit_test(test_routing_topic_many_hashes),
        cmocka_unit_test(test_routing_topic_many_hashes_stay_fast),
        cmocka_unit_test(test_routing_topic_empty_key),
        cmocka_unit_test(test_routing_direct_needs_equal_keys),
        cmocka_unit_test(test_routing_fanout_matches_any_key),
        cmocka_unit_test(test_routing_topic_exchange_uses_topic_matching),
        cmocka_unit_test(test_routing_unknown_key_could_match),
        cmocka_unit_test(test_routing_headers_and_plugin_types_could_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
