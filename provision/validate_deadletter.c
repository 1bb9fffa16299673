/*
 * validate_deadletter.c - dead-letter routes, with the file's policies applied as the broker
 * applies them (arguments win for dead-letter-*, policies win for overflow on quorum queues):
 * where a dead-lettered message goes, routes that lose it, cycles, and settings that make
 * dead-lettering unsafe. Route results are cached per (exchange, routing key).
 */
#include "validate_internal.h"

#include "policymatch.h"
#include "routing.h"
#include "strbuf.h"
#include "strmap.h"
#include "textutil.h"
#include "units.h"
#include "xalloc.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* dead-lettering, with the file's policies applied as the broker applies them */

struct effective {
    const char *dlx;         /* NULL: the queue does not dead-letter */
    struct rmqt_pos dlx_pos; /* the argument, or the queue for a policy's */
    const struct targ *dlx_arg;
    const char *dlrk; /* NULL: the message's own routing keys */
    const char *strategy;
    const struct targ *strategy_arg;
    const char *overflow;
    bool overflow_from_policy;
    bool capped;  /* a TTL or a length limit bounds the queue */
    bool limited; /* capped, or a delivery limit */
};

static struct rmqt_pos policy_def_pos(const struct policy *p, const char *key)
{
    size_t k;

    for (k = 0; p->def_pos && k < p->definition.n; k++)
        if (strcmp(p->definition.entries[k].key, key) == 0)
            return p->def_pos[k];
    return p->definition_pos;
}

static const char *str_arg(const struct queue *q, const char *key, const struct targ **out)
{
    const struct targ *a = targs_get(&q->args, key);
    if (out)
        *out = a && a->val.kind == TV_STRING ? a : NULL;
    return a && a->val.kind == TV_STRING ? a->val.s : NULL;
}

static const char *str_def(const struct policy *p, const char *key)
{
    const struct tval *v = p ? tval_get(&p->definition, key) : NULL;
    return v && v->kind == TV_STRING ? v->s : NULL;
}

static bool has_int(const struct queue *q, const struct policy *p, const char *arg, const char *def)
{
    const struct targ *a = targs_get(&q->args, arg);
    const struct tval *v = p ? tval_get(&p->definition, def) : NULL;
    return (a && a->val.kind == TV_INT) || (v && v->kind == TV_INT);
}

static void effective_of(const struct vctx *c, size_t qi, struct effective *e)
{
    const struct queue *q = &c->vh->queues[qi];
    const struct policy *p = c->qpolicy[qi];
    const char *pol;

    memset(e, 0, sizeof(*e));
    if (q->type == QT_STREAM) {
        /* streams never dead-letter; they are bounded by size or age */
        const struct tval *age = p ? tval_get(&p->definition, "max-age") : NULL;
        e->capped = has_int(q, p, "x-max-length-bytes", "max-length-bytes") ||
                    str_arg(q, "x-max-age", NULL) || (age && age->kind == TV_STRING);
        e->limited = e->capped;
        return;
    }
    e->dlx = str_arg(q, "x-dead-letter-exchange", &e->dlx_arg);
    e->dlx_pos = e->dlx_arg ? e->dlx_arg->pos : q->pos;
    if (!e->dlx)
        e->dlx = str_def(p, "dead-letter-exchange");
    e->dlrk = str_arg(q, "x-dead-letter-routing-key", NULL);
    if (!e->dlrk && !e->dlx_arg)
        e->dlrk = str_def(p, "dead-letter-routing-key");
    e->strategy = str_arg(q, "x-dead-letter-strategy", &e->strategy_arg);
    if (!e->strategy)
        e->strategy = str_def(p, "dead-letter-strategy");
    e->overflow = str_arg(q, "x-overflow", NULL);
    pol = str_def(p, "overflow");
    /* on quorum queues a policy's overflow wins; on classic queues the argument does */
    if (pol && (q->type == QT_QUORUM || !e->overflow)) {
        e->overflow_from_policy = e->overflow == NULL || strcmp(e->overflow, pol) != 0;
        e->overflow = pol;
    }
    e->capped = has_int(q, p, "x-message-ttl", "message-ttl") ||
                has_int(q, p, "x-max-length", "max-length") ||
                has_int(q, p, "x-max-length-bytes", "max-length-bytes");
    e->limited = e->capped || has_int(q, p, "x-delivery-limit", "delivery-limit");
}

