/*
 * cmd_dlq.c - `rmqtopo dlq inspect QUEUE` and `rmqtopo dlq replay QUEUE` (cli.md, dlq.md).
 *
 * inspect reads without taking (ops/inspect) and streams what it reads: a message is printed
 * as it arrives and forgotten, so memory stays flat whatever --limit is. replay moves with
 * common's safe mover through ops/replay: a message is acknowledged at the dead-letter queue
 * only after the broker confirmed its publish and did not return it.
 *
 * Both use the management API for what AMQP cannot tell (the queue's type, dead-letter
 * settings, the broker version); when it cannot be reached they warn and go on with AMQP
 * alone.
 */
#include "cli.h"

#include "archive.h"
#include "brokerver.h"
#include "inspect.h"
#include "msgcodec.h"
#include "msgjson.h"
#include "queueinfo.h"
#include "replay.h"
#include "strbuf.h"
#include "textutil.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREVIEW_BYTES 64
#define DEFAULT_INSPECT_LIMIT 1000

static const char *const reasons[] = {"rejected", "expired", "maxlen", "delivery_limit", NULL};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* --- small helpers ------------------------------------------------------------------- */

static void warn_line(void *ctx, const char *msg)
{
    struct strbuf sb = {0};
    (void)ctx;
    rmqt_sanitize_add(&sb, msg, strlen(msg));
    fprintf(stderr, "rmqtopo: warning: %s\n", strbuf_str(&sb));
    strbuf_release(&sb);
}

/* A message the broker refuses: which one, and why (it stays in the queue). */
static void refused_line(void *ctx, const struct rmqt_refusal *r)
{
    struct strbuf sb = {0};
    (void)ctx;
    strbuf_addf(&sb, "message %llu of this run (delivery tag %llu", (unsigned long long)r->position,
                (unsigned long long)r->delivery_tag);
    if (r->message_id.len) {
        strbuf_adds(&sb, ", message_id '");
        rmqt_sanitize_add(&sb, r->message_id.bytes, r->message_id.len);
        strbuf_adds(&sb, "'");
    }
    strbuf_adds(&sb, ") is not published: ");
    rmqt_sanitize_add(&sb, r->reason, strlen(r->reason));
    strbuf_adds(&sb, "; it stays in the queue");
    fprintf(stderr, "rmqtopo: warning: %s\n", strbuf_str(&sb));
    strbuf_release(&sb);
}

static int parse_count(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = s[0] == '-' ? 0 : strtoull(s, &end, 10);
    if (s[0] == '-' || errno || *end || end == s || v == 0) {
        fprintf(stderr, "rmqtopo: --%s takes a whole number above 0, not '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* "90", "90s", "15m", "2h", "7d", "1h30m" -> seconds. */
static int parse_duration(const char *s, double *out)
{
    double total = 0;
    const char *p = s;

    if (!*p)
        return -1;
    while (*p) {
        char *end;
        double v;
        errno = 0;
        v = strtod(p, &end);
        if (end == p || errno || v < 0 || !isfinite(v))
            return -1;
        switch (*end) {
        case '\0':
        case 's':
            break;
        case 'm':
            v *= 60;
            break;
        case 'h':
            v *= 3600;
            break;
        case 'd':
            v *= 86400;
            break;
        default:
            return -1;
        }
        total += v;
        p = *end ? end + 1 : end;
    }
    *out = total;
    return 0;
}

static void format_age(char *buf, size_t cap, double secs)
{
    if (secs < 0)
        secs = 0;
    if (secs < 120)
        snprintf(buf, cap, "%.0fs", secs);
    else if (secs < 7200)
        snprintf(buf, cap, "%.0fm", secs / 60);
    else if (secs < 172800)
        snprintf(buf, cap, "%.0fh", secs / 3600);
    else
        snprintf(buf, cap, "%.0fd", secs / 86400);
}

static void format_time(char *buf, size_t cap, uint64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t > (uint64_t)253402300799ULL || !gmtime_r(&tt, &tm)) {
        snprintf(buf, cap, "%llu", (unsigned long long)t);
        return;
    }
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void format_size(char *buf, size_t cap, size_t n)
{
    if (n < 1024)
        snprintf(buf, cap, "%zuB", n);
    else if (n < 1024 * 1024)
        snprintf(buf, cap, "%.1fK", (double)n / 1024);
    else
        snprintf(buf, cap, "%.1fM", (double)n / (1024.0 * 1024));
}

/* Text for a preview: valid UTF-8 (jansson's check) without NUL bytes. */
static bool is_text(const unsigned char *s, size_t len)
{
    json_t *t;
    if (memchr(s, 0, len))
        return false;
    t = json_stringn((const char *)s, len);
    json_decref(t);
    return t != NULL;
}

/* A body preview safe for a terminal and for JSON: text up to PREVIEW_BYTES (cut at a
 * character boundary, "..." when cut), or "<binary, N bytes: hex...>". */
static char *body_preview(amqp_bytes_t body)
{
    const unsigned char *b = body.bytes;
    size_t n = body.len < PREVIEW_BYTES ? body.len : PREVIEW_BYTES, k;
    struct strbuf sb = {0};

    while (n > 0 && n < body.len && (b[n] & 0xc0) == 0x80)
        n--; /* do not cut a character */
    if (is_text(b, n)) {
        strbuf_add(&sb, b, n);
        if (n < body.len)
            strbuf_adds(&sb, "...");
        return strbuf_detach(&sb, NULL);
    }
    strbuf_addf(&sb, "<binary, %zu bytes:", body.len);
    for (k = 0; k < body.len && k < 16; k++)
        strbuf_addf(&sb, " %02x", b[k]);
    strbuf_adds(&sb, body.len > 16 ? " ...>" : ">");
    return strbuf_detach(&sb, NULL);
}

/* A JSON string for names and ids: invalid UTF-8 bytes become U+FFFD (they are shown,
 * not round-tripped; the typed headers and properties keep the exact bytes). */
static json_t *bytes_json(amqp_bytes_t b)
{
    const unsigned char *p = b.bytes;
    struct strbuf sb = {0};
    json_t *j = json_stringn(b.bytes ? b.bytes : "", b.len);
    size_t i;

    if (j)
        return j;
    for (i = 0; i < b.len; i++) {
        json_t *one = NULL;
        size_t n = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ? 3 : 4;
        if (i + n <= b.len && (one = json_stringn((const char *)p + i, n)) != NULL) {
            strbuf_add(&sb, p + i, n);
            i += n - 1;
        } else {
            strbuf_adds(&sb, "\xef\xbf\xbd");
        }
        json_decref(one);
    }
    j = json_stringn(sb.buf ? sb.buf : "", sb.len);
    strbuf_release(&sb);
    return j ? j : json_string("");
}

static json_t *bytes_or_null(bool present, amqp_bytes_t b)
{
    return present ? bytes_json(b) : json_null();
}

static json_t *keys_json(const struct death *d)
{
    json_t *a = json_array();
    int i;
    if (d->routing_keys)
        for (i = 0; i < d->routing_keys->num_entries; i++) {
            const amqp_field_value_t *k = &d->routing_keys->entries[i];
            if (k->kind == AMQP_FIELD_KIND_UTF8 || k->kind == AMQP_FIELD_KIND_BYTES)
                json_array_append_new(a, bytes_json(k->value.bytes));
        }
    return a;
}

static void add_bytes_text(struct strbuf *sb, amqp_bytes_t b, size_t width)
{
    struct strbuf t = {0};
    size_t len;
    rmqt_sanitize_add(&t, b.bytes ? b.bytes : "", b.len);
    len = t.len;
    if (len > width) {
        strbuf_add(sb, strbuf_str(&t), width - 1);
        strbuf_addc(sb, '~');
    } else {
        strbuf_add(sb, strbuf_str(&t), len);
        while (len++ < width)
            strbuf_addc(sb, ' ');
    }
    strbuf_release(&t);
}

static void add_cell(struct strbuf *sb, const char *s, size_t width)
{
    add_bytes_text(sb, rmqt_bytes(s), width);
    strbuf_addc(sb, ' ');
}

/* --- connection ---------------------------------------------------------------------- */

struct dlq_conn {
    struct cli_amqp amqp;
    struct rmqt_http *http; /* NULL when it could not be set up */
    struct rmqt_version version;
    bool has_version;
};

static int dlq_connect(struct cli *cli, const struct parsed_opts *opts, struct dlq_conn *c,
                       struct rmqt_error *err)
{
    const char *vhost = opt_last(opts, "vhost");

    memset(c, 0, sizeof(*c));
    if (cli_amqp_setup(cli, &c->amqp, err) < 0)
        return -1;
    c->amqp.cfg.vhost = vhost;
    c->http = cli_http_client(cli, err);
    return c->http ? 0 : -1;
}

static void dlq_release(struct dlq_conn *c)
{
    rmqt_http_free(c->http);
    cli_amqp_release(&c->amqp);
}

static struct rmqt_session *open_session(struct dlq_conn *c, const char *name,
                                         struct rmqt_error *err)
{
    c->amqp.cfg.name = name;
    return rmqt_session_open(&c->amqp.cfg, err);
}

/* The broker version (for version-dependent warnings); false when unknown. */
static void read_version(struct dlq_conn *c)
{
    struct rmqt_http_response resp;
    struct rmqt_error err;
    json_t *doc;

    rmqt_http_response_init(&resp);
    if (rmqt_http_request(c->http, "GET", "/api/overview", NULL, &resp, &err) == 0) {
        doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
        if (json_is_string(json_object_get(doc, "rabbitmq_version")) &&
            rmqt_version_parse(json_string_value(json_object_get(doc, "rabbitmq_version")),
                               &c->version) == 0)
            c->has_version = true;
        json_decref(doc);
    }
    rmqt_http_response_release(&resp);
}

/* Whether the connecting user has the impersonator tag (GET /api/whoami): it may then publish
 * messages whose user_id names another user. false when unknown. */
static bool may_impersonate(struct dlq_conn *c)
{
    struct rmqt_http_response resp;
    struct rmqt_error err;
    bool yes = false;
    json_t *doc, *tags;

    rmqt_http_response_init(&resp);
    if (rmqt_http_request(c->http, "GET", "/api/whoami", NULL, &resp, &err) == 0) {
        doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
        tags = json_object_get(doc, "tags");
        if (json_is_string(tags)) { /* 3.x: "administrator,impersonator" */
            const char *t = json_string_value(tags);
            size_t n = strlen("impersonator");
            for (const char *p = strstr(t, "impersonator"); p && !yes;
                 p = strstr(p + 1, "impersonator"))
                yes = (p == t || p[-1] == ',') && (p[n] == '\0' || p[n] == ',');
        } else if (json_is_array(tags)) { /* 3.9+: a list */
            size_t i;
            json_t *v;
            json_array_foreach(tags, i, v) yes =
                yes || (json_is_string(v) && strcmp(json_string_value(v), "impersonator") == 0);
        }
        json_decref(doc);
    }
    rmqt_http_response_release(&resp);
    return yes;
}

/* Reads the queue's settings over HTTP; on failure warns and leaves info "not found". */
static void read_queue_info(struct dlq_conn *c, const char *vhost, const char *queue,
                            struct queue_info *info)
{
    struct rmqt_error err;
    if (queue_info_read(c->http, vhost, queue, info, &err) < 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg),
                 "the management API could not be read (%s): going on without the queue's type "
                 "and dead-letter settings",
                 err.message);
        warn_line(NULL, msg);
        memset(info, 0, sizeof(*info));
        info->delivery_limit = -1;
    }
}

/* Messages a run left in a quorum queue at its delivery limit: the broker dead-letters or
 * drops them when they are released, so the queue is no longer as it was. */
static void warn_at_limit(const char *queue, uint64_t n, long limit)
{
    char msg[700];

    if (n == 0)
        return;
    snprintf(msg, sizeof(msg),
             "%llu message(s) read from quorum queue '%s' had been delivered %ld time(s), its "
             "delivery limit: giving them back made the broker dead-letter them (or drop them "
             "without a dead-letter exchange); they are no longer in '%s'",
             (unsigned long long)n, queue, limit, queue);
    warn_line(NULL, msg);
}

/* --- inspect ------------------------------------------------------------------------- */

static const struct optspec inspect_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the AMQP URL's, else /)"},
    {"limit", 0, "N", "read at most N messages (default 1000)"},
    {NULL, 0, NULL, NULL},
};

