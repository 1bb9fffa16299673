/*
 * cmd_publish.c - `rmqtopo publish VHOST --queue Q | --exchange X ...`: put test messages into
 * a queue (issue 17: amqp-publish cannot set a per-message TTL).
 *
 * Publishes with publisher confirms and mandatory on one channel, reading confirms, returns
 * and nacks as it goes (at most WINDOW unconfirmed), and exits 0 only when the broker
 * confirmed every message and returned none.
 */
#include "cli.h"

#include "session.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define WINDOW 512
#define CONFIRM_TIMEOUT_S 60
#define MAX_HEADERS 64

static const struct optspec publish_options_spec[] = {
    {"queue", 0, "Q", "publish to queue Q (through the default exchange)"},
    {"exchange", 0, "X", "publish to exchange X"},
    {"routing-key", 0, "K", "with --exchange: the routing key (default: empty)"},
    {"body", 0, "TEXT", "the body (default: empty)"},
    {"body-file", 0, "F", "the body: the bytes of file F (- for stdin)"},
    {"count", 0, "N", "publish N messages (default 1)"},
    {"ttl", 0, "MS", "a per-message TTL in milliseconds (the expiration property)"},
    {"header", 0, "K=V", "a header K with the string value V (repeatable)"},
    {"message-id", 0, "ID", "the message_id (with --count N > 1: ID-1 ... ID-N)"},
    {"content-type", 0, "T", "the content_type property"},
    {"transient", 0, NULL, "delivery mode 1 (default: 2, persistent)"},
    {NULL, 0, NULL, NULL},
};

struct pub {
    struct rmqt_session *s;
    uint64_t published, acked, nacked, returned;
    unsigned char *state; /* per sequence number (1-based): 0 waiting, 1 acked, 2 nacked */
    uint64_t low;         /* every sequence number up to low is settled */
    char returned_why[256];
};

static void settle(struct pub *p, uint64_t tag, bool multiple, bool ack)
{
    uint64_t i, from = multiple ? p->low + 1 : tag;

    for (i = from; i <= tag && i <= p->published; i++) {
        if (p->state[i])
            continue;
        p->state[i] = ack ? 1 : 2;
        if (ack)
            p->acked++;
        else
            p->nacked++;
    }
    while (p->low < p->published && p->state[p->low + 1])
        p->low++;
}

/* Reads frames until at most `keep` publishes await a confirm. Returns 0, or -1 with err. */
static int drain(struct pub *p, uint64_t keep, struct rmqt_error *err)
{
    amqp_connection_state_t conn = rmqt_session_conn(p->s);
    amqp_channel_t ch = rmqt_session_channel(p->s);

    while (p->published - p->acked - p->nacked > keep) {
        struct timeval tv = {CONFIRM_TIMEOUT_S, 0};
        amqp_frame_t f;
        int status = amqp_simple_wait_frame_noblock(conn, &f, &tv);

        if (status == AMQP_STATUS_TIMEOUT)
            return rmqt_error_set(err, RMQT_ERR_AMQP,
                                  "the broker confirmed no publish for %d s (%llu of %llu "
                                  "confirmed)",
                                  CONFIRM_TIMEOUT_S, (unsigned long long)p->acked,
                                  (unsigned long long)p->published);
        if (rmqt_session_status(p->s, status, "read confirms", err) < 0)
            return -1;
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            settle(p, a->delivery_tag, a->multiple, true);
            break;
        }
        case AMQP_BASIC_NACK_METHOD: {
            amqp_basic_nack_t *a = f.payload.method.decoded;
            settle(p, a->delivery_tag, a->multiple, false);
            break;
        }
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_basic_return_t *r = f.payload.method.decoded;
            amqp_message_t msg;
            amqp_rpc_reply_t rr;
            if (!p->returned++)
                snprintf(p->returned_why, sizeof(p->returned_why), "%d %.*s", r->reply_code,
                         (int)r->reply_text.len, (char *)r->reply_text.bytes);
            /* the returned message's content follows: read it whole */
            rr = amqp_read_message(conn, f.channel, &msg, 0);
            if (rr.reply_type != AMQP_RESPONSE_NORMAL)
                return rmqt_session_check(p->s, ch, rr, "read a returned message", err);
            amqp_destroy_message(&msg);
            break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD:
            return rmqt_session_closed_by_broker(p->s, &f, "publish", err);
        default:
            break;
        }
    }
    return 0;
}

static int read_body_file(const char *path, amqp_bytes_t *out, struct rmqt_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 65536, len = 0, n;
    char *buf;

    if (!f)
        return rmqt_error_set(err, RMQT_ERR_IO, "open '%s': %s", path, strerror(errno));
    buf = xmalloc(cap);
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        if (f != stdin)
            fclose(f);
        return rmqt_error_set(err, RMQT_ERR_IO, "read '%s': %s", path, strerror(e));
    }
    if (f != stdin)
        fclose(f);
    out->bytes = buf;
    out->len = len;
    return 0;
}

