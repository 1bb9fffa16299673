/*
 * test_retry.c - retry ladders (provision/retry.c): the expansion's objects, names, defaults,
 * origins and positions, the work queue's dead-letter settings, and expand's round trip
 * (export of the expanded model loads back to the same objects).
 */
#include "helpers.h"

#include "export.h"
#include "retry.h"

#include <stdlib.h>

static const char *const ORDERS = "version: 1\n"
                                  "vhosts:\n"
                                  "  orders:\n"
                                  "    retry_ladders:\n"
                                  "      orders: {}\n"
                                  "    queues:\n"
                                  "      orders.placed:\n"
                                  "        type: quorum\n"
                                  "        retry: orders\n"
                                  "      orders.late:\n"
                                  "        retry: orders\n";

static const struct targ *arg(const struct queue *q, const char *key)
{
    const struct targ *a = targs_get(&q->args, key);
    assert_non_null(a);
    return a;
}

static void test_defaults_follow_the_guidance(void **state)
{
    struct fx f;
    const struct vhost *vh;
    const struct queue *q;
    const struct exchange *x;
    const char *waits[] = {"orders.retry.1s", "orders.retry.10s", "orders.retry.60s"};
    const int64_t ms[] = {1000, 10000, 60000};
    size_t k, n_bind = 0;

    (void)state;
    fx_check(&f, ORDERS);
    assert_int_equal(f.dl.errors, 0);
    vh = &f.t.vhosts[0];
    x = vhost_find_exchange(vh, "orders.retry");
    assert_non_null(x);
    assert_string_equal(x->type, "headers");
    assert_string_equal(x->origin, "queues.orders.placed.retry");
    /* the origin's position is the retry value of the first queue using the ladder */
    assert_int_equal(x->pos.line, 9);
    assert_int_equal(x->pos.col, 16);
    x = vhost_find_exchange(vh, "orders.dlx");
    assert_non_null(x);
    assert_string_equal(x->type, "topic");
    for (k = 0; k < 3; k++) {
        q = vhost_find_queue(vh, waits[k]);
        assert_non_null(q);
        assert_int_equal(q->type, QT_QUORUM);
        assert_int_equal(arg(q, "x-message-ttl")->val.i, ms[k]);
        assert_string_equal(arg(q, "x-dead-letter-exchange")->val.s, "");
        assert_string_equal(arg(q, "x-dead-letter-strategy")->val.s, "at-least-once");
        assert_string_equal(arg(q, "x-overflow")->val.s, "reject-publish");
        assert_null(targs_get(&q->args, "x-dead-letter-routing-key"));
    }
    q = vhost_find_queue(vh, "orders.dlq");
    assert_non_null(q);
    assert_int_equal(arg(q, "x-message-ttl")->val.i, 7LL * 24 * 3600 * 1000);
    /* the work queues */
    q = vhost_find_queue(vh, "orders.placed");
    assert_null(q->origin);
    assert_string_equal(arg(q, "x-dead-letter-exchange")->val.s, "orders.dlx");
    assert_string_equal(arg(q, "x-dead-letter-strategy")->val.s, "at-least-once");
    q = vhost_find_queue(vh, "orders.late"); /* classic: only the exchange */
    assert_string_equal(arg(q, "x-dead-letter-exchange")->val.s, "orders.dlx");
    assert_null(targs_get(&q->args, "x-dead-letter-strategy"));
    for (k = 0; k < vh->n_bindings; k++) {
        const struct binding *b = &vh->bindings[k];
        assert_non_null(b->origin);
        if (strcmp(b->source, "orders.retry") == 0) {
            const struct tval *d = tval_get(&b->args, "retry-delay");
            assert_non_null(d);
            assert_string_equal(b->destination + strlen("orders.retry."), d->s);
            assert_string_equal(tval_get(&b->args, "x-match")->s, "all");
        } else {
            assert_string_equal(b->source, "orders.dlx");
            assert_string_equal(b->destination, "orders.dlq");
            assert_string_equal(b->routing_key, "#");
        }
        n_bind++;
    }
    assert_int_equal(n_bind, 4); /* one ladder for both queues: generated once */
    assert_int_equal(vh->n_queues, 2 + 3 + 1);
    fx_release(&f);
}

