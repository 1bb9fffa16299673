/*
 * apply.c - carry out a plan over AMQP (exchanges, queues, bindings) and HTTP (vhosts,
 * policies).
 *
 * Decisions:
 * - Speed comes from concurrency: the broker serves one channel in order (about 380 durable
 *   queue declarations a second here), but many connections in parallel (about 1,280 a second
 *   with 16). Each phase hands its steps to a pool of worker threads, each with its own
 *   connection (rabbitmq-c is single-threaded per connection); phases run one after another,
 *   so an object's own steps stay in order (an exchange exists before its bindings).
 * - A declare carries exactly the arguments the file states, typed as the broker compares
 *   them (integers as long, strings as longstr), and x-queue-type only when the file sets a
 *   type: a default the file does not state would make a re-declare differ (406).
 * - The first refusal stops the run: steps under way finish, no new step starts, and the
 *   result says what was applied, what failed with the broker's text, what was not attempted.
 * - A queue replaced while it holds messages is migrated through a holding queue named after
 *   it (a classic queue, so the order is kept): move out with the safe mover, delete,
 *   declare, bind, move back, delete the holding queue. Every step can be re-run after a
 *   crash: the holding queue's existence says where it stopped.
 * - Deleting a quorum queue with if-empty closes the whole connection (540 NOT_IMPLEMENTED):
 *   for quorum queues and streams "only if empty" is a passive declare then a delete, which is
 *   racy (a message published in between is lost with the queue); classic queues use if-empty.
 */
#define _POSIX_C_SOURCE 200809L
#include "apply.h"
#include "params.h"

#include "access.h"
#include "brokerver.h"
#include "mover.h"
#include "strbuf.h"
#include "xalloc.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONCURRENCY 16
#define MOVE_ROUNDS 3
#define HOLD_WAIT_S 60.0  /* default bound on waiting for messages held by other clients */
#define FRESH_WAIT_S 60.0 /* bound on waiting for statistics newer than an exact count */

struct run {
    const struct plan *p;
    const struct apply_options *o;
    struct apply_result *r;
    pthread_mutex_t lock;
    pthread_mutex_t http_lock; /* the management API client serves one request at a time */
    atomic_bool stop;
    /* the user has the impersonator tag (read once, at the first migration) */
    bool impersonate_read, may_impersonate;
};

/* The connections of one vhost: a main session per worker, and a second one for the safe
 * mover (it consumes on one connection and publishes on another). */
struct pool {
    struct run *run;
    struct rmqt_session_config cfg;
    struct rmqt_session **main, **aux;
    unsigned n;
};

struct phase {
    struct pool *pool;
    const size_t *idx;
    size_t n;
    atomic_size_t next;
};

struct worker {
    struct phase *ph;
    unsigned k;
};

void apply_result_init(struct apply_result *r)
{
    memset(r, 0, sizeof(*r));
}

void apply_result_release(struct apply_result *r)
{
    if (!r)
        return;
    free(r->steps);
    free(r->queues);
    memset(r, 0, sizeof(*r));
}

static void result_setup(struct apply_result *r, const struct plan *p)
{
    if (!r->steps)
        r->steps = xcalloc(p->n + 1, sizeof(*r->steps));
    if (!r->queues)
        r->queues = xcalloc(p->n + 1, sizeof(*r->queues));
}

static bool flag_or(const struct tflag *f, bool dflt)
{
    return f->set ? f->value : dflt;
}

/* ---- AMQP tables from typed values ------------------------------------------------------ */

static void to_field(amqp_pool_t *pool, const struct tval *v, amqp_field_value_t *f)
{
    size_t k;

    memset(f, 0, sizeof(*f));
    switch (v->kind) {
    case TV_NULL:
        f->kind = AMQP_FIELD_KIND_VOID;
        break;
    case TV_BOOL:
        f->kind = AMQP_FIELD_KIND_BOOLEAN;
        f->value.boolean = v->b;
        break;
    case TV_INT: /* the broker compares integer widths equal; long is what it sends back */
        f->kind = AMQP_FIELD_KIND_I64;
        f->value.i64 = v->i;
        break;
    case TV_DOUBLE:
        f->kind = AMQP_FIELD_KIND_F64;
        f->value.f64 = v->d;
        break;
    case TV_STRING:
        f->kind = AMQP_FIELD_KIND_UTF8;
        f->value.bytes.len = v->len;
        f->value.bytes.bytes = v->s;
        break;
    case TV_MAP:
        f->kind = AMQP_FIELD_KIND_TABLE;
        f->value.table.num_entries = (int)v->n;
        f->value.table.entries = amqp_pool_alloc(pool, (v->n + 1) * sizeof(amqp_table_entry_t));
        for (k = 0; k < v->n; k++) {
            f->value.table.entries[k].key = rmqt_bytes(v->entries[k].key);
            to_field(pool, &v->entries[k].val, &f->value.table.entries[k].value);
        }
        break;
    case TV_LIST:
        f->kind = AMQP_FIELD_KIND_ARRAY;
        f->value.array.num_entries = (int)v->n;
        f->value.array.entries = amqp_pool_alloc(pool, (v->n + 1) * sizeof(amqp_field_value_t));
        for (k = 0; k < v->n; k++)
            to_field(pool, &v->entries[k].val, &f->value.array.entries[k]);
        break;
    }
}

/* The arguments of a declare: the file's, plus x-queue-type when type is not NULL. Strings
 * are borrowed from args and type. */
static amqp_table_t args_table(amqp_pool_t *pool, const struct targs *args, const char *type)
{
    amqp_table_t t;
    size_t k, n = 0;

    t.entries = amqp_pool_alloc(pool, (args->n + 2) * sizeof(amqp_table_entry_t));
    for (k = 0; k < args->n; k++) {
        t.entries[n].key = rmqt_bytes(args->v[k].key);
        to_field(pool, &args->v[k].val, &t.entries[n].value);
        n++;
    }
    if (type) {
        t.entries[n].key = rmqt_bytes("x-queue-type");
        t.entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
        t.entries[n].value.value.bytes = rmqt_bytes(type);
        n++;
    }
    t.num_entries = (int)n;
    return t;
}

static amqp_table_t map_table(amqp_pool_t *pool, const struct tval *map)
{
    amqp_field_value_t f;

    if (map->kind != TV_MAP || map->n == 0)
        return amqp_empty_table;
    to_field(pool, map, &f);
    return f.value.table;
}

/* ---- single steps over AMQP ------------------------------------------------------------- */

/* Checks the reply of the last RPC: "VERB KIND 'NAME' in vhost 'V': the broker's reply". */
static int check(struct rmqt_session *s, const char *verb, const char *kind, const char *name,
                 struct rmqt_error *err)
{
    char what[700];
    snprintf(what, sizeof(what), "%s %s '%s' in vhost '%s'", verb, kind, name,
             rmqt_session_vhost(s));
    return rmqt_session_check(s, rmqt_session_channel(s), amqp_get_rpc_reply(rmqt_session_conn(s)),
                              what, err);
}

static int declare_exchange(struct rmqt_session *s, const struct exchange *x,
                            struct rmqt_error *err)
{
    amqp_pool_t pool;
    int rc;

    init_amqp_pool(&pool, 1024);
    amqp_exchange_declare(rmqt_session_conn(s), rmqt_session_channel(s), rmqt_bytes(x->name),
                          rmqt_bytes(x->type), 0, flag_or(&x->durable, true),
                          flag_or(&x->auto_delete, false), flag_or(&x->internal, false),
                          args_table(&pool, &x->args, NULL));
    rc = check(s, "declare", "exchange", x->name, err);
    empty_amqp_pool(&pool);
    return rc;
}

static int delete_exchange(struct rmqt_session *s, const char *name, struct rmqt_error *err)
{
    amqp_exchange_delete(rmqt_session_conn(s), rmqt_session_channel(s), rmqt_bytes(name), 0);
    return check(s, "delete", "exchange", name, err);
}

