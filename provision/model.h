/*
 * model.h - the topology model: what a topology file (and, later, a live broker) says a broker
 * must contain.
 *
 * First-class fields of the file that are really AMQP arguments (message_ttl, max_length ...)
 * are stored as arguments (x-message-ttl ...) tagged with the field that set them. One
 * representation means every rule is written once, whether the user wrote the friendly field
 * or the raw argument, and what apply sends is exactly what the file stated: nothing here
 * holds a default that the file did not set.
 */
#ifndef RMQT_MODEL_H
#define RMQT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "strbuf.h"
#include "strmap.h"
#include "threshold.h"
#include "value.h"

enum queue_type { QT_CLASSIC = 0, QT_QUORUM, QT_STREAM };

/* One AMQP argument of a queue or exchange. */
struct targ {
    char *key; /* "x-message-ttl" */
    struct tval val;
    struct rmqt_pos pos; /* the value's node in the file */
    const char *field;   /* the first-class key that set it ("message_ttl"); NULL if raw */
};

struct targs {
    struct targ *v;
    size_t n, cap;
};

/* A boolean flag with where it was set (set == false: the default applies). */
struct tflag {
    bool value;
    bool set;
    struct rmqt_pos pos;
};

struct exchange {
    char *name;
    struct rmqt_pos pos;
    char *type;
    struct rmqt_pos type_pos;
    struct tflag durable, auto_delete, internal;
    struct targs args;
};

struct queue {
    char *name;
    struct rmqt_pos pos;
    enum queue_type type;
    bool type_set;
    struct rmqt_pos type_pos;
    const char *type_field; /* "type" or "arguments.x-queue-type" */
    bool type_unknown;      /* the file's type could not be read (reported): skip type rules */
    struct tflag durable, auto_delete;
    struct targs args;
    /* `alert`: thresholds for monitoring (plan and apply ignore them) */
    struct rmqt_thresholds alert;
    bool has_alert;
    struct rmqt_pos alert_pos;
    /* live only: the current message count, when read (live_read_counts) */
    int64_t messages;
    bool has_messages;
};

struct binding {
    char *source;
    char *destination;
    bool dest_is_exchange;
    char *routing_key;
    struct tval args; /* TV_MAP */
    struct rmqt_pos pos, source_pos, dest_pos;
    char *bind_queue; /* set when it came from a queue's bind: list */
    size_t index;     /* its index in bindings: or in that queue's bind: */
};

struct policy {
    char *name;
    struct rmqt_pos pos;
    char *pattern;
    struct rmqt_pos pattern_pos;
    char *apply_to; /* "all" when not set */
    bool apply_to_set;
    struct rmqt_pos apply_to_pos;
    int64_t priority;
    struct tval definition; /* TV_MAP */
    struct rmqt_pos definition_pos;
    struct rmqt_pos *def_pos; /* the position of each definition value, parallel to entries */
};

struct vhost {
    char *name;
    struct rmqt_pos pos;
    struct exchange *exchanges;
    size_t n_exchanges, cap_exchanges;
    struct queue *queues;
    size_t n_queues, cap_queues;
    struct binding *bindings;
    size_t n_bindings, cap_bindings;
    struct policy *policies;
    size_t n_policies, cap_policies;
    /* `alert_defaults`: thresholds for every dead-letter queue of the vhost */
    struct rmqt_thresholds alert_defaults;
    bool has_alert_defaults;
    bool counts_read;      /* live only: queue message counts were read */
    bool has_default_type; /* live only: the vhost's default queue type (3.11+) */
    enum queue_type default_type;
    struct strmap exchange_index; /* name -> index; built by vhost_index() */
    struct strmap queue_index;
};

struct topology {
    char *file; /* the name diagnostics show */
    int64_t version;
    struct vhost *vhosts;
    size_t n_vhosts, cap_vhosts;
};

void topology_init(struct topology *t);
/* Frees everything the topology holds. Accepts NULL. */
void topology_release(struct topology *t);

/* Append a zeroed object and return it (borrowed; invalidated by the next append). */
struct vhost *topology_add_vhost(struct topology *t, const char *name);
struct exchange *vhost_add_exchange(struct vhost *vh, const char *name);
struct queue *vhost_add_queue(struct vhost *vh, const char *name);
struct binding *vhost_add_binding(struct vhost *vh);
struct policy *vhost_add_policy(struct vhost *vh, const char *name);

/* Sorts vh's exchanges, queues and policies by name and its bindings by (source,
 * destination, routing key), then rebuilds the indexes: a stable order for export. */
void vhost_sort(struct vhost *vh);

/* (Re)builds the name indexes of vh. */
void vhost_index(struct vhost *vh);
/* Lookups through the index; NULL when absent. Borrowed. */
struct exchange *vhost_find_exchange(const struct vhost *vh, const char *name);
struct queue *vhost_find_queue(const struct vhost *vh, const char *name);

/* Adds an argument (key copied, val moved: *val is left TV_NULL). Returns it, borrowed. */
struct targ *targs_add(struct targs *a, const char *key, struct tval *val, struct rmqt_pos pos,
                       const char *field);
/* The argument with this key, or NULL. Borrowed. */
const struct targ *targs_get(const struct targs *a, const char *key);
void targs_release(struct targs *a);

/* Appends the identity of a binding (source, destination, its type, routing key, arguments)
 * in an unambiguous form: two bindings are the same object exactly when these are equal. */
void binding_identity(struct strbuf *sb, const struct binding *b);

/* The name of the queue that holds queue's messages while apply migrates it (replace with
 * messages): derived from the name alone, so that a re-run after a crash finds it. New;
 * the caller frees it. At most 255 bytes (long names are cut and get a hash). */
char *holding_queue_name(const char *queue);
/* Whether name has the holding queues' prefix. */
bool is_holding_queue_name(const char *name);

const char *queue_type_name(enum queue_type t);
/* Parses "classic" | "quorum" | "stream"; false if none. */
bool queue_type_parse(const char *s, enum queue_type *out);

#endif
