/*
 * msgjson.c - AMQP properties, field tables and values as typed JSON (the archive format of
 * dlq.md), and RFC 4648 base64.
 *
 * The format keeps every AMQP field kind beside its value, because a consumer may tell a long
 * from an int or a timestamp from a number, and restoring a message must give back what was
 * archived bit for bit. That shaped the details: numbers JSON (or jansson, whose integers are
 * int64) cannot carry go as strings (u64 and timestamps above INT64_MAX, NaN and the
 * infinities, with the bits of any NaN that is not the default one); bytes that are not text
 * go as base64, and so do table keys that are not text, marked with a "base64:" prefix that a
 * text key starting the same way also takes, so the escape is unambiguous. A table is a JSON
 * object (readable, and what jq expects) unless a key repeats: then it is a list of pairs,
 * because AMQP tables may repeat keys, the broker keeps them all, and a copy must too.
 *
 * What the encoder may write and what the decoder takes are one set: the limits (nesting,
 * key and short string lengths, entry counts, repeated keys) are checked by the limit_*
 * functions below, which the decoder and rmqt_table_check()/rmqt_props_check() share, so a
 * writer that checks first never writes what a reader refuses.
 *
 * The decoder reads files and broker data we do not control: every member is checked for its
 * JSON type and range, tables and arrays may nest at most RMQT_MSGJSON_MAX_DEPTH levels (the
 * recursion is bounded by that), and a failure names the path of the bad element. The path is
 * built in a fixed buffer on the stack and the message in the fixed buffer of struct
 * rmqt_error, so reporting never allocates. Everything decoded is copied into the caller's
 * amqp_pool_t, the allocator rabbitmq-c itself uses for decoded frames.
 */
#include "msgjson.h"

#include "strmap.h"
#include "textutil.h"
#include "xalloc.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_ESCAPE "base64:"
#define KEY_ESCAPE_LEN 7
#define SHORTSTR_MAX 255
#define F32_DEFAULT_NAN 0x7fc00000u
#define F64_DEFAULT_NAN 0x7ff8000000000000u

/* ---- base64 ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *rmqt_base64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i, o = 0;
    char *s;
    uint32_t v;

    if (len / 3 >= SIZE_MAX / 4 - 1)
        return xmalloc(SIZE_MAX); /* cannot be satisfied: reports out of memory and exits */
    s = xmalloc((len + 2) / 3 * 4 + 1);
    for (i = 0; i + 3 <= len; i += 3) {
        v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = b64_alphabet[(v >> 6) & 63];
        s[o++] = b64_alphabet[v & 63];
    }
    if (len - i == 1) {
        v = (uint32_t)p[i] << 16;
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = '=';
        s[o++] = '=';
    } else if (len - i == 2) {
        v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        s[o++] = b64_alphabet[v >> 18];
        s[o++] = b64_alphabet[(v >> 12) & 63];
        s[o++] = b64_alphabet[(v >> 6) & 63];
        s[o++] = '=';
    }
    s[o] = '\0';
    return s;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* The decoded size of s, from its length and padding alone; false when the length is not a
 * multiple of 4. b64_decode_to checks the rest. */
static bool b64_size(const char *s, size_t len, size_t *size)
{
    if (len % 4 != 0)
        return false;
    *size = len / 4 * 3;
    if (len && s[len - 2] == '=')
        *size -= 2;
    else if (len && s[len - 1] == '=')
        *size -= 1;
    return true;
}

/* Decodes s into dst (b64_size bytes); false on a character outside the alphabet, padding
 * anywhere but at the end, or unused bits of the last character set (RFC 4648 3.5: a
 * canonical encoding only, so that one byte string has one spelling). */
static bool b64_decode_to(const char *s, size_t len, unsigned char *dst)
{
    size_t i, o = 0;
    int a, b, c, e;

    for (i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        a = b64_value(s[i]);
        b = b64_value(s[i + 1]);
        if (a < 0 || b < 0)
            return false;
        if (last && s[i + 2] == '=') {
            if (s[i + 3] != '=' || (b & 15))
                return false;
            dst[o++] = (unsigned char)(a << 2 | b >> 4);
            return true;
        }
        c = b64_value(s[i + 2]);
        if (c < 0)
            return false;
        if (last && s[i + 3] == '=') {
            if (c & 3)
                return false;
            dst[o++] = (unsigned char)(a << 2 | b >> 4);
            dst[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
            return true;
        }
        e = b64_value(s[i + 3]);
        if (e < 0)
            return false;
        dst[o++] = (unsigned char)(a << 2 | b >> 4);
        dst[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
        dst[o++] = (unsigned char)((c & 3) << 6 | e);
    }
    return true;
}

int rmqt_base64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
    size_t size;
    unsigned char *buf;

    *out = NULL;
    *out_len = 0;
    if (!b64_size(s, len, &size))
        return -1;
    buf = xmalloc(size ? size : 1);
    if (!b64_decode_to(s, len, buf)) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = size;
    return 0;
}

/* ---- shared helpers ---- */

static bool bytes_equal(amqp_bytes_t a, amqp_bytes_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.bytes, b.bytes, a.len) == 0);
}

struct kind_name {
    uint8_t kind;
    const char *name;
};

static const struct kind_name kind_names[] = {
    {AMQP_FIELD_KIND_BOOLEAN, "bool"},
    {AMQP_FIELD_KIND_I8, "i8"},
    {AMQP_FIELD_KIND_U8, "u8"},
    {AMQP_FIELD_KIND_I16, "i16"},
    {AMQP_FIELD_KIND_U16, "u16"},
    {AMQP_FIELD_KIND_I32, "i32"},
    {AMQP_FIELD_KIND_U32, "u32"},
    {AMQP_FIELD_KIND_I64, "i64"},
    {AMQP_FIELD_KIND_U64, "u64"},
    {AMQP_FIELD_KIND_F32, "f32"},
    {AMQP_FIELD_KIND_F64, "f64"},
    {AMQP_FIELD_KIND_DECIMAL, "decimal"},
    {AMQP_FIELD_KIND_UTF8, "string"},
    {AMQP_FIELD_KIND_BYTES, "bytes"},
    {AMQP_FIELD_KIND_TIMESTAMP, "timestamp"},
    {AMQP_FIELD_KIND_VOID, "void"},
    {AMQP_FIELD_KIND_TABLE, "table"},
    {AMQP_FIELD_KIND_ARRAY, "array"},
};

#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

