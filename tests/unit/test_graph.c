/*
 * test_graph.c - topology_graph: nodes, edges and their labels in DOT and Mermaid, escaping
 * of names holding the languages' special characters, dead-letter and alternate-exchange
 * routes (from arguments and from policies), determinism.
 *
 * Each test loads a YAML text (helpers.h), checks it is valid, draws it and looks for exact
 * lines or fragments of the output; a failing check prints the whole drawing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "helpers.h"
#include "strbuf.h"

/* Loads yaml into the fixture, requires it valid, and returns its drawing (caller frees). */
static char *draw_(struct fx *f, const char *yaml, enum graph_format fmt, const char *file,
                   int line)
{
    struct strbuf out = {0};
    struct rmqt_error err;

    fx_check(f, yaml);
    expect_counts_(&f->dl, 0, f->dl.warnings, file, line);
    rmqt_error_init(&err);
    if (topology_graph(&f->t, fmt, &out, &err) != 0) {
        print_error("topology_graph failed: %s\n", err.message);
        _fail(file, line);
    }
    return strbuf_detach(&out, NULL);
}

static void expect_contains_(const char *out, const char *needle, const char *file, int line)
{
    if (!strstr(out, needle)) {
        print_error("expected to find:\n%s\nin:\n%s\n", needle, out);
        _fail(file, line);
    }
}

static void expect_lacks_(const char *out, const char *needle, const char *file, int line)
{
    if (strstr(out, needle)) {
        print_error("did not expect to find:\n%s\nin:\n%s\n", needle, out);
        _fail(file, line);
    }
}

#define DRAW(f, yaml, fmt) draw_((f), (yaml), (fmt), __FILE__, __LINE__)
#define EXPECT_CONTAINS(out, needle) expect_contains_((out), (needle), __FILE__, __LINE__)
#define EXPECT_LACKS(out, needle) expect_lacks_((out), (needle), __FILE__, __LINE__)

/* One topic exchange, one quorum queue bound to it. */
static const char simple_yaml[] = TOPO_HEAD "    exchanges:\n"
                                            "      ex: { type: topic }\n"
                                            "    queues:\n"
                                            "      qq:\n"
                                            "        type: quorum\n"
                                            "        bind: [{ exchange: ex, routing_key: a.* }]\n";

/* ---- nodes and edges ---- */

static void test_graph_dot_draws_exchange_queue_and_binding(void **state)
{
    char *out = DRAW(*state, simple_yaml, GRAPH_DOT);

    EXPECT_CONTAINS(out, "digraph rmqtopo {\n");
    EXPECT_CONTAINS(out, "subgraph cluster_0 {\n");
    EXPECT_CONTAINS(out, "label=\"vhost v\";\n");
    EXPECT_CONTAINS(out, "        x0 [label=\"ex\\n(topic)\", shape=hexagon");
    EXPECT_CONTAINS(out, "        q0 [label=\"qq\\n(quorum)\", shape=box");
    EXPECT_CONTAINS(out, "        x0 -> q0 [label=\"a.*\"];\n");
    assert_int_equal(out[strlen(out) - 2], '}');
    free(out);
}

static void test_graph_mermaid_draws_exchange_queue_and_binding(void **state)
{
    char *out = DRAW(*state, simple_yaml, GRAPH_MERMAID);

    assert_true(strncmp(out, "flowchart LR\n", 13) == 0);
    EXPECT_CONTAINS(out, "    subgraph v0[\"vhost v\"]\n");
    EXPECT_CONTAINS(out, "        x0{{\"ex<br/>(topic)\"}}:::exchange\n");
    EXPECT_CONTAINS(out, "        q0[\"qq<br/>(quorum)\"]:::queue\n");
    EXPECT_CONTAINS(out, "        x0 -->|\"a.*\"| q0\n");
    EXPECT_CONTAINS(out, "    end\n");
    free(out);
}

static void test_graph_queue_type_defaults_to_classic(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    queues:\n"
                               "      plain: { durable: false }\n"
                               "      log: { type: stream }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "q0 [label=\"plain\\n(classic)\"");
    EXPECT_CONTAINS(out, "q1 [label=\"log\\n(stream)\"");
    free(out);
}

