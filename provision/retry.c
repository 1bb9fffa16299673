/*
 * retry.c - `retry_ladders` and `retry` read from the file and expanded into plain objects
 * (see retry.h for the shape and the names).
 *
 * Decisions:
 * - The expansion runs inside loading, so validate, plan, apply, export and graph see only
 *   plain objects; each generated object keeps the key path of the `retry` that caused it
 *   (origin) and that key's position, so messages about it point at the key.
 * - Objects of a named ladder are generated once, at the first queue that uses it.
 * - A generated name that the file declares itself is an error at the `retry` key, except the
 *   dead-letter queue: one the file declares is used as it is, and gets only its binding.
 * - The work queue's own dead-letter settings are kept; one that sends dead letters elsewhere
 *   than the ladder's exchange is an error (the ladder's DLQ would never see them). A policy
 *   of the file that sets them is honoured the same way, so a file whose policy already says
 *   so expands without touching the queue's arguments.
 */
#include "retry.h"

#include "policymatch.h"
#include "strbuf.h"
#include "textutil.h"
#include "units.h"
#include "xalloc.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rctx {
    const char *file;
    struct diag_list *dl;
    struct strbuf path;
};

static void rerr(struct rctx *c, struct rmqt_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rerr(struct rctx *c, struct rmqt_pos pos, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    diag_add(c->dl, DIAG_ERROR, c->file, pos, strbuf_str(&c->path), "%s", buf);
}

static size_t push(struct rctx *c, const char *seg)
{
    size_t old = c->path.len;
    if (c->path.len)
        strbuf_addc(&c->path, '.');
    strbuf_adds(&c->path, seg);
    return old;
}

static void pop(struct rctx *c, size_t old)
{
    c->path.len = old;
    c->path.buf[old] = '\0';
}

static struct retry_spec *spec_of(struct retry_spec **spec)
{
    if (!*spec)
        *spec = xcalloc(1, sizeof(**spec));
    return *spec;
}

static const char *scalar_text(struct rctx *c, const struct ynode *n, const char *what)
{
    if (n->kind == YN_SCALAR && n->bad)
        return NULL;
    if (n->kind == YN_SCALAR && n->type != YS_NULL && n->len && strlen(n->text) == n->len)
        return n->text;
    rerr(c, n->pos, "expected %s, found %s", what,
         n->kind == YN_SCALAR ? (n->type == YS_NULL ? "null" : "an empty or invalid string")
                              : ynode_describe_kind(n));
    return NULL;
}

static bool duration(struct rctx *c, const struct ynode *n, int64_t *ms, char **text)
{
    const char *why;

    if (n->kind == YN_SCALAR && n->bad)
        return false;
    if (n->kind == YN_SCALAR && n->type == YS_INT) {
        *ms = n->i;
        if (text)
            *text = xasprintf("%lldms", (long long)n->i);
        return true;
    }
    if (n->kind == YN_SCALAR && n->type == YS_STRING) {
        if (units_parse_duration(n->text, ms, &why) == 0) {
            if (text)
                *text = xstrdup(n->text);
            return true;
        }
        rerr(c, n->pos, "invalid duration '%.60s': %s (e.g. 500ms, 10s, 5m, 2h, 7d)", n->text, why);
        return false;
    }
    rerr(c, n->pos, "expected a duration (milliseconds, or a number with a unit), found %s",
         n->kind == YN_SCALAR ? "a scalar of another type" : ynode_describe_kind(n));
    return false;
}

static void ladder_free(struct retry_ladder *l)
{
    size_t k;

    if (!l)
        return;
    free(l->name);
    free(l->prefix);
    for (k = 0; k < l->n_delays; k++)
        free(l->delay_text[k]);
    free(l->delay_text);
    free(l->delay_ms);
    free(l->dlq);
    free(l);
}

static void ladder_default_delays(struct retry_ladder *l)
{
    static const char *const d[] = {RETRY_DEFAULT_DELAYS};
    size_t k;

    l->n_delays = sizeof(d) / sizeof(d[0]);
    l->delay_text = xcalloc(l->n_delays, sizeof(char *));
    l->delay_ms = xcalloc(l->n_delays, sizeof(int64_t));
    for (k = 0; k < l->n_delays; k++) {
        const char *why;
        l->delay_text[k] = xstrdup(d[k]);
        units_parse_duration(d[k], &l->delay_ms[k], &why);
    }
}

/* A ladder map: delays, dead_letter_queue, dead_letter_retention, prefix. */
static struct retry_ladder *load_ladder(struct rctx *c, const char *name, const struct ynode *n)
{
    static const char *const keys[] = {"delays", "dead_letter_queue", "dead_letter_retention",
                                       "prefix", NULL};
    struct retry_ladder *l = xcalloc(1, sizeof(*l));
    bool have_delays = false;
    size_t k, i;

    l->name = name ? xstrdup(name) : NULL;
    l->pos = n->pos;
    l->retention_ms = RETRY_DEFAULT_RETENTION_MS;
    if (n->kind == YN_SCALAR && n->type == YS_NULL) {
        ladder_default_delays(l);
        return l;
    }
    if (n->kind != YN_MAP) {
        rerr(c, n->pos,
             "expected a retry ladder (a map: delays, dead_letter_queue, "
             "dead_letter_retention, prefix), found %s",
             ynode_describe_kind(n));
        l->bad = true;
        return l;
    }
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        size_t old;
        const char *s;

        if (key->kind != YN_SCALAR || key->bad)
            continue;
        old = push(c, key->text);
        if (strcmp(key->text, "delays") == 0) {
            have_delays = true;
            if (val->kind != YN_SEQ || val->n == 0) {
                rerr(c, val->pos, "expected a non-empty list of delays (e.g. [1s, 10s, 60s])");
                l->bad = true;
            } else {
                size_t base = c->path.len;
                l->delay_text = xcalloc(val->n, sizeof(char *));
                l->delay_ms = xcalloc(val->n, sizeof(int64_t));
                for (i = 0; i < val->n; i++) {
                    const struct ynode *d = val->items[i];
                    int64_t ms;
                    char *text = NULL;
                    size_t j;

                    strbuf_addf(&c->path, "[%zu]", i);
                    if (!duration(c, d, &ms, &text)) {
                        l->bad = true;
                    } else if (ms <= 0) {
                        rerr(c, d->pos, "a retry delay must be above 0 ms");
                        l->bad = true;
                        free(text);
                    } else {
                        for (j = 0; j < l->n_delays; j++)
                            if (l->delay_ms[j] == ms || strcmp(l->delay_text[j], text) == 0)
                                break;
                        if (j < l->n_delays) {
                            rerr(c, d->pos,
                                 "delay '%s' repeats delays[%zu] ('%s'): each step of a ladder "
                                 "has its own wait queue",
                                 text, j, l->delay_text[j]);
                            l->bad = true;
                            free(text);
                        } else {
                            l->delay_text[l->n_delays] = text;
                            l->delay_ms[l->n_delays++] = ms;
                        }
                    }
                    pop(c, base);
                }
            }
        } else if (strcmp(key->text, "dead_letter_queue") == 0) {
            if ((s = scalar_text(c, val, "a queue name")) != NULL) {
                free(l->dlq);
                l->dlq = xstrdup(s);
            } else {
                l->bad = true;
            }
        } else if (strcmp(key->text, "dead_letter_retention") == 0) {
            int64_t ms;
            if (!duration(c, val, &ms, NULL))
                l->bad = true;
            else if (ms < 0) {
                rerr(c, val->pos, "a retention must not be negative");
                l->bad = true;
            } else
                l->retention_ms = ms;
        } else if (strcmp(key->text, "prefix") == 0) {
            if ((s = scalar_text(c, val, "a name prefix")) != NULL) {
                free(l->prefix);
                l->prefix = xstrdup(s);
            } else {
                l->bad = true;
            }
        } else {
            const char *guess = rmqt_did_you_mean(key->text, keys);
            if (guess)
                rerr(c, key->pos, "unknown key '%.60s' (did you mean '%s'?)", key->text, guess);
            else
                rerr(c, key->pos,
                     "unknown key '%.60s' (expected one of: delays, dead_letter_queue, "
                     "dead_letter_retention, prefix)",
                     key->text);
            l->bad = true;
        }
        pop(c, old);
    }
    if (!have_delays)
        ladder_default_delays(l);
    return l;
}

