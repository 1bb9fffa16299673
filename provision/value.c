/*
 * value.c - the typed value tree. Maps keep insertion order (what the user wrote is what we
 * show); lookups are linear because argument tables and policy definitions are small.
 */
#include "value.h"

#include <jansson.h>

#include "textutil.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void tval_release(struct tval *v)
{
    size_t k;

    if (!v)
        return;
    free(v->s);
    for (k = 0; k < v->n; k++) {
        free(v->entries[k].key);
        tval_release(&v->entries[k].val);
    }
    free(v->entries);
    memset(v, 0, sizeof(*v));
}

void tval_set_string(struct tval *v, const char *s, size_t len)
{
    tval_release(v);
    v->kind = TV_STRING;
    v->s = xstrndup(s, len);
    v->len = len;
}

void tval_set_int(struct tval *v, int64_t i)
{
    tval_release(v);
    v->kind = TV_INT;
    v->i = i;
}

void tval_set_bool(struct tval *v, bool b)
{
    tval_release(v);
    v->kind = TV_BOOL;
    v->b = b;
}

void tval_set_map(struct tval *v)
{
    tval_release(v);
    v->kind = TV_MAP;
}

void tval_set_list(struct tval *v)
{
    tval_release(v);
    v->kind = TV_LIST;
}

struct tval *tval_append(struct tval *v, const char *key)
{
    struct tval_entry *e;

    XGROW(v->entries, v->cap, v->n + 1);
    e = &v->entries[v->n++];
    memset(e, 0, sizeof(*e));
    e->key = key ? xstrdup(key) : NULL;
    return &e->val;
}

const struct tval *tval_get(const struct tval *map, const char *key)
{
    size_t k;

    if (!map || map->kind != TV_MAP)
        return NULL;
    for (k = 0; k < map->n; k++)
        if (strcmp(map->entries[k].key, key) == 0)
            return &map->entries[k].val;
    return NULL;
}

void tval_copy(struct tval *dst, const struct tval *src)
{
    size_t k;

    memset(dst, 0, sizeof(*dst));
    dst->kind = src->kind;
    dst->b = src->b;
    dst->i = src->i;
    dst->d = src->d;
    if (src->kind == TV_STRING) {
        dst->s = xmalloc(src->len + 1);
        memcpy(dst->s, src->s, src->len + 1);
        dst->len = src->len;
    }
    for (k = 0; k < src->n; k++)
        tval_copy(tval_append(dst, src->entries[k].key), &src->entries[k].val);
}

bool tval_equal(const struct tval *a, const struct tval *b)
{
    size_t k;

    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case TV_NULL:
        return true;
    case TV_BOOL:
        return a->b == b->b;
    case TV_INT:
        return a->i == b->i;
    case TV_DOUBLE:
        /* as the canonical form: NaN equals NaN, and -0.0 equals 0.0 */
        return a->d == b->d || (a->d != a->d && b->d != b->d);
    case TV_STRING:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case TV_LIST:
        if (a->n != b->n)
            return false;
        for (k = 0; k < a->n; k++)
            if (!tval_equal(&a->entries[k].val, &b->entries[k].val))
                return false;
        return true;
    case TV_MAP:
        if (a->n != b->n)
            return false;
        for (k = 0; k < a->n; k++) {
            const struct tval *other = tval_get(b, a->entries[k].key);
            if (!other || !tval_equal(&a->entries[k].val, other))
                return false;
        }
        return true;
    }
    return false;
}

static int entry_key_cmp(const void *a, const void *b)
{
    const struct tval_entry *const *x = a, *const *y = b;
    return strcmp((*x)->key, (*y)->key);
}

