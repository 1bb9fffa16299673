/*
 * diag.c - the diagnostics list. Capped so that a pathological file (a million bad entries)
 * cannot turn its report into a memory problem; the counts stay exact beyond the cap.
 */
#include "diag.h"

#include "strbuf.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIAG_DEFAULT_LIMIT 10000

void diag_list_init(struct diag_list *dl)
{
    memset(dl, 0, sizeof(*dl));
}

void diag_list_release(struct diag_list *dl)
{
    size_t k;

    if (!dl)
        return;
    for (k = 0; k < dl->n; k++) {
        free(dl->v[k].file);
        free(dl->v[k].path);
        free(dl->v[k].message);
    }
    free(dl->v);
    diag_list_init(dl);
}

void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, struct rmqt_pos pos,
              const char *path, const char *fmt, ...)
{
    struct diag *d;
    struct strbuf sb = {0};
    va_list ap;
    int n;
    size_t limit = dl->limit ? dl->limit : DIAG_DEFAULT_LIMIT;

    if (sev == DIAG_ERROR)
        dl->errors++;
    else
        dl->warnings++;
    if (dl->n >= limit) {
        dl->dropped++;
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        char *msg = xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
        strbuf_add(&sb, msg, (size_t)n);
        free(msg);
    }
    XGROW(dl->v, dl->cap, dl->n + 1);
    d = &dl->v[dl->n++];
    d->severity = sev;
    d->file = xstrdup(file ? file : "");
    d->pos = pos;
    d->path = xstrdup(path ? path : "");
    d->message = strbuf_detach(&sb, NULL);
}

static int diag_cmp(const struct diag *a, const struct diag *b)
{
    int c = strcmp(a->file, b->file);

    if (c)
        return c;
    if (a->pos.line != b->pos.line)
        return a->pos.line < b->pos.line ? -1 : 1;
    if (a->pos.col != b->pos.col)
        return a->pos.col < b->pos.col ? -1 : 1;
    return 0;
}

void diag_list_sort(struct diag_list *dl)
{
    /* A bottom-up merge sort: stable, so problems found at one node keep the order in which
     * they were found (qsort would not). */
    struct diag *tmp;
    size_t width, i;

    if (dl->n < 2)
        return;
    tmp = xmalloc(dl->n * sizeof(*tmp));
    for (width = 1; width < dl->n; width *= 2) {
        for (i = 0; i < dl->n; i += 2 * width) {
            size_t mid = i + width < dl->n ? i + width : dl->n;
            size_t hi = i + 2 * width < dl->n ? i + 2 * width : dl->n;
            size_t a = i, b = mid, o = i;
            while (a < mid && b < hi)
                tmp[o++] = diag_cmp(&dl->v[b], &dl->v[a]) < 0 ? dl->v[b++] : dl->v[a++];
            while (a < mid)
                tmp[o++] = dl->v[a++];
            while (b < hi)
                tmp[o++] = dl->v[b++];
        }
        memcpy(dl->v, tmp, dl->n * sizeof(*tmp));
    }
    free(tmp);
}

void diag_list_promote_warnings(struct diag_list *dl)
{
    size_t k;

    for (k = 0; k < dl->n; k++)
        dl->v[k].severity = DIAG_ERROR;
    dl->errors += dl->warnings;
    dl->warnings = 0;
}
