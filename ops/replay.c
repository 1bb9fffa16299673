/*
 * replay.c - dlq replay on top of common's safe mover.
 *
 * Decisions:
 * - A message's home is the queue of its most recent x-death entry, published through the
 *   default exchange: only that queue gets it (dlq.md). CC and BCC are routing instructions,
 *   not data: a CC header left on a message published to the default exchange would copy it
 *   into the queue CC names, so they are always replaced by the routing the run chose.
 * - The loop guard is our own header, rmqtopo-replay-count (a long), because 4.0+ ignores an
 *   x-death a client publishes and 3.13.0-3.13.2 stopped counting republished deaths: the
 *   broker's count cannot stop a replay storm across versions.
 * - A target is checked once, just before the first message that goes there: it exists
 *   (passive declare; a missing one leaves its messages in place instead of relying on
 *   returns), and, for queues, whether its dead-letter exchange routes back into this queue
 *   or its overflow refuses publishes (warnings).
 * - Filters never consume what they do not select: the mover leaves such messages
 *   unacknowledged and the broker requeues them when the run ends.
 */
#define _POSIX_C_SOURCE 200809L
#include "present.h"
#include "replay.h"

#include "browse.h"
#include "msgdigest.h"
#include "queueinfo.h"
#include "strmap.h"
#include "warn.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool bytes_is(amqp_bytes_t b, const char *s)
{
    return death_bytes_eq(b, s);
}

static int64_t replay_count(const amqp_basic_properties_t *p)
{
    int64_t n = 0;
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return 0;
    if (!death_field_int(death_table_get(&p->headers, REPLAY_COUNT_HEADER), &n) || n < 0)
        return 0;
    return n;
}

bool replay_selected(const struct replay_filter *f, const struct death *d, time_t now)
{
    if (f->reason && !(d->present && bytes_is(d->reason, f->reason)))
        return false;
    if (f->from_queue && !(d->present && bytes_is(d->queue, f->from_queue)))
        return false;
    if (f->has_older_than) {
        if (!d->has_time || (double)now - (double)d->time < f->older_than_s)
            return false;
    }
    return true;
}

static bool bytes_contain(amqp_bytes_t b, const char *s)
{
    size_t n = strlen(s), i;
    if (n == 0)
        return true;
    for (i = 0; b.bytes && i + n <= b.len; i++)
        if (memcmp((const char *)b.bytes + i, s, n) == 0)
            return true;
    return false;
}

bool replay_selected_message(const struct replay_filter *f, const amqp_basic_properties_t *p,
                             const struct death *d, time_t now)
{
    bool has_id = p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG;

    if (!replay_selected(f, d, now))
        return false;
    if (f->n_message_ids) {
        size_t k;
        for (k = 0; k < f->n_message_ids; k++)
            if (has_id && bytes_is(p->message_id, f->message_ids[k]))
                break;
        if (k == f->n_message_ids)
            return false;
    }
    if (f->search && f->search[0]) {
        bool found = has_id && bytes_contain(p->message_id, f->search);
        int i;
        if (d->present && d->routing_keys)
            for (i = 0; !found && i < d->routing_keys->num_entries; i++) {
                const amqp_field_value_t *k = &d->routing_keys->entries[i];
                if (k->kind == AMQP_FIELD_KIND_UTF8 || k->kind == AMQP_FIELD_KIND_BYTES)
                    found = bytes_contain(k->value.bytes, f->search);
            }
        if (!found)
            return false;
    }
    return true;
}

/* The death's routing keys after the first, as a CC array (borrowed). */
static void rest_keys(const struct death *dth, amqp_array_t *cc)
{
    cc->num_entries = 0;
    cc->entries = NULL;
    if (dth->routing_keys && dth->routing_keys->num_entries > 1) {
        cc->num_entries = dth->routing_keys->num_entries - 1;
        cc->entries = dth->routing_keys->entries + 1;
    }
}

static bool has_keys(const struct death *dth)
{
    return dth->present && dth->routing_keys && dth->routing_keys->num_entries > 0;
}

