/*
 * watch.c - the queues dlq status, dlq check and alerts watch (watch.h).
 */
#include "watch.h"

#include "load.h"
#include "monitor.h"
#include "strbuf.h"
#include "validate.h"
#include "watchlist.h"

#include <jansson.h>
#include <string.h>

int cli_watchlist_from_file(struct cli *cli, const struct parsed_opts *opts, const char *file,
                            bool show_warnings, struct rmqt_watchlist *wl)
{
    struct topology t;
    struct diag_list dl;
    const struct optvalues *vh = opt_get(opts, "vhost");
    size_t k;
    int rc = -1;

    topology_init(&t);
    diag_list_init(&dl);
    if (topology_load_file(&t, file, NULL, &dl) == 0)
        topology_validate(&t, NULL, &dl);
    diag_list_sort(&dl);
    for (k = 0; k < dl.n; k++)
        if (dl.v[k].severity == DIAG_ERROR || show_warnings)
            print_diag_text(stderr, &dl.v[k], cli->color_err);
    if (dl.errors == 0) {
        topology_watchlist(&t, wl);
        if (vh)
            rmqt_watchlist_filter_vhosts(wl, vh->v, vh->n);
        rc = 0;
    } else {
        fprintf(stderr, "rmqtopo: %s: invalid (%zu error%s)\n", t.file, dl.errors,
                dl.errors == 1 ? "" : "s");
    }
    diag_list_release(&dl);
    topology_release(&t);
    return rc;
}

int cli_watchlist_from_broker(const struct parsed_opts *opts, struct rmqt_http *http,
                              struct rmqt_watchlist *wl, struct rmqt_error *err)
{
    const struct optvalues *vh = opt_get(opts, "vhost");
    struct rmqt_http_response resp;
    json_t *doc = NULL, *v;
    size_t k;
    int rc = -1;

    if (vh && vh->n) {
        for (k = 0; k < vh->n; k++)
            if (dlq_discover(http, vh->v[k], wl, err) < 0)
                return -1;
        return 0;
    }
    rmqt_http_response_init(&resp);
    if (rmqt_http_request(http, "GET", "/api/vhosts?columns=name", NULL, &resp, err) < 0)
        goto out;
    doc = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL);
    if (!json_is_array(doc)) {
        rmqt_error_set(err, RMQT_ERR_HTTP, "GET /api/vhosts: the management API sent no list");
        goto out;
    }
    json_array_foreach(doc, k, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (name && dlq_discover(http, name, wl, err) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(doc);
    rmqt_http_response_release(&resp);
    return rc;
}
