/*
 * load.c - the topology file format (topology.md) onto the model (model.h).
 *
 * Decisions:
 * - Every problem is collected (diag_list), never only the first; a bad field is skipped and
 *   loading goes on, so one run shows the whole list.
 * - Key paths in messages start inside the vhost ("queues.orders.placed.delivery_limit"), as
 *   topology.md's examples do; the line and column tell which vhost.
 * - First-class fields become AMQP arguments tagged with their field (see model.h), with the
 *   AMQP types the broker expects: durations and sizes as integers, max_age as the broker's
 *   canonical string.
 * - Names, routing keys and other text fields take any scalar's text (a routing key 404 is
 *   "404"); raw arguments keep their YAML type, because the broker distinguishes them.
 */
#include "load.h"

#include "access.h"
#include "params.h"
#include "retry.h"
#include "strbuf.h"
#include "textutil.h"
#include "units.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAX_FILE (256u * 1024 * 1024)

struct loader {
    const char *file;
    struct diag_list *dl;
    struct strbuf path;
    struct topology *t;
};

static size_t path_push(struct loader *L, const char *seg)
{
    size_t old = L->path.len;
    if (L->path.len && seg[0] != '[')
        strbuf_addc(&L->path, '.');
    strbuf_adds(&L->path, seg);
    return old;
}

static size_t path_push_index(struct loader *L, size_t i)
{
    size_t old = L->path.len;
    strbuf_addf(&L->path, "[%zu]", i);
    return old;
}

static void path_pop(struct loader *L, size_t old)
{
    L->path.len = old;
    L->path.buf[old] = '\0';
}

static void err_at(struct loader *L, struct rmqt_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err_at(struct loader *L, struct rmqt_pos pos, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    diag_add(L->dl, DIAG_ERROR, L->file, pos, strbuf_str(&L->path), "%s", buf);
}

/* 'text' quoted and made safe, for messages. Returns a static buffer (one at a time). */
static const char *q(const struct ynode *n)
{
    static char buf[160];
    struct strbuf sb = {0};

    if (n->kind != YN_SCALAR)
        snprintf(buf, sizeof(buf), "a %s", ynode_describe_kind(n));
    else {
        rmqt_quote_add(&sb, n->text, n->len, 100);
        snprintf(buf, sizeof(buf), "'%s'", strbuf_str(&sb));
    }
    strbuf_release(&sb);
    return buf;
}

static void unknown_key(struct loader *L, const struct ynode *key, const char *const *known)
{
    if (key->bad)
        return; /* its variable is reported already */
    if (key->len == 2 && memcmp(key->text, "<<", 2) == 0) {
        err_at(L, key->pos,
               "YAML merge keys (<<) are not supported: repeat the settings, or "
               "put shared queue settings in a policy");
        return;
    }
    const char *guess = rmqt_did_you_mean(key->text, known);
    struct strbuf list = {0};
    size_t k;

    if (guess) {
        err_at(L, key->pos, "unknown key %s (did you mean '%s'?)", q(key), guess);
        return;
    }
    for (k = 0; known[k]; k++) {
        if (k)
            strbuf_adds(&list, ", ");
        strbuf_adds(&list, known[k]);
    }
    err_at(L, key->pos, "unknown key %s (expected one of: %s)", q(key), strbuf_str(&list));
    strbuf_release(&list);
}

/* A map node, or NULL (reported) for anything else. null is an empty map when allow_null. */
static bool want_map(struct loader *L, const struct ynode *n, bool allow_null)
{
    if (n->kind == YN_MAP)
        return true;
    if (allow_null && n->kind == YN_SCALAR && n->type == YS_NULL)
        return false;
    err_at(L, n->pos, "expected a map, found %s", q(n));
    return false;
}

/* Text of a scalar (any type but null). NULL (reported) otherwise. */
static const char *want_text(struct loader *L, const struct ynode *n, const char *what)
{
    if (n->kind == YN_SCALAR && n->bad)
        return NULL; /* reported already */
    if (n->kind == YN_SCALAR && n->type != YS_NULL) {
        if (strlen(n->text) != n->len) {
            err_at(L, n->pos, "%s must not contain a NUL character", what);
            return NULL;
        }
        return n->text;
    }
    err_at(L, n->pos, "expected %s, found %s", what, n->kind == YN_SCALAR ? "null" : q(n));
    return NULL;
}

static bool want_bool(struct loader *L, const struct ynode *n, bool *out)
{
    if (n->kind == YN_SCALAR && n->bad)
        return false; /* reported already */
    if (n->kind == YN_SCALAR && n->type == YS_BOOL) {
        *out = n->b;
        return true;
    }
    err_at(L, n->pos, "expected true or false, found %s", q(n));
    return false;
}

static bool want_int(struct loader *L, const struct ynode *n, int64_t *out)
{
    if (n->kind == YN_SCALAR && n->bad)
        return false; /* reported already */
    if (n->kind == YN_SCALAR && n->type == YS_INT) {
        *out = n->i;
        return true;
    }
    if (n->kind == YN_SCALAR && n->type == YS_INT_RANGE)
        err_at(L, n->pos, "integer %s is out of range", q(n));
    else if (n->kind == YN_SCALAR && n->type == YS_STRING && n->len && n->len < 32 &&
             strspn(n->text, "-0123456789") == n->len)
        err_at(L, n->pos, "expected a whole number, found the string %s (remove the quotes)", q(n));
    else
        err_at(L, n->pos, "expected a whole number, found %s", q(n));
    return false;
}

/* One of a fixed set of words. */
static const char *want_enum(struct loader *L, const struct ynode *n, const char *const *allowed)
{
    if (n->kind == YN_SCALAR && n->bad)
        return NULL; /* reported already */
    size_t k;
    struct strbuf list = {0};
    const char *guess;

    if (n->kind == YN_SCALAR && n->type == YS_STRING)
        for (k = 0; allowed[k]; k++)
            if (strcmp(n->text, allowed[k]) == 0)
                return allowed[k];
    for (k = 0; allowed[k]; k++) {
        if (k)
            strbuf_adds(&list, allowed[k + 1] ? ", " : " or ");
        strbuf_adds(&list, allowed[k]);
    }
    guess = n->kind == YN_SCALAR ? rmqt_did_you_mean(n->text, allowed) : NULL;
    if (guess)
        err_at(L, n->pos, "invalid value %s: expected %s (did you mean '%s'?)", q(n),
               strbuf_str(&list), guess);
    else
        err_at(L, n->pos, "invalid value %s: expected %s", q(n), strbuf_str(&list));
    strbuf_release(&list);
    return NULL;
}

/* Converts any node to a typed value (raw arguments, policy definitions). Aliases are already
 * bounded by the tree's node budget; depth by its depth limit. */
static bool to_tval(struct loader *L, const struct ynode *n, struct tval *out)
{
    size_t k;
    bool ok = true;

    memset(out, 0, sizeof(*out));
    switch (n->kind) {
    case YN_SCALAR:
        if (n->bad)
            return false; /* reported already */
        switch (n->type) {
        case YS_NULL:
            out->kind = TV_NULL;
            return true;
        case YS_BOOL:
            tval_set_bool(out, n->b);
            return true;
        case YS_INT:
            tval_set_int(out, n->i);
            return true;
        case YS_INT_RANGE:
            err_at(L, n->pos, "integer %s is out of range", q(n));
            return false;
        case YS_FLOAT:
            out->kind = TV_DOUBLE;
            out->d = n->d;
            return true;
        case YS_STRING:
            tval_set_string(out, n->text, n->len);
            return true;
        }
        return false;
    case YN_SEQ:
        tval_set_list(out);
        for (k = 0; k < n->n; k++)
            ok = to_tval(L, n->items[k], tval_append(out, NULL)) && ok;
        return ok;
    case YN_MAP:
        tval_set_map(out);
        for (k = 0; k + 1 < n->n; k += 2) {
            const struct ynode *key = n->items[k];
            if (key->kind != YN_SCALAR)
                continue; /* reported by the tree */
            ok = to_tval(L, n->items[k + 1], tval_append(out, key->text)) && ok;
        }
        return ok;
    }
    return false;
}

/* Adds raw arguments (a map) to args. */
static void load_raw_args(struct loader *L, const struct ynode *n, struct targs *args)
{
    size_t k;

    if (!want_map(L, n, true))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        struct tval v;
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        if (key->len == 0) {
            /* the path is the arguments map itself: an empty segment would read oddly */
            err_at(L, key->pos, "an argument name must not be empty");
            continue;
        }
        old = path_push(L, key->text);
        if (to_tval(L, val, &v))
            targs_add(args, key->text, &v, val->pos, NULL);
        else
            tval_release(&v);
        path_pop(L, old);
    }
}