void retry_load_ladders(struct retry_spec **specp, const char *file, const char *path,
                        const struct ynode *n, struct diag_list *dl)
{
    struct rctx c = {file, dl, {0}};
    struct retry_spec *spec = spec_of(specp);
    size_t k;

    strbuf_adds(&c.path, path);
    if (n->kind == YN_SCALAR && n->type == YS_NULL)
        goto out;
    if (n->kind != YN_MAP) {
        rerr(&c, n->pos, "expected a map of retry ladders (name -> ladder), found %s",
             ynode_describe_kind(n));
        goto out;
    }
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k];
        size_t old;

        if (key->kind != YN_SCALAR || key->bad)
            continue;
        old = push(&c, key->text);
        if (!key->len || strlen(key->text) != key->len) {
            rerr(&c, key->pos, "a retry ladder needs a name");
        } else {
            struct retry_ladder *l = load_ladder(&c, key->text, n->items[k + 1]);
            l->pos = key->pos;
            XGROW(spec->ladders, spec->cap_ladders, spec->n_ladders + 1);
            spec->ladders[spec->n_ladders++] = l;
        }
        pop(&c, old);
    }
out:
    strbuf_release(&c.path);
}

void retry_load_use(struct retry_spec **specp, const char *file, const char *path,
                    const char *queue, const struct ynode *n, struct diag_list *dl)
{
    struct rctx c = {file, dl, {0}};
    struct retry_spec *spec = spec_of(specp);
    struct retry_use *u;

    strbuf_adds(&c.path, path);
    XGROW(spec->uses, spec->cap_uses, spec->n_uses + 1);
    u = &spec->uses[spec->n_uses++];
    memset(u, 0, sizeof(*u));
    u->queue = xstrdup(queue);
    u->pos = n->pos;
    u->path = xstrdup(path);
    if (n->kind == YN_SCALAR && n->type == YS_STRING) {
        const char *s = scalar_text(&c, n, "a retry ladder's name");
        if (s)
            u->ladder = xstrdup(s);
        else
            u->bad = true;
    } else if (n->kind == YN_MAP || (n->kind == YN_SCALAR && n->type == YS_NULL)) {
        u->inline_ = load_ladder(&c, NULL, n);
        u->bad = u->inline_->bad;
    } else {
        if (!(n->kind == YN_SCALAR && n->bad))
            rerr(&c, n->pos,
                 "expected the name of a retry ladder (retry_ladders) or a ladder "
                 "({ delays: [1s, 10s, 60s], dead_letter_queue: Q, ... }), found %s",
                 ynode_describe_kind(n));
        u->bad = true;
    }
    strbuf_release(&c.path);
}

