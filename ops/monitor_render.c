/*
 * monitor_render.c - the renderings of a dead-letter queue report (monitor.h): the
 * Monitoring Plugins status line, the Prometheus text format, JSON, and Prometheus alerting
 * rules from the thresholds. Pure: text in, text out.
 *
 * Decisions:
 * - Perfdata ranges alert for exactly the values the file's thresholds do (at or above):
 *   dlq_range_format. Labels are "vhost/queue metric"; a quote in a name is doubled and '='
 *   (which perfdata cannot carry in a label) becomes '_'.
 * - Prometheus label values escape backslash, double quote and newline (exposition format).
 * - The alert rules read the broker's own per-queue gauge under both of its names:
 *   rabbitmq_detailed_queue_messages (GET /metrics/detailed?family=queue_coarse_metrics) or
 *   rabbitmq_queue_messages (GET /metrics/per-object, or /metrics with
 *   prometheus.return_per_object_metrics = true), so the rules hold for either scrape; the
 *   age comes from rmqtopo's own rmqtopo_dlq_oldest_age_seconds (dlq status -o prometheus).
 */
#include "monitor.h"
#include "present.h"

#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* human values */

static void add_age(struct strbuf *sb, double seconds)
{
    long long s = (long long)(seconds + 0.5);

    if (seconds < 1 && seconds > 0) {
        strbuf_addf(sb, "%.0fms", seconds * 1000);
        return;
    }
    if (s >= 86400) {
        strbuf_addf(sb, "%lldd", s / 86400);
        if (s % 86400 >= 3600)
            strbuf_addf(sb, "%lldh", (s % 86400) / 3600);
    } else if (s >= 3600) {
        strbuf_addf(sb, "%lldh", s / 3600);
        if (s % 3600 >= 60)
            strbuf_addf(sb, "%lldm", (s % 3600) / 60);
    } else if (s >= 60) {
        strbuf_addf(sb, "%lldm", s / 60);
        if (s % 60)
            strbuf_addf(sb, "%llds", s % 60);
    } else {
        strbuf_addf(sb, "%llds", s);
    }
}

static void add_rate(struct strbuf *sb, double per_second)
{
    strbuf_addf(sb, "%.4g/m", per_second * 60);
}

static void add_value(struct strbuf *sb, enum rmqt_metric m, double v)
{
    if (m == RMQT_METRIC_AGE)
        add_age(sb, v);
    else if (m == RMQT_METRIC_RATE)
        add_rate(sb, v);
    else
        strbuf_addf(sb, "%.0f", v);
}

/* ------------------------------------------------------------------------------------------ */
/* the Monitoring Plugins line */

static void add_label(struct strbuf *sb, const struct rmqt_watch *w, const char *metric)
{
    struct strbuf raw;
    const char *p;

    strbuf_init(&raw);
    strbuf_addf(&raw, "%s/%s %s", w->vhost, w->queue, metric);
    strbuf_addc(sb, '\'');
    for (p = strbuf_str(&raw); *p; p++) {
        if (*p == '\'')
            strbuf_adds(sb, "''");
        else if (*p == '=' || *p == '\n' || *p == '|' || *p == '\r')
            strbuf_addc(sb, '_');
        else
            strbuf_addc(sb, *p);
    }
    strbuf_addc(sb, '\'');
    strbuf_release(&raw);
}

/* text safe for the one status line: no newline, no '|' (it starts the perfdata) */
static void add_plain(struct strbuf *sb, const char *s)
{
    for (; *s; s++)
        strbuf_addc(sb, *s == '\n' || *s == '\r' || *s == '|' ? ' ' : *s);
}

static void add_perf(struct strbuf *sb, const struct rmqt_watch *w, enum rmqt_metric m,
                     double value, const char *uom, bool whole)
{
    const struct rmqt_threshold *t = &w->th.t[m];
    char range[64];

    strbuf_addc(sb, ' ');
    add_label(sb, w, rmqt_metric_name(m));
    if (whole)
        strbuf_addf(sb, "=%.0f%s;", value, uom);
    else
        strbuf_addf(sb, "=%.6g%s;", value, uom);
    if (t->has_warning) {
        dlq_range_format(range, sizeof(range), t->warning, whole);
        strbuf_adds(sb, range);
    }
    strbuf_addc(sb, ';');
    if (t->has_critical) {
        dlq_range_format(range, sizeof(range), t->critical, whole);
        strbuf_adds(sb, range);
    }
    if (m != RMQT_METRIC_RATE)
        strbuf_adds(sb, ";0");
}

