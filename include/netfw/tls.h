/* netfw — TLS (OpenSSL 3) for servers and clients: the settings, and who is
 * on the other end.
 *
 * A server turns TLS on with netfw_config.tls, a client with
 * netfw_client_set_tls(); both take a netfw_tls_config filled by
 * netfw_tls_config_init. Framing, limits, coalescing and backpressure are
 * the same as in plaintext: TLS is a transport under the connection's
 * stream (docs/tls.md). With TLS on, a server calls on_client_connect only
 * once the handshake succeeded, so it can refuse a peer by its identity
 * (netfw_conn_tls_peer). */
#ifndef NETFW_TLS_H
#define NETFW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/export.h"

/* Protocol versions for netfw_tls_config.min_version. */
#define NETFW_TLS_1_2 0x0303
#define NETFW_TLS_1_3 0x0304

#define NETFW_TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000

typedef struct netfw_tls_config {
  /* Set by netfw_tls_config_init (the struct grows at its end, as
   * netfw_config does). Leave it. */
  uint32_t size;
  /* PEM certificate chain, leaf first. Server: required. Client: its own
   * certificate for mutual TLS, or NULL. */
  const char *cert_file;
  /* PEM private key of cert_file (unencrypted). */
  const char *key_file;
  /* PEM CA certificate(s). Server: when set, every client must present a
   * certificate signed by one of them (mutual TLS); NULL: no client
   * certificate is asked for. Client: the trust anchors that verify the
   * server; NULL: the system's trust store. */
  const char *ca_file;
  /* Client: the name sent for SNI and that the server's certificate must
   * match (a DNS name or an IP address). NULL: the host given to
   * netfw_client_connect. Server: unused. */
  const char *server_name;
  /* Client: skip the verification of the server's certificate and name
   * (tests and debugging only; default false, and false is the only safe
   * value). */
  bool insecure_no_verify;
  /* NETFW_TLS_1_2 (default; TLS 1.3 is preferred when both sides have it)
   * or NETFW_TLS_1_3. */
  int min_version;
  /* A handshake not done within this is abandoned (logged, closed);
   * default 10000; 0 = no limit. */
  int handshake_timeout_ms;
  /* An ALPN protocol name (e.g. "netfw/1"), or NULL. Server: a client that
   * offers ALPN without it is refused; a client offering none is served.
   * Client: offered to the server. */
  const char *alpn;
  /* New fields go here, at the end. */
} netfw_tls_config;

/* Fills t with the defaults above; a macro, so that the size is the
 * caller's. */
#define netfw_tls_config_init(t)                                               \
  netfw_tls_config_init_sized((t), sizeof(netfw_tls_config))

/* What netfw_tls_config_init expands to (for bindings). */
NETFW_EXTERN void netfw_tls_config_init_sized(netfw_tls_config *t,
                                              size_t size);

/* Who is on the other end of a TLS connection, and how it is protected. */
typedef struct netfw_tls_peer {
  const char *version;  /* "TLSv1.3", "TLSv1.2" (static storage)          */
  const char *cipher;   /* e.g. "TLS_AES_256_GCM_SHA384" (static storage)  */
  char alpn[64];        /* the protocol ALPN agreed on; "" when none       */
  bool has_cert;        /* the peer presented a certificate, and it was
                           verified (a server: only with ca_file set)       */
  char subject_cn[256]; /* its subject's common name; "" when none         */
  char sans[1024];      /* its subject alternative names, "DNS:localhost,
                           IP:127.0.0.1" (cut at a whole entry if longer)  */
  bool sans_truncated;  /* some names did not fit in sans                  */
  uint8_t sha256[32];   /* SHA-256 of the certificate (DER): its
                           fingerprint, what to pin                         */
} netfw_tls_peer;

/* Writes the SHA-256 fingerprint as 64 lowercase hex digits and a NUL into
 * out (at least 65 bytes). Returns out. */
NETFW_EXTERN char *netfw_tls_fingerprint_hex(const uint8_t sha256[32],
                                             char *out);

#endif /* NETFW_TLS_H */
