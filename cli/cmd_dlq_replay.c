/*
 * cmd_dlq_replay.c - `rmqtopo dlq replay QUEUE` (cli.md, dlq.md).
 *
 * replay moves with common's safe mover through ops/replay: a message is acknowledged at the
 * dead-letter queue only after the broker confirmed its publish and did not return it. The
 * source's checks and warnings and the success rule (replay_ok) are ops/'s; this file parses
 * the options, prints the preview and the summary.
 */
#include "dlq.h"

#include "death.h"
#include "present.h"
#include "strbuf.h"
#include "textutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Bytes of a body shown on a --dry-run line of a message without a message_id. */
#define DRY_RUN_PREVIEW 40

static const struct optspec replay_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the AMQP URL's, else /)"},
    {"limit", 0, "N", "replay at most N messages"},
    {"rate", 0, "MSGS_PER_S", "publish at most this many messages a second"},
    {"reason", 0, "R", "only messages that died for R (rejected, expired, maxlen, delivery_limit)"},
    {"from-queue", 0, "Q", "only messages that died in queue Q"},
    {"older-than", 0, "D", "only messages that died at least D ago (90s, 15m, 2h, 7d)"},
    {"to-queue", 0, "Q", "send every message to queue Q (default: the queue it died in)"},
    {"to-exchange", 0, "X", "send every message to exchange X"},
    {"routing-key", 0, "K", "with --to-exchange: this routing key (default: the message's)"},
    {"to-origin", 0, NULL, "send each message the way it reached the queue it died in"},
    {"max-replays", 0, "N", "do not replay a message replayed N times already (default 5)"},
    {"park-queue", 0, "Q", "move messages at --max-replays to queue Q (default: leave them)"},
    {"keep-headers", 0, NULL, "keep x-death and the other death headers"},
    {"dry-run", 0, NULL, "move nothing: show where each message would go"},
    {NULL, 0, NULL, NULL},
};

struct replay_out {
    struct cli *cli;
    bool first;
    time_t now;
};

static const char *action_name(enum replay_action a)
{
    switch (a) {
    case ACT_REPLAY:
        return "replay";
    case ACT_PARK:
        return "park";
    case ACT_FILTERED:
        return "filtered";
    case ACT_AT_MAX:
        return "at_max_replays";
    case ACT_NO_HOME:
        return "no_home";
    }
    return "?";
}

static json_t *cc_json(const amqp_array_t *cc)
{
    json_t *a = json_array();
    int i;
    for (i = 0; i < cc->num_entries; i++)
        if (cc->entries[i].kind == AMQP_FIELD_KIND_UTF8 ||
            cc->entries[i].kind == AMQP_FIELD_KIND_BYTES)
            json_array_append_new(a, dlq_bytes_json(cc->entries[i].value.bytes));
    return a;
}

