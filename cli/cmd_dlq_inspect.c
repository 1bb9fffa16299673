/*
 * cmd_dlq_inspect.c - `rmqtopo dlq inspect QUEUE` (cli.md, dlq.md).
 *
 * ops/inspect reads without taking; this file streams what it reads: a message is printed as
 * it arrives and forgotten, so memory stays flat whatever --limit is. The source's checks and
 * warnings and the success rule are ops/'s (source.h, inspect_ok).
 */
#include "dlq.h"

#include "msgdigest.h"
#include "present.h"
#include "inspect.h"
#include "msgjson.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_INSPECT_LIMIT 1000

static const struct optspec inspect_options_spec[] = {
    {"vhost", 0, "V", "the vhost (default: the AMQP URL's, else /)"},
    {"limit", 0, "N", "read at most N messages (default 1000)"},
    {"summary", 0, NULL, "read every message once and print only the groups"},
    {"read-quorum", 0, NULL, "with --summary: read a quorum queue (raises delivery counts)"},
    {NULL, 0, NULL, NULL},
};

struct inspect_out {
    struct cli *cli;
    time_t now;
    bool first;
    amqp_table_entry_t *scratch;
    size_t scratch_cap;
};

static void format_size(char *buf, size_t cap, size_t n)
{
    if (n < 1024)
        snprintf(buf, cap, "%zuB", n);
    else if (n < 1024 * 1024)
        snprintf(buf, cap, "%.1fK", (double)n / 1024);
    else
        snprintf(buf, cap, "%.1fM", (double)n / (1024.0 * 1024));
}

static json_t *keys_json(const struct death *d)
{
    json_t *a = json_array();
    int i;
    if (d->routing_keys)
        for (i = 0; i < d->routing_keys->num_entries; i++) {
            const amqp_field_value_t *k = &d->routing_keys->entries[i];
            if (k->kind == AMQP_FIELD_KIND_UTF8 || k->kind == AMQP_FIELD_KIND_BYTES)
                json_array_append_new(a, dlq_bytes_json(k->value.bytes));
        }
    return a;
}

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
                        dlq_bytes_or_null(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id));
    json_object_set_new(j, "queue", dlq_bytes_or_null(d->present, d->queue));
    json_object_set_new(j, "exchange", dlq_bytes_or_null(d->present, d->exchange));
    json_object_set_new(j, "routing_keys", keys_json(d));
    json_object_set_new(j, "reason", dlq_bytes_or_null(d->present && d->reason.bytes, d->reason));
    json_object_set_new(j, "count", json_integer(d->count));
    if (d->has_time) {
        dlq_format_time(when, sizeof(when), d->time);
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
    preview = dlq_body_preview(m->env->message.body);
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
            rmqt_age_format(age, sizeof(age), difftime(o->now, (time_t)d->time));
        if (d->present)
            snprintf(count, sizeof(count), "%lld", (long long)d->count);
        format_size(size, sizeof(size), m->env->message.body.len);
        dlq_add_bytes_text(&sb, p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG ? p->message_id : none, 24);
        strbuf_addc(&sb, ' ');
        dlq_add_bytes_text(&sb, d->present ? d->queue : none, 20);
        strbuf_addc(&sb, ' ');
        dlq_add_bytes_text(&sb, d->present && d->reason.len ? d->reason : none, 14);
        strbuf_addc(&sb, ' ');
        dlq_add_cell(&sb, count, 5);
        dlq_add_cell(&sb, age, 5);
        dlq_add_bytes_text(&sb, death_first_key(d).len ? death_first_key(d) : none, 20);
        strbuf_addc(&sb, ' ');
        dlq_add_cell(&sb, size, 7);
        preview = dlq_body_preview(m->env->message.body);
        dlq_add_bytes_text(&sb, rmqt_bytes(preview), 40);
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
            dlq_format_time(t, sizeof(t), g->first);
            json_object_set_new(j, "first_death", json_string(t));
            dlq_format_time(t, sizeof(t), g->last);
            json_object_set_new(j, "last_death", json_string(t));
        } else {
            json_object_set_new(j, "first_death", json_null());
            json_object_set_new(j, "last_death", json_null());
        }
        json_array_append_new(a, j);
    }
    return a;
}

