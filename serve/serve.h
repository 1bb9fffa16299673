/*
 * serve.h - `rmqtopo dlq serve`: the manual-review dashboard, a local web page and its JSON API
 * (issue 16; docs/dashboard.md). The HTTP server is libmicrohttpd's; every operation is ops/'s
 * (source, inspect, replay, archive, monitor), run with the same success rules as the CLI.
 *
 * The front end (cli/cmd_dlq_serve.c) parses the command line and hands over how to reach the
 * broker; this layer never exits and prints only its log lines (through cfg->log) and, once
 * listening, the URL line on stdout.
 */
#ifndef RMQT_SERVE_H
#define RMQT_SERVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "http.h"
#include "session.h"
#include "threshold.h"

struct serve_config {
    const char *listen;             /* "HOST:PORT" ("[::1]:PORT" for IPv6); PORT 0: a free one */
    const char *const *allow_hosts; /* more Host/Origin names to accept */
    size_t n_allow_hosts;
    const char *tls_cert, *tls_key; /* PEM files: https */
    bool insecure_listen;           /* plain http on a non-loopback address, knowingly */
    const char *archive_dir;        /* where archive actions write; NULL: no archive action */
    const char *audit_log;          /* JSON lines; NULL: beside the archive dir, else the log */
    unsigned max_jobs;              /* jobs running at once; 0: 4 */

    /* the AMQP settings (vhost and name replaced per use; the strings outlive the server) */
    const struct rmqt_session_config *amqp;
    /* a new management API client (one per thread); NULL with err set */
    struct rmqt_http *(*http_new)(void *ctx, struct rmqt_error *err);
    /* the queues of the overview (from the file, or found on the broker); 0 or -1 with err */
    int (*watchlist)(void *ctx, struct rmqt_http *http, struct rmqt_watchlist *wl,
                     struct rmqt_error *err);
    /* a log line for the operator (stderr): never given the token */
    void (*log)(void *ctx, const char *msg);
    void *ctx;
};

/* Serves until *stop is set (SIGINT/SIGTERM), then stops accepting, stops the running jobs at
 * a safe point (what is in flight is confirmed and acknowledged, the rest stays) and returns
 * 0; -1 with err set when it could not start (nothing was printed on stdout then). Once
 * listening, prints the URL with the access token as the first line of stdout. */
int serve_run(const struct serve_config *cfg, const volatile sig_atomic_t *stop,
              struct rmqt_error *err);

/* Whether host (a name or an address, without port or brackets) is a loopback one:
 * "localhost", "*.localhost", 127.0.0.0/8, ::1. Pure. */
bool serve_is_loopback(const char *host);

/* Splits "HOST:PORT" / "[V6]:PORT" into host (cap bytes) and port. -1 when malformed. Pure. */
int serve_parse_listen(const char *s, char *host, size_t cap, unsigned *port);

/* Decodes one %-encoded path segment (len bytes) into a new string; NULL when it holds a
 * malformed escape or a NUL. "a%2Fb" is "a/b". Pure. */
char *serve_decode_segment(const char *s, size_t len);

/* Whether a and b are equal, in time independent of where they differ. */
bool serve_token_equal(const char *a, const char *b);

#endif
