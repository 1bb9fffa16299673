/*
 * monitor.c - watching dead-letter queues: discovery, measurement, states and renderings
 * (monitor.h, which says what each queue type allows a read to cost).
 *
 * Decisions:
 * - Counts come from a passive queue.declare: exact now, where the management API's
 *   statistics lag by seconds (and on quorum queues even enable_queue_totals lags).
 * - The rate is measured, not read: 3.10 keeps no message_stats for a queue fed by
 *   dead-lettering, and rabbitmq_prometheus counts publishes per channel.
 * - A threshold is reached at or above its value; the Monitoring Plugins ranges are written
 *   so that they alert for exactly those values (dlq_range_format).
 * - A check's overall state is the worst of its queues, CRITICAL > WARNING > UNKNOWN > OK:
 *   a broken queue must not hide a critical one.
 */
#define _POSIX_C_SOURCE 200809L
#include "monitor.h"

#include "browse.h"
#include "death.h"
#include "pattern.h"
#include "queueinfo.h"
#include "replay.h"
#include "warn.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* states and ranges */

const char *dlq_state_name(enum dlq_state s)
{
    switch (s) {
    case DLQ_OK:
        return "OK";
    case DLQ_WARNING:
        return "WARNING";
    case DLQ_CRITICAL:
        return "CRITICAL";
    case DLQ_UNKNOWN:
        return "UNKNOWN";
    default:
        return "-";
    }
}

enum dlq_state dlq_threshold_state(const struct rmqt_threshold *t, double value)
{
    if (!t->has_warning && !t->has_critical)
        return DLQ_STATE_NONE;
    if (t->has_critical && value >= t->critical)
        return DLQ_CRITICAL;
    if (t->has_warning && value >= t->warning)
        return DLQ_WARNING;
    return DLQ_OK;
}

static int state_rank(enum dlq_state s)
{
    switch (s) {
    case DLQ_CRITICAL:
        return 4;
    case DLQ_WARNING:
        return 3;
    case DLQ_UNKNOWN:
        return 2;
    case DLQ_OK:
        return 1;
    default:
        return 0;
    }
}

enum dlq_state dlq_state_worse(enum dlq_state a, enum dlq_state b)
{
    return state_rank(a) >= state_rank(b) ? a : b;
}

void dlq_range_format(char *buf, size_t cap, double threshold, bool whole)
{
    if (whole && threshold >= 1 && threshold == floor(threshold) && threshold < 1e15)
        snprintf(buf, cap, "%.0f", threshold - 1);
    else
        snprintf(buf, cap, "@%.17g:", threshold);
}