/* why s is in its state, e.g. "1204 messages (critical 1000)" */
static void add_reason(struct strbuf *sb, const struct dlq_status *s)
{
    static const char *const what[] = {"messages", "oldest", "growing"};
    int m;
    bool first = true;

    if (s->state == DLQ_UNKNOWN) {
        add_plain(sb, s->error[0] ? s->error : "unknown");
        return;
    }
    for (m = 0; m < RMQT_METRIC_COUNT; m++) {
        const struct rmqt_threshold *t = &s->w->th.t[m];
        double v = m == RMQT_METRIC_MESSAGES ? (double)s->messages
                   : m == RMQT_METRIC_AGE    ? (s->has_age ? s->age : 0)
                                             : s->rate;

        if (s->metric[m] != s->state)
            continue;
        if (!first)
            strbuf_adds(sb, ", ");
        first = false;
        if (m == RMQT_METRIC_MESSAGES) {
            strbuf_addf(sb, "%llu messages", (unsigned long long)s->messages);
        } else {
            strbuf_addf(sb, "%s ", what[m]);
            add_value(sb, (enum rmqt_metric)m, v);
        }
        strbuf_addf(sb, " (%s ", s->state == DLQ_CRITICAL ? "critical" : "warning");
        add_value(sb, (enum rmqt_metric)m, s->state == DLQ_CRITICAL ? t->critical : t->warning);
        strbuf_addc(sb, ')');
    }
}

enum dlq_state dlq_check_line(const struct dlq_report *r, struct strbuf *out)
{
    enum dlq_state worst = DLQ_STATE_NONE;
    size_t k, j, n_ok = 0, n_none = 0;
    uint64_t total = 0;
    bool listed = false;

    for (k = 0; k < r->n; k++)
        worst = dlq_state_worse(worst, r->v[k].state);
    if (r->n == 0)
        worst = DLQ_UNKNOWN;
    else if (worst == DLQ_STATE_NONE)
        worst = DLQ_OK;
    strbuf_addf(out, "DLQ %s - ", dlq_state_name(worst));
    if (r->n == 0)
        strbuf_adds(out, "no dead-letter queues to check");
    for (k = 0; k < r->n; k++) {
        const struct dlq_status *s = &r->v[k];
        if (s->found)
            total += s->messages;
        if (s->state == DLQ_OK || s->state == DLQ_STATE_NONE)
            n_ok++; /* without thresholds: nothing to be wrong about */
        if (s->state == DLQ_STATE_NONE)
            n_none++;
    }
    /* the worst first: critical queues, then warnings, then the unknown */
    for (j = 0; j < 3; j++) {
        static const enum dlq_state order[] = {DLQ_CRITICAL, DLQ_WARNING, DLQ_UNKNOWN};
        for (k = 0; k < r->n; k++) {
            const struct dlq_status *s = &r->v[k];
            if (s->state != order[j])
                continue;
            if (listed)
                strbuf_adds(out, "; ");
            listed = true;
            strbuf_addf(out, "%s ", dlq_state_name(s->state));
            add_plain(out, s->w->vhost);
            strbuf_addc(out, '/');
            add_plain(out, s->w->queue);
            strbuf_addc(out, ' ');
            add_reason(out, s);
        }
    }
    if (r->n) {
        if (listed)
            strbuf_adds(out, "; ");
        strbuf_addf(out, "%zu of %zu queues ok, %llu messages", n_ok, r->n,
                    (unsigned long long)total);
        if (n_none)
            strbuf_addf(out, " (%zu without thresholds)", n_none);
    }
    strbuf_adds(out, " |");
    for (k = 0; k < r->n; k++) {
        const struct dlq_status *s = &r->v[k];
        if (!s->found || s->error[0])
            continue;
        add_perf(out, s->w, RMQT_METRIC_MESSAGES, (double)s->messages, "", true);
        if (s->has_age)
            add_perf(out, s->w, RMQT_METRIC_AGE, floor(s->age), "s", true);
        if (s->has_rate)
            add_perf(out, s->w, RMQT_METRIC_RATE, s->rate, "", false);
    }
    return worst;
}

/* ------------------------------------------------------------------------------------------ */
/* Prometheus text format */

static void add_prom_value(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            strbuf_adds(sb, "\\\\");
        else if (*s == '"')
            strbuf_adds(sb, "\\\"");
        else if (*s == '\n')
            strbuf_adds(sb, "\\n");
        else
            strbuf_addc(sb, *s);
    }
}

