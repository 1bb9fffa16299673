/*
 * access.c - users, permissions, topic permissions and vhost settings: the model, the file
 * format, the offline rules and export (see access.h; the broker side is access_live.c).
 *
 * Decisions:
 * - The file says how a password is known, never the password itself: password_env,
 *   password_file, password_hash (with hashing_algorithm) or no_password. A `password` key is
 *   an error at its line and column, so a secret never sits in a topology file. Exactly one
 *   source per user: a user whose password the file does not know could not be created.
 * - Limits are written with the file's underscores (max_connections) and go to the broker with
 *   its hyphens (max-connections); -1 means no limit, as the broker has it.
 * - A permission for a user the file does not define is fine (the user may exist); a topic
 *   permission for an exchange the vhost does not define is a warning (the broker accepts it).
 * - The live broker lands in the same structures (a user's hash as password_hash, an empty
 *   hash as no_password), so export writes either side the same way.
 */
#include "access.h"

#include "export.h"
#include "textutil.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- model ------------------------------------------------------------------------------ */

struct access_users *access_users_of(struct topology *t)
{
    if (!t->users)
        t->users = xcalloc(1, sizeof(*t->users));
    return t->users;
}

struct vhost_access *vhost_access_of(struct vhost *vh)
{
    if (!vh->access)
        vh->access = xcalloc(1, sizeof(*vh->access));
    return vh->access;
}

