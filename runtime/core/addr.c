/* Socket addresses (see addr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "addr.h"

char *netfw__addr_name(const struct sockaddr_storage *ss, char *out,
                       size_t len) {
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;

  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    port = ntohs(a->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
    port = ntohs(a->sin6_port);
  }
  snprintf(out, len, "%s:%u", ip, port);
  return out;
}

uint16_t netfw__addr_bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);

  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
    return 0;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return 0;
}
