/*
 * complete.c - `rmqtopo __complete WORD...`: what the shell completion scripts offer
 * (completions/rmqtopo.bash, completions/_rmqtopo).
 *
 * The words are the command line after the program name, the last one being the word under
 * completion (maybe empty). The answer is a directive line, then one candidate a line:
 *
 *   files | words        files: the shell also offers file names; words: only the candidates
 *   CANDIDATE<TAB>TEXT   a word that starts with the word being completed, and what it is
 *
 * Decisions:
 * - The binary answers from its own command table, so completion follows every command and
 *   option it has, and the scripts stay small and the same for bash and zsh.
 * - A command's positional arguments are what its synopsis says: FILE, F or [FILE] are files,
 *   QUEUE is a queue name. Option values by the option's name: queues for --queue,
 *   --from-queue, --to-queue, --park-queue; exchanges for --to-exchange; vhosts for --vhost;
 *   files for the options that name a file; fixed words for --output, --format, --reason,
 *   --use-case.
 * - Queue, exchange and vhost names come from a topology file: the first argument on the
 *   line that is a readable file and loads as one, else the file named by RMQTOPO_TOPOLOGY.
 *   Retry ladders are expanded (their queues are real queues); --vhost V on the line keeps
 *   V's names only. A file that does not load gives no names (and no message: this runs on
 *   every Tab).
 * - "--name=value" completes the value; the candidates are the values alone (the shells
 *   keep the "--name=" part).
 */
#include "cli.h"

#include "load.h"
#include "model.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum kind { K_NONE, K_FILES, K_QUEUES, K_EXCHANGES, K_VHOSTS, K_WORDS };

struct line {
    const struct command *cmd;
    const char *group;   /* a group word seen, its command not yet */
    const char *pos[64]; /* positional arguments of the command */
    int npos;
    const char *vhost; /* --vhost's value, if any */
    const char *file;  /* a topology file named on the line */
};

static const char *const output_words[] = {"text", "json", NULL};
static const char *const output_words_plan[] = {"text", "json", "markdown", NULL};
static const char *const output_words_status[] = {"text", "json", "prometheus", NULL};
static const char *const format_words[] = {"dot", "mermaid", NULL};
static const char *const reason_words[] = {"rejected", "expired", "maxlen", "delivery_limit", NULL};
static const char *const use_case_words[] = {"work_queue", "pub_sub", "event_sourcing",
                                             "cqrs",       "saga",    NULL};

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A candidate: printed only when it starts with prefix. Tabs and newlines in it would break
 * the line protocol: such a name is left out. */
static void offer(const char *word, const char *text, const char *prefix)
{
    if (!starts_with(word, prefix) || strpbrk(word, "\t\n"))
        return;
    if (text && *text) {
        size_t n = strcspn(text, "\n");
        printf("%s\t%.*s\n", word, (int)n, text);
    } else {
        printf("%s\n", word);
    }
}

static bool is_group(const char *word)
{
    size_t k;

    for (k = 0; cli_commands[k]; k++)
        if (cli_commands[k]->group && strcmp(cli_commands[k]->group, word) == 0)
            return true;
    return false;
}

/* The option spec for "--name[=v]" or "-c[v]", in the command's table or the global one. */
static const struct optspec *find_option(const struct command *cmd, const char *word)
{
    const struct optspec *tables[2] = {cmd ? cmd->options : NULL, cli_global_options};
    size_t t, k;

    for (t = 0; t < 2; t++) {
        for (k = 0; tables[t] && tables[t][k].name; k++) {
            const struct optspec *s = &tables[t][k];
            if (word[1] == '-') {
                size_t len = strcspn(word + 2, "=");
                if (strlen(s->name) == len && strncmp(s->name, word + 2, len) == 0)
                    return s;
            } else if (s->short_name && s->short_name == word[1]) {
                return s;
            }
        }
    }
    return NULL;
}

