/*
 * policymatch.c - policy patterns and apply-to, built-in exchanges (see policymatch.h).
 */
#include "policymatch.h"

#include "pattern.h"

#include "strbuf.h"

#include <string.h>

int policy_pattern_compile(const char *pattern, regex_t *re, char *err, size_t errsize)
{
    return rmqt_pattern_compile(pattern, re, err, errsize);
}

bool policy_applies_to(const struct policy *p, bool is_queue, enum queue_type t)
{
    const char *a = p->apply_to ? p->apply_to : "all";

    if (strcmp(a, "all") == 0)
        return true;
    if (!is_queue)
        return strcmp(a, "exchanges") == 0;
    return strcmp(a, "queues") == 0 || (strcmp(a, "classic_queues") == 0 && t == QT_CLASSIC) ||
           (strcmp(a, "quorum_queues") == 0 && t == QT_QUORUM) ||
           (strcmp(a, "streams") == 0 && t == QT_STREAM);
}

const char *builtin_exchange_type(const char *name)
{
    if (strcmp(name, "") == 0 || strcmp(name, "amq.direct") == 0)
        return "direct";
    if (strcmp(name, "amq.fanout") == 0)
        return "fanout";
    if (strcmp(name, "amq.topic") == 0 || strcmp(name, "amq.rabbitmq.trace") == 0 ||
        strcmp(name, "amq.rabbitmq.log") == 0)
        return "topic";
    if (strcmp(name, "amq.headers") == 0 || strcmp(name, "amq.match") == 0)
        return "headers";
    return NULL;
}
