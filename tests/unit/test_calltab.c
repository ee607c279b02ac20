/* The call table: requests, replies and which replies answer which request,
 * from a descriptor's returns; ids out of order and unknown ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "calltab.h"
#include "netfw/netfw.h"

/* Get(3) returns GetResp(40) | Ack(7); List(5) returns ListResp(6);
 * Line(9) is a push; Say(2) is one-way. Listed out of id order. */
static const uint16_t get_returns[] = {1, 4};
static const uint16_t list_returns[] = {3};
static const netfw_desc_message msgs[] = {
    {.id = 3, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Get"},
     .returns = get_returns, .nreturns = 2},
    {.id = 40, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "GetResp"}},
    {.id = 5, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "List"},
     .returns = list_returns, .nreturns = 1},
    {.id = 6, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "ListResp"}},
    {.id = 7, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "Ack"}},
    {.id = 9, .dir = NETFW_DESC_TO_CLIENT, .body = {.name = "Line"}},
    {.id = 2, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Say"}},
};
static const netfw_desc desc = {.abi = NETFW_DESC_ABI, .proto = "t",
                                .messages = msgs, .nmessages = 7};

static void test_calltab_kinds(void **state) {
  (void)state;
  netfw__calltab *t = NULL;
  assert_int_equal(netfw__calltab_new(&desc, &t), 0);
  assert_true(netfw__calltab_is_request(t, 3));
  assert_true(netfw__calltab_is_request(t, 5));
  assert_false(netfw__calltab_is_request(t, 2));
  assert_false(netfw__calltab_is_request(t, 40));
  assert_false(netfw__calltab_is_request(t, 1000));
  assert_true(netfw__calltab_is_reply(t, 40));
  assert_true(netfw__calltab_is_reply(t, 7));
  assert_true(netfw__calltab_is_reply(t, 6));
  assert_false(netfw__calltab_is_reply(t, 9));
  assert_false(netfw__calltab_is_reply(t, 3));
  assert_false(netfw__calltab_is_reply(t, 0));
  assert_true(netfw__calltab_answers(t, 3, 40));
  assert_true(netfw__calltab_answers(t, 3, 7));
  assert_false(netfw__calltab_answers(t, 3, 6));
  assert_true(netfw__calltab_answers(t, 5, 6));
  assert_false(netfw__calltab_answers(t, 5, 7));
  assert_false(netfw__calltab_answers(t, 2, 7));
  assert_false(netfw__calltab_answers(t, 77, 7));
  assert_string_equal(netfw__calltab_name(t, 40), "GetResp");
  assert_string_equal(netfw__calltab_name(t, 2), "Say");
  assert_string_equal(netfw__calltab_name(t, 8), "");
  netfw__calltab_free(t);
}

static void test_calltab_bad(void **state) {
  (void)state;
  netfw__calltab *t = NULL;
  static const uint16_t past[] = {7};
  netfw_desc_message bad[] = {{.id = 1, .body = {.name = "A"},
                               .returns = past, .nreturns = 1}};
  netfw_desc d = {.abi = NETFW_DESC_ABI, .messages = bad, .nmessages = 1};
  assert_int_equal(netfw__calltab_new(&d, &t), NETFW_EINVAL);
  assert_null(t);
  assert_int_equal(netfw__calltab_new(NULL, &t), NETFW_EINVAL);
  netfw_desc empty = {.abi = NETFW_DESC_ABI};
  assert_int_equal(netfw__calltab_new(&empty, &t), 0);
  assert_false(netfw__calltab_is_request(t, 0));
  assert_false(netfw__calltab_is_reply(t, 0));
  netfw__calltab_free(t);
  netfw__calltab_free(NULL);
  assert_false(netfw__calltab_is_request(NULL, 3));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calltab_kinds),
      cmocka_unit_test(test_calltab_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
