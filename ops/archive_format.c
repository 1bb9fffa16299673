/*
 * archive_format.c - the archive's header and records (dlq.md), and its line reader.
 *
 * Decisions:
 * - A record keeps the headers beside the other properties, typed (msgjson), so a restore
 *   publishes them exactly; the broker's delivery counters go to delivery_counters, because
 *   a header x-delivery-count published by a client is not the broker's and cli.md forbids
 *   republishing them.
 * - body_size and body_sha256 let a reader tell a damaged body from a good one: a record
 *   whose body does not match is refused, never published.
 * - The reader bounds a line (ARCHIVE_MAX_LINE) before it allocates it, and reports a last
 *   line without its newline as truncated: the archiver writes a record and its newline in one
 *   buffer and acknowledges only after fsync, so such a line's message was never taken from
 *   its queue.
 */
#define _POSIX_C_SOURCE 200809L
#include "archive_format.h"

#include "death.h"
#include "msgdigest.h"
#include "msgjson.h"
#include "xalloc.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void archive_sha256_hex(const void *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    if (!EVP_Digest(len ? data : "", len, md, &n, EVP_sha256(), NULL))
        n = 0;
    for (i = 0; i < n && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * i] = '\0';
}

int archive_new_id(char id[33])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[16];
    int i;

    if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
        return -1;
    for (i = 0; i < 16; i++) {
        id[2 * i] = digits[raw[i] >> 4];
        id[2 * i + 1] = digits[raw[i] & 15];
    }
    id[32] = '\0';
    return 0;
}

json_t *archive_header_json(const char *vhost, const char *queue, const char *broker,
                            time_t created, bool copy, const char *id)
{
    json_t *j = json_object();
    char when[32];
    struct tm tm;

    gmtime_r(&created, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(j, "format", json_string(ARCHIVE_FORMAT_NAME));
    json_object_set_new(j, "version", json_integer(ARCHIVE_FORMAT_VERSION));
    json_object_set_new(j, "vhost", json_string(vhost));
    json_object_set_new(j, "queue", json_string(queue));
    json_object_set_new(j, "broker", broker ? json_string(broker) : json_null());
    json_object_set_new(j, "created", json_string(when));
    json_object_set_new(j, "copy", json_boolean(copy));
    if (id)
        json_object_set_new(j, "id", json_string(id));
    return j;
}

static char *dup_member(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

int archive_header_parse(const char *line, size_t len, struct archive_header *h,
                         struct rmqt_error *err)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    const json_t *fmt, *ver;
    int rc = -1;

    memset(h, 0, sizeof(*h));
    if (!j || !json_is_object(j)) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "not an rmqtopo archive: the first line is not %s",
                       j ? "a JSON object" : "JSON");
        goto out;
    }
    fmt = json_object_get(j, "format");
    ver = json_object_get(j, "version");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), ARCHIVE_FORMAT_NAME) != 0) {
        rmqt_error_set(err, RMQT_ERR_PARSE,
                       "not an rmqtopo archive: the first line has no \"format\": \"%s\"",
                       ARCHIVE_FORMAT_NAME);
        goto out;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "the archive's header has no valid \"version\"");
        goto out;
    }
    if (json_integer_value(ver) > ARCHIVE_FORMAT_VERSION) {
        rmqt_error_set(err, RMQT_ERR_INVALID,
                       "archive format version %lld is not known to this rmqtopo (it reads "
                       "versions %d to %d)",
                       (long long)json_integer_value(ver), ARCHIVE_FORMAT_MIN_VERSION,
                       ARCHIVE_FORMAT_VERSION);
        goto out;
    }
    h->version = (long)json_integer_value(ver);
    h->copy = json_is_true(json_object_get(j, "copy"));
    h->vhost = dup_member(j, "vhost");
    h->queue = dup_member(j, "queue");
    h->broker = dup_member(j, "broker");
    h->created = dup_member(j, "created");
    h->id = dup_member(j, "id");
    archive_sha256_hex(line, len, h->header_sha256);
    if (!h->vhost || !h->queue) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "the archive's header lacks \"%s\"",
                       h->vhost ? "queue" : "vhost");
        archive_header_release(h);
        goto out;
    }
    rc = 0;
out:
    json_decref(j);
    return rc;
}

void archive_header_release(struct archive_header *h)
{
    if (!h)
        return;
    free(h->vhost);
    free(h->queue);
    free(h->broker);
    free(h->created);
    free(h->id);
    memset(h, 0, sizeof(*h));
}

static json_t *death_json(const struct death *d)
{
    json_t *j, *keys;
    int i;

    if (!d->present)
        return json_null();
    j = json_object();
    keys = json_array();
    json_object_set_new(j, "reason", rmqt_shortstr_to_json(d->reason));
    json_object_set_new(j, "queue", rmqt_shortstr_to_json(d->queue));
    json_object_set_new(j, "exchange", rmqt_shortstr_to_json(d->exchange));
    for (i = 0; d->routing_keys && i < d->routing_keys->num_entries; i++) {
        const amqp_field_value_t *v = &d->routing_keys->entries[i];
        if (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES)
            json_array_append_new(keys, rmqt_shortstr_to_json(v->value.bytes));
    }
    json_object_set_new(j, "routing_keys", keys);
    json_object_set_new(j, "count", json_integer(d->count));
    if (d->has_time) {
        char when[32];
        time_t t = (time_t)d->time;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(j, "time", json_string(when));
    } else {
        json_object_set_new(j, "time", json_null());
    }
    return j;
}

