/*
 * inspect.c - dlq inspect: a non-destructive read (browse.c) that reads each message's most
 * recent death (death.c) and groups the messages by (queue died in, reason).
 *
 * Nothing of a message is kept after its callback: only the groups grow, so memory stays flat
 * in the number of messages read (the caller streams its output).
 */
#include "inspect.h"

#include "source.h"

#include "strmap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct inspect_run {
    struct inspect_result *res;
    struct strmap index; /* group key -> position in res->groups */
    size_t cap;
    void (*each)(void *ctx, const struct inspect_message *m);
    void *ctx;
    long delivery_limit;
};

static void add_to_group(struct inspect_run *r, const struct death *d)
{
    struct inspect_result *res = r->res;
    struct inspect_group *g;
    size_t ql = d->present ? d->queue.len : 0, rl = d->present ? d->reason.len : 0;
    size_t klen = ql + 1 + rl + (d->present ? 1 : 0), at;
    char *key = xmalloc(klen + 1);

    /* messages without a death record get a key of their own: a single "\0" */
    memcpy(key, d->queue.bytes ? d->queue.bytes : "", ql);
    key[ql] = '\0';
    if (d->present) {
        memcpy(key + ql + 1, d->reason.bytes ? d->reason.bytes : "", rl);
        key[ql + 1 + rl] = '\0';
    }
    key[klen] = '\0';
    if (strmap_get(&r->index, key, klen, &at)) {
        free(key);
        g = &res->groups[at];
    } else {
        if (res->n_groups == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 8;
            res->groups = xrealloc(res->groups, r->cap * sizeof(*res->groups));
        }
        g = &res->groups[res->n_groups];
        memset(g, 0, sizeof(*g));
        g->key = key;
        if (d->present) {
            g->queue = key;
            g->reason = key + ql + 1;
        }
        strmap_put(&r->index, key, klen, res->n_groups++);
    }
    g->count++;
    if (d->has_time) {
        if (!g->has_time || d->time < g->first)
            g->first = d->time;
        if (!g->has_time || d->time > g->last)
            g->last = d->time;
        g->has_time = true;
    }
}

static int inspect_one(void *ctx, const amqp_envelope_t *env, struct rmqt_error *err)
{
    struct inspect_run *r = ctx;
    const amqp_basic_properties_t *p = &env->message.properties;
    struct inspect_message m;

    (void)err;
    memset(&m, 0, sizeof(m));
    m.env = env;
    death_read(p, &m.death);
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
        m.has_delivery_count =
            death_field_int(death_table_get(&p->headers, "x-delivery-count"), &m.delivery_count);
    add_to_group(r, &m.death);
    if (m.has_delivery_count) {
        struct inspect_result *res = r->res;
        if (!res->any_delivery_count || m.delivery_count > res->max_delivery_count)
            res->max_delivery_count = m.delivery_count;
        res->any_delivery_count = true;
        if (r->delivery_limit >= 0 && m.delivery_count >= r->delivery_limit)
            res->at_limit++;
    }
    if (r->each)
        r->each(r->ctx, &m);
    return 0;
}

static int cmp_str(const char *a, const char *b)
{
    if (!a || !b)
        return a ? -1 : b ? 1 : 0; /* messages without a death record last */
    return strcmp(a, b);
}

static int by_count(const void *x, const void *y)
{
    const struct inspect_group *a = x, *b = y;
    int c;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    c = cmp_str(a->queue, b->queue);
    return c ? c : cmp_str(a->reason, b->reason);
}

int inspect_run(struct rmqt_session *s, const char *queue, uint64_t limit, long delivery_limit,
                void (*each)(void *ctx, const struct inspect_message *m), void *ctx,
                const volatile sig_atomic_t *stop, struct inspect_result *res,
                struct rmqt_error *err)
{
    struct inspect_run r;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&r, 0, sizeof(r));
    r.res = res;
    r.each = each;
    r.ctx = ctx;
    r.delivery_limit = delivery_limit;
    strmap_init(&r.index);
    rc = browse_queue(s, queue, limit, inspect_one, &r, stop, &res->st, err);
    strmap_release(&r.index);
    if (res->n_groups > 1)
        qsort(res->groups, res->n_groups, sizeof(*res->groups), by_count);
    return rc;
}

const char *inspect_summary_refusal(const struct dlq_source *src, bool read_quorum)
{
    if (dlq_read_needs_consent(src) && !read_quorum)
        return "it is a quorum queue: a summary reads every message, and every read raises "
               "its x-delivery-count and brings it nearer the delivery limit (dlq status does "
               "not read quorum queues for that reason)";
    return NULL;
}

char *inspect_delivery_count_warning(const struct inspect_result *res, long delivery_limit)
{
    if (!res->any_delivery_count)
        return NULL;
    if (delivery_limit >= 0)
        return xasprintf(
            "the highest x-delivery-count read is %lld, against a delivery limit of %ld",
            (long long)res->max_delivery_count, delivery_limit);
    return xasprintf("the highest x-delivery-count read is %lld (no delivery limit in force)",
                     (long long)res->max_delivery_count);
}

bool inspect_ok(const struct inspect_result *res, bool stopped)
{
    return !stopped && res->at_limit == 0;
}

void inspect_result_release(struct inspect_result *res)
{
    size_t i;
    if (!res)
        return;
    for (i = 0; i < res->n_groups; i++)
        free(res->groups[i].key);
    free(res->groups);
    res->groups = NULL;
    res->n_groups = 0;
}
