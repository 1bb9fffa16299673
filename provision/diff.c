/*
 * diff.c - the plan: desired (file) against live (broker), see diff.h.
 *
 * Decisions:
 * - Normalising happens here, for comparing only: a flag the file does not set compares as
 *   its default (durable true, auto_delete and internal false, type classic); arguments
 *   compare exactly, because the broker does (an argument the file does not state, present
 *   on the broker, is a difference: re-declaring without it is a 406).
 * - Queue and exchange differences are replaces: the broker cannot change them in place.
 *   When every differing setting is one the broker silently ignores on re-declare (exchange
 *   arguments other than alternate-exchange, queue arguments the queue type does not know),
 *   the change is still a replace, with a note saying so: a re-declare would "succeed" and
 *   change nothing.
 * - Policies change in place: update.
 * - Lookups go through hash indexes (names; binding identities), so a 10,000-queue vhost
 *   plans in linear time.
 */
#include "diff.h"

#include "access.h"
#include "argspec.h"
#include "params.h"

#include "strbuf.h"
#include "strmap.h"
#include "validate.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void plan_init(struct plan *p)
{
    memset(p, 0, sizeof(*p));
}

void plan_release(struct plan *p)
{
    size_t k, f;

    if (!p)
        return;
    for (k = 0; k < p->n; k++) {
        struct change *c = &p->v[k];
        free(c->vhost);
        free(c->name);
        free(c->source);
        free(c->destination);
        free(c->routing_key);
        free(c->note);
        tval_release(&c->args);
        for (f = 0; f < c->n_fields; f++) {
            free(c->fields[f].field);
            tval_release(&c->fields[f].old_value);
            tval_release(&c->fields[f].new_value);
        }
        free(c->fields);
    }
    free(p->v);
    plan_init(p);
}

const char *change_action_name(enum change_action a)
{
    static const char *const names[] = {"create", "update", "replace", "delete", "unmanaged"};
    return names[a];
}

const char *change_kind_name(enum change_kind k)
{
    static const char *const names[] = {"vhost",
                                        "exchange",
                                        "queue",
                                        "binding",
                                        "policy",
                                        "user",
                                        "permission",
                                        "topic_permission",
                                        "operator_policy",
                                        "shovel",
                                        "federation_upstream"};
    return names[k];
}

size_t plan_change_count(const struct plan *p)
{
    return p->n - p->count[CH_UNMANAGED];
}

struct change *plan_add_change(struct plan *p, enum change_action action, enum change_kind kind,
                               const char *vhost, const char *name)
{
    struct change *c;

    XGROW(p->v, p->cap, p->n + 1);
    c = &p->v[p->n++];
    memset(c, 0, sizeof(*c));
    c->action = action;
    c->kind = kind;
    c->vhost = xstrdup(vhost);
    c->name = name ? xstrdup(name) : NULL;
    p->count[action]++;
    return c;
}

static struct change *add_binding_change(struct plan *p, enum change_action action,
                                         const char *vhost, const struct binding *b)
{
    struct change *c = plan_add_change(p, action, CK_BINDING, vhost, NULL);
    c->source = xstrdup(b->source);
    c->destination = xstrdup(b->destination);
    c->routing_key = xstrdup(b->routing_key);
    c->dest_is_exchange = b->dest_is_exchange;
    tval_copy(&c->args, &b->args);
    return c;
}

void change_add_field(struct change *c, const char *field, const struct tval *old_value,
                      const struct tval *new_value)
{
    struct change_field *f;

    XGROW(c->fields, c->cap_fields, c->n_fields + 1);
    f = &c->fields[c->n_fields++];
    memset(f, 0, sizeof(*f));
    f->field = xstrdup(field);
    if (old_value) {
        tval_copy(&f->old_value, old_value);
        f->has_old = true;
    }
    if (new_value) {
        tval_copy(&f->new_value, new_value);
        f->has_new = true;
    }
}

static void add_bool_field(struct change *c, const char *field, bool old_value, bool new_value)
{
    struct tval o = {0}, n = {0};
    tval_set_bool(&o, old_value);
    tval_set_bool(&n, new_value);
    change_add_field(c, field, &o, &n);
}

