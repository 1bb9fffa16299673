/*
 * strmap.c - linear probing over a power-of-two table kept at most half full.
 */
#include "strmap.h"

#include "textutil.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void strmap_init(struct strmap *m)
{
    memset(m, 0, sizeof(*m));
}

void strmap_release(struct strmap *m)
{
    if (!m)
        return;
    free(m->slots);
    strmap_init(m);
}

static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)rmqt_hash(key, len) & mask;

    while (m->slots[i].key) {
        if (m->slots[i].len == len && memcmp(m->slots[i].key, key, len) == 0)
            return &m->slots[i];
        i = (i + 1) & mask;
    }
    return &m->slots[i];
}

static void strmap_rehash(struct strmap *m, size_t ncap)
{
    struct strmap old = *m;
    size_t k;

    m->slots = xcalloc(ncap, sizeof(*m->slots));
    m->cap = ncap;
    m->n = 0;
    for (k = 0; k < old.cap; k++) {
        if (old.slots[k].key) {
            *strmap_find(m, old.slots[k].key, old.slots[k].len) = old.slots[k];
            m->n++;
        }
    }
    free(old.slots);
}

bool strmap_put(struct strmap *m, const char *key, size_t len, size_t value)
{
    struct strmap_slot *s;

    if ((m->n + 1) * 2 > m->cap)
        strmap_rehash(m, m->cap ? m->cap * 2 : 16);
    s = strmap_find(m, key, len);
    if (s->key)
        return false;
    s->key = key;
    s->len = len;
    s->value = value;
    m->n++;
    return true;
}

bool strmap_get(const struct strmap *m, const char *key, size_t len, size_t *value)
{
    const struct strmap_slot *s;

    if (!m->cap)
        return false;
    s = strmap_find(m, key, len);
    if (!s->key)
        return false;
    *value = s->value;
    return true;
}
