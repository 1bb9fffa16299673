/*
 * watchlist.h - the queues a topology file asks to watch, with their thresholds (issue 15):
 * every dead-letter queue of the file (a queue some dead-letter exchange of the file routes
 * to, with the file's policies applied) and every queue with its own `alert`.
 */
#ifndef RMQT_PROVISION_WATCHLIST_H
#define RMQT_PROVISION_WATCHLIST_H

#include "model.h"
#include "threshold.h"

/* Appends to out, in file order, the queues of t to watch: a queue's `alert` overrides its
 * vhost's `alert_defaults` kind by kind (messages, age, rate); alert_defaults apply to
 * dead-letter queues only. Pure: no I/O. t should have validated without errors. */
void topology_watchlist(const struct topology *t, struct rmqt_watchlist *out);

#endif
