/*
 * msgtool.c - a test helper: publish numbered messages with typed headers, and list a
 * queue's messages without taking them.
 *
 *   msgtool publish VHOST QUEUE N [PREFIX]   publish N persistent messages (confirmed) to
 *                                            QUEUE through the default exchange
 *   msgtool dump VHOST QUEUE                 one line per message, in queue order:
 *                                            "message_id digest"; the messages stay
 *   msgtool hold VHOST QUEUE SECONDS         be a consumer of QUEUE (taking nothing) for a
 *                                            while
 *   msgtool reject VHOST QUEUE N             take N messages and reject them (requeue=false),
 *                                            so that they are dead-lettered
 *   msgtool headers VHOST QUEUE              one line per message, in queue order:
 *                                            "message_id headers", the headers table written
 *                                            out entry by entry in order (repeated keys
 *                                            included) with each value's AMQP type code, bytes
 *                                            in hex; the broker's delivery counters left out;
 *                                            the messages stay
 *
 * publish reads the environment: MSGTOOL_EXCHANGE (publish there, QUEUE being the routing
 * key), MSGTOOL_EXPIRATION (a per-message TTL in ms), MSGTOOL_CC (a CC header, comma
 * separated keys), MSGTOOL_SIZE (pad each body to this many bytes), MSGTOOL_BINARY=1 (binary
 * bodies), MSGTOOL_DEPTH (a header "h-deep" of tables nested so that the headers table is
 * this many levels deep, itself level 1; at least 2), MSGTOOL_DUPKEYS=1 (the key "h-dup"
 * twice among the headers, a long then a string, and "depth" twice in "h-table", a long then
 * an int: the broker keeps every entry). dump with MSGTOOL_STRIP=1 leaves the death headers
 * (x-death, x-first-death-*, x-last-death-*) and rmqtopo-replay-count out of the digest: what a
 * replay keeps.
 *
 * The AMQP URL comes from RMQTOPO_AMQP_URL. Each message has message_id PREFIX-i, a body of
 * its own, and headers of many AMQP types (long, int, string, bool, timestamp, byte array,
 * nested table and array), so a digest that survives a move proves the move kept them all.
 */
#define _POSIX_C_SOURCE 200809L
#include "msgdigest.h"
#include "toolsession.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void die(const struct rmqt_error *err)
{
    fprintf(stderr, "msgtool: %s\n", err->message);
    exit(1);
}