static int declare_queue(struct rmqt_session *s, const struct queue *q, struct rmqt_error *err)
{
    amqp_pool_t pool;
    int rc;

    init_amqp_pool(&pool, 1024);
    amqp_queue_declare(rmqt_session_conn(s), rmqt_session_channel(s), rmqt_bytes(q->name), 0,
                       flag_or(&q->durable, true), 0, flag_or(&q->auto_delete, false),
                       args_table(&pool, &q->args, q->type_set ? queue_type_name(q->type) : NULL));
    rc = check(s, "declare", "queue", q->name, err);
    empty_amqp_pool(&pool);
    return rc;
}

/* Deletes a queue; when only_if_empty, refuses (406 for classic queues, our own message for
 * the others) when it holds messages. */
static int delete_queue(struct rmqt_session *s, const char *name, enum queue_type type,
                        bool only_if_empty, struct rmqt_error *err)
{
    bool if_empty = only_if_empty && type == QT_CLASSIC;

    if (only_if_empty && type != QT_CLASSIC) {
        /* quorum queues and streams close the connection on if-empty: look, then delete */
        uint32_t messages = 0;
        if (rmqt_session_queue_counts(s, rmqt_session_channel(s), name, &messages, NULL, err) < 0)
            return -1;
        if (messages)
            return rmqt_error_set(err, RMQT_ERR_INVALID,
                                  "delete queue '%s' in vhost '%s': it holds %u messages now", name,
                                  rmqt_session_vhost(s), messages);
    }
    amqp_queue_delete(rmqt_session_conn(s), rmqt_session_channel(s), rmqt_bytes(name), 0, if_empty);
    return check(s, "delete", "queue", name, err);
}

static int bind_step(struct rmqt_session *s, const struct change *c, bool unbind,
                     struct rmqt_error *err)
{
    amqp_connection_state_t conn = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    amqp_bytes_t src = rmqt_bytes(c->source), dst = rmqt_bytes(c->destination),
                 rk = rmqt_bytes(c->routing_key);
    amqp_pool_t pool;
    amqp_table_t args;
    char what[900];
    int rc;

    init_amqp_pool(&pool, 1024);
    args = map_table(&pool, &c->args);
    if (c->dest_is_exchange && unbind)
        amqp_exchange_unbind(conn, ch, dst, src, rk, args);
    else if (c->dest_is_exchange)
        amqp_exchange_bind(conn, ch, dst, src, rk, args);
    else if (unbind)
        amqp_queue_unbind(conn, ch, dst, src, rk, args);
    else
        amqp_queue_bind(conn, ch, dst, src, rk, args);
    snprintf(what, sizeof(what), "%s exchange '%s' %s %s '%s' (routing key '%s') in vhost '%s'",
             unbind ? "unbind" : "bind", c->source, unbind ? "from" : "to",
             c->dest_is_exchange ? "exchange" : "queue", c->destination, c->routing_key,
             rmqt_session_vhost(s));
    rc = rmqt_session_check(s, ch, amqp_get_rpc_reply(conn), what, err);
    empty_amqp_pool(&pool);
    return rc;
}

/* ---- messages held by other clients (management API) ------------------------------------ */

/* A passive declare counts only ready messages, and queue.delete if-empty checks only those:
 * messages a client took (basic.get, or a consumer) and has not acknowledged are invisible to
 * both, and lost with the queue. Their count comes from the management API, whose statistics
 * lag: each queue emits them at most once per statistics interval, and only after activity.
 * So after an exact check, the statistics are read again until the queue's "reductions" (the
 * work its process did, part of every emission) changed twice, each time after a passive
 * declare that makes the queue emit again: the second change comes from an emission at least
 * one interval after the first, and the first was not yet visible when the check was done, so
 * the numbers read then were taken after the check. */

struct fresh {
    const char *name;
    bool done, missing, seen;
    long long reductions;
    int changes;
    uint64_t unacked, messages, bytes;
    bool has_bytes;
};

struct api {
    struct rmqt_http *http;
    pthread_mutex_t *lock; /* NULL: not shared */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static int api_get(const struct api *a, const char *path, json_t **doc, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    json_error_t jerr;
    int rc;

    *doc = NULL;
    if (!a->http)
        return rmqt_error_set(err, RMQT_ERR_INTERNAL, "no management API client");
    rmqt_http_response_init(&resp);
    if (a->lock)
        pthread_mutex_lock(a->lock);
    rc = rmqt_http_request(a->http, "GET", path, NULL, &resp, err);
    if (a->lock)
        pthread_mutex_unlock(a->lock);
    if (rc == 0) {
        *doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, &jerr);
        if (!*doc)
            rc = rmqt_error_set(err, RMQT_ERR_PARSE,
                                "the management API's answer to %s is not "
                                "JSON",
                                path);
    }
    rmqt_http_response_release(&resp);
    return rc;
}

static uint64_t jcount(const json_t *o, const char *key, bool *present)
{
    json_t *v = json_object_get(o, key);
    if (present)
        *present = json_is_integer(v);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* One queue object of the API into f: notes a change of its reductions. */
static void fresh_update(struct fresh *f, const json_t *o)
{
    json_t *red = json_object_get(o, "reductions");
    long long r;

    if (!json_is_integer(red))
        return;
    r = (long long)json_integer_value(red);
    if (f->seen && r != f->reductions)
        f->changes++;
    f->seen = true;
    f->reductions = r;
    f->unacked = jcount(o, "messages_unacknowledged", NULL);
    f->messages = jcount(o, "messages", NULL);
    f->bytes = jcount(o, "message_bytes", &f->has_bytes);
    if (f->changes >= 2)
        f->done = true;
}

#define FRESH_COLUMNS "name,reductions,messages,messages_unacknowledged,message_bytes"

/* Reads the statistics of f[0..n) (queues of vhost) once. */
static int fresh_read(const struct api *a, const char *vhost, struct fresh *f, size_t n,
                      struct rmqt_error *err)
{
    struct strbuf path = {0};
    json_t *doc = NULL, *o;
    size_t k, i;
    int rc = -1;

    if (n <= 8) { /* a few: one request each */
        for (k = 0; k < n; k++) {
            if (f[k].done)
                continue;
            strbuf_reset(&path);
            strbuf_adds(&path, "/api/queues/");
            rmqt_url_encode(&path, vhost);
            strbuf_addc(&path, '/');
            rmqt_url_encode(&path, f[k].name);
            strbuf_adds(&path, "?columns=" FRESH_COLUMNS);
            if (api_get(a, path.buf, &doc, err) < 0) {
                if (err->code == RMQT_ERR_HTTP && err->detail == 404)
                    continue; /* not (yet) known to the API */
                goto out;
            }
            fresh_update(&f[k], doc);
            json_decref(doc);
            doc = NULL;
        }
        rc = 0;
        goto out;
    }
    strbuf_adds(&path, "/api/queues/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "?columns=" FRESH_COLUMNS);
    if (api_get(a, path.buf, &doc, err) < 0)
        goto out;
    if (!json_is_array(doc)) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "the queue list of vhost '%s' is not a JSON list",
                       vhost);
        goto out;
    }
    json_array_foreach(doc, i, o)
    {
        json_t *nm = json_object_get(o, "name");
        if (!json_is_string(nm))
            continue;
        for (k = 0; k < n; k++)
            if (!f[k].done && strcmp(f[k].name, json_string_value(nm)) == 0)
                fresh_update(&f[k], o);
    }
    rc = 0;
out:
    json_decref(doc);
    strbuf_release(&path);
    return rc;
}

typedef void (*progress_fn)(void *ctx, const char *line);

/* Waits until the statistics of every queue f[0..n) of vhost were taken after now (see above),
 * poking each queue with a passive declare on s. A queue that no longer exists is done (and
 * missing). -1 with err set when the statistics do not refresh within FRESH_WAIT_S. */
