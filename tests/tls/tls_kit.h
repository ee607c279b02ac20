/* Helpers of the TLS tests: paths of the test certificates (made into the
 * build tree by the tls_certs fixture), a Python ssl echo server as a child
 * process (py_tls_server.py), and certificate fingerprints computed by
 * OpenSSL itself. */
#ifndef NETFW_TEST_TLS_KIT_H
#define NETFW_TEST_TLS_KIT_H

#include <stdint.h>
#include <sys/types.h>

/* The WHO query id: a TLS echo peer answers it with "has_cert=H cn=CN
 * version=V alpn=A" about the client as it sees it. */
#define TLS_KIT_WHO 0xFFF0

/* Returns "<certs dir>/<name>" in static storage (one of 8 rotating
 * buffers). The directory is NETFW_TEST_CERTS from the environment, else
 * the one compiled in. */
const char *tls_kit_cert(const char *name);

typedef struct tls_kit_py {
  pid_t pid;
  int stdin_fd; /* closing it stops the server */
  uint16_t port;
} tls_kit_py;

/* Starts py_tls_server.py with the given extra arguments (NULL-terminated
 * list, e.g. "--ca", path, NULL) on top of server.pem/server.key, and reads
 * its port. Returns 0, or -1 (printed) when it did not print a port within
 * 15 s. */
int tls_kit_py_start(tls_kit_py *py, const char *const *extra);

/* Stops the server (stdin closed, then SIGKILL after 5 s) and reaps it. */
void tls_kit_py_stop(tls_kit_py *py);

/* Fills out with the SHA-256 of the first certificate in the PEM file, as
 * OpenSSL's X509_digest computes it. Returns 0 or -1. */
int tls_kit_pem_sha256(const char *pem, uint8_t out[32]);

/* Fills hex (65 bytes) with `openssl x509 -fingerprint -sha256` of the PEM
 * file, lowercased, colons removed. Returns 0 or -1. */
int tls_kit_cli_fingerprint(const char *pem, char hex[65]);

#endif /* NETFW_TEST_TLS_KIT_H */
