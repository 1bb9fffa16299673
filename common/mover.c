/*
 * mover.c - the safe mover (dlq.md): consume, publish with confirms, acknowledge after.
 *
 * Decisions:
 * - Two connections served by one thread with poll(): rabbitmq-c reads one socket at a time
 *   and delivers, returns and confirms interleaved; keeping consume and publish apart means
 *   each socket carries one kind of traffic and neither starves the other.
 * - Publishes awaiting a confirm live in a ring indexed by sequence number (confirm mode
 *   numbers publishes 1, 2, ... on the channel). A confirm marks entries; entries leave the
 *   ring in order, and only then is the source acknowledged, so source acks go out in
 *   delivery order.
 * - basic.return carries no sequence number; the broker sends it just before the ack that
 *   covers the publish. It is matched to an outstanding publish by a digest of exchange,
 *   routing key, properties and body (identical contents are interchangeable), and that
 *   publish's source message is then not acknowledged.
 * - Source acks are coalesced with multiple=true while every earlier delivery of the channel
 *   is confirmed; once a message is held (skipped, returned, refused), acks are sent one by one,
 *   because multiple=true would acknowledge the held message too.
 * - The destination may be a sink instead (dlq archive: a file): what it wrote is synced
 *   (fsync) when the window is full or the source pauses, and only then acknowledged. The
 *   source may be a callback instead of a queue (dlq restore: records of a file), told in
 *   order which of its messages are confirmed.
 * - The run handles at most the ready count of a passive queue.declare taken at the start
 *   (exact, unlike the management API's statistics): a message that dies again during the run
 *   comes back behind the snapshot and is not handled twice.
 */
#define _POSIX_C_SOURCE 200809L
#include "mover.h"

#include "delivery.h"
#include "msgdigest.h"
#include "textutil.h"
#include "xalloc.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define DEFAULT_WINDOW 1024
#define DEFAULT_IDLE_MS 1000
#define DRAIN_TIMEOUT_MS 30000
#define IDLE_CHECKS 5
#define DRAIN_EVERY 32
#define SINK_PAUSE_MS 20

#define MID_KEEP 64 /* bytes of a message id kept for reporting a refusal */

struct pending {
    uint64_t tag, pos;
    amqp_channel_t ch; /* the source channel it was delivered on */
    struct rmqt_digest digest;
    bool done, acked, returned, parked;
    bool requeue; /* unconfirmed when the broker closed the channel: give it back */
    bool refused; /* the publish that made the broker close the channel: hold it */
    uint8_t mid_len;
    char mid[MID_KEEP];
};

struct mover {
    struct rmqt_session *src, *dst;
    const struct rmqt_mover_config *cfg;
    struct rmqt_mover_stats *st;
    struct rmqt_error *err;
    amqp_channel_t sch, pch, dch; /* consume, passive checks, publish */
    amqp_channel_t first_ch;      /* the run's first source channel: older ones are stale */
    /* earlier consuming channels of this run: they hold messages (left in the source, or
     * still awaiting a confirm) and are closed at the end */
    amqp_channel_t *old_ch;
    size_t n_old, old_cap;
    amqp_bytes_t ctag;
    char ctag_buf[256];
    struct pending *ring;
    size_t cap, head, count;
    uint64_t head_seq, next_seq; /* the sequence number of ring[head]; of the next publish */
    uint64_t taken, target, published;
    double last_delivery; /* when the last delivery came (for the idle check) */
    int idle_checks;      /* idle checks in a row that found messages still ready */
    uint64_t multi_tag;   /* confirmed deliveries not yet acknowledged with multiple=true */
    bool held_any;
    uint64_t held_now;   /* messages held since the current consumer started */
    bool dst_readable;   /* poll() saw the destination's socket readable */
    uint64_t drained_at; /* m->taken at the last read of the destination */
    bool stopping, failed, consuming;
    bool dst_closed; /* the broker closed the publishing channel */
    /* deliveries still to publish one at a time, each confirmed before the next, after the
     * broker closed the publishing channel: finds the publish it refuses */
    uint64_t careful;
    amqp_table_entry_t *scratch;
    size_t scratch_cap;
    double t0, first_publish;
};

static int fail(struct mover *m, int rc)
{
    m->failed = true;
    m->stopping = true;
    return rc;
}

static int ack_source(struct mover *m, amqp_channel_t ch, uint64_t tag, bool multiple)
{
    int status = amqp_basic_ack(rmqt_session_conn(m->src), ch, tag, multiple);
    return rmqt_session_status(m->src, status, "acknowledge at the source", m->err);
}

