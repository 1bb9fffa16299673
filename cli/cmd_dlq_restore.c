/*
 * cmd_dlq_restore.c - `rmqtopo dlq restore F` (cli.md, dlq.md).
 *
 * ops/archive reads the archive and publishes each record with confirms and mandatory; the
 * success rule (restore_ok) is ops/'s. This file chooses the target from the options and
 * prints the warnings of the run and its summary, with the command that resumes it.
 */
#include "dlq.h"

#include "archive.h"
#include "ledger.h"
#include "strbuf.h"
#include "present.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct optspec restore_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the archive's)"},
    {"to-queue", 0, "Q", "publish to queue Q (default: the queue the archive came from)"},
    {"to-exchange", 0, "X", "publish to exchange X"},
    {"routing-key", 0, "K", "with --to-exchange: this routing key (default: each record's)"},
    {"rate", 0, "MSGS_PER_S", "publish at most this many messages a second"},
    {"skip", 0, "N", "pass over the first N records (to resume a run)"},
    {"dry-run", 0, NULL, "read and check every record, publish nothing"},
    {"again", 0, NULL, "publish records the restore ledger says were restored before"},
    {NULL, 0, NULL, NULL},
};

/* The first URL of the connection without its user and password (new string). */
static char *url_without_credentials(const struct cli_amqp *a)
{
    const char *u = a->cfg.n_urls ? a->cfg.urls[0] : "amqp://localhost:5672";
    const char *scheme = strstr(u, "://"), *host = scheme ? scheme + 3 : u;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');

    if (at && (!slash || at < slash))
        return xasprintf("%.*s%s", (int)(host - u), u, at + 1);
    return xstrdup(u);
}

/* A longstr of the broker's server properties (new string), or NULL. */
static char *server_property(struct rmqt_session *s, const char *key)
{
    const amqp_table_t *t = amqp_get_server_properties(rmqt_session_conn(s));
    int i;

    for (i = 0; t && i < t->num_entries; i++)
        if (t->entries[i].key.len == strlen(key) &&
            memcmp(t->entries[i].key.bytes, key, t->entries[i].key.len) == 0 &&
            t->entries[i].value.kind == AMQP_FIELD_KIND_UTF8)
            return xstrndup(t->entries[i].value.value.bytes.bytes,
                            t->entries[i].value.value.bytes.len);
    return NULL;
}

/* "records 1-33" / "records 1-10, 12-20" / "record 5". */
static void add_ranges(struct strbuf *sb, const struct ledger_run *r)
{
    size_t i;

    strbuf_addf(sb, "%s ", r->records == 1 ? "record" : "records");
    for (i = 0; i < r->n_ranges && i < 6; i++) {
        if (i)
            strbuf_adds(sb, ", ");
        if (r->ranges[i][0] == r->ranges[i][1])
            strbuf_addf(sb, "%llu", (unsigned long long)r->ranges[i][0]);
        else
            strbuf_addf(sb, "%llu-%llu", (unsigned long long)r->ranges[i][0],
                        (unsigned long long)r->ranges[i][1]);
    }
    if (i < r->n_ranges)
        strbuf_addf(sb, " and %zu more stretch(es)", r->n_ranges - i);
}

/* Why a restore refuses: which records went where and when, and the ways on (new string). */
static char *refusal_text(const char *file, const struct ledger *l, uint64_t skip)
{
    struct strbuf sb = {0};
    uint64_t resume = ledger_resume_point(l);
    size_t i, shown = 0, n = ledger_overlapping(l, skip);

    strbuf_addf(&sb,
                "'%s' was restored before, and restoring it again would publish the same "
                "messages twice: nothing was published.",
                file);
    for (i = 0; i < l->n_runs; i++) {
        const struct ledger_run *r = &l->runs[i];
        if (!ledger_run_overlaps(r, skip))
            continue;
        if (shown++ == 5) {
            strbuf_addf(&sb, " ... and %zu more run(s).", n - 5);
            break;
        }
        strbuf_adds(&sb, " Restored: ");
        add_ranges(&sb, r);
        strbuf_addf(&sb, " at %s to ", r->time ? r->time : "(unknown time)");
        if (r->exchange && r->exchange[0])
            strbuf_addf(
                &sb, "exchange '%s' (routing key %s%s%s)", r->exchange, r->routing_key ? "'" : "",
                r->routing_key ? r->routing_key : "each record's", r->routing_key ? "'" : "");
        else
            strbuf_addf(&sb, "queue '%s'", r->routing_key ? r->routing_key : "?");
        strbuf_addf(&sb, " in vhost '%s' on %s", r->vhost ? r->vhost : "?",
                    r->url ? r->url : "(unknown broker)");
        if (r->cluster_name || r->version)
            strbuf_addf(&sb, " (%s%s%s%s%s)", r->cluster_name ? "cluster " : "",
                        r->cluster_name ? r->cluster_name : "",
                        r->cluster_name && r->version ? ", " : "", r->version ? "RabbitMQ " : "",
                        r->version ? r->version : "");
        strbuf_addc(&sb, '.');
    }
    if (resume > skip)
        strbuf_addf(&sb, " To publish only the records after %llu (never restored): --skip %llu.",
                    (unsigned long long)resume, (unsigned long long)resume);
    strbuf_addf(&sb, " To publish them again on purpose: --again (ledger: %s).", l->path);
    return strbuf_detach(&sb, NULL);
}