static void add_int_arg(struct targs *args, const char *key, int64_t i, struct rmqt_pos pos,
                        const char *field)
{
    struct tval v = {0};
    tval_set_int(&v, i);
    targs_add(args, key, &v, pos, field);
}

static void add_str_arg(struct targs *args, const char *key, const char *s, struct rmqt_pos pos,
                        const char *field)
{
    struct tval v = {0};
    tval_set_string(&v, s, strlen(s));
    targs_add(args, key, &v, pos, field);
}

static void add_bool_arg(struct targs *args, const char *key, bool b, struct rmqt_pos pos,
                         const char *field)
{
    struct tval v = {0};
    tval_set_bool(&v, b);
    targs_add(args, key, &v, pos, field);
}

/* A duration: an integer (milliseconds) or a string with a unit. */
static bool want_duration(struct loader *L, const struct ynode *n, int64_t *ms)
{
    if (n->kind == YN_SCALAR && n->bad)
        return false; /* reported already */
    const char *why;

    if (n->kind == YN_SCALAR && n->type == YS_INT) {
        *ms = n->i;
        return true;
    }
    if (n->kind == YN_SCALAR && n->type == YS_STRING) {
        if (units_parse_duration(n->text, ms, &why) == 0)
            return true;
        err_at(L, n->pos, "invalid duration %s: %s (e.g. 500ms, 10s, 5m, 2h, 7d, 1w)", q(n), why);
        return false;
    }
    err_at(L, n->pos,
           "expected a duration (milliseconds, or a number with a unit: ms, s, m, h, d, w), "
           "found %s",
           q(n));
    return false;
}