/* What the value of an option is. */
static enum kind option_kind(const struct command *cmd, const struct optspec *s,
                             const char *const **words)
{
    static const char *const queue_opts[] = {"queue", "from-queue", "to-queue", "park-queue", NULL};
    static const char *const file_opts[] = {"file", "password-file", "cacert", "cert",
                                            "key",  "textfile",      NULL};
    size_t k;

    for (k = 0; queue_opts[k]; k++)
        if (strcmp(s->name, queue_opts[k]) == 0)
            return K_QUEUES;
    for (k = 0; file_opts[k]; k++)
        if (strcmp(s->name, file_opts[k]) == 0)
            return K_FILES;
    if (strcmp(s->name, "to-exchange") == 0)
        return K_EXCHANGES;
    if (strcmp(s->name, "vhost") == 0)
        return K_VHOSTS;
    *words = NULL;
    if (strcmp(s->name, "output") == 0)
        *words = cmd && (strcmp(cmd->name, "plan") == 0 || strcmp(cmd->name, "diff") == 0)
                     ? output_words_plan
                 : cmd && strcmp(cmd->name, "dlq status") == 0 ? output_words_status
                                                               : output_words;
    else if (strcmp(s->name, "format") == 0)
        *words = format_words;
    else if (strcmp(s->name, "reason") == 0)
        *words = reason_words;
    else if (strcmp(s->name, "use-case") == 0)
        *words = use_case_words;
    return *words ? K_WORDS : K_NONE;
}

/* What the command's positional arguments are, from its synopsis ("FILE...", "[FILE]",
 * "QUEUE --file F", "F"): its first word decides. */
static enum kind positional_kind(const struct command *cmd)
{
    const char *a = cmd->args;
    size_t n;

