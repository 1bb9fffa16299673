/*
 * msgjson.h - AMQP basic properties, field tables and field values as typed JSON, and back
 * (the message part of the archive format, dlq.md), plus RFC 4648 base64.
 *
 * A field value is an object {"type": T, ...} that keeps the AMQP field kind beside the value,
 * so that a long stays a long and a timestamp a timestamp after a trip through a file:
 *
 *   bool       "value": true | false
 *   i8 u8 i16 u16 i32 u32 i64
 *              "value": integer (the decoder checks the range of the kind)
 *   u64        "value": integer up to INT64_MAX, above it a decimal string
 *   timestamp  "value": seconds since the epoch, as u64
 *   f32 f64    "value": number, or "NaN", "Infinity", "-Infinity"; a NaN other than the
 *              default quiet one (0x7fc00000, 0x7ff8000000000000) also has "bits": its bit
 *              pattern as 8 or 16 lowercase hex digits, so that every value survives bit for bit
 *   decimal    "decimals": 0..255, "value": 0..4294967295
 *   string     "value": "..." when the bytes are UTF-8 without NUL, else "base64": "..."
 *   bytes      "base64": "..."
 *   void       nothing else
 *   table      "value": {key: typed value, ...} in the table's order; a table in which some
 *              key appears more than once (AMQP allows it, the broker keeps every entry) is
 *              instead an array of pairs [[key, typed value], ...] in the table's order, so
 *              that every entry survives
 *   array      "value": [typed value, ...]
 *
 * Members a kind does not use are ignored. A table key that is not UTF-8, holds a NUL or starts
 * with "base64:" is written "base64:" followed by the key's bytes in base64, so every key
 * survives and the escape is unambiguous. In the object form the keys are distinct bytes (the
 * decoder refuses two spellings of one key there); the pair form is for tables that repeat a
 * key, and the decoder refuses it for any other (an empty one included), so that one table
 * has one spelling.
 *
 * One set of limits, in one place, holds for both directions: tables and arrays nest at most
 * RMQT_MSGJSON_MAX_DEPTH levels (the headers table is level 1), keys and short strings hold at
 * most 255 bytes, and only the AMQP 0-9-1 field kinds rabbitmq-c defines are written. The
 * decoder refuses what breaks them; rmqt_table_check() and rmqt_props_check() tell, with the
 * same functions and messages, whether what is in memory keeps them. The encoder itself
 * follows what is in memory: check first, and what passes encodes into JSON that decodes to
 * an equal value.
 */
#ifndef RMQT_MSGJSON_H
#define RMQT_MSGJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "amqp_compat.h"
#include "error.h"

#define RMQT_MSGJSON_MAX_DEPTH 64

/* data (len bytes) in base64 with padding. Returns a new NUL-terminated string (caller
 * frees); "" for len 0. */
char *rmqt_base64_encode(const void *data, size_t len);

/* Decodes s (len bytes, no NUL needed): the RFC 4648 alphabet, padded to a multiple of 4, no
 * whitespace, unused bits of the last character zero. Returns 0 with a new buffer in *out
 * (caller frees; never NULL, a 1-byte buffer when *out_len is 0), or -1 on malformed input
 * with *out NULL and *out_len 0. */
int rmqt_base64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len);

/* One field value as a typed JSON object. Returns a new reference. A kind rabbitmq-c does not
 * define becomes {"type": "unsupported", "kind": <its code>}, which does not decode. */
json_t *rmqt_value_to_json(const amqp_field_value_t *v);

/* A table as a JSON object {key: typed value} in the table's order, or as an array of
 * [key, typed value] pairs when a key repeats. Returns a new reference. */
json_t *rmqt_table_to_json(const amqp_table_t *t);

/* Every property present in p (and only those) as a JSON object: content_type,
 * content_encoding, headers (as rmqt_table_to_json), delivery_mode, priority, correlation_id,
 * reply_to, expiration, message_id, timestamp (as u64), type, user_id, app_id, cluster_id.
 * A short string is a JSON string when it is UTF-8 without NUL, else {"base64": "..."}.
 * Returns a new reference. */
json_t *rmqt_props_to_json(const amqp_basic_properties_t *p);

/* A short string (at most 255 bytes: a property, an exchange, a routing key) as a JSON
 * string when it is UTF-8 without NUL, else {"base64": "..."}. Returns a new reference. */
json_t *rmqt_shortstr_to_json(amqp_bytes_t b);

/* The reverse of rmqt_shortstr_to_json, allocated from pool. Returns 0, or -1 with err set
 * (not a string or {"base64"}, bad base64, over 255 bytes). */
int rmqt_shortstr_from_json(const json_t *j, amqp_pool_t *pool, amqp_bytes_t *out,
                            struct rmqt_error *err);

/* The reverse of the three above. Everything *out points to (strings, entries, nested tables)
 * is allocated from pool (init_amqp_pool(pool, 4096); the caller empties it) and stays valid
 * until the pool is emptied; nothing points into j. Returns 0, or -1 with err naming the path
 * of the bad element ("headers.x-death[0].count: expected an integer for type 'i64'"); on
 * failure *out is empty (a void value, an empty table, no properties). Any JSON is safe to
 * give: wrong shapes are errors, never crashes. Properties: an unknown member is an error
 * (a typo must not drop a property), a short string over 255 bytes is an error, and the
 * AMQP_BASIC_*_FLAG bit of every member read is set in out->_flags. */
int rmqt_value_from_json(const json_t *j, amqp_pool_t *pool, amqp_field_value_t *out,
                         struct rmqt_error *err);
int rmqt_table_from_json(const json_t *j, amqp_pool_t *pool, amqp_table_t *out,
                         struct rmqt_error *err);
int rmqt_props_from_json(const json_t *j, amqp_pool_t *pool, amqp_basic_properties_t *out,
                         struct rmqt_error *err);

/* Whether t (a headers table: level 1) encodes into JSON that the decoder takes back:
 * nesting, key lengths and kinds within the limits above; with RMQT_MSGJSON_UNIQUE_KEYS also no
 * key repeated in any table (the form version-1 archives hold). Returns 0, or -1 with err
 * naming the path of the first offending element and the reason ("a.a.a...: tables and arrays
 * nested deeper than 64 levels"). rmqt_props_check() checks every property present the same
 * way (paths start with the property's name: "headers.x-death[0]..."). */
#define RMQT_MSGJSON_UNIQUE_KEYS 1u
int rmqt_table_check(const amqp_table_t *t, unsigned flags, struct rmqt_error *err);
int rmqt_props_check(const amqp_basic_properties_t *p, unsigned flags, struct rmqt_error *err);

/* Deep, typed equality: same kind and value, tables entry by entry in order, floats bit for
 * bit (so a NaN equals the same NaN), booleans by truth. Properties compare which of the 14
 * properties are present and each present one. */
bool rmqt_value_equal(const amqp_field_value_t *a, const amqp_field_value_t *b);
bool rmqt_table_equal(const amqp_table_t *a, const amqp_table_t *b);
bool rmqt_props_equal(const amqp_basic_properties_t *a, const amqp_basic_properties_t *b);

#endif
