/*
 * archive.c - dlq archive and dlq restore on top of common's safe mover.
 *
 * Decisions:
 * - archive is the mover with a file sink: records are written through a large stdio buffer
 *   and made durable (fflush + fsync) once per window or when the queue pauses, and only then
 *   are their messages acknowledged (dlq.md). A new file's directory is fsync'd as well, so
 *   the file itself survives a crash. --copy acknowledges nothing: closing the channel gives
 *   every message back (in order on classic queues).
 * - An existing file is never overwritten. --append checks that the header names the same
 *   vhost and queue, and first cuts a truncated last line (a crash while writing): that line's
 *   message was never acknowledged, so it is still in the queue and will be written again.
 * - Files are created 0600: dead-lettered messages often carry personal data.
 * - restore is the mover with a callback source: records are read one at a time (memory stays
 *   flat), published exactly as archived with confirms and mandatory, and the count of records
 *   confirmed in a row from the start is what a re-run passes to --skip.
 */
#define _POSIX_C_SOURCE 200809L
#include "present.h"
#include "archive.h"

#include "death.h"
#include "warn.h"
#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WRITE_BUFFER (1 << 20)

/* --- archive ------------------------------------------------------------------------- */

struct arch {
    const struct archive_options *o;
    struct archive_result *res;
    FILE *f;
    bool own, syncable; /* we opened f; fsync works on it (a regular file) */
    char *buf;
    long version;  /* the file's format version: the records are written in its form */
    uint64_t seen; /* deliveries so far: the position in the queue of the last one */
    char *line;    /* the record of the delivery prepare() accepted, for sink_write */
    size_t line_len;
    uint64_t line_tag; /* that delivery's tag */
};

static int io_error(struct rmqt_error *err, const char *what, const char *path)
{
    int e = errno;
    rmqt_error_set(err, RMQT_ERR_IO, "%s '%s': %s", what, path, strerror(e));
    err->detail = e;
    return -1;
}

/* The error for a path that names a directory, or 0 when it does not name one. */
static int refuse_directory(const char *path, const char *what, struct rmqt_error *err)
{
    struct stat st;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return rmqt_error_set(err, RMQT_ERR_IO, "'%s' is a directory: %s", path, what);
    return 0;
}

/* Takes the lock of an archive file without waiting: exclusive for a writer, shared for a
 * reader. Returns 0, or -1 with err naming the file and the holder. */
static int lock_archive(int fd, const char *path, bool exclusive, struct rmqt_error *err)
{
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
        return 0;
    if (errno == EWOULDBLOCK)
        return rmqt_error_set(
            err, RMQT_ERR_IO,
            exclusive ? "'%s' is locked by another rmqtopo (a dlq archive writing it, or a dlq "
                        "restore reading it): nothing was taken from the queue; run again when "
                        "that one has finished"
                      : "'%s' is locked by another rmqtopo (a dlq archive writing it): nothing "
                        "was published; restore it when that run has finished",
            path);
    return io_error(err, "lock", path);
}

