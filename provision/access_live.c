/*
 * access_live.c - users, permissions, topic permissions and vhost settings against the broker:
 * the live read, the broker-dependent checks, the diff, apply and the password hashes (see
 * access.h).
 *
 * Decisions:
 * - Everything goes over the management API: AMQP cannot make any of it.
 * - Users are cluster-wide: their creates and updates come first in the plan (before the
 *   permissions that name them), deletes and unmanaged users last. Their changes carry the
 *   vhost "" (the plan's text shows them under "users").
 * - PUT /api/users/{name} without a password clears the password (seen on 3.10.8), so apply
 *   always sends password_hash with hashing_algorithm: the broker's own hash when the password
 *   is unchanged, else a new one made here with a random salt (the password itself never
 *   leaves this process).
 * - A password is compared with the broker's hash using that hash's own salt and algorithm, so
 *   an unchanged password plans as nothing and a changed one as `password: changed`.
 * - Topic permissions of a user in a vhost are one change (the broker deletes them per user):
 *   an update PUTs each wanted exchange, after deleting them all when one must go.
 * - PUT /api/vhosts ignores default_queue_type before 3.11 (seen on 3.10.8, which still
 *   reports what a definitions import stored): there a difference is an error naming the
 *   version, never a drift that apply could not converge.
 */
#define _POSIX_C_SOURCE 200809L
#include "access.h"

#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHA256_ALG "rabbit_password_hashing_sha256"
#define MAX_PASSWORD_FILE (64 * 1024)

/* ---- hashes ----------------------------------------------------------------------------- */

static const EVP_MD *digest_of(const char *algorithm)
{
    if (!algorithm || strcmp(algorithm, SHA256_ALG) == 0)
        return EVP_sha256();
    if (strcmp(algorithm, "rabbit_password_hashing_sha512") == 0)
        return EVP_sha512();
    if (strcmp(algorithm, "rabbit_password_hashing_md5") == 0)
        return EVP_md5();
    return NULL;
}

/* digest(salt ++ password) into out; returns its length, 0 on failure. */
static unsigned salted_digest(const EVP_MD *md, const unsigned char *salt, const char *password,
                              size_t len, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned n = 0;

    if (ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, salt, 4) == 1 &&
        EVP_DigestUpdate(ctx, password, len) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1) {
        EVP_MD_CTX_free(ctx);
        return n;
    }
    EVP_MD_CTX_free(ctx);
    return 0;
}

bool access_hash_matches(const char *hash, const char *algorithm, const char *password, size_t len)
{
    const EVP_MD *md = digest_of(algorithm);
    unsigned char raw[4 + EVP_MAX_MD_SIZE + 3], want[EVP_MAX_MD_SIZE];
    size_t hlen = hash ? strlen(hash) : 0;
    int n;
    unsigned d;

    if (!md || hlen == 0 || hlen % 4 != 0 || hlen / 4 * 3 > sizeof(raw))
        return false;
    n = EVP_DecodeBlock(raw, (const unsigned char *)hash, (int)hlen);
    if (n < 0)
        return false;
    /* EVP_DecodeBlock counts the padding as bytes */
    if (hash[hlen - 1] == '=')
        n--;
    if (hash[hlen - 2] == '=')
        n--;
    d = salted_digest(md, raw, password, len, want);
    return d && (size_t)n == 4 + d && memcmp(raw + 4, want, d) == 0;
}

char *access_hash_make(const char *algorithm, const char *password, size_t len,
                       const unsigned char *salt)
{
    const EVP_MD *md = digest_of(algorithm);
    unsigned char raw[4 + EVP_MAX_MD_SIZE];
    unsigned char out[((4 + EVP_MAX_MD_SIZE) / 3 + 2) * 4 + 1];
    unsigned d;

    if (!md)
        return NULL;
    if (salt)
        memcpy(raw, salt, 4);
    else if (RAND_bytes(raw, 4) != 1)
        return NULL;
    d = salted_digest(md, raw, password, len, raw + 4);
    if (!d)
        return NULL;
    EVP_EncodeBlock(out, raw, (int)(4 + d));
    return xstrdup((const char *)out);
}

/* ---- reading the broker ----------------------------------------------------------------- */

static const char *js(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strlist_add_(struct access_strlist *l, const char *s)
{
    XGROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = xstrdup(s);
}

/* Tags as the broker reports them: a list, or (older brokers, definitions files) "a,b". */
static void tags_from_json(struct access_strlist *l, const json_t *v)
{
    size_t i;
    json_t *e;

    l->set = true;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) if (json_is_string(e) && json_string_length(e))
            strlist_add_(l, json_string_value(e));
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v), *end;
        while (*s) {
            end = strchr(s, ',');
            if (!end)
                end = s + strlen(s);
            if (end > s) {
                char *t = xstrndup(s, (size_t)(end - s));
                strlist_add_(l, t);
                free(t);
            }
            s = *end ? end + 1 : end;
        }
    }
}

/* "max-connections" -> "max_connections" (new) */
static char *limit_key_file(const char *broker_key)
{
    char *s = xstrdup(broker_key), *p;
    for (p = s; *p; p++)
        if (*p == '-')
            *p = '_';
    return s;
}

static char *limit_key_broker(const char *file_key)
{
    char *s = xstrdup(file_key), *p;
    for (p = s; *p; p++)
        if (*p == '_')
            *p = '-';
    return s;
}

static void limits_from_json(struct access_limits *l, const json_t *obj)
{
    const char *key;
    json_t *v;
    struct rmqt_pos none = {0, 0};

    l->set = true;
    if (!json_is_object(obj))
        return;
    json_object_foreach((json_t *)obj, key, v)
    {
        char *fk;
        if (!json_is_integer(v))
            continue;
        fk = limit_key_file(key);
        XGROW(l->v, l->cap, l->n + 1);
        l->v[l->n].key = fk;
        l->v[l->n].value = (int64_t)json_integer_value(v);
        l->v[l->n].pos = none;
        l->n++;
    }
}

