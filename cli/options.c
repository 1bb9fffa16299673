/*
 * options.c - the command line: argv into the command, its options and positional arguments,
 * the global settings; the help texts; option lookup for the commands.
 *
 * Global options may stand before or after the command (cli.md), so one pass reads argv with
 * the global table and, once the command is known, its own table too. Everything that is not
 * an option is a positional argument of the command; "--" ends the options. A grouped command
 * ("dlq inspect") is two words; its group alone with --help lists the group's commands.
 *
 * A password never comes from the command line: a URL holding one is a usage error that says
 * where to put it (the environment or --password-file), because argv is visible in ps.
 */
#include "cli.h"

#include "strbuf.h"
#include "textutil.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    for (k = 0; cli_commands[k]; k++) {
        char left[64];
        snprintf(left, sizeof(left), "%s %s", cli_commands[k]->name, cli_commands[k]->args);
        fprintf(f, "  %-32s %s\n", left, cli_commands[k]->summary);
    }
    fprintf(f, "\nGlobal options (before or after the command):\n");
    print_options(f, cli_global_options);
    fprintf(f, "\nExit status: 0 success, 1 failure (invalid topology, broker refused), 2 changes\n"
               "found (plan), 64 usage error. 'rmqtopo COMMAND --help' describes a command.\n");
}

/* The commands of a group ("dlq"), for `rmqtopo dlq --help`. */
static void print_group_help(FILE *f, const char *group)
{
    size_t k;

    fprintf(f, "usage: rmqtopo %s COMMAND [OPTIONS] ARGS\n\nCommands:\n", group);
    for (k = 0; cli_commands[k]; k++) {
        char left[64];
        if (!cli_commands[k]->group || strcmp(cli_commands[k]->group, group) != 0)
            continue;
        snprintf(left, sizeof(left), "%s %s", cli_commands[k]->name, cli_commands[k]->args);
        fprintf(f, "  %-32s %s\n", left, cli_commands[k]->summary);
    }
    fprintf(f, "\n'rmqtopo %s COMMAND --help' describes a command.\n", group);
}

/* The second words of group's commands: "inspect, replay, archive, restore" (new). */
static char *group_words(const char *group)
{
    struct strbuf sb = {0};
    size_t k, n = strlen(group);

    for (k = 0; cli_commands[k]; k++) {
        if (!cli_commands[k]->group || strcmp(cli_commands[k]->group, group) != 0)
            continue;
        strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", cli_commands[k]->name + n + 1);
    }
    return strbuf_detach(&sb, NULL);
}

static bool is_group(const char *word)
{
    size_t k;

    for (k = 0; cli_commands[k]; k++)
        if (cli_commands[k]->group && strcmp(cli_commands[k]->group, word) == 0)
            return true;
    return false;
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
    print_options(f, cli_global_options);
}