static void add_str_field(struct change *c, const char *field, const char *old_value,
                          const char *new_value)
{
    struct tval o = {0}, n = {0};
    tval_set_string(&o, old_value, strlen(old_value));
    if (new_value)
        tval_set_string(&n, new_value, strlen(new_value));
    change_add_field(c, field, &o, new_value ? &n : NULL); /* NULL: the field goes away */
    tval_release(&o);
    tval_release(&n);
}

/* What a create sets, as fields with no old value: the new object's type, the flags that
 * differ from their defaults, and its arguments. */
static void add_create_fields(struct change *c, const char *type, const struct tflag *durable,
                              const struct tflag *auto_delete, const struct tflag *internal,
                              const struct targs *args)
{
    struct strbuf field = {0};
    size_t k;

    if (type) {
        struct tval t = {0};
        tval_set_string(&t, type, strlen(type));
        change_add_field(c, "type", NULL, &t);
        tval_release(&t);
    }
    if (durable && durable->set && !durable->value) {
        struct tval b = {0};
        tval_set_bool(&b, false);
        change_add_field(c, "durable", NULL, &b);
    }
    if (auto_delete && auto_delete->set && auto_delete->value) {
        struct tval b = {0};
        tval_set_bool(&b, true);
        change_add_field(c, "auto_delete", NULL, &b);
    }
    if (internal && internal->set && internal->value) {
        struct tval b = {0};
        tval_set_bool(&b, true);
        change_add_field(c, "internal", NULL, &b);
    }
    for (k = 0; args && k < args->n; k++) {
        strbuf_reset(&field);
        strbuf_adds(&field, "arguments.");
        strbuf_adds(&field, args->v[k].key);
        change_add_field(c, field.buf, NULL, &args->v[k].val);
    }
    strbuf_release(&field);
}

static bool flag_value(const struct tflag *f, bool dflt)
{
    return f->set ? f->value : dflt;
}

/* Fields of differing arguments, "arguments.<key>"; returns how many differ and, through
 * *ignored, how many of them the broker does not compare on re-declare. A NULL change only
 * counts. is_compared NULL: the broker compares all. */
struct arg_cmp {
    bool (*is_compared)(const char *key, const void *ctx);
    const void *ctx;
};

static size_t diff_args(struct change *c, const struct targs *live, const struct targs *want,
                        const struct arg_cmp *cmp, size_t *ignored)
{
    struct strbuf field = {0};
    size_t k, n = 0;

    *ignored = 0;
    for (k = 0; k < want->n; k++) {
        const struct targ *w = &want->v[k], *l = targs_get(live, w->key);
        if (l && tval_equal(&l->val, &w->val))
            continue;
        n++;
        if (cmp && !cmp->is_compared(w->key, cmp->ctx))
            (*ignored)++;
        if (c) {
            strbuf_reset(&field);
            strbuf_adds(&field, "arguments.");
            strbuf_adds(&field, w->key);
            change_add_field(c, field.buf, l ? &l->val : NULL, &w->val);
        }
    }
    for (k = 0; k < live->n; k++) {
        const struct targ *l = &live->v[k];
        if (targs_get(want, l->key))
            continue;
        n++;
        if (cmp && !cmp->is_compared(l->key, cmp->ctx))
            (*ignored)++;
        if (c) {
            strbuf_reset(&field);
            strbuf_adds(&field, "arguments.");
            strbuf_adds(&field, l->key);
            change_add_field(c, field.buf, &l->val, NULL);
        }
    }
    strbuf_release(&field);
    return n;
}

static bool queue_arg_compared(const char *key, const void *ctx)
{
    return queue_arg_is_compared(key, *(const enum queue_type *)ctx);
}

static bool exchange_arg_compared(const char *key, const void *ctx)
{
    (void)ctx;
    return strcmp(key, "alternate-exchange") == 0;
}

/* ------------------------------------------------------------------------------------------ */

