/*
 * live.c - the broker's topology through the management API (see live.h).
 *
 * Decisions:
 * - GET /api/definitions/{vhost}: one request per vhost, no statistics: the cheapest full
 *   snapshot (broker-facts.md). For a vhost that does not exist the broker answers 400
 *   vhost_not_found (404 on some versions): both mean "create it".
 * - The live side lands in the same model as the file, with every argument raw (field NULL)
 *   and the queue type taken out of x-queue-type (absent = classic on 3.10), so that the diff
 *   compares like with like.
 * - plan reads the broker while the file is still loading (live_prefetch): the definitions
 *   request is server-bound (about a second for 10,000 queues) and the file's parsing and
 *   validation are client-bound, so the two overlap instead of adding up.
 * - Message counts come from /api/queues with disable_stats and enable_queue_totals, which is
 *   current; the statistics-based counts lag 5-10 s. They are read only when asked (a plan
 *   with a replace or delete).
 */
#include "live.h"

#include "access.h"
#include "params.h"

#include "strbuf.h"
#include "strmap.h"
#include "xalloc.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void live_json_to_tval(const json_t *j, struct tval *out)
{
    const char *key;
    json_t *v;
    size_t i;

    memset(out, 0, sizeof(*out));
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        tval_set_map(out);
        json_object_foreach((json_t *)j, key, v) live_json_to_tval(v, tval_append(out, key));
        break;
    case JSON_ARRAY:
        tval_set_list(out);
        json_array_foreach(j, i, v) live_json_to_tval(v, tval_append(out, NULL));
        break;
    case JSON_STRING:
        tval_set_string(out, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        tval_set_int(out, (int64_t)json_integer_value(j));
        break;
    case JSON_REAL:
        out->kind = TV_DOUBLE;
        out->d = json_real_value(j);
        break;
    case JSON_TRUE:
        tval_set_bool(out, true);
        break;
    case JSON_FALSE:
        tval_set_bool(out, false);
        break;
    case JSON_NULL:
        out->kind = TV_NULL;
        break;
    }
}

/* A string member, or NULL; also NULL for one holding a NUL, which a name cannot be here (it
 * would be cut short and could alias another object). */
