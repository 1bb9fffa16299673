/*
 * yamltree.c - libyaml events to a positioned node tree (see yamltree.h for the contract).
 *
 * Decisions:
 * - No recursion anywhere: open collections live on an explicit stack bounded by max_depth,
 *   so deeply nested input cannot overflow the C stack.
 * - Aliases share the anchored node (the tree becomes a DAG); each node carries the weight of
 *   the nodes it stands for, and the document is refused once that exceeds max_nodes.
 * - libyaml marks are 0-based: positions add 1 to line and column.
 * - Nodes, their texts and their item arrays live in one arena freed at once: a 200,000-queue
 *   file is millions of nodes, and a malloc each cost more than the parsing. A collection's
 *   children wait on one shared stack and are copied to the arena once, when it ends.
 * - Plain scalars resolve with the YAML 1.2 core schema: "yes"/"on" are strings, not booleans,
 *   and an integer beyond 64 bits is reported rather than wrapped.
 */
#include "yamltree.h"

#include "strbuf.h"
#include "strmap.h"
#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_NODES 4000000u
#define MAX_SCALAR (256u * 1024 * 1024) /* the file itself is at most this large */

struct yarena_block {
    struct yarena_block *next;
    size_t used, size;
    max_align_t data[];
};

#define ARENA_BLOCK (256u * 1024)

static void *arena_alloc(struct ydoc *doc, size_t size)
{
    struct yarena_block *blk = doc->arena;
    size_t align = sizeof(max_align_t);
    void *p;

    size = (size + align - 1) / align * align;
    if (!blk || blk->size - blk->used < size) {
        size_t bsize = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;
        blk = xmalloc(sizeof(*blk) + bsize);
        blk->used = 0;
        blk->size = bsize;
        if (bsize == size && doc->arena) {
            /* an outsized piece gets a block of its own, behind the current one */
            blk->next = doc->arena->next;
            doc->arena->next = blk;
        } else {
            blk->next = doc->arena;
            doc->arena = blk;
        }
    }
    p = (char *)blk->data + blk->used;
    blk->used += size;
    return p;
}

