/*
 * validate_policy.c - the policies of a topology: their definitions (the keys and values the
 * broker validates), the policy that applies to each queue (the highest priority wins, as on
 * the broker), and the keys a broker version lacks or ignores.
 */
#include "validate_internal.h"

#include "policymatch.h"
#include "routing.h"
#include "strbuf.h"
#include "strmap.h"
#include "textutil.h"
#include "units.h"
#include "xalloc.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

        for (j = 0; j < n_pdspecs; j++)
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
void check_policy_versions(struct vctx *c, const struct policy *p)
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
        for (j = 0; j < n_pdspecs; j++) {
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

void check_policies(struct vctx *c)
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
void resolve_policies(struct vctx *c)
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
