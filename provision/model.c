/*
 * model.c - lifecycle and lookups of the topology model. Objects live in growable arrays
 * (not lists) so that a 10,000-queue vhost is a few allocations, and name lookups go through
 * hash indexes built once after loading.
 */
#include "model.h"
#include "params.h"

#include "access.h"
#include "retry.h"

#include "textutil.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void topology_init(struct topology *t)
{
    memset(t, 0, sizeof(*t));
}

void targs_release(struct targs *a)
{
    size_t k;

    if (!a)
        return;
    for (k = 0; k < a->n; k++) {
        free(a->v[k].key);
        tval_release(&a->v[k].val);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static void vhost_release(struct vhost *vh)
{
    size_t k;

    for (k = 0; k < vh->n_exchanges; k++) {
        free(vh->exchanges[k].name);
        free(vh->exchanges[k].type);
        free(vh->exchanges[k].origin);
        targs_release(&vh->exchanges[k].args);
    }
    for (k = 0; k < vh->n_queues; k++) {
        free(vh->queues[k].name);
        free(vh->queues[k].origin);
        targs_release(&vh->queues[k].args);
    }
    for (k = 0; k < vh->n_bindings; k++) {
        struct binding *b = &vh->bindings[k];
        free(b->source);
        free(b->destination);
        free(b->routing_key);
        free(b->bind_queue);
        free(b->origin);
        tval_release(&b->args);
    }
    for (k = 0; k < vh->n_policies; k++) {
        free(vh->policies[k].name);
        free(vh->policies[k].pattern);
        free(vh->policies[k].apply_to);
        free(vh->policies[k].def_pos);
        tval_release(&vh->policies[k].definition);
    }
    free(vh->exchanges);
    free(vh->queues);
    free(vh->bindings);
    free(vh->policies);
    strmap_release(&vh->exchange_index);
    strmap_release(&vh->queue_index);
    retry_spec_free(vh->retry);
    vhost_access_free(vh->access);
    vhost_params_free(vh->params);
    free(vh->name);
}

void topology_release(struct topology *t)
{
    size_t k;

    if (!t)
        return;
    for (k = 0; k < t->n_vhosts; k++)
        vhost_release(&t->vhosts[k]);
    free(t->vhosts);
    free(t->file);
    access_users_free(t->users);
    topology_init(t);
}

struct vhost *topology_add_vhost(struct topology *t, const char *name)
{
    struct vhost *vh;

    XGROW(t->vhosts, t->cap_vhosts, t->n_vhosts + 1);
    vh = &t->vhosts[t->n_vhosts++];
    memset(vh, 0, sizeof(*vh));
    vh->name = xstrdup(name);
    return vh;
}

struct exchange *vhost_add_exchange(struct vhost *vh, const char *name)
{
    struct exchange *x;

    XGROW(vh->exchanges, vh->cap_exchanges, vh->n_exchanges + 1);
    x = &vh->exchanges[vh->n_exchanges++];
    memset(x, 0, sizeof(*x));
    x->name = xstrdup(name);
    return x;
}

struct queue *vhost_add_queue(struct vhost *vh, const char *name)
{
    struct queue *q;

    XGROW(vh->queues, vh->cap_queues, vh->n_queues + 1);
    q = &vh->queues[vh->n_queues++];
    memset(q, 0, sizeof(*q));
    q->name = xstrdup(name);
    return q;
}

struct binding *vhost_add_binding(struct vhost *vh)
{
    struct binding *b;

    XGROW(vh->bindings, vh->cap_bindings, vh->n_bindings + 1);
    b = &vh->bindings[vh->n_bindings++];
    memset(b, 0, sizeof(*b));
    tval_set_map(&b->args);
    return b;
}

struct policy *vhost_add_policy(struct vhost *vh, const char *name)
{
    struct policy *p;

    XGROW(vh->policies, vh->cap_policies, vh->n_policies + 1);
    p = &vh->policies[vh->n_policies++];
    memset(p, 0, sizeof(*p));
    p->name = xstrdup(name);
    tval_set_map(&p->definition);
    return p;
}

static int cmp_exchange(const void *a, const void *b)
{
    return strcmp(((const struct exchange *)a)->name, ((const struct exchange *)b)->name);
}

static int cmp_queue(const void *a, const void *b)
{
    return strcmp(((const struct queue *)a)->name, ((const struct queue *)b)->name);
}

static int cmp_policy(const void *a, const void *b)
{
    return strcmp(((const struct policy *)a)->name, ((const struct policy *)b)->name);
}

static int cmp_binding(const void *pa, const void *pb)
{
    const struct binding *a = pa, *b = pb;
    int c = strcmp(a->source, b->source);

    if (!c)
        c = strcmp(a->destination, b->destination);
    if (!c)
        c = (int)a->dest_is_exchange - (int)b->dest_is_exchange;
    if (!c)
        c = strcmp(a->routing_key, b->routing_key);
    return c;
}

void vhost_sort(struct vhost *vh)
{
    if (vh->n_exchanges)
        qsort(vh->exchanges, vh->n_exchanges, sizeof(*vh->exchanges), cmp_exchange);
    if (vh->n_queues)
        qsort(vh->queues, vh->n_queues, sizeof(*vh->queues), cmp_queue);
    if (vh->n_policies)
        qsort(vh->policies, vh->n_policies, sizeof(*vh->policies), cmp_policy);
    if (vh->n_bindings)
        qsort(vh->bindings, vh->n_bindings, sizeof(*vh->bindings), cmp_binding);
    vhost_index(vh);
}

void vhost_index(struct vhost *vh)
{
    size_t k;

    strmap_release(&vh->exchange_index);
    strmap_release(&vh->queue_index);
    for (k = 0; k < vh->n_exchanges; k++)
        strmap_put(&vh->exchange_index, vh->exchanges[k].name, strlen(vh->exchanges[k].name), k);
    for (k = 0; k < vh->n_queues; k++)
        strmap_put(&vh->queue_index, vh->queues[k].name, strlen(vh->queues[k].name), k);
}

struct exchange *vhost_find_exchange(const struct vhost *vh, const char *name)
{
    size_t k;

    if (!strmap_get(&vh->exchange_index, name, strlen(name), &k))
        return NULL;
    return &vh->exchanges[k];
}

struct queue *vhost_find_queue(const struct vhost *vh, const char *name)
{
    size_t k;

    if (!strmap_get(&vh->queue_index, name, strlen(name), &k))
        return NULL;
    return &vh->queues[k];
}

struct targ *targs_add(struct targs *a, const char *key, struct tval *val, struct rmqt_pos pos,
                       const char *field)
{
    struct targ *t;

    XGROW(a->v, a->cap, a->n + 1);
    t = &a->v[a->n++];
    t->key = xstrdup(key);
    t->val = *val;
    memset(val, 0, sizeof(*val));
    t->pos = pos;
    t->field = field;
    return t;
}

const struct targ *targs_get(const struct targs *a, const char *key)
{
    size_t k;

    for (k = 0; k < a->n; k++)
        if (strcmp(a->v[k].key, key) == 0)
            return &a->v[k];
    return NULL;
}

void binding_identity(struct strbuf *sb, const struct binding *b)
{
    strbuf_add_counted(sb, b->source);
    strbuf_add_counted(sb, b->destination);
    strbuf_addc(sb, b->dest_is_exchange ? 'e' : 'q');
    strbuf_add_counted(sb, b->routing_key);
    tval_canonical(sb, &b->args);
}

const char *queue_type_name(enum queue_type t)
{
    switch (t) {
    case QT_CLASSIC:
        return "classic";
    case QT_QUORUM:
        return "quorum";
    case QT_STREAM:
        return "stream";
    }
    return "classic";
}

bool queue_type_parse(const char *s, enum queue_type *out)
{
    if (strcmp(s, "classic") == 0)
        *out = QT_CLASSIC;
    else if (strcmp(s, "quorum") == 0)
        *out = QT_QUORUM;
    else if (strcmp(s, "stream") == 0)
        *out = QT_STREAM;
    else
        return false;
    return true;
}

#define HOLDING_PREFIX "rmqtopo.migrate."

char *holding_queue_name(const char *queue)
{
    size_t n = strlen(queue);

    /* a queue name is at most 255 bytes: keep the prefix, cut the name, add its hash */
    if (n + sizeof(HOLDING_PREFIX) - 1 <= 255)
        return xasprintf(HOLDING_PREFIX "%s", queue);
    return xasprintf(HOLDING_PREFIX "%.200s.%016llx", queue,
                     (unsigned long long)rmqt_hash(queue, n));
}

bool is_holding_queue_name(const char *name)
{
    return strncmp(name, HOLDING_PREFIX, sizeof(HOLDING_PREFIX) - 1) == 0;
}
