/*
 * pattern.h - compiling a RabbitMQ policy pattern.
 */
#ifndef RMQT_PATTERN_H
#define RMQT_PATTERN_H

#include <regex.h>
#include <stddef.h>

/* Compiles a policy pattern. RabbitMQ matches with Erlang's re (PCRE); POSIX extended
 * expressions cover what policies use in practice, with PCRE's \d and \D translated (glibc
 * understands \w and \s). Returns 0, or regcomp's code with the reason in err (re is then
 * not to be freed). */
int rmqt_pattern_compile(const char *pattern, regex_t *re, char *err, size_t errsize);

#endif
