/*
 * threshold.c - the thresholds of dead-letter queues and the list of queues to watch
 * (threshold.h). Plain data: reading, measuring and judging live in provision/ and ops/.
 */
#include "threshold.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

bool rmqt_thresholds_any(const struct rmqt_thresholds *th)
{
    int m;

    for (m = 0; m < RMQT_METRIC_COUNT; m++)
        if (th->t[m].has_warning || th->t[m].has_critical)
            return true;
    return false;
}

void rmqt_thresholds_merge(struct rmqt_thresholds *out, const struct rmqt_thresholds *over,
                           const struct rmqt_thresholds *base)
{
    struct rmqt_thresholds r = *over;
    int m;

    for (m = 0; m < RMQT_METRIC_COUNT; m++)
        if (!r.t[m].has_warning && !r.t[m].has_critical)
            r.t[m] = base->t[m];
    *out = r;
}

const char *rmqt_metric_name(enum rmqt_metric m)
{
    switch (m) {
    case RMQT_METRIC_MESSAGES:
        return "messages";
    case RMQT_METRIC_AGE:
        return "age";
    case RMQT_METRIC_RATE:
        return "rate";
    default:
        return "?";
    }
}

struct rmqt_watch *rmqt_watchlist_add(struct rmqt_watchlist *w, const char *vhost,
                                      const char *queue)
{
    struct rmqt_watch *e;

    xgrow((void **)&w->v, &w->cap, w->n + 1, sizeof(*w->v));
    e = &w->v[w->n++];
    memset(e, 0, sizeof(*e));
    e->vhost = xstrdup(vhost);
    e->queue = xstrdup(queue);
    return e;
}

void rmqt_watchlist_filter_vhosts(struct rmqt_watchlist *w, const char *const *vhosts, size_t n)
{
    size_t k, j, out = 0;

    if (n == 0)
        return;
    for (k = 0; k < w->n; k++) {
        bool keep = false;
        for (j = 0; j < n && !keep; j++)
            keep = strcmp(w->v[k].vhost, vhosts[j]) == 0;
        if (keep) {
            w->v[out++] = w->v[k];
        } else {
            free(w->v[k].vhost);
            free(w->v[k].queue);
        }
    }
    w->n = out;
}

void rmqt_watchlist_release(struct rmqt_watchlist *w)
{
    size_t k;

    if (!w)
        return;
    for (k = 0; k < w->n; k++) {
        free(w->v[k].vhost);
        free(w->v[k].queue);
    }
    free(w->v);
    memset(w, 0, sizeof(*w));
}
