/*
 * warn.c - the ops layer's warnings: formatted (allocating, so that nothing is cut) for the
 * caller's callback, or kept in a list for the caller to show.
 */
#include "warn.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ops_warnf(void (*warn)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (!warn)
        return;
    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    warn(ctx, msg);
    free(msg);
}

void ops_warnings_addf(struct ops_warnings *w, const char *fmt, ...)
{
    va_list ap;

    XGROW(w->v, w->cap, w->n + 1);
    va_start(ap, fmt);
    w->v[w->n++] = xvasprintf(fmt, ap);
    va_end(ap);
}

void ops_warnings_release(struct ops_warnings *w)
{
    size_t k;

    if (!w)
        return;
    for (k = 0; k < w->n; k++)
        free(w->v[k]);
    free(w->v);
    memset(w, 0, sizeof(*w));
}
