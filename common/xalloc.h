/*
 * xalloc.h - allocation that cannot return NULL.
 *
 * Small allocations that fail mean the process is out of memory; like git and tmux we print
 * one line and exit(1) rather than thread an error through every caller. Large or
 * input-sized allocations should be bounded before they get here.
 */
#ifndef RMQT_XALLOC_H
#define RMQT_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows *array (of *cap elements of elem_size bytes) to hold at least need elements. */
void xgrow(void **array, size_t *cap, size_t need, size_t elem_size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string made with printf-style formatting; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* xasprintf with a va_list (ap is used up). */
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#define XGROW(array, cap, need) xgrow((void **)&(array), &(cap), (need), sizeof(*(array)))

#endif