static int flush_multi(struct mover *m)
{
    uint64_t tag = m->multi_tag;
    m->multi_tag = 0;
    return tag ? ack_source(m, m->sch, tag, true) : 0;
}

/* A message stays unacknowledged at the source from now on: no more multiple acks. */
static int hold(struct mover *m)
{
    m->held_now++;
    if (m->held_any)
        return 0;
    if (flush_multi(m) < 0)
        return -1;
    m->held_any = true;
    return 0;
}

static struct pending *pending_at(struct mover *m, uint64_t seq)
{
    if (seq < m->head_seq || seq >= m->head_seq + m->count)
        return NULL;
    return &m->ring[(m->head + (size_t)(seq - m->head_seq)) % m->cap];
}

/* ": the message stays in queue 'q'" for a queue source, "" for a callback source. */
static const char *stays(const struct mover *m, char *buf, size_t cap)
{
    if (m->cfg->source)
        return "";
    snprintf(buf, cap, ": it stays in queue '%s'", m->cfg->queue);
    return buf;
}

/* Settles the entries at the head that the broker has answered. */
static int settle(struct mover *m)
{
    while (m->count && m->ring[m->head].done) {
        struct pending *p = &m->ring[m->head];
        if (p->acked && !p->returned) {
            if (p->parked)
                m->st->parked++;
            else
                m->st->moved++;
            if (m->cfg->source) {
                m->cfg->source->done(m->cfg->source->ctx, p->tag);
            } else if (m->cfg->copy) {
                if (hold(m) < 0)
                    return -1;
            } else if (!m->held_any && p->ch == m->sch) {
                m->multi_tag = p->tag;
            } else if (ack_source(m, p->ch, p->tag, false) < 0) {
                return -1;
            }
        } else if (p->returned) {
            m->st->returned++;
        } else if (p->refused) {
            if (hold(m) < 0) /* it stays unacknowledged: released at the end */
                return -1;
        } else if (p->requeue) {
            /* it may be at the destination already: give it back now, it comes again and is
             * published once more, alone */
            m->st->unconfirmed++;
            m->taken--;
            if (hold(m) < 0)
                return -1;
            m->held_now--;
            if (rmqt_session_status(
                    m->src, amqp_basic_nack(rmqt_session_conn(m->src), p->ch, p->tag, false, true),
                    "requeue at the source", m->err) < 0)
                return -1;
        } else {
            /* nack: the broker did not take it; give it back to the source now */
            char where[600];
            int status;
            m->st->nacked++;
            if (!m->cfg->source) {
                if (hold(m) < 0)
                    return -1;
                status = amqp_basic_nack(rmqt_session_conn(m->src), p->ch, p->tag, false, true);
                if (rmqt_session_status(m->src, status, "requeue at the source", m->err) < 0)
                    return -1;
            }
            if (!m->failed)
                rmqt_error_set(m->err, RMQT_ERR_AMQP,
                               "the broker refused a publish (basic.nack)%s; stopping",
                               stays(m, where, sizeof(where)));
            fail(m, 0);
        }
        m->head = (m->head + 1) % m->cap;
        m->head_seq++;
        m->count--;
    }
    return m->held_any ? 0 : flush_multi(m);
}

static int on_confirm(struct mover *m, uint64_t seq, bool multiple, bool ack)
{
    uint64_t s = multiple ? m->head_seq : seq;
    for (; s <= seq; s++) {
        struct pending *p = pending_at(m, s);
        if (p && !p->done) {
            p->done = true;
            p->acked = ack;
        }
    }
    return settle(m);
}

/* Makes what the sink holds durable, then settles it as confirmed. */
static int sync_sink(struct mover *m)
{
    size_t k;

    if (m->count == 0)
        return 0;
    if (m->cfg->sink->sync(m->cfg->sink->ctx, m->err) < 0)
        return fail(m, -1);
    for (k = 0; k < m->count; k++) {
        struct pending *p = &m->ring[(m->head + k) % m->cap];
        p->done = true;
        p->acked = true;
    }
    return settle(m) < 0 ? fail(m, -1) : 0;
}

/* Every publish not yet confirmed is treated as returned: it stays in the source. */
static size_t return_all_unconfirmed(struct mover *m)
{
    size_t k, n = 0;
    for (k = 0; k < m->count; k++) {
        struct pending *p = &m->ring[(m->head + k) % m->cap];
        if (!p->done && !p->returned) {
            p->returned = true;
            n++;
        }
    }
    return n;
}