void retry_spec_free(struct retry_spec *spec)
{
    size_t k;

    if (!spec)
        return;
    for (k = 0; k < spec->n_ladders; k++)
        ladder_free(spec->ladders[k]);
    free(spec->ladders);
    for (k = 0; k < spec->n_uses; k++) {
        free(spec->uses[k].queue);
        free(spec->uses[k].ladder);
        free(spec->uses[k].path);
        ladder_free(spec->uses[k].inline_);
    }
    free(spec->uses);
    free(spec);
}

/* ---------------------------------------------------------------------------------------- */
/* expansion */

static bool same_pos(struct rmqt_pos a, struct rmqt_pos b)
{
    return a.line == b.line && a.col == b.col && a.line != 0;
}

const char *retry_origin_at(const struct vhost *vh, struct rmqt_pos pos)
{
    size_t k;

    if (!vh || !vh->retry)
        return NULL;
    for (k = 0; k < vh->retry->n_uses; k++)
        if (same_pos(vh->retry->uses[k].pos, pos))
            return vh->retry->uses[k].path;
    return NULL;
}

static void index_vhost(struct vhost *vh)
{
    vhost_index(vh);
}

static void str_arg(struct targs *a, const char *key, const char *s, struct rmqt_pos pos,
                    const char *field)
{
    struct tval v = {0};
    tval_set_string(&v, s, strlen(s));
    targs_add(a, key, &v, pos, field);
}

