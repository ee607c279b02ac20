/* The PROXY protocol header parser and the trusted-sources policy
 * (runtime/proxy): exact results for every kind of header, every prefix of
 * a valid header asks for more (each in a buffer of exactly its length, so
 * ASan catches any read past it), the errors with their reasons; the
 * proxy_from lists, good and bad. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy.h"

/* Parses the len bytes at data from a heap copy of exactly len bytes. */
static ssize_t parse(const void *data, size_t len, netfw__proxy_hdr *h,
                     const char **why) {
  unsigned char *copy = malloc(len > 0 ? len : 1);
  ssize_t r;

  assert_non_null(copy);
  memcpy(copy, data, len);
  r = netfw__proxy_parse(copy, len, h, why);
  free(copy);
  return r;
}

/* Every proper prefix of a valid header needs more bytes. */
static void all_prefixes_need_more(const void *data, size_t hlen) {
  netfw__proxy_hdr h;
  const char *why;
  size_t k;

  for (k = 0; k < hlen; k++) {
    assert_int_equal(parse(data, k, &h, &why), 0);
    assert_null(why);
  }
}

/* Asserts ss is family ip:port. */
static void assert_addr(const struct sockaddr_storage *ss, int family,
                        const char *ip, unsigned port) {
  char got[INET6_ADDRSTRLEN];

  assert_int_equal(ss->ss_family, family);
  if (family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, got, sizeof(got));
    assert_int_equal(ntohs(a->sin_port), port);
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, got, sizeof(got));
    assert_int_equal(ntohs(a->sin6_port), port);
  }
  assert_string_equal(got, ip);
}

/* Parses a valid header followed by "after": its exact length back, and
 * every prefix needs more. */
static void parse_ok(const char *hdr, size_t hlen, netfw__proxy_hdr *h) {
  unsigned char buf[NETFW__PROXY_V2_MAX + 8];
  const char *why = "unset";

  assert_true(hlen + 5 <= sizeof(buf));
  memcpy(buf, hdr, hlen);
  memcpy(buf + hlen, "AFTER", 5);
  assert_int_equal(parse(buf, hlen + 5, h, &why), (ssize_t)hlen);
  assert_null(why);
  assert_int_equal(parse(buf, hlen, h, &why), (ssize_t)hlen);
  all_prefixes_need_more(buf, hlen);
}

/* Parses data (len bytes) expecting -1 with exactly that reason. */
static void parse_bad(const void *data, size_t len, const char *reason) {
  netfw__proxy_hdr h;
  const char *why = NULL;

  assert_int_equal(parse(data, len, &h, &why), -1);
  assert_non_null(why);
  assert_string_equal(why, reason);
}

#define V1_OK(s, h) parse_ok((s), sizeof(s) - 1, (h))
#define V1_BAD(s, r) parse_bad((s), sizeof(s) - 1, (r))

/* ---- v1 ---- */

static void v1_tcp4(void **state) {
  netfw__proxy_hdr h;

  (void)state;
  V1_OK("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", &h);
  assert_int_equal(h.version, 1);
  assert_false(h.local);
  assert_addr(&h.src, AF_INET, "192.168.0.1", 56324);
  assert_addr(&h.dst, AF_INET, "192.168.0.11", 443);
  V1_OK("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", &h);
  assert_addr(&h.src, AF_INET, "0.0.0.0", 0);
  assert_addr(&h.dst, AF_INET, "255.255.255.255", 65535);
}

static void v1_tcp6(void **state) {
  netfw__proxy_hdr h;

  (void)state;
  V1_OK("PROXY TCP6 2001:db8::1 ::1 1 8080\r\n", &h);
  assert_int_equal(h.version, 1);
  assert_false(h.local);
  assert_addr(&h.src, AF_INET6, "2001:db8::1", 1);
  assert_addr(&h.dst, AF_INET6, "::1", 8080);
  V1_OK("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
        &h);
  assert_addr(&h.src, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
              65535);
}