static const char *kind_to_name(uint8_t kind)
{
    size_t i;

    for (i = 0; i < N_KINDS; i++)
        if (kind_names[i].kind == kind)
            return kind_names[i].name;
    return NULL;
}

static const struct kind_name *kind_by_name(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < N_KINDS; i++)
        if (strlen(kind_names[i].name) == len && memcmp(kind_names[i].name, s, len) == 0)
            return &kind_names[i];
    return NULL;
}

enum prop_kind { PROP_SHORTSTR, PROP_TABLE, PROP_OCTET, PROP_TIMESTAMP };

struct prop_info {
    const char *name;
    amqp_flags_t flag;
    enum prop_kind kind;
    size_t offset;
};

#define PROP(name, flag, kind)                                                                     \
    {                                                                                              \
#name, flag, kind, offsetof(amqp_basic_properties_t, name)                                 \
    }

/* In the order of the AMQP property flags, which is the order they are written in. */
static const struct prop_info props[] = {
    PROP(content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, PROP_SHORTSTR),
    PROP(content_encoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, PROP_SHORTSTR),
    PROP(headers, AMQP_BASIC_HEADERS_FLAG, PROP_TABLE),
    PROP(delivery_mode, AMQP_BASIC_DELIVERY_MODE_FLAG, PROP_OCTET),
    PROP(priority, AMQP_BASIC_PRIORITY_FLAG, PROP_OCTET),
    PROP(correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, PROP_SHORTSTR),
    PROP(reply_to, AMQP_BASIC_REPLY_TO_FLAG, PROP_SHORTSTR),
    PROP(expiration, AMQP_BASIC_EXPIRATION_FLAG, PROP_SHORTSTR),
    PROP(message_id, AMQP_BASIC_MESSAGE_ID_FLAG, PROP_SHORTSTR),
    PROP(timestamp, AMQP_BASIC_TIMESTAMP_FLAG, PROP_TIMESTAMP),
    PROP(type, AMQP_BASIC_TYPE_FLAG, PROP_SHORTSTR),
    PROP(user_id, AMQP_BASIC_USER_ID_FLAG, PROP_SHORTSTR),
    PROP(app_id, AMQP_BASIC_APP_ID_FLAG, PROP_SHORTSTR),
    PROP(cluster_id, AMQP_BASIC_CLUSTER_ID_FLAG, PROP_SHORTSTR),
};

#define N_PROPS (sizeof(props) / sizeof(props[0]))

static amqp_flags_t props_mask(void)
{
    amqp_flags_t m = 0;
    size_t i;

    for (i = 0; i < N_PROPS; i++)
        m |= props[i].flag;
    return m;
}

/* ---- encoding ---- */

static json_t *base64_json(amqp_bytes_t b)
{
    char *s = rmqt_base64_encode(b.bytes, b.len);
    json_t *j = json_string(s);

    free(s);
    return j;
}

/* A JSON string of b when b is text, else NULL. */
static json_t *text_json(amqp_bytes_t b)
{
    if (!rmqt_is_text(b.bytes, b.len))
        return NULL;
    return json_stringn(b.len ? b.bytes : "", b.len);
}

static json_t *u64_json(uint64_t v)
{
    char buf[24];

    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return json_string(buf);
}

static void set_float(json_t *o, double x, bool is_nan, bool is_default_nan, const char *bits)
{
    if (is_nan) {
        json_object_set_new(o, "value", json_string("NaN"));
        if (!is_default_nan)
            json_object_set_new(o, "bits", json_string(bits));
    } else if (isinf(x)) {
        json_object_set_new(o, "value", json_string(x < 0 ? "-Infinity" : "Infinity"));
    } else {
        json_object_set_new(o, "value", json_real(x));
    }
}

json_t *rmqt_shortstr_to_json(amqp_bytes_t b)
{
    json_t *v = text_json(b);

    if (!v) {
        v = json_object();
        json_object_set_new(v, "base64", base64_json(b));
    }
    return v;
}

static json_t *array_to_json(const amqp_array_t *a)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; i < a->num_entries; i++)
        json_array_append_new(arr, rmqt_value_to_json(&a->entries[i]));
    return arr;
}

json_t *rmqt_value_to_json(const amqp_field_value_t *v)
{
    const char *name = kind_to_name(v->kind);
    json_t *o = json_object();
    char bits[24];

    if (!name) {
        json_object_set_new(o, "type", json_string("unsupported"));
        json_object_set_new(o, "kind", json_integer(v->kind));
        return o;
    }
    json_object_set_new(o, "type", json_string(name));
    switch (v->kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
        json_object_set_new(o, "value", json_boolean(v->value.boolean));
        break;
    case AMQP_FIELD_KIND_I8:
        json_object_set_new(o, "value", json_integer(v->value.i8));
        break;
    case AMQP_FIELD_KIND_U8:
        json_object_set_new(o, "value", json_integer(v->value.u8));
        break;
    case AMQP_FIELD_KIND_I16:
        json_object_set_new(o, "value", json_integer(v->value.i16));
        break;
    case AMQP_FIELD_KIND_U16:
        json_object_set_new(o, "value", json_integer(v->value.u16));
        break;
    case AMQP_FIELD_KIND_I32:
        json_object_set_new(o, "value", json_integer(v->value.i32));
        break;
    case AMQP_FIELD_KIND_U32:
        json_object_set_new(o, "value", json_integer(v->value.u32));
        break;
    case AMQP_FIELD_KIND_I64:
        json_object_set_new(o, "value", json_integer(v->value.i64));
        break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        json_object_set_new(o, "value", u64_json(v->value.u64));
        break;
    case AMQP_FIELD_KIND_F32: {
        uint32_t b;
        memcpy(&b, &v->value.f32, sizeof(b));
        snprintf(bits, sizeof(bits), "%08" PRIx32, b);
        set_float(o, v->value.f32, isnan(v->value.f32), b == F32_DEFAULT_NAN, bits);
        break;
    }
    case AMQP_FIELD_KIND_F64: {
        uint64_t b;
        memcpy(&b, &v->value.f64, sizeof(b));
        snprintf(bits, sizeof(bits), "%016" PRIx64, b);
        set_float(o, v->value.f64, isnan(v->value.f64), b == F64_DEFAULT_NAN, bits);
        break;
    }
    case AMQP_FIELD_KIND_DECIMAL:
        json_object_set_new(o, "decimals", json_integer(v->value.decimal.decimals));
        json_object_set_new(o, "value", json_integer(v->value.decimal.value));
        break;
    case AMQP_FIELD_KIND_UTF8: {
        json_t *t = text_json(v->value.bytes);
        if (t)
            json_object_set_new(o, "value", t);
        else
            json_object_set_new(o, "base64", base64_json(v->value.bytes));
        break;
    }
    case AMQP_FIELD_KIND_BYTES:
        json_object_set_new(o, "base64", base64_json(v->value.bytes));
        break;
    case AMQP_FIELD_KIND_TABLE:
        json_object_set_new(o, "value", rmqt_table_to_json(&v->value.table));
        break;
    case AMQP_FIELD_KIND_ARRAY:
        json_object_set_new(o, "value", array_to_json(&v->value.array));
        break;
    default: /* AMQP_FIELD_KIND_VOID */
        break;
    }
    return o;
}

