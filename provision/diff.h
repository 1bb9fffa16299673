/*
 * diff.h - what it takes to make the live broker match the file: the plan.
 *
 * A pure function of two models (the file's and the broker's, see live.h), linear in the
 * number of objects. Each difference is classified as cli.md says: create, update (changed in
 * place: policies), replace (what the broker cannot change in place: queue type, flags,
 * arguments; exchange type, flags, arguments), delete (only with prune) and unmanaged (live
 * objects the file does not name, reported only). Bindings are identities: created, or
 * unmanaged/deleted, never updated; the bindings into and out of a replaced object are
 * planned again because deleting the object drops them.
 */
#ifndef RMQT_DIFF_H
#define RMQT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "value.h"

struct rparam;

enum change_action { CH_CREATE, CH_UPDATE, CH_REPLACE, CH_DELETE, CH_UNMANAGED };
enum change_kind {
    CK_VHOST,
    CK_EXCHANGE,
    CK_QUEUE,
    CK_BINDING,
    CK_POLICY,
    CK_USER,
    CK_PERMISSION,
    CK_TOPIC_PERMISSION,
    CK_OPERATOR_POLICY,
    CK_SHOVEL,
    CK_FEDERATION_UPSTREAM
};
#define CH_ACTIONS 5

/* One differing field: old is the broker's value, new the file's (as the broker would hold
 * it: x-arguments as sent). A side that has no value is TV_NULL with has_* false. */
struct change_field {
    char *field; /* "type", "durable", "arguments.x-message-ttl", "definition.max-length" */
    struct tval old_value, new_value;
    bool has_old, has_new;
};

struct change {
    enum change_action action;
    enum change_kind kind;
    char *vhost;
    char *name; /* vhost, exchange, queue, policy; NULL for bindings */
    /* bindings */
    char *source, *destination, *routing_key;
    bool dest_is_exchange;
    struct tval args;
    /* update and replace */
    struct change_field *fields;
    size_t n_fields, cap_fields;
    /* a queue to replace or delete: its messages now */
    int64_t messages;
    bool has_messages;
    char *note; /* why, when not obvious (NULL when none) */
    /* a queue whose migration was interrupted: the live queue holding its messages (apply
     * moves them back); NULL when none */
    const struct queue *holding_queue;
    /* an unmanaged binding that a replace deletes: apply binds it again */
    bool rebind;
    /* the objects, borrowed from the models (NULL where absent) */
    const struct vhost *want_vhost;
    const struct exchange *want_exchange, *live_exchange;
    const struct queue *want_queue, *live_queue;
    const struct binding *want_binding, *live_binding;
    const struct policy *want_policy, *live_policy;
    /* users, permissions, topic permissions (access.h): the file's and the broker's */
    const void *want_access, *live_access;
    const struct rparam *want_param, *live_param; /* shovels, upstreams (params.h) */
};

struct plan {
    struct change *v;
    size_t n, cap;
    size_t count[CH_ACTIONS];
};

struct diff_options {
    bool prune; /* unmanaged objects become deletes */
};

/* Appends a change (vhost and name copied; name may be NULL) and counts it. Borrowed. */
struct change *plan_add_change(struct plan *p, enum change_action action, enum change_kind kind,
                               const char *vhost, const char *name);
/* Records a differing field of c; old or new may be NULL (absent on that side). */
void change_add_field(struct change *c, const char *field, const struct tval *old_value,
                      const struct tval *new_value);

void plan_init(struct plan *p);
/* Frees every change. Accepts NULL. */
void plan_release(struct plan *p);

/* Computes the plan that makes `live` match `desired`. Both models must be indexed
 * (vhost_index). The plan borrows objects of both: keep them until the plan is released. */
void plan_compute(struct plan *out, const struct topology *desired, const struct topology *live,
                  const struct diff_options *opts);

/* The number of changes that make `plan` exit 2: everything but unmanaged. */
size_t plan_change_count(const struct plan *p);

const char *change_action_name(enum change_action a);
const char *change_kind_name(enum change_kind k);

#endif
