/*
 * present.c - shared wording for people: the broker line, rounded measurements, previews.
 */
#include "present.h"

#include "textutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void rmqt_broker_line(struct strbuf *sb, const char *url, const struct rmqt_broker_info *info)
{
    const char *u = url && *url ? url : "(unknown URL)";

    strbuf_adds(sb, "broker: ");
    rmqt_sanitize_add(sb, u, strlen(u));
    if (!info || !info->version_str[0]) {
        strbuf_adds(sb, " (version unknown)");
        return;
    }
    strbuf_adds(sb, " (RabbitMQ ");
    rmqt_sanitize_add(sb, info->version_str, strlen(info->version_str));
    if (info->cluster_name[0]) {
        strbuf_adds(sb, ", cluster ");
        rmqt_sanitize_add(sb, info->cluster_name, strlen(info->cluster_name));
    }
    strbuf_addc(sb, ')');
}

json_t *rmqt_broker_json(const char *url, const struct rmqt_broker_info *info)
{
    bool known = info && info->version_str[0];

    return json_pack("{s:s, s:o, s:o}", "url", url ? url : "", "version",
                     known ? json_string(info->version_str) : json_null(), "cluster",
                     known && info->cluster_name[0] ? json_string(info->cluster_name)
                                                    : json_null());
}

static double round_step(double x, double per_unit)
{
    if (!isfinite(x))
        return 0;
    return round(x * per_unit) / per_unit;
}

json_t *rmqt_json_seconds(double seconds)
{
    return json_real(round_step(seconds, 1000));
}

json_t *rmqt_json_rate(double per_second)
{
    return json_real(round_step(per_second, 10));
}

double rmqt_round_significant(double x, int digits)
{
    double scale;

    if (!isfinite(x))
        return 0;
    if (x == 0)
        return 0;
    scale = pow(10, digits - (int)ceil(log10(fabs(x))));
    return round(x * scale) / scale;
}

json_t *rmqt_json_significant(double x, int digits)
{
    return json_real(rmqt_round_significant(x, digits));
}

void rmqt_preview_add(struct strbuf *sb, const void *body, size_t len, size_t max)
{
    const unsigned char *b = body;
    size_t n = len < max ? len : max;

    if (len == 0) {
        strbuf_adds(sb, "<empty>");
        return;
    }
    while (n > 0 && n < len && (b[n] & 0xc0) == 0x80)
        n--; /* do not cut a character */
    if (!rmqt_is_text(b, n)) {
        strbuf_addf(sb, "<binary, %zu bytes>", len);
        return;
    }
    rmqt_sanitize_add(sb, (const char *)b, n);
    if (n < len)
        strbuf_adds(sb, "...");
}

void rmqt_age_format(char *buf, size_t cap, double secs)
{
    if (!(secs > 0))
        secs = 0;
    if (secs < 120)
        snprintf(buf, cap, "%.0fs", secs);
    else if (secs < 7200)
        snprintf(buf, cap, "%.0fm", secs / 60);
    else if (secs < 172800)
        snprintf(buf, cap, "%.0fh", secs / 3600);
    else
        snprintf(buf, cap, "%.0fd", secs / 86400);
}