/* Queues a message reaches when published to exchange with routing key rk (NULL = any key).
 * *unknown is set when the file cannot tell (the default exchange without a known key). */
struct route {
    size_t *queues;
    size_t n, cap;
    bool unknown;
};

const char *exchange_type_of(const struct vctx *c, const char *name)
{
    const struct exchange *x = vhost_find_exchange(c->vh, name);
    if (x)
        return x->type ? x->type : "direct";
    return builtin_exchange_type(name);
}

static void compute_route(const struct vctx *c, const char *exchange, const char *rk,
                          struct route *r)
{
    const struct vhost *vh = c->vh;
    const char **stack = NULL;
    size_t n_stack = 0, cap_stack = 0;
    struct strmap visited, added;

    memset(r, 0, sizeof(*r));
    if (exchange[0] == '\0') {
        const struct queue *q = rk ? vhost_find_queue(vh, rk) : NULL;
        if (!rk)
            r->unknown = true;
        else if (q) {
            XGROW(r->queues, r->cap, 1);
            r->queues[r->n++] = (size_t)(q - vh->queues);
        }
        return;
    }
    strmap_init(&visited);
    strmap_init(&added);
    XGROW(stack, cap_stack, 1);
    stack[n_stack++] = exchange;
    strmap_put(&visited, exchange, strlen(exchange), 0);
    while (n_stack) {
        const char *x = stack[--n_stack];
        const char *xtype = exchange_type_of(c, x);
        const struct exchange *xo = vhost_find_exchange(vh, x);
        size_t b;
        bool matched = false;

        int pass;

        if (!xtype)
            continue;
        /* direct and topic with a known key: the bindings with exactly that key, then (topic)
         * the wildcard ones; anything else: every binding of the exchange */
        for (pass = 0; pass < 2; pass++) {
            bool by_key = rk && (strcmp(xtype, "direct") == 0 || strcmp(xtype, "topic") == 0);
            size_t *next = !by_key ? c->bsrc_next : pass == 0 ? c->bkey_next : c->bwild_next;
            if (!by_key && pass == 1)
                break;
            if (by_key && pass == 1 && strcmp(xtype, "topic") != 0)
                break;
            b = !by_key     ? bindings_from(c, x)
                : pass == 0 ? bindings_with_key(c, x, rk)
                            : bindings_wild(c, x);
            for (; b != (size_t)-1; b = next[b]) {
                const struct binding *bd = &vh->bindings[b];
                if (!routing_could_match(xtype, bd->routing_key, rk))
                    continue;
                matched = true;
                if (bd->dest_is_exchange) {
                    if (strmap_put(&visited, bd->destination, strlen(bd->destination), 0)) {
                        XGROW(stack, cap_stack, n_stack + 1);
                        stack[n_stack++] = bd->destination;
                    }
                } else {
                    const struct queue *q = vhost_find_queue(vh, bd->destination);
                    if (q && strmap_put(&added, q->name, strlen(q->name), 0)) {
                        XGROW(r->queues, r->cap, r->n + 1);
                        r->queues[r->n++] = (size_t)(q - vh->queues);
                    }
                }
            }
        }
        if (xo && (!matched || !rk)) {
            const struct targ *ae = targs_get(&xo->args, "alternate-exchange");
            if (ae && ae->val.kind == TV_STRING &&
                strmap_put(&visited, ae->val.s, strlen(ae->val.s), 0)) {
                XGROW(stack, cap_stack, n_stack + 1);
                stack[n_stack++] = ae->val.s;
            }
        }
    }
    free(stack);
    strmap_release(&visited);
    strmap_release(&added);
}

