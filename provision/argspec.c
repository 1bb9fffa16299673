/*
 * argspec.c - what the broker knows of each queue argument and policy definition key: the
 * AMQP type, the range or the values, the queue types that take it and the versions that
 * have it (rabbit_amqqueue's declare checks and each queue type's capabilities). validate
 * checks files by these tables; diff asks which arguments the broker compares when a queue
 * is declared again.
 */
#include "argspec.h"

#include <stdint.h>
#include <string.h>

/* rabbit_misc's ?MAX_EXPIRY_TIMER: the largest TTL or expiry the broker accepts */
#define MAX_EXPIRY 4294967295LL

static const char *const v_overflow[] = {"drop-head", "reject-publish", "reject-publish-dlx", NULL};
static const char *const v_strategy[] = {"at-most-once", "at-least-once", NULL};
static const char *const v_mode[] = {"default", "lazy", NULL};
static const char *const v_master[] = {"min-masters", "client-local", "random", NULL};
static const char *const v_leader[] = {"client-local", "balanced", "random", "least-leaders", NULL};

static const struct argspec argspecs[] = {
    {"x-message-ttl", AT_INT, T_CLASSIC | T_QUORUM, "a message TTL", 0, MAX_EXPIRY, NULL,
     "milliseconds", 0, 0, 0, 0, 0},
    {"x-expires", AT_INT, T_CLASSIC | T_QUORUM, "an expiry (expires)", 1, MAX_EXPIRY, NULL,
     "milliseconds", 0, 0, 0, 0, 0},
    {"x-max-length", AT_INT, T_CLASSIC | T_QUORUM, "a maximum length", 0, INT64_MAX, NULL,
     "messages", 0, 0, 0, 0, 0},
    {"x-max-length-bytes", AT_INT, T_ALL, "a maximum length in bytes", 0, INT64_MAX, NULL, "bytes",
     0, 0, 0, 0, 0},
    {"x-overflow", AT_STR, T_CLASSIC | T_QUORUM, "an overflow behaviour", 0, 0, v_overflow, NULL, 0,
     0, 0, 0, 0},
    {"x-dead-letter-exchange", AT_STR, T_CLASSIC | T_QUORUM, "a dead-letter exchange", 0, 0, NULL,
     NULL, 0, 0, 0, 0, 0},
    {"x-dead-letter-routing-key", AT_STR, T_CLASSIC | T_QUORUM, "a dead-letter routing key", 0, 0,
     NULL, NULL, 0, 0, 0, 0, 0},
    {"x-dead-letter-strategy", AT_STR, T_QUORUM, "a dead-letter strategy", 0, 0, v_strategy, NULL,
     0, 0, 0, 0, 0},
    {"x-delivery-limit", AT_INT, T_QUORUM, "a delivery limit", 0, INT64_MAX, NULL, "deliveries", 0,
     0, 0, 0, 0},
    {"x-single-active-consumer", AT_BOOL, T_CLASSIC | T_QUORUM, "single active consumer", 0, 0,
     NULL, NULL, 0, 0, 0, 0, 0},
    {"x-quorum-initial-group-size", AT_INT, T_QUORUM, "an initial group size", 1, INT64_MAX, NULL,
     "replicas", 0, 0, 0, 0, 0},
    {"x-max-priority", AT_INT, T_CLASSIC, "a maximum priority", 1, 255, NULL, NULL, 0, 0, 0, 0, 0},
    {"x-queue-mode", AT_STR, T_CLASSIC, "a queue mode", 0, 0, v_mode, NULL, 0, 0, 0, 0, 0},
    {"x-queue-version", AT_INT, T_CLASSIC, "a queue version", 1, 2, NULL, NULL, 3, 10, 0, 0, 0},
    /* the broker does not check the master locator's value at declare */
    {"x-queue-master-locator", AT_STR, T_CLASSIC, "a master locator", 0, 0, NULL, NULL, 0, 0, 0, 0,
     0},
    {"x-queue-leader-locator", AT_STR, T_ALL, "a leader locator", 0, 0, v_leader, NULL, 0, 0,
     T_CLASSIC, 4, 0},
    {"x-max-in-memory-length", AT_INT, T_QUORUM, "an in-memory length limit", 0, INT64_MAX, NULL,
     "messages", 0, 0, 0, 0, 0},
    {"x-max-in-memory-bytes", AT_INT, T_QUORUM, "an in-memory size limit", 0, INT64_MAX, NULL,
     "bytes", 0, 0, 0, 0, 0},
    {"x-max-age", AT_STR, T_STREAM, "a max age", 0, 0, NULL, NULL, 0, 0, 0, 0, 0},
    {"x-stream-max-segment-size-bytes", AT_INT, T_STREAM, "a segment size", 0, INT64_MAX, NULL,
     "bytes", 0, 0, 0, 0, 0},
    {"x-initial-cluster-size", AT_INT, T_STREAM, "an initial cluster size", 1, INT64_MAX, NULL,
     "replicas", 0, 0, 0, 0, 0},
    /* in no queue type's list, so never refused by type; streams check its range (3.13+) */
    {"x-stream-filter-size-bytes", AT_INT, T_ALL, "a filter size", 16, 255, NULL, "bytes", 3, 13, 0,
     0, 0},
};

