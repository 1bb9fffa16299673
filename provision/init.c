/*
 * init.c - starting topologies for the guidance's use cases (see init.h).
 *
 * Decisions:
 * - Every queue that holds work is a quorum queue with the retry ladder `retry: NAME` and a
 *   delivery limit; the ladder's DLQ is declared (capped: retention and a length limit), so it
 *   is visible and tunable in the file. at_most_once drops the ladder and the DLQ.
 * - Nothing needs a plugin or RabbitMQ 3.11+ (no default queue type, no consistent-hash or
 *   delayed-message exchange), so the file applies to 3.10.
 * - Names are NAME.<part>; producer and consumer names become queue-name parts, so they are
 *   limited to letters, digits, '.', '_' and '-'.
 */
#include "init.h"

#include "units.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 32

struct ictx {
    const struct init_options *o;
    struct strbuf *out;
    const char *name;
    char retention[32]; /* "7d" */
    int64_t retention_ms;
    bool ordered, global, at_most_once, exactly_once;
    double throughput; /* msg/s; 0: not given */
    char *producers[MAX_PARTS], *consumers[MAX_PARTS];
    size_t n_producers, n_consumers;
    char buf[2][512];
};

static bool in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static bool name_ok(const char *s)
{
    if (!*s || strlen(s) > 100)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            return false;
    return true;
}

static int split(const char *list, const char *dflt, char **out, size_t *n, const char *what,
                 char *err, size_t errsize)
{
    const char *p = list ? list : dflt;

    *n = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *item = strndup(p, len);
        if (*n == MAX_PARTS) {
            snprintf(err, errsize, "at most %d %ss", MAX_PARTS, what);
            free(item);
            return -1;
        }
        if (!name_ok(item)) {
            snprintf(err, errsize,
                     "invalid %s name '%.100s': letters, digits, '.', '_' and '-' only", what,
                     item);
            free(item);
            return -1;
        }
        out[(*n)++] = item;
        p = e ? e + 1 : p + len;
    }
    if (!*n) {
        snprintf(err, errsize, "name at least one %s", what);
        return -1;
    }
    return 0;
}

/* "7d", "36h", or the guidance's "7 days", "12 hours", "2 weeks". */
static int parse_retention(struct ictx *c, const char *s, char *err, size_t errsize)
{
    const char *why;
    char *end;
    long long n;
    int64_t ms;

    if (units_parse_duration(s, &ms, &why) != 0) {
        n = strtoll(s, &end, 10);
        while (*end == ' ')
            end++;
        if (end == s || n <= 0) {
            snprintf(err, errsize, "invalid retention '%.60s' (e.g. 7d, 36h, 2w, '7 days')", s);
            return -1;
        }
        if (strcmp(end, "hour") == 0 || strcmp(end, "hours") == 0)
            ms = n * 3600000LL;
        else if (strcmp(end, "day") == 0 || strcmp(end, "days") == 0)
            ms = n * 86400000LL;
        else if (strcmp(end, "week") == 0 || strcmp(end, "weeks") == 0)
            ms = n * 7 * 86400000LL;
        else {
            snprintf(err, errsize, "invalid retention '%.60s' (e.g. 7d, 36h, 2w, '7 days')", s);
            return -1;
        }
    }
    if (ms <= 0 || ms % 1000) {
        snprintf(err, errsize, "invalid retention '%.60s': whole seconds, above 0", s);
        return -1;
    }
    c->retention_ms = ms;
    if (ms % 86400000LL == 0)
        snprintf(c->retention, sizeof(c->retention), "%lldd", (long long)(ms / 86400000LL));
    else if (ms % 3600000LL == 0)
        snprintf(c->retention, sizeof(c->retention), "%lldh", (long long)(ms / 3600000LL));
    else if (ms % 60000LL == 0)
        snprintf(c->retention, sizeof(c->retention), "%lldm", (long long)(ms / 60000LL));
    else
        snprintf(c->retention, sizeof(c->retention), "%llds", (long long)(ms / 1000LL));
    return 0;
}

static int parse_throughput(struct ictx *c, const char *s, char *err, size_t errsize)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || v <= 0)
        goto bad;
    if (*end == 'K' || *end == 'k')
        v *= 1000, end++;
    else if (*end == 'M')
        v *= 1000000, end++;
    while (*end == ' ')
        end++;
    if (*end && strcmp(end, "msg/s") != 0)
        goto bad;
    c->throughput = v;
    return 0;
bad:
    snprintf(err, errsize, "invalid throughput '%.60s' (e.g. 500, 10K, 1M, '10K msg/s')", s);
    return -1;
}

