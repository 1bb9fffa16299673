/*
 * textutil.c - edit distance, quoting, hashing, the UTF-8 check, the clock, list splitting.
 *
 * Quoting matters because names and values in messages come from files and brokers we do not
 * control: a name holding an escape sequence must not repaint the user's terminal.
 */
#include "textutil.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t rmqt_edit_distance(const char *a, const char *b, size_t limit)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *prev, *cur, i, j, result;

    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    if (la > 256 || lb > 256)
        return limit + 1;
    prev = xmalloc((lb + 1) * sizeof(*prev));
    cur = xmalloc((lb + 1) * sizeof(*cur));
    for (j = 0; j <= lb; j++)
        prev[j] = j;
    for (i = 1; i <= la; i++) {
        size_t row_min;
        cur[0] = i;
        row_min = cur[0];
        for (j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
            if (best < row_min)
                row_min = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(*prev));
        if (row_min > limit)
            break;
    }
    result = i <= la ? limit + 1 : prev[lb];
    free(prev);
    free(cur);
    return result > limit ? limit + 1 : result;
}

const char *rmqt_did_you_mean(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t limit = strlen(word) / 3 + 1;

    if (limit > 3)
        limit = 3;
    for (; *candidates; candidates++) {
        size_t d = rmqt_edit_distance(word, *candidates, limit);
        if (d <= limit && d < best_d) {
            best = *candidates;
            best_d = d;
        }
    }
    return best;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    /* C1 controls and bidi overrides could still confuse a terminal. */
    if ((cp >= 0x80 && cp < 0xA0) || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return 0;
    return len;
}

static void escape_add(struct strbuf *sb, const char *s, size_t len, size_t max, bool quotes)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, start = sb->len;

    while (i < len) {
        size_t n;
        if (sb->len - start >= max) {
            strbuf_adds(sb, "...");
            return;
        }
        if (quotes && (p[i] == '\\' || p[i] == '\'')) {
            strbuf_addc(sb, '\\');
            strbuf_addc(sb, (char)p[i]);
            i++;
        } else if (p[i] == '\n') {
            strbuf_adds(sb, "\\n");
            i++;
        } else if (p[i] == '\t') {
            strbuf_adds(sb, "\\t");
            i++;
        } else if (p[i] < 0x20 || p[i] == 0x7F) {
            strbuf_addf(sb, "\\x%02x", p[i]);
            i++;
        } else if ((n = utf8_len(p + i, len - i)) > 0) {
            strbuf_add(sb, p + i, n);
            i += n;
        } else {
            strbuf_addf(sb, "\\x%02x", p[i]);
            i++;
        }
    }
}

void rmqt_quote_add(struct strbuf *sb, const char *s, size_t len, size_t max)
{
    escape_add(sb, s, len, max, true);
}

void rmqt_sanitize_add(struct strbuf *sb, const char *s, size_t len)
{
    escape_add(sb, s, len, (size_t)-1, false);
}

uint64_t rmqt_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

bool rmqt_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether data is UTF-8 without a NUL byte: no overlong forms, surrogates or code points over
 * U+10FFFF (what jansson accepts in a string), and nothing a C string would cut. */
bool rmqt_is_text(const void *data, size_t n)
{
    const unsigned char *s = data;
    size_t i = 0, k, len;
    uint32_t cp;

    while (i < n) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

double rmqt_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void rmqt_split_list(const char *s, const char ***v, size_t *n, size_t *cap)
{
    char *copy = xstrdup(s), *tok, *save = NULL;

    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        XGROW(*v, *cap, *n + 1);
        (*v)[(*n)++] = xstrdup(tok);
    }
    free(copy);
}