static int on_return(struct mover *m, const amqp_frame_t *frame)
{
    amqp_basic_return_t *r = frame->payload.method.decoded;
    amqp_connection_state_t conn = rmqt_session_conn(m->dst);
    struct rmqt_digest d;
    amqp_message_t msg;
    amqp_rpc_reply_t rr;
    amqp_bytes_t ex, rk;
    char exs[900], rks[900], where[600];
    size_t k;
    bool matched = false;
    int code = r->reply_code;

    /* byte strings, not C strings: names and keys may hold NUL bytes; copied because reading
     * the content may reuse the method's memory */
    ex = amqp_bytes_malloc_dup(r->exchange);
    rk = amqp_bytes_malloc_dup(r->routing_key);
    rr = amqp_read_message(conn, frame->channel, &msg, 0);
    if (rmqt_session_check(m->dst, frame->channel, rr, "read a returned message", m->err) < 0) {
        amqp_bytes_free(ex);
        amqp_bytes_free(rk);
        return -1;
    }
    rmqt_show_bytes(exs, sizeof(exs), ex);
    rmqt_show_bytes(rks, sizeof(rks), rk);
    if (frame->channel != m->dch) {
        /* a return of an earlier run's channel: its publish was settled there */
        amqp_destroy_message(&msg);
        amqp_bytes_free(ex);
        amqp_bytes_free(rk);
        return 0;
    }
    rmqt_digest_init(&d);
    rmqt_digest_returnable(&d, ex, rk, &msg.properties, msg.body);
    amqp_destroy_message(&msg);
    amqp_bytes_free(ex);
    amqp_bytes_free(rk);
    /* identical contents are interchangeable: the first unconfirmed one is taken */
    for (k = 0; k < m->count; k++) {
        struct pending *p = &m->ring[(m->head + k) % m->cap];
        if (!p->done && !p->returned && rmqt_digest_equal(&p->digest, &d)) {
            p->returned = true;
            matched = true;
            break;
        }
    }
    if (hold(m) < 0)
        return -1;
    if (!matched) {
        /* a return that matches no publish must not let any publish be acknowledged: every
         * unconfirmed one stays in the source */
        size_t n = return_all_unconfirmed(m);
        if (!m->failed)
            rmqt_error_set(m->err, RMQT_ERR_AMQP,
                           "the broker returned a message (%d: exchange '%s', routing key '%s') "
                           "that matches none of the %zu unconfirmed publishes; they all stay "
                           "in the source%s; stopping",
                           code, exs, rks, n, stays(m, where, sizeof(where)));
        return fail(m, 0);
    }
    if (m->cfg->stop_on_return && !m->failed) {
        rmqt_error_set(m->err, RMQT_ERR_AMQP,
                       "the broker returned a message (%d NO_ROUTE: exchange '%s', routing key "
                       "'%s')%s; stopping",
                       code, exs, rks, stays(m, where, sizeof(where)));
        fail(m, 0);
    }
    return 0;
}

static void report_refusal(struct mover *m, const struct pending *p, amqp_bytes_t rk, int code,
                           const char *reason)
{
    struct rmqt_refusal r;

    m->st->refused++;
    if (!m->cfg->refused)
        return;
    memset(&r, 0, sizeof(r));
    r.position = p->pos;
    r.delivery_tag = p->tag;
    r.message_id.bytes = (void *)p->mid;
    r.message_id.len = p->mid_len;
    r.routing_key = rk;
    r.reply_code = code;
    r.reason = reason;
    m->cfg->refused(m->cfg->ctx, &r);
}

/* The broker closed the publishing channel (the session has reopened it). With 406
 * PRECONDITION_FAILED the cause is one message: what was published but not confirmed may be
 * at the destination or not, so it goes back to the source and comes again, to be published
 * one at a time; a close while a single publish was outstanding names that message. Any other
 * close, or one of a callback source (which cannot give messages back), ends the run. */
