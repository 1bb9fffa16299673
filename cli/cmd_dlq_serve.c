/*
 * cmd_dlq_serve.c - `rmqtopo dlq serve [FILE]`: the manual-review dashboard (issue 16).
 *
 * Parses the command line and hands serve/ how to reach the broker (the connection options,
 * as for every command) and which queues to show (FILE's, or those found on the broker, as
 * dlq status). serve/ runs the server; the operations are ops/'s.
 */
#include "cli.h"
#include "dlq.h"
#include "serve.h"
#include "strbuf.h"
#include "textutil.h"
#include "watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct optspec serve_options_spec[] = {
    {"vhost", 0, "V", "only the queues of this vhost (repeatable; default: all)"},
    {"listen", 0, "HOST:PORT", "where to listen (default 127.0.0.1:8479; port 0: a free one)"},
    {"archive-dir", 0, "DIR", "archive actions write their files here (none: no archiving)"},
    {"audit-log", 0, "FILE",
     "the audit log, JSON lines (default: audit.jsonl in --archive-dir, else stderr)"},
    {"allow-host", 0, "NAME", "also accept this Host name (repeatable; e.g. a proxy's name)"},
    {"tls-cert", 0, "FILE", "serve https with this certificate (PEM)"},
    {"tls-key", 0, "FILE", "... and this key (PEM)"},
    {"insecure-listen", 0, NULL, "allow plain http on a non-loopback address"},
    {"max-jobs", 0, "N", "actions running at once (default 4)"},
    {NULL, 0, NULL, NULL},
};

struct serve_ctx {
    struct cli *cli;
    const struct parsed_opts *opts;
    bool from_file;
    struct rmqt_watchlist file_wl;
};

static struct rmqt_http *http_new(void *ctx, struct rmqt_error *err)
{
    struct serve_ctx *c = ctx;
    return cli_http_client(c->cli, err);
}

static int watchlist(void *ctx, struct rmqt_http *http, struct rmqt_watchlist *wl,
                     struct rmqt_error *err)
{
    struct serve_ctx *c = ctx;
    size_t k;

    if (!c->from_file)
        return cli_watchlist_from_broker(c->opts, http, wl, err);
    for (k = 0; k < c->file_wl.n; k++) {
        const struct rmqt_watch *w = &c->file_wl.v[k];
        struct rmqt_watch *n = rmqt_watchlist_add(wl, w->vhost, w->queue);
        n->is_dlq = w->is_dlq;
        memcpy(n->type, w->type, sizeof(n->type));
        n->th = w->th;
    }
    return 0;
}

static void log_line(void *ctx, const char *msg)
{
    struct strbuf sb = {0};
    (void)ctx;
    rmqt_sanitize_add(&sb, msg, strlen(msg));
    fprintf(stderr, "rmqtopo: dlq serve: %s\n", strbuf_str(&sb));
    strbuf_release(&sb);
}

static int run_serve(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct serve_config cfg;
    struct serve_ctx ctx;
    struct dlq_conn conn;
    struct rmqt_error err;
    const struct optvalues *allow = opt_get(opts, "allow-host");
    const char *s;
    int status = EXIT_FAIL;
    uint64_t max_jobs = 0;

    memset(&cfg, 0, sizeof(cfg));
    memset(&ctx, 0, sizeof(ctx));
    rmqt_error_init(&err);
    ctx.cli = cli;
    ctx.opts = opts;
    if ((s = opt_last(opts, "max-jobs")) && dlq_parse_count("max-jobs", s, &max_jobs) < 0)
        return EXIT_USAGE;
    if (max_jobs > 64) {
        fprintf(stderr, "rmqtopo: --max-jobs takes at most 64\n");
        return EXIT_USAGE;
    }
    if ((opt_last(opts, "tls-cert") != NULL) != (opt_last(opts, "tls-key") != NULL)) {
        fprintf(stderr, "rmqtopo: --tls-cert and --tls-key go together\n");
        return EXIT_USAGE;
    }
    if (argc == 1) {
        if (cli_watchlist_from_file(cli, opts, argv[0], true, &ctx.file_wl) < 0)
            return EXIT_FAIL;
        ctx.from_file = true;
    }
    if (dlq_connect(cli, opts, &conn) < 0)
        goto out_wl;
    /* the AMQP settings for every session; the vhost is set per request */
    conn.amqp.cfg.vhost = NULL;
    cfg.listen = opt_last(opts, "listen") ? opt_last(opts, "listen") : "127.0.0.1:8479";
    cfg.allow_hosts = allow ? allow->v : NULL;
    cfg.n_allow_hosts = allow ? allow->n : 0;
    cfg.tls_cert = opt_last(opts, "tls-cert");
    cfg.tls_key = opt_last(opts, "tls-key");
    cfg.insecure_listen = opt_flag(opts, "insecure-listen");
    cfg.archive_dir = opt_last(opts, "archive-dir");
    cfg.audit_log = opt_last(opts, "audit-log");
    cfg.max_jobs = (unsigned)max_jobs;
    cfg.amqp = &conn.amqp.cfg;
    cfg.http_new = http_new;
    cfg.watchlist = watchlist;
    cfg.log = log_line;
    cfg.ctx = &ctx;
    cli_install_signals();
    if (serve_run(&cfg, &cli_stop_requested, &err) < 0)
        status =
            cli_fail(cli, err.code == RMQT_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL, "%s", err.message);
    else
        status = EXIT_OK;
    dlq_release(&conn);
out_wl:
    rmqt_watchlist_release(&ctx.file_wl);
    return status;
}

const struct command cmd_dlq_serve = {
    "dlq serve",
    "[FILE]",
    "the review dashboard (a local web page and its JSON API)",
    "Serves a web page for reviewing dead-letter queues: every dead-letter queue (FILE's, or\n"
    "those found on the broker, as dlq status) with depth, rate and state; a queue's failures\n"
    "grouped by (queue died in, reason); its messages read without taking them (as dlq\n"
    "inspect), each with properties, typed headers, x-death history and body; and actions on\n"
    "a group, a filter or a selection: replay, park, archive into --archive-dir, each first\n"
    "previewed (a dry run) and then run by the same safe mover as the CLI, with live progress,\n"
    "a cancel and the CLI's summary. An audit log records who did what.\n"
    "\n"
    "The first line of standard output, once listening, is the URL to open, with a random\n"
    "access token (the only place the token is shown). Scripts use the JSON API with\n"
    "'Authorization: Bearer TOKEN' (docs/dashboard.md). Binds loopback by default; over SSH:\n"
    "ssh -L 8479:127.0.0.1:8479 HOST, then open the URL with the tunnel's port. Another\n"
    "address needs --tls-cert/--tls-key, or --insecure-listen.\n"
    "\n"
    "SIGINT/SIGTERM: stops accepting, running actions stop at a safe point (what is in flight\n"
    "is confirmed and acknowledged, the rest stays), then exits 0.\n"
    "\n"
    "Exit status: 0 stopped by a signal, 1 could not start (address in use, broker settings),\n"
    "64 usage error.",
    serve_options_spec,
    run_serve,
    "dlq",
    0,
    1,
    "takes at most one topology file",
    NEEDS_HTTP | NEEDS_AMQP,
};
