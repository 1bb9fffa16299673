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
 *
 * The work is split along its seams: the argument tables in argspec.c (diff uses them too),
 * policies in validate_policy.c, dead-letter routes in validate_deadletter.c; this file holds
 * names, exchanges, queues, arguments, bindings, the quorum advice and the entry points.
 */
#include "validate_internal.h"

#include "access.h"
#include "params.h"

#include "policymatch.h"
#include "retry.h"
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

/* ------------------------------------------------------------------------------------------ */

void vdiag(struct vctx *c, enum diag_severity sev, struct rmqt_pos pos, const char *path,
           const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* an object a retry ladder made: the message points at the `retry` key (retry.h) */
    const char *origin = retry_origin_at(c->vh, pos);
    if (origin && path && strcmp(origin, path) != 0) {
        diag_add(c->dl, sev, c->t->file, pos, origin, "generated %s: %s", path, buf);
        return;
    }
    diag_add(c->dl, sev, c->t->file, pos, path, "%s", buf);
}

/* Quoting helper: returns a static buffer holding 'text' made safe (one use at a time per
 * slot; two slots so a message can quote two names). */
const char *qs(int slot, const char *s)
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
const char *object_path(struct vctx *c, const char *kind, const char *name, const char *field)
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

const char *queue_path(struct vctx *c, const struct queue *q, const char *field)
{
    return object_path(c, "queues", q->name, field);
}

const char *arg_path(struct vctx *c, const char *kind, const char *name, const struct targ *a)
{
    object_path(c, kind, name, a->field ? a->field : "arguments");
    if (!a->field) {
        strbuf_addc(&c->path, '.');
        strbuf_adds(&c->path, a->key);
    }
    return strbuf_str(&c->path);
}

const char *policy_path(struct vctx *c, const struct policy *p, const char *field)
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

bool broker_lacks(const struct vctx *c, int major, int minor)
{
    return c->opts && c->opts->broker_known && (major || minor) &&
           !rmqt_version_at_least(&c->opts->broker, major, minor, 0);
}

const char *broker_version_str(const struct vctx *c)
{
    static char buf[48];
    snprintf(buf, sizeof(buf), "%d.%d.%d", c->opts->broker.major, c->opts->broker.minor,
             c->opts->broker.patch);
    return buf;
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
void check_exchange_target(struct vctx *c, const char *name, struct rmqt_pos pos, const char *path,
                           enum target_role role, bool from_policy, const char *owner)
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

void describe_found(struct strbuf *sb, const struct tval *v)
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
    unsigned bit = argspec_type_bit(q->type);
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
    unsigned bit = argspec_type_bit(q->type);
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
size_t bindings_with_key(const struct vctx *c, const char *source, const char *rk)
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
size_t bindings_wild(const struct vctx *c, const char *source)
{
    size_t head;

    if (!strmap_get(&c->bwild_index, source, strlen(source), &head))
        return (size_t)-1;
    return c->bkey_first[head];
}

/* First binding whose source is name, or (size_t)-1; follow with bsrc_next. */
size_t bindings_from(const struct vctx *c, const char *name)
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
    params_validate(t, broker, dl);
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
    access_validate(t, dl);
    params_validate(t, NULL, dl);
    if (opts && opts->broker_known)
        params_validate(t, &opts->broker, dl);
}