static int recover_publish_channel(struct mover *m, int code, const char *reason)
{
    amqp_connection_state_t dc = rmqt_session_conn(m->dst);
    size_t k, unconfirmed = 0;
    struct pending *last = NULL;

    for (k = 0; k < m->count; k++) {
        struct pending *p = &m->ring[(m->head + k) % m->cap];
        if (!p->done) {
            unconfirmed++;
            last = p;
        }
    }
    if (code != 406 || m->cfg->source || unconfirmed == 0 || !rmqt_session_is_alive(m->dst)) {
        m->dst_closed = true; /* finish() counts the unconfirmed */
        return fail(m, -1);
    }
    if (m->careful && unconfirmed == 1) {
        last->done = true;
        last->refused = true;
        report_refusal(m, last, amqp_empty_bytes, code, reason);
    } else {
        for (k = 0; k < m->count; k++) {
            struct pending *p = &m->ring[(m->head + k) % m->cap];
            if (!p->done) {
                p->done = true;
                p->requeue = true;
            }
        }
        /* the requeued ones come back behind what the consumer holds already */
        m->careful = unconfirmed + 2 * m->cap;
    }
    if (settle(m) < 0)
        return fail(m, -1);
    if (m->count != 0)
        return fail(m,
                    rmqt_error_set(m->err, RMQT_ERR_INTERNAL,
                                   "publish channel reset with %zu publishes unsettled", m->count));
    amqp_confirm_select(dc, m->dch);
    if (rmqt_session_check(m->dst, m->dch, amqp_get_rpc_reply(dc), "confirm.select", m->err) < 0)
        return fail(m, -1);
    m->next_seq = 1;
    m->head_seq = 1;
    if (!m->failed)
        rmqt_error_init(m->err);
    return 0;
}

/* Reads what the destination sent: confirms, returns, closes. Waits up to timeout_ms for the
 * first frame. */
static int drain_dst(struct mover *m, long timeout_ms)
{
    amqp_connection_state_t conn = rmqt_session_conn(m->dst);
    struct timeval tv;
    amqp_frame_t f;
    int status;

    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    for (;;) {
        status = amqp_simple_wait_frame_noblock(conn, &f, &tv);
        if (status == AMQP_STATUS_TIMEOUT)
            break;
        if (rmqt_session_status(m->dst, status, "read confirms", m->err) < 0)
            return -1;
        tv.tv_sec = 0;
        tv.tv_usec = 0;
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        /* confirms of an earlier run's channel were settled there (or never came): only this
         * channel's count; a return is read whole whatever its channel */
        if (f.channel != m->dch && f.payload.method.id != AMQP_BASIC_RETURN_METHOD &&
            f.payload.method.id != AMQP_CONNECTION_CLOSE_METHOD)
            continue;
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            if (on_confirm(m, a->delivery_tag, a->multiple, true) < 0)
                return -1;
            break;
        }
        case AMQP_BASIC_NACK_METHOD: {
            amqp_basic_nack_t *a = f.payload.method.decoded;
            if (on_confirm(m, a->delivery_tag, a->multiple, false) < 0)
                return -1;
            break;
        }
        case AMQP_BASIC_RETURN_METHOD:
            if (on_return(m, &f) < 0)
                return -1;
            break;
        case AMQP_CHANNEL_CLOSE_METHOD: {
            int code = ((amqp_channel_close_t *)f.payload.method.decoded)->reply_code;
            char reason[sizeof(m->err->message)];
            /* answers the close and reopens the channel; no confirm comes for what was
             * published on the closed one */
            rmqt_session_closed_by_broker(m->dst, &f, "publish", m->err);
            snprintf(reason, sizeof(reason), "%s", m->err->message);
            if (recover_publish_channel(m, code, reason) < 0)
                return -1;
            break;
        }
        case AMQP_CONNECTION_CLOSE_METHOD:
            m->dst_closed = true;
            return rmqt_session_closed_by_broker(m->dst, &f, "publish", m->err);
        default:
            break; /* connection.blocked/unblocked and the like */
        }
    }
    amqp_maybe_release_buffers_on_channel(conn, m->dch);
    return 0;
}

static bool bytes_equal(amqp_bytes_t a, amqp_bytes_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.bytes, b.bytes, a.len) == 0);
}

/* A user_id the broker refuses from this user (it would close the channel, RabbitMQ's
 * "validated user-id"): the message is not published. It stays in a queue source; a callback
 * source (restore) stops before it, so that a re-run starts there. */
static int refuse_user_id(struct mover *m, const struct pending *p, const struct rmqt_outgoing *out)
{
    char uid[900], reason[1200];

    rmqt_show_bytes(uid, sizeof(uid), out->props.user_id);
    snprintf(reason, sizeof(reason),
             "its user_id property is '%s' but the connecting user is '%s': the broker refuses "
             "it (406 PRECONDITION_FAILED) unless that user has the impersonator tag",
             uid, rmqt_session_user(m->dst));
    report_refusal(m, p, out->routing_key, 0, reason);
    if (m->cfg->source) {
        rmqt_error_set(m->err, RMQT_ERR_AMQP, "message %llu: %s; stopping before it",
                       (unsigned long long)p->pos, reason);
        return fail(m, -1);
    }
    return hold(m);
}

