/*
 * init.h - `rmqtopo init`: a commented starting topology for a use case (issue 18).
 *
 * The use cases and requirements are the guidance's parameter schema (use_case, ordering,
 * delivery, retention, throughput, producers, consumers). The text is a topology file that
 * passes `validate --strict` and applies to RabbitMQ 3.10: quorum queues with a retry ladder
 * and a capped DLQ by default, a stream with retention for replay where the use case keeps
 * events, single active consumer where it asks for order, and a comment wherever the broker
 * cannot give a requirement by itself. Pure: no I/O.
 */
#ifndef RMQT_INIT_H
#define RMQT_INIT_H

#include <stddef.h>

#include "strbuf.h"

struct init_options {
    const char *use_case;   /* work_queue | pub_sub | event_sourcing | cqrs | saga */
    const char *name;       /* NULL: the use case's default name */
    const char *vhost;      /* NULL: "/" */
    const char *ordering;   /* NULL: none; partition | global */
    const char *delivery;   /* NULL: at_least_once; at_most_once | exactly_once */
    const char *retention;  /* NULL: 7d; "7d", "36h", "2w" or the guidance's "7 days" */
    const char *producers;  /* comma separated; NULL: one, "producer" */
    const char *consumers;  /* comma separated; NULL: one, "worker" */
    const char *throughput; /* NULL: unknown; "10K", "500 msg/s", "1M" */
};

/* Appends the topology to out. Returns 0, or -1 with a message in err (a usage error: an
 * unknown use case or value). */
int init_topology(const struct init_options *o, struct strbuf *out, char *err, size_t errsize);

#endif