static int parse_bound(const char *s, size_t len, double *out, bool *inf)
{
    char tmp[64];
    char *end;

    *inf = false;
    if (len == 0)
        return 1; /* absent */
    if (len == 1 && s[0] == '~') {
        *inf = true;
        return 0;
    }
    if (len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    *out = strtod(tmp, &end);
    if (*end || errno)
        return -1;
    return 0;
}

int dlq_range_alerts(const char *range, double value)
{
    bool inside = false, start_inf = false, end_inf = true, b;
    double start = 0, end = 0;
    const char *colon;
    int k;

    if (*range == '@') {
        inside = true;
        range++;
    }
    if (!*range)
        return -1;
    colon = strchr(range, ':');
    if (colon) {
        k = parse_bound(range, (size_t)(colon - range), &start, &start_inf);
        if (k < 0)
            return -1;
        if (k == 1)
            start = 0;
        k = parse_bound(colon + 1, strlen(colon + 1), &end, &b);
        if (k < 0 || b)
            return -1;
        end_inf = k == 1;
    } else {
        k = parse_bound(range, strlen(range), &end, &b);
        if (k != 0 || b)
            return -1;
        end_inf = false;
    }
    if (!start_inf && !end_inf && start > end)
        return -1;
    /* the range is start..end inclusive; alert outside it, or inside it with '@' */
    b = (start_inf || value >= start) && (end_inf || value <= end);
    return inside ? b : !b;
}

/* ------------------------------------------------------------------------------------------ */
/* reports */

static void status_release(struct dlq_status *s)
{
    size_t k;

    for (k = 0; k < s->n_reasons; k++) {
        free(s->reasons[k].queue);
        free(s->reasons[k].reason);
    }
    free(s->reasons);
}

void dlq_report_release(struct dlq_report *r)
{
    size_t k;

    if (!r)
        return;
    for (k = 0; k < r->n; k++)
        status_release(&r->v[k]);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

void dlq_status_judge(struct dlq_status *s)
{
    const struct rmqt_thresholds *th = &s->w->th;
    int m;

    s->state = DLQ_STATE_NONE;
    for (m = 0; m < RMQT_METRIC_COUNT; m++)
        s->metric[m] = DLQ_STATE_NONE;
    if (!s->found || s->error[0]) {
        s->state = DLQ_UNKNOWN;
        return;
    }
    s->metric[RMQT_METRIC_MESSAGES] =
        dlq_threshold_state(&th->t[RMQT_METRIC_MESSAGES], (double)s->messages);
    if (s->has_age)
        s->metric[RMQT_METRIC_AGE] = dlq_threshold_state(&th->t[RMQT_METRIC_AGE], s->age);
    else if (s->messages == 0 && rmqt_thresholds_any(th))
        s->metric[RMQT_METRIC_AGE] = dlq_threshold_state(&th->t[RMQT_METRIC_AGE], 0);
    if (s->has_rate)
        s->metric[RMQT_METRIC_RATE] = dlq_threshold_state(&th->t[RMQT_METRIC_RATE], s->rate);
    for (m = 0; m < RMQT_METRIC_COUNT; m++)
        if (s->metric[m] != DLQ_STATE_NONE)
            s->state = dlq_state_worse(s->state, s->metric[m]);
}

const char *dlq_status_unjudged(const struct dlq_status *s, enum rmqt_metric *metric)
{
    const struct rmqt_thresholds *th = &s->w->th;

    if (!s->found || s->error[0])
        return NULL;
    if ((th->t[RMQT_METRIC_AGE].has_warning || th->t[RMQT_METRIC_AGE].has_critical) &&
        s->metric[RMQT_METRIC_AGE] == DLQ_STATE_NONE) {
        *metric = RMQT_METRIC_AGE;
        return s->not_sampled ? s->not_sampled : "no sampled message carries its death time";
    }
    if ((th->t[RMQT_METRIC_RATE].has_warning || th->t[RMQT_METRIC_RATE].has_critical) &&
        !s->has_rate) {
        *metric = RMQT_METRIC_RATE;
        return "no interval to measure it over (--interval 0)";
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* discovery */

static int http_get_json(struct rmqt_http *http, const char *path, json_t **out,
                         struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    int rc = -1;

    rmqt_http_response_init(&resp);
    *out = NULL;
    if (rmqt_http_request(http, "GET", path, NULL, &resp, err) == 0) {
        *out = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
        if (json_is_array(*out))
            rc = 0;
        else
            rmqt_error_set(err, RMQT_ERR_HTTP, "GET %s: the management API sent no list", path);
    }
    rmqt_http_response_release(&resp);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static bool name_in(char **names, size_t n, const char *s)
{
    size_t k;

    for (k = 0; k < n; k++)
        if (strcmp(names[k], s) == 0)
            return true;
    return false;
}

static bool policy_applies(const char *apply_to, const char *type)
{
    if (!apply_to || strcmp(apply_to, "all") == 0 || strcmp(apply_to, "queues") == 0)
        return true;
    return (strcmp(apply_to, "classic_queues") == 0 && strcmp(type, "classic") == 0) ||
           (strcmp(apply_to, "quorum_queues") == 0 && strcmp(type, "quorum") == 0) ||
           (strcmp(apply_to, "streams") == 0 && strcmp(type, "stream") == 0);
}

/* The definition of the policy that applies to queue q (highest priority, as the broker
 * picks), or NULL. The queue list's effective_policy_definition is a statistic: absent with
 * disable_stats, and late for a new queue, so the policies are matched here. Borrowed. */
static json_t *policy_for(json_t *policies, regex_t *re, const bool *ok, json_t *q)
{
    const char *name = json_string_value(json_object_get(q, "name"));
    const char *type = json_string_value(json_object_get(q, "type"));
    json_t *best = NULL, *p;
    json_int_t best_prio = 0;
    size_t i;

    if (!name)
        return NULL;
    json_array_foreach(policies, i, p)
    {
        json_int_t prio = json_integer_value(json_object_get(p, "priority"));
        if (!ok[i] || !policy_applies(json_string_value(json_object_get(p, "apply-to")),
                                      type ? type : "classic"))
            continue;
        if (regexec(&re[i], name, 0, NULL, 0) != 0)
            continue;
        if (!best || prio > best_prio) {
            best = json_object_get(p, "definition");
            best_prio = prio;
        }
    }
    return json_is_object(best) ? best : NULL;
}

int dlq_discover(struct rmqt_http *http, const char *vhost, struct rmqt_watchlist *out,
                 struct rmqt_error *err)
{
    json_t *policies = NULL;
    regex_t *re = NULL;
    bool *re_ok = NULL;
    size_t n_pol = 0;
    struct strbuf path;
    json_t *queues = NULL, *bindings = NULL, *v;
    char **dlx = NULL, **found = NULL;
    size_t n_dlx = 0, cap_dlx = 0, n_found = 0, cap_found = 0, i;
    int rc = -1;

    strbuf_init(&path);
    strbuf_adds(&path, "/api/queues/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "?disable_stats=true&columns=name,type,arguments,effective_policy_"
                       "definition");
    if (http_get_json(http, strbuf_str(&path), &queues, err) < 0)
        goto out;
    strbuf_reset(&path);
    strbuf_adds(&path, "/api/policies/");
    rmqt_url_encode(&path, vhost);
    if (http_get_json(http, strbuf_str(&path), &policies, err) < 0)
        goto out;
    n_pol = json_array_size(policies);
    re = xcalloc(n_pol + 1, sizeof(*re));
    re_ok = xcalloc(n_pol + 1, sizeof(*re_ok));
    json_array_foreach(policies, i, v)
    {
        const char *pat = json_string_value(json_object_get(v, "pattern"));
        re_ok[i] = pat && rmqt_pattern_compile(pat, &re[i], NULL, 0) == 0;
    }
    /* the dead-letter exchanges named by an argument or a policy (the argument wins) */
    json_array_foreach(queues, i, v)
    {
        struct queue_info qi;
        const char *name = json_string_value(json_object_get(v, "name"));
        json_t *def = policy_for(policies, re, re_ok, v);

        if (def && !json_object_get(v, "effective_policy_definition"))
            json_object_set(v, "effective_policy_definition", def);
        memset(&qi, 0, sizeof(qi));
        queue_info_from_json(v, &qi);
        if (!name || !qi.has_dlx)
            continue;
        if (qi.dlx[0] == '\0') {
            /* the default exchange routes to the queue its routing key names */
            const char *target = qi.has_dlrk ? qi.dlrk : NULL;
            if (target && !name_in(found, n_found, target)) {
                XGROW(found, cap_found, n_found + 1);
                found[n_found++] = xstrdup(target);
            }
            continue;
        }
        if (!name_in(dlx, n_dlx, qi.dlx)) {
            XGROW(dlx, cap_dlx, n_dlx + 1);
            dlx[n_dlx++] = xstrdup(qi.dlx);
        }
    }
    if (n_dlx) {
        strbuf_reset(&path);
        strbuf_adds(&path, "/api/bindings/");
        rmqt_url_encode(&path, vhost);
        strbuf_adds(&path, "?columns=source,destination,destination_type");
        if (http_get_json(http, strbuf_str(&path), &bindings, err) < 0)
            goto out;
        json_array_foreach(bindings, i, v)
        {
            const char *src = json_string_value(json_object_get(v, "source"));
            const char *dst = json_string_value(json_object_get(v, "destination"));
            const char *dt = json_string_value(json_object_get(v, "destination_type"));

            if (!src || !dst || !dt || strcmp(dt, "queue") != 0 || !name_in(dlx, n_dlx, src) ||
                name_in(found, n_found, dst))
                continue;
            XGROW(found, cap_found, n_found + 1);
            found[n_found++] = xstrdup(dst);
        }
    }
    /* in the broker's order of queues (by name), only those that exist */
    json_array_foreach(queues, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *type = json_string_value(json_object_get(v, "type"));
        struct rmqt_watch *w;

        if (!name || !name_in(found, n_found, name))
            continue;
        w = rmqt_watchlist_add(out, vhost, name);
        w->is_dlq = true;
        if (type)
            snprintf(w->type, sizeof(w->type), "%s", type);
    }
    rc = 0;
out:
    for (i = 0; i < n_dlx; i++)
        free(dlx[i]);
    for (i = 0; i < n_found; i++)
        free(found[i]);
    free(dlx);
    free(found);
    for (i = 0; i < n_pol; i++)
        if (re_ok[i])
            regfree(&re[i]);
    free(re);
    free(re_ok);
    json_decref(policies);
    json_decref(queues);
    json_decref(bindings);
    strbuf_release(&path);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* measurement */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps seconds, in short steps so that a stop request ends it. */
static void nap(double seconds, const volatile sig_atomic_t *stop)
{
    double until = mono_s() + seconds;

    while (!(stop && *stop)) {
        double left = until - mono_s();
        struct timespec ts;

        if (left <= 0)
            break;
        if (left > 0.2)
            left = 0.2;
        ts.tv_sec = (time_t)left;
        ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
    }
}

struct sample_ctx {
    struct dlq_status *s;
    double now;
    bool has_oldest;
    uint64_t oldest; /* seconds since the epoch */
};

static bool bytes_eq(amqp_bytes_t b, const char *s, size_t len)
{
    return b.len == len && (len == 0 || memcmp(b.bytes, s, len) == 0);
}

static int sample_one(void *ctx, const amqp_envelope_t *env, struct rmqt_error *err)
{
    struct sample_ctx *c = ctx;
    struct dlq_status *s = c->s;
    const amqp_basic_properties_t *p = &env->message.properties;
    struct death d;
    int64_t replays = 0;
    size_t k;

    (void)err;
    s->sampled++;
    death_read(p, &d);
    if (d.present && d.has_time && (!c->has_oldest || d.time < c->oldest)) {
        c->has_oldest = true;
        c->oldest = d.time;
    }
    if ((p->_flags & AMQP_BASIC_HEADERS_FLAG) &&
        death_field_int(death_table_get(&p->headers, REPLAY_COUNT_HEADER), &replays) &&
        replays >= 1)
        s->replayed++;
    /* a message without death headers (published straight into the queue) is its own group */
    if (!d.present) {
        d.queue = rmqt_bytes("");
        d.reason = rmqt_bytes("(not dead-lettered)");
    }
    for (k = 0; k < s->n_reasons; k++)
        if (bytes_eq(d.queue, s->reasons[k].queue, strlen(s->reasons[k].queue)) &&
            bytes_eq(d.reason, s->reasons[k].reason, strlen(s->reasons[k].reason)))
            break;
    if (k == s->n_reasons) {
        if (k >= 64)
            return 0; /* bounded: the top reasons are among the first 64 kinds */
        s->reasons = xrealloc(s->reasons, (k + 1) * sizeof(*s->reasons));
        s->reasons[k].queue = xstrndup(d.queue.bytes, d.queue.len);
        s->reasons[k].reason = xstrndup(d.reason.bytes, d.reason.len);
        s->reasons[k].count = 0;
        s->n_reasons++;
    }
    s->reasons[k].count++;
    return 0;
}

static int reason_cmp(const void *a, const void *b)
{
    const struct dlq_reason *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(x->queue, y->queue);
    return c ? c : strcmp(x->reason, y->reason);
}

/* Reads the type of each queue of vhost (one request a vhost). */
static json_t *read_types(struct rmqt_http *http, const char *vhost, struct rmqt_error *err)
{
    struct strbuf path;
    json_t *queues = NULL;

    strbuf_init(&path);
    strbuf_adds(&path, "/api/queues/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "?disable_stats=true&columns=name,type");
    if (http_get_json(http, strbuf_str(&path), &queues, err) < 0)
        queues = NULL;
    strbuf_release(&path);
    return queues;
}

static void type_of(const json_t *types, const char *queue, char *out, size_t cap)
{
    size_t i;
    json_t *v;

    out[0] = '\0';
    json_array_foreach(types, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *t = json_string_value(json_object_get(v, "type"));
        if (name && t && strcmp(name, queue) == 0) {
            snprintf(out, cap, "%s", t);
            return;
        }
    }
}

static void measure_sample(struct rmqt_session *s, struct dlq_status *st,
                           const struct dlq_measure_options *o, double now)
{
    struct sample_ctx c;
    struct browse_stats bs;
    struct rmqt_error err;

    if (o->sample == 0) {
        st->not_sampled = "sampling off (--sample 0)";
        return;
    }
    if (strcmp(st->type, "quorum") == 0) {
        st->not_sampled = "quorum queue: not read, as every read raises x-delivery-count and "
                          "brings a message nearer its delivery limit";
        return;
    }
    if (strcmp(st->type, "stream") == 0) {
        st->not_sampled = "stream: not read";
        return;
    }
    if (strcmp(st->type, "classic") != 0) {
        st->not_sampled = "queue type unknown (management API unreadable): not read";
        return;
    }
    if (st->consumers > 0) {
        st->not_sampled = "the queue has consumers: a read would hold messages from them and "
                          "change the order they see";
        return;
    }
    if (st->messages == 0)
        return;
    memset(&c, 0, sizeof(c));
    c.s = st;
    c.now = now;
    rmqt_error_init(&err);
    if (browse_queue(s, st->w->queue, o->sample, sample_one, &c, o->stop, &bs, &err) < 0) {
        ops_warnf(o->warn, o->warn_ctx, "queue '%s': the sample could not be read: %s",
                  st->w->queue, err.message);
        st->not_sampled = "the sample could not be read";
        return;
    }
    if (c.has_oldest) {
        st->has_age = true;
        st->age = now - (double)c.oldest;
        if (st->age < 0)
            st->age = 0;
    }
    if (st->n_reasons > 1)
        qsort(st->reasons, st->n_reasons, sizeof(*st->reasons), reason_cmp);
}

static void set_error(struct dlq_status *st, const char *msg)
{
    size_t n = strlen(msg);

    if (n >= sizeof(st->error))
        n = sizeof(st->error) - 1;
    memmove(st->error, msg, n);
    st->error[n] = '\0';
}

#define SAMPLES_PER_SESSION 64
#define PIPELINE 128

/* Passive declares of the queues of st[0..n) (one vhost, session s), sent PIPELINE at a time
 * on a channel of their own before their replies are read: a thousand queues cost a few round
 * trips instead of a thousand. Fills messages and consumers and sets *done for each queue
 * counted. A missing queue makes the broker close the channel, and the declares behind it
 * are discarded: the caller counts the queues not done one by one (rmqt_session_queue_counts,
 * which names the error). Never fails: a problem only leaves queues not done. */
static void counts_pipelined(struct rmqt_session *s, struct dlq_status **st, size_t n, bool *done)
{
    amqp_connection_state_t conn = rmqt_session_conn(s);
    struct rmqt_error e;
    amqp_channel_t ch;
    size_t from, k;

    rmqt_error_init(&e);
    if (n < 2 || !(ch = rmqt_session_open_channel(s, &e)))
        return;
    for (from = 0; from < n; from += PIPELINE) {
        size_t to = from + PIPELINE < n ? from + PIPELINE : n;
        for (k = from; k < to; k++) {
            amqp_queue_declare_t d;
            memset(&d, 0, sizeof(d));
            d.queue = rmqt_bytes(st[k]->w->queue);
            d.passive = 1;
            d.arguments = amqp_empty_table;
            if (amqp_send_method(conn, ch, AMQP_QUEUE_DECLARE_METHOD, &d) != AMQP_STATUS_OK)
                return;
        }
        for (k = from; k < to; k++) {
            amqp_method_t m;
            amqp_queue_declare_ok_t *ok;

            if (amqp_simple_wait_method(conn, ch, AMQP_QUEUE_DECLARE_OK_METHOD, &m) !=
                AMQP_STATUS_OK) {
                /* most likely the channel.close of a missing queue: answer it, so the
                 * connection stays usable for the queues left */
                amqp_channel_close_ok_t cok = {0};
                amqp_send_method(conn, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &cok);
                return;
            }
            ok = m.decoded;
            st[k]->messages = ok->message_count;
            st[k]->consumers = ok->consumer_count;
            done[k] = true;
        }
        amqp_maybe_release_buffers_on_channel(conn, ch);
    }
    amqp_channel_close(conn, ch, AMQP_REPLY_SUCCESS);
    rmqt_session_check(s, ch, amqp_get_rpc_reply(conn), "close", &e);
}

/* Counts every found queue of wl's vhosts (pipelined, then one by one for what is left).
 * first: the counts are the first of the run (sets found), else the rate's second. */
static void count_all(struct rmqt_session **sessions, const struct rmqt_watchlist *wl,
                      struct dlq_report *r, bool first)
{
    struct dlq_status **batch = xcalloc(wl->n + 1, sizeof(*batch));
    bool *done = xcalloc(wl->n + 1, sizeof(*done));
    size_t k, j, n;

    for (k = 0; k < wl->n; k++) {
        struct rmqt_session *s = sessions[k];
        if (!s)
            continue; /* not the first queue of its vhost, or no session */
        n = 0;
        for (j = k; j < wl->n; j++)
            if (strcmp(wl->v[j].vhost, wl->v[k].vhost) == 0 && !r->v[j].error[0] &&
                (first || r->v[j].found))
                batch[n++] = &r->v[j];
        memset(done, 0, (n + 1) * sizeof(*done));
        counts_pipelined(s, batch, n, done);
        for (j = 0; j < n; j++) {
            struct dlq_status *st = batch[j];
            struct rmqt_error e;
            uint32_t ready = 0, consumers = 0;

            if (!done[j]) {
                rmqt_error_init(&e);
                if (rmqt_session_queue_counts(s, rmqt_session_channel(s), st->w->queue, &ready,
                                              &consumers, &e) < 0) {
                    if (e.code == RMQT_ERR_AMQP && e.detail == 404)
                        snprintf(st->error, sizeof(st->error), "queue '%s' not found in vhost '%s'",
                                 st->w->queue, st->w->vhost);
                    else
                        set_error(st, e.message);
                    st->found = first ? false : st->found;
                    continue;
                }
                st->messages = ready;
                st->consumers = consumers;
            }
            if (first)
                st->found = true;
        }
    }
    free(batch);
    free(done);
}

int dlq_measure(struct rmqt_http *http, const struct rmqt_session_config *cfg,
                const struct rmqt_watchlist *wl, const struct dlq_measure_options *o,
                struct dlq_report *r, struct rmqt_error *err)
{
    struct rmqt_session **sessions = NULL;
    uint32_t *first = NULL;
    double tf;
    size_t k, j;
    int rc = -1;
    bool any = false;
    struct rmqt_error first_err;

    memset(r, 0, sizeof(*r));
    rmqt_error_init(&first_err);
    r->v = xcalloc(wl->n + 1, sizeof(*r->v));
    r->n = wl->n;
    r->interval = o->interval;
    r->sample = o->sample;
    sessions = xcalloc(wl->n + 1, sizeof(*sessions));
    first = xcalloc(wl->n + 1, sizeof(*first));
    for (k = 0; k < wl->n; k++)
        r->v[k].w = &wl->v[k];

    /* one session per vhost, shared by its queues */
    for (k = 0; k < wl->n; k++) {
        struct rmqt_session_config c = *cfg;
        struct rmqt_error e;

        for (j = 0; j < k; j++)
            if (strcmp(wl->v[j].vhost, wl->v[k].vhost) == 0)
                break;
        if (j < k) {
            sessions[k] = NULL; /* shares sessions[j] */
            continue;
        }
        c.vhost = wl->v[k].vhost;
        c.name = "rmqtopo dlq status";
        rmqt_error_init(&e);
        sessions[k] = rmqt_session_open(&c, &e);
        if (!sessions[k]) {
            if (!first_err.message[0])
                first_err = e;
            set_error(&r->v[k], e.message);
        } else {
            any = true;
        }
    }
    if (!any && wl->n) {
        *err = first_err;
        goto out;
    }
    for (k = 0; k < wl->n; k++) {
        for (j = 0; j <= k; j++)
            if (strcmp(wl->v[j].vhost, wl->v[k].vhost) == 0)
                break;
        if (!sessions[j] && !r->v[k].error[0] && j != k)
            set_error(&r->v[k], r->v[j].error);
    }
    /* the rate's interval runs from the middle of the first counts to the middle of the
     * second: a thousand counts take a moment of their own */
    tf = mono_s();
    count_all(sessions, wl, r, true);
    tf = (tf + mono_s()) / 2;
    for (k = 0; k < wl->n; k++)
        first[k] = (uint32_t)r->v[k].messages;
    if (o->interval > 0) {
        double ts, dt;

        nap(o->interval, o->stop);
        ts = mono_s();
        count_all(sessions, wl, r, false);
        dt = (ts + mono_s()) / 2 - tf;
        for (k = 0; k < wl->n; k++) {
            struct dlq_status *st = &r->v[k];
            if (!st->found || st->error[0] || dt <= 0)
                continue;
            st->has_rate = true;
            st->rate = ((double)st->messages - (double)first[k]) / dt;
        }
    }
    r->now = now_s();
    /* the sample: per vhost, the queue types (read once unless discovery knew them: a
     * file's type is not trusted, the broker may differ), then each classic queue */
    for (k = 0; k < wl->n; k++) {
        json_t *types = NULL;
        bool need = false;
        size_t used = 0;

        if (!sessions[k])
            continue; /* not the first queue of its vhost, or no session */
        for (j = k; j < wl->n; j++)
            if (strcmp(wl->v[j].vhost, wl->v[k].vhost) == 0 && !wl->v[j].type[0])
                need = true;
        if (http && need && o->sample) {
            struct rmqt_error e;
            rmqt_error_init(&e);
            types = read_types(http, wl->v[k].vhost, &e);
            if (!types)
                ops_warnf(o->warn, o->warn_ctx,
                          "vhost '%s': queue types could not be read (%s): nothing is sampled",
                          wl->v[k].vhost, e.message);
        }
        for (j = k; j < wl->n; j++) {
            struct dlq_status *t = &r->v[j];
            if (strcmp(wl->v[j].vhost, wl->v[k].vhost) != 0 || !t->found || t->error[0])
                continue;
            if (wl->v[j].type[0])
                snprintf(t->type, sizeof(t->type), "%s", wl->v[j].type);
            else
                type_of(types, t->w->queue, t->type, sizeof(t->type));
            if (o->stop && *o->stop)
                continue;
            /* each read takes a channel of its own, and rabbitmq-c keeps a page (frame_max)
             * per channel until the connection closes: a fresh connection every
             * SAMPLES_PER_SESSION reads keeps memory flat and channel numbers low */
            if (o->sample && strcmp(t->type, "classic") == 0 && t->messages &&
                ++used > SAMPLES_PER_SESSION) {
                struct rmqt_session_config c = *cfg;
                struct rmqt_session *fresh;
                struct rmqt_error e;

                c.vhost = wl->v[k].vhost;
                c.name = "rmqtopo dlq status";
                rmqt_error_init(&e);
                fresh = rmqt_session_open(&c, &e);
                if (fresh) {
                    rmqt_session_close(sessions[k]);
                    sessions[k] = fresh;
                    used = 1;
                }
            }
            measure_sample(sessions[k], t, o, r->now);
        }
        json_decref(types);
    }
    rc = 0;
out:
    for (k = 0; k < wl->n; k++)
        rmqt_session_close(sessions[k]);
    free(sessions);
    free(first);
    for (k = 0; k < r->n; k++)
        dlq_status_judge(&r->v[k]);
    return rc;
}
