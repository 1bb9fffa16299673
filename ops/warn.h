/*
 * warn.h - warnings from the ops layer, as data: handed to the caller's callback, or kept in
 * a list (ops never prints: the front end decides where warnings go).
 */
#ifndef RMQT_OPS_WARN_H
#define RMQT_OPS_WARN_H

#include <stddef.h>

/* Formats a warning and passes it to warn(ctx, msg); does nothing when warn is NULL. The
 * message is as long as it needs to be (a long queue name is never cut). */
void ops_warnf(void (*warn)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Warnings in the order they arose. A zeroed struct is valid and empty. */
struct ops_warnings {
    char **v; /* owned */
    size_t n, cap;
};

/* Appends a formatted warning. */
void ops_warnings_addf(struct ops_warnings *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees the warnings; accepts NULL. */
void ops_warnings_release(struct ops_warnings *w);

#endif
