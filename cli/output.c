/*
 * output.c - printing for people: failures and diagnostics, with colour only where the user
 * can see it (a terminal, NO_COLOR unset, no --no-color).
 */
#include "cli.h"

#include "present.h"
#include "strbuf.h"
#include "textutil.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_YELLOW "\033[1;33m"
#define C_RESET "\033[0m"

/* Prints prefix and the formatted message, made safe, as one line on stderr. */
static void print_line(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void print_line(const char *prefix, const char *fmt, va_list ap)
{
    struct strbuf safe = {0};
    char *msg = xvasprintf(fmt, ap);

    /* messages carry names and broker reasons: nothing in them may drive the terminal */
    rmqt_sanitize_add(&safe, msg, strlen(msg));
    fprintf(stderr, "%s%s\n", prefix, strbuf_str(&safe));
    free(msg);
    strbuf_release(&safe);
}

int cli_fail(struct cli *cli, int status, const char *fmt, ...)
{
    char prefix[32];
    va_list ap;

    snprintf(prefix, sizeof(prefix), "%srmqtopo:%s ", cli->color_err ? C_RED : "",
             cli->color_err ? C_RESET : "");
    va_start(ap, fmt);
    print_line(prefix, fmt, ap);
    va_end(ap);
    return status;
}

bool cli_quiet;

void cli_warnf(const char *fmt, ...)
{
    va_list ap;

    if (cli_quiet)
        return;
    va_start(ap, fmt);
    print_line("rmqtopo: warning: ", fmt, ap);
    va_end(ap);
}

void cli_warn_cb(void *ctx, const char *msg)
{
    (void)ctx;
    cli_warnf("%s", msg);
}

void cli_print_broker(FILE *f, struct rmqt_http *h, const struct rmqt_broker_info *info)
{
    struct strbuf sb = {0};

    rmqt_broker_line(&sb, h ? rmqt_http_current_url(h) : NULL, info);
    fprintf(f, "%s\n", strbuf_str(&sb));
    strbuf_release(&sb);
}

json_t *cli_broker_json(struct rmqt_http *h, const struct rmqt_broker_info *info)
{
    return rmqt_broker_json(h ? rmqt_http_current_url(h) : NULL, info);
}

void print_diag_text(FILE *f, const struct diag *d, bool color)
{
    struct strbuf sb = {0};
    bool warn = d->severity == DIAG_WARNING;

    if (color)
        strbuf_adds(&sb, C_BOLD);
    rmqt_sanitize_add(&sb, d->file, strlen(d->file));
    if (d->pos.line > 0)
        strbuf_addf(&sb, ":%d:%d", d->pos.line, d->pos.col);
    strbuf_adds(&sb, ":");
    if (color)
        strbuf_adds(&sb, C_RESET);
    strbuf_adds(&sb, " ");
    if (warn) {
        strbuf_adds(&sb, color ? C_YELLOW "warning:" C_RESET " " : "warning: ");
    }
    if (d->path[0]) {
        if (color)
            strbuf_adds(&sb, warn ? C_BOLD : C_RED);
        rmqt_sanitize_add(&sb, d->path, strlen(d->path));
        strbuf_adds(&sb, ":");
        if (color)
            strbuf_adds(&sb, C_RESET);
        strbuf_adds(&sb, " ");
    }
    rmqt_sanitize_add(&sb, d->message, strlen(d->message));
    strbuf_addc(&sb, '\n');
    fwrite(sb.buf, 1, sb.len, f);
    strbuf_release(&sb);
}

json_t *cli_diag_json(const struct diag *d)
{
    return json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "file", d->file, "line", d->pos.line,
                     "column", d->pos.col, "severity",
                     d->severity == DIAG_ERROR ? "error" : "warning", "path", d->path, "message",
                     d->message);
}

void cli_print_diags(struct cli *cli, const struct diag_list *dl, const char *file)
{
    size_t k;

    for (k = 0; k < dl->n; k++)
        print_diag_text(stderr, &dl->v[k], cli->color_err);
    if (dl->dropped)
        fprintf(stderr, "%s: ... and %zu more problems not shown\n", file, dl->dropped);
}