static const char *jstr(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

static bool jbool(const json_t *obj, const char *key, bool dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static void set_flag(struct tflag *f, bool value)
{
    f->value = value;
    f->set = true;
}

static void load_args(struct targs *args, const json_t *obj)
{
    const char *key;
    json_t *v;

    if (!json_is_object(obj))
        return;
    json_object_foreach((json_t *)obj, key, v)
    {
        struct tval tv;
        struct rmqt_pos none = {0, 0};
        live_json_to_tval(v, &tv);
        targs_add(args, key, &tv, none, NULL);
    }
}

static bool is_builtin_exchange(const char *name)
{
    return name[0] == '\0' || strncmp(name, "amq.", 4) == 0;
}

int live_parse_definitions(struct vhost *vh, const char *json, size_t len, struct rmqt_error *err)
{
    json_error_t jerr;
    /* argument strings may hold a NUL (AMQP allows it; the model keeps lengths) */
    json_t *doc = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    json_t *arr, *o;
    struct strmap skipped;
    size_t i;

    if (!json_is_object(doc)) {
        json_decref(doc);
        return rmqt_error_set(err, RMQT_ERR_PARSE,
                              "the definitions of vhost '%s' are not a JSON object (%s)", vh->name,
                              doc ? "unexpected shape" : jerr.text);
    }
    strmap_init(&skipped);
    arr = json_object_get(doc, "exchanges");
    json_array_foreach(arr, i, o)
    {
        const char *name = jstr(o, "name"), *type = jstr(o, "type");
        struct exchange *x;

        if (!name || is_builtin_exchange(name))
            continue;
        x = vhost_add_exchange(vh, name);
        x->type = xstrdup(type ? type : "");
        set_flag(&x->durable, jbool(o, "durable", true));
        set_flag(&x->auto_delete, jbool(o, "auto_delete", false));
        set_flag(&x->internal, jbool(o, "internal", false));
        load_args(&x->args, json_object_get(o, "arguments"));
    }
    arr = json_object_get(doc, "queues");
    json_array_foreach(arr, i, o)
    {
        const char *name = jstr(o, "name");
        struct queue *q;
        size_t k;

        if (!name)
            continue;
        if (strncmp(name, "amq.", 4) == 0 || jbool(o, "exclusive", false)) {
            /* server-named and exclusive queues are never touched, nor their bindings */
            strmap_put(&skipped, name, strlen(name), 0);
            continue;
        }
        q = vhost_add_queue(vh, name);
        set_flag(&q->durable, jbool(o, "durable", true));
        set_flag(&q->auto_delete, jbool(o, "auto_delete", false));
        load_args(&q->args, json_object_get(o, "arguments"));
        q->type = QT_CLASSIC; /* absent x-queue-type: classic (3.10; 3.13.4+ fills it in) */
        q->type_set = true;
        for (k = 0; k < q->args.n; k++) {
            struct targ *a = &q->args.v[k];
            if (strcmp(a->key, "x-queue-type") != 0)
                continue;
            if (a->val.kind == TV_STRING)
                queue_type_parse(a->val.s, &q->type);
            tval_release(&a->val);
            free(a->key);
            memmove(a, a + 1, (q->args.n - k - 1) * sizeof(*a));
            q->args.n--;
            break;
        }
        q->type_field = "arguments.x-queue-type";
    }
    arr = json_object_get(doc, "bindings");
    json_array_foreach(arr, i, o)
    {
        const char *src = jstr(o, "source"), *dst = jstr(o, "destination");
        const char *dtype = jstr(o, "destination_type"), *rk = jstr(o, "routing_key");
        json_t *args = json_object_get(o, "arguments");
        struct binding *b;

        size_t ignored;

        if (!src || !dst || src[0] == '\0')
            continue; /* the default exchange's implicit bindings are not objects */
        if (!(dtype && strcmp(dtype, "exchange") == 0) &&
            strmap_get(&skipped, dst, strlen(dst), &ignored))
            continue;
        b = vhost_add_binding(vh);
        b->source = xstrdup(src);
        b->destination = xstrdup(dst);
        b->dest_is_exchange = dtype && strcmp(dtype, "exchange") == 0;
        b->routing_key = xstrdup(rk ? rk : "");
        b->index = vh->n_bindings - 1;
        if (json_is_object(args)) {
            tval_release(&b->args);
            live_json_to_tval(args, &b->args);
        }
    }
    arr = json_object_get(doc, "policies");
    json_array_foreach(arr, i, o)
    {
        const char *name = jstr(o, "name"), *pattern = jstr(o, "pattern");
        const char *apply = jstr(o, "apply-to");
        json_t *def = json_object_get(o, "definition"), *prio = json_object_get(o, "priority");
        struct policy *p;

        if (!name)
            continue;
        p = vhost_add_policy(vh, name);
        p->pattern = xstrdup(pattern ? pattern : "");
        free(p->apply_to);
        p->apply_to = xstrdup(apply ? apply : "all");
        p->apply_to_set = true;
        p->priority = json_is_integer(prio) ? (int64_t)json_integer_value(prio) : 0;
        if (json_is_object(def)) {
            tval_release(&p->definition);
            live_json_to_tval(def, &p->definition);
        }
    }
    params_parse_live(vh, doc); /* operator policies, shovels, upstreams (params.h) */
    /* skipped holds pointers into doc: release it first */
    strmap_release(&skipped);
    json_decref(doc);
    vhost_index(vh);
    return 0;
}

void live_parse_vhost_info(struct vhost *vh, const char *json, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    const char *t = NULL;
    json_t *meta;

    if (json_is_object(doc)) {
        t = jstr(doc, "default_queue_type");
        meta = json_object_get(doc, "metadata");
        if (!t && json_is_object(meta))
            t = jstr(meta, "default_queue_type");
        /* 3.10 answers "undefined": no default, i.e. classic */
        if (t && queue_type_parse(t, &vh->default_type))
            vh->has_default_type = true;
    }
    json_decref(doc);
}

static int get(struct rmqt_http *h, const char *path, struct rmqt_http_response *resp,
               struct rmqt_error *err)
{
    rmqt_http_response_init(resp);
    return rmqt_http_request(h, "GET", path, NULL, resp, err);
}

/* Reads one vhost's definitions into a new vhost of live. *missing is set (and 0 returned)
 * when the broker has no such vhost. */
static int read_vhost(struct rmqt_http *h, const char *name, struct topology *live, bool *missing,
                      struct rmqt_error *err)
{
    struct vhost *vh;
    struct rmqt_http_response resp;
    struct strbuf path = {0};
    struct rmqt_error e2;
    int rc = -1;

    *missing = false;
    strbuf_adds(&path, "/api/definitions/");
    rmqt_url_encode(&path, name);
    if (get(h, path.buf, &resp, &e2) < 0) {
        if (e2.code == RMQT_ERR_HTTP && (resp.status == 404 || resp.status == 400) &&
            strstr(resp.body.buf ? resp.body.buf : "", "not_found")) {
            *missing = true; /* the vhost does not exist: planned as a create */
            rc = 0;
        } else {
            *err = e2;
        }
        goto out;
    }
    vh = topology_add_vhost(live, name);
    rc = live_parse_definitions(vh, resp.body.buf ? resp.body.buf : "", resp.body.len, err);
    if (rc == 0) {
        /* from 3.11 a vhost may have a default queue type: queues declared without
         * x-queue-type get it, so the diff must compare an untyped queue with it */
        rmqt_http_response_release(&resp);
        strbuf_reset(&path);
        strbuf_adds(&path, "/api/vhosts/");
        rmqt_url_encode(&path, name);
        if (get(h, path.buf, &resp, &e2) == 0) {
            live_parse_vhost_info(vh, resp.body.buf ? resp.body.buf : "", resp.body.len);
            access_parse_vhost_info(vh, resp.body.buf ? resp.body.buf : "", resp.body.len);
        }
        /* (a reported default type is used by declares on 3.10.8 too: a queue declared
         * without x-queue-type gets it, argument included, seen; only PUT /api/vhosts cannot
         * set it before 3.11, see access_plan_prepare) */
        rc = access_read_vhost(h, vh, err);
    }
out:
    rmqt_http_response_release(&resp);
    strbuf_release(&path);
    return rc;
}

int live_read(struct rmqt_http *h, const struct topology *desired, struct topology *live,
              struct rmqt_broker_info *info, struct rmqt_error *err)
{
    size_t k;
    bool missing;

    if (rmqt_broker_info_read(h, info, err) < 0)
        return -1;
    for (k = 0; k < desired->n_vhosts; k++)
        if (read_vhost(h, desired->vhosts[k].name, live, &missing, err) < 0)
            return -1;
    return 0;
}

struct live_prefetch {
    struct rmqt_http *h;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char **names; /* queued by the loading thread */
    size_t n_names, cap_names, next;
    bool done; /* no more names will come */
    /* the worker's results, read only after the join */
    struct topology fetched;
    char **missing;
    size_t n_missing, cap_missing;
    struct rmqt_broker_info info;
    int rc;
    struct rmqt_error err;
};

static void *prefetch_worker(void *arg)
{
    struct live_prefetch *p = arg;

    p->rc = rmqt_broker_info_read(p->h, &p->info, &p->err);
    while (p->rc == 0) {
        char *name;
        bool missing;

        pthread_mutex_lock(&p->lock);
        while (p->next >= p->n_names && !p->done)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->next >= p->n_names) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        name = xstrdup(p->names[p->next++]);
        pthread_mutex_unlock(&p->lock);
        p->rc = read_vhost(p->h, name, &p->fetched, &missing, &p->err);
        if (p->rc == 0 && missing) {
            XGROW(p->missing, p->cap_missing, p->n_missing + 1);
            p->missing[p->n_missing++] = name;
        } else {
            free(name);
        }
    }
    return NULL;
}

struct live_prefetch *live_prefetch_start(struct rmqt_http *h, struct rmqt_error *err)
{
    struct live_prefetch *p = xcalloc(1, sizeof(*p));
    int rc;

    p->h = h;
    topology_init(&p->fetched);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    if ((rc = pthread_create(&p->thread, NULL, prefetch_worker, p)) != 0) {
        rmqt_error_set(err, RMQT_ERR_IO, "cannot start a thread: %s", strerror(rc));
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        topology_release(&p->fetched);
        free(p);
        return NULL;
    }
    return p;
}

void live_prefetch_add(struct live_prefetch *p, const char *vhost)
{
    size_t k;

    pthread_mutex_lock(&p->lock);
    for (k = 0; k < p->n_names; k++)
        if (strcmp(p->names[k], vhost) == 0)
            break;
    if (k == p->n_names) {
        XGROW(p->names, p->cap_names, p->n_names + 1);
        p->names[p->n_names++] = xstrdup(vhost);
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
}

static struct vhost *take_vhost(struct topology *from, const char *name)
{
    size_t k;

    for (k = 0; k < from->n_vhosts; k++)
        if (from->vhosts[k].name && strcmp(from->vhosts[k].name, name) == 0)
            return &from->vhosts[k];
    return NULL;
}

int live_prefetch_finish(struct live_prefetch *p, const struct topology *desired,
                         struct topology *live, struct rmqt_broker_info *info,
                         struct rmqt_error *err)
{
    size_t k, j;
    int rc;

    pthread_mutex_lock(&p->lock);
    p->done = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    rc = p->rc;
    if (rc < 0)
        *err = p->err;
    else
        *info = p->info;
    for (k = 0; rc == 0 && k < desired->n_vhosts; k++) {
        const char *name = desired->vhosts[k].name;
        struct vhost *vh = take_vhost(&p->fetched, name);
        bool missing = false;

        for (j = 0; j < p->n_missing; j++)
            missing = missing || strcmp(p->missing[j], name) == 0;
        if (vh) {
            /* move it: its arrays and indexes stay where they are */
            XGROW(live->vhosts, live->cap_vhosts, live->n_vhosts + 1);
            live->vhosts[live->n_vhosts++] = *vh;
            memset(vh, 0, sizeof(*vh));
        } else if (!missing) {
            /* not announced while loading (e.g. a name the loader rejected): read it now */
            rc = read_vhost(p->h, name, live, &missing, err);
        }
    }
    for (k = 0; k < p->n_names; k++)
        free(p->names[k]);
    free(p->names);
    for (k = 0; k < p->n_missing; k++)
        free(p->missing[k]);
    free(p->missing);
    topology_release(&p->fetched);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
    return rc;
}

int live_list_vhosts(struct rmqt_http *h, char ***names, size_t *n, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    json_error_t jerr;
    json_t *doc, *o;
    size_t i;

    *names = NULL;
    *n = 0;
    if (get(h, "/api/vhosts?columns=name", &resp, err) < 0) {
        rmqt_http_response_release(&resp);
        return -1;
    }
    doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, &jerr);
    rmqt_http_response_release(&resp);
    if (!json_is_array(doc)) {
        json_decref(doc);
        return rmqt_error_set(err, RMQT_ERR_PARSE, "/api/vhosts is not a JSON list");
    }
    *names = xcalloc(json_array_size(doc) + 1, sizeof(char *));
    json_array_foreach(doc, i, o)
    {
        const char *name = jstr(o, "name");
        if (name)
            (*names)[(*n)++] = xstrdup(name);
    }
    json_decref(doc);
    return 0;
}

int live_read_counts(struct rmqt_http *h, struct vhost *vh, struct rmqt_error *err)
{
    struct rmqt_http_response resp;
    struct strbuf path = {0};
    json_error_t jerr;
    json_t *doc = NULL, *o;
    size_t i;
    int rc = -1;

    strbuf_adds(&path, "/api/queues/");
    rmqt_url_encode(&path, vh->name);
    strbuf_adds(&path, "?disable_stats=true&enable_queue_totals=true&columns=name,messages");
    if (get(h, path.buf, &resp, err) < 0)
        goto out;
    doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, &jerr);
    if (!json_is_array(doc)) {
        rmqt_error_set(err, RMQT_ERR_PARSE, "the queue list of vhost '%s' is not a JSON list",
                       vh->name);
        goto out;
    }
    json_array_foreach(doc, i, o)
    {
        const char *name = jstr(o, "name");
        json_t *m = json_object_get(o, "messages");
        struct queue *q = name ? vhost_find_queue(vh, name) : NULL;
        if (q && json_is_integer(m)) {
            q->messages = (int64_t)json_integer_value(m);
            q->has_messages = true;
        }
    }
    rc = 0;
out:
    json_decref(doc);
    rmqt_http_response_release(&resp);
    strbuf_release(&path);
    return rc;
}