void replay_decide(const struct replay_options *o, const amqp_basic_properties_t *p, time_t now,
                   struct replay_decision *d)
{
    memset(d, 0, sizeof(*d));
    death_read(p, &d->death);
    d->replays = replay_count(p);
    if (!replay_selected_message(&o->filter, p, &d->death, now)) {
        d->action = ACT_FILTERED;
        return;
    }
    if (o->max_replays >= 0 && d->replays >= o->max_replays) {
        if (o->park_queue) {
            d->action = ACT_PARK;
            d->exchange = rmqt_bytes("");
            d->routing_key = rmqt_bytes(o->park_queue);
        } else {
            d->action = ACT_AT_MAX;
        }
        return;
    }
    d->action = ACT_REPLAY;
    switch (o->route) {
    case ROUTE_HOME:
        if (!d->death.present || d->death.queue.len == 0) {
            d->action = ACT_NO_HOME;
            return;
        }
        d->exchange = rmqt_bytes("");
        d->routing_key = d->death.queue;
        break;
    case ROUTE_ORIGIN:
        if (!has_keys(&d->death)) {
            d->action = ACT_NO_HOME;
            return;
        }
        d->exchange = d->death.exchange;
        d->routing_key = death_first_key(&d->death);
        rest_keys(&d->death, &d->cc);
        break;
    case ROUTE_QUEUE:
        d->exchange = rmqt_bytes("");
        d->routing_key = rmqt_bytes(o->to_queue);
        break;
    case ROUTE_EXCHANGE:
        d->exchange = rmqt_bytes(o->to_exchange);
        if (o->routing_key) {
            d->routing_key = rmqt_bytes(o->routing_key);
        } else if (has_keys(&d->death)) {
            d->routing_key = death_first_key(&d->death);
            rest_keys(&d->death, &d->cc);
        } else {
            d->action = ACT_NO_HOME;
        }
        break;
    }
}

static bool dropped(const struct replay_options *o, const struct replay_decision *d,
                    amqp_bytes_t key)
{
    if (rmqt_is_delivery_counter(key) || bytes_is(key, "CC") || bytes_is(key, "BCC"))
        return true;
    if (d->action == ACT_PARK)
        return false;
    return bytes_is(key, REPLAY_COUNT_HEADER) || (!o->keep_headers && death_is_header(key));
}

void replay_build_props(const struct replay_options *o, const struct replay_decision *d,
                        const amqp_basic_properties_t *in, amqp_basic_properties_t *out,
                        amqp_table_entry_t **scratch, size_t *cap)
{
    size_t n = 0, need = 2;
    amqp_table_entry_t *e;
    int i;

    *out = *in;
    if (in->_flags & AMQP_BASIC_HEADERS_FLAG)
        need += (size_t)in->headers.num_entries;
    if (*cap < need) {
        *cap = need * 2;
        *scratch = xrealloc(*scratch, *cap * sizeof(**scratch));
    }
    e = *scratch;
    if (in->_flags & AMQP_BASIC_HEADERS_FLAG) {
        for (i = 0; i < in->headers.num_entries; i++)
            if (!dropped(o, d, in->headers.entries[i].key))
                e[n++] = in->headers.entries[i];
    }
    if (d->cc.num_entries > 0) {
        e[n].key = rmqt_bytes("CC");
        e[n].value.kind = AMQP_FIELD_KIND_ARRAY;
        e[n].value.value.array = d->cc;
        n++;
    }
    if (d->action == ACT_REPLAY) {
        e[n].key = rmqt_bytes(REPLAY_COUNT_HEADER);
        e[n].value.kind = AMQP_FIELD_KIND_I64;
        e[n].value.value.i64 = d->replays + 1;
        n++;
    }
    out->headers.num_entries = (int)n;
    out->headers.entries = e;
    if (n > 0)
        out->_flags |= AMQP_BASIC_HEADERS_FLAG;
    else
        out->_flags &= ~AMQP_BASIC_HEADERS_FLAG;
}

/* --- checking targets ---------------------------------------------------------------- */

/* TARGET_CYCLE: exists, and dead-letters back into the queue being replayed */
enum { TARGET_OK = 1, TARGET_MISSING = 2, TARGET_CYCLE = 3 };

struct targets {
    struct strmap seen;   /* "q:name" / "x:name" -> TARGET_* */
    struct strmap warned; /* the TARGET_CYCLE keys whose loop was reported */
    char **keys;          /* the map's keys, owned */
    size_t n, cap;
};

static void targets_release(struct targets *t)
{
    size_t i;
    strmap_release(&t->seen);
    strmap_release(&t->warned);
    for (i = 0; i < t->n; i++)
        free(t->keys[i]);
    free(t->keys);
}

/* Warnings about a target queue (HTTP): overflow that refuses. Returns 1 when the queue
 * dead-letters back into the queue being replayed (a cycle: the usual case for a DLQ's home,
 * so it is said only when a message that was replayed before comes round again), else 0. */
