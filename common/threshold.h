/*
 * threshold.h - alert thresholds of a dead-letter queue (the topology file's `alert` and
 * `alert_defaults`), and the list of queues to watch with their thresholds.
 *
 * provision/ reads them from a file, ops/ measures the queues and computes states and
 * Prometheus text from them, cli/ prints: the types live here because provision and ops never
 * include each other. A threshold is reached when the value is at or above it.
 */
#ifndef RMQT_THRESHOLD_H
#define RMQT_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>

/* What a threshold measures. */
enum rmqt_metric {
    RMQT_METRIC_MESSAGES, /* messages in the queue (a count) */
    RMQT_METRIC_AGE,      /* age of the oldest message since its most recent death (seconds) */
    RMQT_METRIC_RATE,     /* growth of the message count (messages per second) */
    RMQT_METRIC_COUNT
};

struct rmqt_threshold {
    bool has_warning, has_critical;
    double warning, critical; /* in the metric's unit: count, seconds, messages per second */
};

/* The thresholds of one queue. A zeroed struct is valid: no thresholds. */
struct rmqt_thresholds {
    struct rmqt_threshold t[RMQT_METRIC_COUNT];
};

/* Whether any threshold is set. */
bool rmqt_thresholds_any(const struct rmqt_thresholds *th);
/* Fills every metric that over does not set from base (the file's alert over its vhost's
 * alert_defaults): *out = over, then base where over has neither warning nor critical. */
void rmqt_thresholds_merge(struct rmqt_thresholds *out, const struct rmqt_thresholds *over,
                           const struct rmqt_thresholds *base);
/* "messages", "age", "rate". */
const char *rmqt_metric_name(enum rmqt_metric m);

/* A queue to watch. */
struct rmqt_watch {
    char *vhost, *queue; /* owned */
    bool is_dlq;         /* some dead-letter exchange routes to it */
    char type[16];       /* the broker's queue type when known ("" otherwise) */
    struct rmqt_thresholds th;
};

/* A list of queues to watch. A zeroed struct is valid and empty. */
struct rmqt_watchlist {
    struct rmqt_watch *v;
    size_t n, cap;
};

/* Appends a queue (names copied) and returns it (borrowed; invalidated by the next add). */
struct rmqt_watch *rmqt_watchlist_add(struct rmqt_watchlist *w, const char *vhost,
                                      const char *queue);
/* Keeps only the entries whose vhost is one of vhosts (n of them); n == 0 keeps all. */
void rmqt_watchlist_filter_vhosts(struct rmqt_watchlist *w, const char *const *vhosts, size_t n);
/* Frees everything; accepts NULL. */
void rmqt_watchlist_release(struct rmqt_watchlist *w);

#endif
