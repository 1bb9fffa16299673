/*
 * policymatch.h - which objects a policy applies to, and the broker's built-in exchanges:
 * shared by validate (which policy wins) and graph (dead-letter routes set by policies).
 */
#ifndef RMQT_POLICYMATCH_H
#define RMQT_POLICYMATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* Compiles a policy pattern. RabbitMQ matches with Erlang's re (PCRE); POSIX extended
 * expressions cover what policies use in practice, with PCRE's \d and \D translated (glibc
 * understands \w and \s). Returns 0, or regcomp's code with the reason in err. */
int policy_pattern_compile(const char *pattern, regex_t *re, char *err, size_t errsize);

/* Whether apply-to lets policy p apply to an object of this kind (a queue of type t, or an
 * exchange). */
bool policy_applies_to(const struct policy *p, bool is_queue, enum queue_type t);

/* The type of a broker built-in exchange ("" and amq.*), or NULL when name is not one. */
const char *builtin_exchange_type(const char *name);

#endif