static int check_queue_settings(struct rmqt_http *http, const struct replay_options *o,
                                const char *name)
{
    struct queue_info qi;
    struct rmqt_error err;
    int feeds = 0;

    if (!http || queue_info_read(http, o->vhost, name, &qi, &err) < 0 || !qi.found)
        return 0;
    if (strcmp(name, o->queue) == 0) {
        ops_warnf(o->warn, o->ctx,
                  "queue '%s' is the queue being replayed: its messages go back behind the ones "
                  "this run handles",
                  name);
        return 0;
    }
    if (qi.has_dlx)
        feeds = (qi.dlx[0] ? queue_info_exchange_feeds(http, o->vhost, qi.dlx, o->queue, &err)
                           : (qi.has_dlrk && strcmp(qi.dlrk, o->queue) == 0)) > 0;
    if (strcmp(qi.overflow, "reject-publish") == 0 ||
        strcmp(qi.overflow, "reject-publish-dlx") == 0)
        ops_warnf(o->warn, o->ctx,
                  "queue '%s' has overflow '%s': when full it refuses publishes, and the run stops "
                  "at the first refusal (nothing is lost)",
                  name, qi.overflow);
    return feeds;
}

/* The loop warning, once per target, where it matters: a target that dead-letters back into
 * the queue being replayed gets a message that was replayed before and died again. */
static void warn_cycle(struct targets *t, const struct replay_options *o,
                       const struct replay_decision *d, const char *key, size_t klen, size_t v)
{
    if (v != TARGET_CYCLE || d->replays < 1 || !strmap_put(&t->warned, key, klen, 1))
        return;
    ops_warnf(o->warn, o->ctx,
              "queue '%s' dead-letters into '%s' again, and messages replayed before died there "
              "again (rmqtopo-replay-count %lld): a loop? --max-replays %ld stops it",
              key + 2, o->queue, (long long)d->replays, o->max_replays);
}

/* Whether the target of d exists (checked once per name): 1 yes, 0 no, -1 on a lost
 * connection. */
static int target_exists(struct targets *t, struct rmqt_session *s, struct rmqt_http *http,
                         const struct replay_options *o, const struct replay_decision *d,
                         struct rmqt_error *err)
{
    bool is_queue = d->exchange.len == 0;
    amqp_bytes_t name = is_queue ? d->routing_key : d->exchange;
    size_t klen = name.len + 2, v;
    char *key = xmalloc(klen + 1);
    char what[600];
    struct rmqt_error e2;
    int ok;

    key[0] = is_queue ? 'q' : 'x';
    key[1] = ':';
    memcpy(key + 2, name.bytes, name.len);
    key[klen] = '\0';
    if (strmap_get(&t->seen, key, klen, &v)) {
        warn_cycle(t, o, d, key, klen, v);
        free(key);
        return v == TARGET_OK || v == TARGET_CYCLE;
    }
    snprintf(what, sizeof(what), "%s '%s'", is_queue ? "queue" : "exchange", key + 2);
    ok = rmqt_session_exists(s, !is_queue, name, &e2);
    if (ok < 0) {
        *err = e2;
        free(key);
        return -1;
    }
    if (!ok)
        ops_warnf(o->warn, o->ctx, "%s does not exist (%s): its messages stay in '%s'", what,
                  e2.message, o->queue);
    else if (is_queue && check_queue_settings(http, o, key + 2))
        ok = TARGET_CYCLE;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->keys = xrealloc(t->keys, t->cap * sizeof(*t->keys));
    }
    t->keys[t->n++] = key;
    strmap_put(&t->seen, key, klen,
               ok == TARGET_CYCLE ? TARGET_CYCLE
               : ok               ? TARGET_OK
                                  : TARGET_MISSING);
    warn_cycle(t, o, d, key, klen, ok == TARGET_CYCLE ? TARGET_CYCLE : TARGET_OK);
    return ok != 0;
}

/* --- the run ------------------------------------------------------------------------- */

struct run {
    const struct replay_options *o;
    struct replay_result *res;
    struct rmqt_session *dst;
    struct rmqt_http *http;
    struct targets targets;
    amqp_table_entry_t *scratch;
    size_t cap;
};

static int count_left(struct replay_result *res, enum replay_action a)
{
    switch (a) {
    case ACT_FILTERED:
        res->filtered++;
        break;
    case ACT_AT_MAX:
        res->at_max++;
        break;
    case ACT_NO_HOME:
        res->no_home++;
        break;
    default:
        break;
    }
    return RMQT_SKIP;
}