static int publish(const char *vhost, const char *queue, long n, const char *prefix)
{
    struct rmqt_session *s = tool_session("msgtool", vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    struct rmqt_error err;
    long i;

    const char *exchange = getenv("MSGTOOL_EXCHANGE") ? getenv("MSGTOOL_EXCHANGE") : "";
    const char *expiration = getenv("MSGTOOL_EXPIRATION");
    const char *cc = getenv("MSGTOOL_CC");
    long size = getenv("MSGTOOL_SIZE") ? atol(getenv("MSGTOOL_SIZE")) : 0;
    bool binary = getenv("MSGTOOL_BINARY") && strcmp(getenv("MSGTOOL_BINARY"), "1") == 0;
    char *big = NULL;
    amqp_field_value_t ccv[16];
    int ncc = 0;

    if (cc) {
        char *copy = strdup(cc), *tok, *save = NULL;
        for (tok = strtok_r(copy, ",", &save); tok && ncc < 16; tok = strtok_r(NULL, ",", &save)) {
            ccv[ncc].kind = AMQP_FIELD_KIND_UTF8;
            ccv[ncc++].value.bytes = amqp_cstring_bytes(strdup(tok));
        }
        free(copy);
    }
    long depth = getenv("MSGTOOL_DEPTH") ? atol(getenv("MSGTOOL_DEPTH")) : 0;
    bool dupkeys = getenv("MSGTOOL_DUPKEYS") && strcmp(getenv("MSGTOOL_DUPKEYS"), "1") == 0;
    amqp_table_entry_t *deep = NULL;

    if (depth >= 2) {
        /* deep[0] is the "h-deep" entry of the headers (its table is level 2); deep[k] holds
         * a table of deep[k+1] (level k+2); the last one, a long, is in the table at level
         * `depth` */
        long k, levels = depth;
        deep = calloc((size_t)levels, sizeof(*deep));
        for (k = 0; k < levels; k++) {
            deep[k].key = amqp_cstring_bytes(k == 0 ? "h-deep" : "d");
            if (k == levels - 1) {
                deep[k].value.kind = AMQP_FIELD_KIND_I64;
                deep[k].value.value.i64 = depth;
            } else {
                deep[k].value.kind = AMQP_FIELD_KIND_TABLE;
                deep[k].value.value.table.num_entries = 1;
                deep[k].value.value.table.entries = &deep[k + 1];
            }
        }
    }
    if (size > 0)
        big = malloc((size_t)size);
    amqp_confirm_select(c, ch);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "confirm.select", &err) < 0)
        die(&err);
    for (i = 0; i < n; i++) {
        char id[64], body[128], str[64];
        amqp_bytes_t payload;
        amqp_table_entry_t h[12], inner[3];
        amqp_field_value_t arr[2];
        amqp_basic_properties_t p;
        uint8_t bytes[3] = {0, 1, 255};

        snprintf(id, sizeof(id), "%s-%ld", prefix, i);
        snprintf(body, sizeof(body), "body of %s-%ld", prefix, i);
        snprintf(str, sizeof(str), "s%ld", i);
        memset(h, 0, sizeof(h));
        h[0].key = amqp_cstring_bytes("h-long");
        h[0].value.kind = AMQP_FIELD_KIND_I64;
        h[0].value.value.i64 = i;
        h[1].key = amqp_cstring_bytes("h-int");
        h[1].value.kind = AMQP_FIELD_KIND_I32;
        h[1].value.value.i32 = (int32_t)i;
        h[2].key = amqp_cstring_bytes("h-str");
        h[2].value.kind = AMQP_FIELD_KIND_UTF8;
        h[2].value.value.bytes = amqp_cstring_bytes(str);
        h[3].key = amqp_cstring_bytes("h-bool");
        h[3].value.kind = AMQP_FIELD_KIND_BOOLEAN;
        h[3].value.value.boolean = (int)(i & 1);
        h[4].key = amqp_cstring_bytes("h-ts");
        h[4].value.kind = AMQP_FIELD_KIND_TIMESTAMP;
        h[4].value.value.u64 = 1700000000u + (uint64_t)i;
        h[5].key = amqp_cstring_bytes("h-bytes");
        h[5].value.kind = AMQP_FIELD_KIND_BYTES;
        h[5].value.value.bytes.len = sizeof(bytes);
        h[5].value.value.bytes.bytes = bytes;
        memset(inner, 0, sizeof(inner));
        inner[0].key = amqp_cstring_bytes("depth");
        inner[0].value.kind = AMQP_FIELD_KIND_I64;
        inner[0].value.value.i64 = 2;
        inner[1].key = amqp_cstring_bytes("f");
        inner[1].value.kind = AMQP_FIELD_KIND_F64;
        inner[1].value.value.f64 = 0.5;
        inner[2].key = amqp_cstring_bytes("depth");
        inner[2].value.kind = AMQP_FIELD_KIND_I32;
        inner[2].value.value.i32 = 3;
        h[6].key = amqp_cstring_bytes("h-table");
        h[6].value.kind = AMQP_FIELD_KIND_TABLE;
        h[6].value.value.table.num_entries = dupkeys ? 3 : 2;
        h[6].value.value.table.entries = inner;
        memset(arr, 0, sizeof(arr));
        arr[0].kind = AMQP_FIELD_KIND_UTF8;
        arr[0].value.bytes = amqp_cstring_bytes("a");
        arr[1].kind = AMQP_FIELD_KIND_I64;
        arr[1].value.i64 = -1;
        h[7].key = amqp_cstring_bytes("h-array");
        h[7].value.kind = AMQP_FIELD_KIND_ARRAY;
        h[7].value.value.array.num_entries = 2;
        h[7].value.value.array.entries = arr;
        memset(&p, 0, sizeof(p));
        p._flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG |
                   AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG;
        p.message_id = amqp_cstring_bytes(id);
        p.correlation_id = amqp_cstring_bytes(str);
        p.delivery_mode = 2;
        p.content_type = amqp_cstring_bytes("text/plain");
        p.timestamp = 1600000000u + (uint64_t)i;
        p.headers.num_entries = 8;
        p.headers.entries = h;
        if (ncc) {
            h[p.headers.num_entries].key = amqp_cstring_bytes("CC");
            h[p.headers.num_entries].value.kind = AMQP_FIELD_KIND_ARRAY;
            h[p.headers.num_entries].value.value.array.num_entries = ncc;
            h[p.headers.num_entries++].value.value.array.entries = ccv;
        }
        if (deep)
            h[p.headers.num_entries++] = deep[0];
        if (dupkeys) {
            /* "h-dup" twice, around another entry, each with its own type */
            h[p.headers.num_entries].key = amqp_cstring_bytes("h-dup");
            h[p.headers.num_entries].value.kind = AMQP_FIELD_KIND_I64;
            h[p.headers.num_entries++].value.value.i64 = i;
            h[p.headers.num_entries].key = amqp_cstring_bytes("h-mid");
            h[p.headers.num_entries].value.kind = AMQP_FIELD_KIND_VOID;
            p.headers.num_entries++;
            h[p.headers.num_entries].key = amqp_cstring_bytes("h-dup");
            h[p.headers.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
            h[p.headers.num_entries++].value.value.bytes = amqp_cstring_bytes(str);
        }
        if (expiration) {
            p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
            p.expiration = amqp_cstring_bytes(expiration);
        }
        payload = amqp_cstring_bytes(body);
        if (binary) {
            size_t k;
            for (k = 0; k < 16; k++)
                body[k] = (char)((i * 7 + (long)k * 31) & 0xff);
            body[0] = 0;
            body[1] = (char)0xff;
            payload.len = 16;
        }
        if (big) {
            long k;
            for (k = 0; k < size; k++)
                big[k] = binary ? (char)((k * 13 + i) & 0xff) : (char)('a' + (k + i) % 26);
            memcpy(big, payload.bytes, payload.len < (size_t)size ? payload.len : (size_t)size);
            payload.bytes = big;
            payload.len = (size_t)size;
        }
        if (rmqt_session_status(s,
                                amqp_basic_publish(c, ch, amqp_cstring_bytes(exchange),
                                                   amqp_cstring_bytes(queue), 0, 0, &p, payload),
                                "publish", &err) < 0)
            die(&err);
        /* wait for the confirm now and then, so the broker holds them all at the end */
        if ((i + 1) % 500 == 0 || i + 1 == n) {
            amqp_frame_t f;
            for (;;) {
                if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) {
                    fprintf(stderr, "msgtool: lost the connection\n");
                    return 1;
                }
                if (f.frame_type == AMQP_FRAME_METHOD &&
                    f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
                    amqp_basic_ack_t *a = f.payload.method.decoded;
                    if (a->delivery_tag == (uint64_t)(i + 1))
                        break;
                } else if (f.frame_type == AMQP_FRAME_METHOD &&
                           f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
                    fprintf(stderr, "msgtool: publish refused (nack)\n");
                    return 1;
                }
            }
        }
    }
    rmqt_session_close(s);
    free(big);
    free(deep);
    return 0;
}