static void preview_each(void *ctx, const struct replay_preview *pv)
{
    struct replay_out *o = ctx;
    const struct replay_decision *d = pv->decision;
    const amqp_basic_properties_t *p = &pv->env->message.properties;
    bool goes = d->action == ACT_REPLAY || d->action == ACT_PARK;

    if (o->cli->output == OUTPUT_JSON) {
        json_t *j = json_object();
        struct death dth;
        char *s, when[40], *preview;
        death_read(p, &dth);
        json_object_set_new(
            j, "message_id",
            dlq_bytes_or_null(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id));
        json_object_set_new(j, "reason",
                            dlq_bytes_or_null(dth.present && dth.reason.bytes, dth.reason));
        if (dth.has_time)
            dlq_format_time(when, sizeof(when), dth.time);
        json_object_set_new(j, "first_death", dth.has_time ? json_string(when) : json_null());
        preview = dlq_body_preview(pv->env->message.body);
        json_object_set_new(j, "body_preview", json_string(preview));
        free(preview);
        json_object_set_new(j, "action", json_string(action_name(d->action)));
        json_object_set_new(j, "exchange", goes ? dlq_bytes_json(d->exchange) : json_null());
        json_object_set_new(j, "routing_key", goes ? dlq_bytes_json(d->routing_key) : json_null());
        json_object_set_new(j, "cc", cc_json(&d->cc));
        json_object_set_new(j, "replays", json_integer(d->replays));
        json_object_set_new(j, "target_exists",
                            goes ? json_boolean(pv->target_exists) : json_null());
        s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n    %s", o->first ? "" : ",", s);
        free(s);
        json_decref(j);
    } else {
        struct strbuf sb = {0};
        if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG && p->message_id.len) {
            dlq_add_bytes_text(&sb, p->message_id, 24);
            strbuf_adds(&sb, " ");
        } else {
            /* no id to tell it by: why and when it died, and what it holds */
            struct death dth;
            char age[16] = "?";
            death_read(p, &dth);
            if (dth.has_time)
                rmqt_age_format(age, sizeof(age), difftime(o->now, (time_t)dth.time));
            strbuf_adds(&sb, "(no message_id: ");
            if (dth.present && dth.reason.len)
                rmqt_quote_add(&sb, dth.reason.bytes, dth.reason.len, 40);
            else
                strbuf_adds(&sb, "no x-death");
            strbuf_addf(&sb, ", %s%s, body ", age, dth.has_time ? " ago" : " old");
            rmqt_preview_add(&sb, pv->env->message.body.bytes, pv->env->message.body.len,
                             DRY_RUN_PREVIEW);
            strbuf_adds(&sb, ") ");
        }
        switch (d->action) {
        case ACT_REPLAY:
        case ACT_PARK:
            strbuf_adds(&sb, d->action == ACT_PARK ? "-> park: " : "-> ");
            if (d->exchange.len == 0) {
                strbuf_adds(&sb, "queue '");
                rmqt_quote_add(&sb, d->routing_key.bytes, d->routing_key.len, 200);
                strbuf_adds(&sb, "'");
            } else {
                strbuf_adds(&sb, "exchange '");
                rmqt_quote_add(&sb, d->exchange.bytes, d->exchange.len, 200);
                strbuf_adds(&sb, "' key '");
                rmqt_quote_add(&sb, d->routing_key.bytes, d->routing_key.len, 200);
                strbuf_adds(&sb, "'");
                if (d->cc.num_entries)
                    strbuf_addf(&sb, " (+%d CC key(s))", d->cc.num_entries);
            }
            if (!pv->target_exists)
                strbuf_adds(&sb, "  [does not exist: stays]");
            break;
        case ACT_FILTERED:
            strbuf_adds(&sb, "stays (not selected by the filters)");
            break;
        case ACT_AT_MAX:
            strbuf_addf(&sb, "stays (replayed %lld times: --max-replays)", (long long)d->replays);
            break;
        case ACT_NO_HOME:
            strbuf_adds(&sb, "stays (no x-death to find its home by: use --to-queue)");
            break;
        }
        printf("%s\n", strbuf_str(&sb));
        strbuf_release(&sb);
    }
    o->first = false;
}

/* Why messages of the snapshot were not handled, when the run did not stop at a limit. */
static const char *why_left(bool failed)
{
    if (failed)
        return "the run stopped on the error below";
    if (cli_stop_requested)
        return "stopped by a signal";
    return "they never came to this run: another consumer holds them, or they expired";
}

static void print_summary_text(const char *queue, const struct replay_result *r, bool dry_run,
                               bool failed)
{
    const struct rmqt_mover_stats *m = &r->mover;
    double rate = m->seconds > 0 ? (double)(m->moved + m->parked) / m->seconds : 0;

    if (dry_run) {
        printf("\ndry run: %llu would be replayed, %llu parked; %llu not selected; nothing was "
               "moved\n",
               (unsigned long long)m->moved, (unsigned long long)m->parked,
               (unsigned long long)r->filtered);
    } else {
        printf("replayed %llu message(s) from '%s' in %.1f s (%.0f msg/s)",
               (unsigned long long)m->moved, queue, m->seconds, rate);
        if (m->parked)
            printf(", parked %llu", (unsigned long long)m->parked);
        printf("; %llu ready when it started\n", (unsigned long long)m->snapshot);
        if (r->filtered)
            printf("  %llu not selected by the filters: they stay\n",
                   (unsigned long long)r->filtered);
        if (m->left && !replay_left_selected(r))
            printf("  %llu not handled (--limit)\n", (unsigned long long)m->left);
    }
    if (m->returned)
        printf("  left: %llu returned by the broker (no route to the target): they stay in '%s'\n",
               (unsigned long long)m->returned, queue);
    if (m->nacked)
        printf("  left: %llu refused by the broker (basic.nack): they stay in '%s'\n",
               (unsigned long long)m->nacked, queue);
    if (m->refused)
        printf("  left: %llu the broker refuses (named above): they stay in '%s'\n",
               (unsigned long long)m->refused, queue);
    if (m->unconfirmed)
        printf("  %llu were published but not confirmed before the broker closed the channel: "
               "they were given back and published again one at a time, so each may be at the "
               "target twice\n",
               (unsigned long long)m->unconfirmed);
    if (r->at_max)
        printf("  left: %llu at --max-replays: they stay (give --park-queue to move them)\n",
               (unsigned long long)r->at_max);
    if (r->no_home)
        printf("  left: %llu without x-death to find their home by: they stay (use --to-queue)\n",
               (unsigned long long)r->no_home);
    if (r->no_target)
        printf("  left: %llu whose target does not exist: they stay\n",
               (unsigned long long)r->no_target);
    if (!dry_run && m->left && replay_left_selected(r))
        printf("  left: %llu not handled (%s)\n", (unsigned long long)m->left, why_left(failed));
}

