/*
 * replay.h - sending dead-lettered messages home (cli.md "dlq replay", dlq.md).
 *
 * Each message of the dead-letter queue is looked at once (at most the messages the queue held
 * when the run started): the filters select it or leave it in place; the loop guard
 * (rmqtopo-replay-count at --max-replays) leaves or parks it; otherwise it is published to its
 * home with the death headers removed and the counter raised, and acknowledged at the source
 * only after the broker confirmed it and did not return it (common's mover).
 */
#ifndef RMQT_OPS_REPLAY_H
#define RMQT_OPS_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "amqp_compat.h"
#include "death.h"
#include "error.h"
#include "http.h"
#include "mover.h"
#include "session.h"

#define REPLAY_COUNT_HEADER "rmqtopo-replay-count"
#define REPLAY_DEFAULT_MAX 5

enum replay_route {
    ROUTE_HOME,     /* the queue of the most recent death, through the default exchange */
    ROUTE_ORIGIN,   /* that death's exchange and routing keys (first key, the rest as CC) */
    ROUTE_QUEUE,    /* opts.to_queue, through the default exchange */
    ROUTE_EXCHANGE, /* opts.to_exchange with opts.routing_key (NULL: the message's keys) */
};

struct replay_filter {
    const char *reason;     /* the most recent death's reason; NULL: any */
    const char *from_queue; /* the queue of the most recent death; NULL: any */
    bool has_older_than;
    double older_than_s; /* died (first death there) at least this long ago */
    /* the dashboard's filters (dlq serve; the CLI leaves them zero): a text found in the
     * message id or one of the death's routing keys; a selection of message ids */
    const char *search; /* NULL: any */
    const char *const *message_ids;
    size_t n_message_ids; /* 0: any */
};

struct replay_options {
    const char *vhost;
    const char *queue; /* the dead-letter queue */
    enum replay_route route;
    const char *to_queue, *to_exchange, *routing_key;
    struct replay_filter filter;
    uint64_t limit; /* replay (or park) at most this many; 0: all */
    double rate;    /* publishes a second; 0: unlimited */
    bool keep_headers;
    long max_replays;       /* a message replayed this often already is not replayed again */
    const char *park_queue; /* ... but moved here (NULL: left in place) */
    long delivery_limit;    /* the queue's delivery limit in force; -1: none */
    const volatile sig_atomic_t *stop;
    void *ctx;
    /* a one-line warning for the user (the target dead-letters back, may refuse ...) */
    void (*warn)(void *ctx, const char *msg);
    void (*progress)(void *ctx, const struct rmqt_mover_stats *st);
    /* the user has the impersonator tag: messages with another user's user_id may be published */
    bool may_impersonate;
    /* a message the broker refuses (it stays in the queue); NULL: counted only */
    void (*refused)(void *ctx, const struct rmqt_refusal *r);
};

enum replay_action {
    ACT_REPLAY,   /* publish to its target */
    ACT_PARK,     /* at --max-replays, moved to the park queue */
    ACT_FILTERED, /* not selected: stays */
    ACT_AT_MAX,   /* at --max-replays and no park queue: stays, reported */
    ACT_NO_HOME,  /* its target cannot be known (no x-death): stays, reported */
};

/* Where one message goes, and why. Byte ranges point into the options or the message. */
struct replay_decision {
    enum replay_action action;
    struct death death;
    int64_t replays; /* rmqtopo-replay-count before this replay (0: never replayed) */
    amqp_bytes_t exchange, routing_key;
    amqp_array_t cc; /* extra routing keys (ROUTE_ORIGIN, or ROUTE_EXCHANGE without a key) */
};

/* Whether the filters select a message that died as d (now: the current time). */
bool replay_selected(const struct replay_filter *f, const struct death *d, time_t now);
/* The same with the filters that need the message's properties p too (search, message ids):
 * what replay, archive and the dashboard select by. */
bool replay_selected_message(const struct replay_filter *f, const amqp_basic_properties_t *p,
                             const struct death *d, time_t now);

/* Decides for a message with properties p at time now. Pure. */

void replay_decide(const struct replay_options *o, const amqp_basic_properties_t *p, time_t now,
                   struct replay_decision *d);

/* The headers a decided message is published with (dlq.md): death headers removed unless
 * keep_headers, the broker's delivery counters removed, CC and BCC replaced by the decision's
 * routing, rmqtopo-replay-count set to replays + 1 (ACT_REPLAY; a parked message keeps its
 * count and its death headers). out shares in's other properties; its table lives in
 * *scratch (grown as needed, caller frees). */
void replay_build_props(const struct replay_options *o, const struct replay_decision *d,
                        const amqp_basic_properties_t *in, amqp_basic_properties_t *out,
                        amqp_table_entry_t **scratch, size_t *cap);

struct replay_result {
    struct rmqt_mover_stats mover; /* snapshot, moved, parked, skipped, returned, nacked, left */
    uint64_t filtered;             /* not selected by the filters */
    uint64_t at_max;               /* at --max-replays without a park queue */
    uint64_t no_home;              /* no death record to find a home by */
    uint64_t no_target;            /* the target queue or exchange does not exist */
    bool limit_reached;
};

/* Replays o->queue: consumes on src, publishes on dst (two sessions of the same vhost); http
 * (may be NULL) for the checks of each target before its first publish (a dead-letter cycle,
 * overflow that refuses publishes). Returns 0 when the run ended normally (even if messages
 * were left: see res), -1 with err set when it ended on an error. */
int replay_run(struct rmqt_session *src, struct rmqt_session *dst, struct rmqt_http *http,
               const struct replay_options *o, struct replay_result *res, struct rmqt_error *err);

/* Whether res left anything that was selected (returned, refused, at the replay limit, without
 * a home or target, or unhandled on a stop or an error). */
bool replay_left_selected(const struct replay_result *res);

/* The rule for replay's success: the run ended normally (rc 0), was not stopped, left nothing
 * it selected, and left no message at the source's delivery limit. */
bool replay_ok(int rc, const struct replay_result *res, bool stopped);

/* The messages a run read that stay in the queue (filtered, returned, refused, held). */
uint64_t replay_read_left(const struct replay_result *res);

/* --dry-run: reads the queue without taking anything and calls each() with every decision
 * (target checked: exists is false when the target queue or exchange does not exist). */
struct replay_preview {
    const amqp_envelope_t *env;
    const struct replay_decision *decision;
    bool target_exists;
};
int replay_preview(struct rmqt_session *s, struct rmqt_http *http, const struct replay_options *o,
                   void (*each)(void *ctx, const struct replay_preview *p), void *ctx,
                   struct replay_result *res, struct rmqt_error *err);

/* A run's summary as the CLI's JSON (dlq replay -o json): broker (taken; NULL: left out),
 * counts, seconds, rate, ok, error
 * (NULL: none). dry_run names the counts would_move and would_park. New reference. */
struct json_t;
struct json_t *replay_summary_json(struct json_t *broker, const char *vhost, const char *queue,
                                   const struct replay_result *r, bool dry_run, bool ok,
                                   const char *error);

#endif
