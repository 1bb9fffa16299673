/*
 * present.h - what several commands show people in the same words: the broker they talk to,
 * measured numbers in JSON rounded to what means something, and a short preview of a message
 * body that is safe on a terminal. Pure formatting: nothing here prints.
 */
#ifndef RMQT_PRESENT_H
#define RMQT_PRESENT_H

#include <jansson.h>
#include <stddef.h>

#include "brokerver.h"
#include "strbuf.h"

/* The broker a command reads or changes, as one line without a newline:
 * "broker: http://host:15672 (RabbitMQ 3.10.8, cluster rabbit@host)". url is the management
 * API's base URL without credentials; info NULL (or without a version): "(version unknown)".
 * Names the broker reported are made safe for a terminal. The one place that composes it:
 * export writes it as a YAML comment, the other commands as their first line. */
void rmqt_broker_line(struct strbuf *sb, const char *url, const struct rmqt_broker_info *info);

/* The same as a JSON object (new reference): {"url", "version", "cluster"}; version and
 * cluster are null when not known. */
json_t *rmqt_broker_json(const char *url, const struct rmqt_broker_info *info);

/* Measurements in JSON, rounded (new references): a duration in seconds to the millisecond,
 * a rate in messages a second to 0.1, any other measure to `digits` significant digits. Dump
 * documents that hold them with RMQT_JSON_MEASURED among the flags, so that 0.1 prints as
 * 0.1, not 0.10000000000000001 (jansson prints 17 digits by default). */
json_t *rmqt_json_seconds(double seconds);
json_t *rmqt_json_rate(double per_second);
json_t *rmqt_json_significant(double x, int digits);
double rmqt_round_significant(double x, int digits);
#define RMQT_JSON_MEASURED JSON_REAL_PRECISION(15)

/* Appends a one-line preview of a message body: at most max bytes of it (cut at a character
 * boundary, "..." when cut), control bytes and invalid UTF-8 escaped; a body that is
 * not text is shown as "<binary, N bytes>", an empty one as "<empty>". */
void rmqt_preview_add(struct strbuf *sb, const void *body, size_t len, size_t max);

/* An age in seconds the way people read it: "42s", "17m", "5h", "3d" (negative: "0s"). */
void rmqt_age_format(char *buf, size_t cap, double seconds);

#endif
