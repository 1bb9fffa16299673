/*
 * units.c - durations, sizes and x-max-age.
 *
 * Numbers are whole and non-negative: "1.5h" is refused rather than rounded, because a TTL
 * that silently differs from what was written is worse than an error. Overflow is checked.
 * x-max-age is compared by the broker as a string, so there is exactly one canonical form
 * per value (the largest exact unit); the unit sizes follow rabbit_amqqueue's max-age check.
 */
#include "units.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct unit {
    const char *name;
    int64_t factor;
    bool case_sensitive;
};

/* Splits "<digits><unit>"; returns false when the number part is missing or too large. */
static bool split_number(const char *s, int64_t *num, const char **unit)
{
    int64_t v = 0;
    const char *p = s;

    if (!(*p >= '0' && *p <= '9'))
        return false;
    while (*p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
        p++;
    }
    while (*p == ' ')
        p++;
    *num = v;
    *unit = p;
    return true;
}

static int parse_with(const char *s, const struct unit *units, int64_t *out, const char **why,
                      const char *bad_unit)
{
    int64_t num;
    const char *unit;
    size_t k;

    if (!s || !*s) {
        *why = "empty value";
        return -1;
    }
    if (*s == '-') {
        *why = "must not be negative";
        return -1;
    }
    if (!split_number(s, &num, &unit)) {
        *why = "expected a whole number followed by a unit";
        return -1;
    }
    if (*unit == '.' || *unit == ',') {
        *why = "only whole numbers are allowed (write 1.5h as 90m, 1.5GB as 1500MB)";
        return -1;
    }
    for (k = 0; units[k].name; k++) {
        bool same = units[k].case_sensitive ? strcmp(unit, units[k].name) == 0
                                            : strcasecmp(unit, units[k].name) == 0;
        if (same) {
            if (units[k].factor && num > INT64_MAX / units[k].factor) {
                *why = "too large";
                return -1;
            }
            *out = num * units[k].factor;
            return 0;
        }
    }
    *why = bad_unit;
    return -1;
}

int units_parse_duration(const char *s, int64_t *ms, const char **why)
{
    static const struct unit units[] = {
        {"", 1, true},
        {"ms", 1, true},
        {"s", 1000, true},
        {"m", 60 * 1000, true},
        {"h", 3600 * 1000, true},
        {"d", 86400 * 1000, true},
        {"w", 7 * 86400 * 1000LL, true},
        {NULL, 0, false},
    };
    return parse_with(s, units, ms, why, "unknown unit: expected ms, s, m, h, d or w");
}

int units_parse_size(const char *s, int64_t *bytes, const char **why)
{
    /* exactly as topology.md spells them: "KB" could mean 1000 or 1024, so it is refused */
    static const struct unit units[] = {
        {"", 1, true},
        {"B", 1, true},
        {"kB", 1000, true},
        {"MB", 1000 * 1000, true},
        {"GB", 1000 * 1000 * 1000, true},
        {"TB", 1000LL * 1000 * 1000 * 1000, true},
        {"KiB", 1024, true},
        {"MiB", 1024 * 1024, true},
        {"GiB", 1024 * 1024 * 1024, true},
        {"TiB", 1024LL * 1024 * 1024 * 1024, true},
        {NULL, 0, false},
    };
    return parse_with(s, units, bytes, why,
                      "unknown unit: expected B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, "
                      "GiB, TiB (powers of 1024), spelt exactly so");
}

#define DAY_S (86400LL)

int units_parse_max_age(const char *s, int64_t *seconds, const char **why)
{
    /* "M" is the broker's month and "m" a minute, so units are case-sensitive here. */
    static const struct unit units[] = {
        {"s", 1, true},          {"m", 60, true},          {"h", 3600, true},
        {"d", DAY_S, true},      {"w", 7 * DAY_S, true},   {"D", DAY_S, true},
        {"M", 30 * DAY_S, true}, {"Y", 365 * DAY_S, true}, {NULL, 0, false},
    };
    int64_t v;

    if (s && strlen(s) > 2 && strcmp(s + strlen(s) - 2, "ms") == 0) {
        *why = "the broker's x-max-age has no milliseconds: use s, m, h, d, w (or Y, M, D)";
        return -1;
    }
    if (parse_with(s, units, &v, why, "unknown unit: expected s, m, h, d, w (or Y, M, D)") < 0)
        return -1;
    if (v <= 0) {
        *why = "must be greater than zero";
        return -1;
    }
    *seconds = v;
    return 0;
}

void units_format_max_age(int64_t seconds, char *out, size_t size)
{
    static const struct {
        const char *name;
        int64_t factor;
    } units[] = {
        {"Y", 365 * DAY_S}, {"M", 30 * DAY_S}, {"D", DAY_S}, {"h", 3600}, {"m", 60}, {"s", 1},
    };
    size_t k;

    for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        if (seconds % units[k].factor == 0) {
            snprintf(out, size, "%lld%s", (long long)(seconds / units[k].factor), units[k].name);
            return;
        }
    }
    snprintf(out, size, "%llds", (long long)seconds);
}

int units_parse_rate(const char *s, double *per_second, const char **why)
{
    char *end;
    double v;
    const char *slash = strchr(s, '/');

    if (!slash) {
        *why = "expected a number of messages per unit of time: N/s, N/m or N/h";
        return -1;
    }
    errno = 0;
    v = strtod(s, &end);
    if (end == s || end != slash || errno || !(v >= 0) || v > 1e15) {
        *why = "expected a number (0 or more) before the '/'";
        return -1;
    }
    if (strcmp(slash + 1, "s") == 0)
        *per_second = v;
    else if (strcmp(slash + 1, "m") == 0)
        *per_second = v / 60.0;
    else if (strcmp(slash + 1, "h") == 0)
        *per_second = v / 3600.0;
    else {
        *why = "the unit after '/' is s, m or h";
        return -1;
    }
    return 0;
}
