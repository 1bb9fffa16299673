/*
 * cmd_export.c - `rmqtopo export [--vhost V]... [--all-vhosts]`: the live topology as a
 * topology file on stdout.
 *
 * Without --vhost it exports the vhost of the AMQP URL, else "/" (cli.md, "Connecting").
 */
#include "cli.h"
#include "present.h"

#include "access.h"
#include "export.h"
#include "load.h"
#include "validate.h"
#include "live.h"
#include "params.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const struct optspec export_options[] = {
    {"vhost", 0, "V", "a vhost to export (repeatable; default: the AMQP URL's, else /)"},
    {"all-vhosts", 0, NULL, "export every vhost of the broker"},
    {"include-users", 0, NULL,
     "also export users (password hashes, never passwords): all of them, or with --vhost those "
     "holding a permission there"},
    {"include-secrets", 0, NULL, "write URI passwords (default: ${NAME} placeholders)"},
    {NULL, 0, NULL, NULL},
};

/* The vhost an AMQP URL names ("amqp://host:port/vhost", percent-encoded), or "/". New. */
static char *vhost_of_amqp_url(const char *url)
{
    const char *p = url ? strstr(url, "://") : NULL;
    const char *slash;
    struct strbuf sb = {0};

    if (!p || !(slash = strchr(p + 3, '/')) || !slash[1])
        return xstrdup("/");
    for (p = slash + 1; *p && *p != '?'; p++) {
        if (*p == '%' && p[1] && p[2]) {
            char hex[3] = {p[1], p[2], 0};
            strbuf_addc(&sb, (char)strtol(hex, NULL, 16));
            p += 2;
        } else {
            strbuf_addc(&sb, *p);
        }
    }
    return strbuf_detach(&sb, NULL);
}

/* Placeholders (${NAME}) written for URI passwords load as a value that is not the secret. */
static const char *export_env(const char *name, void *ctx)
{
    const char *v = getenv(name);
    (void)ctx;
    return v ? v : "placeholder";
}

/* The broker accepts states that validate refuses (a dead-letter exchange that does not exist,
 * reject-publish-dlx on a quorum queue ...): say so, since planning the export would fail. */
static void check_export(struct cli *cli, const struct strbuf *out)
{
    struct topology t;
    struct diag_list dl;
    struct load_options lopts = {0};
    size_t k;

    lopts.env = export_env;
    topology_init(&t);
    diag_list_init(&dl);
    if (topology_load_buffer(&t, "<export>", out->buf, out->len, &lopts, &dl) == 0)
        topology_validate(&t, NULL, &dl);
    if (dl.errors && !cli->quiet) {
        fprintf(stderr,
                "rmqtopo: warning: the broker holds %zu %s that validate refuses, so the "
                "exported file needs fixing before plan or apply take it:\n",
                dl.errors, dl.errors == 1 ? "setting" : "settings");
        diag_list_sort(&dl);
        for (k = 0; k < dl.n; k++)
            if (dl.v[k].severity == DIAG_ERROR)
                print_diag_text(stderr, &dl.v[k], cli->color_err);
    }
    diag_list_release(&dl);
    topology_release(&t);
}

/* rmqtopo's own queues (an unfinished migration's holding queue, apply's lock) are left out:
 * say which and why (the file's header says it too). */
static void warn_skipped(const struct topology *live)
{
    struct strbuf notes = {0};
    const char *line, *end;

    topology_export_skipped(live, &notes);
    for (line = notes.buf; line && *line; line = end + 1) {
        end = strchr(line, '\n');
        cli_warnf("not exported: %.*s", (int)(end - line), line);
    }
    strbuf_release(&notes);
}

