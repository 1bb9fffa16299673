/*
 * api.c - the JSON API of dlq serve (docs/dashboard.md): the overview (ops/monitor), a
 * queue's groups and messages read without taking them (ops/source, ops/inspect), and the
 * actions, which run as jobs (jobs.c). Field names are the CLI's.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include "death.h"
#include "inspect.h"
#include "monitor.h"
#include "msgdigest.h"
#include "msgjson.h"
#include "replay.h"
#include "source.h"
#include "strbuf.h"
#include "textutil.h"
#include "units.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_PREVIEW_MAX (64 * 1024) /* bytes of a body shown as text */
#define BODY_HEX_MAX 4096            /* bytes of a binary body shown as hex */
#define GROUPS_DEFAULT_READ 1000
#define READ_MAX 10000
#define MESSAGES_DEFAULT 100
#define MESSAGES_MAX 1000

static const char *const reasons[] = {"rejected", "expired", "maxlen", "delivery_limit", NULL};

/* --- helpers ------------------------------------------------------------------------------ */

struct rmqt_session *serve_session(struct serve *sv, const char *vhost, const char *name,
                                   struct rmqt_error *err)
{
    struct rmqt_session_config c = *sv->cfg->amqp;
    c.vhost = vhost;
    c.name = name;
    return rmqt_session_open(&c, err);
}

/* A name or id as a JSON string: bytes that are not UTF-8 become U+FFFD. */
static json_t *bytes_json(amqp_bytes_t b)
{
    struct strbuf sb = {0};
    const unsigned char *p = b.bytes;
    json_t *j = json_stringn(b.bytes ? b.bytes : "", b.len);
    size_t i;

    if (j)
        return j;
    for (i = 0; i < b.len; i++) {
        size_t n = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ? 3 : 4;
        if (p[i] != 0 && i + n <= b.len && rmqt_is_text(p + i, n)) {
            strbuf_add(&sb, p + i, n);
            i += n - 1;
        } else {
            strbuf_adds(&sb, "\xef\xbf\xbd");
        }
    }
    j = json_stringn(sb.buf ? sb.buf : "", sb.len);
    strbuf_release(&sb);
    return j ? j : json_string("");
}

static json_t *bytes_or_null(bool present, amqp_bytes_t b)
{
    return present ? bytes_json(b) : json_null();
}

