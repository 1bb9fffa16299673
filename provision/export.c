/*
 * export.c - a model (usually the live broker's) written as a topology file.
 *
 * Decisions:
 * - The output must plan as "no changes" against the broker it came from, so every value is
 *   written in a form the loader turns back into exactly the same AMQP value and type:
 *   first-class fields only where that round trip is exact (a max age "168h" stays a raw
 *   x-max-age, since max_age would send "7D"), raw arguments otherwise, integers as integers.
 * - Strings are double-quoted unless they are plain identifiers that YAML cannot mistake for
 *   something else (a number, a boolean, null), with everything outside YAML's printable set
 *   escaped, and "${" is written "$${" so that the loader's variable substitution gives back
 *   the text as it was. A key longer than YAML's 1024-character limit for implicit keys is
 *   written as an explicit key.
 * - A binding to a queue goes under that queue's `bind:`; exchange-to-exchange bindings go in
 *   the vhost's `bindings:` list.
 * - rmqtopo's own queues are left out (validate refuses them in a file): the holding queue of
 *   an unfinished migration ("rmqtopo.migrate.*", durable and not exclusive, so the broker's
 *   definitions list it) and apply's lock. Each one left out is named in a comment at the top
 *   and by topology_export_skipped, so that the CLI can warn.
 */
#include "export.h"
#include "params.h"

#include "access.h"
#include "threshold.h"

#include "retry.h"

#include "units.h"
#include "validate.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_plain_safe(const char *s, size_t len)
{
    static const char *const reserved[] = {"true", "false", "null", "yes", "no", "on",
                                           "off",  "y",     "n",    "~",   NULL};
    size_t k;

    if (len == 0 || len != strlen(s))
        return false;
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (k = 0; k < len; k++) {
        char c = s[k];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    for (k = 0; reserved[k]; k++)
        if (strcasecmp(s, reserved[k]) == 0)
            return false;
    return true;
}

/* Decodes one UTF-8 sequence at s (n bytes left): its code point and length, or length 0. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t len, i;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    len = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n)
        return 0;
    *cp = s[0] & (0x7F >> len);
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && *cp < 0x80) || (len == 3 && *cp < 0x800) || (len == 4 && *cp < 0x10000) ||
        *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

void export_add_string(struct strbuf *sb, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (is_plain_safe(s, len)) {
        strbuf_add(sb, s, len);
        return;
    }
    /* a YAML double-quoted scalar: everything outside YAML's printable set is escaped, and
     * so are the characters YAML reads as line breaks (NEL, LS, PS) and the BOM */
    strbuf_addc(sb, '"');
    while (i < len) {
        unsigned cp;
        size_t n = utf8_decode(p + i, len - i, &cp);

        if (n == 0) {
            /* not UTF-8: cannot be written in YAML; the broker's JSON never holds such names */
            strbuf_adds(sb, "\\uFFFD");
            i++;
            continue;
        }
        if (cp == '"')
            strbuf_adds(sb, "\\\"");
        else if (cp == '\\')
            strbuf_adds(sb, "\\\\");
        else if (cp == '$' && i + 1 < len && p[i + 1] == '{')
            strbuf_adds(sb, "$$"); /* the loader substitutes ${...}; $${ is a literal ${ */
        else if (cp == '\n')
            strbuf_adds(sb, "\\n");
        else if (cp == '\t')
            strbuf_adds(sb, "\\t");
        else if (cp == '\r')
            strbuf_adds(sb, "\\r");
        else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            strbuf_addf(sb, "\\x%02X", cp);
        else if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF)
            strbuf_addf(sb, "\\u%04X", cp);
        else
            strbuf_add(sb, p + i, n);
        i += n;
    }
    strbuf_addc(sb, '"');
}

/* YAML limits an implicit key to 1024 characters; a longer one is written as an explicit key
 * ("? key" then ": value"). Writes indent, the key and its ':' (the caller adds the value). */