static bool needs_escape(amqp_bytes_t key)
{
    return !rmqt_is_text(key.bytes, key.len) ||
           (key.len >= KEY_ESCAPE_LEN && memcmp(key.bytes, KEY_ESCAPE, KEY_ESCAPE_LEN) == 0);
}

/* Whether some key of t (its bytes) appears twice. */
static bool has_repeated_key(const amqp_table_t *t)
{
    struct strmap seen;
    bool repeated = false;
    int i, k;

    if (t->num_entries <= 8) {
        for (i = 1; i < t->num_entries && !repeated; i++)
            for (k = 0; k < i && !repeated; k++)
                repeated = bytes_equal(t->entries[i].key, t->entries[k].key);
        return repeated;
    }
    strmap_init(&seen);
    for (i = 0; i < t->num_entries && !repeated; i++)
        repeated = !strmap_put(&seen, t->entries[i].key.len ? t->entries[i].key.bytes : "",
                               t->entries[i].key.len, (size_t)i);
    strmap_release(&seen);
    return repeated;
}

/* A table key as JSON text: the key itself, or "base64:" and its bytes in base64. Returns a
 * new string in *owned (or NULL when the key is used as it is) and the text in *key and *len. */
static void key_text(amqp_bytes_t k, char **owned, const char **key, size_t *len)
{
    *owned = NULL;
    *key = k.len ? k.bytes : "";
    *len = k.len;
    if (needs_escape(k)) {
        char *b = rmqt_base64_encode(k.bytes, k.len);
        *owned = xasprintf("%s%s", KEY_ESCAPE, b);
        free(b);
        *key = *owned;
        *len = strlen(*owned);
    }
}

json_t *rmqt_table_to_json(const amqp_table_t *t)
{
    bool pairs = has_repeated_key(t);
    json_t *o = pairs ? json_array() : json_object();
    int i;

    for (i = 0; i < t->num_entries; i++) {
        const amqp_table_entry_t *e = &t->entries[i];
        char *owned;
        const char *key;
        size_t key_len;

        key_text(e->key, &owned, &key, &key_len);
        if (pairs) {
            json_t *pair = json_array();
            json_array_append_new(pair, json_stringn(key, key_len));
            json_array_append_new(pair, rmqt_value_to_json(&e->value));
            json_array_append_new(o, pair);
        } else {
            json_object_setn_new(o, key, key_len, rmqt_value_to_json(&e->value));
        }
        free(owned);
    }
    return o;
}

json_t *rmqt_props_to_json(const amqp_basic_properties_t *p)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < N_PROPS; i++) {
        const struct prop_info *pi = &props[i];
        const char *field = (const char *)p + pi->offset;
        json_t *v = NULL;

        if (!(p->_flags & pi->flag))
            continue;
        switch (pi->kind) {
        case PROP_SHORTSTR:
            v = rmqt_shortstr_to_json(*(const amqp_bytes_t *)(const void *)field);
            break;
        case PROP_TABLE:
            v = rmqt_table_to_json((const amqp_table_t *)(const void *)field);
            break;
        case PROP_OCTET:
            v = json_integer(*(const uint8_t *)field);
            break;
        case PROP_TIMESTAMP:
            v = u64_json(*(const uint64_t *)(const void *)field);
            break;
        }
        json_object_set_new(o, pi->name, v);
    }
    return o;
}

/* ---- decoding ---- */

/* The path of the element being decoded ("headers.x-death[0].count"), in a fixed buffer: a
 * path too long for it is cut and shown with "...". */
struct path {
    char buf[200];
    size_t len;
    bool cut;
};

struct path_mark {
    size_t len;
    bool cut;
};

/* Appends s to dst (NUL-terminated, cap bytes) at *pos, control characters as \xNN and whole
 * UTF-8 sequences only; sets *cut when it had to stop. */
static void append_escaped(char *dst, size_t cap, size_t *pos, const char *s, size_t n, bool *cut)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, k;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t need = 1;
        if (c < 0x20 || c == 0x7f) {
            need = 4;
        } else if (c >= 0x80) {
            while (i + need < n && need < 4 && ((unsigned char)s[i + need] & 0xC0) == 0x80)
                need++;
        }
        if (*pos + need >= cap) {
            *cut = true;
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            dst[(*pos)++] = '\\';
            dst[(*pos)++] = 'x';
            dst[(*pos)++] = hex[c >> 4];
            dst[(*pos)++] = hex[c & 15];
        } else {
            for (k = 0; k < need; k++)
                dst[(*pos)++] = s[i + k];
        }
        i += need;
    }
    dst[*pos] = '\0';
}

static struct path_mark path_key(struct path *p, const char *key, size_t len)
{
    struct path_mark m = {p->len, p->cut};

    if (p->len)
        append_escaped(p->buf, sizeof(p->buf), &p->len, ".", 1, &p->cut);
    append_escaped(p->buf, sizeof(p->buf), &p->len, key, len, &p->cut);
    return m;
}

static struct path_mark path_index(struct path *p, size_t i)
{
    struct path_mark m = {p->len, p->cut};
    char buf[32];

    snprintf(buf, sizeof(buf), "[%zu]", i);
    append_escaped(p->buf, sizeof(p->buf), &p->len, buf, strlen(buf), &p->cut);
    return m;
}

static void path_restore(struct path *p, struct path_mark m)
{
    p->len = m.len;
    p->cut = m.cut;
    p->buf[p->len] = '\0';
}

/* Untrusted text made safe to quote in a message, cut to a readable length. */
struct quoted {
    char buf[80];
};

