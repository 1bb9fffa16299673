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
 *
 * The AMQP URL comes from RMQTOPO_AMQP_URL. Each message has message_id PREFIX-i, a body of
 * its own, and headers of many AMQP types (long, int, string, bool, timestamp, byte array,
 * nested table and array), so a digest that survives a move proves the move kept them all.
 */
#define _POSIX_C_SOURCE 200809L
#include "msgcodec.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static struct rmqt_session *open_session(const char *vhost)
{
    const char *url = getenv("RMQTOPO_AMQP_URL");
    struct rmqt_session_config cfg;
    struct rmqt_error err;
    struct rmqt_session *s;

    memset(&cfg, 0, sizeof(cfg));
    if (url) {
        cfg.urls = &url;
        cfg.n_urls = 1;
    }
    cfg.vhost = vhost;
    s = rmqt_session_open(&cfg, &err);
    if (!s) {
        fprintf(stderr, "msgtool: %s\n", err.message);
        exit(1);
    }
    return s;
}

static void die(const struct rmqt_error *err)
{
    fprintf(stderr, "msgtool: %s\n", err->message);
    exit(1);
}

static int publish(const char *vhost, const char *queue, long n, const char *prefix)
{
    struct rmqt_session *s = open_session(vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    struct rmqt_error err;
    long i;

    amqp_confirm_select(c, ch);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "confirm.select", &err) < 0)
        die(&err);
    for (i = 0; i < n; i++) {
        char id[64], body[128], str[64];
        amqp_table_entry_t h[8], inner[2];
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
        h[6].key = amqp_cstring_bytes("h-table");
        h[6].value.kind = AMQP_FIELD_KIND_TABLE;
        h[6].value.value.table.num_entries = 2;
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
        if (rmqt_session_status(s,
                                amqp_basic_publish(c, ch, amqp_cstring_bytes(""),
                                                   amqp_cstring_bytes(queue), 0, 0, &p,
                                                   amqp_cstring_bytes(body)),
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
    return 0;
}

static int dump(const char *vhost, const char *queue)
{
    struct rmqt_session *s = open_session(vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    struct rmqt_error err;
    uint32_t ready = 0, k;

    if (rmqt_session_queue_counts(s, ch, queue, &ready, NULL, &err) < 0)
        die(&err);
    /* quorum queues give a consumer without a prefetch only 2,000 messages at a time */
    amqp_basic_qos(c, ch, 0, (uint16_t)(ready < 65535 ? ready : 0), 0);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "qos", &err) < 0)
        die(&err);
    amqp_basic_consume(c, ch, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "consume", &err) < 0)
        die(&err);
    for (k = 0; k < ready; k++) {
        amqp_envelope_t env;
        amqp_basic_properties_t p;
        amqp_table_entry_t *scratch = NULL;
        size_t cap = 0;
        struct rmqt_digest d;
        struct timeval tv = {10, 0};
        amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);

        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fprintf(stderr, "msgtool: got %u of %u messages\n", k, ready);
            return 1;
        }
        /* the digest of what a copy must keep: no exchange/routing key, no counters */
        rmqt_props_without_counters(&env.message.properties, &p, &scratch, &cap);
        rmqt_digest_init(&d);
        rmqt_digest_message(&d, amqp_empty_bytes, amqp_empty_bytes, &p, env.message.body);
        printf("%.*s %016llx%016llx\n", (int)p.message_id.len, (const char *)p.message_id.bytes,
               (unsigned long long)d.a, (unsigned long long)d.b);
        free(scratch);
        amqp_destroy_envelope(&env);
    }
    rmqt_session_close(s); /* nothing was acknowledged: everything goes back */
    return 0;
}

static int hold(const char *vhost, const char *queue, int seconds)
{
    struct rmqt_session *s = open_session(vhost);
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

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "hold") == 0)
        return hold(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 5 && strcmp(argv[1], "publish") == 0)
        return publish(argv[2], argv[3], atol(argv[4]), argc > 5 ? argv[5] : "m");
    if (argc == 4 && strcmp(argv[1], "dump") == 0)
        return dump(argv[2], argv[3]);
    fprintf(stderr, "usage: msgtool publish VHOST QUEUE N [PREFIX] | msgtool dump VHOST QUEUE\n");
    return 64;
}
