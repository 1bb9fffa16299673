/*
 * test_monitor.c - issue 15's pure code: the alert and alert_defaults keys (load, units,
 * errors at file:line:col, the warning about a dead-letter queue without thresholds), the
 * watch list of a file, states, the Monitoring Plugins ranges (checked against a parser of
 * the guidelines' syntax), and the renderings (check line, Prometheus text, alert rules).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "monitor.h"
#include "strbuf.h"
#include "units.h"
#include "watchlist.h"

/* lines 4-11: a dead-letter exchange, a queue dead-lettering into it, and its DLQ "dlq" (name at
 * 8:7); the DLQ's alert (if any) follows from line 12 */
#define DLQ_HEAD                                                                                   \
    TOPO_HEAD "    exchanges:\n"                                                                   \
              "      dlx: { type: fanout }\n"                                                      \
              "    queues:\n"                                                                      \
              "      work: { durable: false, dead_letter_exchange: dlx }\n"                        \
              "      dlq:\n"                                                                       \
              "        type: quorum\n"                                                             \
              "        bind: [{ exchange: dlx }]\n"                                                \
              "        message_ttl: 7d\n"

static void load_validate(struct fx *f, const char *yaml)
{
    fx_load(f, yaml);
    topology_validate(&f->t, NULL, &f->dl);
}

/* ---- the file keys ---- */