struct inspect_out {
    struct cli *cli;
    time_t now;
    bool first;
    int64_t max_delivery_count;
    long delivery_limit; /* in force; -1: none */
    uint64_t at_limit;   /* read at the limit: dropped or dead-lettered when given back */
    bool any_delivery_count;
    amqp_table_entry_t *scratch;
    size_t scratch_cap;
};

static json_t *message_json(struct inspect_out *o, const struct inspect_message *m)
{
    const amqp_basic_properties_t *p = &m->env->message.properties;
    const struct death *d = &m->death;
    amqp_basic_properties_t clean, bare;
    json_t *j = json_object();
    char when[40], *preview;

    rmqt_props_without_counters(p, &clean, &o->scratch, &o->scratch_cap);
    bare = clean;
    bare._flags &= ~AMQP_BASIC_HEADERS_FLAG;
    json_object_set_new(j, "message_id",
                        bytes_or_null(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id));
    json_object_set_new(j, "queue", bytes_or_null(d->present, d->queue));
    json_object_set_new(j, "exchange", bytes_or_null(d->present, d->exchange));
    json_object_set_new(j, "routing_keys", keys_json(d));
    json_object_set_new(j, "reason", bytes_or_null(d->present && d->reason.bytes, d->reason));
    json_object_set_new(j, "count", json_integer(d->count));
    if (d->has_time) {
        format_time(when, sizeof(when), d->time);
        json_object_set_new(j, "first_death", json_string(when));
    } else {
        json_object_set_new(j, "first_death", json_null());
    }
    json_object_set_new(j, "properties", rmqt_props_to_json(&bare));
    if (clean._flags & AMQP_BASIC_HEADERS_FLAG)
        json_object_set_new(j, "headers", rmqt_table_to_json(&clean.headers));
    else
        json_object_set_new(j, "headers", json_object());
    json_object_set_new(j, "body_size", json_integer((json_int_t)m->env->message.body.len));
    preview = body_preview(m->env->message.body);
    json_object_set_new(j, "body_preview", json_string(preview));
    free(preview);
    if (m->has_delivery_count)
        json_object_set_new(j, "delivery_count", json_integer(m->delivery_count));
    return j;
}

static void inspect_each(void *ctx, const struct inspect_message *m)
{
    struct inspect_out *o = ctx;
    const amqp_basic_properties_t *p = &m->env->message.properties;
    const struct death *d = &m->death;

    if (m->has_delivery_count) {
        if (!o->any_delivery_count || m->delivery_count > o->max_delivery_count)
            o->max_delivery_count = m->delivery_count;
        o->any_delivery_count = true;
        if (o->delivery_limit >= 0 && m->delivery_count >= o->delivery_limit)
            o->at_limit++;
    }
    if (o->cli->output == OUTPUT_JSON) {
        json_t *j = message_json(o, m);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        printf("%s\n    %s", o->first ? "" : ",", s);
        free(s);
        json_decref(j);
    } else {
        struct strbuf sb = {0};
        char age[16] = "-", count[24] = "-", size[16], *preview;
        amqp_bytes_t none = rmqt_bytes("-");

        if (d->has_time)
            format_age(age, sizeof(age), difftime(o->now, (time_t)d->time));
        if (d->present)
            snprintf(count, sizeof(count), "%lld", (long long)d->count);
        format_size(size, sizeof(size), m->env->message.body.len);
        add_bytes_text(&sb, p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG ? p->message_id : none, 24);
        strbuf_addc(&sb, ' ');
        add_bytes_text(&sb, d->present ? d->queue : none, 20);
        strbuf_addc(&sb, ' ');
        add_bytes_text(&sb, d->present && d->reason.len ? d->reason : none, 14);
        strbuf_addc(&sb, ' ');
        add_cell(&sb, count, 5);
        add_cell(&sb, age, 5);
        add_bytes_text(&sb, death_first_key(d).len ? death_first_key(d) : none, 20);
        strbuf_addc(&sb, ' ');
        add_cell(&sb, size, 7);
        preview = body_preview(m->env->message.body);
        add_bytes_text(&sb, rmqt_bytes(preview), 40);
        free(preview);
        while (sb.len && sb.buf[sb.len - 1] == ' ')
            sb.buf[--sb.len] = '\0';
        printf("%s\n", strbuf_str(&sb));
        strbuf_release(&sb);
    }
    o->first = false;
}

