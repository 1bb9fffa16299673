/*
 * msgcodec.c - digests of AMQP messages, and the broker's delivery counters.
 *
 * The digest is two independent 64-bit hashes over a canonical, self-delimiting encoding
 * (every string is preceded by its length, every value by its field kind), so that different
 * messages cannot produce the same byte stream.
 */
#include "msgcodec.h"

#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void rmqt_digest_init(struct rmqt_digest *d)
{
    d->a = 1469598103934665603ULL;
    d->b = 0x9e3779b97f4a7c15ULL;
}

void rmqt_digest_add(struct rmqt_digest *d, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t a = d->a, b = d->b;
    size_t i;

    for (i = 0; i < len; i++) {
        a = (a ^ p[i]) * 1099511628211ULL;
        b = (b + p[i] + 1) * 0xff51afd7ed558ccdULL;
        b ^= b >> 29;
    }
    d->a = a;
    d->b = b;
}

static void add_u64(struct rmqt_digest *d, uint64_t v)
{
    unsigned char buf[8];
    int k;
    for (k = 0; k < 8; k++)
        buf[k] = (unsigned char)(v >> (8 * k));
    rmqt_digest_add(d, buf, sizeof(buf));
}

static void add_bytes(struct rmqt_digest *d, amqp_bytes_t b)
{
    add_u64(d, b.len);
    if (b.len)
        rmqt_digest_add(d, b.bytes, b.len);
}

static void add_table(struct rmqt_digest *d, const amqp_table_t *t);
static bool bytes_is(amqp_bytes_t b, const char *s);

static void add_value(struct rmqt_digest *d, const amqp_field_value_t *v)
{
    int k;
    uint64_t bits;

    add_u64(d, v->kind);
    switch (v->kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
        add_u64(d, v->value.boolean ? 1 : 0);
        break;
    case AMQP_FIELD_KIND_I8:
        add_u64(d, (uint64_t)(int64_t)v->value.i8);
        break;
    case AMQP_FIELD_KIND_U8:
        add_u64(d, v->value.u8);
        break;
    case AMQP_FIELD_KIND_I16:
        add_u64(d, (uint64_t)(int64_t)v->value.i16);
        break;
    case AMQP_FIELD_KIND_U16:
        add_u64(d, v->value.u16);
        break;
    case AMQP_FIELD_KIND_I32:
        add_u64(d, (uint64_t)(int64_t)v->value.i32);
        break;
    case AMQP_FIELD_KIND_U32:
        add_u64(d, v->value.u32);
        break;
    case AMQP_FIELD_KIND_I64:
        add_u64(d, (uint64_t)v->value.i64);
        break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        add_u64(d, v->value.u64);
        break;
    case AMQP_FIELD_KIND_F32: {
        uint32_t b32;
        memcpy(&b32, &v->value.f32, sizeof(b32));
        add_u64(d, b32);
        break;
    }
    case AMQP_FIELD_KIND_F64:
        memcpy(&bits, &v->value.f64, sizeof(bits));
        add_u64(d, bits);
        break;
    case AMQP_FIELD_KIND_DECIMAL:
        add_u64(d, v->value.decimal.decimals);
        add_u64(d, v->value.decimal.value);
        break;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
        add_bytes(d, v->value.bytes);
        break;
    case AMQP_FIELD_KIND_TABLE:
        add_table(d, &v->value.table);
        break;
    case AMQP_FIELD_KIND_ARRAY:
        add_u64(d, (uint64_t)v->value.array.num_entries);
        for (k = 0; k < v->value.array.num_entries; k++)
            add_value(d, &v->value.array.entries[k]);
        break;
    default: /* AMQP_FIELD_KIND_VOID */
        break;
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const amqp_table_entry_t *x = *(const amqp_table_entry_t *const *)a;
    const amqp_table_entry_t *y = *(const amqp_table_entry_t *const *)b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = n ? memcmp(x->key.bytes, y->key.bytes, n) : 0;
    if (c)
        return c;
    return x->key.len < y->key.len ? -1 : x->key.len > y->key.len;
}

/* A table is a map: its entries are hashed in key order, because the broker may re-encode a
 * table in another order (a quorum queue sorts the headers when it adds x-delivery-count). */
static void add_table(struct rmqt_digest *d, const amqp_table_t *t)
{
    const amqp_table_entry_t *small[16], **sorted = small;
    int k;

    add_u64(d, (uint64_t)t->num_entries);
    if (t->num_entries <= 0)
        return;
    if (t->num_entries > 16)
        sorted = xmalloc((size_t)t->num_entries * sizeof(*sorted));
    for (k = 0; k < t->num_entries; k++)
        sorted[k] = &t->entries[k];
    qsort(sorted, (size_t)t->num_entries, sizeof(*sorted), entry_cmp);
    for (k = 0; k < t->num_entries; k++) {
        add_bytes(d, sorted[k]->key);
        add_value(d, &sorted[k]->value);
    }
    if (sorted != small)
        free(sorted);
}

void rmqt_digest_message(struct rmqt_digest *d, amqp_bytes_t exchange, amqp_bytes_t routing_key,
                         const amqp_basic_properties_t *p, amqp_bytes_t body)
{
    amqp_flags_t f = p->_flags;

    add_bytes(d, exchange);
    add_bytes(d, routing_key);
    add_u64(d, f);
    if (f & AMQP_BASIC_CONTENT_TYPE_FLAG)
        add_bytes(d, p->content_type);
    if (f & AMQP_BASIC_CONTENT_ENCODING_FLAG)
        add_bytes(d, p->content_encoding);
    if (f & AMQP_BASIC_HEADERS_FLAG)
        add_table(d, &p->headers);
    if (f & AMQP_BASIC_DELIVERY_MODE_FLAG)
        add_u64(d, p->delivery_mode);
    if (f & AMQP_BASIC_PRIORITY_FLAG)
        add_u64(d, p->priority);
    if (f & AMQP_BASIC_CORRELATION_ID_FLAG)
        add_bytes(d, p->correlation_id);
    if (f & AMQP_BASIC_REPLY_TO_FLAG)
        add_bytes(d, p->reply_to);
    if (f & AMQP_BASIC_EXPIRATION_FLAG)
        add_bytes(d, p->expiration);
    if (f & AMQP_BASIC_MESSAGE_ID_FLAG)
        add_bytes(d, p->message_id);
    if (f & AMQP_BASIC_TIMESTAMP_FLAG)
        add_u64(d, p->timestamp);
    if (f & AMQP_BASIC_TYPE_FLAG)
        add_bytes(d, p->type);
    if (f & AMQP_BASIC_USER_ID_FLAG)
        add_bytes(d, p->user_id);
    if (f & AMQP_BASIC_APP_ID_FLAG)
        add_bytes(d, p->app_id);
    if (f & AMQP_BASIC_CLUSTER_ID_FLAG)
        add_bytes(d, p->cluster_id);
    add_bytes(d, body);
}

void rmqt_digest_returnable(struct rmqt_digest *d, amqp_bytes_t exchange, amqp_bytes_t routing_key,
                            const amqp_basic_properties_t *p, amqp_bytes_t body)
{
    amqp_basic_properties_t q = *p;
    amqp_table_entry_t small[16], *kept = small;
    int k, n = 0;

    if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
        if (p->headers.num_entries > 16)
            kept = xmalloc((size_t)p->headers.num_entries * sizeof(*kept));
        for (k = 0; k < p->headers.num_entries; k++)
            if (!bytes_is(p->headers.entries[k].key, "BCC"))
                kept[n++] = p->headers.entries[k];
        q.headers.entries = kept;
        q.headers.num_entries = n;
        if (n == 0)
            q._flags &= ~(amqp_flags_t)AMQP_BASIC_HEADERS_FLAG;
    }
    rmqt_digest_message(d, exchange, routing_key, &q, body);
    if (kept != small)
        free(kept);
}

