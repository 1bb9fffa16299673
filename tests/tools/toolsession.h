/*
 * toolsession.h - the test tools' AMQP session: RMQTOPO_AMQP_URL (which may carry a user and
 * password), the given vhost, the tool's name as the connection name; exits 1 with the
 * error on stderr when it cannot connect.
 */
#ifndef RMQT_TOOLSESSION_H
#define RMQT_TOOLSESSION_H

#include "session.h"

struct rmqt_session *tool_session(const char *tool, const char *vhost);

#endif
