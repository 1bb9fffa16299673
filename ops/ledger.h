/*
 * ledger.h - the restore ledger (issue 17): what `dlq restore` published from an archive, so
 * that a second restore of the same records (a re-run from shell history) refuses instead of
 * publishing every message twice.
 *
 * The ledger is JSON Lines beside the archive, `<archive>.restored`, one line per batch of
 * records the broker confirmed:
 *
 *   {"archive_id": "32 hex", "header_sha256": "64 hex", "archive": PATH, "lines": [2, 1001],
 *    "records": [1, 1000], "broker": {"url": U, "cluster_name": C, "version": V},
 *    "vhost": V, "target": {"exchange": X, "routing_key": K | null}, "time": ISO 8601 UTC,
 *    "run": "time-pid-random", "again": false}
 *
 * lines are the archive's line numbers (the header is line 1), records the same as record
 * numbers (what --skip counts), both inclusive. A line is appended and fsync'd every
 * LEDGER_BATCH confirms or LEDGER_INTERVAL_S seconds and at the end of the run, so a restore
 * killed mid-run leaves the part that was published (at most the last batch is missing: those
 * records may be published again, the at-least-once of the mover).
 *
 * An archive without an id (written before ids) gets one on its first restore, kept in its
 * ledger lines; later restores find them by the header's SHA-256.
 *
 * When the ledger cannot be beside the archive (the archive is stdin, or its directory is not
 * writable), it goes to the state directory: $RMQTOPO_STATE_DIR, else $XDG_STATE_HOME/rmqtopo,
 * else ~/.local/state/rmqtopo, in restored/<archive id>.restored. Both places are read, and a
 * ledger beside the archive is copied line by line into the state directory when it can be
 * (best effort), so that a later restore of the same archive from stdin, or of a copy of it,
 * finds it.
 *
 * A run that publishes locks the state directory's ledger of the archive (named by its id, or
 * its header's digest: the same for the file, a copy and stdin) and the one beside it before
 * it reads either, so two restores of one archive never overlap. When the state directory
 * cannot be used, the lock is only the one beside the archive.
 */
#ifndef RMQT_OPS_LEDGER_H
#define RMQT_OPS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "archive_format.h"
#include "error.h"

#define LEDGER_SUFFIX ".restored"
#define LEDGER_BATCH 500
#define LEDGER_INTERVAL_S 0.5

/* One earlier run of restore of this archive: its ranges merged. */
struct ledger_run {
    char *run, *time; /* the run's id; the time of its last line */
    char *url, *cluster_name, *version, *vhost, *exchange, *routing_key; /* NULL when absent */
    bool again;
    uint64_t (*ranges)[2]; /* record numbers, inclusive, in the order written */
    size_t n_ranges;
    uint64_t records; /* how many */
};

struct ledger {
    char *path;         /* the ledger written (or read, for a dry run) */
    char *beside;       /* <archive>.restored; NULL for stdin */
    const char *reason; /* why path is not beside the archive (NULL when it is) */
    int fd;             /* open, locked exclusively, for appending; -1 when read only */
    int mirror_fd;      /* the state directory's copy of a ledger beside the archive, or -1 */
    char archive_id[33];
    bool id_new; /* an archive without an id: this one is new (no earlier line) */
    char header_sha256[65];
    char *archive;           /* the archive's path as given (absolute when it was a file) */
    struct ledger_run *runs; /* earlier restores of this archive, oldest first */
    size_t n_runs;
    uint64_t bad_lines; /* ledger lines that were not readable (a torn last line) */
    /* the run being recorded */
    json_t *base;              /* the members every new line carries */
    uint64_t pend_lo, pend_hi; /* a range confirmed but not yet written (0: none) */
    uint64_t since_flush;
    double last_flush;
    uint64_t written; /* records written to the ledger by this run */
};

/* Opens the ledger of the archive at path ("-": stdin) whose header is h. Reads every earlier
 * line of this archive (beside it and in the state directory). For a run that publishes
 * (write true) the ledgers are created if needed and locked exclusively without waiting, the
 * state directory's one first, and read only once locked: a second restore of the same
 * archive (the file, a copy, stdin) at the same time fails at once. Returns 0, or -1 with err
 * set (nothing was published). */
int ledger_open(struct ledger *l, const char *path, const struct archive_header *h, bool write,
                struct rmqt_error *err);
void ledger_close(struct ledger *l);

/* The earlier runs that restored any record after the first `skip` (the ones a run with --skip
 * skip would publish again): their count; each is l->runs[i] with ledger_run_overlaps(). */
size_t ledger_overlapping(const struct ledger *l, uint64_t skip);
bool ledger_run_overlaps(const struct ledger_run *r, uint64_t skip);
/* When the records restored before form one stretch 1..N (N > skip), N: a run with --skip N
 * publishes only records never restored. 0 otherwise. */
uint64_t ledger_resume_point(const struct ledger *l);

/* Starts recording a run: the broker (url without credentials, cluster name and version; each
 * may be NULL), vhost and target of its publishes. */
void ledger_begin(struct ledger *l, const char *url, const char *cluster_name, const char *version,
                  const char *vhost, const char *exchange, const char *routing_key, bool again);
/* Record number `record` was confirmed (called in increasing order). Writes a line when a
 * batch is due. Returns 0, or -1 with err set (the run should stop). */
int ledger_note(struct ledger *l, uint64_t record, struct rmqt_error *err);
/* Writes what is pending and fsyncs. Returns 0, or -1 with err set. */
int ledger_flush(struct ledger *l, struct rmqt_error *err);

/* The ledger's runs as JSON (for -o json): [{"run", "time", "records": [[lo, hi]...], "broker":
 * {...}, "vhost", "target": {...}}]. skip: only the runs overlapping records after it. */
json_t *ledger_runs_json(const struct ledger *l, uint64_t skip);

#endif