static int fresh_stats(const struct api *a, struct rmqt_session *s, struct fresh *f, size_t n,
                       progress_fn progress, void *pctx, struct rmqt_error *err)
{
    const char *vhost = rmqt_session_vhost(s);
    double start = now_s(), said = start;
    /* many queues: each round pokes them all and lists the vhost; allow for that */
    double limit = FRESH_WAIT_S + (double)n / 100, pause = n > 8 ? 2 : 0.5;
    size_t k, left;

    if (fresh_read(a, vhost, f, n, err) < 0)
        return -1;
    for (;;) {
        left = 0;
        for (k = 0; k < n; k++) {
            struct rmqt_error e;
            if (f[k].done)
                continue;
            if (rmqt_session_queue_counts(s, rmqt_session_channel(s), f[k].name, NULL, NULL, &e) <
                0) {
                if (e.code == RMQT_ERR_AMQP && e.detail == 404) {
                    f[k].done = f[k].missing = true;
                    continue;
                }
                *err = e;
                return -1;
            }
            left++;
        }
        if (!left)
            return 0;
        if (now_s() - start > limit) {
            for (k = 0; k < n && f[k].done; k++)
                ;
            return rmqt_error_set(err, RMQT_ERR_INVALID,
                                  "the management API's statistics of queue '%s' in vhost '%s' "
                                  "did not refresh within %.0f s: apply cannot tell whether "
                                  "clients hold its messages unacknowledged",
                                  f[k].name, vhost, limit);
        }
        if (progress && now_s() - said >= 5) {
            char line[256];
            said = now_s();
            snprintf(line, sizeof(line),
                     "waiting for fresh statistics of %zu queue%s in vhost '%s' (to count "
                     "messages held unacknowledged)",
                     left, left == 1 ? "" : "s", vhost);
            progress(pctx, line);
        }
        sleep_s(pause);
        if (fresh_read(a, vhost, f, n, err) < 0)
            return -1;
    }
}

/* "connection 'NAME' (peer HOST:PORT)" for each client of vhost holding messages of queue:
 * its consumers, and channels holding messages unacknowledged (basic.get leaves no consumer:
 * the API does not say of which queue a channel holds messages). */
static void describe_holders(const struct api *a, const char *vhost, const char *queue,
                             struct strbuf *out)
{
    struct strbuf path = {0};
    struct rmqt_error err;
    json_t *doc = NULL, *o;
    size_t i, shown = 0;

    strbuf_adds(&path, "/api/consumers/");
    rmqt_url_encode(&path, vhost);
    if (api_get(a, path.buf, &doc, &err) == 0 && json_is_array(doc)) {
        json_array_foreach(doc, i, o)
        {
            json_t *q = json_object_get(json_object_get(o, "queue"), "name");
            json_t *cd = json_object_get(o, "channel_details");
            if (!json_is_string(q) || strcmp(json_string_value(q), queue) != 0)
                continue;
            strbuf_addf(out, "%sconsumer on connection '%s' (peer %s:%lld)", shown++ ? ", " : "",
                        json_string_value(json_object_get(cd, "connection_name"))
                            ? json_string_value(json_object_get(cd, "connection_name"))
                            : "?",
                        json_string_value(json_object_get(cd, "peer_host"))
                            ? json_string_value(json_object_get(cd, "peer_host"))
                            : "?",
                        (long long)json_integer_value(json_object_get(cd, "peer_port")));
        }
    }
    json_decref(doc);
    doc = NULL;
    strbuf_reset(&path);
    strbuf_adds(&path, "/api/vhosts/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "/channels?columns=name,messages_unacknowledged,connection_details");
    if (api_get(a, path.buf, &doc, &err) == 0 && json_is_array(doc)) {
        json_array_foreach(doc, i, o)
        {
            json_t *cd = json_object_get(o, "connection_details");
            uint64_t un = jcount(o, "messages_unacknowledged", NULL);
            if (!un)
                continue;
            strbuf_addf(out, "%s%llu unacknowledged on channel '%s' (peer %s:%lld)",
                        shown++ ? ", " : "", (unsigned long long)un,
                        json_string_value(json_object_get(o, "name"))
                            ? json_string_value(json_object_get(o, "name"))
                            : "?",
                        json_string_value(json_object_get(cd, "peer_host"))
                            ? json_string_value(json_object_get(cd, "peer_host"))
                            : "?",
                        (long long)json_integer_value(json_object_get(cd, "peer_port")));
        }
    }
    json_decref(doc);
    strbuf_release(&path);
    if (!shown)
        strbuf_adds(out, "clients the management API does not name yet");
}

/* ---- sessions --------------------------------------------------------------------------- */

static struct rmqt_session *pool_session(struct pool *pl, unsigned k, bool aux,
                                         struct rmqt_error *err)
{
    struct rmqt_session **slot = aux ? &pl->aux[k] : &pl->main[k];

    if (*slot && !rmqt_session_is_alive(*slot)) {
        rmqt_session_close(*slot);
        *slot = NULL;
    }
    if (!*slot)
        *slot = rmqt_session_open(&pl->cfg, err);
    return *slot;
}

static void pool_init(struct pool *pl, struct run *run, const char *vhost)
{
    memset(pl, 0, sizeof(*pl));
    pl->run = run;
    pl->cfg = *run->o->amqp;
    pl->cfg.vhost = vhost;
    pl->n = run->o->concurrency ? run->o->concurrency : DEFAULT_CONCURRENCY;
    pl->main = xcalloc(pl->n, sizeof(*pl->main));
    pl->aux = xcalloc(pl->n, sizeof(*pl->aux));
}

static void pool_release(struct pool *pl)
{
    unsigned k;
    for (k = 0; k < pl->n; k++) {
        rmqt_session_close(pl->main[k]);
        rmqt_session_close(pl->aux[k]);
    }
    free(pl->main);
    free(pl->aux);
}

/* ---- migration -------------------------------------------------------------------------- */

static void progress(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct run *run, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (!run->o->progress)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&run->lock);
    run->o->progress(run->o->progress_ctx, line);
    pthread_mutex_unlock(&run->lock);
}

struct move_watch {
    struct run *run;
    struct apply_move_progress p;
    uint64_t before; /* moved in earlier rounds */
    double t0;
};

/* The mover's progress callback: the direction's totals to o->move_progress. */
static void move_watch_cb(void *ctx, const struct rmqt_mover_stats *st)
{
    struct move_watch *w = ctx;

    w->p.moved = w->before + st->moved;
    w->p.total = w->before + st->snapshot;
    w->p.seconds = now_s() - w->t0;
    pthread_mutex_lock(&w->run->lock);
    w->run->o->move_progress(w->run->o->progress_ctx, &w->p);
    pthread_mutex_unlock(&w->run->lock);
}

/* Moves every message of queue from into queue to (through the default exchange), in rounds
 * until from is empty (producers may still publish into it). */
static int move_all(struct run *run, struct rmqt_session *src, struct rmqt_session *dst,
                    const char *from, const char *to, uint64_t *moved, struct rmqt_error *err)
{
    struct rmqt_mover_config mc;
    struct rmqt_mover_stats st;
    struct move_watch w;
    uint32_t left = 0;
    int round;

    memset(&mc, 0, sizeof(mc));
    mc.queue = from;
    mc.exchange = "";
    mc.routing_key = to;
    mc.stop_on_return = true;
    mc.stop = run->o->stop;
    memset(&w, 0, sizeof(w));
    w.run = run;
    w.p.vhost = rmqt_session_vhost(src);
    w.p.from = from;
    w.p.to = to;
    w.t0 = now_s();
    if (run->o->move_progress) {
        mc.progress = move_watch_cb;
        mc.progress_ctx = &w;
    }
    pthread_mutex_lock(&run->lock);
    if (!run->impersonate_read && run->o->http) {
        pthread_mutex_lock(&run->http_lock);
        run->may_impersonate = rmqt_user_may_impersonate(run->o->http);
        pthread_mutex_unlock(&run->http_lock);
        run->impersonate_read = true;
    }
    mc.may_impersonate = run->may_impersonate;
    pthread_mutex_unlock(&run->lock);
    for (round = 0; round < MOVE_ROUNDS; round++) {
        if (rmqt_mover_run(src, dst, &mc, &st, err) < 0)
            return -1;
        *moved += st.moved;
        w.before += st.moved;
        if (st.refused)
            return rmqt_error_set(err, RMQT_ERR_INVALID,
                                  "%llu message(s) of queue '%s' cannot be moved: the broker "
                                  "refuses them from user '%s' (a user_id property naming "
                                  "another user: give this user the impersonator tag); they "
                                  "stay in '%s'",
                                  (unsigned long long)st.refused, from, rmqt_session_user(dst),
                                  from);
        progress(run, "moved %llu messages from queue '%s' to '%s' in %.1f s",
                 (unsigned long long)st.moved, from, to, st.seconds);
        if (run->o->stop && *run->o->stop)
            return rmqt_error_set(err, RMQT_ERR_INVALID,
                                  "stopped while moving messages from queue '%s' to '%s' (a "
                                  "re-run finishes the migration)",
                                  from, to);
        if (rmqt_session_queue_counts(src, rmqt_session_channel(src), from, &left, NULL, err) < 0)
            return -1;
        if (left == 0)
            return 0;
    }
    return rmqt_error_set(err, RMQT_ERR_INVALID,
                          "queue '%s' still holds %u messages after %d rounds of moving (do "
                          "producers still publish into it?)",
                          from, left, MOVE_ROUNDS);
}

