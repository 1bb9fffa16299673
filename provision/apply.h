/*
 * apply.h - carry out a plan: the last stage of the pipeline.
 *
 * Exchanges, queues and bindings are declared, bound, unbound and deleted over AMQP, from a
 * pool of connections working in parallel; vhosts and policies over the management API (AMQP
 * cannot make them). Order: vhosts, exchanges, queues, bindings, policies; then the deletions
 * (--prune), bindings first, then policies, queues, exchanges. The first refusal stops the
 * run: what is under way finishes, nothing new starts.
 *
 * A queue that must be replaced while it holds messages is migrated: its messages go to a
 * holding queue (named after it, so a re-run finds it) with the safe mover, the queue is
 * deleted and declared anew with its bindings, and the messages come back.
 */
#ifndef RMQT_APPLY_H
#define RMQT_APPLY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "error.h"
#include "http.h"
#include "session.h"

/* The running totals of one direction of a queue migration (into its holding queue, or
 * back), for a progress display. */
struct apply_move_progress {
    const char *vhost, *from, *to;
    uint64_t moved; /* so far, in this direction */
    uint64_t total; /* the messages it will handle: those moved plus the current round's
                       snapshot (a round re-reads the queue: producers may add more) */
    double seconds; /* since this direction started */
};

struct apply_options {
    const struct rmqt_session_config *amqp; /* URLs, credentials, TLS (the vhost is set here) */
    struct rmqt_http *http;
    bool allow_replace;    /* migrate queues that hold messages */
    bool force;            /* with consumers attached; prune queues that hold messages */
    double hold_timeout_s; /* how long a migration waits for messages other clients hold
                              unacknowledged to be acknowledged or returned; 0: 60 */
    unsigned concurrency;  /* AMQP connections per vhost; 0: 16 */
    const volatile sig_atomic_t *stop; /* set to stop starting new steps */
    /* Lines about long work (migrations) for a progress display; NULL: none. Called from
     * worker threads, one call at a time. */
    void (*progress)(void *ctx, const char *line);
    void *progress_ctx;
    /* The totals of a migration as it moves (about twice a second); NULL: none. Called from
     * worker threads, one call at a time, with progress_ctx. */
    void (*move_progress)(void *ctx, const struct apply_move_progress *p);
};

/* What the broker holds now of a queue the plan replaces or deletes: ready messages and
 * consumers exact (passive queue.declare over AMQP); messages held unacknowledged by other
 * clients and the bytes from the management API, read once its statistics postdate the exact
 * count. */
struct apply_queue_state {
    bool known; /* checked */
    bool exists;
    uint32_t messages, consumers;
    uint64_t unacked; /* held unacknowledged by clients */
    bool bytes_known; /* bytes is the size of exactly messages + unacked messages */
    uint64_t bytes;   /* message_bytes */
    bool holding_exists;
    uint32_t holding_messages;
    uint64_t holding_unacked;
};

enum apply_step { STEP_PENDING = 0, STEP_DONE, STEP_FAILED };

struct apply_result {
    enum apply_step *steps;           /* one per change of the plan */
    struct apply_queue_state *queues; /* one per change (queue changes only) */
    size_t done, failed, pending;     /* changes (unmanaged ones are not counted) */
    size_t failed_index;              /* the change that failed first, when failed */
    char failure[1024];               /* its reason, with the broker's text */
    uint64_t migrated;                /* messages moved back into migrated queues */
    uint64_t taken; /* messages other clients took from holding queues and acknowledged */
};

void apply_result_init(struct apply_result *r);
void apply_result_release(struct apply_result *r);

/* Reads, over AMQP, the messages and consumers of every queue the plan replaces or deletes,
 * and of holding queues, into r->queues (r is set up for p). -1 with err set when the broker
 * cannot be reached. */
int apply_preflight(const struct plan *p, const struct apply_options *o, struct apply_result *r,
                    struct rmqt_error *err);

/* Appends to why (one line each, new strings) every change that needs a consent the options
 * do not give: a replace of a queue holding messages (ready or unacknowledged) without
 * allow_replace; without force: a queue with consumers, a delete of a queue holding messages,
 * a stream holding messages (its messages cannot be migrated), a migration into settings that
 * can drop or dead-letter what the queue holds (max_length, max_length_bytes, a new or lower
 * message_ttl or expires, overflow drop-head with a limit); and, whatever the options, a
 * holding queue that is not one a migration declared. Returns how many. Uses r from
 * apply_preflight. */
size_t apply_refusals(const struct plan *p, const struct apply_options *o,
                      const struct apply_result *r, char ***why, size_t *n_why);

/* Carries out p. Returns 0 when every change was applied; -1 when a step failed (r says
 * which, with the broker's reason, and which were applied and which not attempted) or the
 * run was stopped. */
int apply_plan(const struct plan *p, const struct apply_options *o, struct apply_result *r);

/* The lock of an apply: one exclusive queue APPLY_LOCK_QUEUE per vhost, declared on a
 * connection of its own (no heartbeats: it sits idle while the apply works), so the broker
 * drops it when that connection closes, also after kill -9. */
#define APPLY_LOCK_QUEUE "rmqtopo.lock"
struct apply_lock;

/* Takes the lock of each of vhosts[0..n), which must exist (in the order given: sort them, so that
 * two applies cannot each wait for the other). When another client holds one, waits up to
 * timeout_s (0: not at all), then fails naming the holder (host, process id, start time, from
 * its connection's client properties, read through o->http). NULL with err set on failure
 * (then no lock is held). */
struct apply_lock *apply_lock_take(const struct apply_options *o, const char *const *vhosts,
                                   size_t n, double timeout_s, struct rmqt_error *err);
/* Releases the locks (closes their connections). Accepts NULL. */
void apply_lock_release(struct apply_lock *l);

#endif
