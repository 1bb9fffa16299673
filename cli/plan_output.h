/*
 * plan_output.h - printing a plan (cli.md, "plan / apply"): text for people, JSON for scripts.
 */
#ifndef RMQT_PLAN_OUTPUT_H
#define RMQT_PLAN_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "diff.h"
#include "strbuf.h"
#include "value.h"

/* Prints the plan: a line per change, the fields that differ, notes, and the closing
 * "Plan: ..." line. */
void plan_print_text(FILE *f, const struct plan *p, bool color);

/* Appends what a change is about, on one line: "queue 'q' (quorum)", "binding 'x' -> ...". */
void plan_describe_change(struct strbuf *sb, const struct change *c);
/* "+", "~", "-/+", "-", "?" */
const char *plan_symbol(enum change_action a);
/* One change as in the plan's JSON document (new reference). */
json_t *change_to_json(const struct change *c);

/* The plan as Markdown for a pull-request comment: a heading with the summary (the broker
 * line under it when broker_line is not NULL), then every change in a collapsible
 * (<details>) table: action, object, details (fields old -> new, messages, notes). Generic
 * over the plan's changes: a new kind of object shows without changes here. Names are
 * escaped so that nothing in them can break the table or inject HTML. */
void plan_print_markdown(FILE *f, const struct plan *p, const char *broker_line);
/* A failed plan in the same form: a heading and the reason. */
void plan_print_markdown_failure(FILE *f, const char *reason, const char *broker_line);

/* The plan as cli.md's JSON document (new reference). */
json_t *plan_to_json(const struct plan *p);

#endif
