/*
 * source.c - opening a dead-letter queue for inspect, replay and archive (see source.h).
 *
 * AMQP alone cannot tell a queue's type, dead-letter settings or the broker's version, so the
 * management API is asked; when it cannot be reached the run goes on with AMQP alone and says
 * so. A broker whose version is unknown is taken for 3.x, whose quorum queues have no default
 * delivery limit: the safer guess for the warnings (4.0 added a limit of 20).
 */
#include "source.h"

#include "xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The major version assumed when /api/overview could not be read. */
#define UNKNOWN_MAJOR 3

static void add_source_warnings(struct dlq_source *src, const char *doing)
{
    if (src->consumers > 0)
        ops_warnings_addf(&src->warnings,
                          "queue '%s' has %u other consumer(s): the messages they hold are not %s",
                          src->queue, src->consumers, doing);
    if (strcmp(src->qi.type, "quorum") == 0) {
        char lim[200];
        if (src->delivery_limit >= 0)
            snprintf(lim, sizeof(lim),
                     "; its delivery limit is %ld: every read brings a message nearer it, and a "
                     "message read that often is dead-lettered or dropped",
                     src->delivery_limit);
        else
            snprintf(lim, sizeof(lim),
                     "; it has no delivery limit in force now, but one set later (a policy, or "
                     "RabbitMQ 4's default of 20) counts these reads");
        free(src->read_warning);
        src->read_warning = xasprintf("queue '%s' is a quorum queue: every read raises each "
                                      "message's delivery count (x-delivery-count), and requeued "
                                      "messages may change order%s",
                                      src->queue, lim);
    }
}

int dlq_source_open(struct dlq_source *src, struct rmqt_http *http, struct rmqt_session *s,
                    const char *queue, const char *doing, struct rmqt_error *err)
{
    struct rmqt_error e2;
    const char *vhost = rmqt_session_vhost(s);

    memset(src, 0, sizeof(*src));
    src->queue = queue;
    src->has_broker = rmqt_broker_info_read(http, &src->broker, &e2) == 0;
    if (queue_info_read(http, vhost, queue, &src->qi, &e2) < 0) {
        ops_warnings_addf(&src->warnings,
                          "the management API could not be read (%s): going on without the "
                          "queue's type and dead-letter settings",
                          e2.message);
        memset(&src->qi, 0, sizeof(src->qi));
        src->qi.delivery_limit = -1;
    }
    src->delivery_limit = queue_info_effective_delivery_limit(
        &src->qi, src->has_broker ? src->broker.version.major : UNKNOWN_MAJOR);
    if (strcmp(src->qi.type, "stream") == 0)
        return rmqt_error_set(err, RMQT_ERR_INVALID,
                              "queue '%s' is a stream: the dlq commands read classic and quorum "
                              "queues",
                              queue);
    if (rmqt_session_queue_counts(s, rmqt_session_channel(s), queue, &src->ready, &src->consumers,
                                  err) < 0)
        return -1;
    add_source_warnings(src, doing);
    return 0;
}

void dlq_source_release(struct dlq_source *src)
{
    if (src) {
        ops_warnings_release(&src->warnings);
        free(src->read_warning);
        src->read_warning = NULL;
    }
}

const char *dlq_source_broker(const struct dlq_source *src, char *buf, size_t cap)
{
    if (src->has_broker)
        snprintf(buf, cap, "%d.%d.%d", src->broker.version.major, src->broker.version.minor,
                 src->broker.version.patch);
    else if (cap)
        buf[0] = '\0';
    return buf;
}

char *dlq_at_limit_warning(const char *queue, uint64_t n, long limit)
{
    if (n == 0)
        return NULL;
    return xasprintf("%llu message(s) read from quorum queue '%s' had been delivered %ld time(s), "
                     "its delivery limit: giving them back made the broker dead-letter them (or "
                     "drop them without a dead-letter exchange); they are no longer in '%s'",
                     (unsigned long long)n, queue, limit, queue);
}

bool dlq_read_needs_consent(const struct dlq_source *src)
{
    return strcmp(src->qi.type, "quorum") == 0;
}

char *dlq_read_warning(const struct dlq_source *src, uint64_t left)
{
    if (!src->read_warning || left == 0)
        return NULL;
    if (left == UINT64_MAX)
        return xstrdup(src->read_warning);
    return xasprintf("%s: this run read %llu message(s) that stay in it", src->read_warning,
                     (unsigned long long)left);
}
