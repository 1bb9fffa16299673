/*
 * error.h - the error every library layer reports through.
 *
 * Library code never prints and never exits: a failing function fills a caller-provided
 * struct rmqt_error and returns -1 (or NULL). The message lives in a fixed buffer so that
 * reporting an error never allocates (it may be out of memory that we are reporting).
 */
#ifndef RMQT_ERROR_H
#define RMQT_ERROR_H

#include <stddef.h>

enum rmqt_error_code {
    RMQT_OK = 0,
    RMQT_ERR_USAGE,    /* the caller asked for something malformed */
    RMQT_ERR_IO,       /* a file or socket operation failed; detail = errno */
    RMQT_ERR_PARSE,    /* malformed input; the message says where ("file:5: ...") */
    RMQT_ERR_INVALID,  /* well-formed input that breaks a rule */
    RMQT_ERR_LIMIT,    /* input beyond a size, depth or count limit */
    RMQT_ERR_HTTP,     /* the management API answered an error; detail = HTTP status */
    RMQT_ERR_AMQP,     /* the broker refused over AMQP; detail = reply code */
    RMQT_ERR_CONNECT,  /* could not reach the broker */
    RMQT_ERR_INTERNAL, /* a bug of ours */
};

struct rmqt_error {
    enum rmqt_error_code code;
    long detail; /* errno, HTTP status or AMQP reply code; 0 when none */
    /* Where: in the message (rmqt_error_prefix puts "file:line: " before it). A file's own
     * problems are diagnostics with positions (provision/diag.h), not errors. */
    char message[768];
};

/* Clears err (a zeroed struct is a valid "no error"). Accepts NULL. */
void rmqt_error_init(struct rmqt_error *err);

/* Fills err with code and a printf-style message; returns -1 so that
 * `return rmqt_error_set(err, ...)` reports and fails. err may be NULL. */
int rmqt_error_set(struct rmqt_error *err, enum rmqt_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts a printf-style prefix and ": " before err's message, keeping its code and detail
 * ("file:5: " + "body: not valid base64"). Returns -1. err may be NULL. */
int rmqt_error_prefix(struct rmqt_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