static void int_arg(struct targs *a, const char *key, int64_t i, struct rmqt_pos pos,
                    const char *field)
{
    struct tval v = {0};
    tval_set_int(&v, i);
    targs_add(a, key, &v, pos, field);
}

static const char *where(const struct rmqt_pos p, char *buf, size_t size)
{
    snprintf(buf, size, "line %d", p.line);
    return buf;
}

/* Adds an exchange the ladder needs; false (reported) when the name is taken. */
static bool gen_exchange(struct rctx *c, struct vhost *vh, const struct retry_use *u,
                         const char *name, const char *type)
{
    struct exchange *x = vhost_find_exchange(vh, name);
    char buf[32];

    if (x) {
        if (x->origin)
            rerr(c, u->pos,
                 "the retry ladder's exchange '%.200s' is also made by %s: give one of the "
                 "ladders another prefix",
                 name, x->origin);
        else
            rerr(c, u->pos,
                 "the retry ladder's exchange '%.200s' clashes with the exchange of that name "
                 "the file declares (%s): rename it, or give the ladder another prefix",
                 name, where(x->pos, buf, sizeof(buf)));
        return false;
    }
    x = vhost_add_exchange(vh, name);
    x->pos = u->pos;
    x->type = xstrdup(type);
    x->type_pos = u->pos;
    x->origin = xstrdup(u->path);
    index_vhost(vh);
    return true;
}

static bool binding_exists(const struct vhost *vh, const char *source, const char *queue,
                           const char *rk, const struct tval *args)
{
    size_t k;

    for (k = 0; k < vh->n_bindings; k++) {
        const struct binding *b = &vh->bindings[k];
        if (!b->dest_is_exchange && b->source && strcmp(b->source, source) == 0 &&
            strcmp(b->destination, queue) == 0 && strcmp(b->routing_key, rk) == 0 &&
            (args ? tval_equal(&b->args, args) : b->args.n == 0))
            return true;
    }
    return false;
}

/* Adds a queue binding (args moved, may be NULL) unless the same binding is there. */
static void gen_binding(struct vhost *vh, const struct retry_use *u, const char *source,
                        const char *queue, const char *rk, struct tval *args)
{
    struct binding *b;

    if (binding_exists(vh, source, queue, rk, args)) {
        if (args)
            tval_release(args);
        return;
    }
    b = vhost_add_binding(vh);
    b->source = xstrdup(source);
    b->destination = xstrdup(queue);
    b->routing_key = xstrdup(rk);
    b->bind_queue = xstrdup(queue);
    b->index = (size_t)-1;
    b->pos = b->source_pos = b->dest_pos = u->pos;
    b->origin = xstrdup(u->path);
    if (args) {
        b->args = *args;
        memset(args, 0, sizeof(*args));
    } else {
        tval_set_map(&b->args);
    }
}

static struct queue *gen_quorum_queue(struct vhost *vh, const struct retry_use *u, const char *name)
{
    struct queue *q = vhost_add_queue(vh, name);

    q->pos = u->pos;
    q->type = QT_QUORUM;
    q->type_set = true;
    q->type_pos = u->pos;
    q->type_field = "type";
    q->origin = xstrdup(u->path);
    return q;
}

static char *dlq_name(const struct retry_ladder *l, const char *prefix)
{
    return l->dlq ? xstrdup(l->dlq) : xasprintf("%s.dlq", prefix);
}

