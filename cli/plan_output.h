/*
 * plan_output.h - printing a plan (cli.md, "plan / apply"): text for people, JSON for scripts.
 */
#ifndef RMQT_PLAN_OUTPUT_H
#define RMQT_PLAN_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "diff.h"
#include "value.h"

/* Prints the plan: a line per change, the fields that differ, notes, and the closing
 * "Plan: ..." line. */
void plan_print_text(FILE *f, const struct plan *p, bool color);

/* The plan as cli.md's JSON document (new reference). */
json_t *plan_to_json(const struct plan *p);

/* A typed value as JSON (new reference): integers stay integers, strings strings. */
json_t *tval_to_json(const struct tval *v);

#endif
