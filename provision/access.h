/*
 * access.h - users, permissions, topic permissions and vhost settings (description, tags,
 * default queue type, limits): topology.md, "The rest of the broker".
 *
 * Every stage of these kinds lives here, next to each other, and the shared pipeline calls in
 * with one hook a stage: the model (users on the topology, struct vhost_access on a vhost),
 * load, validate, the live read (management API), the diff (changes of kinds CK_USER,
 * CK_PERMISSION, CK_TOPIC_PERMISSION and updates of CK_VHOST), the checks that need the
 * broker (the connecting user is never locked out; default_queue_type before 3.11), apply
 * (HTTP) and export.
 *
 * Secrets: a password given by password_env or password_file is read at plan time
 * (access_plan_prepare) and only ever compared with the broker's salted hash or hashed with a
 * new salt; it is never sent, printed or put in a change.
 */
#ifndef RMQT_ACCESS_H
#define RMQT_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "brokerver.h"
#include "diag.h"
#include "diff.h"
#include "error.h"
#include "http.h"
#include "model.h"
#include "strbuf.h"
#include "yamltree.h"

/* One limit: the file's key ("max_connections") and its value (-1: no limit). */
struct access_limit {
    char *key;
    int64_t value;
    struct rmqt_pos pos;
};

struct access_limits {
    struct access_limit *v;
    size_t n, cap;
    bool set; /* the file has the key (live: always) */
    struct rmqt_pos pos;
};

struct access_strlist {
    char **v;
    size_t n, cap;
    bool set;
    struct rmqt_pos pos;
};

enum access_pw { PW_UNSET = 0, PW_ENV, PW_FILE, PW_HASH, PW_NONE };

struct access_user {
    char *name;
    struct rmqt_pos pos;
    struct access_strlist tags;
    enum access_pw pw;
    char *pw_ref; /* the variable name, the file's path, or the hash (live: the hash) */
    struct rmqt_pos pw_pos;
    char *algorithm; /* NULL: rabbit_password_hashing_sha256 */
    struct rmqt_pos algorithm_pos;
    struct access_limits limits;
    /* file side, at plan time: the password of password_env / password_file */
    char *secret;
    size_t secret_len;
    bool secret_read;
    /* live: open connections of this user */
    int64_t connections;
};

struct access_users {
    struct access_user *v;
    size_t n, cap;
    struct rmqt_pos pos;
    /* live: the user the management API client connects as (GET /api/whoami); NULL: unknown */
    char *self;
    bool listed; /* live: the users were read (GET /api/users) */
};

struct access_perm {
    char *user;
    struct rmqt_pos pos;
    char *configure, *write, *read;
};

struct access_topic {
    char *user;
    char *exchange;
    char *write, *read;
    struct rmqt_pos pos, exchange_pos;
};

struct vhost_access {
    char *description; /* NULL: not set (live: "" when the broker has none) */
    struct rmqt_pos description_pos;
    struct access_strlist tags;
    char *default_queue_type; /* NULL: not set (live: not reported, or "undefined") */
    struct rmqt_pos dqt_pos;
    struct access_limits limits;
    struct access_perm *perms;
    size_t n_perms, cap_perms;
    bool has_perms;
    struct rmqt_pos perms_pos;
    struct access_topic *topics;
    size_t n_topics, cap_topics;
    bool has_topics;
    struct rmqt_pos topics_pos;
};

/* ---- model ---- */

/* The users of t, made (empty) when absent. Borrowed. */
struct access_users *access_users_of(struct topology *t);
/* The access settings of vh, made (empty) when absent. Borrowed. */
struct vhost_access *vhost_access_of(struct vhost *vh);
void access_users_free(struct access_users *u);
/* Frees what one user holds (the password wiped first). */
void access_user_release(struct access_user *u);
void vhost_access_free(struct vhost_access *a);
const struct access_user *access_find_user(const struct access_users *u, const char *name);

/* ---- load (hooks of load.c) ---- */

/* The keys a vhost map takes from this module, NULL-terminated (for "did you mean"). */
extern const char *const access_vhost_keys[];
/* Loads the vhost key `key` (one of access_vhost_keys) into vh; path is the key path so far
 * (ending in the key). Returns false when key is not one of ours. */
bool access_load_vhost_key(struct vhost *vh, const struct ynode *key, const struct ynode *val,
                           const char *file, const char *path, struct diag_list *dl);
