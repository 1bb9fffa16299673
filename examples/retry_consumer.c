/*
 * retry_consumer.c - a consumer that follows the retry ladder's contract (README, "Retry
 * ladders"), on rabbitmq-c. An example to copy from, also used by tests/integration.
 *
 *   retry_consumer URL VHOST QUEUE RETRY_EXCHANGE DELAY... [-- options]
 *     --fail-always ID,...   message ids whose processing always fails
 *     --fail-once ID,...     message ids whose first attempt fails
 *     --max N                stop after N deliveries (default: run forever)
 *
 * The contract, per delivery of a message taken from QUEUE (manual acknowledgement):
 *   - success: ack.
 *   - failure, header `retry-attempt` (a long, absent = 0) below the number of delays:
 *     publish a copy (body, properties, headers kept) to RETRY_EXCHANGE with routing key
 *     QUEUE and the headers retry-delay = DELAY[attempt] (a string, as the ladder names it)
 *     and retry-attempt = attempt + 1, wait for the broker's confirm, then ack the original.
 *     The wait queue of that delay holds it for the delay and dead-letters it through the
 *     default exchange back to QUEUE.
 *   - failure on the last attempt (or a permanent error): reject with requeue=false; the
 *     queue's dead-letter exchange takes it to the DLQ, with its x-death history.
 * Each delivery is logged on stdout: "<ms since epoch> <message id> attempt=<n> <action>".
 */
#define _POSIX_C_SOURCE 200809L
#if defined(__has_include)
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, amqp_rpc_reply_t r)
{
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return;
    fprintf(stderr, "retry_consumer: %s failed (reply type %d)\n", what, (int)r.reply_type);
    exit(1);
}

static bool in_list(const char *list, const char *id)
{
    size_t n = strlen(id);
    const char *p = list;

    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, id, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t header_long(const amqp_basic_properties_t *p, const char *key)
{
    int i;

    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return 0;
    for (i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len == strlen(key) && memcmp(e->key.bytes, key, e->key.len) == 0) {
            switch (e->value.kind) {
            case AMQP_FIELD_KIND_I64:
                return e->value.value.i64;
            case AMQP_FIELD_KIND_U64:
                return (int64_t)e->value.value.u64;
            case AMQP_FIELD_KIND_I32:
                return e->value.value.i32;
            case AMQP_FIELD_KIND_U32:
                return e->value.value.u32;
            default:
                return 0;
            }
        }
    }
    return 0;
}

/* Publishes the retry copy and waits for its confirm; false when the broker did not take it. */
static bool publish_retry(amqp_connection_state_t c, const char *xchg, const char *queue,
                          const amqp_envelope_t *env, const char *delay, int64_t attempt)
{
    amqp_basic_properties_t props = env->message.properties;
    const amqp_table_t *old = &env->message.properties.headers;
    int n_old = (props._flags & AMQP_BASIC_HEADERS_FLAG) ? old->num_entries : 0;
    amqp_table_entry_t *entries = calloc((size_t)n_old + 2, sizeof(*entries));
    int i, n = 0;
    amqp_frame_t f;
    bool ok = false, returned = false;

    for (i = 0; i < n_old; i++) {
        const amqp_bytes_t k = old->entries[i].key;
        if ((k.len == 11 && memcmp(k.bytes, "retry-delay", 11) == 0) ||
            (k.len == 13 && memcmp(k.bytes, "retry-attempt", 13) == 0))
            continue;
        entries[n++] = old->entries[i];
    }
    entries[n].key = amqp_cstring_bytes("retry-delay");
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n++].value.value.bytes = amqp_cstring_bytes(delay);
    entries[n].key = amqp_cstring_bytes("retry-attempt");
    entries[n].value.kind = AMQP_FIELD_KIND_I64;
    entries[n++].value.value.i64 = attempt;
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers.num_entries = n;
    props.headers.entries = entries;
    if (amqp_basic_publish(c, 1, amqp_cstring_bytes(xchg), amqp_cstring_bytes(queue), 1, 0, &props,
                           env->message.body) != AMQP_STATUS_OK)
        goto out;
    /* the confirm; a basic.return comes first when nothing routed the copy (mandatory): the
     * broker then still acks the publish, but the copy is gone, so the original must stay */
    for (;;) {
        if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK || f.frame_type != AMQP_FRAME_METHOD)
            goto out;
        if (f.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
            amqp_message_t m;
            if (amqp_read_message(c, f.channel, &m, 0).reply_type == AMQP_RESPONSE_NORMAL)
                amqp_destroy_message(&m);
            fprintf(stderr, "retry_consumer: %s did not route the retry (is the ladder applied?)\n",
                    xchg);
            returned = true;
            continue;
        }
        if (f.payload.method.id == AMQP_BASIC_ACK_METHOD)
            ok = !returned;
        break;
    }
