/*
 * cmd_schema.c - `rmqtopo schema`: the JSON Schema of the topology file.
 *
 * The schema is schema/rmqtopo-topology.schema.json, embedded at build time
 * (cmake/embed.cmake): what the binary prints is byte for byte what the repository ships.
 */
#include "cli.h"

#include <stdio.h>

/* generated from schema/rmqtopo-topology.schema.json (cli/CMakeLists.txt) */
extern const unsigned char rmqt_schema_json[];
extern const size_t rmqt_schema_json_len;

static int run_schema(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    (void)cli; /* the schema is JSON already: text and -o json print the same document */
    (void)opts;
    (void)argc;
    (void)argv;
    if (fwrite(rmqt_schema_json, 1, rmqt_schema_json_len, stdout) != rmqt_schema_json_len)
        return EXIT_FAIL; /* main reports the write error */
    return EXIT_OK;
}

const struct command cmd_schema = {
    "schema",
    "",
    "the JSON Schema of the topology file",
    "Prints the JSON Schema (draft-07) of the topology file on stdout: every key the file\n"
    "takes, with its type, allowed values and a description. Editors with the YAML language\n"
    "server (VS Code's YAML extension, Neovim, Emacs, JetBrains) use it to complete and check\n"
    "keys as you type: save it and point a file at it with the modeline\n"
    "\n"
    "  # yaml-language-server: $schema=rmqtopo-topology.schema.json\n"
    "\n"
    "  rmqtopo schema > rmqtopo-topology.schema.json\n"
    "\n"
    "The schema checks keys, types and allowed values; validate checks those and everything\n"
    "else (references between objects, what each queue type takes, the broker's rules).\n"
    "\n"
    "Exit status: 0 printed, 1 write error, 64 usage error.",
    NULL,
    run_schema,
    NULL,
    0,
    0,
    "takes no arguments",
    0,
};