static void v1_unknown(void **state) {
  netfw__proxy_hdr h;
  char line[NETFW__PROXY_V1_MAX + 2];

  (void)state;
  V1_OK("PROXY UNKNOWN\r\n", &h);
  assert_int_equal(h.version, 1);
  assert_true(h.local);
  assert_int_equal(h.src.ss_family, 0);
  V1_OK("PROXY UNKNOWN ffff::1 ::1 65535 65535\r\n", &h);
  assert_true(h.local);
  /* the longest line: 107 bytes with its CRLF */
  memset(line, 'x', sizeof(line));
  memcpy(line, "PROXY UNKNOWN ", 14);
  memcpy(line + 105, "\r\n", 2);
  parse_ok(line, 107, &h);
  assert_true(h.local);
}

static void v1_errors(void **state) {
  char line[200];

  (void)state;
  V1_BAD("GET / HTTP/1.0\r\n", "no PROXY protocol header");
  V1_BAD("PROXX", "no PROXY protocol header");
  V1_BAD("P\r", "no PROXY protocol header");
  V1_BAD("\x16\x03\x01", "no PROXY protocol header");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "malformed v1 header");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "malformed v1 header");
  V1_BAD("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "malformed v1 header");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "malformed v1 header");
  V1_BAD("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP4 ::1 ::1 1 2\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
         "malformed v1 header (protocol, address or port)");
  V1_BAD("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n",
         "malformed v1 header (NUL byte)");
  V1_BAD("PROXY UNKNOWNX\r\n", "malformed v1 header");
  /* no CRLF within 107 bytes: refused at 107, not before */
  memset(line, 'x', sizeof(line));
  memcpy(line, "PROXY UNKNOWN ", 14);
  all_prefixes_need_more(line, NETFW__PROXY_V1_MAX);
  parse_bad(line, NETFW__PROXY_V1_MAX,
            "v1 header without CRLF within 107 bytes");
  memcpy(line + 106, "\r\n", 2); /* 108 bytes with its CRLF */
  parse_bad(line, 108, "v1 header without CRLF within 107 bytes");
  parse_bad(line, sizeof(line), "v1 header without CRLF within 107 bytes");
}

/* ---- v2 ---- */

/* Writes a v2 header: command cmd (0 LOCAL, 1 PROXY), family/transport
 * byte fam, n address bytes, then tlv bytes of TLVs. Returns its length. */
static size_t v2(unsigned char *out, unsigned ver_cmd, unsigned fam,
                 const void *addrs, size_t n, const void *tlv, size_t tn) {
  static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                        0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
  size_t len = n + tn;

  memcpy(out, sig, 12);
  out[12] = (unsigned char)ver_cmd;
  out[13] = (unsigned char)fam;
  out[14] = (unsigned char)(len >> 8);
  out[15] = (unsigned char)len;
  if (n > 0)
    memcpy(out + 16, addrs, n);
  if (tn > 0)
    memcpy(out + 16 + n, tlv, tn);
  return 16 + len;
}

/* IPv4 10.1.2.3:54321 -> 10.0.0.1:443 */
static const unsigned char a4[12] = {10, 1, 2, 3, 10, 0, 0, 1,
                                     0xd4, 0x31, 0x01, 0xbb};
/* a TLV list: ALPN "h2", a NOOP of 3 bytes, an AUTHORITY "example.com" */
static const unsigned char tlvs[] = {0x01, 0, 2, 'h', '2', 0x04, 0, 3, 0, 0, 0,
                                     0x02, 0, 11, 'e', 'x', 'a', 'm', 'p', 'l',
                                     'e', '.', 'c', 'o', 'm'};

