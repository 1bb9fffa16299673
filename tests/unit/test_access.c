/*
 * test_access.c - users, permissions, topic permissions and vhost settings without a broker:
 * the broker's password hashes (known vectors), the file format, the diff and the lock-out
 * rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "diff.h"
#include "load.h"
#include "model.h"
#include "validate.h"

#define SHA256 "rabbit_password_hashing_sha256"
#define SHA512 "rabbit_password_hashing_sha512"
#define MD5 "rabbit_password_hashing_md5"

/* ---- hashes ---- */

/* Exported by the RabbitMQ 3.10.8 broker of these tests after PUT /api/users/h1u
 * {"password":"pw1"} (GET /api/users/h1u). */
static const char broker_pw1[] = "q1DSiimbE9vG1SO3YvDMGzCkjLcCJq1PkDupl5wdhCDwiMa8";
/* guest/"guest" in RabbitMQ's definition_import_SUITE case16.json (a 3.9.1 export). */
static const char suite_guest[] = "wS4AT3B4Z5RpWlFn1FA30osf2C75D7WA3gem591ACDZ6saO6";
/* "some-password" in SHA-512, the Messaging Topology Operator's documented example. */
static const char operator_sha512[] =
    "SjWbNXaNEwcoOOZWxG6J1HCF5P83lUavsCto+wh1s9zdOfoZ/CPv6l/SSdK3RC2+1QWmJGdYt5740j3ZLf/0RbpusNc=";

static void test_hash_matches_broker_sha256_vectors(void **state)
{
    (void)state;
    assert_true(access_hash_matches(broker_pw1, SHA256, "pw1", 3));
    assert_true(access_hash_matches(suite_guest, SHA256, "guest", 5));
    assert_true(access_hash_matches(suite_guest, NULL, "guest", 5)); /* default: sha256 */
}

static void test_hash_matches_sha512_vector(void **state)
{
    (void)state;
    assert_true(access_hash_matches(operator_sha512, SHA512, "some-password", 13));
    /* the same hash under another algorithm is not a match */
    assert_false(access_hash_matches(operator_sha512, SHA256, "some-password", 13));
}

static void test_hash_refuses_wrong_password_and_garbage(void **state)
{
    (void)state;
    assert_false(access_hash_matches(broker_pw1, SHA256, "pw2", 3));
    assert_false(access_hash_matches(broker_pw1, SHA256, "pw", 2));
    assert_false(access_hash_matches("", SHA256, "", 0));
    assert_false(access_hash_matches("not base64!", SHA256, "pw1", 3));
    assert_false(access_hash_matches(broker_pw1, "rabbit_password_hashing_rot13", "pw1", 3));
}

static void test_hash_make_with_the_brokers_salt_gives_its_hash(void **state)
{
    /* q1DS iimb ... decodes to the salt ab 50 d2 8a */
    static const unsigned char salt[4] = {0xab, 0x50, 0xd2, 0x8a};
    char *h = access_hash_make(SHA256, "pw1", 3, salt);
    (void)state;
    assert_string_equal(h, broker_pw1);
    free(h);
}

static void test_hash_make_random_salt_round_trips_every_algorithm(void **state)
{
    static const char *const algs[] = {SHA256, SHA512, MD5};
    size_t k;
    (void)state;
    for (k = 0; k < 3; k++) {
        char *a = access_hash_make(algs[k], "s3cret", 6, NULL);
        char *b = access_hash_make(algs[k], "s3cret", 6, NULL);
        assert_non_null(a);
        assert_true(access_hash_matches(a, algs[k], "s3cret", 6));
        assert_false(access_hash_matches(a, algs[k], "s3cret!", 7));
        assert_string_not_equal(a, b); /* a new salt each time */
        free(a);
        free(b);
    }
}

static void test_hash_md5_layout(void **state)
{
    /* md5 hashes are base64(salt ++ 16 bytes): 20 bytes, 28 characters */
    char *h = access_hash_make(MD5, "x", 1, NULL);
    (void)state;
    assert_int_equal(strlen(h), 28);
    free(h);
}

/* ---- loading ---- */

struct loaded {
    struct topology t;
    struct diag_list dl;
};

static void load(struct loaded *l, const char *yaml)
{
    topology_init(&l->t);
    diag_list_init(&l->dl);
    topology_load_buffer(&l->t, "t.yaml", yaml, strlen(yaml), NULL, &l->dl);
    if (!l->dl.errors)
        topology_validate(&l->t, NULL, &l->dl);
}

static void unload(struct loaded *l)
{
    topology_release(&l->t);
    diag_list_release(&l->dl);
}

