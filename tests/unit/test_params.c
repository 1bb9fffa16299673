/*
 * test_params.c - operator policies, shovels and federation upstreams (provision/params.c):
 * loading and validating the file, reading the broker's definitions, the plan (defaults,
 * in-place updates, unmanaged), export (placeholders, values as stored) and redaction.
 */
#include "helpers.h"

#include "diff.h"
#include "export.h"
#include "live.h"
#include "params.h"
#include "strbuf.h"

#include <jansson.h>

static const char *const env[] = {"PW", "s3cr%21t", NULL, NULL};

static void fx_check_env(struct fx *f, const char *yaml)
{
    fx_load_env(f, yaml, env);
    if (f->load_rc == 0)
        topology_validate(&f->t, NULL, &f->dl);
}

static void operator_policy_keys(void **state)
{
    struct fx *f = *state;

    fx_check_env(f, "version: 1\n"
                    "vhosts:\n"
                    "  v:\n"
                    "    operator_policies:\n"
                    "      cap:\n"
                    "        pattern: \".*\"\n"
                    "        apply_to: queues\n"
                    "        definition:\n"
                    "          max-length: 10\n"
                    "          overflow: drop-head\n"
                    "          max-lenght: 5\n"
                    "          message-ttl: \"60s\"\n"
                    "          dead-letter-exchange: dlx\n");
    EXPECT_ERROR(&f->dl, "operator_policies.cap.definition.overflow", 10, 21,
                 "cannot be set by an operator policy");
    EXPECT_ERROR(&f->dl, "operator_policies.cap.definition.max-lenght", 11, 23,
                 "did you mean 'max-length'?");
    EXPECT_ERROR(&f->dl, "operator_policies.cap.definition.message-ttl", 12, 24,
                 "expected an integer (milliseconds)");
    EXPECT_ERROR(&f->dl, "operator_policies.cap.definition.dead-letter-exchange", 13, 33,
                 "cannot be set by an operator policy");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, "operator_policies.cap.definition.max-length", NULL);
    EXPECT_COUNTS(&f->dl, 4, 0);
}

static void shovel_keys(void **state)
{
    struct fx *f = *state;

    fx_check_env(f, "version: 1\n"
                    "vhosts:\n"
                    "  v:\n"
                    "    shovels:\n"
                    "      s1:\n"
                    "        src-uri: \"amqp://\"\n"
                    "        src-queue: a\n"
                    "        src-exchange: x\n"
                    "        dest-uri: \"amqp://u:${PW}@h/v\"\n"
                    "        ack-mode: on-confim\n"
                    "        prefetch_count: 5\n"
                    "        reconnect-delay: \"5\"\n"
                    "      s2: { src-queue: a, dest-uri: [\"amqp://a\", \"http://b\"] }\n"
                    "      ok: { src-uri: \"amqp://\", src-queue: a, dest-uri: [\"amqps://b\"], "
                    "delete-after: queue-length }\n");
    EXPECT_ERROR(&f->dl, "shovels.s1", 5, 7, "'src-queue' or 'src-exchange', not both");
    EXPECT_ERROR(&f->dl, "shovels.s1.ack-mode", 10, 19, "did you mean 'on-confirm'?");
    EXPECT_ERROR(&f->dl, "shovels.s1.prefetch_count", 11, 9, "did you mean 'prefetch-count'?");
    EXPECT_ERROR(&f->dl, "shovels.s1.reconnect-delay", 12, 26, "expected a number");
    EXPECT_ERROR(&f->dl, "shovels.s2.src-uri", 13, 7, "a shovel needs 'src-uri'");
    EXPECT_ERROR(&f->dl, "shovels.s2.dest-uri", 13, 37, "expected an AMQP URI");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, "shovels.ok", NULL);
    EXPECT_COUNTS(&f->dl, 6, 0);
    /* the password never appears in a message */
    for (size_t k = 0; k < f->dl.n; k++)
        assert_null(strstr(f->dl.v[k].message, "s3cr"));
}

