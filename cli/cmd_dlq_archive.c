/*
 * cmd_dlq_archive.c - `rmqtopo dlq archive QUEUE --file F` (cli.md, dlq.md).
 *
 * ops/archive writes the file and acknowledges only what is synced; the source's checks and
 * warnings and the success rule (archive_ok) are ops/'s. This file checks the options (a move
 * to stdout needs a regular file there) and prints the summary: to stderr when the archive
 * itself goes to stdout.
 */
#include "dlq.h"

#include "present.h"

#include "archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct optspec archive_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the AMQP URL's, else /)"},
    {"file", 0, "F", "the archive to write (- for stdout); required"},
    {"copy", 0, NULL, "leave the queue as it was: archive copies"},
    {"append", 0, NULL, "add to an existing archive of the same queue"},
    {"limit", 0, "N", "archive at most N messages"},
    {"reason", 0, "R", "only messages that died for R (rejected, expired, maxlen, delivery_limit)"},
    {"from-queue", 0, "Q", "only messages that died in queue Q"},
    {"older-than", 0, "D", "only messages that died at least D ago (90s, 15m, 2h, 7d)"},
    {NULL, 0, NULL, NULL},
};

static void print_archive_text(FILE *f, const struct archive_options *o,
                               const struct archive_result *r, bool limit_reached)
{
    const struct rmqt_mover_stats *m = &r->mover;
    double rate = m->seconds > 0 ? (double)m->moved / m->seconds : 0;

    fprintf(f,
            "%s %llu message(s) of '%s' into '%s' in %.1f s (%.0f msg/s); %llu ready when it "
            "started\n",
            o->copy ? "copied" : "archived", (unsigned long long)m->moved, o->queue, o->file,
            m->seconds, rate, (unsigned long long)m->snapshot);
    if (o->copy && !m->at_limit)
        fprintf(f, "  --copy: nothing was taken; the queue holds every message as before\n");
    else if (o->copy)
        fprintf(f,
                "  --copy: nothing was taken, but %llu at the queue's delivery limit were "
                "dead-lettered or dropped by the broker when given back (they are in the "
                "file)\n",
                (unsigned long long)m->at_limit);
    if (m->skipped > r->unarchivable)
        fprintf(f, "  %llu not selected by the filters: they stay\n",
                (unsigned long long)(m->skipped - r->unarchivable));
    if (r->unarchivable)
        fprintf(f,
                "  %llu not archivable (the first is message %llu; see the warnings): the "
                "archive cannot hold them so that restore publishes them again; they stay\n",
                (unsigned long long)r->unarchivable, (unsigned long long)r->first_unarchivable);
    if (m->left)
        fprintf(f, "  %s: %llu not handled%s\n", limit_reached ? "not archived" : "left",
                (unsigned long long)m->left,
                limit_reached ? " (--limit)" : " (stopped early, or taken by another consumer)");
}