static void test_alert_keys_load_in_their_units(void **state)
{
    struct fx *f = *state;
    const struct queue *q;

    load_validate(f, DLQ_HEAD "        alert:\n"
                              "          messages: { warning: 10, critical: 1000 }\n"
                              "          age: { warning: 1h, critical: 1d }\n"
                              "          rate: { warning: 10/m, critical: 1/s }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
    q = vhost_find_queue(&f->t.vhosts[0], "dlq");
    assert_non_null(q);
    assert_true(q->has_alert);
    assert_true(q->alert.t[RMQT_METRIC_MESSAGES].warning == 10);
    assert_true(q->alert.t[RMQT_METRIC_MESSAGES].critical == 1000);
    assert_true(q->alert.t[RMQT_METRIC_AGE].warning == 3600);
    assert_true(q->alert.t[RMQT_METRIC_AGE].critical == 86400);
    assert_true(fabs(q->alert.t[RMQT_METRIC_RATE].warning - 10.0 / 60) < 1e-12);
    assert_true(q->alert.t[RMQT_METRIC_RATE].critical == 1);
}

static void test_alert_warning_above_critical_is_error_at_critical(void **state)
{
    struct fx *f = *state;

    load_validate(f, DLQ_HEAD "        alert:\n"
                              "          messages: { warning: 10, critical: 5 }\n");
    EXPECT_ERROR(&f->dl, "queues.dlq.alert.messages.critical", 13, 46,
                 "critical (5) is below warning (10)");
}

static void test_alert_bad_rate_unit_is_error(void **state)
{
    struct fx *f = *state;

    load_validate(f, DLQ_HEAD "        alert:\n"
                              "          rate: { warning: 10/d }\n");
    EXPECT_ERROR(&f->dl, "queues.dlq.alert.rate.warning", 13, 28, "invalid rate '10/d'");
}

static void test_alert_bad_age_and_count_are_errors(void **state)
{
    struct fx *f = *state;

    load_validate(f, DLQ_HEAD "        alert:\n"
                              "          age: { warning: 1 hour }\n"
                              "          messages: { critical: -1 }\n");
    EXPECT_ERROR(&f->dl, "queues.dlq.alert.age.warning", 13, 27, "invalid duration '1 hour'");
    EXPECT_ERROR(&f->dl, "queues.dlq.alert.messages.critical", 14, 33, "0 or more");
}

static void test_alert_unknown_keys_suggest(void **state)
{
    struct fx *f = *state;

    load_validate(f, DLQ_HEAD "        alert:\n"
                              "          mesages: { warning: 1 }\n"
                              "          age: { warn: 1h }\n");
    EXPECT_ERROR(&f->dl, "queues.dlq.alert.mesages", 13, 11, "did you mean 'messages'?");
    EXPECT_ERROR(&f->dl, "queues.dlq.alert.age.warn", 14, 18, "unknown key 'warn'");
}

static void test_alert_empty_threshold_is_error(void **state)
{
    struct fx *f = *state;

    load_validate(f, DLQ_HEAD "        alert:\n"
                              "          messages: {}\n");
    EXPECT_ERROR(&f->dl, "queues.dlq.alert.messages", 13, 21, "expected warning, critical");
}

static void test_alert_defaults_on_vhost_load(void **state)
{
    struct fx *f = *state;

    load_validate(f, TOPO_HEAD "    alert_defaults:\n"
                               "      messages: { warning: 1, critical: 100 }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
    assert_true(f->t.vhosts[0].has_alert_defaults);
    assert_true(f->t.vhosts[0].alert_defaults.t[RMQT_METRIC_MESSAGES].critical == 100);
}

static void test_rate_units(void **state)
{
    double v;
    const char *why;

    (void)state;
    assert_int_equal(units_parse_rate("10/m", &v, &why), 0);
    assert_true(fabs(v - 10.0 / 60) < 1e-12);
    assert_int_equal(units_parse_rate("7200/h", &v, &why), 0);
    assert_true(v == 2);
    assert_int_equal(units_parse_rate("0.5/s", &v, &why), 0);
    assert_true(v == 0.5);
    assert_int_equal(units_parse_rate("10", &v, &why), -1);
    assert_int_equal(units_parse_rate("-1/s", &v, &why), -1);
    assert_int_equal(units_parse_rate("x/s", &v, &why), -1);
    assert_int_equal(units_parse_rate("1/ms", &v, &why), -1);
}

/* ---- the warning about a DLQ without thresholds ---- */

static void test_dlq_without_thresholds_warns(void **state)
{
    struct fx *f = *state;

    load_validate(f, DLQ_HEAD);
    EXPECT_WARNING(&f->dl, "queues.dlq", 8, 7, "dead-letter queue 'dlq' has no alert thresholds");
    EXPECT_COUNTS(&f->dl, 0, 1);
}

static void test_dlq_with_alert_does_not_warn(void **state)
{
    struct fx *f = *state;

    load_validate(f, DLQ_HEAD "        alert: { messages: { critical: 100 } }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

static void test_dlq_with_vhost_defaults_does_not_warn(void **state)
{
    struct fx *f = *state;

    load_validate(f, "version: 1\nvhosts:\n  v:\n"
                     "    alert_defaults: { messages: { warning: 1 } }\n"
                     "    exchanges:\n"
                     "      dlx: { type: fanout }\n"
                     "    queues:\n"
                     "      work: { durable: false, dead_letter_exchange: dlx }\n"
                     "      dlq: { type: quorum, message_ttl: 7d, bind: [{ exchange: dlx }] }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
}

/* ---- the watch list ---- */

static void test_watchlist_merges_alert_over_defaults_by_kind(void **state)
{
    struct fx *f = *state;
    struct rmqt_watchlist wl = {0};

    load_validate(f, "version: 1\nvhosts:\n  v:\n"
                     "    alert_defaults:\n"
                     "      messages: { warning: 1, critical: 100 }\n"
                     "      age: { critical: 1h }\n"
                     "    exchanges:\n"
                     "      dlx: { type: fanout }\n"
                     "    queues:\n"
                     "      work: { durable: false, dead_letter_exchange: dlx }\n"
                     "      dlq:\n"
                     "        type: quorum\n"
                     "        message_ttl: 7d\n"
                     "        bind: [{ exchange: dlx }]\n"
                     "        alert: { messages: { warning: 10 } }\n"
                     "      plain:\n"
                     "        type: quorum\n"
                     "        alert: { rate: { warning: 1/s } }\n"
                     "      other: { type: quorum }\n");
    EXPECT_COUNTS(&f->dl, 0, 0);
    topology_watchlist(&f->t, &wl);
    assert_int_equal(wl.n, 2);
    assert_string_equal(wl.v[0].queue, "dlq");
    assert_true(wl.v[0].is_dlq);
    /* messages from the queue (warning only: the default's critical is not mixed in) */
    assert_true(wl.v[0].th.t[RMQT_METRIC_MESSAGES].has_warning);
    assert_true(wl.v[0].th.t[RMQT_METRIC_MESSAGES].warning == 10);
    assert_false(wl.v[0].th.t[RMQT_METRIC_MESSAGES].has_critical);
    /* age from the vhost's defaults */
    assert_true(wl.v[0].th.t[RMQT_METRIC_AGE].has_critical);
    assert_true(wl.v[0].th.t[RMQT_METRIC_AGE].critical == 3600);
    /* a queue that is not a DLQ: its own alert, no defaults */
    assert_string_equal(wl.v[1].queue, "plain");
    assert_false(wl.v[1].is_dlq);
    assert_false(wl.v[1].th.t[RMQT_METRIC_MESSAGES].has_warning);
    assert_true(wl.v[1].th.t[RMQT_METRIC_RATE].warning == 1);
    rmqt_watchlist_release(&wl);
}

/* ---- states and ranges ---- */

static void test_threshold_state_at_or_above(void **state)
{
    struct rmqt_threshold t = {true, true, 10, 1000};
    struct rmqt_threshold w = {true, false, 1, 0};
    struct rmqt_threshold none = {false, false, 0, 0};

    (void)state;
    assert_int_equal(dlq_threshold_state(&t, 9), DLQ_OK);
    assert_int_equal(dlq_threshold_state(&t, 10), DLQ_WARNING);
    assert_int_equal(dlq_threshold_state(&t, 999), DLQ_WARNING);
    assert_int_equal(dlq_threshold_state(&t, 1000), DLQ_CRITICAL);
    assert_int_equal(dlq_threshold_state(&w, 0), DLQ_OK);
    assert_int_equal(dlq_threshold_state(&w, 1), DLQ_WARNING);
    assert_int_equal(dlq_threshold_state(&none, 5), DLQ_STATE_NONE);
    assert_int_equal(dlq_state_worse(DLQ_UNKNOWN, DLQ_WARNING), DLQ_WARNING);
    assert_int_equal(dlq_state_worse(DLQ_OK, DLQ_UNKNOWN), DLQ_UNKNOWN);
    assert_int_equal(dlq_state_worse(DLQ_CRITICAL, DLQ_UNKNOWN), DLQ_CRITICAL);
}

/* the guidelines' own examples ("Threshold and ranges") */
static void test_range_parser_follows_the_guidelines(void **state)
{
    (void)state;
    assert_int_equal(dlq_range_alerts("10", 11), 1);
    assert_int_equal(dlq_range_alerts("10", -1), 1);
    assert_int_equal(dlq_range_alerts("10", 10), 0);
    assert_int_equal(dlq_range_alerts("10", 0), 0);
    assert_int_equal(dlq_range_alerts("10:", 9), 1);
    assert_int_equal(dlq_range_alerts("10:", 1e9), 0);
    assert_int_equal(dlq_range_alerts("~:10", 11), 1);
    assert_int_equal(dlq_range_alerts("~:10", -1e9), 0);
    assert_int_equal(dlq_range_alerts("10:20", 9), 1);
    assert_int_equal(dlq_range_alerts("10:20", 21), 1);
    assert_int_equal(dlq_range_alerts("10:20", 15), 0);
    assert_int_equal(dlq_range_alerts("@10:20", 10), 1);
    assert_int_equal(dlq_range_alerts("@10:20", 21), 0);
    assert_int_equal(dlq_range_alerts("20:10", 1), -1);
    assert_int_equal(dlq_range_alerts("x", 1), -1);
    assert_int_equal(dlq_range_alerts("", 1), -1);
}

/* the range written for a threshold alerts for exactly the values the threshold does */
static void test_range_means_what_the_threshold_means(void **state)
{
    static const double whole[] = {0, 1, 2, 10, 100, 1000};
    static const double frac[] = {0, 0.25, 1.0 / 60, 10.0 / 60, 1.5, 3600};
    char range[64];
    size_t k;
    double v;

    (void)state;
    for (k = 0; k < sizeof(whole) / sizeof(whole[0]); k++) {
        struct rmqt_threshold t = {true, false, whole[k], 0};
        dlq_range_format(range, sizeof(range), whole[k], true);
        for (v = 0; v <= 1100; v++)
            assert_int_equal(dlq_range_alerts(range, v), dlq_threshold_state(&t, v) == DLQ_WARNING);
    }
    for (k = 0; k < sizeof(frac) / sizeof(frac[0]); k++) {
        struct rmqt_threshold t = {true, false, frac[k], 0};
        dlq_range_format(range, sizeof(range), frac[k], false);
        for (v = -2; v <= 4000; v += 0.125)
            assert_int_equal(dlq_range_alerts(range, v), dlq_threshold_state(&t, v) == DLQ_WARNING);
        assert_int_equal(dlq_range_alerts(range, frac[k]), 1);
    }
    dlq_range_format(range, sizeof(range), 10, true);
    assert_string_equal(range, "9");
    dlq_range_format(range, sizeof(range), 0, true);
    assert_string_equal(range, "@0:");
    dlq_range_format(range, sizeof(range), 1.5, false);
    assert_string_equal(range, "@1.5:");
}

/* ---- renderings ---- */

struct report_fx {
    struct rmqt_watchlist wl;
    struct dlq_report r;
};

static void make_report(struct report_fx *x)
{
    struct rmqt_watch *w;
    size_t k;

    memset(x, 0, sizeof(*x));
    w = rmqt_watchlist_add(&x->wl, "orders", "orders.dlq");
    w->is_dlq = true;
    w->th.t[RMQT_METRIC_MESSAGES] = (struct rmqt_threshold){true, true, 10, 1000};
    w->th.t[RMQT_METRIC_AGE] = (struct rmqt_threshold){true, true, 3600, 86400};
    w = rmqt_watchlist_add(&x->wl, "orders", "it's=\"odd\"");
    w->th.t[RMQT_METRIC_MESSAGES] = (struct rmqt_threshold){true, false, 1, 0};
    w = rmqt_watchlist_add(&x->wl, "b", "gone");
    w->th.t[RMQT_METRIC_MESSAGES] = (struct rmqt_threshold){true, false, 1, 0};
    x->r.n = 3;
    x->r.now = 1000000;
    x->r.v = calloc(3, sizeof(*x->r.v));
    for (k = 0; k < 3; k++)
        x->r.v[k].w = &x->wl.v[k];
    x->r.v[0].found = true;
    x->r.v[0].messages = 1204;
    x->r.v[0].has_age = true;
    x->r.v[0].age = 120.7;
    x->r.v[1].found = true;
    x->r.v[1].messages = 0;
    x->r.v[1].not_sampled = "quorum queue";
    strcpy(x->r.v[2].error, "queue 'gone' not found in vhost 'b'");
    for (k = 0; k < 3; k++)
        dlq_status_judge(&x->r.v[k]);
}

static void release_report(struct report_fx *x)
{
    free(x->r.v);
    rmqt_watchlist_release(&x->wl);
}

static void test_check_line(void **state)
{
    struct report_fx x;
    struct strbuf sb = {0};

    (void)state;
    make_report(&x);
    assert_int_equal(x.r.v[0].state, DLQ_CRITICAL);
    assert_int_equal(x.r.v[1].state, DLQ_OK);
    assert_int_equal(x.r.v[2].state, DLQ_UNKNOWN);
    assert_int_equal(dlq_check_line(&x.r, &sb), DLQ_CRITICAL);
    assert_string_equal(strbuf_str(&sb),
                        "DLQ CRITICAL - CRITICAL orders/orders.dlq 1204 messages (critical "
                        "1000); UNKNOWN b/gone queue 'gone' not found in vhost 'b'; 1 of 3 "
                        "queues ok, 1204 messages | 'orders/orders.dlq messages'=1204;9;999;0 "
                        "'orders/orders.dlq age'=120s;3599;86399;0 "
                        "'orders/it''s_\"odd\" messages'=0;0;;0");
    strbuf_release(&sb);
    release_report(&x);
}

static void test_check_line_without_queues_is_unknown(void **state)
{
    struct dlq_report r = {0};
    struct strbuf sb = {0};

    (void)state;
    assert_int_equal(dlq_check_line(&r, &sb), DLQ_UNKNOWN);
    assert_string_equal(strbuf_str(&sb), "DLQ UNKNOWN - no dead-letter queues to check |");
    strbuf_release(&sb);
}

static void test_check_line_without_thresholds_is_ok(void **state)
{
    struct rmqt_watchlist wl = {0};
    struct dlq_report r = {0};
    struct strbuf sb = {0};

    (void)state;
    rmqt_watchlist_add(&wl, "/", "found.dlq")->is_dlq = true;
    r.n = 1;
    r.v = calloc(1, sizeof(*r.v));
    r.v[0].w = &wl.v[0];
    r.v[0].found = true;
    r.v[0].messages = 5000;
    dlq_status_judge(&r.v[0]);
    assert_int_equal(r.v[0].state, DLQ_STATE_NONE);
    assert_int_equal(dlq_check_line(&r, &sb), DLQ_OK);
    assert_string_equal(strbuf_str(&sb), "DLQ OK - 1 of 1 queues ok, 5000 messages (1 without "
                                         "thresholds) | '//found.dlq messages'=5000;;;0");
    free(r.v);
    rmqt_watchlist_release(&wl);
    strbuf_release(&sb);
}

static void test_prometheus_text(void **state)
{
    struct report_fx x;
    struct strbuf sb = {0};
    const char *s;

    (void)state;
    make_report(&x);
    dlq_prometheus(&x.r, &sb);
    s = strbuf_str(&sb);
    assert_non_null(strstr(s, "# TYPE rmqtopo_dlq_messages gauge\n"
                              "rmqtopo_dlq_messages{vhost=\"orders\",queue=\"orders.dlq\"} 1204\n"
                              "rmqtopo_dlq_messages{vhost=\"orders\",queue=\"it's=\\\"odd\\\"\"} "
                              "0\n"));
    assert_non_null(strstr(s, "rmqtopo_dlq_up{vhost=\"b\",queue=\"gone\"} 0\n"));
    assert_non_null(strstr(s, "rmqtopo_dlq_state{vhost=\"orders\",queue=\"orders.dlq\"} 2\n"));
    assert_non_null(
        strstr(s, "rmqtopo_dlq_oldest_age_seconds{vhost=\"orders\",queue=\"orders.dlq\"} 120.7"));
    /* not measured: no sample, no sample metric for it */
    assert_null(strstr(s, "rmqtopo_dlq_sampled_messages{vhost=\"orders\",queue=\"it's"));
    strbuf_release(&sb);
    release_report(&x);
}

static void test_alert_rules(void **state)
{
    struct report_fx x;
    struct strbuf sb = {0};
    const char *s;

    (void)state;
    make_report(&x);
    dlq_alert_rules(&x.wl, &sb);
    s = strbuf_str(&sb);
    assert_non_null(strstr(
        s,
        "      - alert: RmqtopoDeadLetterMessages\n"
        "        expr: 'max by (vhost, queue) (rabbitmq_detailed_queue_messages{vhost=\"orders\","
        "queue=\"orders.dlq\"} or rabbitmq_queue_messages{vhost=\"orders\",queue=\"orders.dlq\"}) "
        ">= 10 < 1000'\n"
        "        labels:\n"
        "          severity: warning\n"
        "          vhost: 'orders'\n"
        "          queue: 'orders.dlq'\n"));
    assert_non_null(strstr(s,
                           "rmqtopo_dlq_oldest_age_seconds{vhost=\"orders\",queue=\"orders.dlq\"}"
                           ") >= 86400'\n"));
    assert_non_null(
        strstr(s, "          runbook: 'rmqtopo dlq inspect orders.dlq --vhost orders'"));
    /* a quote in a name: doubled in YAML, escaped in PromQL */
    assert_non_null(strstr(s, "queue=\"it''s=\\\"odd\\\"\"}"));
    strbuf_release(&sb);
    release_report(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_alert_keys_load_in_their_units),
        FX_TEST(test_alert_warning_above_critical_is_error_at_critical),
        FX_TEST(test_alert_bad_rate_unit_is_error),
        FX_TEST(test_alert_bad_age_and_count_are_errors),
        FX_TEST(test_alert_unknown_keys_suggest),
        FX_TEST(test_alert_empty_threshold_is_error),
        FX_TEST(test_alert_defaults_on_vhost_load),
        cmocka_unit_test(test_rate_units),
        FX_TEST(test_dlq_without_thresholds_warns),
        FX_TEST(test_dlq_with_alert_does_not_warn),
        FX_TEST(test_dlq_with_vhost_defaults_does_not_warn),
        FX_TEST(test_watchlist_merges_alert_over_defaults_by_kind),
        cmocka_unit_test(test_threshold_state_at_or_above),
        cmocka_unit_test(test_range_parser_follows_the_guidelines),
        cmocka_unit_test(test_range_means_what_the_threshold_means),
        cmocka_unit_test(test_check_line),
        cmocka_unit_test(test_check_line_without_queues_is_unknown),
        cmocka_unit_test(test_check_line_without_thresholds_is_ok),
        cmocka_unit_test(test_prometheus_text),
        cmocka_unit_test(test_alert_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
