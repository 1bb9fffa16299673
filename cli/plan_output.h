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

/* The plan as cli.md's JSON document (new reference). */
json_t *plan_to_json(const struct plan *p);

#endif