static bool want_size(struct loader *L, const struct ynode *n, int64_t *bytes)
{
    if (n->kind == YN_SCALAR && n->bad)
        return false; /* reported already */
    const char *why;

    if (n->kind == YN_SCALAR && n->type == YS_INT) {
        *bytes = n->i;
        return true;
    }
    if (n->kind == YN_SCALAR && n->type == YS_STRING) {
        if (units_parse_size(n->text, bytes, &why) == 0)
            return true;
        err_at(L, n->pos, "invalid size %s: %s (e.g. 512MB, 1GiB)", q(n), why);
        return false;
    }
    err_at(L, n->pos,
           "expected a size (bytes, or a number with a unit: kB, MB, GB, KiB, MiB, "
           "GiB ...), found %s",
           q(n));
    return false;
}

static bool want_max_age(struct loader *L, const struct ynode *n, char *out, size_t size)
{
    if (n->kind == YN_SCALAR && n->bad)
        return false; /* reported already */
    const char *why;
    int64_t secs;

    if (n->kind == YN_SCALAR && n->type == YS_INT) {
        if (n->i <= 0 || n->i % 1000 != 0) {
            err_at(L, n->pos,
                   "invalid max_age %s: the broker's x-max-age counts whole seconds (write e.g. "
                   "7d, 36h, 90m)",
                   q(n));
            return false;
        }
        units_format_max_age(n->i / 1000, out, size);
        return true;
    }
    if (n->kind == YN_SCALAR && n->type == YS_STRING) {
        if (units_parse_max_age(n->text, &secs, &why) == 0) {
            units_format_max_age(secs, out, size);
            return true;
        }
        err_at(L, n->pos, "invalid max_age %s: %s", q(n), why);
        return false;
    }
    err_at(L, n->pos, "expected a duration such as 7d, 36h or 90m, found %s", q(n));
    return false;
}

static void load_flag(struct loader *L, const struct ynode *n, struct tflag *f)
{
    if (want_bool(L, n, &f->value)) {
        f->set = true;
        f->pos = n->pos;
    }
}

static const char *const overflow_values[] = {"drop-head", "reject-publish", "reject-publish-dlx",
                                              NULL};
static const char *const strategy_values[] = {"at-most-once", "at-least-once", NULL};

static void load_bind_list(struct loader *L, struct vhost *vh, const char *queue,
                           const struct ynode *n)
{
    static const char *const keys[] = {"exchange", "routing_key", "arguments", NULL};
    size_t i, k;

    if (n->kind == YN_SCALAR && n->type == YS_NULL)
        return;
    if (n->kind != YN_SEQ) {
        err_at(L, n->pos, "expected a list of bindings ({ exchange: X, routing_key: K }), found %s",
               q(n));
        return;
    }
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        size_t old = path_push_index(L, i);
        struct binding *b;
        const struct ynode *ex;

        if (!want_map(L, e, false)) {
            path_pop(L, old);
            continue;
        }
        ex = ynode_get(e, "exchange");
        if (!ex) {
            err_at(L, e->pos, "a binding needs 'exchange'");
            path_pop(L, old);
            continue;
        }
        b = vhost_add_binding(vh);
        b->destination = xstrdup(queue);
        b->dest_is_exchange = false;
        b->bind_queue = xstrdup(queue);
        b->index = i;
        b->pos = e->pos;
        b->dest_pos = e->pos;
        b->routing_key = xstrdup("");
        for (k = 0; k + 1 < e->n; k += 2) {
            const struct ynode *key = e->items[k], *val = e->items[k + 1];
            size_t o2;
            const char *s;

            if (key->kind != YN_SCALAR)
                continue;
            o2 = path_push(L, key->text);
            if (strcmp(key->text, "exchange") == 0) {
                if (val->kind == YN_SCALAR && val->type == YS_STRING && val->len == 0)
                    s = "";
                else
                    s = want_text(L, val, "an exchange name");
                b->source = xstrdup(s ? s : "");
                if (s)
                    b->source_pos = val->pos;
            } else if (strcmp(key->text, "routing_key") == 0) {
                if (val->kind == YN_SCALAR && val->len == 0 && val->type != YS_NULL)
                    s = "";
                else
                    s = want_text(L, val, "a routing key");
                if (s) {
                    free(b->routing_key);
                    b->routing_key = xstrdup(s);
                }
            } else if (strcmp(key->text, "arguments") == 0) {
                if (want_map(L, val, true)) {
                    tval_release(&b->args);
                    if (!to_tval(L, val, &b->args))
                        tval_set_map(&b->args);
                }
            } else {
                unknown_key(L, key, keys);
            }
            path_pop(L, o2);
        }
        path_pop(L, old);
    }
}

/* One threshold kind of an `alert` map: { warning: V, critical: V } in the kind's unit
 * (messages: a count; age: a duration; rate: N/s, N/m or N/h). */
static void load_threshold(struct loader *L, const struct ynode *n, enum rmqt_metric m,
                           struct rmqt_threshold *th)
{
    static const char *const keys[] = {"warning", "critical", NULL};
    struct rmqt_pos wpos = {0, 0}, cpos = {0, 0};
    size_t k;