static char *arena_strndup(struct ydoc *doc, const char *s, size_t len)
{
    char *p = arena_alloc(doc, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

struct builder {
    struct ydoc *doc;
    const char *file;
    const struct ydoc_options *opts;
    struct diag_list *dl;
    struct ynode **stack; /* open collections */
    size_t *child_start;  /* where each open collection's children begin in pending */
    size_t depth, cap, cap_child_start;
    struct ynode **pending; /* children of open collections, innermost last */
    size_t n_pending, cap_pending;
    struct strmap anchors; /* anchor name -> index into anchor_nodes */
    char **anchor_names;
    struct ynode **anchor_nodes;
    size_t n_anchors, cap_anchor_names, cap_anchor_nodes;
    int max_depth;
    size_t max_nodes;  /* nodes aliases may add */
    size_t max_weight; /* nodes of the file, plus max_nodes */
    size_t n_nodes;    /* nodes of the file */
};

static struct rmqt_pos mark_pos(yaml_mark_t m)
{
    struct rmqt_pos p;
    p.line = (int)(m.line + 1 > 0x7fffffff ? 0x7fffffff : m.line + 1);
    p.col = (int)(m.column + 1 > 0x7fffffff ? 0x7fffffff : m.column + 1);
    return p;
}

static struct ynode *node_new(struct builder *b, enum ynode_kind kind, yaml_mark_t mark)
{
    struct ynode *n = arena_alloc(b->doc, sizeof(*n));
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->pos = mark_pos(mark);
    n->weight = 1;
    /* the expanded size may exceed what the file holds only by what aliases add */
    b->n_nodes++;
    b->max_weight = b->max_nodes + b->n_nodes;
    return n;
}

/* The key path of the node being built (as the loader writes paths: inside a vhost they start
 * at its sections), for problems found while building the tree. */
static void builder_path(const struct builder *b, struct strbuf *out)
{
    size_t lvl;
    bool skip_vhost = false;

    for (lvl = 0; lvl < b->depth; lvl++) {
        const struct ynode *coll = b->stack[lvl];
        size_t start = b->child_start[lvl];
        size_t end = lvl + 1 < b->depth ? b->child_start[lvl + 1] : b->n_pending;
        size_t cnt = end - start;

        if (coll->kind == YN_MAP) {
            const struct ynode *key;
            if (cnt % 2 == 0)
                break; /* at a key of this map: the caller names it */
            key = b->pending[start + cnt - 1];
            if (lvl == 0 && key->len == 6 && memcmp(key->text, "vhosts", 6) == 0)
                skip_vhost = true;
            if (skip_vhost && lvl <= 1)
                continue;
            if (out->len)
                strbuf_addc(out, '.');
            strbuf_add(out, key->text, key->len);
        } else {
            strbuf_addf(out, "[%zu]", cnt);
        }
    }
}

/* Whether the scalar about to be attached is a map key. */
static bool at_key(const struct builder *b)
{
    const struct ynode *parent;

    if (b->depth == 0)
        return false;
    parent = b->stack[b->depth - 1];
    return parent->kind == YN_MAP && (b->n_pending - b->child_start[b->depth - 1]) % 2 == 0;
}

/* Adds an error at pos whose path is the node being built, and for a key, the key itself
 * (its text as written). */
static void builder_error(struct builder *b, struct rmqt_pos pos, const char *key_text,
                          size_t key_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void builder_error(struct builder *b, struct rmqt_pos pos, const char *key_text,
                          size_t key_len, const char *fmt, ...)
{
    struct strbuf path = {0};
    char msg[1024];
    va_list ap;

    builder_path(b, &path);
    if (key_text) {
        if (path.len)
            strbuf_addc(&path, '.');
        strbuf_add(&path, key_text, key_len);
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_add(b->dl, DIAG_ERROR, b->file, pos, strbuf_str(&path), "%s", msg);
    strbuf_release(&path);
}

static const char *default_env(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Replaces ${NAME}, ${NAME:-default} and ${NAME-default} in text; "$${" stands for a literal
 * "${". Returns 0, or -1 after adding an error to dl. */
static int substitute(struct builder *b, const char *text, size_t len, struct rmqt_pos pos,
                      struct strbuf *out)
{
    bool key = at_key(b);
    const char *kt = key ? text : NULL;
    size_t kl = key ? len : 0;
    size_t i = 0;
    yenv_fn env = b->opts && b->opts->env ? b->opts->env : default_env;
    void *ctx = b->opts ? b->opts->env_ctx : NULL;

    while (i < len) {
        size_t start, name_end, close;
        char *name;
        const char *value;
        bool colon = false, has_default = false;

        if (text[i] == '$' && i + 2 < len && text[i + 1] == '$' && text[i + 2] == '{') {
            strbuf_adds(out, "${");
            i += 3;
            continue;
        }
        if (!(text[i] == '$' && i + 1 < len && text[i + 1] == '{')) {
            strbuf_addc(out, text[i++]);
            continue;
        }
        start = i + 2;
        name_end = start;
        while (name_end < len && is_name_char(text[name_end]))
            name_end++;
        if (name_end == start || !is_name_start(text[start])) {
            builder_error(b, pos, kt, kl,
                          "invalid variable reference: '${' must be followed by a name "
                          "(letters, digits, '_'); write '$${' for a literal '${'");
            return -1;
        }
        close = name_end;
        if (close < len && text[close] == ':' && close + 1 < len && text[close + 1] == '-') {
            colon = has_default = true;
            close += 2;
        } else if (close < len && text[close] == '-') {
            has_default = true;
            close += 1;
        }
        {
            size_t def_start = close;
            while (close < len && text[close] != '}')
                close++;
            if (close >= len) {
                builder_error(b, pos, kt, kl, "unterminated variable reference: missing '}'");
                return -1;
            }
            if (!has_default && close != name_end) {
                builder_error(
                    b, pos, kt, kl,
                    "invalid variable reference: expected '}', ':-' or '-' after the name");
                return -1;
            }
            name = xstrndup(text + start, name_end - start);
            value = env(name, ctx);
            if (value && (!colon || value[0] != '\0'))
                strbuf_adds(out, value);
            else if (has_default)
                strbuf_add(out, text + def_start, close - def_start);
            else {
                builder_error(
                    b, pos, kt, kl,
                    "environment variable '%s' is not set (write ${%s:-default} to give a "
                    "default)",
                    name, name);
                free(name);
                return -1;
            }
            free(name);
        }
        i = close + 1;
        if (out->len > MAX_SCALAR) {
            builder_error(b, pos, kt, kl, "value longer than %u MiB after substituting variables",
                          MAX_SCALAR >> 20);
            return -1;
        }
    }
    return 0;
}

static bool parse_int(const char *s, int64_t *out, bool *range)
{
    const char *p = s;
    int base = 10;
    char *end;
    long long v;
    bool neg = false;

    *range = false;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
        if (neg || s[0] == '+')
            return false; /* the core schema has no signed hex or octal */
        base = p[1] == 'x' ? 16 : 8;
        p += 2;
    }
    if (!*p)
        return false;
    for (end = (char *)p; *end; end++) {
        char c = *end;
        bool ok = base == 16
                      ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
                      : (c >= '0' && c <= (base == 8 ? '7' : '9'));
        if (!ok)
            return false;
    }
    errno = 0;
    if (base == 10)
        v = strtoll(s, &end, 10);
    else
        v = strtoll(p, &end, base);
    if (errno == ERANGE) {
        *range = true;
        return true;
    }
    *out = (int64_t)v;
    return true;
}

static bool parse_float(const char *s, double *out)
{
    const char *p = s;
    bool digits = false;
    char *end;

    if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 || strcmp(s, ".INF") == 0 ||
        strcmp(s, "+.inf") == 0 || strcmp(s, "+.Inf") == 0 || strcmp(s, "+.INF") == 0) {
        *out = INFINITY;
        return true;
    }
    if (strcmp(s, "-.inf") == 0 || strcmp(s, "-.Inf") == 0 || strcmp(s, "-.INF") == 0) {
        *out = -INFINITY;
        return true;
    }
    if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0) {
        *out = NAN;
        return true;
    }
    /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
    if (*p == '-' || *p == '+')
        p++;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    *out = strtod(s, &end);
    return true;
}

/* Resolves a plain (or core-tagged) scalar. tag_type: -1 none, else the forced type. */
static void resolve(struct ynode *n, bool plain)
{
    const char *s = n->text;
    bool range;

    n->type = YS_STRING;
    if (!plain || strlen(s) != n->len)
        return;
    if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0) {
        n->type = YS_NULL;
    } else if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        n->type = YS_BOOL;
        n->b = true;
    } else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        n->type = YS_BOOL;
        n->b = false;
    } else if (parse_int(s, &n->i, &range)) {
        n->type = range ? YS_INT_RANGE : YS_INT;
    } else if (parse_float(s, &n->d)) {
        n->type = YS_FLOAT;
    }
}