/* The ladder's objects (once per ladder). */
static void expand_ladder(struct rctx *c, struct vhost *vh, struct retry_ladder *l,
                          const struct retry_use *u, const char *prefix)
{
    char *rx = xasprintf("%s.retry", prefix), *dlx = xasprintf("%s.dlx", prefix);
    char *dlq = dlq_name(l, prefix);
    size_t k;
    struct queue *q;
    char buf[32];

    gen_exchange(c, vh, u, rx, "headers");
    {
        for (k = 0; k < l->n_delays; k++) {
            char *wq = xasprintf("%s.%s", rx, l->delay_text[k]);
            struct tval args = {0};

            q = vhost_find_queue(vh, wq);
            if (q) {
                if (q->origin)
                    rerr(c, u->pos,
                         "the retry ladder's wait queue '%.200s' is also made by %s: give "
                         "one of the ladders another prefix",
                         wq, q->origin);
                else
                    rerr(c, u->pos,
                         "the retry ladder's wait queue '%.200s' clashes with the queue of "
                         "that name the file declares (%s): rename it, or give the ladder "
                         "another prefix",
                         wq, where(q->pos, buf, sizeof(buf)));
                free(wq);
                continue;
            }
            q = gen_quorum_queue(vh, u, wq);
            int_arg(&q->args, "x-message-ttl", l->delay_ms[k], u->pos, "message_ttl");
            str_arg(&q->args, "x-overflow", "reject-publish", u->pos, "overflow");
            str_arg(&q->args, "x-dead-letter-exchange", "", u->pos, "dead_letter_exchange");
            str_arg(&q->args, "x-dead-letter-strategy", "at-least-once", u->pos,
                    "dead_letter_strategy");
            index_vhost(vh);
            tval_set_map(&args);
            tval_set_string(tval_append(&args, "x-match"), "all", 3);
            tval_set_string(tval_append(&args, "retry-delay"), l->delay_text[k],
                            strlen(l->delay_text[k]));
            gen_binding(vh, u, rx, wq, "", &args);
            free(wq);
        }
    }
    gen_exchange(c, vh, u, dlx, "topic");
    q = vhost_find_queue(vh, dlq);
    if (!q) {
        q = gen_quorum_queue(vh, u, dlq);
        int_arg(&q->args, "x-message-ttl", l->retention_ms, u->pos, "message_ttl");
        index_vhost(vh);
    }
    gen_binding(vh, u, dlx, dlq, "#", NULL);
    free(rx);
    free(dlx);
    free(dlq);
}

/* The value of key in the definition of the policy of the file that applies to q, or NULL. */
static const struct tval *policy_value(const struct vhost *vh, const struct queue *q,
                                       const char *key, const char **policy)
{
    const struct policy *best = NULL;
    size_t k;

    for (k = 0; k < vh->n_policies; k++) {
        const struct policy *p = &vh->policies[k];
        regex_t re;
        bool match;

        if (!p->pattern || !policy_applies_to(p, true, q->type))
            continue;
        if (policy_pattern_compile(p->pattern, &re, NULL, 0) != 0)
            continue;
        match = regexec(&re, q->name, 0, NULL, 0) == 0;
        regfree(&re);
        if (match && (!best || p->priority > best->priority))
            best = p;
    }
    if (!best || best->definition.kind != TV_MAP)
        return NULL;
    *policy = best->name;
    return tval_get(&best->definition, key);
}