static void test_graph_fanout_binding_has_no_label(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    exchanges:\n"
                               "      fan: { type: fanout }\n"
                               "    queues:\n"
                               "      qq: { type: quorum, bind: [{ exchange: fan }] }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "        x0 -> q0;\n");
    free(out);
}

static void test_graph_empty_routing_key_on_direct_exchange_is_shown(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    exchanges:\n"
                               "      d: { type: direct }\n"
                               "    queues:\n"
                               "      qq: { type: quorum, bind: [{ exchange: d }] }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "x0 -> q0 [label=\"\\\"\\\"\"];");
    free(out);
}

static void test_graph_headers_binding_shows_its_arguments(void **state)
{
    static const char yaml[] =
        TOPO_HEAD "    exchanges:\n"
                  "      h: { type: headers }\n"
                  "    queues:\n"
                  "      pdf:\n"
                  "        type: quorum\n"
                  "        bind:\n"
                  "          - { exchange: h, arguments: { x-match: all, format: pdf, v: 2 } }\n";
    char *dot = DRAW(*state, yaml, GRAPH_DOT);
    char *mmd;

    EXPECT_CONTAINS(dot, "x0 -> q0 [label=\"x-match=all\\nformat=pdf\\nv=2\"];");
    fx_release(*state);
    mmd = DRAW(*state, yaml, GRAPH_MERMAID);
    EXPECT_CONTAINS(mmd, "x0 -->|\"x-match=all<br/>format=pdf<br/>v=2\"| q0");
    free(dot);
    free(mmd);
}

static void test_graph_exchange_to_exchange_binding(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    exchanges:\n"
                               "      a: { type: topic }\n"
                               "      b: { type: fanout }\n"
                               "    bindings:\n"
                               "      - { source: a, destination: b, destination_type: exchange,"
                               " routing_key: k.# }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "        x0 -> x1 [label=\"k.#\", color=");
    free(out);
}

static void test_graph_internal_exchange_is_marked(void **state)
{
    char *out =
        DRAW(*state,
             TOPO_HEAD "    exchanges:\n"
                       "      a: { type: topic }\n"
                       "      in: { type: fanout, internal: true }\n"
                       "    bindings:\n"
                       "      - { source: a, destination: in, destination_type: exchange }\n",
             GRAPH_DOT);

    EXPECT_CONTAINS(out, "x1 [label=\"in\\n(fanout, internal)\", shape=hexagon, "
                         "style=\"filled,dashed\"");
    free(out);
}

static void test_graph_builtin_exchange_gets_a_node(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    queues:\n"
                               "      qq:\n"
                               "        type: quorum\n"
                               "        bind: [{ exchange: amq.topic, routing_key: x.# }]\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "x0 [label=\"amq.topic\\n(topic, built-in)\"");
    EXPECT_CONTAINS(out, "x0 -> q0 [label=\"x.#\"];");
    free(out);
}

static void test_graph_exchange_and_queue_may_share_a_name(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    exchanges:\n"
                               "      same: { type: direct }\n"
                               "    queues:\n"
                               "      same: { type: quorum, bind: [{ exchange: same, routing_key: "
                               "k }] }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "x0 [label=\"same\\n(direct)\"");
    EXPECT_CONTAINS(out, "q0 [label=\"same\\n(quorum)\"");
    EXPECT_CONTAINS(out, "x0 -> q0 [label=\"k\"];");
    free(out);
}