/* A delivery mode restore can publish (the record's and the writer's rule). */
static int check_delivery_mode(const amqp_basic_properties_t *p, struct rmqt_error *err)
{
    if ((p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG) && p->delivery_mode != 1 &&
        p->delivery_mode != 2)
        return rmqt_error_set(err, RMQT_ERR_INVALID,
                              "properties.delivery_mode: %u; the broker takes 1 (transient) or 2 "
                              "(persistent) and refuses anything else",
                              (unsigned)p->delivery_mode);
    return 0;
}

int archive_record_check(const amqp_envelope_t *env, long version, struct rmqt_error *err)
{
    const amqp_basic_properties_t *p = &env->message.properties;
    amqp_basic_properties_t clean;
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    unsigned flags = version < 2 ? RMQT_MSGJSON_UNIQUE_KEYS : 0;
    int rc;

    /* what the record holds: the headers without the broker's counters */
    rmqt_props_without_counters(p, &clean, &scratch, &cap);
    rc = rmqt_props_check(&clean, flags, err);
    free(scratch);
    if (rc < 0) {
        if (version < 2 && strstr(err->message, "the same as an earlier key")) {
            size_t n = strlen(err->message);
            snprintf(err->message + n, sizeof(err->message) - n,
                     " (a version-%ld archive cannot hold a repeated key: archive into a new "
                     "file, which is version %d)",
                     version, ARCHIVE_FORMAT_VERSION);
        }
        return -1;
    }
    if (env->exchange.len > 255 || env->routing_key.len > 255)
        return rmqt_error_set(err, RMQT_ERR_INVALID,
                              "%s: %zu bytes, longer than the 255 of a short string",
                              env->exchange.len > 255 ? "exchange" : "routing_key",
                              env->exchange.len > 255 ? env->exchange.len : env->routing_key.len);
    return check_delivery_mode(p, err);
}

char *archive_record_line(const amqp_envelope_t *env, long version, size_t *len,
                          struct rmqt_error *err)
{
    json_t *j;
    char *s;

    *len = 0;
    if (archive_record_check(env, version, err) < 0)
        return NULL;
    j = archive_record_json(env);
    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (!s) {
        rmqt_error_set(err, RMQT_ERR_LIMIT, "the record could not be encoded (out of memory?)");
        return NULL;
    }
    *len = strlen(s);
    if (*len > ARCHIVE_MAX_LINE) {
        rmqt_error_set(err, RMQT_ERR_LIMIT,
                       "its record would be a line of %zu bytes, longer than the %zu a reader "
                       "takes (a body of %zu bytes)",
                       *len, ARCHIVE_MAX_LINE, env->message.body.len);
        free(s);
        *len = 0;
        return NULL;
    }
    return s;
}

json_t *archive_record_json(const amqp_envelope_t *env)
{
    const amqp_basic_properties_t *p = &env->message.properties;
    amqp_basic_properties_t clean, bare;
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    json_t *j = json_object(), *counters = json_object();
    struct death d;
    char hex[65], *b64;
    int i;

    /* the headers without the broker's counters (and none when a counter was all there was:
     * a quorum queue adds the table), the counters apart */
    rmqt_props_without_counters(p, &clean, &scratch, &cap);
    for (i = 0; (p->_flags & AMQP_BASIC_HEADERS_FLAG) && i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (rmqt_is_delivery_counter(e->key))
            json_object_setn_new(counters, e->key.bytes, e->key.len, rmqt_value_to_json(&e->value));
    }
    bare = clean;
    bare._flags &= ~AMQP_BASIC_HEADERS_FLAG;
    death_read(p, &d);
    json_object_set_new(j, "exchange", rmqt_shortstr_to_json(env->exchange));
    json_object_set_new(j, "routing_key", rmqt_shortstr_to_json(env->routing_key));
    json_object_set_new(j, "redelivered", json_boolean(env->redelivered));
    json_object_set_new(j, "delivery_counters", counters);
    json_object_set_new(j, "death", death_json(&d));
    json_object_set_new(j, "properties", rmqt_props_to_json(&bare));
    if (clean._flags & AMQP_BASIC_HEADERS_FLAG)
        json_object_set_new(j, "headers", rmqt_table_to_json(&clean.headers));
    json_object_set_new(j, "body_size", json_integer((json_int_t)env->message.body.len));
    archive_sha256_hex(env->message.body.bytes, env->message.body.len, hex);
    json_object_set_new(j, "body_sha256", json_string(hex));
    b64 = rmqt_base64_encode(env->message.body.bytes, env->message.body.len);
    json_object_set_new(j, "body", json_string(b64));
    free(b64);
    free(scratch);
    return j;
}