static void print_groups_text(const struct inspect_result *r, bool summary)
{
    size_t i;
    char first[40], last[40], count[24];

    printf("%sby queue and reason:\n  %-24s %-14s %8s  %-20s  %s\n", summary ? "" : "\n", "QUEUE",
           "REASON", "MESSAGES", "FIRST DEATH", "LAST DEATH");
    for (i = 0; i < r->n_groups; i++) {
        const struct inspect_group *g = &r->groups[i];
        struct strbuf sb = {0};
        strbuf_adds(&sb, "  ");
        dlq_add_cell(&sb, g->queue ? g->queue : "(no x-death)", 24);
        dlq_add_cell(&sb, g->reason ? g->reason : "-", 14);
        snprintf(count, sizeof(count), "%8llu", (unsigned long long)g->count);
        strbuf_adds(&sb, count);
        strbuf_adds(&sb, "  ");
        snprintf(first, sizeof(first), "-");
        snprintf(last, sizeof(last), "-");
        if (g->has_time) {
            dlq_format_time(first, sizeof(first), g->first);
            dlq_format_time(last, sizeof(last), g->last);
        }
        dlq_add_cell(&sb, first, 20);
        strbuf_addc(&sb, ' ');
        strbuf_adds(&sb, last);
        printf("%s\n", strbuf_str(&sb));
        strbuf_release(&sb);
    }
}

