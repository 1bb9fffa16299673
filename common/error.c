/*
 * error.c - filling struct rmqt_error.
 *
 * Formatting goes into the fixed buffer of the struct with vsnprintf, so reporting an error
 * cannot fail or allocate; over-long messages are cut, never overflow.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rmqt_error_init(struct rmqt_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int rmqt_error_set(struct rmqt_error *err, enum rmqt_error_code code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    rmqt_error_init(err);
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

int rmqt_error_prefix(struct rmqt_error *err, const char *fmt, ...)
{
    char old[sizeof(err->message)];
    size_t n, k;
    va_list ap;
    int w;

    if (!err)
        return -1;
    memcpy(old, err->message, sizeof(old));
    va_start(ap, fmt);
    w = vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    n = w < 0 ? 0 : (size_t)w < sizeof(err->message) ? (size_t)w : sizeof(err->message) - 1;
    /* then ": " and the old message, cut to what is left */
    for (k = 0; n + 1 < sizeof(err->message) && k < 2; k++)
        err->message[n++] = ": "[k];
    k = strnlen(old, sizeof(old) - 1);
    if (k > sizeof(err->message) - 1 - n)
        k = sizeof(err->message) - 1 - n;
    memcpy(err->message + n, old, k);
    err->message[n + k] = '\0';
    return -1;
}
