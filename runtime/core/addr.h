/* Socket addresses as text, for log lines. Internal (runtime/core). */
#ifndef NETFW_RUNTIME_ADDR_H
#define NETFW_RUNTIME_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Room for "[v6 address]:port" and its NUL. */
#define NETFW__ADDR_NAME_LEN 56

/* Writes "ip:port" of an IPv4 or IPv6 address into out (len bytes; "?:0"
 * for any other family) and returns out. */
char *netfw__addr_name(const struct sockaddr_storage *ss, char *out,
                       size_t len);

#endif /* NETFW_RUNTIME_ADDR_H */