static bool has_diag(const struct diag_list *dl, enum diag_severity sev, int line, int col,
                     const char *path, const char *text)
{
    size_t k;
    for (k = 0; k < dl->n; k++) {
        const struct diag *d = &dl->v[k];
        if (d->severity == sev && (!line || d->pos.line == line) && (!col || d->pos.col == col) &&
            (!path || strcmp(d->path, path) == 0) && strstr(d->message, text))
            return true;
    }
    for (k = 0; k < dl->n; k++)
        fprintf(stderr, "  have %d:%d %s: %s\n", dl->v[k].pos.line, dl->v[k].pos.col, dl->v[k].path,
                dl->v[k].message);
    return false;
}

static const char full[] = "version: 1\n"
                           "users:\n"
                           "  svc:\n"
                           "    tags: [monitoring, management]\n"
                           "    password_env: SVC_PW\n"
                           "    limits: { max_connections: 10, max_channels: -1 }\n"
                           "  ro: { password_hash: \"abc=\", hashing_algorithm: "
                           "rabbit_password_hashing_sha512 }\n"
                           "  locked: { no_password: true }\n"
                           "vhosts:\n"
                           "  orders:\n"
                           "    description: order pipeline\n"
                           "    tags: [production]\n"
                           "    default_queue_type: quorum\n"
                           "    limits: { max_connections: 500, max_queues: 1000 }\n"
                           "    exchanges: { orders: { type: topic } }\n"
                           "    permissions:\n"
                           "      svc: { configure: \"^orders\", read: \".*\" }\n"
                           "    topic_permissions:\n"
                           "      svc: [ { exchange: orders, write: \"^order\\\\.\" } ]\n";

static void test_load_reads_every_key(void **state)
{
    struct loaded l;
    const struct vhost_access *a;
    const struct access_user *u;
    (void)state;

    load(&l, full);
    assert_int_equal(l.dl.errors, 0);
    assert_int_equal(l.dl.warnings, 0);
    assert_non_null(l.t.users);
    assert_int_equal(l.t.users->n, 3);
    u = access_find_user(l.t.users, "svc");
    assert_int_equal(u->pw, PW_ENV);
    assert_string_equal(u->pw_ref, "SVC_PW");
    assert_int_equal(u->tags.n, 2);
    assert_int_equal(u->limits.n, 2);
    assert_string_equal(u->limits.v[1].key, "max_channels");
    assert_int_equal(u->limits.v[1].value, -1);
    u = access_find_user(l.t.users, "ro");
    assert_int_equal(u->pw, PW_HASH);
    assert_string_equal(u->algorithm, SHA512);
    assert_int_equal(access_find_user(l.t.users, "locked")->pw, PW_NONE);
    a = l.t.vhosts[0].access;
    assert_string_equal(a->description, "order pipeline");
    assert_string_equal(a->default_queue_type, "quorum");
    assert_int_equal(a->limits.n, 2);
    assert_int_equal(a->n_perms, 1);
    assert_string_equal(a->perms[0].write, ""); /* default: nothing */
    assert_int_equal(a->n_topics, 1);
    assert_string_equal(a->topics[0].write, "^order\\.");
    assert_string_equal(a->topics[0].read, "");
    unload(&l);
}

static void test_load_literal_password_is_an_error_at_its_key(void **state)
{
    struct loaded l;
    (void)state;
    load(&l, "version: 1\nusers:\n  a: { tags: [], password: hunter2 }\nvhosts: {}\n");
    assert_true(has_diag(&l.dl, DIAG_ERROR, 3, 18, "users.a.password",
                         "a literal password is not allowed"));
    {
        size_t k;
        for (k = 0; k < l.dl.n; k++)
            assert_null(strstr(l.dl.v[k].message, "hunter2"));
    }
    unload(&l);
}

static void test_load_user_needs_exactly_one_password_source(void **state)
{
    struct loaded l;
    (void)state;
    load(&l, "version: 1\nusers:\n  a: { tags: [] }\n  b: { password_env: X, no_password: true "
             "}\nvhosts: {}\n");
    assert_true(has_diag(&l.dl, DIAG_ERROR, 3, 3, "users.a", "a user needs a password source"));
    assert_true(has_diag(&l.dl, DIAG_ERROR, 4, 25, "users.b.no_password",
                         "one password source; 'password_env' is given too"));
    unload(&l);
}