    if (!want_map(L, n, false))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        bool critical;
        double v = 0;
        bool ok = false;
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        old = path_push(L, key->text);
        if (strcmp(key->text, "warning") != 0 && strcmp(key->text, "critical") != 0) {
            unknown_key(L, key, keys);
            path_pop(L, old);
            continue;
        }
        critical = strcmp(key->text, "critical") == 0;
        if (m == RMQT_METRIC_MESSAGES) {
            int64_t i;
            if (want_int(L, val, &i)) {
                if (i < 0)
                    err_at(L, val->pos, "a message count is 0 or more, found %s", q(val));
                else
                    ok = true, v = (double)i;
            }
        } else if (m == RMQT_METRIC_AGE) {
            int64_t ms;
            if (want_duration(L, val, &ms)) {
                if (ms < 0)
                    err_at(L, val->pos, "an age is 0 or more, found %s", q(val));
                else
                    ok = true, v = (double)ms / 1000.0;
            }
        } else if (val->kind == YN_SCALAR && val->bad) {
            /* reported already */
        } else if (val->kind == YN_SCALAR && val->type == YS_STRING) {
            const char *why;
            if (units_parse_rate(val->text, &v, &why) == 0)
                ok = true;
            else
                err_at(L, val->pos, "invalid rate %s: %s (e.g. 10/m)", q(val), why);
        } else {
            err_at(L, val->pos,
                   "expected a rate: messages per s, m or h (e.g. 10/m, 1/s), found %s", q(val));
        }
        if (ok && critical) {
            th->has_critical = true, th->critical = v, cpos = val->pos;
        } else if (ok) {
            th->has_warning = true, th->warning = v, wpos = val->pos;
        }
        path_pop(L, old);
    }
    if (n->n == 0)
        err_at(L, n->pos,
               "expected warning, critical or both (e.g. { warning: 1, critical: 100 })");
    if (th->has_warning && th->has_critical && th->warning > th->critical) {
        size_t old = path_push(L, "critical");
        err_at(L, cpos, "critical (%g) is below warning (%g): warning <= critical", th->critical,
               th->warning);
        path_pop(L, old);
        (void)wpos;
    }
}

/* `alert` on a queue and `alert_defaults` on a vhost: thresholds for monitoring (issue 15).
 * plan and apply ignore them. */
static void load_alert(struct loader *L, const struct ynode *n, struct rmqt_thresholds *th)
{
    static const char *const keys[] = {"messages", "age", "rate", NULL};
    size_t k;

    if (!want_map(L, n, false))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        size_t old;
        int m;

        if (key->kind != YN_SCALAR)
            continue;
        old = path_push(L, key->text);
        for (m = 0; keys[m] && strcmp(keys[m], key->text) != 0; m++)
            ;
        if (keys[m])
            load_threshold(L, val, (enum rmqt_metric)m, &th->t[m]);
        else
            unknown_key(L, key, keys);
        path_pop(L, old);
    }
    if (n->n == 0)
        err_at(L, n->pos, "expected one or more of messages, age, rate");
}

