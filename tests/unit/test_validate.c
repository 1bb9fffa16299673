/*
 * test_validate.c - the semantic rules of topology.md ("Semantic rules"), each error and
 * warning both ways: the case that must be reported, and the valid case that must not be.
 *
 * Every YAML text starts with TOPO_HEAD (helpers.h): lines 1-3 hold the version, "vhosts:" and
 * the vhost "v"; the first section is on line 4, its first object on line 5 at column 7.
 * Classic queues that are not about durability say durable: false, so that the durable-classic
 * advice does not show up in counts that are about something else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "strbuf.h"

static const struct validate_options *broker(int major, int minor, int patch)
{
    static struct validate_options o;

    memset(&o, 0, sizeof(o));
    o.broker_known = true;
    o.broker.major = major;
    o.broker.minor = minor;
    o.broker.patch = patch;
    return &o;
}

/* A dead-letter exchange "dlx" (fanout) and a capped quorum DLQ bound to it: lines 4-10.
 * Queues that dead-letter follow from line 11 (name at 11:7). */
#define DLX_SETUP                                                                                  \
    TOPO_HEAD "    exchanges:\n"                                                                   \
              "      dlx: { type: fanout }\n"                                                      \
              "    queues:\n"                                                                      \
              "      dlq:\n"                                                                       \
              "        type: quorum\n"                                                             \
              "        message_ttl: 1d\n"                                                          \
              "        bind: [{ exchange: dlx }]\n"

/* ---- the contract's own example ---- */

static void test_validate_contract_example_is_valid(void **state)
{
    static const char *const yaml = TOPOLOGY_SHAPE_EXAMPLE;
    struct fx *f = *state;

    fx_check(f, yaml);
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_empty_vhost_is_valid(void **state)
{
    struct fx *f = *state;

    fx_check(f, "version: 1\nvhosts:\n  v: {}\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- references to exchanges ---- */

static void test_validate_bind_to_undefined_exchange_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        bind:\n"
                          "          - { exchange: nope }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.bind[0].exchange", 8, 25,
                 "exchange 'nope' is not defined in vhost 'v'");
}

static void test_validate_bind_to_misspelt_exchange_suggests(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      orders: { type: topic }\n"
                          "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        bind: [{ exchange: ordres }]\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.bind[0].exchange", 0, 0, "did you mean 'orders'?");
}

static void test_validate_bind_to_defined_exchange_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: topic }\n"
                          "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        bind: [{ exchange: x, routing_key: a.b }]\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_bind_to_amq_exchange_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        bind:\n"
                          "          - { exchange: amq.topic, routing_key: a.# }\n"
                          "          - { exchange: amq.direct, routing_key: q }\n"
                          "          - { exchange: amq.fanout }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_binding_from_undefined_exchange_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q: { durable: false }\n"
                          "    bindings:\n"
                          "      - { source: nope, destination: q }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "bindings[0].source", 7, 19, "exchange 'nope' is not defined");
}

static void test_validate_binding_from_amq_exchange_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    queues:\n"
             "      q: { durable: false }\n"
             "    bindings:\n"
             "      - { source: amq.headers, destination: q, arguments: { x-match: any } }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_binding_from_default_exchange_is_error(void **state)
{
    struct fx *f = *state;

    /* the broker refuses (403) any binding of the default exchange */
    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q: { durable: false }\n"
                          "    bindings:\n"
                          "      - { source: \"\", destination: q }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "bindings[0].source", 7, 19, "default exchange");
}

static void test_validate_binding_to_undefined_queue_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: fanout }\n"
                          "    bindings:\n"
                          "      - { source: x, destination: nope }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "bindings[0].destination", 7, 35, "queue 'nope' is not defined");
}

static void test_validate_binding_to_undefined_exchange_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: fanout }\n"
                          "    bindings:\n"
                          "      - { source: x, destination: nope, destination_type: exchange }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "bindings[0].destination", 7, 35, "exchange 'nope' is not defined");
}

static void test_validate_exchange_to_exchange_binding_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    exchanges:\n"
             "      x: { type: topic }\n"
             "      y: { type: fanout }\n"
             "    queues:\n"
             "      q: { durable: false }\n"
             "    bindings:\n"
             "      - { source: x, destination: y, destination_type: exchange, routing_key: a.* }\n"
             "      - { source: y, destination: q }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_duplicate_binding_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: direct }\n"
                          "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        bind: [{ exchange: x, routing_key: k }]\n"
                          "    bindings:\n"
                          "      - { source: x, destination: q, routing_key: k }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "bindings[0]", 11, 9,
                 "duplicate binding: the same binding is defined at line 9");
}

/* The broker accepts an alternate exchange that does not exist (issue 12, "Adopting a real
 * broker"): a warning that says what happens to the messages, so that an export plans. */
static void test_validate_alternate_exchange_undefined_is_warning(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: topic, alternate_exchange: nope }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    d = EXPECT_WARNING(&f->dl, "exchanges.x.alternate_exchange", 5, 45,
                       "alternate exchange 'nope' is not defined in vhost 'v'");
    assert_non_null(strstr(d->message, "messages that exchange 'x' cannot route are dropped"));
    assert_non_null(strstr(d->message, "returned to the publisher when published mandatory"));
}

static void test_validate_alternate_exchange_raw_argument_undefined_is_warning(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: topic, arguments: { alternate-exchange: nope } }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "exchanges.x.arguments.alternate-exchange", 5, 58,
                   "alternate exchange 'nope' is not defined");
}

static void test_validate_alternate_exchange_typo_suggests(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: topic, alternate_exchange: unrouted.x }\n"
                          "      unrouted: { type: fanout }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "exchanges.x.alternate_exchange", 5, 45, "did you mean 'unrouted'?");
}

static void test_validate_alternate_exchange_defined_or_builtin_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: topic, alternate_exchange: ae }\n"
                          "      y: { type: topic, alternate_exchange: amq.fanout }\n"
                          "      z: { type: topic, alternate_exchange: \"\" }\n"
                          "      ae: { type: fanout }\n");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, NULL, NULL);
}

static void test_validate_dead_letter_exchange_undefined_is_warning(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: nope\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    d = EXPECT_WARNING(&f->dl, "queues.q.dead_letter_exchange", 7, 31,
                       "dead-letter exchange 'nope' is not defined in vhost 'v'");
    assert_non_null(strstr(d->message, "messages dead-lettered from queue 'q' are dropped"));
}

/* The same with the raw argument, on a quorum queue: no at-most-once warning besides (its
 * messages are dropped, not at risk on the way), and the at-least-once rule still holds. */
static void test_validate_dead_letter_exchange_undefined_raw_on_quorum(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "        arguments: { x-dead-letter-exchange: nope }\n");
    EXPECT_COUNTS(&f->dl, 1, 1);
    EXPECT_WARNING(&f->dl, "queues.q.arguments.x-dead-letter-exchange", 8, 46,
                   "dead-letter exchange 'nope' is not defined");
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 7, 31, "needs overflow: reject-publish");
    EXPECT_NO_DIAG(&f->dl, DIAG_WARNING, NULL, "at-most-once");
}

static void test_validate_dead_letter_exchange_typo_suggests(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      orders.dlx: { type: fanout }\n"
                          "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: orders.dxl\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q.dead_letter_exchange", 9, 31, "did you mean 'orders.dlx'?");
}

static void test_validate_dead_letter_exchange_default_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: \"\"\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_exchange_amq_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: amq.direct\n");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, NULL, NULL);
}