static int replay_parse(const struct parsed_opts *opts, struct replay_options *o)
{
    const char *s;
    int routes = (opt_last(opts, "to-queue") != NULL) + (opt_last(opts, "to-exchange") != NULL) +
                 opt_flag(opts, "to-origin");

    o->max_replays = REPLAY_DEFAULT_MAX;
    if (routes > 1) {
        fprintf(stderr, "rmqtopo: give one of --to-queue, --to-exchange and --to-origin\n");
        return -1;
    }
    if (opt_last(opts, "routing-key") && !opt_last(opts, "to-exchange")) {
        fprintf(stderr, "rmqtopo: --routing-key goes with --to-exchange\n");
        return -1;
    }
    o->route = ROUTE_HOME;
    if ((o->to_queue = opt_last(opts, "to-queue")) != NULL)
        o->route = ROUTE_QUEUE;
    if ((o->to_exchange = opt_last(opts, "to-exchange")) != NULL) {
        o->route = ROUTE_EXCHANGE;
        o->routing_key = opt_last(opts, "routing-key");
    }
    if (opt_flag(opts, "to-origin"))
        o->route = ROUTE_ORIGIN;
    if ((s = opt_last(opts, "limit")) && dlq_parse_count("limit", s, &o->limit) < 0)
        return -1;
    if (dlq_parse_rate(opts, &o->rate) < 0)
        return -1;
    if (dlq_parse_filter(opts, &o->filter) < 0)
        return -1;
    if ((s = opt_last(opts, "max-replays")) != NULL) {
        char *end;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || end == s || v < 0) {
            fprintf(stderr, "rmqtopo: --max-replays takes a whole number (0 or more), not '%s'\n",
                    s);
            return -1;
        }
        o->max_replays = v;
    }
    o->park_queue = opt_last(opts, "park-queue");
    o->keep_headers = opt_flag(opts, "keep-headers");
    return 0;
}

