/*
 * plan_output.c - a plan for people (text) and for scripts (JSON), as cli.md specifies:
 * one line per change (+ create, ~ update, -/+ replace, - delete, ? unmanaged), the old and
 * new value of every differing field, the messages a replace or delete would affect, and the
 * closing count line. Shared by plan and apply.
 */
#include "plan_output.h"

#include "strbuf.h"
#include "textutil.h"

#include <string.h>

#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RED "\033[31m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

static const char *symbol(enum change_action a)
{
    switch (a) {
    case CH_CREATE:
        return "+";
    case CH_UPDATE:
        return "~";
    case CH_REPLACE:
        return "-/+";
    case CH_DELETE:
        return "-";
    case CH_UNMANAGED:
        return "?";
    }
    return "?";
}

static const char *colour(enum change_action a)
{
    switch (a) {
    case CH_CREATE:
        return C_GREEN;
    case CH_UPDATE:
        return C_YELLOW;
    case CH_REPLACE:
    case CH_DELETE:
        return C_RED;
    case CH_UNMANAGED:
        return C_DIM;
    }
    return "";
}

/* A value as the text plan shows it: JSON, compact, safe for a terminal. */
static void add_value(struct strbuf *sb, const struct tval *v, bool present)
{
    json_t *j;
    char *s;

    if (!present) {
        strbuf_adds(sb, "(none)");
        return;
    }
    j = tval_to_json(v);
    s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (s) {
        rmqt_sanitize_add(sb, s, strlen(s));
        free(s);
    }
    json_decref(j);
}

static void add_name(struct strbuf *sb, const char *name)
{
    strbuf_addc(sb, '\'');
    rmqt_quote_add(sb, name, strlen(name), 300);
    strbuf_addc(sb, '\'');
}

/* The `retry` key that generated the change's object (retry ladders), or NULL. */
static const char *change_origin(const struct change *c)
{
    if (c->want_exchange && c->want_exchange->origin)
        return c->want_exchange->origin;
    if (c->want_queue && c->want_queue->origin)
        return c->want_queue->origin;
    if (c->want_binding && c->want_binding->origin)
        return c->want_binding->origin;
    return NULL;
}

void plan_describe_change(struct strbuf *sb, const struct change *c)
{
    const char *origin = change_origin(c);

    strbuf_addf(sb, "%s ", change_kind_name(c->kind));
    if (c->kind == CK_BINDING) {
        add_name(sb, c->source);
        strbuf_addf(sb, " -> %s ", c->dest_is_exchange ? "exchange" : "queue");
        add_name(sb, c->destination);
        strbuf_adds(sb, " routing key ");
        add_name(sb, c->routing_key);
        if (c->args.n) {
            strbuf_adds(sb, " arguments ");
            add_value(sb, &c->args, true);
        }
    } else {
        add_name(sb, c->name);
        if (c->kind == CK_EXCHANGE && c->action == CH_CREATE && c->want_exchange &&
            c->want_exchange->type)
            strbuf_addf(sb, " (%s)", c->want_exchange->type);
        if (c->kind == CK_QUEUE && c->action == CH_CREATE && c->want_queue)
            strbuf_addf(sb, " (%s)", queue_type_name(c->want_queue->type));
    }
    if (origin) {
        strbuf_adds(sb, " [from ");
        rmqt_quote_add(sb, origin, strlen(origin), 300);
        strbuf_adds(sb, "]");
    }
}

const char *plan_symbol(enum change_action a)
{
    return symbol(a);
}