static void test_validate_dead_letter_exchange_from_policy_undefined_is_warning(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, TOPO_HEAD
             "    policies:\n"
             "      p: { pattern: \".*\", definition: { dead-letter-exchange: nope } }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    d = EXPECT_WARNING(&f->dl, "policies.p.definition.dead-letter-exchange", 5, 63,
                       "dead-letter exchange 'nope' is not defined");
    assert_non_null(strstr(d->message, "dead-lettered from the queues policy 'p' applies to are "
                                       "dropped"));
}

static void test_validate_alternate_exchange_from_policy_undefined_is_warning(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, TOPO_HEAD "    policies:\n"
                          "      p:\n"
                          "        pattern: \".*\"\n"
                          "        apply_to: exchanges\n"
                          "        definition: { alternate-exchange: nope }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    d = EXPECT_WARNING(&f->dl, "policies.p.definition.alternate-exchange", 8, 43,
                       "alternate exchange 'nope' is not defined");
    assert_non_null(strstr(d->message, "cannot route are dropped"));
}

/* A binding still needs its exchanges: the broker refuses the binding otherwise. */
static void test_validate_undefined_exchanges_warn_but_bindings_stay_errors(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: topic, alternate_exchange: gone }\n"
                          "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: gone\n"
                          "        bind: [{ exchange: gone }]\n");
    EXPECT_COUNTS(&f->dl, 1, 2);
    EXPECT_ERROR(&f->dl, "queues.q.bind[0].exchange", 10, 28, "exchange 'gone' is not defined");
}

/* --strict (diag_list_promote_warnings) fails both. */
static void test_validate_undefined_exchanges_fail_strict(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: { type: topic, alternate_exchange: gone }\n"
                          "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: gone\n");
    diag_list_promote_warnings(&f->dl);
    EXPECT_COUNTS(&f->dl, 2, 0);
}

/* ---- options the queue type does not take ---- */

static void test_validate_delivery_limit_on_classic_is_error(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: classic\n"
                          "        durable: false\n"
                          "        delivery_limit: 5\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    d = EXPECT_ERROR(&f->dl, "queues.q.delivery_limit", 8, 25, NULL);
    assert_string_equal(d->message, "only quorum queues have a delivery limit (type is classic)");
}

static void test_validate_delivery_limit_on_default_type_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-delivery-limit: 5 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-delivery-limit", 7, 40,
                 "only quorum queues have a delivery limit");
}

static void test_validate_delivery_limit_on_quorum_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        delivery_limit: 5\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_x_queue_type_argument_counts_as_the_type(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        delivery_limit: 5\n"
                          "        arguments: { x-queue-type: quorum }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_strategy_on_classic_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_strategy: at-most-once\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 7, 31,
                 "only quorum queues have a dead-letter strategy (type is classic)");
}

static void test_validate_max_priority_on_quorum_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        arguments: { x-max-priority: 10 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-max-priority", 7, 38,
                 "only classic queues have a maximum priority (type is quorum)");
}

static void test_validate_max_priority_on_classic_is_fine(void **state)
{
    struct fx *f = *state;

    /* durable, but priorities are classic-only: no advice to switch to quorum either */
    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        arguments: { x-max-priority: 10 }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_queue_mode_on_quorum_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        arguments: { x-queue-mode: lazy }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-queue-mode", 7, 36,
                 "only classic queues have a queue mode (type is quorum)");
}

static void test_validate_queue_mode_on_classic_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-queue-mode: lazy }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_max_age_on_classic_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        max_age: 7d\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_age", 7, 18,
                 "only streams have a max age (type is classic)");
}

static void test_validate_max_age_on_quorum_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        max_age: 7d\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_age", 7, 18, "only streams have a max age (type is quorum)");
}

static void test_validate_max_age_on_stream_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        max_age: 7d\n"
                          "        max_length_bytes: 20GB\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_message_ttl_on_stream_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        message_ttl: 1h\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.s.message_ttl", 7, 22,
                 "streams do not take a message TTL (type is stream)");
}

static void test_validate_max_length_on_stream_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        max_length: 1000\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.s.max_length", 7, 21,
                 "streams do not take a maximum length (type is stream)");
}

static void test_validate_dead_letter_exchange_on_stream_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      dlx: { type: fanout }\n"
                          "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        dead_letter_exchange: dlx\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.s.dead_letter_exchange", 9, 31,
                 "streams do not take a dead-letter exchange (type is stream)");
}

static void test_validate_durable_false_on_quorum_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        durable: false\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.durable", 7, 18, "quorum queues must be durable");
}

static void test_validate_durable_false_on_stream_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        durable: false\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.s.durable", 7, 18, "streams must be durable");
}

static void test_validate_auto_delete_on_quorum_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        auto_delete: true\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.auto_delete", 7, 22, "quorum queues cannot be auto-delete");
}

static void test_validate_auto_delete_on_stream_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        auto_delete: true\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.s.auto_delete", 7, 22, "streams cannot be auto-delete");
}

static void test_validate_explicit_durable_and_not_auto_delete_on_quorum_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q: { type: quorum, durable: true, auto_delete: false }\n"
                          "      s: { type: stream, durable: true, auto_delete: false }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_transient_auto_delete_classic_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q: { durable: false, auto_delete: true }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- at-least-once dead-lettering ---- */

static void test_validate_at_least_once_without_overflow_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 14, 31,
                 "at-least-once needs overflow: reject-publish");
}

static void test_validate_at_least_once_with_drop_head_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "        overflow: drop-head\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 14, 31, "overflow 'drop-head'");
}

static void test_validate_at_least_once_with_reject_publish_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "        overflow: reject-publish\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_at_least_once_with_reject_publish_from_policy_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^q$\"\n"
                          "        apply_to: queues\n"
                          "        definition: { overflow: reject-publish }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_at_least_once_with_policy_that_does_not_match_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^other$\"\n"
                          "        definition: { overflow: reject-publish }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 14, 31, "at-least-once");
}

static void test_validate_at_least_once_with_exchange_only_policy_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^q$\"\n"
                          "        apply_to: exchanges\n"
                          "        definition: { overflow: reject-publish }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 14, 31, "at-least-once");
}

static void test_validate_at_least_once_policy_shadowed_by_higher_priority_is_error(void **state)
{
    struct fx *f = *state;

    /* only the highest-priority policy applies: its lack of overflow is what counts */
    fx_check(
        f, DLX_SETUP
        "      q:\n"
        "        type: quorum\n"
        "        dead_letter_exchange: dlx\n"
        "        dead_letter_strategy: at-least-once\n"
        "    policies:\n"
        "      low: { pattern: \"^q$\", priority: 1, definition: { overflow: reject-publish } }\n"
        "      high: { pattern: \"^q$\", priority: 2, definition: { max-length: 100 } }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 14, 31, "at-least-once");
}

static void test_validate_at_least_once_from_policy_without_overflow_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(
        f, DLX_SETUP
        "      q:\n"
        "        type: quorum\n"
        "        dead_letter_exchange: dlx\n"
        "    policies:\n"
        "      p: { pattern: \"^q$\", definition: { dead-letter-strategy: at-least-once } }\n");
    EXPECT_ERROR(&f->dl, "queues.q", 11, 7, "at-least-once needs overflow: reject-publish");
}

