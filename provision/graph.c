/*
 * graph.c - a topology drawn as Graphviz DOT or as a Mermaid flowchart.
 *
 * Decisions:
 * - Node ids are generated (x0, x1 ... for exchanges, q0, q1 ... for queues), never derived
 *   from names: a name may hold any character, and an id must be a bare word in both
 *   languages. Exchanges and queues are looked up in separate maps because an exchange and a
 *   queue may share a name.
 * - Labels are first made safe to show (rmqt_sanitize_add: control characters, invalid UTF-8
 *   and bidi overrides become visible \xNN-style escapes, so no raw newline reaches the
 *   output), then escaped for the language. DOT: backslashes are doubled and quotes escaped,
 *   so a name can never trigger Graphviz's own escapes (\n, \l, \N ...). Mermaid: labels are
 *   quoted and " # < > & ` become entity codes (#quot; ...): Mermaid decodes #...; itself,
 *   renders labels as HTML, and reads a backquoted label as markdown.
 * - The output follows the model's order (file order) and nothing is hashed on the way out,
 *   so the same file always gives the same bytes: a drawing can be committed and diffed.
 * - What the file references but does not define still gets a node: built-in exchanges
 *   (amq.*, and the default exchange "" as "(default)", only when something uses it) and
 *   queues bound here but declared elsewhere ("not in file").
 * - Dead-letter and alternate exchanges may come from policies. The policy is chosen as
 *   validate.c chooses it: patterns are POSIX extended expressions with PCRE's \d and \D
 *   translated, the highest priority wins, the first of equals; the queue's or exchange's own
 *   argument wins over a policy, and a policy's dead-letter routing key counts only when the
 *   dead-letter exchange is not the queue's own argument. A pattern that does not compile is
 *   skipped (validate reports it). Streams never dead-letter, so no route leaves one.
 * - Fanout and headers exchanges ignore routing keys, so their edges show none; headers
 *   bindings show their arguments (x-match and the header values) instead.
 */
#include "graph.h"

#include "params.h"
#include "policymatch.h"

#include "strmap.h"
#include "textutil.h"
#include "xalloc.h"

#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum node_kind { NODE_EXCHANGE, NODE_QUEUE, NODE_ENDPOINT };

struct gnode {
    enum node_kind kind;
    const char *name;         /* borrowed from the model */
    const struct exchange *x; /* the file's exchange, or NULL */
    const struct queue *q;    /* the file's queue, or NULL */
    size_t id;                /* drawn as x<id> or q<id> */
};

enum edge_kind { EDGE_BINDING, EDGE_DEAD_LETTER, EDGE_ALTERNATE, EDGE_SHOVEL, EDGE_FEDERATION };

struct gedge {
    enum edge_kind kind;
    size_t from, to;          /* node indexes */
    const struct binding *b;  /* EDGE_BINDING */
    const char *dlrk;         /* EDGE_DEAD_LETTER: the dead-letter routing key, or NULL */
    const struct policy *pol; /* the policy that set the route, or NULL */
    const char *link;         /* EDGE_SHOVEL, EDGE_FEDERATION: the shovel's / upstream's name */
};

/* One vhost's nodes and edges, collected before anything is written (DOT and Mermaid both
 * want every node declared before the edges that use it). */
struct gvhost {
    const struct vhost *vh;
    struct gnode *nodes;
    size_t n_nodes, cap_nodes;
    struct gedge *edges;
    size_t n_edges, cap_edges;
    struct strmap xmap, qmap; /* name -> node index */
    regex_t *re;              /* one per policy */
    bool *re_ok;
    struct strmap emap; /* endpoint host -> node index (shovels, upstreams: params.h) */
    char **ehosts;      /* their names, owned */
    size_t n_ehosts, cap_ehosts;
};

