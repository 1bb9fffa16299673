/*
 * session.c - the AMQP session on rabbitmq-c: connect, log in, turn replies into errors.
 *
 * rabbitmq-c reports a broker refusal as a channel.close or connection.close "reply" to the
 * RPC that caused it; the protocol then requires the client to answer with close-ok, and a
 * closed channel must be opened again before it can carry anything. That bookkeeping lives in
 * rmqt_session_check() so that every caller gets the broker's own text (RabbitMQ puts the
 * code's name and the reason in reply_text: "PRECONDITION_FAILED - inequivalent arg ...") and a
 * usable channel afterwards.
 *
 * URLs are parsed with amqp_parse_url (which percent-decodes the vhost); whether the URL
 * carried a user is decided from the text, because the parser fills in "guest" either way.
 */
#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include "strbuf.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CALLER_CHANNEL 1

/* Who this client is, in the client properties of every connection: the broker shows them
 * (management API, rabbitmqctl list_connections client_properties), and apply's lock names
 * its holder from them. Set once per process, at its first connection. */
static struct {
    char host[256], pid[32], started[32];
} who;

static void who_fill(void)
{
    time_t now;
    struct tm tm;

    if (gethostname(who.host, sizeof(who.host) - 1) != 0)
        snprintf(who.host, sizeof(who.host), "unknown");
    snprintf(who.pid, sizeof(who.pid), "%ld", (long)getpid());
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(who.started, sizeof(who.started), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void who_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, who_fill);
}

struct rmqt_session {
    amqp_connection_state_t conn;
    amqp_channel_t channel;
    amqp_channel_t next_channel; /* for rmqt_session_open_channel */
    bool alive;
    char *url;   /* without credentials */
    char *vhost; /* in use */
    char *user;  /* logged in as */
};

amqp_bytes_t rmqt_bytes(const char *s)
{
    amqp_bytes_t b;
    b.len = s ? strlen(s) : 0;
    b.bytes = (void *)(s ? s : "");
    return b;
}

static void ms_to_tv(long ms, struct timeval *tv)
{
    tv->tv_sec = ms / 1000;
    tv->tv_usec = (ms % 1000) * 1000;
}

/* Whether the URL's authority holds user info ("amqp://user:pass@host"). */
static bool url_has_userinfo(const char *url)
{
    const char *p = strstr(url, "://"), *end;
    if (!p)
        return false;
    p += 3;
    end = p + strcspn(p, "/?#");
    return memchr(p, '@', (size_t)(end - p)) != NULL;
}

/* The URL as shown in messages: scheme, host, port and vhost, never the credentials. */
/* What a TLS failure of rabbitmq-c means for the user (it reports no certificate details). */
static const char *tls_hint(int status, const struct rmqt_session_config *cfg, const char *host)
{
    static char buf[600];

    switch (status) {
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
        snprintf(buf, sizeof(buf),
                 " (TLS: the broker's certificate is not signed by %s%s%s: give the CA that "
                 "signed it with --cacert, or --insecure to skip the check)",
                 cfg->cacert ? "the CA in '" : "a CA this machine trusts",
                 cfg->cacert ? cfg->cacert : "", cfg->cacert ? "'" : "");
        return buf;
    case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
        snprintf(buf, sizeof(buf),
                 " (TLS: the broker's certificate is not for the host name '%s': connect by a "
                 "name the certificate carries, or --insecure to skip the check)",
                 host);
        return buf;
    case AMQP_STATUS_SSL_ERROR:
    case AMQP_STATUS_SSL_CONNECTION_FAILED:
        return cfg->cert ? " (TLS: the broker ended the TLS session: it may not accept the client "
                           "certificate given with --cert)"
                         : " (TLS: the broker ended the TLS session: it may require a client "
                           "certificate, --cert and --key)";
    default:
        return "";
    }
}

