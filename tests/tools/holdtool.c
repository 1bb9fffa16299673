/*
 * holdtool.c - a test helper: a client that takes messages and holds them unacknowledged.
 *
 *   holdtool get VHOST QUEUE N         basic.get up to N messages without acknowledging them
 *   holdtool consume VHOST QUEUE P     be a consumer with prefetch P, acknowledging nothing
 *
 * Each message taken is printed as "got MESSAGE_ID". get prints "held K" once it has taken
 * what it could (K <= N); consume prints "held K" whenever it has K messages and no more
 * arrive for a moment. Then it obeys stdin, one command a line:
 *   ack      acknowledge every message held ("acked K")
 *   return   return every message held to its queue (basic.nack, requeue; "returned K")
 *   quit     close the connection (the broker returns what is held)
 * End of stdin or a signal does the same as quit; kill -9 too (the broker sees the socket close).
 * The connection's name is "holdtool"; the AMQP URL comes from RMQTOPO_AMQP_URL.
 */
#define _POSIX_C_SOURCE 200809L
#include "toolsession.h"

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static void die(const char *what, const struct rmqt_error *err)
{
    fprintf(stderr, "holdtool: %s: %s\n", what, err->message);
    exit(1);
}

static void print_id(const amqp_basic_properties_t *p)
{
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        printf("got %.*s\n", (int)p->message_id.len, (const char *)p->message_id.bytes);
    else
        printf("got -\n");
}

/* Reads one command from stdin when one is there (or waits up to ms): 0 none, 1 ack,
 * 2 return, 3 quit (also end of input). */
static int command(int ms)
{
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    char line[64];

    if (poll(&pfd, 1, ms) <= 0)
        return 0;
    if (!fgets(line, sizeof(line), stdin))
        return 3;
    if (strncmp(line, "ack", 3) == 0)
        return 1;
    if (strncmp(line, "return", 6) == 0)
        return 2;
    if (strncmp(line, "quit", 4) == 0)
        return 3;
    return 0;
}

int main(int argc, char **argv)
{
    struct rmqt_session *s;
    struct rmqt_error err;
    amqp_connection_state_t c;
    amqp_channel_t ch;
    uint64_t last_tag = 0;
    long held = 0, n, reported = -1;
    bool consume;

    if (argc != 5 || (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "consume") != 0)) {
        fprintf(stderr, "usage: holdtool get|consume VHOST QUEUE N\n");
        return 64;
    }
    consume = strcmp(argv[1], "consume") == 0;
    n = atol(argv[4]);
    s = tool_session("holdtool", argv[2]);
    c = rmqt_session_conn(s);
    ch = rmqt_session_channel(s);
    if (consume) {
        amqp_basic_qos(c, ch, 0, (uint16_t)n, 0);
        if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "qos", &err) < 0)
            die("qos", &err);
        amqp_basic_consume(c, ch, amqp_cstring_bytes(argv[3]), amqp_empty_bytes, 0, 0, 0,
                           amqp_empty_table);
        if (rmqt_session_check(s, ch, amqp_get_rpc_reply(c), "consume", &err) < 0)
            die("consume", &err);
    } else {
        while (held < n) {
            amqp_rpc_reply_t r = amqp_basic_get(c, ch, amqp_cstring_bytes(argv[3]), 0);
            amqp_message_t msg;
            if (rmqt_session_check(s, ch, r, "get", &err) < 0)
                die("get", &err);
            if (r.reply.id != AMQP_BASIC_GET_OK_METHOD)
                break; /* empty */
            last_tag = ((amqp_basic_get_ok_t *)r.reply.decoded)->delivery_tag;
            r = amqp_read_message(c, ch, &msg, 0);
            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                fprintf(stderr, "holdtool: reading a message failed\n");
                return 1;
            }
            print_id(&msg.properties);
            amqp_destroy_message(&msg);
            held++;
        }
        printf("held %ld\n", held);
        fflush(stdout);
        reported = held;
    }
    for (;;) {
        int cmd;
        if (consume) {
            amqp_envelope_t env;
            struct timeval tv = {0, 200000};
            amqp_rpc_reply_t r;
            amqp_maybe_release_buffers(c);
            r = amqp_consume_message(c, &env, &tv, 0);
            if (r.reply_type == AMQP_RESPONSE_NORMAL) {
                print_id(&env.message.properties);
                last_tag = env.delivery_tag;
                held++;
                amqp_destroy_envelope(&env);
                continue;
            }
            if (!(r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                  r.library_error == AMQP_STATUS_TIMEOUT)) {
                fprintf(stderr, "holdtool: the consumer stopped (queue deleted?)\n");
                printf("stopped %ld\n", held);
                fflush(stdout);
                return 1;
            }
            if (held != reported) {
                printf("held %ld\n", held);
                fflush(stdout);
                reported = held;
            }
        }
        cmd = command(consume ? 0 : 1000);
        if (cmd == 1 || cmd == 2) {
            int st = AMQP_STATUS_OK;
            if (held && cmd == 1)
                st = amqp_basic_ack(c, ch, last_tag, 1);
            else if (held)
                st = amqp_basic_nack(c, ch, last_tag, 1, 1);
            if (st != AMQP_STATUS_OK) {
                fprintf(stderr, "holdtool: %s failed\n", cmd == 1 ? "ack" : "nack");
                return 1;
            }
            printf("%s %ld\n", cmd == 1 ? "acked" : "returned", held);
            fflush(stdout);
            held = 0;
            reported = 0;
            if (consume) { /* a consumer would take the returned messages again: stop */
                amqp_channel_close(c, ch, AMQP_REPLY_SUCCESS);
                rmqt_session_close(s);
                return 0;
            }
        } else if (cmd == 3) {
            break;
        }
    }
    rmqt_session_close(s);
    return 0;
}