static void test_validate_at_least_once_policy_overflow_wins_over_quorum_queue_own(void **state)
{
    struct fx *f = *state;

    /* on quorum queues a policy's overflow wins: the queue's drop-head is not what applies */
    fx_check(f,
             DLX_SETUP "      q:\n"
                       "        type: quorum\n"
                       "        dead_letter_exchange: dlx\n"
                       "        dead_letter_strategy: at-least-once\n"
                       "        overflow: drop-head\n"
                       "    policies:\n"
                       "      p: { pattern: \"^q$\", definition: { overflow: reject-publish } }\n");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, NULL, NULL);
    EXPECT_WARNING(&f->dl, "policies.p.definition.overflow", 0, 0, "overriding");
}

static void
test_validate_at_least_once_own_reject_publish_overridden_by_policy_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "        overflow: reject-publish\n"
                          "    policies:\n"
                          "      p: { pattern: \"^q$\", definition: { overflow: drop-head } }\n");
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 14, 31, "overflow 'drop-head'");
}

static void test_validate_at_least_once_with_classic_queues_policy_is_error(void **state)
{
    struct fx *f = *state;

    /* apply_to classic_queues does not reach a quorum queue */
    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^q$\"\n"
                          "        apply_to: classic_queues\n"
                          "        definition: { overflow: reject-publish }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 14, 31, "at-least-once");
}

static void test_validate_at_least_once_with_quorum_queues_policy_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-least-once\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^q$\"\n"
                          "        apply_to: quorum_queues\n"
                          "        definition: { overflow: reject-publish }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* topology.md states the rule without a condition on the dead-letter exchange: it may also
 * come from a policy set outside the file, and the fallback is still silent. */
static void test_validate_at_least_once_without_overflow_or_dlx_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_strategy: at-least-once\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_strategy", 7, 31,
                 "at-least-once needs overflow: reject-publish");
}

static void test_validate_dead_letter_routing_key_without_exchange_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_routing_key: dead\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.dead_letter_routing_key", 7, 34, "needs a dead-letter exchange");
}

static void test_validate_reject_publish_dlx_on_quorum_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        overflow: reject-publish-dlx\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.overflow", 7, 19, "reject-publish-dlx");
}

static void test_validate_reject_publish_dlx_on_classic_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        overflow: reject-publish-dlx\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- values the broker refuses ---- */

static void test_validate_expires_zero_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        expires: 0\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.expires", 7, 18, "(found 0)");
}

static void test_validate_expires_one_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        expires: 1\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_negative_message_ttl_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        message_ttl: -1\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.message_ttl", 7, 22, "must not be negative (found -1)");
}

static void test_validate_zero_message_ttl_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        message_ttl: 0\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_negative_max_length_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        max_length: -1\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_length", 7, 21, "must not be negative");
}

static void test_validate_zero_max_length_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        max_length: 0\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_negative_max_length_bytes_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        max_length_bytes: -1\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.max_length_bytes", 7, 27, "must not be negative");
}

static void test_validate_zero_max_length_bytes_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        max_length_bytes: 0\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_negative_delivery_limit_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        delivery_limit: -1\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.delivery_limit", 7, 25, "must not be negative");
}

static void test_validate_zero_delivery_limit_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        delivery_limit: 0\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_max_priority_zero_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        arguments: { x-max-priority: 0 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-max-priority", 6, 38,
                 "must be between 1 and 255 (found 0)");
}

static void test_validate_max_priority_256_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        arguments: { x-max-priority: 256 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-max-priority", 6, 38,
                 "must be between 1 and 255 (found 256)");
}

static void test_validate_max_priority_1_and_255_are_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      a: { arguments: { x-max-priority: 1 } }\n"
                          "      b: { arguments: { x-max-priority: 255 } }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_initial_group_size_zero_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        initial_group_size: 0\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.initial_group_size", 7, 29, "must be at least 1 (found 0)");
}

static void test_validate_initial_group_size_one_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        initial_group_size: 1\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- raw arguments the broker knows, with the wrong type ---- */

static void test_validate_raw_message_ttl_string_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-message-ttl: \"60000\" }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-message-ttl", 7, 37,
                 "expected an integer in milliseconds, found string '60000'");
}

static void test_validate_raw_message_ttl_integer_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-message-ttl: 60000 }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_raw_boolean_argument_as_string_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-single-active-consumer: \"true\" }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-single-active-consumer", 7, 48,
                 "expected true or false, found string 'true'");
}

static void test_validate_raw_string_argument_as_number_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    queues:\n"
             "      q:\n"
             "        durable: false\n"
             "        arguments: { x-dead-letter-routing-key: 5, x-dead-letter-exchange: \"\" }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-dead-letter-routing-key", 7, 49,
                 "expected a string, found integer 5");
}

static void test_validate_raw_overflow_unknown_value_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-overflow: reject }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-overflow", 7, 34, "invalid value 'reject'");
}

static void test_validate_raw_max_age_in_lowercase_days_is_error(void **state)
{
    struct fx *f = *state;

    /* the broker refuses "7d" (broker-facts.md): only the first-class max_age converts it */
    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        arguments: { x-max-age: 7d }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.s.arguments.x-max-age", 7, 33, "invalid x-max-age '7d'");
}

static void test_validate_raw_max_age_in_broker_form_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      s:\n"
                          "        type: stream\n"
                          "        arguments: { x-max-age: 7D }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_unknown_raw_argument_is_not_an_error(void **state)
{
    struct fx *f = *state;

    /* the broker keeps names it does not know */
    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-custom-thing: \"a\", app-id: 5 }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- names ---- */

static char *long_name_topology(const char *section, const char *settings, size_t name_len)
{
    struct strbuf sb = {0};
    size_t k;

    strbuf_addf(&sb, TOPO_HEAD "    %s:\n      ", section);
    for (k = 0; k < name_len; k++)
        strbuf_addc(&sb, 'n');
    strbuf_addf(&sb, ": %s\n", settings);
    return strbuf_detach(&sb, NULL);
}

static void test_validate_queue_name_over_255_bytes_is_error(void **state)
{
    char *yaml = long_name_topology("queues", "{ durable: false }", 256);
    struct fx *f = *state;

    fx_check(f, yaml);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, NULL, 5, 7, "queue name is 256 bytes long");
    free(yaml);
}

static void test_validate_queue_name_of_255_bytes_is_fine(void **state)
{
    char *yaml = long_name_topology("queues", "{ durable: false }", 255);
    struct fx *f = *state;

    fx_check(f, yaml);
    EXPECT_COUNTS(&f->dl, 0, 0);
    free(yaml);
}

static void test_validate_exchange_name_over_255_bytes_is_error(void **state)
{
    char *yaml = long_name_topology("exchanges", "{ type: fanout }", 300);
    struct fx *f = *state;

    fx_check(f, yaml);
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, NULL, 5, 7, "exchange name is 300 bytes long");
    free(yaml);
}

static void test_validate_name_length_counts_bytes_not_characters(void **state)
{
    struct strbuf sb = {0};
    struct fx *f = *state;
    int k;

    /* 128 two-byte characters: 256 bytes */
    strbuf_adds(&sb, TOPO_HEAD "    queues:\n      ");
    for (k = 0; k < 128; k++)
        strbuf_adds(&sb, "\xc3\xa9");
    strbuf_adds(&sb, ": { durable: false }\n");
    fx_check(f, strbuf_str(&sb));
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, NULL, 5, 7, "256 bytes long");
    strbuf_release(&sb);
}

static void test_validate_queue_name_with_amq_prefix_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      amq.mine: { durable: false }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.amq.mine", 5, 7, "starts with 'amq.'");
}

