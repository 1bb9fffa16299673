/*
 * main.c - rmqtopo's entry point: global options, the command table, dispatch.
 *
 * Global options may stand before or after the command (cli.md), so one pass reads argv with
 * the global table and, once the command is known, its own table too. Everything that is not
 * an option is a positional argument of the command; "--" ends the options.
 *
 * A password never comes from the command line: a URL holding one is a usage error that says
 * where to put it (the environment or --password-file), because argv is visible in ps.
 */
#include "cli.h"

#include "strbuf.h"
#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct command *const commands[] = {
    &cmd_validate,    &cmd_plan,       &cmd_apply,       &cmd_diff,        &cmd_export,  &cmd_graph,
    &cmd_dlq_inspect, &cmd_dlq_replay, &cmd_dlq_archive, &cmd_dlq_restore, &cmd_version, NULL,
};

static const struct optspec global_options[] = {
    {"output", 'o', "FORMAT", "output format: text (default) or json"},
    {"no-color", 0, NULL, "no colours (also when NO_COLOR is set)"},
    {"verbose", 'v', NULL, "say more about what is being done"},
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

static const struct optspec *find_opt(const struct optspec *specs, const char *name, size_t len,
                                      char short_name)
{
    size_t k;

    for (k = 0; specs && specs[k].name; k++) {
        if (short_name ? specs[k].short_name == short_name
                       : strlen(specs[k].name) == len && memcmp(specs[k].name, name, len) == 0)
            return &specs[k];
    }
    return NULL;
}

static void values_add(struct optvalues *v, const char *s)
{
    XGROW(v->v, v->cap, v->n + 1);
    v->v[v->n++] = s;
}

static void print_options(FILE *f, const struct optspec *specs)
{
    size_t k;

    for (k = 0; specs[k].name; k++) {
        char left[64];
        if (specs[k].short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", specs[k].short_name, specs[k].name,
                     specs[k].arg ? " " : "", specs[k].arg ? specs[k].arg : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", specs[k].name, specs[k].arg ? " " : "",
                     specs[k].arg ? specs[k].arg : "");
        fprintf(f, "  %-32s %s\n", left, specs[k].help);
    }
}

static void print_main_help(FILE *f)
{
    size_t k;

    fprintf(f,
            "usage: rmqtopo [OPTIONS] COMMAND [ARGS]\n\n"
            "Keeps RabbitMQ topologies (vhosts, exchanges, queues, bindings, policies) in YAML.\n\n"
            "Commands:\n");
    for (k = 0; commands[k]; k++) {
        char left[64];
        snprintf(left, sizeof(left), "%s %s", commands[k]->name, commands[k]->args);
        fprintf(f, "  %-32s %s\n", left, commands[k]->summary);
    }
    fprintf(f, "\nGlobal options (before or after the command):\n");
    print_options(f, global_options);
    fprintf(f, "\nExit status: 0 success, 1 failure (invalid topology, broker refused), 2 changes\n"
               "found (plan), 64 usage error. 'rmqtopo COMMAND --help' describes a command.\n");
}

#define DLQ_COMMANDS "inspect, replay, archive, restore"

/* The commands of a group ("dlq"), for `rmqtopo dlq --help`. */
static void print_group_help(FILE *f, const char *group)
{
    size_t k, n = strlen(group);

    fprintf(f, "usage: rmqtopo %s COMMAND [OPTIONS] ARGS\n\nCommands:\n", group);
    for (k = 0; commands[k]; k++) {
        char left[64];
        if (strncmp(commands[k]->name, group, n) != 0 || commands[k]->name[n] != ' ')
            continue;
        snprintf(left, sizeof(left), "%s %s", commands[k]->name, commands[k]->args);
        fprintf(f, "  %-32s %s\n", left, commands[k]->summary);
    }
    fprintf(f, "\n'rmqtopo %s COMMAND --help' describes a command.\n", group);
}

static void print_command_help(FILE *f, const struct command *cmd)
{
    fprintf(f, "usage: rmqtopo %s [OPTIONS]%s%s\n\n%s\n", cmd->name, cmd->args[0] ? " " : "",
            cmd->args, cmd->description);
    if (cmd->options && cmd->options[0].name) {
        fprintf(f, "\nOptions:\n");
        print_options(f, cmd->options);
    }
    fprintf(f, "\nGlobal options:\n");
    print_options(f, global_options);
}

static const struct command *find_command(const char *name)
{
    size_t k;

    for (k = 0; commands[k]; k++)
        if (strcmp(commands[k]->name, name) == 0)
            return commands[k];
    return NULL;
}

static int usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const struct command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "rmqtopo: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'rmqtopo %s%s--help'.\n", cmd ? cmd->name : "", cmd ? " " : "");
    return EXIT_USAGE;
}

