/*
 * http.c - the management API client on libcurl (see http.h for the contract).
 *
 * Decisions:
 * - Only http and https, no redirects: a management API never redirects, and following one
 *   could send the credentials elsewhere.
 * - The size cap is enforced twice: CURLOPT_MAXFILESIZE_LARGE refuses an announced
 *   oversized body before it is read, and the write callback stops one without a length.
 * - Failover and retries: connection failures, timeouts and 5xx move to the next node; when
 *   every node failed, the whole round is retried after a backoff (doubling, with jitter so
 *   that many CI jobs hitting one broker do not retry in step), at most `retries` times.
 * - Secrets: user info in a base URL is cut out at construction; the password lives only in
 *   the handle's options and is wiped from memory when the client is freed.
 */
#include "http.h"

#include "textutil.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_TIMEOUT_MS 60000L /* a whole request, retries included */
#define DEFAULT_MAX_BODY (256u * 1024 * 1024)
#define DEFAULT_RETRIES 3
#define DEFAULT_BACKOFF_MS 200L

struct rmqt_http {
    CURL *curl;
    char **urls; /* without user info */
    size_t n_urls;
    size_t current;
    char *user;
    char *password;
    char *cacert, *cert, *key;
    bool insecure;
    long connect_timeout_ms, timeout_ms, backoff_ms;
    size_t max_body;
    int retries;
    uint64_t rng;
    char curl_error[CURL_ERROR_SIZE];
    void (*trace)(const char *line, void *ctx);
    void *trace_ctx;
};

struct sink {
    struct strbuf *body;
    size_t max;
    bool overflow;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;

    if (s->body->len + n > s->max) {
        s->overflow = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    strbuf_add(s->body, data, n);
    return n;
}

static char *percent_decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len) {
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            char *end;
            long v = strtol(hex, &end, 16);
            if (end == hex + 2) {
                out[o++] = (char)v;
                i += 2;
                continue;
            }
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

/* Splits "scheme://user:pass@host/..." into a URL without user info, and the user and
 * password (new strings, or NULL). */
static char *strip_userinfo(const char *url, char **user, char **password)
{
    const char *p = strstr(url, "://"), *host, *at, *slash;
    struct strbuf sb = {0};

    *user = *password = NULL;
    if (!p)
        return xstrdup(url);
    host = p + 3;
    slash = strchr(host, '/');
    at = strchr(host, '@');
    if (!at || (slash && at > slash))
        return xstrdup(url);
    {
        const char *colon = memchr(host, ':', (size_t)(at - host));
        if (colon) {
            *user = percent_decode(host, (size_t)(colon - host));
            *password = percent_decode(colon + 1, (size_t)(at - colon - 1));
        } else {
            *user = percent_decode(host, (size_t)(at - host));
        }
    }
    strbuf_add(&sb, url, (size_t)(host - url));
    strbuf_adds(&sb, at + 1);
    return strbuf_detach(&sb, NULL);
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
        free(s);
    }
}

struct rmqt_http *rmqt_http_new(const struct rmqt_http_config *cfg, struct rmqt_error *err)
{
    static bool curl_ready;
    struct rmqt_http *h;
    size_t k;

    if (!cfg->n_urls)
        return rmqt_error_set(err, RMQT_ERR_USAGE, "no management API URL given"), NULL;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return rmqt_error_set(err, RMQT_ERR_INTERNAL, "libcurl failed to initialise"), NULL;
        curl_ready = true;
    }
    h = xcalloc(1, sizeof(*h));
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return rmqt_error_set(err, RMQT_ERR_INTERNAL, "libcurl failed to initialise"), NULL;
    }
    h->urls = xcalloc(cfg->n_urls, sizeof(char *));
    h->n_urls = cfg->n_urls;
    for (k = 0; k < cfg->n_urls; k++) {
        char *user, *password;
        const char *u = cfg->urls[k];
        size_t len;

        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            rmqt_http_free(h);
            return rmqt_error_set(err, RMQT_ERR_USAGE,
                                  "management API URL must start with http:// or https:// "
                                  "(got '%.*s')",
                                  (int)strcspn(u, "@"), u),
                   NULL;
        }
        h->urls[k] = strip_userinfo(u, &user, &password);
        len = strlen(h->urls[k]);
        while (len > 0 && h->urls[k][len - 1] == '/')
            h->urls[k][--len] = '\0';
        if (user && !h->user)
            h->user = user;
        else
            free(user);
        if (password && !h->password)
            h->password = password;
        else
            wipe_free(password);
    }
    if (cfg->user) {
        free(h->user);
        h->user = xstrdup(cfg->user);
    }
    if (cfg->password) {
        wipe_free(h->password);
        h->password = xstrdup(cfg->password);
    }
    if (!h->user)
        h->user = xstrdup("guest");
    if (!h->password)
        h->password = xstrdup("guest");
    h->cacert = cfg->cacert ? xstrdup(cfg->cacert) : NULL;
    h->cert = cfg->cert ? xstrdup(cfg->cert) : NULL;
    h->key = cfg->key ? xstrdup(cfg->key) : NULL;
    h->insecure = cfg->insecure;
    h->connect_timeout_ms =
        cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    h->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    h->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : DEFAULT_BACKOFF_MS;
    h->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    h->retries = cfg->retries < 0 ? 0 : cfg->retries == 0 ? DEFAULT_RETRIES : cfg->retries;
    h->trace = cfg->trace;
    h->trace_ctx = cfg->trace_ctx;
    h->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)h;
    return h;
}

