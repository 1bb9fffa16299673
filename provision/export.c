/*
 * export.c - a model (usually the live broker's) written as a topology file.
 *
 * Decisions:
 * - The output must plan as "no changes" against the broker it came from, so every value is
 *   written in a form the loader turns back into exactly the same AMQP value and type:
 *   first-class fields only where that round trip is exact (a max age "168h" stays a raw
 *   x-max-age, since max_age would send "7D"), raw arguments otherwise, integers as integers.
 * - Strings are double-quoted unless they are plain identifiers that YAML cannot mistake for
 *   something else (a number, a boolean, null), and "${" is written "$${" so that the loader's
 *   variable substitution gives back the text as it was.
 * - A binding to a queue goes under that queue's `bind:`; exchange-to-exchange bindings go in
 *   the vhost's `bindings:` list.
 */
#include "export.h"

#include "units.h"
#include "xalloc.h"

#include <jansson.h>
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

void export_add_string(struct strbuf *sb, const char *s, size_t len)
{
    struct strbuf esc = {0};
    json_t *j;
    char *q;
    size_t k;

    if (is_plain_safe(s, len)) {
        strbuf_add(sb, s, len);
        return;
    }
    /* "${" would be substituted on loading: "$${" stands for it literally */
    for (k = 0; k < len; k++) {
        if (s[k] == '$' && k + 1 < len && s[k + 1] == '{')
            strbuf_addc(&esc, '$');
        strbuf_addc(&esc, s[k]);
    }
    /* a JSON string is a valid YAML double-quoted scalar */
    j = json_stringn_nocheck(esc.buf ? esc.buf : "", esc.len);
    q = json_dumps(j, JSON_ENCODE_ANY);
    strbuf_adds(sb, q ? q : "\"\"");
    free(q);
    json_decref(j);
    strbuf_release(&esc);
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
            add_str(sb, v->entries[k].key);
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
        strbuf_addf(sb, "%s  ", indent);
        add_str(sb, args->v[k].key);
        strbuf_adds(sb, ": ");
        add_flow(sb, &args->v[k].val);
        strbuf_addc(sb, '\n');
    }
}

static void export_exchange(struct strbuf *sb, const struct exchange *x)
{
    bool *done = xcalloc(x->args.n + 1, sizeof(bool));
    size_t k;

    strbuf_adds(sb, "      ");
    add_str(sb, x->name);
    strbuf_adds(sb, ":\n        type: ");
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

static void export_queue(struct strbuf *sb, const struct vhost *vh, const struct queue *q,
                         const size_t *first_bind, const size_t *next_bind)
{
    bool *done = xcalloc(q->args.n + 1, sizeof(bool));
    size_t k, b;

    strbuf_adds(sb, "      ");
    add_str(sb, q->name);
    strbuf_addf(sb, ":\n        type: %s\n", queue_type_name(q->type));
    if (q->durable.set && !q->durable.value)
        strbuf_adds(sb, "        durable: false\n");
    if (q->auto_delete.set && q->auto_delete.value)
        strbuf_adds(sb, "        auto_delete: true\n");
    for (k = 0; k < q->args.n; k++)
        done[k] = add_first_class(sb, "        ", &q->args.v[k]);
    add_raw_args(sb, "        ", &q->args, done);
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
    strbuf_adds(sb, "      ");
    add_str(sb, p->name);
    strbuf_adds(sb, ":\n        pattern: ");
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

static void export_vhost(struct strbuf *sb, const struct vhost *vh)
{
    size_t k, n = vh->n_queues + 1;
    size_t *first = xmalloc(n * sizeof(size_t)), *last = xmalloc(n * sizeof(size_t));
    size_t *next = xmalloc((vh->n_bindings + 1) * sizeof(size_t));
    bool any_e2e = false;

    strbuf_adds(sb, "  ");
    add_str(sb, vh->name);
    if (!vh->n_exchanges && !vh->n_queues && !vh->n_bindings && !vh->n_policies) {
        strbuf_adds(sb, ": {}\n");
        free(first);
        free(last);
        free(next);
        return;
    }
    strbuf_adds(sb, ":\n");
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
    if (vh->n_exchanges) {
        strbuf_adds(sb, "    exchanges:\n");
        for (k = 0; k < vh->n_exchanges; k++)
            export_exchange(sb, &vh->exchanges[k]);
    }
    if (vh->n_queues) {
        strbuf_adds(sb, "    queues:\n");
        for (k = 0; k < vh->n_queues; k++)
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
    free(first);
    free(last);
    free(next);
}

void topology_export(const struct topology *t, const char *header, struct strbuf *out)
{
    size_t k;

    if (header)
        strbuf_adds(out, header);
    strbuf_adds(out, t->n_vhosts ? "version: 1\nvhosts:\n" : "version: 1\nvhosts: {}\n");
    for (k = 0; k < t->n_vhosts; k++)
        export_vhost(out, &t->vhosts[k]);
}
