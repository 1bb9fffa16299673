/*
 * plan.h - the plan pipeline: the file against the live broker.
 *
 * live (read the broker) -> validate again with the broker's version -> diff -> message counts
 * for the queues a replace or delete would touch. plan and apply both run it.
 */
#ifndef RMQT_PLAN_H
#define RMQT_PLAN_H

#include "diag.h"
#include "diff.h"
#include "error.h"
#include "http.h"
#include "live.h"
#include "model.h"

/* Plans desired (loaded, valid offline) against the broker behind h. live must be initialised
 * and empty; it receives the broker's topology, which the plan borrows from. Version-aware
 * validation goes to dl: when it has errors, out is left empty. Returns 0, or -1 with err set
 * when the broker could not be read. */
int plan_against_broker(struct rmqt_http *h, const struct topology *desired,
                        const struct diff_options *opts, struct topology *live,
                        struct live_info *info, struct diag_list *dl, struct plan *out,
                        struct rmqt_error *err);

#endif
