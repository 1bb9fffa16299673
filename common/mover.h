/*
 * mover.h - the safe mover: take messages from a queue and publish them elsewhere without ever
 * losing one (dlq.md, "The safe mover"). apply's queue migration and the dlq commands use it.
 *
 * The source message is acknowledged only after the broker confirmed the publish and did not
 * return it. A crash or a lost connection at any moment loses nothing: unacknowledged messages
 * go back to the source queue, and at most the messages in flight are delivered twice.
 *
 * Two sessions: the source consumes (manual acks, a prefetch), the destination publishes in
 * confirm mode with `mandatory`. Both are served from one thread, whichever has frames.
 */
#ifndef RMQT_MOVER_H
#define RMQT_MOVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "amqp_compat.h"
#include "error.h"
#include "session.h"

/* What to do with one delivery. */
enum rmqt_verdict {
    RMQT_MOVE, /* publish out (below) and acknowledge the source after the confirm */
    RMQT_SKIP, /* leave it in the source queue (released at the end, never rejected) */
    RMQT_STOP, /* stop the run before this message (it stays in the source) */
    RMQT_PARK, /* as RMQT_MOVE, counted as parked (a replay's loop guard) */
};

/* The publish a delivery becomes. prepare() may change any of it; the strings and the
 * properties it points to must stay valid until the next call of prepare(). */
struct rmqt_outgoing {
    amqp_bytes_t exchange, routing_key;
    amqp_basic_properties_t props;
    amqp_bytes_t body;
};

struct rmqt_mover_stats {
    uint64_t snapshot;  /* ready messages when the run started: the most it handles */
    uint32_t consumers; /* other consumers of the source when the run started */
    uint64_t moved;     /* published, confirmed, acknowledged at the source */
    uint64_t parked;    /* as moved, for RMQT_PARK verdicts */
    uint64_t skipped;   /* left in place by prepare() */
    uint64_t returned;  /* the broker could not route them: left in the source */
    uint64_t nacked;    /* the broker refused them: left in the source */
    uint64_t left;      /* of the snapshot, not handled (stopped, limit, vanished) */
    /* messages left in the source (not selected, stopped before, or copied) whose delivery
     * count had reached delivery_limit: releasing them makes a quorum queue dead-letter or
     * drop them */
    uint64_t at_limit;
    /* the broker refuses them (a user_id other than the connecting user's, seen before
     * publishing; or a publish that made the broker close the channel, found by publishing one
     * at a time): left in the source, each reported through cfg->refused */
    uint64_t refused;
    /* published, but the broker closed the channel before it confirmed them: they stay in the
     * source and are published again (one at a time) in this run, so each may be at the
     * destination twice */
    uint64_t unconfirmed;
    double seconds;
};

/* A message the broker refuses (cfg->refused). */
struct rmqt_refusal {
    uint64_t position;     /* 1 for the run's first delivery, 2 for the next ... */
    uint64_t delivery_tag; /* the source's delivery tag (a record number for a callback source) */
    amqp_bytes_t message_id, routing_key; /* as published (may be empty) */
    int reply_code;     /* the broker's (406 ...), 0 when seen before publishing */
    const char *reason; /* why, in the broker's words where it gave them */
};

/* Instead of publishing on dst: a sink that stores messages (dlq archive). A message is
 * acknowledged at the source only after a sync() that followed its write() succeeded. */
struct rmqt_mover_sink {
    /* stores one message (not yet durably): in is the delivery, out its publish as prepare()
     * left it. Returns 0, or -1 with err set (the run stops; the message stays) */
    int (*write)(void *ctx, const amqp_envelope_t *in, const struct rmqt_outgoing *out,
                 struct rmqt_error *err);
    /* makes everything written so far durable. Returns 0, or -1 with err set (the run stops;
     * every message written since the last sync stays in the source) */
    int (*sync)(void *ctx, struct rmqt_error *err);
    void *ctx;
};

/* Instead of consuming a queue: messages from elsewhere (dlq restore). */
struct rmqt_mover_source {
    /* the next message into *env with env->delivery_tag 1, 2, ... in order; the source owns
     * its memory, valid until the next call. Returns 1, 0 at the end, or -1 with err set */
    int (*next)(void *ctx, amqp_envelope_t *env, struct rmqt_error *err);
    /* the message of this tag is confirmed and was not returned (called in tag order) */
    void (*done)(void *ctx, uint64_t tag);
    void *ctx;
};

struct rmqt_mover_config {
    const char *queue;       /* the source queue (unless source is set) */
    const char *exchange;    /* where messages go by default ("" the default exchange) */
    const char *routing_key; /* ... with this routing key (for "": the target queue) */
    /* Optional: decides on one delivery and edits its publish (which starts as a verbatim copy
     * without the broker's delivery counters, to exchange/routing_key). Returns the verdict,
     * or -1 with err set to stop the run with an error. */
    int (*prepare)(void *ctx, const amqp_envelope_t *in, struct rmqt_outgoing *out,
                   struct rmqt_error *err);
    void *ctx;
    uint64_t limit;      /* publish at most this many messages (moved or parked); 0: no limit.
                            The run never takes more deliveries than the snapshot either way */
    double rate;         /* publishes a second, from the first one (no burst); 0: unlimited */
    unsigned window;     /* publishes awaiting a confirm; 0: 1024 */
    bool stop_on_return; /* a returned message ends the run with an error */
    long idle_ms;        /* no delivery for this long: look whether anything is left; 0: 1000 */
    /* set (e.g. by a signal handler) to stop: the run finishes what is in flight */
    const volatile sig_atomic_t *stop;
    /* called now and then with the running totals (e.g. for progress on a terminal) */
    void (*progress)(void *ctx, const struct rmqt_mover_stats *st);
    void *progress_ctx;                     /* NULL: ctx */
    const struct rmqt_mover_sink *sink;     /* NULL: publish on dst */
    const struct rmqt_mover_source *source; /* NULL: consume queue on src */
    /* acknowledge nothing at the source: every message stays where it is (archive --copy) */
    bool copy;
    /* the user may set any user_id (the impersonator tag); otherwise a message whose user_id
     * is not the destination session's user is not published (the broker would close the
     * channel): it stays, counted as refused */
    bool may_impersonate;
    /* called for each refused message (NULL: counted only) */
    void (*refused)(void *ctx, const struct rmqt_refusal *r);
    /* the source queue's delivery limit (quorum queues), for at_limit */
    bool has_delivery_limit;
    long delivery_limit;
};

/* Moves messages from cfg->queue (on src) to their destination (on dst); src and dst must
 * be different sessions. With cfg->sink dst may be NULL; with cfg->source src may be NULL. Fills st
 * in any case. Returns 0 when the run ended normally (end of the snapshot, the limit, a stop
 * request); -1 with err set when it ended on an error (a nack, a return with stop_on_return, a lost
 * connection): what was confirmed was still acknowledged, everything else stays in the source
 * queue. */
int rmqt_mover_run(struct rmqt_session *src, struct rmqt_session *dst,
                   const struct rmqt_mover_config *cfg, struct rmqt_mover_stats *st,
                   struct rmqt_error *err);

#endif