static int fsync_dir_of(const char *path, struct rmqt_error *err)
{
    char *copy = xstrdup(path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

    if (fd < 0 || fsync(fd) < 0)
        rc = io_error(err, "sync directory", dir);
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

static int write_header(struct arch *a, struct rmqt_error *err)
{
    char id[33];
    json_t *h;
    int rc;

    if (archive_new_id(id) < 0)
        return rmqt_error_set(err, RMQT_ERR_IO, "no random bytes for the archive's id");
    h = archive_header_json(a->o->vhost, a->o->queue, a->o->broker, time(NULL), a->o->copy, id);
    rc = json_dumpf(h, a->f, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(h);
    if (rc < 0 || fputc('\n', a->f) == EOF || fflush(a->f) == EOF)
        return io_error(err, "write", a->o->file);
    if (a->syncable && fsync(fileno(a->f)) < 0)
        return io_error(err, "sync", a->o->file);
    return 0;
}

/* The last newline in buf[0..n), or NULL. */
static const char *memrchr_nl(const char *buf, size_t n)
{
    while (n > 0)
        if (buf[--n] == '\n')
            return buf + n;
    return NULL;
}

/* --append: checks the header and cuts a truncated last line. fd is open read-write. */
static int check_existing(struct arch *a, int fd, off_t size, struct rmqt_error *err)
{
    const struct archive_options *o = a->o;
    struct archive_reader r;
    struct archive_header h;
    size_t len;
    off_t end = size;
    char block[65536];
    int k, dup_fd = dup(fd);
    FILE *in;

    if (dup_fd < 0 || !(in = fdopen(dup_fd, "r"))) {
        if (dup_fd >= 0)
            close(dup_fd);
        return io_error(err, "read", o->file);
    }
    memset(&r, 0, sizeof(r));
    r.f = in;
    r.name = o->file;
    r.max_line = 1 << 20; /* a header is short: do not read a large file that is none */
    k = archive_reader_next(&r, &len, err);
    if (k == ARCHIVE_LINE && archive_header_parse(r.line, len, &h, err) == 0) {
        a->version = h.version;
        if (strcmp(h.vhost, o->vhost) != 0 || strcmp(h.queue, o->queue) != 0) {
            rmqt_error_set(err, RMQT_ERR_INVALID,
                           "'%s' archives queue '%s' of vhost '%s': --append adds only "
                           "messages of that queue",
                           o->file, h.queue, h.vhost);
            k = -1;
        }
        archive_header_release(&h);
    } else if (k >= 0) {
        if (k != ARCHIVE_LINE)
            rmqt_error_set(err, RMQT_ERR_PARSE, "'%s' is not an rmqtopo archive", o->file);
        else
            rmqt_error_prefix(err, "'%s'", o->file);
        k = -1;
    }
    archive_reader_release(&r);
    fclose(in);
    if (k < 0)
        return -1;
    /* the last line must end with its newline; a crash while writing leaves one without:
     * find the last newline, reading back a block at a time */
    while (end > 0) {
        size_t n = end < (off_t)sizeof(block) ? (size_t)end : sizeof(block);
        const char *nl;
        if (pread(fd, block, n, end - (off_t)n) != (ssize_t)n)
            return io_error(err, "read", o->file);
        nl = memrchr_nl(block, n);
        if (nl) {
            end -= (off_t)(n - (size_t)(nl - block) - 1);
            break;
        }
        end -= (off_t)n;
    }
    if (end < size) {
        /* a whole record that only lacks its newline (an editor, a crash just before it) is
         * kept: its message may have been acknowledged. Anything else is a piece of a
         * record, whose message was not acknowledged (that waits for the sync). */
        size_t n = (size_t)(size - end);
        char *tail = n <= ARCHIVE_MAX_LINE ? xmalloc(n + 1) : NULL;
        struct archive_record rec;
        struct rmqt_error e2;
        amqp_pool_t pool;
        bool whole = false;

        if (tail && pread(fd, tail, n, end) == (ssize_t)n) {
            init_amqp_pool(&pool, 65536);
            whole = archive_record_parse(tail, n, &pool, &rec, &e2) == 0;
            empty_amqp_pool(&pool);
        }
        free(tail);
        if (whole) {
            if (pwrite(fd, "\n", 1, size) != 1 || fsync(fd) < 0)
                return io_error(err, "end the last line of", o->file);
            ops_warnf(o->warn, o->ctx,
                      "'%s' ended in a whole record without its newline: the newline was added",
                      o->file);
            return 0;
        }
        if (ftruncate(fd, end) < 0 || fsync(fd) < 0)
            return io_error(err, "cut the truncated last line of", o->file);
        a->res->dropped_tail_bytes = (uint64_t)n;
        ops_warnf(o->warn, o->ctx,
                  "'%s' ended in a piece of a record (%zu bytes, a crash while writing): "
                  "removed; its message had not been acknowledged, so it is archived again",
                  o->file, n);
    }
    return 0;
}

/* a->f on fd (closed on failure), with a large buffer. */
static int attach(struct arch *a, int fd, const char *mode, struct rmqt_error *err)
{
    a->f = fdopen(fd, mode);
    if (!a->f) {
        close(fd);
        return io_error(err, "open", a->o->file);
    }
    a->buf = xmalloc(WRITE_BUFFER);
    setvbuf(a->f, a->buf, _IOFBF, WRITE_BUFFER);
    return 0;
}

static int open_archive(struct arch *a, struct rmqt_error *err)
{
    const struct archive_options *o = a->o;
    struct stat st;
    int fd;

    a->version = ARCHIVE_FORMAT_VERSION;
    if (strcmp(o->file, "-") == 0) {
        a->f = stdout;
        a->syncable = fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode);
        if (a->syncable && lock_archive(STDOUT_FILENO, "-", true, err) < 0)
            return -1;
        return write_header(a, err);
    }
    a->own = true;
    a->syncable = true;
    if (refuse_directory(
            o->file, "--file takes the archive's file name (for example DIR/QUEUE.jsonl)", err) < 0)
        return -1;
    fd = open(o->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        a->res->created = true;
        /* locked before anything is written or taken: a second writer fails at once */
        if (lock_archive(fd, o->file, true, err) < 0) {
            close(fd);
            return -1;
        }
        if (attach(a, fd, "w", err) < 0 || write_header(a, err) < 0)
            return -1;
        return fsync_dir_of(o->file, err);
    }
    if (errno != EEXIST)
        return io_error(err, "create", o->file);
    if (!o->append)
        return rmqt_error_set(err, RMQT_ERR_IO,
                              "'%s' exists: it is not overwritten (give --append to add to it, "
                              "or another name)",
                              o->file);
    fd = open(o->file, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return io_error(err, "open", o->file);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rmqt_error_set(err, RMQT_ERR_IO, "'%s' is not a regular file", o->file);
    }
    /* the lock first: the header check and the cut of a truncated tail must not race another
     * writer, and the size read after it is the final one */
    if (lock_archive(fd, o->file, true, err) < 0 || fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    if (st.st_size > 0 && check_existing(a, fd, st.st_size, err) < 0) {
        close(fd);
        return -1;
    }
    if (attach(a, fd, "a", err) < 0)
        return -1;
    return st.st_size > 0 ? 0 : write_header(a, err);
}

static int close_archive(struct arch *a, struct rmqt_error *err)
{
    int rc = 0;

    if (!a->f)
        return 0;
    if (fflush(a->f) == EOF)
        rc = io_error(err, "write", a->o->file);
    if (a->own && fclose(a->f) == EOF && rc == 0)
        rc = io_error(err, "close", a->o->file);
    a->f = NULL;
    free(a->buf);
    a->buf = NULL;
    return rc;
}

static int sink_write(void *ctx, const amqp_envelope_t *in, const struct rmqt_outgoing *out,
                      struct rmqt_error *err)
{
    struct arch *a = ctx;
    int rc = 0;

    (void)out;
    /* the line archive_select() made and checked for this delivery */
    if (!a->line || a->line_tag != in->delivery_tag)
        return rmqt_error_set(err, RMQT_ERR_INTERNAL,
                              "no record prepared for delivery %llu (a bug): nothing of it was "
                              "written",
                              (unsigned long long)in->delivery_tag);
    if (fwrite(a->line, 1, a->line_len, a->f) != a->line_len || fputc('\n', a->f) == EOF)
        rc = io_error(err, "write", a->o->file);
    free(a->line);
    a->line = NULL;
    return rc;
}

static int sink_sync(void *ctx, struct rmqt_error *err)
{
    struct arch *a = ctx;

    if (fflush(a->f) == EOF)
        return io_error(err, "write", a->o->file);
    if (a->syncable && fsync(fileno(a->f)) < 0)
        return io_error(err, "sync", a->o->file);
    return 0;
}

/* b in single quotes, bytes outside printable ASCII as \xNN (a NUL stays visible), cut with
 * "..." to fit cap. */
static void quote_bytes(char *dst, size_t cap, amqp_bytes_t b)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = b.bytes;
    size_t i, o = 0;

    dst[o++] = '\'';
    for (i = 0; i < b.len; i++) {
        if (o + 8 >= cap) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'') {
            dst[o++] = (char)p[i];
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[p[i] >> 4];
            dst[o++] = hex[p[i] & 15];
        }
    }
    dst[o++] = '\'';
    dst[o] = '\0';
}

/* A message the archive cannot hold so that restore publishes it again: reported by its
 * place in the queue, left there. */
static void report_unarchivable(struct arch *a, const amqp_envelope_t *in,
                                const struct rmqt_error *why)
{
    const amqp_basic_properties_t *p = &in->message.properties;
    char key[200], id[200];

    a->res->unarchivable++;
    if (!a->res->first_unarchivable)
        a->res->first_unarchivable = a->seen;
    quote_bytes(key, sizeof(key), in->routing_key);
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        quote_bytes(id, sizeof(id), p->message_id);
    ops_warnf(a->o->warn, a->o->ctx,
              "message %llu of '%s' (delivery tag %llu, routing key %s%s%s) is not archived and "
              "stays in the queue: %s",
              (unsigned long long)a->seen, a->o->queue, (unsigned long long)in->delivery_tag, key,
              (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) ? ", message_id " : "",
              (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) ? id : "", why->message);
}

static int archive_select(void *ctx, const amqp_envelope_t *in, struct rmqt_outgoing *out,
                          struct rmqt_error *err)
{
    struct arch *a = ctx;
    struct rmqt_error why;
    struct death d;

    (void)out;
    (void)err;
    a->seen++;
    free(a->line);
    a->line = NULL;
    death_read(&in->message.properties, &d);
    if (!replay_selected_message(&a->o->filter, &in->message.properties, &d, time(NULL)))
        return RMQT_SKIP;
    rmqt_error_init(&why);
    a->line = archive_record_line(in, a->version, &a->line_len, &why);
    a->line_tag = in->delivery_tag;
    if (!a->line) {
        report_unarchivable(a, in, &why);
        return RMQT_SKIP;
    }
    return RMQT_MOVE;
}

int archive_run(struct rmqt_session *src, const struct archive_options *o,
                struct archive_result *res, struct rmqt_error *err)
{
    struct rmqt_mover_config mc;
    struct rmqt_mover_sink sink;
    struct arch a;
    struct rmqt_error e2;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(&a, 0, sizeof(a));
    a.o = o;
    a.res = res;
    if (open_archive(&a, err) < 0) {
        close_archive(&a, &e2);
        return -1;
    }
    res->started = true;
    sink.write = sink_write;
    sink.sync = sink_sync;
    sink.ctx = &a;
    memset(&mc, 0, sizeof(mc));
    mc.queue = o->queue;
    mc.exchange = "";
    mc.routing_key = "";
    mc.prepare = archive_select;
    mc.ctx = &a;
    mc.limit = o->limit;
    mc.stop = o->stop;
    mc.has_delivery_limit = o->delivery_limit >= 0;
    mc.delivery_limit = o->delivery_limit;
    mc.progress = o->progress;
    mc.progress_ctx = o->ctx;
    mc.sink = &sink;
    mc.copy = o->copy;
    rc = rmqt_mover_run(src, NULL, &mc, &res->mover, err);
    if (close_archive(&a, rc < 0 ? &e2 : err) < 0)
        rc = -1;
    free(a.line);
    return rc;
}

/* --- restore ------------------------------------------------------------------------- */

int restore_open(const char *path, struct archive_reader *r, struct archive_header *h,
                 struct rmqt_error *err)
{
    size_t len;
    int k;

    memset(r, 0, sizeof(*r));
    memset(h, 0, sizeof(*h));
    r->name = path;
    if (strcmp(path, "-") == 0) {
        r->f = stdin;
    } else {
        struct stat st;
        if (refuse_directory(path, "dlq restore takes an archive file", err) < 0)
            return -1;
        r->f = fopen(path, "re");
        if (!r->f)
            return io_error(err, "open", path);
        /* a shared lock for the whole run: an archive still writing the file (which holds it
         * exclusively) makes the restore fail at once, and no archive appends to it while it
         * is read; restores do not exclude each other */
        if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode) &&
            lock_archive(fileno(r->f), path, false, err) < 0)
            goto fail;
    }
    k = archive_reader_next(r, &len, err);
    if (k < 0)
        goto fail;
    if (k != ARCHIVE_LINE) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "%s: %s", path,
                       k == ARCHIVE_END ? "empty: not an rmqtopo archive"
                                        : "a header line without its newline: no records");
        goto fail;
    }
    if (archive_header_parse(r->line, len, h, err) < 0) {
        rmqt_error_prefix(err, "%s:1", path);
        goto fail;
    }
    return 0;
