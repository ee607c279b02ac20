/* Helpers of the reflective codec's tests: see desc_kit.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "desc_kit.h"

size_t dk_hex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  unsigned v;
  while (*hex != '\0') {
    if (*hex == ' ' || *hex == '\n') {
      hex++;
      continue;
    }
    assert_int_equal(sscanf(hex, "%2x", &v), 1);
    assert_true(n < cap);
    out[n++] = (uint8_t)v;
    hex += 2;
  }
  return n;
}

const netfw_desc_message *dk_msg(const netfw_desc *d, const char *name) {
  const netfw_desc_message *m = netfw_desc_message_by_name(d, name);
  if (m == NULL)
    fail_msg("no message '%s' in %s", name, d->proto);
  return m;
}

/* Fails unless m's payload is the n bytes exp, printing both in hex. */
static void assert_bytes(const netfw_msg *m, const uint8_t *exp, size_t n) {
  const uint8_t *p = netfw_msg_payload(m);
  size_t len = netfw_msg_size(m);
  if (len == n && (n == 0 || memcmp(p, exp, n) == 0))
    return;
  fprintf(stderr, "got  (%zu):", len);
  for (size_t i = 0; i < len; i++)
    fprintf(stderr, " %02x", p[i]);
  fprintf(stderr, "\nwant (%zu):", n);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, " %02x", exp[i]);
  fprintf(stderr, "\n");
  fail_msg("payload differs");
}

void dk_enc(const netfw_desc *d, const char *name, const char *json,
            netfw_msg *out) {
  char err[256] = "x";
  int rc = netfw_desc_encode_json(d, dk_msg(d, name), json, strlen(json), out,
                                  err, sizeof(err));
  if (rc != 0)
    fail_msg("encode %s %s: %s (%s)", name, json, netfw_err_name(rc), err);
  assert_string_equal(err, "");
}

void dk_dec(const netfw_desc *d, const char *name, const char *hex,
            const char *want) {
  static uint8_t buf[1 << 16];
  char err[256] = "x", *json = (char *)"x";
  size_t n = dk_hex(hex, buf, sizeof(buf));
  int rc = netfw_desc_decode_json(d, dk_msg(d, name), buf, n, &json, err,
                                  sizeof(err));
  if (rc != 0)
    fail_msg("decode %s [%s]: %s (%s)", name, hex, netfw_err_name(rc), err);
  assert_string_equal(err, "");
  assert_string_equal(json, want);
  free(json);
}

void dk_round(const netfw_desc *d, const char *name, const char *json,
              const char *hex, const char *want) {
  static uint8_t buf[1 << 16];
  size_t n = dk_hex(hex, buf, sizeof(buf));
  netfw_msg m;
  netfw_msg_init(&m, 0);
  dk_enc(d, name, json, &m);
  assert_bytes(&m, buf, n);
  assert_int_equal(netfw_msg_id(&m), dk_msg(d, name)->id);
  netfw_msg_release(&m);
  dk_dec(d, name, hex, want != NULL ? want : json);
}

void dk_dec_err(const netfw_desc *d, const char *name, const char *hex,
                int rc, const char *err) {
  static uint8_t buf[1 << 16];
  char got[256] = "x", *json = (char *)"x";
  size_t n = dk_hex(hex, buf, sizeof(buf));
  int r = netfw_desc_decode_json(d, dk_msg(d, name), buf, n, &json, got,
                                 sizeof(got));
  if (r != rc)
    fail_msg("decode %s [%s]: %s, want %s (%s)", name, hex, netfw_err_name(r),
             netfw_err_name(rc), got);
  assert_null(json);
  assert_string_equal(got, err);
}

void dk_enc_err(const netfw_desc *d, const char *name, const char *json,
                int rc, const char *err) {
  static const uint8_t before[3] = {0xaa, 0xbb, 0xcc};
  char got[256] = "x";
  netfw_msg m;
  int r;
  netfw_msg_init(&m, 4242);
  assert_int_equal(netfw_msg_append(&m, before, sizeof(before)), 0);
  r = netfw_desc_encode_json(d, dk_msg(d, name), json, strlen(json), &m, got,
                             sizeof(got));
  if (r != rc)
    fail_msg("encode %s %s: %s, want %s (%s)", name, json, netfw_err_name(r),
             netfw_err_name(rc), got);
  assert_string_equal(got, err);
  assert_bytes(&m, before, sizeof(before)); /* left as it was */
  assert_int_equal(netfw_msg_id(&m), 4242);
  netfw_msg_release(&m);
}