void access_parse_vhost_info(struct vhost *vh, const char *json, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr), *meta;
    struct vhost_access *a;
    const char *d, *t;

    if (!json_is_object(doc)) {
        json_decref(doc);
        return;
    }
    a = vhost_access_of(vh);
    meta = json_object_get(doc, "metadata");
    d = js(doc, "description");
    if (!d && json_is_object(meta))
        d = js(meta, "description");
    free(a->description);
    a->description = xstrdup(d ? d : "");
    if (json_object_get(doc, "tags"))
        tags_from_json(&a->tags, json_object_get(doc, "tags"));
    else if (json_is_object(meta))
        tags_from_json(&a->tags, json_object_get(meta, "tags"));
    else
        a->tags.set = true;
    t = js(doc, "default_queue_type");
    if (!t && json_is_object(meta))
        t = js(meta, "default_queue_type");
    free(a->default_queue_type);
    a->default_queue_type = t && strcmp(t, "undefined") != 0 && t[0] ? xstrdup(t) : NULL;
    json_decref(doc);
}

static int get_json(struct rmqt_http *h, const char *path, json_t **doc, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    json_error_t jerr;

    *doc = NULL;
    rmqt_http_response_init(&resp);
    if (rmqt_http_request(h, "GET", path, NULL, &resp, err) < 0) {
        rmqt_http_response_release(&resp);
        return -1;
    }
    *doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, &jerr);
    rmqt_http_response_release(&resp);
    if (!*doc)
        return rmqt_error_set(err, RMQT_ERR_PARSE, "%s: not JSON (%s)", path, jerr.text);
    return 0;
}

static int cmp_perm(const void *a, const void *b)
{
    return strcmp(((const struct access_perm *)a)->user, ((const struct access_perm *)b)->user);
}

static int cmp_topic(const void *a, const void *b)
{
    const struct access_topic *x = a, *y = b;
    int c = strcmp(x->user, y->user);
    return c ? c : strcmp(x->exchange, y->exchange);
}

static char *dup_or_empty(const char *s)
{
    return xstrdup(s ? s : "");
}

int access_read_vhost(struct rmqt_http *h, struct vhost *vh, struct rmqt_error *err)
{
    struct vhost_access *a = vhost_access_of(vh);
    struct strbuf path = {0};
    json_t *doc = NULL, *o;
    size_t i;
    int rc = -1;

    strbuf_adds(&path, "/api/vhosts/");
    rmqt_url_encode(&path, vh->name);
    strbuf_adds(&path, "/permissions");
    if (get_json(h, path.buf, &doc, err) < 0)
        goto out;
    a->has_perms = true;
    json_array_foreach(doc, i, o)
    {
        const char *user = js(o, "user");
        struct access_perm *p;
        if (!user)
            continue;
        XGROW(a->perms, a->cap_perms, a->n_perms + 1);
        p = &a->perms[a->n_perms++];
        memset(p, 0, sizeof(*p));
        p->user = xstrdup(user);
        p->configure = dup_or_empty(js(o, "configure"));
        p->write = dup_or_empty(js(o, "write"));
        p->read = dup_or_empty(js(o, "read"));
    }
    if (a->n_perms)
        qsort(a->perms, a->n_perms, sizeof(*a->perms), cmp_perm);
    json_decref(doc);
    doc = NULL;

    strbuf_reset(&path);
    strbuf_adds(&path, "/api/vhosts/");
    rmqt_url_encode(&path, vh->name);
    strbuf_adds(&path, "/topic-permissions");
    if (get_json(h, path.buf, &doc, err) < 0)
        goto out;
    a->has_topics = true;
    json_array_foreach(doc, i, o)
    {
        const char *user = js(o, "user"), *x = js(o, "exchange");
        struct access_topic *t;
        if (!user || !x)
            continue;
        XGROW(a->topics, a->cap_topics, a->n_topics + 1);
        t = &a->topics[a->n_topics++];
        memset(t, 0, sizeof(*t));
        t->user = xstrdup(user);
        t->exchange = xstrdup(x);
        t->write = dup_or_empty(js(o, "write"));
        t->read = dup_or_empty(js(o, "read"));
    }
    if (a->n_topics)
        qsort(a->topics, a->n_topics, sizeof(*a->topics), cmp_topic);
    json_decref(doc);
    doc = NULL;

    strbuf_reset(&path);
    strbuf_adds(&path, "/api/vhost-limits/");
    rmqt_url_encode(&path, vh->name);
    if (get_json(h, path.buf, &doc, err) < 0)
        goto out;
    a->limits.set = true;
    json_array_foreach(doc, i, o) limits_from_json(&a->limits, json_object_get(o, "value"));
    rc = 0;
out:
    json_decref(doc);
    strbuf_release(&path);
    return rc;
}

static int cmp_user(const void *a, const void *b)
{
    return strcmp(((const struct access_user *)a)->name, ((const struct access_user *)b)->name);
}

int access_parse_users(struct access_users *u, const char *json, size_t len, struct rmqt_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr), *o;
    size_t i;
    char *self = u->self;

    if (!json_is_array(doc)) {
        json_decref(doc);
        return rmqt_error_set(err, RMQT_ERR_PARSE, "/api/users is not a JSON list");
    }
    for (i = 0; i < u->n; i++)
        access_user_release(&u->v[i]);
    free(u->v);
    memset(u, 0, sizeof(*u));
    u->self = self;
    u->listed = true;
    json_array_foreach(doc, i, o)
    {
        const char *name = js(o, "name"), *hash = js(o, "password_hash");
        const char *alg = js(o, "hashing_algorithm");
        struct access_user *us;

        if (!name)
            continue;
        XGROW(u->v, u->cap, u->n + 1);
        us = &u->v[u->n++];
        memset(us, 0, sizeof(*us));
        us->name = xstrdup(name);
        us->pw = hash && hash[0] ? PW_HASH : PW_NONE;
        us->pw_ref = hash && hash[0] ? xstrdup(hash) : NULL;
        us->algorithm = xstrdup(alg ? alg : SHA256_ALG);
        tags_from_json(&us->tags, json_object_get(o, "tags"));
        limits_from_json(&us->limits, json_object_get(o, "limits"));
    }
    if (u->n)
        qsort(u->v, u->n, sizeof(*u->v), cmp_user);
    json_decref(doc);
    return 0;
}

