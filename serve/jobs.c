/*
 * jobs.c - the dashboard's actions: replay, park and archive, each a job in a thread of its
 * own with its own broker connections (rabbitmq-c is single-threaded per connection), run by
 * ops/ exactly as the CLI runs them (replay_run, archive_run, replay_preview) and judged by
 * the same rules (replay_ok, archive_ok). A bounded number runs at once.
 *
 * park is `dlq replay --max-replays 0 --park-queue Q`: every selected message goes to Q with
 * its death headers and its replay count as they were. A dry run reads without taking
 * (replay_preview) and says how many would go where.
 *
 * Cancel sets the job's stop flag, which the mover reads between messages: what is in flight
 * is confirmed and acknowledged, the rest stays in the queue (as Ctrl-C does for the CLI).
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include "archive.h"
#include "brokerver.h"
#include "replay.h"
#include "source.h"
#include "strbuf.h"
#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define JOBS_KEPT 200 /* finished jobs remembered */
#define DEFAULT_MAX_JOBS 4

struct target {
    char *exchange, *routing_key;
    bool exists;
    const char *action;
    uint64_t count;
};

struct serve_job {
    struct serve *sv;
    char id[24];
    enum serve_action action;
    bool dry_run;
    bool read_quorum; /* consent to read a quorum queue (a dry run, an archive copy) */
    char *vhost, *queue, *remote;
    json_t *options; /* the body as given: the parsed options point into it */
    struct replay_options ro;
    struct archive_options ao;
    char *file;
    volatile sig_atomic_t cancel;
    pthread_t thread;
    bool finished; /* the thread ended (it may be joined) */

    /* under sv->mu */
    const char *state;
    struct rmqt_mover_stats progress;
    double t0;
    char started[32], ended[32];
    json_t *summary, *warnings;
    struct target *targets;
    size_t n_targets, cap_targets;
};

static const char *action_name(enum serve_action a)
{
    return a == SERVE_REPLAY ? "replay" : a == SERVE_PARK ? "park" : "archive";
}

