/*
 * params.c - operator policies, dynamic shovels and federation upstreams (see params.h).
 *
 * Decisions:
 * - Operator policies are policies (struct policy): load.c reads them with the policy loader;
 *   here only the keys the broker allows for operator policies are checked (3.10.8 takes
 *   expires, message-ttl, max-length, max-length-bytes, max-in-memory-length,
 *   max-in-memory-bytes and delivery-limit; it refuses the rest as "not recognised policy
 *   settings").
 * - Shovels and upstreams keep the broker's own definition keys, as a typed map, exactly as
 *   the file states them: apply sends them as they are (no defaults), export writes them as
 *   the broker stores them (a dest-uri string stays a string, a list a list). Plan compares key
 *   by key with the defaults the broker works with filled in on both sides, and a URI string
 *   equal to a list of that one URI, so that a definition made elsewhere with its defaults
 *   spelled out is not a difference.
 * - The key tables are the broker's (rabbit_shovel_parameters.erl,
 *   rabbit_federation_parameters.erl): the broker refuses a definition with a key it does not
 *   know ("Unrecognised terms"), so an unknown key is an error here too, with a did-you-mean.
 * - URIs: a password is never printed. Messages and plan fields show the URI redacted
 *   (user:***@host); a change of password alone shows as "password changed".
 */
#include "params.h"

#include "argspec.h"
#include "export.h"
#include "live.h"
#include "policymatch.h"
#include "textutil.h"
#include "xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* the key tables */

enum pktype { PK_STR, PK_NUM, PK_BOOL, PK_ENUM, PK_URI, PK_MAP, PK_DELETE_AFTER };

struct pkey {
    const char *key;
    enum pktype type;
    const char *const *values; /* PK_ENUM */
    bool required;
    const char *dflt; /* the broker's default as JSON text, NULL when none */
    int since_major, since_minor, since_patch;
};

static const char *const v_ack[] = {"no-ack", "on-publish", "on-confirm", NULL};
static const char *const v_proto[] = {"amqp091", "amqp10", NULL};
static const char *const v_channel[] = {"multiple", "single", NULL};
static const char *const v_cleanup[] = {"default", "never", NULL};
static const char *const v_qtype[] = {"classic", "quorum", NULL};

static const struct pkey shovel_keys[] = {
    {"src-protocol", PK_ENUM, v_proto, false, "\"amqp091\"", 0, 0, 0},
    {"src-uri", PK_URI, NULL, true, NULL, 0, 0, 0},
    {"src-queue", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"src-exchange", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"src-exchange-key", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"src-queue-args", PK_MAP, NULL, false, NULL, 0, 0, 0},
    {"src-address", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"src-prefetch-count", PK_NUM, NULL, false, "1000", 0, 0, 0},
    {"prefetch-count", PK_NUM, NULL, false, "1000", 0, 0, 0},
    {"src-delete-after", PK_DELETE_AFTER, NULL, false, "\"never\"", 0, 0, 0},
    {"delete-after", PK_DELETE_AFTER, NULL, false, "\"never\"", 0, 0, 0},
    {"dest-protocol", PK_ENUM, v_proto, false, "\"amqp091\"", 0, 0, 0},
    {"dest-uri", PK_URI, NULL, true, NULL, 0, 0, 0},
    {"dest-queue", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"dest-exchange", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"dest-exchange-key", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"dest-queue-args", PK_MAP, NULL, false, NULL, 0, 0, 0},
    {"dest-address", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"dest-add-forward-headers", PK_BOOL, NULL, false, "false", 0, 0, 0},
    {"add-forward-headers", PK_BOOL, NULL, false, "false", 0, 0, 0},
    {"dest-add-timestamp-header", PK_BOOL, NULL, false, "false", 0, 0, 0},
    {"add-timestamp-header", PK_BOOL, NULL, false, "false", 0, 0, 0},
    {"dest-publish-properties", PK_MAP, NULL, false, NULL, 0, 0, 0},
    {"publish-properties", PK_MAP, NULL, false, NULL, 0, 0, 0},
    {"dest-application-properties", PK_MAP, NULL, false, NULL, 0, 0, 0},
    {"dest-message-annotations", PK_MAP, NULL, false, NULL, 0, 0, 0},
    {"dest-properties", PK_MAP, NULL, false, NULL, 0, 0, 0},
    {"ack-mode", PK_ENUM, v_ack, false, "\"on-confirm\"", 0, 0, 0},
    {"reconnect-delay", PK_NUM, NULL, false, "5", 0, 0, 0},
    {NULL, PK_STR, NULL, false, NULL, 0, 0, 0},
};

static const struct pkey upstream_keys[] = {
    {"uri", PK_URI, NULL, true, NULL, 0, 0, 0},
    {"exchange", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"queue", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"consumer-tag", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"prefetch-count", PK_NUM, NULL, false, "1000", 0, 0, 0},
    {"reconnect-delay", PK_NUM, NULL, false, "5", 0, 0, 0},
    {"max-hops", PK_NUM, NULL, false, "1", 0, 0, 0},
    {"expires", PK_NUM, NULL, false, NULL, 0, 0, 0},
    {"message-ttl", PK_NUM, NULL, false, NULL, 0, 0, 0},
    {"trust-user-id", PK_BOOL, NULL, false, "false", 0, 0, 0},
    {"ack-mode", PK_ENUM, v_ack, false, "\"on-confirm\"", 0, 0, 0},
    {"ha-policy", PK_STR, NULL, false, NULL, 0, 0, 0},
    {"bind-nowait", PK_BOOL, NULL, false, "false", 0, 0, 0},
    {"channel-use-mode", PK_ENUM, v_channel, false, "\"multiple\"", 0, 0, 0},
    {"resource-cleanup-mode", PK_ENUM, v_cleanup, false, "\"default\"", 0, 0, 0},
    /* from 3.13.1 (the federation reference's change that documented it); 3.10.8 refuses it
     * ("Unrecognised terms") */
    {"queue-type", PK_ENUM, v_qtype, false, "\"classic\"", 3, 13, 1},
    {NULL, PK_STR, NULL, false, NULL, 0, 0, 0},
};

/* Operator-policy keys the broker takes (broker-facts.md). */
static const char *const opol_keys[] = {
    "expires",
    "message-ttl",
    "max-length",
    "max-length-bytes",
    "max-in-memory-length",
    "max-in-memory-bytes",
    "delivery-limit",
    NULL,
};

/* Shovel keys that one protocol's end takes only (rabbit_shovel_parameters.erl validates each
 * end by its protocol: a key of the other protocol is "Unrecognised"). side 's' or 'd'. */
static const struct {
    const char *key;
    char side;
    bool amqp10; /* true: AMQP 1.0 only; false: AMQP 0-9-1 only */
} shovel_proto_keys[] = {
    {"src-address", 's', true},
    {"dest-address", 'd', true},
    {"dest-application-properties", 'd', true},
    {"dest-message-annotations", 'd', true},
    {"dest-properties", 'd', true},
    {"src-queue", 's', false},
    {"src-exchange", 's', false},
    {"src-exchange-key", 's', false},
    {"src-queue-args", 's', false},
    {"prefetch-count", 's', false},
    {"delete-after", 's', false},
    {"dest-queue", 'd', false},
    {"dest-exchange", 'd', false},
    {"dest-exchange-key", 'd', false},
    {"dest-queue-args", 'd', false},
    {"add-forward-headers", 'd', false},
    {"add-timestamp-header", 'd', false},
    {"publish-properties", 'd', false},
    {"dest-publish-properties", 'd', false},
};

static const struct pkey *keys_of(enum rparam_kind kind)
{
    return kind == RP_SHOVEL ? shovel_keys : upstream_keys;
}

static const char *kind_word(enum rparam_kind kind)
{
    return kind == RP_SHOVEL ? "shovel" : "federation upstream";
}

static const char *kind_section(enum rparam_kind kind)
{
    return kind == RP_SHOVEL ? "shovels" : "federation_upstreams";
}