int access_read_users(struct rmqt_http *h, struct topology *live, struct rmqt_error *err)
{
    struct access_users *u = access_users_of(live);
    struct rmqt_http_response resp;
    int rc;

    rmqt_http_response_init(&resp);
    rc = rmqt_http_request(h, "GET", "/api/users", NULL, &resp, err);
    if (rc == 0) {
        rc = access_parse_users(u, resp.body.buf ? resp.body.buf : "", resp.body.len, err);
    }
    rmqt_http_response_release(&resp);
    return rc;
}

static bool holds_permission(const struct topology *t, const char *user)
{
    size_t k, j;
    for (k = 0; k < t->n_vhosts; k++) {
        const struct vhost_access *a = t->vhosts[k].access;
        for (j = 0; a && j < a->n_perms; j++)
            if (strcmp(a->perms[j].user, user) == 0)
                return true;
        for (j = 0; a && j < a->n_topics; j++)
            if (strcmp(a->topics[j].user, user) == 0)
                return true;
    }
    return false;
}

void access_keep_users_of_vhosts(struct topology *live)
{
    struct access_users *u = live->users;
    size_t k, n = 0;

    if (!u)
        return;
    for (k = 0; k < u->n; k++) {
        if (holds_permission(live, u->v[k].name)) {
            u->v[n++] = u->v[k];
        } else {
            access_user_release(&u->v[k]);
        }
    }
    u->n = n;
}

/* ---- before the diff -------------------------------------------------------------------- */

static struct vhost *find_vhost(struct topology *t, const char *name)
{
    size_t k;
    for (k = 0; t && k < t->n_vhosts; k++)
        if (strcmp(t->vhosts[k].name, name) == 0)
            return &t->vhosts[k];
    return NULL;
}

static int read_connections(struct rmqt_http *h, struct access_users *u, struct rmqt_error *err)
{
    json_t *doc, *o;
    size_t i, k;

    if (get_json(h, "/api/connections?columns=user", &doc, err) < 0)
        return -1;
    json_array_foreach(doc, i, o)
    {
        const char *user = js(o, "user");
        for (k = 0; user && k < u->n; k++)
            if (strcmp(u->v[k].name, user) == 0)
                u->v[k].connections++;
    }
    json_decref(doc);
    return 0;
}

/* Reads the password of a password_env / password_file user (errors to dl). */
static void read_secret(const struct topology *desired, struct access_user *u, struct diag_list *dl)
{
    char *path =
        xasprintf("users.%s.%s", u->name, u->pw == PW_ENV ? "password_env" : "password_file");

    if (u->pw == PW_ENV) {
        const char *v = getenv(u->pw_ref);
        if (!v)
            diag_add(dl, DIAG_ERROR, desired->file, u->pw_pos, path,
                     "environment variable '%s' is not set (it holds the user's password)",
                     u->pw_ref);
        else if (!*v) /* a CI secret that expanded to nothing: the broker refuses it at login */
            diag_add(dl, DIAG_ERROR, desired->file, u->pw_pos, path,
                     "environment variable '%s' is empty: a user without a password login is "
                     "written no_password: true",
                     u->pw_ref);
        else {
            u->secret_len = strlen(v);
            u->secret = xstrndup(v, u->secret_len);
            u->secret_read = true;
        }
    } else {
        struct stat st;
        /* O_NONBLOCK: a FIFO must not hang the plan; only a regular file is read */
        int fd = open(u->pw_ref, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        FILE *f = NULL;
        struct strbuf sb = {0};
        char chunk[4096];
        size_t got;

        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
            diag_add(dl, DIAG_ERROR, desired->file, u->pw_pos, path,
                     "the password file '%s' is not a regular file", u->pw_ref);
            close(fd);
        } else if (fd < 0 || !(f = fdopen(fd, "rb"))) {
            diag_add(dl, DIAG_ERROR, desired->file, u->pw_pos, path,
                     "cannot read the password file '%s': %s", u->pw_ref, strerror(errno));
            if (fd >= 0)
                close(fd);
        } else {
            while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && sb.len <= MAX_PASSWORD_FILE)
                strbuf_add(&sb, chunk, got);
            if (ferror(f) || sb.len > MAX_PASSWORD_FILE)
                diag_add(dl, DIAG_ERROR, desired->file, u->pw_pos, path,
                         "cannot read the password file '%s': %s", u->pw_ref,
                         ferror(f) ? strerror(errno) : "larger than 64 KiB");
            else {
                /* one line ending (as echo and editors leave it) is not part of the password */
                if (sb.len && sb.buf[sb.len - 1] == '\n')
                    sb.len--;
                if (sb.len && sb.buf[sb.len - 1] == '\r')
                    sb.len--;
                if (sb.len == 0)
                    diag_add(dl, DIAG_ERROR, desired->file, u->pw_pos, path,
                             "the password file '%s' is empty: a user without a password login "
                             "is written no_password: true",
                             u->pw_ref);
                else {
                    u->secret = xstrndup(sb.buf, sb.len);
                    u->secret_len = sb.len;
                    u->secret_read = true;
                }
            }
            fclose(f);
            if (sb.buf)
                memset(sb.buf, 0, sb.cap ? sb.cap : sb.len);
        }
        strbuf_release(&sb);
    }
    free(path);
}

/* A key the broker's version lacks: an error at pos (introduced in major.minor.patch). */
static void need_version(struct diag_list *dl, const char *file, struct rmqt_pos pos,
                         const char *path, const struct rmqt_version *v, int major, int minor,
                         int patch, const char *what)
{
    if (rmqt_version_at_least(v, major, minor, patch))
        return;
    diag_add(dl, DIAG_ERROR, file, pos, path,
             "%s needs RabbitMQ %d.%d.%d or later (the broker is %d.%d.%d)", what, major, minor,
             patch, v->major, v->minor, v->patch);
}