static const char *quote(struct quoted *q, const char *s, size_t n)
{
    size_t pos = 0;
    bool cut = false;

    append_escaped(q->buf, sizeof(q->buf) - 3, &pos, s, n, &cut);
    if (cut)
        memcpy(q->buf + pos, "...", 4);
    return q->buf;
}

struct dec {
    amqp_pool_t *pool;
    struct rmqt_error *err;
    struct path path;
};

static void dec_init(struct dec *d, amqp_pool_t *pool, struct rmqt_error *err)
{
    d->pool = pool;
    d->err = err;
    d->path.buf[0] = '\0';
    d->path.len = 0;
    d->path.cut = false;
}

static int fail(struct dec *d, enum rmqt_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct dec *d, enum rmqt_error_code code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!d->path.len && !d->path.cut)
        return rmqt_error_set(d->err, code, "%s", msg);
    return rmqt_error_set(d->err, code, "%s%s: %s", d->path.buf, d->path.cut ? "..." : "", msg);
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "null";
    }
}

static void *dec_alloc(struct dec *d, size_t n)
{
    void *p = amqp_pool_alloc(d->pool, n);

    if (!p)
        fail(d, RMQT_ERR_LIMIT, "out of memory (%zu bytes)", n);
    return p;
}

static int dec_copy(struct dec *d, const char *s, size_t n, amqp_bytes_t *out)
{
    void *p;

    *out = amqp_empty_bytes;
    if (n == 0)
        return 0;
    if (!(p = dec_alloc(d, n)))
        return -1;
    memcpy(p, s, n);
    out->len = n;
    out->bytes = p;
    return 0;
}

/* Decodes base64 text s into the pool; what names it in the message. */
static int dec_base64(struct dec *d, const char *s, size_t n, const char *what, amqp_bytes_t *out)
{
    size_t size;
    void *p;

    *out = amqp_empty_bytes;
    if (!b64_size(s, n, &size))
        return fail(d, RMQT_ERR_PARSE, "invalid base64 in %s", what);
    if (size == 0)
        return 0;
    if (!(p = dec_alloc(d, size)))
        return -1;
    if (!b64_decode_to(s, n, p))
        return fail(d, RMQT_ERR_PARSE, "invalid base64 in %s", what);
    out->len = size;
    out->bytes = p;
    return 0;
}

/* " for type 'i8'", " as 'decimals' for type 'decimal'" or "" (a property: the path says it). */
static void describe(char *buf, size_t cap, const char *member, const char *type)
{
    if (!type)
        buf[0] = '\0';
    else if (strcmp(member, "value") == 0)
        snprintf(buf, cap, " for type '%s'", type);
    else
        snprintf(buf, cap, " as '%s' for type '%s'", member, type);
}

/* An integer in lo..hi: member of a typed value of type type, or a property (type NULL). */
static int dec_int(struct dec *d, const json_t *v, const char *member, const char *type,
                   long long lo, long long hi, long long *out)
{
    char what[80];
    long long x;

    describe(what, sizeof(what), member, type);
    if (!v)
        return fail(d, RMQT_ERR_PARSE, "missing '%s' for type '%s'", member, type ? type : "?");
    if (!json_is_integer(v))
        return fail(d, RMQT_ERR_PARSE, "expected an integer%s", what);
    x = (long long)json_integer_value(v);
    if (x < lo || x > hi)
        return fail(d, RMQT_ERR_INVALID, "%lld is out of range%s (%lld..%lld)", x, what, lo, hi);
    *out = x;
    return 0;
}

/* A u64: an integer, or a decimal string for what JSON integers (int64) cannot hold. */
static int dec_u64(struct dec *d, const json_t *v, const char *type, uint64_t *out)
{
    char what[80];
    struct quoted q;
    const char *s;
    uint64_t x = 0;
    size_t n, i;

    describe(what, sizeof(what), "value", type);
    if (!v)
        return fail(d, RMQT_ERR_PARSE, "missing 'value'%s", what);
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return fail(d, RMQT_ERR_INVALID, "%lld is out of range%s (0..18446744073709551615)",
                        (long long)json_integer_value(v), what);
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return fail(d, RMQT_ERR_PARSE, "expected an integer or a decimal string%s", what);
    s = json_string_value(v);
    n = json_string_length(v);
    for (i = 0; i < n && n <= 20; i++) {
        unsigned digit = (unsigned)(s[i] - '0');
        if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - digit) / 10)
            break;
        x = x * 10 + digit;
    }
    if (n == 0 || n > 20 || i < n)
        return fail(d, RMQT_ERR_INVALID,
                    "'%s' is not a decimal integer in 0..18446744073709551615%s", quote(&q, s, n),
                    what);
    *out = x;
    return 0;
}

static bool parse_hex(const char *s, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            x = x << 4 | (uint64_t)(s[i] - '0');
        else if (s[i] >= 'a' && s[i] <= 'f')
            x = x << 4 | (uint64_t)(s[i] - 'a' + 10);
        else if (s[i] >= 'A' && s[i] <= 'F')
            x = x << 4 | (uint64_t)(s[i] - 'A' + 10);
        else
            return false;
    }
    *out = x;
    return true;
}

/* The bits of a NaN: the default quiet NaN, or the pattern in "bits" when present. */
static int dec_nan(struct dec *d, const json_t *obj, bool is32, const char *type, uint64_t *bits)
{
    const json_t *b = json_object_get(obj, "bits");
    size_t want = is32 ? 8 : 16;
    uint64_t x;
    bool is_nan;

    *bits = is32 ? F32_DEFAULT_NAN : F64_DEFAULT_NAN;
    if (!b)
        return 0;
    if (!json_is_string(b) || json_string_length(b) != want ||
        !parse_hex(json_string_value(b), want, &x))
        return fail(d, RMQT_ERR_PARSE, "expected %zu hex digits as 'bits' for type '%s'", want,
                    type);
    if (is32)
        is_nan = ((x >> 23) & 0xff) == 0xff && (x & 0x7fffff) != 0;
    else
        is_nan = ((x >> 52) & 0x7ff) == 0x7ff && (x & 0xfffffffffffffu) != 0;
    if (!is_nan)
        return fail(d, RMQT_ERR_INVALID, "'bits' of type '%s' is not a NaN", type);
    *bits = x;
    return 0;
}