static bool strip_key(amqp_bytes_t k)
{
    static const char *const exact[] = {"x-death", "rmqtopo-replay-count", NULL};
    static const char *const prefix[] = {"x-first-death-", "x-last-death-", NULL};
    int j;
    for (j = 0; exact[j]; j++)
        if (k.len == strlen(exact[j]) && memcmp(k.bytes, exact[j], k.len) == 0)
            return true;
    for (j = 0; prefix[j]; j++)
        if (k.len >= strlen(prefix[j]) && memcmp(k.bytes, prefix[j], strlen(prefix[j])) == 0)
            return true;
    return false;
}

static int dump(const char *vhost, const char *queue)
{
    struct rmqt_session *s = tool_session("msgtool", vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    struct rmqt_error err;
    uint32_t ready = 0, k;
    char tag[64] = "";

    if (rmqt_session_queue_counts(s, ch, queue, &ready, NULL, &err) < 0)
        die(&err);
    /* Every delivery stays unacknowledged, so the consumer is replaced every 1,000 deliveries
     * (a cancel keeps them unacknowledged on the channel): a prefetch as large as the queue makes
     * a quorum queue of returned messages wait longer than any timeout before it delivers. */
    amqp_basic_qos(c, ch, 0, 1000, 0);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "qos", &err) < 0)
        die(&err);
    for (k = 0; k < ready; k++) {
        amqp_envelope_t env;
        amqp_basic_properties_t p;
        amqp_table_entry_t *scratch = NULL, kept[64];
        size_t cap = 0;
        struct rmqt_digest d;
        struct timeval tv = {30, 0};
        amqp_rpc_reply_t r;

        if (k % 1000 == 0) {
            /* a tag of its own each time: a quorum queue would count the new consumer's
             * deliveries against the old one's under the same tag */
            if (k > 0) {
                amqp_basic_cancel(c, ch, amqp_cstring_bytes(tag));
                if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "cancel", &err) < 0)
                    die(&err);
            }
            snprintf(tag, sizeof(tag), "msgtool-dump-%u", k / 1000);
            amqp_basic_consume(c, ch, amqp_cstring_bytes(queue), amqp_cstring_bytes(tag), 0, 0, 0,
                               amqp_empty_table);
            if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "consume", &err) < 0)
                die(&err);
        }
        r = amqp_consume_message(c, &env, &tv, 0);

        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "msgtool: got %u of %u messages\n", k, ready);
            return 1;
        }
        /* the digest of what a copy must keep: no exchange/routing key, no counters */
        rmqt_props_without_counters(&env.message.properties, &p, &scratch, &cap);
        if (getenv("MSGTOOL_STRIP") && (p._flags & AMQP_BASIC_HEADERS_FLAG)) {
            int from, to = 0;
            for (from = 0; from < p.headers.num_entries; from++)
                if (!strip_key(p.headers.entries[from].key))
                    kept[to++] = p.headers.entries[from];
            p.headers.entries = kept;
            p.headers.num_entries = to;
        }
        rmqt_digest_init(&d);
        rmqt_digest_message(&d, amqp_empty_bytes, amqp_empty_bytes, &p, env.message.body);
        printf("%.*s %016llx%016llx\n", (int)p.message_id.len, (const char *)p.message_id.bytes,
               (unsigned long long)d.a, (unsigned long long)d.b);
        free(scratch);
        amqp_destroy_envelope(&env);
    }
    /* Nothing was acknowledged: everything goes back. A quorum queue takes the messages back
     * asynchronously after a close, so a dump right after this one could see an empty queue;
     * give them back here and wait until the queue holds them again. */
    if (ready > 0) {
        int tries, still = 0;
        uint32_t last = 0;
        amqp_basic_cancel(c, ch, amqp_cstring_bytes(tag));
        if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "cancel", &err) < 0)
            die(&err);
        amqp_basic_nack(c, ch, 0, 1, 1);
        /* at most 30 s; a count that stays short for 3 s (expired, taken by a consumer) ends it */
        for (tries = 0; tries < 600 && still < 60; tries++) {
            uint32_t now = 0;
            if (rmqt_session_queue_counts(s, ch, queue, &now, NULL, &err) < 0)
                die(&err);
            if (now >= ready)
                break;
            still = now == last ? still + 1 : 0;
            last = now;
            nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        }
    }
    rmqt_session_close(s);
    return 0;
}