static char *display_url(bool ssl, const char *host, int port, const char *vhost)
{
    struct strbuf sb = {0};
    const char *p;

    strbuf_addf(&sb, "%s://%s:%d/", ssl ? "amqps" : "amqp", host, port);
    for (p = vhost; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            strbuf_addc(&sb, (char)c);
        else
            strbuf_addf(&sb, "%%%02X", c);
    }
    return strbuf_detach(&sb, NULL);
}

static const char *reply_text(amqp_bytes_t b, char *buf, size_t size)
{
    size_t n = b.len < size - 1 ? b.len : size - 1;
    memcpy(buf, b.bytes, n);
    buf[n] = '\0';
    return buf;
}

static bool status_is_fatal(int status)
{
    return status != AMQP_STATUS_OK && status != AMQP_STATUS_TIMEOUT &&
           status != AMQP_STATUS_UNEXPECTED_STATE;
}

/* Fills err from a broker close method (channel.close or connection.close). */
static int close_error(struct rmqt_error *err, const char *what, uint16_t code, amqp_bytes_t text)
{
    char buf[512];

    rmqt_error_set(err, RMQT_ERR_AMQP, "%s: %u %s", what, (unsigned)code,
                   reply_text(text, buf, sizeof(buf)));
    if (err)
        err->detail = code;
    return -1;
}

static int reopen_channel(struct rmqt_session *s, amqp_channel_t ch)
{
    amqp_rpc_reply_t r;

    amqp_maybe_release_buffers_on_channel(s->conn, ch);
    amqp_channel_open(s->conn, ch);
    r = amqp_get_rpc_reply(s->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        s->alive = false;
        return -1;
    }
    return 0;
}

static int handle_close(struct rmqt_session *s, amqp_channel_t ch, amqp_method_number_t id,
                        void *decoded, const char *what, struct rmqt_error *err)
{
    if (id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = decoded;
        amqp_channel_close_ok_t ok;
        close_error(err, what, m->reply_code, m->reply_text);
        memset(&ok, 0, sizeof(ok));
        if (amqp_send_method(s->conn, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) != AMQP_STATUS_OK)
            s->alive = false;
        else
            reopen_channel(s, ch);
        return -1;
    }
    if (id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = decoded;
        amqp_connection_close_ok_t ok;
        close_error(err, what, m->reply_code, m->reply_text);
        memset(&ok, 0, sizeof(ok));
        amqp_send_method(s->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        s->alive = false;
        return -1;
    }
    return rmqt_error_set(err, RMQT_ERR_AMQP, "%s: unexpected method 0x%08x from the broker", what,
                          (unsigned)id);
}

int rmqt_session_check(struct rmqt_session *s, amqp_channel_t ch, amqp_rpc_reply_t r,
                       const char *what, struct rmqt_error *err)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        return rmqt_error_set(err, RMQT_ERR_INTERNAL, "%s: no reply from the library", what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        /* even a timed-out RPC leaves the protocol state unknown */
        if (r.library_error != AMQP_STATUS_UNEXPECTED_STATE)
            s->alive = false;
        rmqt_error_set(err, RMQT_ERR_CONNECT, "%s: %s (%s)", what,
                       amqp_error_string2(r.library_error), s->url);
        return -1;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        return handle_close(s, ch, r.reply.id, r.reply.decoded, what, err);
    }
    return rmqt_error_set(err, RMQT_ERR_INTERNAL, "%s: unknown reply type", what);
}

int rmqt_session_status(struct rmqt_session *s, int status, const char *what,
                        struct rmqt_error *err)
{
    if (status == AMQP_STATUS_OK)
        return 0;
    if (status_is_fatal(status))
        s->alive = false;
    return rmqt_error_set(err, RMQT_ERR_CONNECT, "%s: %s (%s)", what, amqp_error_string2(status),
                          s->url);
}

