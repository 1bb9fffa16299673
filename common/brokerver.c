/*
 * brokerver.c - parsing and comparing broker versions. Pre-release suffixes ("-rc.1",
 * "+build") are ignored: feature checks go by major.minor.patch.
 */
#include "brokerver.h"

#include <stdlib.h>

static int part(const char **p, int *out)
{
    long v = 0;
    int digits = 0;

    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        if (v > 100000)
            return -1;
        (*p)++;
        digits++;
    }
    if (!digits)
        return -1;
    *out = (int)v;
    return 0;
}

int rmqt_version_parse(const char *s, struct rmqt_version *v)
{
    const char *p = s;

    v->major = v->minor = v->patch = 0;
    if (!s || part(&p, &v->major) < 0)
        return -1;
    if (*p == '.') {
        p++;
        if (part(&p, &v->minor) < 0)
            return -1;
        if (*p == '.') {
            p++;
            if (part(&p, &v->patch) < 0)
                return -1;
        }
    }
    return (*p == '\0' || *p == '-' || *p == '+' || *p == ' ') ? 0 : -1;
}

int rmqt_version_cmp(const struct rmqt_version *a, int major, int minor, int patch)
{
    if (a->major != major)
        return a->major < major ? -1 : 1;
    if (a->minor != minor)
        return a->minor < minor ? -1 : 1;
    if (a->patch != patch)
        return a->patch < patch ? -1 : 1;
    return 0;
}

bool rmqt_version_at_least(const struct rmqt_version *a, int major, int minor, int patch)
{
    return rmqt_version_cmp(a, major, minor, patch) >= 0;
}
