/*
 * internal.h - what the files of serve/ share: the server's state, a request as the API
 * handlers see it, the job table and the audit log.
 */
#ifndef RMQT_SERVE_INTERNAL_H
#define RMQT_SERVE_INTERNAL_H

#include "serve.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "mover.h"

#define SERVE_MAX_BODY (64 * 1024) /* a request body */
#define SERVE_MAX_SEGMENTS 8

struct serve_job;

/* The last depth seen of a queue: the overview's rate is measured between two refreshes. */
struct serve_depth {
    char *vhost, *queue;
    uint64_t messages;
    double t; /* rmqt_now_s() */
};

struct serve {
    const struct serve_config *cfg;
    const volatile sig_atomic_t *stop;
    char token[65], csrf[65];
    bool tls, loopback;
    char host[256]; /* the listen address */

    pthread_mutex_t mu; /* jobs, depths */
    struct serve_job **jobs;
    size_t n_jobs, cap_jobs;
    unsigned running;
    uint64_t next_job;
    struct serve_depth *depths;
    size_t n_depths, cap_depths;

    pthread_mutex_t audit_mu;
    FILE *audit; /* NULL: cfg->log */
};

struct serve_request {
    const char *method;
    char *seg[SERVE_MAX_SEGMENTS]; /* the decoded path segments after /api */
    size_t nseg;
    const char *body;
    size_t body_len;
    char remote[80];
    /* query arguments, looked up by name (NULL: absent) */
    const char *(*arg)(void *ctx, const char *name);
    void *arg_ctx;
};

/* Answers an API request: the status and a JSON document (new reference) in *out. */
int serve_api(struct serve *sv, struct serve_request *rq, json_t **out);

/* A JSON error document {"error": msg}. */
json_t *serve_error_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Jobs (jobs.c) */
enum serve_action { SERVE_REPLAY, SERVE_PARK, SERVE_ARCHIVE };
/* Starts a job from a POST body already checked; 202 with {"id"} in *out, or an error
 * status (400 malformed options, 429 too many jobs) with {"error"}. */
/* For a job that reads a queue and gives its messages back (a dry run, an archive copy): 409
 * with what the read costs (*out set) when the queue needs the user's consent
 * (dlq_read_needs_consent) and consent is false; 0 otherwise (also when the queue cannot be
 * opened: the job says why). */
int serve_read_consent(struct serve *sv, const char *vhost, const char *queue, bool consent,
                       json_t **out);
int serve_job_start(struct serve *sv, enum serve_action action, const char *vhost,
                    const char *queue, const json_t *body, const char *remote, json_t **out);
/* GET /api/jobs/{id} and POST /api/jobs/{id}/cancel; GET /api/jobs (id NULL). */
int serve_job_get(struct serve *sv, const char *id, json_t **out);
int serve_job_cancel(struct serve *sv, const char *id, const char *remote, json_t **out);
/* Asks every running job to stop and waits for them; frees the table. */
void serve_jobs_shutdown(struct serve *sv);

/* The audit log (audit.c): one JSON line {time, remote, action, ...fields of rec}. */
int serve_audit_open(struct serve *sv, struct rmqt_error *err);
void serve_audit(struct serve *sv, const char *remote, const char *action, json_t *rec);
void serve_audit_close(struct serve *sv);

/* A log line through cfg->log (printf-style). */
void serve_logf(struct serve *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The vhost of a path segment ("%2F" for "/"), the queue, and a session of it. */
struct rmqt_session *serve_session(struct serve *sv, const char *vhost, const char *name,
                                   struct rmqt_error *err);

/* Options of a body: a string, NULL when absent; -1 when of another type. */
int serve_opt_string(const json_t *body, const char *key, const char **out, char *why, size_t cap);

/* The filter options (reason, from_queue, older_than, search, message_ids) from a JSON body or
 * from query arguments; strings point into src (or ids, allocated: free with free()). 0, or -1
 * with why set. */
struct replay_filter;
int serve_filter_from_json(const json_t *body, struct replay_filter *f, char *why, size_t cap);

#endif