static void test_graph_one_cluster_per_vhost_with_unique_ids(void **state)
{
    char *out = DRAW(*state,
                     "version: 1\n"
                     "vhosts:\n"
                     "  one:\n"
                     "    queues: { a: { type: quorum } }\n"
                     "  two:\n"
                     "    queues: { b: { type: quorum } }\n"
                     "  three: {}\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "subgraph cluster_0 {\n");
    EXPECT_CONTAINS(out, "label=\"vhost one\";\n        q0 [label=\"a\\n");
    EXPECT_CONTAINS(out, "subgraph cluster_1 {\n");
    EXPECT_CONTAINS(out, "label=\"vhost two\";\n        q1 [label=\"b\\n");
    /* an empty vhost still shows */
    EXPECT_CONTAINS(out, "label=\"vhost three\";\n        empty2 [label=\"(empty)\"");
    free(out);
}

/* ---- escaping ---- */

/* A queue named a"b\c (YAML double-quoted: "a\"b\\c"), bound to an exchange named x"y. */
static const char quote_yaml[] = TOPO_HEAD "    exchanges:\n"
                                           "      \"x\\\"y\": { type: direct }\n"
                                           "    queues:\n"
                                           "      \"a\\\"b\\\\c\":\n"
                                           "        type: quorum\n"
                                           "        bind: [{ exchange: \"x\\\"y\", routing_key: "
                                           "\"k\\\"\\\\\" }]\n";

static void test_graph_dot_escapes_quotes_and_backslashes(void **state)
{
    char *out = DRAW(*state, quote_yaml, GRAPH_DOT);

    assert_non_null(vhost_find_queue(&((struct fx *)*state)->t.vhosts[0], "a\"b\\c"));
    EXPECT_CONTAINS(out, "q0 [label=\"a\\\"b\\\\c\\n(quorum)\"");
    EXPECT_CONTAINS(out, "x0 [label=\"x\\\"y\\n(direct)\"");
    EXPECT_CONTAINS(out, "x0 -> q0 [label=\"k\\\"\\\\\"];");
    EXPECT_LACKS(out, "a\"b");
    free(out);
}

static void test_graph_mermaid_escapes_quotes_as_entities(void **state)
{
    char *out = DRAW(*state, quote_yaml, GRAPH_MERMAID);

    EXPECT_CONTAINS(out, "        q0[\"a#quot;b\\c<br/>(quorum)\"]:::queue\n");
    EXPECT_CONTAINS(out, "        x0{{\"x#quot;y<br/>(direct)\"}}:::exchange\n");
    EXPECT_CONTAINS(out, "        x0 -->|\"k#quot;\\\"| q0\n");
    EXPECT_LACKS(out, "a\"b");
    free(out);
}

static void test_graph_mermaid_escapes_entity_and_markup_characters(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    queues:\n"
                               "      \"#quot;<b>&`x`\": { type: quorum }\n",
                     GRAPH_MERMAID);

    EXPECT_CONTAINS(out, "q0[\"#35;quot;#lt;b#gt;#amp;#96;x#96;<br/>(quorum)\"]");
    free(out);
}

static void test_graph_control_characters_never_reach_the_output_raw(void **state)
{
    static const char yaml[] = TOPO_HEAD "    queues:\n"
                                         "      \"two\\nlines\\ttab\": { type: quorum }\n";
    char *dot = DRAW(*state, yaml, GRAPH_DOT);
    char *mmd;

    /* shown as a visible \n, so the DOT source has a doubled backslash */
    EXPECT_CONTAINS(dot, "q0 [label=\"two\\\\nlines\\\\ttab\\n(quorum)\"");
    EXPECT_LACKS(dot, "two\n");
    fx_release(*state);
    mmd = DRAW(*state, yaml, GRAPH_MERMAID);
    EXPECT_CONTAINS(mmd, "q0[\"two\\nlines\\ttab<br/>(quorum)\"]");
    EXPECT_LACKS(mmd, "two\n");
    free(dot);
    free(mmd);
}

static void test_graph_dot_names_cannot_use_graphviz_escapes(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    queues:\n"
                               "      \"q\\\\N\\\\l\": { type: quorum }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "q0 [label=\"q\\\\N\\\\l\\n(quorum)\"");
    free(out);
}

/* ---- dead letters ---- */

static const char dlx_yaml[] = TOPO_HEAD "    exchanges:\n"
                                         "      dlx: { type: topic }\n"
                                         "    queues:\n"
                                         "      work:\n"
                                         "        type: quorum\n"
                                         "        dead_letter_exchange: dlx\n"
                                         "        dead_letter_routing_key: work.dead\n"
                                         "      dlq:\n"
                                         "        type: quorum\n"
                                         "        message_ttl: 1d\n"
                                         "        bind: [{ exchange: dlx, routing_key: \"#\" }]\n";

static void test_graph_dot_dead_letter_edge_is_dashed_with_its_routing_key(void **state)
{
    char *out = DRAW(*state, dlx_yaml, GRAPH_DOT);

    EXPECT_CONTAINS(out, "        q0 -> x0 [label=\"dead-letter\\nkey work.dead\", "
                         "style=dashed");
    EXPECT_CONTAINS(out, "        x0 -> q1 [label=\"#\"];");
    free(out);
}

static void test_graph_mermaid_dead_letter_link_is_dotted_and_red(void **state)
{
    char *out = DRAW(*state, dlx_yaml, GRAPH_MERMAID);

    /* links: 0 the binding, 1 the dead-letter route */
    EXPECT_CONTAINS(out, "        x0 -->|\"#35;\"| q1\n");
    EXPECT_CONTAINS(out, "        q0 -.->|\"dead-letter<br/>key work.dead\"| x0\n");
    EXPECT_CONTAINS(out, "    linkStyle 1 stroke:#c0392b");
    free(out);
}

static void test_graph_default_exchange_is_drawn_only_when_used(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    queues:\n"
                               "      wait:\n"
                               "        type: quorum\n"
                               "        message_ttl: 10s\n"
                               "        dead_letter_exchange: \"\"\n"
                               "        dead_letter_routing_key: work\n"
                               "      work: { type: quorum }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "x0 [label=\"(default)\\n(direct, built-in)\"");
    EXPECT_CONTAINS(out, "q0 -> x0 [label=\"dead-letter\\nkey work\", style=dashed");
    free(out);
    fx_release(*state);

    out = DRAW(*state, simple_yaml, GRAPH_DOT);
    EXPECT_LACKS(out, "(default)");
    free(out);
}

static const char policy_yaml[] = TOPO_HEAD
    "    exchanges:\n"
    "      dlx.low: { type: fanout }\n"
    "      dlx.high: { type: fanout }\n"
    "      dlx.own: { type: fanout }\n"
    "    queues:\n"
    "      stage.1: { type: quorum }\n"
    "      stage.2: { type: quorum, dead_letter_exchange: dlx.own }\n"
    "      other: { type: quorum }\n"
    "      dlq: { type: quorum, message_ttl: 1d, bind: [{ exchange: dlx.low }, "
    "{ exchange: dlx.high }, { exchange: dlx.own }] }\n"
    "    policies:\n"
    "      low:\n"
    "        pattern: \"^stage\\\\.\\\\d$\"\n"
    "        apply_to: queues\n"
    "        priority: 1\n"
    "        definition: { dead-letter-exchange: dlx.low }\n"
    "      high:\n"
    "        pattern: \"^stage\"\n"
    "        priority: 5\n"
    "        definition: { dead-letter-exchange: dlx.high, dead-letter-routing-key: r }\n";

static void test_graph_dead_letter_exchange_from_the_highest_priority_policy(void **state)
{
    char *out = DRAW(*state, policy_yaml, GRAPH_DOT);

    /* stage.1 (q0): both policies match, "high" wins */
    EXPECT_CONTAINS(out, "q0 -> x1 [label=\"dead-letter\\nkey r\\n(policy high)\"");
    EXPECT_LACKS(out, "q0 -> x0");
    /* stage.2 (q1): its own argument wins over any policy */
    EXPECT_CONTAINS(out, "q1 -> x2 [label=\"dead-letter\", style=dashed");
    /* other (q2): no policy matches, no route */
    EXPECT_LACKS(out, "q2 ->");
    free(out);
}

static void test_graph_streams_never_dead_letter_even_under_a_policy(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    exchanges:\n"
                               "      dlx: { type: fanout }\n"
                               "    queues:\n"
                               "      log: { type: stream }\n"
                               "      dlq: { type: quorum, message_ttl: 1d, bind: [{ exchange: "
                               "dlx }] }\n"
                               "    policies:\n"
                               "      all-dl:\n"
                               "        pattern: \".*\"\n"
                               "        apply_to: queues\n"
                               "        definition: { dead-letter-exchange: dlx }\n",
                     GRAPH_DOT);

    EXPECT_LACKS(out, "q0 -> x0");
    free(out);
}