/* Loads the top-level `users` map into t. */
void access_load_users(struct topology *t, const struct ynode *val, const char *file,
                       struct diag_list *dl);

/* ---- validate (hooks of validate.c) ---- */

/* The offline rules: a topic permission for an exchange neither in the file nor built in is a
 * warning (the broker accepts it). */
void access_validate(const struct topology *t, struct diag_list *dl);

/* ---- the broker (hooks of live.c and plan.c) ---- */

/* Parses GET /api/vhosts/{v} (description, tags, default_queue_type) into vh's access. */
void access_parse_vhost_info(struct vhost *vh, const char *json, size_t len);
/* Reads vh's permissions, topic permissions and limits. Returns 0, or -1 with err. */
int access_read_vhost(struct rmqt_http *h, struct vhost *vh, struct rmqt_error *err);
/* Parses GET /api/users into u (replacing what it held). Returns 0, or -1 with err. */
int access_parse_users(struct access_users *u, const char *json, size_t len,
                       struct rmqt_error *err);
/* Reads every user (GET /api/users) into live's users. Returns 0, or -1 with err. */
int access_read_users(struct rmqt_http *h, struct topology *live, struct rmqt_error *err);
/* Keeps only the users that hold a permission or topic permission in live's vhosts (export
 * with --vhost). */
void access_keep_users_of_vhosts(struct topology *live);

/* Before the diff: reads the connecting user (whoami), the users and their connections when
 * the file has `users`, the passwords of password_env / password_file (errors to dl), and
 * checks default_queue_type against a broker before 3.11 (a difference is an error naming the
 * version). Returns 0, or -1 with err when the broker could not be read. */
int access_plan_prepare(struct rmqt_http *h, const struct topology *desired, struct topology *live,
                        const struct rmqt_version *version, struct diag_list *dl,
                        struct rmqt_error *err);

/* ---- diff (hooks of diff.c) ---- */

/* Creates and updates of the file's users: first in the plan (users before permissions). */
void access_diff_users(struct plan *p, const struct topology *desired, const struct topology *live);
/* Users the file does not name (when it has `users`): unmanaged, or deletes with prune; last
 * in the plan. */
void access_diff_users_unmanaged(struct plan *p, const struct topology *desired,
                                 const struct topology *live, const struct diff_options *opts);
/* A vhost's settings (an update of the vhost, or fields of its create), permissions and
 * topic permissions. live may be NULL (the vhost is created). */
void access_diff_vhost(struct plan *p, const struct vhost *want, const struct vhost *live,
                       const struct diff_options *opts);

/* After the diff: apply never deletes, demotes (administrator tag), changes the password of,
 * or takes the permissions it uses from the user it connects as. Errors to dl (file: the
 * name diagnostics show). */
void access_check_plan(const struct plan *p, const struct topology *desired,
                       const struct topology *live, struct diag_list *dl);

/* ---- apply (hooks of apply.c) ---- */

/* Whether this module applies change c (over HTTP). */
bool access_owns_change(const struct change *c);
/* Applies c over the management API. Returns 0, or -1 with err (the broker's reason, no
 * secret). */
int access_apply_change(struct rmqt_http *h, const struct change *c, struct rmqt_error *err);
/* Appends to why (new strings) the deletes of users with open connections when !force.
 * Returns how many. */
size_t access_refusals(const struct plan *p, bool force, char ***why, size_t *n_why);

/* ---- export (hooks of export.c) ---- */

/* Whether vh has settings of this module to write. */
bool access_vhost_has_export(const struct vhost *vh);
/* Writes vh's settings, permissions and topic permissions (indent: the vhost's keys). */
void access_export_vhost(struct strbuf *sb, const struct vhost *vh);
/* Writes the top-level `users` map, when t has users. */
void access_export_users(struct strbuf *sb, const struct topology *t);

/* ---- password hashes (the broker's: base64 of a 4-byte salt ++ digest(salt ++ password)) ---- */

/* Whether password matches hash (base64) under algorithm ("rabbit_password_hashing_sha256",
 * "..._sha512", "..._md5"; NULL: sha256). false for "" or a malformed hash. */
bool access_hash_matches(const char *hash, const char *algorithm, const char *password, size_t len);
/* A new hash of password with a random salt (or salt when not NULL: 4 bytes). New; NULL
 * for an unknown algorithm. */
char *access_hash_make(const char *algorithm, const char *password, size_t len,
                       const unsigned char *salt);

#endif