static void test_validate_exchange_name_with_amq_prefix_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n      amq.mine: { type: topic }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "exchanges.amq.mine", 5, 7, "starts with 'amq.'");
}

/* Issue 19 item 3: a file that names a holding queue had a migration move into it. */
static void test_validate_holding_queue_name_is_error(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q: { type: quorum }\n"
                          "      rmqtopo.migrate.q: { type: quorum, max_length: 5 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    d = EXPECT_ERROR(&f->dl, "queues.rmqtopo.migrate.q", 6, 7, "starts with 'rmqtopo.migrate.'");
    assert_non_null(strstr(d->message, "a migration of queue 'q' would take this queue"));
}

/* A cut holding name (long queue names get a hash) is still refused, without naming a queue. */
static void test_validate_holding_queue_name_of_any_queue_is_error(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      rmqtopo.migrate.: { type: quorum }\n");
    d = EXPECT_ERROR(&f->dl, "queues.rmqtopo.migrate.", 5, 7, "starts with 'rmqtopo.migrate.'");
    assert_non_null(strstr(d->message, "a migration of a queue would take"));
}

static void test_validate_lock_queue_name_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      rmqtopo.lock: { type: quorum }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.rmqtopo.lock", 5, 7, "apply holds an exclusive queue");
}

static void test_validate_names_beside_rmqtopos_are_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      rmqtopo.migrate.x: { type: fanout }\n"
                          "      rmqtopo.lock: { type: fanout }\n"
                          "    queues:\n"
                          "      rmqtopo.locks: { type: quorum }\n"
                          "      rmqtopo.migrate: { type: quorum }\n"
                          "      app.rmqtopo.migrate.x: { type: quorum }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
    assert_int_equal(rmqtopo_queue_kind("rmqtopo.migrate.x"), RQ_HOLDING);
    assert_int_equal(rmqtopo_queue_kind("rmqtopo.lock"), RQ_LOCK);
    assert_int_equal(rmqtopo_queue_kind("rmqtopo.locks"), RQ_NONE);
    assert_int_equal(rmqtopo_queue_kind("rmqtopo.migrate"), RQ_NONE);
}

static void test_validate_amq_inside_a_name_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    exchanges:\n      my.amq.x: { type: topic }\n      amqx: { type: topic }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_routing_key_over_255_bytes_is_error(void **state)
{
    struct strbuf sb = {0};
    struct fx *f = *state;
    int k;

    strbuf_adds(&sb, TOPO_HEAD "    exchanges:\n      x: { type: direct }\n"
                               "    queues:\n      q:\n        durable: false\n"
                               "        bind: [{ exchange: x, routing_key: ");
    for (k = 0; k < 256; k++)
        strbuf_addc(&sb, 'k');
    strbuf_adds(&sb, " }]\n");
    fx_check(f, strbuf_str(&sb));
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.bind[0].routing_key", 0, 0, "routing key is 256 bytes long");
    strbuf_release(&sb);
}

/* ---- a first-class field and the same raw argument ---- */

static void test_validate_first_class_and_raw_same_key_is_error_even_when_equal(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        message_ttl: 60000\n"
                          "        arguments: { x-message-ttl: 60000 }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-message-ttl", 8, 37,
                 "'x-message-ttl' is set twice: by 'message_ttl' and by "
                 "'arguments.x-message-ttl'");
}

static void test_validate_raw_then_first_class_same_key_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        arguments: { x-max-length: 10 }\n"
                          "        max_length: 10\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-max-length", 7, 36,
                 "'x-max-length' is set twice: by 'max_length'");
}

static void test_validate_alternate_exchange_first_class_and_raw_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x:\n"
                          "        type: topic\n"
                          "        alternate_exchange: ae\n"
                          "        arguments: { alternate-exchange: ae }\n"
                          "      ae: { type: fanout }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, NULL, 0, 0, "'alternate-exchange' is set twice");
}

/* A key written twice is one duplicate-key error: nothing was set by 'arguments'. */
static void test_validate_duplicate_yaml_key_is_not_also_reported_as_set_twice(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        message_ttl: 5s\n"
                          "        message_ttl: 5s\n");
    EXPECT_ERROR(&f->dl, NULL, 8, 9, "duplicate key 'message_ttl'");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, NULL, "arguments.x-message-ttl");
    EXPECT_COUNTS(&f->dl, 1, 0);
}

/* ---- warning: dead letters with nowhere to go ---- */

static void test_validate_dead_letter_exchange_without_route_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      dlx: { type: fanout }\n"
                          "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: dlx\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q.dead_letter_exchange", 9, 31,
                   "messages dead-lettered from 'q' would be dropped");
}

static void test_validate_dead_letter_exchange_with_route_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: dlx\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_routing_key_that_no_binding_matches_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      dlx: { type: direct }\n"
                          "    queues:\n"
                          "      dlq:\n"
                          "        type: quorum\n"
                          "        message_ttl: 1d\n"
                          "        bind: [{ exchange: dlx, routing_key: other }]\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_routing_key: dead\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q.dead_letter_exchange", 13, 31, "routes key 'dead'");
}

static void test_validate_dead_letter_route_through_topic_pattern_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      dlx: { type: topic }\n"
                          "    queues:\n"
                          "      dlq:\n"
                          "        type: quorum\n"
                          "        message_ttl: 1d\n"
                          "        bind: [{ exchange: dlx, routing_key: \"*.dead\" }]\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_routing_key: q.dead\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void
test_validate_dead_letter_route_on_direct_exchange_takes_wildcards_literally(void **state)
{
    struct fx *f = *state;

    /* '*' and '#' mean nothing on a direct exchange: the key "dead.*" matches "dead.*" */
    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      dlx: { type: direct }\n"
                          "    queues:\n"
                          "      dlq:\n"
                          "        type: quorum\n"
                          "        message_ttl: 1d\n"
                          "        bind: [{ exchange: dlx, routing_key: \"dead.*\" }]\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_routing_key: \"dead.*\"\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_route_through_exchange_binding_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f,
             TOPO_HEAD "    exchanges:\n"
                       "      dlx: { type: fanout }\n"
                       "      hop: { type: fanout }\n"
                       "    queues:\n"
                       "      dlq:\n"
                       "        type: quorum\n"
                       "        message_ttl: 1d\n"
                       "        bind: [{ exchange: hop }]\n"
                       "      q:\n"
                       "        durable: false\n"
                       "        dead_letter_exchange: dlx\n"
                       "    bindings:\n"
                       "      - { source: dlx, destination: hop, destination_type: exchange }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_route_through_alternate_exchange_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      dlx: { type: direct, alternate_exchange: ae }\n"
                          "      ae: { type: fanout }\n"
                          "    queues:\n"
                          "      dlq:\n"
                          "        type: quorum\n"
                          "        message_ttl: 1d\n"
                          "        bind: [{ exchange: ae }]\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_routing_key: dead\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_via_default_exchange_to_missing_queue_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: \"\"\n"
                          "        dead_letter_routing_key: nowhere\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q.dead_letter_exchange", 7, 31, "would be dropped");
}

/* ---- warning: dead-letter cycles ---- */

#define CYCLE_HEAD                                                                                 \
    TOPO_HEAD "    exchanges:\n"                                                                   \
              "      ax: { type: fanout }\n"                                                       \
              "      bx: { type: fanout }\n"                                                       \
              "    queues:\n"

