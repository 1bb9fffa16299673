/*
 * cmd_plan.c - `rmqtopo plan FILE` (alias diff): what apply would change, and exit 2 when
 * anything would. CI runs this on every pull request.
 *
 * The broker is read while the file loads (live_prefetch): the definitions request takes about
 * a second for 10,000 queues on the server, and the file's parsing and validation fit inside
 * that time. The file's own problems are reported first; the broker's version then adds its
 * checks.
 */
#include "cli.h"

#include "load.h"
#include "plan.h"
#include "plan_output.h"
#include "validate.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct optspec plan_options[] = {
    {"prune", 0, NULL, "plan to delete what the file does not name (unmanaged objects)"},
    {NULL, 0, NULL, NULL},
};

static void announce_vhost(const char *name, void *ctx)
{
    live_prefetch_add(ctx, name);
}

/* Records why the session failed; returns status. */
static int session_fail(struct plan_session *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int session_fail(struct plan_session *s, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    return status;
}

int cli_run_plan(struct cli *cli, const char *file, bool prune, struct plan_session *s)
{
    struct rmqt_error err;
    struct diff_options dopts = {prune};
    struct load_options lopts;
    struct live_prefetch *pf;
    int rc;

    memset(s, 0, sizeof(*s));
    topology_init(&s->desired);
    topology_init(&s->live);
    diag_list_init(&s->dl);
    plan_init(&s->plan);
    s->http = cli_http_client(cli, &err);
    if (!s->http)
        return session_fail(s, err.code == RMQT_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL, "%s",
                            err.message);
    /* the broker is read while the file loads: each vhost is asked for as soon as its name
     * is read, and its definitions are parsed on the worker's side */
    pf = live_prefetch_start(s->http);
    memset(&lopts, 0, sizeof(lopts));
    lopts.on_vhost = announce_vhost;
    lopts.on_vhost_ctx = pf;
    if (topology_load_file(&s->desired, file, &lopts, &s->dl) == 0)
        topology_validate(&s->desired, NULL, &s->dl);
    rc = live_prefetch_finish(pf, &s->desired, &s->live, &s->info, &err);
    if (s->dl.errors) /* the file's problems come first: they are why nothing can be planned */
        return session_fail(s, EXIT_FAIL, "%s: invalid (%zu %s): nothing can be planned",
                            s->desired.file, s->dl.errors, s->dl.errors == 1 ? "error" : "errors");
    if (rc < 0)
        return session_fail(s, EXIT_FAIL, "%s", err.message);
    /* the offline pass's warnings stay; the broker's version may add its checks */
    if (plan_finish(s->http, &s->desired, &dopts, &s->live, &s->info, &s->dl, &s->plan, &err) < 0)
        return session_fail(s, EXIT_FAIL, "%s", err.message);
    if (s->dl.errors)
        return session_fail(s, EXIT_FAIL, "%s: invalid for RabbitMQ %s (%zu %s)", s->desired.file,
                            s->info.version_str, s->dl.errors,
                            s->dl.errors == 1 ? "error" : "errors");
    return EXIT_OK;
}

void plan_session_report(struct cli *cli, struct plan_session *s, json_t *doc)
{
    size_t k;

    diag_list_sort(&s->dl);
    if (doc) {
        json_t *diags = json_array();
        for (k = 0; k < s->dl.n; k++) {
            const struct diag *d = &s->dl.v[k];
            json_array_append_new(diags,
                                  json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "file", d->file,
                                            "line", d->pos.line, "column", d->pos.col, "severity",
                                            d->severity == DIAG_ERROR ? "error" : "warning", "path",
                                            d->path, "message", d->message));
        }
        json_object_set_new(doc, "diagnostics", diags);
        if (s->error[0])
            json_object_set_new(doc, "error", json_string(s->error));
        return;
    }
    for (k = 0; k < s->dl.n; k++)
        print_diag_text(stderr, &s->dl.v[k], cli->color_err);
    if (s->error[0])
        cli_fail(cli, EXIT_FAIL, "%s", s->error);
}

void plan_session_release(struct plan_session *s)
{
    plan_release(&s->plan);
    topology_release(&s->desired);
    topology_release(&s->live);
    diag_list_release(&s->dl);
    rmqt_http_free(s->http);
    s->http = NULL;
}

static int run_plan(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct plan_session s;
    int status;

    if (argc != 1) {
        fprintf(stderr, "rmqtopo: plan takes one topology file\nTry 'rmqtopo plan --help'.\n");
        return EXIT_USAGE;
    }
    status = cli_run_plan(cli, argv[0], opt_flag(opts, "prune"), &s);
    if (cli->output == OUTPUT_JSON) {
        /* one document, success or not (cli.md): a failure has "error" and no "changes" */
        json_t *doc = status == EXIT_OK ? plan_to_json(&s.plan) : json_object();
        plan_session_report(cli, &s, doc);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        plan_session_report(cli, &s, NULL);
        if (status == EXIT_OK)
            plan_print_text(stdout, &s.plan, cli->color_out);
    }
    if (status == EXIT_OK)
        status = plan_change_count(&s.plan) ? EXIT_CHANGES : EXIT_OK;
    plan_session_release(&s);
    return status;
}

#define PLAN_DESCRIPTION                                                                           \
    "Compares FILE with the live broker (read through the management API) and shows what\n"        \
    "apply would change: + create, ~ update (in place: policies), -/+ replace (what the\n"         \
    "broker cannot change in place: queue type, flags, arguments; a queue's messages are\n"        \
    "counted), - delete (only with --prune), ? unmanaged (on the broker, not in the file;\n"       \
    "reported, not a change). Only the vhosts the file names are read.\n"                          \
    "\n"                                                                                           \
    "Exit status: 0 nothing to change, 2 changes found, 1 failure (invalid file, broker\n"         \
    "unreachable or refusing), 64 usage error."

const struct command cmd_plan = {
    "plan",           "FILE",       "show what apply would change (alias: diff)",
    PLAN_DESCRIPTION, plan_options, run_plan,
};

const struct command cmd_diff = {
    "diff", "FILE", "the same as plan", PLAN_DESCRIPTION, plan_options, run_plan,
};