/* Route results cached by (exchange, routing key): many queues share one dead-letter route. */
struct route_cache {
    struct strmap index;
    char **keys;
    struct route *routes;
    size_t n, cap_keys, cap_routes;
};

/* The index in rc->routes of the route for (exchange, rk), computed on first use. An index,
 * not a pointer: the array grows. */
static size_t cached_route(const struct vctx *c, struct route_cache *rc, const char *exchange,
                           const char *rk)
{
    struct strbuf key = {0};
    size_t idx;

    strbuf_add_counted(&key, exchange);
    strbuf_addc(&key, rk ? 'k' : 'n');
    strbuf_adds(&key, rk ? rk : "");
    if (strmap_get(&rc->index, key.buf, key.len, &idx)) {
        strbuf_release(&key);
        return idx;
    }
    XGROW(rc->keys, rc->cap_keys, rc->n + 1);
    XGROW(rc->routes, rc->cap_routes, rc->n + 1);
    compute_route(c, exchange, rk, &rc->routes[rc->n]);
    rc->keys[rc->n] = strbuf_detach(&key, NULL);
    /* the index keeps pointers to the key strings, which do not move once allocated */
    strmap_put(&rc->index, rc->keys[rc->n], strlen(rc->keys[rc->n]), rc->n);
    return rc->n++;
}

static void route_cache_release(struct route_cache *rc)
{
    size_t k;

    for (k = 0; k < rc->n; k++) {
        free(rc->keys[k]);
        free(rc->routes[k].queues);
    }
    free(rc->keys);
    free(rc->routes);
    strmap_release(&rc->index);
}

/* Tarjan's strongly connected components, iteratively, over the dead-letter graph. */
struct dlgraph {
    const struct route_cache *rc;
    size_t *out; /* per queue: the index of its dead-letter route in rc, or NO_ROUTE */
    size_t n;
};

#define NO_ROUTE ((size_t)-1)

static const struct route *graph_out(const struct dlgraph *g, size_t q)
{
    return g->out[q] == NO_ROUTE ? NULL : &g->rc->routes[g->out[q]];
}