static void strlist_release(struct access_strlist *l)
{
    size_t k;
    for (k = 0; k < l->n; k++)
        free(l->v[k]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void strlist_add(struct access_strlist *l, const char *s)
{
    XGROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = xstrdup(s);
}

static void limits_release(struct access_limits *l)
{
    size_t k;
    for (k = 0; k < l->n; k++)
        free(l->v[k].key);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void limits_add(struct access_limits *l, const char *key, int64_t value, struct rmqt_pos pos)
{
    XGROW(l->v, l->cap, l->n + 1);
    l->v[l->n].key = xstrdup(key);
    l->v[l->n].value = value;
    l->v[l->n].pos = pos;
    l->n++;
}

void access_user_release(struct access_user *u)
{
    free(u->name);
    strlist_release(&u->tags);
    free(u->pw_ref);
    free(u->algorithm);
    limits_release(&u->limits);
    if (u->secret) {
        /* the password does not outlive its use */
        volatile char *p = u->secret;
        size_t k;
        for (k = 0; k < u->secret_len; k++)
            p[k] = 0;
        free(u->secret);
    }
}

void access_users_free(struct access_users *u)
{
    size_t k;
    if (!u)
        return;
    for (k = 0; k < u->n; k++)
        access_user_release(&u->v[k]);
    free(u->v);
    free(u->self);
    free(u);
}

void vhost_access_free(struct vhost_access *a)
{
    size_t k;
    if (!a)
        return;
    free(a->description);
    strlist_release(&a->tags);
    free(a->default_queue_type);
    limits_release(&a->limits);
    for (k = 0; k < a->n_perms; k++) {
        free(a->perms[k].user);
        free(a->perms[k].configure);
        free(a->perms[k].write);
        free(a->perms[k].read);
    }
    free(a->perms);
    for (k = 0; k < a->n_topics; k++) {
        free(a->topics[k].user);
        free(a->topics[k].exchange);
        free(a->topics[k].write);
        free(a->topics[k].read);
    }
    free(a->topics);
    free(a);
}

const struct access_user *access_find_user(const struct access_users *u, const char *name)
{
    size_t k;
    for (k = 0; u && k < u->n; k++)
        if (strcmp(u->v[k].name, name) == 0)
            return &u->v[k];
    return NULL;
}

/* ---- load ------------------------------------------------------------------------------- */

const char *const access_vhost_keys[] = {"description", "tags",        "default_queue_type",
                                         "limits",      "permissions", "topic_permissions",
                                         NULL};

static const char *const algorithms[] = {"rabbit_password_hashing_sha256",
                                         "rabbit_password_hashing_sha512",
                                         "rabbit_password_hashing_md5", NULL};

struct aload {
    const char *file;
    struct diag_list *dl;
    struct strbuf path;
};

static void aerr(struct aload *L, struct rmqt_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void aerr(struct aload *L, struct rmqt_pos pos, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    diag_add(L->dl, DIAG_ERROR, L->file, pos, strbuf_str(&L->path), "%s", buf);
}

static size_t apush(struct aload *L, const char *seg)
{
    size_t old = L->path.len;
    if (L->path.len)
        strbuf_addc(&L->path, '.');
    strbuf_adds(&L->path, seg);
    return old;
}

static void apop(struct aload *L, size_t old)
{
    L->path.len = old;
    L->path.buf[old] = '\0';
}

/* A node quoted for messages (one at a time). */
static const char *aq(const struct ynode *n)
{
    static char buf[160];
    struct strbuf sb = {0};

    if (n->kind != YN_SCALAR) {
        snprintf(buf, sizeof(buf), "a %s", ynode_describe_kind(n));
    } else {
        rmqt_quote_add(&sb, n->text, n->len, 100);
        snprintf(buf, sizeof(buf), "'%s'", strbuf_str(&sb));
    }
    strbuf_release(&sb);
    return buf;
}

static void aunknown(struct aload *L, const struct ynode *key, const char *const *known)
{
    const char *guess;
    struct strbuf list = {0};
    size_t k;

    if (key->bad)
        return;
    guess = rmqt_did_you_mean(key->text, known);
    if (guess) {
        aerr(L, key->pos, "unknown key %s (did you mean '%s'?)", aq(key), guess);
        return;
    }
    for (k = 0; known[k]; k++) {
        if (k)
            strbuf_adds(&list, ", ");
        strbuf_adds(&list, known[k]);
    }
    aerr(L, key->pos, "unknown key %s (expected one of: %s)", aq(key), strbuf_str(&list));
    strbuf_release(&list);
}

static bool amap(struct aload *L, const struct ynode *n)
{
    if (n->kind == YN_MAP)
        return true;
    if (n->kind == YN_SCALAR && n->type == YS_NULL)
        return false;
    if (!(n->kind == YN_SCALAR && n->bad))
        aerr(L, n->pos, "expected a map, found %s", aq(n));
    return false;
}

/* Text of a scalar (any scalar but null); NULL (reported) otherwise. */
static const char *atext(struct aload *L, const struct ynode *n, const char *what)
{
    if (n->kind == YN_SCALAR && n->bad)
        return NULL;
    if (n->kind == YN_SCALAR && n->type != YS_NULL) {
        if (strlen(n->text) != n->len) {
            aerr(L, n->pos, "%s must not contain a NUL character", what);
            return NULL;
        }
        return n->text;
    }
    aerr(L, n->pos, "expected %s, found %s", what, n->kind == YN_SCALAR ? "null" : aq(n));
    return NULL;
}

static const char *aenum(struct aload *L, const struct ynode *n, const char *const *allowed)
{
    const char *guess;
    struct strbuf list = {0};
    size_t k;

    if (n->kind == YN_SCALAR && n->bad)
        return NULL;
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
        aerr(L, n->pos, "invalid value %s: expected %s (did you mean '%s'?)", aq(n),
             strbuf_str(&list), guess);
    else
        aerr(L, n->pos, "invalid value %s: expected %s", aq(n), strbuf_str(&list));
    strbuf_release(&list);
    return NULL;
}

static void load_tags(struct aload *L, const struct ynode *n, struct access_strlist *out)
{
    size_t k;

    out->set = true;
    out->pos = n->pos;
    if (n->kind == YN_SCALAR && n->type == YS_NULL)
        return;
    if (n->kind != YN_SEQ) {
        if (!(n->kind == YN_SCALAR && n->bad))
            aerr(L, n->pos, "expected a list of tags (e.g. [monitoring]), found %s", aq(n));
        return;
    }
    for (k = 0; k < n->n; k++) {
        const char *s = atext(L, n->items[k], "a tag");
        if (!s)
            continue;
        if (strchr(s, ',')) {
            aerr(L, n->items[k]->pos, "a tag must not contain ',' (the broker splits tags on it)");
            continue;
        }
        strlist_add(out, s);
    }
}

/* limits: { key: integer >= -1 } for the keys given (file spelling). */
static void load_limits(struct aload *L, const struct ynode *n, struct access_limits *out,
                        const char *const *keys)
{
    size_t k;

    out->set = true;
    out->pos = n->pos;
    if (!amap(L, n))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        size_t old, j;

        if (key->kind != YN_SCALAR)
            continue;
        old = apush(L, key->text);
        for (j = 0; keys[j] && strcmp(keys[j], key->text) != 0; j++)
            ;
        if (!keys[j]) {
            aunknown(L, key, keys);
        } else if (val->kind == YN_SCALAR && val->bad) {
            /* reported */
        } else if (val->kind != YN_SCALAR || val->type != YS_INT) {
            aerr(L, val->pos, "expected a whole number (-1 for no limit), found %s", aq(val));
        } else if (val->i < -1) {
            aerr(L, val->pos, "invalid limit %s: expected a whole number >= -1 (-1: no limit)",
                 aq(val));
        } else {
            limits_add(out, key->text, val->i, val->pos);
        }
        apop(L, old);
    }
}

static void load_perm(struct aload *L, struct vhost_access *a, const struct ynode *name,
                      const struct ynode *n)
{
    static const char *const keys[] = {"configure", "write", "read", NULL};
    struct access_perm *p;
    size_t k;

    XGROW(a->perms, a->cap_perms, a->n_perms + 1);
    p = &a->perms[a->n_perms++];
    memset(p, 0, sizeof(*p));
    p->user = xstrdup(name->text);
    p->pos = name->pos;
    p->configure = xstrdup("");
    p->write = xstrdup("");
    p->read = xstrdup("");
    if (!amap(L, n))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        char **slot = NULL;
        const char *s;
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        old = apush(L, key->text);
        if (strcmp(key->text, "configure") == 0)
            slot = &p->configure;
        else if (strcmp(key->text, "write") == 0)
            slot = &p->write;
        else if (strcmp(key->text, "read") == 0)
            slot = &p->read;
        else
            aunknown(L, key, keys);
        if (slot && (s = atext(L, val, "a regular expression"))) {
            free(*slot);
            *slot = xstrdup(s);
        }
        apop(L, old);
    }
}

static void load_topics(struct aload *L, struct vhost_access *a, const struct ynode *name,
                        const struct ynode *n)
{
    static const char *const keys[] = {"exchange", "write", "read", NULL};
    size_t i, k;

    if (n->kind != YN_SEQ) {
        if (!(n->kind == YN_SCALAR && n->bad))
            aerr(L, n->pos,
                 "expected a list, one entry per exchange (e.g. [{ exchange: x, write: \".*\", "
                 "read: \".*\" }]), found %s",
                 aq(n));
        return;
    }
    for (i = 0; i < n->n; i++) {
        const struct ynode *e = n->items[i];
        struct access_topic *t;
        size_t old = L->path.len;
        bool has_exchange = false;

        strbuf_addf(&L->path, "[%zu]", i);
        if (!amap(L, e)) {
            apop(L, old);
            continue;
        }
        XGROW(a->topics, a->cap_topics, a->n_topics + 1);
        t = &a->topics[a->n_topics++];
        memset(t, 0, sizeof(*t));
        t->user = xstrdup(name->text);
        t->pos = e->pos;
        t->write = xstrdup("");
        t->read = xstrdup("");
        for (k = 0; k + 1 < e->n; k += 2) {
            const struct ynode *key = e->items[k], *val = e->items[k + 1];
            char **slot = NULL;
            const char *s;
            size_t o2;

            if (key->kind != YN_SCALAR)
                continue;
            o2 = apush(L, key->text);
            if (strcmp(key->text, "exchange") == 0) {
                has_exchange = true;
                if ((s = atext(L, val, "an exchange name"))) {
                    t->exchange = xstrdup(s);
                    t->exchange_pos = val->pos;
                }
            } else if (strcmp(key->text, "write") == 0) {
                slot = &t->write;
            } else if (strcmp(key->text, "read") == 0) {
                slot = &t->read;
            } else {
                aunknown(L, key, keys);
            }
            if (slot && (s = atext(L, val, "a regular expression"))) {
                free(*slot);
                *slot = xstrdup(s);
            }
            apop(L, o2);
        }
        if (!has_exchange)
            aerr(L, e->pos, "a topic permission needs an exchange (e.g. exchange: amq.topic)");
        else if (t->exchange) {
            size_t j;
            for (j = 0; j + 1 < a->n_topics; j++)
                if (strcmp(a->topics[j].user, t->user) == 0 && a->topics[j].exchange &&
                    strcmp(a->topics[j].exchange, t->exchange) == 0)
                    aerr(L, t->exchange_pos,
                         "exchange '%s' is listed twice for user '%s' (one entry per exchange)",
                         t->exchange, t->user);
        }
        apop(L, old);
    }
}

static void load_user_map(struct aload *L, const struct ynode *n,
                          void (*one)(struct aload *, struct vhost_access *, const struct ynode *,
                                      const struct ynode *),
                          struct vhost_access *a)
{
    size_t k;

    if (!amap(L, n))
        return;
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k];
        size_t old;

        if (key->kind != YN_SCALAR || key->bad)
            continue;
        if (key->len == 0 || strlen(key->text) != key->len) {
            aerr(L, key->pos, "a user name must not be empty or contain a NUL character");
            continue;
        }
        old = apush(L, key->text);
        one(L, a, key, n->items[k + 1]);
        apop(L, old);
    }
}

