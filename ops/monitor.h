/*
 * monitor.h - watching dead-letter queues (issue 15): find them on a broker, measure them
 * without costing their messages anything, judge them against their thresholds, and render
 * the results as a Monitoring Plugins status line, Prometheus text, JSON and Prometheus
 * alerting rules. Everything comes back as data or text: the front ends (the cli's dlq status,
 * dlq check and alerts, a dashboard) only print.
 *
 * What a measurement costs, per queue type (the rule: a status run every minute for a month
 * changes no message's order or delivery count):
 * - counts (messages ready, consumers): a passive queue.declare, exact and free on every type;
 * - rate: two such counts --interval apart (3.10 keeps no per-queue dead-letter rate);
 * - oldest and reasons: read from a bounded sample of the head of CLASSIC queues only (consume
 *   with manual ack, acknowledge nothing, close the channel: the broker requeues them in
 *   their positions; classic queues keep no delivery count. The cost that remains: each
 *   sampled message is redelivered, so it carries redelivered=true and counts in the queue's
 *   redeliver statistics). A classic queue with consumers is not read (a read would hold
 *   messages from them and change the order they see). Quorum queues are never read: every delivery
 * raises their x-delivery-count and brings the message nearer its delivery limit (20 by default
 * from 4.0), and requeued messages lose their order. Streams are not read either.
 */
#ifndef RMQT_OPS_MONITOR_H
#define RMQT_OPS_MONITOR_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "http.h"
#include "session.h"
#include "strbuf.h"
#include "threshold.h"

/* A state, valued as the Monitoring Plugins exit codes. */
enum dlq_state {
    DLQ_STATE_NONE = -1, /* no threshold to judge by */
    DLQ_OK = 0,
    DLQ_WARNING = 1,
    DLQ_CRITICAL = 2,
    DLQ_UNKNOWN = 3,
};

/* "OK", "WARNING", "CRITICAL", "UNKNOWN", "-". */
const char *dlq_state_name(enum dlq_state s);

/* The state of value against t: CRITICAL when at or above critical, else WARNING when at or
 * above warning, else OK; NONE when t has neither. Pure. */
enum dlq_state dlq_threshold_state(const struct rmqt_threshold *t, double value);

/* The worst of a and b for a check's exit status: CRITICAL > WARNING > UNKNOWN > OK > NONE. */
enum dlq_state dlq_state_worse(enum dlq_state a, enum dlq_state b);

/* The Monitoring Plugins range (development guidelines, "Threshold and ranges") that alerts
 * exactly when a value is at or above threshold: "N-1" (alert above N-1) for whole numbers
 * of a whole-number metric, else "@N:" (alert inside N..infinity). Into buf (cap bytes). */
void dlq_range_format(char *buf, size_t cap, double threshold, bool whole);

/* Whether range (the guidelines' syntax: [@][start:][end], ~ for minus infinity) alerts for
 * value. -1 when range is malformed, else 1 (alert) or 0. Pure; used by the tests to check
 * that dlq_range_format means what the thresholds mean. */
int dlq_range_alerts(const char *range, double value);

/* One (queue died in, reason) of a sample. */
struct dlq_reason {
    char *queue, *reason; /* owned */
    uint64_t count;
};

/* What was measured of one watched queue. */
struct dlq_status {
    const struct rmqt_watch *w; /* borrowed from the watch list */
    bool found;                 /* the queue exists */
    char error[768];            /* why it could not be measured ("" when it was) */
    char type[16];              /* "classic", "quorum", "stream", "" when unknown */
    uint64_t messages;          /* ready (exact: passive declare) */
    uint32_t consumers;
    bool has_rate;
    double rate; /* growth of messages per second over the interval (negative: draining) */
    bool has_age;
    double age;              /* seconds since the most recent death of the oldest sampled message */
    const char *not_sampled; /* why no sample was read (static text), or NULL */
    uint64_t sampled;        /* messages read for age and reasons */
    struct dlq_reason *reasons;
    size_t n_reasons;
    uint64_t replayed; /* sampled messages with rmqtopo-replay-count >= 1 (they died again) */
    enum dlq_state state, metric[RMQT_METRIC_COUNT];
};

struct dlq_report {
    struct dlq_status *v;
    size_t n;
    double interval; /* the rate's interval, seconds; 0: not measured */
    uint64_t sample; /* the sample bound per classic queue; 0: no sampling */
    double now;      /* when the measurement ended, seconds since the epoch */
};

void dlq_report_release(struct dlq_report *r);

/* Fills s's states from its measurements and thresholds: UNKNOWN when it could not be
 * measured, else the worst of the metrics measured; a threshold whose metric was not
 * measured does not count (dlq_status_unjudged says which). Pure. */
void dlq_status_judge(struct dlq_status *s);

/* Appends to out the dead-letter queues of vhost found on the broker over the management API:
 * the queues bound to an exchange that a queue argument or policy names as dead-letter
 * exchange (and, for the default exchange, the queue its dead-letter routing key names).
 * No thresholds. Returns 0, or -1 with err set. */
int dlq_discover(struct rmqt_http *http, const char *vhost, struct rmqt_watchlist *out,
                 struct rmqt_error *err);

struct dlq_measure_options {
    double interval; /* seconds between the two counts of the rate; 0: no rate */
    uint64_t sample; /* at most this many messages read per classic queue; 0: none */
    const volatile sig_atomic_t *stop;
    void (*warn)(void *ctx, const char *msg); /* warnings; NULL: dropped */
    void *warn_ctx;
};

/* Measures every queue of wl (one AMQP session per vhost, from cfg with the vhost replaced;
 * http for the queue types, may be NULL: nothing is sampled then) and judges it. A queue that
 * is missing or cannot be read is UNKNOWN with its error; -1 with err set only when the broker
 * cannot be reached at all. wl must outlive r. */
int dlq_measure(struct rmqt_http *http, const struct rmqt_session_config *cfg,
                const struct rmqt_watchlist *wl, const struct dlq_measure_options *o,
                struct dlq_report *r, struct rmqt_error *err);

/* Why a threshold of s could not be judged (static text), or NULL when every threshold of s
 * was: the age of a queue that was not sampled (s->not_sampled says why), the rate without an
 * interval. Pure. */
const char *dlq_status_unjudged(const struct dlq_status *s, enum rmqt_metric *metric);

/* The Monitoring Plugins output line (without newline) of r and its state: "DLQ STATE -
 * summary | perfdata". Pure. */
enum dlq_state dlq_check_line(const struct dlq_report *r, struct strbuf *out);

/* r in the Prometheus text exposition format (rmqtopo_dlq_* metrics). Pure. */
void dlq_prometheus(const struct dlq_report *r, struct strbuf *out);

/* r as one JSON document (new). Pure. */
json_t *dlq_report_json(const struct dlq_report *r);

/* Prometheus alerting rules (YAML) for the thresholds of wl: messages and rate from the
 * broker's rabbitmq_prometheus per-queue metrics, age from rmqtopo's own
 * rmqtopo_dlq_oldest_age_seconds. Queues without thresholds get no rule. Pure. */
void dlq_alert_rules(const struct rmqt_watchlist *wl, struct strbuf *out);

#endif
