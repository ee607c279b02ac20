/* Socket addresses: as text, for log lines; the port a socket is bound
 * to. Internal (runtime/core). */
#ifndef NETFW_RUNTIME_ADDR_H
#define NETFW_RUNTIME_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for "[v6 address]:port" and its NUL. */
#define NETFW__ADDR_NAME_LEN 56

/* Writes "ip:port" of an IPv4 or IPv6 address into out (len bytes; "?:0"
 * for any other family) and returns out. */
char *netfw__addr_name(const struct sockaddr_storage *ss, char *out,
                       size_t len);

/* The port the socket fd is bound to (IPv4 or IPv6); 0 when it cannot be
 * read or for another family. */
uint16_t netfw__addr_bound_port(int fd);

#endif /* NETFW_RUNTIME_ADDR_H */
