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

/* Plans desired (loaded, and valid offline: topology_validate(desired, NULL, ...)) against
 * the broker behind h. live must be initialised and empty; it receives the broker's topology,
 * which the plan borrows from. The checks that depend on the broker's version go to dl: when
 * they find errors, out is left empty. Returns 0, or -1 with err set when the broker could
 * not be read. */
int plan_against_broker(struct rmqt_http *h, const struct topology *desired,
                        const struct diff_options *opts, struct topology *live,
                        struct live_info *info, struct diag_list *dl, struct plan *out,
                        struct rmqt_error *err);

/* The second half of plan_against_broker, for a caller that read the broker itself (e.g.
 * with live_prefetch, overlapping the read with loading the file): version checks, diff,
 * message counts. */
int plan_finish(struct rmqt_http *h, const struct topology *desired,
                const struct diff_options *opts, struct topology *live,
                const struct live_info *info, struct diag_list *dl, struct plan *out,
                struct rmqt_error *err);

#endif