bool access_load_vhost_key(struct vhost *vh, const struct ynode *key, const struct ynode *val,
                           const char *file, const char *path, struct diag_list *dl)
{
    static const char *const vhost_limit_keys[] = {"max_connections", "max_queues", NULL};
    static const char *const types[] = {"classic", "quorum", "stream", NULL};
    struct aload L = {file, dl, {0}};
    struct vhost_access *a;
    const char *s;
    size_t k;

    for (k = 0; access_vhost_keys[k] && strcmp(access_vhost_keys[k], key->text) != 0; k++)
        ;
    if (!access_vhost_keys[k])
        return false;
    a = vhost_access_of(vh);
    strbuf_adds(&L.path, path);
    if (strcmp(key->text, "description") == 0) {
        if (val->kind == YN_SCALAR && val->type == YS_NULL)
            s = "";
        else
            s = atext(&L, val, "a description (text)");
        if (s) {
            free(a->description);
            a->description = xstrdup(s);
            a->description_pos = val->pos;
        }
    } else if (strcmp(key->text, "tags") == 0) {
        load_tags(&L, val, &a->tags);
    } else if (strcmp(key->text, "default_queue_type") == 0) {
        if ((s = aenum(&L, val, types))) {
            free(a->default_queue_type);
            a->default_queue_type = xstrdup(s);
            a->dqt_pos = val->pos;
        }
    } else if (strcmp(key->text, "limits") == 0) {
        load_limits(&L, val, &a->limits, vhost_limit_keys);
    } else if (strcmp(key->text, "permissions") == 0) {
        a->has_perms = true;
        a->perms_pos = key->pos;
        load_user_map(&L, val, load_perm, a);
    } else {
        a->has_topics = true;
        a->topics_pos = key->pos;
        load_user_map(&L, val, load_topics, a);
    }
    strbuf_release(&L.path);
    return true;
}