static void shovel_protocol_keys(void **state)
{
    struct fx *f = *state;

    fx_check_env(f, "version: 1\n"
                    "vhosts:\n"
                    "  v:\n"
                    "    shovels:\n"
                    "      a: { src-uri: \"amqp://\", src-queue: q, dest-uri: \"amqp://\", "
                    "dest-address: x }\n"
                    "      b: { src-protocol: amqp10, src-uri: \"amqp://h\", src-address: a, "
                    "src-queue: q, dest-uri: \"amqp://\" }\n"
                    "      c: { src-protocol: amqp10, src-uri: \"amqp://h\", src-address: a, "
                    "dest-protocol: amqp10, dest-uri: \"amqp://h\", dest-address: b }\n");
    EXPECT_ERROR(&f->dl, "shovels.a.dest-address", 5, 67,
                 "an AMQP 1.0 key, but dest-protocol is amqp091 (the default)");
    EXPECT_ERROR(&f->dl, "shovels.b.src-queue", 6, 71,
                 "an AMQP 0-9-1 key, but src-protocol is amqp10");
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, "shovels.c", NULL);
    EXPECT_NO_DIAG(&f->dl, DIAG_ERROR, "shovels.c.src-address", NULL);
    EXPECT_COUNTS(&f->dl, 2, 0);
}

static void upstream_keys_and_versions(void **state)
{
    struct fx *f = *state;
    struct rmqt_version v310 = {3, 10, 8}, v313 = {3, 13, 1};
    struct diag_list dl;

    fx_check_env(f, "version: 1\n"
                    "vhosts:\n"
                    "  v:\n"
                    "    federation_upstreams:\n"
                    "      up: { uri: \"amqp://u:${PW}@h\", max-hops: 1, queue-type: quorum, "
                    "trust_user_id: true }\n"
                    "      bad: { max-hops: -1 }\n");
    EXPECT_ERROR(&f->dl, "federation_upstreams.up.trust_user_id", 5, 71,
                 "did you mean 'trust-user-id'?");
    EXPECT_ERROR(&f->dl, "federation_upstreams.bad.max-hops", 6, 24, "must not be negative");
    EXPECT_ERROR(&f->dl, "federation_upstreams.bad.uri", 6, 7, "needs 'uri'");
    EXPECT_COUNTS(&f->dl, 3, 0);
    diag_list_init(&dl);
    params_validate(&f->t, &v310, &dl);
    EXPECT_ERROR(&dl, "federation_upstreams.up.queue-type", 5, 63, "needs RabbitMQ 3.13.1");
    EXPECT_COUNTS(&dl, 1, 0);
    diag_list_release(&dl);
    diag_list_init(&dl);
    params_validate(&f->t, &v313, &dl);
    EXPECT_COUNTS(&dl, 0, 0);
    diag_list_release(&dl);
}

static const char *live_json =
    "{\"parameters\":["
    "{\"value\":{\"pattern\":\".*\",\"definition\":{\"max-length\":10},\"priority\":0,"
    "\"apply-to\":\"queues\"},\"vhost\":\"v\",\"component\":\"operator_policy\",\"name\":\"cap\"},"
    "{\"value\":{\"src-uri\":\"amqp://\",\"src-queue\":\"a\",\"dest-uri\":[\"amqp://u:s3cr%21t@h/"
    "v\"],\"dest-queue\":\"b\",\"ack-mode\":\"on-confirm\",\"prefetch-count\":1000},\"vhost\":"
    "\"v\",\"component\":\"shovel\",\"name\":\"s\"},"
    "{\"value\":{\"uri\":\"amqp://u:old@h\",\"max-hops\":1},\"vhost\":\"v\",\"component\":"
    "\"federation-upstream\",\"name\":\"up\"},"
    "{\"value\":{\"uri\":\"amqp://h\"},\"vhost\":\"v\",\"component\":\"federation-upstream\","
    "\"name\":\"extra\"},"
    "{\"value\":[{\"upstream\":\"up\"}],\"vhost\":\"v\",\"component\":\"federation-upstream-set\","
    "\"name\":\"set1\"}],"
    "\"queues\":[{\"name\":\"federation: x -> n:v:x\",\"durable\":true,\"arguments\":{}},"
    "{\"name\":\"q\",\"durable\":true,\"arguments\":{}}],"
    "\"exchanges\":[{\"name\":\"federation: x -> n:v:x B\",\"type\":\"x-federation-upstream\"}],"
    "\"bindings\":[]}";

