/*
 * textutil.h - small text helpers shared by every layer: edit distance for "did you mean",
 * safe quoting of untrusted text for messages, a string hash, the UTF-8 check, the monotonic
 * clock and comma-list splitting.
 */
#ifndef RMQT_TEXTUTIL_H
#define RMQT_TEXTUTIL_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Levenshtein distance between a and b, capped: returns at most limit + 1. */
size_t rmqt_edit_distance(const char *a, const char *b, size_t limit);

/* The candidate closest to word (NULL-terminated list), or NULL when none is close enough to
 * be a plausible typo. Borrowed from candidates. */
const char *rmqt_did_you_mean(const char *word, const char *const *candidates);

/* Appends s (len bytes) to sb so that it is safe to show in a one-line message: control
 * characters, quotes and invalid UTF-8 become escapes; longer than max bytes is cut with "...". */
void rmqt_quote_add(struct strbuf *sb, const char *s, size_t len, size_t max);

/* Appends s with only what could harm a terminal escaped (control characters, invalid
 * UTF-8, bidi overrides); quotes and backslashes are kept. For text already built from
 * quoted parts, on its way to the screen. */
void rmqt_sanitize_add(struct strbuf *sb, const char *s, size_t len);

/* FNV-1a hash of len bytes. */
uint64_t rmqt_hash(const void *data, size_t len);

bool rmqt_has_prefix(const char *s, const char *prefix);

/* Whether data (n bytes) is UTF-8 without a NUL byte: no overlong forms, surrogates or code
 * points over U+10FFFF (what jansson accepts in a string), nothing a C string would cut. */
bool rmqt_is_text(const void *data, size_t n);

/* Seconds on the monotonic clock, for durations and rates. */
double rmqt_now_s(void);

/* Splits a comma-separated list ("a,b"; empty items dropped) and appends each item to *v
 * (*n items, *cap allocated): new strings, the caller frees each and the array. */
void rmqt_split_list(const char *s, const char ***v, size_t *n, size_t *cap);

#endif
