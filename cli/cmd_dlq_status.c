/*
 * cmd_dlq_status.c - `rmqtopo dlq status [FILE] [--vhost V]...`: every dead-letter queue with
 * its depth, consumers, rate, oldest message, top reasons, replayed messages that died again,
 * and its state against the file's thresholds. Text, -o json, or -o prometheus (--textfile
 * PATH writes it atomically for node_exporter's textfile collector); --watch repaints.
 *
 * Measuring and rendering are ops/monitor.c's (which says what a read costs each queue type);
 * this file parses, calls and prints.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "dlq.h"
#include "monitor.h"
#include "present.h"
#include "textutil.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct optspec status_options_spec[] = {
    {"vhost", 0, "V", "only the queues of this vhost (repeatable; default: all)"},
    {"interval", 0, "SECONDS", "measure the rate over this interval (default 10; 0: no rate)"},
    {"sample", 0, "N",
     "read at most N messages of each classic queue for oldest and reasons (default 100; 0: "
     "none)"},
    {"watch", 0, "SECONDS", "measure again every SECONDS and repaint, until interrupted"},
    {"textfile", 0, "PATH", "write the Prometheus text to PATH atomically (nothing on stdout)"},
    {NULL, 0, NULL, NULL},
};

static int parse_seconds_opt(const char *opt, const char *s, double *out)
{
    char *end;
    double v;

    if (!s)
        return 0;
    v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || v > 86400 * 365.0) {
        fprintf(stderr,
                "rmqtopo: dlq status: %s: expected seconds, 0 or more\nTry 'rmqtopo dlq "
                "status --help'.\n",
                opt);
        return -1;
    }
    *out = v;
    return 0;
}

static void add_cell(struct strbuf *sb, const char *s, size_t width)
{
    dlq_add_cell(sb, s, width);
}

static void print_text(struct cli *cli, const struct dlq_report *r)
{
    struct strbuf sb, cell;
    size_t k, j, wv = 5, wq = 5;

    strbuf_init(&sb);
    strbuf_init(&cell);
    for (k = 0; k < r->n; k++) {
        size_t a = strlen(r->v[k].w->vhost), b = strlen(r->v[k].w->queue);
        wv = a > wv ? a : wv;
        wq = b > wq ? b : wq;
    }
    wv = wv > 24 ? 24 : wv;
    wq = wq > 40 ? 40 : wq;
    add_cell(&sb, "VHOST", wv);
    add_cell(&sb, "QUEUE", wq);
    strbuf_adds(&sb, "MESSAGES CONSUMERS RATE       OLDEST   REPLAYED STATE    REASONS\n");
    for (k = 0; k < r->n; k++) {
        const struct dlq_status *s = &r->v[k];

        add_cell(&sb, s->w->vhost, wv);
        add_cell(&sb, s->w->queue, wq);
        if (!s->found || s->error[0]) {
            strbuf_adds(&sb, "-        -         -          -        -        ");
            strbuf_addf(&sb, "%-8s %s\n", dlq_state_name(s->state), s->error);
            continue;
        }
        strbuf_addf(&sb, "%-8llu %-9u ", (unsigned long long)s->messages, s->consumers);
        strbuf_reset(&cell);
        if (s->has_rate)
            strbuf_addf(&cell, "%+.4g/m", s->rate * 60);
        else
            strbuf_adds(&cell, "-");
        strbuf_addf(&sb, "%-10s ", strbuf_str(&cell));
        strbuf_reset(&cell);
        if (s->has_age) {
            long long a = (long long)s->age;
            if (a >= 86400)
                strbuf_addf(&cell, "%lldd%lldh", a / 86400, (a % 86400) / 3600);
            else if (a >= 3600)
                strbuf_addf(&cell, "%lldh%lldm", a / 3600, (a % 3600) / 60);
            else if (a >= 60)
                strbuf_addf(&cell, "%lldm%llds", a / 60, a % 60);
            else
                strbuf_addf(&cell, "%llds", a);
        } else {
            strbuf_adds(&cell, s->not_sampled ? "n/a" : "-");
        }
        strbuf_addf(&sb, "%-8s ", strbuf_str(&cell));
        if (s->not_sampled)
            strbuf_addf(&sb, "%-8s ", "n/a");
        else
            strbuf_addf(&sb, "%-8llu ", (unsigned long long)s->replayed);
        strbuf_addf(&sb, "%-8s ", dlq_state_name(s->state));
        if (s->not_sampled)
            strbuf_adds(&sb, "n/a");
        for (j = 0; j < s->n_reasons && j < 3; j++) {
            if (j)
                strbuf_adds(&sb, ", ");
            rmqt_sanitize_add(&sb, s->reasons[j].queue, strlen(s->reasons[j].queue));
            strbuf_addc(&sb, ':');
            rmqt_sanitize_add(&sb, s->reasons[j].reason, strlen(s->reasons[j].reason));
            strbuf_addf(&sb, "=%llu", (unsigned long long)s->reasons[j].count);
        }
        if (!s->not_sampled && s->n_reasons == 0)
            strbuf_adds(&sb, "-");
        strbuf_addc(&sb, '\n');
    }
    if (r->n == 0)
        strbuf_adds(&sb, "(no dead-letter queues)\n");
    /* why some columns are n/a: said once a reason */
    for (k = 0; k < r->n; k++) {
        const char *why = r->v[k].not_sampled;
        bool seen = false;
        if (!why || !r->v[k].found)
            continue;
        for (j = 0; j < k && !seen; j++)
            seen = r->v[j].not_sampled && strcmp(r->v[j].not_sampled, why) == 0;
        if (!seen)
            strbuf_addf(&sb, "n/a: oldest, replayed and reasons not read: %s\n", why);
    }
    if (r->sample)
        strbuf_addf(&sb,
                    "oldest and reasons: from the first %llu messages of classic queues (read "
                    "and given back in order; each is marked redelivered)\n",
                    (unsigned long long)r->sample);
    fputs(strbuf_str(&sb), stdout);
    (void)cli;
    strbuf_release(&sb);
    strbuf_release(&cell);
}

