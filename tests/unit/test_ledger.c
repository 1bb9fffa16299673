/*
 * test_ledger.c - dlq restore's ledger (ops/ledger.h) on files in a scratch directory: what a
 * run notes is read back by the next one, grouped by run, with the overlap rule (--skip) and
 * the resume point; an archive without an id keeps the id its first restore gave it; a torn
 * last line is skipped; a second writer fails at once, of the archive, a copy of it or stdin,
 * with or without an id; stdin's ledger goes to the state directory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_format.h"
#include "ledger.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/rmqtopo-ledger-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    {
        char st[128];
        snprintf(st, sizeof(st), "%s/state", dir);
        setenv("RMQTOPO_STATE_DIR", st, 1);
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* An archive file with the header line given; h parsed from it. */
static void make_archive(const char *name, const char *header, char *path, size_t cap,
                         struct archive_header *h)
{
    struct rmqt_error err;
    FILE *f;

    snprintf(path, cap, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", header);
    fclose(f);
    assert_int_equal(archive_header_parse(header, strlen(header), h, &err), 0);
}

static void restore_records(const char *path, const struct archive_header *h, uint64_t from,
                            uint64_t to, bool again)
{
    struct ledger l;
    struct rmqt_error err;
    uint64_t r;

    assert_int_equal(ledger_open(&l, path, h, true, &err), 0);
    ledger_begin(&l, "amqp://localhost:5672", "rabbit@h", "3.10.8", "v", "", "q", again);
    for (r = from; r <= to; r++)
        assert_int_equal(ledger_note(&l, r, &err), 0);
    assert_int_equal(ledger_flush(&l, &err), 0);
    assert_int_equal(l.written, to - from + 1);
    ledger_close(&l);
}

static void test_ledger_reads_back_runs_overlaps_and_resume_point(void **state)
{
    static const char header[] = "{\"format\":\"rmqtopo-archive\",\"version\":2,\"vhost\":\"v\","
                                 "\"queue\":\"q\",\"id\":\"00112233445566778899aabbccddeeff\"}";
    struct archive_header h;
    struct ledger l;
    struct rmqt_error err;
    char path[128];
    (void)state;

    make_archive("a.jsonl", header, path, sizeof(path), &h);
    assert_int_equal(ledger_open(&l, path, &h, false, &err), 0);
    assert_int_equal(l.n_runs, 0);
    assert_int_equal(ledger_overlapping(&l, 0), 0);
    ledger_close(&l);

    restore_records(path, &h, 1, 1200, false); /* more than a batch: several lines */
    assert_int_equal(ledger_open(&l, path, &h, false, &err), 0);
    assert_int_equal(l.n_runs, 1);
    assert_int_equal(l.runs[0].records, 1200);
    assert_int_equal(l.runs[0].n_ranges, 1); /* the batches of a run merge */
    assert_int_equal(l.runs[0].ranges[0][0], 1);
    assert_int_equal(l.runs[0].ranges[0][1], 1200);
    assert_string_equal(l.runs[0].routing_key, "q");
    assert_string_equal(l.runs[0].cluster_name, "rabbit@h");
    assert_int_equal(ledger_overlapping(&l, 0), 1);
    assert_int_equal(ledger_overlapping(&l, 1199), 1);
    assert_int_equal(ledger_overlapping(&l, 1200), 0); /* --skip 1200: only new records */
    assert_int_equal(ledger_resume_point(&l), 1200);
    assert_string_equal(l.archive_id, "00112233445566778899aabbccddeeff");
    ledger_close(&l);

    /* a second run with a gap: no single resume point */
    restore_records(path, &h, 1300, 1310, true);
    assert_int_equal(ledger_open(&l, path, &h, false, &err), 0);
    assert_int_equal(l.n_runs, 2);
    assert_true(l.runs[1].again);
    assert_int_equal(ledger_resume_point(&l), 0);
    assert_int_equal(ledger_overlapping(&l, 1200), 1);
    ledger_close(&l);
    archive_header_release(&h);
}

static void test_ledger_gives_an_archive_without_id_one_and_keeps_it(void **state)
{
    static const char header[] = "{\"format\":\"rmqtopo-archive\",\"version\":1,\"vhost\":\"v\","
                                 "\"queue\":\"old\"}";
    struct archive_header h;
    struct ledger l;
    struct rmqt_error err;
    char path[128], first[33];
    (void)state;

    make_archive("old.jsonl", header, path, sizeof(path), &h);
    assert_null(h.id);
    restore_records(path, &h, 1, 3, false);
    assert_int_equal(ledger_open(&l, path, &h, false, &err), 0);
    assert_false(l.id_new);
    assert_int_equal(strlen(l.archive_id), 32);
    memcpy(first, l.archive_id, sizeof(first));
    assert_int_equal(l.n_runs, 1);
    ledger_close(&l);
    restore_records(path, &h, 4, 5, false);
    assert_int_equal(ledger_open(&l, path, &h, false, &err), 0);
    assert_string_equal(l.archive_id, first);
    assert_int_equal(l.n_runs, 2);
    ledger_close(&l);
    archive_header_release(&h);
}

static void test_ledger_skips_a_torn_line_and_other_archives(void **state)
{
    static const char header[] = "{\"format\":\"rmqtopo-archive\",\"version\":2,\"vhost\":\"v\","
                                 "\"queue\":\"t\",\"id\":\"ffeeddccbbaa99887766554433221100\"}";
    struct archive_header h;
    struct ledger l;
    struct rmqt_error err;
    char path[128], lpath[160];
    FILE *f;
    (void)state;

    make_archive("t.jsonl", header, path, sizeof(path), &h);
    restore_records(path, &h, 1, 2, false);
    snprintf(lpath, sizeof(lpath), "%s%s", path, LEDGER_SUFFIX);
    f = fopen(lpath, "a");
    assert_non_null(f);
    /* another archive's line, and a piece of a line (a crash in the middle of a write) */
    fprintf(f, "{\"archive_id\":\"other\",\"header_sha256\":\"x\",\"records\":[1,9],"
               "\"run\":\"r\"}\n{\"archive_id\":\"ffeedd");
    fclose(f);
    assert_int_equal(ledger_open(&l, path, &h, false, &err), 0);
    assert_int_equal(l.n_runs, 1);
    assert_int_equal(l.runs[0].records, 2);
    assert_int_equal(l.bad_lines, 1);
    ledger_close(&l);
    archive_header_release(&h);
}

static void test_ledger_one_writer_and_stdin_in_the_state_directory(void **state)
{
    static const char header[] = "{\"format\":\"rmqtopo-archive\",\"version\":2,\"vhost\":\"v\","
                                 "\"queue\":\"s\",\"id\":\"0123456789abcdef0123456789abcdef\"}";
    struct archive_header h;
    struct ledger a, b;
    struct rmqt_error err;
    char path[128], want[192];
    (void)state;

    make_archive("s.jsonl", header, path, sizeof(path), &h);
    assert_int_equal(ledger_open(&a, path, &h, true, &err), 0);
    assert_int_equal(ledger_open(&b, path, &h, true, &err), -1);
    assert_non_null(strstr(err.message, "another dlq restore of this archive is running"));
    ledger_close(&a);

    assert_int_equal(ledger_open(&a, "-", &h, true, &err), 0);
    snprintf(want, sizeof(want), "%s/state/restored/0123456789abcdef0123456789abcdef%s", dir,
             LEDGER_SUFFIX);
    assert_string_equal(a.path, want);
    assert_string_equal(a.reason, "the archive came on stdin");
    ledger_begin(&a, NULL, NULL, NULL, "v", "", "s", false);
    assert_int_equal(ledger_note(&a, 1, &err), 0);
    assert_int_equal(ledger_flush(&a, &err), 0);
    ledger_close(&a);
    /* the file's restore sees what stdin's restore recorded */
    assert_int_equal(ledger_open(&a, path, &h, false, &err), 0);
    assert_int_equal(ledger_overlapping(&a, 0), 1);
    ledger_close(&a);
    archive_header_release(&h);
}

/* A copy of the archive at copy (the same bytes). */
static void copy_archive(const char *from, const char *name, char *path, size_t cap)
{
    char buf[512];
    size_t n;
    FILE *in = fopen(from, "r"), *out;

    snprintf(path, cap, "%s/%s", dir, name);
    out = fopen(path, "w");
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

/* While one run publishes from the archive, a run of the archive, of a copy of it or of stdin
 * fails at once; once it has finished, each of them sees what it recorded. */
static void one_lock_for_archive_copy_and_stdin(const char *header, const char *name,
                                                const char *copy_name)
{
    struct archive_header h;
    struct ledger a, b;
    struct rmqt_error err;
    char path[128], copy[128];
    const char *others[3];
    size_t i;

    make_archive(name, header, path, sizeof(path), &h);
    copy_archive(path, copy_name, copy, sizeof(copy));
    others[0] = path;
    others[1] = copy;
    others[2] = "-";
    assert_int_equal(ledger_open(&a, path, &h, true, &err), 0);
    for (i = 0; i < 3; i++) {
        assert_int_equal(ledger_open(&b, others[i], &h, true, &err), -1);
        assert_non_null(strstr(err.message, "another dlq restore of this archive is running"));
        assert_non_null(strstr(err.message, "nothing was published"));
    }
    /* a dry run takes no lock */
    assert_int_equal(ledger_open(&b, copy, &h, false, &err), 0);
    ledger_close(&b);
    ledger_begin(&a, NULL, NULL, NULL, "v", "", "q", false);
    assert_int_equal(ledger_note(&a, 1, &err), 0);
    assert_int_equal(ledger_note(&a, 2, &err), 0);
    assert_int_equal(ledger_flush(&a, &err), 0);
    ledger_close(&a);
    /* the copy's run, the first stdin's: the lock is free, and what the first run recorded is
     * read under it */
    for (i = 1; i < 3; i++) {
        assert_int_equal(ledger_open(&b, others[i], &h, true, &err), 0);
        assert_int_equal(ledger_overlapping(&b, 0), 1);
        assert_int_equal(b.runs[0].records, 2);
        assert_false(b.id_new);
        ledger_close(&b);
    }
    /* the copy's run holds the lock: the archive's own run fails */
    assert_int_equal(ledger_open(&b, copy, &h, true, &err), 0);
    assert_int_equal(ledger_open(&a, path, &h, true, &err), -1);
    assert_non_null(strstr(err.message, "another dlq restore of this archive is running"));
    ledger_close(&b);
    archive_header_release(&h);
}

static void test_ledger_one_lock_for_an_archive_its_copy_and_stdin(void **state)
{
    (void)state;
    one_lock_for_archive_copy_and_stdin(
        "{\"format\":\"rmqtopo-archive\",\"version\":2,\"vhost\":\"v\",\"queue\":\"c\","
        "\"id\":\"c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0\"}",
        "c1.jsonl", "c2.jsonl");
    /* an archive without an id: the lock is named by the header's digest */
    one_lock_for_archive_copy_and_stdin(
        "{\"format\":\"rmqtopo-archive\",\"version\":1,\"vhost\":\"v\",\"queue\":\"oldc\"}",
        "o1.jsonl", "o2.jsonl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger_reads_back_runs_overlaps_and_resume_point),
        cmocka_unit_test(test_ledger_gives_an_archive_without_id_one_and_keeps_it),
        cmocka_unit_test(test_ledger_skips_a_torn_line_and_other_archives),
        cmocka_unit_test(test_ledger_one_writer_and_stdin_in_the_state_directory),
        cmocka_unit_test(test_ledger_one_lock_for_an_archive_its_copy_and_stdin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