/* Each key at the version that introduced it (default_queue_type: see below). */
static void check_versions(const struct topology *t, const struct rmqt_version *v,
                           struct diag_list *dl)
{
    size_t k;

    for (k = 0; t->users && k < t->users->n; k++) {
        const struct access_user *u = &t->users->v[k];
        char *path = xasprintf("users.%s.limits", u->name);
        if (u->limits.n)
            need_version(dl, t->file, u->limits.pos, path, v, 3, 8, 10, "a user limit");
        free(path);
    }
    for (k = 0; k < t->n_vhosts; k++) {
        const struct vhost_access *a = t->vhosts[k].access;
        if (!a)
            continue;
        if (a->description)
            need_version(dl, t->file, a->description_pos, "description", v, 3, 8, 0,
                         "a vhost description");
        if (a->tags.set)
            need_version(dl, t->file, a->tags.pos, "tags", v, 3, 8, 0, "vhost tags");
        if (a->limits.n)
            need_version(dl, t->file, a->limits.pos, "limits", v, 3, 7, 0, "a vhost limit");
        if (a->has_topics)
            need_version(dl, t->file, a->topics_pos, "topic_permissions", v, 3, 7, 0,
                         "a topic permission");
    }
}

int access_plan_prepare(struct rmqt_http *h, const struct topology *desired, struct topology *live,
                        const struct rmqt_version *version, struct diag_list *dl,
                        struct rmqt_error *err)
{
    struct access_users *lu = access_users_of(live);
    json_t *doc;
    size_t k;

    if (!lu->self) {
        if (get_json(h, "/api/whoami", &doc, err) < 0)
            return -1;
        if (js(doc, "name"))
            lu->self = xstrdup(js(doc, "name"));
        json_decref(doc);
    }
    if (desired->users) {
        if (access_read_users(h, live, err) < 0 || read_connections(h, lu, err) < 0)
            return -1;
        for (k = 0; k < desired->users->n; k++) {
            struct access_user *u = &desired->users->v[k];
            if ((u->pw == PW_ENV || u->pw == PW_FILE) && !u->secret_read)
                read_secret(desired, u, dl);
        }
    }
    check_versions(desired, version, dl);
    if (!rmqt_version_at_least(version, 3, 11, 0)) {
        for (k = 0; k < desired->n_vhosts; k++) {
            const struct vhost *w = &desired->vhosts[k];
            const struct vhost *l = find_vhost(live, w->name);
            const char *want = w->access ? w->access->default_queue_type : NULL;
            const char *have = l && l->access ? l->access->default_queue_type : NULL;

            if (!want || (have && strcmp(want, have) == 0))
                continue;
            {
                char have_txt[300];
                if (!l)
                    snprintf(have_txt, sizeof(have_txt), "does not exist yet");
                else if (!have)
                    snprintf(have_txt, sizeof(have_txt),
                             "has none (the broker reports 'undefined')");
                else
                    snprintf(have_txt, sizeof(have_txt), "has '%.200s'", have);
                diag_add(dl, DIAG_ERROR, desired->file, w->access->dqt_pos, "default_queue_type",
                         "RabbitMQ %d.%d.%d cannot set a vhost's default queue type (3.11+): "
                         "vhost '%s' %s; write what the broker reports or leave the key out",
                         version->major, version->minor, version->patch, w->name, have_txt);
            }
        }
    }
    return 0;
}

/* ---- diff ------------------------------------------------------------------------------- */

static void field_str(struct change *c, const char *name, const char *o, const char *n)
{
    struct tval a = {0}, b = {0};
    if (o)
        tval_set_string(&a, o, strlen(o));
    if (n)
        tval_set_string(&b, n, strlen(n));
    change_add_field(c, name, o ? &a : NULL, n ? &b : NULL);
    tval_release(&a);
    tval_release(&b);
}

static void list_tval(struct tval *v, const struct access_strlist *l)
{
    size_t k;
    tval_set_list(v);
    for (k = 0; l && k < l->n; k++)
        tval_set_string(tval_append(v, NULL), l->v[k], strlen(l->v[k]));
}

/* Tags compare as sets (the broker keeps them in its own order). */
static bool same_tags(const struct access_strlist *a, const struct access_strlist *b)
{
    char **x, **y;
    size_t k, na = a ? a->n : 0, nb = b ? b->n : 0;
    bool same = na == nb;

    if (!same || !na)
        return same;
    x = xcalloc(na, sizeof(*x));
    y = xcalloc(nb, sizeof(*y));
    memcpy(x, a->v, na * sizeof(*x));
    memcpy(y, b->v, nb * sizeof(*y));
    qsort(x, na, sizeof(*x), cmp_str);
    qsort(y, nb, sizeof(*y), cmp_str);
    for (k = 0; same && k < na; k++)
        same = strcmp(x[k], y[k]) == 0;
    free(x);
    free(y);
    return same;
}

static void tags_field(struct change *c, const char *name, const struct access_strlist *o,
                       const struct access_strlist *n)
{
    struct tval a = {0}, b = {0};
    list_tval(&a, o);
    list_tval(&b, n);
    change_add_field(c, name, o ? &a : NULL, &b);
    tval_release(&a);
    tval_release(&b);
}

static const struct access_limit *limit_get(const struct access_limits *l, const char *key)
{
    size_t k;
    for (k = 0; l && k < l->n; k++)
        if (strcmp(l->v[k].key, key) == 0)
            return &l->v[k];
    return NULL;
}

/* Fields "limits.<key>" where want and live differ; returns how many. c NULL: only counts. */
static size_t diff_limits(struct change *c, const struct access_limits *live,
                          const struct access_limits *want)
{
    size_t k, n = 0;
    char name[128];

    for (k = 0; k < want->n; k++) {
        const struct access_limit *l = limit_get(live, want->v[k].key);
        struct tval o = {0}, v = {0};
        if (l && l->value == want->v[k].value)
            continue;
        n++;
        if (!c)
            continue;
        snprintf(name, sizeof(name), "limits.%s", want->v[k].key);
        if (l)
            tval_set_int(&o, l->value);
        tval_set_int(&v, want->v[k].value);
        change_add_field(c, name, l ? &o : NULL, &v);
    }
    for (k = 0; live && k < live->n; k++) {
        struct tval o = {0};
        if (limit_get(want, live->v[k].key))
            continue;
        n++;
        if (!c)
            continue;
        snprintf(name, sizeof(name), "limits.%s", live->v[k].key);
        tval_set_int(&o, live->v[k].value);
        change_add_field(c, name, &o, NULL);
    }
    return n;
}

