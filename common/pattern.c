/*
 * pattern.c - RabbitMQ policy patterns as POSIX regular expressions (pattern.h). Shared by
 * provision (validate, graph: the file's policies) and ops (the broker's policies, for
 * finding dead-letter queues).
 */
#include "pattern.h"

#include "strbuf.h"

#include <stdbool.h>
#include <string.h>

int rmqt_pattern_compile(const char *pattern, regex_t *re, char *err, size_t errsize)
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