void rmqt_http_free(struct rmqt_http *h)
{
    size_t k;

    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    for (k = 0; k < h->n_urls; k++)
        free(h->urls[k]);
    free(h->urls);
    free(h->user);
    wipe_free(h->password);
    free(h->cacert);
    free(h->cert);
    free(h->key);
    free(h);
}

void rmqt_http_response_init(struct rmqt_http_response *resp)
{
    resp->status = 0;
    strbuf_init(&resp->body);
}

void rmqt_http_response_release(struct rmqt_http_response *resp)
{
    if (!resp)
        return;
    strbuf_release(&resp->body);
    resp->status = 0;
}

const char *rmqt_http_current_url(const struct rmqt_http *h)
{
    return h->urls[h->current];
}

void rmqt_url_encode(struct strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            strbuf_addc(sb, (char)*p);
        } else {
            strbuf_addc(sb, '%');
            strbuf_addc(sb, hex[*p >> 4]);
            strbuf_addc(sb, hex[*p & 15]);
        }
    }
}

void rmqt_http_reason(struct strbuf *sb, const char *body, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    const char *reason = NULL;

    if (doc && json_is_object(doc)) {
        json_t *r = json_object_get(doc, "reason");
        json_t *e = json_object_get(doc, "error");
        if (json_is_string(r) && json_string_length(r))
            reason = json_string_value(r);
        else if (json_is_string(e))
            reason = json_string_value(e);
    }
    if (reason) {
        /* the broker HTML-escapes its reasons (Erlang's << >> come as &lt;&lt; &gt;&gt;) and
         * ends lines with newlines: undo the one, fold the other into spaces; names can hold
         * control characters, so the rest is sanitised */
        struct strbuf plain = {0};
        const char *p = reason;
        while (*p) {
            static const struct {
                const char *entity, *text;
            } entities[] = {
                {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
            size_t e;
            for (e = 0; e < sizeof(entities) / sizeof(entities[0]); e++)
                if (strncmp(p, entities[e].entity, strlen(entities[e].entity)) == 0)
                    break;
            if (e < sizeof(entities) / sizeof(entities[0])) {
                strbuf_adds(&plain, entities[e].text);
                p += strlen(entities[e].entity);
            } else if (*p == '\n' || *p == '\r' || *p == '\t') {
                if (plain.len && plain.buf[plain.len - 1] != ' ')
                    strbuf_addc(&plain, ' ');
                p++;
            } else {
                strbuf_addc(&plain, *p++);
            }
        }
        while (plain.len && plain.buf[plain.len - 1] == ' ')
            plain.len--;
        rmqt_sanitize_add(sb, plain.buf ? plain.buf : "", plain.len);
        strbuf_release(&plain);
    } else {
        size_t k, n = len > 200 ? 200 : len;
        for (k = 0; k < n; k++)
            strbuf_addc(sb, (body[k] >= 0x20 && body[k] < 0x7f) ? body[k] : ' ');
        if (len > n)
            strbuf_adds(sb, "...");
    }
    json_decref(doc);
}

/* For an error answer that carries no reason of the broker's. */
static const char *status_phrase(long status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found (is this the URL of a RabbitMQ management API?)";
    case 405:
        return "Method Not Allowed (is this the URL of a RabbitMQ management API?)";
    case 406:
        return "Not Acceptable (is this the URL of a RabbitMQ management API?)";
    case 409:
        return "Conflict";
    default:
        return "error";
    }
}

static uint64_t next_random(struct rmqt_http *h)
{
    /* xorshift64*: jitter needs no quality, only independence between processes */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return h->rng * 2685821657736338717ULL;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Whether a curl failure means "this node did not answer properly": try another. */
static bool is_transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:   /* not HTTP at all, e.g. the AMQP port: try the next node */
    case CURLE_UNSUPPORTED_PROTOCOL: /* "HTTP/0.9": the same (URLs are http(s) only) */
        return true;
    default:
        return false;
    }
}