/* Applies an explicit tag. Returns -1 (with an error) for a tag we do not take. */
static int apply_tag(struct builder *b, struct ynode *n, const char *tag)
{
    static const char core[] = "tag:yaml.org,2002:";
    enum yscalar want;

    if (strcmp(tag, "!") == 0 || strcmp(tag, "tag:yaml.org,2002:str") == 0) {
        n->type = YS_STRING;
        return 0;
    }
    if (!rmqt_has_prefix(tag, core))
        goto bad;
    tag += sizeof(core) - 1;
    if (strcmp(tag, "int") == 0)
        want = YS_INT;
    else if (strcmp(tag, "float") == 0)
        want = YS_FLOAT;
    else if (strcmp(tag, "bool") == 0)
        want = YS_BOOL;
    else if (strcmp(tag, "null") == 0)
        want = YS_NULL;
    else
        goto bad;
    resolve(n, true);
    if (want == YS_FLOAT && n->type == YS_INT) {
        n->type = YS_FLOAT;
        n->d = (double)n->i;
    }
    if (n->type != want && !(want == YS_INT && n->type == YS_INT_RANGE)) {
        struct strbuf sb = {0};
        rmqt_quote_add(&sb, n->text, n->len, 60);
        builder_error(b, n->pos, NULL, 0, "'%s' is not a valid !!%s", strbuf_str(&sb), tag);
        strbuf_release(&sb);
        return -1;
    }
    return 0;
bad : {
    struct strbuf sb = {0};
    rmqt_quote_add(&sb, tag, strlen(tag), 60);
    builder_error(b, n->pos, NULL, 0,
                  "unsupported YAML tag '%s' (only the core tags !!str, !!int, !!float, !!bool, "
                  "!!null are understood)",
                  strbuf_str(&sb));
    strbuf_release(&sb);
    return -1;
}
}