static int prepare(void *ctx, const amqp_envelope_t *in, struct rmqt_outgoing *out,
                   struct rmqt_error *err)
{
    struct run *r = ctx;
    struct replay_decision d;
    amqp_basic_properties_t props;
    int k;

    replay_decide(r->o, &in->message.properties, time(NULL), &d);
    if (d.action != ACT_REPLAY && d.action != ACT_PARK)
        return count_left(r->res, d.action);
    k = target_exists(&r->targets, r->dst, r->http, r->o, &d, err);
    if (k < 0)
        return -1;
    if (k == 0) {
        r->res->no_target++;
        return RMQT_SKIP;
    }
    props = out->props;
    replay_build_props(r->o, &d, &props, &out->props, &r->scratch, &r->cap);
    out->exchange = d.exchange;
    out->routing_key = d.routing_key;
    return d.action == ACT_PARK ? RMQT_PARK : RMQT_MOVE;
}

/* The fixed targets (--to-queue, --to-exchange, --park-queue) must exist before anything
 * moves: a missing one is an error, not a queue's worth of held messages. */
static int check_fixed_targets(struct run *r, struct rmqt_error *err)
{
    const struct replay_options *o = r->o;
    struct replay_decision d;
    const char *what = NULL, *name = NULL;
    int k;

    memset(&d, 0, sizeof(d));
    if (o->route == ROUTE_QUEUE || o->route == ROUTE_EXCHANGE) {
        d.exchange = rmqt_bytes(o->route == ROUTE_EXCHANGE ? o->to_exchange : "");
        d.routing_key = rmqt_bytes(o->route == ROUTE_QUEUE ? o->to_queue : "");
        k = target_exists(&r->targets, r->dst, r->http, o, &d, err);
        if (k <= 0) {
            what = o->route == ROUTE_QUEUE ? "queue" : "exchange";
            name = o->route == ROUTE_QUEUE ? o->to_queue : o->to_exchange;
            goto missing;
        }
    }
    if (o->park_queue) {
        d.exchange = rmqt_bytes("");
        d.routing_key = rmqt_bytes(o->park_queue);
        k = target_exists(&r->targets, r->dst, r->http, o, &d, err);
        if (k <= 0) {
            what = "park queue";
            name = o->park_queue;
            goto missing;
        }
    }
    return 0;
missing:
    if (k < 0)
        return -1;
    return rmqt_error_set(err, RMQT_ERR_AMQP,
                          "%s '%s' does not exist in vhost '%s': nothing was moved", what, name,
                          o->vhost ? o->vhost : "/");
}

/* The mover's ctx is the run; the user's callback wants the options' ctx. */
static void refused(void *ctx, const struct rmqt_refusal *r)
{
    const struct run *run = ctx;
    run->o->refused(run->o->ctx, r);
}

int replay_run(struct rmqt_session *src, struct rmqt_session *dst, struct rmqt_http *http,
               const struct replay_options *o, struct replay_result *res, struct rmqt_error *err)
{
    struct rmqt_mover_config mc;
    struct run r;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.res = res;
    r.dst = dst;
    r.http = http;
    strmap_init(&r.targets.seen);
    strmap_init(&r.targets.warned);
    memset(&mc, 0, sizeof(mc));
    mc.queue = o->queue;
    mc.exchange = "";
    mc.routing_key = "";
    mc.prepare = prepare;
    mc.ctx = &r;
    mc.limit = o->limit;
    mc.rate = o->rate;
    mc.stop = o->stop;
    mc.has_delivery_limit = o->delivery_limit >= 0;
    mc.delivery_limit = o->delivery_limit;
    mc.progress = o->progress;
    mc.progress_ctx = o->ctx;
    mc.may_impersonate = o->may_impersonate;
    mc.refused = o->refused ? refused : NULL;
    if (check_fixed_targets(&r, err) < 0) {
        targets_release(&r.targets);
        return -1;
    }
    rc = rmqt_mover_run(src, dst, &mc, &res->mover, err);
    res->limit_reached =
        o->limit &&
        res->mover.moved + res->mover.parked + res->mover.returned + res->mover.nacked >= o->limit;
    targets_release(&r.targets);
    free(r.scratch);
    return rc;
}