static void add_prom_labels(struct strbuf *sb, const struct rmqt_watch *w)
{
    strbuf_adds(sb, "{vhost=\"");
    add_prom_value(sb, w->vhost);
    strbuf_adds(sb, "\",queue=\"");
    add_prom_value(sb, w->queue);
    strbuf_addc(sb, '"');
}

static void family(struct strbuf *sb, const char *name, const char *help)
{
    strbuf_addf(sb, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

enum prom_field {
    PF_UP,
    PF_MESSAGES,
    PF_CONSUMERS,
    PF_RATE,
    PF_AGE,
    PF_SAMPLED,
    PF_REPLAYED,
    PF_STATE
};

static bool prom_has(const struct dlq_status *s, enum prom_field f)
{
    bool ok = s->found && !s->error[0];

    switch (f) {
    case PF_UP:
        return true;
    case PF_MESSAGES:
    case PF_CONSUMERS:
        return ok;
    case PF_RATE:
        return ok && s->has_rate;
    case PF_AGE:
        return ok && s->has_age;
    case PF_SAMPLED:
    case PF_REPLAYED:
        return ok && !s->not_sampled;
    case PF_STATE:
        return s->state != DLQ_STATE_NONE;
    }
    return false;
}

static double prom_value(const struct dlq_status *s, enum prom_field f)
{
    switch (f) {
    case PF_UP:
        return s->found && !s->error[0];
    case PF_MESSAGES:
        return (double)s->messages;
    case PF_CONSUMERS:
        return s->consumers;
    case PF_RATE:
        return s->rate;
    case PF_AGE:
        return s->age;
    case PF_SAMPLED:
        return (double)s->sampled;
    case PF_REPLAYED:
        return (double)s->replayed;
    case PF_STATE:
        return s->state;
    }
    return 0;
}

void dlq_prometheus(const struct dlq_report *r, struct strbuf *out)
{
    static const struct {
        enum prom_field f;
        const char *name, *help;
    } fields[] = {
        {PF_UP, "rmqtopo_dlq_up", "Whether the dead-letter queue could be read (1) or not (0)."},
        {PF_MESSAGES, "rmqtopo_dlq_messages",
         "Messages ready in the dead-letter queue (exact: a passive queue.declare)."},
        {PF_CONSUMERS, "rmqtopo_dlq_consumers", "Consumers of the dead-letter queue."},
        {PF_RATE, "rmqtopo_dlq_growth_rate",
         "Growth of the dead-letter queue in messages per second over the sampling interval."},
        {PF_AGE, "rmqtopo_dlq_oldest_age_seconds",
         "Seconds since the oldest sampled message died (classic queues only)."},
        {PF_SAMPLED, "rmqtopo_dlq_sampled_messages",
         "Messages read from the head of the queue for age and reasons (classic queues only)."},
        {PF_REPLAYED, "rmqtopo_dlq_sampled_replayed_messages",
         "Sampled messages that died again after a replay (rmqtopo-replay-count >= 1)."},
        {PF_STATE, "rmqtopo_dlq_state",
         "State against the file's thresholds: 0 ok, 1 warning, 2 critical, 3 unknown."},
    };
    size_t f, k, j;
    bool any;

    for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        any = false;
        for (k = 0; k < r->n; k++) {
            const struct dlq_status *s = &r->v[k];
            if (!prom_has(s, fields[f].f))
                continue;
            if (!any)
                family(out, fields[f].name, fields[f].help);
            any = true;
            strbuf_adds(out, fields[f].name);
            add_prom_labels(out, s->w);
            strbuf_addf(out, "} %.17g\n", prom_value(s, fields[f].f));
        }
    }
    /* the guidance's dlq_messages_total{topic, error_type}: per (queue died in, reason) */
    any = false;
    for (k = 0; k < r->n; k++) {
        const struct dlq_status *s = &r->v[k];
        for (j = 0; j < s->n_reasons; j++) {
            if (!any)
                family(out, "rmqtopo_dlq_sampled_reason_messages",
                       "Sampled messages by the queue they died in and the reason.");
            any = true;
            strbuf_adds(out, "rmqtopo_dlq_sampled_reason_messages");
            add_prom_labels(out, s->w);
            strbuf_adds(out, ",died_in=\"");
            add_prom_value(out, s->reasons[j].queue);
            strbuf_adds(out, "\",reason=\"");
            add_prom_value(out, s->reasons[j].reason);
            strbuf_addf(out, "\"} %llu\n", (unsigned long long)s->reasons[j].count);
        }
    }
    family(out, "rmqtopo_dlq_last_run_timestamp_seconds",
           "When this measurement ended, in seconds since the epoch.");
    strbuf_addf(out, "rmqtopo_dlq_last_run_timestamp_seconds %.3f\n", r->now);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON */

static json_t *threshold_json(const struct rmqt_threshold *t)
{
    json_t *o;

    if (!t->has_warning && !t->has_critical)
        return json_null();
    o = json_object();
    /* the user's own values, not measurements: not rounded */
    json_object_set_new(o, "warning", t->has_warning ? json_real(t->warning) : json_null());
    json_object_set_new(o, "critical", t->has_critical ? json_real(t->critical) : json_null());
    return o;
}

static json_t *state_json(enum dlq_state s)
{
    return s == DLQ_STATE_NONE ? json_null() : json_string(dlq_state_name(s));
}

json_t *dlq_report_json(const struct dlq_report *r)
{
    json_t *doc = json_object(), *queues = json_array();
    size_t k, j;
    int m;
    char when[32];
    time_t t = (time_t)r->now;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (k = 0; k < r->n; k++) {
        const struct dlq_status *s = &r->v[k];
        json_t *q = json_object(), *th = json_object(), *st = json_object(), *rs = json_array();

        json_object_set_new(q, "vhost", json_string(s->w->vhost));
        json_object_set_new(q, "queue", json_string(s->w->queue));
        json_object_set_new(q, "dead_letter_queue", json_boolean(s->w->is_dlq));
        json_object_set_new(q, "found", json_boolean(s->found));
        json_object_set_new(q, "error", s->error[0] ? json_string(s->error) : json_null());
        json_object_set_new(q, "type", s->type[0] ? json_string(s->type) : json_null());
        json_object_set_new(q, "messages",
                            s->found ? json_integer((json_int_t)s->messages) : json_null());
        json_object_set_new(q, "consumers", s->found ? json_integer(s->consumers) : json_null());
        json_object_set_new(q, "rate_per_second",
                            s->has_rate ? rmqt_json_significant(s->rate, 3) : json_null());
        json_object_set_new(q, "oldest_age_seconds",
                            s->has_age ? json_real(floor(s->age)) : json_null());
        json_object_set_new(q, "sampled", json_integer((json_int_t)s->sampled));
        json_object_set_new(q, "not_sampled",
                            s->not_sampled ? json_string(s->not_sampled) : json_null());
        for (j = 0; j < s->n_reasons; j++) {
            json_t *o = json_object();
            json_object_set_new(o, "queue", json_string(s->reasons[j].queue));
            json_object_set_new(o, "reason", json_string(s->reasons[j].reason));
            json_object_set_new(o, "count", json_integer((json_int_t)s->reasons[j].count));
            json_array_append_new(rs, o);
        }
        json_object_set_new(q, "reasons", rs);
        json_object_set_new(q, "replayed", json_integer((json_int_t)s->replayed));
        for (m = 0; m < RMQT_METRIC_COUNT; m++) {
            json_object_set_new(th, rmqt_metric_name((enum rmqt_metric)m),
                                threshold_json(&s->w->th.t[m]));
            json_object_set_new(st, rmqt_metric_name((enum rmqt_metric)m),
                                state_json(s->metric[m]));
        }
        json_object_set_new(q, "thresholds", th);
        json_object_set_new(q, "state", state_json(s->state));
        json_object_set_new(q, "states", st);
        json_array_append_new(queues, q);
    }
    json_object_set_new(doc, "time", json_string(when));
    json_object_set_new(doc, "interval_seconds", rmqt_json_seconds(r->interval));
    json_object_set_new(doc, "sample", json_integer((json_int_t)r->sample));
    json_object_set_new(doc, "queues", queues);
    return doc;
}

/* ------------------------------------------------------------------------------------------ */
/* Prometheus alerting rules */

/* a YAML single-quoted scalar */
static void add_yq(struct strbuf *sb, const char *s)
{
    strbuf_addc(sb, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            strbuf_adds(sb, "''");
        else if (*s == '\n')
            strbuf_adds(sb, " ");
        else
            strbuf_addc(sb, *s);
    }
    strbuf_addc(sb, '\'');
}

static void add_selector(struct strbuf *sb, const char *metric, const struct rmqt_watch *w)
{
    strbuf_adds(sb, metric);
    add_prom_labels(sb, w);
    strbuf_addc(sb, '}');
}

static void add_rule(struct strbuf *out, const struct rmqt_watch *w, enum rmqt_metric m,
                     bool critical)
{
    static const char *const names[] = {"RmqtopoDeadLetterMessages", "RmqtopoDeadLetterAge",
                                        "RmqtopoDeadLetterGrowth"};
    const struct rmqt_threshold *t = &w->th.t[m];
    double v = critical ? t->critical : t->warning;
    struct strbuf expr, text;

    strbuf_init(&expr);
    strbuf_init(&text);
    strbuf_adds(&expr, "max by (vhost, queue) (");
    if (m == RMQT_METRIC_MESSAGES) {
        add_selector(&expr, "rabbitmq_detailed_queue_messages", w);
        strbuf_adds(&expr, " or ");
        add_selector(&expr, "rabbitmq_queue_messages", w);
    } else if (m == RMQT_METRIC_RATE) {
        strbuf_adds(&expr, "deriv(");
        add_selector(&expr, "rabbitmq_detailed_queue_messages", w);
        strbuf_adds(&expr, "[5m]) or deriv(");
        add_selector(&expr, "rabbitmq_queue_messages", w);
        strbuf_adds(&expr, "[5m])");
    } else {
        add_selector(&expr, "rmqtopo_dlq_oldest_age_seconds", w);
    }
    strbuf_addf(&expr, ") >= %.15g", v);
    /* the warning stops where the critical starts: one alert a queue at a time */
    if (!critical && t->has_critical)
        strbuf_addf(&expr, " < %.15g", t->critical);

    strbuf_addf(out, "      - alert: %s\n        expr: ", names[m]);
    add_yq(out, strbuf_str(&expr));
    strbuf_addf(out, "\n        labels:\n          severity: %s\n          vhost: ",
                critical ? "critical" : "warning");
    add_yq(out, w->vhost);
    strbuf_adds(out, "\n          queue: ");
    add_yq(out, w->queue);
    strbuf_adds(out, "\n        annotations:\n          summary: ");
    strbuf_addf(&text, "dead-letter queue %s/%s: ", w->vhost, w->queue);
    if (m == RMQT_METRIC_MESSAGES)
        strbuf_adds(&text, "{{ $value }} messages (");
    else if (m == RMQT_METRIC_AGE)
        strbuf_adds(&text, "oldest message died {{ $value | humanizeDuration }} ago (");
    else
        strbuf_adds(&text, "growing by {{ $value | humanize }} messages a second (");
    strbuf_addf(&text, "%s at ", critical ? "critical" : "warning");
    add_value(&text, m, v);
    strbuf_addc(&text, ')');
    add_yq(out, strbuf_str(&text));
    strbuf_reset(&text);
    strbuf_addf(&text, "rmqtopo dlq inspect %s --vhost %s", w->queue, w->vhost);
    strbuf_adds(out, "\n          runbook: ");
    add_yq(out, strbuf_str(&text));
    strbuf_adds(out, "\n          description: ");
    add_yq(out, "Inspect the failed messages, find the common failure, fix the consumer, "
                "replay them (rmqtopo dlq replay), and watch for recurrence.");
    strbuf_addc(out, '\n');
    strbuf_release(&expr);
    strbuf_release(&text);
}

void dlq_alert_rules(const struct rmqt_watchlist *wl, struct strbuf *out)
{
    size_t k;
    int m;
    bool any = false;

    strbuf_adds(out, "# Prometheus alerting rules generated by rmqtopo alerts from the file's "
                     "thresholds.\n"
                     "# messages and rate: rabbitmq_prometheus per-queue metrics (scrape "
                     "/metrics/detailed?family=queue_coarse_metrics,\n"
                     "# or /metrics/per-object); age: rmqtopo dlq status -o prometheus "
                     "(--textfile for node_exporter).\n"
                     "groups:\n  - name: rmqtopo-dead-letter-queues\n    rules:");
    for (k = 0; k < wl->n; k++) {
        const struct rmqt_watch *w = &wl->v[k];
        for (m = 0; m < RMQT_METRIC_COUNT; m++) {
            if (w->th.t[m].has_warning) {
                if (!any)
                    strbuf_addc(out, '\n');
                any = true;
                add_rule(out, w, (enum rmqt_metric)m, false);
            }
            if (w->th.t[m].has_critical) {
                if (!any)
                    strbuf_addc(out, '\n');
                any = true;
                add_rule(out, w, (enum rmqt_metric)m, true);
            }
        }
    }
    if (!any)
        strbuf_adds(out, " []\n");
}