bool rmqt_digest_equal(const struct rmqt_digest *x, const struct rmqt_digest *y)
{
    return x->a == y->a && x->b == y->b;
}

static bool bytes_is(amqp_bytes_t b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && memcmp(b.bytes, s, n) == 0;
}

bool rmqt_is_delivery_counter(amqp_bytes_t key)
{
    return bytes_is(key, "x-delivery-count") || bytes_is(key, "x-acquired-count");
}

void rmqt_props_without_counters(const amqp_basic_properties_t *in, amqp_basic_properties_t *out,
                                 amqp_table_entry_t **scratch, size_t *cap)
{
    int k, n = 0;
    bool any = false;

    *out = *in;
    if (!(in->_flags & AMQP_BASIC_HEADERS_FLAG))
        return;
    for (k = 0; k < in->headers.num_entries; k++)
        any = any || rmqt_is_delivery_counter(in->headers.entries[k].key);
    if (!any)
        return;
    XGROW(*scratch, *cap, (size_t)in->headers.num_entries);
    for (k = 0; k < in->headers.num_entries; k++)
        if (!rmqt_is_delivery_counter(in->headers.entries[k].key))
            (*scratch)[n++] = in->headers.entries[k];
    out->headers.entries = *scratch;
    out->headers.num_entries = n;
    /* the counter was the only header: the message had none (a quorum queue adds the table) */
    if (n == 0)
        out->_flags &= ~(amqp_flags_t)AMQP_BASIC_HEADERS_FLAG;
}

long long rmqt_delivery_count(const amqp_basic_properties_t *p)
{
    int k;

    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return -1;
    for (k = 0; k < p->headers.num_entries; k++) {
        const amqp_table_entry_t *e = &p->headers.entries[k];
        if (e->key.len != 16 || memcmp(e->key.bytes, "x-delivery-count", 16) != 0)
            continue;
        switch (e->value.kind) {
        case AMQP_FIELD_KIND_I8:
            return e->value.value.i8;
        case AMQP_FIELD_KIND_U8:
            return e->value.value.u8;
        case AMQP_FIELD_KIND_I16:
            return e->value.value.i16;
        case AMQP_FIELD_KIND_U16:
            return e->value.value.u16;
        case AMQP_FIELD_KIND_I32:
            return e->value.value.i32;
        case AMQP_FIELD_KIND_U32:
            return e->value.value.u32;
        case AMQP_FIELD_KIND_I64:
            return e->value.value.i64;
        case AMQP_FIELD_KIND_U64:
            return e->value.value.u64 > INT64_MAX ? INT64_MAX : (long long)e->value.value.u64;
        default:
            return -1;
        }
    }
    return -1;
}
