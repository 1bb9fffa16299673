/*
 * fuzz_archive.c - libFuzzer target: any bytes as an archive file, through the line reader,
 * the header check and the record decoder (what dlq restore reads).
 *
 * Whatever record decodes must survive the trip back: the writer takes it (archive_record_line
 * with its checks: what the reader takes, the writer must take too; repeated keys in the pair
 * form of version 2 included), and encoded as a record again and decoded, it has the same
 * properties (typed, bit for bit, every entry of a repeated key in order; a delivery counter
 * put among the headers by hand moves to delivery_counters, as restore never publishes it),
 * body, exchange and routing key.
 */
#define _POSIX_C_SOURCE 200809L
#include "archive_format.h"
#include "msgdigest.h"
#include "msgjson.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool bytes_equal(amqp_bytes_t a, amqp_bytes_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.bytes, b.bytes, a.len) == 0);
}

static void check_record(const char *line, size_t len, amqp_pool_t *pool)
{
    struct archive_record r, again;
    amqp_basic_properties_t clean;
    amqp_table_entry_t *scratch = NULL;
    size_t cap = 0;
    struct rmqt_error err;
    amqp_envelope_t env;
    size_t out_len;
    char *text;

    if (archive_record_parse(line, len, pool, &r, &err) != 0)
        return;
    memset(&env, 0, sizeof(env));
    env.exchange = r.exchange;
    env.routing_key = r.routing_key;
    env.message.properties = r.props;
    env.message.body = r.body;
    /* the writer's own path, checks included: refusing a record the reader took would make
     * archive and restore disagree */
    text = archive_record_line(&env, ARCHIVE_FORMAT_VERSION, &out_len, &err);
    if (!text || out_len != strlen(text))
        abort();
    rmqt_props_without_counters(&r.props, &clean, &scratch, &cap);
    if (archive_record_parse(text, out_len, pool, &again, &err) != 0 ||
        !rmqt_props_equal(&clean, &again.props) || !bytes_equal(r.body, again.body) ||
        !bytes_equal(r.exchange, again.exchange) || !bytes_equal(r.routing_key, again.routing_key))
        abort();
    free(scratch);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct archive_reader r;
    struct archive_header h;
    struct rmqt_error err;
    amqp_pool_t pool;
    size_t len;
    int k;

    if (size == 0)
        return 0;
    memset(&r, 0, sizeof(r));
    r.f = fmemopen((void *)data, size, "r");
    if (!r.f)
        return 0;
    r.name = "fuzz";
    r.max_line = 1 << 16;
    init_amqp_pool(&pool, 4096);
    k = archive_reader_next(&r, &len, &err);
    if (k == ARCHIVE_LINE && archive_header_parse(r.line, len, &h, &err) == 0)
        archive_header_release(&h);
    while (k == ARCHIVE_LINE || k == ARCHIVE_TRUNCATED) {
        check_record(r.line, len, &pool);
        recycle_amqp_pool(&pool);
        if (k == ARCHIVE_TRUNCATED)
            break;
        k = archive_reader_next(&r, &len, &err);
    }
    empty_amqp_pool(&pool);
    fclose(r.f);
    archive_reader_release(&r);
    return 0;
}