fail:
    restore_close(r);
    return -1;
}

void restore_close(struct archive_reader *r)
{
    if (r->f && r->f != stdin)
        fclose(r->f);
    r->f = NULL;
    archive_reader_release(r);
}

struct rest {
    struct archive_reader *r;
    const struct restore_options *o;
    struct restore_result *res;
    amqp_pool_t pool;
    uint64_t tag;
    bool ledger_failed; /* a ledger write failed: ledger_err says why; the run stops */
    struct rmqt_error ledger_err;
};

/* The next record to publish into env: 1, 0 at the end, -1 with err set. */
static int next_record(void *ctx, amqp_envelope_t *env, struct rmqt_error *err)
{
    struct rest *s = ctx;
    struct archive_record rec;
    size_t len;
    int k;

    recycle_amqp_pool(&s->pool);
    if (s->ledger_failed) {
        *err = s->ledger_err;
        return -1;
    }
    for (;;) {
        bool whole;
        k = archive_reader_next(s->r, &len, err);
        if (k < 0)
            return -1;
        if (k == ARCHIVE_END)
            return 0;
        whole = k == ARCHIVE_LINE;
        if (!whole) {
            /* a last line without its newline: a record if it is whole, else a piece */
            struct rmqt_error e2;
            if (archive_record_parse(s->r->line, len, &s->pool, &rec, &e2) < 0) {
                s->res->truncated_line = s->r->lineno;
                return 0;
            }
            s->res->unterminated_line = s->r->lineno;
        }
        s->res->records++;
        if (s->res->skipped < s->o->skip) {
            s->res->skipped++;
            continue;
        }
        if (whole && archive_record_parse(s->r->line, len, &s->pool, &rec, err) < 0) {
            s->res->bad_line = s->r->lineno;
            return rmqt_error_prefix(err, "%s:%llu: malformed record, not published", s->r->name,
                                     (unsigned long long)s->r->lineno);
        }
        break;
    }
    if ((rec.props._flags & AMQP_BASIC_HEADERS_FLAG) &&
        (death_table_get(&rec.props.headers, "CC") || death_table_get(&rec.props.headers, "BCC")))
        s->res->with_cc++;
    memset(env, 0, sizeof(*env));
    env->delivery_tag = ++s->tag;
    env->exchange = rec.exchange;
    env->routing_key = rec.routing_key;
    env->message.properties = rec.props;
    env->message.body = rec.body;
    return 1;
}