static void test_validate_dead_letter_cycle_without_limit_warns(void **state)
{
    struct fx *f = *state;
    const struct diag *d;

    fx_check(f, CYCLE_HEAD "      a:\n"
                           "        durable: false\n"
                           "        dead_letter_exchange: bx\n"
                           "        bind: [{ exchange: ax }]\n"
                           "      b:\n"
                           "        durable: false\n"
                           "        dead_letter_exchange: ax\n"
                           "        bind: [{ exchange: bx }]\n");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, NULL, NULL);
    assert_int_equal(count_diags(&f->dl, DIAG_WARNING, NULL, "dead-letter cycle"), 1);
    d = EXPECT_WARNING(&f->dl, "queues.a", 8, 7, "dead-letter cycle with no TTL or limit");
    assert_non_null(strstr(d->message, "'a'"));
    assert_non_null(strstr(d->message, "'b'"));
}

static void test_validate_dead_letter_cycle_with_ttl_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, CYCLE_HEAD "      a:\n"
                           "        durable: false\n"
                           "        message_ttl: 10s\n"
                           "        dead_letter_exchange: bx\n"
                           "        bind: [{ exchange: ax }]\n"
                           "      b:\n"
                           "        durable: false\n"
                           "        dead_letter_exchange: ax\n"
                           "        bind: [{ exchange: bx }]\n");
    EXPECT_NO_DIAG(&f->dl, DIAG_WARNING, NULL, "dead-letter cycle");
}

static void test_validate_dead_letter_cycle_with_delivery_limit_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, CYCLE_HEAD "      a:\n"
                           "        type: quorum\n"
                           "        delivery_limit: 3\n"
                           "        dead_letter_exchange: bx\n"
                           "        bind: [{ exchange: ax }]\n"
                           "      b:\n"
                           "        durable: false\n"
                           "        dead_letter_exchange: ax\n"
                           "        bind: [{ exchange: bx }]\n");
    EXPECT_NO_DIAG(&f->dl, DIAG_WARNING, NULL, "dead-letter cycle");
}

static void test_validate_queue_dead_lettering_into_itself_is_a_cycle(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: \"\"\n"
                          "        dead_letter_routing_key: q\n");
    EXPECT_WARNING(&f->dl, "queues.q", 5, 7, "dead-letter cycle");
}

static void test_validate_dead_letter_chain_without_cycle_does_not_warn_of_cycle(void **state)
{
    struct fx *f = *state;

    fx_check(f, CYCLE_HEAD "      a:\n"
                           "        durable: false\n"
                           "        dead_letter_exchange: bx\n"
                           "      b:\n"
                           "        durable: false\n"
                           "        dead_letter_exchange: ax\n"
                           "        bind: [{ exchange: bx }]\n");
    EXPECT_NO_DIAG(&f->dl, DIAG_WARNING, NULL, "dead-letter cycle");
}

/* ---- warning: dead-letter queues without a cap ---- */

#define DLQ_HEAD                                                                                   \
    TOPO_HEAD "    exchanges:\n"                                                                   \
              "      dlx: { type: fanout }\n"                                                      \
              "    queues:\n"                                                                      \
              "      q:\n"                                                                         \
              "        durable: false\n"                                                           \
              "        dead_letter_exchange: dlx\n"

static void test_validate_dead_letter_queue_without_cap_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLQ_HEAD "      dlq:\n"
                         "        durable: false\n"
                         "        bind: [{ exchange: dlx }]\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.dlq", 10, 7,
                   "dead-letter queue 'dlq' has no message_ttl, max_length or max_length_bytes");
}

static void test_validate_dead_letter_queue_reached_through_policy_dlx_warns(void **state)
{
    struct fx *f = *state;

    /* the dead-letter exchange comes from a policy, not from the queue */
    fx_check(f, TOPO_HEAD
             "    exchanges:\n"
             "      dlx: { type: fanout }\n"
             "    queues:\n"
             "      q: { durable: false }\n"
             "      dlq:\n"
             "        durable: false\n"
             "        bind: [{ exchange: dlx }]\n"
             "    policies:\n"
             "      p: { pattern: \"^q$\", definition: { dead-letter-exchange: dlx } }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.dlq", 8, 7, "dead-letter queue 'dlq'");
}

static void test_validate_dead_letter_queue_with_ttl_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLQ_HEAD "      dlq:\n"
                         "        durable: false\n"
                         "        message_ttl: 7d\n"
                         "        bind: [{ exchange: dlx }]\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_queue_with_max_length_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLQ_HEAD "      dlq:\n"
                         "        durable: false\n"
                         "        max_length: 1000\n"
                         "        bind: [{ exchange: dlx }]\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_queue_capped_by_policy_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLQ_HEAD "      dlq:\n"
                         "        durable: false\n"
                         "        bind: [{ exchange: dlx }]\n"
                         "    policies:\n"
                         "      dlq-cap:\n"
                         "        pattern: \"dlq$\"\n"
                         "        apply_to: queues\n"
                         "        definition: { max-length: 100000 }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_dead_letter_queue_with_policy_that_caps_nothing_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLQ_HEAD "      dlq:\n"
                         "        durable: false\n"
                         "        bind: [{ exchange: dlx }]\n"
                         "    policies:\n"
                         "      p:\n"
                         "        pattern: \"dlq$\"\n"
                         "        definition: { queue-mode: lazy }\n");
    EXPECT_WARNING(&f->dl, "queues.dlq", 10, 7, "dead-letter queue 'dlq'");
}

static void test_validate_dead_letter_queue_with_only_delivery_limit_warns(void **state)
{
    struct fx *f = *state;

    /* a delivery limit ends redeliveries, it does not bound how many messages pile up */
    fx_check(f, DLQ_HEAD "      dlq:\n"
                         "        type: quorum\n"
                         "        delivery_limit: 3\n"
                         "        bind: [{ exchange: dlx }]\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.dlq", 10, 7, "dead-letter queue 'dlq'");
}

static void test_validate_stream_dead_letter_queue_with_size_cap_does_not_warn(void **state)
{
    struct fx *f = *state;

    /* a stream bounded by max_length_bytes (or max_age) cannot grow without bound */
    fx_check(f, DLQ_HEAD "      dlq:\n"
                         "        type: stream\n"
                         "        max_length_bytes: 20GB\n"
                         "        bind: [{ exchange: dlx }]\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- warning: quorum queues dead-lettering at-most-once ---- */

static void test_validate_quorum_at_most_once_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q.dead_letter_exchange", 13, 31,
                   "quorum queue 'q' dead-letters at-most-once");
}

static void test_validate_quorum_explicit_at_most_once_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        type: quorum\n"
                          "        dead_letter_exchange: dlx\n"
                          "        dead_letter_strategy: at-most-once\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q.dead_letter_strategy", 14, 31, "at-most-once");
}