static void line(struct ictx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct ictx *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    strbuf_adds(c->out, buf);
    strbuf_addc(c->out, '\n');
}

static const char *joined(struct ictx *c, int slot, char **v, size_t n)
{
    size_t k, len = 0;

    c->buf[slot][0] = '\0';
    for (k = 0; k < n; k++) {
        len += (size_t)snprintf(c->buf[slot] + len, sizeof(c->buf[slot]) - len, "%s%s",
                                k ? ", " : "", v[k]);
        if (len >= sizeof(c->buf[slot]))
            break;
    }
    return c->buf[slot];
}

/* A queue that holds work: quorum, delivery limit, the ladder, order when asked. */
static void work_queue(struct ictx *c, const char *qname, const char *comment)
{
    if (comment)
        line(c, "      # %s", comment);
    line(c, "      %s:", qname);
    line(c, "        type: quorum");
    line(c, "        delivery_limit: 5              # redelivered 5 times (a consumer crashing "
            "on it): dead-lettered");
    if (c->ordered)
        line(c, "        single_active_consumer: true   # one consumer at a time: messages "
                "handled in order");
    if (!c->at_most_once)
        line(c, "        retry: %s", c->name);
}

static void bind(struct ictx *c, const char *exchange, const char *key)
{
    if (key)
        line(c, "          - { exchange: %s, routing_key: \"%s\" }", exchange, key);
    else
        line(c, "          - { exchange: %s }", exchange);
}

static void stream(struct ictx *c, const char *qname, const char *exchange, const char *comment)
{
    line(c, "      # %s", comment);
    line(c, "      %s:", qname);
    line(c, "        type: stream");
    line(c, "        max_age: %s                    # retention: replay reaches this far back",
         c->retention);
    line(c, "        max_length_bytes: 10GB         # and at most this much; size it to the "
            "throughput");
    line(c, "        bind:");
    bind(c, exchange, "#");
}

static void header(struct ictx *c)
{
    const struct init_options *o = c->o;

    line(c, "# %s: a starting topology for the use case '%s' (rmqtopo init).", c->name,
         o->use_case);
    line(c, "#");
    line(c, "# Requirements: ordering %s, delivery %s, retention %s%s%s.",
         o->ordering ? o->ordering : "none", o->delivery ? o->delivery : "at_least_once",
         c->retention, o->throughput ? ", throughput " : "", o->throughput ? o->throughput : "");
    line(c, "# Producers: %s. Consumers: %s.", joined(c, 0, c->producers, c->n_producers),
         joined(c, 1, c->consumers, c->n_consumers));
    if (c->at_most_once) {
        line(c, "# Delivery at most once: consumers may use automatic acknowledgement; a message "
                "whose");
        line(c, "#   processing fails is gone. No retry ladder, no dead-letter queue.");
    } else {
        line(c, "# Delivery at least once: publishers use publisher confirms, consumers ack after "
                "processing.");
        line(c, "#   A message can arrive twice (a consumer that dies before its ack): make "
                "consumers");
        line(c, "#   idempotent (deduplicate by message_id).");
    }
    if (c->exactly_once) {
        line(c, "# Exactly once: RabbitMQ cannot give it by itself. This file gives at-least-once; "
                "exactly-once");
        line(c, "#   needs idempotent consumers (a store of processed message ids, updated in the "
                "same");
        line(c, "#   transaction as the effect).");
    }
    if (c->ordered && !c->global) {
        line(c, "# Ordering per partition (entity): each ordered queue has a single active "
                "consumer. For");
        line(c, "#   more throughput, split by entity into several queues (routing key = a hash "
                "of the entity id,");
        line(c, "#   one binding a partition), each with its own single active consumer.");
    }
    if (c->global) {
        line(c, "# Global ordering: one queue, one active consumer: throughput is capped at what "
                "one consumer");
        line(c, "#   handles (the guidance: about 10K msg/s at most).");
        if (c->throughput > 10000)
            line(c,
                 "# WARNING: %s asked for is above 10K msg/s: global ordering cannot reach it; "
                 "order per partition instead.",
                 c->o->throughput);
    }
    if (c->ordered && !c->at_most_once)
        line(c, "# Order and retries: a retried message comes back after later ones; where "
                "order matters more than retrying, reject failed messages (they go to the DLQ).");
    if (!c->at_most_once) {
        line(c,
             "# Retries: `retry: %s` is the retry ladder below (1s, 10s, 60s, then the DLQ "
             "%s.dlq);",
             c->name, c->name);
        line(c, "#   `rmqtopo expand` shows its objects; consumers follow the contract in the "
                "README");
        line(c,
             "#   (republish to %s.retry with routing key = the queue, header retry-delay; "
             "reject after the last).",
             c->name);
    }
    line(c, "version: 1");
    line(c, "vhosts:");
    line(c, "  \"%s\":", c->o->vhost ? c->o->vhost : "/");
    if (!c->at_most_once) {
        line(c, "    alert_defaults:                    # every dead-letter queue: `rmqtopo dlq "
                "check`, `dlq status`, `alerts`");
        line(c, "      messages: { warning: 1, critical: 100 }   # the guidance's alert_threshold");
        line(c, "    retry_ladders:");
        line(c, "      %s:", c->name);
        line(c, "        delays: [1s, 10s, 60s]         # the guidance's exponential backoff");
        line(c, "        dead_letter_queue: %s.dlq", c->name);
    }
}

