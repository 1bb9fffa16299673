/*
 * amqp_compat.h - the one place that includes rabbitmq-c.
 *
 * rabbitmq-c 0.11 (Debian 12) ships <amqp.h>; 0.12 and later move the headers to
 * <rabbitmq-c/amqp.h> and make the old path warn, which -Werror turns into a failure.
 */
#ifndef RMQT_AMQP_COMPAT_H
#define RMQT_AMQP_COMPAT_H

#if defined(__has_include)
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/ssl_socket.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#endif
#else
#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#endif

#endif
