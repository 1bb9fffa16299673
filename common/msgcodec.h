/*
 * msgcodec.h - AMQP message properties and tables: digests and the broker's counters.
 *
 * The safe mover matches a basic.return (which carries no sequence number) to the publish it
 * answers by a digest of everything the broker sends back: exchange, routing key, every
 * property with its AMQP type (tables and arrays nested) and the body. Two publishes with the
 * same digest are interchangeable for that purpose.
 *
 * The broker's delivery counters (x-delivery-count that quorum queues add to each delivery;
 * x-acquired-count from 4.3) describe a delivery, not the message: a copy never carries them
 * as headers (cli.md).
 */
#ifndef RMQT_MSGCODEC_H
#define RMQT_MSGCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp_compat.h"

struct rmqt_digest {
    uint64_t a, b;
};

void rmqt_digest_init(struct rmqt_digest *d);
void rmqt_digest_add(struct rmqt_digest *d, const void *data, size_t len);
/* Adds a message: exchange, routing key, properties (every present field, typed), body. */
void rmqt_digest_message(struct rmqt_digest *d, amqp_bytes_t exchange, amqp_bytes_t routing_key,
                         const amqp_basic_properties_t *props, amqp_bytes_t body);
/* As rmqt_digest_message, for matching a basic.return to its publish: the broker strips a BCC
 * header before it returns a message, so BCC is left out, and an empty headers table counts as
 * none. */
void rmqt_digest_returnable(struct rmqt_digest *d, amqp_bytes_t exchange, amqp_bytes_t routing_key,
                            const amqp_basic_properties_t *props, amqp_bytes_t body);
bool rmqt_digest_equal(const struct rmqt_digest *x, const struct rmqt_digest *y);

/* Whether key names a delivery counter the broker adds (x-delivery-count, x-acquired-count). */
bool rmqt_is_delivery_counter(amqp_bytes_t key);

/* out = in without the delivery counters among the headers (a shallow copy: out points into in
 * and into *scratch, a buffer of entries grown as needed and owned by the caller; free it with
 * free()). A headers table that held only counters is dropped: the broker added it. */
void rmqt_props_without_counters(const amqp_basic_properties_t *in, amqp_basic_properties_t *out,
                                 amqp_table_entry_t **scratch, size_t *cap);

/* The x-delivery-count header a quorum queue adds to a delivery (the times it was returned
 * before), or -1 when there is none. */
long long rmqt_delivery_count(const amqp_basic_properties_t *p);

#endif