static void report_cycles(struct vctx *c, const struct dlgraph *g, const struct effective *eff)
{
    size_t n = g->n, next_index = 0, k;
    size_t *index = xmalloc((n + 1) * sizeof(size_t));
    size_t *low = xmalloc((n + 1) * sizeof(size_t));
    bool *on_stack = xcalloc(n + 1, sizeof(bool));
    size_t *stack = xmalloc((n + 1) * sizeof(size_t)), sp = 0;
    size_t *cs_node = xmalloc((n + 1) * sizeof(size_t)),
           *cs_edge = xmalloc((n + 1) * sizeof(size_t));
    size_t csp;
    const size_t UNSET = (size_t)-1;

    for (k = 0; k < n; k++)
        index[k] = UNSET;
    for (k = 0; k < n; k++) {
        if (index[k] != UNSET)
            continue;
        csp = 0;
        cs_node[csp] = k;
        cs_edge[csp++] = 0;
        index[k] = low[k] = next_index++;
        stack[sp++] = k;
        on_stack[k] = true;
        while (csp) {
            size_t v = cs_node[csp - 1];
            const struct route *r = graph_out(g, v);
            if (r && cs_edge[csp - 1] < r->n) {
                size_t w = r->queues[cs_edge[csp - 1]++];
                if (index[w] == UNSET) {
                    index[w] = low[w] = next_index++;
                    stack[sp++] = w;
                    on_stack[w] = true;
                    cs_node[csp] = w;
                    cs_edge[csp++] = 0;
                } else if (on_stack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            csp--;
            if (csp && low[v] < low[cs_node[csp - 1]])
                low[cs_node[csp - 1]] = low[v];
            if (low[v] == index[v]) {
                /* pop one component: v and everything above it */
                size_t start = sp, m, first = v;
                bool cycle, ends = false;
                do {
                    start--;
                } while (stack[start] != v);
                cycle = sp - start > 1;
                if (!cycle && graph_out(g, v)) {
                    for (m = 0; m < graph_out(g, v)->n; m++)
                        cycle = cycle || graph_out(g, v)->queues[m] == v;
                }
                for (m = start; m < sp; m++) {
                    ends = ends || eff[stack[m]].limited;
                    if (stack[m] < first)
                        first = stack[m];
                }
                if (cycle && !ends) {
                    struct strbuf names = {0};
                    size_t shown = 0;
                    for (m = start; m < sp && shown < 6; m++, shown++)
                        strbuf_addf(&names, "%s'%s'", shown ? ", " : "",
                                    qs(0, c->vh->queues[stack[m]].name));
                    if (sp - start > shown)
                        strbuf_addf(&names, " and %zu more", sp - start - shown);
                    if (sp - start == 1)
                        vdiag(c, DIAG_WARNING, c->vh->queues[first].pos,
                              queue_path(c, &c->vh->queues[first], NULL),
                              "dead-letter cycle with no TTL or limit to end it: queue %s "
                              "dead-letters into itself, so a rejected message can circle "
                              "forever",
                              strbuf_str(&names));
                    else
                        vdiag(c, DIAG_WARNING, c->vh->queues[first].pos,
                              queue_path(c, &c->vh->queues[first], NULL),
                              "dead-letter cycle with no TTL or limit to end it: %s dead-letter "
                              "into each other, so a rejected message can circle forever",
                              strbuf_str(&names));
                    strbuf_release(&names);
                }
                for (m = start; m < sp; m++)
                    on_stack[stack[m]] = false;
                sp = start;
            }
        }
    }
    free(index);
    free(low);
    free(on_stack);
    free(stack);
    free(cs_node);
    free(cs_edge);
}

/* A dead-letter queue without thresholds: nothing tells anyone it fills (guidance's checklist:
 * "DLQ alerts configured?"). Also reports the queue to the caller's on_dlq. */
static void check_dlq_alert(struct vctx *c, size_t k)
{
    const struct vhost *vh = c->vh;
    const struct queue *q = &vh->queues[k];

    if (c->opts && c->opts->on_dlq)
        c->opts->on_dlq(c->opts->on_dlq_ctx, (size_t)(vh - c->t->vhosts), k);
    if (rmqt_thresholds_any(&q->alert) || rmqt_thresholds_any(&vh->alert_defaults))
        return;
    vdiag(c, DIAG_WARNING, q->pos, queue_path(c, q, NULL),
          "dead-letter queue '%s' has no alert thresholds: nothing tells anyone it is filling "
          "(DLQ alerts configured? add e.g. alert: { messages: { warning: 1, critical: 100 } }, "
          "or alert_defaults on the vhost)",
          qs(0, q->name));
}

void check_dead_lettering(struct vctx *c)
{
    const struct vhost *vh = c->vh;
    struct effective *eff = xcalloc(vh->n_queues + 1, sizeof(*eff));
    struct route_cache rc;
    struct dlgraph g;
    bool *is_dlq = xcalloc(vh->n_queues + 1, sizeof(bool));
    size_t k, m;

    memset(&rc, 0, sizeof(rc));
    g.n = vh->n_queues;
    g.rc = &rc;
    g.out = xmalloc((vh->n_queues + 1) * sizeof(*g.out));
    for (k = 0; k < vh->n_queues; k++)
        g.out[k] = NO_ROUTE;
    for (k = 0; k < vh->n_queues; k++)
        effective_of(c, k, &eff[k]);
    for (k = 0; k < vh->n_queues; k++) {
        const struct queue *q = &vh->queues[k];
        const struct effective *e = &eff[k];
        const struct route *r;
        const char *dpath;

        if (!e->dlx || !exchange_type_of(c, e->dlx))
            continue; /* no dead-lettering, or an undefined exchange (warned about already:
                       * its messages are dropped, so the checks below have nothing to say) */
        g.out[k] = cached_route(c, &rc, e->dlx, e->dlrk);
        r = &rc.routes[g.out[k]];
        for (m = 0; m < r->n; m++)
            is_dlq[r->queues[m]] = true;
        dpath = e->dlx_arg ? arg_path(c, "queues", q->name, e->dlx_arg) : queue_path(c, q, NULL);
        if (r->n == 0 && !r->unknown) {
            if (e->dlrk)
                vdiag(c, DIAG_WARNING, e->dlx_pos, dpath,
                      "messages dead-lettered from '%s' would be dropped: exchange '%s' has no "
                      "binding that routes key '%s' to a queue",
                      qs(0, q->name), qs(1, e->dlx[0] ? e->dlx : "(default)"), e->dlrk);
            else
                vdiag(c, DIAG_WARNING, e->dlx_pos, dpath,
                      "messages dead-lettered from '%s' would be dropped: exchange '%s' has no "
                      "binding that routes to a queue",
                      qs(0, q->name), qs(1, e->dlx));
        }
        if (q->type == QT_QUORUM && !(e->strategy && strcmp(e->strategy, "at-least-once") == 0)) {
            if (e->strategy_arg) /* written out: point at it */
                dpath = arg_path(c, "queues", q->name, e->strategy_arg);
            vdiag(c, DIAG_WARNING, e->strategy_arg ? e->strategy_arg->pos : e->dlx_pos, dpath,
                  "quorum queue '%s' dead-letters at-most-once: messages can be lost on "
                  "the way to '%s' (set dead_letter_strategy: at-least-once with overflow: "
                  "reject-publish)",
                  qs(0, q->name), qs(1, e->dlx[0] ? e->dlx : "(default)"));
        }
    }
    /* at-least-once needs reject-publish whether or not the dead-letter exchange is known */
    for (k = 0; k < vh->n_queues; k++) {
        const struct queue *q = &vh->queues[k];
        const struct effective *e = &eff[k];
        const struct targ *sa = e->strategy_arg;

        if (q->type != QT_QUORUM || q->type_unknown || !e->strategy ||
            strcmp(e->strategy, "at-least-once") != 0)
            continue;
        if (e->overflow && strcmp(e->overflow, "reject-publish") == 0)
            continue;
        vdiag(c, DIAG_ERROR, sa ? sa->pos : q->pos,
              sa ? arg_path(c, "queues", q->name, sa) : queue_path(c, q, NULL),
              "dead_letter_strategy at-least-once needs overflow: reject-publish (on the queue or "
              "from a policy); with %s%s%s the broker silently falls back to at-most-once",
              e->overflow ? "overflow '" : "no overflow", e->overflow ? qs(0, e->overflow) : "",
              e->overflow ? "'" : "");
    }
    for (k = 0; k < vh->n_queues; k++) {
        const struct queue *q = &vh->queues[k];
        const struct policy *p = c->qpolicy[k];
        const char *own = str_arg(q, "x-overflow", NULL), *pol = str_def(p, "overflow");

        if (is_dlq[k])
            check_dlq_alert(c, k);
        if (is_dlq[k] && !eff[k].capped)
            vdiag(c, DIAG_WARNING, q->pos, queue_path(c, q, NULL),
                  "dead-letter queue '%s' has no message_ttl, max_length or max_length_bytes, "
                  "nor a policy capping it: it can grow without bound",
                  qs(0, q->name));
        if (q->type == QT_QUORUM && own && pol && strcmp(own, pol) != 0)
            vdiag(c, DIAG_WARNING, policy_def_pos(p, "overflow"),
                  policy_path(c, p, "definition.overflow"),
                  "policy '%s' sets overflow '%s' on quorum queue '%s', overriding the queue's "
                  "own '%s' (on quorum queues a policy's overflow wins)",
                  qs(0, p->name), pol, qs(1, q->name), own);
    }
    report_cycles(c, &g, eff);
    route_cache_release(&rc);
    free(g.out);
    free(eff);
    free(is_dlq);
}
