/*
 * validate.c - the semantic rules of topology.md over a loaded model.
 *
 * Decisions:
 * - The broker's own view of arguments drives the rules: a table (argspecs) says which
 *   x-arguments the broker knows, their AMQP type, range and the queue types that take them
 *   (rabbit_amqqueue's declare checks and each queue type's capabilities). An argument is
 *   checked the same way whether the user wrote the first-class field or the raw argument.
 * - Without a broker the newest feature set is assumed; given the broker's version, features
 *   it lacks are errors (broker-facts.md, "Versions").
 * - Dead-letter warnings follow routes through the file's bindings (exchange-to-exchange
 *   included) with the file's policies applied as the broker would: the highest priority
 *   wins, arguments win for dead-letter-*, policies win for overflow on quorum queues.
 * - Every lookup by name goes through an index and route results are cached per
 *   (exchange, routing key), so a 10,000-queue file validates in linear time.
 */
#include "validate.h"

#include "policymatch.h"
#include "routing.h"
#include "units.h"
#include "strbuf.h"
#include "strmap.h"
#include "textutil.h"
#include "xalloc.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_CLASSIC 1u
#define T_QUORUM 2u
#define T_STREAM 4u
#define T_ALL (T_CLASSIC | T_QUORUM | T_STREAM)

#define MAX_NAME_BYTES 255
/* rabbit_misc's ?MAX_EXPIRY_TIMER: the largest TTL or expiry the broker accepts */
#define MAX_EXPIRY 4294967295LL

enum argtype { AT_INT, AT_STR, AT_BOOL };

struct argspec {
    const char *key;
    enum argtype type;
    unsigned types;            /* queue types that take it on the newest broker */
    const char *noun;          /* "a delivery limit", for "only quorum queues have ..." */
    int64_t min, max;          /* AT_INT */
    const char *const *values; /* AT_STR with a fixed set of values; NULL = any string */
    const char *unit;          /* "milliseconds", "bytes": what the number means */
    /* version gates (0 = none): the argument exists only from `since`; a type it gained
     * later (classic queues' leader locator in 4.0) is in late_types from late_since */
    int since_major, since_minor;
    unsigned late_types;
    int late_major, late_minor;
};

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

static unsigned type_bit(enum queue_type t);

bool queue_arg_is_compared(const char *key, enum queue_type type)
{
    const struct argspec *s = argspec_find(key);
    return strcmp(key, "x-queue-type") == 0 || (s && (s->types & type_bit(type)));
}

const struct argspec *argspec_find(const char *key)
{
    size_t k;

    for (k = 0; k < sizeof(argspecs) / sizeof(argspecs[0]); k++)
        if (strcmp(argspecs[k].key, key) == 0)
            return &argspecs[k];
    return NULL;
}

