/*
 * server.c - the HTTP layer of dlq serve: libmicrohttpd, the access token, the Host, Origin
 * and CSRF checks, the security headers, the page's assets and the dispatch to the API
 * (api.c).
 *
 * Decisions:
 * - One thread per connection (bounded: 64 connections, 30 s without progress closes one), so
 *   a handler that reads a queue, or a slow client, stalls only its own connection.
 * - libmicrohttpd unescapes the whole path by default, which makes "a%2Fb" and "a/b" one
 *   name: an unescape callback that changes nothing keeps the raw path, and each segment (and
 *   each query argument) is decoded here.
 * - The token comes in once in the URL (?token=), is turned into an HttpOnly SameSite=Strict
 *   cookie and the browser is sent to "/" (the token leaves the address bar and the history);
 *   scripts send "Authorization: Bearer TOKEN". A POST authenticated by the cookie alone also
 *   needs the X-CSRF-Token header (the page reads it from a meta tag of the authenticated
 *   page); a Bearer token cannot be sent by another site without our consent (no CORS).
 * - Host must name this server (any loopback name or address, any port, when bound to
 *   loopback: an SSH tunnel changes the port; --allow-host adds names): a DNS-rebinding page
 *   sends its own name. Origin, when sent, must be this very origin (scheme and Host).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "present.h"

#include "strbuf.h"
#include "textutil.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct serve_asset {
    const char *path, *type;
    const unsigned char *data;
    size_t len;
};
extern const struct serve_asset serve_assets[]; /* assets.c, generated at build time */

#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src "        \
    "'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* --- small pure helpers ------------------------------------------------------------------- */

bool serve_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i;
    unsigned char d = la != lb;
    for (i = 0; i < lb; i++)
        d |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
    return d == 0;
}

bool serve_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0 ||
        (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0))
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

int serve_parse_listen(const char *s, char *host, size_t cap, unsigned *port)
{
    const char *colon, *h = s;
    size_t hl;
    char *end;
    unsigned long p;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return -1;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= cap || !colon[1])
        return -1;
    /* digits only: strtoul() alone would take " 80", "+80" and " -0" */
    if (!isdigit((unsigned char)colon[1]))
        return -1;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno || *end || p > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned)p;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *decode(const char *s, size_t len, bool plus_is_space)
{
    char *out = xmalloc(len + 1);
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            if (hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
                free(out);
                return NULL;
            }
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return out;
}

char *serve_decode_segment(const char *s, size_t len)
{
    return decode(s, len, false);
}

/* --- the log ------------------------------------------------------------------------------ */

void serve_logf(struct serve *sv, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (sv->cfg->log)
        sv->cfg->log(sv->cfg->ctx, msg);
    free(msg);
}

json_t *serve_error_json(const char *fmt, ...)
{
    va_list ap;
    char *msg;
    json_t *j;

    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    j = json_pack("{s:s}", "error", msg);
    if (!j) /* not UTF-8 (a name from a request): said without it */
        j = json_pack("{s:s}", "error", "malformed request");
    free(msg);
    return j;
}

/* --- responses ---------------------------------------------------------------------------- */

static void security_headers(struct serve *sv, struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    if (sv->tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result send_buf(struct serve *sv, struct MHD_Connection *c, unsigned status,
                                const char *type, const void *data, size_t len, const char *cookie,
                                const char *location)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (!r)
        return MHD_NO;
    security_headers(sv, r);
    MHD_add_response_header(r, "Content-Type", type);
    if (cookie)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    if (location)
        MHD_add_response_header(r, "Location", location);
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"rmqtopo\"");
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct serve *sv, struct MHD_Connection *c, unsigned status,
                                 json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | RMQT_JSON_MEASURED);
    enum MHD_Result rc;

    if (!s)
        s = xstrdup("{\"error\":\"cannot encode the answer\"}");
    rc = send_buf(sv, c, status, "application/json; charset=utf-8", s, strlen(s), NULL, NULL);
    free(s);
    json_decref(j);
    return rc;
}

static enum MHD_Result send_error(struct serve *sv, struct MHD_Connection *c, unsigned status,
                                  const char *msg)
{
    return send_json(sv, c, status, json_pack("{s:s}", "error", msg));
}

/* --- checks ------------------------------------------------------------------------------- */

static bool in_allow_list(struct serve *sv, const char *host)
{
    size_t k;
    for (k = 0; k < sv->cfg->n_allow_hosts; k++)
        if (strcasecmp(sv->cfg->allow_hosts[k], host) == 0)
            return true;
    return false;
}

