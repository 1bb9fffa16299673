/*
 * brokerver.c - parsing and comparing broker versions. Pre-release suffixes ("-rc.1",
 * "+build") are ignored: feature checks go by major.minor.patch.
 */
#include "brokerver.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A string member, or NULL; also NULL for one holding a NUL. */
static const char *jstr(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

int rmqt_broker_info_parse(const char *json, size_t len, struct rmqt_broker_info *info,
                           struct rmqt_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    const char *v, *cluster;
    int rc = -1;

    memset(info, 0, sizeof(*info));
    if (!json_is_object(doc)) {
        rmqt_error_set(err, RMQT_ERR_PARSE,
                       "the management API's /api/overview is not a JSON "
                       "object (%s)",
                       doc ? "unexpected shape" : jerr.text);
        goto out;
    }
    v = jstr(doc, "rabbitmq_version");
    if (!v)
        v = jstr(doc, "product_version");
    if (!v || rmqt_version_parse(v, &info->version) < 0) {
        rmqt_error_set(err, RMQT_ERR_PARSE,
                       "the management API's /api/overview reports no RabbitMQ version");
        goto out;
    }
    snprintf(info->version_str, sizeof(info->version_str), "%s", v);
    cluster = jstr(doc, "cluster_name");
    if (cluster)
        snprintf(info->cluster_name, sizeof(info->cluster_name), "%s", cluster);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

int rmqt_broker_info_read(struct rmqt_http *http, struct rmqt_broker_info *info,
                          struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    int rc = -1;

    memset(info, 0, sizeof(*info));
    rmqt_http_response_init(&resp);
    if (rmqt_http_request(http, "GET", "/api/overview", NULL, &resp, err) == 0)
        rc = rmqt_broker_info_parse(resp.body.buf ? resp.body.buf : "", resp.body.len, info, err);
    rmqt_http_response_release(&resp);
    return rc;
}

bool rmqt_user_may_impersonate(struct rmqt_http *http)
{
    struct rmqt_http_response resp;
    struct rmqt_error err;
    bool yes = false;
    json_t *doc, *tags;

    rmqt_http_response_init(&resp);
    if (rmqt_http_request(http, "GET", "/api/whoami", NULL, &resp, &err) == 0) {
        doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
        tags = json_object_get(doc, "tags");
        if (json_is_string(tags)) { /* 3.x: "administrator,impersonator" */
            const char *t = json_string_value(tags);
            size_t n = strlen("impersonator");
            for (const char *p = strstr(t, "impersonator"); p && !yes;
                 p = strstr(p + 1, "impersonator"))
                yes = (p == t || p[-1] == ',') && (p[n] == '\0' || p[n] == ',');
        } else if (json_is_array(tags)) { /* 3.9+: a list */
            size_t i;
            json_t *v;
            json_array_foreach(tags, i, v) yes =
                yes || (json_is_string(v) && strcmp(json_string_value(v), "impersonator") == 0);
        }
        json_decref(doc);
    }
    rmqt_http_response_release(&resp);
    return yes;
}
