/*
 * graph.h - a topology drawn as a graph: Graphviz DOT or Mermaid flowchart text.
 *
 * Exchanges and queues are nodes, bindings are edges labelled with their routing keys (or,
 * for headers exchanges, their arguments), dead-letter routes are dashed edges and alternate
 * exchanges dotted ones. One cluster (subgraph) a vhost. Pure: no I/O.
 */
#ifndef RMQT_GRAPH_H
#define RMQT_GRAPH_H

#include <stdbool.h>

#include "error.h"
#include "model.h"
#include "strbuf.h"

enum graph_format { GRAPH_DOT = 0, GRAPH_MERMAID };

/* Parses "dot" | "mermaid" into *out; false (and *out untouched) for anything else. */
bool graph_format_parse(const char *s, enum graph_format *out);

/* "dot" or "mermaid". */
const char *graph_format_name(enum graph_format fmt);

/* Appends the graph of t in format fmt to out. The text depends only on t (objects in file
 * order, node ids generated: x0, x1 ... for exchanges, q0, q1 ... for queues), so the same
 * topology always gives the same bytes. Names may hold any character: labels are escaped
 * for the format. Dead-letter exchanges and alternate exchanges set by the file's policies
 * are resolved as the broker would (highest priority wins; a queue's or exchange's own
 * argument wins over a policy). t should be valid (topology_validate found no errors); an
 * invalid model is drawn as far as it goes, never read out of bounds.
 * Returns 0, or -1 with err set (RMQT_ERR_USAGE) for an unknown fmt; out is then unchanged. */
int topology_graph(const struct topology *t, enum graph_format fmt, struct strbuf *out,
                   struct rmqt_error *err);

#endif
