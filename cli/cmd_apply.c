/*
 * cmd_apply.c - `rmqtopo apply FILE`: make the broker match the file.
 *
 * plan, then the consents (cli.md: --allow-replace, --prune and --force are the whole
 * consent; on a terminal a replace or delete is also confirmed unless --yes), then the
 * changes (provision/apply), then plan again: anything left is a failure. The exact message
 * and consumer counts that the consents depend on are read over AMQP just before anything
 * changes, because the management API's statistics lag.
 *
 * Nothing is changed when a consent is missing. When a step fails, the output says what was
 * applied, what failed with the broker's reason, and what was not attempted; a re-run
 * continues from there, since it plans again.
 */
#include "cli.h"

#include "apply.h"
#include "plan_output.h"
#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct optspec apply_options_spec[] = {
    {"dry-run", 0, NULL, "only show the plan (the same as 'rmqtopo plan'; exit 2 on changes)"},
    {"prune", 0, NULL, "delete what the file does not name, inside the file's vhosts"},
    {"allow-replace", 0, NULL, "replace queues that hold messages, migrating their messages"},
    {"force", 0, NULL, "also act on queues with consumers, and prune queues holding messages"},
    {"yes", 'y', NULL, "do not ask for confirmation on a terminal"},
    {"concurrency", 0, "N", "AMQP connections working in parallel (default 16)"},
    {"lock-timeout", 0, "SECONDS",
     "wait this long for another apply's lock of a vhost (default: fail at once)"},
    {"hold-timeout", 0, "SECONDS",
     "wait this long for messages other clients hold unacknowledged during a migration "
     "(default 60)"},
    {NULL, 0, NULL, NULL},
};

/* A migration's running line is on the terminal (stderr) and must be cleared first. */
static bool move_line_shown;

static void progress_line(void *ctx, const char *line)
{
    struct strbuf sb = {0};
    (void)ctx;
    rmqt_sanitize_add(&sb, line, strlen(line));
    fprintf(stderr, "%srmqtopo: %s\n", move_line_shown ? "\r\033[K" : "", strbuf_str(&sb));
    move_line_shown = false;
    strbuf_release(&sb);
}

/* A migration's totals as one line rewritten in place (only on a terminal), as the dlq
 * commands show theirs: moved of N, rate, ETA. */
static void move_progress_line(void *ctx, const struct apply_move_progress *p)
{
    struct strbuf sb = {0};
    double rate = p->seconds > 0 ? (double)p->moved / p->seconds : 0;
    char eta[32] = "";

    (void)ctx;
    if (rate > 0 && p->total > p->moved)
        snprintf(eta, sizeof(eta), ", ETA %.0f s", (double)(p->total - p->moved) / rate);
    strbuf_addf(&sb, "moving '%s' -> '%s' (vhost '%s'): %llu of %llu (%.0f msg/s%s)", p->from,
                p->to, p->vhost, (unsigned long long)p->moved, (unsigned long long)p->total, rate,
                eta);
    fprintf(stderr, "\r\033[Krmqtopo: ");
    {
        struct strbuf safe = {0};
        rmqt_sanitize_add(&safe, strbuf_str(&sb), sb.len);
        fputs(strbuf_str(&safe), stderr);
        strbuf_release(&safe);
    }
    fflush(stderr);
    move_line_shown = true;
    strbuf_release(&sb);
}

static bool plan_needs_confirmation(const struct plan *p)
{
    return p->count[CH_REPLACE] || p->count[CH_DELETE];
}

/* Asks on the terminal; true when the answer is yes. */
static bool confirm(void)
{
    /* the question goes to the terminal itself: stderr may be redirected to a log */
    FILE *tty = fopen("/dev/tty", "w");
    FILE *out = tty ? tty : stderr;
    char line[64];
    bool yes;

    fprintf(out, "This plan replaces or deletes objects. Apply it? [y/N] ");
    fflush(out);
    yes = fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
    if (tty)
        fclose(tty);
    return yes;
}

static bool has_queue_work(const struct plan *p)
{
    size_t k;
    for (k = 0; k < p->n; k++)
        if (p->v[k].kind == CK_QUEUE &&
            (p->v[k].action == CH_REPLACE || p->v[k].action == CH_DELETE || p->v[k].holding_queue))
            return true;
        else if (p->v[k].kind == CK_USER && p->v[k].action == CH_DELETE)
            return true; /* a user with open connections is deleted only with --force */
    return false;
}