int archive_record_parse(const char *line, size_t len, amqp_pool_t *pool, struct archive_record *r,
                         struct rmqt_error *err)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    json_t *props = NULL;
    const json_t *v, *size, *sha, *body;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    char hex[65];
    int rc = -1;

    memset(r, 0, sizeof(*r));
    if (!j || !json_is_object(j)) {
        if (!j)
            rmqt_error_set(err, RMQT_ERR_PARSE, "not JSON (column %d: %s)", je.column, je.text);
        else
            rmqt_error_set(err, RMQT_ERR_PARSE, "not a JSON object");
        goto out;
    }
    v = json_object_get(j, "properties");
    if (!json_is_object(v)) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "properties: missing or not an object");
        goto out;
    }
    if (json_object_get(v, "headers")) {
        rmqt_error_set(err, RMQT_ERR_PARSE,
                       "properties.headers: headers belong beside properties, not in them");
        goto out;
    }
    props = json_deep_copy(v);
    if ((v = json_object_get(j, "headers")) != NULL)
        json_object_set(props, "headers", (json_t *)v);
    if (rmqt_props_from_json(props, pool, &r->props, err) < 0) {
        rmqt_error_prefix(err, "properties");
        goto out;
    }
    if (check_delivery_mode(&r->props, err) < 0)
        goto out;
    if ((v = json_object_get(j, "exchange")) != NULL &&
        rmqt_shortstr_from_json(v, pool, &r->exchange, err) < 0) {
        rmqt_error_prefix(err, "exchange");
        goto out;
    }
    if ((v = json_object_get(j, "routing_key")) != NULL &&
        rmqt_shortstr_from_json(v, pool, &r->routing_key, err) < 0) {
        rmqt_error_prefix(err, "routing_key");
        goto out;
    }
    size = json_object_get(j, "body_size");
    sha = json_object_get(j, "body_sha256");
    body = json_object_get(j, "body");
    if (!json_is_string(body)) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "body: missing or not a base64 string");
        goto out;
    }
    if (rmqt_base64_decode(json_string_value(body), json_string_length(body), &raw, &raw_len) < 0) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "body: not valid base64");
        goto out;
    }
    if (!json_is_integer(size) || json_integer_value(size) < 0 ||
        (uint64_t)json_integer_value(size) != (uint64_t)raw_len) {
        rmqt_error_set(err, RMQT_ERR_INVALID, "body_size: %s, but the body holds %zu bytes",
                       json_is_integer(size) ? "does not match" : "missing or not an integer",
                       raw_len);
        goto out;
    }
    archive_sha256_hex(raw, raw_len, hex);
    if (!json_is_string(sha) || strcmp(json_string_value(sha), hex) != 0) {
        rmqt_error_set(err, RMQT_ERR_INVALID, "body_sha256: %s",
                       json_is_string(sha) ? "does not match the body (damaged?)"
                                           : "missing or not a string");
        goto out;
    }
    r->body.len = raw_len;
    r->body.bytes = amqp_pool_alloc(pool, raw_len ? raw_len : 1);
    if (!r->body.bytes) {
        rmqt_error_set(err, RMQT_ERR_LIMIT, "body: out of memory (%zu bytes)", raw_len);
        goto out;
    }
    memcpy(r->body.bytes, raw, raw_len);
    rc = 0;
out:
    if (rc < 0)
        memset(r, 0, sizeof(*r));
    free(raw);
    json_decref(props);
    json_decref(j);
    return rc;
}

int archive_reader_next(struct archive_reader *r, size_t *len, struct rmqt_error *err)
{
    size_t n = 0, max = r->max_line ? r->max_line : ARCHIVE_MAX_LINE;
    int c;

    *len = 0;
    for (;;) {
        c = getc_unlocked(r->f);
        if (c == EOF || c == '\n')
            break;
        if (n >= max)
            return rmqt_error_set(err, RMQT_ERR_LIMIT, "%s:%llu: a line longer than %zu bytes",
                                  r->name, (unsigned long long)r->lineno + 1, max);
        if (n + 1 >= r->cap) {
            r->cap = r->cap ? r->cap * 2 : 65536;
            r->line = xrealloc(r->line, r->cap);
        }
        r->line[n++] = (char)c;
    }
    if (c == EOF && ferror(r->f))
        return rmqt_error_set(err, RMQT_ERR_IO, "%s: read error", r->name);
    if (c == EOF && n == 0)
        return ARCHIVE_END;
    if (!r->line) {
        r->cap = 65536;
        r->line = xmalloc(r->cap);
    }
    r->line[n] = '\0';
    r->lineno++;
    *len = n;
    return c == EOF ? ARCHIVE_TRUNCATED : ARCHIVE_LINE;
}

void archive_reader_release(struct archive_reader *r)
{
    if (!r)
        return;
    free(r->line);
    r->line = NULL;
    r->cap = 0;
}