static json_t *time_json(bool has, uint64_t t)
{
    char buf[40];
    time_t tt = (time_t)t;
    struct tm tm;
    if (!has)
        return json_null();
    if (t > (uint64_t)253402300799ULL || !gmtime_r(&tt, &tm))
        return json_integer((json_int_t)t);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *keys_json(const amqp_array_t *keys)
{
    json_t *a = json_array();
    int i;
    if (keys)
        for (i = 0; i < keys->num_entries; i++) {
            const amqp_field_value_t *k = &keys->entries[i];
            if (k->kind == AMQP_FIELD_KIND_UTF8 || k->kind == AMQP_FIELD_KIND_BYTES)
                json_array_append_new(a, bytes_json(k->value.bytes));
        }
    return a;
}

/* A bounded whole number from a query argument; -1 when malformed. */
static int arg_count(struct serve_request *rq, const char *name, uint64_t def, uint64_t max,
                     uint64_t *out, json_t **err)
{
    const char *s = rq->arg(rq->arg_ctx, name);
    char *end;
    unsigned long long v;

    *out = def;
    if (!s)
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-' || v == 0 || v > max) {
        *err = serve_error_json("%s takes a whole number from 1 to %llu", name,
                                (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Seconds from "90", "90s", "15m", "2h", "7d" (the CLI's --older-than); -1 when malformed. */
static int parse_older_than(const char *s, double *out)
{
    int64_t ms;
    const char *why;
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end != s && !*end && !errno && v >= 0) {
        *out = v;
        return 0;
    }
    if (units_parse_duration(s, &ms, &why) < 0 || ms < 0)
        return -1;
    *out = (double)ms / 1000.0;
    return 0;
}

static int check_reason(const char *s, char *why, size_t cap)
{
    size_t k;
    for (k = 0; reasons[k]; k++)
        if (strcmp(reasons[k], s) == 0)
            return 0;
    snprintf(why, cap, "reason takes rejected, expired, maxlen or delivery_limit");
    return -1;
}

int serve_opt_string(const json_t *body, const char *key, const char **out, char *why, size_t cap)
{
    const json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(why, cap, "%s takes a non-empty string", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int serve_filter_from_json(const json_t *body, struct replay_filter *f, char *why, size_t cap)
{
    const json_t *ids = json_object_get(body, "message_ids"), *v;
    const char *s;
    size_t k;

    if (serve_opt_string(body, "reason", &f->reason, why, cap) < 0 ||
        serve_opt_string(body, "from_queue", &f->from_queue, why, cap) < 0 ||
        serve_opt_string(body, "search", &f->search, why, cap) < 0)
        return -1;
    if (f->reason && check_reason(f->reason, why, cap) < 0)
        return -1;
    v = json_object_get(body, "older_than");
    if (json_is_number(v)) {
        f->older_than_s = json_number_value(v);
        f->has_older_than = f->older_than_s >= 0;
        if (!f->has_older_than) {
            snprintf(why, cap, "older_than takes a duration such as 90s, 15m, 2h or 7d");
            return -1;
        }
    } else if (v && !json_is_null(v)) {
        if (serve_opt_string(body, "older_than", &s, why, cap) < 0 ||
            parse_older_than(s, &f->older_than_s) < 0) {
            snprintf(why, cap, "older_than takes a duration such as 90s, 15m, 2h or 7d");
            return -1;
        }
        f->has_older_than = true;
    }
    if (ids && !json_is_null(ids)) {
        const char **list;
        if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > 10000) {
            snprintf(why, cap, "message_ids takes a list of 1 to 10000 message ids");
            return -1;
        }
        list = xcalloc(json_array_size(ids), sizeof(*list));
        json_array_foreach(ids, k, v)
        {
            if (!json_is_string(v)) {
                free(list);
                snprintf(why, cap, "message_ids takes a list of strings");
                return -1;
            }
            list[k] = json_string_value(v);
        }
        f->message_ids = list;
        f->n_message_ids = json_array_size(ids);
    }
    return 0;
}

/* The filters of a query string, as a JSON object (for serve_filter_from_json). */
static json_t *filter_args(struct serve_request *rq)
{
    static const char *const names[] = {"reason", "from_queue", "older_than", "search", NULL};
    json_t *j = json_object();
    size_t k;
    for (k = 0; names[k]; k++) {
        const char *v = rq->arg(rq->arg_ctx, names[k]);
        if (v && *v)
            json_object_set_new(j, names[k], json_string(v));
    }
    {
        const char *ids = rq->arg(rq->arg_ctx, "message_id");
        if (ids && *ids)
            json_object_set_new(j, "message_ids", json_pack("[s]", ids));
    }
    return j;
}

/* The status for an error of opening a queue: 404 when it does not exist. */
static int open_status(const struct rmqt_error *err)
{
    if (err->code == RMQT_ERR_AMQP && err->detail == 404)
        return 404;
    if (err->code == RMQT_ERR_INVALID || err->code == RMQT_ERR_USAGE)
        return 400;
    return 502;
}

/* The source's warnings; every read here gives the messages back, so a quorum queue's read
 * warning (what the read does to them) comes first. */
static json_t *warnings_json(const struct dlq_source *src)
{
    const struct ops_warnings *w = &src->warnings;
    json_t *a = json_array();
    size_t k;
    if (src->read_warning)
        json_array_append_new(a, bytes_json(rmqt_bytes(src->read_warning)));
    for (k = 0; k < w->n; k++)
        json_array_append_new(a, bytes_json(rmqt_bytes(w->v[k])));
    return a;
}

/* --- GET /api/dlqs ------------------------------------------------------------------------ */

/* The rate of each queue: its growth since the previous overview (at least a second ago). */
static void add_rates(struct serve *sv, struct dlq_report *r)
{
    double now = rmqt_now_s();
    size_t k, j;

    pthread_mutex_lock(&sv->mu);
    for (k = 0; k < r->n; k++) {
        struct dlq_status *s = &r->v[k];
        struct serve_depth *d = NULL;
        if (!s->found || s->error[0])
            continue;
        for (j = 0; j < sv->n_depths; j++)
            if (strcmp(sv->depths[j].vhost, s->w->vhost) == 0 &&
                strcmp(sv->depths[j].queue, s->w->queue) == 0)
                d = &sv->depths[j];
        if (!d) {
            XGROW(sv->depths, sv->cap_depths, sv->n_depths + 1);
            d = &sv->depths[sv->n_depths++];
            d->vhost = xstrdup(s->w->vhost);
            d->queue = xstrdup(s->w->queue);
            d->messages = s->messages;
            d->t = now;
            continue;
        }
        if (now - d->t < 1.0)
            continue; /* too short to tell */
        s->has_rate = true;
        s->rate = ((double)s->messages - (double)d->messages) / (now - d->t);
        d->messages = s->messages;
        d->t = now;
        dlq_status_judge(s);
    }
    pthread_mutex_unlock(&sv->mu);
}

static int get_dlqs(struct serve *sv, json_t **out)
{
    struct rmqt_watchlist wl = {0};
    struct dlq_measure_options mo;
    struct dlq_report r;
    struct rmqt_error err;
    struct rmqt_http *http;
    int status = 200;

    memset(&r, 0, sizeof(r));
    rmqt_error_init(&err);
    http = sv->cfg->http_new(sv->cfg->ctx, &err);
    if (!http) {
        *out = serve_error_json("%s", err.message);
        return 502;
    }
    if (sv->cfg->watchlist(sv->cfg->ctx, http, &wl, &err) < 0) {
        *out = serve_error_json("%s", err.message);
        status = 502;
        goto out;
    }
    memset(&mo, 0, sizeof(mo));
    mo.interval = 0;
    mo.sample = 100;
    mo.stop = sv->stop;
    if (dlq_measure(http, sv->cfg->amqp, &wl, &mo, &r, &err) < 0) {
        *out = serve_error_json("%s", err.message);
        status = 502;
        goto out;
    }
    add_rates(sv, &r);
    *out = dlq_report_json(&r);
    json_object_set_new(*out, "rate",
                        json_string("growth per second since the previous refresh of this page "
                                    "(null on the first)"));
out:
    dlq_report_release(&r);
    rmqt_watchlist_release(&wl);
    rmqt_http_free(http);
    return status;
}

/* --- a queue opened for reading ------------------------------------------------------------ */

struct opened {
    struct rmqt_http *http;
    struct rmqt_session *s;
    struct dlq_source src;
};

static int open_queue(struct serve *sv, const char *vhost, const char *queue, struct opened *o,
                      json_t **out)
{
    struct rmqt_error err;

    memset(o, 0, sizeof(*o));
    rmqt_error_init(&err);
    o->http = sv->cfg->http_new(sv->cfg->ctx, &err);
    if (!o->http) {
        *out = serve_error_json("%s", err.message);
        return 502;
    }
    o->s = serve_session(sv, vhost, "rmqtopo dlq serve (read)", &err);
    if (!o->s) {
        *out = serve_error_json("%s", err.message);
        return 502;
    }
    if (dlq_source_open(&o->src, o->http, o->s, queue, "shown", &err) < 0) {
        *out = serve_error_json("%s", err.message);
        json_object_set_new(*out, "warnings", warnings_json(&o->src));
        return open_status(&err);
    }
    return 0;
}

static void close_queue(struct opened *o)
{
    rmqt_session_close(o->s);
    dlq_source_release(&o->src);
    rmqt_http_free(o->http);
}

static void source_json(json_t *j, const char *vhost, const char *queue, const struct opened *o)
{
    json_object_set_new(j, "vhost", json_string(vhost));
    json_object_set_new(j, "queue", json_string(queue));
    json_object_set_new(j, "type", o->src.qi.found ? json_string(o->src.qi.type) : json_null());
    json_object_set_new(j, "consumers", json_integer(o->src.consumers));
    json_object_set_new(j, "delivery_limit",
                        o->src.delivery_limit >= 0 ? json_integer(o->src.delivery_limit)
                                                   : json_null());
}

/* --- the consent a read of a quorum queue needs (dlq_read_needs_consent) ------------------- */

/* read_quorum=1 (or true): the user's consent to read a quorum queue. -1 when malformed. */
static int arg_consent(struct serve_request *rq, bool *out, json_t **err)
{
    const char *s = rq->arg(rq->arg_ctx, "read_quorum");
    *out = false;
    if (!s || strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
        return 0;
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0) {
        *out = true;
        return 0;
    }
    *err = serve_error_json("read_quorum takes 1 (read a quorum queue anyway) or 0");
    return -1;
}

/* 409 and what a read would cost when a read of src needs consent and none was given
 * (nothing has been read); 0 otherwise. how: the way to give it. */
static int consent_refusal(const struct dlq_source *src, const char *vhost, const char *queue,
                           bool consent, const char *how, json_t **out)
{
    char *msg;
    if (consent || !dlq_read_needs_consent(src))
        return 0;
    msg = xasprintf("%s; nothing was read (%s reads it anyway)",
                    src->read_warning ? src->read_warning : "a read raises delivery counts", how);
    *out = json_object();
    json_object_set_new(*out, "error", bytes_json(rmqt_bytes(msg)));
    json_object_set_new(*out, "needs", json_string("read_quorum"));
    json_object_set_new(*out, "vhost", json_string(vhost));
    json_object_set_new(*out, "queue", json_string(queue));
    json_object_set_new(*out, "type", json_string(src->qi.type));
    json_object_set_new(*out, "delivery_limit",
                        src->delivery_limit >= 0 ? json_integer(src->delivery_limit) : json_null());
    json_object_set_new(*out, "messages", json_integer(src->ready));
    free(msg);
    return 409;
}

int serve_read_consent(struct serve *sv, const char *vhost, const char *queue, bool consent,
                       json_t **out)
{
    struct opened o;
    int status;

    if (consent)
        return 0;
    if (open_queue(sv, vhost, queue, &o, out) != 0) {
        /* the job opens the queue again and reports why it cannot */
        close_queue(&o);
        json_decref(*out);
        *out = NULL;
        return 0;
    }
    status = consent_refusal(&o.src, vhost, queue, false, "\"read_quorum\": true", out);
    close_queue(&o);
    return status;
}

/* --- GET /api/dlqs/{vhost}/{queue}/groups --------------------------------------------------- */

static int get_groups(struct serve *sv, struct serve_request *rq, const char *vhost,
                      const char *queue, json_t **out)
{
    struct inspect_result res;
    struct opened o;
    struct rmqt_error err;
    uint64_t limit;
    json_t *j, *groups, *warnings;
    char *w;
    size_t i;
    bool consent;
    int status;

    if (arg_count(rq, "limit", GROUPS_DEFAULT_READ, READ_MAX, &limit, out) < 0 ||
        arg_consent(rq, &consent, out) < 0)
        return 400;
    if ((status = open_queue(sv, vhost, queue, &o, out)) != 0 ||
        (status = consent_refusal(&o.src, vhost, queue, consent, "read_quorum=1", out)) != 0) {
        close_queue(&o);
        return status;
    }
    memset(&res, 0, sizeof(res));
    rmqt_error_init(&err);
    if (inspect_run(o.s, queue, limit, o.src.delivery_limit, NULL, NULL, sv->stop, &res, &err) <
        0) {
        *out = serve_error_json("%s", err.message);
        inspect_result_release(&res);
        close_queue(&o);
        return 502;
    }
    j = json_object();
    source_json(j, vhost, queue, &o);
    json_object_set_new(j, "snapshot", json_integer((json_int_t)res.st.snapshot));
    json_object_set_new(j, "read", json_integer((json_int_t)res.st.read));
    json_object_set_new(j, "limit", json_integer((json_int_t)limit));
    json_object_set_new(j, "max_delivery_count",
                        res.any_delivery_count ? json_integer(res.max_delivery_count)
                                               : json_null());
    json_object_set_new(j, "at_delivery_limit", json_integer((json_int_t)res.at_limit));
    warnings = warnings_json(&o.src);
    if ((w = inspect_delivery_count_warning(&res, o.src.delivery_limit)) != NULL)
        json_array_append_new(warnings, bytes_json(rmqt_bytes(w)));
    free(w);
    if ((w = dlq_at_limit_warning(queue, res.at_limit, o.src.delivery_limit)) != NULL)
        json_array_append_new(warnings, bytes_json(rmqt_bytes(w)));
    free(w);
    json_object_set_new(j, "warnings", warnings);
    groups = json_array();
    for (i = 0; i < res.n_groups; i++) {
        const struct inspect_group *g = &res.groups[i];
        json_array_append_new(
            groups, json_pack("{s:o,s:o,s:I,s:o,s:o}", "queue",
                              g->queue ? bytes_json(rmqt_bytes(g->queue)) : json_null(), "reason",
                              g->reason ? bytes_json(rmqt_bytes(g->reason)) : json_null(), "count",
                              (json_int_t)g->count, "first_death", time_json(g->has_time, g->first),
                              "last_death", time_json(g->has_time, g->last)));
    }
    json_object_set_new(j, "groups", groups);
    json_object_set_new(j, "ok", json_boolean(inspect_ok(&res, *sv->stop)));
    *out = j;
    inspect_result_release(&res);
    close_queue(&o);
    return 200;
}

/* --- GET /api/dlqs/{vhost}/{queue}/messages ------------------------------------------------- */

struct msg_read {
    struct replay_filter f;
    time_t now;
    uint64_t limit, seen, matched;
    volatile sig_atomic_t enough;
    json_t *messages;
    amqp_table_entry_t *scratch;
    size_t scratch_cap;
};

static json_t *x_death_json(const amqp_basic_properties_t *p)
{
    const amqp_field_value_t *xd;
    json_t *a = json_array();
    int i;

    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG) || !(xd = death_table_get(&p->headers, "x-death")) ||
        xd->kind != AMQP_FIELD_KIND_ARRAY)
        return a;
    for (i = 0; i < xd->value.array.num_entries; i++) {
        const amqp_field_value_t *e = &xd->value.array.entries[i], *v;
        json_t *o;
        int64_t n;
        if (e->kind != AMQP_FIELD_KIND_TABLE)
            continue;
        o = json_object();
        v = death_table_get(&e->value.table, "queue");
        json_object_set_new(
            o, "queue",
            v && (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES)
                ? bytes_json(v->value.bytes)
                : json_null());
        v = death_table_get(&e->value.table, "reason");
        json_object_set_new(
            o, "reason",
            v && (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES)
                ? bytes_json(v->value.bytes)
                : json_null());
        v = death_table_get(&e->value.table, "count");
        json_object_set_new(o, "count",
                            v && death_field_int(v, &n) ? json_integer(n) : json_null());
        v = death_table_get(&e->value.table, "time");
        json_object_set_new(o, "time",
                            v && v->kind == AMQP_FIELD_KIND_TIMESTAMP
                                ? time_json(true, v->value.u64)
                                : json_null());
        v = death_table_get(&e->value.table, "exchange");
        json_object_set_new(
            o, "exchange",
            v && (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES)
                ? bytes_json(v->value.bytes)
                : json_null());
        v = death_table_get(&e->value.table, "routing-keys");
        json_object_set_new(
            o, "routing_keys",
            keys_json(v && v->kind == AMQP_FIELD_KIND_ARRAY ? &v->value.array : NULL));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *body_json(amqp_bytes_t body)
{
    const unsigned char *b = body.bytes;
    size_t n = body.len < BODY_PREVIEW_MAX ? body.len : BODY_PREVIEW_MAX, k;
    json_t *j = json_object();

    while (n > 0 && n < body.len && (b[n] & 0xc0) == 0x80)
        n--; /* do not cut a character */
    if (rmqt_is_text(b, n)) {
        json_object_set_new(j, "encoding", json_string("text"));
        json_object_set_new(j, "text", json_stringn(n ? (const char *)b : "", n));
        json_object_set_new(j, "truncated", json_boolean(n < body.len));
    } else {
        struct strbuf sb = {0};
        n = body.len < BODY_HEX_MAX ? body.len : BODY_HEX_MAX;
        for (k = 0; k < n; k++)
            strbuf_addf(&sb, "%02x", b[k]);
        json_object_set_new(j, "encoding", json_string("binary"));
        json_object_set_new(j, "hex", json_string(sb.buf ? sb.buf : ""));
        json_object_set_new(j, "truncated", json_boolean(n < body.len));
        strbuf_release(&sb);
    }
    return j;
}

static void each_message(void *ctx, const struct inspect_message *m)
{
    struct msg_read *r = ctx;
    const amqp_basic_properties_t *p = &m->env->message.properties;
    const struct death *d = &m->death;
    amqp_basic_properties_t clean, bare;
    json_t *j;

    r->seen++;
    if (r->enough || !replay_selected_message(&r->f, p, d, r->now))
        return;
    rmqt_props_without_counters(p, &clean, &r->scratch, &r->scratch_cap);
    bare = clean;
    bare._flags &= ~AMQP_BASIC_HEADERS_FLAG;
    j = json_object();
    json_object_set_new(j, "position", json_integer((json_int_t)r->seen));
    json_object_set_new(j, "message_id",
                        bytes_or_null(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id));
    json_object_set_new(j, "queue", bytes_or_null(d->present, d->queue));
    json_object_set_new(j, "exchange", bytes_or_null(d->present, d->exchange));
    json_object_set_new(j, "routing_keys", keys_json(d->present ? d->routing_keys : NULL));
    json_object_set_new(j, "reason", bytes_or_null(d->present && d->reason.bytes, d->reason));
    json_object_set_new(j, "count", json_integer(d->count));
    json_object_set_new(j, "first_death", time_json(d->has_time, d->time));
    json_object_set_new(j, "delivery_exchange", bytes_json(m->env->exchange));
    json_object_set_new(j, "delivery_routing_key", bytes_json(m->env->routing_key));
    json_object_set_new(j, "redelivered", json_boolean(m->env->redelivered));
    json_object_set_new(j, "properties", rmqt_props_to_json(&bare));
    json_object_set_new(j, "headers",
                        clean._flags & AMQP_BASIC_HEADERS_FLAG ? rmqt_table_to_json(&clean.headers)
                                                               : json_object());
    json_object_set_new(j, "x_death", x_death_json(p));
    json_object_set_new(j, "body_size", json_integer((json_int_t)m->env->message.body.len));
    json_object_set_new(j, "body", body_json(m->env->message.body));
    if (m->has_delivery_count)
        json_object_set_new(j, "delivery_count", json_integer(m->delivery_count));
    json_array_append_new(r->messages, j);
    if (++r->matched >= r->limit)
        r->enough = 1; /* stop reading: enough to show */
}

static int get_messages(struct serve *sv, struct serve_request *rq, const char *vhost,
                        const char *queue, json_t **out)
{
    struct inspect_result res;
    struct msg_read r;
    struct opened o;
    struct rmqt_error err;
    uint64_t scan;
    json_t *fj, *j;
    char why[200];
    bool consent;
    int status;

    memset(&r, 0, sizeof(r));
    if (arg_count(rq, "limit", MESSAGES_DEFAULT, MESSAGES_MAX, &r.limit, out) < 0 ||
        arg_count(rq, "scan", GROUPS_DEFAULT_READ, READ_MAX, &scan, out) < 0 ||
        arg_consent(rq, &consent, out) < 0)
        return 400;
    fj = filter_args(rq);
    if (serve_filter_from_json(fj, &r.f, why, sizeof(why)) < 0) {
        json_decref(fj);
        *out = serve_error_json("%s", why);
        return 400;
    }
    if ((status = open_queue(sv, vhost, queue, &o, out)) != 0 ||
        (status = consent_refusal(&o.src, vhost, queue, consent, "read_quorum=1", out)) != 0) {
        close_queue(&o);
        free((void *)r.f.message_ids);
        json_decref(fj);
        return status;
    }
    r.now = time(NULL);
    r.messages = json_array();
    memset(&res, 0, sizeof(res));
    rmqt_error_init(&err);
    /* r.enough stops the read once limit messages matched; the read is bounded by scan */
    if (inspect_run(o.s, queue, scan, o.src.delivery_limit, each_message, &r, &r.enough, &res,
                    &err) < 0) {
        *out = serve_error_json("%s", err.message);
        status = 502;
    } else {
        json_t *warnings = warnings_json(&o.src);
        char *w;
        if ((w = inspect_delivery_count_warning(&res, o.src.delivery_limit)) != NULL)
            json_array_append_new(warnings, bytes_json(rmqt_bytes(w)));
        free(w);
        if ((w = dlq_at_limit_warning(queue, res.at_limit, o.src.delivery_limit)) != NULL)
            json_array_append_new(warnings, bytes_json(rmqt_bytes(w)));
        free(w);
        j = json_object();
        source_json(j, vhost, queue, &o);
        json_object_set_new(j, "snapshot", json_integer((json_int_t)res.st.snapshot));
        json_object_set_new(j, "read", json_integer((json_int_t)res.st.read));
        json_object_set_new(j, "matched", json_integer((json_int_t)r.matched));
        json_object_set_new(j, "more", json_boolean(r.enough && res.st.read < res.st.snapshot));
        json_object_set_new(j, "filters", json_incref(fj));
        json_object_set_new(j, "warnings", warnings);
        json_object_set_new(j, "messages", r.messages);
        r.messages = NULL;
        *out = j;
        status = 200;
    }
    json_decref(r.messages);
    free(r.scratch);
    free((void *)r.f.message_ids);
    json_decref(fj);
    inspect_result_release(&res);
    close_queue(&o);
    return status;
}

/* --- dispatch ------------------------------------------------------------------------------ */

static bool is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

int serve_api(struct serve *sv, struct serve_request *rq, json_t **out)
{
    bool get = is(rq->method, "GET");
    char **s = rq->seg;
    size_t n = rq->nseg;

    *out = NULL;
    if (n == 1 && is(s[0], "dlqs")) {
        if (!get)
            goto method;
        return get_dlqs(sv, out);
    }
    if (n == 4 && is(s[0], "dlqs")) {
        const char *vhost = s[1], *queue = s[2], *what = s[3];
        if (!vhost[0] || !queue[0]) {
            *out = serve_error_json("the vhost and the queue must not be empty");
            return 400;
        }
        if (is(what, "groups") || is(what, "messages")) {
            if (!get)
                goto method;
            return is(what, "groups") ? get_groups(sv, rq, vhost, queue, out)
                                      : get_messages(sv, rq, vhost, queue, out);
        }
        if (is(what, "replay") || is(what, "park") || is(what, "archive")) {
            json_t *body;
            json_error_t je;
            int status;
            if (get)
                goto method;
            body = rq->body_len ? json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je)
                                : json_object();
            if (!json_is_object(body)) {
                json_decref(body);
                *out = serve_error_json("the body must be a JSON object");
                return 400;
            }
            status = serve_job_start(sv,
                                     is(what, "replay") ? SERVE_REPLAY
                                     : is(what, "park") ? SERVE_PARK
                                                        : SERVE_ARCHIVE,
                                     vhost, queue, body, rq->remote, out);
            json_decref(body);
            return status;
        }
    }
    if (n == 1 && is(s[0], "jobs")) {
        if (!get)
            goto method;
        return serve_job_get(sv, NULL, out);
    }
    if (n == 2 && is(s[0], "jobs")) {
        if (!get)
            goto method;
        return serve_job_get(sv, s[1], out);
    }
    if (n == 3 && is(s[0], "jobs") && is(s[2], "cancel")) {
        if (get)
            goto method;
        return serve_job_cancel(sv, s[1], rq->remote, out);
    }
    *out = serve_error_json("not found");
    return 404;
method:
    *out = serve_error_json("method not allowed");
    return 405;
}
