/*
 * browse.h - reading a queue without taking anything (dlq.md, "Reading without taking").
 *
 * Consume with manual acknowledgements and a prefetch as large as the read, acknowledge
 * nothing, then close the channel: the broker requeues every delivery, and a classic queue
 * keeps its order. inspect, replay --dry-run and archive --copy read this way.
 */
#ifndef RMQT_OPS_BROWSE_H
#define RMQT_OPS_BROWSE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "session.h"

struct browse_stats {
    uint64_t snapshot;  /* ready messages when the read started (passive queue.declare) */
    uint32_t consumers; /* other consumers at that moment */
    uint64_t read;      /* deliveries handed to the callback */
};

/* Called for each delivery; the envelope is borrowed for the call. Returns 0 to go on, 1 to
 * stop reading, -1 with err set to stop with an error. */
typedef int (*browse_fn)(void *ctx, const amqp_envelope_t *env, struct rmqt_error *err);

/* Reads at most limit messages of queue (0: all it held at the start) and gives them back.
 * Returns 0, or -1 with err set (the messages read are
 * given back in any case when the connection survives; if it does not, the broker requeues
 * them). */
int browse_queue(struct rmqt_session *s, const char *queue, uint64_t limit, browse_fn fn, void *ctx,
                 const volatile sig_atomic_t *stop, struct browse_stats *st,
                 struct rmqt_error *err);

#endif
