/*
 * browse.c - a non-destructive read (dlq.md).
 *
 * Every delivery stays unacknowledged until the channel closes, so the prefetch must cover
 * the whole read, or the broker stops delivering and the read stalls. The read ends at the
 * limit, at the snapshot, or when nothing has come for a while (other consumers may hold the
 * rest, or messages expired).
 */
#define _POSIX_C_SOURCE 200809L
#include "browse.h"

#include "delivery.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define IDLE_MS 2000
#define FIRST_MS 10000
#define PREFETCH 1000

static int start_consumer(struct rmqt_session *s, amqp_channel_t ch, const char *queue,
                          amqp_bytes_t *tag, char *tag_buf, size_t cap, struct rmqt_error *err)
{
    amqp_connection_state_t conn = rmqt_session_conn(s);
    amqp_basic_consume_ok_t *ok;
    char what[600];

    ok = amqp_basic_consume(conn, ch, rmqt_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                            amqp_empty_table);
    snprintf(what, sizeof(what), "read queue '%s'", queue);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(conn), what, err) < 0)
        return -1;
    tag->len = ok->consumer_tag.len < cap ? ok->consumer_tag.len : 0;
    memcpy(tag_buf, ok->consumer_tag.bytes, tag->len);
    tag->bytes = tag_buf;
    return 0;
}

int browse_queue(struct rmqt_session *s, const char *queue, uint64_t limit, browse_fn fn, void *ctx,
                 const volatile sig_atomic_t *stop, struct browse_stats *st, struct rmqt_error *err)
{
    amqp_connection_state_t conn = rmqt_session_conn(s);
    amqp_channel_t ch = 0;
    uint32_t ready = 0, consumers = 0;
    uint64_t want, prefetch, since = 0;
    amqp_bytes_t tag;
    char what[600], tag_buf[256];
    int rc = -1;

    memset(st, 0, sizeof(*st));
    if (rmqt_session_queue_counts(s, rmqt_session_channel(s), queue, &ready, &consumers, err) < 0)
        return -1;
    st->snapshot = ready;
    st->consumers = consumers;
    want = limit && limit < ready ? limit : ready;
    if (want == 0)
        return 0;
    ch = rmqt_session_open_channel(s, err);
    if (!ch)
        return -1;
    /* Every delivery stays unacknowledged, so a consumer stops at its prefetch: each
     * PREFETCH deliveries it is replaced by a new one (a cancel keeps the held deliveries
     * unacknowledged on the channel). A prefetch as large as the read would make a quorum
     * queue wait seconds before its first delivery (seen on 3.10.8). */
    prefetch = want < PREFETCH ? want : PREFETCH;
    amqp_basic_qos(conn, ch, 0, (uint16_t)prefetch, 0);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(conn), "basic.qos", err) < 0)
        goto out;
    if (start_consumer(s, ch, queue, &tag, tag_buf, sizeof(tag_buf), err) < 0)
        goto out;
    snprintf(what, sizeof(what), "read queue '%s'", queue);
    while (st->read < want && !(stop && *stop)) {
        long wait_ms = st->read ? IDLE_MS : FIRST_MS;
        struct timeval tv = {wait_ms / 1000, (wait_ms % 1000) * 1000};
        amqp_envelope_t env;
        int k;

        if (since == prefetch) {
            amqp_basic_cancel(conn, ch, tag);
            if (rmqt_session_check(s, ch, amqp_get_rpc_reply(conn), "cancel", err) < 0 ||
                start_consumer(s, ch, queue, &tag, tag_buf, sizeof(tag_buf), err) < 0)
                goto out;
            since = 0;
        }

        amqp_maybe_release_buffers(conn);
        k = rmqt_next_delivery(s, ch, queue, st->read, &tv, &env, err);
        if (k < 0) {
            if (!rmqt_session_is_alive(s))
                ch = 0;
            goto out;
        }
        if (k == 0)
            break; /* the rest is held elsewhere, or gone */
        st->read++;
        since++;
        k = fn(ctx, &env, err);
        amqp_destroy_envelope(&env);
        if (k < 0)
            goto out;
        if (k > 0)
            break;
    }
    rc = 0;
out:
    if (ch && rmqt_session_is_alive(s)) {
        struct rmqt_error ignore;
        /* closing the channel gives every unacknowledged delivery back to the queue */
        amqp_channel_close(conn, ch, AMQP_REPLY_SUCCESS);
        if (rmqt_session_check(s, ch, amqp_get_rpc_reply(conn), "close", rc < 0 ? &ignore : err) <
            0)
            rc = -1;
    }
    return rc;
}