static int dec_float(struct dec *d, const json_t *obj, bool is32, const char *type,
                     amqp_field_value_t *out)
{
    const json_t *v = json_object_get(obj, "value");
    double x;

    if (!v)
        return fail(d, RMQT_ERR_PARSE, "missing 'value' for type '%s'", type);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 3 && memcmp(s, "NaN", 3) == 0) {
            uint64_t bits;
            if (dec_nan(d, obj, is32, type, &bits) < 0)
                return -1;
            if (is32) {
                uint32_t b32 = (uint32_t)bits;
                memcpy(&out->value.f32, &b32, sizeof(b32));
            } else {
                memcpy(&out->value.f64, &bits, sizeof(bits));
            }
            return 0;
        }
        if (n == 8 && memcmp(s, "Infinity", 8) == 0)
            x = INFINITY;
        else if (n == 9 && memcmp(s, "-Infinity", 9) == 0)
            x = -INFINITY;
        else
            return fail(d, RMQT_ERR_PARSE,
                        "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\" for type '%s'",
                        type);
    } else if (json_is_real(v)) {
        x = json_real_value(v);
    } else if (json_is_integer(v)) {
        x = (double)json_integer_value(v);
    } else {
        return fail(d, RMQT_ERR_PARSE,
                    "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\" for type '%s'",
                    type);
    }
    if (is32) {
        /* converting a finite double outside the float range is undefined behaviour */
        if (isfinite(x) && (x > FLT_MAX || x < -FLT_MAX))
            return fail(d, RMQT_ERR_INVALID, "%g is out of range for type '%s'", x, type);
        out->value.f32 = (float)x;
    } else {
        out->value.f64 = x;
    }
    return 0;
}

static int dec_value(struct dec *d, const json_t *j, int level, amqp_field_value_t *out);

/* ---- the limits: one place for what the encoder may write and the decoder takes ---- */

/* Tables and arrays at nesting level `level` (1: the headers table). */
static int limit_depth(struct dec *d, int level)
{
    if (level > RMQT_MSGJSON_MAX_DEPTH)
        return fail(d, RMQT_ERR_LIMIT, "tables and arrays nested deeper than %d levels",
                    RMQT_MSGJSON_MAX_DEPTH);
    return 0;
}

/* A table key of len bytes (a short string on the wire). */
static int limit_key(struct dec *d, size_t len)
{
    if (len > SHORTSTR_MAX)
        return fail(d, RMQT_ERR_INVALID, "key of %zu bytes, longer than the %d of a short string",
                    len, SHORTSTR_MAX);
    return 0;
}

/* A table or array of n entries (amqp_table_t counts them in an int). */
static int limit_entries(struct dec *d, size_t n, const char *what)
{
    if (n > INT_MAX || n > SIZE_MAX / sizeof(amqp_table_entry_t))
        return fail(d, RMQT_ERR_LIMIT, "%s of %zu entries is too large", what, n);
    return 0;
}

/* A short string of len bytes (a property, an exchange, a routing key). */
static int limit_shortstr(struct dec *d, size_t len)
{
    if (len > SHORTSTR_MAX)
        return fail(d, RMQT_ERR_INVALID, "%zu bytes, longer than the %d of a short string", len,
                    SHORTSTR_MAX);
    return 0;
}

/* A table may repeat a key unless `unique` (the objects of version 1). */
static int limit_repeat(struct dec *d, bool unique)
{
    if (unique)
        return fail(d, RMQT_ERR_INVALID, "the key is the same as an earlier key of the table");
    return 0;
}

/* ---- decoding tables ---- */

/* A table key: its JSON text, or the bytes after "base64:". */
static int dec_key(struct dec *d, const char *key, size_t len, amqp_bytes_t *out)
{
    int rc;

    if (len >= KEY_ESCAPE_LEN && memcmp(key, KEY_ESCAPE, KEY_ESCAPE_LEN) == 0)
        rc = dec_base64(d, key + KEY_ESCAPE_LEN, len - KEY_ESCAPE_LEN, "the key", out);
    else
        rc = dec_copy(d, key, len, out);
    if (rc == 0)
        rc = limit_key(d, out->len);
    return rc;
}

/* A table at nesting level `level` (1 for the outermost): a JSON object {key: typed value}
 * (its keys distinct), or, for a table that repeats a key, an array of [key, typed value]
 * pairs in the table's order. */
static int dec_table(struct dec *d, const json_t *obj, int level, amqp_table_t *out)
{
    struct strmap seen;
    amqp_table_entry_t *entries;
    bool is_pairs = json_is_array(obj), repeated = false;
    size_t n, i = 0;
    void *it = NULL;
    int rc = -1;

    out->num_entries = 0;
    out->entries = NULL;
    if (limit_depth(d, level) < 0)
        return -1;
    if (!json_is_object(obj) && !is_pairs)
        return fail(d, RMQT_ERR_PARSE,
                    "expected an object of typed values (or an array of [key, typed value] "
                    "pairs), got %s",
                    obj ? json_kind(obj) : "nothing");
    n = is_pairs ? json_array_size(obj) : json_object_size(obj);
    if (n == 0 && is_pairs)
        return fail(d, RMQT_ERR_INVALID,
                    "an empty array of pairs for a table (an empty table is written {})");
    if (n == 0)
        return 0;
    if (limit_entries(d, n, "table") < 0)
        return -1;
    if (!(entries = dec_alloc(d, n * sizeof(*entries))))
        return -1;
    strmap_init(&seen);
    if (!is_pairs)
        it = json_object_iter((json_t *)obj);
    for (i = 0; i < n; i++) {
        const char *key;
        size_t key_len;
        const json_t *value;
        struct path_mark m;
        amqp_table_entry_t *e = &entries[i];

        if (is_pairs) {
            const json_t *pair = json_array_get(obj, i), *k = json_array_get(pair, 0);
            struct path_mark pm = path_index(&d->path, i);
            if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(k)) {
                fail(d, RMQT_ERR_PARSE, "expected a pair [key, typed value]");
                goto out;
            }
            path_restore(&d->path, pm);
            key = json_string_value(k);
            key_len = json_string_length(k);
            value = json_array_get(pair, 1);
        } else {
            if (!it)
                break;
            key = json_object_iter_key(it);
            key_len = json_object_iter_key_len(it);
            value = json_object_iter_value(it);
            it = json_object_iter_next((json_t *)obj, it);
        }
        m = path_key(&d->path, key, key_len);
        if (dec_key(d, key, key_len, &e->key) < 0)
            goto out;
        if (!strmap_put(&seen, e->key.len ? e->key.bytes : "", e->key.len, i)) {
            if (limit_repeat(d, !is_pairs) < 0)
                goto out;
            repeated = true;
        }
        if (dec_value(d, value, level, &e->value) < 0)
            goto out;
        path_restore(&d->path, m);
    }
    if (is_pairs && !repeated) {
        /* one spelling for one table: the pairs are for tables that repeat a key */
        fail(d, RMQT_ERR_INVALID,
             "an array of pairs for a table in which no key repeats (write it as an object)");
        goto out;
    }
    out->entries = entries;
    out->num_entries = (int)i;
    rc = 0;