const struct command *cli_find_command(const char *name)
{
    size_t k;

    for (k = 0; cli_commands[k]; k++)
        if (strcmp(cli_commands[k]->name, name) == 0)
            return cli_commands[k];
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

/* The command named by argv[*i] (and argv[*i + 1] for a group): sets a->cmd and moves *i
 * past it. Returns -1 to go on, or the exit status to end with. */
static int read_command(int argc, char **argv, int *i, struct cli_args *a)
{
    const char *arg = argv[*i];
    size_t k;

    a->cmd = cli_find_command(arg);
    if (!a->cmd && is_group(arg)) {
        /* "dlq inspect" and friends: a two-word command */
        char two[64], *words = group_words(arg);
        int status = -1;
        if (*i + 1 >= argc || argv[*i + 1][0] == '-') {
            if (*i + 1 < argc &&
                (strcmp(argv[*i + 1], "--help") == 0 || strcmp(argv[*i + 1], "-h") == 0)) {
                print_group_help(stdout, arg);
                a->flush = true;
                status = EXIT_OK;
            } else {
                status = usage_error(NULL, "'%s' needs a command: %s", arg, words);
            }
        } else {
            snprintf(two, sizeof(two), "%s %s", arg, argv[*i + 1]);
            a->cmd = cli_find_command(two);
            if (!a->cmd)
                status = usage_error(NULL, "unknown command '%s %s' (there are: %s)", arg,
                                     argv[*i + 1], words);
            (*i)++;
        }
        free(words);
        if (status >= 0)
            return status;
    }
    if (!a->cmd) {
        const char *names[64]; /* every command: a short table missed the last ones */
        const char *guess;
        for (k = 0; cli_commands[k] && k < 63; k++)
            names[k] = cli_commands[k]->name;
        names[k] = NULL;
        guess = rmqt_did_you_mean(arg, names);
        if (guess)
            return usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", arg, guess);
        return usage_error(NULL, "unknown command '%s'", arg);
    }
    for (a->ncopts = 0; a->cmd->options && a->cmd->options[a->ncopts].name; a->ncopts++)
        ;
    a->parsed.specs = a->cmd->options;
    a->parsed.values = xcalloc(a->ncopts + 1, sizeof(*a->parsed.values));
    return -1;
}

/* One option at argv[*i] (its value may be the next word). Returns -1 to go on, or the exit
 * status to end with. */
static int read_option(int argc, char **argv, int *i, struct cli_args *a)
{
    const char *arg = argv[*i];
    const struct command *cmd = a->cmd;
    const struct optspec *spec = NULL;
    struct optvalues *dst = NULL;
    const char *value = NULL;
    char shortbuf[3] = {0};

    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (cmd && (spec = find_opt(cmd->options, name, len, 0)) != NULL)
            dst = &a->parsed.values[spec - cmd->options];
        else if ((spec = find_opt(cli_global_options, name, len, 0)) != NULL)
            dst = &a->gvals[spec - cli_global_options];
        if (eq)
            value = eq + 1;
    } else {
        shortbuf[0] = '-';
        shortbuf[1] = arg[1];
        if (cmd && (spec = find_opt(cmd->options, NULL, 0, arg[1])) != NULL)
            dst = &a->parsed.values[spec - cmd->options];
        else if ((spec = find_opt(cli_global_options, NULL, 0, arg[1])) != NULL)
            dst = &a->gvals[spec - cli_global_options];
        if (arg[2])
            value = arg + 2;
    }
    if (!spec) {
        char *name = xstrndup(arg, strcspn(arg, "="));
        int status = usage_error(cmd, "unknown option '%s'%s", name,
                                 cmd ? "" : " (command options go after the command)");
        free(name);
        return status;
    }
    if (spec->arg && !value) {
        if (*i + 1 >= argc)
            return usage_error(cmd, "option '%s' needs a value (%s)", shortbuf[0] ? shortbuf : arg,
                               spec->arg);
        value = argv[++*i];
    } else if (!spec->arg && value) {
        return usage_error(cmd, "option '--%s' takes no value", spec->name);
    }
    values_add(dst, value ? value : "");
    return -1;
}

static const struct optvalues *gopt(const struct cli_args *a, const char *name)
{
    return &a->gvals[find_opt(cli_global_options, name, strlen(name), 0) - cli_global_options];
}

static const char *gopt_last(const struct cli_args *a, const char *name)
{
    const struct optvalues *v = gopt(a, name);
    return v->n ? v->v[v->n - 1] : NULL;
}

/* --amqp-url or --api-url: refused with a password in it; split into list. */
static int read_urls(const struct cli_args *a, const char *opt, struct optvalues *list)
{
    const struct optvalues *v = gopt(a, opt);
    const char *env = strcmp(opt, "amqp-url") == 0 ? "RMQTOPO_AMQP_URL" : "RMQTOPO_API_URL";
    size_t k, j, from;

    for (k = 0; k < v->n; k++) {
        from = list->n;
        rmqt_split_list(v->v[k], &list->v, &list->n, &list->cap);
        for (j = from; j < list->n; j++)
            if (url_has_password(list->v[j]))
                return usage_error(a->cmd,
                                   "a password in --%s would be visible to every user in the "
                                   "process list: put the URL in %s, or the password "
                                   "in --password-file or RMQTOPO_PASSWORD",
                                   opt, env);
    }
    return -1;
}

