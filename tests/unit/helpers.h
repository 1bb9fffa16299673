/*
 * helpers.h - shared helpers of the unit tests: loading YAML from a string with a private
 * environment, and finding diagnostics by severity, path and message.
 *
 * Every helper is static inline so that each test executable takes only what it uses.
 * Assertion helpers take the caller's file and line (through the macros below) so that a
 * failure points at the test, and they print the whole diagnostic list when they fail.
 */
#ifndef RMQT_TEST_HELPERS_H
#define RMQT_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "load.h"
#include "model.h"
#include "validate.h"

/* A private environment: a NULL-terminated array of name, value pairs (value NULL = unset).
 * Tests never read or change the process environment. */
static inline const char *test_env(const char *name, void *ctx)
{
    const char *const *p = ctx;

    for (; p && p[0]; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

/* A loaded (and maybe validated) topology with its diagnostics. */
struct fx {
    struct topology t;
    struct diag_list dl;
    int load_rc;
};

static inline void fx_load_env(struct fx *f, const char *yaml, const char *const *env)
{
    struct load_options opts;

    memset(&opts, 0, sizeof(opts));
    opts.env = test_env;
    opts.env_ctx = (void *)env;
    topology_init(&f->t);
    diag_list_init(&f->dl);
    f->load_rc = topology_load_buffer(&f->t, "t.yaml", yaml, strlen(yaml), &opts, &f->dl);
}

static inline void fx_load(struct fx *f, const char *yaml)
{
    fx_load_env(f, yaml, NULL);
}

/* Loads, then validates with opts (NULL: no broker). */
/* Drops the monitoring advice "dead-letter queue ... has no alert thresholds" (issue 15) from
 * dl: the rules tested with fx_check count everything else; test_monitor.c tests the advice. */
static inline void fx_drop_alert_advice(struct diag_list *dl)
{
    size_t k, out = 0;

    for (k = 0; k < dl->n; k++) {
        struct diag *d = &dl->v[k];
        if (d->severity == DIAG_WARNING && strstr(d->message, "has no alert thresholds")) {
            free(d->file);
            free(d->path);
            free(d->message);
            dl->warnings--;
            continue;
        }
        dl->v[out++] = *d;
    }
    dl->n = out;
}

static inline void fx_check_with(struct fx *f, const char *yaml, const struct validate_options *o)
{
    fx_load(f, yaml);
    topology_validate(&f->t, o, &f->dl);
    fx_drop_alert_advice(&f->dl);
}

static inline void fx_check(struct fx *f, const char *yaml)
{
    fx_check_with(f, yaml, NULL);
}

static inline void fx_release(struct fx *f)
{
    topology_release(&f->t);
    diag_list_release(&f->dl);
}

/* Per-test fixture: a struct fx in cmocka's state, released in teardown even when the test
 * fails (a failed assertion jumps out of the test, past its own clean-up). */
static inline int fx_setup(void **state)
{
    struct fx *f = test_calloc(1, sizeof(*f));

    if (!f)
        return -1;
    topology_init(&f->t);
    diag_list_init(&f->dl);
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    fx_release(*state);
    test_free(*state);
    return 0;
}

#define FX_TEST(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

static inline const char *sev_name(enum diag_severity s)
{
    return s == DIAG_ERROR ? "error" : "warning";
}

static inline void dump_diags(const struct diag_list *dl)
{
    size_t k;

    print_message("diagnostics (%zu errors, %zu warnings):\n", dl->errors, dl->warnings);
    for (k = 0; k < dl->n; k++)
        print_message("  %s:%d:%d: %s: [%s] %s\n", dl->v[k].file, dl->v[k].pos.line,
                      dl->v[k].pos.col, sev_name(dl->v[k].severity), dl->v[k].path,
                      dl->v[k].message);
}

static inline bool diag_is(const struct diag *d, enum diag_severity sev, const char *path,
                           const char *substr)
{
    return d->severity == sev && (!path || strcmp(d->path, path) == 0) &&
           (!substr || strstr(d->message, substr) != NULL);
}

/* The first diagnostic of severity sev with this path (NULL: any) whose message contains
 * substr (NULL: any), or NULL. */
static inline const struct diag *find_diag(const struct diag_list *dl, enum diag_severity sev,
                                           const char *path, const char *substr)
{
    size_t k;

    for (k = 0; k < dl->n; k++)
        if (diag_is(&dl->v[k], sev, path, substr))
            return &dl->v[k];
    return NULL;
}

static inline size_t count_diags(const struct diag_list *dl, enum diag_severity sev,
                                 const char *path, const char *substr)
{
    size_t k, n = 0;

    for (k = 0; k < dl->n; k++)
        n += diag_is(&dl->v[k], sev, path, substr) ? 1 : 0;
    return n;
}

/* Asserts a diagnostic exists (and, when line != 0, one at line:col). */
static inline const struct diag *expect_diag_(const struct diag_list *dl, enum diag_severity sev,
                                              const char *path, int line, int col,
                                              const char *substr, const char *file, int fline)
{
    const struct diag *any = find_diag(dl, sev, path, substr);
    size_t k;

    if (any && !line)
        return any;
    for (k = 0; any && k < dl->n; k++)
        if (diag_is(&dl->v[k], sev, path, substr) && dl->v[k].pos.line == line &&
            dl->v[k].pos.col == col)
            return &dl->v[k];
    if (!any)
        print_error("no %s with path '%s' and message containing '%s'\n", sev_name(sev),
                    path ? path : "(any)", substr ? substr : "(any)");
    else
        print_error("%s '%s' is at %d:%d, expected %d:%d\n", sev_name(sev), any->message,
                    any->pos.line, any->pos.col, line, col);
    dump_diags(dl);
    _fail(file, fline);
    return NULL;
}

static inline void expect_no_diag_(const struct diag_list *dl, enum diag_severity sev,
                                   const char *path, const char *substr, const char *file,
                                   int fline)
{
    if (find_diag(dl, sev, path, substr)) {
        print_error("unexpected %s with path '%s' and message containing '%s'\n", sev_name(sev),
                    path ? path : "(any)", substr ? substr : "(any)");
        dump_diags(dl);
        _fail(file, fline);
    }
}

static inline void expect_counts_(const struct diag_list *dl, size_t errors, size_t warnings,
                                  const char *file, int fline)
{
    if (dl->errors != errors || dl->warnings != warnings) {
        print_error("expected %zu errors and %zu warnings\n", errors, warnings);
        dump_diags(dl);
        _fail(file, fline);
    }
}

#define EXPECT_DIAG(dl, sev, path, line, col, substr)                                              \
    expect_diag_((dl), (sev), (path), (line), (col), (substr), __FILE__, __LINE__)
#define EXPECT_ERROR(dl, path, line, col, substr)                                                  \
    EXPECT_DIAG((dl), DIAG_ERROR, (path), (line), (col), (substr))
#define EXPECT_WARNING(dl, path, line, col, substr)                                                \
    EXPECT_DIAG((dl), DIAG_WARNING, (path), (line), (col), (substr))
#define EXPECT_NO_DIAG(dl, sev, path, substr)                                                      \
    expect_no_diag_((dl), (sev), (path), (substr), __FILE__, __LINE__)
#define EXPECT_NO_ERRORS(dl) expect_counts_((dl), 0, (dl)->warnings, __FILE__, __LINE__)
#define EXPECT_COUNTS(dl, errors, warnings)                                                        \
    expect_counts_((dl), (errors), (warnings), __FILE__, __LINE__)

/* The common head of a test topology: vhost "v" starts at line 3; its sections at column 5. */
#define TOPO_HEAD "version: 1\nvhosts:\n  v:\n"

/* topology.md's "Shape" example, as a complete file: the format's own example must load and
 * validate. */
#define TOPOLOGY_SHAPE_EXAMPLE                                                                     \
    "version: 1\n"                                                                                 \
    "vhosts:\n"                                                                                    \
    "  orders:\n"                                                                                  \
    "    exchanges:\n"                                                                             \
    "      orders:\n"                                                                              \
    "        type: topic\n"                                                                        \
    "        durable: true\n"                                                                      \
    "        auto_delete: false\n"                                                                 \
    "        internal: false\n"                                                                    \
    "        alternate_exchange: orders.unrouted\n"                                                \
    "        arguments: {}\n"                                                                      \
    "      orders.dlx: { type: topic }\n"                                                          \
    "      orders.unrouted: { type: fanout }\n"                                                    \
    "      orders.audit: { type: fanout, internal: true }\n"                                       \
    "    queues:\n"                                                                                \
    "      orders.placed:\n"                                                                       \
    "        type: quorum\n"                                                                       \
    "        durable: true\n"                                                                      \
    "        auto_delete: false\n"                                                                 \
    "        message_ttl: 7d\n"                                                                    \
    "        expires: 30m\n"                                                                       \
    "        max_length: 100000\n"                                                                 \
    "        max_length_bytes: 1GiB\n"                                                             \
    "        overflow: reject-publish\n"                                                           \
    "        dead_letter_exchange: orders.dlx\n"                                                   \
    "        dead_letter_routing_key: orders.placed.dead\n"                                        \
    "        dead_letter_strategy: at-least-once\n"                                                \
    "        delivery_limit: 5\n"                                                                  \
    "        single_active_consumer: false\n"                                                      \
    "        initial_group_size: 3\n"                                                              \
    "        arguments: {}\n"                                                                      \
    "        bind:\n"                                                                              \
    "          - { exchange: orders, routing_key: order.placed }\n"                                \
    "      orders.dlq:\n"                                                                          \
    "        type: quorum\n"                                                                       \
    "        message_ttl: 7d\n"                                                                    \
    "        bind:\n"                                                                              \
    "          - { exchange: orders.dlx, routing_key: \"#\" }\n"                                   \
    "      orders.audit.log:\n"                                                                    \
    "        type: stream\n"                                                                       \
    "        max_age: 7d\n"                                                                        \
    "        max_length_bytes: 20GB\n"                                                             \
    "    bindings:\n"                                                                              \
    "      - source: orders\n"                                                                     \
    "        destination: orders.audit\n"                                                          \
    "        destination_type: exchange\n"                                                         \
    "        routing_key: \"order.*\"\n"                                                           \
    "        arguments: {}\n"                                                                      \
    "      - { source: orders.audit, destination: orders.audit.log }\n"                            \
    "    policies:\n"                                                                              \
    "      dlq-cap:\n"                                                                             \
    "        pattern: \"\\\\.dlq$\"\n"                                                             \
    "        apply_to: queues\n"                                                                   \
    "        priority: 0\n"                                                                        \
    "        definition: { max-length: 1000000 }\n"

#endif