/* Writes text to path atomically: a temporary file in the same folder, fsync, rename. */
static int write_atomic(const char *path, const char *text, size_t len, char *why, size_t cap)
{
    char *copy = strdup(path), *tmp = NULL;
    const char *dir;
    int fd = -1, rc = -1;
    size_t off = 0;

    if (!copy) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    dir = dirname(copy);
    tmp = malloc(strlen(path) + 32);
    if (!tmp) {
        snprintf(why, cap, "out of memory");
        goto out;
    }
    sprintf(tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(why, cap, "cannot create a file beside it: %s", strerror(errno));
        goto out;
    }
    fchmod(fd, 0644);
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, cap, "cannot write: %s", strerror(errno));
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        snprintf(why, cap, "cannot write: %s", strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        snprintf(why, cap, "cannot rename into place: %s", strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
    fd = open(dir, O_RDONLY);
    if (fd >= 0)
        fsync(fd);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(copy);
    return rc;
}

static int show(struct cli *cli, struct dlq_conn *conn, const struct dlq_report *r, bool prometheus,
                const char *textfile)
{
    struct strbuf sb;
    int rc = EXIT_OK;

    strbuf_init(&sb);
    if (textfile) {
        char why[512];
        dlq_prometheus(r, &sb);
        if (write_atomic(textfile, sb.buf, sb.len, why, sizeof(why)) < 0)
            rc = cli_fail(cli, EXIT_FAIL, "--textfile '%s': %s", textfile, why);
    } else if (prometheus) {
        dlq_prometheus(r, &sb);
        fputs(strbuf_str(&sb), stdout);
    } else if (cli->output == OUTPUT_JSON) {
        json_t *doc = json_object(), *rep = dlq_report_json(r);
        json_object_set_new(doc, "broker", dlq_broker_json(conn, NULL));
        json_object_update(doc, rep);
        json_decref(rep);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | RMQT_JSON_MEASURED);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        dlq_print_broker(stdout, conn, NULL);
        print_text(cli, r);
    }
    fflush(stdout);
    strbuf_release(&sb);
    return rc;
}

