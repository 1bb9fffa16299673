/*
 * validate.h - the semantic rules of a topology (topology.md, "Semantic rules").
 *
 * Runs over a loaded model and adds every error and warning to a diag_list. Without a broker
 * the newest broker's feature set is assumed; with one (plan, apply) features that broker
 * lacks are errors too.
 */
#ifndef RMQT_VALIDATE_H
#define RMQT_VALIDATE_H

#include <stdbool.h>

#include "brokerver.h"
#include "diag.h"
#include "model.h"

struct validate_options {
    bool broker_known;
    struct rmqt_version broker; /* when broker_known */
    /* Called with each dead-letter queue found (a queue some dead-letter exchange of the file
     * routes to), by vhost and queue index; NULL: not called (provision/monitor.c). */
    void (*on_dlq)(void *ctx, size_t vhost, size_t queue);
    void *on_dlq_ctx;
};

/* Adds the problems of t to dl. Pure: no I/O. opts may be NULL (no broker). */
void topology_validate(const struct topology *t, const struct validate_options *opts,
                       struct diag_list *dl);

/* Only the checks that depend on the broker's version (features it lacks, keys that do
 * nothing there): for a file that topology_validate(t, NULL, ...) has checked already. */
void topology_validate_versions(const struct topology *t, const struct rmqt_version *broker,
                                struct diag_list *dl);

/* The name of apply's lock queue (an exclusive queue apply holds for the length of a run). */
#ifndef RMQTOPO_LOCK_QUEUE
#define RMQTOPO_LOCK_QUEUE "rmqtopo.lock"
#endif

enum rmqtopo_queue_kind {
    RQ_NONE,    /* a queue of the user's */
    RQ_HOLDING, /* "rmqtopo.migrate.*": the holding queue of a migration (see holding_queue_name) */
    RQ_LOCK,    /* RMQTOPO_LOCK_QUEUE */
};

/* Whether a queue name belongs to rmqtopo itself: a file may not name such a queue (validate
 * refuses it) and export leaves it out. */
enum rmqtopo_queue_kind rmqtopo_queue_kind(const char *name);

#endif