static const struct pkey *find_key(enum rparam_kind kind, const char *key)
{
    const struct pkey *k;
    for (k = keys_of(kind); k->key; k++)
        if (strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

/* NULL-terminated names of a table (static, built once per kind). */
static const char *const *key_names(enum rparam_kind kind)
{
    static const char *names[2][40];
    const struct pkey *k;
    size_t n = 0;

    if (!names[kind][0]) {
        for (k = keys_of(kind); k->key && n < 39; k++)
            names[kind][n++] = k->key;
        names[kind][n] = NULL;
    }
    return names[kind];
}

/* ------------------------------------------------------------------------------------------ */
/* the model */

struct vhost_params *vhost_params(struct vhost *vh)
{
    if (!vh->params)
        vh->params = xcalloc(1, sizeof(*vh->params));
    return vh->params;
}

static void rparam_release(struct rparam *r)
{
    free(r->name);
    free(r->val_pos);
    free(r->key_pos);
    free(r->val_bad);
    tval_release(&r->value);
}

static void policy_release(struct policy *p)
{
    free(p->name);
    free(p->pattern);
    free(p->apply_to);
    free(p->def_pos);
    tval_release(&p->definition);
}

void vhost_params_free(struct vhost_params *p)
{
    size_t k;

    if (!p)
        return;
    for (k = 0; k < p->n_opols; k++)
        policy_release(&p->opols[k]);
    for (k = 0; k < p->n_shovels; k++)
        rparam_release(&p->shovels[k]);
    for (k = 0; k < p->n_upstreams; k++)
        rparam_release(&p->upstreams[k]);
    for (k = 0; k < p->n_other; k++)
        free(p->other[k]);
    free(p->opols);
    free(p->shovels);
    free(p->upstreams);
    free(p->other);
    free(p);
}

static struct rparam *add_rparam(struct vhost_params *p, enum rparam_kind kind, const char *name)
{
    struct rparam *r;

    if (kind == RP_SHOVEL) {
        XGROW(p->shovels, p->cap_shovels, p->n_shovels + 1);
        r = &p->shovels[p->n_shovels++];
    } else {
        XGROW(p->upstreams, p->cap_upstreams, p->n_upstreams + 1);
        r = &p->upstreams[p->n_upstreams++];
    }
    memset(r, 0, sizeof(*r));
    r->name = xstrdup(name);
    tval_set_map(&r->value);
    return r;
}

static struct policy *add_opol(struct vhost_params *p, const char *name)
{
    struct policy *pol;

    XGROW(p->opols, p->cap_opols, p->n_opols + 1);
    pol = &p->opols[p->n_opols++];
    memset(pol, 0, sizeof(*pol));
    pol->name = xstrdup(name);
    return pol;
}

static const struct vhost_params *cparams(const struct vhost *vh)
{
    return vh ? vh->params : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* secrets */

/* Where the password of the URI starting at s lies: *start and *len (0 when none). The broker
 * takes passwords holding ',', '\'', '/', spaces and other characters a URI's userinfo should
 * not hold, so the userinfo runs to the last '@' of s when s is a whole value (whole), else to
 * the last '@' before white space, '"', '<' or '>' (a URI in a message): a password is never
 * cut short (an '@' later in the URI only hides more than the password). */
static bool uri_password(const char *s, bool whole, size_t *start, size_t *len)
{
    const char *p = strstr(s, "://"), *auth, *end, *at = NULL, *colon, *q;

    if (!p)
        return false;
    auth = p + 3;
    end = auth + (whole ? strlen(auth) : strcspn(auth, "\" \t\r\n<>"));
    for (q = auth; q < end; q++)
        if (*q == '@')
            at = q;
    if (!at)
        return false;
    colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon)
        return false;
    *start = (size_t)(colon + 1 - s);
    *len = (size_t)(at - colon - 1);
    return true;
}

void params_redact(struct strbuf *out, const char *s)
{
    while (*s) {
        const char *p = strstr(s, "://");
        size_t start, len;

        if (!p) {
            strbuf_adds(out, s);
            return;
        }
        /* the URI begins at its scheme: back up over letters */
        {
            const char *b = p;
            while (b > s &&
                   (isalnum((unsigned char)b[-1]) || b[-1] == '+' || b[-1] == '-' || b[-1] == '.'))
                b--;
            strbuf_add(out, s, (size_t)(b - s));
            s = b;
        }
        if (uri_password(s, false, &start, &len)) {
            strbuf_add(out, s, start);
            strbuf_adds(out, "***");
            s += start + len;
        } else {
            strbuf_add(out, s, (size_t)(p + 3 - s));
            s = p + 3;
        }
    }
}

void params_redact_buf(char *buf, size_t size)
{
    struct strbuf sb = {0};

    if (!buf || !size)
        return;
    params_redact(&sb, buf);
    snprintf(buf, size, "%s", strbuf_str(&sb));
    strbuf_release(&sb);
}

/* A value with every URI in its strings redacted (new). */
static void redact_value(struct tval *dst, const struct tval *src)
{
    size_t k;

    tval_copy(dst, src);
    if (dst->kind == TV_STRING && strstr(dst->s, "://")) {
        struct strbuf sb = {0};
        size_t start, len,
            scheme = strspn(dst->s, "abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        /* a value that is one URI: its password may hold anything (uri_password) */
        if (scheme > 0 && strncmp(dst->s + scheme, "://", 3) == 0 &&
            uri_password(dst->s, true, &start, &len)) {
            strbuf_add(&sb, dst->s, start);
            strbuf_adds(&sb, "***");
            strbuf_adds(&sb, dst->s + start + len);
        } else
            params_redact(&sb, dst->s);
        tval_release(dst);
        tval_set_string(dst, sb.buf ? sb.buf : "", sb.len);
        strbuf_release(&sb);
    } else if (dst->kind == TV_LIST || dst->kind == TV_MAP) {
        for (k = 0; k < dst->n; k++) {
            struct tval tmp;
            redact_value(&tmp, &dst->entries[k].val);
            tval_release(&dst->entries[k].val);
            dst->entries[k].val = tmp;
        }
    }
}

/* A short, safe rendering of a value (URIs redacted) for messages. */
static void describe_safe(struct strbuf *sb, const struct tval *v)
{
    struct tval r;
    redact_value(&r, v);
    tval_describe(sb, &r);
    tval_release(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* load */

struct pload {
    const char *file;
    struct diag_list *dl;
    struct strbuf path;
};

static void perr(struct pload *L, struct rmqt_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr(struct pload *L, struct rmqt_pos pos, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    params_redact_buf(buf, sizeof(buf));
    diag_add(L->dl, DIAG_ERROR, L->file, pos, strbuf_str(&L->path), "%s", buf);
}

static bool node_to_tval(struct pload *L, const struct ynode *n, struct tval *out)
{
    size_t k;
    bool ok = true;

    memset(out, 0, sizeof(*out));
    switch (n->kind) {
    case YN_SCALAR:
        if (n->bad)
            return false;
        switch (n->type) {
        case YS_NULL:
            return true;
        case YS_BOOL:
            tval_set_bool(out, n->b);
            return true;
        case YS_INT:
            tval_set_int(out, n->i);
            return true;
        case YS_INT_RANGE:
            perr(L, n->pos, "integer is out of range");
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
            ok = node_to_tval(L, n->items[k], tval_append(out, NULL)) && ok;
        return ok;
    case YN_MAP:
        tval_set_map(out);
        for (k = 0; k + 1 < n->n; k += 2)
            if (n->items[k]->kind == YN_SCALAR)
                ok = node_to_tval(L, n->items[k + 1], tval_append(out, n->items[k]->text)) && ok;
        return ok;
    }
    return false;
}

void params_take_operator_policies(struct vhost *vh, struct vhost *from)
{
    struct vhost_params *p = vhost_params(vh);
    size_t k;

    p->has_opols = true;
    for (k = 0; k < from->n_policies; k++) {
        XGROW(p->opols, p->cap_opols, p->n_opols + 1);
        p->opols[p->n_opols++] = from->policies[k];
    }
    free(from->policies);
    from->policies = NULL;
    from->n_policies = from->cap_policies = 0;
}

void params_load(struct vhost *vh, enum rparam_kind kind, const struct ynode *n, const char *file,
                 const char *path, struct diag_list *dl)
{
    struct vhost_params *p = vhost_params(vh);
    struct pload L = {file, dl, {0}};
    size_t k, j;

    if (kind == RP_SHOVEL)
        p->has_shovels = true;
    else
        p->has_upstreams = true;
    strbuf_adds(&L.path, path);
    if (n->kind == YN_SCALAR && n->type == YS_NULL)
        goto out;
    if (n->kind != YN_MAP) {
        perr(&L, n->pos, "expected a map of %s names to their definitions", kind_word(kind));
        goto out;
    }
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        size_t old = L.path.len, got = 0;
        struct rparam *r;

        if (key->kind != YN_SCALAR || key->bad)
            continue;
        strbuf_addc(&L.path, '.');
        strbuf_adds(&L.path, key->text);
        if (key->len == 0 || strlen(key->text) != key->len) {
            perr(&L, key->pos, "a %s name must not be empty or hold a NUL character",
                 kind_word(kind));
        } else if (val->kind != YN_MAP) {
            perr(&L, val->pos, "expected a map of the broker's %s keys (e.g. %s)", kind_word(kind),
                 kind == RP_SHOVEL ? "{ src-uri: ..., src-queue: ..., dest-uri: ..., dest-queue: "
                                     "... }"
                                   : "{ uri: ..., max-hops: 1 }");
        } else {
            r = add_rparam(p, kind, key->text);
            r->pos = key->pos;
            tval_release(&r->value);
            if (!node_to_tval(&L, val, &r->value) && r->value.kind != TV_MAP)
                tval_set_map(&r->value);
            r->val_pos = xcalloc(r->value.n + 1, sizeof(*r->val_pos));
            r->key_pos = xcalloc(r->value.n + 1, sizeof(*r->key_pos));
            r->val_bad = xcalloc(r->value.n + 1, sizeof(*r->val_bad));
            for (j = 0; j + 1 < val->n && got < r->value.n; j += 2)
                if (val->items[j]->kind == YN_SCALAR) {
                    r->key_pos[got] = val->items[j]->pos;
                    r->val_bad[got] =
                        val->items[j + 1]->kind == YN_SCALAR && val->items[j + 1]->bad;
                    r->val_pos[got++] = val->items[j + 1]->pos;
                }
        }
        L.path.len = old;
        L.path.buf[old] = '\0';
    }
out:
    strbuf_release(&L.path);
}

/* ------------------------------------------------------------------------------------------ */
/* validate */

struct pval {
    const char *file;
    struct diag_list *dl;
    const struct rmqt_version *broker;
};

static void vdiagf(struct pval *V, enum diag_severity sev, struct rmqt_pos pos, const char *path,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void vdiagf(struct pval *V, enum diag_severity sev, struct rmqt_pos pos, const char *path,
                   const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    params_redact_buf(buf, sizeof(buf));
    diag_add(V->dl, DIAG_ERROR == sev ? DIAG_ERROR : DIAG_WARNING, V->file, pos, path, "%s", buf);
}

static void enum_list(struct strbuf *sb, const char *const *values)
{
    size_t j;
    for (j = 0; values[j]; j++)
        strbuf_addf(sb, "%s%s", j ? (values[j + 1] ? ", " : " or ") : "", values[j]);
}

/* Whether s is a URI the broker's amqp_uri:parse takes: amqp:// or amqps://. */
static bool uri_ok(const char *s)
{
    return strncmp(s, "amqp://", 7) == 0 || strncmp(s, "amqps://", 8) == 0;
}

static void check_uri(struct pval *V, const struct tval *v, struct rmqt_pos pos, const char *path)
{
    size_t k;

    if (v->kind == TV_STRING) {
        if (!uri_ok(v->s)) {
            struct strbuf d = {0};
            describe_safe(&d, v);
            vdiagf(V, DIAG_ERROR, pos, path,
                   "expected an AMQP URI (amqp://user@host/vhost or amqps://...), found %s",
                   strbuf_str(&d));
            strbuf_release(&d);
        }
        return;
    }
    if (v->kind == TV_LIST && v->n > 0) {
        for (k = 0; k < v->n; k++)
            check_uri(V, &v->entries[k].val, pos, path);
        return;
    }
    vdiagf(V, DIAG_ERROR, pos, path, "expected a URI or a non-empty list of URIs, found %s",
           v->kind == TV_LIST ? "an empty list" : tval_kind_name(v->kind));
}

static void check_rparam(struct pval *V, const struct vhost *vh, enum rparam_kind kind,
                         const struct rparam *r)
{
    const struct pkey *pk;
    struct strbuf path = {0}, base = {0};
    size_t k;
    const struct tval *v;

    (void)vh;
    strbuf_addf(&base, "%s.%s", kind_section(kind), r->name);
    for (k = 0; k < r->value.n; k++) {
        const char *key = r->value.entries[k].key;
        const struct tval *val = &r->value.entries[k].val;
        struct rmqt_pos pos = r->val_pos ? r->val_pos[k] : r->pos;
        const char *problem = NULL;

        strbuf_reset(&path);
        strbuf_addf(&path, "%s.%s", base.buf, key);
        pk = find_key(kind, key);
        if (r->val_bad && r->val_bad[k] && pk)
            continue; /* its variable is reported already */
        if (!pk) {
            if (r->key_pos)
                pos = r->key_pos[k];
            const char *guess = rmqt_did_you_mean(key, key_names(kind));
            if (!guess && strchr(key, '_')) {
                /* the broker's keys use '-': src_uri is src-uri */
                char *dashed = xstrdup(key), *c;
                for (c = dashed; *c; c++)
                    if (*c == '_')
                        *c = '-';
                if (find_key(kind, dashed))
                    guess = find_key(kind, dashed)->key;
                free(dashed);
            }
            if (guess)
                vdiagf(V, DIAG_ERROR, pos, path.buf,
                       "unknown %s key '%s' (did you mean '%s'?): the broker refuses keys it "
                       "does not know",
                       kind_word(kind), key, guess);
            else {
                struct strbuf list = {0};
                enum_list(&list, key_names(kind));
                vdiagf(V, DIAG_ERROR, pos, path.buf,
                       "unknown %s key '%s': the broker refuses keys it does not know (it "
                       "knows: %s)",
                       kind_word(kind), key, list.buf);
                strbuf_release(&list);
            }
            continue;
        }
        if (kind == RP_SHOVEL) {
            size_t j;
            for (j = 0; j < sizeof(shovel_proto_keys) / sizeof(shovel_proto_keys[0]); j++) {
                const struct tval *pv;
                bool is10;
                if (strcmp(shovel_proto_keys[j].key, key) != 0)
                    continue;
                pv = tval_get(&r->value,
                              shovel_proto_keys[j].side == 's' ? "src-protocol" : "dest-protocol");
                is10 = pv && pv->kind == TV_STRING && strcmp(pv->s, "amqp10") == 0;
                if (is10 != shovel_proto_keys[j].amqp10)
                    vdiagf(V, DIAG_ERROR, r->key_pos ? r->key_pos[k] : pos, path.buf,
                           "'%s' is an AMQP %s key, but %s is %s%s: the broker refuses it", key,
                           shovel_proto_keys[j].amqp10 ? "1.0" : "0-9-1",
                           shovel_proto_keys[j].side == 's' ? "src-protocol" : "dest-protocol",
                           is10 ? "amqp10" : "amqp091", pv ? "" : " (the default)");
            }
        }
        switch (pk->type) {
        case PK_STR:
            if (val->kind != TV_STRING)
                problem = "expected a string";
            break;
        case PK_NUM:
            if (val->kind != TV_INT && val->kind != TV_DOUBLE)
                problem = "expected a number";
            else if ((val->kind == TV_INT && val->i < 0) || (val->kind == TV_DOUBLE && val->d < 0))
                problem = "must not be negative";
            break;
        case PK_BOOL:
            if (val->kind != TV_BOOL)
                problem = "expected true or false";
            break;
        case PK_MAP:
            if (val->kind != TV_MAP)
                problem = "expected a map";
            break;
        case PK_DELETE_AFTER:
            if (!(val->kind == TV_INT && val->i >= 0) &&
                !(val->kind == TV_STRING &&
                  (strcmp(val->s, "never") == 0 || strcmp(val->s, "queue-length") == 0)))
                problem = "expected a number of messages, \"never\" or \"queue-length\"";
            break;
        case PK_ENUM: {
            bool ok = false;
            size_t j;
            for (j = 0; val->kind == TV_STRING && pk->values[j]; j++)
                ok = ok || strcmp(val->s, pk->values[j]) == 0;
            if (!ok) {
                struct strbuf d = {0}, list = {0};
                const char *guess =
                    val->kind == TV_STRING ? rmqt_did_you_mean(val->s, pk->values) : NULL;
                describe_safe(&d, val);
                enum_list(&list, pk->values);
                vdiagf(V, DIAG_ERROR, pos, path.buf, "invalid value %s: expected %s%s%s%s", d.buf,
                       list.buf, guess ? " (did you mean '" : "", guess ? guess : "",
                       guess ? "'?)" : "");
                strbuf_release(&d);
                strbuf_release(&list);
            }
            break;
        }
        case PK_URI:
            check_uri(V, val, pos, path.buf);
            break;
        }
        if (problem) {
            struct strbuf d = {0};
            describe_safe(&d, val);
            vdiagf(V, DIAG_ERROR, pos, path.buf, "%s, found %s", problem, d.buf);
            strbuf_release(&d);
        }
        if (V->broker && pk->since_major &&
            !rmqt_version_at_least(V->broker, pk->since_major, pk->since_minor, pk->since_patch))
            vdiagf(V, DIAG_ERROR, pos, path.buf,
                   "'%s' needs RabbitMQ %d.%d.%d or later (the broker is %d.%d.%d, which refuses "
                   "it)",
                   key, pk->since_major, pk->since_minor, pk->since_patch, V->broker->major,
                   V->broker->minor, V->broker->patch);
    }
    for (pk = keys_of(kind); pk->key; pk++) {
        if (!pk->required || tval_get(&r->value, pk->key))
            continue;
        strbuf_reset(&path);
        strbuf_addf(&path, "%s.%s", base.buf, pk->key);
        vdiagf(V, DIAG_ERROR, r->pos, path.buf, "a %s needs '%s'", kind_word(kind), pk->key);
    }
    if (kind == RP_SHOVEL) {
        const struct tval *sp = tval_get(&r->value, "src-protocol");
        const struct tval *dp = tval_get(&r->value, "dest-protocol");
        bool src10 = sp && sp->kind == TV_STRING && strcmp(sp->s, "amqp10") == 0;
        bool dst10 = dp && dp->kind == TV_STRING && strcmp(dp->s, "amqp10") == 0;
        const struct tval *ack = tval_get(&r->value, "ack-mode");
        if (src10) {
            if (!tval_get(&r->value, "src-address"))
                vdiagf(V, DIAG_ERROR, r->pos, base.buf,
                       "an AMQP 1.0 source (src-protocol: amqp10) needs 'src-address'");
        } else {
            bool sq = tval_get(&r->value, "src-queue") != NULL;
            bool sx = tval_get(&r->value, "src-exchange") != NULL;
            if (!sq && !sx)
                vdiagf(V, DIAG_ERROR, r->pos, base.buf,
                       "a shovel needs 'src-queue' or 'src-exchange' (where it takes messages "
                       "from)");
            else if (sq && sx)
                vdiagf(V, DIAG_ERROR, r->pos, base.buf,
                       "a shovel takes 'src-queue' or 'src-exchange', not both");
        }
        if (dst10) {
            if (!tval_get(&r->value, "dest-address"))
                vdiagf(V, DIAG_ERROR, r->pos, base.buf,
                       "an AMQP 1.0 destination (dest-protocol: amqp10) needs 'dest-address'");
        } else if (tval_get(&r->value, "dest-queue") && tval_get(&r->value, "dest-exchange")) {
            vdiagf(V, DIAG_ERROR, r->pos, base.buf,
                   "a shovel takes 'dest-queue' or 'dest-exchange', not both");
        }
        v = tval_get(&r->value, "src-delete-after");
        if (!v)
            v = tval_get(&r->value, "delete-after");
        if (v && v->kind == TV_INT && ack && ack->kind == TV_STRING &&
            strcmp(ack->s, "no-ack") == 0)
            vdiagf(V, DIAG_ERROR, r->pos, base.buf,
                   "ack-mode no-ack cannot go with a numeric delete-after (the broker refuses it)");
    }
    strbuf_release(&path);
    strbuf_release(&base);
}

static void check_opol(struct pval *V, const struct policy *p)
{
    struct strbuf path = {0};
    size_t k;
    regex_t re;
    char err[256];

    if (p->pattern && !V->broker) {
        if (policy_pattern_compile(p->pattern, &re, err, sizeof(err)) == 0)
            regfree(&re);
        else if (!strstr(p->pattern, "(?")) {
            strbuf_addf(&path, "operator_policies.%s.pattern", p->name);
            vdiagf(V, DIAG_ERROR, p->pattern_pos, path.buf, "invalid regular expression: %s", err);
        }
    }
    if (p->apply_to_set && strcmp(p->apply_to, "queues") != 0 &&
        strcmp(p->apply_to, "exchanges") != 0 && strcmp(p->apply_to, "all") != 0 && V->broker &&
        !rmqt_version_at_least(V->broker, 3, 12, 0)) {
        strbuf_reset(&path);
        strbuf_addf(&path, "operator_policies.%s.apply_to", p->name);
        vdiagf(V, DIAG_ERROR, p->apply_to_pos, path.buf,
               "apply_to '%s' needs RabbitMQ 3.12 or later (the broker is %d.%d.%d)", p->apply_to,
               V->broker->major, V->broker->minor, V->broker->patch);
    }
    if (p->definition.n == 0 && p->definition_pos.line && !V->broker) {
        strbuf_reset(&path);
        strbuf_addf(&path, "operator_policies.%s.definition", p->name);
        vdiagf(V, DIAG_ERROR, p->definition_pos, path.buf,
               "an operator policy definition must not be empty: the broker refuses it");
    }
    for (k = 0; k < p->definition.n && V->broker == NULL; k++) {
        const char *key = p->definition.entries[k].key;
        const struct tval *v = &p->definition.entries[k].val;
        struct rmqt_pos pos = p->def_pos ? p->def_pos[k] : p->definition_pos;
        const struct pdspec *s = pdspec_find(key);
        size_t j;
        bool allowed = false;

        for (j = 0; opol_keys[j]; j++)
            allowed = allowed || strcmp(opol_keys[j], key) == 0;
        strbuf_reset(&path);
        strbuf_addf(&path, "operator_policies.%s.definition.%s", p->name, key);
        if (!allowed) {
            const char *guess = rmqt_did_you_mean(key, opol_keys);
            struct strbuf list = {0};
            enum_list(&list, opol_keys);
            if (s)
                vdiagf(V, DIAG_ERROR, pos, path.buf,
                       "'%s' cannot be set by an operator policy (the broker refuses it: operator "
                       "policies take %s); set it in a policy%s%s%s",
                       key, list.buf, guess ? " (did you mean '" : "", guess ? guess : "",
                       guess ? "'?)" : "");
            else
                vdiagf(V, DIAG_ERROR, pos, path.buf,
                       "unknown operator-policy key '%s'%s%s%s: operator policies take %s", key,
                       guess ? " (did you mean '" : "", guess ? guess : "", guess ? "'?)" : "",
                       list.buf);
            strbuf_release(&list);
            continue;
        }
        if (v->kind != TV_INT) {
            struct strbuf d = {0};
            describe_safe(&d, v);
            vdiagf(V, DIAG_ERROR, pos, path.buf,
                   "expected an integer (%s), found %s: an operator policy holds the broker's raw "
                   "values",
                   strstr(key, "bytes")                                             ? "bytes"
                   : strcmp(key, "expires") == 0 || strcmp(key, "message-ttl") == 0 ? "milliseconds"
                                                                                    : "a count",
                   d.buf);
            strbuf_release(&d);
        } else if (s && s->type == PD_INT_POS && v->i < 1) {
            vdiagf(V, DIAG_ERROR, pos, path.buf, "must be at least 1, found %lld", (long long)v->i);
        } else if (v->i < 0) {
            vdiagf(V, DIAG_ERROR, pos, path.buf, "must not be negative, found %lld",
                   (long long)v->i);
        }
    }
    strbuf_release(&path);
}

void params_validate(const struct topology *t, const struct rmqt_version *broker,
                     struct diag_list *dl)
{
    struct pval V = {t->file, dl, broker};
    size_t k, j;

    for (k = 0; k < t->n_vhosts; k++) {
        const struct vhost *vh = &t->vhosts[k];
        const struct vhost_params *p = vh->params;
        if (!p)
            continue;
        if (!broker) {
            for (j = 0; j < p->n_shovels; j++)
                check_rparam(&V, vh, RP_SHOVEL, &p->shovels[j]);
            for (j = 0; j < p->n_upstreams; j++)
                check_rparam(&V, vh, RP_UPSTREAM, &p->upstreams[j]);
        } else {
            /* only the version checks: the rest was reported offline */
            struct diag_list scratch;
            diag_list_init(&scratch);
            V.dl = &scratch;
            for (j = 0; j < p->n_shovels; j++)
                check_rparam(&V, vh, RP_SHOVEL, &p->shovels[j]);
            for (j = 0; j < p->n_upstreams; j++)
                check_rparam(&V, vh, RP_UPSTREAM, &p->upstreams[j]);
            V.dl = dl;
            for (j = 0; j < scratch.n; j++)
                if (strstr(scratch.v[j].message, "needs RabbitMQ"))
                    diag_add(dl, scratch.v[j].severity, scratch.v[j].file, scratch.v[j].pos,
                             scratch.v[j].path, "%s", scratch.v[j].message);
            diag_list_release(&scratch);
        }
        for (j = 0; j < p->n_opols; j++)
            check_opol(&V, &p->opols[j]);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* live */

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The federation plugin's own objects in an upstream vhost: the queue and the exchange of a link
 * ("federation: X -> node:vhost:X", the exchange of type x-federation-upstream). They belong
 * to the link: never unmanaged, never pruned (deleting them breaks it), never exported. */
static bool is_federation_object(const char *name)
{
    return strncmp(name, "federation: ", 12) == 0;
}

static void drop_federation_objects(struct vhost *vh)
{
    size_t k, n;

    for (k = n = 0; k < vh->n_exchanges; k++) {
        struct exchange *x = &vh->exchanges[k];
        if (is_federation_object(x->name) ||
            (x->type && strcmp(x->type, "x-federation-upstream") == 0)) {
            free(x->name);
            free(x->type);
            free(x->origin);
            targs_release(&x->args);
        } else {
            vh->exchanges[n++] = *x;
        }
    }
    vh->n_exchanges = n;
    for (k = n = 0; k < vh->n_queues; k++) {
        struct queue *q = &vh->queues[k];
        if (is_federation_object(q->name)) {
            free(q->name);
            free(q->origin);
            targs_release(&q->args);
        } else {
            vh->queues[n++] = *q;
        }
    }
    vh->n_queues = n;
    for (k = n = 0; k < vh->n_bindings; k++) {
        struct binding *b = &vh->bindings[k];
        if (is_federation_object(b->source) || is_federation_object(b->destination)) {
            free(b->source);
            free(b->destination);
            free(b->routing_key);
            free(b->bind_queue);
            free(b->origin);
            tval_release(&b->args);
        } else {
            vh->bindings[n] = *b;
            vh->bindings[n].index = n;
            n++;
        }
    }
    vh->n_bindings = n;
}

void params_parse_live(struct vhost *vh, const struct json_t *definitions)
{
    const json_t *arr = json_object_get(definitions, "parameters"), *o;
    size_t i;

    drop_federation_objects(vh);
    if (!json_is_array(arr))
        return;
    json_array_foreach(arr, i, o)
    {
        const char *comp = jstr(o, "component"), *name = jstr(o, "name");
        const json_t *value = json_object_get(o, "value");
        struct vhost_params *p;

        if (!comp || !name)
            continue;
        p = vhost_params(vh);
        if (strcmp(comp, "operator_policy") == 0 && json_is_object(value)) {
            struct policy *pol = add_opol(p, name);
            const char *pattern = jstr(value, "pattern"), *apply = jstr(value, "apply-to");
            const json_t *prio = json_object_get(value, "priority");
            const json_t *def = json_object_get(value, "definition");
            pol->pattern = xstrdup(pattern ? pattern : "");
            pol->apply_to = xstrdup(apply ? apply : "all");
            pol->apply_to_set = true;
            pol->priority = json_is_integer(prio) ? (int64_t)json_integer_value(prio) : 0;
            if (json_is_object(def))
                live_json_to_tval(def, &pol->definition);
            else
                tval_set_map(&pol->definition);
        } else if ((strcmp(comp, "shovel") == 0 || strcmp(comp, "federation-upstream") == 0) &&
                   json_is_object(value)) {
            struct rparam *r =
                add_rparam(p, strcmp(comp, "shovel") == 0 ? RP_SHOVEL : RP_UPSTREAM, name);
            tval_release(&r->value);
            live_json_to_tval(value, &r->value);
        } else if (strcmp(comp, "vhost-limits") != 0) {
            /* (vhost limits are the vhost's `limits` key: access.h reads and exports them) */
            XGROW(p->other, p->cap_other, p->n_other + 1);
            p->other[p->n_other++] = xasprintf("%s '%s'", comp, name);
        }
    }
}

static int get_json(struct rmqt_http *h, const char *path, json_t **doc, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    json_error_t jerr;

    rmqt_http_response_init(&resp);
    if (rmqt_http_request(h, "GET", path, NULL, &resp, err) < 0) {
        rmqt_http_response_release(&resp);
        return -1;
    }
    *doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, &jerr);
    rmqt_http_response_release(&resp);
    return 0;
}

int params_check_plugins(struct rmqt_http *h, const struct topology *desired,
                         struct rmqt_error *err)
{
    bool need_shovel = false, need_fed = false, has_shovel = false, has_fed = false;
    const char *sv = NULL, *fv = NULL;
    json_t *doc, *node, *app;
    size_t k, i, j;

    for (k = 0; k < desired->n_vhosts; k++) {
        const struct vhost_params *p = desired->vhosts[k].params;
        if (p && p->has_shovels && !need_shovel) {
            need_shovel = true;
            sv = desired->vhosts[k].name;
        }
        if (p && p->has_upstreams && !need_fed) {
            need_fed = true;
            fv = desired->vhosts[k].name;
        }
    }
    if (!need_shovel && !need_fed)
        return 0;
    /* federation registers the exchange type x-federation-upstream (the overview lists the
     * types registered now); the shovel plugin's management extension (shovel.js) is listed by
     * /api/extensions as it is now; the nodes' application lists are read at start, so they
     * count only for a shovel plugin running without its management extension */
    if (get_json(h, "/api/overview?columns=exchange_types", &doc, err) < 0)
        return -1;
    json_array_foreach(json_object_get(doc, "exchange_types"), i, app)
    {
        const char *name = jstr(app, "name");
        if (name && strcmp(name, "x-federation-upstream") == 0)
            has_fed = true;
    }
    json_decref(doc);
    if (need_shovel) {
        bool app_shovel = false, app_shovel_mgmt = false;
        if (get_json(h, "/api/extensions", &doc, err) < 0)
            return -1;
        json_array_foreach(doc, i, app)
        {
            const char *js = jstr(app, "javascript");
            if (js && strcmp(js, "shovel.js") == 0)
                has_shovel = true;
        }
        json_decref(doc);
        if (!has_shovel) {
            if (get_json(h, "/api/nodes?columns=name,applications", &doc, err) < 0)
                return -1;
            json_array_foreach(doc, i, node)
            {
                json_array_foreach(json_object_get(node, "applications"), j, app)
                {
                    const char *name = jstr(app, "name");
                    app_shovel = app_shovel || (name && strcmp(name, "rabbitmq_shovel") == 0);
                    app_shovel_mgmt = app_shovel_mgmt ||
                                      (name && strcmp(name, "rabbitmq_shovel_management") == 0);
                }
            }
            json_decref(doc);
            has_shovel = app_shovel && !app_shovel_mgmt;
        }
    }
    if (need_shovel && !has_shovel)
        return rmqt_error_set(err, RMQT_ERR_INVALID,
                              "vhost '%s' has shovels, but the broker lacks the shovel plugin "
                              "(rabbitmq_shovel): enable it with 'rabbitmq-plugins enable "
                              "rabbitmq_shovel rabbitmq_shovel_management'",
                              sv);
    if (need_fed && !has_fed)
        return rmqt_error_set(err, RMQT_ERR_INVALID,
                              "vhost '%s' has federation upstreams, but the broker lacks the "
                              "federation plugin (rabbitmq_federation): enable it with "
                              "'rabbitmq-plugins enable rabbitmq_federation "
                              "rabbitmq_federation_management'",
                              fv);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* diff */

bool params_is_kind(enum change_kind k)
{
    return k == CK_OPERATOR_POLICY || k == CK_SHOVEL || k == CK_FEDERATION_UPSTREAM;
}

/* A field; values are stored redacted (a plan never holds a password). */
static void field(struct change *c, const char *name, const struct tval *o, const struct tval *n)
{
    struct change_field *f;

    XGROW(c->fields, c->cap_fields, c->n_fields + 1);
    f = &c->fields[c->n_fields++];
    memset(f, 0, sizeof(*f));
    f->field = xstrdup(name);
    if (o) {
        redact_value(&f->old_value, o);
        f->has_old = true;
    }
    if (n) {
        redact_value(&f->new_value, n);
        f->has_new = true;
    }
    /* equal once redacted: only a password differs */
    if (o && n && tval_equal(&f->old_value, &f->new_value)) {
        struct strbuf sb = {0};
        tval_release(&f->new_value);
        strbuf_adds(&sb, "password changed");
        tval_set_string(&f->new_value, sb.buf, sb.len);
        strbuf_release(&sb);
    }
}

static void str_field(struct change *c, const char *name, const char *o, const char *n)
{
    struct tval a = {0}, b = {0};
    if (o)
        tval_set_string(&a, o, strlen(o));
    if (n)
        tval_set_string(&b, n, strlen(n));
    field(c, name, o ? &a : NULL, n ? &b : NULL);
    tval_release(&a);
    tval_release(&b);
}

static void diff_opols(struct plan *out, const struct vhost *want, const struct vhost *live,
                       enum change_action unmanaged)
{
    const struct vhost_params *wp = cparams(want), *lp = cparams(live);
    struct strbuf f = {0};
    size_t k, j, i;

    for (k = 0; k < wp->n_opols; k++) {
        const struct policy *w = &wp->opols[k], *l = NULL;
        const char *wpat = w->pattern ? w->pattern : "";
        struct change *c;

        for (i = 0; lp && i < lp->n_opols && !l; i++)
            if (strcmp(lp->opols[i].name, w->name) == 0)
                l = &lp->opols[i];
        if (!l) {
            struct tval v = {0};
            c = plan_add_change(out, CH_CREATE, CK_OPERATOR_POLICY, want->name, w->name);
            c->want_policy = w;
            str_field(c, "pattern", NULL, wpat);
            str_field(c, "apply-to", NULL, w->apply_to);
            tval_set_int(&v, w->priority);
            field(c, "priority", NULL, &v);
            for (j = 0; j < w->definition.n; j++) {
                strbuf_reset(&f);
                strbuf_addf(&f, "definition.%s", w->definition.entries[j].key);
                field(c, f.buf, NULL, &w->definition.entries[j].val);
            }
            continue;
        }
        if (strcmp(l->pattern, wpat) == 0 && strcmp(l->apply_to, w->apply_to) == 0 &&
            l->priority == w->priority && tval_equal(&l->definition, &w->definition))
            continue;
        c = plan_add_change(out, CH_UPDATE, CK_OPERATOR_POLICY, want->name, w->name);
        c->want_policy = w;
        c->live_policy = l;
        if (strcmp(l->pattern, wpat) != 0)
            str_field(c, "pattern", l->pattern, wpat);
        if (strcmp(l->apply_to, w->apply_to) != 0)
            str_field(c, "apply-to", l->apply_to, w->apply_to);
        if (l->priority != w->priority) {
            struct tval o = {0}, n = {0};
            tval_set_int(&o, l->priority);
            tval_set_int(&n, w->priority);
            field(c, "priority", &o, &n);
        }
        for (j = 0; j < w->definition.n; j++) {
            const struct tval *lv = tval_get(&l->definition, w->definition.entries[j].key);
            if (lv && tval_equal(lv, &w->definition.entries[j].val))
                continue;
            strbuf_reset(&f);
            strbuf_addf(&f, "definition.%s", w->definition.entries[j].key);
            field(c, f.buf, lv, &w->definition.entries[j].val);
        }
        for (j = 0; j < l->definition.n; j++) {
            if (tval_get(&w->definition, l->definition.entries[j].key))
                continue;
            strbuf_reset(&f);
            strbuf_addf(&f, "definition.%s", l->definition.entries[j].key);
            field(c, f.buf, &l->definition.entries[j].val, NULL);
        }
    }
    for (i = 0; lp && i < lp->n_opols; i++) {
        bool named = false;
        struct change *c;
        for (k = 0; k < wp->n_opols && !named; k++)
            named = strcmp(wp->opols[k].name, lp->opols[i].name) == 0;
        if (named)
            continue;
        c = plan_add_change(out, unmanaged, CK_OPERATOR_POLICY, want->name, lp->opols[i].name);
        c->live_policy = &lp->opols[i];
    }
    strbuf_release(&f);
}

/* The value of key as the broker works with it: the stated one, else its default (NULL when
 * neither). *tmp holds a parsed default. A URI string is compared as a list of one. */
static const struct tval *effective(enum rparam_kind kind, const struct rparam *r, const char *key,
                                    struct tval *tmp)
{
    const struct tval *v = tval_get(&r->value, key);
    const struct pkey *pk = find_key(kind, key);

    memset(tmp, 0, sizeof(*tmp));
    if (v && pk && pk->type == PK_URI && v->kind == TV_STRING) {
        tval_set_list(tmp);
        tval_copy(tval_append(tmp, NULL), v);
        return tmp;
    }
    if (v)
        return v;
    if (pk && pk->dflt) {
        json_error_t jerr;
        json_t *j = json_loads(pk->dflt, JSON_DECODE_ANY, &jerr);
        if (j) {
            live_json_to_tval(j, tmp);
            json_decref(j);
            return tmp;
        }
    }
    return NULL;
}

/* Numbers compare by value: 5 and 5.0 are the same delay. */
static bool same_value(const struct tval *a, const struct tval *b)
{
    if (a->kind == TV_INT && b->kind == TV_DOUBLE)
        return (double)a->i == b->d;
    if (a->kind == TV_DOUBLE && b->kind == TV_INT)
        return a->d == (double)b->i;
    return tval_equal(a, b);
}

static void diff_rparams(struct plan *out, enum rparam_kind kind, const struct vhost *want,
                         const struct vhost *live, enum change_action unmanaged)
{
    const struct vhost_params *wp = cparams(want), *lp = cparams(live);
    enum change_kind ck = kind == RP_SHOVEL ? CK_SHOVEL : CK_FEDERATION_UPSTREAM;
    const struct rparam *wv = kind == RP_SHOVEL ? wp->shovels : wp->upstreams;
    size_t wn = kind == RP_SHOVEL ? wp->n_shovels : wp->n_upstreams;
    const struct rparam *lv = lp ? (kind == RP_SHOVEL ? lp->shovels : lp->upstreams) : NULL;
    size_t ln = lp ? (kind == RP_SHOVEL ? lp->n_shovels : lp->n_upstreams) : 0;
    size_t k, i, j;

    for (k = 0; k < wn; k++) {
        const struct rparam *w = &wv[k], *l = NULL;
        struct change *c = NULL;

        for (i = 0; i < ln && !l; i++)
            if (strcmp(lv[i].name, w->name) == 0)
                l = &lv[i];
        if (!l) {
            c = plan_add_change(out, CH_CREATE, ck, want->name, w->name);
            c->want_param = w;
            for (j = 0; j < w->value.n; j++)
                field(c, w->value.entries[j].key, NULL, &w->value.entries[j].val);
            continue;
        }
        /* every key of either side, with the broker's defaults */
        for (j = 0; j < w->value.n + l->value.n; j++) {
            bool from_w = j < w->value.n;
            const char *key =
                from_w ? w->value.entries[j].key : l->value.entries[j - w->value.n].key;
            struct tval t1, t2;
            const struct tval *a, *b;

            if (!from_w && tval_get(&w->value, key))
                continue; /* seen from the file's side */
            a = effective(kind, l, key, &t1);
            b = effective(kind, w, key, &t2);
            if (!(a && b && same_value(a, b)) && (a || b)) {
                if (!c) {
                    c = plan_add_change(out, CH_UPDATE, ck, want->name, w->name);
                    c->want_param = w;
                    c->live_param = l;
                }
                field(c, key, tval_get(&l->value, key), tval_get(&w->value, key));
            }
            tval_release(&t1);
            tval_release(&t2);
        }
    }
    for (i = 0; i < ln; i++) {
        bool named = false;
        struct change *c;
        for (k = 0; k < wn && !named; k++)
            named = strcmp(wv[k].name, lv[i].name) == 0;
        if (named)
            continue;
        c = plan_add_change(out, unmanaged, ck, want->name, lv[i].name);
        c->live_param = &lv[i];
    }
}

void params_diff(struct plan *out, const struct vhost *want, const struct vhost *live,
                 const struct diff_options *opts)
{
    const struct vhost_params *wp = cparams(want);
    enum change_action unmanaged = opts && opts->prune ? CH_DELETE : CH_UNMANAGED;

    if (!wp)
        return;
    if (wp->has_opols)
        diff_opols(out, want, live, unmanaged);
    if (wp->has_shovels)
        diff_rparams(out, RP_SHOVEL, want, live, unmanaged);
    if (wp->has_upstreams)
        diff_rparams(out, RP_UPSTREAM, want, live, unmanaged);
}

/* ------------------------------------------------------------------------------------------ */
/* apply */

int params_apply_change(struct rmqt_http *h, const struct change *c, struct rmqt_error *err)
{
    struct strbuf path = {0};
    struct rmqt_http_response resp;
    const char *method = c->action == CH_DELETE ? "DELETE" : "PUT";
    char *body = NULL;
    int rc;

    if (c->kind == CK_OPERATOR_POLICY) {
        strbuf_adds(&path, "/api/operator-policies/");
    } else {
        strbuf_adds(&path, c->kind == CK_SHOVEL ? "/api/parameters/shovel/"
                                                : "/api/parameters/federation-upstream/");
    }
    rmqt_url_encode(&path, c->vhost);
    strbuf_addc(&path, '/');
    rmqt_url_encode(&path, c->name);
    if (c->action != CH_DELETE) {
        json_t *j = json_object();
        if (c->kind == CK_OPERATOR_POLICY) {
            const struct policy *pol = c->want_policy;
            json_object_set_new(j, "pattern", json_string(pol->pattern ? pol->pattern : ""));
            json_object_set_new(j, "definition", tval_to_json(&pol->definition));
            json_object_set_new(j, "priority", json_integer((json_int_t)pol->priority));
            json_object_set_new(j, "apply-to", json_string(pol->apply_to));
        } else {
            json_object_set_new(j, "value", tval_to_json(&c->want_param->value));
        }
        body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    }
    rmqt_http_response_init(&resp);
    rc = rmqt_http_request(h, method, strbuf_str(&path), body, &resp, err);
    if (rc < 0) {
        struct strbuf msg = {0};
        strbuf_addf(&msg, "%s %s '%s' in vhost '%s': ",
                    c->action == CH_DELETE   ? "delete"
                    : c->action == CH_CREATE ? "create"
                                             : "update",
                    change_kind_name(c->kind), c->name, c->vhost);
        params_redact(&msg, err->message);
        /* a password the broker echoed without its URI: never shown either */
        if (c->want_param) {
            size_t k;
            for (k = 0; k < c->want_param->value.n; k++) {
                const struct tval *v = &c->want_param->value.entries[k].val;
                size_t n = v->kind == TV_LIST ? v->n : 1, i;
                for (i = 0; i < n; i++) {
                    const struct tval *u = v->kind == TV_LIST ? &v->entries[i].val : v;
                    size_t start, len;
                    char *pw, *hit;
                    if (u->kind != TV_STRING || !uri_password(u->s, true, &start, &len) || len < 3)
                        continue;
                    pw = xstrndup(u->s + start, len);
                    while ((hit = strstr(msg.buf, pw)) != NULL) {
                        memset(hit, '*', len);
                    }
                    free(pw);
                }
            }
        }
        snprintf(err->message, sizeof(err->message), "%s", strbuf_str(&msg));
        strbuf_release(&msg);
    }
    rmqt_http_response_release(&resp);
    strbuf_release(&path);
    free(body);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* export */

bool params_vhost_has_any(const struct vhost *vh)
{
    const struct vhost_params *p = vh->params;
    return p && (p->n_opols || p->n_shovels || p->n_upstreams);
}

#define PH_OPEN '\x01'
#define PH_CLOSE '\x02'

/* A string; a placeholder (PH_OPEN NAME PH_CLOSE) is written as ${NAME}. */
static void add_string(struct strbuf *sb, const struct tval *v)
{
    const char *open = memchr(v->s, PH_OPEN, v->len);
    const char *close = open ? memchr(open, PH_CLOSE, v->len - (size_t)(open - v->s)) : NULL;
    struct strbuf a = {0}, b = {0};

    if (!open || !close) {
        export_add_string(sb, v->s, v->len);
        return;
    }
    /* both halves of a URI around its password are quoted (they hold ':' and '@') */
    export_add_string(&a, v->s, (size_t)(open - v->s));
    export_add_string(&b, close + 1, v->len - (size_t)(close + 1 - v->s));
    if (a.len >= 2 && a.buf[0] == '"' && b.len >= 2 && b.buf[0] == '"') {
        strbuf_add(sb, a.buf, a.len - 1);
        strbuf_adds(sb, "${");
        strbuf_add(sb, open + 1, (size_t)(close - open - 1));
        strbuf_addc(sb, '}');
        strbuf_add(sb, b.buf + 1, b.len - 1);
    } else {
        strbuf_adds(sb, "\"${");
        strbuf_add(sb, open + 1, (size_t)(close - open - 1));
        strbuf_adds(sb, "}\"");
    }
    strbuf_release(&a);
    strbuf_release(&b);
}

static void add_flow(struct strbuf *sb, const struct tval *v)
{
    size_t k;
    char buf[40];

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
    case TV_DOUBLE:
        if (isnan(v->d) || isinf(v->d)) {
            strbuf_adds(sb, isnan(v->d) ? ".nan" : v->d > 0 ? ".inf" : "-.inf");
            break;
        }
        snprintf(buf, sizeof(buf), "%.17g", v->d);
        strbuf_adds(sb, buf);
        if (!strpbrk(buf, ".eEni"))
            strbuf_adds(sb, ".0");
        break;
    case TV_STRING:
        add_string(sb, v);
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
            export_add_string(sb, v->entries[k].key, strlen(v->entries[k].key));
            strbuf_adds(sb, ": ");
            add_flow(sb, &v->entries[k].val);
        }
        strbuf_addc(sb, '}');
        break;
    }
}

/* A definition as a block map, one key a line (an empty one as {}). */
static void add_block(struct strbuf *sb, const struct tval *v)
{
    size_t k;

    if (v->kind != TV_MAP || v->n == 0) {
        strbuf_adds(sb, ": {}\n");
        return;
    }
    strbuf_adds(sb, ":\n");
    for (k = 0; k < v->n; k++) {
        strbuf_adds(sb, "        ");
        export_add_string(sb, v->entries[k].key, strlen(v->entries[k].key));
        strbuf_adds(sb, ": ");
        add_flow(sb, &v->entries[k].val);
        strbuf_addc(sb, '\n');
    }
}

static int cmp_policy(const void *a, const void *b)
{
    return strcmp(((const struct policy *)a)->name, ((const struct policy *)b)->name);
}

static int cmp_rparam(const void *a, const void *b)
{
    return strcmp(((const struct rparam *)a)->name, ((const struct rparam *)b)->name);
}

void params_export_vhost(struct strbuf *sb, const struct vhost *vh)
{
    struct vhost_params *p = vh->params;
    size_t k;

    if (!p)
        return;
    if (p->n_opols)
        qsort(p->opols, p->n_opols, sizeof(*p->opols), cmp_policy);
    if (p->n_shovels)
        qsort(p->shovels, p->n_shovels, sizeof(*p->shovels), cmp_rparam);
    if (p->n_upstreams)
        qsort(p->upstreams, p->n_upstreams, sizeof(*p->upstreams), cmp_rparam);
    if (p->n_opols) {
        strbuf_adds(sb, "    operator_policies:\n");
        for (k = 0; k < p->n_opols; k++) {
            const struct policy *pol = &p->opols[k];
            strbuf_adds(sb, "      ");
            export_add_string(sb, pol->name, strlen(pol->name));
            strbuf_adds(sb, ":\n        pattern: ");
            export_add_string(sb, pol->pattern, strlen(pol->pattern));
            strbuf_addc(sb, '\n');
            if (strcmp(pol->apply_to, "all") != 0)
                strbuf_addf(sb, "        apply_to: %s\n", pol->apply_to);
            if (pol->priority)
                strbuf_addf(sb, "        priority: %lld\n", (long long)pol->priority);
            strbuf_adds(sb, "        definition: ");
            add_flow(sb, &pol->definition);
            strbuf_addc(sb, '\n');
        }
    }
    if (p->n_shovels) {
        strbuf_adds(sb, "    shovels:\n");
        for (k = 0; k < p->n_shovels; k++) {
            strbuf_adds(sb, "      ");
            export_add_string(sb, p->shovels[k].name, strlen(p->shovels[k].name));
            add_block(sb, &p->shovels[k].value);
        }
    }
    if (p->n_upstreams) {
        strbuf_adds(sb, "    federation_upstreams:\n");
        for (k = 0; k < p->n_upstreams; k++) {
            strbuf_adds(sb, "      ");
            export_add_string(sb, p->upstreams[k].name, strlen(p->upstreams[k].name));
            add_block(sb, &p->upstreams[k].value);
        }
    }
}

/* NAME for a placeholder: upper-case letters, digits and '_' only. */
static void var_part(struct strbuf *sb, const char *s)
{
    bool sep = sb->len && sb->buf[sb->len - 1] != '_';
    if (strcmp(s, "/") == 0)
        s = "default";
    for (; *s; s++) {
        if (isalnum((unsigned char)*s)) {
            if (sep)
                strbuf_addc(sb, '_');
            sep = false;
            strbuf_addc(sb, (char)toupper((unsigned char)*s));
        } else {
            sep = sb->len > 0;
        }
    }
    if (sb->len && sb->buf[sb->len - 1] != '_')
        strbuf_addc(sb, '_');
}

static void placeholder_uri(struct tval *u, const char *var)
{
    size_t start, len;
    struct strbuf sb = {0};

    if (u->kind != TV_STRING || !uri_password(u->s, true, &start, &len))
        return;
    strbuf_add(&sb, u->s, start);
    strbuf_addc(&sb, PH_OPEN);
    strbuf_adds(&sb, var);
    strbuf_addc(&sb, PH_CLOSE);
    strbuf_adds(&sb, u->s + start + len);
    tval_release(u);
    tval_set_string(u, sb.buf, sb.len);
    strbuf_release(&sb);
}

static void prepare_rparam(const char *vhost, enum rparam_kind kind, struct rparam *r,
                           bool include_secrets, struct strbuf *warnings)
{
    size_t k, i;

    for (k = 0; k < r->value.n; k++) {
        struct tval *v = &r->value.entries[k].val;
        const struct pkey *pk = find_key(kind, r->value.entries[k].key);
        size_t n = v->kind == TV_LIST ? v->n : 1;

        if (!pk || pk->type != PK_URI)
            continue;
        for (i = 0; i < n; i++) {
            struct tval *u = v->kind == TV_LIST ? &v->entries[i].val : v;
            size_t start, len;
            struct strbuf var = {0};

            if (u->kind != TV_STRING || !uri_password(u->s, true, &start, &len))
                continue;
            if (include_secrets) {
                strbuf_addf(warnings,
                            "%s '%s' in vhost '%s': its %s password is written in the file "
                            "(--include-secrets)\n",
                            kind_word(kind), r->name, vhost, r->value.entries[k].key);
                continue;
            }
            var_part(&var, kind == RP_SHOVEL ? "shovel" : "upstream");
            var_part(&var, vhost);
            var_part(&var, r->name);
            var_part(&var, r->value.entries[k].key);
            if (n > 1) {
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", i + 1);
                var_part(&var, idx);
            }
            strbuf_adds(&var, "PASSWORD");
            placeholder_uri(u, var.buf);
            r->placeholders = true;
            strbuf_addf(warnings,
                        "%s '%s' in vhost '%s': its %s password is written as ${%s}: set %s (the "
                        "password as the URI holds it, percent-encoded) before plan or apply\n",
                        kind_word(kind), r->name, vhost, r->value.entries[k].key, var.buf, var.buf);
            strbuf_release(&var);
        }
    }
}

void params_export_prepare(struct topology *live, bool include_secrets, struct strbuf *warnings)
{
    size_t k, j;

    for (k = 0; k < live->n_vhosts; k++) {
        struct vhost_params *p = live->vhosts[k].params;
        const char *vn = live->vhosts[k].name;
        if (!p)
            continue;
        for (j = 0; j < p->n_shovels; j++)
            prepare_rparam(vn, RP_SHOVEL, &p->shovels[j], include_secrets, warnings);
        for (j = 0; j < p->n_upstreams; j++)
            prepare_rparam(vn, RP_UPSTREAM, &p->upstreams[j], include_secrets, warnings);
        for (j = 0; j < p->n_other; j++)
            strbuf_addf(warnings,
                        "not exported: %s in vhost '%s': the topology format has no place for "
                        "it\n",
                        p->other[j], vn);
    }
}

int params_export_globals(struct rmqt_http *h, struct strbuf *warnings, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    json_error_t jerr;
    json_t *doc, *o;
    size_t i;

    rmqt_http_response_init(&resp);
    if (rmqt_http_request(h, "GET", "/api/global-parameters", NULL, &resp, err) < 0) {
        rmqt_http_response_release(&resp);
        return -1;
    }
    doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, &jerr);
    rmqt_http_response_release(&resp);
    json_array_foreach(doc, i, o)
    {
        const char *name = jstr(o, "name");
        /* the broker makes these itself: not a setting anyone made */
        if (!name || strcmp(name, "internal_cluster_id") == 0 || strcmp(name, "cluster_name") == 0)
            continue;
        strbuf_addf(warnings,
                    "not exported: global parameter '%s': the topology format has no place for "
                    "it\n",
                    name);
    }
    json_decref(doc);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* graph */

/* The first URI of a URI value, or NULL. */
static const char *first_uri(const struct tval *v)
{
    if (v && v->kind == TV_LIST && v->n)
        v = &v->entries[0].val;
    return v && v->kind == TV_STRING ? v->s : NULL;
}

/* Host and vhost of an AMQP URI: host "" for the local node ("amqp://" connects directly). */
static void uri_parts(const char *uri, char *host, size_t hsize, char *vhost, size_t vsize)
{
    const char *a = strstr(uri, "://"), *end, *at, *q, *hs, *he;
    size_t n = 0;

    host[0] = '\0';
    snprintf(vhost, vsize, "/");
    if (!a)
        return;
    a += 3;
    end = a + strcspn(a, "/?#");
    at = NULL;
    for (q = a; q < end; q++)
        if (*q == '@')
            at = q;
    hs = at ? at + 1 : a;
    if (*hs == '[') {
        he = memchr(hs, ']', (size_t)(end - hs));
        he = he ? he + 1 : end;
    } else {
        he = memchr(hs, ':', (size_t)(end - hs));
        if (!he)
            he = end;
    }
    snprintf(host, hsize, "%.*s", (int)(he - hs), hs);
    if (*end == '/' && end[1] && end[1] != '?' && end[1] != '#') {
        for (q = end + 1; *q && *q != '?' && *q != '#' && n + 1 < vsize; q++) {
            if (*q == '%' && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
                char hex[3] = {q[1], q[2], 0};
                vhost[n++] = (char)strtol(hex, NULL, 16);
                q += 2;
            } else {
                vhost[n++] = *q;
            }
        }
        vhost[n] = '\0';
    }
}

static bool shovel_end(const struct vhost *vh, const struct rparam *r, bool src,
                       struct params_end *e)
{
    const char *uri = first_uri(tval_get(&r->value, src ? "src-uri" : "dest-uri"));
    const struct tval *q = tval_get(&r->value, src ? "src-queue" : "dest-queue");
    const struct tval *x = tval_get(&r->value, src ? "src-exchange" : "dest-exchange");
    char vhost[256];

    memset(e, 0, sizeof(*e));
    if (!uri)
        return false;
    uri_parts(uri, e->host, sizeof(e->host), vhost, sizeof(vhost));
    if (e->host[0] == '\0' && strcmp(vhost, vh->name) == 0 &&
        ((q && q->kind == TV_STRING) || (x && x->kind == TV_STRING))) {
        e->local = true;
        e->is_exchange = !(q && q->kind == TV_STRING);
        e->object = e->is_exchange ? x->s : q->s;
        return true;
    }
    if (e->host[0] == '\0')
        snprintf(e->host, sizeof(e->host), "this broker, vhost %.200s", vhost);
    return true;
}

bool params_shovel_ends(const struct vhost *vh, size_t k, struct params_end *src,
                        struct params_end *dst)
{
    const struct vhost_params *p = vh->params;

    if (!p || k >= p->n_shovels)
        return false;
    return shovel_end(vh, &p->shovels[k], true, src) && shovel_end(vh, &p->shovels[k], false, dst);
}

void params_upstream_host(const struct vhost *vh, size_t k, char *out, size_t size)
{
    const struct vhost_params *p = vh->params;
    const char *uri;
    char vhost[256];

    out[0] = '\0';
    if (!p || k >= p->n_upstreams)
        return;
    uri = first_uri(tval_get(&p->upstreams[k].value, "uri"));
    if (!uri)
        return;
    uri_parts(uri, out, size, vhost, sizeof(vhost));
    if (out[0] == '\0')
        snprintf(out, size, "this broker, vhost %.200s", vhost);
}