static void record_done(void *ctx, uint64_t tag)
{
    struct rest *s = ctx;

    s->res->confirmed++;
    if (tag == s->res->published + 1)
        s->res->published++;
    /* the record's number: every record before the first published one was skipped */
    if (s->o->ledger && !s->ledger_failed &&
        ledger_note(s->o->ledger, s->o->skip + tag, &s->ledger_err) < 0)
        s->ledger_failed = true;
}

/* --to-exchange without --routing-key: each record's own routing key. */
static int restore_route(void *ctx, const amqp_envelope_t *in, struct rmqt_outgoing *out,
                         struct rmqt_error *err)
{
    (void)ctx;
    (void)err;
    out->routing_key = in->routing_key;
    return RMQT_MOVE;
}

int restore_run(struct rmqt_session *dst, struct archive_reader *r, const struct archive_header *h,
                const struct restore_options *o, struct restore_result *res, struct rmqt_error *err)
{
    struct rmqt_mover_config mc;
    struct rmqt_mover_source src;
    struct rmqt_mover_stats st;
    struct rest s;
    const char *queue = o->route == RESTORE_QUEUE ? o->to_queue : h->queue;
    double t0 = rmqt_now_s();
    int rc = 0;

    memset(res, 0, sizeof(*res));
    memset(&s, 0, sizeof(s));
    s.r = r;
    s.o = o;
    s.res = res;
    init_amqp_pool(&s.pool, 65536);
    if (dst && (o->route != RESTORE_EXCHANGE || o->to_exchange[0])) {
        bool ex = o->route == RESTORE_EXCHANGE;
        const char *name = ex ? o->to_exchange : queue;
        int k = rmqt_session_exists(dst, ex, rmqt_bytes(name), err);
        if (k <= 0) {
            if (k == 0)
                rmqt_error_set(err, RMQT_ERR_AMQP,
                               "%s '%s' does not exist in vhost '%s': nothing was published",
                               ex ? "exchange" : "queue", name, rmqt_session_vhost(dst));
            rc = -1;
            goto out;
        }
    }
    if (o->dry_run) {
        /* every record is read and checked: each malformed one is reported, not only the
         * first */
        amqp_envelope_t env;
        struct rmqt_error first;
        res->started = true;
        memset(&first, 0, sizeof(first));
        for (;;) {
            uint64_t bad = res->bad_line;
            rc = next_record(&s, &env, err);
            if (rc > 0)
                continue;
            if (rc < 0 && res->bad_line != bad) {
                if (res->bad_records++ == 0)
                    first = *err;
                else
                    ops_warnf(o->warn, o->ctx, "%s", err->message);
                continue;
            }
            break;
        }
        if (rc == 0 && res->bad_records) {
            *err = first;
            rmqt_error_prefix(err, "%llu malformed record(s); the first",
                              (unsigned long long)res->bad_records);
            rc = -1;
        }
        goto out;
    }
    res->started = true;
    src.next = next_record;
    src.done = record_done;
    src.ctx = &s;
    memset(&mc, 0, sizeof(mc));
    mc.exchange = o->route == RESTORE_EXCHANGE ? o->to_exchange : "";
    mc.routing_key = o->route == RESTORE_EXCHANGE ? (o->routing_key ? o->routing_key : "") : queue;
    if (o->route == RESTORE_EXCHANGE && !o->routing_key)
        mc.prepare = restore_route;
    mc.rate = o->rate;
    mc.stop = o->stop;
    mc.stop_on_return = true;
    mc.progress = o->progress;
    mc.progress_ctx = o->ctx;
    mc.source = &src;
    rc = rmqt_mover_run(NULL, dst, &mc, &st, err);
    res->returned = st.returned;
    res->nacked = st.nacked;
    if (o->ledger) {
        struct rmqt_error e2;
        if (s.ledger_failed || ledger_flush(o->ledger, &e2) < 0) {
            if (rc >= 0 || !s.ledger_failed)
                *err = s.ledger_failed ? s.ledger_err : e2;
            rmqt_error_prefix(err, "the restore ledger is incomplete (records published after "
                                   "its last line are not in it)");
            rc = -1;
        }
    }
out:
    res->resume_skip = res->skipped + res->published;
    res->seconds = rmqt_now_s() - t0;
    empty_amqp_pool(&s.pool);
    return rc < 0 ? -1 : 0;
}

