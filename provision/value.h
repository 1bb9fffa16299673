/*
 * value.h - a typed value tree (struct tval) for AMQP arguments and policy definitions.
 *
 * YAML (and later the management API's JSON) map onto it one to one: null, bool, 64-bit
 * integer, double, string, map (ordered, string keys) and list. Integers and strings are
 * distinct kinds on purpose: the broker never treats "60000" as 60000.
 */
#ifndef RMQT_VALUE_H
#define RMQT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum tval_kind { TV_NULL = 0, TV_BOOL, TV_INT, TV_DOUBLE, TV_STRING, TV_MAP, TV_LIST };

struct tval_entry;

struct tval {
    enum tval_kind kind;
    bool b;
    int64_t i;
    double d;
    char *s; /* TV_STRING: NUL-terminated; len may be less than strlen if it holds NULs */
    size_t len;
    struct tval_entry *entries; /* TV_MAP (keys set) and TV_LIST (keys NULL) */
    size_t n, cap;
};

struct tval_entry {
    char *key;
    struct tval val;
};

/* Frees the contents of v and leaves it TV_NULL. Accepts NULL. */
void tval_release(struct tval *v);
void tval_set_string(struct tval *v, const char *s, size_t len);
void tval_set_int(struct tval *v, int64_t i);
void tval_set_bool(struct tval *v, bool b);
void tval_set_map(struct tval *v);
void tval_set_list(struct tval *v);
/* Appends an entry to a map (key copied) or list (key NULL); returns the new, TV_NULL value,
 * borrowed from v until v changes. */
struct tval *tval_append(struct tval *v, const char *key);
/* The value of key in a map, or NULL; borrowed. */
const struct tval *tval_get(const struct tval *map, const char *key);
/* Deep copy into dst (which is overwritten, not released). */
void tval_copy(struct tval *dst, const struct tval *src);
/* Structural equality: same kinds and values, maps compared as sets of keys. */
bool tval_equal(const struct tval *a, const struct tval *b);
/* Appends a canonical serialisation of v (map keys sorted, kinds tagged): two values are
 * tval_equal exactly when their serialisations are equal. For identities and hashing. */
void tval_canonical(struct strbuf *sb, const struct tval *v);
/* "integer", "string", ... for messages. */
const char *tval_kind_name(enum tval_kind kind);
/* Appends a short, safe rendering of v (strings quoted) for messages. */
void tval_describe(struct strbuf *sb, const struct tval *v);

/* A typed value as JSON (new reference): integers stay integers, strings strings (the JSON the
 * management API reads back with the same AMQP types). */
struct json_t;
struct json_t *tval_to_json(const struct tval *v);

#endif