static int run_export(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    const struct optvalues *vhosts = opt_get(opts, "vhost");
    struct topology want, live;
    struct rmqt_broker_info info;
    struct rmqt_error err;
    struct rmqt_http *h;
    struct strbuf out = {0}, header = {0};
    int status = EXIT_FAIL;
    size_t k;
    char **names = NULL;
    size_t n_names = 0;

    (void)argv;
    (void)argc;
    if (opt_flag(opts, "all-vhosts") && vhosts && vhosts->n) {
        fprintf(stderr, "rmqtopo: export takes --vhost or --all-vhosts, not both\n"
                        "Try 'rmqtopo export --help'.\n");
        return EXIT_USAGE;
    }
    topology_init(&want);
    topology_init(&live);
    h = cli_http_client(cli, &err);
    if (!h)
        return cli_fail(cli, err.code == RMQT_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL, "%s",
                        err.message);
    if (opt_flag(opts, "all-vhosts")) {
        if (live_list_vhosts(h, &names, &n_names, &err) < 0) {
            status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
            goto out;
        }
        for (k = 0; k < n_names; k++)
            topology_add_vhost(&want, names[k]);
    } else if (vhosts && vhosts->n) {
        for (k = 0; k < vhosts->n; k++)
            topology_add_vhost(&want, vhosts->v[k]);
    } else {
        const char *url = cli->amqp_urls.n ? cli->amqp_urls.v[0] : getenv("RMQTOPO_AMQP_URL");
        char *vh = vhost_of_amqp_url(url);
        topology_add_vhost(&want, vh);
        free(vh);
    }
    if (live_read(h, &want, &live, &info, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    for (k = 0; k < want.n_vhosts; k++) {
        size_t j;
        bool found = false;
        for (j = 0; j < live.n_vhosts; j++)
            found = found || strcmp(live.vhosts[j].name, want.vhosts[k].name) == 0;
        if (!found) {
            status = cli_fail(cli, EXIT_FAIL, "vhost '%s' does not exist at %s",
                              want.vhosts[k].name, rmqt_http_current_url(h));
            goto out;
        }
    }
    /* no timestamp: exporting an unchanged broker twice gives the same bytes */
    strbuf_addf(&header, "# exported by rmqtopo %s\n# ", RMQTOPO_VERSION);
    rmqt_broker_line(&header, rmqt_http_current_url(h), &info);
    strbuf_addc(&header, '\n');
    if (opt_flag(opts, "include-users")) {
        if (access_read_users(h, &live, &err) < 0) {
            status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
            goto out;
        }
        if (vhosts && vhosts->n)
            access_keep_users_of_vhosts(&live);
    }
    for (k = 0; k < live.n_vhosts; k++)
        vhost_sort(&live.vhosts[k]);
    {
        /* operator policies, shovels, upstreams: placeholders for URI passwords, and what the
         * format cannot hold, named (params.h) */
        struct strbuf warn = {0};
        const char *line, *end;
        params_export_prepare(&live, opt_flag(opts, "include-secrets"), &warn);
        if (params_export_globals(h, &warn, &err) < 0) {
            strbuf_release(&warn);
            status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
            goto out;
        }
        for (line = warn.buf; line && *line; line = end + 1) {
            end = strchr(line, '\n');
            cli_warnf("%.*s", (int)(end - line), line);
        }
        strbuf_release(&warn);
    }
    topology_export(&live, header.buf, &out);
    warn_skipped(&live);
    check_export(cli, &out);
    if (cli->output == OUTPUT_JSON) {
        json_t *doc = json_pack("{s:o, s:s%}", "broker", cli_broker_json(h, &info), "topology",
                                out.buf, out.len);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        fwrite(out.buf, 1, out.len, stdout);
    }
    status = EXIT_OK;
out:
    for (k = 0; k < n_names; k++)
        free(names[k]);
    free(names);
    strbuf_release(&out);
    strbuf_release(&header);
    topology_release(&want);
    topology_release(&live);
    rmqt_http_free(h);
    return status;
}

const struct command cmd_export = {
    "export",
    "[--vhost V]...",
    "write the live topology as a topology file (stdout)",
    "Reads vhosts of the live broker through the management API and writes them as a\n"
    "topology file on standard output: first-class fields where they exist, raw arguments\n"
    "otherwise, bindings under their queue, objects sorted by name. Built-in objects are left\n"
    "out, and so are rmqtopo's own queues (an unfinished migration's holding queue, apply's\n"
    "lock: a warning names each). Planning the output against the same broker shows no\n"
    "changes, unless the broker holds settings validate refuses (they are listed on stderr)\n"
    "or a migration is unfinished.\n"
    "\n"
    "Exit status: 0 written, 1 failure (broker unreachable, a vhost does not exist), 64 usage.",
    export_options,
    run_export,
    NULL,
    0,
    0,
    "takes no file (it writes to stdout)",
    NEEDS_HTTP,
};