unsigned argspec_type_bit(enum queue_type t)
{
    return t == QT_QUORUM ? T_QUORUM : t == QT_STREAM ? T_STREAM : T_CLASSIC;
}

bool queue_arg_is_compared(const char *key, enum queue_type type)
{
    const struct argspec *s = argspec_find(key);
    return strcmp(key, "x-queue-type") == 0 || (s && (s->types & argspec_type_bit(type)));
}

const struct argspec *argspec_find(const char *key)
{
    size_t k;

    for (k = 0; k < sizeof(argspecs) / sizeof(argspecs[0]); k++)
        if (strcmp(argspecs[k].key, key) == 0)
            return &argspecs[k];
    return NULL;
}

const char *const argspec_keys[] = {
    "x-message-ttl",
    "x-expires",
    "x-max-length",
    "x-max-length-bytes",
    "x-overflow",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-dead-letter-strategy",
    "x-delivery-limit",
    "x-single-active-consumer",
    "x-quorum-initial-group-size",
    "x-max-priority",
    "x-queue-mode",
    "x-queue-version",
    "x-queue-master-locator",
    "x-queue-leader-locator",
    "x-max-in-memory-length",
    "x-max-in-memory-bytes",
    "x-max-age",
    "x-stream-max-segment-size-bytes",
    "x-initial-cluster-size",
    "x-stream-filter-size-bytes",
    "x-queue-type",
    NULL,
};

static const char *const v_ha_mode[] = {"all", "exactly", "nodes", NULL};
static const char *const v_ha_sync[] = {"manual", "automatic", NULL};
static const char *const v_ha_promote[] = {"always", "when-synced", NULL};

const struct pdspec pdspecs[] = {
    {"message-ttl", PD_INT_NONNEG, NULL, 0},
    {"expires", PD_INT_POS, NULL, 0},
    {"max-length", PD_INT_NONNEG, NULL, 0},
    {"max-length-bytes", PD_INT_NONNEG, NULL, 0},
    {"overflow", PD_ENUM, v_overflow, 0},
    {"dead-letter-exchange", PD_STR, NULL, 0},
    {"dead-letter-routing-key", PD_STR, NULL, 0},
    {"dead-letter-strategy", PD_ENUM, v_strategy, 0},
    {"delivery-limit", PD_INT_NONNEG, NULL, 0},
    {"max-age", PD_MAXAGE, NULL, 0},
    {"stream-max-segment-size-bytes", PD_INT_NONNEG, NULL, 0},
    {"queue-mode", PD_ENUM, v_mode, 0},
    {"queue-version", PD_INT_POS, NULL, 0},
    {"queue-master-locator", PD_ENUM, v_master, 0},
    {"queue-leader-locator", PD_ENUM, v_leader, 0},
    {"max-in-memory-length", PD_INT_NONNEG, NULL, 0},
    {"max-in-memory-bytes", PD_INT_NONNEG, NULL, 0},
    {"alternate-exchange", PD_STR, NULL, 0},
    {"initial-cluster-size", PD_INT_POS, NULL, 0},
    {"target-group-size", PD_INT_POS, NULL, 0},
    {"consumer-timeout", PD_INT_NONNEG, NULL, 0},
    {"ha-mode", PD_ENUM, v_ha_mode, 4},
    {"ha-params", PD_ANY, NULL, 4},
    {"ha-sync-mode", PD_ENUM, v_ha_sync, 4},
    {"ha-sync-batch-size", PD_INT_POS, NULL, 4},
    {"ha-promote-on-shutdown", PD_ENUM, v_ha_promote, 4},
    {"ha-promote-on-failure", PD_ENUM, v_ha_promote, 4},
    {"federation-upstream", PD_STR, NULL, 0},
    {"federation-upstream-set", PD_STR, NULL, 0},
};

const char *const pdspec_keys[] = {
    "message-ttl",
    "expires",
    "max-length",
    "max-length-bytes",
    "overflow",
    "dead-letter-exchange",
    "dead-letter-routing-key",
    "dead-letter-strategy",
    "delivery-limit",
    "max-age",
    "stream-max-segment-size-bytes",
    "queue-mode",
    "queue-version",
    "queue-master-locator",
    "queue-leader-locator",
    "max-in-memory-length",
    "max-in-memory-bytes",
    "alternate-exchange",
    "initial-cluster-size",
    "target-group-size",
    "consumer-timeout",
    "ha-mode",
    "ha-params",
    "ha-sync-mode",
    "ha-sync-batch-size",
    "ha-promote-on-shutdown",
    "ha-promote-on-failure",
    "federation-upstream",
    "federation-upstream-set",
    NULL,
};

const size_t n_pdspecs = sizeof(pdspecs) / sizeof(pdspecs[0]);

const struct pdspec *pdspec_find(const char *key)
{
    size_t k;

    for (k = 0; k < n_pdspecs; k++)
        if (strcmp(pdspecs[k].key, key) == 0)
            return &pdspecs[k];
    return NULL;
}