/* The host of a Host header value ("name:port", "[v6]:port"), into buf. */
static bool host_part(const char *v, char *buf, size_t cap)
{
    size_t n;
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || (close[1] && close[1] != ':'))
            return false;
        n = (size_t)(close - v - 1);
        v++;
    } else {
        const char *colon = strchr(v, ':');
        n = colon ? (size_t)(colon - v) : strlen(v);
    }
    if (n == 0 || n >= cap)
        return false;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return true;
}

static bool host_allowed(struct serve *sv, const char *hostv)
{
    char h[256];
    if (!hostv || !host_part(hostv, h, sizeof(h)))
        return false;
    if (in_allow_list(sv, h))
        return true;
    if (sv->loopback)
        return serve_is_loopback(h);
    return strcasecmp(h, sv->host) == 0;
}

static bool origin_allowed(struct serve *sv, const char *origin, const char *hostv)
{
    const char *scheme = sv->tls ? "https://" : "http://";
    size_t n = strlen(scheme);
    if (!origin)
        return true;
    return strncmp(origin, scheme, n) == 0 && strcasecmp(origin + n, hostv) == 0;
}

/* --- the connection's request ------------------------------------------------------------- */

struct conn_state {
    struct strbuf body;
    bool too_large;
};

static const char *lookup_arg(void *ctx, const char *name)
{
    struct MHD_Connection *c = ctx;
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Query arguments are kept raw (the unescape callback); decoded copies live for the request. */
struct args_ctx {
    struct MHD_Connection *c;
    char *v[16];
    size_t n;
};

static const char *decoded_arg(void *ctx, const char *name)
{
    struct args_ctx *a = ctx;
    const char *raw = lookup_arg(a->c, name);
    char *d;
    if (!raw || a->n == sizeof(a->v) / sizeof(a->v[0]))
        return NULL;
    d = decode(raw, strlen(raw), true);
    if (!d)
        return NULL;
    a->v[a->n++] = d;
    return d;
}

static void remote_of(struct MHD_Connection *c, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, cap, "?");
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)cap);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)cap);
    }
}

static enum MHD_Result serve_asset(struct serve *sv, struct MHD_Connection *c, const char *path)
{
    const struct serve_asset *a;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    if (strcmp(path, "/favicon.ico") == 0) /* none: said without a 404 in the console */
        return send_buf(sv, c, 204, "text/plain", "", 0, NULL, NULL);
    for (a = serve_assets; a->path; a++) {
        if (strcmp(a->path, path) != 0)
            continue;
        if (strcmp(path, "/index.html") == 0) {
            /* the CSRF token goes into the page's meta tag */
            struct strbuf sb = {0};
            const char *mark = "@CSRF@", *p = (const char *)a->data,
                       *hit = memmem(a->data, a->len, mark, strlen(mark));
            enum MHD_Result rc;
            if (!hit)
                return send_error(sv, c, 500, "the page has no CSRF mark");
            strbuf_add(&sb, p, (size_t)(hit - p));
            strbuf_adds(&sb, sv->csrf);
            strbuf_add(&sb, hit + strlen(mark), a->len - (size_t)(hit - p) - strlen(mark));
            rc = send_buf(sv, c, 200, a->type, sb.buf, sb.len, NULL, NULL);
            strbuf_release(&sb);
            return rc;
        }
        return send_buf(sv, c, 200, a->type, a->data, a->len, NULL, NULL);
    }
    return send_error(sv, c, 404, "not found");
}

