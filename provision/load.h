/*
 * load.h - topology files (YAML) into the model.
 *
 * Reports every structural problem of a file (YAML syntax, unknown or duplicate keys, wrong
 * types, bad units, unset variables) with file:line:col and key path into a diag_list, and
 * builds as much of the model as it can so that validate can report semantic problems too.
 */
#ifndef RMQT_LOAD_H
#define RMQT_LOAD_H

#include <stddef.h>

#include "diag.h"
#include "model.h"
#include "yamltree.h"

struct load_options {
    yenv_fn env; /* NULL: the process environment */
    void *env_ctx;
    size_t max_file_size; /* 0: 256 MiB */
    /* called with each vhost name as soon as it is read (see struct ydoc_options) */
    void (*on_vhost)(const char *name, void *ctx);
    void *on_vhost_ctx;
};

/* Loads len bytes named file (the name diagnostics show). t must be initialised; it is filled
 * with what could be read. Returns 0 when the model is usable for semantic checks (even if
 * dl got errors), -1 when nothing usable was read (syntax error, not a topology at all). */
int topology_load_buffer(struct topology *t, const char *file, const char *buf, size_t len,
                         const struct load_options *opts, struct diag_list *dl);

/* Reads path ("-" = standard input) and loads it as above. */
int topology_load_file(struct topology *t, const char *path, const struct load_options *opts,
                       struct diag_list *dl);

#endif