static void print_table(const amqp_table_t *t);

static void print_hex(amqp_bytes_t b)
{
    size_t k;

    for (k = 0; k < b.len; k++)
        printf("%02x", ((const unsigned char *)b.bytes)[k]);
}

/* A value as "<kind code>:<value>"; written independently of rmqtopo's own codecs. */
static void print_value(const amqp_field_value_t *v)
{
    int k;

    printf("%c:", v->kind);
    switch (v->kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
        printf("%d", v->value.boolean ? 1 : 0);
        break;
    case AMQP_FIELD_KIND_I8:
        printf("%d", v->value.i8);
        break;
    case AMQP_FIELD_KIND_U8:
        printf("%u", v->value.u8);
        break;
    case AMQP_FIELD_KIND_I16:
        printf("%d", v->value.i16);
        break;
    case AMQP_FIELD_KIND_U16:
        printf("%u", v->value.u16);
        break;
    case AMQP_FIELD_KIND_I32:
        printf("%d", v->value.i32);
        break;
    case AMQP_FIELD_KIND_U32:
        printf("%u", v->value.u32);
        break;
    case AMQP_FIELD_KIND_I64:
        printf("%lld", (long long)v->value.i64);
        break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        printf("%llu", (unsigned long long)v->value.u64);
        break;
    case AMQP_FIELD_KIND_F32: {
        uint32_t b;
        memcpy(&b, &v->value.f32, sizeof(b));
        printf("%08x", b);
        break;
    }
    case AMQP_FIELD_KIND_F64: {
        uint64_t b;
        memcpy(&b, &v->value.f64, sizeof(b));
        printf("%016llx", (unsigned long long)b);
        break;
    }
    case AMQP_FIELD_KIND_DECIMAL:
        printf("%u/%u", v->value.decimal.decimals, v->value.decimal.value);
        break;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
        print_hex(v->value.bytes);
        break;
    case AMQP_FIELD_KIND_TABLE:
        print_table(&v->value.table);
        break;
    case AMQP_FIELD_KIND_ARRAY:
        printf("[");
        for (k = 0; k < v->value.array.num_entries; k++) {
            if (k)
                printf(",");
            print_value(&v->value.array.entries[k]);
        }
        printf("]");
        break;
    default:
        break;
    }
}