static void setup_handle(struct rmqt_http *h, const char *method, const char *url, const char *body,
                         struct curl_slist *headers, struct sink *sink)
{
    CURL *c = h->curl;

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_error);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip when the broker offers it */
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (h->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
    if (h->cert)
        curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
    if (h->key)
        curl_easy_setopt(c, CURLOPT_SSLKEY, h->key);
    if (h->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        }
    }
}

/* The error of a request that no node answered properly, saying what happened: refused
 * connections (nothing listens), timeouts, or errors from the nodes. last holds the last
 * failure's own words. */
static void give_up(const struct rmqt_http *h, const char *method, const char *path,
                    const struct strbuf *last, int attempts, int refused, int timed_out,
                    bool had_answer, long took_ms, bool deadline_reached, struct rmqt_error *err)
{
    double took = (double)took_ms / 1000;
    char tries[96];

    snprintf(tries, sizeof(tries), "%zu %s, %d %s in %.1f s", h->n_urls,
             h->n_urls == 1 ? "node" : "nodes", attempts, attempts == 1 ? "attempt" : "attempts",
             took);
    if (attempts > 0 && refused == attempts)
        /* curl's own words ("Failed to connect ... after 0 ms") add nothing here */
        rmqt_error_set(err, RMQT_ERR_CONNECT,
                       "%s %s: connection refused: nothing listens at %s%s (%s; is the broker "
                       "running, and is that its management API port?)",
                       method, path, h->urls[0], h->n_urls > 1 ? " nor at the other nodes" : "",
                       tries);
    else if (attempts > 0 && timed_out == attempts)
        rmqt_error_set(err, RMQT_ERR_CONNECT, "%s %s: timed out: no answer within %.1f s (%s): %s",
                       method, path, took, tries, last->buf ? last->buf : "no answer");
    else
        rmqt_error_set(err, RMQT_ERR_CONNECT, "%s %s: %s (%s): %s", method, path,
                       had_answer         ? "the management API kept failing"
                       : deadline_reached ? "no management API answered in time"
                                          : "no management API answered",
                       tries, last->buf ? last->buf : "no answer");
}

int rmqt_http_request(struct rmqt_http *h, const char *method, const char *path, const char *body,
                      struct rmqt_http_response *resp, struct rmqt_error *err)
{
    struct curl_slist *headers = NULL;
    struct strbuf url = {0}, last = {0};
    struct sink sink;
    long backoff = h->backoff_ms;
    int round, rc = -1;
    size_t tried;
    bool had_answer = false;
    long deadline, started, first_try;
    /* what the attempts met, so that the final message says what happened: refused
     * connections are not a timeout */
    int attempts = 0, refused = 0, timed_out = 0;

    /* JSON first, anything else accepted: the limits endpoints (PUT/DELETE
     * /api/user-limits/..., /api/vhost-limits/...) answer 406 to a strict JSON Accept (seen
     * on 3.10.8), and every JSON endpoint still answers JSON */
    headers = curl_slist_append(headers, "Accept: application/json, */*;q=0.5");
    if (body)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    sink.body = &resp->body;
    sink.max = h->max_body;