/* Whether queue name exists, with its ready messages and consumers (either may be NULL);
 * false and err set on an error other than 404 NOT_FOUND. */
static bool queue_exists(struct rmqt_session *s, const char *name, uint32_t *messages,
                         uint32_t *consumers, struct rmqt_error *err)
{
    struct rmqt_error ignore;
    if (rmqt_session_queue_counts(s, rmqt_session_channel(s), name, messages, consumers, &ignore) ==
        0)
        return true;
    if (ignore.code == RMQT_ERR_AMQP && ignore.detail == 404)
        return false;
    *err = ignore;
    return false;
}

/* Declares the holding queue of a migration: classic (it keeps the order), durable, with the
 * dead-letter settings of the queue it holds for, so a message that expires while it waits
 * goes where it would have gone. */
static int declare_holding(struct rmqt_session *s, const char *name, const struct queue *from,
                           struct rmqt_error *err)
{
    struct queue h;
    const struct targ *a;
    int rc;

    memset(&h, 0, sizeof(h));
    h.name = (char *)name;
    h.type = QT_CLASSIC;
    h.type_set = true;
    if (from) {
        if ((a = targs_get(&from->args, "x-dead-letter-exchange")) != NULL) {
            struct tval v;
            tval_copy(&v, &a->val);
            targs_add(&h.args, a->key, &v, a->pos, NULL);
        }
        if ((a = targs_get(&from->args, "x-dead-letter-routing-key")) != NULL) {
            struct tval v;
            tval_copy(&v, &a->val);
            targs_add(&h.args, a->key, &v, a->pos, NULL);
        }
    }
    rc = declare_queue(s, &h, err);
    targs_release(&h.args);
    return rc;
}

/* Creates the bindings the plan has for queue q (a replaced queue lost its bindings). */
static int bind_queue(struct run *run, struct rmqt_session *s, const struct change *qc,
                      struct rmqt_error *err)
{
    size_t k;
    for (k = 0; k < run->p->n; k++) {
        const struct change *c = &run->p->v[k];
        if (c->kind == CK_BINDING && c->action == CH_CREATE && !c->dest_is_exchange &&
            strcmp(c->vhost, qc->vhost) == 0 && strcmp(c->destination, qc->name) == 0 &&
            bind_step(s, c, false, err) < 0)
            return -1;
    }
    return 0;
}

/* After the move back: with no consumer to take them, the queue must hold at least what was
 * moved in; fewer means its new limits (max-length, max-length-bytes) dropped or
 * dead-lettered some. That must not pass as a success. */
static int check_moved_back(struct rmqt_session *s, const char *queue, uint64_t moved,
                            struct rmqt_error *err)
{
    uint32_t ready = 0, consumers = 0;

    if (rmqt_session_queue_counts(s, rmqt_session_channel(s), queue, &ready, &consumers, err) < 0)
        return -1;
    if (consumers == 0 && ready < moved)
        return rmqt_error_set(err, RMQT_ERR_INVALID,
                              "queue '%s' holds %u messages after %llu were moved back into it: "
                              "its new limits dropped or dead-lettered %llu",
                              queue, ready, (unsigned long long)moved,
                              (unsigned long long)(moved - ready));
    return 0;
}

/* Before queue (of type) is deleted: waits until nobody holds its messages. Messages ready in
 * it (returned by a client, or published meanwhile) are moved to move_to (counted in *moved);
 * messages other clients hold unacknowledged are waited for, up to the hold timeout, with
 * progress, then the queue is left as it is and the error names who holds them. */
static int wait_unheld(struct run *run, struct rmqt_session *s, struct rmqt_session *aux,
                       const char *queue, const char *move_to, uint64_t *moved,
                       struct rmqt_error *err)
{
    struct api a = {run->o->http, &run->http_lock};
    double limit = run->o->hold_timeout_s > 0 ? run->o->hold_timeout_s : HOLD_WAIT_S;
    double start = now_s();

    for (;;) {
        struct fresh f;
        uint32_t ready = 0, consumers = 0;

        if (rmqt_session_queue_counts(s, rmqt_session_channel(s), queue, &ready, &consumers, err) <
            0)
            return -1;
        if (ready) {
            if (move_all(run, aux, s, queue, move_to, moved, err) < 0)
                return -1;
            continue;
        }
        memset(&f, 0, sizeof(f));
        f.name = queue;
        if (fresh_stats(&a, s, &f, 1, run->o->progress, run->o->progress_ctx, err) < 0)
            return -1;
        if (f.missing)
            return rmqt_error_set(err, RMQT_ERR_INVALID,
                                  "queue '%s' in vhost '%s' was deleted by someone else during "
                                  "the migration",
                                  queue, rmqt_session_vhost(s));
        if (!f.unacked) {
            /* returned meanwhile? the exact count says */
            if (rmqt_session_queue_counts(s, rmqt_session_channel(s), queue, &ready, NULL, err) < 0)
                return -1;
            if (!ready)
                return 0;
            continue;
        }
        {
            struct strbuf who = {0};
            bool give_up = now_s() - start >= limit;
            describe_holders(&a, rmqt_session_vhost(s), queue, &who);
            if (give_up) {
                rmqt_error_set(err, RMQT_ERR_INVALID,
                               "queue '%s' in vhost '%s': %llu of its messages are held "
                               "unacknowledged by other clients (%s) after waiting %.0f s; the "
                               "queue is left as it is, nothing lost: a re-run continues once "
                               "they are acknowledged or returned",
                               queue, rmqt_session_vhost(s), (unsigned long long)f.unacked,
                               strbuf_str(&who), limit);
                strbuf_release(&who);
                return -1;
            }
            progress(run,
                     "queue '%s' in vhost '%s': waiting for %llu messages held unacknowledged by "
                     "%s (%.0f s more at most)",
                     queue, rmqt_session_vhost(s), (unsigned long long)f.unacked, strbuf_str(&who),
                     limit - (now_s() - start));
            strbuf_release(&who);
        }
        sleep_s(1);
    }
}

/* Deletes queue once nobody holds its messages (wait_unheld), only if empty. A classic
 * queue's delete if-empty that finds messages again (returned just after the check) goes
 * back to moving them, a few times. */
static int wait_until_deleted(struct run *run, struct rmqt_session *s, struct rmqt_session *aux,
                              const char *queue, enum queue_type type, const char *move_to,
                              uint64_t *moved, struct rmqt_error *err)
{
    int tries;

    for (tries = 0;; tries++) {
        if (wait_unheld(run, s, aux, queue, move_to, moved, err) < 0)
            return -1;
        if (delete_queue(s, queue, type, true, err) == 0)
            return 0;
        /* 406 from a classic queue's if-empty, or our own count of another type's */
        if (tries == MOVE_ROUNDS || !((err->code == RMQT_ERR_AMQP && err->detail == 406) ||
                                      (type != QT_CLASSIC && err->code == RMQT_ERR_INVALID)))
            return -1;
    }
}

/* A queue replace that keeps the messages, or the rest of one that was interrupted.
 * Accounting: what went into the holding queue (what it held when this run started plus what
 * this run moved into it) = what was moved back + what other clients took from it and
 * acknowledged; the holding queue is deleted only when it is empty and nobody holds any of
 * its messages, so nothing is unaccounted for. */
