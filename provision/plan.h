/*
 * plan.h - the plan pipeline: the file against the live broker.
 *
 * load the file (the broker read meanwhile) -> validate -> live -> validate again with the
 * broker's version -> diff -> message counts for the queues a replace or delete would touch.
 * plan and apply both run it (struct plan_session); cli/ only reports what it holds.
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
 * live, read from the broker behind h: the checks that depend on the broker's version (to dl;
 * when they find errors, out is left empty), the diff, the message counts of the queues a
 * replace or delete would touch. The plan borrows from live. Returns 0, or -1 with err set
 * when the broker could not be read. */
int plan_finish(struct rmqt_http *h, const struct topology *desired,
                const struct diff_options *opts, struct topology *live,
                const struct rmqt_broker_info *info, struct diag_list *dl, struct plan *out,
                struct rmqt_error *err);

/* The file against the broker, as plan and apply need it. A zeroed struct is valid. */
struct plan_session {
    struct topology desired, live;
    struct rmqt_broker_info info;
    struct plan plan;
    struct diag_list dl;
    struct rmqt_http *http; /* owned */
    char error[1024];       /* why it failed; "" when it did not */
};

/* Initialises s (cannot fail). */
void plan_session_init(struct plan_session *s);

/* Loads and validates file, reads the broker behind http (which s owns from here, also on
 * failure) while the file loads, and plans. Prints nothing: returns 0 with s filled, or -1
 * with s holding the diagnostics and the reason (s->error). Release s either way. */
int plan_session_run(struct plan_session *s, struct rmqt_http *http, const char *file, bool prune);

/* Records why the session failed in s->error; returns -1. */
int plan_session_fail(struct plan_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Releases what s holds (the HTTP client too). Accepts NULL. */
void plan_session_release(struct plan_session *s);

#endif