static void now_iso(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- options ------------------------------------------------------------------------------- */

static int opt_bool(const json_t *body, const char *key, bool *out, char *why, size_t cap)
{
    const json_t *v = json_object_get(body, key);
    *out = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        snprintf(why, cap, "%s takes true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static int opt_count(const json_t *body, const char *key, uint64_t *out, char *why, size_t cap)
{
    const json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        snprintf(why, cap, "%s takes a whole number above 0", key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int check_keys(const json_t *body, const char *const *allowed, char *why, size_t cap)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        size_t k;
        for (k = 0; allowed[k] && strcmp(allowed[k], key) != 0; k++)
            ;
        if (!allowed[k]) {
            snprintf(why, cap, "unknown option '%.60s'", key);
            return -1;
        }
    }
    return 0;
}

static const char *const replay_keys[] = {
    "dry_run",     "limit",       "rate",         "reason",      "from_queue",  "older_than",
    "search",      "message_ids", "to_queue",     "to_exchange", "routing_key", "to_origin",
    "max_replays", "park_queue",  "keep_headers", "read_quorum", NULL};
static const char *const park_keys[] = {"dry_run",    "limit",       "rate",   "reason",
                                        "from_queue", "older_than",  "search", "message_ids",
                                        "park_queue", "read_quorum", NULL};
static const char *const archive_keys[] = {"dry_run", "file",        "copy",        "append",
                                           "limit",   "reason",      "from_queue",  "older_than",
                                           "search",  "message_ids", "read_quorum", NULL};

/* The options of a body, as the CLI's (the names with '-' as '_'); the strings point into
 * j->options. */
static int parse_options(struct serve_job *j, char *why, size_t cap)
{
    const json_t *b = j->options, *v;
    struct replay_options *o = &j->ro;
    struct replay_filter f;
    bool to_origin = false;

    memset(&f, 0, sizeof(f));
    if (check_keys(b,
                   j->action == SERVE_REPLAY ? replay_keys
                   : j->action == SERVE_PARK ? park_keys
                                             : archive_keys,
                   why, cap) < 0)
        return -1;
    if (opt_bool(b, "dry_run", &j->dry_run, why, cap) < 0 ||
        opt_bool(b, "read_quorum", &j->read_quorum, why, cap) < 0)
        return -1;
    if (serve_filter_from_json(b, &f, why, cap) < 0)
        return -1;
    o->filter = f;
    j->ao.filter = f;
    if (j->action == SERVE_ARCHIVE) {
        const char *file;
        if (!j->sv->cfg->archive_dir) {
            snprintf(why, cap, "archive needs the server started with --archive-dir");
            return -1;
        }
        if (serve_opt_string(b, "file", &file, why, cap) < 0)
            return -1;
        if (!file) {
            snprintf(why, cap, "archive needs a file name (\"file\")");
            return -1;
        }
        if (strchr(file, '/') || file[0] == '.' || strlen(file) > 200) {
            snprintf(why, cap,
                     "file takes a plain file name inside --archive-dir (no '/', not "
                     "starting with '.')");
            return -1;
        }
        j->file = xasprintf("%s/%s", j->sv->cfg->archive_dir, file);
        if (opt_bool(b, "copy", &j->ao.copy, why, cap) < 0 ||
            opt_bool(b, "append", &j->ao.append, why, cap) < 0 ||
            opt_count(b, "limit", &j->ao.limit, why, cap) < 0)
            return -1;
        j->ao.file = j->file;
        return 0;
    }
    o->max_replays = REPLAY_DEFAULT_MAX;
    o->route = ROUTE_HOME;
    if (opt_count(b, "limit", &o->limit, why, cap) < 0)
        return -1;
    if ((v = json_object_get(b, "rate")) && !json_is_null(v)) {
        if (!json_is_number(v) || !(json_number_value(v) > 0)) {
            snprintf(why, cap, "rate takes messages a second above 0");
            return -1;
        }
        o->rate = json_number_value(v);
    }
    if (serve_opt_string(b, "park_queue", &o->park_queue, why, cap) < 0)
        return -1;
    if (j->action == SERVE_PARK) {
        if (!o->park_queue) {
            snprintf(why, cap, "park needs the queue to park in (\"park_queue\")");
            return -1;
        }
        o->max_replays = 0; /* every selected message is parked */
        o->keep_headers = true;
        return 0;
    }
    if (serve_opt_string(b, "to_queue", &o->to_queue, why, cap) < 0 ||
        serve_opt_string(b, "to_exchange", &o->to_exchange, why, cap) < 0 ||
        serve_opt_string(b, "routing_key", &o->routing_key, why, cap) < 0 ||
        opt_bool(b, "to_origin", &to_origin, why, cap) < 0 ||
        opt_bool(b, "keep_headers", &o->keep_headers, why, cap) < 0)
        return -1;
    if ((o->to_queue != NULL) + (o->to_exchange != NULL) + to_origin > 1) {
        snprintf(why, cap, "give one of to_queue, to_exchange and to_origin");
        return -1;
    }
    if (o->routing_key && !o->to_exchange) {
        snprintf(why, cap, "routing_key goes with to_exchange");
        return -1;
    }
    if (o->to_queue)
        o->route = ROUTE_QUEUE;
    if (o->to_exchange)
        o->route = ROUTE_EXCHANGE;
    if (to_origin)
        o->route = ROUTE_ORIGIN;
    if ((v = json_object_get(b, "max_replays")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > LONG_MAX) {
            snprintf(why, cap, "max_replays takes a whole number (0 or more)");
            return -1;
        }
        o->max_replays = (long)json_integer_value(v);
    }
    return 0;
}

/* --- the job's callbacks --------------------------------------------------------------------- */

static void job_warn(void *ctx, const char *msg)
{
    struct serve_job *j = ctx;
    json_t *s = json_string(msg);
    pthread_mutex_lock(&j->sv->mu);
    json_array_append_new(j->warnings, s ? s : json_string("(a warning that is not UTF-8)"));
    pthread_mutex_unlock(&j->sv->mu);
}

/* The quorum read warning where it matters (dlq_read_warning), as the CLI says it. */
static void job_read_warning(struct serve_job *j, const struct dlq_source *src, uint64_t left)
{
    char *w = dlq_read_warning(src, left);
    if (w)
        job_warn(j, w);
    free(w);
}

static void job_progress(void *ctx, const struct rmqt_mover_stats *st)
{
    struct serve_job *j = ctx;
    pthread_mutex_lock(&j->sv->mu);
    j->progress = *st;
    j->progress.seconds = rmqt_now_s() - j->t0;
    pthread_mutex_unlock(&j->sv->mu);
}

static void job_refused(void *ctx, const struct rmqt_refusal *r)
{
    struct serve_job *j = ctx;
    char *msg = xasprintf("message %llu of this run (delivery tag %llu, message_id '%.*s') is "
                          "not published: %s; it stays in the queue",
                          (unsigned long long)r->position, (unsigned long long)r->delivery_tag,
                          (int)(r->message_id.len > 200 ? 200 : r->message_id.len),
                          r->message_id.bytes ? (const char *)r->message_id.bytes : "", r->reason);
    job_warn(j, msg);
    free(msg);
}

static void preview_each(void *ctx, const struct replay_preview *p)
{
    struct serve_job *j = ctx;
    const struct replay_decision *d = p->decision;
    const char *act;
    struct target *t = NULL;
    size_t k;
    char *ex, *rk;

    switch (d->action) {
    case ACT_REPLAY:
        act = j->action == SERVE_ARCHIVE ? "archive" : "replay";
        break;
    case ACT_PARK:
        act = "park";
        break;
    case ACT_FILTERED:
        act = "filtered";
        break;
    case ACT_AT_MAX:
        act = "at_max_replays";
        break;
    default:
        act = j->action == SERVE_ARCHIVE ? "archive" : "no_home";
        break;
    }
    if (j->action == SERVE_ARCHIVE && strcmp(act, "filtered") != 0) {
        act = "archive";
        ex = xstrdup("");
        rk = xstrdup(j->file);
    } else if (d->action == ACT_REPLAY || d->action == ACT_PARK) {
        ex = xstrndup(d->exchange.bytes ? d->exchange.bytes : "", d->exchange.len);
        rk = xstrndup(d->routing_key.bytes ? d->routing_key.bytes : "", d->routing_key.len);
    } else {
        ex = xstrdup("");
        rk = xstrdup("");
    }
    pthread_mutex_lock(&j->sv->mu);
    for (k = 0; k < j->n_targets && !t; k++)
        if (strcmp(j->targets[k].action, act) == 0 && strcmp(j->targets[k].exchange, ex) == 0 &&
            strcmp(j->targets[k].routing_key, rk) == 0)
            t = &j->targets[k];
    if (!t && j->n_targets < 1000) {
        XGROW(j->targets, j->cap_targets, j->n_targets + 1);
        t = &j->targets[j->n_targets++];
        t->exchange = ex;
        t->routing_key = rk;
        t->action = act;
        t->exists = j->action == SERVE_ARCHIVE || p->target_exists;
        t->count = 0;
        ex = rk = NULL;
    }
    if (t)
        t->count++;
    j->progress.snapshot++;
    pthread_mutex_unlock(&j->sv->mu);
    free(ex);
    free(rk);
}

/* --- the job's thread ------------------------------------------------------------------------ */

static json_t *archive_preview_json(struct serve_job *j, const struct replay_result *r, bool ok,
                                    const char *error)
{
    uint64_t would = r->mover.moved + r->mover.parked + r->no_home + r->at_max;
    json_t *s = json_object();
    json_object_set_new(s, "vhost", json_string(j->vhost));
    json_object_set_new(s, "queue", json_string(j->queue));
    json_object_set_new(s, "file", json_string(j->file));
    json_object_set_new(s, "copy", json_boolean(j->ao.copy));
    json_object_set_new(s, "dry_run", json_true());
    json_object_set_new(s, "snapshot", json_integer((json_int_t)r->mover.snapshot));
    if (j->ao.limit && would > j->ao.limit)
        would = j->ao.limit;
    json_object_set_new(s, "would_archive", json_integer((json_int_t)would));
    json_object_set_new(s, "filtered", json_integer((json_int_t)r->filtered));
    json_object_set_new(s, "seconds", json_real(r->mover.seconds));
    json_object_set_new(s, "ok", json_boolean(ok));
    json_object_set_new(s, "error", error ? json_string(error) : json_null());
    return s;
}

static void *job_main(void *arg)
{
    struct serve_job *j = arg;
    struct serve *sv = j->sv;
    struct rmqt_http *http = NULL;
    struct rmqt_session *s = NULL, *dst = NULL;
    struct dlq_source src;
    struct rmqt_error err;
    json_t *summary = NULL, *rec;
    bool ok = false;
    int rc = -1;
    char name[80], broker[32] = "";
    size_t k;

    memset(&src, 0, sizeof(src));
    rmqt_error_init(&err);
    snprintf(name, sizeof(name), "rmqtopo dlq serve: job %s (%s)", j->id, action_name(j->action));
    if (!(http = sv->cfg->http_new(sv->cfg->ctx, &err)))
        goto done;
    if (!(s = serve_session(sv, j->vhost, name, &err)))
        goto done;
    rc = dlq_source_open(&src, http, s, j->queue,
                         j->action == SERVE_ARCHIVE ? "archived" : "replayed", &err);
    for (k = 0; k < src.warnings.n; k++)
        job_warn(j, src.warnings.v[k]);
    if (rc < 0)
        goto done;
    rc = -1;
    if (j->action != SERVE_ARCHIVE || j->dry_run) {
        struct replay_options o = j->ro;
        struct replay_result res;
        memset(&res, 0, sizeof(res));
        o.vhost = rmqt_session_vhost(s);
        o.queue = j->queue;
        o.delivery_limit = src.delivery_limit;
        o.stop = &j->cancel;
        o.ctx = j;
        o.warn = job_warn;
        o.progress = job_progress;
        o.refused = job_refused;
        o.may_impersonate = rmqt_user_may_impersonate(http);
        if (j->action == SERVE_ARCHIVE) { /* the archive's preview: what the filters select */
            o.route = ROUTE_HOME;
            o.max_replays = -1;
        }
        if (j->dry_run) {
            job_read_warning(j, &src, UINT64_MAX); /* every message is read and given back */
            pthread_mutex_lock(&sv->mu);
            j->progress.snapshot = 0;
            pthread_mutex_unlock(&sv->mu);
            rc = replay_preview(s, http, &o, preview_each, j, &res, &err);
            ok = rc == 0 && !j->cancel;
            summary = j->action == SERVE_ARCHIVE
                          ? archive_preview_json(j, &res, ok, rc < 0 ? err.message : NULL)
                          : replay_summary_json(NULL, o.vhost, j->queue, &res, true, ok,
                                                rc < 0 ? err.message : NULL);
        } else {
            snprintf(name, sizeof(name), "rmqtopo dlq serve: job %s (publish)", j->id);
            if (!(dst = serve_session(sv, j->vhost, name, &err)))
                goto done;
            rc = replay_run(s, dst, http, &o, &res, &err);
            ok = replay_ok(rc, &res, j->cancel);
            summary = replay_summary_json(NULL, o.vhost, j->queue, &res, false, ok,
                                          rc < 0 ? err.message : NULL);
            job_read_warning(j, &src, replay_read_left(&res));
            {
                char *w = dlq_at_limit_warning(j->queue, res.mover.at_limit, o.delivery_limit);
                if (w)
                    job_warn(j, w);
                free(w);
            }
        }
        pthread_mutex_lock(&sv->mu);
        if (!j->dry_run)
            j->progress = res.mover;
        j->progress.seconds = res.mover.seconds;
        pthread_mutex_unlock(&sv->mu);
    } else {
        struct archive_options o = j->ao;
        struct archive_result res;
        memset(&res, 0, sizeof(res));
        o.vhost = rmqt_session_vhost(s);
        o.queue = j->queue;
        o.broker = dlq_source_broker(&src, broker, sizeof(broker))[0] ? broker : NULL;
        o.delivery_limit = src.delivery_limit;
        o.stop = &j->cancel;
        o.ctx = j;
        o.warn = job_warn;
        o.progress = job_progress;
        if (o.copy) /* every message is read and given back */
            job_read_warning(j, &src, UINT64_MAX);
        rc = archive_run(s, &o, &res, &err);
        ok = archive_ok(&o, rc, &res, j->cancel);
        if (!o.copy)
            job_read_warning(j, &src, res.mover.skipped);
        summary = archive_summary_json(NULL, &o, &res, ok, rc < 0 ? err.message : NULL);
        {
            char *w = dlq_at_limit_warning(j->queue, res.mover.at_limit, o.delivery_limit);
            if (w)
                job_warn(j, w);
            free(w);
        }
        pthread_mutex_lock(&sv->mu);
        j->progress = res.mover;
        pthread_mutex_unlock(&sv->mu);
    }
done:
    if (!summary)
        summary = json_pack("{s:s,s:s,s:b,s:o}", "vhost", j->vhost, "queue", j->queue, "ok", 0,
                            "error", json_string(err.message[0] ? err.message : "failed"));
    if (!summary)
        summary = json_pack("{s:b,s:s}", "ok", 0, "error", "failed");
    rmqt_session_close(dst);
    rmqt_session_close(s);
    dlq_source_release(&src);
    rmqt_http_free(http);

    pthread_mutex_lock(&sv->mu);
    j->summary = summary;
    j->state = j->cancel ? "cancelled" : ok ? "done" : "failed";
    now_iso(j->ended, sizeof(j->ended));
    sv->running--;
    pthread_mutex_unlock(&sv->mu);

    rec = json_pack("{s:s,s:s,s:s,s:b,s:O,s:s,s:O}", "job", j->id, "vhost", j->vhost, "queue",
                    j->queue, "dry_run", j->dry_run, "options", j->options, "result", j->state,
                    "counts", summary);
    serve_audit(sv, j->remote, action_name(j->action), rec);
    serve_logf(sv, "job %s (%s of '%s' in '%s'%s): %s", j->id, action_name(j->action), j->queue,
               j->vhost, j->dry_run ? ", dry run" : "", j->state);
    pthread_mutex_lock(&sv->mu);
    j->finished = true;
    pthread_mutex_unlock(&sv->mu);
    return NULL;
}

/* --- the table ------------------------------------------------------------------------------ */

static void job_free(struct serve_job *j)
{
    size_t k;
    free(j->vhost);
    free(j->queue);
    free(j->remote);
    free(j->file);
    free((void *)j->ro.filter.message_ids);
    json_decref(j->options);
    json_decref(j->summary);
    json_decref(j->warnings);
    for (k = 0; k < j->n_targets; k++) {
        free(j->targets[k].exchange);
        free(j->targets[k].routing_key);
    }
    free(j->targets);
    free(j);
}

/* Forgets the oldest finished jobs beyond JOBS_KEPT (sv->mu held). */
static void trim(struct serve *sv)
{
    size_t k = 0;
    while (sv->n_jobs > JOBS_KEPT && k < sv->n_jobs) {
        struct serve_job *j = sv->jobs[k];
        if (!j->finished) {
            k++;
            continue;
        }
        pthread_join(j->thread, NULL);
        job_free(j);
        memmove(&sv->jobs[k], &sv->jobs[k + 1], (sv->n_jobs - k - 1) * sizeof(*sv->jobs));
        sv->n_jobs--;
    }
}

static json_t *target_list(const struct serve_job *j)
{
    json_t *a = json_array();
    size_t k;
    for (k = 0; k < j->n_targets; k++) {
        const struct target *t = &j->targets[k];
        json_t *o = json_object();
        json_object_set_new(o, "action", json_string(t->action));
        if (strcmp(t->action, "archive") == 0) {
            json_object_set_new(o, "file", json_string(t->routing_key));
        } else if (strcmp(t->action, "replay") == 0 || strcmp(t->action, "park") == 0) {
            json_t *e = json_string(t->exchange), *r = json_string(t->routing_key);
            json_object_set_new(o, "exchange", e ? e : json_string("(not UTF-8)"));
            json_object_set_new(o, "routing_key", r ? r : json_string("(not UTF-8)"));
            json_object_set_new(o, "target_exists", json_boolean(t->exists));
        }
        json_object_set_new(o, "count", json_integer((json_int_t)t->count));
        json_array_append_new(a, o);
    }
    return a;
}

/* The job as JSON (sv->mu held). */
static json_t *job_json(const struct serve_job *j)
{
    const struct rmqt_mover_stats *p = &j->progress;
    double secs = j->finished || j->summary ? p->seconds : rmqt_now_s() - j->t0;
    uint64_t done = p->moved + p->parked;
    json_t *o = json_object(), *pr = json_object();

    json_object_set_new(o, "id", json_string(j->id));
    json_object_set_new(o, "action", json_string(action_name(j->action)));
    json_object_set_new(o, "vhost", json_string(j->vhost));
    json_object_set_new(o, "queue", json_string(j->queue));
    json_object_set_new(o, "dry_run", json_boolean(j->dry_run));
    json_object_set_new(o, "options", json_incref(j->options));
    json_object_set_new(o, "state", json_string(j->state));
    json_object_set_new(o, "started", json_string(j->started));
    json_object_set_new(o, "ended", j->ended[0] ? json_string(j->ended) : json_null());
    json_object_set_new(pr, "snapshot", json_integer((json_int_t)p->snapshot));
    json_object_set_new(pr, j->dry_run ? "read" : "moved",
                        json_integer((json_int_t)(j->dry_run ? p->snapshot : p->moved)));
    json_object_set_new(pr, "parked", json_integer((json_int_t)p->parked));
    json_object_set_new(pr, "skipped", json_integer((json_int_t)p->skipped));
    json_object_set_new(pr, "returned", json_integer((json_int_t)p->returned));
    json_object_set_new(pr, "nacked", json_integer((json_int_t)p->nacked));
    json_object_set_new(pr, "refused", json_integer((json_int_t)p->refused));
    json_object_set_new(pr, "seconds", json_real(secs));
    json_object_set_new(pr, "rate", json_real(secs > 0 ? (double)done / secs : 0));
    json_object_set_new(o, "progress", pr);
    json_object_set_new(o, "summary", j->summary ? json_incref(j->summary) : json_null());
    json_object_set_new(o, "warnings", json_incref(j->warnings));
    if (j->dry_run)
        json_object_set_new(o, "targets", target_list(j));
    return o;
}

int serve_job_start(struct serve *sv, enum serve_action action, const char *vhost,
                    const char *queue, const json_t *body, const char *remote, json_t **out)
{
    struct serve_job *j = xcalloc(1, sizeof(*j));
    unsigned max = sv->cfg->max_jobs ? sv->cfg->max_jobs : DEFAULT_MAX_JOBS;
    char why[300];
    json_t *rec;

    j->sv = sv;
    j->action = action;
    j->vhost = xstrdup(vhost);
    j->queue = xstrdup(queue);
    j->remote = xstrdup(remote);
    j->options = json_deep_copy(body);
    j->warnings = json_array();
    j->state = "running";
    if (parse_options(j, why, sizeof(why)) < 0) {
        *out = serve_error_json("%s", why);
        job_free(j);
        return 400;
    }
    if (j->dry_run || (action == SERVE_ARCHIVE && j->ao.copy)) { /* reads and gives back */
        int status = serve_read_consent(sv, vhost, queue, j->read_quorum, out);
        if (status != 0) {
            job_free(j);
            return status;
        }
    }
    if (action == SERVE_ARCHIVE && !j->dry_run) {
        struct stat st;
        if (stat(sv->cfg->archive_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            *out = serve_error_json("--archive-dir '%s' is not a directory", sv->cfg->archive_dir);
            job_free(j);
            return 409;
        }
    }
    pthread_mutex_lock(&sv->mu);
    if (*sv->stop) {
        pthread_mutex_unlock(&sv->mu);
        *out = serve_error_json("the server is stopping");
        job_free(j);
        return 503;
    }
    if (sv->running >= max) {
        pthread_mutex_unlock(&sv->mu);
        *out = serve_error_json("%u jobs are running already (the most at once): wait for one "
                                "to end",
                                max);
        job_free(j);
        return 429;
    }
    snprintf(j->id, sizeof(j->id), "%llu", (unsigned long long)++sv->next_job);
    j->t0 = rmqt_now_s();
    now_iso(j->started, sizeof(j->started));
    XGROW(sv->jobs, sv->cap_jobs, sv->n_jobs + 1);
    sv->jobs[sv->n_jobs++] = j;
    sv->running++;
    if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
        sv->n_jobs--;
        sv->running--;
        pthread_mutex_unlock(&sv->mu);
        *out = serve_error_json("cannot start a thread: %s", strerror(errno));
        job_free(j);
        return 500;
    }
    trim(sv);
    pthread_mutex_unlock(&sv->mu);
    rec = json_pack("{s:s,s:s,s:s,s:b,s:O,s:s}", "job", j->id, "vhost", vhost, "queue", queue,
                    "dry_run", j->dry_run, "options", j->options, "result", "started");
    serve_audit(sv, remote, action_name(action), rec);
    serve_logf(sv, "job %s: %s of '%s' in '%s'%s started from %s", j->id, action_name(action),
               queue, vhost, j->dry_run ? " (dry run)" : "", remote);
    *out = json_pack("{s:s}", "id", j->id);
    return 202;
}

static struct serve_job *find(struct serve *sv, const char *id)
{
    size_t k;
    for (k = 0; k < sv->n_jobs; k++)
        if (strcmp(sv->jobs[k]->id, id) == 0)
            return sv->jobs[k];
    return NULL;
}

int serve_job_get(struct serve *sv, const char *id, json_t **out)
{
    struct serve_job *j;
    pthread_mutex_lock(&sv->mu);
    if (!id) {
        json_t *a = json_array();
        size_t k;
        for (k = sv->n_jobs; k-- > 0;)
            json_array_append_new(a, job_json(sv->jobs[k]));
        pthread_mutex_unlock(&sv->mu);
        *out = json_pack("{s:o}", "jobs", a);
        return 200;
    }
    j = find(sv, id);
    *out = j ? job_json(j) : serve_error_json("no job '%.40s'", id);
    pthread_mutex_unlock(&sv->mu);
    return j ? 200 : 404;
}

int serve_job_cancel(struct serve *sv, const char *id, const char *remote, json_t **out)
{
    struct serve_job *j;
    json_t *rec = NULL;
    pthread_mutex_lock(&sv->mu);
    j = find(sv, id);
    if (!j) {
        pthread_mutex_unlock(&sv->mu);
        *out = serve_error_json("no job '%.40s'", id);
        return 404;
    }
    if (!j->summary)
        j->cancel = 1;
    *out = json_pack("{s:s,s:s}", "id", j->id, "state", j->state);
    rec = json_pack("{s:s,s:s,s:s}", "job", j->id, "vhost", j->vhost, "queue", j->queue);
    pthread_mutex_unlock(&sv->mu);
    serve_audit(sv, remote, "cancel", rec);
    return 202;
}

void serve_jobs_shutdown(struct serve *sv)
{
    size_t k;
    pthread_mutex_lock(&sv->mu);
    for (k = 0; k < sv->n_jobs; k++)
        sv->jobs[k]->cancel = 1;
    pthread_mutex_unlock(&sv->mu);
    /* no new job starts once *sv->stop is set; the table only shrinks in trim() */
    for (k = 0; k < sv->n_jobs; k++)
        pthread_join(sv->jobs[k]->thread, NULL);
    for (k = 0; k < sv->n_jobs; k++)
        job_free(sv->jobs[k]);
    free(sv->jobs);
    sv->jobs = NULL;
    sv->n_jobs = 0;
}