static void print_table(const amqp_table_t *t)
{
    int k;

    printf("{");
    for (k = 0; k < t->num_entries; k++) {
        if (k)
            printf(",");
        print_hex(t->entries[k].key);
        printf("=");
        print_value(&t->entries[k].value);
    }
    printf("}");
}

static int headers(const char *vhost, const char *queue)
{
    struct rmqt_session *s = tool_session("msgtool", vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    struct rmqt_error err;
    uint32_t ready = 0, k;

    if (rmqt_session_queue_counts(s, ch, queue, &ready, NULL, &err) < 0)
        die(&err);
    amqp_basic_qos(c, ch, 0, (uint16_t)(ready < 65535 ? ready : 0), 0);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "qos", &err) < 0)
        die(&err);
    amqp_basic_consume(c, ch, amqp_cstring_bytes(queue), amqp_cstring_bytes("msgtool-dump"), 0, 0,
                       0, amqp_empty_table);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "consume", &err) < 0)
        die(&err);
    for (k = 0; k < ready; k++) {
        amqp_envelope_t env;
        amqp_basic_properties_t p;
        amqp_table_entry_t *scratch = NULL;
        size_t cap = 0;
        struct timeval tv = {10, 0};
        amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);

        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "msgtool: got %u of %u messages\n", k, ready);
            return 1;
        }
        rmqt_props_without_counters(&env.message.properties, &p, &scratch, &cap);
        printf("%.*s ", (int)p.message_id.len, (const char *)p.message_id.bytes);
        if (p._flags & AMQP_BASIC_HEADERS_FLAG)
            print_table(&p.headers);
        else
            printf("-");
        printf("\n");
        free(scratch);
        amqp_destroy_envelope(&env);
    }
    rmqt_session_close(s);
    return 0;
}

static int hold(const char *vhost, const char *queue, int seconds)
{
    struct rmqt_session *s = tool_session("msgtool", vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    struct rmqt_error err;

    amqp_basic_qos(c, ch, 0, 1, 0);
    amqp_basic_consume(c, ch, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "consume", &err) < 0)
        die(&err);
    printf("holding\n");
    fflush(stdout);
    sleep((unsigned)seconds);
    rmqt_session_close(s);
    return 0;
}

static int reject(const char *vhost, const char *queue, long n)
{
    struct rmqt_session *s = tool_session("msgtool", vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    struct rmqt_error err;
    long k;

    amqp_basic_qos(c, ch, 0, 100, 0);
    amqp_basic_consume(c, ch, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "consume", &err) < 0)
        die(&err);
    for (k = 0; k < n; k++) {
        amqp_envelope_t env;
        struct timeval tv = {10, 0};
        amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "msgtool: rejected %ld of %ld messages\n", k, n);
            return 1;
        }
        if (amqp_basic_reject(c, ch, env.delivery_tag, 0) != AMQP_STATUS_OK) {
            fprintf(stderr, "msgtool: reject failed\n");
            return 1;
        }
        amqp_destroy_envelope(&env);
    }
    rmqt_session_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "reject") == 0)
        return reject(argv[2], argv[3], atol(argv[4]));
    if (argc == 5 && strcmp(argv[1], "hold") == 0)
        return hold(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 5 && strcmp(argv[1], "publish") == 0)
        return publish(argv[2], argv[3], atol(argv[4]), argc > 5 ? argv[5] : "m");
    if (argc == 4 && strcmp(argv[1], "dump") == 0)
        return dump(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "headers") == 0)
        return headers(argv[2], argv[3]);
    fprintf(stderr,
            "usage: msgtool publish VHOST QUEUE N [PREFIX] | msgtool dump|headers VHOST QUEUE\n");
    return 64;
}