out:
    strmap_release(&seen);
    return rc;
}

static int dec_array(struct dec *d, const json_t *arr, int level, amqp_array_t *out)
{
    amqp_field_value_t *entries;
    size_t n, i;

    out->num_entries = 0;
    out->entries = NULL;
    if (limit_depth(d, level) < 0)
        return -1;
    n = json_array_size(arr);
    if (n == 0)
        return 0;
    if (limit_entries(d, n, "array") < 0)
        return -1;
    if (!(entries = dec_alloc(d, n * sizeof(*entries))))
        return -1;
    for (i = 0; i < n; i++) {
        struct path_mark m = path_index(&d->path, i);
        if (dec_value(d, json_array_get(arr, i), level, &entries[i]) < 0)
            return -1;
        path_restore(&d->path, m);
    }
    out->entries = entries;
    out->num_entries = (int)n;
    return 0;
}

static int dec_string(struct dec *d, const json_t *obj, amqp_field_value_t *out)
{
    const json_t *v = json_object_get(obj, "value");
    const json_t *b = json_object_get(obj, "base64");

    if (v && b)
        return fail(d, RMQT_ERR_PARSE, "both 'value' and 'base64' for type 'string'");
    if (v) {
        if (!json_is_string(v))
            return fail(d, RMQT_ERR_PARSE, "expected a string as 'value' for type 'string'");
        return dec_copy(d, json_string_value(v), json_string_length(v), &out->value.bytes);
    }
    if (!b)
        return fail(d, RMQT_ERR_PARSE, "missing 'value' or 'base64' for type 'string'");
    if (!json_is_string(b))
        return fail(d, RMQT_ERR_PARSE, "expected a string as 'base64' for type 'string'");
    return dec_base64(d, json_string_value(b), json_string_length(b), "'base64'",
                      &out->value.bytes);
}

static int dec_bytes(struct dec *d, const json_t *obj, amqp_field_value_t *out)
{
    const json_t *b = json_object_get(obj, "base64");

    if (!b)
        return fail(d, RMQT_ERR_PARSE, "missing 'base64' for type 'bytes'");
    if (!json_is_string(b))
        return fail(d, RMQT_ERR_PARSE, "expected a string as 'base64' for type 'bytes'");
    return dec_base64(d, json_string_value(b), json_string_length(b), "'base64'",
                      &out->value.bytes);
}

/* Integer kinds: the range each one holds. */
static int dec_integer_kind(struct dec *d, const json_t *v, uint8_t kind, const char *type,
                            amqp_field_value_t *out)
{
    long long x = 0, lo = 0, hi = 0;

    switch (kind) {
    case AMQP_FIELD_KIND_I8:
        lo = INT8_MIN;
        hi = INT8_MAX;
        break;
    case AMQP_FIELD_KIND_U8:
        hi = UINT8_MAX;
        break;
    case AMQP_FIELD_KIND_I16:
        lo = INT16_MIN;
        hi = INT16_MAX;
        break;
    case AMQP_FIELD_KIND_U16:
        hi = UINT16_MAX;
        break;
    case AMQP_FIELD_KIND_I32:
        lo = INT32_MIN;
        hi = INT32_MAX;
        break;
    case AMQP_FIELD_KIND_U32:
        hi = UINT32_MAX;
        break;
    default: /* AMQP_FIELD_KIND_I64 */
        lo = INT64_MIN;
        hi = INT64_MAX;
        break;
    }
    if (dec_int(d, v, "value", type, lo, hi, &x) < 0)
        return -1;
    switch (kind) {
    case AMQP_FIELD_KIND_I8:
        out->value.i8 = (int8_t)x;
        break;
    case AMQP_FIELD_KIND_U8:
        out->value.u8 = (uint8_t)x;
        break;
    case AMQP_FIELD_KIND_I16:
        out->value.i16 = (int16_t)x;
        break;
    case AMQP_FIELD_KIND_U16:
        out->value.u16 = (uint16_t)x;
        break;
    case AMQP_FIELD_KIND_I32:
        out->value.i32 = (int32_t)x;
        break;
    case AMQP_FIELD_KIND_U32:
        out->value.u32 = (uint32_t)x;
        break;
    default:
        out->value.i64 = (int64_t)x;
        break;
    }
    return 0;
}

