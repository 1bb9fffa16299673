/*
 * death.c - reading x-death (dlq.md, "What dead-lettering leaves on a message").
 *
 * x-death is authoritative: an array of tables, most recent first. Only its first entry is
 * "why the message is here": its queue, reason, count and time, and the exchange and routing
 * keys by which the message had reached that queue (for a message that died twice the newer
 * entry names the dead-letter exchange that carried it; seen on 3.10.8). Values are read by
 * kind, leniently: a field of an unexpected kind is as good as absent, never an error, since
 * headers come from whoever published the message.
 */
#include "death.h"

#include <string.h>

bool death_bytes_eq(amqp_bytes_t b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && (n == 0 || memcmp(b.bytes, s, n) == 0);
}

static bool has_prefix(amqp_bytes_t b, const char *prefix)
{
    size_t n = strlen(prefix);
    return b.len >= n && memcmp(b.bytes, prefix, n) == 0;
}

bool death_is_header(amqp_bytes_t key)
{
    return death_bytes_eq(key, "x-death") || has_prefix(key, "x-first-death-") ||
           has_prefix(key, "x-last-death-");
}

const amqp_field_value_t *death_table_get(const amqp_table_t *t, const char *key)
{
    int i;
    if (!t)
        return NULL;
    for (i = 0; i < t->num_entries; i++)
        if (death_bytes_eq(t->entries[i].key, key))
            return &t->entries[i].value;
    return NULL;
}

bool death_field_int(const amqp_field_value_t *v, int64_t *out)
{
    if (!v)
        return false;
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8:
        *out = v->value.i8;
        return true;
    case AMQP_FIELD_KIND_U8:
        *out = v->value.u8;
        return true;
    case AMQP_FIELD_KIND_I16:
        *out = v->value.i16;
        return true;
    case AMQP_FIELD_KIND_U16:
        *out = v->value.u16;
        return true;
    case AMQP_FIELD_KIND_I32:
        *out = v->value.i32;
        return true;
    case AMQP_FIELD_KIND_U32:
        *out = v->value.u32;
        return true;
    case AMQP_FIELD_KIND_I64:
        *out = v->value.i64;
        return true;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        if (v->value.u64 > INT64_MAX)
            return false;
        *out = (int64_t)v->value.u64;
        return true;
    default:
        return false;
    }
}

static bool field_str(const amqp_field_value_t *v, amqp_bytes_t *out)
{
    if (!v || (v->kind != AMQP_FIELD_KIND_UTF8 && v->kind != AMQP_FIELD_KIND_BYTES))
        return false;
    *out = v->value.bytes;
    return true;
}

static void read_entry(const amqp_table_t *e, struct death *d)
{
    const amqp_field_value_t *v;
    int64_t n;

    field_str(death_table_get(e, "queue"), &d->queue);
    field_str(death_table_get(e, "reason"), &d->reason);
    field_str(death_table_get(e, "exchange"), &d->exchange);
    v = death_table_get(e, "routing-keys");
    if (v && v->kind == AMQP_FIELD_KIND_ARRAY)
        d->routing_keys = &v->value.array;
    if (death_field_int(death_table_get(e, "count"), &n))
        d->count = n;
    v = death_table_get(e, "time");
    if (death_field_int(v, &n) && n >= 0) {
        d->has_time = true;
        d->time = (uint64_t)n;
    }
}

void death_read(const amqp_basic_properties_t *p, struct death *d)
{
    const amqp_table_t *h;
    const amqp_field_value_t *v;

    memset(d, 0, sizeof(*d));
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return;
    h = &p->headers;
    v = death_table_get(h, "x-death");
    if (v && v->kind == AMQP_FIELD_KIND_ARRAY) {
        const amqp_array_t *a = &v->value.array;
        int i;
        for (i = 0; i < a->num_entries; i++)
            if (a->entries[i].kind == AMQP_FIELD_KIND_TABLE)
                d->entries++;
        for (i = 0; i < a->num_entries; i++) {
            if (a->entries[i].kind == AMQP_FIELD_KIND_TABLE) {
                d->present = true;
                read_entry(&a->entries[i].value.table, d);
                return;
            }
        }
    }
    /* no usable x-death: the newest of the summary headers (3.13+), then the first-death ones */
    if (field_str(death_table_get(h, "x-last-death-queue"), &d->queue)) {
        d->present = d->fallback = true;
        field_str(death_table_get(h, "x-last-death-reason"), &d->reason);
        field_str(death_table_get(h, "x-last-death-exchange"), &d->exchange);
        return;
    }
    if (field_str(death_table_get(h, "x-first-death-queue"), &d->queue)) {
        d->present = d->fallback = true;
        field_str(death_table_get(h, "x-first-death-reason"), &d->reason);
        field_str(death_table_get(h, "x-first-death-exchange"), &d->exchange);
    }
}

amqp_bytes_t death_first_key(const struct death *d)
{
    amqp_bytes_t none = {0, NULL};
    if (d->routing_keys && d->routing_keys->num_entries > 0) {
        const amqp_field_value_t *k = &d->routing_keys->entries[0];
        if (k->kind == AMQP_FIELD_KIND_UTF8 || k->kind == AMQP_FIELD_KIND_BYTES)
            return k->value.bytes;
    }
    return none;
}