static void load_user(struct aload *L, struct access_users *us, const struct ynode *name,
                      const struct ynode *n)
{
    static const char *const keys[] = {"tags",
                                       "password_env",
                                       "password_file",
                                       "password_hash",
                                       "hashing_algorithm",
                                       "no_password",
                                       "limits",
                                       NULL};
    static const char *const user_limit_keys[] = {"max_connections", "max_channels", NULL};
    struct access_user *u;
    size_t k;
    const struct ynode *first_pw = NULL;

    XGROW(us->v, us->cap, us->n + 1);
    u = &us->v[us->n++];
    memset(u, 0, sizeof(*u));
    u->name = xstrdup(name->text);
    u->pos = name->pos;
    if (!amap(L, n)) {
        if (!(n->kind == YN_SCALAR && n->bad))
            aerr(L, name->pos,
                 "a user needs a password source: password_env, password_file, password_hash "
                 "or no_password: true");
        return;
    }
    for (k = 0; k + 1 < n->n; k += 2) {
        const struct ynode *key = n->items[k], *val = n->items[k + 1];
        enum access_pw pw = PW_UNSET;
        const char *s;
        size_t old;

        if (key->kind != YN_SCALAR)
            continue;
        old = apush(L, key->text);
        if (strcmp(key->text, "password") == 0) {
            /* never a secret in the file; say where it goes instead (the value is not shown) */
            aerr(L, key->pos,
                 "a literal password is not allowed in a topology file: use password_env (an "
                 "environment variable's name), password_file (a path) or password_hash (the "
                 "broker's salted hash)");
        } else if (strcmp(key->text, "tags") == 0) {
            load_tags(L, val, &u->tags);
        } else if (strcmp(key->text, "password_env") == 0) {
            if ((s = atext(L, val, "an environment variable's name"))) {
                pw = PW_ENV;
                free(u->pw_ref);
                u->pw_ref = xstrdup(s);
            }
        } else if (strcmp(key->text, "password_file") == 0) {
            if ((s = atext(L, val, "a path"))) {
                pw = PW_FILE;
                free(u->pw_ref);
                u->pw_ref = xstrdup(s);
            }
        } else if (strcmp(key->text, "password_hash") == 0) {
            if (val->kind == YN_SCALAR && val->type == YS_STRING && val->len == 0)
                aerr(L, val->pos,
                     "an empty password_hash means no password: write "
                     "no_password: true");
            else if ((s = atext(L, val, "the broker's base64 password hash"))) {
                pw = PW_HASH;
                free(u->pw_ref);
                u->pw_ref = xstrdup(s);
            }
        } else if (strcmp(key->text, "no_password") == 0) {
            if (val->kind == YN_SCALAR && val->type == YS_BOOL && val->b)
                pw = PW_NONE;
            else if (!(val->kind == YN_SCALAR && val->bad))
                aerr(L, val->pos,
                     "no_password takes only true (leave it out and give a password source)");
        } else if (strcmp(key->text, "hashing_algorithm") == 0) {
            if ((s = aenum(L, val, algorithms))) {
                free(u->algorithm);
                u->algorithm = xstrdup(s);
                u->algorithm_pos = val->pos;
            }
        } else if (strcmp(key->text, "limits") == 0) {
            load_limits(L, val, &u->limits, user_limit_keys);
        } else {
            aunknown(L, key, keys);
        }
        if (pw != PW_UNSET) {
            if (first_pw)
                aerr(L, key->pos, "a user takes one password source; '%s' is given too",
                     first_pw->text);
            else {
                first_pw = key;
                u->pw = pw;
                u->pw_pos = val->pos;
            }
        }
        apop(L, old);
    }
    if (u->pw == PW_UNSET && !first_pw) {
        bool literal = ynode_get(n, "password") != NULL;
        if (!literal)
            aerr(L, name->pos,
                 "a user needs a password source: password_env, password_file, password_hash "
                 "or no_password: true");
    }
}