static void test_validate_classic_dead_lettering_has_no_strategy_warning(void **state)
{
    struct fx *f = *state;

    fx_check(f, DLX_SETUP "      q:\n"
                          "        durable: false\n"
                          "        dead_letter_exchange: dlx\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_quorum_without_dead_lettering_has_no_strategy_warning(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      q: { type: quorum }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- warning: a policy's overflow overriding a quorum queue's own ---- */

static void test_validate_policy_overflow_overriding_quorum_queue_warns(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        overflow: drop-head\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^q$\"\n"
                          "        definition: { overflow: reject-publish }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "policies.p.definition.overflow", 11, 33,
                   "overriding the queue's own 'drop-head'");
}

static void test_validate_policy_overflow_equal_to_quorum_queue_own_does_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorum\n"
                          "        overflow: drop-head\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^q$\"\n"
                          "        definition: { overflow: drop-head }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_policy_overflow_on_classic_queue_does_not_warn(void **state)
{
    struct fx *f = *state;

    /* on classic queues the argument wins: nothing is overridden */
    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        overflow: drop-head\n"
                          "    policies:\n"
                          "      p:\n"
                          "        pattern: \"^q$\"\n"
                          "        definition: { overflow: reject-publish }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- warning: policies of equal priority ---- */

static void test_validate_equal_priority_policies_matching_one_queue_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q: { type: quorum }\n"
                          "    policies:\n"
                          "      p1: { pattern: \"^q\", definition: { max-length: 1 } }\n"
                          "      p2: { pattern: \"q$\", definition: { max-length: 2 } }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "policies.p2", 8, 7,
                   "policies 'p1' and 'p2' have the same priority (0) and both match queue 'q'");
}

static void test_validate_equal_priority_policies_matching_one_exchange_warn(void **state)
{
    struct fx *f = *state;

    fx_check(
        f, TOPO_HEAD
        "    exchanges:\n"
        "      x: { type: fanout }\n"
        "      ae: { type: fanout }\n"
        "    policies:\n"
        "      p1: { pattern: \"^x\", priority: 3, definition: { alternate-exchange: ae } }\n"
        "      p2: { pattern: \"x$\", priority: 3, definition: { alternate-exchange: ae } }\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "policies.p2", 9, 7, "both match exchange 'x'");
}

static void test_validate_policies_of_different_priority_do_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    queues:\n"
             "      q: { type: quorum }\n"
             "    policies:\n"
             "      p1: { pattern: \"^q\", priority: 1, definition: { max-length: 1 } }\n"
             "      p2: { pattern: \"q$\", priority: 2, definition: { max-length: 2 } }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void
test_validate_equal_priority_policies_matching_different_objects_do_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      a: { type: quorum }\n"
                          "      b: { type: quorum }\n"
                          "    policies:\n"
                          "      pa: { pattern: \"^a$\", definition: { max-length: 1 } }\n"
                          "      pb: { pattern: \"^b$\", definition: { max-length: 2 } }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_equal_priority_policies_for_different_kinds_do_not_warn(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    queues:\n"
             "      q: { type: quorum }\n"
             "    policies:\n"
             "      pq: { pattern: \"^q$\", apply_to: queues, definition: { max-length: 1 } }\n"
             "      px: { pattern: \"^q$\", apply_to: exchanges, definition: { alternate-exchange: "
             "amq.fanout } }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- warning: durable classic queues ---- */

static void test_validate_durable_classic_queue_gets_quorum_advice(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      q: {}\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q", 5, 7, "durable classic queue 'q'");
}

static void test_validate_explicit_classic_type_advice_points_at_type(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      q:\n        type: classic\n");
    EXPECT_COUNTS(&f->dl, 0, 1);
    EXPECT_WARNING(&f->dl, "queues.q.type", 6, 15, "durable classic queue 'q'");
}

static void test_validate_transient_classic_queue_gets_no_advice(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      q: { durable: false }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_auto_delete_classic_queue_gets_no_advice(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      q: { auto_delete: true }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_quorum_and_stream_get_no_advice(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n      q: { type: quorum }\n      s: { type: stream }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- policy definitions ---- */

static void test_validate_policy_unknown_key_suggests(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    policies:\n      p: { pattern: \".*\", definition: { max-lenght: 5 } }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.definition.max-lenght", 5, 53, "did you mean 'max-length'?");
}

static void test_validate_policy_value_of_wrong_type_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(
        f, TOPO_HEAD
        "    policies:\n      p: { pattern: \".*\", definition: { message-ttl: \"60000\" } }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.definition.message-ttl", 0, 0, "expected an integer");
}

static void test_validate_policy_invalid_pattern_is_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD
             "    policies:\n      p: { pattern: \"(unclosed\", definition: { max-length: 5 } }\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.pattern", 5, 21, "invalid regular expression");
}

/* ---- what the broker's version allows ---- */

#define APPLY_TO_QUORUM                                                                            \
    TOPO_HEAD "    policies:\n"                                                                    \
              "      p:\n"                                                                         \
              "        pattern: \".*\"\n"                                                          \
              "        apply_to: quorum_queues\n"                                                  \
              "        definition: { max-length: 1000 }\n"

static void test_validate_apply_to_quorum_queues_before_3_12_is_error(void **state)
{
    struct fx *f = *state;

    fx_check_with(f, APPLY_TO_QUORUM, broker(3, 10, 8));
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "policies.p.apply_to", 7, 19, "needs RabbitMQ 3.12 or later");
    EXPECT_ERROR(&f->dl, "policies.p.apply_to", 7, 19, "3.10.8");
}

static void test_validate_apply_to_quorum_queues_on_3_12_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check_with(f, APPLY_TO_QUORUM, broker(3, 12, 0));
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_apply_to_quorum_queues_without_broker_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check(f, APPLY_TO_QUORUM);
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_apply_to_streams_and_classic_before_3_12_are_errors(void **state)
{
    struct fx *f = *state;

    fx_check_with(
        f,
        TOPO_HEAD
        "    policies:\n"
        "      a: { pattern: a, apply_to: streams, definition: { max-age: 1D } }\n"
        "      b: { pattern: b, apply_to: classic_queues, definition: { max-length: 1 } }\n",
        broker(3, 11, 0));
    EXPECT_COUNTS(&f->dl, 2, 0);
    EXPECT_ERROR(&f->dl, "policies.a.apply_to", 0, 0, "3.12");
    EXPECT_ERROR(&f->dl, "policies.b.apply_to", 0, 0, "3.12");
}

static void test_validate_apply_to_queues_before_3_12_is_fine(void **state)
{
    struct fx *f = *state;

    fx_check_with(f,
                  TOPO_HEAD
                  "    policies:\n"
                  "      p: { pattern: \".*\", apply_to: queues, definition: { max-length: 1 } }\n",
                  broker(3, 10, 8));
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_validate_leader_locator_on_classic_before_4_0_is_error(void **state)
{
    static const char yaml[] =
        TOPO_HEAD "    queues:\n"
                  "      q:\n"
                  "        durable: false\n"
                  "        arguments: { x-queue-leader-locator: balanced }\n";
    struct fx *f = *state;

    fx_check_with(f, yaml, broker(3, 10, 8));
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.arguments.x-queue-leader-locator", 7, 46, "4.0");
    fx_release(f);
    fx_check_with(f, yaml, broker(4, 0, 0));
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- no cascades: one mistake, one diagnostic ---- */

static void test_validate_invalid_queue_type_does_not_cascade_into_type_rules(void **state)
{
    struct fx *f = *state;

    /* the type could not be read: "type is classic" would be a claim the file never made */
    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        type: quorom\n"
                          "        delivery_limit: 5\n");
    EXPECT_ERROR(&f->dl, "queues.q.type", 6, 15, "invalid value 'quorom'");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, "queues.q.delivery_limit", NULL);
    EXPECT_NO_DIAG(&f->dl, DIAG_WARNING, NULL, "durable classic queue");
    EXPECT_COUNTS(&f->dl, 1, 0);
}

