/*
 * yamltree.h - YAML text to a tree of positioned nodes.
 *
 * The loader needs the line and column of every node, all problems in one run, and safety on
 * any input, so this module turns libyaml's event stream into a small tree without recursion
 * (an explicit stack, a depth limit), rejects duplicate keys, expands aliases within a node
 * budget (no "billion laughs"), substitutes ${NAME} / ${NAME:-default} from the environment in
 * every scalar (keys included) and resolves plain scalars with the YAML 1.2 core schema.
 */
#ifndef RMQT_YAMLTREE_H
#define RMQT_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum ynode_kind { YN_SCALAR, YN_MAP, YN_SEQ };

/* What a scalar resolved to. */
enum yscalar { YS_NULL, YS_BOOL, YS_INT, YS_FLOAT, YS_STRING, YS_INT_RANGE };

struct ynode {
    /* YN_MAP (items alternate key, value) and YN_SEQ; fixed once the collection ends */
    struct ynode **items;
    /* YN_SCALAR: the text after substitution, NUL-terminated (len may be less than strlen
     * when it holds a NUL), and what it resolved to */
    char *text;
    union {
        int64_t i; /* YS_INT */
        double d;  /* YS_FLOAT */
    };
    uint32_t len;
    uint32_t n;      /* items */
    uint32_t weight; /* nodes this one stands for, aliases expanded (for the budget) */
    struct rmqt_pos pos;
    uint8_t kind; /* enum ynode_kind */
    uint8_t type; /* enum yscalar */
    bool b;       /* YS_BOOL */
    bool bad;     /* its value could not be made (reported): users skip it quietly */
};

/* Where ${NAME} takes its values; returns NULL for an unset variable. */
typedef const char *(*yenv_fn)(const char *name, void *ctx);

struct ydoc_options {
    yenv_fn env; /* NULL: getenv */
    void *env_ctx;
    /* Called with each key of the top-level `vhosts` map as soon as it is read (before the
     * rest of the file), so a caller can start reading that vhost from a broker while the
     * file is still being loaded. NULL: not called. */
    void (*on_vhost)(const char *name, void *ctx);
    void *on_vhost_ctx;
    int max_depth;    /* 0: 64 */
    size_t max_nodes; /* 0: 4,000,000 (aliases expanded) */
};

struct yarena_block;

struct ydoc {
    struct ynode *root;         /* NULL for an empty document */
    struct yarena_block *arena; /* nodes, texts and item arrays: freed together */
};

/* Parses len bytes of YAML. Problems go to dl as errors at file:line:col. Returns 0 when the
 * document could be built (it may still have had substitution errors: check dl->errors), -1
 * when it could not (syntax error, limits); doc then holds nothing to use. */
int ydoc_parse(struct ydoc *doc, const char *file, const char *buf, size_t len,
               const struct ydoc_options *opts, struct diag_list *dl);
/* Frees every node. Accepts NULL. */
void ydoc_release(struct ydoc *doc);

/* The value of key in map node m, or NULL. Borrowed. */
const struct ynode *ynode_get(const struct ynode *m, const char *key);
/* "map", "list", "string", "integer" ... for messages about what was found. */
const char *ynode_describe_kind(const struct ynode *n);

#endif