/* ---- alternate exchanges ---- */

static void test_graph_alternate_exchange_is_a_dotted_edge(void **state)
{
    static const char yaml[] = TOPO_HEAD "    exchanges:\n"
                                         "      main: { type: topic, alternate_exchange: lost }\n"
                                         "      lost: { type: fanout }\n"
                                         "    queues:\n"
                                         "      lost.log: { type: quorum, bind: [{ exchange: lost "
                                         "}] }\n";
    char *dot = DRAW(*state, yaml, GRAPH_DOT);
    char *mmd;

    EXPECT_CONTAINS(dot, "        x0 -> x1 [label=\"alternate\", style=dotted");
    fx_release(*state);
    mmd = DRAW(*state, yaml, GRAPH_MERMAID);
    /* links: 0 the binding, 1 the alternate exchange */
    EXPECT_CONTAINS(mmd, "        x0 -.->|\"alternate\"| x1\n");
    EXPECT_CONTAINS(mmd, "    linkStyle 1 stroke:#7f8c8d");
    free(dot);
    free(mmd);
}

static void test_graph_alternate_exchange_from_a_policy(void **state)
{
    char *out = DRAW(*state,
                     TOPO_HEAD "    exchanges:\n"
                               "      main: { type: topic }\n"
                               "    policies:\n"
                               "      ae:\n"
                               "        pattern: \"^main$\"\n"
                               "        apply_to: exchanges\n"
                               "        definition: { alternate-exchange: amq.fanout }\n",
                     GRAPH_DOT);

    EXPECT_CONTAINS(out, "x1 [label=\"amq.fanout\\n(fanout, built-in)\"");
    EXPECT_CONTAINS(out, "x0 -> x1 [label=\"alternate\\n(policy ae)\", style=dotted");
    free(out);
}

