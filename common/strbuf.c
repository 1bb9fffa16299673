/*
 * strbuf.c - growable string buffer. Grows geometrically; keeps a NUL after the content so
 * buf can be handed to C string functions at any time.
 */
#include "strbuf.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char strbuf_empty[1];

void strbuf_init(struct strbuf *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void strbuf_release(struct strbuf *sb)
{
    if (!sb)
        return;
    free(sb->buf);
    strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

static void strbuf_reserve(struct strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need < sb->len)
        xmalloc((size_t)-1); /* overflow: reported as out of memory */
    XGROW(sb->buf, sb->cap, need);
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
    strbuf_reserve(sb, len);
    if (len)
        memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void strbuf_adds(struct strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void strbuf_addc(struct strbuf *sb, char c)
{
    strbuf_add(sb, &c, 1);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    strbuf_reserve(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void strbuf_add_uint(struct strbuf *sb, size_t v)
{
    char digits[24];
    size_t n = sizeof(digits);

    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    strbuf_add(sb, digits + n, sizeof(digits) - n);
}

void strbuf_add_counted(struct strbuf *sb, const char *s)
{
    size_t len = strlen(s);

    strbuf_add_uint(sb, len);
    strbuf_addc(sb, ':');
    strbuf_add(sb, s, len);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
    char *p;

    if (!sb->buf) {
        strbuf_reserve(sb, 0);
        sb->buf[0] = '\0';
    }
    p = sb->buf;
    if (len)
        *len = sb->len;
    strbuf_init(sb);
    return p;
}

const char *strbuf_str(struct strbuf *sb)
{
    return sb->buf ? sb->buf : strbuf_empty;
}
