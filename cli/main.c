/*
 * main.c - rmqtopo's entry point: the command table, the global options, dispatch.
 *
 * options.c reads the command line; the command runs; main checks that stdout was written.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* one a line, whatever their count (clang-format would pack a long list into columns) */
/* clang-format off */
const struct command *const cli_commands[] = {
    &cmd_validate,
    &cmd_plan,
    &cmd_apply,
    &cmd_diff,
    &cmd_export,
    &cmd_graph,
    &cmd_expand,
    &cmd_init,
    &cmd_dlq_inspect,
    &cmd_dlq_replay,
    &cmd_dlq_archive,
    &cmd_dlq_restore,
    &cmd_dlq_status,
    &cmd_dlq_check,
    &cmd_dlq_serve,
    &cmd_alerts,
    &cmd_schema,
    &cmd_publish,
    &cmd_version,
    NULL,
};
/* clang-format on */

const struct optspec cli_global_options[] = {
    {"output", 'o', "FORMAT",
     "output format: text (default) or json (plan: markdown; dlq status: prometheus)"},
    {"no-color", 0, NULL, "no colours (also when NO_COLOR is set)"},
    {"verbose", 'v', NULL, "say more about what is being done"},
    {"quiet", 'q', NULL, "no warnings (errors and results are still shown)"},
    {"help", 'h', NULL, "show help"},
    {"version", 0, NULL, "print the version"},
    {"amqp-url", 0, "URL", "AMQP endpoint(s) (env RMQTOPO_AMQP_URL)"},
    {"api-url", 0, "URL", "management API endpoint(s) (env RMQTOPO_API_URL)"},
    {"user", 0, "NAME", "user name (env RMQTOPO_USER)"},
    {"password-file", 0, "FILE", "a file holding the password (or env RMQTOPO_PASSWORD)"},
    {"cacert", 0, "FILE", "CA certificate(s) to verify the broker with"},
    {"cert", 0, "FILE", "client certificate (mutual TLS)"},
    {"key", 0, "FILE", "client key (mutual TLS)"},
    {"insecure", 0, NULL, "do not verify the broker's certificate"},
    {"connect-timeout", 0, "SECONDS", "give up connecting after this long (default 5)"},
    {"timeout", 0, "SECONDS",
     "give up on a request after this long, retries included (default 60)"},
    {NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    struct cli cli;
    struct cli_args a;
    int status;

    /* the shells' completion scripts ask the binary (complete.c): never a user's command */
    if (argc >= 2 && strcmp(argv[1], "__complete") == 0)
        return cli_complete(argc - 2, argv + 2);
    memset(&cli, 0, sizeof(cli));
    cli.argv0 = argv[0];
    status = cli_parse_args(&cli, argc, argv, &a);
    if (status < 0)
        status = a.cmd->run(&cli, &a.parsed, a.npos, a.pos);
    else if (status == EXIT_USAGE && a.cmd == &cmd_dlq_check) {
        /* a Monitoring Plugins check: a usage error is UNKNOWN, with one line on stdout */
        printf("DLQ UNKNOWN - usage error (see standard error)\n");
        a.flush = true;
        status = 3;
    }
    /* a full disk or a closed pipe must not look like success */
    if (a.flush && (fflush(stdout) != 0 || ferror(stdout))) {
        if (errno != EPIPE)
            fprintf(stderr, "rmqtopo: cannot write output: %s\n", strerror(errno));
        if (status == EXIT_OK || status == EXIT_CHANGES)
            status = EXIT_FAIL;
    }
    cli_args_release(&cli, &a);
    return status;
}