static const char *alg_or_default(const char *a)
{
    return a ? a : SHA256_ALG;
}

/* Whether the broker's user has the file's password (an unread password compares equal: it
 * cannot be compared, and reading it is reported). */
static bool same_password(const struct access_user *w, const struct access_user *l)
{
    switch (w->pw) {
    case PW_NONE:
        return l->pw == PW_NONE;
    case PW_HASH:
        return l->pw == PW_HASH && strcmp(w->pw_ref, l->pw_ref) == 0;
    case PW_ENV:
    case PW_FILE:
        if (!w->secret_read)
            return true;
        return l->pw == PW_HASH &&
               access_hash_matches(l->pw_ref, l->algorithm, w->secret, w->secret_len);
    case PW_UNSET:
        break;
    }
    return true;
}

/* The algorithm the file asks for, or NULL when it does not care (a password it hashes
 * itself with the broker's current algorithm). */
static const char *wanted_algorithm(const struct access_user *w)
{
    if (w->algorithm)
        return w->algorithm;
    return w->pw == PW_HASH ? SHA256_ALG : NULL;
}

void access_diff_users(struct plan *p, const struct topology *desired, const struct topology *live)
{
    const struct access_users *lu = live ? live->users : NULL;
    size_t k;

    if (!desired->users)
        return;
    for (k = 0; k < desired->users->n; k++) {
        const struct access_user *w = &desired->users->v[k];
        const struct access_user *l = access_find_user(lu, w->name);
        const char *walg = wanted_algorithm(w);
        struct change *c;
        bool tags, pw, alg;
        size_t nlim;

        if (!l) {
            c = plan_add_change(p, CH_CREATE, CK_USER, "", w->name);
            c->want_access = w;
            if (w->tags.n)
                tags_field(c, "tags", NULL, &w->tags);
            if (walg && strcmp(walg, SHA256_ALG) != 0)
                field_str(c, "hashing_algorithm", NULL, walg);
            if (w->pw == PW_NONE)
                field_str(c, "password", NULL, "none");
            if (w->limits.set)
                diff_limits(c, NULL, &w->limits);
            continue;
        }
        tags = w->tags.set && !same_tags(&w->tags, &l->tags);
        pw = !same_password(w, l);
        alg = walg && strcmp(walg, alg_or_default(l->algorithm)) != 0;
        nlim = w->limits.set ? diff_limits(NULL, &l->limits, &w->limits) : 0;
        if (!tags && !pw && !alg && !nlim)
            continue;
        c = plan_add_change(p, CH_UPDATE, CK_USER, "", w->name);
        c->want_access = w;
        c->live_access = l;
        if (tags)
            tags_field(c, "tags", &l->tags, &w->tags);
        if (pw)
            field_str(c, "password", NULL, "changed");
        if (alg)
            field_str(c, "hashing_algorithm", alg_or_default(l->algorithm), walg);
        if (nlim)
            diff_limits(c, &l->limits, &w->limits);
    }
}

void access_diff_users_unmanaged(struct plan *p, const struct topology *desired,
                                 const struct topology *live, const struct diff_options *opts)
{
    const struct access_users *lu = live ? live->users : NULL;
    enum change_action act = opts && opts->prune ? CH_DELETE : CH_UNMANAGED;
    size_t k;

    if (!desired->users || !lu || !lu->listed)
        return;
    for (k = 0; k < lu->n; k++) {
        const struct access_user *l = &lu->v[k];
        struct change *c;
        if (access_find_user(desired->users, l->name))
            continue;
        c = plan_add_change(p, act, CK_USER, "", l->name);
        c->live_access = l;
        if (l->connections)
            c->note = xasprintf("%lld open connection%s", (long long)l->connections,
                                l->connections == 1 ? "" : "s");
    }
}

static const struct access_perm *perm_get(const struct vhost_access *a, const char *user)
{
    size_t k;
    for (k = 0; a && k < a->n_perms; k++)
        if (strcmp(a->perms[k].user, user) == 0)
            return &a->perms[k];
    return NULL;
}

static const struct access_topic *topic_get(const struct vhost_access *a, const char *user,
                                            const char *exchange)
{
    size_t k;
    for (k = 0; a && k < a->n_topics; k++)
        if (strcmp(a->topics[k].user, user) == 0 && a->topics[k].exchange &&
            strcmp(a->topics[k].exchange, exchange) == 0)
            return &a->topics[k];
    return NULL;
}

static bool has_topics_of(const struct vhost_access *a, const char *user)
{
    size_t k;
    for (k = 0; a && k < a->n_topics; k++)
        if (strcmp(a->topics[k].user, user) == 0)
            return true;
    return false;
}

/* The first entry of user among a's topics (users are listed once each). */
static bool first_of_user(const struct vhost_access *a, size_t k)
{
    size_t j;
    for (j = 0; j < k; j++)
        if (strcmp(a->topics[j].user, a->topics[k].user) == 0)
            return false;
    return true;
}