bool replay_left_selected(const struct replay_result *res)
{
    const struct rmqt_mover_stats *m = &res->mover;
    return m->returned || m->nacked || m->refused || res->at_max || res->no_home ||
           res->no_target || (m->left > 0 && !res->limit_reached);
}

bool replay_ok(int rc, const struct replay_result *res, bool stopped)
{
    return rc == 0 && !replay_left_selected(res) && !stopped && res->mover.at_limit == 0;
}

/* --- dry run ------------------------------------------------------------------------- */

struct preview_run {
    const struct replay_options *o;
    struct rmqt_session *s;
    struct rmqt_http *http;
    struct targets targets;
    struct replay_result *res;
    void (*each)(void *ctx, const struct replay_preview *p);
    void *ctx;
    uint64_t chosen;
};

static int preview_one(void *ctx, const amqp_envelope_t *env, struct rmqt_error *err)
{
    struct preview_run *pr = ctx;
    struct replay_decision d;
    struct replay_preview p;
    int k = 1;

    replay_decide(pr->o, &env->message.properties, time(NULL), &d);
    if (d.action == ACT_REPLAY || d.action == ACT_PARK) {
        k = target_exists(&pr->targets, pr->s, pr->http, pr->o, &d, err);
        if (k < 0)
            return -1;
        if (k == 0)
            pr->res->no_target++;
        else if (d.action == ACT_PARK)
            pr->res->mover.parked++;
        else
            pr->res->mover.moved++;
        pr->chosen++;
    } else {
        count_left(pr->res, d.action);
        pr->res->mover.skipped++;
    }
    p.env = env;
    p.decision = &d;
    p.target_exists = k > 0;
    pr->each(pr->ctx, &p);
    if (pr->o->limit && pr->chosen >= pr->o->limit) {
        pr->res->limit_reached = true;
        return 1;
    }
    return 0;
}

int replay_preview(struct rmqt_session *s, struct rmqt_http *http, const struct replay_options *o,
                   void (*each)(void *ctx, const struct replay_preview *p), void *ctx,
                   struct replay_result *res, struct rmqt_error *err)
{
    struct preview_run pr;
    struct browse_stats bs;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&pr, 0, sizeof(pr));
    pr.o = o;
    pr.s = s;
    pr.http = http;
    pr.res = res;
    pr.each = each;
    pr.ctx = ctx;
    strmap_init(&pr.targets.seen);
    strmap_init(&pr.targets.warned);
    rc = browse_queue(s, o->queue, 0, preview_one, &pr, o->stop, &bs, err);
    res->mover.snapshot = bs.snapshot;
    res->mover.consumers = bs.consumers;
    targets_release(&pr.targets);
    return rc;
}

static void add_count(json_t *j, const char *k, uint64_t v)
{
    json_object_set_new(j, k, json_integer((json_int_t)v));
}

json_t *replay_summary_json(json_t *broker, const char *vhost, const char *queue,
                            const struct replay_result *r, bool dry_run, bool ok, const char *error)
{
    const struct rmqt_mover_stats *m = &r->mover;
    json_t *j = json_object();

    if (broker)
        json_object_set_new(j, "broker", broker);

    json_object_set_new(j, "vhost", json_string(vhost));
    json_object_set_new(j, "queue", json_string(queue));
    json_object_set_new(j, "dry_run", json_boolean(dry_run));
    add_count(j, "snapshot", m->snapshot);
    add_count(j, dry_run ? "would_move" : "moved", m->moved);
    add_count(j, dry_run ? "would_park" : "parked", m->parked);
    add_count(j, "filtered", r->filtered);
    add_count(j, "returned", m->returned);
    add_count(j, "nacked", m->nacked);
    add_count(j, "refused", m->refused);
    add_count(j, "unconfirmed", m->unconfirmed);
    add_count(j, "at_max_replays", r->at_max);
    add_count(j, "no_home", r->no_home);
    add_count(j, "no_target", r->no_target);
    add_count(j, "left", m->left);
    add_count(j, "at_delivery_limit", m->at_limit);
    json_object_set_new(j, "seconds", rmqt_json_seconds(m->seconds));
    json_object_set_new(
        j, "rate",
        rmqt_json_rate(m->seconds > 0 ? (double)(m->moved + m->parked) / m->seconds : 0));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_object_set_new(j, "error", error ? json_string(error) : json_null());
    return j;
}

uint64_t replay_read_left(const struct replay_result *res)
{
    return res->filtered + res->mover.returned + res->mover.nacked + res->mover.refused +
           res->at_max + res->no_home + res->no_target;
}
