/*
 * test_queueinfo.c - a queue's dead-letter settings as the broker applies them (arguments
 * against the effective policy, by key and queue type: broker-facts.md) and the delivery
 * limit in force by broker version (4.0 made 20 the quorum default).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "queueinfo.h"

static void from(const char *json, struct queue_info *qi)
{
    json_t *q = json_loads(json, 0, NULL);
    assert_non_null(q);
    queue_info_from_json(q, qi);
    json_decref(q);
}

static void test_queueinfo_argument_wins_for_dead_letter_exchange(void **state)
{
    struct queue_info qi;
    (void)state;
    from("{\"type\":\"classic\",\"arguments\":{\"x-dead-letter-exchange\":\"arg\"},"
         "\"effective_policy_definition\":{\"dead-letter-exchange\":\"pol\"}}",
         &qi);
    assert_true(qi.has_dlx);
    assert_string_equal(qi.dlx, "arg");
    from("{\"type\":\"classic\",\"arguments\":{},"
         "\"effective_policy_definition\":{\"dead-letter-exchange\":\"pol\","
         "\"dead-letter-routing-key\":\"k\"}}",
         &qi);
    assert_string_equal(qi.dlx, "pol");
    assert_true(qi.has_dlrk);
    assert_string_equal(qi.dlrk, "k");
}

static void test_queueinfo_overflow_policy_wins_on_quorum_argument_on_classic(void **state)
{
    struct queue_info qi;
    (void)state;
    from("{\"type\":\"quorum\",\"arguments\":{\"x-overflow\":\"drop-head\"},"
         "\"effective_policy_definition\":{\"overflow\":\"reject-publish\"}}",
         &qi);
    assert_string_equal(qi.overflow, "reject-publish");
    from("{\"type\":\"classic\",\"arguments\":{\"x-overflow\":\"drop-head\"},"
         "\"effective_policy_definition\":{\"overflow\":\"reject-publish\"}}",
         &qi);
    assert_string_equal(qi.overflow, "drop-head");
    from("{\"type\":\"classic\"}", &qi);
    assert_string_equal(qi.overflow, "drop-head");
    assert_false(qi.has_dlx);
}

static void test_queueinfo_lower_delivery_limit_wins(void **state)
{
    struct queue_info qi;
    (void)state;
    from("{\"type\":\"quorum\",\"arguments\":{\"x-delivery-limit\":10},"
         "\"effective_policy_definition\":{\"delivery-limit\":3}}",
         &qi);
    assert_int_equal(qi.delivery_limit, 3);
    from("{\"type\":\"quorum\",\"arguments\":{\"x-delivery-limit\":2},"
         "\"effective_policy_definition\":{\"delivery-limit\":3}}",
         &qi);
    assert_int_equal(qi.delivery_limit, 2);
    from("{\"type\":\"quorum\",\"arguments\":{}}", &qi);
    assert_int_equal(qi.delivery_limit, -1);
}

static void test_queueinfo_delivery_limit_default_is_20_from_4_0(void **state)
{
    struct queue_info qi;
    (void)state;
    from("{\"type\":\"quorum\",\"arguments\":{}}", &qi);
    assert_int_equal(queue_info_effective_delivery_limit(&qi, 3), -1);
    assert_int_equal(queue_info_effective_delivery_limit(&qi, 4), 20);
    from("{\"type\":\"quorum\",\"arguments\":{\"x-delivery-limit\":7}}", &qi);
    assert_int_equal(queue_info_effective_delivery_limit(&qi, 4), 7);
    from("{\"type\":\"classic\",\"arguments\":{\"x-delivery-limit\":7}}", &qi);
    assert_int_equal(queue_info_effective_delivery_limit(&qi, 4), -1);
}

static void test_queueinfo_ignores_values_of_the_wrong_type(void **state)
{
    struct queue_info qi;
    (void)state;
    from("{\"type\":\"quorum\",\"arguments\":{\"x-delivery-limit\":\"5\","
         "\"x-dead-letter-exchange\":5},\"effective_policy_definition\":[]}",
         &qi);
    assert_int_equal(qi.delivery_limit, -1);
    assert_false(qi.has_dlx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queueinfo_argument_wins_for_dead_letter_exchange),
        cmocka_unit_test(test_queueinfo_overflow_policy_wins_on_quorum_argument_on_classic),
        cmocka_unit_test(test_queueinfo_lower_delivery_limit_wins),
        cmocka_unit_test(test_queueinfo_delivery_limit_default_is_20_from_4_0),
        cmocka_unit_test(test_queueinfo_ignores_values_of_the_wrong_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