struct gctx {
    enum graph_format fmt;
    struct strbuf *out;
    struct strbuf tmp;      /* scratch: sanitised text */
    size_t next_x, next_q;  /* ids are unique across vhosts */
    size_t next_e;          /* endpoints (e<id>) */
    size_t n_links;         /* Mermaid numbers links in order, for linkStyle */
    struct strbuf dl_links; /* Mermaid: indexes of dead-letter links, "3,4" */
    struct strbuf ae_links; /* Mermaid: indexes of alternate-exchange links */
};

#define DOT_INDENT "    "

/* Colours: exchanges amber, queues blue, built-ins and outsiders grey, dead letters red. */
#define COL_X_FILL "#fdebd0"
#define COL_X_LINE "#b9770e"
#define COL_Q_FILL "#d6eaf8"
#define COL_Q_LINE "#2874a6"
#define COL_B_FILL "#eeeeee"
#define COL_B_LINE "#7f8c8d"
#define COL_DL "#c0392b"
#define COL_AE "#7f8c8d"
#define COL_SH "#1e8449"
#define COL_FED "#7d3c98"

bool graph_format_parse(const char *s, enum graph_format *out)
{
    if (strcmp(s, "dot") == 0)
        *out = GRAPH_DOT;
    else if (strcmp(s, "mermaid") == 0)
        *out = GRAPH_MERMAID;
    else
        return false;
    return true;
}

const char *graph_format_name(enum graph_format fmt)
{
    return fmt == GRAPH_MERMAID ? "mermaid" : "dot";
}

/* ------------------------------------------------------------------------------------------ */
/* policies, chosen as validate.c chooses them (policymatch.h) */

/* The policy the broker would apply to the named object, or NULL. Borrowed from the model. */
static const struct policy *policy_for(const struct gvhost *gv, const char *name, bool is_queue,
                                       enum queue_type t)
{
    const struct vhost *vh = gv->vh;
    const struct policy *best = NULL;
    size_t k;

    for (k = 0; k < vh->n_policies; k++) {
        const struct policy *p = &vh->policies[k];
        if (!gv->re_ok[k] || !policy_applies_to(p, is_queue, t) ||
            regexec(&gv->re[k], name, 0, NULL, 0) != 0)
            continue;
        if (!best || p->priority > best->priority)
            best = p;
    }
    return best;
}

static const char *string_arg(const struct targs *args, const char *key)
{
    const struct targ *a = targs_get(args, key);
    return a && a->val.kind == TV_STRING ? a->val.s : NULL;
}

