/*
 * cmd_dlq_common.c - what the dlq commands share on the command line: option parsing,
 * formatting of messages for text and JSON, the progress line, and the connection with the
 * source's checks (which are ops/source.c's: this file only prints what they found).
 */
#include "dlq.h"

#include "strbuf.h"
#include "textutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREVIEW_BYTES 64

static const char *const reasons[] = {"rejected", "expired", "maxlen", "delivery_limit", NULL};

/* --- options ---------------------------------------------------------------------------- */

int dlq_parse_count(const char *opt, const char *s, uint64_t *out)
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

int dlq_parse_rate(const struct parsed_opts *opts, double *rate)
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

int dlq_parse_filter(const struct parsed_opts *opts, struct replay_filter *f)
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

/* --- formatting ------------------------------------------------------------------------- */

void dlq_format_time(char *buf, size_t cap, uint64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t > (uint64_t)253402300799ULL || !gmtime_r(&tt, &tm)) {
        snprintf(buf, cap, "%llu", (unsigned long long)t);
        return;
    }
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Text up to PREVIEW_BYTES (cut at a character boundary, "..." when cut), or
 * "<binary, N bytes: hex...>". */
char *dlq_body_preview(amqp_bytes_t body)
{
    const unsigned char *b = body.bytes;
    size_t n = body.len < PREVIEW_BYTES ? body.len : PREVIEW_BYTES, k;
    struct strbuf sb = {0};

    while (n > 0 && n < body.len && (b[n] & 0xc0) == 0x80)
        n--; /* do not cut a character */
    if (rmqt_is_text(b, n)) {
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

/* Invalid UTF-8 bytes become U+FFFD (they are shown, not round-tripped; the typed headers and
 * properties keep the exact bytes). */
json_t *dlq_bytes_json(amqp_bytes_t b)
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

json_t *dlq_bytes_or_null(bool present, amqp_bytes_t b)
{
    return present ? dlq_bytes_json(b) : json_null();
}

void dlq_add_bytes_text(struct strbuf *sb, amqp_bytes_t b, size_t width)
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

void dlq_add_cell(struct strbuf *sb, const char *s, size_t width)
{
    dlq_add_bytes_text(sb, rmqt_bytes(s), width);
    strbuf_addc(sb, ' ');
}

void dlq_add_count(json_t *j, const char *k, uint64_t v)
{
    json_object_set_new(j, k, json_integer((json_int_t)v));
}

void dlq_progress_start(struct dlq_progress *p, bool tty, const char *verb)
{
    p->tty = tty;
    p->t0 = rmqt_now_s();
    p->verb = verb;
}

void dlq_progress_cb(void *ctx, const struct rmqt_mover_stats *st)
{
    struct dlq_progress *o = ctx;
    uint64_t done = st->moved + st->parked + st->skipped + st->returned + st->nacked;
    double secs = rmqt_now_s() - o->t0,
           rate = secs > 0 ? (double)(st->moved + st->parked) / secs : 0;
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

void dlq_progress_end(const struct dlq_progress *p)
{
    if (p->tty)
        fprintf(stderr, "\r\033[K");
}

/* --- the connection and the source -------------------------------------------------------- */

int dlq_connect(struct cli *cli, const struct parsed_opts *opts, struct dlq_conn *c)
{
    struct rmqt_error err;

    memset(c, 0, sizeof(*c));
    if (cli_amqp_setup(cli, &c->amqp, &err) < 0)
        return cli_fail(cli, -1, "%s", err.message);
    c->amqp.cfg.vhost = opt_last(opts, "vhost");
    c->http = cli_http_client(cli, &err);
    return c->http ? 0 : cli_fail(cli, -1, "%s", err.message);
}

struct rmqt_session *dlq_open_session(struct cli *cli, struct dlq_conn *c, const char *name)
{
    struct rmqt_error err;
    struct rmqt_session *s;

    c->amqp.cfg.name = name;
    s = rmqt_session_open(&c->amqp.cfg, &err);
    if (!s)
        cli_fail(cli, EXIT_FAIL, "%s", err.message);
    return s;
}

void dlq_release(struct dlq_conn *c)
{
    rmqt_http_free(c->http);
    cli_amqp_release(&c->amqp);
}

int dlq_prepare(struct cli *cli, const struct parsed_opts *opts, struct dlq_conn *c,
                const char *name, const char *queue, const char *doing, struct rmqt_session **s,
                struct dlq_source *src)
{
    struct rmqt_error err;
    size_t k;
    int rc;

    memset(src, 0, sizeof(*src));
    *s = NULL;
    if (dlq_connect(cli, opts, c) < 0)
        return -1;
    *s = dlq_open_session(cli, c, name);
    if (!*s)
        return -1;
    rc = dlq_source_open(src, c->http, *s, queue, doing, &err);
    for (k = 0; k < src->warnings.n; k++)
        cli_warnf("%s", src->warnings.v[k]);
    if (rc == 0 && strcmp(doing, "shown") == 0)
        dlq_warn_read(src, UINT64_MAX);
    if (rc < 0)
        return cli_fail(cli, -1, "%s", err.message);
    return 0;
}

/* The broker's version: the source's when it read it, else read once now. NULL: unknown. */
static const struct rmqt_broker_info *broker_of(struct dlq_conn *c, const struct dlq_source *src)
{
    struct rmqt_error err;

    if (src)
        return src->has_broker ? &src->broker : NULL;
    if (c->broker_read == 0 && c->http)
        c->broker_read = rmqt_broker_info_read(c->http, &c->broker, &err) == 0 ? 1 : -1;
    return c->broker_read == 1 ? &c->broker : NULL;
}

void dlq_print_broker(FILE *f, struct dlq_conn *c, const struct dlq_source *src)
{
    cli_print_broker(f, c->http, broker_of(c, src));
}

json_t *dlq_broker_json(struct dlq_conn *c, const struct dlq_source *src)
{
    return cli_broker_json(c->http, broker_of(c, src));
}

void dlq_warn_read(const struct dlq_source *src, uint64_t left)
{
    char *w = dlq_read_warning(src, left);
    if (w)
        cli_warnf("%s", w);
    free(w);
}

void dlq_warn_at_limit(const char *queue, uint64_t n, long limit)
{
    char *msg = dlq_at_limit_warning(queue, n, limit);
    if (msg)
        cli_warnf("%s", msg);
    free(msg);
}

void dlq_refused_cb(void *ctx, const struct rmqt_refusal *r)
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
    cli_warnf("%s", strbuf_str(&sb));
    strbuf_release(&sb);
}