static int migrate_queue(struct run *run, struct pool *pl, unsigned k, const struct change *c,
                         struct rmqt_error *err)
{
    struct rmqt_session *s = pool_session(pl, k, false, err), *aux;
    char *hname = holding_queue_name(c->name);
    uint32_t qmsgs = 0, hmsgs = 0;
    bool q_exists, h_exists;
    uint64_t moved = 0, into = 0;
    int rc = -1;

    if (!s || !(aux = pool_session(pl, k, true, err)))
        goto out;
    err->code = RMQT_OK;
    q_exists = queue_exists(s, c->name, &qmsgs, NULL, err);
    h_exists = queue_exists(s, hname, &hmsgs, NULL, err);
    if (err->code != RMQT_OK)
        goto out;
    into = h_exists ? hmsgs : 0;
    if (c->action == CH_REPLACE && q_exists) {
        if (c->live_queue && c->live_queue->type == QT_STREAM && qmsgs) {
            rmqt_error_set(err, RMQT_ERR_INVALID,
                           "queue '%s' is a stream holding messages: they cannot be migrated",
                           c->name);
            goto out;
        }
        if (!h_exists && declare_holding(s, hname, c->live_queue, err) < 0)
            goto out;
        h_exists = true;
        if (qmsgs) {
            progress(run, "migrating queue '%s' in vhost '%s': %u messages to '%s'", c->name,
                     c->vhost, qmsgs, hname);
            if (move_all(run, aux, s, c->name, hname, &moved, err) < 0)
                goto out;
        }
        /* nobody may hold its messages when it goes: what they return is moved too */
        if (wait_until_deleted(run, s, aux, c->name,
                               c->live_queue ? c->live_queue->type : QT_CLASSIC, hname, &moved,
                               err) < 0)
            goto out;
        into += moved;
    }
    if (declare_queue(s, c->want_queue, err) < 0 || bind_queue(run, s, c, err) < 0)
        goto out;
    if (h_exists) {
        moved = 0;
        if (move_all(run, aux, s, hname, c->name, &moved, err) < 0)
            goto out;
        if (check_moved_back(s, c->name, moved, err) < 0)
            goto out;
        if (wait_until_deleted(run, s, aux, hname, QT_CLASSIC, c->name, &moved, err) < 0)
            goto out;
        pthread_mutex_lock(&run->lock);
        run->r->migrated += moved;
        if (into > moved)
            run->r->taken += into - moved;
        pthread_mutex_unlock(&run->lock);
        progress(run, "migrated queue '%s' in vhost '%s': %llu messages back", c->name, c->vhost,
                 (unsigned long long)moved);
    }
    rc = 0;
out:
    free(hname);
    return rc;
}

/* ---- one change ------------------------------------------------------------------------- */

static bool needs_migration(const struct run *run, const struct change *c)
{
    const struct apply_queue_state *q = &run->r->queues[c - run->p->v];
    if (c->kind != CK_QUEUE || c->action == CH_DELETE || c->action == CH_UNMANAGED)
        return false;
    /* a stream's messages cannot be moved: replacing it (--force) deletes them */
    if (c->live_queue && c->live_queue->type == QT_STREAM && !c->holding_queue &&
        !q->holding_exists)
        return false;
    return c->holding_queue || q->holding_exists ||
           (c->action == CH_REPLACE && (q->messages || q->unacked));
}

static int amqp_step(struct run *run, struct pool *pl, unsigned k, const struct change *c,
                     struct rmqt_error *err)
{
    struct rmqt_session *s;

    if (needs_migration(run, c))
        return migrate_queue(run, pl, k, c, err);
    if (!(s = pool_session(pl, k, false, err)))
        return -1;
    switch (c->kind) {
    case CK_EXCHANGE:
        if (c->action == CH_DELETE)
            return delete_exchange(s, c->name, err);
        if (c->action == CH_REPLACE && delete_exchange(s, c->name, err) < 0)
            return -1;
        return declare_exchange(s, c->want_exchange, err);
    case CK_QUEUE:
        if (c->action == CH_DELETE)
            return delete_queue(s, c->name, c->live_queue ? c->live_queue->type : QT_CLASSIC,
                                !run->o->force, err);
        if (c->action == CH_REPLACE &&
            delete_queue(s, c->name, c->live_queue ? c->live_queue->type : QT_CLASSIC, true, err) <
                0) {
            /* messages arrived (or were returned) since the check: migrate them, when that
             * was consented to */
            if (run->o->allow_replace && ((err->code == RMQT_ERR_AMQP && err->detail == 406) ||
                                          err->code == RMQT_ERR_INVALID))
                return migrate_queue(run, pl, k, c, err);
            return -1;
        }
        return declare_queue(s, c->want_queue, err);
    case CK_BINDING:
        return bind_step(s, c, c->action == CH_DELETE, err);
    default:
        return rmqt_error_set(err, RMQT_ERR_INTERNAL, "not an AMQP change");
    }
}

static void record(struct run *run, size_t i, int rc, const struct rmqt_error *err)
{
    pthread_mutex_lock(&run->lock);
    run->r->steps[i] = rc == 0 ? STEP_DONE : STEP_FAILED;
    if (rc < 0) {
        if (!run->r->failed++) {
            run->r->failed_index = i;
            snprintf(run->r->failure, sizeof(run->r->failure), "%s", err->message);
        }
        atomic_store(&run->stop, true);
    }
    pthread_mutex_unlock(&run->lock);
}

static bool stopping(struct run *run)
{
    if (run->o->stop && *run->o->stop)
        atomic_store(&run->stop, true);
    return atomic_load(&run->stop);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct phase *ph = w->ph;
    struct run *run = ph->pool->run;

    for (;;) {
        size_t i = atomic_fetch_add(&ph->next, 1);
        struct rmqt_error err;
        int rc;

        if (i >= ph->n || stopping(run))
            break;
        rmqt_error_init(&err);
        rc = amqp_step(run, ph->pool, w->k, &run->p->v[ph->idx[i]], &err);
        record(run, ph->idx[i], rc, &err);
    }
    return NULL;
}

/* Runs the AMQP steps idx[0..n) with up to pool->n workers. */
static void run_phase(struct pool *pl, const size_t *idx, size_t n)
{
    struct phase ph;
    struct worker *ws;
    pthread_t *tids;
    unsigned k, nw = n < pl->n ? (unsigned)n : pl->n;

    if (n == 0 || stopping(pl->run))
        return;
    memset(&ph, 0, sizeof(ph));
    ph.pool = pl;
    ph.idx = idx;
    ph.n = n;
    atomic_init(&ph.next, 0);
    if (nw == 1) {
        struct worker w = {&ph, 0};
        worker_main(&w);
        return;
    }
    ws = xcalloc(nw, sizeof(*ws));
    tids = xcalloc(nw, sizeof(*tids));
    for (k = 0; k < nw; k++) {
        ws[k].ph = &ph;
        ws[k].k = k;
        if (pthread_create(&tids[k], NULL, worker_main, &ws[k]) != 0) {
            worker_main(&ws[k]); /* no thread: do the work here */
            tids[k] = 0;
        }
    }
    for (k = 0; k < nw; k++)
        if (tids[k])
            pthread_join(tids[k], NULL);
    free(ws);
    free(tids);
}

/* ---- HTTP steps ------------------------------------------------------------------------- */