static void register_anchor(struct builder *b, const char *anchor, struct ynode *n)
{
    size_t idx;

    if (!anchor)
        return;
    if (strmap_get(&b->anchors, anchor, strlen(anchor), &idx)) {
        b->anchor_nodes[idx] = n; /* YAML: a redefined anchor applies from here on */
        return;
    }
    XGROW(b->anchor_names, b->cap_anchor_names, b->n_anchors + 1);
    XGROW(b->anchor_nodes, b->cap_anchor_nodes, b->n_anchors + 1);
    b->anchor_names[b->n_anchors] = xstrdup(anchor);
    b->anchor_nodes[b->n_anchors] = n;
    /* the map keeps a pointer to our copy of the name, which lives as long as the builder */
    strmap_put(&b->anchors, b->anchor_names[b->n_anchors], strlen(anchor), b->n_anchors);
    b->n_anchors++;
}

static uint32_t add_weight(uint32_t a, uint32_t w, size_t cap)
{
    return (size_t)a > cap || (size_t)w > cap - a ? (uint32_t)(cap + 1) : a + w;
}

/* Attaches a finished node to the open collection (or makes it the root). */
static int attach(struct builder *b, struct ynode *n)
{
    struct ynode *parent;

    if (b->depth == 0) {
        b->doc->root = n;
        return 0;
    }
    parent = b->stack[b->depth - 1];
    XGROW(b->pending, b->cap_pending, b->n_pending + 1);
    b->pending[b->n_pending++] = n;
    parent->weight = add_weight(parent->weight, n->weight, b->max_weight);
    if (parent->weight > b->max_weight) {
        diag_add(b->dl, DIAG_ERROR, b->file, n->pos, "",
                 "document too large: more than %zu nodes once aliases are expanded", b->max_nodes);
        return -1;
    }
    return 0;
}

/* Checks a finished map for non-scalar and duplicate keys. */
static void check_map(struct builder *b, struct ynode *m)
{
    struct strmap seen;
    size_t k, first, dropped = 0;
    bool *drop = xcalloc(m->n / 2 + 1, sizeof(bool));

    strmap_init(&seen);
    for (k = 0; k + 1 < m->n; k += 2) {
        struct ynode *key = m->items[k];
        if (key->kind != YN_SCALAR) {
            builder_error(b, key->pos, NULL, 0, "a map key must be a plain value, not a %s",
                          ynode_describe_kind(key));
            continue;
        }
        if (!key->bad && !strmap_put(&seen, key->text, key->len, k)) {
            struct strbuf sb = {0};
            strmap_get(&seen, key->text, key->len, &first);
            rmqt_quote_add(&sb, key->text, key->len, 80);
            builder_error(b, key->pos, key->text, key->len,
                          "duplicate key '%s' (first defined at line %d)", strbuf_str(&sb),
                          m->items[first]->pos.line);
            strbuf_release(&sb);
            drop[k / 2] = true;
            dropped++;
        }
    }
    strmap_release(&seen);
    /* the later duplicate is reported and then ignored, so that nothing else trips on it */
    if (dropped) {
        size_t o = 0;
        for (k = 0; k + 1 < m->n; k += 2) {
            if (drop[k / 2])
                continue;
            m->items[o++] = m->items[k];
            m->items[o++] = m->items[k + 1];
        }
        m->n = (uint32_t)o;
    }
    free(drop);
}

