/*
 * death.h - why a message died: its x-death history (dlq.md).
 *
 * The broker records each (queue, reason) a message died for as one entry of the x-death
 * array, most recent first; the entry names the exchange and routing keys by which the message
 * had reached that queue and the time it first died there. x-first-death-* (3.7+) and
 * x-last-death-* (3.13+) headers only repeat part of it: they are read only when a message has
 * no x-death array.
 */
#ifndef RMQT_OPS_DEATH_H
#define RMQT_OPS_DEATH_H

#include <stdbool.h>
#include <stdint.h>

#include "amqp_compat.h"

/* The most recent death of a message. Every pointer and byte range points into the message's
 * properties (borrowed: valid while they are). */
struct death {
    bool present;       /* an x-death entry, or the x-first-death-* fallback, was found */
    bool fallback;      /* from the x-first-death-* / x-last-death-* headers */
    amqp_bytes_t queue; /* the queue it died in */
    amqp_bytes_t reason;
    amqp_bytes_t exchange;            /* the exchange by which it had reached that queue */
    const amqp_array_t *routing_keys; /* ... and its routing keys (CC included); NULL: none */
    int64_t count;                    /* deaths for this (queue, reason); 0 when unknown */
    bool has_time;
    uint64_t time;  /* first death for this (queue, reason), seconds since the epoch */
    size_t entries; /* x-death entries (the (queue, reason) pairs it died for) */
};

/* Fills d from the headers of p (zeroed when there is no death information). Never fails:
 * entries of unexpected shape are ignored. */
void death_read(const amqp_basic_properties_t *p, struct death *d);

/* Whether key is a header the broker sets on dead-lettering: x-death, x-first-death-*,
 * x-last-death-*. */
bool death_is_header(amqp_bytes_t key);

/* The first routing key of d (empty when none). */
amqp_bytes_t death_first_key(const struct death *d);

/* A field's value as an integer when it has an integer kind (any width); false otherwise. */
bool death_field_int(const amqp_field_value_t *v, int64_t *out);

/* The value of key in t, or NULL. */
const amqp_field_value_t *death_table_get(const amqp_table_t *t, const char *key);

/* Whether b equals the C string s. */
bool death_bytes_eq(amqp_bytes_t b, const char *s);

#endif