/* The work queue's side: its dead letters go to the ladder's exchange. */
static void expand_use(struct rctx *c, struct vhost *vh, const struct retry_use *u, const char *dlx)
{
    struct queue *q = vhost_find_queue(vh, u->queue);
    const struct targ *a;
    const struct tval *pv;
    const char *pol = NULL;

    if (!q)
        return;
    if (q->type == QT_STREAM) {
        rerr(c, u->pos, "a stream cannot dead-letter, so it cannot have a retry ladder");
        return;
    }
    a = targs_get(&q->args, "x-dead-letter-exchange");
    if (a) {
        if (a->val.kind != TV_STRING || strcmp(a->val.s, dlx) != 0)
            rerr(c, u->pos,
                 "the queue's own dead_letter_exchange is not the ladder's '%.200s': its "
                 "rejected messages would never reach the ladder's dead-letter queue (remove "
                 "it, or set it to '%.200s')",
                 dlx, dlx);
        return;
    }
    pv = policy_value(vh, q, "dead-letter-exchange", &pol);
    if (pv) {
        if (pv->kind != TV_STRING || strcmp(pv->s, dlx) != 0)
            rerr(c, u->pos,
                 "policy '%.100s' sets the queue's dead-letter-exchange to another exchange "
                 "than the ladder's '%.200s': its rejected messages would never reach the "
                 "ladder's dead-letter queue",
                 pol, dlx);
        return; /* the policy says it already */
    }
    str_arg(&q->args, "x-dead-letter-exchange", dlx, u->pos, "dead_letter_exchange");
    if (q->type != QT_QUORUM)
        return;
    if (!targs_get(&q->args, "x-dead-letter-strategy") &&
        !policy_value(vh, q, "dead-letter-strategy", &pol)) {
        const struct targ *ov = targs_get(&q->args, "x-overflow");
        const struct tval *pov = ov ? NULL : policy_value(vh, q, "overflow", &pol);
        bool reject =
            (ov && ov->val.kind == TV_STRING && strcmp(ov->val.s, "reject-publish") == 0) ||
            (pov && pov->kind == TV_STRING && strcmp(pov->s, "reject-publish") == 0);
        if (!ov && !pov) {
            str_arg(&q->args, "x-overflow", "reject-publish", u->pos, "overflow");
            reject = true;
        }
        if (reject)
            str_arg(&q->args, "x-dead-letter-strategy", "at-least-once", u->pos,
                    "dead_letter_strategy");
    }
}

static struct retry_ladder *find_ladder(struct retry_spec *s, const char *name)
{
    size_t k;

    for (k = 0; k < s->n_ladders; k++)
        if (strcmp(s->ladders[k]->name, name) == 0)
            return s->ladders[k];
    return NULL;
}

static void expand_vhost(struct rctx *c, struct vhost *vh)
{
    struct retry_spec *s = vh->retry;
    size_t k;

    for (k = 0; k < s->n_uses; k++) {
        const struct retry_use *u = &s->uses[k];
        struct retry_ladder *l = u->inline_;
        const char *prefix;
        char *dlx;

        strbuf_reset(&c->path);
        strbuf_adds(&c->path, u->path);
        if (u->bad)
            continue;
        if (!l) {
            l = find_ladder(s, u->ladder);
            if (!l) {
                const char **names = xcalloc(s->n_ladders + 1, sizeof(char *));
                const char *guess;
                size_t i;
                for (i = 0; i < s->n_ladders; i++)
                    names[i] = s->ladders[i]->name;
                guess = rmqt_did_you_mean(u->ladder, names);
                if (guess)
                    rerr(c, u->pos, "unknown retry ladder '%.200s' (did you mean '%s'?)", u->ladder,
                         guess);
                else
                    rerr(c, u->pos,
                         "unknown retry ladder '%.200s': name one of the vhost's "
                         "retry_ladders, or write the ladder inline ({ delays: [...] })",
                         u->ladder);
                free(names);
                continue;
            }
            l->used = true;
        }
        if (l->bad)
            continue;
        prefix = l->prefix ? l->prefix : l->name ? l->name : u->queue;
        if (!l->expanded) {
            expand_ladder(c, vh, l, u, prefix);
            l->expanded = true;
        }
        dlx = xasprintf("%s.dlx", prefix);
        expand_use(c, vh, u, dlx);
        free(dlx);
    }
    for (k = 0; k < s->n_ladders; k++) {
        struct retry_ladder *l = s->ladders[k];
        if (!l->used && !l->bad) {
            strbuf_reset(&c->path);
            strbuf_addf(&c->path, "retry_ladders.%s", l->name);
            diag_add(c->dl, DIAG_WARNING, c->file, l->pos, strbuf_str(&c->path),
                     "no queue uses this retry ladder ('retry: %s' on a queue): it adds "
                     "nothing",
                     l->name);
        }
    }
}

void retry_expand(struct topology *t, struct diag_list *dl)
{
    struct rctx c = {t->file, dl, {0}};
    size_t k;

    for (k = 0; k < t->n_vhosts; k++) {
        struct vhost *vh = &t->vhosts[k];
        if (!vh->retry)
            continue;
        index_vhost(vh);
        expand_vhost(&c, vh);
        index_vhost(vh);
    }
    strbuf_release(&c.path);
}