static int http_step(struct run *run, const struct change *c, struct rmqt_error *err)
{
    struct strbuf path = {0};
    struct rmqt_http_response resp;
    char *body = NULL;
    const char *method = "PUT";
    int rc;

    if (access_owns_change(c))
        return access_apply_change(run->o->http, c, err);
    if (params_is_kind(c->kind)) /* operator policies, shovels, upstreams (params.h) */
        return params_apply_change(run->o->http, c, err);
    if (c->kind == CK_VHOST) {
        strbuf_adds(&path, "/api/vhosts/");
        rmqt_url_encode(&path, c->name);
        body = xstrdup("{}");
    } else {
        const struct policy *pol = c->want_policy;
        strbuf_adds(&path, "/api/policies/");
        rmqt_url_encode(&path, c->vhost);
        strbuf_addc(&path, '/');
        rmqt_url_encode(&path, c->name);
        if (c->action == CH_DELETE) {
            method = "DELETE";
        } else {
            json_t *j = json_object();
            json_object_set_new(j, "pattern", json_string(pol->pattern));
            json_object_set_new(j, "definition", tval_to_json(&pol->definition));
            json_object_set_new(j, "priority", json_integer((json_int_t)pol->priority));
            if (pol->apply_to_set)
                json_object_set_new(j, "apply-to", json_string(pol->apply_to));
            body = json_dumps(j, JSON_COMPACT);
            json_decref(j);
        }
    }
    rmqt_http_response_init(&resp);
    rc = rmqt_http_request(run->o->http, method, strbuf_str(&path), body, &resp, err);
    if (rc < 0) {
        struct strbuf msg = {0};
        strbuf_addf(&msg, "%s %s '%s'",
                    c->action == CH_DELETE   ? "delete"
                    : c->action == CH_CREATE ? "create"
                                             : "update",
                    change_kind_name(c->kind), c->name);
        if (c->kind == CK_POLICY)
            strbuf_addf(&msg, " in vhost '%s'", c->vhost);
        strbuf_addf(&msg, ": %s", err->message);
        snprintf(err->message, sizeof(err->message), "%s", strbuf_str(&msg));
        strbuf_release(&msg);
    }
    rmqt_http_response_release(&resp);
    strbuf_release(&path);
    free(body);
    return rc;
}

static void run_http(struct run *run, const size_t *idx, size_t n)
{
    size_t k;
    for (k = 0; k < n && !stopping(run); k++) {
        struct rmqt_error err;
        rmqt_error_init(&err);
        record(run, idx[k], http_step(run, &run->p->v[idx[k]], &err), &err);
    }
}

/* ---- the whole plan --------------------------------------------------------------------- */

enum phase_id {
    PH_VHOSTS,
    PH_EXCHANGES,
    PH_QUEUES,
    PH_BINDINGS,
    PH_POLICIES,
    PH_DEL_BINDINGS,
    PH_DEL_POLICIES,
    PH_DEL_QUEUES,
    PH_DEL_EXCHANGES,
    PH_ACCESS, /* users, permissions, topic permissions (users come in groups of their own) */
    PH_COUNT
};

static int phase_of(const struct change *c)
{
    bool del = c->action == CH_DELETE;
    if (c->action == CH_UNMANAGED)
        return c->kind == CK_BINDING && c->rebind ? PH_BINDINGS : -1;
    switch (c->kind) {
    case CK_VHOST:
        return del ? -1 : PH_VHOSTS;
    case CK_EXCHANGE:
        return del ? PH_DEL_EXCHANGES : PH_EXCHANGES;
    case CK_QUEUE:
        return del ? PH_DEL_QUEUES : PH_QUEUES;
    case CK_BINDING:
        return del ? PH_DEL_BINDINGS : PH_BINDINGS;
    case CK_POLICY:
    case CK_OPERATOR_POLICY:
    case CK_SHOVEL:
    case CK_FEDERATION_UPSTREAM:
        return del ? PH_DEL_POLICIES : PH_POLICIES;
    case CK_USER:
    case CK_PERMISSION:
    case CK_TOPIC_PERMISSION:
        return PH_ACCESS;
    }
    return -1;
}

static bool is_http_phase(int ph)
{
    return ph == PH_VHOSTS || ph == PH_POLICIES || ph == PH_DEL_POLICIES || ph == PH_ACCESS;
}

int apply_plan(const struct plan *p, const struct apply_options *o, struct apply_result *r)
{
    struct run run;
    size_t *idx = xcalloc(p->n + 1, sizeof(*idx));
    size_t k, start, end;
    int ph;

    result_setup(r, p);
    memset(&run, 0, sizeof(run));
    run.p = p;
    run.o = o;
    run.r = r;
    pthread_mutex_init(&run.lock, NULL);
    pthread_mutex_init(&run.http_lock, NULL);
    atomic_init(&run.stop, false);
    /* the plan lists each vhost's changes together: one vhost at a time, its phases in
     * order (an AMQP connection belongs to one vhost) */
    for (start = 0; start < p->n && !stopping(&run); start = end) {
        struct pool pl;
        for (end = start; end < p->n && strcmp(p->v[end].vhost, p->v[start].vhost) == 0; end++)
            ;
        pool_init(&pl, &run, p->v[start].vhost);
        for (ph = 0; ph < PH_COUNT; ph++) {
            size_t n = 0;
            for (k = start; k < end; k++)
                if (phase_of(&p->v[k]) == ph)
                    idx[n++] = k;
            if (is_http_phase(ph))
                run_http(&run, idx, n);
            else
                run_phase(&pl, idx, n);
        }
        pool_release(&pl);
    }
    for (k = 0; k < p->n; k++) {
        if (p->v[k].action == CH_UNMANAGED)
            continue;
        if (r->steps[k] == STEP_DONE)
            r->done++;
        else if (r->steps[k] == STEP_PENDING)
            r->pending++;
    }
    if (!r->failed && r->pending && !r->failure[0])
        snprintf(r->failure, sizeof(r->failure), "stopped before every change was applied");
    pthread_mutex_destroy(&run.lock);
    pthread_mutex_destroy(&run.http_lock);
    free(idx);
    return r->failed || r->pending ? -1 : 0;
}

/* ---- before anything changes ------------------------------------------------------------ */

static bool wants_preflight(const struct change *c)
{
    return c->kind == CK_QUEUE &&
           (c->action == CH_REPLACE || c->action == CH_DELETE || c->holding_queue);
}

/* Reads the exact counts of the queue changes p->v[from..to) (one vhost) on s, then the
 * management API's statistics once they postdate those counts. */
static int preflight_vhost(const struct plan *p, size_t from, size_t to,
                           const struct apply_options *o, struct apply_result *r,
                           struct rmqt_session *s, struct rmqt_error *err)
{
    struct api a = {o->http, NULL};
    struct fresh *f = xcalloc(2 * (to - from) + 1, sizeof(*f));
    char **names = xcalloc(2 * (to - from) + 1, sizeof(*names));
    size_t *of = xcalloc(2 * (to - from) + 1, sizeof(*of));
    size_t k, n = 0;
    int rc = -1;

    for (k = from; k < to; k++) {
        const struct change *c = &p->v[k];
        struct apply_queue_state *q = &r->queues[k];
        char *hname;

        if (!wants_preflight(c))
            continue;
        err->code = RMQT_OK;
        q->known = true;
        q->exists = queue_exists(s, c->name, &q->messages, &q->consumers, err);
        hname = holding_queue_name(c->name);
        q->holding_exists = queue_exists(s, hname, &q->holding_messages, NULL, err);
        if (err->code != RMQT_OK) {
            free(hname);
            goto out;
        }
        if (q->exists) {
            of[n] = k * 2;
            f[n++].name = c->name;
        }
        if (q->holding_exists) {
            of[n] = k * 2 + 1;
            names[n] = hname;
            f[n++].name = hname;
        } else {
            free(hname);
        }
    }
    if (n && fresh_stats(&a, s, f, n, o->progress, o->progress_ctx, err) < 0)
        goto out;
    for (k = 0; k < n; k++) {
        struct apply_queue_state *q = &r->queues[of[k] / 2];
        uint32_t ready = 0, consumers = 0;
        /* the exact count again, after the statistics: a message returned meanwhile was in
         * neither (counting one twice is the safe side) */
        if (!f[k].missing && rmqt_session_queue_counts(s, rmqt_session_channel(s), f[k].name,
                                                       &ready, &consumers, err) < 0) {
            if (!(err->code == RMQT_ERR_AMQP && err->detail == 404))
                goto out;
            ready = consumers = 0;
        }
        if (of[k] % 2) {
            q->holding_unacked = f[k].unacked;
            if (ready > q->holding_messages)
                q->holding_messages = ready;
        } else {
            if (ready > q->messages)
                q->messages = ready;
            if (consumers > q->consumers)
                q->consumers = consumers;
            q->unacked = f[k].unacked;
            q->bytes = f[k].bytes;
            /* the bytes are those of the exact count only when the API counts the same */
            q->bytes_known = f[k].has_bytes && f[k].messages == q->messages + f[k].unacked;
        }
    }
    rc = 0;
out:
    for (k = 0; k < n; k++)
        free(names[k]);
    free(names);
    free(f);
    free(of);
    return rc;
}