static void add_key(struct strbuf *sb, const char *indent, const char *key)
{
    struct strbuf enc = {0};

    export_add_string(&enc, key, strlen(key));
    if (enc.len > 1000)
        strbuf_addf(sb, "%s? %s\n%s:", indent, enc.buf, indent);
    else
        strbuf_addf(sb, "%s%s:", indent, enc.buf);
    strbuf_release(&enc);
}

static void add_str(struct strbuf *sb, const char *s)
{
    export_add_string(sb, s, strlen(s));
}

/* A typed value in YAML flow style. */
static void add_flow(struct strbuf *sb, const struct tval *v)
{
    size_t k;

    switch (v->kind) {
    case TV_NULL:
        strbuf_adds(sb, "null");
        break;
    case TV_BOOL:
        strbuf_adds(sb, v->b ? "true" : "false");
        break;
    case TV_INT:
        strbuf_addf(sb, "%lld", (long long)v->i);
        break;
    case TV_DOUBLE: {
        char buf[40];
        if (isnan(v->d)) {
            strbuf_adds(sb, ".nan");
            break;
        }
        if (isinf(v->d)) {
            strbuf_adds(sb, v->d > 0 ? ".inf" : "-.inf");
            break;
        }
        snprintf(buf, sizeof(buf), "%.17g", v->d);
        strbuf_adds(sb, buf);
        if (!strpbrk(buf, ".eEni")) /* 3.0 must stay a float: "3" would load as an integer */
            strbuf_adds(sb, ".0");
        break;
    }
    case TV_STRING:
        export_add_string(sb, v->s, v->len);
        break;
    case TV_LIST:
        strbuf_addc(sb, '[');
        for (k = 0; k < v->n; k++) {
            if (k)
                strbuf_adds(sb, ", ");
            add_flow(sb, &v->entries[k].val);
        }
        strbuf_addc(sb, ']');
        break;
    case TV_MAP:
        strbuf_addc(sb, '{');
        for (k = 0; k < v->n; k++) {
            if (k)
                strbuf_adds(sb, ", ");
            {
                struct strbuf enc = {0};
                export_add_string(&enc, v->entries[k].key, strlen(v->entries[k].key));
                if (enc.len > 1000)
                    strbuf_adds(sb, "? "); /* an explicit key: no length limit */
                strbuf_add(sb, enc.buf, enc.len);
                strbuf_release(&enc);
            }
            strbuf_adds(sb, ": ");
            add_flow(sb, &v->entries[k].val);
        }
        strbuf_addc(sb, '}');
        break;
    }
}

