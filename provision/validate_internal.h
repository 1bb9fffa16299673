/*
 * validate_internal.h - what the parts of validate share: the context of one run and the
 * helpers for paths and messages. validate.c holds names, exchanges, queues, arguments and
 * bindings; validate_policy.c the policies; validate_deadletter.c the dead-letter routes.
 * Private to provision/validate*.c.
 */
#ifndef RMQT_VALIDATE_INTERNAL_H
#define RMQT_VALIDATE_INTERNAL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "argspec.h"
#include "strbuf.h"
#include "strmap.h"
#include "validate.h"

#define MAX_NAME_BYTES 255

/* What an exchange reference is for (check_exchange_target). */
enum target_role { TR_ALTERNATE, TR_DEAD_LETTER };

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

/* Adds a diagnostic of the file at pos, path. */
void vdiag(struct vctx *c, enum diag_severity sev, struct rmqt_pos pos, const char *path,
           const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* name made safe to quote, in a static buffer of two slots (two names a message). */
const char *qs(int slot, const char *s);
/* Key paths ("queues.q.arguments.x-..."), in c->path: valid until the next call. */
const char *object_path(struct vctx *c, const char *kind, const char *name, const char *field);
const char *queue_path(struct vctx *c, const struct queue *q, const char *field);
const char *arg_path(struct vctx *c, const char *kind, const char *name, const struct targ *a);
const char *policy_path(struct vctx *c, const struct policy *p, const char *field);
/* Whether the broker (when known) is older than major.minor; its version as text. */
bool broker_lacks(const struct vctx *c, int major, int minor);
const char *broker_version_str(const struct vctx *c);
/* Appends what a value is ("the string 'x'"), for type errors. */
void describe_found(struct strbuf *sb, const struct tval *v);
/* Checks a reference to an exchange that messages go to (dead-letter, alternate). */
void check_exchange_target(struct vctx *c, const char *name, struct rmqt_pos pos, const char *path,
                           enum target_role role, bool from_policy, const char *owner);
/* Bindings of a source: by exact key, with wildcards, all (counts over the index). */
size_t bindings_with_key(const struct vctx *c, const char *source, const char *rk);
size_t bindings_wild(const struct vctx *c, const char *source);
size_t bindings_from(const struct vctx *c, const char *name);
/* The type of exchange name in the vhost, or NULL when the file does not declare it. */
const char *exchange_type_of(const struct vctx *c, const char *name);
/* Policies (validate_policy.c): their definitions, which policy applies to each queue, and
 * the version checks. */
void check_policies(struct vctx *c);
void resolve_policies(struct vctx *c);
void check_policy_versions(struct vctx *c, const struct policy *p);
/* Dead-letter routes, with the policies applied (validate_deadletter.c). */
void check_dead_lettering(struct vctx *c);

#endif