static json_t *groups_json(const struct inspect_result *r)
{
    json_t *a = json_array();
    size_t i;
    char t[40];

    for (i = 0; i < r->n_groups; i++) {
        const struct inspect_group *g = &r->groups[i];
        json_t *j = json_object();
        json_object_set_new(j, "queue", g->queue ? json_string(g->queue) : json_null());
        json_object_set_new(j, "reason", g->reason ? json_string(g->reason) : json_null());
        json_object_set_new(j, "count", json_integer((json_int_t)g->count));
        if (g->has_time) {
            format_time(t, sizeof(t), g->first);
            json_object_set_new(j, "first_death", json_string(t));
            format_time(t, sizeof(t), g->last);
            json_object_set_new(j, "last_death", json_string(t));
        } else {
            json_object_set_new(j, "first_death", json_null());
            json_object_set_new(j, "last_death", json_null());
        }
        json_array_append_new(a, j);
    }
    return a;
}

static void print_groups_text(const struct inspect_result *r)
{
    size_t i;
    char first[40], last[40], count[24];

    printf("\nby queue and reason:\n  %-24s %-14s %8s  %-20s  %s\n", "QUEUE", "REASON", "MESSAGES",
           "FIRST DEATH", "LAST DEATH");
    for (i = 0; i < r->n_groups; i++) {
        const struct inspect_group *g = &r->groups[i];
        struct strbuf sb = {0};
        strbuf_adds(&sb, "  ");
        add_cell(&sb, g->queue ? g->queue : "(no x-death)", 24);
        add_cell(&sb, g->reason ? g->reason : "-", 14);
        snprintf(count, sizeof(count), "%8llu", (unsigned long long)g->count);
        strbuf_adds(&sb, count);
        strbuf_adds(&sb, "  ");
        snprintf(first, sizeof(first), "-");
        snprintf(last, sizeof(last), "-");
        if (g->has_time) {
            format_time(first, sizeof(first), g->first);
            format_time(last, sizeof(last), g->last);
        }
        add_cell(&sb, first, 20);
        strbuf_addc(&sb, ' ');
        strbuf_adds(&sb, last);
        printf("%s\n", strbuf_str(&sb));
        strbuf_release(&sb);
    }
}

/* Warnings before a read: other consumers, and what reading does to a quorum queue. */
static void warn_about_source(struct dlq_conn *c, const char *queue, const struct queue_info *qi,
                              uint32_t consumers, const char *doing)
{
    char msg[900];
    if (consumers > 0) {
        snprintf(msg, sizeof(msg),
                 "queue '%s' has %u other consumer(s): the messages they hold are not %s", queue,
                 consumers, doing);
        warn_line(NULL, msg);
    }
    if (strcmp(qi->type, "quorum") == 0) {
        long limit = queue_info_effective_delivery_limit(qi, c->has_version ? c->version.major : 3);
        char lim[160] = "";
        if (limit >= 0)
            snprintf(lim, sizeof(lim),
                     "; its delivery limit is %ld: a message read that often is dead-lettered or "
                     "dropped",
                     limit);
        snprintf(msg, sizeof(msg),
                 "queue '%s' is a quorum queue: every read raises each message's delivery count "
                 "(x-delivery-count), and requeued messages may change order%s",
                 queue, lim);
        warn_line(NULL, msg);
    }
}

/* The exact ready and consumer counts, and a clear error for a missing queue or a stream. */
static int check_source(struct rmqt_session *s, const char *queue, const struct queue_info *qi,
                        uint32_t *ready, uint32_t *consumers, struct rmqt_error *err)
{
    if (strcmp(qi->type, "stream") == 0)
        return rmqt_error_set(err, RMQT_ERR_INVALID,
                              "queue '%s' is a stream: the dlq commands read classic and quorum "
                              "queues",
                              queue);
    return rmqt_session_queue_counts(s, rmqt_session_channel(s), queue, ready, consumers, err);
}

