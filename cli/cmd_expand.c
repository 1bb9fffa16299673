/*
 * cmd_expand.c - `rmqtopo expand FILE`: the file with its `retry` ladders expanded into plain
 * objects (issue 18), as `kubectl kustomize` prints a build.
 *
 * The file is loaded (which expands the ladders, see provision/retry.h) and validated; an
 * invalid file is reported as validate reports it and nothing is printed. The output is a
 * plain topology file: valid input for every command, planning exactly as FILE does. Each
 * generated object is preceded by a comment naming the `retry` key that made it.
 */
#include "cli.h"

#include "export.h"
#include "load.h"
#include "model.h"
#include "params.h"
#include "strbuf.h"
#include "validate.h"

#include <jansson.h>
#include <string.h>

static int run_expand(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct topology t;
    struct diag_list dl;
    struct strbuf out = {0}, header = {0};
    int status;
    size_t k;

    (void)opts;
    (void)argc;
    topology_init(&t);
    diag_list_init(&dl);
    if (topology_load_file(&t, argv[0], NULL, &dl) == 0)
        topology_validate(&t, NULL, &dl);
    diag_list_sort(&dl);
    if (dl.errors == 0) {
        strbuf_adds(&header, "# ");
        strbuf_adds(&header, t.file ? t.file : argv[0]);
        strbuf_adds(&header, " expanded by rmqtopo expand: retry ladders as plain objects\n");
        {
            /* URI passwords (from the environment) are never printed: placeholders */
            struct strbuf warn = {0};
            const char *line, *end;
            params_export_prepare(&t, false, &warn);
            for (line = warn.buf; line && *line; line = end + 1) {
                end = strchr(line, '\n');
                cli_warnf("%.*s", (int)(end - line), line);
            }
            strbuf_release(&warn);
        }
        topology_export(&t, strbuf_str(&header), &out);
    }
    if (cli->output == OUTPUT_JSON) {
        json_t *doc = json_object(), *jdiags = json_array();
        for (k = 0; k < dl.n; k++)
            json_array_append_new(jdiags, cli_diag_json(&dl.v[k]));
        json_object_set_new(doc, "file", json_string(t.file ? t.file : argv[0]));
        json_object_set_new(doc, "topology",
                            dl.errors ? json_null()
                                      : json_stringn(out.buf ? out.buf : "", out.len));
        json_object_set_new(doc, "diagnostics", jdiags);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        cli_print_diags(cli, &dl, t.file ? t.file : argv[0]);
        if (dl.errors == 0)
            fwrite(out.buf ? out.buf : "", 1, out.len, stdout);
    }
    if (dl.errors) {
        if (cli->output != OUTPUT_JSON)
            cli_fail(cli, EXIT_FAIL, "%s: invalid topology (%zu %s): nothing expanded",
                     t.file ? t.file : argv[0], dl.errors, dl.errors == 1 ? "error" : "errors");
        status = EXIT_FAIL;
    } else {
        status = EXIT_OK;
    }
    strbuf_release(&out);
    strbuf_release(&header);
    diag_list_release(&dl);
    topology_release(&t);
    return status;
}

const struct command cmd_expand = {
    "expand",
    "FILE",
    "the file with its retry ladders expanded into plain objects",
    "Prints FILE with every `retry:` ladder expanded into the plain objects it stands for (the\n"
    "retry exchange, one wait queue a delay, the dead-letter exchange and queue, the work\n"
    "queues' dead-letter settings), each generated object after a comment naming the key that\n"
    "made it. The output is a plain topology file: every command takes it, and it plans as FILE\n"
    "does. The file is validated first: an invalid file is reported and nothing is printed.\n"
    "FILE may be - for standard input. -o json prints {\"file\", \"topology\", \"diagnostics\"}.\n"
    "\n"
    "  rmqtopo expand topologies/orders.yaml > orders.expanded.yaml\n"
    "\n"
    "Exit status: 0 expanded (warnings allowed), 1 the file is invalid or unreadable, 64 usage\n"
    "error.",
    NULL,
    run_expand,
    NULL,
    1,
    1,
    "needs exactly one topology file",
    0,
};