int apply_preflight(const struct plan *p, const struct apply_options *o, struct apply_result *r,
                    struct rmqt_error *err)
{
    size_t start, end, k;

    result_setup(r, p);
    for (start = 0; start < p->n; start = end) {
        struct rmqt_session_config cfg;
        struct rmqt_session *s;
        bool any = false;
        int rc;

        for (end = start; end < p->n && strcmp(p->v[end].vhost, p->v[start].vhost) == 0; end++)
            ;
        for (k = start; k < end; k++)
            any = any || wants_preflight(&p->v[k]);
        if (!any)
            continue;
        cfg = *o->amqp;
        cfg.vhost = p->v[start].vhost;
        if (!(s = rmqt_session_open(&cfg, err)))
            return -1;
        rc = preflight_vhost(p, start, end, o, r, s, err);
        rmqt_session_close(s);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Why the live holding queue h is not one a migration of change c declared, in buf; NULL
 * when it is. A migration declares it classic, durable, not auto-delete, with only the
 * dead-letter settings of the queue it holds for (when the old queue is still there, exactly
 * its settings). */
static const char *holding_mismatch(const struct change *c, const struct queue *h, char *buf,
                                    size_t len)
{
    size_t k;

    if (h->type != QT_CLASSIC)
        snprintf(buf, len, "it is a %s queue (a migration's is classic)", queue_type_name(h->type));
    else if (!flag_or(&h->durable, true))
        snprintf(buf, len, "it is not durable (a migration's is)");
    else if (flag_or(&h->auto_delete, false))
        snprintf(buf, len, "it is auto-delete (a migration's is not)");
    else {
        for (k = 0; k < h->args.n; k++) {
            const char *key = h->args.v[k].key;
            const struct targ *o;
            if (strcmp(key, "x-dead-letter-exchange") != 0 &&
                strcmp(key, "x-dead-letter-routing-key") != 0) {
                snprintf(buf, len,
                         "it has the argument %s (a migration's has none but the "
                         "dead-letter settings)",
                         key);
                return buf;
            }
            if (c->action == CH_REPLACE && c->live_queue &&
                (!(o = targs_get(&c->live_queue->args, key)) ||
                 !tval_equal(&o->val, &h->args.v[k].val))) {
                snprintf(buf, len, "its %s differs from queue '%s''s", key, c->name);
                return buf;
            }
        }
        if (c->action == CH_REPLACE && c->live_queue) {
            static const char *const dl[2] = {"x-dead-letter-exchange",
                                              "x-dead-letter-routing-key"};
            for (k = 0; k < 2; k++)
                if (targs_get(&c->live_queue->args, dl[k]) && !targs_get(&h->args, dl[k])) {
                    snprintf(buf, len, "it lacks the %s of queue '%s'", dl[k], c->name);
                    return buf;
                }
        }
        return NULL;
    }
    return buf;
}

static void add_why(char ***why, size_t *n, char *line)
{
    *why = xrealloc(*why, (*n + 1) * sizeof(**why));
    (*why)[(*n)++] = line;
}

/* "N messages" or "N messages (M of them held unacknowledged by clients)". */
static char *held_text(uint64_t ready, uint64_t unacked)
{
    if (!unacked)
        return xasprintf("%llu messages", (unsigned long long)ready);
    return xasprintf("%llu messages (%llu of them held unacknowledged by clients)",
                     (unsigned long long)(ready + unacked), (unsigned long long)unacked);
}

static const struct targ *int_arg(const struct queue *q, const char *key)
{
    const struct targ *a = q ? targs_get(&q->args, key) : NULL;
    return a && a->val.kind == TV_INT ? a : NULL;
}

/* The consents of a migration into c->want_queue's settings that can drop or dead-letter
 * what the queue holds (total messages, bytes when known). */
static void migration_refusals(const struct change *c, const struct apply_queue_state *q,
                               uint64_t total, char ***why, size_t *n_why)
{
    const struct queue *w = c->want_queue, *l = c->live_queue;
    const char *fate =
        targs_get(&w->args, "x-dead-letter-exchange") ? "be dead-lettered" : "be dropped";
    const struct targ *a, *o, *ov = targs_get(&w->args, "x-overflow");
    bool held_elsewhere = q->holding_messages || q->holding_unacked;

    if ((a = int_arg(w, "x-max-length")) && (int64_t)total > a->val.i)
        add_why(why, n_why,
                xasprintf("queue '%s' in vhost '%s' holds %llu messages but its new max_length "
                          "is %lld: migrating would drop or dead-letter %llu of them; that needs "
                          "--force",
                          c->name, c->vhost, (unsigned long long)total, (long long)a->val.i,
                          (unsigned long long)((int64_t)total - a->val.i)));
    if ((a = int_arg(w, "x-max-length-bytes"))) {
        if (!q->bytes_known || held_elsewhere)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %llu messages and its new "
                              "max_length_bytes is %lld: the bytes they take are not known "
                              "exactly (the management API's statistics disagree with the "
                              "exact count), so some may %s; that needs --force",
                              c->name, c->vhost, (unsigned long long)total, (long long)a->val.i,
                              fate));
        else if ((int64_t)q->bytes > a->val.i)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %llu messages of %llu bytes but "
                              "its new max_length_bytes is %lld: migrating, some of them would "
                              "%s; that needs --force",
                              c->name, c->vhost, (unsigned long long)total,
                              (unsigned long long)q->bytes, (long long)a->val.i, fate));
    }
    if ((a = int_arg(w, "x-message-ttl")) &&
        (!(o = int_arg(l, "x-message-ttl")) || a->val.i < o->val.i)) {
        if (o)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %llu messages and its new "
                              "message_ttl (%lld ms) is lower than its current one (%lld ms): "
                              "migrated messages start their TTL again and may %s before any "
                              "consumer sees them; that needs --force",
                              c->name, c->vhost, (unsigned long long)total, (long long)a->val.i,
                              (long long)o->val.i, fate));
        else
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %llu messages and its new "
                              "message_ttl (%lld ms) is one it did not have: migrated messages "
                              "start their TTL again and may %s before any consumer sees them; "
                              "that needs --force",
                              c->name, c->vhost, (unsigned long long)total, (long long)a->val.i,
                              fate));
    }
    if ((a = int_arg(w, "x-expires")) && (!(o = int_arg(l, "x-expires")) || a->val.i < o->val.i))
        add_why(why, n_why,
                xasprintf("queue '%s' in vhost '%s' holds %llu messages and its new expires "
                          "(%lld ms) is %s: the queue is deleted with its messages when unused "
                          "that long; that needs --force",
                          c->name, c->vhost, (unsigned long long)total, (long long)a->val.i,
                          o ? "lower than its current one" : "one it did not have"));
    if (ov && ov->val.kind == TV_STRING && strcmp(ov->val.s, "drop-head") == 0 &&
        (int_arg(w, "x-max-length") || int_arg(w, "x-max-length-bytes")))
        add_why(why, n_why,
                xasprintf("queue '%s' in vhost '%s' holds %llu messages and its new settings "
                          "combine overflow drop-head with a limit: messages published during "
                          "the migration push migrated ones out at the head (%s); that needs "
                          "--force",
                          c->name, c->vhost, (unsigned long long)total, fate + 3));
}

