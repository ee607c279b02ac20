/* netfw__broker_parse_url: "redis://HOST[:PORT]" into a host and a port. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "broker.h"
#include "netfw/error.h"

#define SCHEME "redis://"
#define DEFAULT_PORT 6379

/* True for a byte of a host name or an IPv4 address. */
static bool name_char(char c) {
  return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* True for a byte of an IPv6 address between brackets (its "%zone"
 * excepted). */
static bool ipv6_char(char c) {
  return isxdigit((unsigned char)c) || c == ':' || c == '.';
}

/* Reads PORT (1..65535, digits only, nothing after it) from s. Returns 0
 * or NETFW_EINVAL. */
static int parse_port(const char *s, uint16_t *port) {
  unsigned long v = 0;

  if (*s == '\0')
    return NETFW_EINVAL;
  for (; *s != '\0'; s++) {
    if (!isdigit((unsigned char)*s))
      return NETFW_EINVAL;
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > 65535)
      return NETFW_EINVAL;
  }
  if (v == 0)
    return NETFW_EINVAL;
  *port = (uint16_t)v;
  return 0;
}

/* Splits the authority into the host span [*h, *h + *hlen) and what
 * follows it (*rest: "" or ":PORT"). Returns 0 or NETFW_EINVAL. */
static int split_host(const char *s, const char **h, size_t *hlen,
                      const char **rest) {
  const char *p;

  if (*s == '[') {
    for (p = s + 1; ipv6_char(*p); p++)
      ;
    if (*p == '%' && p > s + 1 && name_char(p[1]))
      for (p++; name_char(*p); p++)
        ;
    if (*p != ']' || p == s + 1)
      return NETFW_EINVAL;
    *h = s + 1;
    *hlen = (size_t)(p - s - 1);
    *rest = p + 1;
    return 0;
  }
  for (p = s; name_char(*p); p++)
    ;
  if (p == s)
    return NETFW_EINVAL;
  *h = s;
  *hlen = (size_t)(p - s);
  *rest = p;
  return 0;
}

int netfw__broker_parse_url(const char *url, char *host, size_t host_len,
                            uint16_t *port) {
  const char *h, *rest;
  size_t hlen;
  uint16_t p = DEFAULT_PORT;

  if (url == NULL || host == NULL || port == NULL)
    return NETFW_EINVAL;
  if (strncasecmp(url, SCHEME, strlen(SCHEME)) != 0)
    return NETFW_EINVAL;
  if (split_host(url + strlen(SCHEME), &h, &hlen, &rest) < 0)
    return NETFW_EINVAL;
  if (*rest == ':' && parse_port(rest + 1, &p) < 0)
    return NETFW_EINVAL;
  if (*rest != ':' && *rest != '\0')
    return NETFW_EINVAL;
  if (hlen >= host_len)
    return NETFW_EINVAL;
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  *port = p;
  return 0;
}