static void diff_topics(struct plan *p, const struct vhost *want, const struct vhost_access *wa,
                        const struct vhost_access *la, enum change_action prune_act)
{
    char name[1024];
    size_t k, j;

    for (k = 0; k < wa->n_topics; k++) {
        const char *user = wa->topics[k].user;
        struct change *c = NULL;
        bool live_has = has_topics_of(la, user);

        if (!first_of_user(wa, k))
            continue;
        for (j = k; j < wa->n_topics; j++) {
            const struct access_topic *w = &wa->topics[j];
            const struct access_topic *l;
            if (strcmp(w->user, user) != 0 || !w->exchange)
                continue;
            l = topic_get(la, user, w->exchange);
            if (l && strcmp(l->write, w->write) == 0 && strcmp(l->read, w->read) == 0)
                continue;
            if (!c) {
                c = plan_add_change(p, live_has ? CH_UPDATE : CH_CREATE, CK_TOPIC_PERMISSION,
                                    want->name, user);
                c->want_access = wa;
                c->live_access = la;
            }
            snprintf(name, sizeof(name), "%s.write", w->exchange);
            if (!l || strcmp(l->write, w->write) != 0)
                field_str(c, name, l ? l->write : NULL, w->write);
            snprintf(name, sizeof(name), "%s.read", w->exchange);
            if (!l || strcmp(l->read, w->read) != 0)
                field_str(c, name, l ? l->read : NULL, w->read);
        }
        for (j = 0; la && j < la->n_topics; j++) {
            const struct access_topic *l = &la->topics[j];
            if (strcmp(l->user, user) != 0 || topic_get(wa, user, l->exchange))
                continue;
            if (!c) {
                c = plan_add_change(p, CH_UPDATE, CK_TOPIC_PERMISSION, want->name, user);
                c->want_access = wa;
                c->live_access = la;
            }
            snprintf(name, sizeof(name), "%s.write", l->exchange);
            field_str(c, name, l->write, NULL);
            snprintf(name, sizeof(name), "%s.read", l->exchange);
            field_str(c, name, l->read, NULL);
        }
    }
    for (k = 0; la && k < la->n_topics; k++) {
        struct change *c;
        if (!first_of_user(la, k) || has_topics_of(wa, la->topics[k].user))
            continue;
        c = plan_add_change(p, prune_act, CK_TOPIC_PERMISSION, want->name, la->topics[k].user);
        c->want_access = wa;
        c->live_access = la;
    }
}

void access_diff_vhost(struct plan *p, const struct vhost *want, const struct vhost *live,
                       const struct diff_options *opts)
{
    const struct vhost_access *wa = want->access, *la = live ? live->access : NULL;
    enum change_action prune_act = opts && opts->prune ? CH_DELETE : CH_UNMANAGED;
    struct change probe, *c = NULL;
    size_t k;

    if (!wa)
        return;
    /* settings: in place, as an update of the vhost (or fields of its create) */
    memset(&probe, 0, sizeof(probe));
    if (!live) {
        for (k = p->n; k-- > 0;)
            if (p->v[k].kind == CK_VHOST && p->v[k].action == CH_CREATE &&
                strcmp(p->v[k].name, want->name) == 0) {
                c = &p->v[k];
                break;
            }
    }
    {
        const char *ld = la && la->description ? la->description : "";
        const char *lq = la ? la->default_queue_type : NULL;
        bool d = wa->description && strcmp(wa->description, ld) != 0;
        bool t = wa->tags.set && !same_tags(&wa->tags, la ? &la->tags : NULL);
        bool q = wa->default_queue_type && (!lq || strcmp(lq, wa->default_queue_type) != 0);
        size_t nl = wa->limits.set ? diff_limits(NULL, la ? &la->limits : NULL, &wa->limits) : 0;

        if ((d || t || q || nl) && !c) {
            c = plan_add_change(p, CH_UPDATE, CK_VHOST, want->name, want->name);
            c->want_vhost = want;
        }
        if (c) {
            c->want_access = wa;
            c->live_access = la;
        }
        if (d)
            field_str(c, "description", live ? ld : NULL, wa->description);
        if (t)
            tags_field(c, "tags", live ? (la ? &la->tags : NULL) : NULL, &wa->tags);
        if (q)
            field_str(c, "default_queue_type", lq, wa->default_queue_type);
        if (nl)
            diff_limits(c, la ? &la->limits : NULL, &wa->limits);
    }
    if (wa->has_perms) {
        for (k = 0; k < wa->n_perms; k++) {
            const struct access_perm *w = &wa->perms[k], *l = perm_get(la, w->user);
            bool cf = !l || strcmp(l->configure, w->configure) != 0;
            bool wr = !l || strcmp(l->write, w->write) != 0;
            bool rd = !l || strcmp(l->read, w->read) != 0;

            if (!cf && !wr && !rd)
                continue;
            c = plan_add_change(p, l ? CH_UPDATE : CH_CREATE, CK_PERMISSION, want->name, w->user);
            c->want_access = w;
            c->live_access = l;
            if (cf)
                field_str(c, "configure", l ? l->configure : NULL, w->configure);
            if (wr)
                field_str(c, "write", l ? l->write : NULL, w->write);
            if (rd)
                field_str(c, "read", l ? l->read : NULL, w->read);
        }
        for (k = 0; la && k < la->n_perms; k++) {
            if (perm_get(wa, la->perms[k].user))
                continue;
            c = plan_add_change(p, prune_act, CK_PERMISSION, want->name, la->perms[k].user);
            c->live_access = &la->perms[k];
        }
    }
    if (wa->has_topics)
        diff_topics(p, want, wa, la, prune_act);
}

/* ---- never lock yourself out ------------------------------------------------------------ */

static bool list_has(const struct tval *v, const char *s)
{
    size_t k;
    for (k = 0; v && v->kind == TV_LIST && k < v->n; k++)
        if (v->entries[k].val.kind == TV_STRING && strcmp(v->entries[k].val.s, s) == 0)
            return true;
    return false;
}

