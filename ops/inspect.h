/*
 * inspect.h - dlq inspect: why the messages of a dead-letter queue died, without taking them.
 */
#ifndef RMQT_OPS_INSPECT_H
#define RMQT_OPS_INSPECT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "browse.h"
#include "death.h"
#include "error.h"
#include "session.h"

struct inspect_message {
    const amqp_envelope_t *env; /* borrowed for the callback */
    struct death death;         /* points into env */
    bool has_delivery_count;    /* x-delivery-count (quorum queues add it to each delivery) */
    int64_t delivery_count;
};

/* Messages by (queue died in, reason). queue and reason are NULL for messages without a
 * death record. Times: first deaths (x-death "time"), the oldest and the newest of the group. */
struct inspect_group {
    char *key; /* owned: queue "\0" reason */
    const char *queue, *reason;
    uint64_t count;
    bool has_time;
    uint64_t first, last;
};

struct inspect_result {
    struct browse_stats st;
    struct inspect_group *groups; /* by count, largest first, then by name */
    size_t n_groups;
    bool any_delivery_count;    /* a message carried x-delivery-count (quorum queues) */
    int64_t max_delivery_count; /* the highest read */
    uint64_t at_limit; /* read at the delivery limit: dropped or dead-lettered when given back */
};

/* Reads up to limit messages (0: all) of queue without taking them, calls each() for every
 * one in queue order, and groups them; delivery_limit (in force; -1: none) counts the
 * messages read at it. Returns 0, or -1 with err set. */
int inspect_run(struct rmqt_session *s, const char *queue, uint64_t limit, long delivery_limit,
                void (*each)(void *ctx, const struct inspect_message *m), void *ctx,
                const volatile sig_atomic_t *stop, struct inspect_result *res,
                struct rmqt_error *err);

struct dlq_source;

/* Whether a summary (every message of the queue read once: inspect_run with limit 0 and no
 * callback) may read src: NULL, or the reason it may not (dlq_read_needs_consent: a quorum
 * queue is not read, as every read raises x-delivery-count towards the delivery limit) unless
 * read_quorum, the user's consent, is given. */
const char *inspect_summary_refusal(const struct dlq_source *src, bool read_quorum);

/* The warning (new; caller frees) about the highest x-delivery-count read against the
 * delivery limit in force (-1: none); NULL when no message carried one. */
char *inspect_delivery_count_warning(const struct inspect_result *res, long delivery_limit);

/* The rule for inspect's success: not stopped, and no message left at the delivery limit
 * (reading it made the broker dead-letter or drop it). */
bool inspect_ok(const struct inspect_result *res, bool stopped);

void inspect_result_release(struct inspect_result *res);

#endif