/* One typed value; tables and arrays in it are at level + 1. out stays void on failure. */
static int dec_value(struct dec *d, const json_t *j, int level, amqp_field_value_t *out)
{
    const struct kind_name *k;
    const json_t *t, *v;
    struct quoted q;
    long long x = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->kind = AMQP_FIELD_KIND_VOID;
    if (!json_is_object(j))
        return fail(d, RMQT_ERR_PARSE, "expected a typed value (an object), got %s",
                    j ? json_kind(j) : "nothing");
    t = json_object_get(j, "type");
    if (!t)
        return fail(d, RMQT_ERR_PARSE, "missing 'type'");
    if (!json_is_string(t))
        return fail(d, RMQT_ERR_PARSE, "expected a string as 'type', got %s", json_kind(t));
    k = kind_by_name(json_string_value(t), json_string_length(t));
    if (!k)
        return fail(d, RMQT_ERR_PARSE, "unknown type '%s'",
                    quote(&q, json_string_value(t), json_string_length(t)));
    v = json_object_get(j, "value");
    switch (k->kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
        if (!v)
            return fail(d, RMQT_ERR_PARSE, "missing 'value' for type 'bool'");
        if (!json_is_boolean(v))
            return fail(d, RMQT_ERR_PARSE, "expected true or false for type 'bool'");
        out->value.boolean = json_is_true(v);
        break;
    case AMQP_FIELD_KIND_I8:
    case AMQP_FIELD_KIND_U8:
    case AMQP_FIELD_KIND_I16:
    case AMQP_FIELD_KIND_U16:
    case AMQP_FIELD_KIND_I32:
    case AMQP_FIELD_KIND_U32:
    case AMQP_FIELD_KIND_I64:
        rc = dec_integer_kind(d, v, k->kind, k->name, out);
        break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        rc = dec_u64(d, v, k->name, &out->value.u64);
        break;
    case AMQP_FIELD_KIND_F32:
    case AMQP_FIELD_KIND_F64:
        rc = dec_float(d, j, k->kind == AMQP_FIELD_KIND_F32, k->name, out);
        break;
    case AMQP_FIELD_KIND_DECIMAL:
        rc = dec_int(d, json_object_get(j, "decimals"), "decimals", k->name, 0, UINT8_MAX, &x);
        if (rc == 0)
            out->value.decimal.decimals = (uint8_t)x;
        if (rc == 0)
            rc = dec_int(d, v, "value", k->name, 0, UINT32_MAX, &x);
        if (rc == 0)
            out->value.decimal.value = (uint32_t)x;
        break;
    case AMQP_FIELD_KIND_UTF8:
        rc = dec_string(d, j, out);
        break;
    case AMQP_FIELD_KIND_BYTES:
        rc = dec_bytes(d, j, out);
        break;
    case AMQP_FIELD_KIND_TABLE:
        if (!json_is_object(v) && !json_is_array(v))
            return fail(d, RMQT_ERR_PARSE,
                        "expected an object (or an array of pairs) as 'value' for type 'table'");
        rc = dec_table(d, v, level + 1, &out->value.table);
        break;
    case AMQP_FIELD_KIND_ARRAY:
        if (!json_is_array(v))
            return fail(d, RMQT_ERR_PARSE, "expected an array as 'value' for type 'array'");
        rc = dec_array(d, v, level + 1, &out->value.array);
        break;
    default: /* AMQP_FIELD_KIND_VOID */
        break;
    }
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        out->kind = AMQP_FIELD_KIND_VOID;
        return -1;
    }
    out->kind = k->kind;
    return 0;
}

int rmqt_value_from_json(const json_t *j, amqp_pool_t *pool, amqp_field_value_t *out,
                         struct rmqt_error *err)
{
    struct dec d;

    dec_init(&d, pool, err);
    return dec_value(&d, j, 0, out);
}

int rmqt_table_from_json(const json_t *j, amqp_pool_t *pool, amqp_table_t *out,
                         struct rmqt_error *err)
{
    struct dec d;

    dec_init(&d, pool, err);
    if (dec_table(&d, j, 1, out) < 0) {
        out->num_entries = 0;
        out->entries = NULL;
        return -1;
    }
    return 0;
}

/* A short string property: a JSON string, or {"base64": "..."}. */
static int dec_shortstr(struct dec *d, const json_t *v, amqp_bytes_t *out)
{
    const json_t *b;

    if (json_is_string(v)) {
        if (limit_shortstr(d, json_string_length(v)) < 0)
            return -1;
        return dec_copy(d, json_string_value(v), json_string_length(v), out);
    }
    if (!json_is_object(v))
        return fail(d, RMQT_ERR_PARSE, "expected a string or {\"base64\": \"...\"}, got %s",
                    json_kind(v));
    b = json_object_get(v, "base64");
    if (!json_is_string(b))
        return fail(d, RMQT_ERR_PARSE, "expected a string as 'base64'");
    if (dec_base64(d, json_string_value(b), json_string_length(b), "'base64'", out) < 0)
        return -1;
    return limit_shortstr(d, out->len);
}

int rmqt_shortstr_from_json(const json_t *j, amqp_pool_t *pool, amqp_bytes_t *out,
                            struct rmqt_error *err)
{
    struct dec d;

    dec_init(&d, pool, err);
    out->len = 0;
    out->bytes = NULL;
    return dec_shortstr(&d, j, out);
}

static const struct prop_info *prop_by_name(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < N_PROPS; i++)
        if (strlen(props[i].name) == len && memcmp(props[i].name, s, len) == 0)
            return &props[i];
    return NULL;
}

static int dec_prop(struct dec *d, const struct prop_info *pi, const json_t *v,
                    amqp_basic_properties_t *out)
{
    char *field = (char *)out + pi->offset;
    long long x = 0;

    switch (pi->kind) {
    case PROP_SHORTSTR:
        return dec_shortstr(d, v, (amqp_bytes_t *)(void *)field);
    case PROP_TABLE:
        return dec_table(d, v, 1, (amqp_table_t *)(void *)field);
    case PROP_OCTET:
        if (dec_int(d, v, "value", NULL, 0, UINT8_MAX, &x) < 0)
            return -1;
        *(uint8_t *)field = (uint8_t)x;
        return 0;
    case PROP_TIMESTAMP:
        return dec_u64(d, v, NULL, (uint64_t *)(void *)field);
    }
    return fail(d, RMQT_ERR_INTERNAL, "unhandled property kind");
}

int rmqt_props_from_json(const json_t *j, amqp_pool_t *pool, amqp_basic_properties_t *out,
                         struct rmqt_error *err)
{
    struct dec d;
    struct quoted q;
    void *it;
    int rc = 0;

