/*
 * brokerver.h - RabbitMQ versions, for behaviour that depends on the broker's release
 * (broker-facts.md, "Versions"). Decided from /api/overview's rabbitmq_version.
 */
#ifndef RMQT_BROKERVER_H
#define RMQT_BROKERVER_H

#include <stdbool.h>

struct rmqt_version {
    int major, minor, patch;
};

/* Parses "3.10.8", "4.0.0-rc.1", "3.12" (missing parts are 0). Returns 0 or -1. */
int rmqt_version_parse(const char *s, struct rmqt_version *v);
/* <0, 0, >0 as a is older than, equal to, newer than major.minor.patch */
int rmqt_version_cmp(const struct rmqt_version *a, int major, int minor, int patch);
bool rmqt_version_at_least(const struct rmqt_version *a, int major, int minor, int patch);

#endif
