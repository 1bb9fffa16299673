/*
 * strbuf.h - a growable, always NUL-terminated byte buffer (after git's strbuf).
 *
 * A zeroed struct strbuf is valid and empty; buf is NULL until the first add (use strbuf_str
 * for a string that is never NULL).
 */
#ifndef RMQT_STRBUF_H
#define RMQT_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
};

void strbuf_init(struct strbuf *sb);
/* Frees the contents; sb is empty and reusable afterwards. Accepts NULL. */
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v in decimal, without printf (for identity keys built on hot paths). */
void strbuf_add_uint(struct strbuf *sb, size_t v);
/* Appends "len:s": a piece of an identity key that cannot run into the next one. */
void strbuf_add_counted(struct strbuf *sb, const char *s);
/* Hands the contents to the caller (who frees them) and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Returns a NUL-terminated view; borrowed, valid until the next change. Never NULL. */
const char *strbuf_str(struct strbuf *sb);

#endif