static int on_scalar(struct builder *b, yaml_event_t *ev)
{
    struct ynode *n = node_new(b, YN_SCALAR, ev->start_mark);
    struct strbuf sb = {0};
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

    if (memchr(text, '$', len)) {
        if (substitute(b, text, len, n->pos, &sb) < 0) {
            /* reported; keep the text as written and let the loader skip the node */
            strbuf_reset(&sb);
            strbuf_add(&sb, text, len);
            n->bad = true;
        }
        n->text = arena_strndup(b->doc, strbuf_str(&sb), sb.len);
        n->len = (uint32_t)sb.len;
        strbuf_release(&sb);
    } else {
        if (len > MAX_SCALAR) {
            diag_add(b->dl, DIAG_ERROR, b->file, n->pos, "", "value longer than %u MiB",
                     MAX_SCALAR >> 20);
            len = 0;
        }
        n->text = arena_strndup(b->doc, text, len);
        n->len = (uint32_t)len;
    }
    if (n->bad) {
        n->type = YS_STRING;
    } else if (ev->data.scalar.tag && !(plain && ev->data.scalar.plain_implicit)) {
        if (apply_tag(b, n, (const char *)ev->data.scalar.tag) < 0) {
            n->type = YS_STRING;
            n->bad = true;
        }
    } else {
        resolve(n, plain);
    }
    register_anchor(b, (const char *)ev->data.scalar.anchor, n);
    if (b->opts && b->opts->on_vhost && !n->bad && b->depth == 2 && at_key(b) &&
        strlen(n->text) == n->len) {
        /* a key of the map that is the value of the root's current key "vhosts" */
        const struct ynode *root_key =
            b->pending[b->child_start[0] + (b->child_start[1] - b->child_start[0] - 1)];
        if (b->stack[0]->kind == YN_MAP && b->stack[1]->kind == YN_MAP && root_key->len == 6 &&
            memcmp(root_key->text, "vhosts", 6) == 0)
            b->opts->on_vhost(n->text, b->opts->on_vhost_ctx);
    }
    return attach(b, n);
}

static int on_start(struct builder *b, yaml_event_t *ev, enum ynode_kind kind)
{
    struct ynode *n = node_new(b, kind, ev->start_mark);

    if ((int)b->depth >= b->max_depth) {
        diag_add(b->dl, DIAG_ERROR, b->file, n->pos, "",
                 "nesting deeper than %d levels is not supported", b->max_depth);
        return -1;
    }
    XGROW(b->stack, b->cap, b->depth + 1);
    XGROW(b->child_start, b->cap_child_start, b->depth + 1);
    b->child_start[b->depth] = b->n_pending;
    b->stack[b->depth++] = n;
    /* a collection's anchor becomes usable once it is complete: an alias inside its own
     * anchored collection (a cycle) then reads as an unknown anchor */
    (void)ev;
    return 0;
}

static int on_end(struct builder *b, const char *anchor)
{
    struct ynode *n = b->stack[--b->depth];
    size_t start = b->child_start[b->depth];

    n->n = (uint32_t)(b->n_pending - start);
    if (n->n) {
        n->items = arena_alloc(b->doc, n->n * sizeof(*n->items));
        memcpy(n->items, b->pending + start, n->n * sizeof(*n->items));
    }
    b->n_pending = start;

    if (n->kind == YN_MAP)
        check_map(b, n);
    register_anchor(b, anchor, n);
    return attach(b, n);
}

static int on_alias(struct builder *b, yaml_event_t *ev)
{
    const char *anchor = (const char *)ev->data.alias.anchor;
    size_t idx;

    if (!strmap_get(&b->anchors, anchor, strlen(anchor), &idx)) {
        struct strbuf sb = {0};
        rmqt_quote_add(&sb, anchor, strlen(anchor), 60);
        diag_add(b->dl, DIAG_ERROR, b->file, mark_pos(ev->start_mark), "",
                 "alias '*%s' refers to no complete anchor before it", strbuf_str(&sb));
        strbuf_release(&sb);
        return -1;
    }
    return attach(b, b->anchor_nodes[idx]);
}

static bool has_variable(const char *buf, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++)
        if (buf[i] == '$' && buf[i + 1] == '{')
            return true;
    return false;
}

