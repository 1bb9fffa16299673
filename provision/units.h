/*
 * units.h - the value syntaxes of the topology format (topology.md, "Values"): durations,
 * sizes, and the broker's own x-max-age string. Pure functions, no allocation.
 */
#ifndef RMQT_UNITS_H
#define RMQT_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "500ms", "10s", "5m", "2h", "7d", "1w" -> milliseconds. A bare number is milliseconds.
 * Returns 0, or -1 with *why set to a static explanation. */
int units_parse_duration(const char *s, int64_t *ms, const char **why);

/* "512", "64kB", "1GB" (powers of 1000), "1KiB", "1GiB" (powers of 1024), "100B" -> bytes.
 * Units are case-sensitive ("KB" is refused: it could mean either). */
int units_parse_size(const char *s, int64_t *bytes, const char **why);

/* A max_age string: the duration units s m h d w, and the broker's own Y M D (M is a month
 * of 30 days, Y 365 days); "ms" is refused. -> whole seconds (> 0). */
int units_parse_max_age(const char *s, int64_t *seconds, const char **why);

/* The broker's form of seconds, in the largest unit of Y M D h m s that divides it exactly:
 * 604800 -> "7D", 5400 -> "90m". out needs 24 bytes. */
void units_format_max_age(int64_t seconds, char *out, size_t size);

/* A rate: "10/s", "10/m", "1.5/h" -> messages per second. 0 or -1 with *why set (static). */
int units_parse_rate(const char *s, double *per_second, const char **why);

#endif