static void dlq(struct ictx *c)
{
    if (c->at_most_once)
        return;
    line(c,
         "      # dead letters: kept %s, capped at a million (then the oldest go): "
         "`rmqtopo dlq inspect`",
         c->retention);
    line(c, "      %s.dlq:", c->name);
    line(c, "        type: quorum");
    line(c, "        message_ttl: %s", c->retention);
    line(c, "        max_length: 1000000");
}

static void layout(struct ictx *c)
{
    const char *u = c->o->use_case, *n = c->name;
    char q[300], k[300];
    size_t i;

    line(c, "    exchanges:");
    if (strcmp(u, "work_queue") == 0) {
        line(c,
             "      %s: { type: direct }          # producers publish with routing key "
             "\"work\"",
             n);
        line(c, "    queues:");
        snprintf(q, sizeof(q), "%s.work", n);
        work_queue(c, q, "the work queue: consumers compete for its messages");
        line(c, "        bind:");
        bind(c, n, "work");
    } else if (strcmp(u, "pub_sub") == 0) {
        line(c,
             "      %s: { type: topic }           # producers publish with a routing key "
             "per event type",
             n);
        line(c, "    queues:");
        for (i = 0; i < c->n_consumers; i++) {
            snprintf(q, sizeof(q), "%s.%s", n, c->consumers[i]);
            work_queue(c, q, "one queue a subscriber: each gets every event (narrow the key)");
            line(c, "        bind:");
            bind(c, n, "#");
        }
    } else if (strcmp(u, "event_sourcing") == 0) {
        line(c,
             "      %s: { type: topic }           # producers publish events: routing key "
             "= aggregate type",
             n);
        line(c, "    queues:");
        snprintf(q, sizeof(q), "%s.events", n);
        stream(c, q, n, "the event log: a stream, read from any offset to rebuild state (replay)");
        for (i = 0; i < c->n_consumers; i++) {
            snprintf(q, sizeof(q), "%s.%s", n, c->consumers[i]);
            work_queue(c, q, "a projection's live feed (or read the stream from its offset)");
            line(c, "        bind:");
            bind(c, n, "#");
        }
    } else if (strcmp(u, "cqrs") == 0) {
        line(c, "      %s.commands: { type: direct } # the write side: routing key \"command\"", n);
        line(c,
             "      %s.events: { type: topic }    # what the write side publishes after a "
             "change",
             n);
        line(c, "    queues:");
        snprintf(q, sizeof(q), "%s.commands", n);
        snprintf(k, sizeof(k), "%s.commands", n);
        work_queue(c, q, "commands, handled by the write model");
        line(c, "        bind:");
        bind(c, k, "command");
        snprintf(q, sizeof(q), "%s.events.log", n);
        snprintf(k, sizeof(k), "%s.events", n);
        stream(c, q, k, "every event, kept for replay (rebuild a read model from the start)");
        for (i = 0; i < c->n_consumers; i++) {
            snprintf(q, sizeof(q), "%s.%s", n, c->consumers[i]);
            work_queue(c, q, "a read model's updates");
            line(c, "        bind:");
            bind(c, k, "#");
        }
    } else { /* saga */
        line(c,
             "      %s: { type: topic }           # steps: <participant>.do, "
             "<participant>.undo; replies: <participant>.done|failed",
             n);
        line(c, "    queues:");
        snprintf(q, sizeof(q), "%s.replies", n);
        work_queue(c, q,
                   "the orchestrator's replies: it starts the next step or the "
                   "compensations");
        line(c, "        bind:");
        bind(c, n, "*.done");
        bind(c, n, "*.failed");
        for (i = 0; i < c->n_consumers; i++) {
            snprintf(q, sizeof(q), "%s.%s", n, c->consumers[i]);
            work_queue(c, q, "a participant's step");
            line(c, "        bind:");
            snprintf(k, sizeof(k), "%s.do", c->consumers[i]);
            bind(c, n, k);
            snprintf(q, sizeof(q), "%s.%s.compensate", n, c->consumers[i]);
            work_queue(c, q,
                       "its compensation (undo), run when a later step fails: make it "
                       "idempotent");
            line(c, "        bind:");
            snprintf(k, sizeof(k), "%s.undo", c->consumers[i]);
            bind(c, n, k);
        }
    }
    dlq(c);
}