void plan_print_text(FILE *f, const struct plan *p, bool color)
{
    struct strbuf sb = {0};
    const char *vhost = NULL;
    size_t k, j;

    for (k = 0; k < p->n; k++) {
        const struct change *c = &p->v[k];

        if (!vhost || strcmp(vhost, c->vhost) != 0) {
            vhost = c->vhost;
            if (c->kind == CK_USER) { /* users are cluster-wide */
                strbuf_addf(&sb, "%susers%s\n", color ? C_BOLD : "", color ? C_RESET : "");
            } else {
                strbuf_addf(&sb, "%svhost ", color ? C_BOLD : "");
                add_name(&sb, vhost);
                strbuf_addf(&sb, "%s\n", color ? C_RESET : "");
            }
        }
        strbuf_addf(&sb, "  %s%-3s%s ", color ? colour(c->action) : "", symbol(c->action),
                    color ? C_RESET : "");
        plan_describe_change(&sb, c);
        if (c->has_messages) {
            if (c->action == CH_REPLACE)
                strbuf_addf(&sb, " (%lld %s to migrate)", (long long)c->messages,
                            c->messages == 1 ? "message" : "messages");
            else if (c->action == CH_DELETE)
                strbuf_addf(&sb, " (%lld %s would be discarded)", (long long)c->messages,
                            c->messages == 1 ? "message" : "messages");
            else
                strbuf_addf(&sb, " (%lld %s)", (long long)c->messages,
                            c->messages == 1 ? "message" : "messages");
        }
        if (c->action == CH_UNMANAGED)
            strbuf_adds(&sb, " (not in the file)");
        strbuf_addc(&sb, '\n');
        for (j = 0; j < c->n_fields; j++) {
            const struct change_field *fl = &c->fields[j];
            if (c->action == CH_CREATE && strcmp(fl->field, "type") == 0)
                continue; /* shown on the change's own line */
            if (c->kind == CK_USER && strcmp(fl->field, "password") == 0) {
                /* never a password or a hash: only that it changes */
                strbuf_adds(&sb, "        password: ");
                strbuf_adds(&sb, fl->has_new ? fl->new_value.s : "changed");
                strbuf_addc(&sb, '\n');
                continue;
            }
            strbuf_adds(&sb, "        ");
            rmqt_sanitize_add(&sb, fl->field, strlen(fl->field));
            strbuf_adds(&sb, ": ");
            add_value(&sb, &fl->old_value, fl->has_old);
            strbuf_adds(&sb, " -> ");
            add_value(&sb, &fl->new_value, fl->has_new);
            strbuf_addc(&sb, '\n');
        }
        if (c->note) {
            strbuf_adds(&sb, "        note: ");
            rmqt_sanitize_add(&sb, c->note, strlen(c->note));
            strbuf_addc(&sb, '\n');
        }
    }
    if (p->n)
        strbuf_addc(&sb, '\n');
    strbuf_addf(&sb,
                "Plan: %zu to create, %zu to update, %zu to replace, %zu to delete (%zu "
                "unmanaged).\n",
                p->count[CH_CREATE], p->count[CH_UPDATE], p->count[CH_REPLACE], p->count[CH_DELETE],
                p->count[CH_UNMANAGED]);
    fwrite(sb.buf, 1, sb.len, f);
    strbuf_release(&sb);
}

/* --- Markdown ------------------------------------------------------------------------------ */

/* Appends s made safe for a Markdown table cell: terminal-unsafe bytes escaped first, then
 * what Markdown or HTML would read as markup ('|' ends a cell, '<' starts a tag). */
static void md_add(struct strbuf *sb, const char *s, size_t len)
{
    struct strbuf safe = {0};
    size_t k;

    rmqt_sanitize_add(&safe, s, len);
    for (k = 0; k < safe.len; k++) {
        char ch = safe.buf[k];
        switch (ch) {
        case '<':
            strbuf_adds(sb, "&lt;");
            break;
        case '>':
            strbuf_adds(sb, "&gt;");
            break;
        case '&':
            strbuf_adds(sb, "&amp;");
            break;
        case '|':
        case '\\':
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '#':
        case '~':
            strbuf_addc(sb, '\\');
            strbuf_addc(sb, ch);
            break;
        default:
            strbuf_addc(sb, ch);
        }
    }
    strbuf_release(&safe);
}

static void md_adds(struct strbuf *sb, const char *s)
{
    md_add(sb, s, strlen(s));
}

static void md_summary(struct strbuf *sb, const struct plan *p)
{
    strbuf_addf(sb, "%zu to create, %zu to update, %zu to replace, %zu to delete (%zu unmanaged)",
                p->count[CH_CREATE], p->count[CH_UPDATE], p->count[CH_REPLACE], p->count[CH_DELETE],
                p->count[CH_UNMANAGED]);
}

static void md_broker(struct strbuf *sb, const char *broker_line)
{
    if (!broker_line)
        return;
    strbuf_adds(sb, "\n");
    md_adds(sb, broker_line);
    strbuf_adds(sb, "\n");
}

/* The details cell of a change: its fields, messages and note, separated by <br>. */
static void md_details(struct strbuf *sb, const struct change *c)
{
    struct strbuf t = {0};
    bool first = true;
    size_t j;

    for (j = 0; j < c->n_fields; j++) {
        const struct change_field *fl = &c->fields[j];
        if (c->action == CH_CREATE && strcmp(fl->field, "type") == 0)
            continue; /* in the object's description */
        strbuf_reset(&t);
        strbuf_adds(&t, fl->field);
        strbuf_adds(&t, ": ");
        add_value(&t, &fl->old_value, fl->has_old);
        strbuf_adds(&t, " -> ");
        add_value(&t, &fl->new_value, fl->has_new);
        if (!first)
            strbuf_adds(sb, "<br>");
        md_add(sb, t.buf, t.len);
        first = false;
    }
    if (c->has_messages) {
        strbuf_reset(&t);
        strbuf_addf(&t, "%lld %s%s", (long long)c->messages,
                    c->messages == 1 ? "message" : "messages",
                    c->action == CH_REPLACE  ? " to migrate"
                    : c->action == CH_DELETE ? " would be discarded"
                                             : "");
        if (!first)
            strbuf_adds(sb, "<br>");
        md_add(sb, t.buf, t.len);
        first = false;
    }
    if (c->action == CH_UNMANAGED) {
        if (!first)
            strbuf_adds(sb, "<br>");
        strbuf_adds(sb, "not in the file");
        first = false;
    }
    if (c->note) {
        if (!first)
            strbuf_adds(sb, "<br>");
        strbuf_adds(sb, "note: ");
        md_adds(sb, c->note);
    }
    strbuf_release(&t);
}