static const struct change *find_change(const struct plan *p, enum change_kind k, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].kind == k && strcmp(p->v[i].name, name) == 0)
            return &p->v[i];
    return NULL;
}

static const struct change_field *find_field(const struct change *c, const char *name)
{
    for (size_t i = 0; c && i < c->n_fields; i++)
        if (strcmp(c->fields[i].field, name) == 0)
            return &c->fields[i];
    return NULL;
}

static void plan_against_live(void **state)
{
    struct fx *f = *state;
    struct topology live;
    struct rmqt_error err;
    struct plan p;
    struct diff_options opts = {false};
    const struct change *c;
    const struct change_field *fl;

    fx_check_env(f,
                 "version: 1\n"
                 "vhosts:\n"
                 "  v:\n"
                 "    queues: { q: {} }\n"
                 "    operator_policies:\n"
                 "      cap: { pattern: \".*\", apply_to: queues, definition: { max-length: 20 "
                 "} }\n"
                 "    shovels:\n"
                 "      s: { src-uri: \"amqp://\", src-queue: a, dest-uri: \"amqp://u:${PW}@h/v\", "
                 "dest-queue: b }\n"
                 "    federation_upstreams:\n"
                 "      up: { uri: \"amqp://u:${PW}@h\", max-hops: 1 }\n"
                 "      new: { uri: \"amqp://h2\" }\n");
    EXPECT_COUNTS(&f->dl, 0, 1); /* the classic queue advice */
    topology_init(&live);
    live_parse_definitions(topology_add_vhost(&live, "v"), live_json, strlen(live_json), &err);
    assert_int_equal(live.vhosts[0].n_queues, 1); /* the federation plugin's queue left out */
    assert_int_equal(live.vhosts[0].n_exchanges, 0);
    plan_init(&p);
    plan_compute(&p, &f->t, &live, &opts);

    /* the operator policy: updated in place, field by field */
    c = find_change(&p, CK_OPERATOR_POLICY, "cap");
    assert_non_null(c);
    assert_int_equal(c->action, CH_UPDATE);
    fl = find_field(c, "definition.max-length");
    assert_non_null(fl);
    assert_int_equal(fl->old_value.i, 10);
    assert_int_equal(fl->new_value.i, 20);
    /* the shovel: a list of one URI equals the string; ack-mode and prefetch-count are the
     * broker's defaults: no change */
    assert_null(find_change(&p, CK_SHOVEL, "s"));
    /* the upstream: only the password differs, shown as such and never in clear */
    c = find_change(&p, CK_FEDERATION_UPSTREAM, "up");
    assert_non_null(c);
    assert_int_equal(c->action, CH_UPDATE);
    fl = find_field(c, "uri");
    assert_non_null(fl);
    assert_string_equal(fl->old_value.s, "amqp://u:***@h");
    assert_string_equal(fl->new_value.s, "password changed");
    assert_int_equal(find_change(&p, CK_FEDERATION_UPSTREAM, "new")->action, CH_CREATE);
    assert_int_equal(find_change(&p, CK_FEDERATION_UPSTREAM, "extra")->action, CH_UNMANAGED);
    assert_string_equal(change_kind_name(CK_FEDERATION_UPSTREAM), "federation_upstream");
    plan_release(&p);

    /* prune: unmanaged becomes delete */
    opts.prune = true;
    plan_init(&p);
    plan_compute(&p, &f->t, &live, &opts);
    assert_int_equal(find_change(&p, CK_FEDERATION_UPSTREAM, "extra")->action, CH_DELETE);
    plan_release(&p);
    topology_release(&live);
}