static int run_publish(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    const char *vhost = argv[0], *queue = opt_last(opts, "queue"),
               *exchange = opt_last(opts, "exchange"), *rkey = opt_last(opts, "routing-key"),
               *body_s = opt_last(opts, "body"), *body_file = opt_last(opts, "body-file"),
               *count_s = opt_last(opts, "count"), *ttl_s = opt_last(opts, "ttl"),
               *id = opt_last(opts, "message-id"), *ctype = opt_last(opts, "content-type");
    const struct optvalues *hv = opt_get(opts, "header");
    amqp_table_entry_t headers[MAX_HEADERS];
    amqp_basic_properties_t props;
    amqp_bytes_t body = {0, NULL};
    struct cli_amqp amqp;
    struct rmqt_error err;
    struct pub p;
    unsigned long long count = 1, ttl = 0;
    char *end, idbuf[512], ttlbuf[32];
    size_t i, nh = hv ? hv->n : 0;
    bool body_owned = false, ok;
    int status = EXIT_FAIL, k;

    (void)argc;
    memset(&p, 0, sizeof(p));
    memset(&amqp, 0, sizeof(amqp));
    if (!queue == !exchange) {
        fprintf(stderr, "rmqtopo: give one of --queue and --exchange\n");
        return EXIT_USAGE;
    }
    if (rkey && !exchange) {
        fprintf(stderr, "rmqtopo: --routing-key goes with --exchange\n");
        return EXIT_USAGE;
    }
    if (body_s && body_file) {
        fprintf(stderr, "rmqtopo: give one of --body and --body-file\n");
        return EXIT_USAGE;
    }
    if (count_s) {
        errno = 0;
        count = strtoull(count_s, &end, 10);
        if (errno || *end || !*count_s || count_s[0] == '-' || count < 1 || count > 100000000) {
            fprintf(stderr, "rmqtopo: --count takes a number from 1 to 100000000, not '%s'\n",
                    count_s);
            return EXIT_USAGE;
        }
    }
    if (ttl_s) {
        errno = 0;
        ttl = strtoull(ttl_s, &end, 10);
        if (errno || *end || !*ttl_s || ttl_s[0] == '-' || ttl > 4294967295ULL) {
            fprintf(stderr,
                    "rmqtopo: --ttl takes milliseconds, a whole number from 0 to 4294967295, "
                    "not '%s'\n",
                    ttl_s);
            return EXIT_USAGE;
        }
        snprintf(ttlbuf, sizeof(ttlbuf), "%llu", ttl);
    }
    if (nh > MAX_HEADERS) {
        fprintf(stderr, "rmqtopo: at most %d --header options\n", MAX_HEADERS);
        return EXIT_USAGE;
    }
    for (i = 0; i < nh; i++) {
        const char *eq = strchr(hv->v[i], '=');
        if (!eq || eq == hv->v[i]) {
            fprintf(stderr, "rmqtopo: --header takes KEY=VALUE, not '%s'\n", hv->v[i]);
            return EXIT_USAGE;
        }
        headers[i].key.bytes = (void *)hv->v[i];
        headers[i].key.len = (size_t)(eq - hv->v[i]);
        headers[i].value.kind = AMQP_FIELD_KIND_UTF8;
        headers[i].value.value.bytes = rmqt_bytes(eq + 1);
    }
    if (body_file) {
        if (read_body_file(body_file, &body, &err) < 0)
            return cli_fail(cli, EXIT_FAIL, "%s", err.message);
        body_owned = true;
    } else if (body_s) {
        body = rmqt_bytes(body_s);
    }
    if (cli_amqp_setup(cli, &amqp, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    amqp.cfg.vhost = vhost;
    amqp.cfg.name = "rmqtopo publish";
    if (!(p.s = rmqt_session_open(&amqp.cfg, &err))) {
        status =
            cli_fail(cli, err.code == RMQT_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL, "%s", err.message);
        goto out;
    }
    /* the target first: a publish to a missing exchange closes the channel, and one to a
     * missing queue is returned; both say less than this */
    k = rmqt_session_exists(p.s, exchange != NULL, rmqt_bytes(exchange ? exchange : queue), &err);
    if (k <= 0 && !(exchange && !*exchange)) {
        if (k == 0)
            rmqt_error_set(&err, RMQT_ERR_AMQP,
                           "%s '%s' does not exist in vhost '%s': nothing was published",
                           exchange ? "exchange" : "queue", exchange ? exchange : queue, vhost);
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    amqp_confirm_select(rmqt_session_conn(p.s), rmqt_session_channel(p.s));
    if (rmqt_session_check(p.s, rmqt_session_channel(p.s),
                           amqp_get_rpc_reply(rmqt_session_conn(p.s)), "confirm.select",
                           &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    p.state = xcalloc((size_t)count + 1, 1);
    memset(&props, 0, sizeof(props));
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = opt_flag(opts, "transient") ? 1 : 2;
    if (ttl_s) {
        props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
        props.expiration = rmqt_bytes(ttlbuf);
    }
    if (ctype) {
        props._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
        props.content_type = rmqt_bytes(ctype);
    }
    if (nh) {
        props._flags |= AMQP_BASIC_HEADERS_FLAG;
        props.headers.num_entries = (int)nh;
        props.headers.entries = headers;
    }
    cli_install_signals();
    for (p.published = 0; p.published < count && !cli_stop_requested;) {
        if (id) {
            if (count == 1)
                snprintf(idbuf, sizeof(idbuf), "%s", id);
            else
                snprintf(idbuf, sizeof(idbuf), "%s-%llu", id, (unsigned long long)p.published + 1);
            props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
            props.message_id = rmqt_bytes(idbuf);
        }
        if (rmqt_session_status(
                p.s,
                amqp_basic_publish(rmqt_session_conn(p.s), rmqt_session_channel(p.s),
                                   rmqt_bytes(exchange ? exchange : ""),
                                   rmqt_bytes(exchange ? (rkey ? rkey : "") : queue), 1, 0, &props,
                                   body),
                "publish", &err) < 0)
            break;
        p.published++;
        if (p.published - p.acked - p.nacked >= WINDOW && drain(&p, WINDOW / 2, &err) < 0)
            break;
        err.message[0] = '\0';
    }
    if (!err.message[0] || p.published == count)
        if (drain(&p, 0, &err) < 0 && !err.message[0])
            rmqt_error_set(&err, RMQT_ERR_AMQP, "lost the connection");
    ok =
        p.published == count && p.acked == count && !p.returned && !p.nacked && !cli_stop_requested;
    if (cli->output == OUTPUT_JSON) {
        json_t *j = json_object();
        json_object_set_new(j, "vhost", json_string(vhost));
        json_object_set_new(j, "exchange", json_string(exchange ? exchange : ""));
        json_object_set_new(j, "routing_key", json_string(exchange ? (rkey ? rkey : "") : queue));
        json_object_set_new(j, "published", json_integer((json_int_t)p.published));
        json_object_set_new(j, "confirmed", json_integer((json_int_t)(p.acked - p.returned)));
        json_object_set_new(j, "returned", json_integer((json_int_t)p.returned));
        json_object_set_new(j, "nacked", json_integer((json_int_t)p.nacked));
        json_object_set_new(j, "ok", json_boolean(ok));
        json_object_set_new(j, "error",
                            ok ? json_null()
                               : json_string(p.returned       ? p.returned_why
                                             : err.message[0] ? err.message
                                                              : "stopped"));
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    } else {
        printf("published %llu message(s) to %s '%s' in vhost '%s': %llu confirmed",
               (unsigned long long)p.published, exchange ? "exchange" : "queue",
               exchange ? exchange : queue, vhost, (unsigned long long)(p.acked - p.returned));
        if (exchange)
            printf(" (routing key '%s')", rkey ? rkey : "");
        if (p.returned)
            printf(", %llu returned (%s)", (unsigned long long)p.returned, p.returned_why);
        if (p.nacked)
            printf(", %llu refused (basic.nack)", (unsigned long long)p.nacked);
        printf("\n");
    }
    if (ok)
        status = EXIT_OK;
    else if (p.returned)
        status = cli_fail(cli, EXIT_FAIL,
                          "the broker returned %llu message(s) as unroutable (%s): no queue "
                          "got them",
                          (unsigned long long)p.returned, p.returned_why);
    else if (err.message[0])
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
    else
        status = cli_fail(cli, EXIT_FAIL, "%s",
                          cli_stop_requested ? "stopped by a signal"
                                             : "not every message was confirmed");
out:
    free(p.state);
    rmqt_session_close(p.s);
    cli_amqp_release(&amqp);
    if (body_owned)
        free(body.bytes);
    return status;
}

const struct command cmd_publish = {
    "publish",
    "VHOST",
    "publish test messages to a queue or an exchange",
    "Publishes --count messages (default 1) into vhost VHOST: to --queue Q through the\n"
    "default exchange, or to --exchange X with --routing-key K. Each carries the --body TEXT\n"
    "(or the bytes of --body-file F), is persistent (--transient: not), and has the optional\n"
    "per-message TTL --ttl MS (the expiration property), --message-id ID (with --count N > 1:\n"
    "ID-1 ... ID-N), --content-type T and string headers --header K=V (repeatable).\n"
    "\n"
    "For trying things out: a message into a queue with a TTL that dead-letters, a message that\n"
    "a consumer rejects. Publishes use publisher confirms and mandatory: a message no queue\n"
    "takes is returned and reported. The queue or exchange must exist.\n"
    "\n"
    "Exit status: 0 the broker confirmed every message and returned none, 1 failure (missing\n"
    "target, returned or refused messages, lost connection), 64 usage error.",
    publish_options_spec,
    run_publish,
    NULL,
    1,
    1,
    "takes one vhost",
    NEEDS_AMQP,
};