static void load_queue(struct loader *L, struct vhost *vh, const struct ynode *name,
                       const struct ynode *n)
{
    static const char *const keys[] = {"type",
                                       "durable",
                                       "auto_delete",
                                       "message_ttl",
                                       "expires",
                                       "max_length",
                                       "max_length_bytes",
                                       "overflow",
                                       "dead_letter_exchange",
                                       "dead_letter_routing_key",
                                       "dead_letter_strategy",
                                       "delivery_limit",
                                       "single_active_consumer",
                                       "initial_group_size",
                                       "max_age",
                                       "arguments",
                                       "bind",
                                       "retry",
                                       "alert",
                                       NULL};
    static const char *const types[] = {"classic", "quorum", "stream", NULL};
    struct queue *qu = vhost_add_queue(vh, name->text);
    const struct ynode *bind = NULL;
    char *qname = qu->name;
    size_t k;

    qu->pos = name->pos;
    if (!want_map(L, n, true))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        const char *f, *s;
        int64_t i;
        bool b;
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        f = key->text;
        old = path_push(L, f);
        if (strcmp(f, "type") == 0) {
            if ((s = want_enum(L, val, types)) != NULL) {
                queue_type_parse(s, &qu->type);
                qu->type_set = true;
                qu->type_pos = val->pos;
                qu->type_field = "type";
            } else {
                qu->type_unknown = true; /* reported: no rule may assume classic */
            }
        } else if (strcmp(f, "durable") == 0) {
            load_flag(L, val, &qu->durable);
        } else if (strcmp(f, "auto_delete") == 0) {
            load_flag(L, val, &qu->auto_delete);
        } else if (strcmp(f, "message_ttl") == 0) {
            if (want_duration(L, val, &i))
                add_int_arg(&qu->args, "x-message-ttl", i, val->pos, "message_ttl");
        } else if (strcmp(f, "expires") == 0) {
            if (want_duration(L, val, &i))
                add_int_arg(&qu->args, "x-expires", i, val->pos, "expires");
        } else if (strcmp(f, "max_length") == 0) {
            if (want_int(L, val, &i))
                add_int_arg(&qu->args, "x-max-length", i, val->pos, "max_length");
        } else if (strcmp(f, "max_length_bytes") == 0) {
            if (want_size(L, val, &i))
                add_int_arg(&qu->args, "x-max-length-bytes", i, val->pos, "max_length_bytes");
        } else if (strcmp(f, "overflow") == 0) {
            if ((s = want_enum(L, val, overflow_values)) != NULL)
                add_str_arg(&qu->args, "x-overflow", s, val->pos, "overflow");
        } else if (strcmp(f, "dead_letter_exchange") == 0) {
            s = val->kind == YN_SCALAR && val->type == YS_STRING && !val->len
                    ? ""
                    : want_text(L, val, "an exchange name");
            if (s)
                add_str_arg(&qu->args, "x-dead-letter-exchange", s, val->pos,
                            "dead_letter_exchange");
        } else if (strcmp(f, "dead_letter_routing_key") == 0) {
            s = val->kind == YN_SCALAR && val->type == YS_STRING && !val->len
                    ? ""
                    : want_text(L, val, "a routing key");
            if (s)
                add_str_arg(&qu->args, "x-dead-letter-routing-key", s, val->pos,
                            "dead_letter_routing_key");
        } else if (strcmp(f, "dead_letter_strategy") == 0) {
            if ((s = want_enum(L, val, strategy_values)) != NULL)
                add_str_arg(&qu->args, "x-dead-letter-strategy", s, val->pos,
                            "dead_letter_strategy");
        } else if (strcmp(f, "delivery_limit") == 0) {
            if (want_int(L, val, &i))
                add_int_arg(&qu->args, "x-delivery-limit", i, val->pos, "delivery_limit");
        } else if (strcmp(f, "single_active_consumer") == 0) {
            if (want_bool(L, val, &b))
                add_bool_arg(&qu->args, "x-single-active-consumer", b, val->pos,
                             "single_active_consumer");
        } else if (strcmp(f, "initial_group_size") == 0) {
            if (want_int(L, val, &i))
                add_int_arg(&qu->args, "x-quorum-initial-group-size", i, val->pos,
                            "initial_group_size");
        } else if (strcmp(f, "max_age") == 0) {
            char age[32];
            if (want_max_age(L, val, age, sizeof(age)))
                add_str_arg(&qu->args, "x-max-age", age, val->pos, "max_age");
        } else if (strcmp(f, "arguments") == 0) {
            load_raw_args(L, val, &qu->args);
        } else if (strcmp(f, "bind") == 0) {
            bind = val; /* after the queue's own fields; the queue pointer may move */
        } else if (strcmp(f, "retry") == 0) {
            retry_load_use(&vh->retry, L->file, strbuf_str(&L->path), qname, val, L->dl);
        } else if (strcmp(f, "alert") == 0) {
            qu->has_alert = true;
            qu->alert_pos = key->pos;
            load_alert(L, val, &qu->alert);
        } else {
            unknown_key(L, key, keys);
        }
        path_pop(L, old);
    }
    /* x-queue-type given as a raw argument is the queue type by another name */
    for (k = 0; k < qu->args.n; k++) {
        struct targ *a = &qu->args.v[k];
        if (a->field || strcmp(a->key, "x-queue-type") != 0)
            continue;
        if (qu->type_set) {
            size_t old = path_push(L, "arguments.x-queue-type");
            err_at(L, a->pos, "the queue type is set twice: by 'type' and by this argument");
            path_pop(L, old);
        } else if (a->val.kind == TV_STRING && queue_type_parse(a->val.s, &qu->type)) {
            qu->type_set = true;
            qu->type_pos = a->pos;
            qu->type_field = "arguments.x-queue-type";
        } else {
            size_t old = path_push(L, "arguments.x-queue-type");
            err_at(L, a->pos, "invalid queue type: expected classic, quorum or stream");
            path_pop(L, old);
        }
        tval_release(&a->val);
        free(a->key);
        memmove(a, a + 1, (qu->args.n - k - 1) * sizeof(*a));
        qu->args.n--;
        k--;
    }
    if (bind) {
        size_t old = path_push(L, "bind");
        load_bind_list(L, vh, qname, bind);
        path_pop(L, old);
    }
}