void tval_canonical(struct strbuf *sb, const struct tval *v)
{
    size_t k;

    switch (v->kind) {
    case TV_NULL:
        strbuf_addc(sb, 'n');
        break;
    case TV_BOOL:
        strbuf_addc(sb, v->b ? 't' : 'f');
        break;
    case TV_INT:
        strbuf_addf(sb, "i%lld;", (long long)v->i);
        break;
    case TV_DOUBLE:
        if (v->d != v->d)
            strbuf_adds(sb, "dnan;");
        else
            strbuf_addf(sb, "d%.17g;", v->d == 0 ? 0.0 : v->d); /* -0.0 prints as 0 */
        break;
    case TV_STRING:
        strbuf_addc(sb, 's');
        strbuf_add_uint(sb, v->len);
        strbuf_addc(sb, ':');
        strbuf_add(sb, v->s, v->len);
        break;
    case TV_LIST:
        strbuf_addc(sb, 'l');
        strbuf_add_uint(sb, v->n);
        strbuf_addc(sb, ':');
        for (k = 0; k < v->n; k++)
            tval_canonical(sb, &v->entries[k].val);
        strbuf_addc(sb, ']');
        break;
    case TV_MAP: {
        const struct tval_entry **sorted = xmalloc((v->n ? v->n : 1) * sizeof(*sorted));
        for (k = 0; k < v->n; k++)
            sorted[k] = &v->entries[k];
        qsort(sorted, v->n, sizeof(*sorted), entry_key_cmp);
        strbuf_addc(sb, 'm');
        strbuf_add_uint(sb, v->n);
        strbuf_addc(sb, ':');
        for (k = 0; k < v->n; k++) {
            strbuf_add_uint(sb, strlen(sorted[k]->key));
            strbuf_addc(sb, ':');
            strbuf_adds(sb, sorted[k]->key);
            tval_canonical(sb, &sorted[k]->val);
        }
        strbuf_addc(sb, '}');
        free(sorted);
        break;
    }
    }
}

const char *tval_kind_name(enum tval_kind kind)
{
    switch (kind) {
    case TV_NULL:
        return "null";
    case TV_BOOL:
        return "boolean";
    case TV_INT:
        return "integer";
    case TV_DOUBLE:
        return "number";
    case TV_STRING:
        return "string";
    case TV_MAP:
        return "map";
    case TV_LIST:
        return "list";
    }
    return "value";
}

void tval_describe(struct strbuf *sb, const struct tval *v)
{
    size_t k;

    switch (v->kind) {
    case TV_NULL:
        strbuf_adds(sb, "null");
        break;
    case TV_BOOL:
        strbuf_adds(sb, v->b ? "true" : "false");
        break;
    case TV_INT:
        strbuf_addf(sb, "%lld", (long long)v->i);
        break;
    case TV_DOUBLE:
        strbuf_addf(sb, "%g", v->d);
        break;
    case TV_STRING:
        strbuf_addc(sb, '\'');
        rmqt_quote_add(sb, v->s, v->len, 80);
        strbuf_addc(sb, '\'');
        break;
    case TV_MAP:
    case TV_LIST:
        strbuf_adds(sb, v->kind == TV_MAP ? "{" : "[");
        for (k = 0; k < v->n && k < 4; k++) {
            if (k)
                strbuf_adds(sb, ", ");
            if (v->entries[k].key) {
                rmqt_quote_add(sb, v->entries[k].key, strlen(v->entries[k].key), 40);
                strbuf_adds(sb, ": ");
            }
            tval_describe(sb, &v->entries[k].val);
        }
        if (v->n > 4)
            strbuf_adds(sb, ", ...");
        strbuf_adds(sb, v->kind == TV_MAP ? "}" : "]");
        break;
    }
}

json_t *tval_to_json(const struct tval *v)
{
    json_t *j;
    size_t k;

    switch (v->kind) {
    case TV_NULL:
        return json_null();
    case TV_BOOL:
        return json_boolean(v->b);
    case TV_INT:
        return json_integer((json_int_t)v->i);
    case TV_DOUBLE:
        return json_real(v->d);
    case TV_STRING:
        return json_stringn_nocheck(v->s, v->len);
    case TV_LIST:
        j = json_array();
        for (k = 0; k < v->n; k++)
            json_array_append_new(j, tval_to_json(&v->entries[k].val));
        return j;
    case TV_MAP:
        j = json_object();
        for (k = 0; k < v->n; k++)
            json_object_set_new_nocheck(j, v->entries[k].key, tval_to_json(&v->entries[k].val));
        return j;
    }
    return json_null();
}
