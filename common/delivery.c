/*
 * delivery.c - one delivery of a consumer, read frame by frame.
 *
 * Not amqp_consume_message(): on a delivery it cannot decode, that frees the delivery's
 * exchange and routing key before returning "invalid parameter", so nothing could say which
 * message it was. Here the basic.deliver method is read first and kept until the content is
 * read.
 */
#define _POSIX_C_SOURCE 200809L
#include "delivery.h"

#include <stdio.h>
#include <string.h>

void rmqt_show_bytes(char *out, size_t cap, amqp_bytes_t b)
{
    const unsigned char *p = b.bytes;
    size_t k, n = 0;

    if (cap == 0)
        return;
    for (k = 0; k < b.len && k < 200 && n + 5 < cap; k++) {
        if (p[k] >= 0x20 && p[k] < 0x7f && p[k] != '\\')
            out[n++] = (char)p[k];
        else
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", p[k]);
    }
    if (k < b.len && n + 4 < cap)
        n += (size_t)snprintf(out + n, cap - n, "...");
    out[n < cap ? n : cap - 1] = '\0';
}

static bool fatal_library_error(int e)
{
    return e == AMQP_STATUS_SOCKET_ERROR || e == AMQP_STATUS_CONNECTION_CLOSED ||
           e == AMQP_STATUS_HEARTBEAT_TIMEOUT || e == AMQP_STATUS_SSL_ERROR ||
           e == AMQP_STATUS_TCP_ERROR || e == AMQP_STATUS_SOCKET_CLOSED;
}

#define AGAIN 2

static int next_frame(struct rmqt_session *s, amqp_channel_t ch_min, const char *queue,
                      uint64_t position, const struct timeval *tv, amqp_envelope_t *env,
                      struct rmqt_error *err)
{
    amqp_connection_state_t conn = rmqt_session_conn(s);
    struct timeval wait = *tv;
    amqp_basic_deliver_t *dm;
    amqp_rpc_reply_t r;
    amqp_frame_t f;
    char what[600];
    int status;

    snprintf(what, sizeof(what), "read queue '%s'", queue);
    status = amqp_simple_wait_frame_noblock(conn, &f, &wait);
    if (status == AMQP_STATUS_TIMEOUT)
        return 0;
    if (rmqt_session_status(s, status, what, err) < 0)
        return -1;
    if (f.frame_type != AMQP_FRAME_METHOD)
        return AGAIN; /* the content of a delivery of a closed channel */
    switch (f.payload.method.id) {
    case AMQP_BASIC_DELIVER_METHOD:
        break;
    case AMQP_BASIC_CANCEL_METHOD:
        if (f.channel < ch_min)
            return AGAIN;
        return rmqt_error_set(err, RMQT_ERR_AMQP,
                              "the broker cancelled the consumer of queue '%s' (deleted?)", queue);
    case AMQP_CHANNEL_CLOSE_METHOD:
        if (f.channel < ch_min) {
            struct rmqt_error ignore;
            rmqt_session_closed_by_broker(s, &f, what, &ignore);
            return AGAIN;
        }
        return rmqt_session_closed_by_broker(s, &f, what, err);
    case AMQP_CONNECTION_CLOSE_METHOD:
        return rmqt_session_closed_by_broker(s, &f, what, err);
    default:
        return AGAIN;
    }
    dm = f.payload.method.decoded;
    memset(env, 0, sizeof(*env));
    env->channel = f.channel;
    env->delivery_tag = dm->delivery_tag;
    env->redelivered = dm->redelivered;
    env->consumer_tag = amqp_bytes_malloc_dup(dm->consumer_tag);
    env->exchange = amqp_bytes_malloc_dup(dm->exchange);
    env->routing_key = amqp_bytes_malloc_dup(dm->routing_key);
    r = amqp_read_message(conn, f.channel, &env->message, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && f.channel >= ch_min &&
            !fatal_library_error(r.library_error)) {
            char exs[900], rks[900];
            rmqt_show_bytes(exs, sizeof(exs), env->exchange);
            rmqt_show_bytes(rks, sizeof(rks), env->routing_key);
            rmqt_error_set(
                err, RMQT_ERR_AMQP,
                "message %llu read from queue '%s' (delivery tag %llu, exchange '%s', routing "
                "key '%s') cannot be decoded by the AMQP client library (%s; rabbitmq-c cannot "
                "read, for one, a header table with an empty key): nothing was taken from it "
                "and it stays in the queue, with the messages behind it. To get past it, move "
                "it with the broker's own shovel, which does not decode headers (a dynamic "
                "shovel with src-delete-after 1 moves the queue's first message), then run "
                "again",
                (unsigned long long)(position + 1), queue, (unsigned long long)env->delivery_tag,
                exs, rks, amqp_error_string2(r.library_error));
        } else {
            rmqt_session_check(s, f.channel, r, what, err);
        }
        amqp_bytes_free(env->consumer_tag);
        amqp_bytes_free(env->exchange);
        amqp_bytes_free(env->routing_key);
        memset(env, 0, sizeof(*env));
        return -1;
    }
    if (f.channel < ch_min) {
        amqp_destroy_envelope(env);
        return AGAIN;
    }
    return 1;
}

int rmqt_next_delivery(struct rmqt_session *s, amqp_channel_t ch_min, const char *queue,
                       uint64_t position, const struct timeval *tv, amqp_envelope_t *env,
                       struct rmqt_error *err)
{
    int rc;
    while ((rc = next_frame(s, ch_min, queue, position, tv, env, err)) == AGAIN)
        ;
    return rc;
}