/* ---- the whole text ---- */

static void test_graph_dot_output_is_exactly_as_expected(void **state)
{
    char *out = DRAW(*state, simple_yaml, GRAPH_DOT);

    assert_string_equal(
        out,
        "digraph rmqtopo {\n"
        "    graph [rankdir=LR, bgcolor=white, fontname=\"Helvetica\", fontsize=12, "
        "nodesep=0.25, ranksep=0.9];\n"
        "    node [fontname=\"Helvetica\", fontsize=10];\n"
        "    edge [fontname=\"Helvetica\", fontsize=9];\n"
        "    subgraph cluster_0 {\n"
        "        style=rounded; color=\"#aab7b8\"; fontcolor=\"#34495e\"; label=\"vhost v\";\n"
        "        x0 [label=\"ex\\n(topic)\", shape=hexagon, style=filled, fillcolor=\"#fdebd0\", "
        "color=\"#b9770e\"];\n"
        "        q0 [label=\"qq\\n(quorum)\", shape=box, style=\"filled,rounded\", "
        "fillcolor=\"#d6eaf8\", color=\"#2874a6\"];\n"
        "        x0 -> q0 [label=\"a.*\"];\n"
        "    }\n"
        "}\n");
    free(out);
}

static void test_graph_output_is_deterministic(void **state)
{
    char *a = DRAW(*state, policy_yaml, GRAPH_DOT);
    char *b, *c, *d;
    struct strbuf again = {0};

    /* the same model drawn twice, and the same text loaded again */
    assert_int_equal(topology_graph(&((struct fx *)*state)->t, GRAPH_DOT, &again, NULL), 0);
    assert_string_equal(a, strbuf_str(&again));
    fx_release(*state);
    b = DRAW(*state, policy_yaml, GRAPH_DOT);
    assert_string_equal(a, b);
    fx_release(*state);
    c = DRAW(*state, policy_yaml, GRAPH_MERMAID);
    fx_release(*state);
    d = DRAW(*state, policy_yaml, GRAPH_MERMAID);
    assert_string_equal(c, d);
    free(a);
    free(b);
    free(c);
    free(d);
    strbuf_release(&again);
}

