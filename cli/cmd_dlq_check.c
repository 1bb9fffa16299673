/*
 * cmd_dlq_check.c - `rmqtopo dlq check [FILE] [--vhost V]... | --queue Q --warning N
 * --critical N`: a Monitoring Plugins check (Nagios, Icinga, Sensu, cron).
 *
 * The plugin convention, not rmqtopo's usual exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3
 * UNKNOWN (the broker unreachable, a bad file, usage errors too: main.c maps this command's
 * usage errors to 3); the status line with performance data first on stdout, then (when the
 * broker was read) the broker it read as the plugin's long text, without perfdata;
 * everything else on stderr. The measuring and the line are ops/monitor.c's.
 */
#include "cli.h"
#include "dlq.h"
#include "monitor.h"
#include "present.h"
#include "watch.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_UNKNOWN 3

static const struct optspec check_options_spec[] = {
    {"vhost", 0, "V",
     "check only the queues of this vhost (repeatable); with --queue: its vhost (default: the "
     "AMQP URL's, else /)"},
    {"queue", 0, "Q", "check this one queue, without a file (with --warning and/or --critical)"},
    {"warning", 0, "N", "with --queue: WARNING at N or more messages"},
    {"critical", 0, "N", "with --queue: CRITICAL at N or more messages"},
    {"interval", 0, "SECONDS",
     "measure the rate over this interval (default: 10 when a rate threshold is set, else 0)"},
    {"sample", 0, "N",
     "read at most N messages of each classic queue for the age (default 100; 0: none)"},
    {NULL, 0, NULL, NULL},
};

/* The UNKNOWN line on stdout (the detail went to stderr). */
static int unknown(const char *why)
{
    printf("DLQ UNKNOWN - %s\n", why);
    return CHECK_UNKNOWN;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "rmqtopo: dlq check: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'rmqtopo dlq check --help'.\n");
    return unknown("usage error (see standard error)");
}

static int parse_number(const char *opt, const char *s, double *out, bool whole)
{
    char *end;
    double v;

    if (!s)
        return 0;
    v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || v > 1e15 || (whole && v != (double)(long long)v))
        return usage("%s: expected a %s, 0 or more", opt, whole ? "whole number" : "number");
    *out = v;
    return 1;
}

/* The vhost of the first AMQP URL (cli.md: --vhost defaults to the URL's, else "/"). New. */
static char *url_vhost(const struct rmqt_session_config *cfg)
{
    struct amqp_connection_info ci;
    char *copy, *v = NULL;

    if (cfg->n_urls == 0)
        return xstrdup("/");
    copy = xstrdup(cfg->urls[0]);
    if (amqp_parse_url(copy, &ci) == AMQP_STATUS_OK && ci.vhost && *ci.vhost)
        v = xstrdup(ci.vhost);
    free(copy);
    return v ? v : xstrdup("/");
}

static bool has_rate_threshold(const struct rmqt_watchlist *wl)
{
    size_t k;

    for (k = 0; k < wl->n; k++)
        if (wl->v[k].th.t[RMQT_METRIC_RATE].has_warning ||
            wl->v[k].th.t[RMQT_METRIC_RATE].has_critical)
            return true;
    return false;
}