bool archive_limit_reached(const struct archive_options *o, const struct archive_result *res)
{
    return o->limit && res->mover.moved >= o->limit;
}

bool archive_ok(const struct archive_options *o, int rc, const struct archive_result *res,
                bool stopped)
{
    return rc == 0 && !stopped && (res->mover.left == 0 || archive_limit_reached(o, res)) &&
           res->mover.at_limit == 0 && res->unarchivable == 0;
}

bool restore_ok(int rc, const struct restore_result *res, bool stopped)
{
    return rc == 0 && !stopped && res->returned == 0 && res->nacked == 0;
}

static void add_count(json_t *j, const char *k, uint64_t v)
{
    json_object_set_new(j, k, json_integer((json_int_t)v));
}

json_t *archive_summary_json(json_t *broker, const struct archive_options *o,
                             const struct archive_result *r, bool ok, const char *error)
{
    const struct rmqt_mover_stats *m = &r->mover;
    json_t *j = json_object();

    if (broker)
        json_object_set_new(j, "broker", broker);

    json_object_set_new(j, "vhost", json_string(o->vhost));
    json_object_set_new(j, "queue", json_string(o->queue));
    json_object_set_new(j, "file", json_string(o->file));
    json_object_set_new(j, "copy", json_boolean(o->copy));
    json_object_set_new(j, "created", json_boolean(r->created));
    add_count(j, "snapshot", m->snapshot);
    add_count(j, "archived", m->moved);
    add_count(j, "filtered", m->skipped - r->unarchivable);
    add_count(j, "not_archivable", r->unarchivable);
    json_object_set_new(j, "first_not_archivable",
                        r->first_unarchivable ? json_integer((json_int_t)r->first_unarchivable)
                                              : json_null());
    add_count(j, "left", m->left);
    add_count(j, "at_delivery_limit", m->at_limit);
    json_object_set_new(j, "seconds", rmqt_json_seconds(m->seconds));
    json_object_set_new(j, "rate",
                        rmqt_json_rate(m->seconds > 0 ? (double)m->moved / m->seconds : 0));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_object_set_new(j, "error", error ? json_string(error) : json_null());
    return j;
}
