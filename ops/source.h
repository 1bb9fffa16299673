/*
 * source.h - a dead-letter queue opened for the dlq operations (inspect, replay, archive):
 * the broker's version, the queue's settings, its exact ready and consumer counts, the
 * delivery limit in force, and the warnings a user must hear before messages are read
 * (other consumers, what a read does to a quorum queue). Everything comes back as data, so
 * that every front end shows the same warnings and applies the same rules.
 */
#ifndef RMQT_OPS_SOURCE_H
#define RMQT_OPS_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "brokerver.h"
#include "error.h"
#include "http.h"
#include "queueinfo.h"
#include "session.h"
#include "warn.h"

struct dlq_source {
    const char *queue; /* borrowed from the caller */
    struct rmqt_broker_info broker;
    bool has_broker;      /* false: the version could not be read */
    struct queue_info qi; /* "not found" when the management API could not be read */
    uint32_t ready, consumers;
    long delivery_limit; /* in force (the queue's, else the broker's default); -1: none */
    struct ops_warnings warnings;
    /* A quorum queue: what reading does to messages that stay (their delivery count rises,
     * their order may change). Apart from warnings, so that a front end says it where it
     * matters: before a read that gives every message back, after a move that left some.
     * NULL for other queues. */
    char *read_warning;
};

/* Opens queue on session s for an operation that `doing` its messages ("shown", "replayed",
 * "archived"): reads the broker version and the queue's settings through http (when that
 * fails: a warning, and the run goes on with AMQP alone), refuses a stream, reads the exact
 * counts over AMQP, and adds the warnings about the source. Returns 0, or -1 with err set (a
 * missing queue, a stream); src->warnings holds what arose before, either way. Release src
 * with dlq_source_release. */
int dlq_source_open(struct dlq_source *src, struct rmqt_http *http, struct rmqt_session *s,
                    const char *queue, const char *doing, struct rmqt_error *err);

void dlq_source_release(struct dlq_source *src);

/* The broker version as "major.minor.patch" into buf (cap bytes); "" when unknown. Returns
 * buf. */
const char *dlq_source_broker(const struct dlq_source *src, char *buf, size_t cap);

/* A warning (new; caller frees) about the n messages a run left in a quorum queue at its
 * delivery limit: the broker dead-letters or drops them when they are released. NULL when n
 * is 0. */
char *dlq_at_limit_warning(const char *queue, uint64_t n, long limit);

/* Whether a read of src that gives its messages back (a bounded read, a summary, a dry run, an
 * archive copy) needs the user's consent first: on a quorum queue every read raises each
 * message's delivery count towards the delivery limit (src->read_warning says so). The one
 * rule for every front end (dlq inspect --summary, the dashboard); a run that takes the
 * messages (replay, park, archive) needs none. */
bool dlq_read_needs_consent(const struct dlq_source *src);

/* The read warning of a quorum queue (new; caller frees) where it matters: before a read that
 * gives every message back (left = UINT64_MAX), after a run that left `left` messages it had
 * read. NULL for other queues and when a run left none. */
char *dlq_read_warning(const struct dlq_source *src, uint64_t left);

#endif
