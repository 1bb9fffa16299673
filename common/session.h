/*
 * session.h - the AMQP session (rabbitmq-c): one connection and its channel.
 *
 * A session is opened from amqp:// or amqps:// URLs (several name the nodes of a cluster: the
 * first that accepts the connection is used), with TLS verified by default, heartbeats and a
 * bound on every wait. It owns one channel (number 1) for the caller's work and opens spare
 * channels on request. rabbitmq-c is single-threaded per connection: use a session from one
 * thread at a time; sessions are independent of each other.
 *
 * Every reply of the broker goes through rmqt_session_check(), the one place that turns an
 * amqp_rpc_reply_t into an error carrying the broker's reply code and text. A channel error
 * (406 PRECONDITION_FAILED, 404 NOT_FOUND ...) closes only the channel: the session opens a
 * new one, so the caller can go on. A connection error marks the session dead.
 */
#ifndef RMQT_SESSION_H
#define RMQT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp_compat.h"
#include "error.h"

struct rmqt_session_config {
    const char *const *urls; /* "amqp://host:5672/vhost", "amqps://..."; none: localhost */
    size_t n_urls;
    const char *user;        /* NULL: the URL's user, else "guest" */
    const char *password;    /* NULL: the URL's password, else "guest" */
    const char *vhost;       /* NULL: the URL's vhost, else "/" */
    const char *cacert;      /* amqps: CA bundle (NULL: the system's) */
    const char *cert, *key;  /* amqps: client certificate and key (mutual TLS) */
    bool insecure;           /* amqps: do not verify the server */
    long connect_timeout_ms; /* 0: 5,000 */
    long timeout_ms;         /* each RPC; 0: 60,000 */
    int heartbeat_s;         /* 0: 30; <0: none */
    const char *name;        /* connection name shown by the broker (NULL: "rmqtopo") */
};
/* Every connection also carries the client properties product "rmqtopo", rmqtopo_host (the
 * host name), rmqtopo_pid and rmqtopo_started (UTC, ISO 8601: the process's first connection),
 * so that the broker and apply's lock can say which process holds a connection. */

struct rmqt_session;

/* Connects, logs in and opens channel 1. NULL with err set: RMQT_ERR_USAGE for a malformed
 * URL, RMQT_ERR_CONNECT when no node accepted the connection, RMQT_ERR_AMQP (detail = reply
 * code) when the broker refused the login or the vhost. Messages never show the password. */
struct rmqt_session *rmqt_session_open(const struct rmqt_session_config *cfg,
                                       struct rmqt_error *err);
/* Closes the connection politely (when alive) and frees everything. Accepts NULL. */
void rmqt_session_close(struct rmqt_session *s);

/* The connection, for rabbitmq-c calls. Borrowed. */
amqp_connection_state_t rmqt_session_conn(struct rmqt_session *s);
/* The caller's channel (1, or its replacement after a channel error). */
amqp_channel_t rmqt_session_channel(const struct rmqt_session *s);
/* The user logged in as. Borrowed. */
const char *rmqt_session_user(const struct rmqt_session *s);
/* The vhost in use. Borrowed. */
const char *rmqt_session_vhost(const struct rmqt_session *s);
/* The socket's file descriptor, for poll(). */
int rmqt_session_fd(struct rmqt_session *s);
bool rmqt_session_is_alive(const struct rmqt_session *s);

/* Checks the reply of the last rabbitmq-c RPC on channel ch. Returns 0 when it is a normal
 * reply; else -1 with err set to "what: CODE TEXT - broker's text" (RMQT_ERR_AMQP, detail = the
 * reply code), or the library's error (RMQT_ERR_CONNECT when the connection is gone). After a
 * channel close it acknowledges the close and opens a fresh channel (the caller's channel
 * when ch was it); after a connection close the session is dead. */
int rmqt_session_check(struct rmqt_session *s, amqp_channel_t ch, amqp_rpc_reply_t r,
                       const char *what, struct rmqt_error *err);
/* Checks a rabbitmq-c status code (amqp_basic_publish and friends): 0 for AMQP_STATUS_OK,
 * else -1 with err set ("what: the library's reason"); a socket error marks the session dead. */
int rmqt_session_status(struct rmqt_session *s, int status, const char *what,
                        struct rmqt_error *err);

/* Handles a channel.close or connection.close method the broker sent outside an RPC (e.g.
 * read by amqp_simple_wait_frame): answers it, reopens the channel or marks the session dead,
 * and fills err with the broker's reply. Always returns -1. */
int rmqt_session_closed_by_broker(struct rmqt_session *s, const amqp_frame_t *frame,
                                  const char *what, struct rmqt_error *err);

/* Opens another channel on the connection (for passive declares beside a consumer). Returns
 * its number, or 0 with err set. */
amqp_channel_t rmqt_session_open_channel(struct rmqt_session *s, struct rmqt_error *err);

/* A passive queue.declare on channel ch: the queue's ready message count and consumer count,
 * exact at this moment. -1 with err set (404 NOT_FOUND when it does not exist). */
/* Whether a queue (or, with exchange, an exchange) of that name exists, by a passive declare
 * on the session's channel: 1 yes, 0 no (err says why: the broker's 404 text), -1 when the
 * connection was lost (err set). */
int rmqt_session_exists(struct rmqt_session *s, bool exchange, amqp_bytes_t name,
                        struct rmqt_error *err);

int rmqt_session_queue_counts(struct rmqt_session *s, amqp_channel_t ch, const char *queue,
                              uint32_t *messages, uint32_t *consumers, struct rmqt_error *err);

/* amqp_bytes_t view of a C string (borrowed). */
amqp_bytes_t rmqt_bytes(const char *s);

#endif