static int publish(struct mover *m, const amqp_envelope_t *env)
{
    const struct rmqt_mover_config *cfg = m->cfg;
    struct rmqt_outgoing out;
    struct pending *p;
    int verdict, status;

    memset(&out, 0, sizeof(out));
    out.exchange = rmqt_bytes(cfg->exchange ? cfg->exchange : "");
    out.routing_key = rmqt_bytes(cfg->routing_key ? cfg->routing_key : "");
    rmqt_props_without_counters(&env->message.properties, &out.props, &m->scratch, &m->scratch_cap);
    out.body = env->message.body;
    verdict = RMQT_MOVE;
    if (cfg->prepare) {
        verdict = cfg->prepare(cfg->ctx, env, &out, m->err);
        if (verdict < 0)
            return fail(m, -1);
    }
    if (cfg->has_delivery_limit && (verdict == RMQT_STOP || verdict == RMQT_SKIP || cfg->copy) &&
        rmqt_delivery_count(&env->message.properties) >= cfg->delivery_limit)
        m->st->at_limit++;
    if (verdict == RMQT_STOP) {
        m->stopping = true;
        return hold(m); /* this one stays unacknowledged: released at the end */
    }
    if (verdict == RMQT_SKIP) {
        m->st->skipped++;
        return hold(m);
    }
    p = &m->ring[(m->head + m->count) % m->cap];
    memset(p, 0, sizeof(*p));
    p->tag = env->delivery_tag;
    p->ch = env->channel;
    p->pos = m->taken;
    p->parked = verdict == RMQT_PARK;
    if (out.props._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
        p->mid_len =
            (uint8_t)(out.props.message_id.len < MID_KEEP ? out.props.message_id.len : MID_KEEP);
        memcpy(p->mid, out.props.message_id.bytes, p->mid_len);
    }
    if (!cfg->sink && !cfg->may_impersonate && (out.props._flags & AMQP_BASIC_USER_ID_FLAG) &&
        !bytes_equal(out.props.user_id, rmqt_bytes(rmqt_session_user(m->dst))))
        return refuse_user_id(m, p, &out);
    if (cfg->sink) {
        if (cfg->sink->write(cfg->sink->ctx, env, &out, m->err) < 0)
            return fail(m, -1);
    } else {
        rmqt_digest_init(&p->digest);
        rmqt_digest_returnable(&p->digest, out.exchange, out.routing_key, &out.props, out.body);
        status = amqp_basic_publish(rmqt_session_conn(m->dst), m->dch, out.exchange,
                                    out.routing_key, 1, 0, &out.props, out.body);
        if (rmqt_session_status(m->dst, status, "publish", m->err) < 0)
            return fail(m, -1);
    }
    if (m->count == 0)
        m->head_seq = m->next_seq;
    m->count++;
    m->next_seq++;
    if (m->published++ == 0)
        m->first_publish = rmqt_now_s();
    if (cfg->sink && m->count >= m->cap)
        return sync_sink(m);
    return 0;
}

/* Reads one delivery (or whatever the source sent) without waiting. */
static int take_one(struct mover *m)
{
    amqp_connection_state_t conn = m->src ? rmqt_session_conn(m->src) : NULL;
    struct timeval tv = {0, 0};
    amqp_envelope_t env;
    int rc;

    if (m->cfg->source) {
        rc = m->cfg->source->next(m->cfg->source->ctx, &env, m->err);
        if (rc < 0)
            return fail(m, -1);
        if (rc == 0) {
            m->target = m->taken; /* the end: take nothing more */
            return 0;
        }
        m->taken++;
        if (m->careful)
            m->careful--;
        return publish(m, &env);
    }
    amqp_maybe_release_buffers_on_channel(conn, m->sch);
    rc = rmqt_next_delivery(m->src, m->first_ch, m->cfg->queue, m->taken, &tv, &env, m->err);
    if (rc < 0) {
        m->consuming = false;
        return fail(m, -1);
    }
    if (rc == 0)
        return 0;
    m->taken++;
    m->last_delivery = rmqt_now_s();
    m->idle_checks = 0;
    if (m->careful)
        m->careful--;
    rc = publish(m, &env);
    amqp_destroy_envelope(&env);
    return rc;
}

static bool has_buffered(struct rmqt_session *s)
{
    amqp_connection_state_t c = rmqt_session_conn(s);
    return amqp_frames_enqueued(c) || amqp_data_in_buffer(c);
}

