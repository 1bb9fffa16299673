/*
 * retry.h - retries as intent (issue 18): `retry_ladders:` on a vhost and `retry:` on a queue,
 * expanded into plain topology right after loading.
 *
 * A ladder with prefix P (default: the ladder's name; for an inline `retry:` map, the queue's
 * name) and delays d1..dn (default 1s, 10s, 60s) expands into:
 *   exchange P.retry            headers; a consumer republishes a failed message here with
 *                               routing key = its queue's name and header retry-delay: di
 *   queue    P.retry.<di>       quorum, message_ttl di, overflow reject-publish, dead-letter
 *                               strategy at-least-once, dead_letter_exchange "" (the default
 *                               exchange: the message goes back to the queue named by its
 *                               routing key); bound to P.retry with {x-match: all, retry-delay: di}
 *   exchange P.dlx              topic; the work queues' dead-letter exchange
 *   queue    DLQ                dead_letter_queue, default P.dlq: quorum, message_ttl =
 *                               dead_letter_retention (default 7d); bound to P.dlx with "#".
 *                               A DLQ the file declares is used as it is (only the binding is
 *                               added, when missing).
 * and, on each queue with `retry:`, dead_letter_exchange P.dlx (quorum queues also at-least-once
 * and reject-publish), unless the queue or a policy of the file already says so. <di> is the
 * delay as written ("1s", "10s"; an integer n is "nms").
 *
 * Generated objects carry their origin (the key path of the `retry` that caused them) and the
 * position of that key, so validate's messages about them point there (retry_origin_at).
 */
#ifndef RMQT_RETRY_H
#define RMQT_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"
#include "yamltree.h"

/* Defaults: the guidance's DLQ strategy. */
#define RETRY_DEFAULT_DELAYS "1s", "10s", "60s"
#define RETRY_DEFAULT_RETENTION_MS (7LL * 24 * 3600 * 1000)

struct retry_ladder {
    char *name; /* NULL for an inline ladder */
    struct rmqt_pos pos;
    char *prefix; /* NULL: the default */
    char **delay_text;
    int64_t *delay_ms;
    size_t n_delays;
    char *dlq; /* NULL: P.dlq */
    int64_t retention_ms;
    bool bad;      /* reported while loading: expands to nothing */
    bool expanded; /* its objects exist already */
    bool used;
};

struct retry_use {
    char *queue;
    char *ladder;                 /* named ladder; NULL when inline */
    struct retry_ladder *inline_; /* inline ladder (owned), or NULL */
    struct rmqt_pos pos;          /* the value of the `retry` key */
    char *path;                   /* "queues.<q>.retry" */
    bool bad;
};

struct retry_spec {
    struct retry_ladder **ladders;
    size_t n_ladders, cap_ladders;
    struct retry_use *uses;
    size_t n_uses, cap_uses;
};

/* Reads a vhost's `retry_ladders` map (node n; path is the key path of n). Problems go to dl. */
void retry_load_ladders(struct retry_spec **spec, const char *file, const char *path,
                        const struct ynode *n, struct diag_list *dl);
/* Reads a queue's `retry` value (a ladder name, or an inline ladder map). */
void retry_load_use(struct retry_spec **spec, const char *file, const char *path, const char *queue,
                    const struct ynode *n, struct diag_list *dl);

/* Expands every vhost's ladders into plain objects (see above). Clashes and unknown ladders go
 * to dl as errors at the `retry` key. Call after the vhosts are indexed; re-indexes them. */
void retry_expand(struct topology *t, struct diag_list *dl);

/* The key path of the `retry` whose objects sit at pos in vh, or NULL. */
const char *retry_origin_at(const struct vhost *vh, struct rmqt_pos pos);

void retry_spec_free(struct retry_spec *spec);

#endif
