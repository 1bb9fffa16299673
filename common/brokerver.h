/*
 * brokerver.h - RabbitMQ versions, for behaviour that depends on the broker's release
 * (broker-facts.md, "Versions"). Decided from /api/overview's rabbitmq_version: the one place
 * that reads it, for plan and apply (provision/live) and the dlq commands (ops/source) alike.
 */
#ifndef RMQT_BROKERVER_H
#define RMQT_BROKERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "http.h"

struct rmqt_version {
    int major, minor, patch;
};

/* Parses "3.10.8", "4.0.0-rc.1", "3.12" (missing parts are 0). Returns 0 or -1. */
int rmqt_version_parse(const char *s, struct rmqt_version *v);
/* <0, 0, >0 as a is older than, equal to, newer than major.minor.patch */
int rmqt_version_cmp(const struct rmqt_version *a, int major, int minor, int patch);
bool rmqt_version_at_least(const struct rmqt_version *a, int major, int minor, int patch);

/* What GET /api/overview says about the broker. */
struct rmqt_broker_info {
    struct rmqt_version version;
    char version_str[64];   /* as the broker reported it */
    char cluster_name[128]; /* "" when not reported */
};

/* Parses GET /api/overview's body (rabbitmq_version, else product_version; cluster_name).
 * Returns 0, or -1 with err set (not JSON, no version). */
int rmqt_broker_info_parse(const char *json, size_t len, struct rmqt_broker_info *info,
                           struct rmqt_error *err);

/* GET /api/overview through http, parsed as above. Returns 0, or -1 with err set. */
int rmqt_broker_info_read(struct rmqt_http *http, struct rmqt_broker_info *info,
                          struct rmqt_error *err);

/* Whether the user behind http has the impersonator tag (GET /api/whoami): it may publish
 * messages whose user_id names another user. false when unknown. */
bool rmqt_user_may_impersonate(struct rmqt_http *http);

#endif
