/*
 * archive_format.h - the dlq archive format of dlq.md: JSON Lines, a header line, then one
 * message a line, and a reader that names the line of a bad record.
 *
 *   {"format": "rmqtopo-archive", "version": 2, "vhost": V, "queue": Q, "broker": B,
 *    "created": "2026-12-05T21:30:00Z", "copy": false, "id": "32 hex digits"}
 *   {"exchange": X, "routing_key": K, "redelivered": false, "delivery_counters": {...},
 *    "death": {...} | null, "properties": {...}, "headers": {...}, "body_size": N,
 *    "body_sha256": "hex", "body": "base64"}
 *
 * properties: every basic property present except headers (msgjson.h); headers: the typed
 * table (msgjson.h), absent when the message had no headers property; the broker's delivery
 * counters (x-delivery-count, x-acquired-count) are kept in delivery_counters, never in
 * headers, so a restore does not publish them. exchange and routing_key are those of the
 * delivery from the archived queue; death is a readable summary of the most recent x-death
 * entry (reason, queue, exchange, routing_keys, count, time), for people and grep: the
 * headers hold the real x-death.
 *
 * Version 2 (this one) differs from version 1 in one place: a table in which a key repeats
 * (the headers, or a table nested in them) is an array of [key, typed value] pairs in the
 * table's order instead of an object, so every entry is kept (msgjson.h). Tables without a
 * repeated key are written as in version 1. Readers take both versions; a writer appending to
 * a version-1 file writes version-1 records (a message that repeats a key cannot go there).
 *
 * Writer and reader take one set of messages: archive_record_line() refuses, with the reason,
 * exactly what archive_record_parse() would refuse to read back (nesting, key and string
 * lengths, field kinds, repeated keys in version 1, delivery modes other than 1 and 2, a line
 * over ARCHIVE_MAX_LINE), using the same checks.
 */
#ifndef RMQT_OPS_ARCHIVE_FORMAT_H
#define RMQT_OPS_ARCHIVE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "amqp_compat.h"
#include "error.h"

#define ARCHIVE_FORMAT_NAME "rmqtopo-archive"
#define ARCHIVE_FORMAT_VERSION 2     /* what new archives are written as */
#define ARCHIVE_FORMAT_MIN_VERSION 1 /* the oldest version read (and appended to) */
/* the longest line a reader takes: a 128 MiB body (the broker's default maximum message size
 * before 4.0) in base64, with room for its properties */
#define ARCHIVE_MAX_LINE ((size_t)192 << 20)

struct archive_header {
    long version;
    bool copy; /* made with --copy: its messages may still be in the queue */
    char *vhost, *queue, *broker, *created; /* new strings; NULL when absent */
    /* the archive's unique id ("id"), written since the restore ledger came (issue 17); NULL
     * in older archives, which the ledger (ledger.h) knows by the header's digest */
    char *id;
    char header_sha256[65]; /* the SHA-256 of the header line as read, in hex */
};

/* A new archive id: 32 random lowercase hex digits (128 bits) into id (33 bytes with the
 * NUL). Returns 0, or -1 when no randomness could be had. */
int archive_new_id(char id[33]);

/* The header line's object; id NULL: no "id" member (an archive from before ids). Returns a
 * new reference. */
json_t *archive_header_json(const char *vhost, const char *queue, const char *broker,
                            time_t created, bool copy, const char *id);

/* Parses and checks a header line (line, len bytes, without its newline): the format name,
 * a major version this reader knows, vhost and queue present. Returns 0, or -1 with err set. */
int archive_header_parse(const char *line, size_t len, struct archive_header *h,
                         struct rmqt_error *err);
void archive_header_release(struct archive_header *h);

/* One delivery as a record object (the current version's form). Returns a new reference. */
json_t *archive_record_json(const amqp_envelope_t *env);

/* Whether the record of env, in an archive of format version `version`, reads back as the
 * same message: 0, or -1 with err saying why not ("headers.a.a...: tables and arrays nested
 * deeper than 64 levels"). archive_record_parse() applies the same checks. */
int archive_record_check(const amqp_envelope_t *env, long version, struct rmqt_error *err);

/* The record line of env (without its newline) as a new string, its length in *len: NULL
 * with err set when archive_record_check() refuses it or the line would be longer than
 * ARCHIVE_MAX_LINE (a reader refuses such a line). */
char *archive_record_line(const amqp_envelope_t *env, long version, size_t *len,
                          struct rmqt_error *err);

struct archive_record {
    amqp_basic_properties_t props; /* with the headers (death headers included) */
    amqp_bytes_t body, exchange, routing_key;
};

/* Parses one record line (len bytes, without its newline) into r, everything allocated from
 * pool. Checks body_size and body_sha256 against the decoded body. Returns 0, or -1 with err
 * set ("body_sha256: does not match the body"). */
int archive_record_parse(const char *line, size_t len, amqp_pool_t *pool, struct archive_record *r,
                         struct rmqt_error *err);

/* The SHA-256 of data as 64 lowercase hex digits into hex (65 bytes with the NUL). */
void archive_sha256_hex(const void *data, size_t len, char hex[65]);

/* Reads an archive line by line. */
struct archive_reader {
    FILE *f;
    const char *name; /* for messages: the path, or "-" */
    char *line;
    size_t cap;
    uint64_t lineno; /* the line last returned, 1-based */
    size_t max_line; /* the longest line taken; 0: ARCHIVE_MAX_LINE */
};

enum archive_line {
    ARCHIVE_LINE = 1,      /* a whole line in r->line (NUL-terminated, newline removed) */
    ARCHIVE_END = 0,       /* the end of the file */
    ARCHIVE_TRUNCATED = 2, /* a last line without its newline (a crash while writing) */
};

/* The next line: its length in *len. Returns an enum archive_line, or -1 with err set (a
 * read error, a line over ARCHIVE_MAX_LINE bytes). */
int archive_reader_next(struct archive_reader *r, size_t *len, struct rmqt_error *err);
void archive_reader_release(struct archive_reader *r);

#endif