static void v2_tcp4(void **state) {
  unsigned char buf[64];
  netfw__proxy_hdr h;
  size_t n;

  (void)state;
  n = v2(buf, 0x21, 0x11, a4, sizeof(a4), NULL, 0);
  assert_int_equal(n, 28);
  parse_ok((const char *)buf, n, &h);
  assert_int_equal(h.version, 2);
  assert_false(h.local);
  assert_addr(&h.src, AF_INET, "10.1.2.3", 54321);
  assert_addr(&h.dst, AF_INET, "10.0.0.1", 443);
  n = v2(buf, 0x21, 0x11, a4, sizeof(a4), tlvs, sizeof(tlvs));
  assert_int_equal(n, 28 + sizeof(tlvs));
  parse_ok((const char *)buf, n, &h);
  assert_false(h.local);
  assert_addr(&h.src, AF_INET, "10.1.2.3", 54321);
  assert_addr(&h.dst, AF_INET, "10.0.0.1", 443);
}

static void v2_tcp6(void **state) {
  unsigned char buf[128], a6[36];
  netfw__proxy_hdr h;
  size_t n;

  (void)state;
  inet_pton(AF_INET6, "2001:db8::7", a6);
  inet_pton(AF_INET6, "::1", a6 + 16);
  a6[32] = 0xff, a6[33] = 0xff, a6[34] = 0x00, a6[35] = 0x01;
  n = v2(buf, 0x21, 0x21, a6, sizeof(a6), NULL, 0);
  assert_int_equal(n, 52);
  parse_ok((const char *)buf, n, &h);
  assert_int_equal(h.version, 2);
  assert_false(h.local);
  assert_addr(&h.src, AF_INET6, "2001:db8::7", 65535);
  assert_addr(&h.dst, AF_INET6, "::1", 1);
  n = v2(buf, 0x21, 0x21, a6, sizeof(a6), tlvs, sizeof(tlvs));
  parse_ok((const char *)buf, n, &h);
  assert_addr(&h.src, AF_INET6, "2001:db8::7", 65535);
}

static void v2_local(void **state) {
  unsigned char buf[64];
  netfw__proxy_hdr h;
  size_t n;

  (void)state;
  n = v2(buf, 0x20, 0x00, NULL, 0, NULL, 0); /* HAProxy's health check */
  assert_int_equal(n, 16);
  parse_ok((const char *)buf, n, &h);
  assert_int_equal(h.version, 2);
  assert_true(h.local);
  assert_int_equal(h.src.ss_family, 0);
  /* LOCAL with addresses: they are ignored */
  n = v2(buf, 0x20, 0x11, a4, sizeof(a4), tlvs, sizeof(tlvs));
  parse_ok((const char *)buf, n, &h);
  assert_true(h.local);
  assert_int_equal(h.src.ss_family, 0);
}

/* UNIX, datagrams and UNSPEC carry no TCP client: local. */
static void v2_other_families(void **state) {
  static const unsigned fams[] = {0x00, 0x12, 0x22, 0x31, 0x32, 0x10, 0x20};
  unsigned char buf[256], unix_addrs[216];
  netfw__proxy_hdr h;
  size_t i, n;

  (void)state;
  memset(unix_addrs, 0, sizeof(unix_addrs));
  memcpy(unix_addrs, "/run/a.sock", 11);
  for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
    n = v2(buf, 0x21, fams[i], unix_addrs, (fams[i] >> 4) == 3 ? 216 : 36,
           NULL, 0);
    parse_ok((const char *)buf, n, &h);
    assert_int_equal(h.version, 2);
    assert_true(h.local);
  }
}