static void test_validate_bind_entry_with_null_exchange_is_one_error(void **state)
{
    struct fx *f = *state;

    fx_check(f, TOPO_HEAD "    queues:\n"
                          "      q:\n"
                          "        durable: false\n"
                          "        bind: [{ exchange: ~ }]\n");
    EXPECT_ERROR(&f->dl, "queues.q.bind[0].exchange", 7, 28, "expected an exchange name");
    EXPECT_COUNTS(&f->dl, 1, 0);
}

static void test_validate_model_with_load_errors_is_validated_safely(void **state)
{
    struct fx *f = *state;

    /* a broken file still gets its semantic checks (ASan watches the half-built model) */
    fx_check(f, TOPO_HEAD "    exchanges:\n"
                          "      x: {}\n"
                          "      y: { type: bogus, alternate_exchange: [a] }\n"
                          "    queues:\n"
                          "      q: { delivery_limit: five, dead_letter_exchange: [a] }\n"
                          "      r: 7\n"
                          "      s: { bind: [{ routing_key: a }, 5] }\n"
                          "      t: { durable: false, dead_letter_exchange: nope }\n"
                          "    bindings:\n"
                          "      - { routing_key: a }\n"
                          "      - 5\n"
                          "      - { source: x, destination: nope, destination_type: wat }\n"
                          "    policies:\n"
                          "      p: { priority: high }\n"
                          "      p2: { pattern: \"(\", definition: { max-length: 1 } }\n");
    assert_int_equal(f->load_rc, 0);
    /* the semantic errors are found next to the structural ones */
    EXPECT_WARNING(&f->dl, "queues.t.dead_letter_exchange", 11, 50, "'nope' is not defined");
    EXPECT_ERROR(&f->dl, "bindings[2].destination", 0, 0, "queue 'nope' is not defined");
    EXPECT_ERROR(&f->dl, "policies.p2.pattern", 0, 0, "invalid regular expression");
    EXPECT_ERROR(&f->dl, "exchanges.x.type", 5, 7, "needs a type");
}

/* ---- several vhosts ---- */

