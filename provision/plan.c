/*
 * plan.c - the plan pipeline (see plan.h).
 *
 * The broker is read while the file loads (live_prefetch): the definitions request takes about
 * a second for 10,000 queues on the server, and the file's parsing and validation fit inside
 * that time. The file's own problems are reported first; the broker's version then adds its
 * checks.
 *
 * Message counts are read only when the plan replaces or deletes a queue, and then once per
 * vhost concerned, from the current (not statistics-based) queue totals.
 */
#include "plan.h"

#include "access.h"
#include "load.h"
#include "params.h"
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct vhost *find_vhost(struct topology *t, const char *name)
{
    size_t k;

    for (k = 0; k < t->n_vhosts; k++)
        if (strcmp(t->vhosts[k].name, name) == 0)
            return &t->vhosts[k];
    return NULL;
}

int plan_finish(struct rmqt_http *h, const struct topology *desired,
                const struct diff_options *opts, struct topology *live,
                const struct rmqt_broker_info *info, struct diag_list *dl, struct plan *out,
                struct rmqt_error *err)
{
    size_t k;

    if (params_check_plugins(h, desired, err) < 0) /* shovel / federation plugins */
        return -1;
    topology_validate_versions(desired, &info->version, dl);
    if (access_plan_prepare(h, desired, live, &info->version, dl, err) < 0)
        return -1;
    if (dl->errors)
        return 0;
    plan_compute(out, desired, live, opts);
    access_check_plan(out, desired, live, dl);
    if (dl->errors) { /* nothing may be planned that would lock apply out */
        plan_release(out);
        return 0;
    }

    for (k = 0; k < out->n; k++) {
        struct change *c = &out->v[k];
        struct vhost *vh;
        size_t j;

        if (c->kind != CK_QUEUE || !(c->live_queue || c->holding_queue) ||
            (c->action != CH_REPLACE && c->action != CH_DELETE && !c->holding_queue))
            continue;
        vh = find_vhost(live, c->vhost);
        if (!vh || vh->counts_read)
            continue;
        if (live_read_counts(h, vh, err) < 0)
            return -1;
        vh->counts_read = true;
        /* counts come per vhost: fill every queue change of this vhost at once */
        for (j = 0; j < out->n; j++) {
            struct change *o = &out->v[j];
            const struct queue *q = o->holding_queue ? o->holding_queue : o->live_queue;
            if (o->kind != CK_QUEUE || strcmp(o->vhost, c->vhost) != 0)
                continue;
            /* an interrupted migration: the messages are the queue's and the holding
             * queue's together */
            if (q && q->has_messages) {
                o->messages = q->messages;
                if (o->holding_queue && o->live_queue && o->live_queue->has_messages)
                    o->messages += o->live_queue->messages;
                o->has_messages = true;
            }
        }
    }
    return 0;
}

static void announce_vhost(const char *name, void *ctx)
{
    live_prefetch_add(ctx, name);
}

void plan_session_init(struct plan_session *s)
{
    memset(s, 0, sizeof(*s));
    topology_init(&s->desired);
    topology_init(&s->live);
    diag_list_init(&s->dl);
    plan_init(&s->plan);
}

int plan_session_fail(struct plan_session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    return -1;
}

int plan_session_run(struct plan_session *s, struct rmqt_http *http, const char *file, bool prune)
{
    struct rmqt_error err;
    struct diff_options dopts = {prune};
    struct load_options lopts;
    struct live_prefetch *pf;
    int rc;

    s->http = http;
    /* the broker is read while the file loads: each vhost is asked for as soon as its name
     * is read, and its definitions are parsed on the worker's side */
    pf = live_prefetch_start(s->http, &err);
    if (!pf)
        return plan_session_fail(s, "%s", err.message);
    memset(&lopts, 0, sizeof(lopts));
    lopts.on_vhost = announce_vhost;
    lopts.on_vhost_ctx = pf;
    if (topology_load_file(&s->desired, file, &lopts, &s->dl) == 0)
        topology_validate(&s->desired, NULL, &s->dl);
    rc = live_prefetch_finish(pf, &s->desired, &s->live, &s->info, &err);
    if (s->dl.errors) /* the file's problems come first: they are why nothing can be planned */
        return plan_session_fail(s, "%s: invalid (%zu %s): nothing can be planned", s->desired.file,
                                 s->dl.errors, s->dl.errors == 1 ? "error" : "errors");
    if (rc < 0)
        return plan_session_fail(s, "%s", err.message);
    /* the offline pass's warnings stay; the broker's version may add its checks */
    if (plan_finish(s->http, &s->desired, &dopts, &s->live, &s->info, &s->dl, &s->plan, &err) < 0)
        return plan_session_fail(s, "%s", err.message);
    if (s->dl.errors)
        return plan_session_fail(s, "%s: invalid for RabbitMQ %s (%zu %s)", s->desired.file,
                                 s->info.version_str, s->dl.errors,
                                 s->dl.errors == 1 ? "error" : "errors");
    return 0;
}

void plan_session_release(struct plan_session *s)
{
    if (!s)
        return;
    plan_release(&s->plan);
    topology_release(&s->desired);
    topology_release(&s->live);
    diag_list_release(&s->dl);
    rmqt_http_free(s->http);
    s->http = NULL;
}
