/*
 * connect.c - the broker connection settings of cli.md ("Connecting"): URLs from options or
 * the environment, the user, the password (a file, or the environment: never argv), TLS.
 *
 * The password is read here and handed to the client; it is never printed, and a URL that
 * carries one is accepted only from the environment (main.c refuses it on the command line).
 */
#include "cli.h"

#include "strbuf.h"
#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_API_URL "http://localhost:15672"
#define DEFAULT_AMQP_URL "amqp://localhost:5672"

/* The password from --password-file (first line), or NULL when none was given; a file that
 * cannot be read is an error (returns -1). */
static int read_password_file(const char *path, char **out, struct rmqt_error *err)
{
    FILE *f = fopen(path, "r");
    struct strbuf sb = {0};
    char buf[512];
    size_t n;

    *out = NULL;
    if (!f)
        return rmqt_error_set(err, RMQT_ERR_IO, "cannot read the password file '%s': %s", path,
                              strerror(errno));
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && sb.len < 65536)
        strbuf_add(&sb, buf, n);
    fclose(f);
    memset(buf, 0, sizeof(buf));
    n = strcspn(strbuf_str(&sb), "\r\n");
    if (n == 0) {
        strbuf_release(&sb);
        return rmqt_error_set(err, RMQT_ERR_USAGE, "the password file '%s' is empty", path);
    }
    *out = xstrndup(sb.buf, n);
    memset(sb.buf, 0, sb.len);
    strbuf_release(&sb);
    return 0;
}

static void trace_line(const char *line, void *ctx)
{
    struct strbuf sb = {0};
    (void)ctx;
    /* URLs here carry no credentials (the client strips them); still, nothing raw */
    rmqt_sanitize_add(&sb, line, strlen(line));
    fprintf(stderr, "rmqtopo: %s\n", strbuf_str(&sb));
    strbuf_release(&sb);
}

/* The URLs of one endpoint: the options given (split already, by options.c), else the
 * environment variable, else the default; each of those may list several, comma-separated. */
static void choose_urls(struct optvalues *out, const struct optvalues *given, const char *env_name,
                        const char *dflt)
{
    const char *env = getenv(env_name);
    size_t k;

    if (given->n) {
        for (k = 0; k < given->n; k++) {
            XGROW(out->v, out->cap, out->n + 1);
            out->v[out->n++] = xstrdup(given->v[k]);
        }
    } else {
        rmqt_split_list(env && *env ? env : dflt, &out->v, &out->n, &out->cap);
    }
}

static void free_urls(struct optvalues *urls)
{
    size_t k;
    for (k = 0; k < urls->n; k++)
        free((char *)urls->v[k]);
    free(urls->v);
    memset(urls, 0, sizeof(*urls));
}

/* The password (new; NULL: the URL's, else the client's default): --password-file, else
 * RMQTOPO_PASSWORD. -1 with err set when the file cannot be read. */
static int choose_password(const struct cli *cli, char **out, struct rmqt_error *err)
{
    const char *env = getenv("RMQTOPO_PASSWORD");

    *out = NULL;
    if (cli->password_file)
        return read_password_file(cli->password_file, out, err);
    if (env && *env)
        *out = xstrdup(env);
    return 0;
}

static void free_password(char *password)
{
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
}

/* The user: --user, else RMQTOPO_USER; NULL: the URL's, else "guest". Borrowed. */
static const char *choose_user(const struct cli *cli)
{
    const char *env = getenv("RMQTOPO_USER");
    return cli->user ? cli->user : env && *env ? env : NULL;
}

struct rmqt_http *cli_http_client(struct cli *cli, struct rmqt_error *err)
{
    struct rmqt_http_config cfg;
    struct optvalues urls = {0};
    struct rmqt_http *h = NULL;
    char *password = NULL;

    memset(&cfg, 0, sizeof(cfg));
    choose_urls(&urls, &cli->api_urls, "RMQTOPO_API_URL", DEFAULT_API_URL);
    if (choose_password(cli, &password, err) < 0)
        goto out;
    cfg.urls = urls.v;
    cfg.n_urls = urls.n;
    cfg.user = choose_user(cli);
    cfg.password = password;
    cfg.cacert = cli->cacert;
    cfg.cert = cli->cert;
    cfg.key = cli->key;
    cfg.insecure = cli->insecure;
    cfg.connect_timeout_ms = cli->connect_timeout_ms;
    cfg.timeout_ms = cli->timeout_ms;
    if (cli->verbose)
        cfg.trace = trace_line;
    if (cli->insecure)
        cli_warnf("--insecure: the broker's TLS certificate is not verified");
    h = rmqt_http_new(&cfg, err);
out:
    free_password(password);
    free_urls(&urls);
    return h;
}

int cli_amqp_setup(struct cli *cli, struct cli_amqp *a, struct rmqt_error *err)
{
    memset(a, 0, sizeof(*a));
    choose_urls(&a->urls, &cli->amqp_urls, "RMQTOPO_AMQP_URL", DEFAULT_AMQP_URL);
    if (choose_password(cli, &a->password, err) < 0)
        return -1;
    a->cfg.urls = a->urls.v;
    a->cfg.n_urls = a->urls.n;
    a->cfg.user = choose_user(cli);
    a->cfg.password = a->password;
    a->cfg.cacert = cli->cacert;
    a->cfg.cert = cli->cert;
    a->cfg.key = cli->key;
    a->cfg.insecure = cli->insecure;
    a->cfg.connect_timeout_ms = cli->connect_timeout_ms;
    a->cfg.timeout_ms = cli->timeout_ms;
    return 0;
}

void cli_amqp_release(struct cli_amqp *a)
{
    free_password(a->password);
    free_urls(&a->urls);
    memset(a, 0, sizeof(*a));
}
