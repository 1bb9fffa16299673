/*
 * policymatch.c - policy patterns and apply-to, built-in exchanges (see policymatch.h).
 */
#include "policymatch.h"

#include "strbuf.h"

#include <string.h>

int policy_pattern_compile(const char *pattern, regex_t *re, char *err, size_t errsize)
{
    struct strbuf sb = {0};
    const char *p;
    bool in_class = false;
    int rc;

    for (p = pattern; *p; p++) {
        if (*p == '\\' && p[1]) {
            if (!in_class && (p[1] == 'd' || p[1] == 'D')) {
                strbuf_adds(&sb, p[1] == 'd' ? "[0-9]" : "[^0-9]");
                p++;
                continue;
            }
            strbuf_addc(&sb, *p++);
            strbuf_addc(&sb, *p);
            continue;
        }
        if (*p == '[')
            in_class = true;
        else if (*p == ']')
            in_class = false;
        strbuf_addc(&sb, *p);
    }
    rc = regcomp(re, strbuf_str(&sb), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        if (err && errsize)
            regerror(rc, re, err, errsize);
        regfree(re);
    }
    strbuf_release(&sb);
    return rc;
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
