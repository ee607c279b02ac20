/* The PROXY protocol header parser, v1 and v2 (see proxy.h). Strict: v1's
 * fields separated by single spaces and ended by CRLF, ports in decimal
 * without sign or leading zeros; v2's signature, version and command
 * checked, its address block as long as its family needs. TLVs are
 * skipped. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxy.h"

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";

/* Fills *ss with an IPv4 or IPv6 address and port. */
static void set_addr(struct sockaddr_storage *ss, int family, const void *ip,
                     unsigned port) {
  memset(ss, 0, sizeof(*ss));
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    memcpy(&a->sin_addr, ip, 4);
    a->sin_port = htons((uint16_t)port);
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    memcpy(&a->sin6_addr, ip, 16);
    a->sin6_port = htons((uint16_t)port);
  }
}

/* ---- v1 ---- */

/* Copies the next space-ended token of line (from *pos) into tok. Returns
 * false when there is none or it does not fit. */
static bool next_token(const char *line, size_t *pos, char *tok, size_t cap,
                       bool last) {
  size_t start = *pos, n;
  char end = last ? '\0' : ' ';

  while (line[*pos] != '\0' && line[*pos] != ' ')
    (*pos)++;
  n = *pos - start;
  if (n == 0 || n >= cap || line[*pos] != end)
    return false;
  memcpy(tok, line + start, n);
  tok[n] = '\0';
  if (!last)
    (*pos)++;
  return true;
}

/* A decimal port, 0..65535, no sign, no leading zero. */
static bool parse_port(const char *s, unsigned *port) {
  unsigned v = 0;
  size_t i;

  if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 5)
    return false;
  for (i = 0; s[i] != '\0'; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  *port = v;
  return v <= 65535;
}

/* Parses a complete v1 line (without its CRLF). */
static bool parse_v1_line(const char *line, netfw__proxy_hdr *out,
                          const char **why) {
  char proto[8], src[48], dst[48], sport[8], dport[8];
  unsigned char ip_s[16], ip_d[16];
  unsigned ps, pd;
  size_t pos = sizeof(v1_sig) - 1;
  int family;

  if (strncmp(line + pos, "UNKNOWN", 7) == 0 &&
      (line[pos + 7] == '\0' || line[pos + 7] == ' ')) {
    out->local = true; /* the rest of the line is to be ignored */
    return true;
  }
  if (!next_token(line, &pos, proto, sizeof(proto), false) ||
      !next_token(line, &pos, src, sizeof(src), false) ||
      !next_token(line, &pos, dst, sizeof(dst), false) ||
      !next_token(line, &pos, sport, sizeof(sport), false) ||
      !next_token(line, &pos, dport, sizeof(dport), true)) {
    *why = "malformed v1 header";
    return false;
  }
  family = strcmp(proto, "TCP4") == 0 ? AF_INET
           : strcmp(proto, "TCP6") == 0 ? AF_INET6 : 0;
  if (family == 0 || inet_pton(family, src, ip_s) != 1 ||
      inet_pton(family, dst, ip_d) != 1 || !parse_port(sport, &ps) ||
      !parse_port(dport, &pd)) {
    *why = "malformed v1 header (protocol, address or port)";
    return false;
  }
  set_addr(&out->src, family, ip_s, ps);
  set_addr(&out->dst, family, ip_d, pd);
  return true;
}

static ssize_t parse_v1(const unsigned char *buf, size_t len,
                        netfw__proxy_hdr *out, const char **why) {
  char line[NETFW__PROXY_V1_MAX + 1];
  bool found = false;
  size_t i;

  for (i = 0; i + 1 < len && i + 2 <= NETFW__PROXY_V1_MAX; i++)
    if (buf[i] == '\r' && buf[i + 1] == '\n') {
      found = true;
      break;
    }
  if (!found) {
    if (len >= NETFW__PROXY_V1_MAX) {
      *why = "v1 header without CRLF within 107 bytes";
      return -1;
    }
    return 0;
  }
  if (memchr(buf, '\0', i) != NULL) {
    *why = "malformed v1 header (NUL byte)";
    return -1;
  }
  memcpy(line, buf, i);
  line[i] = '\0';
  out->version = 1;
  return parse_v1_line(line, out, why) ? (ssize_t)(i + 2) : -1;
}

/* ---- v2 ---- */

/* The address block of a PROXY command, by family and transport. */
static bool parse_v2_addrs(const unsigned char *a, size_t n,
                           unsigned char fam, netfw__proxy_hdr *out,
                           const char **why) {
  int family = (fam >> 4) == 1 ? AF_INET : (fam >> 4) == 2 ? AF_INET6 : 0;
  size_t ipl = family == AF_INET ? 4 : 16;

  if (family == 0 || (fam & 0x0f) != 1) {
    out->local = true; /* UNSPEC, UNIX or datagrams: keep the socket's */
    return true;
  }
  if (n < 2 * ipl + 4) {
    *why = "v2 header shorter than its address family needs";
    return false;
  }
  set_addr(&out->src, family, a, (unsigned)(a[2 * ipl] << 8 | a[2 * ipl + 1]));
  set_addr(&out->dst, family, a + ipl,
           (unsigned)(a[2 * ipl + 2] << 8 | a[2 * ipl + 3]));
  return true;
}

static ssize_t parse_v2(const unsigned char *buf, size_t len,
                        netfw__proxy_hdr *out, const char **why) {
  size_t total;

  if (len < 16)
    return 0;
  if ((buf[12] >> 4) != 2 || (buf[12] & 0x0f) > 1) {
    *why = "v2 header with an unknown version or command";
    return -1;
  }
  total = 16 + ((size_t)buf[14] << 8 | buf[15]);
  if (total > NETFW__PROXY_V2_MAX) {
    *why = "v2 header over 4112 bytes";
    return -1;
  }
  if (len < total)
    return 0;
  out->version = 2;
  if ((buf[12] & 0x0f) == 0) { /* LOCAL: a health check */
    out->local = true;
    return (ssize_t)total;
  }
  return parse_v2_addrs(buf + 16, total - 16, buf[13], out, why)
             ? (ssize_t)total
             : -1;
}

ssize_t netfw__proxy_parse(const unsigned char *buf, size_t len,
                           netfw__proxy_hdr *out, const char **why) {
  size_t n1 = len < 6 ? len : 6, n2 = len < 12 ? len : 12;

  memset(out, 0, sizeof(*out));
  *why = NULL;
  if (len == 0)
    return 0;
  if (memcmp(buf, v1_sig, n1) == 0)
    return len < 6 ? 0 : parse_v1(buf, len, out, why);
  if (memcmp(buf, v2_sig, n2) == 0)
    return len < 12 ? 0 : parse_v2(buf, len, out, why);
  *why = "no PROXY protocol header";
  return -1;
}