static void report(struct mover *m)
{
    if (m->cfg->progress)
        m->cfg->progress(m->cfg->progress_ctx ? m->cfg->progress_ctx : m->cfg->ctx, m->st);
}

static int consume(struct mover *m)
{
    amqp_connection_state_t sc = rmqt_session_conn(m->src);
    amqp_basic_consume_ok_t *ok;
    char what[600];

    ok = amqp_basic_consume(sc, m->sch, rmqt_bytes(m->cfg->queue), amqp_empty_bytes, 0, 0, 0,
                            amqp_empty_table);
    snprintf(what, sizeof(what), "consume from queue '%s'", m->cfg->queue);
    if (rmqt_session_check(m->src, m->sch, amqp_get_rpc_reply(sc), what, m->err) < 0)
        return -1;
    m->ctag.len = ok->consumer_tag.len < sizeof(m->ctag_buf) ? ok->consumer_tag.len : 0;
    memcpy(m->ctag_buf, ok->consumer_tag.bytes, m->ctag.len);
    m->ctag.bytes = m->ctag_buf;
    m->consuming = true;
    m->held_now = 0;
    return 0;
}

static uint64_t prefetch_of(const struct mover *m)
{
    return 2 * m->cap > 65535 ? 65535 : 2 * m->cap;
}

/* The consumer holds as many messages as the prefetch leaves room for beside the window:
 * replace it with a new one. The held messages stay unacknowledged on the channel (a cancel
 * does not requeue them) and no longer count against the new consumer's prefetch; deliveries
 * that arrive during the cancel are queued by rabbitmq-c and handled as usual. */
static int renew_consumer(struct mover *m)
{
    amqp_connection_state_t sc = rmqt_session_conn(m->src);
    struct rmqt_error ignore;
    amqp_channel_t ch;

    amqp_basic_cancel(sc, m->sch, m->ctag);
    m->consuming = false;
    if (rmqt_session_check(m->src, m->sch, amqp_get_rpc_reply(sc), "cancel", m->err) < 0)
        return -1;
    /* On a channel of its own: the broker walks a channel's unacknowledged deliveries from
     * the oldest for every single ack, so acks behind thousands of held messages on one
     * channel slowed the queue to a crawl (seen on 3.10.8: a replay whose target returned
     * messages for a while stalled for seconds at a time). The held messages stay on the old
     * channel, which stays open to the end. When no channel is left (channel_max), the same
     * channel serves on. */
    if (flush_multi(m) < 0)
        return -1;
    ch = rmqt_session_open_channel(m->src, &ignore);
    if (ch) {
        amqp_basic_qos(sc, ch, 0, (uint16_t)prefetch_of(m), 0);
        if (rmqt_session_check(m->src, ch, amqp_get_rpc_reply(sc), "basic.qos", m->err) < 0)
            return -1;
        XGROW(m->old_ch, m->old_cap, m->n_old + 1);
        m->old_ch[m->n_old++] = m->sch;
        m->sch = ch;
        m->held_any = false;
    }
    return consume(m);
}

static int setup(struct mover *m)
{
    const struct rmqt_mover_config *cfg = m->cfg;
    uint32_t ready = 0, consumers = 0;
    uint64_t prefetch;

    if (cfg->source) {
        m->target = UINT64_MAX; /* until the source ends */
    } else {
        m->sch = rmqt_session_open_channel(m->src, m->err);
        if (!m->sch)
            return -1;
        m->first_ch = m->sch;
        m->pch = rmqt_session_open_channel(m->src, m->err);
        if (!m->pch)
            return -1;
        if (rmqt_session_queue_counts(m->src, m->pch, cfg->queue, &ready, &consumers, m->err) < 0)
            return -1;
        m->st->snapshot = ready;
        m->st->consumers = consumers;
        m->target = ready;
        if (m->target == 0)
            return 0;
    }
    if (!cfg->sink) {
        amqp_connection_state_t dc = rmqt_session_conn(m->dst);
        m->dch = rmqt_session_open_channel(m->dst, m->err);
        if (!m->dch)
            return -1;
        amqp_confirm_select(dc, m->dch);
        if (rmqt_session_check(m->dst, m->dch, amqp_get_rpc_reply(dc), "confirm.select", m->err) <
            0)
            return -1;
    }
    if (cfg->source)
        return 0;
    /* Held messages (skipped, returned, copied) count against the prefetch: the consumer is
     * renewed before they could fill it (renew_consumer), so a small prefetch serves any run.
     * A prefetch as large as the queue would make a quorum queue wait seconds before its first
     * delivery (seen on 3.10.8: 2 s for 100,000 messages, ready reported as 0 meanwhile). */
    prefetch = prefetch_of(m);
    amqp_basic_qos(rmqt_session_conn(m->src), m->sch, 0, (uint16_t)prefetch, 0);
    if (rmqt_session_check(m->src, m->sch, amqp_get_rpc_reply(rmqt_session_conn(m->src)),
                           "basic.qos", m->err) < 0)
        return -1;
    return consume(m);
}