/* The global settings into cli. Returns -1 to go on, or the exit status to end with. */
static int read_globals(struct cli *cli, const struct cli_args *a)
{
    const char *s = gopt_last(a, "output");
    bool no_color;
    int status;

    if (s) {
        if (strcmp(s, "json") == 0)
            cli->output = OUTPUT_JSON;
        else if (strcmp(s, "text") == 0)
            cli->output = OUTPUT_TEXT;
        else if (strcmp(s, "prometheus") == 0 && a->cmd == &cmd_dlq_status)
            cli->output = OUTPUT_PROMETHEUS;
        else if (strcmp(s, "markdown") == 0 &&
                 (a->cmd == &cmd_plan || a->cmd == &cmd_diff ||
                  (a->cmd == &cmd_apply && opt_flag(&a->parsed, "dry-run"))))
            cli->output = OUTPUT_MARKDOWN;
        else
            return usage_error(a->cmd, "invalid output format '%s': expected text or json%s", s,
                               a->cmd == &cmd_dlq_status ? " or prometheus"
                               : a->cmd == &cmd_plan || a->cmd == &cmd_diff || a->cmd == &cmd_apply
                                   ? " (plan, apply --dry-run: or markdown)"
                                   : "");
    }
    no_color = gopt(a, "no-color")->n > 0 || (getenv("NO_COLOR") && *getenv("NO_COLOR"));
    cli->color_out = !no_color && isatty(STDOUT_FILENO);
    cli->color_err = !no_color && isatty(STDERR_FILENO);
    cli->verbose = gopt(a, "verbose")->n > 0;
    cli->quiet = cli_quiet = gopt(a, "quiet")->n > 0;
    if ((status = read_urls(a, "amqp-url", &cli->amqp_urls)) >= 0 ||
        (status = read_urls(a, "api-url", &cli->api_urls)) >= 0)
        return status;
    cli->user = gopt_last(a, "user");
    cli->password_file = gopt_last(a, "password-file");
    cli->cacert = gopt_last(a, "cacert");
    cli->cert = gopt_last(a, "cert");
    cli->key = gopt_last(a, "key");
    cli->insecure = gopt(a, "insecure")->n > 0;
    if (parse_seconds(a->cmd, "--connect-timeout", gopt(a, "connect-timeout"),
                      &cli->connect_timeout_ms) < 0 ||
        parse_seconds(a->cmd, "--timeout", gopt(a, "timeout"), &cli->timeout_ms) < 0)
        return EXIT_USAGE;
    return -1;
}

int cli_parse_args(struct cli *cli, int argc, char **argv, struct cli_args *a)
{
    const struct command *cmd;
    bool only_positional = false;
    size_t n;
    int i, status;

    memset(a, 0, sizeof(*a));
    for (n = 0; cli_global_options[n].name; n++)
        ;
    a->gvals = xcalloc(n + 1, sizeof(*a->gvals));
    a->pos = xcalloc((size_t)argc + 1, sizeof(char *));
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (!a->cmd && a->npos == 0) {
                if ((status = read_command(argc, argv, &i, a)) >= 0)
                    return status;
            } else {
                a->pos[a->npos++] = argv[i];
            }
        } else if (strcmp(arg, "--") == 0) {
            only_positional = true;
        } else if ((status = read_option(argc, argv, &i, a)) >= 0) {
            return status;
        }
    }
    if (gopt(a, "help")->n) {
        if (a->cmd)
            print_command_help(stdout, a->cmd);
        else
            print_main_help(stdout);
        a->flush = true;
        return EXIT_OK;
    }
    if (gopt(a, "version")->n) {
        a->cmd = &cmd_version; /* --version wins, wherever it stands */
        a->npos = 0;
    }
    if (!(cmd = a->cmd)) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    if ((status = read_globals(cli, a)) >= 0)
        return status;
    if (cmd->args_error &&
        (a->npos < cmd->min_args || (cmd->max_args >= 0 && a->npos > cmd->max_args))) {
        fprintf(stderr, "rmqtopo: %s %s\nTry 'rmqtopo %s --help'.\n", cmd->name, cmd->args_error,
                cmd->name);
        return EXIT_USAGE;
    }
    a->flush = true;
    return -1;
}

static void free_values(struct optvalues *v, bool strings)
{
    size_t k;

    for (k = 0; strings && k < v->n; k++)
        free((char *)v->v[k]);
    free(v->v);
    memset(v, 0, sizeof(*v));
}

void cli_args_release(struct cli *cli, struct cli_args *a)
{
    size_t k;

    for (k = 0; a->gvals && cli_global_options[k].name; k++)
        free_values(&a->gvals[k], false);
    for (k = 0; k < a->ncopts; k++)
        free_values(&a->parsed.values[k], false);
    free(a->gvals);
    free(a->parsed.values);
    free(a->pos);
    free_values(&cli->amqp_urls, true);
    free_values(&cli->api_urls, true);
}

const struct optvalues *opt_get(const struct parsed_opts *opts, const char *name)
{
    size_t k;

    for (k = 0; opts->specs && opts->specs[k].name; k++)
        if (strcmp(opts->specs[k].name, name) == 0)
            return &opts->values[k];
    return NULL;
}

bool opt_flag(const struct parsed_opts *opts, const char *name)
{
    const struct optvalues *v = opt_get(opts, name);
    return v && v->n > 0;
}

const char *opt_last(const struct parsed_opts *opts, const char *name)
{
    const struct optvalues *v = opt_get(opts, name);
    return v && v->n ? v->v[v->n - 1] : NULL;
}