static void print_steps_text(const struct plan *p, const struct apply_result *r)
{
    struct strbuf sb = {0};
    size_t k, shown = 0;

    if (r->failed) {
        strbuf_adds(&sb, "failed:\n  ");
        strbuf_addf(&sb, "%-3s ", plan_symbol(p->v[r->failed_index].action));
        plan_describe_change(&sb, &p->v[r->failed_index]);
        strbuf_adds(&sb, "\n      ");
        rmqt_sanitize_add(&sb, r->failure, strlen(r->failure));
        strbuf_addc(&sb, '\n');
    }
    if (r->pending) {
        strbuf_addf(&sb, "not attempted (%zu):\n", r->pending);
        for (k = 0; k < p->n; k++) {
            if (p->v[k].action == CH_UNMANAGED || r->steps[k] != STEP_PENDING)
                continue;
            if (shown++ == 20) {
                strbuf_addf(&sb, "  ... and %zu more\n", r->pending - 20);
                break;
            }
            strbuf_addf(&sb, "  %-3s ", plan_symbol(p->v[k].action));
            plan_describe_change(&sb, &p->v[k]);
            strbuf_addc(&sb, '\n');
        }
    }
    fwrite(sb.buf, 1, sb.len, stderr);
    strbuf_release(&sb);
}

static json_t *steps_json(const struct plan *p, const struct apply_result *r, enum apply_step st)
{
    json_t *a = json_array();
    size_t k;
    for (k = 0; k < p->n; k++) {
        json_t *o;
        if (p->v[k].action == CH_UNMANAGED || r->steps[k] != st)
            continue;
        o = change_to_json(&p->v[k]);
        if (st == STEP_FAILED && k == r->failed_index)
            json_object_set_new(o, "error", json_string(r->failure));
        json_array_append_new(a, o);
    }
    return a;
}

struct apply_run {
    struct cli *cli;
    const char *file;
    bool prune, dry_run, yes;
    struct apply_options ao;
    json_t *doc; /* -o json: the document being built */
};

/* After the changes: plan again; anything left is a failure. */
static int replan(struct apply_run *ar)
{
    struct plan_session s;
    int status = cli_run_plan(ar->cli, ar->file, ar->prune, &s);
    size_t left;

    if (status != EXIT_OK) {
        if (ar->doc)
            json_object_set_new(ar->doc, "error", json_string(s.error));
        else
            cli_fail(ar->cli, EXIT_FAIL, "planning again after apply: %s", s.error);
        plan_session_release(&s);
        return EXIT_FAIL;
    }
    left = plan_change_count(&s.plan);
    if (ar->doc) {
        json_object_set_new(ar->doc, "left", plan_to_json(&s.plan));
        if (left)
            json_object_set_new(ar->doc, "error",
                                json_string("changes are left after apply (see \"left\")"));
    } else if (left) {
        fprintf(stderr, "rmqtopo: %zu %s left after apply:\n", left,
                left == 1 ? "change is" : "changes are");
        plan_print_text(stderr, &s.plan, ar->cli->color_err);
    }
    plan_session_release(&s);
    return left ? EXIT_FAIL : EXIT_OK;
}