static void load_exchange(struct loader *L, struct vhost *vh, const struct ynode *name,
                          const struct ynode *n)
{
    static const char *const keys[] = {
        "type", "durable", "auto_delete", "internal", "alternate_exchange", "arguments", NULL};
    struct exchange *x = vhost_add_exchange(vh, name->text);
    size_t k;
    bool has_type = false;

    x->pos = name->pos;
    if (!want_map(L, n, true)) {
        if (n->kind == YN_SCALAR && n->type == YS_NULL) {
            size_t old = path_push(L, "type");
            err_at(L, name->pos, "an exchange needs a type (direct, fanout, topic, headers)");
            path_pop(L, old);
        }
        return;
    }
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        const char *f, *s;
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        f = key->text;
        old = path_push(L, f);
        if (strcmp(f, "type") == 0) {
            has_type = true;
            if ((s = want_text(L, val, "an exchange type")) != NULL) {
                static const char *const types[] = {"direct", "fanout", "topic", "headers", NULL};
                size_t t;
                bool ok = rmqt_has_prefix(s, "x-") && s[2];
                for (t = 0; types[t] && !ok; t++)
                    ok = strcmp(s, types[t]) == 0;
                if (ok) {
                    x->type = xstrdup(s);
                    x->type_pos = val->pos;
                } else {
                    const char *guess = rmqt_did_you_mean(s, types);
                    err_at(L, val->pos,
                           "invalid exchange type %s: expected direct, fanout, topic, headers or "
                           "x-<plugin type>%s%s%s",
                           q(val), guess ? " (did you mean '" : "", guess ? guess : "",
                           guess ? "'?)" : "");
                }
            }
        } else if (strcmp(f, "durable") == 0) {
            load_flag(L, val, &x->durable);
        } else if (strcmp(f, "auto_delete") == 0) {
            load_flag(L, val, &x->auto_delete);
        } else if (strcmp(f, "internal") == 0) {
            load_flag(L, val, &x->internal);
        } else if (strcmp(f, "alternate_exchange") == 0) {
            if ((s = want_text(L, val, "an exchange name")) != NULL)
                add_str_arg(&x->args, "alternate-exchange", s, val->pos, "alternate_exchange");
        } else if (strcmp(f, "arguments") == 0) {
            load_raw_args(L, val, &x->args);
        } else {
            unknown_key(L, key, keys);
        }
        path_pop(L, old);
    }
    if (!has_type) {
        size_t old = path_push(L, "type");
        err_at(L, name->pos, "an exchange needs a type (direct, fanout, topic, headers)");
        path_pop(L, old);
    }
}

static void load_bindings(struct loader *L, struct vhost *vh, const struct ynode *n)
{
    static const char *const keys[] = {"source",      "destination", "destination_type",
                                       "routing_key", "arguments",   NULL};
    static const char *const dtypes[] = {"queue", "exchange", NULL};
    size_t i, k;

    if (n->kind == YN_SCALAR && n->type == YS_NULL)
        return;
    if (n->kind != YN_SEQ) {
        err_at(L, n->pos, "expected a list of bindings, found %s", q(n));
        return;
    }
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        size_t old = path_push_index(L, i);
        struct binding *b;
        bool has_source = false, has_dest = false;

        if (!want_map(L, e, false)) {
            path_pop(L, old);
            continue;
        }
        b = vhost_add_binding(vh);
        b->index = i;
        b->pos = e->pos;
        b->routing_key = xstrdup("");
        for (k = 0; k + 1 < e->n; k += 2) {
            const struct ynode *key = e->items[k], *val = e->items[k + 1];
            const char *s;
            size_t o2;

            if (key->kind != YN_SCALAR)
                continue;
            o2 = path_push(L, key->text);
            if (strcmp(key->text, "source") == 0) {
                has_source = true;
                s = val->kind == YN_SCALAR && val->type == YS_STRING && !val->len
                        ? ""
                        : want_text(L, val, "an exchange name");
                b->source = xstrdup(s ? s : "");
                if (s)
                    b->source_pos = val->pos;
            } else if (strcmp(key->text, "destination") == 0) {
                has_dest = true;
                s = want_text(L, val, "a queue or exchange name");
                b->destination = xstrdup(s ? s : "");
                if (s)
                    b->dest_pos = val->pos;
            } else if (strcmp(key->text, "destination_type") == 0) {
                if ((s = want_enum(L, val, dtypes)) != NULL)
                    b->dest_is_exchange = strcmp(s, "exchange") == 0;
            } else if (strcmp(key->text, "routing_key") == 0) {
                s = val->kind == YN_SCALAR && val->type != YS_NULL && !val->len
                        ? ""
                        : want_text(L, val, "a routing key");
                if (s) {
                    free(b->routing_key);
                    b->routing_key = xstrdup(s);
                }
            } else if (strcmp(key->text, "arguments") == 0) {
                if (want_map(L, val, true)) {
                    tval_release(&b->args);
                    if (!to_tval(L, val, &b->args))
                        tval_set_map(&b->args);
                }
            } else {
                unknown_key(L, key, keys);
            }
            path_pop(L, o2);
        }
        if (!has_source)
            err_at(L, e->pos, "a binding needs 'source'");
        if (!has_dest)
            err_at(L, e->pos, "a binding needs 'destination'");
        if (!b->source)
            b->source = xstrdup("");
        if (!b->destination)
            b->destination = xstrdup("");
        path_pop(L, old);
    }
}

