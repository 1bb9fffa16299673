/*
 * argspec.h - the argument tables: what the broker knows of each queue argument (x-...) and
 * each policy definition key. Shared by validate (the checks) and diff (which arguments a
 * re-declare compares).
 */
#ifndef RMQT_ARGSPEC_H
#define RMQT_ARGSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* queue types, as bits */
#define T_CLASSIC 1u
#define T_QUORUM 2u
#define T_STREAM 4u
#define T_ALL (T_CLASSIC | T_QUORUM | T_STREAM)

enum argtype { AT_INT, AT_STR, AT_BOOL };

struct argspec {
    const char *key;
    enum argtype type;
    unsigned types;            /* queue types that take it on the newest broker */
    const char *noun;          /* "a delivery limit", for "only quorum queues have ..." */
    int64_t min, max;          /* AT_INT */
    const char *const *values; /* AT_STR with a fixed set of values; NULL = any string */
    const char *unit;          /* "milliseconds", "bytes": what the number means */
    /* version gates (0 = none): the argument exists only from `since`; a type it gained
     * later (classic queues' leader locator in 4.0) is in late_types from late_since */
    int since_major, since_minor;
    unsigned late_types;
    int late_major, late_minor;
};

/* Policy definition keys the broker (and its common plugins) validate, with their types. */
enum pdtype { PD_INT_NONNEG, PD_INT_POS, PD_STR, PD_ENUM, PD_MAXAGE, PD_ANY, PD_BOOL };

struct pdspec {
    const char *key;
    enum pdtype type;
    const char *const *values;
    int until_major; /* does nothing from this major version (0 = still meaningful) */
};

/* What the broker knows of queue argument key; NULL when it does not know it. */
const struct argspec *argspec_find(const char *key);
/* Every known queue argument key (x-queue-type too), NULL-terminated: for did-you-mean. */
extern const char *const argspec_keys[];
/* The bit of a queue type (T_CLASSIC, T_QUORUM, T_STREAM). */
unsigned argspec_type_bit(enum queue_type t);

/* Whether the broker compares argument key when a queue of this type is declared again
 * (it compares only the arguments the queue type knows; others are silently kept). */
bool queue_arg_is_compared(const char *key, enum queue_type type);

/* The policy definition keys the broker (and its common plugins) validate: n_pdspecs of
 * them; pdspec_find: one by key, NULL when unknown; pdspec_keys: NULL-terminated. */
extern const struct pdspec pdspecs[];
extern const size_t n_pdspecs;
const struct pdspec *pdspec_find(const char *key);
extern const char *const pdspec_keys[];

#endif