static int run_check(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    const char *queue = opt_last(opts, "queue");
    struct rmqt_watchlist wl = {0};
    struct dlq_report r = {0};
    struct dlq_measure_options mo;
    struct dlq_conn conn;
    struct rmqt_error err;
    struct strbuf line;
    double w = 0, c = 0, interval = -1, sample = 100;
    int status;
    bool connected = false;

    memset(&mo, 0, sizeof(mo));
    strbuf_init(&line);
    rmqt_error_init(&err);
    if (parse_number("--warning", opt_last(opts, "warning"), &w, true) == CHECK_UNKNOWN ||
        parse_number("--critical", opt_last(opts, "critical"), &c, true) == CHECK_UNKNOWN ||
        parse_number("--interval", opt_last(opts, "interval"), &interval, false) == CHECK_UNKNOWN ||
        parse_number("--sample", opt_last(opts, "sample"), &sample, true) == CHECK_UNKNOWN) {
        status = CHECK_UNKNOWN;
        goto out;
    }
    if (queue) {
        const struct optvalues *vh = opt_get(opts, "vhost");
        struct rmqt_watch *e;

        if (argc > 0) {
            status = usage("--queue checks one queue without a file: give %s or --queue", "FILE");
            goto out;
        }
        if (!opt_last(opts, "warning") && !opt_last(opts, "critical")) {
            status = usage("--queue %s: give --warning N, --critical N or both", queue);
            goto out;
        }
        if (opt_last(opts, "warning") && opt_last(opts, "critical") && w > c) {
            status = usage("--warning (%s) is above --critical", opt_last(opts, "warning"));
            goto out;
        }
        if (vh && vh->n > 1) {
            status = usage("--queue takes one --vhost, found %zu", vh->n);
            goto out;
        }
        e = rmqt_watchlist_add(&wl, vh && vh->n ? vh->v[0] : "", queue); /* "": the URL's */
        e->th.t[RMQT_METRIC_MESSAGES].has_warning = opt_last(opts, "warning") != NULL;
        e->th.t[RMQT_METRIC_MESSAGES].warning = w;
        e->th.t[RMQT_METRIC_MESSAGES].has_critical = opt_last(opts, "critical") != NULL;
        e->th.t[RMQT_METRIC_MESSAGES].critical = c;
    } else if (opt_last(opts, "warning") || opt_last(opts, "critical")) {
        status =
            usage("%s are for --queue: a file has its own thresholds", "--warning and --critical");
        goto out;
    } else if (argc == 1) {
        if (cli_watchlist_from_file(cli, opts, argv[0], false, &wl) < 0) {
            status = unknown("the topology file is invalid (see standard error)");
            goto out;
        }
    }
    if (dlq_connect(cli, opts, &conn) < 0) {
        status = unknown("cannot connect (see standard error)");
        goto out;
    }
    connected = true;
    if (queue && !wl.v[0].vhost[0]) {
        free(wl.v[0].vhost);
        wl.v[0].vhost = url_vhost(&conn.amqp.cfg);
    }
    if (!queue && argc == 0 && cli_watchlist_from_broker(opts, conn.http, &wl, &err) < 0) {
        fprintf(stderr, "rmqtopo: %s\n", err.message);
        status = unknown("cannot read the broker's queues (see standard error)");
        goto out;
    }
    cli_install_signals();
    mo.interval = interval >= 0 ? interval : has_rate_threshold(&wl) ? 10 : 0;
    mo.sample = (uint64_t)sample;
    mo.stop = &cli_stop_requested;
    mo.warn = cli_warn_cb;
    if (dlq_measure(conn.http, &conn.amqp.cfg, &wl, &mo, &r, &err) < 0) {
        fprintf(stderr, "rmqtopo: %s\n", err.message);
        status = unknown("cannot reach the broker (see standard error)");
        goto out;
    }
    for (size_t k = 0; k < r.n; k++) {
        enum rmqt_metric m;
        const char *why = dlq_status_unjudged(&r.v[k], &m);
        if (why)
            cli_warnf("queue '%s' in vhost '%s': the %s threshold is not checked: %s",
                      r.v[k].w->queue, r.v[k].w->vhost, rmqt_metric_name(m), why);
    }
    status = (int)dlq_check_line(&r, &line);
    printf("%s\n", strbuf_str(&line));
    {
        /* the status line stays first (the plugin convention); the broker follows as long
         * text, where a '|' would start performance data */
        struct strbuf b = {0};
        struct rmqt_broker_info info;
        struct rmqt_error e2;
        bool known = rmqt_broker_info_read(conn.http, &info, &e2) == 0;
        rmqt_broker_line(&b, rmqt_http_current_url(conn.http), known ? &info : NULL);
        for (size_t k = 0; k < b.len; k++)
            if (b.buf[k] == '|')
                b.buf[k] = '/';
        printf("%s\n", strbuf_str(&b));
        strbuf_release(&b);
    }
out:
    if (connected)
        dlq_release(&conn);
    dlq_report_release(&r);
    rmqt_watchlist_release(&wl);
    strbuf_release(&line);
    return status;
}

const struct command cmd_dlq_check = {
    "dlq check",
    "[FILE]",
    "a Monitoring Plugins check (exit 0/1/2/3 OK/WARNING/CRITICAL/UNKNOWN)",
    "Checks the dead-letter queues of FILE against the file's thresholds (alert and\n"
    "alert_defaults), or without FILE the dead-letter queues found on the broker (no\n"
    "thresholds: always OK, with performance data), or one queue given by --queue with\n"
    "--warning and --critical message counts (as check_rabbitmq_queue does).\n"
    "\n"
    "Counts are exact (a passive queue.declare). A threshold is reached at or above its\n"
    "value. Prints one line: 'DLQ STATE - summary | perfdata', with the thresholds as\n"
    "Monitoring Plugins ranges that mean the same ('N-1' alerts at N or more).\n"
    "\n"
    "Exit status (Monitoring Plugins): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (broker\n"
    "unreachable, invalid file, missing queue, usage error).",
    check_options_spec,
    run_check,
    "dlq",
    0,
    1,
    "takes at most one topology file",
    NEEDS_HTTP | NEEDS_AMQP,
};