static void v2_errors(void **state) {
  unsigned char buf[64];
  size_t n;

  (void)state;
  n = v2(buf, 0x11, 0x11, a4, sizeof(a4), NULL, 0);
  parse_bad(buf, n, "v2 header with an unknown version or command");
  n = v2(buf, 0x31, 0x11, a4, sizeof(a4), NULL, 0);
  parse_bad(buf, n, "v2 header with an unknown version or command");
  n = v2(buf, 0x22, 0x11, a4, sizeof(a4), NULL, 0);
  parse_bad(buf, n, "v2 header with an unknown version or command");
  n = v2(buf, 0x2f, 0x11, a4, sizeof(a4), NULL, 0);
  parse_bad(buf, 16, "v2 header with an unknown version or command");
  /* length 4097: refused from its first 16 bytes */
  v2(buf, 0x21, 0x11, NULL, 0, NULL, 0);
  buf[14] = 0x10, buf[15] = 0x01;
  parse_bad(buf, 16, "v2 header over 4112 bytes");
  buf[14] = 0xff, buf[15] = 0xff;
  parse_bad(buf, 16, "v2 header over 4112 bytes");
  /* too short for its family */
  n = v2(buf, 0x21, 0x11, a4, 11, NULL, 0);
  parse_bad(buf, n, "v2 header shorter than its address family needs");
  n = v2(buf, 0x21, 0x11, NULL, 0, NULL, 0);
  parse_bad(buf, n, "v2 header shorter than its address family needs");
  n = v2(buf, 0x21, 0x21, a4, sizeof(a4), NULL, 0);
  parse_bad(buf, n, "v2 header shorter than its address family needs");
  /* a broken signature */
  n = v2(buf, 0x21, 0x11, a4, sizeof(a4), NULL, 0);
  buf[11] = 0x0b;
  parse_bad(buf, n, "no PROXY protocol header");
  parse_bad(buf, 12, "no PROXY protocol header");
}

/* The longest v2 header (4096 bytes after the head) is accepted. */
static void v2_longest(void **state) {
  unsigned char *buf = calloc(1, NETFW__PROXY_V2_MAX);
  netfw__proxy_hdr h;
  const char *why;

  (void)state;
  assert_non_null(buf);
  v2(buf, 0x21, 0x11, a4, sizeof(a4), NULL, 0);
  buf[14] = 0x10, buf[15] = 0x00;
  assert_int_equal(parse(buf, NETFW__PROXY_V2_MAX, &h, &why),
                   NETFW__PROXY_V2_MAX);
  assert_addr(&h.src, AF_INET, "10.1.2.3", 54321);
  assert_int_equal(parse(buf, NETFW__PROXY_V2_MAX - 1, &h, &why), 0);
  free(buf);
}

/* ---- the policy ---- */

/* A sockaddr for ip (v4 or v6). */
static struct sockaddr_storage sa(const char *ip) {
  struct sockaddr_storage ss;

  memset(&ss, 0, sizeof(ss));
  if (strchr(ip, ':') == NULL) {
    ss.ss_family = AF_INET;
    assert_int_equal(
        inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr), 1);
  } else {
    ss.ss_family = AF_INET6;
    assert_int_equal(
        inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
  }
  return ss;
}

static bool trusted(const netfw__proxy_policy *p, const char *ip) {
  struct sockaddr_storage ss = sa(ip);

  return netfw__proxy_trusted(p, (const struct sockaddr *)&ss);
}

static netfw__proxy_policy *policy(const char *from) {
  char err[200] = "";
  netfw__proxy_policy *p = netfw__proxy_policy_new(from, err, sizeof(err));

  if (p == NULL)
    fail_msg("%s: %s", from, err);
  return p;
}