static enum MHD_Result dispatch(struct serve *sv, struct MHD_Connection *c, const char *url,
                                const char *method, struct conn_state *st)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *hostv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *cookie, *qtoken;
    char cookie_name[32];
    bool bearer = false, by_cookie = false, is_get, is_post;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON)->daemon, MHD_DAEMON_INFO_BIND_PORT);

    snprintf(cookie_name, sizeof(cookie_name), "rmqtopo_%u", di ? di->port : 0);
    cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, cookie_name);
    qtoken = strcmp(url, "/") == 0 ? lookup_arg(c, "token") : NULL;
    is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    is_post = strcmp(method, "POST") == 0;

    /* 1. the token: nothing else is said without it */
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        bearer = serve_token_equal(auth + 7, sv->token);
    if (!bearer && cookie)
        by_cookie = serve_token_equal(cookie, sv->token);
    if (qtoken && !(is_get && serve_token_equal(qtoken, sv->token)))
        qtoken = NULL; /* a wrong token in the URL counts as none */
    if (!bearer && !by_cookie && !qtoken)
        return send_buf(sv, c, 401, "text/plain; charset=utf-8", "unauthorized\n", 13, NULL, NULL);

    /* 2. the server's own name and origin (DNS rebinding, cross-site requests) */
    if (!host_allowed(sv, hostv) || !origin_allowed(sv, origin, hostv))
        return send_error(sv, c, 403, "forbidden: Host or Origin does not name this server");
    {
        const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
        if (site && strcmp(site, "cross-site") == 0)
            return send_error(sv, c, 403, "forbidden: a cross-site request");
    }

    /* 3. the token from the URL becomes a cookie; the address bar forgets it */
    if (qtoken) {
        char set[200];
        snprintf(set, sizeof(set), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", cookie_name,
                 sv->token, sv->tls ? "; Secure" : "");
        return send_buf(sv, c, 303, "text/plain; charset=utf-8", "", 0, set, "/");
    }

    if (!is_get && !is_post)
        return send_error(sv, c, 405, "method not allowed");
    if (is_post && !bearer) {
        const char *csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!csrf || !serve_token_equal(csrf, sv->csrf))
            return send_error(sv, c, 403, "forbidden: the X-CSRF-Token header is missing or wrong");
    }
    if (st->too_large)
        return send_error(sv, c, 413, "request body too large");

    if (strncmp(url, "/api/", 5) == 0) {
        struct serve_request rq;
        struct args_ctx args;
        const char *p = url + 5;
        json_t *out = NULL;
        int status;
        size_t k;
        enum MHD_Result rc;

        memset(&rq, 0, sizeof(rq));
        memset(&args, 0, sizeof(args));
        args.c = c;
        rq.method = is_post ? "POST" : "GET";
        rq.body = st->body.buf ? st->body.buf : "";
        rq.body_len = st->body.len;
        rq.arg = decoded_arg;
        rq.arg_ctx = &args;
        remote_of(c, rq.remote, sizeof(rq.remote));
        while (*p) {
            const char *slash = strchr(p, '/');
            size_t n = slash ? (size_t)(slash - p) : strlen(p);
            if (rq.nseg == SERVE_MAX_SEGMENTS || !(rq.seg[rq.nseg] = serve_decode_segment(p, n))) {
                for (k = 0; k < rq.nseg; k++)
                    free(rq.seg[k]);
                return send_error(sv, c, 400, "malformed path");
            }
            rq.nseg++;
            p += n;
            if (*p == '/')
                p++;
        }
        status = serve_api(sv, &rq, &out);
        rc = send_json(sv, c, (unsigned)status, out ? out : json_object());
        for (k = 0; k < rq.nseg; k++)
            free(rq.seg[k]);
        for (k = 0; k < args.n; k++)
            free(args.v[k]);
        return rc;
    }
    if (!is_get)
        return send_error(sv, c, 405, "method not allowed");
    return serve_asset(sv, c, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct serve *sv = cls;
    struct conn_state *st = *con_cls;

    (void)version;
    if (!st) {
        st = xcalloc(1, sizeof(*st));
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (st->body.len + *upload_size > SERVE_MAX_BODY)
            st->too_large = true;
        else
            strbuf_add(&st->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(sv, c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (st) {
        strbuf_release(&st->body);
        free(st);
    }
    *con_cls = NULL;
}

/* Keeps the path as it came: each segment is decoded by dispatch(). */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* --- start and stop ----------------------------------------------------------------------- */

static int random_hex(char *out, size_t nbytes, struct rmqt_error *err)
{
    unsigned char b[64];
    size_t got = 0, k;
    while (got < nbytes) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return rmqt_error_set(err, RMQT_ERR_IO, "cannot read random bytes: %s",
                                  strerror(errno));
        got += (size_t)n;
    }
    for (k = 0; k < nbytes; k++)
        sprintf(out + 2 * k, "%02x", b[k]);
    memset(b, 0, sizeof(b));
    return 0;
}

static char *read_file(const char *path, struct rmqt_error *err)
{
    FILE *f = fopen(path, "rb");
    struct strbuf sb = {0};
    char buf[4096];
    size_t n;

    if (!f) {
        rmqt_error_set(err, RMQT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_add(&sb, buf, n);
    fclose(f);
    return strbuf_detach(&sb, NULL);
}

int serve_run(const struct serve_config *cfg, const volatile sig_atomic_t *stop,
              struct rmqt_error *err)
{
    struct serve sv;
    struct sockaddr_storage ss;
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *di;
    char *cert = NULL, *key = NULL;
    unsigned port, flags;
    bool v6;
    int rc = -1;

    memset(&sv, 0, sizeof(sv));
    memset(&ss, 0, sizeof(ss));
    sv.cfg = cfg;
    sv.stop = stop;
    pthread_mutex_init(&sv.mu, NULL);
    pthread_mutex_init(&sv.audit_mu, NULL);
    if (serve_parse_listen(cfg->listen, sv.host, sizeof(sv.host), &port) < 0) {
        rmqt_error_set(err, RMQT_ERR_USAGE,
                       "--listen takes HOST:PORT (or [IPv6]:PORT; port 0: a free one), not '%s'",
                       cfg->listen);
        goto out;
    }
    v6 = strchr(sv.host, ':') != NULL;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, sv.host, &a->sin6_addr) != 1) {
            rmqt_error_set(err, RMQT_ERR_USAGE, "--listen: '%s' is not an IPv6 address", sv.host);
            goto out;
        }
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (strcmp(sv.host, "localhost") == 0)
            inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
        else if (inet_pton(AF_INET, sv.host, &a->sin_addr) != 1) {
            rmqt_error_set(err, RMQT_ERR_USAGE,
                           "--listen: '%s' is not an IP address (give the address to bind)",
                           sv.host);
            goto out;
        }
    }
    sv.loopback = serve_is_loopback(sv.host);
    if ((cfg->tls_cert != NULL) != (cfg->tls_key != NULL)) {
        rmqt_error_set(err, RMQT_ERR_USAGE, "--tls-cert and --tls-key go together");
        goto out;
    }
    sv.tls = cfg->tls_cert != NULL;
    if (!sv.loopback && !sv.tls && !cfg->insecure_listen) {
        rmqt_error_set(err, RMQT_ERR_USAGE,
                       "--listen %s is not a loopback address: give --tls-cert and --tls-key "
                       "(https), or --insecure-listen to serve plain http there knowingly",
                       cfg->listen);
        goto out;
    }
    if (!sv.loopback && !sv.tls)
        serve_logf(&sv,
                   "warning: --insecure-listen: serving plain http on %s: the access "
                   "token and every message shown cross the network unencrypted",
                   cfg->listen);
    if (sv.tls) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            rmqt_error_set(err, RMQT_ERR_USAGE, "this libmicrohttpd has no TLS support");
            goto out;
        }
        if (!(cert = read_file(cfg->tls_cert, err)) || !(key = read_file(cfg->tls_key, err)))
            goto out;
    }
    if (random_hex(sv.token, 32, err) < 0 || random_hex(sv.csrf, 32, err) < 0)
        goto out;
    if (serve_audit_open(&sv, err) < 0)
        goto out;

    flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
            MHD_USE_AUTO | (v6 ? MHD_USE_IPv6 : 0) | (sv.tls ? MHD_USE_TLS : 0);
    if (sv.tls)
        d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, &sv, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, &sv,
            MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
    else
        d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, &sv, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, &sv, MHD_OPTION_END);
    if (!d) {
        rmqt_error_set(err, RMQT_ERR_IO, "cannot listen on %s%s%s", cfg->listen, errno ? ": " : "",
                       errno ? strerror(errno) : "");
        serve_audit_close(&sv);
        goto out;
    }
    di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = di ? di->port : port;
    /* the one place the token is shown */
    printf("%s://%s%s%s:%u/?token=%s\n", sv.tls ? "https" : "http", v6 ? "[" : "", sv.host,
           v6 ? "]" : "", port, sv.token);
    fflush(stdout);
    serve_logf(&sv,
               "serving the dashboard on %s://%s%s%s:%u/ (the access token is in the URL "
               "on standard output); Ctrl-C stops",
               sv.tls ? "https" : "http", v6 ? "[" : "", sv.host, v6 ? "]" : "", port);

    while (!*stop) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    serve_logf(&sv, "stopping: no new connections; running jobs stop at a safe point");
    {
        MHD_socket ls = MHD_quiesce_daemon(d);
        if (ls != MHD_INVALID_SOCKET)
            close(ls);
    }
    serve_jobs_shutdown(&sv);
    MHD_stop_daemon(d);
    serve_audit_close(&sv);
    serve_logf(&sv, "stopped");
    rc = 0;
out : {
    size_t k;
    for (k = 0; k < sv.n_depths; k++) {
        free(sv.depths[k].vhost);
        free(sv.depths[k].queue);
    }
    free(sv.depths);
}
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    free(cert);
    memset(sv.token, 0, sizeof(sv.token));
    pthread_mutex_destroy(&sv.mu);
    pthread_mutex_destroy(&sv.audit_mu);
    return rc;
}