static int do_apply(struct apply_run *ar, struct plan_session *s)
{
    struct cli *cli = ar->cli;
    struct apply_result r;
    struct rmqt_error err;
    char **why = NULL;
    size_t n_why = 0, k;
    int status = EXIT_OK;
    bool queue_work;

    apply_result_init(&r);
    if (ar->doc)
        json_object_set_new(ar->doc, "plan", plan_to_json(&s->plan));
    else
        plan_print_text(stdout, &s->plan, cli->color_out);
    if (plan_change_count(&s->plan) == 0) {
        if (ar->doc)
            json_object_set_new(ar->doc, "applied", json_integer(0));
        else
            printf("Nothing to change.\n");
        goto out;
    }
    fflush(stdout);
    /* exact counts, just before anything changes */
    queue_work = has_queue_work(&s->plan);
    if (queue_work && apply_preflight(&s->plan, &ar->ao, &r, &err) < 0) {
        status = EXIT_FAIL;
        if (ar->doc)
            json_object_set_new(ar->doc, "error", json_string(err.message));
        else
            cli_fail(cli, status, "%s (nothing was changed)", err.message);
        goto out;
    }
    if (queue_work && apply_refusals(&s->plan, &ar->ao, &r, &why, &n_why)) {
        status = EXIT_FAIL;
        if (ar->doc) {
            json_t *a = json_array();
            for (k = 0; k < n_why; k++)
                json_array_append_new(a, json_string(why[k]));
            json_object_set_new(ar->doc, "refused", a);
            json_object_set_new(ar->doc, "error",
                                json_string("apply refused: nothing was changed"));
        } else {
            for (k = 0; k < n_why; k++)
                cli_fail(cli, status, "%s", why[k]);
            cli_fail(cli, status, "apply refused: nothing was changed");
        }
        goto out;
    }
    if (plan_needs_confirmation(&s->plan) && !ar->yes && isatty(STDIN_FILENO) && !confirm()) {
        status = cli_fail(cli, EXIT_FAIL, "apply cancelled: nothing was changed");
        goto out;
    }
    cli_install_signals();
    if (apply_plan(&s->plan, &ar->ao, &r) < 0) {
        status = EXIT_FAIL;
        if (ar->doc) {
            json_object_set_new(ar->doc, "applied", steps_json(&s->plan, &r, STEP_DONE));
            json_object_set_new(ar->doc, "failed", steps_json(&s->plan, &r, STEP_FAILED));
            json_object_set_new(ar->doc, "not_attempted", steps_json(&s->plan, &r, STEP_PENDING));
            json_object_set_new(ar->doc, "error", json_string(r.failure));
        } else {
            cli_fail(cli, status, "apply stopped: %zu applied, %zu failed, %zu not attempted",
                     r.done, r.failed, r.pending);
            print_steps_text(&s->plan, &r);
            fprintf(stderr, "rmqtopo: a re-run continues from here\n");
        }
        goto out;
    }
    if (ar->doc) {
        json_object_set_new(ar->doc, "applied", json_integer((json_int_t)r.done));
        json_object_set_new(ar->doc, "migrated_messages", json_integer((json_int_t)r.migrated));
        json_object_set_new(ar->doc, "taken_by_other_clients", json_integer((json_int_t)r.taken));
    }
    status = replan(ar);
    if (status == EXIT_OK && !ar->doc) {
        printf("Applied: %zu %s", r.done, r.done == 1 ? "change" : "changes");
        if (r.migrated)
            printf(" (%llu messages migrated)", (unsigned long long)r.migrated);
        printf(".\n");
        if (r.taken)
            printf("%llu more messages were taken from holding queues during the migration by "
                   "other clients, which acknowledged them.\n",
                   (unsigned long long)r.taken);
    }
out:
    for (k = 0; k < n_why; k++)
        free(why[k]);
    free(why);
    apply_result_release(&r);
    return status;
}

static int parse_seconds(const struct parsed_opts *opts, const char *name, double *out)
{
    const char *v = opt_last(opts, name);
    char *end;
    double d;

    if (!v)
        return 0;
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || d < 0 || d > 86400) {
        fprintf(stderr, "rmqtopo: --%s takes seconds from 0 to 86400, not '%s'\n", name, v);
        return -1;
    }
    *out = d;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Locks every vhost of the file that exists now (one the plan creates cannot be locked
 * before it exists), in name order so that two applies never wait for each other. */
static struct apply_lock *take_locks(struct apply_run *ar, struct plan_session *s, double timeout,
                                     struct rmqt_error *err)
{
    const char **names = xcalloc(s->desired.n_vhosts + 1, sizeof(*names));
    struct apply_lock *l;
    size_t k, j, n = 0;

    ar->ao.http = s->http;
    for (k = 0; k < s->desired.n_vhosts; k++)
        for (j = 0; j < s->live.n_vhosts; j++)
            if (strcmp(s->desired.vhosts[k].name, s->live.vhosts[j].name) == 0) {
                names[n++] = s->desired.vhosts[k].name;
                break;
            }
    qsort(names, n, sizeof(*names), cmp_str);
    l = apply_lock_take(&ar->ao, names, n, timeout, err);
    ar->ao.http = NULL;
    free(names);
    return l;
}