static void test_load_limits_and_unknown_keys(void **state)
{
    struct loaded l;
    (void)state;
    load(&l, "version: 1\nusers:\n  a: { password_env: X, limits: { max_queues: 1 }, pasword_file: "
             "f }\nvhosts:\n  v:\n    limits: { max_connections: -2 }\n    descripton: x\n");
    assert_true(has_diag(&l.dl, DIAG_ERROR, 0, 0, "users.a.limits.max_queues",
                         "expected one of: max_connections, max_channels"));
    assert_true(
        has_diag(&l.dl, DIAG_ERROR, 0, 0, "users.a.pasword_file", "did you mean 'password_file'?"));
    assert_true(has_diag(&l.dl, DIAG_ERROR, 6, 32, "limits.max_connections", "invalid limit '-2'"));
    assert_true(has_diag(&l.dl, DIAG_ERROR, 7, 5, "descripton", "did you mean 'description'?"));
    unload(&l);
}

static void test_validate_topic_permission_for_unknown_exchange_warns(void **state)
{
    struct loaded l;
    (void)state;
    load(&l, "version: 1\nvhosts:\n  v:\n    topic_permissions:\n      u: [ { exchange: nowhere }, "
             "{ exchange: amq.topic } ]\n");
    assert_int_equal(l.dl.errors, 0);
    assert_int_equal(l.dl.warnings, 1);
    assert_true(has_diag(&l.dl, DIAG_WARNING, 5, 24, "topic_permissions.u.exchange",
                         "exchange 'nowhere' is not in this vhost"));
    unload(&l);
}

/* ---- diff ---- */

struct fx {
    struct loaded want;
    struct topology live;
    struct plan plan;
};

/* live: user svc with hash of "pw1" (the broker's) and tags [monitoring], guest (self) */
static void live_setup(struct topology *live)
{
    static const char users[] =
        "[{\"name\":\"svc\",\"password_hash\":\"q1DSiimbE9vG1SO3YvDMGzCkjLcCJq1PkDupl5wdhCDwiMa8\","
        "\"hashing_algorithm\":\"rabbit_password_hashing_sha256\",\"tags\":\"monitoring\","
        "\"limits\":{}},"
        "{\"name\":\"guest\",\"password_hash\":"
        "\"q1DSiimbE9vG1SO3YvDMGzCkjLcCJq1PkDupl5wdhCDwiMa8\","
        "\"tags\":[\"administrator\"],\"limits\":{}},"
        "{\"name\":\"other\",\"password_hash\":\"\",\"tags\":[],\"limits\":{}}]";
    struct rmqt_error err;
    struct access_users *u;

    topology_init(live);
    u = access_users_of(live);
    u->self = strdup("guest");
    assert_int_equal(access_parse_users(u, users, strlen(users), &err), 0);
    assert_string_equal(u->self, "guest");
    topology_add_vhost(live, "v");
    vhost_index(&live->vhosts[0]);
}

static void fx_plan(struct fx *f, const char *yaml, const char *password, bool prune)
{
    struct diff_options opts = {prune};
    load(&f->want, yaml);
    assert_int_equal(f->want.dl.errors, 0);
    live_setup(&f->live);
    if (f->want.t.users && password) {
        struct access_user *u = &f->want.t.users->v[0];
        u->secret = strdup(password);
        u->secret_len = strlen(password);
        u->secret_read = true;
    }
    plan_init(&f->plan);
    plan_compute(&f->plan, &f->want.t, &f->live, &opts);
}

static void fx_release(struct fx *f)
{
    plan_release(&f->plan);
    topology_release(&f->live);
    unload(&f->want);
}

static const struct change *find_change(const struct plan *p, enum change_kind kind,
                                        const char *name)
{
    size_t k;
    for (k = 0; k < p->n; k++)
        if (p->v[k].kind == kind && strcmp(p->v[k].name, name) == 0)
            return &p->v[k];
    return NULL;
}

static const char svc_file[] = "version: 1\nusers:\n  svc: { tags: [monitoring], password_env: "
                               "P }\n  guest: { tags: [administrator], password_env: G }\n"
                               "vhosts:\n  v: {}\n";

static void test_diff_unchanged_password_plans_nothing(void **state)
{
    struct fx f;
    (void)state;
    fx_plan(&f, svc_file, "pw1", false);
    assert_null(find_change(&f.plan, CK_USER, "svc"));
    /* a user the file does not name is unmanaged, not a change */
    assert_int_equal(find_change(&f.plan, CK_USER, "other")->action, CH_UNMANAGED);
    fx_release(&f);
}

static void test_diff_changed_password_is_an_update_showing_no_secret(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;
    fx_plan(&f, svc_file, "pw2", false);
    c = find_change(&f.plan, CK_USER, "svc");
    assert_non_null(c);
    assert_int_equal(c->action, CH_UPDATE);
    assert_int_equal(c->n_fields, 1);
    assert_string_equal(c->fields[0].field, "password");
    assert_false(c->fields[0].has_old);
    assert_string_equal(c->fields[0].new_value.s, "changed");
    fx_release(&f);
}