static void not_managed_without_the_key(void **state)
{
    struct fx *f = *state;
    struct topology live;
    struct rmqt_error err;
    struct plan p;
    struct diff_options opts = {true};

    fx_check_env(f, "version: 1\nvhosts:\n  v:\n    queues: { q: {} }\n");
    topology_init(&live);
    live_parse_definitions(topology_add_vhost(&live, "v"), live_json, strlen(live_json), &err);
    plan_init(&p);
    plan_compute(&p, &f->t, &live, &opts);
    for (size_t i = 0; i < p.n; i++)
        assert_false(params_is_kind(p.v[i].kind));
    plan_release(&p);
    topology_release(&live);
}

static void export_as_stored(void **state)
{
    struct topology live;
    struct rmqt_error err;
    struct strbuf out = {0}, warn = {0};

    (void)state;
    topology_init(&live);
    live_parse_definitions(topology_add_vhost(&live, "v"), live_json, strlen(live_json), &err);
    params_export_prepare(&live, false, &warn);
    topology_export(&live, NULL, &out);
    /* values as stored: the list stays a list, no default added, passwords as placeholders */
    assert_non_null(
        strstr(out.buf, "dest-uri: [\"amqp://u:${SHOVEL_V_S_DEST_URI_PASSWORD}@h/v\"]"));
    assert_non_null(strstr(out.buf, "uri: \"amqp://u:${UPSTREAM_V_UP_URI_PASSWORD}@h\""));
    assert_null(strstr(out.buf, "reconnect-delay"));
    assert_null(strstr(out.buf, "s3cr"));
    assert_null(strstr(out.buf, "federation: "));
    assert_non_null(strstr(out.buf, "operator_policies:\n      cap:\n"));
    assert_non_null(strstr(warn.buf, "set SHOVEL_V_S_DEST_URI_PASSWORD"));
    assert_non_null(strstr(warn.buf, "not exported: federation-upstream-set 'set1'"));
    strbuf_release(&out);
    strbuf_release(&warn);
    topology_release(&live);

    /* with the secrets: as stored */
    topology_init(&live);
    live_parse_definitions(topology_add_vhost(&live, "v"), live_json, strlen(live_json), &err);
    params_export_prepare(&live, true, &warn);
    topology_export(&live, NULL, &out);
    assert_non_null(strstr(out.buf, "amqp://u:s3cr%21t@h/v"));
    strbuf_release(&out);
    strbuf_release(&warn);
    topology_release(&live);
}

static void redaction(void **state)
{
    struct strbuf sb = {0};

    (void)state;
    params_redact(&sb, "bad \"amqp://user:p%40ss@host:5672/v\" and amqps://u:x@h, amqp://h/v "
                       "amqp:// <<\"amqp://a:b@c\">>");
    assert_string_equal(sb.buf, "bad \"amqp://user:***@host:5672/v\" and amqps://u:***@h, "
                                "amqp://h/v amqp:// <<\"amqp://a:***@c\">>");
    strbuf_release(&sb);
    /* passwords the broker takes though a URI should not hold them: never cut short */
    strbuf_init(&sb);
    params_redact(&sb, "a: amqp://guest:Comma,Pass@h/v, amqp://g:Quote'Pass@h, "
                       "\"amqp://g:Sl/ash?#Pass@h/v\"");
    assert_string_equal(sb.buf, "a: amqp://guest:***@h/v, amqp://g:***@h, \"amqp://g:***@h/v\"");
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(operator_policy_keys),      FX_TEST(shovel_keys),
        FX_TEST(shovel_protocol_keys),      FX_TEST(upstream_keys_and_versions),
        FX_TEST(plan_against_live),         FX_TEST(not_managed_without_the_key),
        cmocka_unit_test(export_as_stored), cmocka_unit_test(redaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