int init_topology(const struct init_options *o, struct strbuf *out, char *err, size_t errsize)
{
    static const char *const cases[] = {"work_queue", "pub_sub", "event_sourcing",
                                        "cqrs",       "saga",    NULL};
    static const char *const orderings[] = {"none", "partition", "global", NULL};
    static const char *const deliveries[] = {"at_most_once", "at_least_once", "exactly_once", NULL};
    struct ictx c;
    const char *dflt_consumers = "worker";
    size_t i;
    int rc = -1;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.out = out;
    if (!o->use_case || !in(o->use_case, cases)) {
        snprintf(err, errsize,
                 "%s use case%s%.60s%s: expected work_queue, pub_sub, event_sourcing, cqrs or "
                 "saga",
                 o->use_case ? "unknown" : "missing", o->use_case ? " '" : "",
                 o->use_case ? o->use_case : "", o->use_case ? "'" : " (--use-case)");
        return -1;
    }
    if (o->ordering && !in(o->ordering, orderings)) {
        snprintf(err, errsize, "unknown ordering '%.60s': expected none, partition or global",
                 o->ordering);
        return -1;
    }
    if (o->delivery && !in(o->delivery, deliveries)) {
        snprintf(err, errsize,
                 "unknown delivery '%.60s': expected at_most_once, at_least_once or exactly_once",
                 o->delivery);
        return -1;
    }
    if (o->vhost && (!*o->vhost || strpbrk(o->vhost, "\"\\\n\r\t") || strlen(o->vhost) > 200)) {
        snprintf(err, errsize, "invalid vhost name '%.60s'", o->vhost);
        return -1;
    }
    c.ordered = o->ordering && strcmp(o->ordering, "none") != 0;
    c.global = o->ordering && strcmp(o->ordering, "global") == 0;
    c.at_most_once = o->delivery && strcmp(o->delivery, "at_most_once") == 0;
    c.exactly_once = o->delivery && strcmp(o->delivery, "exactly_once") == 0;
    c.name = o->name                                      ? o->name
             : strcmp(o->use_case, "work_queue") == 0     ? "jobs"
             : strcmp(o->use_case, "pub_sub") == 0        ? "events"
             : strcmp(o->use_case, "event_sourcing") == 0 ? "ledger"
             : strcmp(o->use_case, "cqrs") == 0           ? "app"
                                                          : "orders";
    if (!name_ok(c.name)) {
        snprintf(err, errsize, "invalid name '%.60s': letters, digits, '.', '_' and '-' only",
                 c.name);
        return -1;
    }
    if (strncmp(c.name, "amq.", 4) == 0) {
        snprintf(err, errsize, "invalid name '%.60s': 'amq.' is the broker's", c.name);
        return -1;
    }
    if (strcmp(o->use_case, "pub_sub") == 0)
        dflt_consumers = "audit,notifications";
    else if (strcmp(o->use_case, "event_sourcing") == 0)
        dflt_consumers = "projector";
    else if (strcmp(o->use_case, "cqrs") == 0)
        dflt_consumers = "read-model";
    else if (strcmp(o->use_case, "saga") == 0)
        dflt_consumers = "payment,shipping";
    if (parse_retention(&c, o->retention ? o->retention : "7d", err, errsize) != 0)
        goto out;
    if (o->throughput && parse_throughput(&c, o->throughput, err, errsize) != 0)
        goto out;
    if (split(o->producers, "producer", c.producers, &c.n_producers, "producer", err, errsize) !=
            0 ||
        split(o->consumers, dflt_consumers, c.consumers, &c.n_consumers, "consumer", err,
              errsize) != 0)
        goto out;
    header(&c);
    layout(&c);
    rc = 0;
out:
    for (i = 0; i < c.n_producers; i++)
        free(c.producers[i]);
    for (i = 0; i < c.n_consumers; i++)
        free(c.consumers[i]);
    return rc;
}