/* The last value of a seconds option (decimals allowed) in ms; 0 when not given. */
static int parse_seconds(const struct command *cmd, const char *name, const struct optvalues *v,
                         long *ms)
{
    char *end;
    double d;

    *ms = 0;
    if (!v->n)
        return 0;
    d = strtod(v->v[v->n - 1], &end);
    if (end == v->v[v->n - 1] || *end || d <= 0 || d > 86400) {
        usage_error(cmd, "%s takes a positive number of seconds (e.g. 5 or 0.5), got '%s'", name,
                    v->v[v->n - 1]);
        return -1;
    }
    *ms = (long)(d * 1000 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

/* A URL of the form scheme://user:password@host carries a password. */
static bool url_has_password(const char *url)
{
    const char *p = strstr(url, "://"), *at, *colon;

    if (!p)
        return false;
    p += 3;
    at = strchr(p, '@');
    if (!at)
        return false;
    colon = memchr(p, ':', (size_t)(at - p));
    return colon && strcspn(p, "/") > (size_t)(at - p);
}

static void add_url_list(struct optvalues *v, const char *s)
{
    /* "a,b" names several nodes; the strings stay in argv or the environment */
    char *copy = xstrdup(s), *tok, *save = NULL;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        values_add(v, xstrdup(tok));
    free(copy);
}

static void free_url_list(struct optvalues *v)
{
    size_t k;
    for (k = 0; k < v->n; k++)
        free((char *)v->v[k]);
    free(v->v);
}

int main(int argc, char **argv)
{
    struct cli cli;
    const struct command *cmd = NULL;
    struct optvalues gvals[sizeof(global_options) / sizeof(global_options[0])];
    struct optvalues *cvals = NULL;
    struct parsed_opts parsed = {0};
    char **pos = xcalloc((size_t)argc + 1, sizeof(char *));
    int npos = 0, i, status = EXIT_USAGE;
    bool only_positional = false;
    size_t ncopts = 0, k;
    const char *s;

    memset(&cli, 0, sizeof(cli));
    memset(gvals, 0, sizeof(gvals));
    cli.argv0 = argv[0];

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const struct optspec *spec = NULL;
        struct optvalues *dst = NULL;
        const char *value = NULL;
        char shortbuf[3] = {0};

        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (!cmd && npos == 0) {
                cmd = find_command(arg);
                if (!cmd && strcmp(arg, "dlq") == 0) {
                    /* "dlq inspect" and friends: a two-word command */
                    char two[64];
                    if (i + 1 >= argc || argv[i + 1][0] == '-') {
                        if (i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 ||
                                             strcmp(argv[i + 1], "-h") == 0)) {
                            print_group_help(stdout, "dlq");
                            status = EXIT_OK;
                            goto flush;
                        }
                        status = usage_error(NULL, "'dlq' needs a command: %s", DLQ_COMMANDS);
                        goto out;
                    }
                    snprintf(two, sizeof(two), "dlq %s", argv[i + 1]);
                    cmd = find_command(two);
                    if (!cmd) {
                        status = usage_error(NULL, "unknown command 'dlq %s' (there are: %s)",
                                             argv[i + 1], DLQ_COMMANDS);
                        goto out;
                    }
                    i++;
                }
                if (!cmd) {
                    const char *names[16];
                    const char *guess;
                    for (k = 0; commands[k] && k < 15; k++)
                        names[k] = commands[k]->name;
                    names[k] = NULL;
                    guess = rmqt_did_you_mean(arg, names);
                    if (guess)
                        status = usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", arg,
                                             guess);
                    else
                        status = usage_error(NULL, "unknown command '%s'", arg);
                    goto out;
                }
                for (ncopts = 0; cmd->options && cmd->options[ncopts].name; ncopts++)
                    ;
                cvals = xcalloc(ncopts + 1, sizeof(*cvals));
                continue;
            }
            pos[npos++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            if (cmd && (spec = find_opt(cmd->options, name, len, 0)) != NULL)
                dst = &cvals[spec - cmd->options];
            else if ((spec = find_opt(global_options, name, len, 0)) != NULL)
                dst = &gvals[spec - global_options];
            if (eq)
                value = eq + 1;
        } else {
            shortbuf[0] = '-';
            shortbuf[1] = arg[1];
            if (cmd && (spec = find_opt(cmd->options, NULL, 0, arg[1])) != NULL)
                dst = &cvals[spec - cmd->options];
            else if ((spec = find_opt(global_options, NULL, 0, arg[1])) != NULL)
                dst = &gvals[spec - global_options];
            if (arg[2])
                value = arg + 2;
        }
        if (!spec) {
            char *name = xstrndup(arg, strcspn(arg, "="));
            status = usage_error(cmd, "unknown option '%s'%s", name,
                                 cmd ? "" : " (command options go after the command)");
            free(name);
            goto out;
        }
        if (spec->arg && !value) {
            if (i + 1 >= argc) {
                status = usage_error(cmd, "option '%s' needs a value (%s)",
                                     shortbuf[0] ? shortbuf : arg, spec->arg);
                goto out;
            }
            value = argv[++i];
        } else if (!spec->arg && value) {
            status = usage_error(cmd, "option '--%s' takes no value", spec->name);
            goto out;
        }
        values_add(dst, value ? value : "");
    }