struct vdiff {
    struct plan *p;
    const struct vhost *want, *live; /* live may be NULL: the vhost is created */
    struct strmap replaced_exchanges, replaced_queues;
    const struct diff_options *opts;
};

static bool is_replaced(const struct strmap *m, const char *name)
{
    size_t v;
    return strmap_get(m, name, strlen(name), &v);
}

static void diff_exchanges(struct vdiff *d)
{
    size_t k;

    for (k = 0; k < d->want->n_exchanges; k++) {
        const struct exchange *w = &d->want->exchanges[k];
        const struct exchange *l = d->live ? vhost_find_exchange(d->live, w->name) : NULL;
        struct change probe, *c;
        size_t ignored, nargs, nflags = 0;
        struct arg_cmp cmp = {exchange_arg_compared, NULL};

        if (!l) {
            c = plan_add_change(d->p, CH_CREATE, CK_EXCHANGE, d->want->name, w->name);
            c->want_exchange = w;
            add_create_fields(c, w->type, &w->durable, &w->auto_delete, &w->internal, &w->args);
            continue;
        }
        nflags += strcmp(l->type, w->type ? w->type : "") != 0;
        nflags += flag_value(&l->durable, true) != flag_value(&w->durable, true);
        nflags += flag_value(&l->auto_delete, false) != flag_value(&w->auto_delete, false);
        nflags += flag_value(&l->internal, false) != flag_value(&w->internal, false);
        memset(&probe, 0, sizeof(probe));
        nargs = diff_args(NULL, &l->args, &w->args, &cmp, &ignored);
        if (!nflags && !nargs)
            continue;
        c = plan_add_change(d->p, CH_REPLACE, CK_EXCHANGE, d->want->name, w->name);
        c->want_exchange = w;
        c->live_exchange = l;
        if (strcmp(l->type, w->type ? w->type : "") != 0)
            add_str_field(c, "type", l->type, w->type ? w->type : "");
        if (flag_value(&l->durable, true) != flag_value(&w->durable, true))
            add_bool_field(c, "durable", flag_value(&l->durable, true),
                           flag_value(&w->durable, true));
        if (flag_value(&l->auto_delete, false) != flag_value(&w->auto_delete, false))
            add_bool_field(c, "auto_delete", flag_value(&l->auto_delete, false),
                           flag_value(&w->auto_delete, false));
        if (flag_value(&l->internal, false) != flag_value(&w->internal, false))
            add_bool_field(c, "internal", flag_value(&l->internal, false),
                           flag_value(&w->internal, false));
        diff_args(c, &l->args, &w->args, &cmp, &ignored);
        if (!nflags && ignored == nargs)
            c->note = xstrdup("the broker ignores changed exchange arguments (other than "
                              "alternate-exchange) on re-declare: the exchange must be deleted "
                              "and declared again");
        strmap_put(&d->replaced_exchanges, w->name, strlen(w->name), k);
    }
}

/* The live queue holding the messages of a migration of queue `name` that did not finish. */
static const struct queue *holding_of(const struct vdiff *d, const char *name)
{
    const struct queue *h;
    char *hn;

    if (!d->live)
        return NULL;
    hn = holding_queue_name(name);
    h = vhost_find_queue(d->live, hn);
    free(hn);
    return h;
}

static void note_holding(struct change *c, const struct queue *h)
{
    char *note;

    if (!h)
        return;
    c->holding_queue = h;
    note = xasprintf("%s%san interrupted migration left messages in queue '%s': apply moves them "
                     "back. The count adds both queues and may include copies: a migration "
                     "stopped by a crash (kill -9) leaves the messages it had moved but not yet "
                     "acknowledged in both, and they are migrated twice",
                     c->note ? c->note : "", c->note ? "; " : "", h->name);
    free(c->note);
    c->note = note;
}