void access_load_users(struct topology *t, const struct ynode *val, const char *file,
                       struct diag_list *dl)
{
    struct aload L = {file, dl, {0}};
    struct access_users *us = access_users_of(t);
    size_t k;

    us->pos = val->pos;
    strbuf_adds(&L.path, "users");
    if (amap(&L, val)) {
        for (k = 0; k + 1 < val->n; k += 2) {
            const struct ynode *key = val->items[k];
            size_t old;

            if (key->kind != YN_SCALAR || key->bad)
                continue;
            if (key->len == 0 || strlen(key->text) != key->len) {
                aerr(&L, key->pos, "a user name must not be empty or contain a NUL character");
                continue;
            }
            old = apush(&L, key->text);
            load_user(&L, us, key, val->items[k + 1]);
            apop(&L, old);
        }
    }
    strbuf_release(&L.path);
}

/* ---- validate --------------------------------------------------------------------------- */

void access_validate(const struct topology *t, struct diag_list *dl)
{
    size_t k, j;

    for (k = 0; k < t->n_vhosts; k++) {
        const struct vhost *vh = &t->vhosts[k];
        const struct vhost_access *a = vh->access;

        /* a vhost closed to connections is closed to apply's own, which declares the vhost's
         * exchanges and queues over AMQP after the vhost's settings */
        for (j = 0; a && j < a->limits.n; j++)
            if (strcmp(a->limits.v[j].key, "max_connections") == 0 && a->limits.v[j].value == 0 &&
                (vh->n_exchanges || vh->n_queues))
                diag_add(dl, DIAG_WARNING, t->file, a->limits.v[j].pos, "limits.max_connections",
                         "0 refuses every connection to vhost '%s', apply's own included: an "
                         "exchange or queue of the file that is not on the broker yet can never "
                         "be declared (declare them before closing the vhost)",
                         vh->name);
        for (j = 0; a && j < a->n_topics; j++) {
            const struct access_topic *tp = &a->topics[j];
            char *path;

            if (!tp->exchange || rmqt_has_prefix(tp->exchange, "amq.") || tp->exchange[0] == '\0' ||
                vhost_find_exchange(vh, tp->exchange))
                continue;
            path = xasprintf("topic_permissions.%s.exchange", tp->user);
            diag_add(dl, DIAG_WARNING, t->file, tp->exchange_pos, path,
                     "exchange '%s' is not in this vhost of the file (the broker accepts the "
                     "permission; it matters only once such a topic exchange exists)",
                     tp->exchange);
            free(path);
        }
    }
}

