/* netfw — error codes.
 *
 * Every function that can fail returns 0 on success or one of the negative
 * NETFW_E* codes below. The list lives in one X-macro, NETFW_ERRNO_MAP, which
 * expands into the enum, netfw_strerror() and netfw_err_name(), so the three
 * never disagree. NETFW_ESYS means "a system call failed": errno is left as the
 * call set it, so the caller can still inspect or print it. */
#ifndef NETFW_ERROR_H
#define NETFW_ERROR_H

#include "netfw/export.h"

/* XX(name, value, message) */
#define NETFW_ERRNO_MAP(XX)                                                    \
  XX(ENOMEM, -1, "out of memory")                                              \
  XX(EINVAL, -2, "invalid argument")                                           \
  XX(ESTATE, -3, "call not valid in the current state")                        \
  XX(ETIMEDOUT, -4, "timed out")                                               \
  XX(ECONNRESET, -5, "connection lost")                                        \
  XX(ERANGE, -6, "read past the end of the payload")                           \
  XX(E2BIG, -7, "payload larger than the limit")                               \
  XX(EPROTO, -8, "malformed payload for its message type")                     \
  XX(EADDRINUSE, -9, "address already in use")                                 \
  XX(ECONNREFUSED, -10, "connection refused")                                  \
  XX(EHOSTUNREACH, -11, "host unreachable")                                    \
  XX(EADDRINFO, -12, "address could not be resolved")                          \
  XX(ESYS, -13, "system error (see errno)")                                    \
  XX(ENOSYS, -14, "not implemented")                                           \
  XX(ENOTCONN, -15, "not connected (the peer or broker is unreachable)")      \
  XX(EAGAIN, -16, "queue full: dropped, try again later")                     \
  XX(ETLS, -17, "TLS failed: handshake, certificate or key (see the log)")     \
  XX(ECLOSED, -18, "connection closed by the peer")

typedef enum netfw_errno {
#define NETFW__ERR_ENUM(name, value, msg) NETFW_##name = (value),
  NETFW_ERRNO_MAP(NETFW__ERR_ENUM)
#undef NETFW__ERR_ENUM
} netfw_errno;

/* Returns a human-readable sentence for a netfw code ("unknown error" for
 * anything else; "success" for 0). Static storage, never NULL. */
NETFW_EXTERN const char *netfw_strerror(int err);

/* Returns the code's name, e.g. "NETFW_ERANGE" ("NETFW_UNKNOWN" if not a code;
 * "NETFW_OK" for 0). Static storage, never NULL. */
NETFW_EXTERN const char *netfw_err_name(int err);

#endif /* NETFW_ERROR_H */
