/*
 * live.h - the live broker, read through the management API into the topology model.
 *
 * One GET /api/overview (common/brokerver: the version decides version-dependent behaviour) and one
 * GET /api/definitions/{vhost} per vhost the file names: a stats-free snapshot, the cheapest
 * full read. Built-in objects (the default exchange, amq.*, server-named queues) are left out.
 * The parsing is separate from the requests so that it can be tested without a broker.
 */
#ifndef RMQT_LIVE_H
#define RMQT_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "brokerver.h"
#include "error.h"
#include "http.h"
#include "model.h"

/* Parses GET /api/definitions/{vhost} into vh (exchanges, queues, bindings, policies; the
 * queue type taken out of x-queue-type). Built-ins are skipped. Returns 0, or -1 with err. */
int live_parse_definitions(struct vhost *vh, const char *json, size_t len, struct rmqt_error *err);

/* Parses GET /api/vhosts/{vhost}: the vhost's default queue type (3.11+; "undefined" or
 * absent on older brokers), into vh. Anything unexpected leaves vh as it was. */
void live_parse_vhost_info(struct vhost *vh, const char *json, size_t len);

/* Reads the broker: the overview, then the definitions of every vhost of `desired` (in its
 * order) into `live`, which must be initialised and empty. A vhost the broker lacks is not
 * added to live (the diff then plans to create it). Returns 0, or -1 with err set. */
int live_read(struct rmqt_http *h, const struct topology *desired, struct topology *live,
              struct rmqt_broker_info *info, struct rmqt_error *err);

/* Reading the broker while the file is still loading: a worker thread reads the overview at
 * once, then the definitions of each vhost given with live_prefetch_add (as the YAML loader
 * reads the names, see struct load_options' on_vhost), parsing them as they arrive. The HTTP
 * client belongs to the worker until live_prefetch_finish returns. */
struct live_prefetch;

/* Starts the worker. NULL with err set when no thread can be started. */
struct live_prefetch *live_prefetch_start(struct rmqt_http *h, struct rmqt_error *err);
/* Queues a vhost to read (repeats are ignored). Safe to call from the starting thread. */
void live_prefetch_add(struct live_prefetch *p, const char *vhost);
/* Waits for the worker, reads any vhost of desired it was not given, and fills live (in
 * desired's vhost order; a vhost the broker lacks is left out) and info. Frees p. Returns 0,
 * or -1 with err set when the broker could not be read. */
int live_prefetch_finish(struct live_prefetch *p, const struct topology *desired,
                         struct topology *live, struct rmqt_broker_info *info,
                         struct rmqt_error *err);

/* Reads every vhost name of the broker (GET /api/vhosts?columns=name) into names (new
 * strings, caller frees each and the array). Returns 0, or -1 with err. */
int live_list_vhosts(struct rmqt_http *h, char ***names, size_t *n, struct rmqt_error *err);

/* Current message counts (GET /api/queues/{vhost}?disable_stats=true&enable_queue_totals=true,
 * which is current, unlike the statistics): sets messages/has_messages on vh's queues.
 * Returns 0, or -1 with err. */
int live_read_counts(struct rmqt_http *h, struct vhost *vh, struct rmqt_error *err);

/* The typed value of a JSON value (jansson), for arguments and definitions. */
struct json_t;
void live_json_to_tval(const struct json_t *j, struct tval *out);

#endif