#define GOPT(name) (&gvals[find_opt(global_options, name, strlen(name), 0) - global_options])
    if (GOPT("help")->n) {
        if (cmd)
            print_command_help(stdout, cmd);
        else
            print_main_help(stdout);
        status = EXIT_OK;
        goto flush;
    }
    if (GOPT("version")->n) {
        cmd = &cmd_version; /* --version wins, wherever it stands */
        npos = 0;
    }
    if (!cmd) {
        print_main_help(stderr);
        status = EXIT_USAGE;
        goto out;
    }
    if ((s = GOPT("output")->n ? GOPT("output")->v[GOPT("output")->n - 1] : NULL) != NULL) {
        if (strcmp(s, "json") == 0)
            cli.output = OUTPUT_JSON;
        else if (strcmp(s, "text") == 0)
            cli.output = OUTPUT_TEXT;
        else {
            status = usage_error(cmd, "invalid output format '%s': expected text or json", s);
            goto out;
        }
    }
    {
        bool no_color = GOPT("no-color")->n > 0 || (getenv("NO_COLOR") && *getenv("NO_COLOR"));
        cli.color_out = !no_color && isatty(STDOUT_FILENO);
        cli.color_err = !no_color && isatty(STDERR_FILENO);
    }
    cli.verbose = GOPT("verbose")->n > 0;
    for (k = 0; k < GOPT("amqp-url")->n; k++) {
        if (url_has_password(GOPT("amqp-url")->v[k])) {
            status =
                usage_error(cmd, "a password in --amqp-url would be visible to every user in the "
                                 "process list: put the URL in RMQTOPO_AMQP_URL, or the password "
                                 "in --password-file or RMQTOPO_PASSWORD");
            goto out;
        }
        add_url_list(&cli.amqp_urls, GOPT("amqp-url")->v[k]);
    }
    for (k = 0; k < GOPT("api-url")->n; k++) {
        if (url_has_password(GOPT("api-url")->v[k])) {
            status =
                usage_error(cmd, "a password in --api-url would be visible to every user in the "
                                 "process list: put the URL in RMQTOPO_API_URL, or the password "
                                 "in --password-file or RMQTOPO_PASSWORD");
            goto out;
        }
        add_url_list(&cli.api_urls, GOPT("api-url")->v[k]);
    }
    cli.user = GOPT("user")->n ? GOPT("user")->v[GOPT("user")->n - 1] : NULL;
    cli.password_file =
        GOPT("password-file")->n ? GOPT("password-file")->v[GOPT("password-file")->n - 1] : NULL;
    cli.cacert = GOPT("cacert")->n ? GOPT("cacert")->v[GOPT("cacert")->n - 1] : NULL;
    cli.cert = GOPT("cert")->n ? GOPT("cert")->v[GOPT("cert")->n - 1] : NULL;
    cli.key = GOPT("key")->n ? GOPT("key")->v[GOPT("key")->n - 1] : NULL;
    cli.insecure = GOPT("insecure")->n > 0;
    if (parse_seconds(cmd, "--connect-timeout", GOPT("connect-timeout"), &cli.connect_timeout_ms) <
            0 ||
        parse_seconds(cmd, "--timeout", GOPT("timeout"), &cli.timeout_ms) < 0) {
        status = EXIT_USAGE;
        goto out;
    }
#undef GOPT

    parsed.specs = cmd->options;
    parsed.values = cvals;
    status = cmd->run(&cli, &parsed, npos, pos);
flush:
    /* a full disk or a closed pipe must not look like success */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            fprintf(stderr, "rmqtopo: cannot write output: %s\n", strerror(errno));
        if (status == EXIT_OK || status == EXIT_CHANGES)
            status = EXIT_FAIL;
    }
out:
    for (k = 0; k < sizeof(gvals) / sizeof(gvals[0]); k++)
        free(gvals[k].v);
    for (k = 0; k < ncopts; k++)
        free(cvals[k].v);
    free(cvals);
    free_url_list(&cli.amqp_urls);
    free_url_list(&cli.api_urls);
    free(pos);
    return status;
}