static int run_apply(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct apply_run ar;
    struct plan_session s;
    struct cli_amqp amqp;
    struct rmqt_error err;
    const char *conc = opt_last(opts, "concurrency");
    struct apply_lock *lock = NULL;
    double lock_timeout = 0;
    bool lock_failed = false;
    int status;

    memset(&ar, 0, sizeof(ar));
    ar.cli = cli;
    ar.file = argv[0];
    ar.prune = opt_flag(opts, "prune");
    ar.dry_run = opt_flag(opts, "dry-run");
    ar.yes = opt_flag(opts, "yes");
    ar.ao.allow_replace = opt_flag(opts, "allow-replace");
    ar.ao.force = opt_flag(opts, "force");
    ar.ao.stop = &cli_stop_requested;
    if (conc) {
        char *end;
        long v;
        errno = 0;
        v = strtol(conc, &end, 10);
        if (errno || *end || v < 1 || v > 256) {
            fprintf(stderr, "rmqtopo: --concurrency takes a number from 1 to 256, not '%s'\n",
                    conc);
            return EXIT_USAGE;
        }
        ar.ao.concurrency = (unsigned)v;
    }
    if (parse_seconds(opts, "lock-timeout", &lock_timeout) < 0 ||
        parse_seconds(opts, "hold-timeout", &ar.ao.hold_timeout_s) < 0)
        return EXIT_USAGE;
    if (ar.dry_run) /* apply --dry-run is plan */
        return cmd_plan.run(cli, opts, argc, argv);
    if (cli_amqp_setup(cli, &amqp, &err) < 0) {
        cli_amqp_release(&amqp);
        return cli_fail(cli, EXIT_FAIL, "%s", err.message);
    }
    ar.ao.amqp = &amqp.cfg;
    if (isatty(STDERR_FILENO)) {
        ar.ao.progress = progress_line;
        ar.ao.move_progress = move_progress_line;
    }
    if (cli->output == OUTPUT_JSON)
        ar.doc = json_object();
    status = cli_run_plan(cli, ar.file, ar.prune, &s);
    if (status == EXIT_OK && plan_change_count(&s.plan)) {
        /* the lock of every vhost the apply touches, then the plan again under it: what
         * another apply changed meanwhile is seen */
        if (!(lock = take_locks(&ar, &s, lock_timeout, &err))) {
            plan_session_report(cli, &s, ar.doc);
            lock_failed = true;
            status = EXIT_FAIL;
            if (ar.doc)
                json_object_set_new(ar.doc, "error", json_string(err.message));
            else
                cli_fail(cli, status, "%s (nothing was changed)", err.message);
        } else {
            plan_session_release(&s);
            status = cli_run_plan(cli, ar.file, ar.prune, &s);
        }
    }
    if (s.http && s.info.version_str[0]) { /* the broker this apply changes, first */
        if (ar.doc)
            json_object_set_new(ar.doc, "broker", cli_broker_json(s.http, &s.info));
        else
            cli_print_broker(stdout, s.http, &s.info);
    }
    if (status == EXIT_OK) {
        ar.ao.http = s.http;
        plan_session_report(cli, &s, ar.doc); /* warnings */
        status = do_apply(&ar, &s);
        if (move_line_shown) { /* a migration that stopped on an error left its line */
            fputs("\r\033[K", stderr);
            move_line_shown = false;
        }
    } else if (!lock_failed) {
        plan_session_report(cli, &s, ar.doc);
    }
    if (ar.doc) {
        json_dumpf(ar.doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(ar.doc);
    }
    plan_session_release(&s);
    apply_lock_release(lock); /* after the final plan: the lock covers it */
    cli_amqp_release(&amqp);
    return status;
}

const struct command cmd_apply = {
    "apply",
    "FILE",
    "make the broker match FILE",
    "Plans FILE against the live broker, then makes the broker match it: exchanges, queues\n"
    "and bindings over AMQP (16 connections in parallel), vhosts and policies over the\n"
    "management API. Then it plans again: anything left is a failure.\n"
    "\n"
    "A queue holding messages is replaced only with --allow-replace, and then its messages\n"
    "are migrated (moved to a holding queue with publisher confirms and moved back; a re-run\n"
    "after a crash finishes the migration). Queues with consumers need --force, and so does\n"
    "pruning a queue that holds messages. Messages clients hold unacknowledged count as\n"
    "held (read from the management API once its statistics postdate the exact count).\n"
    "On a terminal, a plan that replaces or deletes asks for confirmation unless --yes.\n"
    "\n"
    "One apply at a time per vhost: apply holds an exclusive queue 'rmqtopo.lock' on a\n"
    "connection of its own while it works; a second apply fails at once naming the holder\n"
    "(host, process, start time), or waits up to --lock-timeout seconds.\n"
    "\n"
    "Exit status: 0 applied (or nothing to do), 1 failure (refused, a step failed, changes\n"
    "left), 2 --dry-run found changes, 64 usage error.",
    apply_options_spec,
    run_apply,
    NULL,
    1,
    1,
    "takes one topology file",
    NEEDS_HTTP | NEEDS_AMQP,
};
