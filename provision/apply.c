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

#define DEFAULT_CONCURRENCY 16
#define MOVE_ROUNDS 3

struct run {
    const struct plan *p;
    const struct apply_options *o;
    struct apply_result *r;
    pthread_mutex_t lock;
    atomic_bool stop;
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

/* Moves every message of queue from into queue to (through the default exchange), in rounds
 * until from is empty (producers may still publish into it). */
static int move_all(struct run *run, struct rmqt_session *src, struct rmqt_session *dst,
                    const char *from, const char *to, uint64_t *moved, struct rmqt_error *err)
{
    struct rmqt_mover_config mc;
    struct rmqt_mover_stats st;
    uint32_t left = 0;
    int round;

    memset(&mc, 0, sizeof(mc));
    mc.queue = from;
    mc.exchange = "";
    mc.routing_key = to;
    mc.stop_on_return = true;
    mc.stop = run->o->stop;
    for (round = 0; round < MOVE_ROUNDS; round++) {
        if (rmqt_mover_run(src, dst, &mc, &st, err) < 0)
            return -1;
        *moved += st.moved;
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

/* A queue replace that keeps the messages, or the rest of one that was interrupted. */
static int migrate_queue(struct run *run, struct pool *pl, unsigned k, const struct change *c,
                         struct rmqt_error *err)
{
    struct rmqt_session *s = pool_session(pl, k, false, err), *aux;
    char *hname = holding_queue_name(c->name);
    uint32_t qmsgs = 0, hmsgs = 0;
    bool q_exists, h_exists;
    uint64_t moved = 0;
    int rc = -1;

    if (!s || !(aux = pool_session(pl, k, true, err)))
        goto out;
    err->code = RMQT_OK;
    q_exists = queue_exists(s, c->name, &qmsgs, NULL, err);
    h_exists = queue_exists(s, hname, &hmsgs, NULL, err);
    if (err->code != RMQT_OK)
        goto out;
    if (c->action == CH_REPLACE && q_exists) {
        if (c->live_queue && c->live_queue->type == QT_STREAM && qmsgs) {
            rmqt_error_set(err, RMQT_ERR_INVALID,
                           "queue '%s' is a stream holding messages: they cannot be migrated",
                           c->name);
            goto out;
        }
        if (qmsgs) {
            if (!h_exists && declare_holding(s, hname, c->live_queue, err) < 0)
                goto out;
            h_exists = true;
            progress(run, "migrating queue '%s' in vhost '%s': %u messages to '%s'", c->name,
                     c->vhost, qmsgs, hname);
            if (move_all(run, aux, s, c->name, hname, &moved, err) < 0)
                goto out;
        }
        if (delete_queue(s, c->name, c->live_queue ? c->live_queue->type : QT_CLASSIC, true, err) <
            0)
            goto out;
    }
    if (declare_queue(s, c->want_queue, err) < 0 || bind_queue(run, s, c, err) < 0)
        goto out;
    if (h_exists) {
        moved = 0;
        if (move_all(run, aux, s, hname, c->name, &moved, err) < 0)
            goto out;
        pthread_mutex_lock(&run->lock);
        run->r->migrated += moved;
        pthread_mutex_unlock(&run->lock);
        if (check_moved_back(s, c->name, moved, err) < 0)
            goto out;
        if (delete_queue(s, hname, QT_CLASSIC, true, err) < 0)
            goto out;
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
    return c->holding_queue || q->holding_exists || (c->action == CH_REPLACE && q->messages);
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
                0)
            return -1;
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
        return del ? PH_DEL_POLICIES : PH_POLICIES;
    }
    return -1;
}

static bool is_http_phase(int ph)
{
    return ph == PH_VHOSTS || ph == PH_POLICIES || ph == PH_DEL_POLICIES;
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
    free(idx);
    return r->failed || r->pending ? -1 : 0;
}

/* ---- before anything changes ------------------------------------------------------------ */

static bool wants_preflight(const struct change *c)
{
    return c->kind == CK_QUEUE &&
           (c->action == CH_REPLACE || c->action == CH_DELETE || c->holding_queue);
}

int apply_preflight(const struct plan *p, const struct apply_options *o, struct apply_result *r,
                    struct rmqt_error *err)
{
    struct rmqt_session *s = NULL;
    struct rmqt_session_config cfg;
    const char *vhost = NULL;
    size_t k;
    int rc = -1;

    result_setup(r, p);
    for (k = 0; k < p->n; k++) {
        const struct change *c = &p->v[k];
        struct apply_queue_state *q = &r->queues[k];
        char *hname;

        if (!wants_preflight(c))
            continue;
        if (!s || strcmp(vhost, c->vhost) != 0) {
            rmqt_session_close(s);
            cfg = *o->amqp;
            cfg.vhost = vhost = c->vhost;
            if (!(s = rmqt_session_open(&cfg, err)))
                goto out;
        }
        err->code = RMQT_OK;
        q->known = true;
        q->exists = queue_exists(s, c->name, &q->messages, &q->consumers, err);
        hname = holding_queue_name(c->name);
        q->holding_exists = queue_exists(s, hname, &q->holding_messages, NULL, err);
        free(hname);
        if (err->code != RMQT_OK)
            goto out;
    }
    rc = 0;
out:
    rmqt_session_close(s);
    return rc;
}

static void add_why(char ***why, size_t *n, char *line)
{
    *why = xrealloc(*why, (*n + 1) * sizeof(**why));
    (*why)[(*n)++] = line;
}

size_t apply_refusals(const struct plan *p, const struct apply_options *o,
                      const struct apply_result *r, char ***why, size_t *n_why)
{
    size_t k, before = *n_why;

    for (k = 0; k < p->n; k++) {
        const struct change *c = &p->v[k];
        const struct apply_queue_state *q = &r->queues[k];
        const struct targ *a;

        if (!wants_preflight(c) || !q->known)
            continue;
        if (c->action == CH_REPLACE && q->messages && !o->allow_replace)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %u messages: replacing it needs "
                              "--allow-replace (its messages are then migrated, none dropped)",
                              c->name, c->vhost, q->messages));
        /* a stream's messages cannot be moved, and its count is not a ready count */
        if ((c->action == CH_REPLACE || c->action == CH_DELETE) && q->exists && c->live_queue &&
            c->live_queue->type == QT_STREAM && !o->force)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' is a stream: its messages cannot be "
                              "migrated, and %s it deletes them all; that needs --force",
                              c->name, c->vhost,
                              c->action == CH_DELETE ? "deleting" : "replacing"));
        if (c->action == CH_REPLACE && c->want_queue && !o->force &&
            (a = targs_get(&c->want_queue->args, "x-max-length")) && a->val.kind == TV_INT &&
            (int64_t)q->messages + q->holding_messages > a->val.i)
            add_why(
                why, n_why,
                xasprintf(
                    "queue '%s' in vhost '%s' holds %llu messages but its new "
                    "max_length is %lld: migrating would drop or dead-letter %llu of "
                    "them; that needs --force",
                    c->name, c->vhost, (unsigned long long)q->messages + q->holding_messages,
                    (long long)a->val.i,
                    (unsigned long long)((int64_t)q->messages + q->holding_messages - a->val.i)));
        if (c->action == CH_DELETE && q->messages && !o->force)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' holds %u messages: --prune deletes it "
                              "only with --force (its messages would be lost)",
                              c->name, c->vhost, q->messages));
        if ((c->action == CH_REPLACE || c->action == CH_DELETE) && q->consumers && !o->force)
            add_why(why, n_why,
                    xasprintf("queue '%s' in vhost '%s' has %u consumer%s: %s it needs --force",
                              c->name, c->vhost, q->consumers, q->consumers == 1 ? "" : "s",
                              c->action == CH_DELETE ? "deleting" : "replacing"));
    }
    return *n_why - before;
}
