/* Fuzz target: the PROXY protocol header parser (runtime/proxy/header.c).
 *
 * The input is parsed whole, then prefix by prefix, each prefix from a heap
 * copy of exactly its length so that ASan catches a read past len. Checked:
 * a result is -1 with a reason, 0 without one, or a length within the
 * input and the bounds (107 bytes for v1, 16 + 4096 for v2); every prefix
 * shorter than an accepted header asks for more; once a prefix is refused,
 * every longer one is too; a v1 header ends in CRLF; a TCP4 v1 header is
 * exactly what its parsed fields print as (the parser is strict); a client
 * address is IPv4 or IPv6 unless the header is local. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses the first len bytes of data from an exact heap copy. */
static ssize_t parse_prefix(const uint8_t *data, size_t len,
                            netfw__proxy_hdr *h) {
  uint8_t *copy = malloc(len > 0 ? len : 1);
  const char *why = NULL;
  ssize_t r;

  if (copy == NULL)
    abort();
  memcpy(copy, data, len);
  r = netfw__proxy_parse(copy, len, h, &why);
  free(copy);
  if ((r < 0) != (why != NULL) || r < -1)
    abort(); /* a reason exactly when refused */
  if (r > (ssize_t)len || r > NETFW__PROXY_V2_MAX)
    abort();
  return r;
}

/* A TCP4 v1 header is what its fields print as. */
static void check_v1_tcp4(const uint8_t *data, ssize_t r,
                          const netfw__proxy_hdr *h) {
  const struct sockaddr_in *s = (const struct sockaddr_in *)&h->src;
  const struct sockaddr_in *d = (const struct sockaddr_in *)&h->dst;
  char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], line[160];
  int n;

  inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
  inet_ntop(AF_INET, &d->sin_addr, b, sizeof(b));
  n = snprintf(line, sizeof(line), "PROXY TCP4 %s %s %u %u\r\n", a, b,
               (unsigned)ntohs(s->sin_port), (unsigned)ntohs(d->sin_port));
  if (n != r || memcmp(line, data, (size_t)n) != 0)
    abort();
}

/* The checks on an accepted header of length r. */
static void check_accepted(const uint8_t *data, ssize_t r,
                           const netfw__proxy_hdr *h) {
  int fam = h->src.ss_family;

  if (h->version == 1) {
    if (r > NETFW__PROXY_V1_MAX || data[r - 2] != '\r' || data[r - 1] != '\n')
      abort();
    if (!h->local && h->src.ss_family == AF_INET)
      check_v1_tcp4(data, r, h);
  } else if (h->version != 2 || r < 16) {
    abort();
  }
  if (h->local ? fam != 0 : (fam != AF_INET && fam != AF_INET6) ||
                                 h->dst.ss_family != fam)
    abort();
}

/* Which prefix lengths to try: all up to 256 (the parser reads no further
 * into a header), then a few, and the one just short of the header. */
static bool try_prefix(size_t k, size_t size, ssize_t whole) {
  return k <= 256 || k % 509 == 0 || k + 1 == size ||
         (whole > 0 && k + 1 == (size_t)whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  netfw__proxy_hdr h, hp;
  ssize_t whole = parse_prefix(data, size, &h);
  bool refused = false;
  size_t k;

  if (whole > 0)
    check_accepted(data, whole, &h);
  for (k = 0; k < size; k++) {
    ssize_t r;
    if (!try_prefix(k, size, whole))
      continue;
    r = parse_prefix(data, k, &hp);
    if (refused && r != -1)
      abort(); /* refused once, refused for good */
    refused = r == -1;
    if (whole > 0 && (size_t)k < (size_t)whole && r != 0)
      abort(); /* a prefix of a good header needs more */
    if (whole >= 0 && r == -1)
      abort(); /* the whole was not refused, so no prefix may be */
    if (r > 0 && (r != whole || memcmp(&hp, &h, sizeof(h)) != 0))
      abort(); /* once complete, more bytes change nothing */
  }
  return 0;
}