static void test_diff_tags_compare_as_sets_and_prune_deletes(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;
    fx_plan(&f,
            "version: 1\nusers:\n  svc: { tags: [management, monitoring], password_env: P }\n"
            "  guest: { tags: [administrator], password_env: G }\nvhosts:\n  v: {}\n",
            "pw1", true);
    c = find_change(&f.plan, CK_USER, "svc");
    assert_non_null(c);
    assert_string_equal(c->fields[0].field, "tags");
    assert_int_equal(find_change(&f.plan, CK_USER, "other")->action, CH_DELETE);
    plan_release(&f.plan);
    topology_release(&f.live);
    unload(&f.want);
    /* the same tags in another order: nothing */
    fx_plan(&f,
            "version: 1\nusers:\n  svc: { tags: [monitoring], password_env: P }\nvhosts:\n  v: "
            "{}\n",
            "pw1", false);
    assert_null(find_change(&f.plan, CK_USER, "svc"));
    fx_release(&f);
}

static void test_check_plan_refuses_to_demote_or_delete_self(void **state)
{
    struct fx f;
    struct diag_list dl;
    (void)state;
    /* guest (the connecting user) loses administrator */
    fx_plan(&f,
            "version: 1\nusers:\n  guest: { tags: [monitoring], password_env: G }\nvhosts:\n  v: "
            "{}\n",
            "pw1", false);
    diag_list_init(&dl);
    access_check_plan(&f.plan, &f.want.t, &f.live, &dl);
    assert_true(has_diag(&dl, DIAG_ERROR, 3, 18, "users.guest",
                         "remove the administrator tag from user 'guest'"));
    diag_list_release(&dl);
    fx_release(&f);
    /* prune without guest in the file */
    fx_plan(&f, "version: 1\nusers:\n  svc: { password_env: P }\nvhosts:\n  v: {}\n", "pw1", true);
    diag_list_init(&dl);
    access_check_plan(&f.plan, &f.want.t, &f.live, &dl);
    assert_true(has_diag(&dl, DIAG_ERROR, 0, 0, "users", "apply would delete user 'guest'"));
    diag_list_release(&dl);
    fx_release(&f);
}

static void test_diff_vhost_settings_and_permissions(void **state)
{
    struct fx f;
    const struct change *c;
    (void)state;
    fx_plan(&f,
            "version: 1\nvhosts:\n  v:\n    description: d\n    limits: { max_queues: 5 }\n"
            "    permissions:\n      svc: { configure: \".*\" }\n",
            NULL, false);
    c = find_change(&f.plan, CK_VHOST, "v");
    assert_non_null(c);
    assert_int_equal(c->action, CH_UPDATE);
    assert_int_equal(c->n_fields, 2);
    assert_string_equal(c->fields[0].field, "description");
    assert_string_equal(c->fields[1].field, "limits.max_queues");
    c = find_change(&f.plan, CK_PERMISSION, "svc");
    assert_non_null(c);
    assert_int_equal(c->action, CH_CREATE);
    /* no `users` key: no user is managed or reported */
    assert_null(find_change(&f.plan, CK_USER, "other"));
    fx_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_matches_broker_sha256_vectors),
        cmocka_unit_test(test_hash_matches_sha512_vector),
        cmocka_unit_test(test_hash_refuses_wrong_password_and_garbage),
        cmocka_unit_test(test_hash_make_with_the_brokers_salt_gives_its_hash),
        cmocka_unit_test(test_hash_make_random_salt_round_trips_every_algorithm),
        cmocka_unit_test(test_hash_md5_layout),
        cmocka_unit_test(test_load_reads_every_key),
        cmocka_unit_test(test_load_literal_password_is_an_error_at_its_key),
        cmocka_unit_test(test_load_user_needs_exactly_one_password_source),
        cmocka_unit_test(test_load_limits_and_unknown_keys),
        cmocka_unit_test(test_validate_topic_permission_for_unknown_exchange_warns),
        cmocka_unit_test(test_diff_unchanged_password_plans_nothing),
        cmocka_unit_test(test_diff_changed_password_is_an_update_showing_no_secret),
        cmocka_unit_test(test_diff_tags_compare_as_sets_and_prune_deletes),
        cmocka_unit_test(test_check_plan_refuses_to_demote_or_delete_self),
        cmocka_unit_test(test_diff_vhost_settings_and_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
