/*
 * dlq.h - what the four dlq commands (cmd_dlq_*.c) share on the command line: their options,
 * their formatting, and the connection (cmd_dlq_common.c). The operations and their rules
 * are ops/'s (source.h, inspect.h, replay.h, archive.h).
 */
#ifndef RMQT_CLI_DLQ_H
#define RMQT_CLI_DLQ_H

#include "cli.h"

#include "mover.h"
#include "replay.h"
#include "source.h"

#include <jansson.h>
#include <stdint.h>

/* --- options ---------------------------------------------------------------------------- */

/* --opt as a whole number above 0; prints the usage error and returns -1 otherwise. */
int dlq_parse_count(const char *opt, const char *s, uint64_t *out);
/* --rate (replay and restore): 0 when not given; -1 after printing a usage error. */
int dlq_parse_rate(const struct parsed_opts *opts, double *rate);
/* --reason, --from-queue and --older-than (replay and archive); -1 after a usage error. */
int dlq_parse_filter(const struct parsed_opts *opts, struct replay_filter *f);

/* --- formatting ------------------------------------------------------------------------- */

/* "2026-01-02T03:04:05Z" (or the number, for a time out of range). */
void dlq_format_time(char *buf, size_t cap, uint64_t t);
/* A body preview safe for a terminal and for JSON (new; caller frees). */
char *dlq_body_preview(amqp_bytes_t body);
/* A JSON string for names and ids (invalid UTF-8 shown as U+FFFD); json null when !present. */
json_t *dlq_bytes_json(amqp_bytes_t b);
json_t *dlq_bytes_or_null(bool present, amqp_bytes_t b);
/* Appends b made safe, padded or cut ("~") to width. */
void dlq_add_bytes_text(struct strbuf *sb, amqp_bytes_t b, size_t width);
/* The same for a C string, and a space after it. */
void dlq_add_cell(struct strbuf *sb, const char *s, size_t width);
void dlq_add_count(json_t *j, const char *k, uint64_t v);

/* The progress line of replay, archive and restore on a terminal. */
struct dlq_progress {
    bool tty;
    double t0;
    const char *verb; /* "replayed" (NULL), "archived", "copied", "restored" */
};
void dlq_progress_start(struct dlq_progress *p, bool tty, const char *verb);
/* The mover's callback (ctx: struct dlq_progress). */
void dlq_progress_cb(void *ctx, const struct rmqt_mover_stats *st);
/* Clears the progress line. */
void dlq_progress_end(const struct dlq_progress *p);

/* --- the connection and the source -------------------------------------------------------- */

struct dlq_conn {
    struct cli_amqp amqp;
    struct rmqt_http *http; /* NULL when it could not be set up */
    /* the broker's version, read once for the broker line when no source read it */
    struct rmqt_broker_info broker;
    int broker_read; /* 0 not yet, 1 read, -1 could not be read */
};

/* Sets up AMQP (in --vhost) and HTTP; on failure prints the error and returns -1. */
int dlq_connect(struct cli *cli, const struct parsed_opts *opts, struct dlq_conn *c);
/* An AMQP session named name; NULL after printing the error. */
struct rmqt_session *dlq_open_session(struct cli *cli, struct dlq_conn *c, const char *name);
void dlq_release(struct dlq_conn *c);

/* The sequence inspect, replay and archive share: connect, open a session named name, open
 * queue as the source (ops/source.h) and print its warnings. Returns 0 with *s and src set,
 * or -1 after printing the error. Release src, *s and c either way. */
int dlq_prepare(struct cli *cli, const struct parsed_opts *opts, struct dlq_conn *c,
                const char *name, const char *queue, const char *doing, struct rmqt_session **s,
                struct dlq_source *src);

/* The broker a dlq command reads or changes (cli_print_broker): the line on f, and the JSON
 * documents' "broker" field (new). src NULL: read the version now through c->http. */
void dlq_print_broker(FILE *f, struct dlq_conn *c, const struct dlq_source *src);
json_t *dlq_broker_json(struct dlq_conn *c, const struct dlq_source *src);

/* The quorum read warning of src (source.h), when it has one: before a read that gives every
 * message back (left: UINT64_MAX), or after a move that read `left` messages and left them in
 * the queue (nothing when left is 0). dlq_prepare says it before inspect ("shown"). */
void dlq_warn_read(const struct dlq_source *src, uint64_t left);

/* Prints the at-delivery-limit warning of a run, when there is one. */
void dlq_warn_at_limit(const char *queue, uint64_t n, long limit);

/* The ops layer's refusal callback: which message the broker refuses, and why. */
void dlq_refused_cb(void *ctx, const struct rmqt_refusal *r);

#endif