static int run_inspect(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    const char *limit_s = opt_last(opts, "limit");
    uint64_t limit = DEFAULT_INSPECT_LIMIT;
    struct inspect_out out;
    struct inspect_result res;
    struct queue_info qi;
    struct dlq_conn c;
    struct rmqt_session *s = NULL;
    struct rmqt_error err;
    uint32_t ready = 0, consumers = 0;
    const char *queue, *vhost;
    int status = EXIT_FAIL;

    if (argc != 1) {
        fprintf(stderr, "rmqtopo: dlq inspect takes one queue\n"
                        "Try 'rmqtopo dlq inspect --help'.\n");
        return EXIT_USAGE;
    }
    if (limit_s && parse_count("limit", limit_s, &limit) < 0)
        return EXIT_USAGE;
    queue = argv[0];
    memset(&res, 0, sizeof(res));
    memset(&out, 0, sizeof(out));
    if (dlq_connect(cli, opts, &c, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    s = open_session(&c, "rmqtopo dlq inspect", &err);
    if (!s) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    vhost = rmqt_session_vhost(s);
    read_version(&c);
    read_queue_info(&c, vhost, queue, &qi);
    if (check_source(s, queue, &qi, &ready, &consumers, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    warn_about_source(&c, queue, &qi, consumers, "shown");
    out.delivery_limit =
        queue_info_effective_delivery_limit(&qi, c.has_version ? c.version.major : 3);
    install_signals();
    out.cli = cli;
    out.now = time(NULL);
    out.first = true;
    if (cli->output == OUTPUT_JSON) {
        json_t *v = json_string(vhost), *q = json_string(queue);
        char *vs = json_dumps(v, JSON_ENCODE_ANY), *qs = json_dumps(q, JSON_ENCODE_ANY);
        printf("{\n  \"vhost\": %s,\n  \"queue\": %s,\n  \"messages\": [", vs, qs);
        free(vs);
        free(qs);
        json_decref(v);
        json_decref(q);
    } else {
        printf("%-24s %-20s %-14s %-5s %-5s %-20s %-7s %s\n", "MESSAGE ID", "QUEUE", "REASON",
               "COUNT", "AGE", "ROUTING KEY", "SIZE", "PREVIEW");
    }
    if (inspect_run(s, queue, limit, inspect_each, &out, &stop_requested, &res, &err) < 0) {
        if (cli->output == OUTPUT_JSON) {
            json_t *e = json_string(err.message);
            char *es = json_dumps(e, JSON_ENCODE_ANY);
            printf("%s],\n  \"groups\": [],\n  \"error\": %s\n}\n", res.st.read ? "\n  " : "",
                   es ? es : "null");
            free(es);
            json_decref(e);
        }
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    if (cli->output == OUTPUT_JSON) {
        json_t *g = groups_json(&res), *v;
        size_t i;
        printf("%s],\n  \"groups\": [", res.st.read ? "\n  " : "");
        json_array_foreach(g, i, v)
        {
            char *gs = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n    %s", i ? "," : "", gs);
            free(gs);
        }
        printf("%s]\n}\n", json_array_size(g) ? "\n  " : "");
        json_decref(g);
    } else {
        if (res.st.read == 0)
            printf("(queue '%s' holds no ready messages)\n", queue);
        else
            print_groups_text(&res);
        printf("\n%llu of %llu ready message(s) shown%s; nothing was taken\n",
               (unsigned long long)res.st.read, (unsigned long long)res.st.snapshot,
               res.st.read < res.st.snapshot && res.st.read == limit ? " (--limit)" : "");
    }
    if (out.any_delivery_count) {
        char msg[300];
        long lim = queue_info_effective_delivery_limit(&qi, c.has_version ? c.version.major : 3);
        if (lim >= 0)
            snprintf(msg, sizeof(msg),
                     "the highest x-delivery-count read is %lld, against a delivery limit of %ld",
                     (long long)out.max_delivery_count, lim);
        else
            snprintf(msg, sizeof(msg),
                     "the highest x-delivery-count read is %lld (no delivery limit in force)",
                     (long long)out.max_delivery_count);
        warn_line(NULL, msg);
    }
    warn_at_limit(queue, out.at_limit, out.delivery_limit);
    status = stop_requested || out.at_limit ? EXIT_FAIL : EXIT_OK;
out:
    inspect_result_release(&res);
    free(out.scratch);
    rmqt_session_close(s);
    dlq_release(&c);
    return status;
}

const struct command cmd_dlq_inspect = {
    "dlq inspect",
    "QUEUE",
    "show dead-lettered messages, grouped by why they died",
    "Reads up to --limit messages of the dead-letter queue QUEUE without taking them (they\n"
    "are consumed unacknowledged and given back when the read ends; a classic queue keeps\n"
    "its order) and shows for each, from its most recent x-death entry, the queue it died in,\n"
    "the reason, the death count, when it first died there, the routing key, the size and a\n"
    "body preview; then a summary by (queue, reason). -o json prints one document:\n"
    "{vhost, queue, messages: [...], groups: [{queue, reason, count, first_death,\n"
    "last_death}]}.\n"
    "\n"
    "On a quorum queue every read raises each message's delivery count: the command warns,\n"
    "and shows the highest count against the queue's delivery limit.\n"
    "\n"
    "Exit status: 0 shown, 1 failure (no such queue, lost connection), 64 usage error.",
    inspect_options_spec,
    run_inspect,
};

/* --- replay -------------------------------------------------------------------------- */

static const struct optspec replay_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the AMQP URL's, else /)"},
    {"limit", 0, "N", "replay at most N messages"},
    {"rate", 0, "MSGS_PER_S", "publish at most this many messages a second"},
    {"reason", 0, "R", "only messages that died for R (rejected, expired, maxlen, delivery_limit)"},
    {"from-queue", 0, "Q", "only messages that died in queue Q"},
    {"older-than", 0, "D", "only messages that died at least D ago (90s, 15m, 2h, 7d)"},
    {"to-queue", 0, "Q", "send every message to queue Q (default: the queue it died in)"},
    {"to-exchange", 0, "X", "send every message to exchange X"},
    {"routing-key", 0, "K", "with --to-exchange: this routing key (default: the message's)"},
    {"to-origin", 0, NULL, "send each message the way it reached the queue it died in"},
    {"max-replays", 0, "N", "do not replay a message replayed N times already (default 5)"},
    {"park-queue", 0, "Q", "move messages at --max-replays to queue Q (default: leave them)"},
    {"keep-headers", 0, NULL, "keep x-death and the other death headers"},
    {"dry-run", 0, NULL, "move nothing: show where each message would go"},
    {NULL, 0, NULL, NULL},
};

struct replay_out {
    struct cli *cli;
    bool tty, first;
    double t0;
    const char *verb; /* for the progress line: "replayed" (NULL), "archived", "restored" */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void replay_progress(void *ctx, const struct rmqt_mover_stats *st)
{
    struct replay_out *o = ctx;
    uint64_t done = st->moved + st->parked + st->skipped + st->returned + st->nacked;
    double secs = now_s() - o->t0, rate = secs > 0 ? (double)(st->moved + st->parked) / secs : 0;
    char eta[32] = "";

    if (!o->tty)
        return;
    if (rate > 0 && st->snapshot > done)
        snprintf(eta, sizeof(eta), ", ETA %.0f s", (double)(st->snapshot - done) / rate);
    if (st->snapshot)
        fprintf(stderr, "\rrmqtopo: %s %llu of %llu (%.0f msg/s%s)   ",
                o->verb ? o->verb : "replayed", (unsigned long long)(st->moved + st->parked),
                (unsigned long long)st->snapshot, rate, eta);
    else
        fprintf(stderr, "\rrmqtopo: %s %llu (%.0f msg/s)   ", o->verb ? o->verb : "replayed",
                (unsigned long long)(st->moved + st->parked), rate);
}

static const char *action_name(enum replay_action a)
{
    switch (a) {
    case ACT_REPLAY:
        return "replay";
    case ACT_PARK:
        return "park";
    case ACT_FILTERED:
        return "filtered";
    case ACT_AT_MAX:
        return "at_max_replays";
    case ACT_NO_HOME:
        return "no_home";
    }
    return "?";
}

static json_t *cc_json(const amqp_array_t *cc)
{
    json_t *a = json_array();
    int i;
    for (i = 0; i < cc->num_entries; i++)
        if (cc->entries[i].kind == AMQP_FIELD_KIND_UTF8 ||
            cc->entries[i].kind == AMQP_FIELD_KIND_BYTES)
            json_array_append_new(a, bytes_json(cc->entries[i].value.bytes));
    return a;
}

static void preview_each(void *ctx, const struct replay_preview *pv)
{
    struct replay_out *o = ctx;
    const struct replay_decision *d = pv->decision;
    const amqp_basic_properties_t *p = &pv->env->message.properties;
    bool goes = d->action == ACT_REPLAY || d->action == ACT_PARK;
    amqp_bytes_t none = rmqt_bytes("-");

    if (o->cli->output == OUTPUT_JSON) {
        json_t *j = json_object();
        char *s;
        json_object_set_new(j, "message_id",
                            bytes_or_null(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id));
        json_object_set_new(j, "action", json_string(action_name(d->action)));
        json_object_set_new(j, "exchange", goes ? bytes_json(d->exchange) : json_null());
        json_object_set_new(j, "routing_key", goes ? bytes_json(d->routing_key) : json_null());
        json_object_set_new(j, "cc", cc_json(&d->cc));
        json_object_set_new(j, "replays", json_integer(d->replays));
        json_object_set_new(j, "target_exists",
                            goes ? json_boolean(pv->target_exists) : json_null());
        s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n    %s", o->first ? "" : ",", s);
        free(s);
        json_decref(j);
    } else {
        struct strbuf sb = {0};
        add_bytes_text(&sb, p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG ? p->message_id : none, 24);
        strbuf_adds(&sb, " ");
        switch (d->action) {
        case ACT_REPLAY:
        case ACT_PARK:
            strbuf_adds(&sb, d->action == ACT_PARK ? "-> park: " : "-> ");
            if (d->exchange.len == 0) {
                strbuf_adds(&sb, "queue '");
                rmqt_quote_add(&sb, d->routing_key.bytes, d->routing_key.len, 200);
                strbuf_adds(&sb, "'");
            } else {
                strbuf_adds(&sb, "exchange '");
                rmqt_quote_add(&sb, d->exchange.bytes, d->exchange.len, 200);
                strbuf_adds(&sb, "' key '");
                rmqt_quote_add(&sb, d->routing_key.bytes, d->routing_key.len, 200);
                strbuf_adds(&sb, "'");
                if (d->cc.num_entries)
                    strbuf_addf(&sb, " (+%d CC key(s))", d->cc.num_entries);
            }
            if (!pv->target_exists)
                strbuf_adds(&sb, "  [does not exist: stays]");
            break;
        case ACT_FILTERED:
            strbuf_adds(&sb, "stays (not selected by the filters)");
            break;
        case ACT_AT_MAX:
            strbuf_addf(&sb, "stays (replayed %lld times: --max-replays)", (long long)d->replays);
            break;
        case ACT_NO_HOME:
            strbuf_adds(&sb, "stays (no x-death to find its home by: use --to-queue)");
            break;
        }
        printf("%s\n", strbuf_str(&sb));
        strbuf_release(&sb);
    }
    o->first = false;
}

static void add_count(json_t *j, const char *k, uint64_t v)
{
    json_object_set_new(j, k, json_integer((json_int_t)v));
}

static json_t *summary_json(const char *vhost, const char *queue, const struct replay_result *r,
                            bool dry_run, bool ok, const char *error)
{
    const struct rmqt_mover_stats *m = &r->mover;
    json_t *j = json_object();

    json_object_set_new(j, "vhost", json_string(vhost));
    json_object_set_new(j, "queue", json_string(queue));
    json_object_set_new(j, "dry_run", json_boolean(dry_run));
    add_count(j, "snapshot", m->snapshot);
    add_count(j, dry_run ? "would_move" : "moved", m->moved);
    add_count(j, dry_run ? "would_park" : "parked", m->parked);
    add_count(j, "filtered", r->filtered);
    add_count(j, "returned", m->returned);
    add_count(j, "nacked", m->nacked);
    add_count(j, "refused", m->refused);
    add_count(j, "unconfirmed", m->unconfirmed);
    add_count(j, "at_max_replays", r->at_max);
    add_count(j, "no_home", r->no_home);
    add_count(j, "no_target", r->no_target);
    add_count(j, "left", m->left);
    add_count(j, "at_delivery_limit", m->at_limit);
    json_object_set_new(j, "seconds", json_real(m->seconds));
    json_object_set_new(
        j, "rate", json_real(m->seconds > 0 ? (double)(m->moved + m->parked) / m->seconds : 0));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_object_set_new(j, "error", error ? json_string(error) : json_null());
    return j;
}

/* Why messages of the snapshot were not handled, when the run did not stop at a limit. */
static const char *why_left(bool failed)
{
    if (failed)
        return "the run stopped on the error below";
    if (stop_requested)
        return "stopped by a signal";
    return "they never came to this run: another consumer holds them, or they expired";
}

static void print_summary_text(const char *queue, const struct replay_result *r, bool dry_run,
                               bool failed)
{
    const struct rmqt_mover_stats *m = &r->mover;
    double rate = m->seconds > 0 ? (double)(m->moved + m->parked) / m->seconds : 0;

    if (dry_run) {
        printf("\ndry run: %llu would be replayed, %llu parked; %llu not selected; nothing was "
               "moved\n",
               (unsigned long long)m->moved, (unsigned long long)m->parked,
               (unsigned long long)r->filtered);
    } else {
        printf("replayed %llu message(s) from '%s' in %.1f s (%.0f msg/s)",
               (unsigned long long)m->moved, queue, m->seconds, rate);
        if (m->parked)
            printf(", parked %llu", (unsigned long long)m->parked);
        printf("; %llu ready when it started\n", (unsigned long long)m->snapshot);
        if (r->filtered)
            printf("  %llu not selected by the filters: they stay\n",
                   (unsigned long long)r->filtered);
        if (m->left && !replay_left_selected(r))
            printf("  %llu not handled (--limit)\n", (unsigned long long)m->left);
    }
    if (m->returned)
        printf("  left: %llu returned by the broker (no route to the target): they stay in '%s'\n",
               (unsigned long long)m->returned, queue);
    if (m->nacked)
        printf("  left: %llu refused by the broker (basic.nack): they stay in '%s'\n",
               (unsigned long long)m->nacked, queue);
    if (m->refused)
        printf("  left: %llu the broker refuses (named above): they stay in '%s'\n",
               (unsigned long long)m->refused, queue);
    if (m->unconfirmed)
        printf("  %llu were published but not confirmed before the broker closed the channel: "
               "they were given back and published again one at a time, so each may be at the "
               "target twice\n",
               (unsigned long long)m->unconfirmed);
    if (r->at_max)
        printf("  left: %llu at --max-replays: they stay (give --park-queue to move them)\n",
               (unsigned long long)r->at_max);
    if (r->no_home)
        printf("  left: %llu without x-death to find their home by: they stay (use --to-queue)\n",
               (unsigned long long)r->no_home);
    if (r->no_target)
        printf("  left: %llu whose target does not exist: they stay\n",
               (unsigned long long)r->no_target);
    if (!dry_run && m->left && replay_left_selected(r))
        printf("  left: %llu not handled (%s)\n", (unsigned long long)m->left, why_left(failed));
}

/* --rate (replay and restore): 0 when not given. */
static int parse_rate(const struct parsed_opts *opts, double *rate)
{
    const char *s = opt_last(opts, "rate");
    char *end;

    *rate = 0;
    if (!s)
        return 0;
    errno = 0;
    *rate = strtod(s, &end);
    if (errno || *end || end == s || !(*rate > 0) || !isfinite(*rate)) {
        fprintf(stderr, "rmqtopo: --rate takes messages a second above 0, not '%s'\n", s);
        return -1;
    }
    return 0;
}

/* --reason, --from-queue and --older-than (replay and archive). */
static int parse_filter(const struct parsed_opts *opts, struct replay_filter *f)
{
    const char *s;

    if ((s = opt_last(opts, "reason")) != NULL) {
        size_t k;
        for (k = 0; reasons[k] && strcmp(reasons[k], s) != 0; k++)
            ;
        if (!reasons[k]) {
            const char *g = rmqt_did_you_mean(s, reasons);
            fprintf(stderr,
                    "rmqtopo: --reason takes rejected, expired, maxlen or delivery_limit, not "
                    "'%s'%s%s%s\n",
                    s, g ? " (did you mean '" : "", g ? g : "", g ? "'?)" : "");
            return -1;
        }
        f->reason = s;
    }
    f->from_queue = opt_last(opts, "from-queue");
    if ((s = opt_last(opts, "older-than")) != NULL) {
        if (parse_duration(s, &f->older_than_s) < 0) {
            fprintf(stderr,
                    "rmqtopo: --older-than takes a duration such as 90s, 15m, 2h or 7d, not '%s'\n",
                    s);
            return -1;
        }
        f->has_older_than = true;
    }
    return 0;
}

static int replay_parse(const struct parsed_opts *opts, struct replay_options *o)
{
    const char *s;
    int routes = (opt_last(opts, "to-queue") != NULL) + (opt_last(opts, "to-exchange") != NULL) +
                 opt_flag(opts, "to-origin");

    o->max_replays = REPLAY_DEFAULT_MAX;
    if (routes > 1) {
        fprintf(stderr, "rmqtopo: give one of --to-queue, --to-exchange and --to-origin\n");
        return -1;
    }
    if (opt_last(opts, "routing-key") && !opt_last(opts, "to-exchange")) {
        fprintf(stderr, "rmqtopo: --routing-key goes with --to-exchange\n");
        return -1;
    }
    o->route = ROUTE_HOME;
    if ((o->to_queue = opt_last(opts, "to-queue")) != NULL)
        o->route = ROUTE_QUEUE;
    if ((o->to_exchange = opt_last(opts, "to-exchange")) != NULL) {
        o->route = ROUTE_EXCHANGE;
        o->routing_key = opt_last(opts, "routing-key");
    }
    if (opt_flag(opts, "to-origin"))
        o->route = ROUTE_ORIGIN;
    if ((s = opt_last(opts, "limit")) && parse_count("limit", s, &o->limit) < 0)
        return -1;
    if (parse_rate(opts, &o->rate) < 0)
        return -1;
    if (parse_filter(opts, &o->filter) < 0)
        return -1;
    if ((s = opt_last(opts, "max-replays")) != NULL) {
        char *end;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || end == s || v < 0) {
            fprintf(stderr, "rmqtopo: --max-replays takes a whole number (0 or more), not '%s'\n",
                    s);
            return -1;
        }
        o->max_replays = v;
    }
    o->park_queue = opt_last(opts, "park-queue");
    o->keep_headers = opt_flag(opts, "keep-headers");
    return 0;
}

static int run_replay(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct replay_options o;
    struct replay_result res;
    struct replay_out out;
    struct queue_info qi;
    struct dlq_conn c;
    struct rmqt_session *src = NULL, *dst = NULL;
    struct rmqt_error err;
    bool dry_run = opt_flag(opts, "dry-run"), ok;
    uint32_t ready = 0, consumers = 0;
    const char *vhost;
    int status = EXIT_FAIL, rc;

    if (argc != 1) {
        fprintf(stderr, "rmqtopo: dlq replay takes one queue\n"
                        "Try 'rmqtopo dlq replay --help'.\n");
        return EXIT_USAGE;
    }
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    if (replay_parse(opts, &o) < 0)
        return EXIT_USAGE;
    o.queue = argv[0];
    if (dlq_connect(cli, opts, &c, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    src = open_session(
        &c, dry_run ? "rmqtopo dlq replay --dry-run" : "rmqtopo dlq replay (consume)", &err);
    if (!src) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    vhost = rmqt_session_vhost(src);
    o.vhost = vhost;
    read_version(&c);
    read_queue_info(&c, vhost, o.queue, &qi);
    if (check_source(src, o.queue, &qi, &ready, &consumers, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    warn_about_source(&c, o.queue, &qi, consumers, "replayed");
    o.delivery_limit =
        queue_info_effective_delivery_limit(&qi, c.has_version ? c.version.major : 3);
    o.warn = warn_line;
    o.refused = refused_line;
    o.may_impersonate = may_impersonate(&c);
    o.stop = &stop_requested;
    memset(&out, 0, sizeof(out));
    out.cli = cli;
    out.first = true;
    out.tty = isatty(STDERR_FILENO) && !dry_run;
    out.t0 = now_s();
    o.ctx = &out;
    o.progress = replay_progress;
    install_signals();

    if (dry_run) {
        if (cli->output == OUTPUT_JSON)
            printf("{\n  \"messages\": [");
        rc = replay_preview(src, c.http, &o, preview_each, &out, &res, &err);
        if (cli->output == OUTPUT_JSON) {
            json_t *sum =
                summary_json(vhost, o.queue, &res, true, rc == 0, rc < 0 ? err.message : NULL);
            char *ss = json_dumps(sum, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s],\n  \"summary\": %s\n}\n", out.first ? "" : "\n  ", ss);
            free(ss);
            json_decref(sum);
        } else if (rc == 0) {
            print_summary_text(o.queue, &res, true, false);
        }
        status = rc < 0 ? cli_fail(cli, EXIT_FAIL, "%s", err.message) : EXIT_OK;
        goto out;
    }

    dst = open_session(&c, "rmqtopo dlq replay (publish)", &err);
    if (!dst) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    rc = replay_run(src, dst, c.http, &o, &res, &err);
    if (out.tty)
        fprintf(stderr, "\r\033[K");
    ok = rc == 0 && !replay_left_selected(&res) && !stop_requested && res.mover.at_limit == 0;
    warn_at_limit(o.queue, res.mover.at_limit, o.delivery_limit);
    if (cli->output == OUTPUT_JSON) {
        json_t *sum = summary_json(vhost, o.queue, &res, false, ok, rc < 0 ? err.message : NULL);
        json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(sum);
    } else {
        print_summary_text(o.queue, &res, false, rc < 0);
    }
    if (rc < 0)
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
    else if (stop_requested)
        status = cli_fail(cli, EXIT_FAIL,
                          "stopped by a signal: what was confirmed is "
                          "acknowledged, the rest stays in '%s'",
                          o.queue);
    else
        status = ok ? EXIT_OK : EXIT_FAIL;
out:
    rmqt_session_close(dst);
    rmqt_session_close(src);
    dlq_release(&c);
    return status;
}

const struct command cmd_dlq_replay = {
    "dlq replay",
    "QUEUE",
    "send dead-lettered messages back where they came from",
    "Moves the messages of the dead-letter queue QUEUE home: by default each goes to the queue\n"
    "of its most recent x-death entry, through the default exchange (only that queue gets\n"
    "it). --to-origin republishes it the way it reached that queue (its exchange and routing\n"
    "keys; other queues bound there get copies); --to-queue and --to-exchange send every\n"
    "message to one place.\n"
    "\n"
    "Safety: a message is acknowledged at QUEUE only after the broker confirmed its publish\n"
    "and did not return it; a crash or lost connection loses nothing (at most the messages in\n"
    "flight are delivered twice). A run handles at most the messages QUEUE held when it\n"
    "started. Messages the filters do not select stay, in order on classic queues.\n"
    "\n"
    "Each replayed message gets the header rmqtopo-replay-count (1, 2, ...); x-death,\n"
    "x-first-death-*, x-last-death-* and the broker's delivery counters are removed unless\n"
    "--keep-headers; every other property and header is kept with its type. A message\n"
    "replayed --max-replays times already stays (or goes to --park-queue). Ctrl-C stops\n"
    "cleanly: what is in flight is confirmed and acknowledged, the rest stays.\n"
    "\n"
    "Exit status: 0 every selected message was moved (--dry-run: always 0), 1 something\n"
    "selected was left (returned, refused, at --max-replays, no home, lost connection), 64\n"
    "usage error.",
    replay_options_spec,
    run_replay,
};

/* --- archive ------------------------------------------------------------------------- */

static const struct optspec archive_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the AMQP URL's, else /)"},
    {"file", 0, "F", "the archive to write (- for stdout); required"},
    {"copy", 0, NULL, "leave the queue as it was: archive copies"},
    {"append", 0, NULL, "add to an existing archive of the same queue"},
    {"limit", 0, "N", "archive at most N messages"},
    {"reason", 0, "R", "only messages that died for R (rejected, expired, maxlen, delivery_limit)"},
    {"from-queue", 0, "Q", "only messages that died in queue Q"},
    {"older-than", 0, "D", "only messages that died at least D ago (90s, 15m, 2h, 7d)"},
    {NULL, 0, NULL, NULL},
};

static json_t *archive_summary_json(const struct archive_options *o, const struct archive_result *r,
                                    bool ok, const char *error)
{
    const struct rmqt_mover_stats *m = &r->mover;
    json_t *j = json_object();

    json_object_set_new(j, "vhost", json_string(o->vhost));
    json_object_set_new(j, "queue", json_string(o->queue));
    json_object_set_new(j, "file", json_string(o->file));
    json_object_set_new(j, "copy", json_boolean(o->copy));
    json_object_set_new(j, "created", json_boolean(r->created));
    add_count(j, "snapshot", m->snapshot);
    add_count(j, "archived", m->moved);
    add_count(j, "filtered", m->skipped);
    add_count(j, "left", m->left);
    add_count(j, "at_delivery_limit", m->at_limit);
    json_object_set_new(j, "seconds", json_real(m->seconds));
    json_object_set_new(j, "rate", json_real(m->seconds > 0 ? (double)m->moved / m->seconds : 0));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_object_set_new(j, "error", error ? json_string(error) : json_null());
    return j;
}

static void print_archive_text(FILE *f, const struct archive_options *o,
                               const struct archive_result *r, bool limit_reached)
{
    const struct rmqt_mover_stats *m = &r->mover;
    double rate = m->seconds > 0 ? (double)m->moved / m->seconds : 0;

    fprintf(f,
            "%s %llu message(s) of '%s' into '%s' in %.1f s (%.0f msg/s); %llu ready when it "
            "started\n",
            o->copy ? "copied" : "archived", (unsigned long long)m->moved, o->queue, o->file,
            m->seconds, rate, (unsigned long long)m->snapshot);
    if (o->copy && !m->at_limit)
        fprintf(f, "  --copy: nothing was taken; the queue holds every message as before\n");
    else if (o->copy)
        fprintf(f,
                "  --copy: nothing was taken, but %llu at the queue's delivery limit were "
                "dead-lettered or dropped by the broker when given back (they are in the "
                "file)\n",
                (unsigned long long)m->at_limit);
    if (m->skipped)
        fprintf(f, "  %llu not selected by the filters: they stay\n",
                (unsigned long long)m->skipped);
    if (m->left)
        fprintf(f, "  %s: %llu not handled%s\n", limit_reached ? "not archived" : "left",
                (unsigned long long)m->left,
                limit_reached ? " (--limit)" : " (stopped early, or taken by another consumer)");
}

static int run_archive(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct archive_options o;
    struct archive_result res;
    struct replay_out out;
    struct queue_info qi;
    struct dlq_conn c;
    struct rmqt_session *src = NULL;
    struct rmqt_error err;
    uint32_t ready = 0, consumers = 0;
    const char *s;
    char broker[32] = "";
    bool ok, limit_reached, to_stdout;
    FILE *sum;
    int status = EXIT_FAIL, rc;

    if (argc != 1) {
        fprintf(stderr, "rmqtopo: dlq archive takes one queue\n"
                        "Try 'rmqtopo dlq archive --help'.\n");
        return EXIT_USAGE;
    }
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    o.queue = argv[0];
    o.file = opt_last(opts, "file");
    if (!o.file || !o.file[0]) {
        fprintf(stderr, "rmqtopo: dlq archive needs --file F (- for stdout)\n"
                        "Try 'rmqtopo dlq archive --help'.\n");
        return EXIT_USAGE;
    }
    o.copy = opt_flag(opts, "copy");
    o.append = opt_flag(opts, "append");
    if ((s = opt_last(opts, "limit")) && parse_count("limit", s, &o.limit) < 0)
        return EXIT_USAGE;
    if (parse_filter(opts, &o.filter) < 0)
        return EXIT_USAGE;
    to_stdout = strcmp(o.file, "-") == 0;
    if (to_stdout && o.append) {
        fprintf(stderr, "rmqtopo: --append needs a file, not stdout\n");
        return EXIT_USAGE;
    }
    if (to_stdout && !o.copy) {
        struct stat st;
        if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr,
                    "rmqtopo: --file - moves messages only into a file (stdout redirected to "
                    "one): a pipe or a terminal takes lines it may never store, and the moved "
                    "messages would be gone; give --copy, or --file F\n");
            return EXIT_USAGE;
        }
    }
    /* with the archive on stdout, the summary goes to stderr */
    sum = to_stdout ? stderr : stdout;
    if (dlq_connect(cli, opts, &c, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    src = open_session(&c, o.copy ? "rmqtopo dlq archive --copy" : "rmqtopo dlq archive", &err);
    if (!src) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    o.vhost = rmqt_session_vhost(src);
    read_version(&c);
    if (c.has_version)
        snprintf(broker, sizeof(broker), "%d.%d.%d", c.version.major, c.version.minor,
                 c.version.patch);
    o.broker = broker[0] ? broker : NULL;
    read_queue_info(&c, o.vhost, o.queue, &qi);
    if (check_source(src, o.queue, &qi, &ready, &consumers, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    warn_about_source(&c, o.queue, &qi, consumers, "archived");
    o.delivery_limit =
        queue_info_effective_delivery_limit(&qi, c.has_version ? c.version.major : 3);
    memset(&out, 0, sizeof(out));
    out.cli = cli;
    out.tty = isatty(STDERR_FILENO);
    out.t0 = now_s();
    out.verb = o.copy ? "copied" : "archived";
    o.ctx = &out;
    o.progress = replay_progress;
    o.warn = warn_line;
    o.stop = &stop_requested;
    install_signals();
    rc = archive_run(src, &o, &res, &err);
    if (out.tty)
        fprintf(stderr, "\r\033[K");
    limit_reached = o.limit && res.mover.moved >= o.limit;
    ok = rc == 0 && !stop_requested && (res.mover.left == 0 || limit_reached) &&
         res.mover.at_limit == 0;
    warn_at_limit(o.queue, res.mover.at_limit, o.delivery_limit);
    if (cli->output == OUTPUT_JSON) {
        json_t *j = archive_summary_json(&o, &res, ok, rc < 0 ? err.message : NULL);
        json_dumpf(j, sum, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', sum);
        json_decref(j);
    } else if (res.started) {
        print_archive_text(sum, &o, &res, limit_reached);
    }
    if (rc < 0)
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
    else if (stop_requested)
        status = cli_fail(cli, EXIT_FAIL,
                          "stopped by a signal: what was written and synced is %s, the rest "
                          "stays in '%s'",
                          o.copy ? "in the file" : "acknowledged", o.queue);
    else
        status = ok ? EXIT_OK : EXIT_FAIL;
out:
    rmqt_session_close(src);
    dlq_release(&c);
    return status;
}

const struct command cmd_dlq_archive = {
    "dlq archive",
    "QUEUE --file F",
    "move (or copy) messages into an archive file",
    "Writes the messages of the dead-letter queue QUEUE into the archive F (JSON Lines: a\n"
    "header line, then one message a line with every property and header typed, the body in\n"
    "base64 with its size and SHA-256, and a readable death summary) and takes them from the\n"
    "queue. --copy takes nothing: the queue stays exactly as it was. The filters select by\n"
    "the most recent death, as for replay; what they do not select stays, in order on classic\n"
    "queues. A run handles at most the messages QUEUE held when it started.\n"
    "\n"
    "Safety: a message is acknowledged only after its line is written and fsync'd (once per\n"
    "window of 1024, or when the queue pauses); a new file's directory is fsync'd too. A crash\n"
    "loses nothing: at most the messages unacknowledged at that moment (2048) are both in the\n"
    "file and still in the queue. An existing file is never overwritten: --append adds to an "
    "archive of the same\n"
    "vhost and queue (cutting a truncated last line left by a crash first). New files are\n"
    "created with mode 0600.\n"
    "\n"
    "--file - writes the archive to stdout and the summary to stderr. A move needs stdout\n"
    "redirected to a file (synced before each acknowledgement); to a pipe or a terminal only\n"
    "--copy is taken, since nothing there guarantees the lines are stored.\n"
    "\n"
    "Exit status: 0 every selected message was archived (or --limit reached), 1 failure\n"
    "(missing queue, existing file, write error, lost connection, interrupted), 64 usage\n"
    "error.",
    archive_options_spec,
    run_archive,
};

/* --- restore ------------------------------------------------------------------------- */

static const struct optspec restore_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the archive's)"},
    {"to-queue", 0, "Q", "publish to queue Q (default: the queue the archive came from)"},
    {"to-exchange", 0, "X", "publish to exchange X"},
    {"routing-key", 0, "K", "with --to-exchange: this routing key (default: each record's)"},
    {"rate", 0, "MSGS_PER_S", "publish at most this many messages a second"},
    {"skip", 0, "N", "pass over the first N records (to resume a run)"},
    {"dry-run", 0, NULL, "read and check every record, publish nothing"},
    {NULL, 0, NULL, NULL},
};

static json_t *restore_summary_json(const char *file, const char *vhost, const char *exchange,
                                    const char *routing_key, const struct restore_result *r,
                                    bool dry_run, bool ok, const char *error)
{
    json_t *j = json_object(), *t = json_object();

    json_object_set_new(j, "file", json_string(file));
    json_object_set_new(j, "vhost", json_string(vhost));
    json_object_set_new(t, "exchange", json_string(exchange));
    json_object_set_new(t, "routing_key", routing_key ? json_string(routing_key) : json_null());
    json_object_set_new(j, "target", t);
    json_object_set_new(j, "dry_run", json_boolean(dry_run));
    add_count(j, "records", r->records);
    add_count(j, "skipped", r->skipped);
    add_count(j, dry_run ? "would_publish" : "published",
              dry_run ? r->records - r->skipped - r->bad_records : r->published);
    add_count(j, "bad_records", r->bad_records);
    add_count(j, "returned", r->returned);
    add_count(j, "nacked", r->nacked);
    add_count(j, "resume_skip", r->resume_skip);
    add_count(j, "with_cc", r->with_cc);
    json_object_set_new(j, "bad_line",
                        r->bad_line ? json_integer((json_int_t)r->bad_line) : json_null());
    json_object_set_new(j, "truncated_line",
                        r->truncated_line ? json_integer((json_int_t)r->truncated_line)
                                          : json_null());
    json_object_set_new(j, "seconds", json_real(r->seconds));
    json_object_set_new(j, "rate",
                        json_real(r->seconds > 0 ? (double)r->published / r->seconds : 0));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_object_set_new(j, "error", error ? json_string(error) : json_null());
    return j;
}

static int run_restore(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    struct restore_options o;
    struct restore_result res;
    struct archive_reader r;
    struct archive_header h;
    struct replay_out out;
    struct dlq_conn c;
    struct rmqt_session *dst = NULL;
    struct rmqt_error err;
    const char *file, *vhost, *s, *exchange, *rkey;
    bool ok, opened = false;
    int status = EXIT_FAIL, rc;

    memset(&c, 0, sizeof(c));
    if (argc != 1) {
        fprintf(stderr, "rmqtopo: dlq restore takes one archive file\n"
                        "Try 'rmqtopo dlq restore --help'.\n");
        return EXIT_USAGE;
    }
    file = argv[0];
    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    if (opt_last(opts, "to-queue") && opt_last(opts, "to-exchange")) {
        fprintf(stderr, "rmqtopo: give one of --to-queue and --to-exchange\n");
        return EXIT_USAGE;
    }
    if (opt_last(opts, "routing-key") && !opt_last(opts, "to-exchange")) {
        fprintf(stderr, "rmqtopo: --routing-key goes with --to-exchange\n");
        return EXIT_USAGE;
    }
    o.route = RESTORE_HOME;
    if ((o.to_queue = opt_last(opts, "to-queue")) != NULL)
        o.route = RESTORE_QUEUE;
    if ((o.to_exchange = opt_last(opts, "to-exchange")) != NULL) {
        o.route = RESTORE_EXCHANGE;
        o.routing_key = opt_last(opts, "routing-key");
    }
    if ((s = opt_last(opts, "skip")) && strcmp(s, "0") != 0 && parse_count("skip", s, &o.skip) < 0)
        return EXIT_USAGE;
    if (parse_rate(opts, &o.rate) < 0)
        return EXIT_USAGE;
    o.dry_run = opt_flag(opts, "dry-run");
    if (restore_open(file, &r, &h, &err) < 0)
        return cli_fail(cli, EXIT_FAIL, "%s", err.message);
    opened = true;
    vhost = opt_last(opts, "vhost") ? opt_last(opts, "vhost") : h.vhost;
    exchange = o.route == RESTORE_EXCHANGE ? o.to_exchange : "";
    rkey = o.route == RESTORE_EXCHANGE ? o.routing_key
                                       : (o.route == RESTORE_QUEUE ? o.to_queue : h.queue);
    memset(&out, 0, sizeof(out));
    out.cli = cli;
    out.tty = isatty(STDERR_FILENO) && !o.dry_run;
    out.t0 = now_s();
    out.verb = "restored";
    o.ctx = &out;
    o.progress = replay_progress;
    o.warn = warn_line;
    o.stop = &stop_requested;
    if (dlq_connect(cli, opts, &c, &err) < 0) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    c.amqp.cfg.vhost = vhost;
    dst =
        open_session(&c, o.dry_run ? "rmqtopo dlq restore --dry-run" : "rmqtopo dlq restore", &err);
    if (!dst) {
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
        goto out;
    }
    if (h.copy && o.route == RESTORE_HOME) {
        char msg[700];
        snprintf(msg, sizeof(msg),
                 "'%s' was made with --copy: its messages may still be in queue '%s'; restoring "
                 "them there doubles them",
                 file, h.queue);
        warn_line(NULL, msg);
    }
    install_signals();
    rc = restore_run(dst, &r, &h, &o, &res, &err);
    if (out.tty)
        fprintf(stderr, "\r\033[K");
    ok = rc == 0 && !stop_requested && res.returned == 0 && res.nacked == 0;
    if (res.truncated_line) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "%s:%llu: the last line is a piece of a record (a crash while archiving): "
                 "not published; archive does not acknowledge a message before its whole line "
                 "is synced, so that message is still in its queue",
                 file, (unsigned long long)res.truncated_line);
        warn_line(NULL, msg);
    }
    if (res.unterminated_line) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "%s:%llu: the last line lacks its newline but is a whole record: %s", file,
                 (unsigned long long)res.unterminated_line,
                 o.dry_run ? "it would be published" : "published");
        warn_line(NULL, msg);
    }
    if (res.with_cc) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "%llu record(s) carry a CC or BCC header: the broker %s them to the keys "
                 "named there too%s",
                 (unsigned long long)res.with_cc, o.dry_run ? "would route" : "routed",
                 o.route == RESTORE_EXCHANGE ? ""
                                             : " (through the default exchange: the queues "
                                               "of those names)");
        warn_line(NULL, msg);
    }
    if (cli->output == OUTPUT_JSON) {
        json_t *j = restore_summary_json(file, vhost, exchange, rkey, &res, o.dry_run, ok,
                                         rc < 0 ? err.message : NULL);
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    } else if (res.started) {
        char target[700];
        if (o.route == RESTORE_EXCHANGE)
            snprintf(target, sizeof(target), "exchange '%s' (routing key %s%s%s)", exchange,
                     rkey ? "'" : "", rkey ? rkey : "each record's", rkey ? "'" : "");
        else
            snprintf(target, sizeof(target), "queue '%s'", rkey);
        if (o.dry_run)
            printf("dry run: %llu record(s) of '%s' checked, %llu would be published to %s in "
                   "vhost '%s'; nothing was published\n",
                   (unsigned long long)res.records, file,
                   (unsigned long long)(res.records - res.skipped - res.bad_records), target,
                   vhost);
        else
            printf("restored %llu record(s) of '%s' to %s in vhost '%s' in %.1f s (%.0f msg/s)\n",
                   (unsigned long long)res.published, file, target, vhost, res.seconds,
                   res.seconds > 0 ? (double)res.published / res.seconds : 0);
        if (res.skipped)
            printf("  %llu passed over (--skip)\n", (unsigned long long)res.skipped);
        if (res.returned)
            printf("  %llu returned by the broker (no route to the target)\n",
                   (unsigned long long)res.returned);
        if (res.nacked)
            printf("  %llu refused by the broker (basic.nack)\n", (unsigned long long)res.nacked);
        if (!ok && !o.dry_run) {
            printf("  to resume: rmqtopo dlq restore %s --vhost '%s'", file, vhost);
            if (o.route == RESTORE_QUEUE)
                printf(" --to-queue '%s'", o.to_queue);
            if (o.route == RESTORE_EXCHANGE)
                printf(" --to-exchange '%s'", o.to_exchange);
            if (o.routing_key)
                printf(" --routing-key '%s'", o.routing_key);
            if (o.rate > 0)
                printf(" --rate %g", o.rate);
            printf(" --skip %llu\n    (records after the first unpublished one that were "
                   "published too are published again)\n",
                   (unsigned long long)res.resume_skip);
        }
    }
    if (rc < 0)
        status = cli_fail(cli, EXIT_FAIL, "%s", err.message);
    else if (stop_requested)
        status = cli_fail(cli, EXIT_FAIL, "stopped by a signal: %llu record(s) published",
                          (unsigned long long)res.published);
    else
        status = ok ? EXIT_OK : EXIT_FAIL;
out:
    rmqt_session_close(dst);
    dlq_release(&c);
    if (opened) {
        restore_close(&r);
        archive_header_release(&h);
    }
    return status;
}

const struct command cmd_dlq_restore = {
    "dlq restore",
    "F",
    "publish an archive's messages again",
    "Publishes every record of the archive F (- for stdin) again, exactly as archived: body,\n"
    "properties, typed headers, death headers included (the broker's delivery counters were\n"
    "never archived as headers). By default each goes to the queue the archive came from,\n"
    "through the default exchange, in the archive's vhost (--vhost to change it);\n"
    "--to-queue and --to-exchange choose another target, which must exist. To send restored\n"
    "messages home, restore into the dead-letter queue, then run dlq replay.\n"
    "\n"
    "Publishes use confirms and mandatory. A malformed record (bad JSON, a body that does not\n"
    "match its size or SHA-256) is reported with its line and the run stops before\n"
    "publishing it; a returned or refused publish stops it too. The summary says how many\n"
    "records were published in a row from the start: a re-run with --skip that many goes on\n"
    "from there (records published after the first failure are published again). A last\n"
    "line without its newline (a crash while archiving) is reported and not published: its\n"
    "message was never taken from its queue.\n"
    "\n"
    "Exit status: 0 every record was published (--dry-run: every record is sound), 1 failure\n"
    "(malformed record, missing target, return, refusal, lost connection, interrupted), 64\n"
    "usage error.",
    restore_options_spec,
    run_restore,
};
