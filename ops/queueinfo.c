/*
 * queueinfo.c - a queue's dead-letter settings as the broker applies them.
 *
 * A setting may come from the queue's arguments (x-dead-letter-exchange ...) or from the
 * policy in force (dead-letter-exchange ...); which one wins depends on the key and the queue
 * type (broker-facts.md): the argument wins for dead-letter-*, the lower of the two for the
 * delivery limit, and for overflow the policy on quorum queues and the argument on classic
 * ones. The single-queue endpoint reports both ("arguments", "effective_policy_definition").
 */
#include "queueinfo.h"

#include "strbuf.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const json_t *v)
{
    if (json_is_string(v))
        snprintf(dst, cap, "%s", json_string_value(v));
}

static long int_or(const json_t *v, long dflt)
{
    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

void queue_info_from_json(const json_t *q, struct queue_info *info)
{
    const json_t *args = json_object_get(q, "arguments");
    const json_t *pol = json_object_get(q, "effective_policy_definition");
    const json_t *v;
    long a, p;
    bool quorum;

    memset(info, 0, sizeof(*info));
    info->found = true;
    snprintf(info->type, sizeof(info->type), "classic");
    copy_str(info->type, sizeof(info->type), json_object_get(q, "type"));
    quorum = strcmp(info->type, "quorum") == 0;
    if (!json_is_object(pol))
        pol = NULL;
    if (!json_is_object(args))
        args = NULL;

    v = json_object_get(args, "x-dead-letter-exchange");
    if (!json_is_string(v))
        v = json_object_get(pol, "dead-letter-exchange");
    if (json_is_string(v)) {
        info->has_dlx = true;
        copy_str(info->dlx, sizeof(info->dlx), v);
    }
    v = json_object_get(args, "x-dead-letter-routing-key");
    if (!json_is_string(v))
        v = json_object_get(pol, "dead-letter-routing-key");
    if (json_is_string(v)) {
        info->has_dlrk = true;
        copy_str(info->dlrk, sizeof(info->dlrk), v);
    }

    snprintf(info->overflow, sizeof(info->overflow), "drop-head");
    if (quorum) {
        copy_str(info->overflow, sizeof(info->overflow), json_object_get(args, "x-overflow"));
        copy_str(info->overflow, sizeof(info->overflow), json_object_get(pol, "overflow"));
    } else {
        copy_str(info->overflow, sizeof(info->overflow), json_object_get(pol, "overflow"));
        copy_str(info->overflow, sizeof(info->overflow), json_object_get(args, "x-overflow"));
    }

    a = int_or(json_object_get(args, "x-delivery-limit"), -1);
    p = int_or(json_object_get(pol, "delivery-limit"), -1);
    info->delivery_limit = a < 0 ? p : (p < 0 || a < p ? a : p);
}

int queue_info_read(struct rmqt_http *http, const char *vhost, const char *queue,
                    struct queue_info *info, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    struct strbuf path;
    json_t *doc = NULL;
    int rc = -1;

    memset(info, 0, sizeof(*info));
    info->delivery_limit = -1;
    strbuf_init(&path);
    rmqt_http_response_init(&resp);
    strbuf_adds(&path, "/api/queues/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "/");
    rmqt_url_encode(&path, queue);
    if (rmqt_http_request(http, "GET", path.buf, NULL, &resp, err) < 0) {
        if (resp.status == 404)
            rc = 0;
        goto out;
    }
    doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
    if (!json_is_object(doc)) {
        rmqt_error_set(err, RMQT_ERR_HTTP, "queue '%s': the management API sent no queue object",
                       queue);
        goto out;
    }
    queue_info_from_json(doc, info);
    rc = 0;
out:
    json_decref(doc);
    strbuf_release(&path);
    rmqt_http_response_release(&resp);
    return rc;
}

int queue_info_exchange_feeds(struct rmqt_http *http, const char *vhost, const char *exchange,
                              const char *queue, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    struct strbuf path;
    json_t *doc = NULL, *b;
    size_t i;
    int rc = -1;

    strbuf_init(&path);
    rmqt_http_response_init(&resp);
    if (!*exchange) {
        /* the default exchange routes by queue name; the routing key decides, checked by
         * the caller */
        rc = 0;
        goto out;
    }
    strbuf_adds(&path, "/api/exchanges/");
    rmqt_url_encode(&path, vhost);
    strbuf_adds(&path, "/");
    rmqt_url_encode(&path, exchange);
    strbuf_adds(&path, "/bindings/source");
    if (rmqt_http_request(http, "GET", path.buf, NULL, &resp, err) < 0) {
        if (resp.status == 404)
            rc = 0;
        goto out;
    }
    doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
    rc = 0;
    json_array_foreach(doc, i, b)
    {
        const char *dest = json_string_value(json_object_get(b, "destination"));
        const char *type = json_string_value(json_object_get(b, "destination_type"));
        if (dest && type && strcmp(type, "queue") == 0 && strcmp(dest, queue) == 0) {
            rc = 1;
            break;
        }
    }
out:
    json_decref(doc);
    strbuf_release(&path);
    rmqt_http_response_release(&resp);
    return rc;
}

long queue_info_effective_delivery_limit(const struct queue_info *info, int major)
{
    if (strcmp(info->type, "quorum") != 0)
        return -1;
    if (info->delivery_limit >= 0)
        return info->delivery_limit;
    return major >= 4 ? 20 : -1;
}