static int run_replay(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct replay_options o;
    struct replay_result res;
    struct replay_out out;
    struct dlq_progress progress;
    struct dlq_source src;
    struct dlq_conn c;
    struct rmqt_session *s = NULL, *dst = NULL;
    struct rmqt_error err;
    bool dry_run = opt_flag(opts, "dry-run"), ok;
    const char *vhost;
    int status = EXIT_FAIL, rc;

    (void)argc;
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    if (replay_parse(opts, &o) < 0)
        return EXIT_USAGE;
    o.queue = argv[0];
    if (dlq_prepare(cli, opts, &c,
                    dry_run ? "rmqtopo dlq replay --dry-run" : "rmqtopo dlq replay (consume)",
                    o.queue, "replayed", &s, &src) < 0)
        goto out;
    vhost = rmqt_session_vhost(s);
    o.vhost = vhost;
    o.delivery_limit = src.delivery_limit;
    o.warn = cli_warn_cb;
    o.refused = dlq_refused_cb;
    o.may_impersonate = rmqt_user_may_impersonate(c.http);
    o.stop = &cli_stop_requested;
    memset(&out, 0, sizeof(out));
    out.cli = cli;
    out.first = true;
    out.now = time(NULL);
    if (cli->output != OUTPUT_JSON)
        dlq_print_broker(stdout, &c, &src);
    dlq_progress_start(&progress, isatty(STDERR_FILENO) && !dry_run, NULL);
    o.ctx = &progress;
    o.progress = dlq_progress_cb;
    cli_install_signals();

    if (dry_run) {
        dlq_warn_read(&src, UINT64_MAX); /* every message is read and given back */
        if (cli->output == OUTPUT_JSON) {
            json_t *b = dlq_broker_json(&c, &src);
            char *bs = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("{\n  \"broker\": %s,\n  \"messages\": [", bs);
            free(bs);
            json_decref(b);
        }
        rc = replay_preview(s, c.http, &o, preview_each, &out, &res, &err);
        if (cli->output == OUTPUT_JSON) {
            json_t *sum = replay_summary_json(NULL, vhost, o.queue, &res, true, rc == 0,
                                              rc < 0 ? err.message : NULL);
            char *ss = json_dumps(sum, JSON_INDENT(2) | JSON_PRESERVE_ORDER | RMQT_JSON_MEASURED);
            printf("%s],\n  \"summary\": %s\n}\n", out.first ? "" : "\n  ", ss);
            free(ss);
            json_decref(sum);
        } else if (rc == 0) {
            print_summary_text(o.queue, &res, true, false);
        }
        status = rc < 0 ? cli_fail(cli, EXIT_FAIL, "%s", err.message) : EXIT_OK;
        goto out;
    }

    dst = dlq_open_session(cli, &c, "rmqtopo dlq replay (publish)");
    if (!dst)
        goto out;
    rc = replay_run(s, dst, c.http, &o, &res, &err);
    dlq_progress_end(&progress);
    ok = replay_ok(rc, &res, cli_stop_requested);
    dlq_warn_read(&src, replay_read_left(&res));
    dlq_warn_at_limit(o.queue, res.mover.at_limit, o.delivery_limit);
    if (cli->output == OUTPUT_JSON) {
        json_t *sum = replay_summary_json(dlq_broker_json(&c, &src), vhost, o.queue, &res, false,
                                          ok, rc < 0 ? err.message : NULL);
        json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | RMQT_JSON_MEASURED);
        fputc('\n', stdout);
        json_decref(sum);
    } else {
        print_summary_text(o.queue, &res, false, rc < 0);
    }
    if (rc < 0)
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
    else if (cli_stop_requested)
        status = cli_fail(cli, EXIT_FAIL,
                          "stopped by a signal: what was confirmed is "
                          "acknowledged, the rest stays in '%s'",
                          o.queue);
    else
        status = ok ? EXIT_OK : EXIT_FAIL;
out:
    rmqt_session_close(dst);
    rmqt_session_close(s);
    dlq_source_release(&src);
    dlq_release(&c);
    return status;
}

const struct command cmd_dlq_replay = {
    "dlq replay",
    "QUEUE",
    "send dead-lettered messages back where they came from",
    "Moves the messages of the dead-letter queue QUEUE home: by default each goes to the queue\n"
    "of its most recent x-death entry, through the default exchange (only that queue gets\n"
    "it). --to-origin republishes it the way it reached that queue (its exchange and routing\n"
    "keys; other queues bound there get copies); --to-queue and --to-exchange send every\n"
    "message to one place.\n"
    "\n"
    "Safety: a message is acknowledged at QUEUE only after the broker confirmed its publish\n"
    "and did not return it; a crash or lost connection loses nothing (at most the messages in\n"
    "flight are delivered twice). A run handles at most the messages QUEUE held when it\n"
    "started. Messages the filters do not select stay, in order on classic queues.\n"
    "\n"
    "Each replayed message gets the header rmqtopo-replay-count (1, 2, ...); x-death,\n"
    "x-first-death-*, x-last-death-* and the broker's delivery counters are removed unless\n"
    "--keep-headers; every other property and header is kept with its type. A message\n"
    "replayed --max-replays times already stays (or goes to --park-queue). Ctrl-C stops\n"
    "cleanly: what is in flight is confirmed and acknowledged, the rest stays.\n"
    "\n"
    "Exit status: 0 every selected message was moved (--dry-run: always 0), 1 something\n"
    "selected was left (returned, refused, at --max-replays, no home, lost connection), 64\n"
    "usage error.",
    replay_options_spec,
    run_replay,
    "dlq",
    1,
    1,
    "takes one queue",
    NEEDS_HTTP | NEEDS_AMQP,
};