size_t apply_refusals(const struct plan *p, const struct apply_options *o,
                      const struct apply_result *r, char ***why, size_t *n_why)
{
    size_t k, before = *n_why;

    for (k = 0; k < p->n; k++) {
        const struct change *c = &p->v[k];
        const struct apply_queue_state *q = &r->queues[k];
        uint64_t held = (uint64_t)q->messages + q->unacked;
        uint64_t total = held + q->holding_messages + q->holding_unacked;
        char *t;

        if (!wants_preflight(c) || !q->known)
            continue;
        if (q->holding_exists && c->action != CH_DELETE) {
            char *hname = holding_queue_name(c->name), buf[300];
            const char *bad = c->holding_queue
                                  ? holding_mismatch(c, c->holding_queue, buf, sizeof(buf))
                                  : "it appeared after planning (re-run apply)";
            if (bad)
                add_why(why, n_why,
                        xasprintf("queue '%s' in vhost '%s' is not the holding queue of a "
                                  "migration of queue '%s' (%s): apply does not move messages "
                                  "into or out of it; rename or delete it by hand",
                                  hname, c->vhost, c->name, bad));
            free(hname);
        }
        if (c->action == CH_REPLACE && held && !o->allow_replace) {
            t = held_text(q->messages, q->unacked);
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %s: replacing it needs "
                              "--allow-replace (its messages are then migrated, none dropped)",
                              c->name, c->vhost, t));
            free(t);
        }
        /* a stream's messages cannot be moved, and its count is not a ready count */
        if ((c->action == CH_REPLACE || c->action == CH_DELETE) && q->exists && c->live_queue &&
            c->live_queue->type == QT_STREAM && !o->force)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' is a stream: its messages cannot be "
                              "migrated, and %s it deletes them all; that needs --force",
                              c->name, c->vhost,
                              c->action == CH_DELETE ? "deleting" : "replacing"));
        if (c->action != CH_DELETE && c->want_queue && total && !o->force &&
            !(c->live_queue && c->live_queue->type == QT_STREAM))
            migration_refusals(c, q, total, why, n_why);
        if (c->action == CH_DELETE && held && !o->force) {
            t = held_text(q->messages, q->unacked);
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %s: --prune deletes it only with "
                              "--force (its messages would be lost)",
                              c->name, c->vhost, t));
            free(t);
        }
        if ((c->action == CH_REPLACE || c->action == CH_DELETE) && q->consumers && !o->force)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' has %u consumer%s: %s it needs --force",
                              c->name, c->vhost, q->consumers, q->consumers == 1 ? "" : "s",
                              c->action == CH_DELETE ? "deleting" : "replacing"));
    }
    access_refusals(p, o->force, why, n_why);
    return *n_why - before;
}

/* ---- the lock ---------------------------------------------------------------------------- */

#define LOCK_CONNECTION_NAME "rmqtopo apply (lock)"

struct apply_lock {
    struct rmqt_session **s;
    size_t n;
};

void apply_lock_release(struct apply_lock *l)
{
    size_t k;
    if (!l)
        return;
    for (k = 0; k < l->n; k++)
        rmqt_session_close(l->s[k]);
    free(l->s);
    free(l);
}

static const char *jstr_or(const json_t *o, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : dflt;
}

/* "host H, process P, started T (connection C, user U)" from a connection object. */
static void add_holder(struct strbuf *out, const json_t *conn)
{
    const json_t *props = json_object_get(conn, "client_properties");
    strbuf_addf(out, "host %s, process %s, started %s (connection '%s', user '%s')",
                jstr_or(props, "rmqtopo_host", "?"), jstr_or(props, "rmqtopo_pid", "?"),
                jstr_or(props, "rmqtopo_started", "?"), jstr_or(conn, "name", "?"),
                jstr_or(conn, "user", "?"));
}

/* Names the holder of the lock of vhost in out, from the management API: the lock queue's
 * owner (its statistics lag a few seconds), else the other lock connections of the vhost (an
 * apply's lock connection has its own name; connections show within a second). false when
 * neither names it yet. */
static bool describe_lock_holder(const struct apply_options *o, const char *vhost,
                                 struct strbuf *out)
{
    struct api a = {o->http, NULL};
    struct strbuf path = {0};
    struct rmqt_error err;
    json_t *doc = NULL, *conn;
    const char *cname;
    char mypid[32];
    size_t i, found = 0;

    strbuf_adds(&path, "/api/queues/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "/" APPLY_LOCK_QUEUE);
    if (api_get(&a, path.buf, &doc, &err) == 0 &&
        (cname = json_string_value(
             json_object_get(json_object_get(doc, "owner_pid_details"), "name")))) {
        strbuf_reset(&path);
        strbuf_adds(&path, "/api/connections/");
        rmqt_url_encode(&path, cname);
        json_decref(doc);
        doc = NULL;
        if (api_get(&a, path.buf, &doc, &err) == 0) {
            add_holder(out, doc);
            found = 1;
            goto out;
        }
    }
    json_decref(doc);
    doc = NULL;
    snprintf(mypid, sizeof(mypid), "%ld", (long)getpid());
    strbuf_reset(&path);
    strbuf_adds(&path, "/api/vhosts/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "/connections");
    if (api_get(&a, path.buf, &doc, &err) == 0 && json_is_array(doc)) {
        json_array_foreach(doc, i, conn)
        {
            const json_t *props = json_object_get(conn, "client_properties");
            if (strcmp(jstr_or(props, "connection_name", ""), LOCK_CONNECTION_NAME) != 0 ||
                strcmp(jstr_or(props, "rmqtopo_pid", ""), mypid) == 0)
                continue;
            strbuf_adds(out, found++ ? "; or " : "");
            add_holder(out, conn);
        }
    }
out:
    json_decref(doc);
    strbuf_release(&path);
    return found > 0;
}

struct apply_lock *apply_lock_take(const struct apply_options *o, const char *const *vhosts,
                                   size_t n, double timeout_s, struct rmqt_error *err)
{
    struct apply_lock *l = xcalloc(1, sizeof(*l));
    double start = now_s(), said = 0;
    size_t k;

    l->s = xcalloc(n + 1, sizeof(*l->s));
    for (k = 0; k < n; k++) {
        struct rmqt_session_config cfg = *o->amqp;
        struct rmqt_session *s;

        cfg.vhost = vhosts[k];
        cfg.name = LOCK_CONNECTION_NAME;
        cfg.heartbeat_s = -1; /* idle for the whole apply: the socket's close is the signal */
        if (!(s = rmqt_session_open(&cfg, err)))
            goto fail;
        l->s[l->n++] = s;
        for (;;) {
            amqp_queue_declare(rmqt_session_conn(s), rmqt_session_channel(s),
                               rmqt_bytes(APPLY_LOCK_QUEUE), 0, 0, 1, 1, amqp_empty_table);
            if (check(s, "lock: declare exclusive", "queue", APPLY_LOCK_QUEUE, err) == 0)
                break;
            if (!(err->code == RMQT_ERR_AMQP && err->detail == 405)) /* RESOURCE_LOCKED */
                goto fail;
            {
                struct strbuf who = {0};
                double waited = now_s() - start, asked = now_s();
                /* the API shows a new connection within about a second: ask a little while */
                while (!describe_lock_holder(o, vhosts[k], &who) && now_s() - asked < 5)
                    sleep_s(0.3);
                if (!who.len)
                    strbuf_adds(&who, "a client the management API does not name yet");
                if (waited >= timeout_s) {
                    rmqt_error_set(err, RMQT_ERR_INVALID,
                                   "another apply holds the lock of vhost '%s' (queue '%s'): "
                                   "%s; %s",
                                   vhosts[k], APPLY_LOCK_QUEUE, strbuf_str(&who),
                                   timeout_s > 0 ? "waited for it in vain (--lock-timeout)"
                                                 : "wait for it with --lock-timeout SECONDS");
                    strbuf_release(&who);
                    goto fail;
                }
                if (o->progress && (said == 0 || now_s() - said >= 5)) {
                    char line[1024];
                    said = now_s();
                    snprintf(line, sizeof(line),
                             "waiting for the lock of vhost '%s', held by %s (%.0f s more at "
                             "most)",
                             vhosts[k], strbuf_str(&who), timeout_s - waited);
                    o->progress(o->progress_ctx, line);
                }
                strbuf_release(&who);
            }
            if (!rmqt_session_is_alive(s))
                goto fail;
            sleep_s(0.5);
        }
    }
    return l;
fail:
    apply_lock_release(l);
    return NULL;
}
