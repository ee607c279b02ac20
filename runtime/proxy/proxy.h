/* The PROXY protocol (v1 text, v2 binary): the header a load balancer
 * such as HAProxy puts before a connection's bytes to say whose connection
 * it is.
 *
 * What lives here: the header parser (header.c: bounded, no allocation;
 * fuzzed by tests/fuzz/fuzz_proxy.c), the trusted-sources policy
 * (policy.c: cfg.proxy_from), and the preamble transport (transport.c):
 * stacked right on the TCP transport, under TLS when TLS is on, it reads
 * the header before anything else, then passes bytes through, and reports
 * the header's client address as the peer's. May depend on runtime/core,
 * runtime/stream and libuv. */
#ifndef NETFW_RUNTIME_PROXY_H
#define NETFW_RUNTIME_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "stream.h"

/* The longest header accepted: v1's 107 bytes, or v2's 16-byte head with
 * up to 4096 bytes of addresses and TLVs. */
#define NETFW__PROXY_V1_MAX 107
#define NETFW__PROXY_V2_MAX (16 + 4096)

/* What a header says. */
typedef struct netfw__proxy_hdr {
  int version;  /* 1 or 2 */
  bool local;   /* no client address in it (v2 LOCAL, a health check; v1
                   UNKNOWN; a family other than TCP over IPv4/IPv6): the
                   connection's own addresses stand                      */
  struct sockaddr_storage src; /* the client, unless local              */
  struct sockaddr_storage dst; /* the address it connected to           */
} netfw__proxy_hdr;

/* Parses the header at the start of buf (len bytes so far). Returns its
 * length once complete (*out filled), 0 when more bytes are needed, or -1
 * with *why set (no PROXY header, malformed, over the bounds above). Never
 * reads past buf + len. */
ssize_t netfw__proxy_parse(const unsigned char *buf, size_t len,
                           netfw__proxy_hdr *out, const char **why);

/* Who may send a header: a list of networks (cfg.proxy_from). */
typedef struct netfw__proxy_policy netfw__proxy_policy;

/* Parses "127.0.0.1/32,10.0.0.0/8,::1/128" (a plain address is a /32 or
 * /128; spaces around entries are allowed; NULL: anyone). Returns the
 * policy, or NULL with why in err (err_len bytes). */
netfw__proxy_policy *netfw__proxy_policy_new(const char *from, char *err,
                                             size_t err_len);

/* Frees p (NULL: nothing). */
void netfw__proxy_policy_free(netfw__proxy_policy *p);

/* True when sa (the TCP peer) may send a header under p. */
bool netfw__proxy_trusted(const netfw__proxy_policy *p,
                          const struct sockaddr *sa);

/* How long the header may take to arrive. */
#define NETFW__PROXY_TIMEOUT_MS 10000

/* Stacks the preamble transport on s's TCP transport (after
 * netfw__stream_init and _open, before any TLS wrap and before
 * netfw__stream_start). A header that is missing, malformed, late or from
 * an untrusted source is logged once and the connection is failed upward
 * with UV_EPROTO (before `established`). Returns 0 or NETFW_ENOMEM. */
int netfw__proxy_wrap(netfw__stream *s, const netfw__proxy_policy *p);

#endif /* NETFW_RUNTIME_PROXY_H */