    /* the timeout bounds the whole request: every node and every retry */
    first_try = now_ms();
    deadline = first_try + h->timeout_ms;
    for (round = 0; round <= h->retries; round++) {
        if (round > 0) {
            long jitter = (long)(next_random(h) % (uint64_t)(backoff / 2 + 1));
            long pause = backoff / 2 + jitter;
            if (now_ms() + pause >= deadline)
                break;
            sleep_ms(pause);
            backoff *= 2;
        }
        for (tried = 0; tried < h->n_urls; tried++) {
            size_t idx = (h->current + tried) % h->n_urls;
            long left = deadline - now_ms();
            CURLcode cc;

            if (left <= 0)
                goto exhausted;

            strbuf_reset(&url);
            strbuf_adds(&url, h->urls[idx]);
            strbuf_adds(&url, path);
            strbuf_reset(&resp->body);
            sink.overflow = false;
            h->curl_error[0] = '\0';
            resp->status = 0;
            setup_handle(h, method, url.buf, body, headers, &sink);
            curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, left);
            if (left < h->connect_timeout_ms)
                curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, left);
            started = now_ms();
            cc = curl_easy_perform(h->curl);
            if (cc == CURLE_OK)
                curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
            if (h->trace) {
                char line[1024];
                if (cc == CURLE_OK)
                    snprintf(line, sizeof(line),
                             "%s %s as user '%s' -> HTTP %ld, %zu bytes, %ld ms", method, url.buf,
                             h->user, resp->status, resp->body.len, now_ms() - started);
                else
                    snprintf(line, sizeof(line), "%s %s as user '%s' -> %s (%ld ms)", method,
                             url.buf, h->user,
                             h->curl_error[0] ? h->curl_error : curl_easy_strerror(cc),
                             now_ms() - started);
                h->trace(line, h->trace_ctx);
            }
            if (sink.overflow || cc == CURLE_FILESIZE_EXCEEDED) {
                rmqt_error_set(err, RMQT_ERR_LIMIT,
                               "%s %s: the response is larger than %zu MiB, the most rmqtopo "
                               "reads",
                               method, url.buf, h->max_body >> 20);
                goto out;
            }
            if (cc != CURLE_OK) {
                long os_errno = 0;
                attempts++;
                curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno);
                if (cc == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED)
                    refused++;
                else if (cc == CURLE_OPERATION_TIMEDOUT)
                    timed_out++;
                if (had_answer)
                    continue; /* a node's own answer says more than a refused connection */
                strbuf_reset(&last);
                strbuf_addf(&last, "%s", h->curl_error[0] ? h->curl_error : curl_easy_strerror(cc));
                if (cc == CURLE_WEIRD_SERVER_REPLY || cc == CURLE_UNSUPPORTED_PROTOCOL)
                    strbuf_addf(&last,
                                " (%s does not speak HTTP: is it the AMQP port? The "
                                "management API usually listens on 15672)",
                                h->urls[idx]);
                if (!is_transient(cc)) {
                    /* TLS problems and the like: no other node will do better */
                    rmqt_error_set(err, RMQT_ERR_CONNECT, "%s %s: %s", method, url.buf, last.buf);
                    goto out;
                }
                continue;
            }
            h->current = idx;
            attempts++;
            if (resp->status >= 200 && resp->status < 300) {
                rc = 0;
                goto out;
            }
            if (resp->status >= 500) {
                had_answer = true;
                strbuf_reset(&last);
                strbuf_addf(&last, "HTTP %ld: ", resp->status);
                rmqt_http_reason(&last, resp->body.buf ? resp->body.buf : "", resp->body.len);
                continue;
            }
            /* a 4xx is the broker's answer about the request itself: no retry */
            {
                struct strbuf reason = {0};
                rmqt_http_reason(&reason, resp->body.buf ? resp->body.buf : "", resp->body.len);
                if (resp->status == 401 &&
                    (!reason.buf || strstr(reason.buf, "Login failed") || !reason.len))
                    rmqt_error_set(err, RMQT_ERR_HTTP,
                                   "authentication failed for user '%s' at %s (check the user "
                                   "name and password)",
                                   h->user, h->urls[idx]);
                else if (resp->status == 401)
                    /* logged in, but the user's tags do not allow this endpoint */
                    rmqt_error_set(err, RMQT_ERR_HTTP,
                                   "user '%s' is not authorised for %s %s at %s: %s (the "
                                   "management API decides by the user's tags)",
                                   h->user, method, path, h->urls[idx], reason.buf);
                else if (resp->status == 403)
                    rmqt_error_set(err, RMQT_ERR_HTTP,
                                   "user '%s' is not allowed to %s %s (403: %s)", h->user, method,
                                   path, reason.buf ? reason.buf : "");
                else
                    rmqt_error_set(err, RMQT_ERR_HTTP, "%s %s: %ld %s", method, url.buf,
                                   resp->status,
                                   reason.len ? reason.buf : status_phrase(resp->status));
                err->detail = resp->status;
                strbuf_release(&reason);
                goto out;
            }
        }
    }
exhausted:
    give_up(h, method, path, &last, attempts, refused, timed_out, had_answer, now_ms() - first_try,
            now_ms() >= deadline, err);
out:
    curl_slist_free_all(headers);
    strbuf_release(&url);
    strbuf_release(&last);
    return rc;
}