/* ---- export ----------------------------------------------------------------------------- */

static void add_s(struct strbuf *sb, const char *s)
{
    export_add_string(sb, s, strlen(s));
}

static void export_strlist(struct strbuf *sb, const struct access_strlist *l)
{
    size_t k;

    strbuf_adds(sb, "[");
    for (k = 0; k < l->n; k++) {
        if (k)
            strbuf_adds(sb, ", ");
        add_s(sb, l->v[k]);
    }
    strbuf_adds(sb, "]");
}

static void export_limits(struct strbuf *sb, const struct access_limits *l)
{
    size_t k;

    strbuf_adds(sb, "{ ");
    for (k = 0; k < l->n; k++)
        strbuf_addf(sb, "%s%s: %lld", k ? ", " : "", l->v[k].key, (long long)l->v[k].value);
    strbuf_adds(sb, l->n ? " }" : "}");
}

bool access_vhost_has_export(const struct vhost *vh)
{
    const struct vhost_access *a = vh->access;
    return a && ((a->description && a->description[0]) || a->tags.n || a->default_queue_type ||
                 a->limits.n || a->n_perms || a->n_topics || a->has_perms || a->has_topics);
}

void access_export_vhost(struct strbuf *sb, const struct vhost *vh)
{
    const struct vhost_access *a = vh->access;
    size_t k, j;

    if (!a)
        return;
    if (a->description && a->description[0]) {
        strbuf_adds(sb, "    description: ");
        add_s(sb, a->description);
        strbuf_addc(sb, '\n');
    }
    if (a->tags.n) {
        strbuf_adds(sb, "    tags: ");
        export_strlist(sb, &a->tags);
        strbuf_addc(sb, '\n');
    }
    if (a->default_queue_type)
        strbuf_addf(sb, "    default_queue_type: %s\n", a->default_queue_type);
    if (a->limits.n) {
        strbuf_adds(sb, "    limits: ");
        export_limits(sb, &a->limits);
        strbuf_addc(sb, '\n');
    }
    if (a->n_perms || a->has_perms) {
        strbuf_adds(sb, a->n_perms ? "    permissions:\n" : "    permissions: {}\n");
        for (k = 0; k < a->n_perms; k++) {
            const struct access_perm *p = &a->perms[k];
            strbuf_adds(sb, "      ");
            add_s(sb, p->user);
            strbuf_adds(sb, ": { configure: ");
            add_s(sb, p->configure);
            strbuf_adds(sb, ", write: ");
            add_s(sb, p->write);
            strbuf_adds(sb, ", read: ");
            add_s(sb, p->read);
            strbuf_adds(sb, " }\n");
        }
    }
    if (a->n_topics) {
        strbuf_adds(sb, "    topic_permissions:\n");
        for (k = 0; k < a->n_topics; k++) {
            const struct access_topic *t = &a->topics[k];
            bool first = true;
            for (j = 0; j < k; j++)
                first = first && strcmp(a->topics[j].user, t->user) != 0;
            if (!first)
                continue;
            strbuf_adds(sb, "      ");
            add_s(sb, t->user);
            strbuf_adds(sb, ":\n");
            for (j = k; j < a->n_topics; j++) {
                const struct access_topic *e = &a->topics[j];
                if (strcmp(e->user, t->user) != 0 || !e->exchange)
                    continue;
                strbuf_adds(sb, "        - { exchange: ");
                add_s(sb, e->exchange);
                strbuf_adds(sb, ", write: ");
                add_s(sb, e->write);
                strbuf_adds(sb, ", read: ");
                add_s(sb, e->read);
                strbuf_adds(sb, " }\n");
            }
        }
    }
}