static void diff_queues(struct vdiff *d)
{
    size_t k;

    for (k = 0; k < d->want->n_queues; k++) {
        const struct queue *w = &d->want->queues[k];
        const struct queue *l = d->live ? vhost_find_queue(d->live, w->name) : NULL;
        struct change *c;
        size_t ignored, nargs, nflags = 0;
        /* a queue the file leaves untyped is declared without x-queue-type: it gets the
         * vhost's default type (3.11+), else classic */
        enum queue_type wtype = w->type_set                            ? w->type
                                : d->live && d->live->has_default_type ? d->live->default_type
                                                                       : QT_CLASSIC;
        struct arg_cmp cmp = {queue_arg_compared, &wtype};
        bool wd = flag_value(&w->durable, true), wa = flag_value(&w->auto_delete, false);
        bool ld, la;

        const struct queue *h = holding_of(d, w->name);

        if (!l) {
            c = plan_add_change(d->p, CH_CREATE, CK_QUEUE, d->want->name, w->name);
            c->want_queue = w;
            add_create_fields(c, w->type_set ? queue_type_name(w->type) : NULL, &w->durable,
                              &w->auto_delete, NULL, &w->args);
            note_holding(c, h);
            continue;
        }
        ld = flag_value(&l->durable, true);
        la = flag_value(&l->auto_delete, false);
        nflags = (l->type != wtype) + (ld != wd) + (la != wa);
        nargs = diff_args(NULL, &l->args, &w->args, &cmp, &ignored);
        if (!nflags && !nargs) {
            if (h) { /* the migration got as far as the new queue: its messages come back */
                c = plan_add_change(d->p, CH_UPDATE, CK_QUEUE, d->want->name, w->name);
                c->want_queue = w;
                c->live_queue = l;
                add_str_field(c, "holding_queue", h->name, NULL);
                note_holding(c, h);
            }
            continue;
        }
        c = plan_add_change(d->p, CH_REPLACE, CK_QUEUE, d->want->name, w->name);
        c->want_queue = w;
        c->live_queue = l;
        if (l->type != wtype)
            add_str_field(c, "type", queue_type_name(l->type), queue_type_name(wtype));
        if (ld != wd)
            add_bool_field(c, "durable", ld, wd);
        if (la != wa)
            add_bool_field(c, "auto_delete", la, wa);
        diff_args(c, &l->args, &w->args, &cmp, &ignored);
        if (!nflags && ignored == nargs)
            c->note = xstrdup("the broker keeps arguments its queue type does not know without "
                              "comparing them: the queue must be deleted and declared again");
        note_holding(c, h);
        strmap_put(&d->replaced_queues, w->name, strlen(w->name), k);
    }
}

static void diff_bindings(struct vdiff *d, bool *live_matched)
{
    struct strmap live_ids;
    char **ids = NULL;
    struct strbuf id = {0};
    size_t k, n_live = d->live ? d->live->n_bindings : 0;

    strmap_init(&live_ids);
    ids = xcalloc(n_live + 1, sizeof(*ids));
    for (k = 0; k < n_live; k++) {
        strbuf_reset(&id);
        binding_identity(&id, &d->live->bindings[k]);
        ids[k] = xstrndup(id.buf, id.len);
        strmap_put(&live_ids, ids[k], id.len, k);
    }
    for (k = 0; k < d->want->n_bindings; k++) {
        const struct binding *w = &d->want->bindings[k];
        struct change *c;
        size_t li;
        bool src_replaced = is_replaced(&d->replaced_exchanges, w->source);
        bool dst_replaced = w->dest_is_exchange
                                ? is_replaced(&d->replaced_exchanges, w->destination)
                                : is_replaced(&d->replaced_queues, w->destination);

        strbuf_reset(&id);
        binding_identity(&id, w);
        if (strmap_get(&live_ids, id.buf, id.len, &li)) {
            live_matched[li] = true;
            if (!src_replaced && !dst_replaced)
                continue;
            c = add_binding_change(d->p, CH_CREATE, d->want->name, w);
            c->want_binding = w;
            c->live_binding = &d->live->bindings[li];
            c->note =
                xasprintf("re-created: %s '%s' is replaced",
                          dst_replaced ? (w->dest_is_exchange ? "exchange" : "queue") : "exchange",
                          dst_replaced ? w->destination : w->source);
            continue;
        }
        c = add_binding_change(d->p, CH_CREATE, d->want->name, w);
        c->want_binding = w;
    }
    for (k = 0; k < n_live; k++)
        free(ids[k]);
    free(ids);
    strbuf_release(&id);
    strmap_release(&live_ids);
}

