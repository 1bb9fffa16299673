/*
 * warn.h - one-line warnings from the ops layer, handed to the caller's callback (ops never
 * prints: cli/ decides where warnings go).
 */
#ifndef RMQT_OPS_WARN_H
#define RMQT_OPS_WARN_H

/* Formats a warning and passes it to warn(ctx, msg); does nothing when warn is NULL. The
 * message is cut at 1023 bytes. */
void ops_warnf(void (*warn)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