static void test_graph_appends_to_the_buffer(void **state)
{
    struct strbuf out = {0};

    fx_check(*state, simple_yaml);
    strbuf_adds(&out, "before\n");
    assert_int_equal(topology_graph(&((struct fx *)*state)->t, GRAPH_MERMAID, &out, NULL), 0);
    assert_true(strncmp(strbuf_str(&out), "before\nflowchart LR\n", 20) == 0);
    strbuf_release(&out);
}

/* ---- formats ---- */

static void test_graph_rejects_an_unknown_format(void **state)
{
    struct strbuf out = {0};
    struct rmqt_error err;

    fx_check(*state, simple_yaml);
    rmqt_error_init(&err);
    assert_int_equal(topology_graph(&((struct fx *)*state)->t, (enum graph_format)7, &out, &err),
                     -1);
    assert_int_equal(err.code, RMQT_ERR_USAGE);
    assert_int_equal(out.len, 0);
    strbuf_release(&out);
}

static void test_graph_format_names_parse(void **state)
{
    enum graph_format f = GRAPH_DOT;
    (void)state;

    assert_true(graph_format_parse("mermaid", &f));
    assert_int_equal(f, GRAPH_MERMAID);
    assert_true(graph_format_parse("dot", &f));
    assert_int_equal(f, GRAPH_DOT);
    assert_false(graph_format_parse("svg", &f));
    assert_false(graph_format_parse("DOT", &f));
    assert_int_equal(f, GRAPH_DOT);
    assert_string_equal(graph_format_name(GRAPH_MERMAID), "mermaid");
    assert_string_equal(graph_format_name(GRAPH_DOT), "dot");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_graph_dot_draws_exchange_queue_and_binding),
        FX_TEST(test_graph_mermaid_draws_exchange_queue_and_binding),
        FX_TEST(test_graph_queue_type_defaults_to_classic),
        FX_TEST(test_graph_fanout_binding_has_no_label),
        FX_TEST(test_graph_empty_routing_key_on_direct_exchange_is_shown),
        FX_TEST(test_graph_headers_binding_shows_its_arguments),
        FX_TEST(test_graph_exchange_to_exchange_binding),
        FX_TEST(test_graph_internal_exchange_is_marked),
        FX_TEST(test_graph_builtin_exchange_gets_a_node),
        FX_TEST(test_graph_exchange_and_queue_may_share_a_name),
        FX_TEST(test_graph_one_cluster_per_vhost_with_unique_ids),
        FX_TEST(test_graph_dot_escapes_quotes_and_backslashes),
        FX_TEST(test_graph_mermaid_escapes_quotes_as_entities),
        FX_TEST(test_graph_mermaid_escapes_entity_and_markup_characters),
        FX_TEST(test_graph_control_characters_never_reach_the_output_raw),
        FX_TEST(test_graph_dot_names_cannot_use_graphviz_escapes),
        FX_TEST(test_graph_dot_dead_letter_edge_is_dashed_with_its_routing_key),
        FX_TEST(test_graph_mermaid_dead_letter_link_is_dotted_and_red),
        FX_TEST(test_graph_default_exchange_is_drawn_only_when_used),
        FX_TEST(test_graph_dead_letter_exchange_from_the_highest_priority_policy),
        FX_TEST(test_graph_streams_never_dead_letter_even_under_a_policy),
        FX_TEST(test_graph_alternate_exchange_is_a_dotted_edge),
        FX_TEST(test_graph_alternate_exchange_from_a_policy),
        FX_TEST(test_graph_dot_output_is_exactly_as_expected),
        FX_TEST(test_graph_output_is_deterministic),
        FX_TEST(test_graph_appends_to_the_buffer),
        FX_TEST(test_graph_rejects_an_unknown_format),
        FX_TEST(test_graph_format_names_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
