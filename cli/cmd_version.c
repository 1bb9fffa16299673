/*
 * cmd_version.c - `rmqtopo version` (also --version).
 */
#include "cli.h"

#include <jansson.h>
#include <yaml.h>

static int run_version(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    (void)opts;
    (void)argv;
    (void)argc;
    if (cli->output == OUTPUT_JSON) {
        json_t *doc = json_pack("{s:s, s:s, s:s}", "version", RMQTOPO_VERSION, "libyaml",
                                yaml_get_version_string(), "jansson", JANSSON_VERSION);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        printf("rmqtopo %s (libyaml %s, jansson %s)\n", RMQTOPO_VERSION, yaml_get_version_string(),
               JANSSON_VERSION);
    }
    return EXIT_OK;
}

const struct command cmd_version = {
    "version",
    "",
    "print the version (also --version)",
    "Prints rmqtopo's version.",
    NULL,
    run_version,
    NULL,
    0,
    0,
    "takes no arguments",
    0,
};
