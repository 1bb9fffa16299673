/*
 * watchlist.c - the queues of a topology file to watch (watchlist.h).
 *
 * Which queues are dead-letter queues is the question validate already answers, with the
 * file's policies and routing applied as the broker applies them: this asks validate (its
 * on_dlq callback) instead of computing the routes a second time.
 */
#include "watchlist.h"

#include "validate.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct dlq_marks {
    const struct topology *t;
    bool **is_dlq; /* per vhost, per queue */
};

static void mark_dlq(void *ctx, size_t vhost, size_t queue)
{
    struct dlq_marks *m = ctx;

    if (vhost < m->t->n_vhosts && queue < m->t->vhosts[vhost].n_queues)
        m->is_dlq[vhost][queue] = true;
}

void topology_watchlist(const struct topology *t, struct rmqt_watchlist *out)
{
    struct validate_options opts;
    struct diag_list scratch;
    struct dlq_marks m;
    size_t k, j;

    memset(&opts, 0, sizeof(opts));
    m.t = t;
    m.is_dlq = xcalloc(t->n_vhosts + 1, sizeof(*m.is_dlq));
    for (k = 0; k < t->n_vhosts; k++)
        m.is_dlq[k] = xcalloc(t->vhosts[k].n_queues + 1, sizeof(bool));
    opts.on_dlq = mark_dlq;
    opts.on_dlq_ctx = &m;
    diag_list_init(&scratch);
    topology_validate(t, &opts, &scratch);
    diag_list_release(&scratch);
    for (k = 0; k < t->n_vhosts; k++) {
        const struct vhost *vh = &t->vhosts[k];
        for (j = 0; j < vh->n_queues; j++) {
            const struct queue *q = &vh->queues[j];
            struct rmqt_watch *w;

            if (!m.is_dlq[k][j] && !q->has_alert)
                continue;
            w = rmqt_watchlist_add(out, vh->name, q->name);
            w->is_dlq = m.is_dlq[k][j];
            if (w->is_dlq)
                rmqt_thresholds_merge(&w->th, &q->alert, &vh->alert_defaults);
            else
                w->th = q->alert;
        }
        free(m.is_dlq[k]);
    }
    free(m.is_dlq);
}
