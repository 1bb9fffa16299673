/*
 * routing.c - exchange matching rules (AMQP 0-9-1 and RabbitMQ's topic semantics).
 *
 * Topic matching is a dynamic programme over words rather than backtracking, so a pattern
 * full of '#' cannot make it exponential.
 */
#include "routing.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct words {
    const char **w;
    size_t *len;
    size_t n;
};

static void split_words(const char *s, struct words *out)
{
    size_t n = 1, k;
    const char *p;

    for (p = s; *p; p++)
        if (*p == '.')
            n++;
    out->w = xmalloc(n * sizeof(*out->w));
    out->len = xmalloc(n * sizeof(*out->len));
    out->n = n;
    p = s;
    for (k = 0; k < n; k++) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        out->w[k] = p;
        out->len[k] = len;
        p += len + 1;
    }
}

static bool word_is(const struct words *w, size_t i, const char *lit)
{
    return w->len[i] == strlen(lit) && memcmp(w->w[i], lit, w->len[i]) == 0;
}

bool routing_topic_match(const char *pattern, const char *key)
{
    struct words pw, kw;
    bool *dp, result;
    size_t i, j, cols;

    split_words(pattern, &pw);
    split_words(key, &kw);
    /* RabbitMQ treats an empty routing key as zero words, not one empty word */
    if (key[0] == '\0')
        kw.n = 0;
    if (pattern[0] == '\0')
        pw.n = 0;
    cols = kw.n + 1;
    /* dp[i][j]: the first i pattern words match the first j key words */
    dp = xcalloc((pw.n + 1) * cols, sizeof(*dp));
    dp[0] = true;
    for (i = 1; i <= pw.n; i++) {
        bool hash = word_is(&pw, i - 1, "#");
        bool star = word_is(&pw, i - 1, "*");
        for (j = 0; j <= kw.n; j++) {
            bool v = false;
            if (hash)
                v = dp[(i - 1) * cols + j] || (j > 0 && dp[i * cols + j - 1]);
            else if (j > 0 && dp[(i - 1) * cols + j - 1])
                v = star || (pw.len[i - 1] == kw.len[j - 1] &&
                             memcmp(pw.w[i - 1], kw.w[j - 1], kw.len[j - 1]) == 0);
            dp[i * cols + j] = v;
        }
    }
    result = dp[pw.n * cols + kw.n];
    free(dp);
    free(pw.w);
    free(pw.len);
    free(kw.w);
    free(kw.len);
    return result;
}

bool routing_could_match(const char *xtype, const char *binding_key, const char *routing_key)
{
    if (strcmp(xtype, "fanout") == 0 || strcmp(xtype, "headers") == 0)
        return true;
    if (!routing_key)
        return true;
    if (strcmp(xtype, "direct") == 0)
        return strcmp(binding_key, routing_key) == 0;
    if (strcmp(xtype, "topic") == 0)
        return routing_topic_match(binding_key, routing_key);
    return true; /* plugin exchange types: cannot tell, assume it may route */
}
