/*
 * queueinfo.h - what the dlq commands need to know about a queue, from the management API:
 * its type, dead-letter exchange, overflow behaviour and delivery limit (arguments and the
 * effective policy together), and where its dead-letter exchange routes.
 */
#ifndef RMQT_OPS_QUEUEINFO_H
#define RMQT_OPS_QUEUEINFO_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "http.h"

struct queue_info {
    bool found;
    char type[16]; /* "classic", "quorum", "stream" */
    char dlx[256]; /* dead-letter exchange ("" none); the argument wins over a policy */
    bool has_dlx;
    char dlrk[256]; /* dead-letter routing key; has_dlrk when set */
    bool has_dlrk;
    char overflow[32];   /* "drop-head" (default), "reject-publish", "reject-publish-dlx" */
    long delivery_limit; /* quorum: -1 when neither argument nor policy sets one */
};

/* Reads queue (in vhost) from GET /api/queues/{vhost}/{name}. A missing queue is not an
 * error: info->found is false. -1 with err set when the API cannot be read. */
int queue_info_read(struct rmqt_http *http, const char *vhost, const char *queue,
                    struct queue_info *info, struct rmqt_error *err);

/* Fills info from one queue object of the management API (its "type", "arguments" and
 * "effective_policy_definition"). Pure. */
void queue_info_from_json(const json_t *q, struct queue_info *info);

/* Whether exchange (in vhost) has a binding to queue: 1 yes, 0 no, -1 with err set when the
 * API cannot be read. */
int queue_info_exchange_feeds(struct rmqt_http *http, const char *vhost, const char *exchange,
                              const char *queue, struct rmqt_error *err);

/* The delivery limit in force: the queue's own, else the broker's default (unlimited (-1)
 * before 4.0, 20 from 4.0). major/minor: the broker version. */
long queue_info_effective_delivery_limit(const struct queue_info *info, int major);

#endif
