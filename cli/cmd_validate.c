/*
 * cmd_validate.c - `rmqtopo validate FILE...`: topology files checked offline.
 *
 * Each file is loaded and validated on its own; every problem of every file is reported in
 * one run. Text goes to people (diagnostics on stderr, one verdict line per file on stdout);
 * -o json prints one document on stdout holding every diagnostic.
 */
#include "cli.h"

#include "load.h"
#include "model.h"
#include "validate.h"

#include <jansson.h>
#include <string.h>

static const struct optspec validate_options[] = {
    {"strict", 0, NULL, "treat warnings as errors"},
    {NULL, 0, NULL, NULL},
};

struct counts {
    size_t vhosts, exchanges, queues, bindings, policies;
};

static void count_objects(const struct topology *t, struct counts *c)
{
    size_t k;

    memset(c, 0, sizeof(*c));
    c->vhosts = t->n_vhosts;
    for (k = 0; k < t->n_vhosts; k++) {
        c->exchanges += t->vhosts[k].n_exchanges;
        c->queues += t->vhosts[k].n_queues;
        c->bindings += t->vhosts[k].n_bindings;
        c->policies += t->vhosts[k].n_policies;
    }
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int run_validate(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    bool strict = opt_flag(opts, "strict");
    bool all_valid = true;
    json_t *doc = NULL, *jfiles = NULL, *jdiags = NULL;
    int i;

    {
        int stdin_uses = 0;
        for (i = 0; i < argc; i++)
            stdin_uses += strcmp(argv[i], "-") == 0;
        if (stdin_uses > 1) {
            fprintf(stderr, "rmqtopo: standard input ('-') can be read only once\n"
                            "Try 'rmqtopo validate --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (cli->output == OUTPUT_JSON) {
        doc = json_object();
        jfiles = json_array();
        jdiags = json_array();
    }
    for (i = 0; i < argc; i++) {
        struct topology t;
        struct diag_list dl;
        struct counts c;
        size_t k;
        bool valid;

        topology_init(&t);
        diag_list_init(&dl);
        if (topology_load_file(&t, argv[i], NULL, &dl) == 0)
            topology_validate(&t, NULL, &dl);
        if (strict)
            diag_list_promote_warnings(&dl);
        diag_list_sort(&dl);
        valid = dl.errors == 0;
        all_valid = all_valid && valid;
        count_objects(&t, &c);

        if (cli->output == OUTPUT_JSON) {
            for (k = 0; k < dl.n; k++)
                json_array_append_new(jdiags, cli_diag_json(&dl.v[k]));
            json_array_append_new(
                jfiles,
                json_pack("{s:s, s:b, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}}", "file", t.file,
                          "valid", valid, "errors", (json_int_t)dl.errors, "warnings",
                          (json_int_t)dl.warnings, "objects", "vhosts", (json_int_t)c.vhosts,
                          "exchanges", (json_int_t)c.exchanges, "queues", (json_int_t)c.queues,
                          "bindings", (json_int_t)c.bindings, "policies", (json_int_t)c.policies));
        } else {
            cli_print_diags(cli, &dl, t.file);
            if (valid) {
                printf("%s: valid (%zu %s, %zu %s, %zu %s, %zu %s, %zu %s", t.file, c.vhosts,
                       plural(c.vhosts, "vhost", "vhosts"), c.exchanges,
                       plural(c.exchanges, "exchange", "exchanges"), c.queues,
                       plural(c.queues, "queue", "queues"), c.bindings,
                       plural(c.bindings, "binding", "bindings"), c.policies,
                       plural(c.policies, "policy", "policies"));
                if (dl.warnings)
                    printf("; %zu %s", dl.warnings, plural(dl.warnings, "warning", "warnings"));
                printf(")\n");
            } else {
                printf("%s: invalid (%zu %s", t.file, dl.errors,
                       plural(dl.errors, "error", "errors"));
                if (dl.warnings)
                    printf(", %zu %s", dl.warnings, plural(dl.warnings, "warning", "warnings"));
                printf(")\n");
            }
            fflush(stdout); /* after this file's diagnostics, before the next file's */
        }
        diag_list_release(&dl);
        topology_release(&t);
    }
    if (doc) {
        json_object_set_new(doc, "valid", json_boolean(all_valid));
        json_object_set_new(doc, "files", jfiles);
        json_object_set_new(doc, "diagnostics", jdiags);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    }
    return all_valid ? EXIT_OK : EXIT_FAIL;
}

const struct command cmd_validate = {
    "validate",
    "FILE...",
    "check topology files; no broker needed",
    "Checks topology files (format: topology.md) without a broker: YAML syntax, keys, types\n"
    "and units, references between objects, the broker's rules for each queue type, and\n"
    "warnings for setups that lose or pile up messages. Every problem of every file is\n"
    "reported with file:line:column and the key path. FILE may be - for standard input.\n"
    "\n"
    "Exit status: 0 all files valid (warnings allowed unless --strict), 1 a file is invalid\n"
    "or unreadable, 64 usage error.",
    validate_options,
    run_validate,
    NULL,
    1,
    -1,
    "needs at least one topology file",
    0,
};