int rmqt_session_closed_by_broker(struct rmqt_session *s, const amqp_frame_t *frame,
                                  const char *what, struct rmqt_error *err)
{
    return handle_close(s, frame->channel, frame->payload.method.id, frame->payload.method.decoded,
                        what, err);
}

/* Why a TCP connection to host:port failed, as an errno (0: unknown). rabbitmq-c reports only
 * "a socket error occurred"; errno often still holds the reason (a refusal on the loopback is
 * immediate), else one more attempt, bounded by tv, finds it. */
static int connect_errno(int saved, const char *host, int port, const struct timeval *tv)
{
    struct addrinfo hints, *res = NULL, *ai;
    char service[16];
    int found = 0;

    if (saved == ECONNREFUSED || saved == ETIMEDOUT || saved == EHOSTUNREACH ||
        saved == ENETUNREACH)
        return saved;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return 0;
    for (ai = res; ai && !found; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        struct pollfd pfd;
        int so = 0;
        socklen_t len = sizeof(so);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            found = 0; /* it answers now: nothing to say */
            close(fd);
            break;
        }
        if (errno != EINPROGRESS) {
            found = errno;
        } else {
            pfd.fd = fd;
            pfd.events = POLLOUT;
            if (poll(&pfd, 1, (int)(tv->tv_sec * 1000 + tv->tv_usec / 1000)) == 0)
                found = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0)
                found = so;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return found;
}

/* One attempt at one URL. Returns 0 with s->conn connected and logged in, or -1 with err set
 * and nothing left open. connect_failed tells a node that could not be reached (try the next)
 * from a refusal (stop). */
