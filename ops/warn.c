/*
 * warn.c - formatting the ops layer's warnings into a fixed buffer for the caller's callback.
 */
#include "warn.h"

#include <stdarg.h>
#include <stdio.h>

void ops_warnf(void (*warn)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn(ctx, msg);
}