static void diff_policies(struct vdiff *d)
{
    struct strmap live_idx;
    struct strbuf field = {0};
    size_t k, j;

    strmap_init(&live_idx);
    for (k = 0; d->live && k < d->live->n_policies; k++)
        strmap_put(&live_idx, d->live->policies[k].name, strlen(d->live->policies[k].name), k);
    for (k = 0; k < d->want->n_policies; k++) {
        const struct policy *w = &d->want->policies[k], *l;
        struct change *c;
        size_t li;
        bool same;

        if (!strmap_get(&live_idx, w->name, strlen(w->name), &li)) {
            struct tval v = {0};
            c = plan_add_change(d->p, CH_CREATE, CK_POLICY, d->want->name, w->name);
            c->want_policy = w;
            tval_set_string(&v, w->pattern ? w->pattern : "", strlen(w->pattern ? w->pattern : ""));
            change_add_field(c, "pattern", NULL, &v);
            tval_set_string(&v, w->apply_to, strlen(w->apply_to));
            change_add_field(c, "apply-to", NULL, &v);
            tval_set_int(&v, w->priority);
            change_add_field(c, "priority", NULL, &v);
            tval_release(&v);
            for (j = 0; j < w->definition.n; j++) {
                strbuf_reset(&field);
                strbuf_addf(&field, "definition.%s", w->definition.entries[j].key);
                change_add_field(c, field.buf, NULL, &w->definition.entries[j].val);
            }
            continue;
        }
        l = &d->live->policies[li];
        same = strcmp(l->pattern, w->pattern ? w->pattern : "") == 0 &&
               strcmp(l->apply_to, w->apply_to) == 0 && l->priority == w->priority &&
               tval_equal(&l->definition, &w->definition);
        if (same)
            continue;
        c = plan_add_change(d->p, CH_UPDATE, CK_POLICY, d->want->name, w->name);
        c->want_policy = w;
        c->live_policy = l;
        if (strcmp(l->pattern, w->pattern ? w->pattern : "") != 0)
            add_str_field(c, "pattern", l->pattern, w->pattern ? w->pattern : "");
        if (strcmp(l->apply_to, w->apply_to) != 0)
            add_str_field(c, "apply-to", l->apply_to, w->apply_to);
        if (l->priority != w->priority) {
            struct tval o = {0}, n = {0};
            tval_set_int(&o, l->priority);
            tval_set_int(&n, w->priority);
            change_add_field(c, "priority", &o, &n);
        }
        for (j = 0; j < w->definition.n; j++) {
            const struct tval_entry *e = &w->definition.entries[j];
            const struct tval *lv = tval_get(&l->definition, e->key);
            if (lv && tval_equal(lv, &e->val))
                continue;
            strbuf_reset(&field);
            strbuf_addf(&field, "definition.%s", e->key);
            change_add_field(c, field.buf, lv, &e->val);
        }
        for (j = 0; j < l->definition.n; j++) {
            const struct tval_entry *e = &l->definition.entries[j];
            if (tval_get(&w->definition, e->key))
                continue;
            strbuf_reset(&field);
            strbuf_addf(&field, "definition.%s", e->key);
            change_add_field(c, field.buf, &e->val, NULL);
        }
    }
    strbuf_release(&field);
    strmap_release(&live_idx);
}

/* Whether name is the holding queue of a queue the file names: it belongs to apply's
 * migration, is never unmanaged and never pruned. */
static bool is_holding_of_wanted(const struct vdiff *d, const char *name)
{
    size_t k;

    if (!is_holding_queue_name(name))
        return false;
    for (k = 0; k < d->want->n_queues; k++) {
        char *hn = holding_queue_name(d->want->queues[k].name);
        bool same = strcmp(hn, name) == 0;
        free(hn);
        if (same)
            return true;
    }
    return false;
}