static int open_one(struct rmqt_session *s, const struct rmqt_session_config *cfg,
                    const char *url_in, bool *connect_failed, struct rmqt_error *err)
{
    struct amqp_connection_info ci;
    char *url = xstrdup(url_in);
    const char *user, *password, *vhost;
    amqp_socket_t *sock;
    amqp_table_entry_t prop[5];
    amqp_table_t props;
    amqp_rpc_reply_t r;
    struct timeval tv;
    int rc = -1, status;

    *connect_failed = false;
    if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK) {
        rmqt_error_set(err, RMQT_ERR_USAGE,
                       "malformed AMQP URL (expected amqp://host:port/vhost or amqps://...)");
        goto out;
    }
    user = cfg->user ? cfg->user : url_has_userinfo(url_in) ? ci.user : "guest";
    password = cfg->password ? cfg->password : url_has_userinfo(url_in) ? ci.password : "guest";
    vhost = cfg->vhost ? cfg->vhost : (ci.vhost && *ci.vhost) ? ci.vhost : "/";
    free(s->url);
    s->url = display_url(ci.ssl, ci.host, ci.port, vhost);
    free(s->vhost);
    s->vhost = xstrdup(vhost);
    free(s->user);
    s->user = xstrdup(user);

    s->conn = amqp_new_connection();
    if (ci.ssl) {
        sock = amqp_ssl_socket_new(s->conn);
        if (!sock) {
            rmqt_error_set(err, RMQT_ERR_CONNECT, "cannot set up TLS for %s", s->url);
            goto out;
        }
        amqp_ssl_socket_set_verify_peer(sock, !cfg->insecure);
        amqp_ssl_socket_set_verify_hostname(sock, !cfg->insecure);
        if (cfg->cacert && amqp_ssl_socket_set_cacert(sock, cfg->cacert) != AMQP_STATUS_OK) {
            rmqt_error_set(err, RMQT_ERR_USAGE, "cannot use the CA file '%s'", cfg->cacert);
            goto out;
        }
        if (cfg->cert && cfg->key &&
            amqp_ssl_socket_set_key(sock, cfg->cert, cfg->key) != AMQP_STATUS_OK) {
            rmqt_error_set(err, RMQT_ERR_USAGE, "cannot use the client certificate '%s' and key",
                           cfg->cert);
            goto out;
        }
    } else {
        sock = amqp_tcp_socket_new(s->conn);
    }
    ms_to_tv(cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000, &tv);
    amqp_set_handshake_timeout(s->conn, &tv);
    errno = 0;
    status = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
    if (status != AMQP_STATUS_OK) {
        int e =
            status == AMQP_STATUS_SOCKET_ERROR ? connect_errno(errno, ci.host, ci.port, &tv) : 0;
        *connect_failed = true;
        if (e == ECONNREFUSED)
            rmqt_error_set(err, RMQT_ERR_CONNECT,
                           "cannot connect to %s: connection refused: nothing listens at %s:%d "
                           "(is the broker running, and is that its AMQP port?)",
                           s->url, ci.host, ci.port);
        else if (status == AMQP_STATUS_TIMEOUT || e == ETIMEDOUT)
            rmqt_error_set(err, RMQT_ERR_CONNECT,
                           "cannot connect to %s: timed out: no answer within %.1f s "
                           "(--connect-timeout)",
                           s->url, (double)tv.tv_sec + (double)tv.tv_usec / 1e6);
        else if (e)
            rmqt_error_set(err, RMQT_ERR_CONNECT, "cannot connect to %s: %s", s->url, strerror(e));
        else
            rmqt_error_set(err, RMQT_ERR_CONNECT, "cannot connect to %s: %s%s", s->url,
                           amqp_error_string2(status), tls_hint(status, cfg, ci.host));
        goto out;
    }
    ms_to_tv(cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000, &tv);
    amqp_set_rpc_timeout(s->conn, &tv);

    who_init();
    {
        static const char *const keys[5] = {"connection_name", "product", "rmqtopo_host",
                                            "rmqtopo_pid", "rmqtopo_started"};
        const char *vals[5] = {cfg->name ? cfg->name : "rmqtopo", "rmqtopo", who.host, who.pid,
                               who.started};
        int k;
        for (k = 0; k < 5; k++) {
            prop[k].key = amqp_cstring_bytes(keys[k]);
            prop[k].value.kind = AMQP_FIELD_KIND_UTF8;
            prop[k].value.value.bytes = rmqt_bytes(vals[k]);
        }
    }
    props.num_entries = 5;
    props.entries = prop;
    r = amqp_login_with_properties(s->conn, vhost, 0, AMQP_DEFAULT_FRAME_SIZE,
                                   cfg->heartbeat_s < 0    ? 0
                                   : cfg->heartbeat_s == 0 ? 30
                                                           : cfg->heartbeat_s,
                                   &props, AMQP_SASL_METHOD_PLAIN, user, password);
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
        char what[600];
        snprintf(what, sizeof(what), "login to %s as '%s'", s->url, user);
        s->alive = true;
        rmqt_session_check(s, 0, r, what, err);
        goto out;
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        /* RabbitMQ closes the socket on a wrong password unless the client announces
         * authentication_failure_close; a closed socket right after the handshake is that */
        if (r.library_error == AMQP_STATUS_CONNECTION_CLOSED ||
            r.library_error == AMQP_STATUS_SOCKET_CLOSED)
            rmqt_error_set(err, RMQT_ERR_AMQP,
                           "login to %s as '%s' refused: wrong user or password, or no access to "
                           "vhost '%s'",
                           s->url, user, vhost);
        else {
            *connect_failed = true;
            rmqt_error_set(err, RMQT_ERR_CONNECT, "cannot log in to %s: %s%s", s->url,
                           amqp_error_string2(r.library_error),
                           tls_hint(r.library_error, cfg, ci.host));
        }
        goto out;
    }
    s->alive = true;
    amqp_channel_open(s->conn, CALLER_CHANNEL);
    if (rmqt_session_check(s, CALLER_CHANNEL, amqp_get_rpc_reply(s->conn), "open a channel", err) <
        0)
        goto out;
    s->channel = CALLER_CHANNEL;
    s->next_channel = CALLER_CHANNEL + 1;
    rc = 0;