    dec_init(&d, pool, err);
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return fail(&d, RMQT_ERR_PARSE, "expected an object of properties, got %s",
                    j ? json_kind(j) : "nothing");
    for (it = json_object_iter((json_t *)j); it && rc == 0;
         it = json_object_iter_next((json_t *)j, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        const struct prop_info *pi = prop_by_name(key, key_len);
        struct path_mark m;

        if (!pi) {
            rc = fail(&d, RMQT_ERR_INVALID, "unknown property '%s'", quote(&q, key, key_len));
            break;
        }
        m = path_key(&d.path, key, key_len);
        rc = dec_prop(&d, pi, json_object_iter_value(it), out);
        path_restore(&d.path, m);
        out->_flags |= pi->flag;
    }
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- checking what the encoder writes against what the decoder takes ---- */

static int check_table(struct dec *d, const amqp_table_t *t, int level, bool unique);

static int check_value(struct dec *d, const amqp_field_value_t *v, int level, bool unique)
{
    int i;

    if (!kind_to_name(v->kind))
        return fail(d, RMQT_ERR_INVALID,
                    "a field value of kind '%c' (%u), which is not an AMQP "
                    "0-9-1 field type this tool can write back",
                    v->kind >= 0x20 && v->kind < 0x7f ? v->kind : '?', (unsigned)v->kind);
    if (v->kind == AMQP_FIELD_KIND_TABLE)
        return check_table(d, &v->value.table, level + 1, unique);
    if (v->kind != AMQP_FIELD_KIND_ARRAY)
        return 0;
    if (limit_depth(d, level + 1) < 0 ||
        limit_entries(d, v->value.array.num_entries < 0 ? 0 : (size_t)v->value.array.num_entries,
                      "array") < 0)
        return -1;
    for (i = 0; i < v->value.array.num_entries; i++) {
        struct path_mark m = path_index(&d->path, (size_t)i);
        if (check_value(d, &v->value.array.entries[i], level + 1, unique) < 0)
            return -1;
        path_restore(&d->path, m);
    }
    return 0;
}

static int check_table(struct dec *d, const amqp_table_t *t, int level, bool unique)
{
    struct strmap seen;
    int i, rc = 0;

    if (limit_depth(d, level) < 0)
        return -1;
    if (unique)
        strmap_init(&seen);
    for (i = 0; i < t->num_entries && rc == 0; i++) {
        const amqp_table_entry_t *e = &t->entries[i];
        struct path_mark m = path_key(&d->path, e->key.len ? e->key.bytes : "", e->key.len);
        rc = limit_key(d, e->key.len);
        if (rc == 0 && unique &&
            !strmap_put(&seen, e->key.len ? e->key.bytes : "", e->key.len, (size_t)i))
            rc = limit_repeat(d, true);
        if (rc == 0)
            rc = check_value(d, &e->value, level, unique);
        if (rc == 0)
            path_restore(&d->path, m);
    }
    if (unique)
        strmap_release(&seen);
    return rc;
}

int rmqt_table_check(const amqp_table_t *t, unsigned flags, struct rmqt_error *err)
{
    struct dec d;

    dec_init(&d, NULL, err);
    return check_table(&d, t, 1, flags & RMQT_MSGJSON_UNIQUE_KEYS);
}

int rmqt_props_check(const amqp_basic_properties_t *p, unsigned flags, struct rmqt_error *err)
{
    struct dec d;
    size_t i;

    dec_init(&d, NULL, err);
    for (i = 0; i < N_PROPS; i++) {
        const struct prop_info *pi = &props[i];
        const char *field = (const char *)p + pi->offset;
        struct path_mark m;
        int rc = 0;

        if (!(p->_flags & pi->flag))
            continue;
        m = path_key(&d.path, pi->name, strlen(pi->name));
        if (pi->kind == PROP_SHORTSTR)
            rc = limit_shortstr(&d, ((const amqp_bytes_t *)(const void *)field)->len);
        else if (pi->kind == PROP_TABLE)
            rc = check_table(&d, (const amqp_table_t *)(const void *)field, 1,
                             flags & RMQT_MSGJSON_UNIQUE_KEYS);
        if (rc < 0)
            return -1;
        path_restore(&d.path, m);
    }
    return 0;
}

/* ---- equality ---- */

static bool array_equal(const amqp_array_t *a, const amqp_array_t *b)
{
    int i;

    if (a->num_entries != b->num_entries)
        return false;
    for (i = 0; i < a->num_entries; i++)
        if (!rmqt_value_equal(&a->entries[i], &b->entries[i]))
            return false;
    return true;
}

bool rmqt_value_equal(const amqp_field_value_t *a, const amqp_field_value_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
        return !a->value.boolean == !b->value.boolean;
    case AMQP_FIELD_KIND_I8:
        return a->value.i8 == b->value.i8;
    case AMQP_FIELD_KIND_U8:
        return a->value.u8 == b->value.u8;
    case AMQP_FIELD_KIND_I16:
        return a->value.i16 == b->value.i16;
    case AMQP_FIELD_KIND_U16:
        return a->value.u16 == b->value.u16;
    case AMQP_FIELD_KIND_I32:
        return a->value.i32 == b->value.i32;
    case AMQP_FIELD_KIND_U32:
        return a->value.u32 == b->value.u32;
    case AMQP_FIELD_KIND_I64:
        return a->value.i64 == b->value.i64;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        return a->value.u64 == b->value.u64;
    case AMQP_FIELD_KIND_F32:
        return memcmp(&a->value.f32, &b->value.f32, sizeof(float)) == 0;
    case AMQP_FIELD_KIND_F64:
        return memcmp(&a->value.f64, &b->value.f64, sizeof(double)) == 0;
    case AMQP_FIELD_KIND_DECIMAL:
        return a->value.decimal.decimals == b->value.decimal.decimals &&
               a->value.decimal.value == b->value.decimal.value;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
        return bytes_equal(a->value.bytes, b->value.bytes);
    case AMQP_FIELD_KIND_VOID:
        return true;
    case AMQP_FIELD_KIND_TABLE:
        return rmqt_table_equal(&a->value.table, &b->value.table);
    case AMQP_FIELD_KIND_ARRAY:
        return array_equal(&a->value.array, &b->value.array);
    default:
        return false; /* a kind we cannot read the value of */
    }
}

bool rmqt_table_equal(const amqp_table_t *a, const amqp_table_t *b)
{
    int i;

    if (a->num_entries != b->num_entries)
        return false;
    for (i = 0; i < a->num_entries; i++)
        if (!bytes_equal(a->entries[i].key, b->entries[i].key) ||
            !rmqt_value_equal(&a->entries[i].value, &b->entries[i].value))
            return false;
    return true;
}

bool rmqt_props_equal(const amqp_basic_properties_t *a, const amqp_basic_properties_t *b)
{
    amqp_flags_t mask = props_mask();
    size_t i;

    if ((a->_flags & mask) != (b->_flags & mask))
        return false;
    for (i = 0; i < N_PROPS; i++) {
        const struct prop_info *pi = &props[i];
        const char *fa = (const char *)a + pi->offset;
        const char *fb = (const char *)b + pi->offset;
        bool same = true;

        if (!(a->_flags & pi->flag))
            continue;
        switch (pi->kind) {
        case PROP_SHORTSTR:
            same = bytes_equal(*(const amqp_bytes_t *)(const void *)fa,
                               *(const amqp_bytes_t *)(const void *)fb);
            break;
        case PROP_TABLE:
            same = rmqt_table_equal((const amqp_table_t *)(const void *)fa,
                                    (const amqp_table_t *)(const void *)fb);
            break;
        case PROP_OCTET:
            same = *(const uint8_t *)fa == *(const uint8_t *)fb;
            break;
        case PROP_TIMESTAMP:
            same = *(const uint64_t *)(const void *)fa == *(const uint64_t *)(const void *)fb;
            break;
        }
        if (!same)
            return false;
    }
    return true;
}