static void policy_networks(void **state) {
  netfw__proxy_policy *p = policy("127.0.0.1/32,10.0.0.0/8,::1/128");

  (void)state;
  assert_true(trusted(p, "127.0.0.1"));
  assert_false(trusted(p, "127.0.0.2"));
  assert_true(trusted(p, "10.0.0.0"));
  assert_true(trusted(p, "10.255.255.255"));
  assert_false(trusted(p, "11.0.0.0"));
  assert_false(trusted(p, "9.255.255.255"));
  assert_true(trusted(p, "::1"));
  assert_false(trusted(p, "::2"));
  assert_true(trusted(p, "::ffff:127.0.0.1")); /* v4-mapped: as IPv4 */
  assert_true(trusted(p, "::ffff:10.9.8.7"));
  assert_false(trusted(p, "::ffff:127.0.0.2"));
  netfw__proxy_policy_free(p);
  p = policy(" 192.168.1.7 , 2001:db8::/32 ,172.16.0.0/12");
  assert_true(trusted(p, "192.168.1.7"));
  assert_false(trusted(p, "192.168.1.8"));
  assert_true(trusted(p, "2001:db8:ffff::1"));
  assert_false(trusted(p, "2001:db9::1"));
  assert_true(trusted(p, "172.31.255.255"));
  assert_false(trusted(p, "172.32.0.0"));
  netfw__proxy_policy_free(p);
  p = policy("10.1.2.3/8"); /* host bits are cleared */
  assert_true(trusted(p, "10.200.0.1"));
  netfw__proxy_policy_free(p);
}

static void policy_any(void **state) {
  netfw__proxy_policy *p = policy("0.0.0.0/0");

  (void)state;
  assert_true(trusted(p, "1.2.3.4"));
  assert_true(trusted(p, "::ffff:1.2.3.4"));
  assert_false(trusted(p, "::1")); /* /0 of IPv4 is IPv4 only */
  netfw__proxy_policy_free(p);
  p = policy("::/0");
  assert_true(trusted(p, "2001:db8::1"));
  assert_false(trusted(p, "1.2.3.4"));
  netfw__proxy_policy_free(p);
  p = policy(NULL); /* NULL: anyone */
  assert_true(trusted(p, "1.2.3.4"));
  assert_true(trusted(p, "::1"));
  netfw__proxy_policy_free(p);
  assert_true(trusted(NULL, "8.8.8.8"));
  netfw__proxy_policy_free(NULL);
}

/* A bad list is refused, naming the bad entry. */
static void policy_bad(void **state) {
  static const char *const cases[][2] = {
      {"10.0.0.0/33", "10.0.0.0/33"},
      {"::1/129", "::1/129"},
      {"", ""},
      {"a,,b", "a"},
      {"10.0.0.1,,10.0.0.2", ""},
      {"10.0.0.1,", ""},
      {"1.2.3.4/", "1.2.3.4/"},
      {"1.2.3.4/x", "1.2.3.4/x"},
      {"1.2.3.4/-1", "1.2.3.4/-1"},
      {"127.0.0.1/32,localhost", "localhost"},
      {"1.2.3", "1.2.3"},
      {"/8", "/8"},
      {"1.2.3.4/+8", "1.2.3.4/+8"},
      {"1.2.3.4/ 8", "1.2.3.4/ 8"},
      /* too long: named by its first 63 bytes, not cut to "/0" and taken */
      {"10.0.0.0/000000000000000000000000000000000000000000000000000000008",
       "10.0.0.0/000000000000000000000000000000000000000000000000000000"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char err[200] = "", want[200];
    netfw__proxy_policy *p =
        netfw__proxy_policy_new(cases[i][0], err, sizeof(err));
    if (p != NULL)
      fail_msg("\"%s\" accepted", cases[i][0]);
    snprintf(want, sizeof(want),
             "proxy_from: \"%s\" is not an address or network "
             "(ADDR or ADDR/BITS)",
             cases[i][1]);
    assert_string_equal(err, want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(v1_tcp4),          cmocka_unit_test(v1_tcp6),
      cmocka_unit_test(v1_unknown),       cmocka_unit_test(v1_errors),
      cmocka_unit_test(v2_tcp4),          cmocka_unit_test(v2_tcp6),
      cmocka_unit_test(v2_local),         cmocka_unit_test(v2_other_families),
      cmocka_unit_test(v2_errors),        cmocka_unit_test(v2_longest),
      cmocka_unit_test(policy_networks),  cmocka_unit_test(policy_any),
      cmocka_unit_test(policy_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