static void test_declared_dlq_and_policy_are_kept(void **state)
{
    struct fx f;
    const struct vhost *vh;
    const struct queue *q;

    (void)state;
    fx_check(&f, "version: 1\n"
                 "vhosts:\n"
                 "  v:\n"
                 "    retry_ladders:\n"
                 "      s: { delays: [100ms, 250], dead_letter_queue: mine, prefix: p }\n"
                 "    queues:\n"
                 "      w: { type: quorum, retry: s }\n"
                 "      mine: { type: quorum, max_length: 10 }\n"
                 "    policies:\n"
                 "      dl:\n"
                 "        pattern: ^w$\n"
                 "        definition: { dead-letter-exchange: p.dlx, overflow: reject-publish,\n"
                 "                      dead-letter-strategy: at-least-once }\n");
    assert_int_equal(f.dl.errors, 0);
    vh = &f.t.vhosts[0];
    assert_non_null(vhost_find_queue(vh, "p.retry.100ms"));
    assert_non_null(vhost_find_queue(vh, "p.retry.250ms")); /* an integer is ms */
    q = vhost_find_queue(vh, "mine");
    assert_null(q->origin);
    assert_int_equal(q->args.n, 1); /* used as it is: no TTL added */
    q = vhost_find_queue(vh, "w");
    assert_int_equal(q->args.n, 0); /* the policy says it already */
    fx_release(&f);
}

static void test_messages_about_generated_objects_point_at_retry(void **state)
{
    struct fx f;
    size_t k, found = 0;

    (void)state;
    fx_check(&f, "version: 1\n"
                 "vhosts:\n"
                 "  v:\n"
                 "    queues:\n"
                 "      w:\n"
                 "        type: quorum\n"
                 "        retry: { prefix: amq.w, delays: [1s] }\n");
    for (k = 0; k < f.dl.n; k++) {
        assert_string_equal(f.dl.v[k].path, "queues.w.retry");
        assert_int_equal(f.dl.v[k].pos.line, 7);
        assert_int_equal(f.dl.v[k].pos.col, 16);
        assert_non_null(strstr(f.dl.v[k].message, "generated "));
        found++;
    }
    assert_int_equal(found, 4); /* amq.w.retry, amq.w.dlx, amq.w.retry.1s, amq.w.dlq */
    fx_release(&f);
}

static void test_expand_round_trip(void **state)
{
    struct fx f, g;
    struct strbuf a = {0}, b = {0};

    (void)state;
    fx_check(&f, ORDERS);
    topology_export(&f.t, NULL, &a);
    fx_check(&g, strbuf_str(&a));
    assert_int_equal(g.dl.errors, 0);
    assert_int_equal(g.t.vhosts[0].n_queues, f.t.vhosts[0].n_queues);
    assert_int_equal(g.t.vhosts[0].n_exchanges, f.t.vhosts[0].n_exchanges);
    assert_int_equal(g.t.vhosts[0].n_bindings, f.t.vhosts[0].n_bindings);
    topology_export(&g.t, NULL, &b);
    /* the same objects; only the "generated by" comments differ */
    {
        struct strbuf plain = {0};
        const char *p = strbuf_str(&a);
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
            if (!strstr(p, "      # ") || strstr(p, "      # ") != p)
                strbuf_add(&plain, p, len);
            p += len;
        }
        assert_string_equal(strbuf_str(&plain), strbuf_str(&b));
        strbuf_release(&plain);
    }
    strbuf_release(&a);
    strbuf_release(&b);
    fx_release(&f);
    fx_release(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_follow_the_guidance),
        cmocka_unit_test(test_declared_dlq_and_policy_are_kept),
        cmocka_unit_test(test_messages_about_generated_objects_point_at_retry),
        cmocka_unit_test(test_expand_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
