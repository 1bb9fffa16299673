/*
 * fuzz_ledger.c - libFuzzer target: any bytes as a restore ledger (ledger.h), the file beside
 * an archive that `dlq restore` reads before publishing anything (a torn or hand-edited ledger
 * is input we do not control).
 *
 * The input is written to <dir>/a.restored and read with ledger_open() for an archive header
 * with a fixed id or none (a bit of the first byte). What must hold of what was read:
 * - every run has a range; every range is 1 <= lo <= hi <= INT64_MAX; records is the sum of the
 *   ranges' sizes;
 * - ledger_overlapping(skip) counts the runs with a record after skip, and ledger_runs_json(skip)
 *   lists exactly those, with their ranges and count;
 * - ledger_resume_point() is N > 0 exactly when the ranges together are the stretch 1..N;
 * - the same lines read a second time (a copy of the ledger in the state directory, another bit
 *   of the first byte) change nothing: a line already counted is not counted again.
 */
#define _POSIX_C_SOURCE 200809L
#include "ledger.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXED_ID "0123456789abcdef0123456789abcdef"
#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static char dir[64], archive[96], beside[128], state_dir[96], state_file[192];

static void cleanup(void)
{
    char p[192];

    unlink(beside);
    unlink(state_file);
    snprintf(p, sizeof(p), "%s/restored/h-%.32s%s", state_dir, SHA, LEDGER_SUFFIX);
    unlink(p);
    snprintf(p, sizeof(p), "%s/restored", state_dir);
    rmdir(p);
    rmdir(state_dir);
    rmdir(dir);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    char p[192];

    snprintf(dir, sizeof(dir), "%s/fuzz_ledger.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(archive, sizeof(archive), "%s/a", dir);
    snprintf(beside, sizeof(beside), "%s%s", archive, LEDGER_SUFFIX);
    snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
    snprintf(p, sizeof(p), "%s/restored", state_dir);
    if (mkdir(state_dir, 0700) < 0 || mkdir(p, 0700) < 0)
        abort();
    setenv("RMQTOPO_STATE_DIR", state_dir, 1);
    atexit(cleanup);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t off = 0;

    if (fd < 0)
        abort();
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    close(fd);
}

static int cmp_range(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* The stretch 1..N the ranges make together: N, or 0 when they do not make one. */
static uint64_t stretch(const struct ledger *l)
{
    uint64_t(*all)[2] = NULL, end = 0;
    size_t n = 0, i, j;

    for (i = 0; i < l->n_runs; i++)
        n += l->runs[i].n_ranges;
    if (!n)
        return 0;
    all = malloc(n * sizeof(*all));
    if (!all)
        abort();
    n = 0;
    for (i = 0; i < l->n_runs; i++)
        for (j = 0; j < l->runs[i].n_ranges; j++) {
            all[n][0] = l->runs[i].ranges[j][0];
            all[n][1] = l->runs[i].ranges[j][1];
            n++;
        }
    qsort(all, n, sizeof(*all), cmp_range);
    if (all[0][0] != 1)
        end = 0;
    else
        for (i = 0; i < n; i++) {
            if (all[i][0] > end + 1) {
                end = 0;
                break;
            }
            if (all[i][1] > end)
                end = all[i][1];
        }
    free(all);
    return end;
}

static bool overlaps(const struct ledger_run *r, uint64_t skip)
{
    size_t i;
    for (i = 0; i < r->n_ranges; i++)
        if (r->ranges[i][1] > skip)
            return true;
    return false;
}

static bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_skip(const struct ledger *l, uint64_t skip)
{
    json_t *arr = ledger_runs_json(l, skip), *j;
    size_t i, k, n = 0, idx = 0;

    for (i = 0; i < l->n_runs; i++)
        n += overlaps(&l->runs[i], skip);
    if (ledger_overlapping(l, skip) != n || !json_is_array(arr) || json_array_size(arr) != n)
        abort();
    for (i = 0; i < l->n_runs; i++) {
        const struct ledger_run *r = &l->runs[i];
        json_t *rs;
        if (ledger_run_overlaps(r, skip) != overlaps(r, skip))
            abort();
        if (!overlaps(r, skip))
            continue;
        j = json_array_get(arr, idx++);
        rs = json_object_get(j, "records");
        if (!str_same(json_string_value(json_object_get(j, "run")), r->run) ||
            json_integer_value(json_object_get(j, "count")) != (json_int_t)r->records ||
            json_array_size(rs) != r->n_ranges)
            abort();
        for (k = 0; k < r->n_ranges; k++)
            if (json_integer_value(json_array_get(json_array_get(rs, k), 0)) !=
                    (json_int_t)r->ranges[k][0] ||
                json_integer_value(json_array_get(json_array_get(rs, k), 1)) !=
                    (json_int_t)r->ranges[k][1])
                abort();
    }
    json_decref(arr);
}

static void check(const struct ledger *l, uint64_t skip)
{
    uint64_t n;
    size_t i, k;

    if (!l->path || l->fd != -1 || !l->archive || !l->beside)
        abort();
    for (i = 0; i < l->n_runs; i++) {
        const struct ledger_run *r = &l->runs[i];
        uint64_t sum = 0;
        if (!r->run || r->n_ranges == 0)
            abort();
        for (k = 0; k < i; k++)
            if (strcmp(l->runs[k].run, r->run) == 0) /* one entry a run */
                abort();
        for (k = 0; k < r->n_ranges; k++) {
            if (r->ranges[k][0] < 1 || r->ranges[k][0] > r->ranges[k][1] ||
                r->ranges[k][1] > (uint64_t)INT64_MAX)
                abort();
            sum += r->ranges[k][1] - r->ranges[k][0] + 1;
        }
        if (sum != r->records)
            abort();
    }
    n = ledger_resume_point(l);
    if (n != stretch(l))
        abort();
    if (n && ledger_overlapping(l, n) != 0)
        abort();
    check_skip(l, 0);
    check_skip(l, skip);
    if (n)
        check_skip(l, n - 1);
}

/* Whether two ledgers read the same runs. */
static bool same_runs(const struct ledger *a, const struct ledger *b)
{
    size_t i;

    /* an archive without an id gets a new random one unless a line of its ledger names it */
    if (a->n_runs != b->n_runs || a->id_new != b->id_new ||
        (!a->id_new && strcmp(a->archive_id, b->archive_id) != 0))
        return false;
    for (i = 0; i < a->n_runs; i++) {
        const struct ledger_run *x = &a->runs[i], *y = &b->runs[i];
        if (!str_same(x->run, y->run) || !str_same(x->time, y->time) || !str_same(x->url, y->url) ||
            !str_same(x->cluster_name, y->cluster_name) || !str_same(x->version, y->version) ||
            !str_same(x->vhost, y->vhost) || !str_same(x->exchange, y->exchange) ||
            !str_same(x->routing_key, y->routing_key) || x->again != y->again ||
            x->records != y->records || x->n_ranges != y->n_ranges ||
            memcmp(x->ranges, y->ranges, x->n_ranges * sizeof(*x->ranges)) != 0)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static char fixed_id[] = FIXED_ID;
    struct archive_header h;
    struct ledger l, again;
    struct rmqt_error err;
    uint64_t skip = 0;
    size_t i;

    if (!ready) {
        setup();
        ready = true;
    }
    memset(&h, 0, sizeof(h));
    h.version = ARCHIVE_FORMAT_VERSION;
    h.id = size && (data[0] & 1) ? NULL : fixed_id;
    snprintf(h.header_sha256, sizeof(h.header_sha256), "%s", SHA);
    /* the state directory's ledger is named by the id, or by the header's digest without one */
    if (h.id)
        snprintf(state_file, sizeof(state_file), "%s/restored/%s%s", state_dir, h.id,
                 LEDGER_SUFFIX);
    else
        snprintf(state_file, sizeof(state_file), "%s/restored/h-%.32s%s", state_dir, SHA,
                 LEDGER_SUFFIX);
    unlink(state_file);
    write_file(beside, data, size);
    for (i = 0; i < 8 && i + 1 < size; i++) /* a skip value from the input's end */
        skip = skip << 8 | data[size - 1 - i];

    if (ledger_open(&l, archive, &h, false, &err) != 0)
        return 0;
    check(&l, skip);
    if (size && (data[0] & 2)) {
        /* the same lines again, as the copy in the state directory */
        write_file(state_file, data, size);
        if (ledger_open(&again, archive, &h, false, &err) != 0 || !same_runs(&l, &again))
            abort();
        check(&again, skip);
        ledger_close(&again);
    }
    ledger_close(&l);
    return 0;
}
