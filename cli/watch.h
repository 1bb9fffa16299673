/*
 * watch.h - what dlq status, dlq check and alerts share on the command line (watch.c): the
 * queues to watch, from a topology file or found on the broker. The measuring, judging and
 * rendering are ops/monitor.h's.
 */
#ifndef RMQT_CLI_WATCH_H
#define RMQT_CLI_WATCH_H

#include "cli.h"
#include "threshold.h"

/* Loads and validates file and fills wl with its queues to watch (provision/watchlist.h),
 * only those in the --vhost values when given. Diagnostics: errors always printed to stderr,
 * warnings only when show_warnings. Returns 0, or -1 when the file is unusable (printed). */
int cli_watchlist_from_file(struct cli *cli, const struct parsed_opts *opts, const char *file,
                            bool show_warnings, struct rmqt_watchlist *wl);

/* Fills wl with the dead-letter queues found on the broker in each --vhost (default: every
 * vhost). Returns 0, or -1 with err set. */
int cli_watchlist_from_broker(const struct parsed_opts *opts, struct rmqt_http *http,
                              struct rmqt_watchlist *wl, struct rmqt_error *err);

#endif
