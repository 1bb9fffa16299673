/*
 * plan.c - the plan pipeline (see plan.h).
 *
 * Message counts are read only when the plan replaces or deletes a queue, and then once per
 * vhost concerned, from the current (not statistics-based) queue totals.
 */
#include "plan.h"

#include "validate.h"

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
                const struct live_info *info, struct diag_list *dl, struct plan *out,
                struct rmqt_error *err)
{
    size_t k;

    topology_validate_versions(desired, &info->version, dl);
    if (dl->errors)
        return 0;
    plan_compute(out, desired, live, opts);

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

int plan_against_broker(struct rmqt_http *h, const struct topology *desired,
                        const struct diff_options *opts, struct topology *live,
                        struct live_info *info, struct diag_list *dl, struct plan *out,
                        struct rmqt_error *err)
{
    if (live_read(h, desired, live, info, err) < 0)
        return -1;
    return plan_finish(h, desired, opts, live, info, dl, out, err);
}
