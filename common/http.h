/*
 * http.h - the management HTTP API client (libcurl).
 *
 * One handle is reused for every request (keep-alive). Several base URLs name the nodes of a
 * cluster: a request that cannot connect or gets a 5xx moves on to the next one, and a round
 * that fails everywhere is retried with exponential backoff and jitter, within a bound.
 * 4xx answers are not retried; they come back as errors carrying the broker's own reason.
 *
 * Credentials are never part of a URL the client shows: user info in a base URL is taken out
 * and sent as HTTP basic auth, and every message names the URL without it.
 */
#ifndef RMQT_HTTP_H
#define RMQT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "strbuf.h"

struct rmqt_http_config {
    const char *const *urls; /* base URLs, "http://host:15672" (a path prefix is kept) */
    size_t n_urls;
    const char *user;        /* NULL: the URL's user info, else "guest" */
    const char *password;    /* NULL: the URL's user info, else "guest" */
    const char *cacert;      /* https: CA bundle to verify the server with (NULL: system's) */
    const char *cert;        /* https: client certificate (mutual TLS) */
    const char *key;         /* https: client key */
    bool insecure;           /* https: do not verify the server */
    long connect_timeout_ms; /* 0: 5,000 */
    long timeout_ms;         /* a whole request, every node and retry; 0: 60,000 */
    size_t max_body;         /* largest response accepted; 0: 256 MiB */
    int retries;             /* rounds after the first; <0: none; 0: default 3 */
    long backoff_ms;         /* first backoff; 0: 200 (doubles, with jitter) */
    /* Called with one line per attempt (method, URL without credentials, user, outcome,
     * time), e.g. for --verbose; NULL: silent. May be called from a worker thread. Never
     * given the password. */
    void (*trace)(const char *line, void *ctx);
    void *trace_ctx;
};

struct rmqt_http;

struct rmqt_http_response {
    long status;        /* the HTTP status; 0 when there was no answer */
    struct strbuf body; /* the response body (also for error statuses) */
};

/* A client for cfg (copied; the strings too). NULL with err set when cfg is unusable. */
struct rmqt_http *rmqt_http_new(const struct rmqt_http_config *cfg, struct rmqt_error *err);
/* Frees the client. Accepts NULL. */
void rmqt_http_free(struct rmqt_http *h);

/* method ("GET", "PUT", "POST", "DELETE") on path ("/api/overview"; names inside it already
 * percent-encoded with rmqt_url_encode), with an optional JSON body. Fills resp (which must
 * be initialised with rmqt_http_response_init; its body is replaced). Returns 0 for a 2xx
 * answer; -1 otherwise, with err set: RMQT_ERR_CONNECT when no node answered, RMQT_ERR_HTTP
 * (detail = status) with the broker's reason for an error answer, RMQT_ERR_LIMIT for an
 * oversized response. */
int rmqt_http_request(struct rmqt_http *h, const char *method, const char *path, const char *body,
                      struct rmqt_http_response *resp, struct rmqt_error *err);

void rmqt_http_response_init(struct rmqt_http_response *resp);
void rmqt_http_response_release(struct rmqt_http_response *resp);

/* The base URL that answered last (without credentials), for messages. Borrowed. */
const char *rmqt_http_current_url(const struct rmqt_http *h);

/* Appends s percent-encoded for one path segment: every byte but A-Z a-z 0-9 - . _ ~
 * ("/" becomes "%2F", so the vhost "/" is "%2F"). */
void rmqt_url_encode(struct strbuf *sb, const char *s);

/* The message of a management API error body ({"error": ..., "reason": ...}): appends the
 * reason (or the error, or a cut of the raw body) to sb. */
void rmqt_http_reason(struct strbuf *sb, const char *body, size_t len);

#endif