out:
    free(entries);
    return ok;
}

int main(int argc, char **argv)
{
    const char *fail_always = "", *fail_once = "";
    long max = -1, seen = 0;
    const char **delays;
    int n_delays = 0, i;
    struct amqp_connection_info ci;
    amqp_connection_state_t c;
    amqp_socket_t *sock;
    char *url;

    if (argc < 6) {
        fprintf(stderr, "usage: retry_consumer URL VHOST QUEUE RETRY_EXCHANGE DELAY... "
                        "[--fail-always IDS] [--fail-once IDS] [--max N]\n");
        return 64;
    }
    delays = calloc((size_t)argc, sizeof(char *));
    for (i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--fail-always") == 0 && i + 1 < argc)
            fail_always = argv[++i];
        else if (strcmp(argv[i], "--fail-once") == 0 && i + 1 < argc)
            fail_once = argv[++i];
        else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
            max = atol(argv[++i]);
        else
            delays[n_delays++] = argv[i];
    }
    url = strdup(argv[1]);
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK) {
        fprintf(stderr, "retry_consumer: bad URL\n");
        return 64;
    }
    c = amqp_new_connection();
    sock = amqp_tcp_socket_new(c);
    if (!sock || amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK) {
        fprintf(stderr, "retry_consumer: cannot connect to %s:%d\n", ci.host, ci.port);
        return 1;
    }
    die("login",
        amqp_login(c, argv[2], 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password));
    amqp_channel_open(c, 1);
    die("channel.open", amqp_get_rpc_reply(c));
    amqp_confirm_select(c, 1);
    die("confirm.select", amqp_get_rpc_reply(c));
    amqp_basic_qos(c, 1, 0, 1, 0); /* one at a time: the confirm wait sees no deliveries */
    die("basic.qos", amqp_get_rpc_reply(c));
    amqp_basic_consume(c, 1, amqp_cstring_bytes(argv[3]), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    die("basic.consume", amqp_get_rpc_reply(c));

    while (max < 0 || seen < max) {
        amqp_envelope_t env;
        amqp_rpc_reply_t r;
        char id[256] = "";
        int64_t attempt;
        long long t;
        bool fail;

        amqp_maybe_release_buffers(c);
        r = amqp_consume_message(c, &env, NULL, 0);
        die("consume", r);
        /* the time of receipt: a retry copy can enter its wait queue only after this, so the
         * next receipt of the message is at least the delay later */
        t = now_ms();
        seen++;
        if (env.message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
            snprintf(id, sizeof(id), "%.*s", (int)env.message.properties.message_id.len,
                     (const char *)env.message.properties.message_id.bytes);
        attempt = header_long(&env.message.properties, "retry-attempt");
        fail = in_list(fail_always, id) || (attempt == 0 && in_list(fail_once, id));
        if (!fail) {
            amqp_basic_ack(c, 1, env.delivery_tag, 0);
            printf("%lld %s attempt=%lld ack\n", t, id, (long long)attempt);
        } else if (attempt < n_delays) {
            if (publish_retry(c, argv[4], argv[3], &env, delays[attempt], attempt + 1)) {
                amqp_basic_ack(c, 1, env.delivery_tag, 0);
                printf("%lld %s attempt=%lld retry %s\n", t, id, (long long)attempt,
                       delays[attempt]);
            } else {
                /* not taken by the broker: leave it for a later try */
                amqp_basic_nack(c, 1, env.delivery_tag, 0, 1);
                printf("%lld %s attempt=%lld requeue\n", t, id, (long long)attempt);
            }
        } else {
            amqp_basic_reject(c, 1, env.delivery_tag, 0);
            printf("%lld %s attempt=%lld dead-letter\n", t, id, (long long)attempt);
        }
        fflush(stdout);
        amqp_destroy_envelope(&env);
    }
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
    free(url);
    free(delays);
    return 0;
}
