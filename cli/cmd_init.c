/*
 * cmd_init.c - `rmqtopo init --use-case U`: a commented starting topology on stdout
 * (provision/init.h). The text is loaded and validated (--strict) before it is printed, so
 * what init writes is always a valid file; a failure there is a bug, reported as such.
 */
#include "cli.h"

#include "init.h"
#include "load.h"
#include "model.h"
#include "strbuf.h"
#include "validate.h"

#include <jansson.h>
#include <string.h>

static const struct optspec init_options[] = {
    {"use-case", 0, "U", "work_queue, pub_sub, event_sourcing, cqrs or saga (required)"},
    {"name", 0, "NAME", "prefix of the object names (default per use case)"},
    {"vhost", 0, "V", "the vhost (default /)"},
    {"ordering", 0, "O", "none (default), partition or global"},
    {"delivery", 0, "D", "at_most_once, at_least_once (default) or exactly_once"},
    {"retention", 0, "R", "how long dead letters and event logs are kept (default 7d)"},
    {"producers", 0, "A,B", "producer names (comments)"},
    {"consumers", 0, "X,Y", "consumer names (one queue each, where the use case has that)"},
    {"throughput", 0, "N", "expected messages a second (10K, 500 msg/s)"},
    {NULL, 0, NULL, NULL},
};

static int run_init(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct init_options o;
    struct strbuf out = {0};
    struct topology t;
    struct diag_list dl;
    char err[512];
    int status = EXIT_OK;
    size_t k;

    (void)argc;
    (void)argv;
    memset(&o, 0, sizeof(o));
    o.use_case = opt_last(opts, "use-case");
    o.name = opt_last(opts, "name");
    o.vhost = opt_last(opts, "vhost");
    o.ordering = opt_last(opts, "ordering");
    o.delivery = opt_last(opts, "delivery");
    o.retention = opt_last(opts, "retention");
    o.producers = opt_last(opts, "producers");
    o.consumers = opt_last(opts, "consumers");
    o.throughput = opt_last(opts, "throughput");
    if (init_topology(&o, &out, err, sizeof(err)) != 0) {
        fprintf(stderr, "rmqtopo: %s\nTry 'rmqtopo init --help'.\n", err);
        strbuf_release(&out);
        return EXIT_USAGE;
    }
    topology_init(&t);
    diag_list_init(&dl);
    if (topology_load_buffer(&t, "<init>", out.buf, out.len, NULL, &dl) == 0)
        topology_validate(&t, NULL, &dl);
    diag_list_promote_warnings(&dl);
    if (dl.errors) {
        for (k = 0; k < dl.n; k++)
            print_diag_text(stderr, &dl.v[k], cli->color_err);
        status = cli_fail(cli, EXIT_FAIL,
                          "the generated topology is not valid (a bug: please "
                          "report it with the command line)");
    } else if (cli->output == OUTPUT_JSON) {
        json_t *doc =
            json_pack("{s:s, s:s%}", "use_case", o.use_case, "topology", out.buf, out.len);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        fwrite(out.buf, 1, out.len, stdout);
    }
    diag_list_release(&dl);
    topology_release(&t);
    strbuf_release(&out);
    return status;
}

const struct command cmd_init = {
    "init",
    "--use-case U",
    "a starting topology for a use case",
    "Writes a commented starting topology on stdout for one of the guidance's use cases:\n"
    "work_queue, pub_sub, event_sourcing, cqrs, saga. Quorum queues with a retry ladder and a\n"
    "capped dead-letter queue by default; streams with retention where events are kept for\n"
    "replay; single active consumer where order is asked for; a comment wherever the broker\n"
    "cannot give a requirement by itself (exactly-once, global ordering at high throughput).\n"
    "The output passes validate --strict and applies to RabbitMQ 3.10 and later.\n"
    "\n"
    "  rmqtopo init --use-case work_queue --name billing --vhost billing > billing.yaml\n"
    "  rmqtopo init --use-case event_sourcing --retention '30 days' --consumers search,reports\n"
    "\n"
    "Exit status: 0 written, 64 usage error (unknown use case or value).",
    init_options,
    run_init,
    NULL,
    0,
    0,
    "takes no arguments (options only)",
    0,
};