/* Live objects the file does not name: unmanaged, or deletes with prune. Bindings first (a
 * delete removes them before their queues and exchanges), then queues, exchanges, policies. */

static void diff_unmanaged(struct vdiff *d, const bool *live_matched)
{
    enum change_action act = d->opts && d->opts->prune ? CH_DELETE : CH_UNMANAGED;
    struct strmap want_policies;
    size_t k;

    if (!d->live)
        return;
    for (k = 0; k < d->live->n_bindings; k++) {
        const struct binding *l = &d->live->bindings[k];
        struct change *c;
        if (live_matched[k])
            continue;
        c = add_binding_change(d->p, act, d->want->name, l);
        c->live_binding = l;
        /* deleting a replaced object takes its bindings with it, the file's or not: apply
         * binds the unmanaged ones again (only --prune deletes what the file does not name) */
        if (act == CH_UNMANAGED && is_replaced(&d->replaced_exchanges, l->source)) {
            c->note = xasprintf("re-created after exchange '%s' is replaced", l->source);
            c->rebind = true;
        } else if (act == CH_UNMANAGED &&
                   (l->dest_is_exchange ? is_replaced(&d->replaced_exchanges, l->destination)
                                        : is_replaced(&d->replaced_queues, l->destination))) {
            c->note = xasprintf("re-created after %s '%s' is replaced",
                                l->dest_is_exchange ? "exchange" : "queue", l->destination);
            c->rebind = true;
        }
    }
    for (k = 0; k < d->live->n_queues; k++) {
        const struct queue *l = &d->live->queues[k];
        struct change *c;
        if (vhost_find_queue(d->want, l->name) || is_holding_of_wanted(d, l->name))
            continue;
        c = plan_add_change(d->p, act, CK_QUEUE, d->want->name, l->name);
        c->live_queue = l;
    }
    for (k = 0; k < d->live->n_exchanges; k++) {
        const struct exchange *l = &d->live->exchanges[k];
        struct change *c;
        if (vhost_find_exchange(d->want, l->name))
            continue;
        c = plan_add_change(d->p, act, CK_EXCHANGE, d->want->name, l->name);
        c->live_exchange = l;
    }
    strmap_init(&want_policies);
    for (k = 0; k < d->want->n_policies; k++)
        strmap_put(&want_policies, d->want->policies[k].name, strlen(d->want->policies[k].name), k);
    for (k = 0; k < d->live->n_policies; k++) {
        const struct policy *l = &d->live->policies[k];
        struct change *c;
        size_t v;
        if (strmap_get(&want_policies, l->name, strlen(l->name), &v))
            continue;
        c = plan_add_change(d->p, act, CK_POLICY, d->want->name, l->name);
        c->live_policy = l;
    }
    strmap_release(&want_policies);
}

void plan_compute(struct plan *out, const struct topology *desired, const struct topology *live,
                  const struct diff_options *opts)
{
    size_t k, j;

    access_diff_users(out, desired, live);
    for (k = 0; k < desired->n_vhosts; k++) {
        struct vdiff d;
        bool *live_matched;

        memset(&d, 0, sizeof(d));
        d.p = out;
        d.opts = opts;
        d.want = &desired->vhosts[k];
        for (j = 0; j < live->n_vhosts; j++)
            if (strcmp(live->vhosts[j].name, d.want->name) == 0)
                d.live = &live->vhosts[j];
        if (!d.live) {
            struct change *c =
                plan_add_change(out, CH_CREATE, CK_VHOST, d.want->name, d.want->name);
            c->want_vhost = d.want;
        }
        live_matched = xcalloc((d.live ? d.live->n_bindings : 0) + 1, sizeof(bool));
        diff_exchanges(&d);
        diff_queues(&d);
        diff_bindings(&d, live_matched);
        diff_policies(&d);
        diff_unmanaged(&d, live_matched);
        access_diff_vhost(out, d.want, d.live, opts);
        params_diff(out, d.want, d.live, opts);
        free(live_matched);
        strmap_release(&d.replaced_exchanges);
        strmap_release(&d.replaced_queues);
    }
    access_diff_users_unmanaged(out, desired, live, opts);
}
