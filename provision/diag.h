/*
 * diag.h - diagnostics: the list of errors and warnings that validation collects.
 *
 * Validation reports every problem of a file in one run, so problems are collected here
 * rather than returned one at a time. Each names the file, a 1-based line and column, the key
 * path (e.g. "queues.orders.placed.delivery_limit") and a message.
 */
#ifndef RMQT_DIAG_H
#define RMQT_DIAG_H

#include <stdbool.h>
#include <stddef.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct rmqt_pos {
    int line; /* 1-based; 0 = unknown */
    int col;  /* 1-based; 0 = unknown */
};

struct diag {
    enum diag_severity severity;
    char *file;
    struct rmqt_pos pos;
    char *path; /* "" when the problem is about the whole file */
    char *message;
};

struct diag_list {
    struct diag *v;
    size_t n, cap;
    size_t errors, warnings;
    size_t limit; /* at most this many are kept (0 = 10000); the counts stay exact */
    size_t dropped;
};

void diag_list_init(struct diag_list *dl);
/* Frees every diagnostic; dl is empty afterwards. Accepts NULL. */
void diag_list_release(struct diag_list *dl);
/* Adds one diagnostic (file and path copied). */
void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, struct rmqt_pos pos,
              const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Sorts by file, line, column, keeping the order of equal positions. */
void diag_list_sort(struct diag_list *dl);
/* Turns every warning into an error (--strict). */
void diag_list_promote_warnings(struct diag_list *dl);

#endif