void access_check_plan(const struct plan *p, const struct topology *desired,
                       const struct topology *live, struct diag_list *dl)
{
    const char *self = live && live->users ? live->users->self : NULL;
    struct rmqt_pos none = {0, 0};
    size_t k, f;

    if (!self)
        return;
    for (k = 0; k < p->n; k++) {
        const struct change *c = &p->v[k];
        const struct access_user *wu = c->kind == CK_USER ? c->want_access : NULL;
        const struct access_perm *wp = c->kind == CK_PERMISSION ? c->want_access : NULL;
        struct rmqt_pos pos = wu ? wu->pos : wp ? wp->pos : none;
        char *path;

        if ((c->kind != CK_USER && c->kind != CK_PERMISSION) || strcmp(c->name, self) != 0)
            continue;
        path = c->kind == CK_USER ? xasprintf("users.%s", c->name)
                                  : xasprintf("permissions.%s", c->name);
        if (c->action == CH_DELETE) {
            if (c->kind == CK_USER)
                diag_add(dl, DIAG_ERROR, desired->file, desired->users ? desired->users->pos : none,
                         "users",
                         "apply would delete user '%s', the user it connects as (add it to "
                         "`users`, or connect as another administrator)",
                         self);
            else
                diag_add(dl, DIAG_ERROR, desired->file, pos, "permissions",
                         "apply would delete the permissions of user '%s' in vhost '%s', the "
                         "user it connects as (add them to `permissions`)",
                         self, c->vhost);
        }
        for (f = 0; c->action == CH_UPDATE && f < c->n_fields; f++) {
            const struct change_field *fl = &c->fields[f];
            if (c->kind == CK_USER && strcmp(fl->field, "tags") == 0 &&
                list_has(&fl->old_value, "administrator") &&
                !list_has(&fl->new_value, "administrator"))
                diag_add(dl, DIAG_ERROR, desired->file, wu ? wu->tags.pos : pos, path,
                         "apply would remove the administrator tag from user '%s', the user it "
                         "connects as",
                         self);
            else if (c->kind == CK_USER && strcmp(fl->field, "password") == 0)
                diag_add(dl, DIAG_ERROR, desired->file, wu ? wu->pw_pos : pos, path,
                         "apply would change the password of user '%s', the user it connects "
                         "as, and lose its own session: change it with another user",
                         self);
            else if (c->kind == CK_PERMISSION && fl->has_new && fl->new_value.kind == TV_STRING &&
                     strcmp(fl->new_value.s, ".*") != 0)
                diag_add(dl, DIAG_ERROR, desired->file, pos, path,
                         "apply would narrow the %s permission of user '%s' in vhost '%s' (the "
                         "user it connects as, which needs '.*' there to apply the file)",
                         fl->field, self, c->vhost);
        }
        free(path);
    }
}

/* ---- apply ------------------------------------------------------------------------------ */

bool access_owns_change(const struct change *c)
{
    return c->kind == CK_VHOST || c->kind == CK_USER || c->kind == CK_PERMISSION ||
           c->kind == CK_TOPIC_PERMISSION;
}

static int send(struct rmqt_http *h, const char *method, const struct strbuf *path, json_t *body,
                struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc;

    rmqt_http_response_init(&resp);
    rc = rmqt_http_request(h, method, path->buf, text, &resp, err);
    rmqt_http_response_release(&resp);
    if (text) {
        /* it may hold a password hash */
        memset(text, 0, strlen(text));
        free(text);
    }
    json_decref(body);
    return rc;
}

static void path_of(struct strbuf *sb, const char *prefix, const char *a, const char *b)
{
    strbuf_reset(sb);
    strbuf_adds(sb, prefix);
    rmqt_url_encode(sb, a);
    if (b) {
        strbuf_addc(sb, '/');
        rmqt_url_encode(sb, b);
    }
}

static char *joined_tags(const struct access_strlist *l)
{
    struct strbuf sb = {0};
    size_t k;
    for (k = 0; l && k < l->n; k++) {
        if (k)
            strbuf_addc(&sb, ',');
        strbuf_adds(&sb, l->v[k]);
    }
    return sb.buf ? strbuf_detach(&sb, NULL) : xstrdup("");
}

/* Makes the broker's limits of one user or vhost (prefix "/api/user-limits/" or
 * "/api/vhost-limits/") match want. */
static int apply_limits(struct rmqt_http *h, const char *prefix, const char *owner,
                        const struct access_limits *live, const struct access_limits *want,
                        struct rmqt_error *err)
{
    struct strbuf path = {0};
    size_t k;
    int rc = 0;

    for (k = 0; rc == 0 && want && k < want->n; k++) {
        const struct access_limit *l = limit_get(live, want->v[k].key);
        char *bk;
        if (l && l->value == want->v[k].value)
            continue;
        bk = limit_key_broker(want->v[k].key);
        path_of(&path, prefix, owner, bk);
        rc = send(h, "PUT", &path, json_pack("{s:I}", "value", (json_int_t)want->v[k].value), err);
        free(bk);
    }
    for (k = 0; rc == 0 && want && live && k < live->n; k++) {
        char *bk;
        if (limit_get(want, live->v[k].key))
            continue;
        bk = limit_key_broker(live->v[k].key);
        path_of(&path, prefix, owner, bk);
        rc = send(h, "DELETE", &path, NULL, err);
        free(bk);
    }
    strbuf_release(&path);
    return rc;
}

static bool has_field(const struct change *c, const char *name)
{
    size_t k;
    for (k = 0; k < c->n_fields; k++)
        if (strcmp(c->fields[k].field, name) == 0)
            return true;
    return false;
}

static int apply_vhost(struct rmqt_http *h, const struct change *c, struct rmqt_error *err)
{
    const struct vhost_access *wa = c->want_access  ? c->want_access
                                    : c->want_vhost ? c->want_vhost->access
                                                    : NULL;
    const struct vhost_access *la = c->live_access;
    struct strbuf path = {0};
    int rc = 0;

    path_of(&path, "/api/vhosts/", c->name, NULL);
    if (c->action == CH_CREATE || has_field(c, "description") || has_field(c, "tags") ||
        has_field(c, "default_queue_type")) {
        json_t *body = json_object();
        const char *d = wa && wa->description ? wa->description : la ? la->description : NULL;
        const struct access_strlist *t = wa && wa->tags.set ? &wa->tags : la ? &la->tags : NULL;
        const char *q = wa && wa->default_queue_type ? wa->default_queue_type
                        : la                         ? la->default_queue_type
                                                     : NULL;
        if (d)
            json_object_set_new(body, "description", json_string(d));
        if (t) {
            char *tags = joined_tags(t);
            json_object_set_new(body, "tags", json_string(tags));
            free(tags);
        }
        /* taken from 3.11; before, the version check has refused a difference */
        if (q)
            json_object_set_new(body, "default_queue_type", json_string(q));
        rc = send(h, "PUT", &path, body, err);
    }
    if (rc == 0 && wa && wa->limits.set)
        rc = apply_limits(h, "/api/vhost-limits/", c->name, la ? &la->limits : NULL, &wa->limits,
                          err);
    strbuf_release(&path);
    return rc;
}