    if (*a == '[')
        a++;
    n = strcspn(a, " .]");
    if ((n == 4 && strncmp(a, "FILE", 4) == 0) || (n == 1 && *a == 'F'))
        return K_FILES;
    if (n == 5 && strncmp(a, "QUEUE", 5) == 0)
        return K_QUEUES;
    return K_NONE;
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads the words before the one being completed. Returns the option whose value the last
 * one still waits for, or NULL. */
static const struct optspec *read_line(int n, char **words, struct line *l)
{
    const struct optspec *pending = NULL;
    bool only_positional = false;
    int i;

    memset(l, 0, sizeof(*l));
    for (i = 0; i < n; i++) {
        const char *w = words[i];
        if (pending) {
            if (strcmp(pending->name, "vhost") == 0)
                l->vhost = w;
            pending = NULL;
            continue;
        }
        if (!only_positional && strcmp(w, "--") == 0) {
            only_positional = true;
        } else if (!only_positional && w[0] == '-' && w[1]) {
            const struct optspec *s = find_option(l->cmd, w);
            bool attached = w[1] == '-' ? strchr(w, '=') != NULL : w[2] != '\0';
            if (s && s->arg && !attached)
                pending = s;
            else if (s && s->arg && strcmp(s->name, "vhost") == 0)
                l->vhost = w[1] == '-' ? strchr(w, '=') + 1 : w + 2;
        } else if (!l->cmd && l->group) {
            char two[128];
            snprintf(two, sizeof(two), "%s %s", l->group, w);
            l->cmd = cli_find_command(two);
            l->group = NULL;
        } else if (!l->cmd) {
            if ((l->cmd = cli_find_command(w)) == NULL && is_group(w))
                l->group = w;
        } else if (l->npos < (int)(sizeof(l->pos) / sizeof(l->pos[0]))) {
            l->pos[l->npos++] = w;
            if (!l->file && positional_kind(l->cmd) == K_FILES && is_regular_file(w))
                l->file = w;
        }
    }
    return pending;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Queue, exchange or vhost names of the topology file, sorted, each once. */
static void offer_names(const struct line *l, enum kind kind, const char *prefix)
{
    const char *path = l->file ? l->file : getenv("RMQTOPO_TOPOLOGY");
    struct topology t;
    struct diag_list dl;
    const char **names = NULL;
    const char *what = kind == K_QUEUES ? "queue" : kind == K_EXCHANGES ? "exchange" : "vhost";
    size_t n = 0, cap = 0, k, j;

    if (!path || !*path || !is_regular_file(path))
        return;
    topology_init(&t);
    diag_list_init(&dl);
    topology_load_file(&t, path, NULL, &dl);
    for (k = 0; k < t.n_vhosts; k++) {
        const struct vhost *vh = &t.vhosts[k];
        size_t count = kind == K_QUEUES ? vh->n_queues : kind == K_EXCHANGES ? vh->n_exchanges : 1;
        if (kind != K_VHOSTS && l->vhost && strcmp(l->vhost, vh->name) != 0)
            continue;
        for (j = 0; j < count; j++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                names = realloc(names, cap * sizeof(*names));
                if (!names)
                    abort();
            }
            names[n++] = kind == K_QUEUES      ? vh->queues[j].name
                         : kind == K_EXCHANGES ? vh->exchanges[j].name
                                               : vh->name;
        }
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (k = 0; k < n; k++)
        if (k == 0 || strcmp(names[k], names[k - 1]) != 0)
            offer(names[k], what, prefix);
    free(names);
    diag_list_release(&dl);
    topology_release(&t);
}

static void offer_options(const struct command *cmd, const char *prefix)
{
    const struct optspec *tables[2] = {cmd ? cmd->options : NULL, cli_global_options};
    size_t t, k;
    char word[80];

    for (t = 0; t < 2; t++)
        for (k = 0; tables[t] && tables[t][k].name; k++) {
            snprintf(word, sizeof(word), "--%s", tables[t][k].name);
            offer(word, tables[t][k].help, prefix);
        }
}

static void offer_commands(const char *group, const char *prefix)
{
    size_t k, j;

    for (k = 0; cli_commands[k]; k++) {
        const struct command *c = cli_commands[k];
        if (group) {
            if (c->group && strcmp(c->group, group) == 0)
                offer(c->name + strlen(group) + 1, c->summary, prefix);
        } else if (!c->group) {
            offer(c->name, c->summary, prefix);
        } else {
            /* a group once, at its first command */
            for (j = 0; j < k; j++)
                if (cli_commands[j]->group && strcmp(cli_commands[j]->group, c->group) == 0)
                    break;
            if (j == k) {
                char text[64];
                snprintf(text, sizeof(text), "the %s commands", c->group);
                offer(c->group, text, prefix);
            }
        }
    }
}

static void offer_kind(const struct line *l, enum kind kind, const char *const *words,
                       const char *prefix)
{
    size_t k;

    printf("%s\n", kind == K_FILES ? "files" : "words");
    if (kind == K_WORDS)
        for (k = 0; words[k]; k++)
            offer(words[k], NULL, prefix);
    else if (kind == K_QUEUES || kind == K_EXCHANGES || kind == K_VHOSTS)
        offer_names(l, kind, prefix);
}

int cli_complete(int argc, char **argv)
{
    const char *cur = argc > 0 ? argv[argc - 1] : "";
    const char *const *words = NULL;
    const struct optspec *pending;
    struct line l;
    enum kind kind;

    pending = read_line(argc > 0 ? argc - 1 : 0, argv, &l);
    if (pending) {
        kind = option_kind(l.cmd, pending, &words);
        offer_kind(&l, kind, words, cur);
    } else if (starts_with(cur, "--") && strchr(cur, '=')) {
        const struct optspec *s = find_option(l.cmd, cur);
        kind = s && s->arg ? option_kind(l.cmd, s, &words) : K_NONE;
        offer_kind(&l, kind, words, strchr(cur, '=') + 1);
    } else if (cur[0] == '-') {
        printf("words\n");
        offer_options(l.cmd, cur);
    } else if (!l.cmd) {
        printf("words\n");
        offer_commands(l.group, cur);
    } else if (l.cmd->max_args >= 0 && l.npos >= l.cmd->max_args) {
        printf("words\n");
    } else {
        offer_kind(&l, positional_kind(l.cmd), NULL, cur);
    }
    fflush(stdout);
    return EXIT_OK;
}