static void load_policy(struct loader *L, struct vhost *vh, const struct ynode *name,
                        const struct ynode *n)
{
    static const char *const keys[] = {"pattern", "apply_to", "priority", "definition", NULL};
    static const char *const apply[] = {"queues",        "exchanges", "all", "classic_queues",
                                        "quorum_queues", "streams",   NULL};
    struct policy *p = vhost_add_policy(vh, name->text);
    bool has_pattern = false, has_definition = false;
    size_t k;

    p->pos = name->pos;
    p->apply_to = xstrdup("all");
    if (!want_map(L, n, false))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        const char *s;
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        old = path_push(L, key->text);
        if (strcmp(key->text, "pattern") == 0) {
            has_pattern = true;
            if ((s = want_text(L, val, "a regular expression")) != NULL) {
                p->pattern = xstrdup(s);
                p->pattern_pos = val->pos;
            }
        } else if (strcmp(key->text, "apply_to") == 0) {
            if ((s = want_enum(L, val, apply)) != NULL) {
                free(p->apply_to);
                p->apply_to = xstrdup(s);
                p->apply_to_set = true;
                p->apply_to_pos = val->pos;
            }
        } else if (strcmp(key->text, "priority") == 0) {
            int64_t i;
            if (want_int(L, val, &i))
                p->priority = i;
        } else if (strcmp(key->text, "definition") == 0) {
            has_definition = true;
            p->definition_pos = val->pos;
            if (want_map(L, val, false)) {
                size_t j, got = 0;
                tval_release(&p->definition);
                if (!to_tval(L, val, &p->definition))
                    tval_set_map(&p->definition);
                free(p->def_pos);
                p->def_pos = xcalloc(p->definition.n + 1, sizeof(*p->def_pos));
                for (j = 0; j + 1 < val->n && got < p->definition.n; j += 2)
                    if (val->items[j]->kind == YN_SCALAR)
                        p->def_pos[got++] = val->items[j + 1]->pos;
            }
        } else {
            unknown_key(L, key, keys);
        }
        path_pop(L, old);
    }
    if (!has_pattern) {
        size_t old = path_push(L, "pattern");
        err_at(L, name->pos, "a policy needs a pattern (a regular expression over names)");
        path_pop(L, old);
    }
    if (!has_definition) {
        size_t old = path_push(L, "definition");
        err_at(L, name->pos, "a policy needs a definition (e.g. { max-length: 100000 })");
        path_pop(L, old);
    }
}

/* name node of an object map entry: text, not empty, no NUL. */
static bool object_name_ok(struct loader *L, const struct ynode *key, const char *what)
{
    if (key->kind != YN_SCALAR || key->bad)
        return false;
    if (key->len == 0) {
        /* "" is the default exchange, and a queue declared as "" gets a server-made name */
        err_at(L, key->pos, "a %s name must not be empty%s", what,
               strcmp(what, "queue") == 0      ? " (the broker would make up an amq.gen-* name)"
               : strcmp(what, "exchange") == 0 ? " (\"\" is the default exchange)"
                                               : "");
        return false;
    }
    if (strlen(key->text) != key->len) {
        err_at(L, key->pos, "a %s name must not contain a NUL character", what);
        return false;
    }
    return true;
}

static void load_section(struct loader *L, struct vhost *vh, const struct ynode *n,
                         const char *what,
                         void (*one)(struct loader *, struct vhost *, const struct ynode *,
                                     const struct ynode *))
{
    size_t k;

    if (!want_map(L, n, true))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k];
        size_t old;

        if (!object_name_ok(L, key, what))
            continue;
        old = path_push(L, key->text);
        one(L, vh, key, n->items[k + 1]);
        path_pop(L, old);
    }
}

static void load_vhost(struct loader *L, const struct ynode *name, const struct ynode *n)
{
    static const char *const keys[] = {
        "exchanges", "queues", "bindings", "policies", "retry_ladders", "alert_defaults",
        /* access.h */
        "description", "tags", "default_queue_type", "limits", "permissions", "topic_permissions",
        /* params.h */
        "operator_policies", "shovels", "federation_upstreams", NULL};
    struct vhost *vh = topology_add_vhost(L->t, name->text);
    size_t k;

    vh->pos = name->pos;
    if (!want_map(L, n, true))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        old = path_push(L, key->text);
        if (strcmp(key->text, "exchanges") == 0)
            load_section(L, vh, val, "exchange", load_exchange);
        else if (strcmp(key->text, "queues") == 0)
            load_section(L, vh, val, "queue", load_queue);
        else if (strcmp(key->text, "bindings") == 0)
            load_bindings(L, vh, val);
        else if (strcmp(key->text, "policies") == 0)
            load_section(L, vh, val, "policy", load_policy);
        else if (strcmp(key->text, "retry_ladders") == 0)
            retry_load_ladders(&vh->retry, L->file, strbuf_str(&L->path), val, L->dl);
        else if (strcmp(key->text, "alert_defaults") == 0) {
            vh->has_alert_defaults = true;
            load_alert(L, val, &vh->alert_defaults);
        } else if (strcmp(key->text, "operator_policies") == 0) {
            struct vhost tmp; /* the policy loader, into a scratch vhost (params.h) */
            memset(&tmp, 0, sizeof(tmp));
            load_section(L, &tmp, val, "operator policy", load_policy);
            params_take_operator_policies(vh, &tmp);
        } else if (strcmp(key->text, "shovels") == 0 ||
                   strcmp(key->text, "federation_upstreams") == 0)
            params_load(vh, key->text[0] == 's' ? RP_SHOVEL : RP_UPSTREAM, val, L->file,
                        strbuf_str(&L->path), L->dl);
        else if (!access_load_vhost_key(vh, key, val, L->file, strbuf_str(&L->path), L->dl))
            unknown_key(L, key, keys);
        path_pop(L, old);
    }
}