static int apply_user(struct rmqt_http *h, const struct change *c, struct rmqt_error *err)
{
    const struct access_user *w = c->want_access, *l = c->live_access;
    struct strbuf path = {0};
    const char *alg;
    char *hash = NULL, *tags;
    json_t *body;
    int rc;

    path_of(&path, "/api/users/", c->name, NULL);
    if (c->action == CH_DELETE) {
        rc = send(h, "DELETE", &path, NULL, err);
        strbuf_release(&path);
        return rc;
    }
    alg = wanted_algorithm(w);
    if (!alg)
        alg = l ? alg_or_default(l->algorithm) : SHA256_ALG;
    switch (w->pw) {
    case PW_ENV:
    case PW_FILE:
        if (!w->secret_read) {
            strbuf_release(&path);
            return rmqt_error_set(err, RMQT_ERR_INTERNAL, "the password of user '%s' was not read",
                                  w->name);
        }
        if (l && same_password(w, l) && strcmp(alg, alg_or_default(l->algorithm)) == 0)
            hash = xstrdup(l->pw_ref);
        else
            hash = access_hash_make(alg, w->secret, w->secret_len, NULL);
        if (!hash) {
            strbuf_release(&path);
            return rmqt_error_set(err, RMQT_ERR_INTERNAL, "cannot hash the password of user '%s'",
                                  w->name);
        }
        break;
    case PW_HASH:
        hash = xstrdup(w->pw_ref);
        break;
    case PW_NONE:
        hash = xstrdup("");
        break;
    case PW_UNSET:
        hash = xstrdup(l && l->pw_ref ? l->pw_ref : "");
        break;
    }
    tags = joined_tags(w->tags.set ? &w->tags : l ? &l->tags : NULL);
    body =
        json_pack("{s:s, s:s, s:s}", "password_hash", hash, "hashing_algorithm", alg, "tags", tags);
    memset(hash, 0, strlen(hash));
    free(hash);
    free(tags);
    rc = send(h, "PUT", &path, body, err);
    if (rc == 0 && w->limits.set)
        rc = apply_limits(h, "/api/user-limits/", c->name, l ? &l->limits : NULL, &w->limits, err);
    strbuf_release(&path);
    return rc;
}

static int apply_permission(struct rmqt_http *h, const struct change *c, struct rmqt_error *err)
{
    const struct access_perm *w = c->want_access;
    struct strbuf path = {0};
    int rc;

    path_of(&path, "/api/permissions/", c->vhost, c->name);
    if (c->action == CH_DELETE)
        rc = send(h, "DELETE", &path, NULL, err);
    else
        rc = send(h, "PUT", &path,
                  json_pack("{s:s, s:s, s:s}", "configure", w->configure, "write", w->write, "read",
                            w->read),
                  err);
    strbuf_release(&path);
    return rc;
}

static int apply_topics(struct rmqt_http *h, const struct change *c, struct rmqt_error *err)
{
    const struct vhost_access *wa = c->want_access, *la = c->live_access;
    struct strbuf path = {0};
    bool clear = c->action == CH_DELETE;
    size_t k;
    int rc = 0;

    path_of(&path, "/api/topic-permissions/", c->vhost, c->name);
    /* the broker deletes a user's topic permissions of a vhost all at once */
    for (k = 0; !clear && la && k < la->n_topics; k++)
        clear = strcmp(la->topics[k].user, c->name) == 0 &&
                !topic_get(wa, c->name, la->topics[k].exchange);
    if (clear)
        rc = send(h, "DELETE", &path, NULL, err);
    for (k = 0; rc == 0 && c->action != CH_DELETE && wa && k < wa->n_topics; k++) {
        const struct access_topic *t = &wa->topics[k];
        if (strcmp(t->user, c->name) != 0 || !t->exchange)
            continue;
        rc = send(h, "PUT", &path,
                  json_pack("{s:s, s:s, s:s}", "exchange", t->exchange, "write", t->write, "read",
                            t->read),
                  err);
    }
    strbuf_release(&path);
    return rc;
}

int access_apply_change(struct rmqt_http *h, const struct change *c, struct rmqt_error *err)
{
    int rc;

    switch (c->kind) {
    case CK_VHOST:
        rc = apply_vhost(h, c, err);
        break;
    case CK_USER:
        rc = apply_user(h, c, err);
        break;
    case CK_PERMISSION:
        rc = apply_permission(h, c, err);
        break;
    case CK_TOPIC_PERMISSION:
        rc = apply_topics(h, c, err);
        break;
    default:
        return rmqt_error_set(err, RMQT_ERR_INTERNAL, "not an access change");
    }
    if (rc < 0 && (c->kind == CK_VHOST || c->kind == CK_USER))
        rmqt_error_prefix(err, "%s %s '%s'", change_action_name(c->action),
                          change_kind_name(c->kind), c->name);
    else if (rc < 0)
        rmqt_error_prefix(err, "%s %s of user '%s' in vhost '%s'", change_action_name(c->action),
                          change_kind_name(c->kind), c->name, c->vhost);
    return rc;
}

size_t access_refusals(const struct plan *p, bool force, char ***why, size_t *n_why)
{
    size_t k, n = 0;

    for (k = 0; !force && k < p->n; k++) {
        const struct change *c = &p->v[k];
        const struct access_user *l = c->live_access;
        if (c->kind != CK_USER || c->action != CH_DELETE || !l || !l->connections)
            continue;
        *why = xrealloc(*why, (*n_why + 1) * sizeof(**why));
        (*why)[(*n_why)++] = xasprintf(
            "user '%s' has %lld open connection%s: deleting it closes them (--force to delete "
            "it anyway)",
            c->name, (long long)l->connections, l->connections == 1 ? "" : "s");
        n++;
    }
    return n;
}
