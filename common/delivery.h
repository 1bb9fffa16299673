/*
 * delivery.h - reading one delivery of a consumer, for every reader of queues (the mover,
 * dlq inspect): deliveries of channels closed earlier are dropped, a consumer cancelled or a
 * channel closed by the broker is an error, and a delivery the client library cannot decode is
 * named (position, delivery tag, exchange, routing key) instead of "invalid parameter".
 */
#ifndef RMQT_DELIVERY_H
#define RMQT_DELIVERY_H

#include <stdint.h>
#include <sys/time.h>

#include "amqp_compat.h"
#include "error.h"
#include "session.h"

/* Waits up to tv for the next delivery on s of a channel numbered ch_min or above (a
 * session numbers its channels upwards, so these are the reader's own: its consuming channel
 * and any it opened after ch_min). Returns 1 with *env that delivery (the caller destroys it;
 * env->channel says which channel); 0 when none came in time. What is not for this reader is
 * passed over (the wait starts again): a delivery of an older, closed channel, which the
 * broker has put back in its queue (publishing it or acknowledging its tag here would copy or
 * lose a message), and methods of older channels. -1 with err
 * set when the broker cancelled the consumer or closed the channel or connection, the
 * connection failed, or the delivery could not be decoded (err names it: position is the
 * caller's count of deliveries before it, queue the queue read). Channel numbers only
 * grow in a session (closed ones are not reused), which makes ch_min a safe test. */
int rmqt_next_delivery(struct rmqt_session *s, amqp_channel_t ch_min, const char *queue,
                       uint64_t position, const struct timeval *tv, amqp_envelope_t *env,
                       struct rmqt_error *err);

/* A byte string for a message: at most 200 bytes, NUL, control and non-ASCII bytes as \xNN. */
void rmqt_show_bytes(char *out, size_t cap, amqp_bytes_t b);

#endif
