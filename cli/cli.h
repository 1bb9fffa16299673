/*
 * cli.h - what the commands share: parsed options, output settings, exit codes.
 *
 * cli/ is the only layer that prints to the user or exits. Each command is one
 * cmd_<name>.c with a run function and its option table; main.c parses, dispatches and
 * checks that stdout was written.
 */
#ifndef RMQT_CLI_H
#define RMQT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "error.h"
#include "http.h"

/* Exit statuses (cli.md) */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_CHANGES 2
#define EXIT_USAGE 64

enum output_format { OUTPUT_TEXT, OUTPUT_JSON };

struct optspec {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    const char *arg;  /* NULL for a flag, else the argument's name for help ("FILE") */
    const char *help;
};

/* Every value an option was given, in order (options may repeat). */
struct optvalues {
    const char **v;
    size_t n, cap;
};

struct parsed_opts {
    const struct optspec *specs; /* the command's table, NULL-name terminated */
    struct optvalues *values;    /* one per spec */
};

struct cli {
    const char *argv0;
    enum output_format output;
    bool color_out; /* colour on stdout */
    bool color_err; /* colour on stderr */
    bool verbose;
    /* connection options, kept for the commands that talk to a broker */
    struct optvalues amqp_urls, api_urls;
    const char *user, *password_file, *cacert, *cert, *key;
    bool insecure;
    long connect_timeout_ms, timeout_ms; /* 0: the client's defaults */
};

struct command {
    const char *name;
    const char *args;    /* "FILE..." for the synopsis */
    const char *summary; /* one line for rmqtopo --help */
    const char *description;
    const struct optspec *options; /* command options, NULL-name terminated */
    /* Runs with the command's options and positional arguments; returns the exit status. */
    int (*run)(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv);
};

extern const struct command cmd_validate;
extern const struct command cmd_plan;
extern const struct command cmd_diff;
extern const struct command cmd_export;
extern const struct command cmd_graph;
extern const struct command cmd_version;
extern const struct command cmd_apply;
extern const struct command cmd_dlq_inspect;
extern const struct command cmd_dlq_replay;
extern const struct command cmd_dlq_archive;
extern const struct command cmd_dlq_restore;

/* Values of a command option (by long name); NULL when the name is not in the table. */
const struct optvalues *opt_get(const struct parsed_opts *opts, const char *name);
bool opt_flag(const struct parsed_opts *opts, const char *name);
/* The last value given, or NULL. */
const char *opt_last(const struct parsed_opts *opts, const char *name);

/* Prints "rmqtopo: message" to stderr (and returns status), for failures of a command. */
int cli_fail(struct cli *cli, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The management API client for the connection options and environment (connect.c).
 * NULL with err set when the settings are unusable (e.g. an unreadable password file). */
struct rmqt_http *cli_http_client(struct cli *cli, struct rmqt_error *err);

/* The AMQP connection settings of cli.md (URLs, user, password, TLS) for rmqt_session_open;
 * cfg points into the struct. -1 with err set when the password file cannot be read. */
#include "session.h"
struct cli_amqp {
    struct rmqt_session_config cfg;
    struct optvalues urls;
    char *password;
};
int cli_amqp_setup(struct cli *cli, struct cli_amqp *a, struct rmqt_error *err);
/* Wipes the password and frees. */
void cli_amqp_release(struct cli_amqp *a);

/* The plan pipeline (provision/plan.h) with the client of the connection options. */
#include "plan.h"

/* Runs plan_session_run with the management API client of the connection options (cmd_plan.c).
 * Prints nothing: returns EXIT_OK with s filled, or the exit status to end with (EXIT_USAGE
 * for unusable connection settings), s holding the diagnostics and the reason. Release s with
 * plan_session_release either way. */
int cli_run_plan(struct cli *cli, const char *file, bool prune, struct plan_session *s);
/* Shows the session's diagnostics and failure: as text on stderr (doc NULL), or added to
 * doc as "diagnostics" and "error". */
struct json_t;
void plan_session_report(struct cli *cli, struct plan_session *s, struct json_t *doc);

/* Prints one diagnostic as text to f: "file:line:col: path: message" (warnings say
 * "warning:"), coloured when color. */
void print_diag_text(FILE *f, const struct diag *d, bool color);

#endif
