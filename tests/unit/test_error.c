/* Error table: every code has a distinct negative value, a name and a text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netfw/netfw.h"

static void test_error_names_and_messages(void **state) {
  assert_string_equal(netfw_err_name(NETFW_ERANGE), "NETFW_ERANGE");
  assert_string_equal(netfw_err_name(NETFW_ETIMEDOUT), "NETFW_ETIMEDOUT");
  assert_string_equal(netfw_err_name(0), "NETFW_OK");
  assert_string_equal(netfw_err_name(12345), "NETFW_UNKNOWN");
  assert_string_equal(netfw_strerror(0), "success");
  assert_string_equal(netfw_strerror(NETFW_ECONNRESET), "connection lost");
  assert_string_equal(netfw_strerror(NETFW_ECLOSED),
                      "connection closed by the peer");
  assert_string_equal(netfw_err_name(NETFW_ECLOSED), "NETFW_ECLOSED");
  assert_string_equal(netfw_strerror(-9999), "unknown error");
}

static void test_error_codes_distinct_and_negative(void **state) {
  static const int codes[] = {
#define XX(name, value, msg) NETFW_##name,
      NETFW_ERRNO_MAP(XX)
#undef XX
  };
  const size_t n = sizeof(codes) / sizeof(codes[0]);
  assert_true(n >= 13);
  for (size_t i = 0; i < n; i++) {
    assert_true(codes[i] < 0);
    assert_string_not_equal(netfw_err_name(codes[i]), "NETFW_UNKNOWN");
    assert_string_not_equal(netfw_strerror(codes[i]), "unknown error");
    for (size_t j = i + 1; j < n; j++)
      assert_int_not_equal(codes[i], codes[j]);
  }
}

static void test_error_version(void **state) {
  assert_string_equal(netfw_version(), NETFW_VERSION_STRING);
  assert_int_equal(NETFW_VERSION_HEX, (NETFW_VERSION_MAJOR << 16) |
                                          (NETFW_VERSION_MINOR << 8) |
                                          NETFW_VERSION_PATCH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_names_and_messages),
      cmocka_unit_test(test_error_codes_distinct_and_negative),
      cmocka_unit_test(test_error_version),
  };
  return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
