/*
 * cmd_graph.c - `rmqtopo graph FILE [--format dot|mermaid]`: a topology file drawn as a graph.
 *
 * The file is loaded and validated first: a drawing of an invalid topology would show routes
 * the broker will never have, so errors are printed as validate prints them (stderr) and
 * nothing is drawn. Warnings are printed too but do not stop the drawing. The graph itself is
 * the only thing on stdout, so `rmqtopo graph f.yaml | dot -Tsvg` works; -o json wraps it in
 * one document with the diagnostics.
 */
#include "cli.h"

#include "graph.h"
#include "load.h"
#include "model.h"
#include "strbuf.h"
#include "validate.h"

#include <jansson.h>
#include <string.h>

static const struct optspec graph_options[] = {
    {"format", 0, "FORMAT", "dot (Graphviz, default) or mermaid"},
    {NULL, 0, NULL, NULL},
};

static int run_graph(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    const char *fmt_name = opt_last(opts, "format");
    enum graph_format fmt = GRAPH_DOT;
    struct topology t;
    struct diag_list dl;
    struct strbuf out = {0};
    struct rmqt_error err;
    int status = EXIT_FAIL;
    size_t k;

    if (fmt_name && !graph_format_parse(fmt_name, &fmt)) {
        fprintf(stderr,
                "rmqtopo: invalid graph format '%s': expected dot or mermaid\n"
                "Try 'rmqtopo graph --help'.\n",
                fmt_name);
        return EXIT_USAGE;
    }
    (void)argc;

    topology_init(&t);
    diag_list_init(&dl);
    rmqt_error_init(&err);
    if (topology_load_file(&t, argv[0], NULL, &dl) == 0)
        topology_validate(&t, NULL, &dl);
    diag_list_sort(&dl);
    if (dl.errors == 0 && topology_graph(&t, fmt, &out, &err) != 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }

    if (cli->output == OUTPUT_JSON) {
        json_t *doc = json_object(), *jdiags = json_array();
        for (k = 0; k < dl.n; k++)
            json_array_append_new(jdiags, cli_diag_json(&dl.v[k]));
        json_object_set_new(doc, "format", json_string(graph_format_name(fmt)));
        json_object_set_new(
            doc, "graph", dl.errors ? json_null() : json_stringn(out.buf ? out.buf : "", out.len));
        json_object_set_new(doc, "diagnostics", jdiags);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        cli_print_diags(cli, &dl, t.file ? t.file : argv[0]);
        if (dl.errors == 0)
            fwrite(out.buf, 1, out.len, stdout);
    }
    if (dl.errors) {
        if (cli->output != OUTPUT_JSON)
            cli_fail(cli, EXIT_FAIL, "%s: invalid topology (%zu %s): nothing drawn",
                     t.file ? t.file : argv[0], dl.errors, dl.errors == 1 ? "error" : "errors");
        status = EXIT_FAIL;
    } else {
        status = EXIT_OK;
    }
out:
    strbuf_release(&out);
    diag_list_release(&dl);
    topology_release(&t);
    return status;
}

const struct command cmd_graph = {
    "graph",
    "FILE",
    "draw the topology (Graphviz DOT or Mermaid)",
    "Draws a topology file as a graph, on stdout: exchanges and queues are nodes (one cluster a\n"
    "vhost), bindings are edges labelled with their routing keys (headers bindings with their\n"
    "arguments), dead-letter routes are dashed edges from a queue to its dead-letter exchange\n"
    "(from its arguments or from a policy of the file), alternate exchanges are dotted edges.\n"
    "Built-in exchanges the file uses (amq.*, the default exchange) are drawn in grey.\n"
    "The file is validated first: an invalid file is reported as by validate and not drawn.\n"
    "FILE may be - for standard input. -o json prints {\"format\", \"graph\", \"diagnostics\"}.\n"
    "\n"
    "  rmqtopo graph topologies/orders.yaml | dot -Tsvg > orders.svg\n"
    "  rmqtopo graph --format mermaid topologies/orders.yaml\n"
    "\n"
    "Exit status: 0 drawn (warnings allowed), 1 the file is invalid or unreadable, 64 usage\n"
    "error.",
    graph_options,
    run_graph,
    NULL,
    1,
    1,
    "needs exactly one topology file",
    0,
};