static json_t *restore_summary_json(json_t *broker, const char *file, const char *vhost,
                                    const char *exchange, const char *routing_key,
                                    const struct restore_result *r, bool dry_run, bool ok,
                                    const char *error)
{
    json_t *j = json_object(), *t = json_object();

    json_object_set_new(j, "broker", broker);
    json_object_set_new(j, "file", json_string(file));
    json_object_set_new(j, "vhost", json_string(vhost));
    json_object_set_new(t, "exchange", json_string(exchange));
    json_object_set_new(t, "routing_key", routing_key ? json_string(routing_key) : json_null());
    json_object_set_new(j, "target", t);
    json_object_set_new(j, "dry_run", json_boolean(dry_run));
    dlq_add_count(j, "records", r->records);
    dlq_add_count(j, "skipped", r->skipped);
    dlq_add_count(j, dry_run ? "would_publish" : "published",
                  dry_run ? r->records - r->skipped - r->bad_records : r->published);
    dlq_add_count(j, "bad_records", r->bad_records);
    dlq_add_count(j, "returned", r->returned);
    dlq_add_count(j, "nacked", r->nacked);
    dlq_add_count(j, "resume_skip", r->resume_skip);
    dlq_add_count(j, "with_cc", r->with_cc);
    json_object_set_new(j, "bad_line",
                        r->bad_line ? json_integer((json_int_t)r->bad_line) : json_null());
    json_object_set_new(j, "truncated_line",
                        r->truncated_line ? json_integer((json_int_t)r->truncated_line)
                                          : json_null());
    json_object_set_new(j, "seconds", rmqt_json_seconds(r->seconds));
    json_object_set_new(j, "rate",
                        rmqt_json_rate(r->seconds > 0 ? (double)r->published / r->seconds : 0));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_object_set_new(j, "error", error ? json_string(error) : json_null());
    return j;
}

