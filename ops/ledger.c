/*
 * ledger.c - the restore ledger (ledger.h).
 *
 * Decisions:
 * - Only what the broker confirmed is written: restore takes nothing from the archive, so the
 *   ledger is the one record of what reached the broker. Lines are appended with one write()
 *   on an O_APPEND descriptor and fsync'd per batch; a torn last line (a crash in the middle of
 *   a write) is skipped when read, which at worst forgets that batch (at-least-once).
 * - A run that publishes locks, for its whole run and before it reads any ledger, the ledger
 *   in the state directory named by the archive's identity (its id, or its header's digest),
 *   and the one beside the archive: two restores of one archive at once (the file, a copy of
 *   it, stdin) would otherwise both pass the check and both publish. flock: a crashed run's
 *   lock goes with it.
 * - The check is by record, whatever the target: the same messages restored to another queue
 *   are still the same messages twice in the broker. --again is the consent.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include "ledger.h"

#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *now_iso(void)
{
    char buf[32];
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(buf);
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *path)
{
    char *p = xstrdup(path), *s;
    int rc = 0;

    for (s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0700) < 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

/* The state directory's ledger file for this archive (new string), or NULL when no directory
 * can be named (no HOME). */
static char *state_path(const struct ledger *l)
{
    const char *dir = getenv("RMQTOPO_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME"),
               *home = getenv("HOME");
    char key[40];

    if (l->archive_id[0] && !l->id_new)
        snprintf(key, sizeof(key), "%s", l->archive_id);
    else /* an archive without an id: by its header's digest, which every restore can compute */
        snprintf(key, sizeof(key), "h-%.32s", l->header_sha256);
    if (dir && *dir)
        return xasprintf("%s/restored/%s%s", dir, key, LEDGER_SUFFIX);
    if (xdg && *xdg)
        return xasprintf("%s/rmqtopo/restored/%s%s", xdg, key, LEDGER_SUFFIX);
    if (home && *home)
        return xasprintf("%s/.local/state/rmqtopo/restored/%s%s", home, key, LEDGER_SUFFIX);
    return NULL;
}