void plan_print_markdown(FILE *f, const struct plan *p, const char *broker_line)
{
    struct strbuf sb = {0}, t = {0};
    size_t k, changes = plan_change_count(p);

    strbuf_adds(&sb, "### rmqtopo plan: ");
    if (changes == 0 && p->n == 0)
        strbuf_adds(&sb, "no changes\n");
    else if (changes == 0)
        strbuf_addf(&sb, "no changes (%zu unmanaged)\n", p->count[CH_UNMANAGED]);
    else {
        md_summary(&sb, p);
        strbuf_adds(&sb, "\n");
    }
    md_broker(&sb, broker_line);
    if (p->n) {
        strbuf_addf(&sb,
                    "\n<details><summary>%zu %s%s</summary>\n\n"
                    "| | action | vhost | object | details |\n"
                    "| --- | --- | --- | --- | --- |\n",
                    p->n, p->n == 1 ? "row" : "rows",
                    p->count[CH_UNMANAGED] ? " (unmanaged objects included)" : "");
        for (k = 0; k < p->n; k++) {
            const struct change *c = &p->v[k];
            strbuf_adds(&sb, "| ");
            md_adds(&sb, symbol(c->action));
            strbuf_adds(&sb, " | ");
            md_adds(&sb, change_action_name(c->action));
            strbuf_adds(&sb, " | ");
            md_adds(&sb, c->vhost);
            strbuf_adds(&sb, " | ");
            strbuf_reset(&t);
            plan_describe_change(&t, c);
            md_add(&sb, t.buf, t.len);
            strbuf_adds(&sb, " | ");
            md_details(&sb, c);
            strbuf_adds(&sb, " |\n");
        }
        strbuf_adds(&sb, "\n</details>\n");
    }
    fwrite(sb.buf, 1, sb.len, f);
    strbuf_release(&sb);
    strbuf_release(&t);
}

void plan_print_markdown_failure(FILE *f, const char *reason, const char *broker_line)
{
    struct strbuf sb = {0};

    strbuf_adds(&sb, "### rmqtopo plan failed\n");
    md_broker(&sb, broker_line);
    strbuf_adds(&sb, "\n");
    md_adds(&sb, reason);
    strbuf_adds(&sb, "\n");
    fwrite(sb.buf, 1, sb.len, f);
    strbuf_release(&sb);
}

json_t *change_to_json(const struct change *c)
{
    json_t *o = json_object();
    size_t j;

    json_object_set_new(o, "action", json_string(change_action_name(c->action)));
    json_object_set_new(o, "kind", json_string(change_kind_name(c->kind)));
    if (c->kind != CK_USER) /* users are cluster-wide */
        json_object_set_new(o, "vhost", json_string(c->vhost));
    if (c->kind == CK_BINDING) {
        json_object_set_new(o, "source", json_string(c->source));
        json_object_set_new(o, "destination", json_string(c->destination));
        json_object_set_new(o, "destination_type",
                            json_string(c->dest_is_exchange ? "exchange" : "queue"));
        json_object_set_new(o, "routing_key", json_string(c->routing_key));
        json_object_set_new(o, "arguments", tval_to_json(&c->args));
    } else {
        json_object_set_new(o, "name", json_string(c->name));
    }
    if (change_origin(c))
        json_object_set_new(o, "origin", json_string(change_origin(c)));
    if (c->action == CH_UPDATE || c->action == CH_REPLACE ||
        (c->action == CH_CREATE && c->n_fields)) {
        json_t *fields = json_array();
        for (j = 0; j < c->n_fields; j++) {
            const struct change_field *fl = &c->fields[j];
            json_array_append_new(
                fields, json_pack("{s:s, s:o, s:o}", "field", fl->field, "old",
                                  fl->has_old ? tval_to_json(&fl->old_value) : json_null(), "new",
                                  fl->has_new ? tval_to_json(&fl->new_value) : json_null()));
        }
        json_object_set_new(o, "fields", fields);
    }
    if (c->has_messages)
        json_object_set_new(o, "messages", json_integer((json_int_t)c->messages));
    if (c->note)
        json_object_set_new(o, "note", json_string(c->note));
    return o;
}

json_t *plan_to_json(const struct plan *p)
{
    json_t *doc = json_object(), *changes = json_array();
    size_t k;

    for (k = 0; k < p->n; k++) {
        json_t *o = change_to_json(&p->v[k]);
        json_array_append_new(changes, o);
    }
    json_object_set_new(doc, "changes", changes);
    json_object_set_new(
        doc, "summary",
        json_pack("{s:I, s:I, s:I, s:I, s:I}", "create", (json_int_t)p->count[CH_CREATE], "update",
                  (json_int_t)p->count[CH_UPDATE], "replace", (json_int_t)p->count[CH_REPLACE],
                  "delete", (json_int_t)p->count[CH_DELETE], "unmanaged",
                  (json_int_t)p->count[CH_UNMANAGED]));
    return doc;
}