static int run_restore(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct restore_options o;
    struct restore_result res;
    struct archive_reader r;
    struct archive_header h;
    struct dlq_progress progress;
    struct dlq_conn c;
    struct rmqt_session *dst = NULL;
    struct rmqt_error err;
    struct ledger ledger;
    const char *file, *vhost, *s, *exchange, *rkey;
    bool ok, opened = false, ledger_open_ = false, again;
    int status = EXIT_FAIL, rc;

    (void)argc;
    memset(&c, 0, sizeof(c));
    file = argv[0];
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    if (opt_last(opts, "to-queue") && opt_last(opts, "to-exchange")) {
        fprintf(stderr, "rmqtopo: give one of --to-queue and --to-exchange\n");
        return EXIT_USAGE;
    }
    if (opt_last(opts, "routing-key") && !opt_last(opts, "to-exchange")) {
        fprintf(stderr, "rmqtopo: --routing-key goes with --to-exchange\n");
        return EXIT_USAGE;
    }
    o.route = RESTORE_HOME;
    if ((o.to_queue = opt_last(opts, "to-queue")) != NULL)
        o.route = RESTORE_QUEUE;
    if ((o.to_exchange = opt_last(opts, "to-exchange")) != NULL) {
        o.route = RESTORE_EXCHANGE;
        o.routing_key = opt_last(opts, "routing-key");
    }
    if ((s = opt_last(opts, "skip")) && strcmp(s, "0") != 0 &&
        dlq_parse_count("skip", s, &o.skip) < 0)
        return EXIT_USAGE;
    if (dlq_parse_rate(opts, &o.rate) < 0)
        return EXIT_USAGE;
    o.dry_run = opt_flag(opts, "dry-run");
    if (restore_open(file, &r, &h, &err) < 0)
        return cli_fail(cli, EXIT_FAIL, "%s", err.message);
    opened = true;
    vhost = opt_last(opts, "vhost") ? opt_last(opts, "vhost") : h.vhost;
    exchange = o.route == RESTORE_EXCHANGE ? o.to_exchange : "";
    rkey = o.route == RESTORE_EXCHANGE ? o.routing_key
                                       : (o.route == RESTORE_QUEUE ? o.to_queue : h.queue);
    /* the ledger before the broker: a second restore of the same records refuses before it
     * connects, and a run that publishes holds the ledger's lock to its end */
    again = opt_flag(opts, "again");
    if (ledger_open(&ledger, file, &h, !o.dry_run, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    ledger_open_ = true;
    if (ledger_overlapping(&ledger, o.skip)) {
        char *why = refusal_text(file, &ledger, o.skip);
        if (o.dry_run) {
            if (!again)
                cli_warnf("a real run would be refused: %s", why);
        } else if (!again) {
            if (cli->output == OUTPUT_JSON) {
                json_t *j = json_object();
                json_object_set_new(j, "file", json_string(file));
                json_object_set_new(j, "vhost", json_string(vhost));
                json_object_set_new(j, "published", json_integer(0));
                json_object_set_new(j, "ledger", json_string(ledger.path));
                json_object_set_new(j, "already_restored", ledger_runs_json(&ledger, o.skip));
                json_object_set_new(j, "resume_skip",
                                    ledger_resume_point(&ledger) > o.skip
                                        ? json_integer((json_int_t)ledger_resume_point(&ledger))
                                        : json_null());
                json_object_set_new(j, "ok", json_false());
                json_object_set_new(j, "error", json_string(why));
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                fputc('\n', stdout);
                json_decref(j);
            }
            status = cli_fail(cli, EXIT_FAIL, "%s", why);
            free(why);
            goto out;
        }
        free(why);
    }
    dlq_progress_start(&progress, isatty(STDERR_FILENO) && !o.dry_run, "restored");
    o.ctx = &progress;
    o.progress = dlq_progress_cb;
    o.warn = cli_warn_cb;
    o.stop = &cli_stop_requested;
    if (dlq_connect(cli, opts, &c) < 0)
        goto out;
    c.amqp.cfg.vhost = vhost;
    dst = dlq_open_session(cli, &c,
                           o.dry_run ? "rmqtopo dlq restore --dry-run" : "rmqtopo dlq restore");
    if (!dst)
        goto out;
    if (cli->output != OUTPUT_JSON)
        dlq_print_broker(stdout, &c, NULL);
    if (!o.dry_run) {
        char *url = url_without_credentials(&c.amqp),
             *cluster = server_property(dst, "cluster_name"),
             *version = server_property(dst, "version");
        ledger_begin(&ledger, url, cluster, version, vhost, exchange, rkey, again);
        o.ledger = &ledger;
        free(url);
        free(cluster);
        free(version);
        if (ledger.reason)
            cli_warnf("the restore ledger of '%s' is '%s' (%s)", file, ledger.path, ledger.reason);
    }
    if (h.copy && o.route == RESTORE_HOME)
        cli_warnf("'%s' was made with --copy: its messages may still be in queue '%s'; restoring "
                  "them there doubles them",
                  file, h.queue);
    cli_install_signals();
    rc = restore_run(dst, &r, &h, &o, &res, &err);
    dlq_progress_end(&progress);
    ok = restore_ok(rc, &res, cli_stop_requested);
    if (res.truncated_line)
        cli_warnf("%s:%llu: the last line is a piece of a record (a crash while archiving): "
                  "not published; archive does not acknowledge a message before its whole line "
                  "is synced, so that message is still in its queue",
                  file, (unsigned long long)res.truncated_line);
    if (res.unterminated_line)
        cli_warnf("%s:%llu: the last line lacks its newline but is a whole record: %s", file,
                  (unsigned long long)res.unterminated_line,
                  o.dry_run ? "it would be published" : "published");
    if (res.with_cc)
        cli_warnf("%llu record(s) carry a CC or BCC header: the broker %s them to the keys "
                  "named there too%s",
                  (unsigned long long)res.with_cc, o.dry_run ? "would route" : "routed",
                  o.route == RESTORE_EXCHANGE ? ""
                                              : " (through the default exchange: the queues "
                                                "of those names)");
    if (cli->output == OUTPUT_JSON) {
        json_t *j = restore_summary_json(dlq_broker_json(&c, NULL), file, vhost, exchange, rkey,
                                         &res, o.dry_run, ok, rc < 0 ? err.message : NULL);
        json_object_set_new(j, "ledger", o.ledger ? json_string(ledger.path) : json_null());
        dlq_add_count(j, "ledger_records", o.ledger ? ledger.written : 0);
        json_object_set_new(j, "again", json_boolean(again));
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | RMQT_JSON_MEASURED);
        fputc('\n', stdout);
        json_decref(j);
    } else if (res.started) {
        char *target =
            o.route == RESTORE_EXCHANGE
                ? xasprintf("exchange '%s' (routing key %s%s%s)", exchange, rkey ? "'" : "",
                            rkey ? rkey : "each record's", rkey ? "'" : "")
                : xasprintf("queue '%s'", rkey);
        if (o.dry_run)
            printf("dry run: %llu record(s) of '%s' checked, %llu would be published to %s in "
                   "vhost '%s'; nothing was published\n",
                   (unsigned long long)res.records, file,
                   (unsigned long long)(res.records - res.skipped - res.bad_records), target,
                   vhost);
        else
            printf("restored %llu record(s) of '%s' to %s in vhost '%s' in %.1f s (%.0f msg/s)\n",
                   (unsigned long long)res.published, file, target, vhost, res.seconds,
                   res.seconds > 0 ? (double)res.published / res.seconds : 0);
        free(target);
        if (res.skipped)
            printf("  %llu passed over (--skip)\n", (unsigned long long)res.skipped);
        if (o.ledger && ledger.written)
            printf("  recorded in the restore ledger '%s'%s\n", ledger.path,
                   again ? " (--again: published again on purpose)" : "");
        if (res.returned)
            printf("  %llu returned by the broker (no route to the target)\n",
                   (unsigned long long)res.returned);
        if (res.nacked)
            printf("  %llu refused by the broker (basic.nack)\n", (unsigned long long)res.nacked);
        if (!ok && !o.dry_run) {
            printf("  to resume: rmqtopo dlq restore %s --vhost '%s'", file, vhost);
            if (o.route == RESTORE_QUEUE)
                printf(" --to-queue '%s'", o.to_queue);
            if (o.route == RESTORE_EXCHANGE)
                printf(" --to-exchange '%s'", o.to_exchange);
            if (o.routing_key)
                printf(" --routing-key '%s'", o.routing_key);
            if (o.rate > 0)
                printf(" --rate %g", o.rate);
            printf(" --skip %llu\n    (records after the first unpublished one that were "
                   "published too are published again)\n",
                   (unsigned long long)res.resume_skip);
        }
    }
    if (rc < 0)
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
    else if (cli_stop_requested)
        status = cli_fail(cli, EXIT_FAIL, "stopped by a signal: %llu record(s) published",
                          (unsigned long long)res.published);
    else
        status = ok ? EXIT_OK : EXIT_FAIL;
out:
    rmqt_session_close(dst);
    dlq_release(&c);
    if (ledger_open_)
        ledger_close(&ledger);
    if (opened) {
        restore_close(&r);
        archive_header_release(&h);
    }
    return status;
}

const struct command cmd_dlq_restore = {
    "dlq restore",
    "F",
    "publish an archive's messages again",
    "Publishes every record of the archive F (- for stdin) again, exactly as archived: body,\n"
    "properties, typed headers, death headers included (the broker's delivery counters were\n"
    "never archived as headers). By default each goes to the queue the archive came from,\n"
    "through the default exchange, in the archive's vhost (--vhost to change it);\n"
    "--to-queue and --to-exchange choose another target, which must exist. To send restored\n"
    "messages home, restore into the dead-letter queue, then run dlq replay.\n"
    "\n"
    "Publishes use confirms and mandatory. A malformed record (bad JSON, a body that does not\n"
    "match its size or SHA-256) is reported with its line and the run stops before\n"
    "publishing it; a returned or refused publish stops it too. The summary says how many\n"
    "records were published in a row from the start: a re-run with --skip that many goes on\n"
    "from there (records published after the first failure are published again). A last\n"
    "line cut short (a piece of a record: a crash while archiving) is reported and not\n"
    "published: its message was never taken from its queue. A last line that lacks only its\n"
    "newline but holds a whole record is published, with a warning. The file is read under a\n"
    "shared lock: while a dlq archive writes it, restore fails at once.\n"
    "\n"
    "Every record the broker confirmed is written to the restore ledger F.restored (JSON\n"
    "Lines: the archive's id, the records, the broker, vhost, target and time), in batches,\n"
    "each synced. A restore of records the ledger lists refuses before publishing anything,\n"
    "saying when and where they were restored, unless --again; after a run that stopped,\n"
    "--skip N with N from the message publishes only the rest. When F is stdin or its\n"
    "directory is not writable, the ledger goes to $RMQTOPO_STATE_DIR/restored/ (default\n"
    "$XDG_STATE_HOME/rmqtopo, else ~/.local/state/rmqtopo), and the run says so. A second\n"
    "restore of the same archive (the file, a copy of it or stdin) while one runs fails at\n"
    "once.\n"
    "\n"
    "Exit status: 0 every record was published (--dry-run: every record is sound), 1 failure\n"
    "(malformed record, missing target, return, refusal, already restored, lost connection,\n"
    "interrupted), 64\n"
    "usage error.",
    restore_options_spec,
    run_restore,
    "dlq",
    1,
    1,
    "takes one archive file",
    NEEDS_AMQP,
};
