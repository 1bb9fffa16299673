/*
 * params.h - the vhost-scoped runtime parameters of topology.md's "The rest of the broker":
 * operator policies, dynamic shovels (component "shovel") and federation upstreams (component
 * "federation-upstream"). Read from the file and from the broker, validated, planned, applied
 * over the management API, exported and drawn.
 *
 * Secrets: a URI of a shovel or upstream may hold a password. Nothing here ever puts one in a
 * message, a plan field or an export: they show `amqp://user:***@host/vhost` (params_redact),
 * and export writes ${NAME} placeholders unless asked for the secrets.
 */
#ifndef RMQT_PARAMS_H
#define RMQT_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "brokerver.h"
#include "diag.h"
#include "diff.h"
#include "error.h"
#include "http.h"
#include "model.h"
#include "strbuf.h"
#include "yamltree.h"

/* A shovel or a federation upstream: its name and its definition, as the file states it or as
 * the broker stores it (no defaults added). */
struct rparam {
    char *name;
    struct rmqt_pos pos;
    struct tval value;        /* TV_MAP */
    struct rmqt_pos *val_pos; /* the position of each value (file only), parallel to entries */
    struct rmqt_pos *key_pos; /* and of each key */
    bool *val_bad;            /* a value that could not be read (reported already) */
    /* export only: URI passwords were replaced by placeholders (see params_export_prepare) */
    bool placeholders;
};

enum rparam_kind { RP_SHOVEL = 0, RP_UPSTREAM };

struct vhost_params {
    /* file: the vhost has the key (the kind is managed there) and where */
    bool has_opols, has_shovels, has_upstreams;
    struct policy *opols;
    size_t n_opols, cap_opols;
    struct rparam *shovels;
    size_t n_shovels, cap_shovels;
    struct rparam *upstreams;
    size_t n_upstreams, cap_upstreams;
    /* live only: parameters of the vhost the format cannot hold ("federation-upstream-set
     * 'name'"), for export's warning */
    char **other;
    size_t n_other, cap_other;
};

/* The params of vh, created empty when absent. */
struct vhost_params *vhost_params(struct vhost *vh);
void vhost_params_free(struct vhost_params *p);

/* ---- load (load.c) ---- */
/* Moves the policies that load.c read into `from` (a scratch vhost) into vh's operator policies
 * and releases from. */
void params_take_operator_policies(struct vhost *vh, struct vhost *from);
/* Reads `shovels` (kind RP_SHOVEL) or `federation_upstreams` of a vhost: a map name -> the
 * broker's definition keys. path: the key path of n. */
void params_load(struct vhost *vh, enum rparam_kind kind, const struct ynode *n, const char *file,
                 const char *path, struct diag_list *dl);

/* ---- validate (validate.c) ---- */
/* Operator-policy keys, shovel and upstream keys, types and required keys; with a known
 * broker (broker != NULL) the keys that broker lacks. */
void params_validate(const struct topology *t, const struct rmqt_version *broker,
                     struct diag_list *dl);

/* ---- live (live.c, plan.c) ---- */
/* Reads the `parameters` of GET /api/definitions/{vhost} (a jansson object) into vh. */
struct json_t;
void params_parse_live(struct vhost *vh, const struct json_t *definitions);
/* Fails (-1, err naming the plugin) when a vhost of desired has shovels or federation
 * upstreams and the broker lacks that plugin. */
int params_check_plugins(struct rmqt_http *h, const struct topology *desired,
                         struct rmqt_error *err);

/* ---- diff (diff.c) ---- */
/* Adds the changes of vh's operator policies, shovels and upstreams (live may be NULL). */
void params_diff(struct plan *out, const struct vhost *want, const struct vhost *live,
                 const struct diff_options *opts);
bool params_is_kind(enum change_kind k);

/* ---- apply (apply.c) ---- */
/* PUT or DELETE of one change of a params kind; the error (with the broker's reason) never
 * holds a password. */
int params_apply_change(struct rmqt_http *h, const struct change *c, struct rmqt_error *err);

/* ---- export (export.c, cmd_export.c) ---- */
bool params_vhost_has_any(const struct vhost *vh);
void params_export_vhost(struct strbuf *sb, const struct vhost *vh);
/* Before export: unless include_secrets, replaces every URI password by a ${NAME} placeholder;
 * appends one warning line each (ending in '\n') for the variables and for what the format
 * cannot hold. */
void params_export_prepare(struct topology *live, bool include_secrets, struct strbuf *warnings);
/* Appends a warning line for each global parameter the broker holds (the format cannot hold
 * them). Returns 0, or -1 with err. */
int params_export_globals(struct rmqt_http *h, struct strbuf *warnings, struct rmqt_error *err);

/* ---- secrets ---- */
/* Appends s with the password of every URI in it replaced by "***". */
void params_redact(struct strbuf *out, const char *s);
/* The same in place, in a buffer of size bytes. */
void params_redact_buf(char *buf, size_t size);

/* ---- graph (graph.c) ---- */
/* One end of a shovel or federation link: a queue or exchange of this vhost, or an endpoint
 * elsewhere named by host. */
struct params_end {
    bool local;         /* a queue/exchange of this vhost */
    bool is_exchange;   /* local: which kind */
    const char *object; /* local: its name (borrowed) */
    char host[256];     /* not local: the host ("this broker, vhost V" for another vhost) */
};
/* The ends of shovel k of vh; false when it cannot be drawn. */
bool params_shovel_ends(const struct vhost *vh, size_t k, struct params_end *src,
                        struct params_end *dst);
/* The host of upstream k ("" when none). */
void params_upstream_host(const struct vhost *vh, size_t k, char *out, size_t size);

#endif