static const char *string_def(const struct policy *p, const char *key)
{
    const struct tval *v = p ? tval_get(&p->definition, key) : NULL;
    return v && v->kind == TV_STRING ? v->s : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* collecting nodes and edges */

/* The node of this kind and name, added (with x or q when the file defines it) if new. */
static size_t node_of(struct gctx *g, struct gvhost *gv, enum node_kind kind, const char *name,
                      const struct exchange *x, const struct queue *q)
{
    struct strmap *m = kind == NODE_EXCHANGE ? &gv->xmap
                       : kind == NODE_QUEUE  ? &gv->qmap
                                             : &gv->emap;
    struct gnode *n;
    size_t idx;

    if (strmap_get(m, name, strlen(name), &idx))
        return idx;
    XGROW(gv->nodes, gv->cap_nodes, gv->n_nodes + 1);
    n = &gv->nodes[gv->n_nodes];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->name = name;
    n->x = x;
    n->q = q;
    n->id = kind == NODE_EXCHANGE ? g->next_x++ : kind == NODE_QUEUE ? g->next_q++ : g->next_e++;
    strmap_put(m, name, strlen(name), gv->n_nodes);
    return gv->n_nodes++;
}

static struct gedge *add_edge(struct gvhost *gv, enum edge_kind kind, size_t from, size_t to)
{
    struct gedge *e;

    XGROW(gv->edges, gv->cap_edges, gv->n_edges + 1);
    e = &gv->edges[gv->n_edges++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->from = from;
    e->to = to;
    return e;
}

/* The node of one end of a shovel or federation link (params.h). */
static size_t end_node(struct gctx *g, struct gvhost *gv, const struct params_end *e)
{
    size_t idx;

    if (e->local)
        return node_of(g, gv, e->is_exchange ? NODE_EXCHANGE : NODE_QUEUE, e->object, NULL, NULL);
    if (strmap_get(&gv->emap, e->host, strlen(e->host), &idx))
        return idx;
    XGROW(gv->ehosts, gv->cap_ehosts, gv->n_ehosts + 1);
    gv->ehosts[gv->n_ehosts] = xstrdup(e->host);
    return node_of(g, gv, NODE_ENDPOINT, gv->ehosts[gv->n_ehosts++], NULL, NULL);
}

/* Shovels (source to destination) and federation links (an upstream to the exchanges and
 * queues a policy of the file federates with it). */
static void collect_params(struct gctx *g, struct gvhost *gv)
{
    const struct vhost *vh = gv->vh;
    const struct vhost_params *p = vh->params;
    size_t k, j, total = vh->n_exchanges + vh->n_queues;

    for (k = 0; p && k < p->n_shovels; k++) {
        struct params_end src, dst;
        size_t from, to;
        if (!params_shovel_ends(vh, k, &src, &dst))
            continue;
        from = end_node(g, gv, &src);
        to = end_node(g, gv, &dst);
        add_edge(gv, EDGE_SHOVEL, from, to)->link = p->shovels[k].name;
    }
    for (k = 0; p && k < p->n_upstreams; k++) {
        struct params_end up;
        memset(&up, 0, sizeof(up));
        params_upstream_host(vh, k, up.host, sizeof(up.host));
        if (!up.host[0])
            continue;
        for (j = 0; j < total; j++) {
            bool is_queue = j >= vh->n_exchanges;
            const char *name =
                is_queue ? vh->queues[j - vh->n_exchanges].name : vh->exchanges[j].name;
            const struct policy *pol = policy_for(
                gv, name, is_queue, is_queue ? vh->queues[j - vh->n_exchanges].type : QT_CLASSIC);
            const struct tval *one = pol ? tval_get(&pol->definition, "federation-upstream") : NULL;
            const struct tval *set =
                pol ? tval_get(&pol->definition, "federation-upstream-set") : NULL;
            struct gedge *e;
            if (!((one && one->kind == TV_STRING && strcmp(one->s, p->upstreams[k].name) == 0) ||
                  (set && set->kind == TV_STRING && strcmp(set->s, "all") == 0)))
                continue;
            e = add_edge(gv, EDGE_FEDERATION, end_node(g, gv, &up),
                         node_of(g, gv, is_queue ? NODE_QUEUE : NODE_EXCHANGE, name,
                                 is_queue ? NULL : &vh->exchanges[j],
                                 is_queue ? &vh->queues[j - vh->n_exchanges] : NULL));
            e->link = p->upstreams[k].name;
            e->pol = pol;
        }
    }
}

static void collect(struct gctx *g, struct gvhost *gv)
{
    const struct vhost *vh = gv->vh;
    size_t k;

    gv->re = xcalloc(vh->n_policies + 1, sizeof(*gv->re));
    gv->re_ok = xcalloc(vh->n_policies + 1, sizeof(*gv->re_ok));
    for (k = 0; k < vh->n_policies; k++)
        gv->re_ok[k] = vh->policies[k].pattern &&
                       policy_pattern_compile(vh->policies[k].pattern, &gv->re[k], NULL, 0) == 0;

    for (k = 0; k < vh->n_exchanges; k++)
        node_of(g, gv, NODE_EXCHANGE, vh->exchanges[k].name, &vh->exchanges[k], NULL);
    for (k = 0; k < vh->n_queues; k++)
        node_of(g, gv, NODE_QUEUE, vh->queues[k].name, NULL, &vh->queues[k]);

    for (k = 0; k < vh->n_bindings; k++) {
        const struct binding *b = &vh->bindings[k];
        size_t from, to;

        if (!b->source || !b->destination)
            continue; /* the loader reported it; nothing to draw */
        from = node_of(g, gv, NODE_EXCHANGE, b->source, NULL, NULL);
        to = node_of(g, gv, b->dest_is_exchange ? NODE_EXCHANGE : NODE_QUEUE, b->destination, NULL,
                     NULL);
        add_edge(gv, EDGE_BINDING, from, to)->b = b;
    }

    for (k = 0; k < vh->n_exchanges; k++) {
        const struct exchange *x = &vh->exchanges[k];
        const struct policy *p = NULL;
        const char *ae = string_arg(&x->args, "alternate-exchange");
        struct gedge *e;

        if (!ae) {
            p = policy_for(gv, x->name, false, QT_CLASSIC);
            ae = string_def(p, "alternate-exchange");
        }
        if (!ae)
            continue;
        e = add_edge(gv, EDGE_ALTERNATE, node_of(g, gv, NODE_EXCHANGE, x->name, x, NULL),
                     node_of(g, gv, NODE_EXCHANGE, ae, NULL, NULL));
        e->pol = p; /* set only when the route came from it */
    }

    for (k = 0; k < vh->n_queues; k++) {
        const struct queue *q = &vh->queues[k];
        const struct policy *p = NULL;
        const char *dlx, *dlrk;
        struct gedge *e;

        if (q->type == QT_STREAM)
            continue;
        dlx = string_arg(&q->args, "x-dead-letter-exchange");
        dlrk = string_arg(&q->args, "x-dead-letter-routing-key");
        if (!dlx) {
            p = policy_for(gv, q->name, true, q->type);
            dlx = string_def(p, "dead-letter-exchange");
            if (!dlrk)
                dlrk = string_def(p, "dead-letter-routing-key");
        }
        if (!dlx)
            continue;
        e = add_edge(gv, EDGE_DEAD_LETTER, node_of(g, gv, NODE_QUEUE, q->name, NULL, q),
                     node_of(g, gv, NODE_EXCHANGE, dlx, NULL, NULL));
        e->dlrk = dlrk;
        e->pol = p;
    }
    collect_params(g, gv);
}

static void gvhost_release(struct gvhost *gv)
{
    size_t k;

    for (k = 0; gv->vh && k < gv->vh->n_policies; k++)
        if (gv->re_ok[k])
            regfree(&gv->re[k]);
    free(gv->re);
    free(gv->re_ok);
    free(gv->nodes);
    free(gv->edges);
    strmap_release(&gv->xmap);
    strmap_release(&gv->qmap);
    strmap_release(&gv->emap);
    for (k = 0; k < gv->n_ehosts; k++)
        free(gv->ehosts[k]);
    free(gv->ehosts);
    memset(gv, 0, sizeof(*gv));
}

/* ------------------------------------------------------------------------------------------ */
/* labels */

/* Appends len bytes of s to a label: made safe to show, then escaped for the format. */
static void label_text(struct gctx *g, const char *s, size_t len)
{
    size_t k;

    strbuf_reset(&g->tmp);
    rmqt_sanitize_add(&g->tmp, s, len);
    for (k = 0; k < g->tmp.len; k++) {
        char c = g->tmp.buf[k];
        const char *rep = NULL;

        if (g->fmt == GRAPH_DOT) {
            if (c == '"')
                rep = "\\\"";
            else if (c == '\\')
                rep = "\\\\";
        } else {
            switch (c) {
            case '"':
                rep = "#quot;";
                break;
            case '#':
                rep = "#35;";
                break;
            case '<':
                rep = "#lt;";
                break;
            case '>':
                rep = "#gt;";
                break;
            case '&':
                rep = "#amp;";
                break;
            case '`':
                rep = "#96;";
                break;
            default:
                break;
            }
        }
        if (rep)
            strbuf_adds(g->out, rep);
        else
            strbuf_addc(g->out, c);
    }
}

static void label_str(struct gctx *g, const char *s)
{
    label_text(g, s, strlen(s));
}

/* A line break inside a label; *first says whether anything precedes it. */
static void label_line(struct gctx *g, bool *first)
{
    if (!*first)
        strbuf_adds(g->out, g->fmt == GRAPH_DOT ? "\\n" : "<br/>");
    *first = false;
}

/* One binding argument as "key=value". */
/* "(policy NAME)" on a new line, for a route that a policy sets; nothing when pol is NULL. */
static void label_policy(struct gctx *g, const struct policy *pol, bool *first)
{
    if (!pol)
        return;
    label_line(g, first);
    label_str(g, "(policy ");
    label_str(g, pol->name);
    label_str(g, ")");
}

static void label_arg(struct gctx *g, const struct tval_entry *a)
{
    label_str(g, a->key ? a->key : "");
    label_str(g, "=");
    switch (a->val.kind) {
    case TV_STRING:
        label_text(g, a->val.s, a->val.len);
        break;
    case TV_INT: {
        char num[32];
        snprintf(num, sizeof(num), "%" PRId64, a->val.i);
        label_str(g, num);
        break;
    }
    case TV_BOOL:
        label_str(g, a->val.b ? "true" : "false");
        break;
    default: {
        struct strbuf sb = {0};
        tval_describe(&sb, &a->val);
        label_text(g, sb.buf ? sb.buf : "", sb.len);
        strbuf_release(&sb);
        break;
    }
    }
}

/* The type of the exchange a node stands for, or NULL when unknown. */
static const char *node_xtype(const struct gnode *n)
{
    if (n->x)
        return n->x->type;
    return builtin_exchange_type(n->name);
}

static void node_label(struct gctx *g, const struct gnode *n)
{
    bool first = true;

    label_line(g, &first);
    if (n->kind == NODE_EXCHANGE && n->name[0] == '\0' && !n->x)
        label_str(g, "(default)");
    else
        label_str(g, n->name);
    label_line(g, &first);
    label_str(g, "(");
    if (n->kind == NODE_ENDPOINT) {
        label_str(g, "endpoint)");
        return;
    }
    if (n->x) {
        label_str(g, n->x->type ? n->x->type : "no type");
        if (n->x->internal.value)
            label_str(g, ", internal");
    } else if (n->q) {
        label_str(g, queue_type_name(n->q->type));
    } else if (n->kind == NODE_EXCHANGE && builtin_exchange_type(n->name)) {
        label_str(g, builtin_exchange_type(n->name));
        label_str(g, ", built-in");
    } else {
        label_str(g, "not in file");
    }
    label_str(g, ")");
    if ((n->x && n->x->origin) || (n->q && n->q->origin)) {
        /* made by a retry ladder: say which `retry` key */
        label_line(g, &first);
        label_str(g, "[from ");
        label_str(g, n->x ? n->x->origin : n->q->origin);
        label_str(g, "]");
    }
}

/* Whether an edge has a label at all (Mermaid writes unlabelled links differently). */
static bool edge_has_label(const struct gvhost *gv, const struct gedge *e)
{
    const char *xt;

    if (e->kind != EDGE_BINDING)
        return true;
    xt = node_xtype(&gv->nodes[e->from]);
    return e->b->args.n > 0 || !(xt && (strcmp(xt, "fanout") == 0 || strcmp(xt, "headers") == 0));
}

static void edge_label(struct gctx *g, const struct gvhost *gv, const struct gedge *e)
{
    bool first = true;
    size_t k;

    switch (e->kind) {
    case EDGE_BINDING: {
        const char *xt = node_xtype(&gv->nodes[e->from]);
        if (!(xt && (strcmp(xt, "fanout") == 0 || strcmp(xt, "headers") == 0))) {
            label_line(g, &first);
            label_str(g, e->b->routing_key[0] ? e->b->routing_key : "\"\"");
        }
        for (k = 0; e->b->args.kind == TV_MAP && k < e->b->args.n; k++) {
            label_line(g, &first);
            label_arg(g, &e->b->args.entries[k]);
        }
        break;
    }
    case EDGE_DEAD_LETTER:
        label_line(g, &first);
        label_str(g, "dead-letter");
        if (e->dlrk) {
            label_line(g, &first);
            label_str(g, "key ");
            label_str(g, e->dlrk[0] ? e->dlrk : "\"\"");
        }
        label_policy(g, e->pol, &first);
        break;
    case EDGE_ALTERNATE:
        label_line(g, &first);
        label_str(g, "alternate");
        label_policy(g, e->pol, &first);
        break;
    case EDGE_SHOVEL:
    case EDGE_FEDERATION:
        label_line(g, &first);
        label_str(g, e->kind == EDGE_SHOVEL ? "shovel " : "federation ");
        label_str(g, e->link);
        label_policy(g, e->pol, &first);
        break;
    }
}

static void node_id(struct gctx *g, const struct gnode *n)
{
    strbuf_addf(g->out, "%c%zu",
                n->kind == NODE_EXCHANGE ? 'x'
                : n->kind == NODE_QUEUE  ? 'q'
                                         : 'e',
                n->id);
}

/* ------------------------------------------------------------------------------------------ */
/* DOT */

static void dot_node(struct gctx *g, const struct gnode *n)
{
    strbuf_adds(g->out, DOT_INDENT DOT_INDENT);
    node_id(g, n);
    strbuf_adds(g->out, " [label=\"");
    node_label(g, n);
    strbuf_adds(g->out, "\"");
    if (n->kind == NODE_ENDPOINT)
        strbuf_adds(g->out, ", shape=box3d, style=dashed, color=\"" COL_B_LINE "\"");
    else if (n->x)
        strbuf_adds(g->out,
                    n->x->internal.value
                        ? ", shape=hexagon, style=\"filled,dashed\", fillcolor=\"" COL_X_FILL
                          "\", color=\"" COL_X_LINE "\""
                        : ", shape=hexagon, style=filled, fillcolor=\"" COL_X_FILL
                          "\", color=\"" COL_X_LINE "\"");
    else if (n->q)
        strbuf_adds(g->out, ", shape=box, style=\"filled,rounded\", fillcolor=\"" COL_Q_FILL
                            "\", color=\"" COL_Q_LINE "\"");
    else if (n->kind == NODE_EXCHANGE && builtin_exchange_type(n->name))
        strbuf_adds(g->out, ", shape=hexagon, style=filled, fillcolor=\"" COL_B_FILL
                            "\", color=\"" COL_B_LINE "\"");
    else
        strbuf_adds(g->out, n->kind == NODE_EXCHANGE
                                ? ", shape=hexagon, style=dashed, color=\"" COL_B_LINE "\""
                                : ", shape=box, style=\"dashed,rounded\", color=\"" COL_B_LINE
                                  "\"");
    strbuf_adds(g->out, "];\n");
}

/* Opens the attribute list of a DOT statement, or separates the next attribute. */
static void dot_attr(struct gctx *g, bool *open)
{
    strbuf_adds(g->out, *open ? ", " : " [");
    *open = true;
}

static void dot_edge(struct gctx *g, const struct gvhost *gv, const struct gedge *e)
{
    bool open = false;

    strbuf_adds(g->out, DOT_INDENT DOT_INDENT);
    node_id(g, &gv->nodes[e->from]);
    strbuf_adds(g->out, " -> ");
    node_id(g, &gv->nodes[e->to]);
    if (edge_has_label(gv, e)) {
        dot_attr(g, &open);
        strbuf_adds(g->out, "label=\"");
        edge_label(g, gv, e);
        strbuf_adds(g->out, "\"");
    }
    if (e->kind == EDGE_DEAD_LETTER) {
        dot_attr(g, &open);
        strbuf_adds(g->out, "style=dashed, color=\"" COL_DL "\", fontcolor=\"" COL_DL "\"");
    } else if (e->kind == EDGE_SHOVEL || e->kind == EDGE_FEDERATION) {
        dot_attr(g, &open);
        strbuf_adds(g->out, e->kind == EDGE_SHOVEL
                                ? "style=bold, color=\"" COL_SH "\", fontcolor=\"" COL_SH "\""
                                : "style=bold, color=\"" COL_FED "\", fontcolor=\"" COL_FED "\"");
    } else if (e->kind == EDGE_ALTERNATE) {
        dot_attr(g, &open);
        strbuf_adds(g->out,
                    "style=dotted, penwidth=1.5, color=\"" COL_AE "\", fontcolor=\"" COL_AE "\"");
    } else if (gv->nodes[e->to].kind == NODE_EXCHANGE) {
        dot_attr(g, &open);
        strbuf_adds(g->out, "color=\"" COL_X_LINE "\"");
    }
    strbuf_adds(g->out, open ? "];\n" : ";\n");
}

static void dot_vhost(struct gctx *g, const struct gvhost *gv, size_t index)
{
    size_t k;

    strbuf_addf(g->out, DOT_INDENT "subgraph cluster_%zu {\n", index);
    strbuf_adds(g->out, DOT_INDENT DOT_INDENT
                "style=rounded; color=\"#aab7b8\"; fontcolor=\"#34495e\"; label=\"vhost ");
    label_str(g, gv->vh->name ? gv->vh->name : "");
    strbuf_adds(g->out, "\";\n");
    if (!gv->n_nodes)
        strbuf_addf(g->out,
                    DOT_INDENT DOT_INDENT "empty%zu [label=\"(empty)\", shape=plaintext];\n",
                    index);
    for (k = 0; k < gv->n_nodes; k++)
        dot_node(g, &gv->nodes[k]);
    for (k = 0; k < gv->n_edges; k++)
        dot_edge(g, gv, &gv->edges[k]);
    strbuf_adds(g->out, DOT_INDENT "}\n");
}

/* ------------------------------------------------------------------------------------------ */
/* Mermaid */

static void mermaid_node(struct gctx *g, const struct gnode *n)
{
    const char *open, *close, *cls;

    if (n->kind == NODE_ENDPOINT) {
        open = "[(\"";
        close = "\")]";
        cls = "external";
    } else if (n->kind == NODE_EXCHANGE) {
        open = "{{\"";
        close = "\"}}";
        cls = n->x                             ? (n->x->internal.value ? "internal" : "exchange")
              : builtin_exchange_type(n->name) ? "builtin"
                                               : "external";
    } else {
        open = "[\"";
        close = "\"]";
        cls = n->q ? "queue" : "external";
    }
    strbuf_adds(g->out, DOT_INDENT DOT_INDENT);
    node_id(g, n);
    strbuf_adds(g->out, open);
    node_label(g, n);
    strbuf_adds(g->out, close);
    strbuf_addf(g->out, ":::%s\n", cls);
}

static void mermaid_edge(struct gctx *g, const struct gvhost *gv, const struct gedge *e)
{
    bool dotted = e->kind == EDGE_DEAD_LETTER || e->kind == EDGE_ALTERNATE;
    bool thick = e->kind == EDGE_SHOVEL || e->kind == EDGE_FEDERATION;
    struct strbuf *list = e->kind == EDGE_DEAD_LETTER ? &g->dl_links
                          : e->kind == EDGE_ALTERNATE ? &g->ae_links
                                                      : NULL;

    strbuf_adds(g->out, DOT_INDENT DOT_INDENT);
    node_id(g, &gv->nodes[e->from]);
    strbuf_adds(g->out, dotted ? " -.->" : thick ? " ==>" : " -->");
    if (edge_has_label(gv, e)) {
        strbuf_adds(g->out, "|\"");
        edge_label(g, gv, e);
        strbuf_adds(g->out, "\"|");
    }
    strbuf_addc(g->out, ' ');
    node_id(g, &gv->nodes[e->to]);
    strbuf_addc(g->out, '\n');
    if (list)
        strbuf_addf(list, "%s%zu", list->len ? "," : "", g->n_links);
    g->n_links++;
}

static void mermaid_vhost(struct gctx *g, const struct gvhost *gv, size_t index)
{
    size_t k;

    strbuf_addf(g->out, DOT_INDENT "subgraph v%zu[\"vhost ", index);
    label_str(g, gv->vh->name ? gv->vh->name : "");
    strbuf_adds(g->out, "\"]\n");
    if (!gv->n_nodes)
        strbuf_addf(g->out, DOT_INDENT DOT_INDENT "empty%zu[\"(empty)\"]\n", index);
    for (k = 0; k < gv->n_nodes; k++)
        mermaid_node(g, &gv->nodes[k]);
    for (k = 0; k < gv->n_edges; k++)
        mermaid_edge(g, gv, &gv->edges[k]);
    strbuf_adds(g->out, DOT_INDENT "end\n");
}

/* ------------------------------------------------------------------------------------------ */

int topology_graph(const struct topology *t, enum graph_format fmt, struct strbuf *out,
                   struct rmqt_error *err)
{
    struct gctx g;
    size_t k;

    if (fmt != GRAPH_DOT && fmt != GRAPH_MERMAID)
        return rmqt_error_set(err, RMQT_ERR_USAGE, "unknown graph format %d", (int)fmt);
    memset(&g, 0, sizeof(g));
    g.fmt = fmt;
    g.out = out;

    if (fmt == GRAPH_DOT)
        strbuf_adds(out, "digraph rmqtopo {\n" DOT_INDENT
                         "graph [rankdir=LR, bgcolor=white, fontname=\"Helvetica\", fontsize=12, "
                         "nodesep=0.25, ranksep=0.9];\n" DOT_INDENT
                         "node [fontname=\"Helvetica\", fontsize=10];\n" DOT_INDENT
                         "edge [fontname=\"Helvetica\", fontsize=9];\n");
    else
        strbuf_adds(out, "flowchart LR\n");

    for (k = 0; k < t->n_vhosts; k++) {
        struct gvhost gv;

        memset(&gv, 0, sizeof(gv));
        gv.vh = &t->vhosts[k];
        collect(&g, &gv);
        if (fmt == GRAPH_DOT)
            dot_vhost(&g, &gv, k);
        else
            mermaid_vhost(&g, &gv, k);
        gvhost_release(&gv);
    }

    if (fmt == GRAPH_DOT) {
        strbuf_adds(out, "}\n");
    } else {
        strbuf_adds(out, DOT_INDENT
                    "classDef exchange fill:" COL_X_FILL ",stroke:" COL_X_LINE "\n" DOT_INDENT
                    "classDef internal fill:" COL_X_FILL ",stroke:" COL_X_LINE
                    ",stroke-dasharray:4 3\n" DOT_INDENT "classDef queue fill:" COL_Q_FILL
                    ",stroke:" COL_Q_LINE "\n" DOT_INDENT "classDef builtin fill:" COL_B_FILL
                    ",stroke:" COL_B_LINE "\n" DOT_INDENT
                    "classDef external fill:#ffffff,stroke:" COL_B_LINE ",stroke-dasharray:4 3\n");
        if (g.dl_links.len)
            strbuf_addf(out, DOT_INDENT "linkStyle %s stroke:" COL_DL ",color:" COL_DL "\n",
                        g.dl_links.buf);
        if (g.ae_links.len)
            strbuf_addf(out, DOT_INDENT "linkStyle %s stroke:" COL_AE ",color:" COL_AE "\n",
                        g.ae_links.buf);
    }
    strbuf_release(&g.tmp);
    strbuf_release(&g.dl_links);
    strbuf_release(&g.ae_links);
    return 0;
}
