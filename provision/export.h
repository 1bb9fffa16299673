/*
 * export.h - a topology model written as a topology file (topology.md), for `rmqtopo export`.
 */
#ifndef RMQT_EXPORT_H
#define RMQT_EXPORT_H

#include <stddef.h>

#include "model.h"
#include "strbuf.h"

/* Appends t as YAML to out, after `header` (comment lines, or NULL). Exporting a broker's
 * model and planning the result against the same broker gives no changes. */
void topology_export(const struct topology *t, const char *header, struct strbuf *out);

/* The queues topology_export leaves out (rmqtopo's own: an unfinished migration's holding
 * queue, apply's lock; see rmqtopo_queue_kind), one line each ending in '\n', appended to
 * notes, saying why. Returns their number. */
size_t topology_export_skipped(const struct topology *t, struct strbuf *notes);

/* Appends s as a YAML scalar that loads back as exactly the string s (quoted when needed,
 * "${" escaped). */
void export_add_string(struct strbuf *sb, const char *s, size_t len);

#endif