void access_export_users(struct strbuf *sb, const struct topology *t)
{
    const struct access_users *us = t->users;
    size_t k;

    if (!us || (!us->n && !us->listed && !us->pos.line))
        return;
    if (!us->n) {
        strbuf_adds(sb, "users: {}\n");
        return;
    }
    strbuf_adds(sb, "users:\n");
    for (k = 0; k < us->n; k++) {
        const struct access_user *u = &us->v[k];
        strbuf_adds(sb, "  ");
        add_s(sb, u->name);
        strbuf_adds(sb, ":\n");
        if (u->tags.n || u->tags.set) {
            strbuf_adds(sb, "    tags: ");
            export_strlist(sb, &u->tags);
            strbuf_addc(sb, '\n');
        }
        switch (u->pw) {
        case PW_ENV:
            strbuf_adds(sb, "    password_env: ");
            add_s(sb, u->pw_ref);
            strbuf_addc(sb, '\n');
            break;
        case PW_FILE:
            strbuf_adds(sb, "    password_file: ");
            add_s(sb, u->pw_ref);
            strbuf_addc(sb, '\n');
            break;
        case PW_HASH:
            strbuf_adds(sb, "    password_hash: ");
            add_s(sb, u->pw_ref);
            strbuf_addc(sb, '\n');
            break;
        case PW_NONE:
            strbuf_adds(sb, "    no_password: true\n");
            break;
        case PW_UNSET:
            break;
        }
        if (u->algorithm && strcmp(u->algorithm, algorithms[0]) != 0)
            strbuf_addf(sb, "    hashing_algorithm: %s\n", u->algorithm);
        if (u->limits.n) {
            strbuf_adds(sb, "    limits: ");
            export_limits(sb, &u->limits);
            strbuf_addc(sb, '\n');
        }
    }
}
