/* file_storage_server's hand-built GET_RESP prefix (fs_get_prefix) against
 * the generated encoder, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "file_storage.netfw.h"
#include "fs_server.h"

/* Encodes a GetResp of name and a size-byte file with the generated code
 * and checks fs_get_prefix's bytes are its payload's start, the file after. */
static void check_prefix(const char *name, uint32_t size) {
  uint8_t prefix[FS_GET_PREFIX_MAX];
  uint8_t *file = malloc(size > 0 ? size : 1);
  file_storage_GetResp resp;
  netfw_msg m;
  size_t n;

  assert_non_null(file);
  for (uint32_t i = 0; i < size; i++)
    file[i] = (uint8_t)(i * 7 + 1);
  resp.filename.ptr = name;
  resp.filename.len = (uint32_t)strlen(name);
  resp.file.ptr = file;
  resp.file.len = size;
  netfw_msg_init(&m, 0);
  assert_int_equal(file_storage_GetResp_encode(&resp, &m), 0);
  n = fs_get_prefix(prefix, name, (uint8_t)strlen(name), size);
  assert_int_equal(netfw_msg_id(&m), FILE_STORAGE_GET_RESP_ID);
  assert_int_equal(netfw_msg_size(&m), n + size);
  assert_int_equal(file_storage_GetResp_encoded_size(&resp), n + size);
  assert_memory_equal(netfw_msg_payload(&m), prefix, n);
  if (size > 0)
    assert_memory_equal(netfw_msg_payload(&m) + n, file, size);
  netfw_msg_release(&m);
  free(file);
}

static void test_get_prefix_matches_encoder(void **state) {
  char longest[STORE_NAME_MAX + 1];
  (void)state;

  memset(longest, 'n', STORE_NAME_MAX);
  longest[STORE_NAME_MAX] = '\0';
  check_prefix("a", 0);
  check_prefix("a.txt", 3);
  check_prefix("\xc3\xa9t\xc3\xa9", 258);     /* UTF-8; length over a byte */
  check_prefix(longest, 70000);               /* 255-byte name; 3-byte size */
  check_prefix("big", 16u * 1024 * 1024 + 5); /* every size byte non-zero */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_prefix_matches_encoder),
  };
  return cmocka_run_group_tests_name("file_storage_server", tests, NULL, NULL);
}
