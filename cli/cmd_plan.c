/*
 * cmd_plan.c - `rmqtopo plan FILE` (alias diff): what apply would change, and exit 2 when
 * anything would. CI runs this on every pull request.
 *
 * The pipeline itself (load, read the broker, validate, diff) is provision/plan.c's
 * plan_session_run: this file connects it to the command line and reports what it holds.
 */
#include "cli.h"

#include "plan.h"
#include "plan_output.h"

#include "present.h"
#include "strbuf.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct optspec plan_options[] = {
    {"prune", 0, NULL, "plan to delete what the file does not name (unmanaged objects)"},
    {NULL, 0, NULL, NULL},
};

int cli_run_plan(struct cli *cli, const char *file, bool prune, struct plan_session *s)
{
    struct rmqt_error err;
    struct rmqt_http *http;

    plan_session_init(s);
    http = cli_http_client(cli, &err);
    if (!http) {
        plan_session_fail(s, "%s", err.message);
        return err.code == RMQT_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
    }
    return plan_session_run(s, http, file, prune) < 0 ? EXIT_FAIL : EXIT_OK;
}

void plan_session_report(struct cli *cli, struct plan_session *s, json_t *doc)
{
    size_t k;

    diag_list_sort(&s->dl);
    if (doc) {
        json_t *diags = json_array();
        for (k = 0; k < s->dl.n; k++) {
            json_array_append_new(diags, cli_diag_json(&s->dl.v[k]));
        }
        json_object_set_new(doc, "diagnostics", diags);
        if (s->error[0])
            json_object_set_new(doc, "error", json_string(s->error));
        return;
    }
    for (k = 0; k < s->dl.n; k++)
        if (!cli->quiet || s->dl.v[k].severity != DIAG_WARNING)
            print_diag_text(stderr, &s->dl.v[k], cli->color_err);
    if (s->error[0])
        cli_fail(cli, EXIT_FAIL, "%s", s->error);
}

/* Whether the session read the broker (its version), so that the output can name it. */
static bool broker_known(const struct plan_session *s)
{
    return s->http && s->info.version_str[0];
}

static int run_plan(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct plan_session s;
    int status;

    (void)argc;
    status = cli_run_plan(cli, argv[0], opt_flag(opts, "prune"), &s);
    if (cli->output == OUTPUT_JSON) {
        /* one document, success or not (cli.md): a failure has "error" and no "changes" */
        json_t *doc = json_object();
        if (s.http)
            json_object_set_new(doc, "broker",
                                cli_broker_json(s.http, broker_known(&s) ? &s.info : NULL));
        if (status == EXIT_OK) {
            json_t *pj = plan_to_json(&s.plan);
            json_object_update(doc, pj);
            json_decref(pj);
        }
        plan_session_report(cli, &s, doc);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else if (cli->output == OUTPUT_MARKDOWN) {
        struct strbuf line = {0};
        if (s.http)
            rmqt_broker_line(&line, rmqt_http_current_url(s.http),
                             broker_known(&s) ? &s.info : NULL);
        plan_session_report(cli, &s, NULL);
        if (status == EXIT_OK)
            plan_print_markdown(stdout, &s.plan, line.len ? line.buf : NULL);
        else
            plan_print_markdown_failure(stdout, s.error[0] ? s.error : "see the diagnostics",
                                        line.len ? line.buf : NULL);
        strbuf_release(&line);
    } else {
        if (broker_known(&s))
            cli_print_broker(stdout, s.http, &s.info);
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
    "reported, not a change). Only the vhosts the file names are read. The first line names\n"     \
    "the broker planned against (URL, RabbitMQ version, cluster); -o json has it as\n"             \
    "\"broker\". -o markdown prints a summary line and the changes in a collapsible table,\n"      \
    "for a pull-request comment.\n"                                                                \
    "\n"                                                                                           \
    "Exit status: 0 nothing to change, 2 changes found, 1 failure (invalid file, broker\n"         \
    "unreachable or refusing), 64 usage error."

const struct command cmd_plan = {
    "plan",
    "FILE",
    "show what apply would change (alias: diff)",
    PLAN_DESCRIPTION,
    plan_options,
    run_plan,
    NULL,
    1,
    1,
    "takes one topology file",
    NEEDS_HTTP,
};

const struct command cmd_diff = {
    "diff", "FILE", "the same as plan",        PLAN_DESCRIPTION, plan_options, run_plan, NULL,
    1,      1,      "takes one topology file", NEEDS_HTTP,
};