static int run_status(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct rmqt_watchlist wl = {0};
    struct dlq_measure_options mo;
    struct dlq_conn conn;
    struct rmqt_error err;
    double interval = 10, sample = 100, watch = 0;
    const char *textfile = opt_last(opts, "textfile");
    bool prometheus = cli->output == OUTPUT_PROMETHEUS, connected = false;
    int status = EXIT_FAIL;

    memset(&mo, 0, sizeof(mo));
    rmqt_error_init(&err);
    if (parse_seconds_opt("--interval", opt_last(opts, "interval"), &interval) < 0 ||
        parse_seconds_opt("--sample", opt_last(opts, "sample"), &sample) < 0 ||
        parse_seconds_opt("--watch", opt_last(opts, "watch"), &watch) < 0)
        return EXIT_USAGE;
    if (sample != (double)(long long)sample) {
        fprintf(stderr, "rmqtopo: dlq status: --sample: expected a whole number\n");
        return EXIT_USAGE;
    }
    if (opt_last(opts, "watch") && watch <= 0) {
        fprintf(stderr, "rmqtopo: dlq status: --watch: expected seconds above 0\n");
        return EXIT_USAGE;
    }
    if (argc == 1 && cli_watchlist_from_file(cli, opts, argv[0], true, &wl) < 0)
        return EXIT_FAIL;
    if (dlq_connect(cli, opts, &conn) < 0)
        goto out;
    connected = true;
    if (argc == 0 && cli_watchlist_from_broker(opts, conn.http, &wl, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    cli_install_signals();
    mo.interval = interval;
    mo.sample = (uint64_t)sample;
    mo.stop = &cli_stop_requested;
    mo.warn = cli_warn_cb;
    for (;;) {
        struct dlq_report r;

        if (dlq_measure(conn.http, &conn.amqp.cfg, &wl, &mo, &r, &err) < 0) {
            dlq_report_release(&r);
            status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
            goto out;
        }
        if (watch > 0 && isatty(STDOUT_FILENO) && !textfile)
            fputs("\033[H\033[2J", stdout);
        status = show(cli, &conn, &r, prometheus, textfile);
        dlq_report_release(&r);
        if (status != EXIT_OK || watch <= 0 || cli_stop_requested)
            break;
        {
            struct timespec ts = {(time_t)watch, (long)((watch - (double)(time_t)watch) * 1e9)};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !cli_stop_requested)
                ;
        }
        if (cli_stop_requested)
            break;
    }
out:
    if (connected)
        dlq_release(&conn);
    rmqt_watchlist_release(&wl);
    return status;
}

const struct command cmd_dlq_status = {
    "dlq status",
    "[FILE]",
    "every dead-letter queue: depth, rate, oldest, reasons, state",
    "One line per dead-letter queue: vhost, queue, messages (exact: a passive\n"
    "queue.declare), consumers, the growth rate over --interval, the oldest message and the\n"
    "top reasons (queue it died in:reason=count) from a bounded sample, the sampled messages\n"
    "that died again after a replay (rmqtopo-replay-count >= 1), and the state against the\n"
    "file's thresholds (OK / WARNING / CRITICAL / UNKNOWN, '-' without thresholds).\n"
    "With FILE, its dead-letter queues (and queues with an alert); without, the dead-letter\n"
    "queues found on the broker (queues bound to an exchange that a queue argument or policy\n"
    "names as dead-letter exchange).\n"
    "\n"
    "Reading costs the queues nothing that matters: only classic queues are sampled (their\n"
    "messages are given back in order; classic queues keep no delivery count, but each\n"
    "sampled message is marked redelivered). Quorum queues are never read: every read raises\n"
    "x-delivery-count towards the delivery limit. Where a column is not read the output says\n"
    "why.\n"
    "\n"
    "-o json prints one document; -o prometheus the Prometheus text format (rmqtopo_dlq_*\n"
    "metrics, labelled by vhost and queue); --textfile PATH writes that atomically.\n"
    "\n"
    "Exit status: 0 shown, 1 failure (invalid file, broker unreachable), 64 usage error.",
    status_options_spec,
    run_status,
    "dlq",
    0,
    1,
    "takes at most one topology file",
    NEEDS_HTTP | NEEDS_AMQP,
};