static void test_validate_exchanges_are_looked_up_in_the_queue_s_own_vhost(void **state)
{
    struct fx *f = *state;

    fx_check(f, "version: 1\n"
                "vhosts:\n"
                "  a:\n"
                "    exchanges: { x: { type: fanout } }\n"
                "  b:\n"
                "    queues:\n"
                "      q:\n"
                "        durable: false\n"
                "        bind: [{ exchange: x }]\n");
    EXPECT_COUNTS(&f->dl, 1, 0);
    EXPECT_ERROR(&f->dl, "queues.q.bind[0].exchange", 9, 28, "not defined in vhost 'b'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_validate_contract_example_is_valid),
        FX_TEST(test_validate_empty_vhost_is_valid),
        FX_TEST(test_validate_bind_to_undefined_exchange_is_error),
        FX_TEST(test_validate_bind_to_misspelt_exchange_suggests),
        FX_TEST(test_validate_bind_to_defined_exchange_is_fine),
        FX_TEST(test_validate_bind_to_amq_exchange_is_fine),
        FX_TEST(test_validate_binding_from_undefined_exchange_is_error),
        FX_TEST(test_validate_binding_from_amq_exchange_is_fine),
        FX_TEST(test_validate_binding_from_default_exchange_is_error),
        FX_TEST(test_validate_binding_to_undefined_queue_is_error),
        FX_TEST(test_validate_binding_to_undefined_exchange_is_error),
        FX_TEST(test_validate_exchange_to_exchange_binding_is_fine),
        FX_TEST(test_validate_duplicate_binding_is_error),
        FX_TEST(test_validate_alternate_exchange_undefined_is_warning),
        FX_TEST(test_validate_alternate_exchange_raw_argument_undefined_is_warning),
        FX_TEST(test_validate_alternate_exchange_typo_suggests),
        FX_TEST(test_validate_alternate_exchange_defined_or_builtin_is_fine),
        FX_TEST(test_validate_dead_letter_exchange_undefined_is_warning),
        FX_TEST(test_validate_dead_letter_exchange_undefined_raw_on_quorum),
        FX_TEST(test_validate_dead_letter_exchange_typo_suggests),
        FX_TEST(test_validate_dead_letter_exchange_default_is_fine),
        FX_TEST(test_validate_dead_letter_exchange_amq_is_fine),
        FX_TEST(test_validate_dead_letter_exchange_from_policy_undefined_is_warning),
        FX_TEST(test_validate_alternate_exchange_from_policy_undefined_is_warning),
        FX_TEST(test_validate_undefined_exchanges_warn_but_bindings_stay_errors),
        FX_TEST(test_validate_undefined_exchanges_fail_strict),
        FX_TEST(test_validate_delivery_limit_on_classic_is_error),
        FX_TEST(test_validate_delivery_limit_on_default_type_is_error),
        FX_TEST(test_validate_delivery_limit_on_quorum_is_fine),
        FX_TEST(test_validate_x_queue_type_argument_counts_as_the_type),
        FX_TEST(test_validate_dead_letter_strategy_on_classic_is_error),
        FX_TEST(test_validate_max_priority_on_quorum_is_error),
        FX_TEST(test_validate_max_priority_on_classic_is_fine),
        FX_TEST(test_validate_queue_mode_on_quorum_is_error),
        FX_TEST(test_validate_queue_mode_on_classic_is_fine),
        FX_TEST(test_validate_max_age_on_classic_is_error),
        FX_TEST(test_validate_max_age_on_quorum_is_error),
        FX_TEST(test_validate_max_age_on_stream_is_fine),
        FX_TEST(test_validate_message_ttl_on_stream_is_error),
        FX_TEST(test_validate_max_length_on_stream_is_error),
        FX_TEST(test_validate_dead_letter_exchange_on_stream_is_error),
        FX_TEST(test_validate_durable_false_on_quorum_is_error),
        FX_TEST(test_validate_durable_false_on_stream_is_error),
        FX_TEST(test_validate_auto_delete_on_quorum_is_error),
        FX_TEST(test_validate_auto_delete_on_stream_is_error),
        FX_TEST(test_validate_explicit_durable_and_not_auto_delete_on_quorum_is_fine),
        FX_TEST(test_validate_transient_auto_delete_classic_is_fine),
        FX_TEST(test_validate_at_least_once_without_overflow_is_error),
        FX_TEST(test_validate_at_least_once_with_drop_head_is_error),
        FX_TEST(test_validate_at_least_once_with_reject_publish_is_fine),
        FX_TEST(test_validate_at_least_once_with_reject_publish_from_policy_is_fine),
        FX_TEST(test_validate_at_least_once_with_policy_that_does_not_match_is_error),
        FX_TEST(test_validate_at_least_once_with_exchange_only_policy_is_error),
        FX_TEST(test_validate_at_least_once_policy_shadowed_by_higher_priority_is_error),
        FX_TEST(test_validate_at_least_once_from_policy_without_overflow_is_error),
        FX_TEST(test_validate_at_least_once_with_classic_queues_policy_is_error),
        FX_TEST(test_validate_at_least_once_with_quorum_queues_policy_is_fine),
        FX_TEST(test_validate_at_least_once_policy_overflow_wins_over_quorum_queue_own),
        FX_TEST(test_validate_at_least_once_own_reject_publish_overridden_by_policy_is_error),
        FX_TEST(test_validate_at_least_once_without_overflow_or_dlx_is_error),
        FX_TEST(test_validate_dead_letter_routing_key_without_exchange_is_error),
        FX_TEST(test_validate_reject_publish_dlx_on_quorum_is_error),
        FX_TEST(test_validate_reject_publish_dlx_on_classic_is_fine),
        FX_TEST(test_validate_expires_zero_is_error),
        FX_TEST(test_validate_expires_one_is_fine),
        FX_TEST(test_validate_negative_message_ttl_is_error),
        FX_TEST(test_validate_zero_message_ttl_is_fine),
        FX_TEST(test_validate_negative_max_length_is_error),
        FX_TEST(test_validate_zero_max_length_is_fine),
        FX_TEST(test_validate_negative_max_length_bytes_is_error),
        FX_TEST(test_validate_zero_max_length_bytes_is_fine),
        FX_TEST(test_validate_negative_delivery_limit_is_error),
        FX_TEST(test_validate_zero_delivery_limit_is_fine),
        FX_TEST(test_validate_max_priority_zero_is_error),
        FX_TEST(test_validate_max_priority_256_is_error),
        FX_TEST(test_validate_max_priority_1_and_255_are_fine),
        FX_TEST(test_validate_initial_group_size_zero_is_error),
        FX_TEST(test_validate_initial_group_size_one_is_fine),
        FX_TEST(test_validate_raw_message_ttl_string_is_error),
        FX_TEST(test_validate_raw_message_ttl_integer_is_fine),
        FX_TEST(test_validate_raw_boolean_argument_as_string_is_error),
        FX_TEST(test_validate_raw_string_argument_as_number_is_error),
        FX_TEST(test_validate_raw_overflow_unknown_value_is_error),
        FX_TEST(test_validate_raw_max_age_in_lowercase_days_is_error),
        FX_TEST(test_validate_raw_max_age_in_broker_form_is_fine),
        FX_TEST(test_validate_unknown_raw_argument_is_not_an_error),
        FX_TEST(test_validate_queue_name_over_255_bytes_is_error),
        FX_TEST(test_validate_queue_name_of_255_bytes_is_fine),
        FX_TEST(test_validate_exchange_name_over_255_bytes_is_error),
        FX_TEST(test_validate_name_length_counts_bytes_not_characters),
        FX_TEST(test_validate_queue_name_with_amq_prefix_is_error),
        FX_TEST(test_validate_exchange_name_with_amq_prefix_is_error),
        FX_TEST(test_validate_holding_queue_name_is_error),
        FX_TEST(test_validate_holding_queue_name_of_any_queue_is_error),
        FX_TEST(test_validate_lock_queue_name_is_error),
        FX_TEST(test_validate_names_beside_rmqtopos_are_fine),
        FX_TEST(test_validate_amq_inside_a_name_is_fine),
        FX_TEST(test_validate_routing_key_over_255_bytes_is_error),
        FX_TEST(test_validate_first_class_and_raw_same_key_is_error_even_when_equal),
        FX_TEST(test_validate_raw_then_first_class_same_key_is_error),
        FX_TEST(test_validate_alternate_exchange_first_class_and_raw_is_error),
        FX_TEST(test_validate_duplicate_yaml_key_is_not_also_reported_as_set_twice),
        FX_TEST(test_validate_dead_letter_exchange_without_route_warns),
        FX_TEST(test_validate_dead_letter_exchange_with_route_does_not_warn),
        FX_TEST(test_validate_dead_letter_routing_key_that_no_binding_matches_warns),
        FX_TEST(test_validate_dead_letter_route_through_topic_pattern_does_not_warn),
        FX_TEST(test_validate_dead_letter_route_on_direct_exchange_takes_wildcards_literally),
        FX_TEST(test_validate_dead_letter_route_through_exchange_binding_does_not_warn),
        FX_TEST(test_validate_dead_letter_route_through_alternate_exchange_does_not_warn),
        FX_TEST(test_validate_dead_letter_via_default_exchange_to_missing_queue_warns),
        FX_TEST(test_validate_dead_letter_cycle_without_limit_warns),
        FX_TEST(test_validate_dead_letter_cycle_with_ttl_does_not_warn),
        FX_TEST(test_validate_dead_letter_cycle_with_delivery_limit_does_not_warn),
        FX_TEST(test_validate_queue_dead_lettering_into_itself_is_a_cycle),
        FX_TEST(test_validate_dead_letter_chain_without_cycle_does_not_warn_of_cycle),
        FX_TEST(test_validate_dead_letter_queue_without_cap_warns),
        FX_TEST(test_validate_dead_letter_queue_reached_through_policy_dlx_warns),
        FX_TEST(test_validate_dead_letter_queue_with_ttl_does_not_warn),
        FX_TEST(test_validate_dead_letter_queue_with_max_length_does_not_warn),
        FX_TEST(test_validate_dead_letter_queue_capped_by_policy_does_not_warn),
        FX_TEST(test_validate_dead_letter_queue_with_policy_that_caps_nothing_warns),
        FX_TEST(test_validate_dead_letter_queue_with_only_delivery_limit_warns),
        FX_TEST(test_validate_stream_dead_letter_queue_with_size_cap_does_not_warn),
        FX_TEST(test_validate_quorum_at_most_once_warns),
        FX_TEST(test_validate_quorum_explicit_at_most_once_warns),
        FX_TEST(test_validate_classic_dead_lettering_has_no_strategy_warning),
        FX_TEST(test_validate_quorum_without_dead_lettering_has_no_strategy_warning),
        FX_TEST(test_validate_policy_overflow_overriding_quorum_queue_warns),
        FX_TEST(test_validate_policy_overflow_equal_to_quorum_queue_own_does_not_warn),
        FX_TEST(test_validate_policy_overflow_on_classic_queue_does_not_warn),
        FX_TEST(test_validate_equal_priority_policies_matching_one_queue_warn),
        FX_TEST(test_validate_equal_priority_policies_matching_one_exchange_warn),
        FX_TEST(test_validate_policies_of_different_priority_do_not_warn),
        FX_TEST(test_validate_equal_priority_policies_matching_different_objects_do_not_warn),
        FX_TEST(test_validate_equal_priority_policies_for_different_kinds_do_not_warn),
        FX_TEST(test_validate_durable_classic_queue_gets_quorum_advice),
        FX_TEST(test_validate_explicit_classic_type_advice_points_at_type),
        FX_TEST(test_validate_transient_classic_queue_gets_no_advice),
        FX_TEST(test_validate_auto_delete_classic_queue_gets_no_advice),
        FX_TEST(test_validate_quorum_and_stream_get_no_advice),
        FX_TEST(test_validate_policy_unknown_key_suggests),
        FX_TEST(test_validate_policy_value_of_wrong_type_is_error),
        FX_TEST(test_validate_policy_invalid_pattern_is_error),
        FX_TEST(test_validate_apply_to_quorum_queues_before_3_12_is_error),
        FX_TEST(test_validate_apply_to_quorum_queues_on_3_12_is_fine),
        FX_TEST(test_validate_apply_to_quorum_queues_without_broker_is_fine),
        FX_TEST(test_validate_apply_to_streams_and_classic_before_3_12_are_errors),
        FX_TEST(test_validate_apply_to_queues_before_3_12_is_fine),
        FX_TEST(test_validate_leader_locator_on_classic_before_4_0_is_error),
        FX_TEST(test_validate_invalid_queue_type_does_not_cascade_into_type_rules),
        FX_TEST(test_validate_bind_entry_with_null_exchange_is_one_error),
        FX_TEST(test_validate_model_with_load_errors_is_validated_safely),
        FX_TEST(test_validate_exchanges_are_looked_up_in_the_queue_s_own_vhost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