int ydoc_parse(struct ydoc *doc, const char *file, const char *buf, size_t len,
               const struct ydoc_options *opts, struct diag_list *dl)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct builder b;
    int rc = -1, documents = 0;
    /* a collection's anchor is known at its start event but applies at its end */
    char **pending = NULL;
    size_t cap_pending = 0;
    bool done = false;

    memset(doc, 0, sizeof(*doc));
    memset(&b, 0, sizeof(b));
    b.doc = doc;
    b.file = file;
    b.opts = opts;
    b.dl = dl;
    b.max_depth = opts && opts->max_depth ? opts->max_depth : DEFAULT_MAX_DEPTH;
    b.max_nodes = opts && opts->max_nodes ? opts->max_nodes : DEFAULT_MAX_NODES;
    if (b.max_nodes >= UINT32_MAX / 2)
        b.max_nodes = UINT32_MAX / 2 - 1;
    strmap_init(&b.anchors);

    if (!yaml_parser_initialize(&parser)) {
        diag_add(dl, DIAG_ERROR, file, (struct rmqt_pos){0, 0}, "", "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    while (!done) {
        int step = 0;

        if (!yaml_parser_parse(&parser, &ev)) {
            struct strbuf sb = {0};
            struct rmqt_pos pos = mark_pos(parser.problem_mark);
            strbuf_adds(&sb, "YAML syntax error: ");
            strbuf_adds(&sb, parser.problem ? parser.problem : "malformed document");
            if (parser.problem && parser.problem_mark.index < len &&
                buf[parser.problem_mark.index] == '\t')
                strbuf_adds(&sb, " (a tab: YAML indents with spaces only)");
            else if (parser.problem && strstr(parser.problem, "',' or '}'") &&
                     has_variable(buf, len))
                strbuf_adds(&sb, " (inside { } quote values holding ${...}: \"${VAR}\")");
            if (parser.context) {
                strbuf_adds(&sb, " (");
                strbuf_adds(&sb, parser.context);
                strbuf_addf(&sb, " at line %d)", mark_pos(parser.context_mark).line);
            }
            if (parser.error == YAML_READER_ERROR) {
                /* reader errors carry a byte offset, not a mark: count lines up to it */
                size_t off = parser.problem_offset < len ? parser.problem_offset : len, i;
                pos.line = 1;
                pos.col = 1;
                for (i = 0; i < off; i++) {
                    if (buf[i] == '\n') {
                        pos.line++;
                        pos.col = 1;
                    } else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
                        pos.col++;
                    }
                }
                strbuf_addf(&sb, " (byte %zu)", parser.problem_offset);
            }
            diag_add(dl, DIAG_ERROR, file, pos, "", "%s", strbuf_str(&sb));
            strbuf_release(&sb);
            goto out;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                diag_add(dl, DIAG_ERROR, file, mark_pos(ev.start_mark), "",
                         "only one YAML document per topology file ('---' starts a second)");
                step = -1;
            }
            break;
        case YAML_SCALAR_EVENT:
            step = on_scalar(&b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            const char *anchor =
                (const char *)(ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                                    : ev.data.mapping_start.anchor);
            step = on_start(&b, &ev, ev.type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP);
            if (step == 0) {
                XGROW(pending, cap_pending, b.depth);
                pending[b.depth - 1] = anchor ? xstrdup(anchor) : NULL;
            }
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            char *anchor = pending[b.depth - 1];
            pending[b.depth - 1] = NULL;
            step = on_end(&b, anchor);
            free(anchor);
            break;
        }
        case YAML_ALIAS_EVENT:
            step = on_alias(&b, &ev);
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (step < 0)
            goto out;
    }
    rc = 0;
out:
    while (b.depth > 0) {
        free(pending[b.depth - 1]);
        b.depth--;
    }
    free(pending);
    yaml_parser_delete(&parser);
    for (size_t k = 0; k < b.n_anchors; k++)
        free(b.anchor_names[k]);
    free(b.anchor_names);
    free(b.anchor_nodes);
    strmap_release(&b.anchors);
    free(b.stack);
    free(b.child_start);
    free(b.pending);
    if (rc < 0)
        doc->root = NULL;
    return rc;
}

void ydoc_release(struct ydoc *doc)
{
    struct yarena_block *blk, *next;

    if (!doc)
        return;
    for (blk = doc->arena; blk; blk = next) {
        next = blk->next;
        free(blk);
    }
    memset(doc, 0, sizeof(*doc));
}

const struct ynode *ynode_get(const struct ynode *m, const char *key)
{
    size_t k, len = strlen(key);

    if (!m || m->kind != YN_MAP)
        return NULL;
    for (k = 0; k + 1 < m->n; k += 2) {
        const struct ynode *kn = m->items[k];
        if (kn->kind == YN_SCALAR && kn->len == len && memcmp(kn->text, key, len) == 0)
            return m->items[k + 1];
    }
    return NULL;
}

const char *ynode_describe_kind(const struct ynode *n)
{
    if (!n)
        return "nothing";
    switch (n->kind) {
    case YN_MAP:
        return "map";
    case YN_SEQ:
        return "list";
    case YN_SCALAR:
        switch (n->type) {
        case YS_NULL:
            return "null";
        case YS_BOOL:
            return "boolean";
        case YS_INT:
        case YS_INT_RANGE:
            return "integer";
        case YS_FLOAT:
            return "number";
        case YS_STRING:
            return "string";
        }
    }
    return "value";
}
