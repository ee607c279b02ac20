/* Who may send a PROXY header: cfg.proxy_from as a list of networks (see
 * proxy.h). A v4-mapped IPv6 peer (::ffff:a.b.c.d) is matched as IPv4. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

typedef struct net {
  int family;              /* AF_INET or AF_INET6 */
  unsigned char addr[16];  /* the network, host bits cleared */
  unsigned bits;           /* prefix length */
} net;

struct netfw__proxy_policy {
  int n; /* 0: anyone */
  net nets[];
};

/* Clears the bits of a past the prefix. */
static void mask(unsigned char *a, unsigned bits, size_t len) {
  size_t i;

  for (i = 0; i < len; i++) {
    unsigned keep = bits >= 8 ? 8 : bits;
    a[i] &= (unsigned char)(0xff00u >> keep);
    bits -= keep;
  }
}

/* Parses one "ADDR[/BITS]" entry (trimmed). */
static bool parse_net(const char *s, net *out) {
  char buf[64], *slash;
  size_t len = strlen(s);
  unsigned long bits;
  char *end;

  if (len == 0 || len >= sizeof(buf))
    return false;
  memcpy(buf, s, len + 1);
  slash = strchr(buf, '/');
  if (slash != NULL)
    *slash = '\0';
  if (inet_pton(AF_INET, buf, out->addr) == 1)
    out->family = AF_INET;
  else if (inet_pton(AF_INET6, buf, out->addr) == 1)
    out->family = AF_INET6;
  else
    return false;
  out->bits = out->family == AF_INET ? 32 : 128;
  if (slash != NULL) {
    bits = strtoul(slash + 1, &end, 10);
    if (!isdigit((unsigned char)slash[1]) || *end != '\0' || bits > out->bits)
      return false;
    out->bits = (unsigned)bits;
  }
  mask(out->addr, out->bits, out->family == AF_INET ? 4 : 16);
  return true;
}

/* Copies entry [b, e) of the list without surrounding spaces. Returns
 * false when it does not fit (out then holds its start). */
static bool trimmed(const char *b, const char *e, char *out, size_t cap) {
  size_t n;

  while (b < e && *b == ' ')
    b++;
  while (e > b && e[-1] == ' ')
    e--;
  n = (size_t)(e - b) < cap - 1 ? (size_t)(e - b) : cap - 1;
  memcpy(out, b, n);
  out[n] = '\0';
  return (size_t)(e - b) < cap - 1;
}

netfw__proxy_policy *netfw__proxy_policy_new(const char *from, char *err,
                                             size_t err_len) {
  size_t count = 1;
  const char *p, *e;
  netfw__proxy_policy *pol;
  char entry[64];

  for (p = from; p != NULL && *p != '\0'; p++)
    count += *p == ',';
  pol = calloc(1, sizeof(*pol) + (from != NULL ? count : 0) * sizeof(net));
  if (pol == NULL) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  for (p = from; p != NULL; p = *e == ',' ? e + 1 : NULL) {
    e = strchr(p, ',');
    if (e == NULL)
      e = p + strlen(p);
    if (!trimmed(p, e, entry, sizeof(entry)) ||
        !parse_net(entry, &pol->nets[pol->n])) {
      snprintf(err, err_len,
               "proxy_from: \"%s\" is not an address or network "
               "(ADDR or ADDR/BITS)",
               entry);
      free(pol);
      return NULL;
    }
    pol->n++;
  }
  return pol;
}

void netfw__proxy_policy_free(netfw__proxy_policy *p) {
  free(p);
}

/* True when a (family, bytes) is inside n. */
static bool inside(const net *n, int family, const unsigned char *a) {
  unsigned char m[16];
  size_t len = family == AF_INET ? 4 : 16;

  if (n->family != family)
    return false;
  memcpy(m, a, len);
  mask(m, n->bits, len);
  return memcmp(m, n->addr, len) == 0;
}

bool netfw__proxy_trusted(const netfw__proxy_policy *p,
                          const struct sockaddr *sa) {
  static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0,
                                              0, 0, 0, 0, 0xff, 0xff};
  unsigned char a[16];
  int family = sa->sa_family, i;

  if (p == NULL || p->n == 0)
    return true;
  if (family == AF_INET) { /* copied out: sa may be only 2-aligned */
    memcpy(a, (const char *)sa + offsetof(struct sockaddr_in, sin_addr), 4);
  } else if (family == AF_INET6) {
    memcpy(a, (const char *)sa + offsetof(struct sockaddr_in6, sin6_addr),
           16);
    if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
      family = AF_INET;
      memmove(a, a + 12, 4);
    }
  } else {
    return false;
  }
  for (i = 0; i < p->n; i++)
    if (inside(&p->nets[i], family, a))
      return true;
  return false;
}