static const char *str_member(const json_t *j, const char *k)
{
    const json_t *v = json_object_get(j, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static struct ledger_run *run_of(struct ledger *l, const char *id, const json_t *j)
{
    const json_t *b = json_object_get(j, "broker"), *t = json_object_get(j, "target");
    struct ledger_run *r;
    size_t i;

    for (i = 0; i < l->n_runs; i++)
        if (strcmp(l->runs[i].run, id) == 0)
            return &l->runs[i];
    l->runs = xrealloc(l->runs, (l->n_runs + 1) * sizeof(*l->runs));
    r = &l->runs[l->n_runs++];
    memset(r, 0, sizeof(*r));
    r->run = xstrdup(id);
    r->url = dup_or_null(str_member(b, "url"));
    r->cluster_name = dup_or_null(str_member(b, "cluster_name"));
    r->version = dup_or_null(str_member(b, "version"));
    r->vhost = dup_or_null(str_member(j, "vhost"));
    r->exchange = dup_or_null(str_member(t, "exchange"));
    r->routing_key = dup_or_null(str_member(t, "routing_key"));
    r->again = json_is_true(json_object_get(j, "again"));
    return r;
}

static void add_range(struct ledger_run *r, uint64_t lo, uint64_t hi)
{
    size_t i;

    /* a line read twice (the ledger beside the archive and its copy in the state directory) */
    for (i = 0; i < r->n_ranges; i++)
        if (r->ranges[i][0] <= lo && hi <= r->ranges[i][1])
            return;
    if (r->n_ranges && r->ranges[r->n_ranges - 1][1] + 1 == lo) {
        r->ranges[r->n_ranges - 1][1] = hi;
    } else {
        r->ranges = xrealloc(r->ranges, (r->n_ranges + 1) * sizeof(*r->ranges));
        r->ranges[r->n_ranges][0] = lo;
        r->ranges[r->n_ranges][1] = hi;
        r->n_ranges++;
    }
    r->records += hi - lo + 1;
}

/* Reads the lines of file that belong to this archive. A missing file is no error. */
static int read_ledger(struct ledger *l, const char *file, const struct archive_header *h,
                       struct rmqt_error *err)
{
    FILE *f = fopen(file, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f) {
        if (errno == ENOENT)
            return 0;
        return rmqt_error_set(err, RMQT_ERR_IO, "read the restore ledger '%s': %s", file,
                              strerror(errno));
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *j = json_loadb(line, (size_t)n, 0, NULL), *rec;
        const char *id, *sha, *run, *when;
        struct ledger_run *r;
        bool mine;

        rec = j ? json_object_get(j, "records") : NULL;
        id = str_member(j, "archive_id");
        sha = str_member(j, "header_sha256");
        run = str_member(j, "run");
        when = str_member(j, "time");
        if (!json_is_object(j) || !json_is_array(rec) || json_array_size(rec) != 2 ||
            !json_is_integer(json_array_get(rec, 0)) || !json_is_integer(json_array_get(rec, 1)) ||
            !id || !run || json_integer_value(json_array_get(rec, 0)) < 1 ||
            json_integer_value(json_array_get(rec, 1)) <
                json_integer_value(json_array_get(rec, 0))) {
            l->bad_lines++;
            json_decref(j);
            continue;
        }
        mine = (h->id && strcmp(id, h->id) == 0) || (sha && strcmp(sha, h->header_sha256) == 0);
        if (mine) {
            if (!h->id && l->id_new) { /* the id this archive got on its first restore */
                snprintf(l->archive_id, sizeof(l->archive_id), "%s", id);
                l->id_new = false;
            }
            r = run_of(l, run, j);
            free(r->time);
            r->time = dup_or_null(when);
            add_range(r, (uint64_t)json_integer_value(json_array_get(rec, 0)),
                      (uint64_t)json_integer_value(json_array_get(rec, 1)));
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return 0;
}

static bool unwritable(int e)
{
    return e == EACCES || e == EROFS || e == EPERM;
}

/* Opens file for appending and locks it exclusively without waiting. 0 with *fd set; -1 with
 * err set, *open_errno the errno when open() itself failed (else 0) and *busy true when another
 * process holds the lock. */
static int open_locked(const char *file, int *fd, int *open_errno, bool *busy,
                       struct rmqt_error *err)
{
    *open_errno = 0;
    *busy = false;
    *fd = open(file, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (*fd < 0) {
        *open_errno = errno;
        return rmqt_error_set(err, RMQT_ERR_IO,
                              "create the restore ledger '%s': %s; nothing was published", file,
                              strerror(errno));
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK) {
            *busy = true;
            return rmqt_error_set(err, RMQT_ERR_IO,
                                  "another dlq restore of this archive is running (it holds the "
                                  "restore ledger '%s'): nothing was published; run again when "
                                  "it has finished",
                                  file);
        }
        return rmqt_error_set(err, RMQT_ERR_IO, "lock the restore ledger '%s': %s", file,
                              strerror(e));
    }
    return 0;
}

/* Whether file is the file open on fd (the archive's own ledger in the state directory). */
static bool same_file(int fd, const char *file)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(file, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int ledger_open(struct ledger *l, const char *path, const struct archive_header *h, bool write,
                struct rmqt_error *err)
{
    char *state = NULL, *state_dir = NULL, *abs;
    int rc = -1, oe, sfd = -1, dir_errno = 0;
    bool busy;
    struct rmqt_error state_err; /* why the state directory's ledger could not be opened */

    memset(l, 0, sizeof(*l));
    l->fd = l->mirror_fd = -1;
    rmqt_error_init(&state_err);
    snprintf(l->header_sha256, sizeof(l->header_sha256), "%s", h->header_sha256);
    if (h->id) {
        snprintf(l->archive_id, sizeof(l->archive_id), "%s", h->id);
    } else {
        l->id_new = true; /* unless an earlier restore gave it one (read below) */
        if (archive_new_id(l->archive_id) < 0)
            return rmqt_error_set(err, RMQT_ERR_IO, "no random bytes for the archive's id");
    }
    if (strcmp(path, "-") == 0) {
        l->archive = xstrdup("-");
        l->reason = "the archive came on stdin";
    } else {
        abs = realpath(path, NULL);
        l->archive = abs ? abs : xstrdup(path);
        l->beside = xasprintf("%s%s", path, LEDGER_SUFFIX);
    }
    /* named by the id, or by the header's digest for an archive without one: known before
     * any ledger is read, the same for the archive, a copy of it and stdin */
    state = state_path(l);
    if (!write) {
        struct stat st;
        if (l->beside && read_ledger(l, l->beside, h, err) < 0)
            goto out;
        if (state && read_ledger(l, state, h, err) < 0)
            goto out;
        l->path = xstrdup(l->beside && (stat(l->beside, &st) == 0 || !state) ? l->beside
                          : state                                            ? state
                                                                             : "-");
        rc = 0;
        goto out;
    }
    /* The lock of a run that publishes: the state directory's ledger, whichever way the
     * archive came, taken before any ledger is read (two runs that both read first would both
     * find nothing and both publish). */
    if (state) {
        char *slash;
        state_dir = xstrdup(state);
        if ((slash = strrchr(state_dir, '/')) != NULL)
            *slash = '\0';
        if (make_dirs(state_dir) < 0)
            dir_errno = errno ? errno : EIO;
        else if (open_locked(state, &sfd, &oe, &busy, &state_err) < 0 && busy) {
            *err = state_err;
            goto out;
        }
    }
    if (l->beside) {
        if (sfd >= 0 && same_file(sfd, l->beside)) { /* the archive lies in the state directory */
            l->fd = sfd;
            sfd = -1;
            l->path = xstrdup(l->beside);
            goto read;
        }
        if (open_locked(l->beside, &l->fd, &oe, &busy, err) == 0) {
            /* the copy of the lines, best effort; when the state directory could not be used,
             * the lock is only the one beside the archive */
            l->mirror_fd = sfd;
            sfd = -1;
            l->path = xstrdup(l->beside);
            goto read;
        }
        if (busy || !oe || !unwritable(oe))
            goto out;
        l->reason = access(l->beside, F_OK) == 0 ? "the ledger beside the archive is not writable"
                                                 : "the archive's directory is not writable";
    }
    if (!state) {
        rmqt_error_set(err, RMQT_ERR_IO,
                       "no place for the restore ledger (%s, and neither RMQTOPO_STATE_DIR, "
                       "XDG_STATE_HOME nor HOME is set): nothing was published",
                       l->reason);
        goto out;
    }
    if (sfd < 0) {
        if (dir_errno)
            rmqt_error_set(err, RMQT_ERR_IO,
                           "create the directory '%s' for the restore ledger (%s): %s; nothing "
                           "was published",
                           state_dir, l->reason, strerror(dir_errno));
        else
            *err = state_err;
        goto out;
    }
    l->fd = sfd;
    sfd = -1;
    l->path = xstrdup(state);
read:
    /* under the lock: what every earlier run recorded, the one that just finished included */
    if (l->beside && read_ledger(l, l->beside, h, err) < 0)
        goto out;
    if (state && read_ledger(l, state, h, err) < 0)
        goto out;
    rc = 0;
out:
    if (sfd >= 0)
        close(sfd);
    free(state);
    free(state_dir);
    if (rc < 0)
        ledger_close(l);
    return rc;
}

bool ledger_run_overlaps(const struct ledger_run *r, uint64_t skip)
{
    size_t i;

    for (i = 0; i < r->n_ranges; i++)
        if (r->ranges[i][1] > skip)
            return true;
    return false;
}

size_t ledger_overlapping(const struct ledger *l, uint64_t skip)
{
    size_t i, n = 0;

    for (i = 0; i < l->n_runs; i++)
        n += ledger_run_overlaps(&l->runs[i], skip);
    return n;
}

static int cmp_range(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

uint64_t ledger_resume_point(const struct ledger *l)
{
    uint64_t(*all)[2] = NULL, end = 0;
    size_t n = 0, i, j;

    for (i = 0; i < l->n_runs; i++)
        for (j = 0; j < l->runs[i].n_ranges; j++) {
            all = xrealloc(all, (n + 1) * sizeof(*all));
            all[n][0] = l->runs[i].ranges[j][0];
            all[n][1] = l->runs[i].ranges[j][1];
            n++;
        }
    if (n)
        qsort(all, n, sizeof(*all), cmp_range);
    for (i = 0; i < n; i++) {
        if (all[i][0] > end + 1) { /* a gap: not one stretch from the first record */
            end = 0;
            break;
        }
        if (all[i][1] > end)
            end = all[i][1];
    }
    free(all);
    return end;
}

void ledger_begin(struct ledger *l, const char *url, const char *cluster_name, const char *version,
                  const char *vhost, const char *exchange, const char *routing_key, bool again)
{
    json_t *b = json_object(), *t = json_object();
    char *when = now_iso(), *run, rnd[33];

    /* the time and pid say which run it was; the random part keeps two runs of one process
     * in one second apart */
    if (archive_new_id(rnd) < 0)
        snprintf(rnd, sizeof(rnd), "%lx", (unsigned long)clock());
    run = xasprintf("%s-%ld-%.8s", when, (long)getpid(), rnd);

    json_decref(l->base);
    l->base = json_object();
    json_object_set_new(l->base, "archive_id", json_string(l->archive_id));
    json_object_set_new(l->base, "header_sha256", json_string(l->header_sha256));
    json_object_set_new(l->base, "archive", json_string(l->archive));
    json_object_set_new(b, "url", url ? json_string(url) : json_null());
    json_object_set_new(b, "cluster_name", cluster_name ? json_string(cluster_name) : json_null());
    json_object_set_new(b, "version", version ? json_string(version) : json_null());
    json_object_set_new(l->base, "broker", b);
    json_object_set_new(l->base, "vhost", json_string(vhost));
    json_object_set_new(t, "exchange", json_string(exchange));
    json_object_set_new(t, "routing_key", routing_key ? json_string(routing_key) : json_null());
    json_object_set_new(l->base, "target", t);
    json_object_set_new(l->base, "run", json_string(run));
    json_object_set_new(l->base, "again", json_boolean(again));
    l->last_flush = rmqt_now_s();
    free(when);
    free(run);
}

static int write_pending(struct ledger *l, struct rmqt_error *err)
{
    json_t *j, *a;
    char *s, *when;
    size_t len, off = 0;

    if (!l->pend_hi)
        return 0;
    if (l->fd < 0 || !l->base)
        return rmqt_error_set(err, RMQT_ERR_INTERNAL, "the restore ledger is not open (a bug)");
    j = json_deep_copy(l->base);
    when = now_iso();
    /* in the order of ledger.h: lines and records after the archive */
    a = json_array();
    json_array_append_new(a, json_integer((json_int_t)(l->pend_lo + 1)));
    json_array_append_new(a, json_integer((json_int_t)(l->pend_hi + 1)));
    json_object_set_new(j, "lines", a);
    a = json_array();
    json_array_append_new(a, json_integer((json_int_t)l->pend_lo));
    json_array_append_new(a, json_integer((json_int_t)l->pend_hi));
    json_object_set_new(j, "records", a);
    json_object_set_new(j, "time", json_string(when));
    free(when);
    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    len = strlen(s);
    s = xrealloc(s, len + 2);
    s[len++] = '\n';
    while (off < len) {
        ssize_t w = write(l->fd, s + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            free(s);
            return rmqt_error_set(err, RMQT_ERR_IO, "write the restore ledger '%s': %s", l->path,
                                  strerror(e));
        }
        off += (size_t)w;
    }
    if (l->mirror_fd >= 0 && write(l->mirror_fd, s, len) != (ssize_t)len) {
        close(l->mirror_fd); /* the copy is best effort */
        l->mirror_fd = -1;
    }
    free(s);
    l->written += l->pend_hi - l->pend_lo + 1;
    l->pend_lo = l->pend_hi = 0;
    return 0;
}

int ledger_flush(struct ledger *l, struct rmqt_error *err)
{
    if (l->fd < 0 || !l->pend_hi)
        return 0;
    if (write_pending(l, err) < 0)
        return -1;
    if (fsync(l->fd) < 0)
        return rmqt_error_set(err, RMQT_ERR_IO, "sync the restore ledger '%s': %s", l->path,
                              strerror(errno));
    if (l->mirror_fd >= 0)
        (void)fsync(l->mirror_fd);
    l->since_flush = 0;
    l->last_flush = rmqt_now_s();
    return 0;
}

int ledger_note(struct ledger *l, uint64_t record, struct rmqt_error *err)
{
    if (l->pend_hi && record == l->pend_hi + 1) {
        l->pend_hi = record;
    } else {
        if (write_pending(l, err) < 0)
            return -1;
        l->pend_lo = l->pend_hi = record;
    }
    if (++l->since_flush >= LEDGER_BATCH || rmqt_now_s() - l->last_flush >= LEDGER_INTERVAL_S)
        return ledger_flush(l, err);
    return 0;
}

json_t *ledger_runs_json(const struct ledger *l, uint64_t skip)
{
    json_t *arr = json_array();
    size_t i, k;

    for (i = 0; i < l->n_runs; i++) {
        const struct ledger_run *r = &l->runs[i];
        json_t *j, *rs, *b, *t;
        if (!ledger_run_overlaps(r, skip))
            continue;
        j = json_object();
        rs = json_array();
        b = json_object();
        t = json_object();
        json_object_set_new(j, "run", json_string(r->run));
        json_object_set_new(j, "time", r->time ? json_string(r->time) : json_null());
        for (k = 0; k < r->n_ranges; k++)
            json_array_append_new(
                rs, json_pack("[II]", (json_int_t)r->ranges[k][0], (json_int_t)r->ranges[k][1]));
        json_object_set_new(j, "records", rs);
        json_object_set_new(j, "count", json_integer((json_int_t)r->records));
        json_object_set_new(b, "url", r->url ? json_string(r->url) : json_null());
        json_object_set_new(b, "cluster_name",
                            r->cluster_name ? json_string(r->cluster_name) : json_null());
        json_object_set_new(b, "version", r->version ? json_string(r->version) : json_null());
        json_object_set_new(j, "broker", b);
        json_object_set_new(j, "vhost", r->vhost ? json_string(r->vhost) : json_null());
        json_object_set_new(t, "exchange", r->exchange ? json_string(r->exchange) : json_null());
        json_object_set_new(t, "routing_key",
                            r->routing_key ? json_string(r->routing_key) : json_null());
        json_object_set_new(j, "target", t);
        json_object_set_new(j, "again", json_boolean(r->again));
        json_array_append_new(arr, j);
    }
    return arr;
}

void ledger_close(struct ledger *l)
{
    size_t i;

    if (l->fd >= 0)
        close(l->fd); /* releases the lock */
    if (l->mirror_fd >= 0)
        close(l->mirror_fd);
    for (i = 0; i < l->n_runs; i++) {
        struct ledger_run *r = &l->runs[i];
        free(r->run);
        free(r->time);
        free(r->url);
        free(r->cluster_name);
        free(r->version);
        free(r->vhost);
        free(r->exchange);
        free(r->routing_key);
        free(r->ranges);
    }
    free(l->runs);
    free(l->path);
    free(l->beside);
    free(l->archive);
    json_decref(l->base);
    memset(l, 0, sizeof(*l));
    l->fd = l->mirror_fd = -1;
}
