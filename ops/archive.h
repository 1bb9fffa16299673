/*
 * archive.h - dlq archive and dlq restore: a dead-letter queue into a file of the format of
 * archive_format.h, and a file back into a queue, on top of common's safe mover.
 */
#ifndef RMQT_OPS_ARCHIVE_H
#define RMQT_OPS_ARCHIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "archive_format.h"
#include "error.h"
#include "ledger.h"
#include "mover.h"
#include "replay.h"
#include "session.h"

struct archive_options {
    const char *vhost, *queue;
    const char *file; /* a path, or "-" for stdout */
    bool copy;        /* acknowledge nothing: the queue stays as it was */
    bool append;      /* add to an existing archive of this vhost and queue */
    uint64_t limit;   /* archive at most this many; 0: all */
    struct replay_filter filter;
    const char *broker;  /* the broker's version, for the header; NULL: unknown */
    long delivery_limit; /* the queue's delivery limit in force; -1: none */
    const volatile sig_atomic_t *stop;
    void *ctx;
    void (*warn)(void *ctx, const char *msg);
    void (*progress)(void *ctx, const struct rmqt_mover_stats *st);
};

struct archive_result {
    struct rmqt_mover_stats mover; /* moved = archived; skipped = not selected */
    bool started;                  /* the file was opened: the run began */
    bool created;                  /* a new file was made (not --append to an existing one) */
    uint64_t dropped_tail_bytes;   /* --append: a truncated last line removed first */
    /* selected messages the archive cannot hold so that restore publishes them again (too
     * deep, an unknown field kind, a repeated key in a version-1 file, a line too long...):
     * left in the queue, each one reported through warn; mover.skipped counts them too */
    uint64_t unarchivable;
    uint64_t first_unarchivable; /* its position among the run's deliveries (1-based); 0: none */
};

/* Archives the messages of o->queue (on src) into o->file. A message is acknowledged (unless
 * o->copy) only after its line is written and fsync'd; a new file's directory is fsync'd
 * too. An existing file is refused unless o->append, and then its header must name the same
 * vhost and queue. The file is locked (flock, exclusive, without waiting) before anything is
 * written or consumed: another rmqtopo holding it makes the run fail at once. A selected
 * message whose record would not read back (archive_record_check) is not written and stays
 * in the queue (res->unarchivable; reported through o->warn with its position, delivery tag,
 * routing key and the reason); the run goes on. Returns 0, or -1 with err set (what was
 * synced is acknowledged; the rest stays in the queue). */
int archive_run(struct rmqt_session *src, const struct archive_options *o,
                struct archive_result *res, struct rmqt_error *err);

/* Whether the run stopped at o->limit (what it left is then not a failure). */
bool archive_limit_reached(const struct archive_options *o, const struct archive_result *res);

/* The rule for archive's success: the run ended normally (rc 0), was not stopped, handled
 * every message of its snapshot (or reached --limit), left none at the delivery limit and
 * found none it could not archive. */
bool archive_ok(const struct archive_options *o, int rc, const struct archive_result *res,
                bool stopped);

/* A run's summary as the CLI's JSON (dlq archive -o json); broker taken (NULL: left out). New
 * reference. */
struct json_t;
struct json_t *archive_summary_json(struct json_t *broker, const struct archive_options *o,
                                    const struct archive_result *r, bool ok, const char *error);

enum restore_route {
    RESTORE_HOME,     /* the archive's queue, through the default exchange */
    RESTORE_QUEUE,    /* o.to_queue, through the default exchange */
    RESTORE_EXCHANGE, /* o.to_exchange with o.routing_key (NULL: each record's) */
};

struct restore_options {
    enum restore_route route;
    const char *to_queue, *to_exchange, *routing_key;
    uint64_t skip; /* records to pass over first (a resumed run) */
    double rate;   /* publishes a second; 0: unlimited */
    bool dry_run;  /* read and check every record, and the target; publish nothing */
    /* the restore ledger (ledger.h), begun: each confirmed record is noted there and the
     * ledger is flushed at the end; a ledger that cannot be written stops the run. NULL: none */
    struct ledger *ledger;
    const volatile sig_atomic_t *stop;
    void *ctx;
    void (*warn)(void *ctx, const char *msg); /* --dry-run: each malformed record after the first */
    void (*progress)(void *ctx, const struct rmqt_mover_stats *st);
};

struct restore_result {
    uint64_t records;   /* records read (skipped ones included) */
    uint64_t skipped;   /* passed over for --skip */
    uint64_t published; /* confirmed, not returned, in a row from the first not skipped */
    uint64_t confirmed; /* confirmed and not returned, in any order */
    uint64_t returned, nacked;
    uint64_t resume_skip;       /* a re-run with --skip this many publishes the rest */
    uint64_t bad_line;          /* the line of a malformed record (0: none; --dry-run: the last) */
    uint64_t bad_records;       /* --dry-run: malformed records (each one is reported) */
    uint64_t truncated_line;    /* a last line without its newline, not published (0: none) */
    uint64_t with_cc;           /* records with a CC or BCC header (the broker routes by them) */
    uint64_t unterminated_line; /* a whole last record without its newline (0: none) */
    double seconds;
    bool started; /* the target was found (or --dry-run): records were read */
};

/* Opens an archive (path or "-" for stdin), takes a shared lock on it (flock, without
 * waiting: an archive writing it holds it exclusively, and no archive appends to it while it
 * is read) and reads its header. A directory is refused as such. Returns 0, or -1 with err
 * set. */
int restore_open(const char *path, struct archive_reader *r, struct archive_header *h,
                 struct rmqt_error *err);
void restore_close(struct archive_reader *r);

/* Publishes the records of r (after its header) on dst with confirms and mandatory, each
 * exactly as archived, to the target of o (h names the home queue). Checks that the target
 * exists first (for o->dry_run too). Stops at the first malformed record (res->bad_line, err says
 * why), a return or a nack. Returns 0, or -1 with err set. */
int restore_run(struct rmqt_session *dst, struct archive_reader *r, const struct archive_header *h,
                const struct restore_options *o, struct restore_result *res,
                struct rmqt_error *err);

/* The rule for restore's success: the run ended normally (rc 0), was not stopped, and the
 * broker neither returned nor refused a publish. */
bool restore_ok(int rc, const struct restore_result *res, bool stopped);

#endif