/* A duration in the largest unit that divides it (the loader reads it back exactly). */
static void add_duration(struct strbuf *sb, int64_t ms)
{
    static const struct {
        const char *unit;
        int64_t factor;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    size_t k;

    for (k = 0; ms > 0 && k < sizeof(units) / sizeof(units[0]); k++) {
        if (ms % units[k].factor == 0) {
            strbuf_addf(sb, "%lld%s", (long long)(ms / units[k].factor), units[k].unit);
            return;
        }
    }
    strbuf_addf(sb, "%lld", (long long)ms);
}

static void add_size(struct strbuf *sb, int64_t bytes)
{
    static const struct {
        const char *unit;
        int64_t factor;
    } units[] = {{"TiB", 1LL << 40}, {"GiB", 1LL << 30}, {"MiB", 1LL << 20}, {"KiB", 1LL << 10}};
    size_t k;

    for (k = 0; bytes > 0 && k < sizeof(units) / sizeof(units[0]); k++) {
        if (bytes % units[k].factor == 0) {
            strbuf_addf(sb, "%lld%s", (long long)(bytes / units[k].factor), units[k].unit);
            return;
        }
    }
    strbuf_addf(sb, "%lld", (long long)bytes);
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Writes a queue argument as its first-class field when that loads back to the same value;
 * returns false when it must stay a raw argument. */
static bool add_first_class(struct strbuf *sb, const char *indent, const struct targ *a)
{
    static const char *const overflow[] = {"drop-head", "reject-publish", "reject-publish-dlx",
                                           NULL};
    static const char *const strategy[] = {"at-most-once", "at-least-once", NULL};
    const struct tval *v = &a->val;
    const char *k = a->key;

    if (v->kind == TV_INT && v->i >= 0) {
        if (strcmp(k, "x-message-ttl") == 0 || strcmp(k, "x-expires") == 0) {
            strbuf_addf(sb, "%s%s: ", indent,
                        strcmp(k, "x-expires") == 0 ? "expires" : "message_ttl");
            add_duration(sb, v->i);
        } else if (strcmp(k, "x-max-length-bytes") == 0) {
            strbuf_addf(sb, "%smax_length_bytes: ", indent);
            add_size(sb, v->i);
        } else if (strcmp(k, "x-max-length") == 0) {
            strbuf_addf(sb, "%smax_length: %lld", indent, (long long)v->i);
        } else if (strcmp(k, "x-delivery-limit") == 0) {
            strbuf_addf(sb, "%sdelivery_limit: %lld", indent, (long long)v->i);
        } else if (strcmp(k, "x-quorum-initial-group-size") == 0) {
            strbuf_addf(sb, "%sinitial_group_size: %lld", indent, (long long)v->i);
        } else {
            return false;
        }
    } else if (v->kind == TV_STRING && strlen(v->s) == v->len) {
        if (strcmp(k, "x-overflow") == 0 && in_list(v->s, overflow)) {
            strbuf_addf(sb, "%soverflow: %s", indent, v->s);
        } else if (strcmp(k, "x-dead-letter-strategy") == 0 && in_list(v->s, strategy)) {
            strbuf_addf(sb, "%sdead_letter_strategy: %s", indent, v->s);
        } else if (strcmp(k, "x-dead-letter-exchange") == 0) {
            strbuf_addf(sb, "%sdead_letter_exchange: ", indent);
            add_str(sb, v->s);
        } else if (strcmp(k, "x-dead-letter-routing-key") == 0) {
            strbuf_addf(sb, "%sdead_letter_routing_key: ", indent);
            add_str(sb, v->s);
        } else if (strcmp(k, "x-max-age") == 0) {
            int64_t secs;
            const char *why;
            char canon[32];
            if (units_parse_max_age(v->s, &secs, &why) < 0)
                return false;
            units_format_max_age(secs, canon, sizeof(canon));
            if (strcmp(canon, v->s) != 0)
                return false; /* max_age would send the canonical form, not this */
            strbuf_addf(sb, "%smax_age: %s", indent, v->s);
        } else {
            return false;
        }
    } else if (v->kind == TV_BOOL && strcmp(k, "x-single-active-consumer") == 0) {
        strbuf_addf(sb, "%ssingle_active_consumer: %s", indent, v->b ? "true" : "false");
    } else {
        return false;
    }
    strbuf_addc(sb, '\n');
    return true;
}

static void add_raw_args(struct strbuf *sb, const char *indent, const struct targs *args,
                         const bool *done)
{
    size_t k;
    bool any = false;

    for (k = 0; k < args->n; k++) {
        if (done && done[k])
            continue;
        if (!any) {
            strbuf_addf(sb, "%sarguments:\n", indent);
            any = true;
        }
        {
            char ind[32];
            snprintf(ind, sizeof(ind), "%s  ", indent);
            add_key(sb, ind, args->v[k].key);
        }
        strbuf_addc(sb, ' ');
        add_flow(sb, &args->v[k].val);
        strbuf_addc(sb, '\n');
    }
}

/* "# generated by queues.q.retry" (rmqtopo expand): control characters of names shown as '?'. */
static void add_origin_comment(struct strbuf *sb, const char *what, const char *origin)
{
    const char *p;

    strbuf_addf(sb, "      # %s ", what);
    for (p = origin; *p; p++)
        strbuf_addc(sb, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
    strbuf_addc(sb, '\n');
}

static void export_exchange(struct strbuf *sb, const struct exchange *x)
{
    bool *done = xcalloc(x->args.n + 1, sizeof(bool));
    size_t k;

    if (x->origin)
        add_origin_comment(sb, "generated by", x->origin);
    add_key(sb, "      ", x->name);
    strbuf_adds(sb, "\n        type: ");
    add_str(sb, x->type ? x->type : "direct");
    strbuf_addc(sb, '\n');
    if (x->durable.set && !x->durable.value)
        strbuf_adds(sb, "        durable: false\n");
    if (x->auto_delete.set && x->auto_delete.value)
        strbuf_adds(sb, "        auto_delete: true\n");
    if (x->internal.set && x->internal.value)
        strbuf_adds(sb, "        internal: true\n");
    for (k = 0; k < x->args.n; k++) {
        const struct targ *a = &x->args.v[k];
        if (strcmp(a->key, "alternate-exchange") == 0 && a->val.kind == TV_STRING &&
            strlen(a->val.s) == a->val.len) {
            strbuf_adds(sb, "        alternate_exchange: ");
            add_str(sb, a->val.s);
            strbuf_addc(sb, '\n');
            done[k] = true;
        }
    }
    add_raw_args(sb, "        ", &x->args, done);
    free(done);
}

/* A duration of whole milliseconds in the largest unit that holds it exactly ("1h", "90s"). */
static void add_duration_ms(struct strbuf *sb, long long ms)
{
    static const struct {
        long long ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    size_t k;

    for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
        if (ms == 0 || ms % units[k].ms == 0)
            break;
    if (k == sizeof(units) / sizeof(units[0]))
        k--;
    strbuf_addf(sb, "%lld%s", ms / units[k].ms, units[k].unit);
}

/* A rate in messages per second, as a whole number per s, m or h (rounded per hour). */
static void add_rate(struct strbuf *sb, double per_s)
{
    double m = per_s * 60, h = per_s * 3600;
    if (per_s == (double)(long long)per_s)
        strbuf_addf(sb, "%lld/s", (long long)per_s);
    else if (m == (double)(long long)m)
        strbuf_addf(sb, "%lld/m", (long long)m);
    else
        strbuf_addf(sb, "%lld/h", (long long)(h + 0.5));
}

/* The thresholds of an `alert` or `alert_defaults` key, one metric a line. */
static void add_thresholds(struct strbuf *sb, const char *indent, const char *key,
                           const struct rmqt_thresholds *th)
{
    int m;

    if (!rmqt_thresholds_any(th))
        return;
    strbuf_addf(sb, "%s%s:\n", indent, key);
    for (m = 0; m < RMQT_METRIC_COUNT; m++) {
        const struct rmqt_threshold *t = &th->t[m];
        int side;
        if (!t->has_warning && !t->has_critical)
            continue;
        strbuf_addf(sb, "%s  %s: {", indent, rmqt_metric_name((enum rmqt_metric)m));
        for (side = 0; side < 2; side++) {
            double v = side ? t->critical : t->warning;
            if (!(side ? t->has_critical : t->has_warning))
                continue;
            strbuf_addf(sb, "%s %s: ", side && t->has_warning ? "," : "",
                        side ? "critical" : "warning");
            if (m == RMQT_METRIC_MESSAGES)
                strbuf_addf(sb, "%lld", (long long)v);
            else if (m == RMQT_METRIC_AGE)
                add_duration_ms(sb, (long long)(v * 1000 + 0.5));
            else
                add_rate(sb, v);
        }
        strbuf_adds(sb, " }\n");
    }
}

static void export_queue(struct strbuf *sb, const struct vhost *vh, const struct queue *q,
                         const size_t *first_bind, const size_t *next_bind)
{
    bool *done = xcalloc(q->args.n + 1, sizeof(bool));
    size_t k, b;

    if (q->origin) {
        add_origin_comment(sb, "generated by", q->origin);
    } else {
        for (k = 0; k < q->args.n; k++) {
            const char *o = retry_origin_at(vh, q->args.v[k].pos);
            if (o) {
                add_origin_comment(sb, "dead-letter settings from", o);
                break;
            }
        }
    }
    add_key(sb, "      ", q->name);
    strbuf_addf(sb, "\n        type: %s\n", queue_type_name(q->type));
    if (q->durable.set && !q->durable.value)
        strbuf_adds(sb, "        durable: false\n");
    if (q->auto_delete.set && q->auto_delete.value)
        strbuf_adds(sb, "        auto_delete: true\n");
    for (k = 0; k < q->args.n; k++)
        done[k] = add_first_class(sb, "        ", &q->args.v[k]);
    add_raw_args(sb, "        ", &q->args, done);
    if (q->has_alert)
        add_thresholds(sb, "        ", "alert", &q->alert);
    b = first_bind[q - vh->queues];
    if (b != (size_t)-1)
        strbuf_adds(sb, "        bind:\n");
    for (; b != (size_t)-1; b = next_bind[b]) {
        const struct binding *bd = &vh->bindings[b];
        strbuf_adds(sb, "          - { exchange: ");
        add_str(sb, bd->source);
        if (bd->routing_key[0]) {
            strbuf_adds(sb, ", routing_key: ");
            add_str(sb, bd->routing_key);
        }
        if (bd->args.n) {
            strbuf_adds(sb, ", arguments: ");
            add_flow(sb, &bd->args);
        }
        strbuf_adds(sb, " }\n");
    }
    free(done);
}

static void export_policy(struct strbuf *sb, const struct policy *p)
{
    add_key(sb, "      ", p->name);
    strbuf_adds(sb, "\n        pattern: ");
    add_str(sb, p->pattern ? p->pattern : "");
    strbuf_addc(sb, '\n');
    if (strcmp(p->apply_to, "all") != 0)
        strbuf_addf(sb, "        apply_to: %s\n", p->apply_to);
    if (p->priority)
        strbuf_addf(sb, "        priority: %lld\n", (long long)p->priority);
    strbuf_adds(sb, "        definition: ");
    add_flow(sb, &p->definition);
    strbuf_addc(sb, '\n');
}

static bool any_exchange_binding(const struct vhost *vh)
{
    size_t k;

    for (k = 0; k < vh->n_bindings; k++)
        if (vh->bindings[k].dest_is_exchange)
            return true;
    return false;
}

static bool exported_queue(const struct queue *q)
{
    return rmqtopo_queue_kind(q->name) == RQ_NONE;
}

static void export_vhost(struct strbuf *sb, const struct vhost *vh)
{
    size_t k, n = vh->n_queues + 1, n_queues = 0;
    size_t *first = xmalloc(n * sizeof(size_t)), *last = xmalloc(n * sizeof(size_t));
    size_t *next = xmalloc((vh->n_bindings + 1) * sizeof(size_t));
    bool any_e2e = false;

    for (k = 0; k < vh->n_queues; k++)
        n_queues += exported_queue(&vh->queues[k]);
    add_key(sb, "  ", vh->name);
    /* (a binding to a queue left out goes with it: queue bindings are written under their
     * queue) */
    if (!vh->n_exchanges && !n_queues && !any_exchange_binding(vh) && !vh->n_policies &&
        !access_vhost_has_export(vh) && !params_vhost_has_any(vh)) {
        strbuf_adds(sb, " {}\n");
        free(first);
        free(last);
        free(next);
        return;
    }
    strbuf_addc(sb, '\n');
    for (k = 0; k < vh->n_queues; k++)
        first[k] = last[k] = (size_t)-1;
    /* queue bindings go under their queue, in the broker's order */
    for (k = 0; k < vh->n_bindings; k++) {
        const struct binding *b = &vh->bindings[k];
        const struct queue *q = b->dest_is_exchange ? NULL : vhost_find_queue(vh, b->destination);
        next[k] = (size_t)-1;
        if (!q) {
            any_e2e = any_e2e || b->dest_is_exchange;
            continue;
        }
        if (first[q - vh->queues] == (size_t)-1)
            first[q - vh->queues] = k;
        else
            next[last[q - vh->queues]] = k;
        last[q - vh->queues] = k;
    }
    if (vh->has_alert_defaults)
        add_thresholds(sb, "    ", "alert_defaults", &vh->alert_defaults);
    if (vh->n_exchanges) {
        strbuf_adds(sb, "    exchanges:\n");
        for (k = 0; k < vh->n_exchanges; k++)
            export_exchange(sb, &vh->exchanges[k]);
    }
    if (n_queues) {
        strbuf_adds(sb, "    queues:\n");
        for (k = 0; k < vh->n_queues; k++)
            if (exported_queue(&vh->queues[k]))
                export_queue(sb, vh, &vh->queues[k], first, next);
    }
    if (any_e2e) {
        strbuf_adds(sb, "    bindings:\n");
        for (k = 0; k < vh->n_bindings; k++) {
            const struct binding *b = &vh->bindings[k];
            if (!b->dest_is_exchange)
                continue;
            strbuf_adds(sb, "      - source: ");
            add_str(sb, b->source);
            strbuf_adds(sb, "\n        destination: ");
            add_str(sb, b->destination);
            strbuf_adds(sb, "\n        destination_type: exchange\n");
            if (b->routing_key[0]) {
                strbuf_adds(sb, "        routing_key: ");
                add_str(sb, b->routing_key);
                strbuf_addc(sb, '\n');
            }
            if (b->args.n) {
                strbuf_adds(sb, "        arguments: ");
                add_flow(sb, &b->args);
                strbuf_addc(sb, '\n');
            }
        }
    }
    if (vh->n_policies) {
        strbuf_adds(sb, "    policies:\n");
        for (k = 0; k < vh->n_policies; k++)
            export_policy(sb, &vh->policies[k]);
    }
    access_export_vhost(sb, vh);
    params_export_vhost(sb, vh); /* operator policies, shovels, upstreams (params.h) */
    free(first);
    free(last);
    free(next);
}

/* One line per queue left out, each starting with prefix; returns their number. Names are
 * written as YAML scalars (quoted and escaped where needed), so a line never holds a line
 * break or a control character, in a comment or on a terminal. */
static size_t notes_add(const struct topology *t, const char *prefix, struct strbuf *out)
{
    size_t k, j, n = 0;

    for (k = 0; k < t->n_vhosts; k++) {
        const struct vhost *vh = &t->vhosts[k];
        for (j = 0; j < vh->n_queues; j++) {
            const struct queue *q = &vh->queues[j];
            enum rmqtopo_queue_kind kind = rmqtopo_queue_kind(q->name);

            if (kind == RQ_NONE)
                continue;
            n++;
            strbuf_adds(out, prefix);
            strbuf_adds(out, "queue ");
            add_str(out, q->name);
            strbuf_adds(out, " in vhost ");
            add_str(out, vh->name);
            if (kind == RQ_LOCK) {
                strbuf_adds(out, ": it is the lock rmqtopo apply holds while it runs\n");
                continue;
            }
            {
                const char *of = q->name + strlen("rmqtopo.migrate.");
                char *back = holding_queue_name(of);
                bool named = of[0] && strcmp(back, q->name) == 0;
                free(back);
                strbuf_adds(out, ": it holds the messages of an unfinished migration");
                if (named) {
                    strbuf_adds(out, " of queue ");
                    add_str(out, of);
                }
                strbuf_adds(out, " (an apply was interrupted");
                if (named && !vhost_find_queue(vh, of)) {
                    strbuf_adds(out, "; queue ");
                    add_str(out, of);
                    strbuf_adds(out, " does not exist now");
                }
                strbuf_adds(out, "): apply of a file that names ");
                if (named) {
                    strbuf_adds(out, "queue ");
                    add_str(out, of);
                } else {
                    strbuf_adds(out, "the queue it was made for");
                }
                strbuf_adds(out, " moves them back\n");
            }
        }
    }
    return n;
}

size_t topology_export_skipped(const struct topology *t, struct strbuf *notes)
{
    return notes_add(t, "", notes);
}

void topology_export(const struct topology *t, const char *header, struct strbuf *out)
{
    size_t k;

    if (header)
        strbuf_adds(out, header);
    notes_add(t, "# not exported: ", out);
    strbuf_adds(out, t->n_vhosts ? "version: 1\nvhosts:\n" : "version: 1\nvhosts: {}\n");
    for (k = 0; k < t->n_vhosts; k++)
        export_vhost(out, &t->vhosts[k]);
    access_export_users(out, t);
}