out:
    if (rc < 0 && s->conn) {
        amqp_destroy_connection(s->conn);
        s->conn = NULL;
        s->alive = false;
    }
    memset(url, 0, strlen(url_in));
    free(url);
    return rc;
}

struct rmqt_session *rmqt_session_open(const struct rmqt_session_config *cfg,
                                       struct rmqt_error *err)
{
    static const char *const default_url = "amqp://localhost:5672";
    struct rmqt_session *s = xcalloc(1, sizeof(*s));
    const char *const *urls = cfg->n_urls ? cfg->urls : &default_url;
    size_t n = cfg->n_urls ? cfg->n_urls : 1, k;
    bool connect_failed = false;

    for (k = 0; k < n; k++) {
        if (open_one(s, cfg, urls[k], &connect_failed, err) == 0)
            return s;
        if (!connect_failed)
            break; /* a refusal: another node would refuse the same way */
    }
    rmqt_session_close(s);
    return NULL;
}

void rmqt_session_close(struct rmqt_session *s)
{
    if (!s)
        return;
    if (s->conn) {
        if (s->alive)
            amqp_connection_close(s->conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(s->conn);
    }
    free(s->url);
    free(s->user);
    free(s->vhost);
    free(s);
}

amqp_connection_state_t rmqt_session_conn(struct rmqt_session *s)
{
    return s->conn;
}

amqp_channel_t rmqt_session_channel(const struct rmqt_session *s)
{
    return s->channel;
}

const char *rmqt_session_user(const struct rmqt_session *s)
{
    return s->user ? s->user : "guest";
}

const char *rmqt_session_vhost(const struct rmqt_session *s)
{
    return s->vhost ? s->vhost : "/";
}

int rmqt_session_fd(struct rmqt_session *s)
{
    return amqp_get_sockfd(s->conn);
}

bool rmqt_session_is_alive(const struct rmqt_session *s)
{
    return s && s->alive;
}

amqp_channel_t rmqt_session_open_channel(struct rmqt_session *s, struct rmqt_error *err)
{
    amqp_channel_t ch = s->next_channel++;

    amqp_channel_open(s->conn, ch);
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(s->conn), "open a channel", err) < 0)
        return 0;
    return ch;
}

int rmqt_session_exists(struct rmqt_session *s, bool exchange, amqp_bytes_t name,
                        struct rmqt_error *err)
{
    char what[600];

    snprintf(what, sizeof(what), "%s '%.*s' in vhost '%s'", exchange ? "exchange" : "queue",
             (int)(name.len > 255 ? 255 : name.len), (const char *)name.bytes,
             rmqt_session_vhost(s));
    if (exchange)
        amqp_exchange_declare(s->conn, s->channel, name, rmqt_bytes("direct"), 1, 0, 0, 0,
                              amqp_empty_table);
    else
        amqp_queue_declare(s->conn, s->channel, name, 1, 0, 0, 0, amqp_empty_table);
    if (rmqt_session_check(s, s->channel, amqp_get_rpc_reply(s->conn), what, err) == 0)
        return 1;
    return rmqt_session_is_alive(s) ? 0 : -1;
}

int rmqt_session_queue_counts(struct rmqt_session *s, amqp_channel_t ch, const char *queue,
                              uint32_t *messages, uint32_t *consumers, struct rmqt_error *err)
{
    amqp_queue_declare_ok_t *ok;
    char what[600];

    ok = amqp_queue_declare(s->conn, ch, rmqt_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
    snprintf(what, sizeof(what), "queue '%s' in vhost '%s'", queue, rmqt_session_vhost(s));
    if (rmqt_session_check(s, ch, amqp_get_rpc_reply(s->conn), what, err) < 0)
        return -1;
    if (messages)
        *messages = ok->message_count;
    if (consumers)
        *consumers = ok->consumer_count;
    return 0;
}