static int run_archive(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct archive_options o;
    struct archive_result res;
    struct dlq_progress progress;
    struct dlq_source src;
    struct dlq_conn c;
    struct rmqt_session *s = NULL;
    struct rmqt_error err;
    const char *v;
    char broker[32] = "";
    bool ok, limit_reached, to_stdout;
    FILE *sum;
    int status = EXIT_FAIL, rc;

    (void)argc;
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    o.queue = argv[0];
    o.file = opt_last(opts, "file");
    if (!o.file || !o.file[0]) {
        fprintf(stderr, "rmqtopo: dlq archive needs --file F (- for stdout)\n"
                        "Try 'rmqtopo dlq archive --help'.\n");
        return EXIT_USAGE;
    }
    o.copy = opt_flag(opts, "copy");
    o.append = opt_flag(opts, "append");
    if ((v = opt_last(opts, "limit")) && dlq_parse_count("limit", v, &o.limit) < 0)
        return EXIT_USAGE;
    if (dlq_parse_filter(opts, &o.filter) < 0)
        return EXIT_USAGE;
    to_stdout = strcmp(o.file, "-") == 0;
    if (to_stdout && o.append) {
        fprintf(stderr, "rmqtopo: --append needs a file, not stdout\n");
        return EXIT_USAGE;
    }
    if (to_stdout && !o.copy) {
        struct stat st;
        if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr,
                    "rmqtopo: --file - moves messages only into a file (stdout redirected to "
                    "one): a pipe or a terminal takes lines it may never store, and the moved "
                    "messages would be gone; give --copy, or --file F\n");
            return EXIT_USAGE;
        }
    }
    /* with the archive on stdout, the summary goes to stderr */
    sum = to_stdout ? stderr : stdout;
    if (dlq_prepare(cli, opts, &c, o.copy ? "rmqtopo dlq archive --copy" : "rmqtopo dlq archive",
                    o.queue, "archived", &s, &src) < 0)
        goto out;
    if (cli->output != OUTPUT_JSON) /* beside the summary: stderr when the archive is stdout */
        dlq_print_broker(sum, &c, &src);
    o.vhost = rmqt_session_vhost(s);
    o.broker = dlq_source_broker(&src, broker, sizeof(broker))[0] ? broker : NULL;
    o.delivery_limit = src.delivery_limit;
    if (o.copy) /* every message is read and given back */
        dlq_warn_read(&src, UINT64_MAX);
    dlq_progress_start(&progress, isatty(STDERR_FILENO), o.copy ? "copied" : "archived");
    o.ctx = &progress;
    o.progress = dlq_progress_cb;
    o.warn = cli_warn_cb;
    o.stop = &cli_stop_requested;
    cli_install_signals();
    rc = archive_run(s, &o, &res, &err);
    dlq_progress_end(&progress);
    limit_reached = archive_limit_reached(&o, &res);
    ok = archive_ok(&o, rc, &res, cli_stop_requested);
    if (!o.copy)
        dlq_warn_read(&src, res.mover.skipped);
    dlq_warn_at_limit(o.queue, res.mover.at_limit, o.delivery_limit);
    if (cli->output == OUTPUT_JSON) {
        json_t *j = archive_summary_json(dlq_broker_json(&c, &src), &o, &res, ok,
                                         rc < 0 ? err.message : NULL);
        json_dumpf(j, sum, JSON_INDENT(2) | JSON_PRESERVE_ORDER | RMQT_JSON_MEASURED);
        fputc('\n', sum);
        json_decref(j);
    } else if (res.started) {
        print_archive_text(sum, &o, &res, limit_reached);
    }
    if (rc < 0)
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
    else if (cli_stop_requested)
        status = cli_fail(cli, EXIT_FAIL,
                          "stopped by a signal: what was written and synced is %s, the rest "
                          "stays in '%s'",
                          o.copy ? "in the file" : "acknowledged", o.queue);
    else if (res.unarchivable)
        status = cli_fail(cli, EXIT_FAIL,
                          "%llu message(s) could not be archived and stay in '%s' (the first is "
                          "message %llu of the run)",
                          (unsigned long long)res.unarchivable, o.queue,
                          (unsigned long long)res.first_unarchivable);
    else
        status = ok ? EXIT_OK : EXIT_FAIL;
out:
    rmqt_session_close(s);
    dlq_source_release(&src);
    dlq_release(&c);
    return status;
}

const struct command cmd_dlq_archive = {
    "dlq archive",
    "QUEUE --file F",
    "move (or copy) messages into an archive file",
    "Writes the messages of the dead-letter queue QUEUE into the archive F (JSON Lines: a\n"
    "header line, then one message a line with every property and header typed, the body in\n"
    "base64 with its size and SHA-256, and a readable death summary) and takes them from the\n"
    "queue. --copy takes nothing: the queue stays exactly as it was. The filters select by\n"
    "the most recent death, as for replay; what they do not select stays, in order on classic\n"
    "queues. A run handles at most the messages QUEUE held when it started.\n"
    "\n"
    "Safety: a message is acknowledged only after its line is written and fsync'd (once per\n"
    "window of 1024, or when the queue pauses); a new file's directory is fsync'd too. A crash\n"
    "loses nothing: at most the messages unacknowledged at that moment (2048) are both in the\n"
    "file and still in the queue. An existing file is never overwritten: --append adds to an "
    "archive of the same\n"
    "vhost and queue (cutting a truncated last line left by a crash first). New files are\n"
    "created with mode 0600.\n"
    "\n"
    "--file - writes the archive to stdout and the summary to stderr. A move needs stdout\n"
    "redirected to a file (synced before each acknowledgement); to a pipe or a terminal only\n"
    "--copy is taken, since nothing there guarantees the lines are stored.\n"
    "\n"
    "A message whose record would not read back exactly (headers nested deeper than 64\n"
    "levels, a field kind AMQP 0-9-1 does not define, a record line over the reader's limit)\n"
    "is not archived: it stays in the queue and is reported with its position, delivery tag,\n"
    "routing key and the reason; the run goes on and exits 1. The file is locked while the\n"
    "run writes it: a second archive or a restore of the same file fails at once.\n"
    "\n"
    "Exit status: 0 every selected message was archived (or --limit reached), 1 failure\n"
    "(missing queue, existing or locked file, a message not archivable, write error, lost\n"
    "connection, interrupted), 64 usage error.",
    archive_options_spec,
    run_archive,
    "dlq",
    1,
    1,
    "takes one queue",
    NEEDS_HTTP | NEEDS_AMQP,
};
