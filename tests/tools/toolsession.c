/* toolsession.c - see toolsession.h. */
#include "toolsession.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rmqt_session *tool_session(const char *tool, const char *vhost)
{
    const char *url = getenv("RMQTOPO_AMQP_URL");
    struct rmqt_session_config cfg;
    struct rmqt_error err;
    struct rmqt_session *s;

    memset(&cfg, 0, sizeof(cfg));
    if (url) {
        cfg.urls = &url;
        cfg.n_urls = 1;
    }
    cfg.vhost = vhost;
    cfg.name = tool;
    s = rmqt_session_open(&cfg, &err);
    if (!s) {
        fprintf(stderr, "%s: %s\n", tool, err.message);
        exit(1);
    }
    return s;
}