int topology_load_buffer(struct topology *t, const char *file, const char *buf, size_t len,
                         const struct load_options *opts, struct diag_list *dl)
{
    static const char *const keys[] = {"version", "vhosts", "users", NULL};
    struct ydoc doc;
    struct ydoc_options yopts = {0};
    struct loader L = {0};
    const struct ynode *root, *version = NULL, *vhosts = NULL, *users = NULL;
    struct rmqt_pos start = {1, 1};
    size_t k;
    int rc = -1;

    free(t->file);
    t->file = xstrdup(file);
    if (opts) {
        yopts.env = opts->env;
        yopts.env_ctx = opts->env_ctx;
        yopts.on_vhost = opts->on_vhost;
        yopts.on_vhost_ctx = opts->on_vhost_ctx;
    }
    if (memchr(buf, '\0', len)) {
        /* libyaml stops at a NUL; say what the file is instead of a confusing syntax error */
        diag_add(dl, DIAG_ERROR, file, start, "",
                 "not a YAML text file: it contains a NUL byte (at offset %zu)",
                 (size_t)((const char *)memchr(buf, '\0', len) - buf));
        return -1;
    }
    if (ydoc_parse(&doc, file, buf, len, &yopts, dl) < 0)
        goto out;
    L.file = file;
    L.dl = dl;
    L.t = t;
    root = doc.root;
    if (!root || (root->kind == YN_SCALAR && root->type == YS_NULL)) {
        diag_add(dl, DIAG_ERROR, file, start, "",
                 "the file is empty: a topology starts with 'version: 1' and 'vhosts:'");
        goto out;
    }
    if (root->kind != YN_MAP) {
        diag_add(dl, DIAG_ERROR, file, root->pos, "",
                 "a topology file is a map with 'version' and 'vhosts', found %s", q(root));
        goto out;
    }
    for (k = 0; k + 1 < root->n; k += 2) {
        const struct ynode *key = root->items[k];
        if (key->kind != YN_SCALAR)
            continue;
        if (strcmp(key->text, "version") == 0)
            version = root->items[k + 1];
        else if (strcmp(key->text, "vhosts") == 0)
            vhosts = root->items[k + 1];
        else if (strcmp(key->text, "users") == 0)
            users = root->items[k + 1];
        else {
            path_push(&L, key->text);
            unknown_key(&L, key, keys);
            path_pop(&L, 0);
        }
    }
    path_push(&L, "version");
    if (!version) {
        err_at(&L, root->pos, "missing: every topology file starts with 'version: 1'");
    } else if (version->kind == YN_SCALAR && version->type == YS_INT && version->i == 1) {
        t->version = 1;
    } else {
        err_at(&L, version->pos,
               "unsupported version %s%s: this rmqtopo reads format version 1 (write 'version: "
               "1', a number)",
               q(version),
               version->kind == YN_SCALAR && version->type == YS_STRING ? " (a string)" : "");
    }
    path_pop(&L, 0);
    if (!vhosts) {
        path_push(&L, "vhosts");
        err_at(&L, root->pos, "missing: name the vhosts to manage (e.g. 'vhosts: { /: {...} }')");
        path_pop(&L, 0);
    } else if ((path_push(&L, "vhosts"), want_map(&L, vhosts, true))) {
        path_pop(&L, 0);
        for (k = 0; k + 1 < vhosts->n; k += 2) {
            const struct ynode *key = vhosts->items[k];
            if (!object_name_ok(&L, key, "vhost"))
                continue;
            /* paths inside a vhost start at its sections (topology.md's examples) */
            load_vhost(&L, key, vhosts->items[k + 1]);
        }
    } else {
        path_pop(&L, 0);
    }
    if (users)
        access_load_users(t, users, file, dl);
    rc = 0;
    retry_expand(t, dl); /* retry: ladders become plain objects (retry.h) */
out:
    for (k = 0; k < t->n_vhosts; k++)
        vhost_index(&t->vhosts[k]);
    strbuf_release(&L.path);
    ydoc_release(&doc);
    return rc;
}

int topology_load_file(struct topology *t, const char *path, const struct load_options *opts,
                       struct diag_list *dl)
{
    size_t max = opts && opts->max_file_size ? opts->max_file_size : DEFAULT_MAX_FILE;
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    struct rmqt_pos none = {0, 0};
    struct strbuf sb = {0};
    FILE *f;
    int rc;
    char chunk[65536];
    size_t got;
    struct stat st;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        diag_add(dl, DIAG_ERROR, name, none, "", "cannot open: %s", strerror(errno));
        free(t->file);
        t->file = xstrdup(name);
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        diag_add(dl, DIAG_ERROR, name, none, "", "cannot read: it is a directory");
        fclose(f);
        free(t->file);
        t->file = xstrdup(name);
        return -1;
    }
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (sb.len + got > max) {
            diag_add(dl, DIAG_ERROR, name, none, "",
                     "file too large: more than %zu MiB is not a topology we read",
                     max / (1024 * 1024));
            if (f != stdin)
                fclose(f);
            strbuf_release(&sb);
            free(t->file);
            t->file = xstrdup(name);
            return -1;
        }
        strbuf_add(&sb, chunk, got);
    }
    if (ferror(f)) {
        diag_add(dl, DIAG_ERROR, name, none, "", "cannot read: %s", strerror(errno));
        if (f != stdin)
            fclose(f);
        strbuf_release(&sb);
        free(t->file);
        t->file = xstrdup(name);
        return -1;
    }
    if (f != stdin)
        fclose(f);
    rc = topology_load_buffer(t, name, strbuf_str(&sb), sb.len, opts, dl);
    strbuf_release(&sb);
    return rc;
}