static const char *const argspec_keys[] = {
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

/* Policy definition keys the broker (and its common plugins) validate, with their types. */
enum pdtype { PD_INT_NONNEG, PD_INT_POS, PD_STR, PD_ENUM, PD_MAXAGE, PD_ANY, PD_BOOL };

struct pdspec {
    const char *key;
    enum pdtype type;
    const char *const *values;
    int until_major; /* does nothing from this major version (0 = still meaningful) */
};

static const char *const v_ha_mode[] = {"all", "exactly", "nodes", NULL};
static const char *const v_ha_sync[] = {"manual", "automatic", NULL};
static const char *const v_ha_promote[] = {"always", "when-synced", NULL};

static const struct pdspec pdspecs[] = {
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

static const char *const pdspec_keys[] = {
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

/* ------------------------------------------------------------------------------------------ */

struct vctx {
    const struct topology *t;
    const struct validate_options *opts;
    struct diag_list *dl;
    const struct vhost *vh;
    struct strbuf path;
    /* per vhost */
    const char **exchange_names; /* NULL-terminated, for did-you-mean */
    const char **queue_names;
    const struct policy **qpolicy; /* the policy that applies to each queue, or NULL */
    size_t *bsrc_first;            /* bindings grouped by source: see index_bindings */
    size_t *bsrc_next;
    struct strmap bsrc;
    /* the same bindings grouped by (source, exact routing key), and per source the topic
     * bindings with wildcards, so that a known key does not scan every binding */
    char **bkey;
    size_t *bkey_first, *bkey_next, *bwild_next;
    struct strmap bkey_index, bwild_index;
    regex_t *policy_re;
    bool *policy_re_ok;
};

static void vdiag(struct vctx *c, enum diag_severity sev, struct rmqt_pos pos, const char *path,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void vdiag(struct vctx *c, enum diag_severity sev, struct rmqt_pos pos, const char *path,
                  const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    diag_add(c->dl, sev, c->t->file, pos, path, "%s", buf);
}

/* Quoting helper: returns a static buffer holding 'text' made safe (one use at a time per
 * slot; two slots so a message can quote two names). */
static const char *qs(int slot, const char *s)
{
    static char buf[2][300];
    struct strbuf sb = {0};

    rmqt_quote_add(&sb, s, strlen(s), 200);
    snprintf(buf[slot & 1], sizeof(buf[0]), "%s", strbuf_str(&sb));
    strbuf_release(&sb);
    return buf[slot & 1];
}

/* Key paths are built for every object checked, problem or not, so they are made with plain
 * appends rather than printf (which dominated a 10,000-queue run). */
static const char *object_path(struct vctx *c, const char *kind, const char *name,
                               const char *field)
{
    strbuf_reset(&c->path);
    strbuf_adds(&c->path, kind);
    strbuf_addc(&c->path, '.');
    strbuf_adds(&c->path, name);
    if (field) {
        strbuf_addc(&c->path, '.');
        strbuf_adds(&c->path, field);
    }
    return strbuf_str(&c->path);
}

static const char *queue_path(struct vctx *c, const struct queue *q, const char *field)
{
    return object_path(c, "queues", q->name, field);
}

static const char *arg_path(struct vctx *c, const char *kind, const char *name,
                            const struct targ *a)
{
    object_path(c, kind, name, a->field ? a->field : "arguments");
    if (!a->field) {
        strbuf_addc(&c->path, '.');
        strbuf_adds(&c->path, a->key);
    }
    return strbuf_str(&c->path);
}

static const char *policy_path(struct vctx *c, const struct policy *p, const char *field)
{
    return object_path(c, "policies", p->name, field);
}

static const char *binding_path(struct vctx *c, const struct binding *b, const char *field)
{
    if (b->bind_queue) {
        object_path(c, "queues", b->bind_queue, "bind[");
    } else {
        strbuf_reset(&c->path);
        strbuf_adds(&c->path, "bindings[");
    }
    strbuf_add_uint(&c->path, b->index);
    strbuf_addc(&c->path, ']');
    if (field) {
        strbuf_addc(&c->path, '.');
        strbuf_adds(&c->path, field);
    }
    return strbuf_str(&c->path);
}

static bool broker_lacks(const struct vctx *c, int major, int minor)
{
    return c->opts && c->opts->broker_known && (major || minor) &&
           !rmqt_version_at_least(&c->opts->broker, major, minor, 0);
}

static const char *broker_version_str(const struct vctx *c)
{
    static char buf[48];
    snprintf(buf, sizeof(buf), "%d.%d.%d", c->opts->broker.major, c->opts->broker.minor,
             c->opts->broker.patch);
    return buf;
}

static unsigned type_bit(enum queue_type t)
{
    return t == QT_QUORUM ? T_QUORUM : t == QT_STREAM ? T_STREAM : T_CLASSIC;
}

static const char *types_plural(unsigned bit)
{
    return bit == T_QUORUM ? "quorum queues" : bit == T_STREAM ? "streams" : "classic queues";
}

static bool is_builtin_exchange(const char *name)
{
    return name[0] == '\0' || rmqt_has_prefix(name, "amq.");
}

static bool name_has_reserved_prefix(const char *name)
{
    return rmqt_has_prefix(name, "amq.");
}

static void check_name(struct vctx *c, const char *what, const char *name, struct rmqt_pos pos,
                       const char *path)
{
    size_t len = strlen(name);

    if (len > MAX_NAME_BYTES)
        vdiag(c, DIAG_ERROR, pos, path,
              "%s name is %zu bytes long: the broker takes at most %d bytes", what, len,
              MAX_NAME_BYTES);
    if (name_has_reserved_prefix(name))
        vdiag(c, DIAG_ERROR, pos, path,
              "%s name '%s' starts with 'amq.', which the broker reserves for itself", what,
              qs(0, name));
}

enum rmqtopo_queue_kind rmqtopo_queue_kind(const char *name)
{
    if (is_holding_queue_name(name))
        return RQ_HOLDING;
    if (strcmp(name, RMQTOPO_LOCK_QUEUE) == 0)
        return RQ_LOCK;
    return RQ_NONE;
}

/* A queue name of rmqtopo's own: apply would take the file's queue for its own (a holding
 * queue with the file's limits would drop what a migration moves into it). */
static void check_rmqtopo_name(struct vctx *c, const struct queue *q)
{
    switch (rmqtopo_queue_kind(q->name)) {
    case RQ_HOLDING: {
        /* the queue whose migration would take it, when the name is not a cut one */
        const char *of = q->name + strlen("rmqtopo.migrate.");
        char *back = holding_queue_name(of);
        bool named = strcmp(back, q->name) == 0 && of[0];
        free(back);
        vdiag(c, DIAG_ERROR, q->pos, queue_path(c, q, NULL),
              "queue name '%s' starts with 'rmqtopo.migrate.', which rmqtopo reserves for the "
              "holding queues of apply's migrations: a migration %s%s%s would take this queue "
              "as its holding queue (choose another name)",
              qs(0, q->name), named ? "of queue '" : "of a queue", named ? qs(1, of) : "",
              named ? "'" : "");
        break;
    }
    case RQ_LOCK:
        vdiag(c, DIAG_ERROR, q->pos, queue_path(c, q, NULL),
              "queue name '%s' is reserved by rmqtopo: apply holds an exclusive queue of this "
              "name as its lock for the length of a run (choose another name)",
              qs(0, q->name));
        break;
    case RQ_NONE:
        break;
    }
}

/* Whether an exchange reference names nothing: neither the file nor a built-in defines it. */
static bool exchange_undefined(const struct vctx *c, const char *name)
{
    return !is_builtin_exchange(name) && !vhost_find_exchange(c->vh, name);
}

/* "exchange 'X' is not defined in vhost 'V' (nor ...)" with `tail` (what follows from it), then
 * a did-you-mean when a defined exchange is close. */
static void report_undefined_exchange(struct vctx *c, enum diag_severity sev, const char *name,
                                      struct rmqt_pos pos, const char *path, const char *role,
                                      const char *tail)
{
    const char *guess = rmqt_did_you_mean(name, c->exchange_names);

    vdiag(c, sev, pos, path,
          "%s '%s' is not defined in vhost '%s' (nor a built-in amq.* exchange)%s%s%s%s", role,
          qs(0, name), qs(1, c->vh->name), tail, guess ? "; did you mean '" : "",
          guess ? guess : "", guess ? "'?" : "");
}

/* A reference to an exchange that must exist (a binding's source or destination): the broker
 * refuses the binding otherwise. */
static void check_exchange_ref(struct vctx *c, const char *name, struct rmqt_pos pos,
                               const char *path, const char *role)
{
    if (exchange_undefined(c, name))
        report_undefined_exchange(c, DIAG_ERROR, name, pos, path, role, "");
}

/* An exchange that an alternate-exchange or dead-letter-exchange setting names: the broker
 * accepts a name that does not exist (RabbitMQ's own definition fixtures hold one), so an
 * export of a real broker may hold one too. A warning that says where the messages go; owner
 * is the exchange or queue that names it, or the policy (from_policy). */
enum target_role { TR_ALTERNATE, TR_DEAD_LETTER };

static void check_exchange_target(struct vctx *c, const char *name, struct rmqt_pos pos,
                                  const char *path, enum target_role role, bool from_policy,
                                  const char *owner)
{
    struct strbuf tail = {0};

    if (!exchange_undefined(c, name))
        return;
    strbuf_adds(&tail, ": the broker accepts it, and messages ");
    if (role == TR_ALTERNATE && from_policy)
        strbuf_addf(&tail,
                    "that the exchanges policy '%s' applies to cannot route are dropped "
                    "(returned to the publisher when published mandatory), unless the exchange "
                    "sets its own alternate exchange",
                    qs(0, owner));
    else if (role == TR_ALTERNATE)
        strbuf_addf(&tail,
                    "that exchange '%s' cannot route are dropped (returned to the publisher "
                    "when published mandatory)",
                    qs(0, owner));
    else if (from_policy)
        strbuf_addf(&tail,
                    "dead-lettered from the queues policy '%s' applies to are dropped, unless "
                    "the queue sets its own dead-letter exchange",
                    qs(0, owner));
    else
        strbuf_addf(&tail, "dead-lettered from queue '%s' are dropped", qs(0, owner));
    report_undefined_exchange(c, DIAG_WARNING, name, pos, path,
                              role == TR_ALTERNATE ? "alternate exchange" : "dead-letter exchange",
                              strbuf_str(&tail));
    strbuf_release(&tail);
}

/* ------------------------------------------------------------------------------------------ */
/* arguments */

static void describe_found(struct strbuf *sb, const struct tval *v)
{
    strbuf_addf(sb, "%s ", tval_kind_name(v->kind));
    tval_describe(sb, v);
}

/* Type and range of one argument, wherever it came from. */
static void check_arg_value(struct vctx *c, const struct argspec *s, const struct targ *a,
                            const char *path)
{
    struct strbuf found = {0};

    /* FOUND describes the value only when a message needs it: this runs for every argument */
#define FOUND() (describe_found(&found, &a->val), strbuf_str(&found))
    switch (s->type) {
    case AT_INT:
        if (a->val.kind != TV_INT) {
            vdiag(c, DIAG_ERROR, a->pos, path,
                  "expected an integer%s%s, found %s: the broker refuses any other type",
                  s->unit ? " in " : "", s->unit ? s->unit : "", FOUND());
            break;
        }
        if (a->val.i < s->min || a->val.i > s->max) {
            if (s->min == 0 && a->val.i < 0)
                vdiag(c, DIAG_ERROR, a->pos, path, "must not be negative (found %lld)",
                      (long long)a->val.i);
            else if (s->max == INT64_MAX)
                vdiag(c, DIAG_ERROR, a->pos, path, "must be at least %lld (found %lld)",
                      (long long)s->min, (long long)a->val.i);
            else
                vdiag(c, DIAG_ERROR, a->pos, path, "must be between %lld and %lld (found %lld)",
                      (long long)s->min, (long long)s->max, (long long)a->val.i);
        }
        break;
    case AT_BOOL:
        if (a->val.kind != TV_BOOL)
            vdiag(c, DIAG_ERROR, a->pos, path,
                  "expected true or false, found %s: the broker refuses any other type", FOUND());
        break;
    case AT_STR:
        if (a->val.kind != TV_STRING) {
            vdiag(c, DIAG_ERROR, a->pos, path,
                  "expected a string, found %s: the broker refuses any other type", FOUND());
            break;
        }
        if (s->values) {
            size_t k;
            bool ok = false;
            struct strbuf list = {0};
            for (k = 0; s->values[k] && !ok; k++)
                ok = strcmp(a->val.s, s->values[k]) == 0;
            if (!ok) {
                for (k = 0; s->values[k]; k++)
                    strbuf_addf(&list, "%s%s", k ? ", " : "", s->values[k]);
                vdiag(c, DIAG_ERROR, a->pos, path, "invalid value '%s': expected %s",
                      qs(0, a->val.s), strbuf_str(&list));
            }
            strbuf_release(&list);
        }
        if (strcmp(s->key, "x-max-age") == 0) {
            /* the broker's form: digits then one of Y M D h m s */
            const char *p = a->val.s;
            bool ok = *p >= '0' && *p <= '9';
            while (*p >= '0' && *p <= '9')
                p++;
            ok = ok && p[0] && strchr("YMDhms", p[0]) && !p[1];
            if (!ok)
                vdiag(c, DIAG_ERROR, a->pos, path,
                      "invalid x-max-age '%s': the broker takes a whole number and one unit of "
                      "Y, M, D, h, m, s (e.g. 7D)",
                      qs(0, a->val.s));
        }
        break;
    }
#undef FOUND
    strbuf_release(&found);
}

/* Features of an argument the broker (when known) is too old for. */
static void check_arg_version(struct vctx *c, const struct argspec *s, const struct targ *a,
                              unsigned bit, const char *path)
{
    if (broker_lacks(c, s->since_major, s->since_minor))
        vdiag(c, DIAG_ERROR, a->pos, path, "'%s' needs RabbitMQ %d.%d or later (the broker is %s)",
              a->key, s->since_major, s->since_minor, broker_version_str(c));
    else if ((s->late_types & bit) && broker_lacks(c, s->late_major, s->late_minor))
        vdiag(c, DIAG_ERROR, a->pos, path, "%s take %s only from RabbitMQ %d.%d (the broker is %s)",
              types_plural(bit), s->noun, s->late_major, s->late_minor, broker_version_str(c));
    else if (strcmp(a->key, "x-message-ttl") == 0 && bit == T_QUORUM && broker_lacks(c, 3, 10))
        vdiag(c, DIAG_ERROR, a->pos, path,
              "quorum queues take a message TTL only from RabbitMQ 3.10 (the broker is %s)",
              broker_version_str(c));
}

/* The version checks alone of a queue's arguments (topology_validate_versions). */
static void check_queue_versions(struct vctx *c, const struct queue *q)
{
    unsigned bit = type_bit(q->type);
    size_t k;

    if (q->type_unknown)
        return;
    for (k = 0; k < q->args.n; k++) {
        const struct argspec *s = argspec_find(q->args.v[k].key);
        if (s && (s->types & bit))
            check_arg_version(c, s, &q->args.v[k], bit,
                              arg_path(c, "queues", q->name, &q->args.v[k]));
    }
}

static void check_queue_args(struct vctx *c, const struct queue *q)
{
    unsigned bit = type_bit(q->type);
    struct strmap seen;
    size_t k;

    strmap_init(&seen);
    for (k = 0; k < q->args.n; k++) {
        const struct targ *a = &q->args.v[k];
        const struct argspec *s = argspec_find(a->key);
        const char *path = arg_path(c, "queues", q->name, a);
        size_t first;

        if (!strmap_put(&seen, a->key, strlen(a->key), k)) {
            const struct targ *f;
            strmap_get(&seen, a->key, strlen(a->key), &first);
            f = &q->args.v[first];
            /* report at the raw one: the first-class field is the preferred spelling */
            vdiag(c, DIAG_ERROR, a->field ? f->pos : a->pos,
                  a->field ? arg_path(c, "queues", q->name, f) : path,
                  "'%s' is set twice: by '%s' and by 'arguments.%s' (keep one)", a->key,
                  a->field   ? a->field
                  : f->field ? f->field
                             : a->key,
                  a->key);
            continue;
        }
        if (!s) {
            if (rmqt_has_prefix(a->key, "x-")) {
                const char *guess = rmqt_did_you_mean(a->key, argspec_keys);
                if (guess)
                    vdiag(c, DIAG_WARNING, a->pos, path,
                          "unknown argument '%s' (did you mean '%s'?): the broker keeps it "
                          "without using it",
                          qs(0, a->key), guess);
            }
            continue;
        }
        check_arg_value(c, s, a, path);
        if (q->type_unknown)
            continue; /* its type could not be read: the per-type rules cannot apply */
        if (!(s->types & bit)) {
            unsigned n = 0, b;
            for (b = 1; b <= T_STREAM; b <<= 1)
                n += (s->types & b) ? 1 : 0;
            if (n == 1)
                vdiag(c, DIAG_ERROR, a->pos, path, "only %s have %s (type is %s)",
                      types_plural(s->types), s->noun, queue_type_name(q->type));
            else
                vdiag(c, DIAG_ERROR, a->pos, path, "%s do not take %s (type is %s)",
                      types_plural(bit), s->noun, queue_type_name(q->type));
            continue;
        }
        check_arg_version(c, s, a, bit, path);
    }
    strmap_release(&seen);
}

static void check_queue(struct vctx *c, const struct queue *q)
{
    const struct targ *a;

    check_name(c, "queue", q->name, q->pos, queue_path(c, q, NULL));
    check_rmqtopo_name(c, q);
    if (q->type != QT_CLASSIC) {
        const char *what = q->type == QT_QUORUM ? "quorum queues" : "streams";
        if (q->durable.set && !q->durable.value)
            vdiag(c, DIAG_ERROR, q->durable.pos, queue_path(c, q, "durable"),
                  "%s must be durable (durable: false is refused)", what);
        if (q->auto_delete.set && q->auto_delete.value)
            vdiag(c, DIAG_ERROR, q->auto_delete.pos, queue_path(c, q, "auto_delete"),
                  "%s cannot be auto-delete", what);
    }
    check_queue_args(c, q);
    a = targs_get(&q->args, "x-dead-letter-exchange");
    if (a && a->val.kind == TV_STRING && q->type != QT_STREAM)
        check_exchange_target(c, a->val.s, a->pos, arg_path(c, "queues", q->name, a),
                              TR_DEAD_LETTER, false, q->name);
    if (!a && (a = targs_get(&q->args, "x-dead-letter-routing-key")) != NULL &&
        q->type != QT_STREAM)
        vdiag(c, DIAG_ERROR, a->pos, arg_path(c, "queues", q->name, a),
              "a dead-letter routing key needs a dead-letter exchange: the broker refuses it "
              "alone (routing_key_but_no_dlx_defined)");
    a = targs_get(&q->args, "x-overflow");
    if (a && q->type == QT_QUORUM && a->val.kind == TV_STRING &&
        strcmp(a->val.s, "reject-publish-dlx") == 0)
        vdiag(c, DIAG_ERROR, a->pos, arg_path(c, "queues", q->name, a),
              "quorum queues accept overflow 'reject-publish-dlx' but do not honour it: use "
              "'reject-publish' or 'drop-head'");
}

static void check_exchange(struct vctx *c, const struct exchange *x)
{
    size_t k;
    struct strbuf path = {0};

    strbuf_addf(&path, "exchanges.%s", x->name);
    check_name(c, "exchange", x->name, x->pos, strbuf_str(&path));
    strbuf_release(&path);
    for (k = 0; k < x->args.n; k++) {
        const struct targ *a = &x->args.v[k];
        const char *p = arg_path(c, "exchanges", x->name, a);
        if (strcmp(a->key, "alternate-exchange") != 0)
            continue;
        if (k != 0 && targs_get(&x->args, a->key) != a) {
            vdiag(c, DIAG_ERROR, a->pos, p,
                  "'alternate-exchange' is set twice: by 'alternate_exchange' and by "
                  "'arguments.alternate-exchange' (keep one)");
            continue;
        }
        if (a->val.kind != TV_STRING) {
            struct strbuf found = {0};
            describe_found(&found, &a->val);
            vdiag(c, DIAG_ERROR, a->pos, p, "expected an exchange name, found %s",
                  strbuf_str(&found));
            strbuf_release(&found);
            continue;
        }
        if (strcmp(a->val.s, x->name) == 0)
            vdiag(c, DIAG_WARNING, a->pos, p,
                  "exchange '%s' is its own alternate exchange: unroutable messages are dropped",
                  qs(0, x->name));
        else
            check_exchange_target(c, a->val.s, a->pos, p, TR_ALTERNATE, false, x->name);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* bindings */

static bool has_wildcard(const char *key)
{
    return strchr(key, '*') || strchr(key, '#');
}

/* Threads binding k onto the chain of `key` in index (first[] holds each chain's head, by
 * the index of the binding that opened it; next[] links). */
static void chain_add(struct strmap *index, size_t *first, size_t *next, const char *key,
                      size_t len, size_t k)
{
    size_t head;

    next[k] = (size_t)-1;
    if (strmap_get(index, key, len, &head)) {
        next[k] = first[head];
        first[head] = k;
    } else {
        first[k] = k;
        strmap_put(index, key, len, k);
    }
}

static const char *exchange_type_of(const struct vctx *c, const char *name);

static void index_bindings(struct vctx *c)
{
    const struct vhost *vh = c->vh;
    size_t k, n = vh->n_bindings + 1;
    struct strbuf key = {0};

    c->bsrc_first = xmalloc(n * sizeof(size_t));
    c->bsrc_next = xmalloc(n * sizeof(size_t));
    c->bkey = xcalloc(n, sizeof(char *));
    c->bkey_first = xmalloc(n * sizeof(size_t));
    c->bkey_next = xmalloc(n * sizeof(size_t));
    c->bwild_next = xmalloc(n * sizeof(size_t));
    strmap_init(&c->bsrc);
    strmap_init(&c->bkey_index);
    strmap_init(&c->bwild_index);
    /* walked backwards so that each chain lists its bindings in file order */
    for (k = vh->n_bindings; k-- > 0;) {
        const struct binding *b = &vh->bindings[k];
        chain_add(&c->bsrc, c->bsrc_first, c->bsrc_next, b->source, strlen(b->source), k);
        c->bwild_next[k] = (size_t)-1;
        const char *xtype = exchange_type_of(c, b->source);
        if (xtype && strcmp(xtype, "topic") == 0 && has_wildcard(b->routing_key)) {
            /* bkey_first doubles as the head store of the wildcard chains: a binding heads at
             * most one chain of either kind */
            chain_add(&c->bwild_index, c->bkey_first, c->bwild_next, b->source, strlen(b->source),
                      k);
            c->bkey_next[k] = (size_t)-1;
        } else {
            strbuf_reset(&key);
            strbuf_add_counted(&key, b->source);
            strbuf_adds(&key, b->routing_key);
            c->bkey[k] = strbuf_detach(&key, NULL);
            chain_add(&c->bkey_index, c->bkey_first, c->bkey_next, c->bkey[k], strlen(c->bkey[k]),
                      k);
        }
    }
    strbuf_release(&key);
}

/* First binding of source with exactly routing key rk (no wildcards), or (size_t)-1; follow
 * with bkey_next. */
static size_t bindings_with_key(const struct vctx *c, const char *source, const char *rk)
{
    struct strbuf key = {0};
    size_t head, first = (size_t)-1;

    strbuf_add_counted(&key, source);
    strbuf_adds(&key, rk);
    if (strmap_get(&c->bkey_index, key.buf, key.len, &head))
        first = c->bkey_first[head];
    strbuf_release(&key);
    return first;
}

/* First topic binding of source whose key has a wildcard, or (size_t)-1; follow with
 * bwild_next. */
static size_t bindings_wild(const struct vctx *c, const char *source)
{
    size_t head;

    if (!strmap_get(&c->bwild_index, source, strlen(source), &head))
        return (size_t)-1;
    return c->bkey_first[head];
}

/* First binding whose source is name, or (size_t)-1; follow with bsrc_next. */
static size_t bindings_from(const struct vctx *c, const char *name)
{
    size_t head;

    if (!strmap_get(&c->bsrc, name, strlen(name), &head))
        return (size_t)-1;
    return c->bsrc_first[head];
}

static void check_bindings(struct vctx *c)
{
    const struct vhost *vh = c->vh;
    struct strmap seen;
    char **keys = xcalloc(vh->n_bindings + 1, sizeof(*keys));
    size_t k;

    strmap_init(&seen);
    for (k = 0; k < vh->n_bindings; k++) {
        const struct binding *b = &vh->bindings[k];
        struct strbuf id = {0};
        size_t first;

        if (b->source[0] == '\0' && b->source_pos.line) {
            vdiag(c, DIAG_ERROR, b->source_pos,
                  binding_path(c, b, b->bind_queue ? "exchange" : "source"),
                  "the default exchange (\"\") cannot be bound: it routes to every queue by "
                  "name already");
        } else if (b->source_pos.line) {
            check_exchange_ref(c, b->source, b->source_pos,
                               binding_path(c, b, b->bind_queue ? "exchange" : "source"),
                               "exchange");
        }
        if (!b->bind_queue && b->dest_pos.line) {
            const char *dpath = binding_path(c, b, "destination");
            if (b->dest_is_exchange) {
                if (b->destination[0] == '\0')
                    vdiag(c, DIAG_ERROR, b->dest_pos, dpath,
                          "the default exchange (\"\") cannot be a binding's destination");
                else
                    check_exchange_ref(c, b->destination, b->dest_pos, dpath, "exchange");
            } else if (!vhost_find_queue(vh, b->destination)) {
                const char *guess = rmqt_did_you_mean(b->destination, c->queue_names);
                vdiag(c, DIAG_ERROR, b->dest_pos, dpath,
                      "queue '%s' is not defined in vhost '%s'%s%s%s%s", qs(0, b->destination),
                      qs(1, vh->name), guess ? "; did you mean '" : "", guess ? guess : "",
                      guess ? "'?" : "",
                      vhost_find_exchange(vh, b->destination)
                          ? " (an exchange has that name: add destination_type: exchange)"
                          : "");
            }
        }
        if (strlen(b->routing_key) > MAX_NAME_BYTES)
            vdiag(c, DIAG_ERROR, b->pos, binding_path(c, b, "routing_key"),
                  "routing key is %zu bytes long: AMQP takes at most %d", strlen(b->routing_key),
                  MAX_NAME_BYTES);
        binding_identity(&id, b);
        keys[k] = strbuf_detach(&id, NULL);
        if (!strmap_put(&seen, keys[k], strlen(keys[k]), k)) {
            const struct binding *f;
            strmap_get(&seen, keys[k], strlen(keys[k]), &first);
            f = &vh->bindings[first];
            vdiag(c, DIAG_ERROR, b->pos, binding_path(c, b, NULL),
                  "duplicate binding: the same binding is defined at line %d", f->pos.line);
        }
    }
    strmap_release(&seen);
    for (k = 0; k < vh->n_bindings; k++)
        free(keys[k]);
    free(keys);
}

/* ------------------------------------------------------------------------------------------ */
/* policies */

static bool policy_matches(const struct vctx *c, size_t pi, const char *name)
{
    return c->policy_re_ok[pi] && regexec(&c->policy_re[pi], name, 0, NULL, 0) == 0;
}

/* Settings a policy can never make (broker-facts.md): the message that says where they go. */
static const char *policy_cannot_set(const char *key)
{
    if (strcmp(key, "queue-type") == 0 || strcmp(key, "x-queue-type") == 0 ||
        strcmp(key, "type") == 0)
        return "a policy cannot set the queue type: set 'type' on the queue";
    if (strcmp(key, "max-priority") == 0 || strcmp(key, "x-max-priority") == 0)
        return "a policy cannot set a classic queue's maximum priority: set "
               "'arguments: {x-max-priority: N}' on the queue";
    if (strcmp(key, "single-active-consumer") == 0 || strcmp(key, "x-single-active-consumer") == 0)
        return "a policy cannot set single active consumer: set 'single_active_consumer' on the "
               "queue";
    return NULL;
}

static void check_policy_definition(struct vctx *c, const struct policy *p)
{
    size_t k;

    if (p->definition.n == 0 && p->definition_pos.line) {
        vdiag(c, DIAG_ERROR, p->definition_pos, policy_path(c, p, "definition"),
              "a policy definition must not be empty: the broker refuses it");
        return;
    }
    for (k = 0; k < p->definition.n; k++) {
        const char *key = p->definition.entries[k].key;
        const struct tval *v = &p->definition.entries[k].val;
        const struct pdspec *s = NULL;
        struct strbuf path = {0}, found = {0};
        size_t j;
        const char *problem = NULL;
        struct rmqt_pos pos = p->def_pos ? p->def_pos[k] : p->definition_pos;

        for (j = 0; j < sizeof(pdspecs) / sizeof(pdspecs[0]); j++)
            if (strcmp(pdspecs[j].key, key) == 0)
                s = &pdspecs[j];
        strbuf_addf(&path, "policies.%s.definition.%s", p->name, key);
        describe_found(&found, v);
        if (!s && policy_cannot_set(key)) {
            vdiag(c, DIAG_ERROR, pos, strbuf_str(&path), "%s", policy_cannot_set(key));
            goto next;
        }
        if (!s) {
            const char *guess = rmqt_did_you_mean(key, pdspec_keys);
            if (guess || rmqt_has_prefix(key, "x-"))
                vdiag(c, DIAG_ERROR, pos, strbuf_str(&path),
                      "unknown policy key '%s'%s%s%s: the broker refuses keys it does not know",
                      qs(0, key), guess ? " (did you mean '" : "", guess ? guess : "",
                      guess ? "'?)"
                            : (rmqt_has_prefix(key, "x-") ? " (policy keys have no 'x-' prefix)"
                                                          : ""));
            else
                vdiag(c, DIAG_WARNING, pos, strbuf_str(&path),
                      "unknown policy key '%s': the broker refuses it unless a plugin defines it",
                      qs(0, key));
            goto next;
        }
        switch (s->type) {
        case PD_INT_NONNEG:
            if (v->kind != TV_INT)
                problem = "expected an integer";
            else if (v->i < 0)
                problem = "must not be negative";
            break;
        case PD_INT_POS:
            if (v->kind != TV_INT)
                problem = "expected an integer";
            else if (v->i < 1)
                problem = "must be at least 1";
            break;
        case PD_STR:
            if (v->kind != TV_STRING)
                problem = "expected a string";
            break;
        case PD_BOOL:
            if (v->kind != TV_BOOL)
                problem = "expected true or false";
            break;
        case PD_ENUM:
            if (v->kind != TV_STRING) {
                problem = "expected a string";
            } else {
                bool ok = false;
                for (j = 0; s->values[j]; j++)
                    ok = ok || strcmp(v->s, s->values[j]) == 0;
                if (!ok)
                    problem = "invalid value";
            }
            break;
        case PD_MAXAGE: {
            const char *q = v->kind == TV_STRING ? v->s : "";
            bool ok = *q >= '0' && *q <= '9';
            while (*q >= '0' && *q <= '9')
                q++;
            if (v->kind != TV_STRING || !ok || !q[0] || !strchr("YMDhms", q[0]) || q[1])
                problem = "expected the broker's duration form: a whole number and one of Y, "
                          "M, D, h, m, s (e.g. 7D)";
            break;
        }
        case PD_ANY:
            break;
        }
        if (problem && v->kind == TV_STRING &&
            (s->type == PD_INT_NONNEG || s->type == PD_INT_POS)) {
            /* units are the file's convenience; a policy holds the broker's raw values */
            int64_t raw;
            const char *why;
            bool ms = strcmp(key, "message-ttl") == 0 || strcmp(key, "expires") == 0 ||
                      strcmp(key, "consumer-timeout") == 0;
            bool bytes = strstr(key, "bytes") != NULL;
            if ((ms && units_parse_duration(v->s, &raw, &why) == 0) ||
                (bytes && units_parse_size(v->s, &raw, &why) == 0)) {
                vdiag(c, DIAG_ERROR, pos, strbuf_str(&path),
                      "expected an integer in %s, found %s: a policy definition holds the "
                      "broker's raw values (write %lld)",
                      ms ? "milliseconds" : "bytes", strbuf_str(&found), (long long)raw);
                goto next;
            }
        }
        if (problem) {
            if (s->type == PD_ENUM && v->kind == TV_STRING) {
                struct strbuf list = {0};
                for (j = 0; s->values[j]; j++)
                    strbuf_addf(&list, "%s%s", j ? ", " : "", s->values[j]);
                vdiag(c, DIAG_ERROR, pos, strbuf_str(&path), "invalid value %s: expected %s",
                      strbuf_str(&found), strbuf_str(&list));
                strbuf_release(&list);
            } else {
                vdiag(c, DIAG_ERROR, pos, strbuf_str(&path), "%s, found %s", problem,
                      strbuf_str(&found));
            }
        }
        if (strcmp(key, "dead-letter-exchange") == 0 && v->kind == TV_STRING)
            check_exchange_target(c, v->s, pos, strbuf_str(&path), TR_DEAD_LETTER, true, p->name);
        if (strcmp(key, "alternate-exchange") == 0 && v->kind == TV_STRING)
            check_exchange_target(c, v->s, pos, strbuf_str(&path), TR_ALTERNATE, true, p->name);
    next:
        strbuf_release(&path);
        strbuf_release(&found);
    }
}

/* What a policy asks of the broker's version: apply-to per queue type (3.12), keys that do
 * nothing any more (ha-* from 4.0). */
static void check_policy_versions(struct vctx *c, const struct policy *p)
{
    size_t k, j;

    if (p->apply_to_set && broker_lacks(c, 3, 12) &&
        (strcmp(p->apply_to, "classic_queues") == 0 || strcmp(p->apply_to, "quorum_queues") == 0 ||
         strcmp(p->apply_to, "streams") == 0))
        vdiag(c, DIAG_ERROR, p->apply_to_pos, policy_path(c, p, "apply_to"),
              "apply_to '%s' needs RabbitMQ 3.12 or later (the broker is %s): use 'queues' "
              "with a pattern that matches only those queues",
              p->apply_to, broker_version_str(c));
    if (!c->opts || !c->opts->broker_known)
        return;
    for (k = 0; k < p->definition.n; k++) {
        const char *key = p->definition.entries[k].key;
        for (j = 0; j < sizeof(pdspecs) / sizeof(pdspecs[0]); j++) {
            const struct pdspec *s = &pdspecs[j];
            if (strcmp(s->key, key) != 0 || !s->until_major ||
                c->opts->broker.major < s->until_major)
                continue;
            object_path(c, "policies", p->name, "definition");
            strbuf_addc(&c->path, '.');
            strbuf_adds(&c->path, key);
            vdiag(c, DIAG_WARNING, p->def_pos ? p->def_pos[k] : p->definition_pos,
                  strbuf_str(&c->path), "'%s' does nothing from RabbitMQ %d.0 (the broker is %s)",
                  key, s->until_major, broker_version_str(c));
        }
    }
}

static void check_policies(struct vctx *c)
{
    const struct vhost *vh = c->vh;
    size_t k;

    c->policy_re = xcalloc(vh->n_policies + 1, sizeof(*c->policy_re));
    c->policy_re_ok = xcalloc(vh->n_policies + 1, sizeof(*c->policy_re_ok));
    for (k = 0; k < vh->n_policies; k++) {
        const struct policy *p = &vh->policies[k];
        char err[256];

        if (p->pattern) {
            if (policy_pattern_compile(p->pattern, &c->policy_re[k], err, sizeof(err)) == 0)
                c->policy_re_ok[k] = true;
            else if (strstr(p->pattern, "(?"))
                vdiag(c, DIAG_WARNING, p->pattern_pos, policy_path(c, p, "pattern"),
                      "pattern '%s' uses regular-expression syntax rmqtopo cannot evaluate "
                      "(%s): the checks that need to know what this policy matches are skipped",
                      qs(0, p->pattern), err);
            else
                vdiag(c, DIAG_ERROR, p->pattern_pos, policy_path(c, p, "pattern"),
                      "invalid regular expression '%s': %s", qs(0, p->pattern), err);
        }
        check_policy_versions(c, p);
        check_policy_definition(c, p);
    }
}

/* Chooses the policy that applies to every queue (highest priority; the first of equals)
 * and reports equal-priority ties among the winners, once per pair of policies. */
static void resolve_policies(struct vctx *c)
{
    const struct vhost *vh = c->vh;
    struct strmap reported;
    char **pair_keys = NULL;
    size_t n_pairs = 0, cap_pairs = 0, k, pi, total = vh->n_queues + vh->n_exchanges;

    c->qpolicy = xcalloc(vh->n_queues + 1, sizeof(*c->qpolicy));
    if (!vh->n_policies)
        return;
    strmap_init(&reported);
    for (k = 0; k < total; k++) {
        bool is_queue = k < vh->n_queues;
        const char *name = is_queue ? vh->queues[k].name : vh->exchanges[k - vh->n_queues].name;
        size_t best = (size_t)-1, tie = (size_t)-1;

        for (pi = 0; pi < vh->n_policies; pi++) {
            const struct policy *p = &vh->policies[pi];
            bool kind_ok = is_queue ? policy_applies_to(p, true, vh->queues[k].type)
                                    : policy_applies_to(p, false, QT_CLASSIC);
            if (!kind_ok || !policy_matches(c, pi, name))
                continue;
            if (best == (size_t)-1 || p->priority > vh->policies[best].priority) {
                best = pi;
                tie = (size_t)-1;
            } else if (p->priority == vh->policies[best].priority && tie == (size_t)-1) {
                tie = pi;
            }
        }
        if (is_queue && best != (size_t)-1)
            c->qpolicy[k] = &vh->policies[best];
        if (tie != (size_t)-1) {
            char key[64];
            int n = snprintf(key, sizeof(key), "%zu,%zu", best, tie);
            XGROW(pair_keys, cap_pairs, n_pairs + 1);
            pair_keys[n_pairs] = xstrndup(key, (size_t)n);
            if (strmap_put(&reported, pair_keys[n_pairs], (size_t)n, 0)) {
                const struct policy *a = &vh->policies[best], *b = &vh->policies[tie];
                vdiag(c, DIAG_WARNING, b->pos, policy_path(c, b, NULL),
                      "policies '%s' and '%s' have the same priority (%lld) and both match %s "
                      "'%s': the broker applies one of them unpredictably",
                      qs(0, a->name), b->name, (long long)a->priority,
                      is_queue ? "queue" : "exchange", qs(1, name));
                n_pairs++;
            } else {
                free(pair_keys[n_pairs]);
            }
        }
    }
    for (k = 0; k < n_pairs; k++)
        free(pair_keys[k]);
    free(pair_keys);
    strmap_release(&reported);
}

/* ------------------------------------------------------------------------------------------ */
/* dead-lettering, with the file's policies applied as the broker applies them */

struct effective {
    const char *dlx;         /* NULL: the queue does not dead-letter */
    struct rmqt_pos dlx_pos; /* the argument, or the queue for a policy's */
    const struct targ *dlx_arg;
    const char *dlrk; /* NULL: the message's own routing keys */
    const char *strategy;
    const struct targ *strategy_arg;
    const char *overflow;
    bool overflow_from_policy;
    bool capped;  /* a TTL or a length limit bounds the queue */
    bool limited; /* capped, or a delivery limit */
};

static struct rmqt_pos policy_def_pos(const struct policy *p, const char *key)
{
    size_t k;

    for (k = 0; p->def_pos && k < p->definition.n; k++)
        if (strcmp(p->definition.entries[k].key, key) == 0)
            return p->def_pos[k];
    return p->definition_pos;
}

static const char *str_arg(const struct queue *q, const char *key, const struct targ **out)
{
    const struct targ *a = targs_get(&q->args, key);
    if (out)
        *out = a && a->val.kind == TV_STRING ? a : NULL;
    return a && a->val.kind == TV_STRING ? a->val.s : NULL;
}

static const char *str_def(const struct policy *p, const char *key)
{
    const struct tval *v = p ? tval_get(&p->definition, key) : NULL;
    return v && v->kind == TV_STRING ? v->s : NULL;
}

static bool has_int(const struct queue *q, const struct policy *p, const char *arg, const char *def)
{
    const struct targ *a = targs_get(&q->args, arg);
    const struct tval *v = p ? tval_get(&p->definition, def) : NULL;
    return (a && a->val.kind == TV_INT) || (v && v->kind == TV_INT);
}

static void effective_of(const struct vctx *c, size_t qi, struct effective *e)
{
    const struct queue *q = &c->vh->queues[qi];
    const struct policy *p = c->qpolicy[qi];
    const char *pol;

    memset(e, 0, sizeof(*e));
    if (q->type == QT_STREAM) {
        /* streams never dead-letter; they are bounded by size or age */
        const struct tval *age = p ? tval_get(&p->definition, "max-age") : NULL;
        e->capped = has_int(q, p, "x-max-length-bytes", "max-length-bytes") ||
                    str_arg(q, "x-max-age", NULL) || (age && age->kind == TV_STRING);
        e->limited = e->capped;
        return;
    }
    e->dlx = str_arg(q, "x-dead-letter-exchange", &e->dlx_arg);
    e->dlx_pos = e->dlx_arg ? e->dlx_arg->pos : q->pos;
    if (!e->dlx)
        e->dlx = str_def(p, "dead-letter-exchange");
    e->dlrk = str_arg(q, "x-dead-letter-routing-key", NULL);
    if (!e->dlrk && !e->dlx_arg)
        e->dlrk = str_def(p, "dead-letter-routing-key");
    e->strategy = str_arg(q, "x-dead-letter-strategy", &e->strategy_arg);
    if (!e->strategy)
        e->strategy = str_def(p, "dead-letter-strategy");
    e->overflow = str_arg(q, "x-overflow", NULL);
    pol = str_def(p, "overflow");
    /* on quorum queues a policy's overflow wins; on classic queues the argument does */
    if (pol && (q->type == QT_QUORUM || !e->overflow)) {
        e->overflow_from_policy = e->overflow == NULL || strcmp(e->overflow, pol) != 0;
        e->overflow = pol;
    }
    e->capped = has_int(q, p, "x-message-ttl", "message-ttl") ||
                has_int(q, p, "x-max-length", "max-length") ||
                has_int(q, p, "x-max-length-bytes", "max-length-bytes");
    e->limited = e->capped || has_int(q, p, "x-delivery-limit", "delivery-limit");
}

/* Queues a message reaches when published to exchange with routing key rk (NULL = any key).
 * *unknown is set when the file cannot tell (the default exchange without a known key). */
struct route {
    size_t *queues;
    size_t n, cap;
    bool unknown;
};

static const char *exchange_type_of(const struct vctx *c, const char *name)
{
    const struct exchange *x = vhost_find_exchange(c->vh, name);
    if (x)
        return x->type ? x->type : "direct";
    return builtin_exchange_type(name);
}

static void compute_route(const struct vctx *c, const char *exchange, const char *rk,
                          struct route *r)
{
    const struct vhost *vh = c->vh;
    const char **stack = NULL;
    size_t n_stack = 0, cap_stack = 0;
    struct strmap visited, added;

    memset(r, 0, sizeof(*r));
    if (exchange[0] == '\0') {
        const struct queue *q = rk ? vhost_find_queue(vh, rk) : NULL;
        if (!rk)
            r->unknown = true;
        else if (q) {
            XGROW(r->queues, r->cap, 1);
            r->queues[r->n++] = (size_t)(q - vh->queues);
        }
        return;
    }
    strmap_init(&visited);
    strmap_init(&added);
    XGROW(stack, cap_stack, 1);
    stack[n_stack++] = exchange;
    strmap_put(&visited, exchange, strlen(exchange), 0);
    while (n_stack) {
        const char *x = stack[--n_stack];
        const char *xtype = exchange_type_of(c, x);
        const struct exchange *xo = vhost_find_exchange(vh, x);
        size_t b;
        bool matched = false;

        int pass;

        if (!xtype)
            continue;
        /* direct and topic with a known key: the bindings with exactly that key, then (topic)
         * the wildcard ones; anything else: every binding of the exchange */
        for (pass = 0; pass < 2; pass++) {
            bool by_key = rk && (strcmp(xtype, "direct") == 0 || strcmp(xtype, "topic") == 0);
            size_t *next = !by_key ? c->bsrc_next : pass == 0 ? c->bkey_next : c->bwild_next;
            if (!by_key && pass == 1)
                break;
            if (by_key && pass == 1 && strcmp(xtype, "topic") != 0)
                break;
            b = !by_key     ? bindings_from(c, x)
                : pass == 0 ? bindings_with_key(c, x, rk)
                            : bindings_wild(c, x);
            for (; b != (size_t)-1; b = next[b]) {
                const struct binding *bd = &vh->bindings[b];
                if (!routing_could_match(xtype, bd->routing_key, rk))
                    continue;
                matched = true;
                if (bd->dest_is_exchange) {
                    if (strmap_put(&visited, bd->destination, strlen(bd->destination), 0)) {
                        XGROW(stack, cap_stack, n_stack + 1);
                        stack[n_stack++] = bd->destination;
                    }
                } else {
                    const struct queue *q = vhost_find_queue(vh, bd->destination);
                    if (q && strmap_put(&added, q->name, strlen(q->name), 0)) {
                        XGROW(r->queues, r->cap, r->n + 1);
                        r->queues[r->n++] = (size_t)(q - vh->queues);
                    }
                }
            }
        }
        if (xo && (!matched || !rk)) {
            const struct targ *ae = targs_get(&xo->args, "alternate-exchange");
            if (ae && ae->val.kind == TV_STRING &&
                strmap_put(&visited, ae->val.s, strlen(ae->val.s), 0)) {
                XGROW(stack, cap_stack, n_stack + 1);
                stack[n_stack++] = ae->val.s;
            }
        }
    }
    free(stack);
    strmap_release(&visited);
    strmap_release(&added);
}

/* Route results cached by (exchange, routing key): many queues share one dead-letter route. */
struct route_cache {
    struct strmap index;
    char **keys;
    struct route *routes;
    size_t n, cap_keys, cap_routes;
};

/* The index in rc->routes of the route for (exchange, rk), computed on first use. An index,
 * not a pointer: the array grows. */
static size_t cached_route(const struct vctx *c, struct route_cache *rc, const char *exchange,
                           const char *rk)
{
    struct strbuf key = {0};
    size_t idx;

    strbuf_add_counted(&key, exchange);
    strbuf_addc(&key, rk ? 'k' : 'n');
    strbuf_adds(&key, rk ? rk : "");
    if (strmap_get(&rc->index, key.buf, key.len, &idx)) {
        strbuf_release(&key);
        return idx;
    }
    XGROW(rc->keys, rc->cap_keys, rc->n + 1);
    XGROW(rc->routes, rc->cap_routes, rc->n + 1);
    compute_route(c, exchange, rk, &rc->routes[rc->n]);
    rc->keys[rc->n] = strbuf_detach(&key, NULL);
    /* the index keeps pointers to the key strings, which do not move once allocated */
    strmap_put(&rc->index, rc->keys[rc->n], strlen(rc->keys[rc->n]), rc->n);
    return rc->n++;
}

static void route_cache_release(struct route_cache *rc)
{
    size_t k;

    for (k = 0; k < rc->n; k++) {
        free(rc->keys[k]);
        free(rc->routes[k].queues);
    }
    free(rc->keys);
    free(rc->routes);
    strmap_release(&rc->index);
}

/* Tarjan's strongly connected components, iteratively, over the dead-letter graph. */
struct dlgraph {
    const struct route_cache *rc;
    size_t *out; /* per queue: the index of its dead-letter route in rc, or NO_ROUTE */
    size_t n;
};

#define NO_ROUTE ((size_t)-1)

static const struct route *graph_out(const struct dlgraph *g, size_t q)
{
    return g->out[q] == NO_ROUTE ? NULL : &g->rc->routes[g->out[q]];
}

static void report_cycles(struct vctx *c, const struct dlgraph *g, const struct effective *eff)
{
    size_t n = g->n, next_index = 0, k;
    size_t *index = xmalloc((n + 1) * sizeof(size_t));
    size_t *low = xmalloc((n + 1) * sizeof(size_t));
    bool *on_stack = xcalloc(n + 1, sizeof(bool));
    size_t *stack = xmalloc((n + 1) * sizeof(size_t)), sp = 0;
    size_t *cs_node = xmalloc((n + 1) * sizeof(size_t)),
           *cs_edge = xmalloc((n + 1) * sizeof(size_t));
    size_t csp;
    const size_t UNSET = (size_t)-1;

    for (k = 0; k < n; k++)
        index[k] = UNSET;
    for (k = 0; k < n; k++) {
        if (index[k] != UNSET)
            continue;
        csp = 0;
        cs_node[csp] = k;
        cs_edge[csp++] = 0;
        index[k] = low[k] = next_index++;
        stack[sp++] = k;
        on_stack[k] = true;
        while (csp) {
            size_t v = cs_node[csp - 1];
            const struct route *r = graph_out(g, v);
            if (r && cs_edge[csp - 1] < r->n) {
                size_t w = r->queues[cs_edge[csp - 1]++];
                if (index[w] == UNSET) {
                    index[w] = low[w] = next_index++;
                    stack[sp++] = w;
                    on_stack[w] = true;
                    cs_node[csp] = w;
                    cs_edge[csp++] = 0;
                } else if (on_stack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            csp--;
            if (csp && low[v] < low[cs_node[csp - 1]])
                low[cs_node[csp - 1]] = low[v];
            if (low[v] == index[v]) {
                /* pop one component: v and everything above it */
                size_t start = sp, m, first = v;
                bool cycle, ends = false;
                do {
                    start--;
                } while (stack[start] != v);
                cycle = sp - start > 1;
                if (!cycle && graph_out(g, v)) {
                    for (m = 0; m < graph_out(g, v)->n; m++)
                        cycle = cycle || graph_out(g, v)->queues[m] == v;
                }
                for (m = start; m < sp; m++) {
                    ends = ends || eff[stack[m]].limited;
                    if (stack[m] < first)
                        first = stack[m];
                }
                if (cycle && !ends) {
                    struct strbuf names = {0};
                    size_t shown = 0;
                    for (m = start; m < sp && shown < 6; m++, shown++)
                        strbuf_addf(&names, "%s'%s'", shown ? ", " : "",
                                    qs(0, c->vh->queues[stack[m]].name));
                    if (sp - start > shown)
                        strbuf_addf(&names, " and %zu more", sp - start - shown);
                    if (sp - start == 1)
                        vdiag(c, DIAG_WARNING, c->vh->queues[first].pos,
                              queue_path(c, &c->vh->queues[first], NULL),
                              "dead-letter cycle with no TTL or limit to end it: queue %s "
                              "dead-letters into itself, so a rejected message can circle "
                              "forever",
                              strbuf_str(&names));
                    else
                        vdiag(c, DIAG_WARNING, c->vh->queues[first].pos,
                              queue_path(c, &c->vh->queues[first], NULL),
                              "dead-letter cycle with no TTL or limit to end it: %s dead-letter "
                              "into each other, so a rejected message can circle forever",
                              strbuf_str(&names));
                    strbuf_release(&names);
                }
                for (m = start; m < sp; m++)
                    on_stack[stack[m]] = false;
                sp = start;
            }
        }
    }
    free(index);
    free(low);
    free(on_stack);
    free(stack);
    free(cs_node);
    free(cs_edge);
}

static void check_dead_lettering(struct vctx *c)
{
    const struct vhost *vh = c->vh;
    struct effective *eff = xcalloc(vh->n_queues + 1, sizeof(*eff));
    struct route_cache rc;
    struct dlgraph g;
    bool *is_dlq = xcalloc(vh->n_queues + 1, sizeof(bool));
    size_t k, m;

    memset(&rc, 0, sizeof(rc));
    g.n = vh->n_queues;
    g.rc = &rc;
    g.out = xmalloc((vh->n_queues + 1) * sizeof(*g.out));
    for (k = 0; k < vh->n_queues; k++)
        g.out[k] = NO_ROUTE;
    for (k = 0; k < vh->n_queues; k++)
        effective_of(c, k, &eff[k]);
    for (k = 0; k < vh->n_queues; k++) {
        const struct queue *q = &vh->queues[k];
        const struct effective *e = &eff[k];
        const struct route *r;
        const char *dpath;

        if (!e->dlx || !exchange_type_of(c, e->dlx))
            continue; /* no dead-lettering, or an undefined exchange (warned about already:
                       * its messages are dropped, so the checks below have nothing to say) */
        g.out[k] = cached_route(c, &rc, e->dlx, e->dlrk);
        r = &rc.routes[g.out[k]];
        for (m = 0; m < r->n; m++)
            is_dlq[r->queues[m]] = true;
        dpath = e->dlx_arg ? arg_path(c, "queues", q->name, e->dlx_arg) : queue_path(c, q, NULL);
        if (r->n == 0 && !r->unknown) {
            if (e->dlrk)
                vdiag(c, DIAG_WARNING, e->dlx_pos, dpath,
                      "messages dead-lettered from '%s' would be dropped: exchange '%s' has no "
                      "binding that routes key '%s' to a queue",
                      qs(0, q->name), qs(1, e->dlx[0] ? e->dlx : "(default)"), e->dlrk);
            else
                vdiag(c, DIAG_WARNING, e->dlx_pos, dpath,
                      "messages dead-lettered from '%s' would be dropped: exchange '%s' has no "
                      "binding that routes to a queue",
                      qs(0, q->name), qs(1, e->dlx));
        }
        if (q->type == QT_QUORUM && !(e->strategy && strcmp(e->strategy, "at-least-once") == 0)) {
            if (e->strategy_arg) /* written out: point at it */
                dpath = arg_path(c, "queues", q->name, e->strategy_arg);
            vdiag(c, DIAG_WARNING, e->strategy_arg ? e->strategy_arg->pos : e->dlx_pos, dpath,
                  "quorum queue '%s' dead-letters at-most-once: messages can be lost on "
                  "the way to '%s' (set dead_letter_strategy: at-least-once with overflow: "
                  "reject-publish)",
                  qs(0, q->name), qs(1, e->dlx[0] ? e->dlx : "(default)"));
        }
    }
    /* at-least-once needs reject-publish whether or not the dead-letter exchange is known */
    for (k = 0; k < vh->n_queues; k++) {
        const struct queue *q = &vh->queues[k];
        const struct effective *e = &eff[k];
        const struct targ *sa = e->strategy_arg;

        if (q->type != QT_QUORUM || q->type_unknown || !e->strategy ||
            strcmp(e->strategy, "at-least-once") != 0)
            continue;
        if (e->overflow && strcmp(e->overflow, "reject-publish") == 0)
            continue;
        vdiag(c, DIAG_ERROR, sa ? sa->pos : q->pos,
              sa ? arg_path(c, "queues", q->name, sa) : queue_path(c, q, NULL),
              "dead_letter_strategy at-least-once needs overflow: reject-publish (on the queue or "
              "from a policy); with %s%s%s the broker silently falls back to at-most-once",
              e->overflow ? "overflow '" : "no overflow", e->overflow ? qs(0, e->overflow) : "",
              e->overflow ? "'" : "");
    }
    for (k = 0; k < vh->n_queues; k++) {
        const struct queue *q = &vh->queues[k];
        const struct policy *p = c->qpolicy[k];
        const char *own = str_arg(q, "x-overflow", NULL), *pol = str_def(p, "overflow");

        if (is_dlq[k] && !eff[k].capped)
            vdiag(c, DIAG_WARNING, q->pos, queue_path(c, q, NULL),
                  "dead-letter queue '%s' has no message_ttl, max_length or max_length_bytes, "
                  "nor a policy capping it: it can grow without bound",
                  qs(0, q->name));
        if (q->type == QT_QUORUM && own && pol && strcmp(own, pol) != 0)
            vdiag(c, DIAG_WARNING, policy_def_pos(p, "overflow"),
                  policy_path(c, p, "definition.overflow"),
                  "policy '%s' sets overflow '%s' on quorum queue '%s', overriding the queue's "
                  "own '%s' (on quorum queues a policy's overflow wins)",
                  qs(0, p->name), pol, qs(1, q->name), own);
    }
    report_cycles(c, &g, eff);
    route_cache_release(&rc);
    free(g.out);
    free(eff);
    free(is_dlq);
}

/* Advice, not a problem: beyond this many queues in a vhost it is given once, with a count,
 * rather than once per queue (a broker of 10,000 classic queues would otherwise print 10,000
 * warnings on every plan). */
#define ADVICE_EACH_UP_TO 10

static bool wants_quorum_advice(const struct queue *q)
{
    const struct targ *ov = targs_get(&q->args, "x-overflow");
    bool durable = !q->durable.set || q->durable.value;
    bool auto_delete = q->auto_delete.set && q->auto_delete.value;

    if (q->type != QT_CLASSIC || q->type_unknown || !durable || auto_delete)
        return false;
    /* a classic-only feature in use: a quorum queue is not an option */
    return !targs_get(&q->args, "x-max-priority") &&
           !(ov && ov->val.kind == TV_STRING && strcmp(ov->val.s, "reject-publish-dlx") == 0);
}

static void check_quorum_advice(struct vctx *c)
{
    struct strbuf names = {0};
    const struct queue *first = NULL;
    size_t k, count = 0;

    for (k = 0; k < c->vh->n_queues; k++)
        count += wants_quorum_advice(&c->vh->queues[k]);
    for (k = 0; k < c->vh->n_queues; k++) {
        const struct queue *q = &c->vh->queues[k];

        if (!wants_quorum_advice(q))
            continue;
        if (count <= ADVICE_EACH_UP_TO) {
            vdiag(c, DIAG_WARNING, q->type_set ? q->type_pos : q->pos,
                  queue_path(c, q, q->type_set ? "type" : NULL),
                  "durable classic queue '%s': RabbitMQ documents quorum queues as the choice "
                  "for durable, replicated queues (set type: quorum)",
                  qs(0, q->name));
            continue;
        }
        if (!first)
            first = q;
        else if (names.len < 120)
            strbuf_adds(&names, ", ");
        if (names.len < 120) {
            strbuf_addc(&names, '\'');
            strbuf_adds(&names, qs(0, q->name));
            strbuf_addc(&names, '\'');
        }
    }
    if (first)
        vdiag(c, DIAG_WARNING, first->type_set ? first->type_pos : first->pos,
              queue_path(c, first, first->type_set ? "type" : NULL),
              "%zu durable classic queues (%s ...): RabbitMQ documents quorum queues as the "
              "choice for durable, replicated queues (set type: quorum)",
              count, strbuf_str(&names));
    strbuf_release(&names);
}

static void validate_vhost(struct vctx *c, const struct vhost *vh)
{
    size_t k;

    c->vh = vh;
    c->exchange_names = xcalloc(vh->n_exchanges + 1, sizeof(char *));
    c->queue_names = xcalloc(vh->n_queues + 1, sizeof(char *));
    for (k = 0; k < vh->n_exchanges; k++)
        c->exchange_names[k] = vh->exchanges[k].name;
    for (k = 0; k < vh->n_queues; k++)
        c->queue_names[k] = vh->queues[k].name;
    index_bindings(c);

    for (k = 0; k < vh->n_exchanges; k++)
        check_exchange(c, &vh->exchanges[k]);
    for (k = 0; k < vh->n_queues; k++)
        check_queue(c, &vh->queues[k]);
    check_bindings(c);
    check_policies(c);
    resolve_policies(c);
    check_dead_lettering(c);
    check_quorum_advice(c);

    for (k = 0; k < vh->n_policies; k++)
        if (c->policy_re_ok[k])
            regfree(&c->policy_re[k]);
    free(c->policy_re);
    free(c->policy_re_ok);
    free(c->qpolicy);
    free(c->exchange_names);
    free(c->queue_names);
    free(c->bsrc_first);
    free(c->bsrc_next);
    strmap_release(&c->bsrc);
    for (k = 0; k < vh->n_bindings; k++)
        free(c->bkey[k]);
    free(c->bkey);
    free(c->bkey_first);
    free(c->bkey_next);
    free(c->bwild_next);
    strmap_release(&c->bkey_index);
    strmap_release(&c->bwild_index);
}

void topology_validate_versions(const struct topology *t, const struct rmqt_version *broker,
                                struct diag_list *dl)
{
    struct validate_options opts;
    struct vctx c;
    size_t k, j;

    opts.broker_known = true;
    opts.broker = *broker;
    memset(&c, 0, sizeof(c));
    c.t = t;
    c.opts = &opts;
    c.dl = dl;
    for (k = 0; k < t->n_vhosts; k++) {
        c.vh = &t->vhosts[k];
        for (j = 0; j < c.vh->n_queues; j++)
            check_queue_versions(&c, &c.vh->queues[j]);
        for (j = 0; j < c.vh->n_policies; j++)
            check_policy_versions(&c, &c.vh->policies[j]);
    }
    strbuf_release(&c.path);
}

void topology_validate(const struct topology *t, const struct validate_options *opts,
                       struct diag_list *dl)
{
    struct vctx c;
    size_t k;

    memset(&c, 0, sizeof(c));
    c.t = t;
    c.opts = opts;
    c.dl = dl;
    for (k = 0; k < t->n_vhosts; k++)
        validate_vhost(&c, &t->vhosts[k]);
    strbuf_release(&c.path);
}