/* Publishes awaiting a confirm at most: one at a time while a refused publish is looked for. */
static size_t window(const struct mover *m)
{
    return m->careful ? 1 : m->cap;
}

/* The main loop: take while the window has room, read confirms (or sync the sink), stop at
 * the snapshot. */
static void run_loop(struct mover *m)
{
    const struct rmqt_mover_config *cfg = m->cfg;
    long idle_ms = cfg->idle_ms > 0 ? cfg->idle_ms : DEFAULT_IDLE_MS;
    /* the first report at once (0 of the snapshot): a progress display shows the run from
     * its start, then every half second */
    double last_report = rmqt_now_s() - 0.5;
    bool sink = cfg->sink != NULL, from_queue = cfg->source == NULL;

    m->last_delivery = rmqt_now_s();

    for (;;) {
        struct pollfd pfd[2];
        bool want_src, rate_wait = false;
        double now = rmqt_now_s(), wait_s = 0.1;
        int n = 0, src_at = -1, k;

        if (cfg->stop && *cfg->stop)
            m->stopping = true;
        /* read confirms when they are there, and every few deliveries anyway: not a recv()
         * per message, whose CPU the broker on the same machine would miss */
        if (!sink &&
            (m->dst_readable || has_buffered(m->dst) || m->count >= window(m) ||
             m->taken - m->drained_at >= DRAIN_EVERY || m->stopping || m->taken >= m->target)) {
            m->dst_readable = false;
            m->drained_at = m->taken;
            if (drain_dst(m, 0) < 0) {
                fail(m, -1);
                break;
            }
        }
        if (sink && m->count && (m->stopping || m->taken >= m->target) && sync_sink(m) < 0)
            break;
        if ((m->stopping || m->taken >= m->target) && m->count == 0)
            break;
        if (cfg->limit && m->published >= cfg->limit)
            m->stopping = true;
        want_src = !m->stopping && m->taken < m->target && m->count < window(m);
        if (want_src && cfg->rate > 0 && m->published > 0) {
            double next = m->first_publish + (double)m->published / cfg->rate;
            if (now < next) {
                want_src = false;
                rate_wait = true;
                wait_s = next - now < 0.1 ? next - now : 0.1;
            }
        }
        if (now - last_report >= 0.5) {
            report(m);
            last_report = now;
        }
        if (want_src && from_queue && m->consuming && m->held_now >= m->cap &&
            renew_consumer(m) < 0) {
            fail(m, -1);
            break;
        }
        if (want_src && (!from_queue || has_buffered(m->src))) {
            if (take_one(m) < 0)
                break;
            continue;
        }
        if (!sink) {
            pfd[n].fd = rmqt_session_fd(m->dst);
            pfd[n++].events = POLLIN;
        }
        if (want_src) {
            src_at = n;
            pfd[n].fd = rmqt_session_fd(m->src);
            pfd[n++].events = POLLIN;
        }
        /* a sink holding messages syncs when the source pauses, not only at a full window */
        if (sink && m->count && wait_s > SINK_PAUSE_MS / 1000.0)
            wait_s = SINK_PAUSE_MS / 1000.0;
        k = poll(n ? pfd : NULL, (nfds_t)n, (int)(wait_s * 1000) + (rate_wait ? 1 : 0));
        if (k > 0 && !sink && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
            m->dst_readable = true;
        if (k > 0 && src_at >= 0 && (pfd[src_at].revents & (POLLIN | POLLHUP | POLLERR)) &&
            take_one(m) < 0)
            break;
        if (sink && k == 0 && m->count && sync_sink(m) < 0)
            break;
        if (from_queue && want_src && m->count == 0 &&
            rmqt_now_s() - m->last_delivery >= (double)idle_ms / 1000) {
            /* nothing came for a while: are the snapshot's messages still there? (another
             * consumer may have taken them, or they expired) */
            uint32_t ready = 0;
            if (rmqt_session_queue_counts(m->src, m->pch, cfg->queue, &ready, NULL, m->err) < 0) {
                fail(m, -1);
                break;
            }
            /* a quorum queue may report 0 ready before its first delivery (seen) */
            if ((ready == 0 && m->taken > 0) || ++m->idle_checks >= IDLE_CHECKS)
                m->stopping = true;
            else if (ready > 0 && m->consuming && m->held_any && renew_consumer(m) < 0) {
                fail(m, -1);
                break;
            }
            m->last_delivery = rmqt_now_s();
        }
    }
}

/* Ends the run: no more deliveries, the outstanding confirms (or the sink's sync), acks, the
 * channel closed (what was not acknowledged goes back to the queue). */
static void finish(struct mover *m)
{
    amqp_connection_state_t sc = m->src ? rmqt_session_conn(m->src) : NULL;
    struct rmqt_error ignore;
    double until = rmqt_now_s() + DRAIN_TIMEOUT_MS / 1000.0;
    bool from_queue = m->cfg->source == NULL;
    size_t k;

    if (from_queue && m->consuming && rmqt_session_is_alive(m->src)) {
        amqp_basic_cancel(sc, m->sch, m->ctag);
        rmqt_session_check(m->src, m->sch, amqp_get_rpc_reply(sc), "cancel", &ignore);
        m->consuming = false;
    }
    if (m->cfg->sink) {
        if (m->count && !m->failed)
            sync_sink(m);
    } else {
        while (m->count && !m->dst_closed && rmqt_session_is_alive(m->dst) &&
               rmqt_now_s() < until) {
            if (drain_dst(m, 100) < 0) {
                fail(m, -1);
                break;
            }
        }
    }
    if (from_queue && rmqt_session_is_alive(m->src)) {
        if (!m->held_any)
            flush_multi(m);
        if (m->sch) {
            amqp_channel_close(sc, m->sch, AMQP_REPLY_SUCCESS);
            rmqt_session_check(m->src, m->sch, amqp_get_rpc_reply(sc), "close", &ignore);
        }
        for (k = 0; k < m->n_old; k++) {
            amqp_channel_close(sc, m->old_ch[k], AMQP_REPLY_SUCCESS);
            rmqt_session_check(m->src, m->old_ch[k], amqp_get_rpc_reply(sc), "close", &ignore);
        }
        if (m->pch) {
            amqp_channel_close(sc, m->pch, AMQP_REPLY_SUCCESS);
            rmqt_session_check(m->src, m->pch, amqp_get_rpc_reply(sc), "close", &ignore);
        }
    }
    /* the publishing channel is closed too: a later run on the same sessions (apply moves in
     * rounds) must not see this one's confirms or returns */
    if (m->dch && rmqt_session_is_alive(m->dst)) {
        amqp_connection_state_t dc = rmqt_session_conn(m->dst);
        amqp_channel_close(dc, m->dch, AMQP_REPLY_SUCCESS);
        rmqt_session_check(m->dst, m->dch, amqp_get_rpc_reply(dc), "close", &ignore);
    }
    if (m->dst_closed) {
        for (k = 0; k < m->count; k++)
            if (!m->ring[(m->head + k) % m->cap].done)
                m->st->unconfirmed++;
    }
    if (m->count && !m->failed) {
        char where[600];
        rmqt_error_set(m->err, RMQT_ERR_CONNECT, "%zu publishes were not confirmed in time%s",
                       m->count, stays(m, where, sizeof(where)));
        m->failed = true;
    }
}

int rmqt_mover_run(struct rmqt_session *src, struct rmqt_session *dst,
                   const struct rmqt_mover_config *cfg, struct rmqt_mover_stats *st,
                   struct rmqt_error *err)
{
    struct mover m;
    uint64_t handled;

    memset(st, 0, sizeof(*st));
    memset(&m, 0, sizeof(m));
    m.src = src;
    m.dst = dst;
    m.cfg = cfg;
    m.st = st;
    m.err = err;
    m.cap = cfg->window ? cfg->window : DEFAULT_WINDOW;
    m.ring = xcalloc(m.cap, sizeof(*m.ring));
    m.next_seq = 1;
    m.head_seq = 1;
    m.t0 = rmqt_now_s();
    if (setup(&m) < 0)
        m.failed = true;
    else if (m.target > 0)
        run_loop(&m);
    finish(&m);
    if (cfg->source) {
        m.target = m.taken;
        st->snapshot = m.taken;
    }
    handled = st->moved + st->parked + st->skipped + st->returned + st->nacked + st->refused;
    st->left = m.target > handled ? m.target - handled : 0;
    st->seconds = rmqt_now_s() - m.t0;
    report(&m);
    free(m.ring);
    free(m.old_ch);
    free(m.scratch);
    return m.failed ? -1 : 0;
}
