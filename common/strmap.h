/*
 * strmap.h - an open-addressing hash index from borrowed strings to size_t values.
 *
 * Keys are not copied: they must outlive the map (they are the names held by the model).
 * Used wherever a lookup by name sits on a per-object path, so that validating or diffing
 * tens of thousands of objects stays linear.
 */
#ifndef RMQT_STRMAP_H
#define RMQT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_slot {
    const char *key;
    size_t len;
    size_t value;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
/* Inserts key -> value; if key is present, keeps the old value and returns false. */
bool strmap_put(struct strmap *m, const char *key, size_t len, size_t value);
/* Finds key; returns true and sets *value when present. */
bool strmap_get(const struct strmap *m, const char *key, size_t len, size_t *value);

#endif
