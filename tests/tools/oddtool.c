/*
 * oddtool.c - a test helper for odd messages: routing keys and names with NUL bytes, BCC
 * headers, user_id properties, header tables with an empty key.
 *
 *   oddtool publish VHOST EXCHANGE KEYHEX N PREFIX
 *       publish N persistent messages (confirmed, mandatory) with message_id PREFIX-i to
 *       EXCHANGE ("" the default exchange) with the routing key given in hex (so it may hold
 *       NUL bytes). Environment: ODD_BCC (a BCC header: one key, in hex), ODD_CC (a CC header:
 *       one key, in hex), ODD_USER_ID (the user_id property), ODD_EMPTY_KEY=1 (a header with an
 *       empty key, which the broker accepts and rabbitmq-c cannot decode). Exits 1 when a
 *       publish was returned or refused.
 *   oddtool bind VHOST QUEUE EXCHANGE KEYHEX      bind QUEUE to EXCHANGE by that key
 *   oddtool unbind VHOST QUEUE EXCHANGE KEYHEX    remove that binding
 *
 * The AMQP URL comes from RMQTOPO_AMQP_URL (it may carry a user and password).
 */
#define _POSIX_C_SOURCE 200809L
#include "toolsession.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Hex to bytes (malloc'd; the caller frees .bytes). */
static amqp_bytes_t unhex(const char *hex)
{
    size_t n = strlen(hex) / 2, k;
    amqp_bytes_t b;
    unsigned char *p = malloc(n ? n : 1);

    for (k = 0; k < n; k++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * k, "%2x", &v) != 1) {
            fprintf(stderr, "oddtool: not hex: %s\n", hex);
            exit(64);
        }
        p[k] = (unsigned char)v;
    }
    b.len = n;
    b.bytes = p;
    return b;
}

static int wait_confirm(amqp_connection_state_t c, bool *returned)
{
    for (;;) {
        amqp_frame_t f;
        struct timeval tv = {30, 0};
        if (amqp_simple_wait_frame_noblock(c, &f, &tv) != AMQP_STATUS_OK)
            return -1;
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        if (f.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
            amqp_message_t msg;
            *returned = true;
            if (amqp_read_message(c, f.channel, &msg, 0).reply_type == AMQP_RESPONSE_NORMAL)
                amqp_destroy_message(&msg);
            continue;
        }
        if (f.payload.method.id == AMQP_BASIC_ACK_METHOD)
            return 0;
        if (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
            f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_channel_close_t *m = f.payload.method.decoded;
            fprintf(stderr, "oddtool: the broker closed the channel: %.*s\n",
                    (int)m->reply_text.len, (const char *)m->reply_text.bytes);
            return -1;
        }
        if (f.payload.method.id == AMQP_BASIC_NACK_METHOD)
            return -1;
    }
}

static int publish(const char *vhost, const char *exchange, const char *keyhex, long n,
                   const char *prefix)
{
    struct rmqt_session *s = tool_session("oddtool", vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    amqp_bytes_t key = unhex(keyhex), bcc = {0, NULL}, cc = {0, NULL};
    amqp_table_entry_t hdr[4];
    amqp_field_value_t bccv, ccv;
    struct rmqt_error err;
    int nh = 0, failures = 0;
    long i;

    amqp_confirm_select(c, ch);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "confirm.select", &err) < 0) {
        fprintf(stderr, "oddtool: %s\n", err.message);
        return 1;
    }
    if (getenv("ODD_BCC")) {
        bcc = unhex(getenv("ODD_BCC"));
        bccv.kind = AMQP_FIELD_KIND_UTF8;
        bccv.value.bytes = bcc;
        hdr[nh].key = amqp_cstring_bytes("BCC");
        hdr[nh].value.kind = AMQP_FIELD_KIND_ARRAY;
        hdr[nh].value.value.array.num_entries = 1;
        hdr[nh].value.value.array.entries = &bccv;
        nh++;
    }
    if (getenv("ODD_CC")) {
        cc = unhex(getenv("ODD_CC"));
        ccv.kind = AMQP_FIELD_KIND_UTF8;
        ccv.value.bytes = cc;
        hdr[nh].key = amqp_cstring_bytes("CC");
        hdr[nh].value.kind = AMQP_FIELD_KIND_ARRAY;
        hdr[nh].value.value.array.num_entries = 1;
        hdr[nh].value.value.array.entries = &ccv;
        nh++;
    }
    if (getenv("ODD_EMPTY_KEY")) {
        hdr[nh].key = amqp_empty_bytes;
        hdr[nh].value.kind = AMQP_FIELD_KIND_UTF8;
        hdr[nh].value.value.bytes = amqp_cstring_bytes("empty key");
        nh++;
    }
    for (i = 0; i < n; i++) {
        amqp_basic_properties_t p;
        char id[256], body[300];
        bool returned = false;

        snprintf(id, sizeof(id), "%s-%ld", prefix, i);
        snprintf(body, sizeof(body), "body of %s", id);
        memset(&p, 0, sizeof(p));
        p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
        p.delivery_mode = 2;
        p.message_id = amqp_cstring_bytes(id);
        if (getenv("ODD_USER_ID")) {
            p._flags |= AMQP_BASIC_USER_ID_FLAG;
            p.user_id = amqp_cstring_bytes(getenv("ODD_USER_ID"));
        }
        if (nh) {
            p._flags |= AMQP_BASIC_HEADERS_FLAG;
            p.headers.num_entries = nh;
            p.headers.entries = hdr;
        }
        if (amqp_basic_publish(c, ch, amqp_cstring_bytes(exchange), key, 1, 0, &p,
                               amqp_cstring_bytes(body)) != AMQP_STATUS_OK ||
            wait_confirm(c, &returned) < 0) {
            fprintf(stderr, "oddtool: publish %s failed\n", id);
            return 1;
        }
        failures += returned;
    }
    free(key.bytes);
    free(bcc.bytes);
    free(cc.bytes);
    rmqt_session_close(s);
    if (failures)
        fprintf(stderr, "oddtool: %d returned\n", failures);
    return failures ? 1 : 0;
}

static int bind(const char *vhost, const char *queue, const char *exchange, const char *keyhex,
                bool unbind)
{
    struct rmqt_session *s = tool_session("oddtool", vhost);
    amqp_connection_state_t c = rmqt_session_conn(s);
    amqp_channel_t ch = rmqt_session_channel(s);
    amqp_bytes_t key = unhex(keyhex);
    struct rmqt_error err;

    if (unbind)
        amqp_queue_unbind(c, ch, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), key,
                          amqp_empty_table);
    else
        amqp_queue_bind(c, ch, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange), key,
                        amqp_empty_table);
    free(key.bytes);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "bind", &err) < 0) {
        fprintf(stderr, "oddtool: %s\n", err.message);
        return 1;
    }
    rmqt_session_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "publish") == 0)
        return publish(argv[2], argv[3], argv[4], atol(argv[5]), argv[6]);
    if (argc == 6 && strcmp(argv[1], "bind") == 0)
        return bind(argv[2], argv[3], argv[4], argv[5], false);
    if (argc == 6 && strcmp(argv[1], "unbind") == 0)
        return bind(argv[2], argv[3], argv[4], argv[5], true);
    fprintf(stderr, "usage: oddtool publish VHOST EXCHANGE KEYHEX N PREFIX | oddtool bind|unbind "
                    "VHOST QUEUE EXCHANGE KEYHEX\n");
    return 64;
}
