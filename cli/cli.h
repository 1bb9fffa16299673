/*
 * cli.h - what the commands share: parsed options, output settings, exit codes.
 *
 * cli/ is the only layer that prints to the user or exits. Each command is one
 * cmd_<name>.c with a run function and its option table; main.c parses, dispatches and
 * checks that stdout was written.
 */
#ifndef RMQT_CLI_H
#define RMQT_CLI_H

#include <signal.h>
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

enum output_format {
    OUTPUT_TEXT,
    OUTPUT_JSON,
    OUTPUT_PROMETHEUS, /* dlq status only */
    OUTPUT_MARKDOWN,   /* plan (and apply --dry-run) only */
};

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
    bool quiet; /* --quiet: no warnings (errors and results stay) */
    /* connection options, kept for the commands that talk to a broker */
    struct optvalues amqp_urls, api_urls;
    const char *user, *password_file, *cacert, *cert, *key;
    bool insecure;
    long connect_timeout_ms, timeout_ms; /* 0: the client's defaults */
};

/* What a command talks to (struct command's needs). */
#define NEEDS_HTTP 1u /* the management API */
#define NEEDS_AMQP 2u /* AMQP */

/* A command of the table (main.c). The fields after run may be left out (zero): a command
 * without args_error checks its positional arguments itself. */
struct command {
    const char *name;    /* "validate"; a grouped command's full name: "dlq inspect" */
    const char *args;    /* "FILE..." for the synopsis */
    const char *summary; /* one line for rmqtopo --help */
    const char *description;
    const struct optspec *options; /* command options, NULL-name terminated */
    /* Runs with the command's options and positional arguments; returns the exit status.
     * The count of positional arguments is already checked (see args_error). */
    int (*run)(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv);
    const char *group;      /* "dlq" for "dlq inspect": the first word; NULL: none */
    int min_args, max_args; /* positional arguments; max_args -1: no limit */
    /* the usage error for another count, after the command's name ("takes one queue");
     * NULL: the command checks the count itself */
    const char *args_error;
    unsigned needs; /* NEEDS_HTTP | NEEDS_AMQP: what it talks to; 0: no broker */
};

/* The command table, NULL-terminated, and the global options (main.c). */
extern const struct command *const cli_commands[];
/* The command of this name ("dlq replay" for a group's), or NULL. */
const struct command *cli_find_command(const char *name);
extern const struct optspec cli_global_options[];

/* What the command line holds (options.c). */
struct cli_args {
    const struct command *cmd;
    struct parsed_opts parsed; /* the command's options */
    size_t ncopts;
    struct optvalues *gvals; /* one per global option */
    char **pos;              /* positional arguments */
    int npos;
    bool flush; /* something was printed on stdout: check that it was written */
};

/* Reads argv with the global options and, once the command is known, its own, and fills cli
 * (output, colour, connection settings: URL lists split once, here) and a. Returns -1 when
 * a->cmd is to run, else the exit status to end with (help shown, usage error printed).
 * Release a with cli_args_release either way. */
int cli_parse_args(struct cli *cli, int argc, char **argv, struct cli_args *a);
void cli_args_release(struct cli *cli, struct cli_args *a);

extern const struct command cmd_validate;
extern const struct command cmd_plan;
extern const struct command cmd_diff;
extern const struct command cmd_export;
extern const struct command cmd_graph;
extern const struct command cmd_expand;
extern const struct command cmd_init;
extern const struct command cmd_version;
extern const struct command cmd_publish;
extern const struct command cmd_apply;
extern const struct command cmd_dlq_inspect;
extern const struct command cmd_dlq_replay;
extern const struct command cmd_dlq_archive;
extern const struct command cmd_dlq_restore;
extern const struct command cmd_dlq_status;
extern const struct command cmd_dlq_check;
extern const struct command cmd_dlq_serve;
extern const struct command cmd_alerts;
extern const struct command cmd_schema;

/* `rmqtopo __complete WORD...` for the shell completion scripts (complete.c): the words after
 * the program name, the last one being completed. Prints candidates; returns 0. */
int cli_complete(int argc, char **argv);

/* Values of a command option (by long name); NULL when the name is not in the table. */
const struct optvalues *opt_get(const struct parsed_opts *opts, const char *name);
bool opt_flag(const struct parsed_opts *opts, const char *name);
/* The last value given, or NULL. */
const char *opt_last(const struct parsed_opts *opts, const char *name);

/* Prints "rmqtopo: message" to stderr (and returns status), for failures of a command. */
int cli_fail(struct cli *cli, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "rmqtopo: warning: message" to stderr, the message made safe for a terminal. Any
 * length: nothing is cut. */
void cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, as a callback for the library layers' warnings (ctx unused). */
void cli_warn_cb(void *ctx, const char *msg);
/* --quiet (set while the options are read): cli_warnf, cli_warn_cb and the warnings among
 * diagnostics print nothing. Errors and results are never dropped. */
extern bool cli_quiet;

/* The broker a command reads or changes (issue 17, "Which broker?"): the line
 * "broker: URL (RabbitMQ V, cluster C)" on f, with the URL that answered last on h (no
 * credentials); info NULL when the version could not be read. The line's wording is
 * common/present.c's rmqt_broker_line. */
struct rmqt_broker_info;
void cli_print_broker(FILE *f, struct rmqt_http *h, const struct rmqt_broker_info *info);
/* The same as the JSON documents' "broker" field: {"url", "version", "cluster"} (new). */
struct json_t *cli_broker_json(struct rmqt_http *h, const struct rmqt_broker_info *info);

/* Set by SIGINT and SIGTERM once cli_install_signals ran (signals.c): a long run stops
 * cleanly between messages or changes. */
extern volatile sig_atomic_t cli_stop_requested;
/* Installs the handlers of SIGINT and SIGTERM (they set cli_stop_requested) and ignores
 * SIGPIPE. */
void cli_install_signals(void);

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
/* Every diagnostic of dl on stderr as text, then how many more were not kept (file names the
 * input). */
void cli_print_diags(struct cli *cli, const struct diag_list *dl, const char *file);
/* One diagnostic as JSON (new): {file, line, column, severity, path, message}. */
struct json_t *cli_diag_json(const struct diag *d);

#endif