static int run_inspect(struct cli *cli, const struct parsed_opts *opts, int argc, char **argv)
{
    const char *limit_s = opt_last(opts, "limit");
    uint64_t limit = DEFAULT_INSPECT_LIMIT;
    bool summary = opt_flag(opts, "summary");
    struct inspect_out out;
    struct inspect_result res;
    struct dlq_source src;
    struct dlq_conn c;
    struct rmqt_session *s = NULL;
    struct rmqt_error err;
    const char *queue, *vhost;
    char *warning;
    int status = EXIT_FAIL;

    (void)argc;
    if (limit_s && dlq_parse_count("limit", limit_s, &limit) < 0)
        return EXIT_USAGE;
    if (summary && limit_s) {
        fprintf(stderr, "rmqtopo: --summary reads every message: it takes no --limit\n");
        return EXIT_USAGE;
    }
    if (opt_flag(opts, "read-quorum") && !summary) {
        fprintf(stderr, "rmqtopo: --read-quorum goes with --summary\n");
        return EXIT_USAGE;
    }
    if (summary)
        limit = 0; /* every message of the snapshot, none kept */
    queue = argv[0];
    memset(&res, 0, sizeof(res));
    memset(&out, 0, sizeof(out));
    if (dlq_prepare(cli, opts, &c, "rmqtopo dlq inspect", queue, "shown", &s, &src) < 0)
        goto out;
    vhost = rmqt_session_vhost(s);
    if (summary) {
        const char *why = inspect_summary_refusal(&src, opt_flag(opts, "read-quorum"));
        if (why) {
            status = cli_fail(cli, EXIT_FAIL,
                              "queue '%s' is not read for a summary: %s; nothing was read. Give "
                              "--read-quorum to read its %u message(s) anyway, or dlq inspect "
                              "--limit N for a bounded read",
                              queue, why, src.ready);
            goto out;
        }
    }
    cli_install_signals();
    out.cli = cli;
    out.now = time(NULL);
    out.first = true;
    if (summary) {
        /* the groups are all there is: printed at the end, after the broker line */
        if (cli->output != OUTPUT_JSON)
            dlq_print_broker(stdout, &c, &src);
    } else if (cli->output == OUTPUT_JSON) {
        json_t *v = json_string(vhost), *q = json_string(queue);
        json_t *b = dlq_broker_json(&c, &src);
        char *vs = json_dumps(v, JSON_ENCODE_ANY), *qs = json_dumps(q, JSON_ENCODE_ANY),
             *bs = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("{\n  \"broker\": %s,\n  \"vhost\": %s,\n  \"queue\": %s,\n  \"messages\": [", bs,
               vs, qs);
        free(vs);
        free(qs);
        free(bs);
        json_decref(b);
        json_decref(v);
        json_decref(q);
    } else {
        dlq_print_broker(stdout, &c, &src);
        printf("%-24s %-20s %-14s %-5s %-5s %-20s %-7s %s\n", "MESSAGE ID", "QUEUE", "REASON",
               "COUNT", "AGE", "ROUTING KEY", "SIZE", "PREVIEW");
    }
    if (inspect_run(s, queue, limit, src.delivery_limit, summary ? NULL : inspect_each, &out,
                    &cli_stop_requested, &res, &err) < 0) {
        if (summary && cli->output == OUTPUT_JSON) {
            json_t *j = json_pack("{s:o, s:s, s:s, s:b, s:[], s:s}", "broker",
                                  dlq_broker_json(&c, &src), "vhost", vhost, "queue", queue,
                                  "summary", 1, "groups", "error", err.message);
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(j);
        } else if (cli->output == OUTPUT_JSON) {
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
    if (summary && cli->output == OUTPUT_JSON) {
        json_t *j = json_object();
        json_object_set_new(j, "broker", dlq_broker_json(&c, &src));
        json_object_set_new(j, "vhost", json_string(vhost));
        json_object_set_new(j, "queue", json_string(queue));
        json_object_set_new(j, "summary", json_true());
        dlq_add_count(j, "read", res.st.read);
        dlq_add_count(j, "snapshot", res.st.snapshot);
        json_object_set_new(j, "groups", groups_json(&res));
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    } else if (summary) {
        if (res.st.read == 0)
            printf("(queue '%s' holds no ready messages)\n", queue);
        else
            print_groups_text(&res, true);
        printf("\n%llu of %llu ready message(s) read, every one counted; nothing was taken\n",
               (unsigned long long)res.st.read, (unsigned long long)res.st.snapshot);
    } else if (cli->output == OUTPUT_JSON) {
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
            print_groups_text(&res, false);
        printf("\n%llu of %llu ready message(s) shown%s; nothing was taken\n",
               (unsigned long long)res.st.read, (unsigned long long)res.st.snapshot,
               res.st.read < res.st.snapshot && res.st.read == limit ? " (--limit)" : "");
    }
    if ((warning = inspect_delivery_count_warning(&res, src.delivery_limit)) != NULL)
        cli_warnf("%s", warning);
    free(warning);
    dlq_warn_at_limit(queue, res.at_limit, src.delivery_limit);
    status = inspect_ok(&res, cli_stop_requested) ? EXIT_OK : EXIT_FAIL;
out:
    inspect_result_release(&res);
    free(out.scratch);
    rmqt_session_close(s);
    dlq_source_release(&src);
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
    "--summary reads every message of the queue once (as many as it held when the read\n"
    "began), keeps only a count per group (memory does not grow with the queue) and prints\n"
    "only the group table; -o json: {vhost, queue, summary: true, read, snapshot, groups}.\n"
    "Like dlq status it does not read a quorum queue (each read raises x-delivery-count\n"
    "towards the delivery limit) unless --read-quorum is given.\n"
    "\n"
    "On a quorum queue every read raises each message's delivery count: the command warns,\n"
    "and shows the highest count against the queue's delivery limit.\n"
    "\n"
    "Exit status: 0 shown, 1 failure (no such queue, lost connection), 64 usage error.",
    inspect_options_spec,
    run_inspect,
    "dlq",
    1,
    1,
    "takes one queue",
    NEEDS_HTTP | NEEDS_AMQP,
};
