/* TLS contexts: an SSL_CTX built from a netfw_tls_config, each file error
 * named with OpenSSL's reason, shared by reference (see tls.h). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "netfw/error.h"
#include "tls_internal.h"

/* The config sizes a program may have been compiled with (LP64). */
#define TLS_CONFIG_SIZE_0_3 64
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(netfw_tls_config) == TLS_CONFIG_SIZE_0_3,
               "netfw_tls_config grew: append at the end and record the new "
               "size (ctx.c)");
#endif
#define TLS_CONFIG_MIN (offsetof(netfw_tls_config, key_file) + sizeof(char *))

void netfw_tls_config_init_sized(netfw_tls_config *t, size_t size) {
  netfw_tls_config d;

  if (t == NULL || size < sizeof(uint32_t))
    return;
  memset(&d, 0, sizeof(d));
  d.size = (uint32_t)size;
  d.min_version = NETFW_TLS_1_2;
  d.handshake_timeout_ms = NETFW_TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS;
  memcpy(t, &d, size < sizeof(d) ? size : sizeof(d));
}

char *netfw_tls_fingerprint_hex(const uint8_t sha256[32], char *out) {
  static const char hex[] = "0123456789abcdef";
  int i;

  for (i = 0; i < 32; i++) {
    out[2 * i] = hex[sha256[i] >> 4];
    out[2 * i + 1] = hex[sha256[i] & 15];
  }
  out[64] = '\0';
  return out;
}

/* Copies *src into *dst (NULL stays NULL). Returns false when out of
 * memory. */
static bool dup_str(const char **dst, const char *src) {
  *dst = NULL;
  if (src == NULL)
    return true;
  *dst = strdup(src);
  return *dst != NULL;
}

netfw_tls_config *netfw__tls_config_dup(const netfw_tls_config *t) {
  netfw_tls_config *c;

  if (t == NULL || t->size < TLS_CONFIG_MIN)
    return NULL;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return NULL;
  netfw_tls_config_init(c);
  memcpy(c, t, t->size < sizeof(*c) ? t->size : sizeof(*c));
  c->size = sizeof(*c);
  if (!dup_str(&c->cert_file, c->cert_file) ||
      !dup_str(&c->key_file, c->key_file) ||
      !dup_str(&c->ca_file, c->ca_file) ||
      !dup_str(&c->server_name, c->server_name) ||
      !dup_str(&c->alpn, c->alpn)) {
    netfw__tls_config_free(c);
    return NULL;
  }
  return c;
}

void netfw__tls_config_free(netfw_tls_config *t) {
  if (t == NULL)
    return;
  free((char *)(uintptr_t)t->cert_file);
  free((char *)(uintptr_t)t->key_file);
  free((char *)(uintptr_t)t->ca_file);
  free((char *)(uintptr_t)t->server_name);
  free((char *)(uintptr_t)t->alpn);
  free(t);
}

void netfw__tls_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_error(); /* the first: the cause */
  const char *lib, *reason;

  lib = e != 0 ? ERR_lib_error_string(e) : NULL;
  reason = e != 0 ? ERR_reason_error_string(e) : NULL;
  if (reason == NULL)
    snprintf(buf, len, "unknown OpenSSL error");
  else if (lib != NULL)
    snprintf(buf, len, "%s: %s", lib, reason);
  else
    snprintf(buf, len, "%s", reason);
  ERR_clear_error();
}

/* Writes "tls WHAT 'FILE': OpenSSL's reason" into err (the system's
 * reason when the file cannot be opened); returns false. */
static bool file_error(char *err, const char *what, const char *file) {
  char reason[256];
  FILE *f = file[0] != '(' ? fopen(file, "r") : NULL;

  if (f == NULL && file[0] != '(') {
    snprintf(reason, sizeof(reason), "%s", strerror(errno));
    ERR_clear_error();
  } else {
    netfw__tls_reason(reason, sizeof(reason));
  }
  if (f != NULL)
    fclose(f);
  snprintf(err, NETFW__TLS_ERR_LEN, "tls %s '%s': %s", what, file, reason);
  return false;
}

/* The server's ALPN choice: its one protocol when the client offers it,
 * else a fatal no_application_protocol alert. */
static int select_alpn(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
  const netfw__tls_ctx *x = arg;
  unsigned char *sel = NULL;

  (void)ssl;
  if (SSL_select_next_proto(&sel, outlen, x->alpn_wire, x->alpn_wire_len, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

/* Loads the certificate chain and its key, and checks they match. */
static bool load_identity(netfw__tls_ctx *x, const netfw_tls_config *t,
                          char *err) {
  if (t->cert_file == NULL && t->key_file == NULL)
    return true;
  if (t->cert_file == NULL || t->key_file == NULL) {
    snprintf(err, NETFW__TLS_ERR_LEN,
             "tls: cert_file and key_file go together (one is missing)");
    return false;
  }
  if (SSL_CTX_use_certificate_chain_file(x->ctx, t->cert_file) != 1)
    return file_error(err, "cert_file", t->cert_file);
  if (SSL_CTX_use_PrivateKey_file(x->ctx, t->key_file, SSL_FILETYPE_PEM) != 1)
    return file_error(err, "key_file", t->key_file);
  if (SSL_CTX_check_private_key(x->ctx) != 1)
    return file_error(err, "key_file (does not match cert_file)", t->key_file);
  return true;
}

/* Trust anchors and the verification mode of each side. */
static bool load_trust(netfw__tls_ctx *x, const netfw_tls_config *t,
                       char *err) {
  if (t->ca_file != NULL &&
      SSL_CTX_load_verify_locations(x->ctx, t->ca_file, NULL) != 1)
    return file_error(err, "ca_file", t->ca_file);
  if (x->server) {
    if (t->ca_file != NULL) {
      STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca_file);
      if (names != NULL)
        SSL_CTX_set_client_CA_list(x->ctx, names);
      SSL_CTX_set_verify(x->ctx,
                         SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         NULL);
    }
    return true;
  }
  if (t->ca_file == NULL && SSL_CTX_set_default_verify_paths(x->ctx) != 1)
    return file_error(err, "trust store", "(system default)");
  SSL_CTX_set_verify(x->ctx, t->insecure_no_verify ? SSL_VERIFY_NONE
                                                   : SSL_VERIFY_PEER,
                     NULL);
  return true;
}

/* ALPN: the name in wire form (a length byte, then the name). */
static bool set_alpn(netfw__tls_ctx *x, const netfw_tls_config *t, char *err) {
  size_t n;

  if (t->alpn == NULL)
    return true;
  n = strlen(t->alpn);
  if (n == 0 || n > sizeof(x->alpn_wire) - 1) {
    snprintf(err, NETFW__TLS_ERR_LEN,
             "tls alpn '%s': must be 1 to %zu bytes", t->alpn,
             sizeof(x->alpn_wire) - 1);
    return false;
  }
  x->alpn_wire[0] = (unsigned char)n;
  memcpy(x->alpn_wire + 1, t->alpn, n);
  x->alpn_wire_len = (unsigned)n + 1;
  if (x->server)
    SSL_CTX_set_alpn_select_cb(x->ctx, select_alpn, x);
  else if (SSL_CTX_set_alpn_protos(x->ctx, x->alpn_wire, x->alpn_wire_len) !=
           0)
    return file_error(err, "alpn", t->alpn);
  return true;
}

/* The settings that name no file. */
static bool set_protocol(netfw__tls_ctx *x, const netfw_tls_config *t,
                         char *err) {
  int v = t->min_version == 0 ? NETFW_TLS_1_2 : t->min_version;

  if (v != NETFW_TLS_1_2 && v != NETFW_TLS_1_3) {
    snprintf(err, NETFW__TLS_ERR_LEN,
             "tls min_version 0x%x: use NETFW_TLS_1_2 or NETFW_TLS_1_3", v);
    return false;
  }
  if (t->handshake_timeout_ms < 0) {
    snprintf(err, NETFW__TLS_ERR_LEN, "tls handshake_timeout_ms %d < 0",
             t->handshake_timeout_ms);
    return false;
  }
  SSL_CTX_set_min_proto_version(x->ctx, v == NETFW_TLS_1_3 ? TLS1_3_VERSION
                                                           : TLS1_2_VERSION);
  /* idle connections hold no record buffers; the chain sent is cert_file
   * as given (not completed from the trust store) */
  SSL_CTX_set_mode(x->ctx, SSL_MODE_RELEASE_BUFFERS |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_options(x->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
                                  SSL_OP_NO_RENEGOTIATION);
  x->handshake_ms = t->handshake_timeout_ms;
  return true;
}

netfw__tls_ctx *netfw__tls_ctx_new(const netfw_tls_config *t, bool server,
                                   char err[NETFW__TLS_ERR_LEN]) {
  netfw__tls_ctx *x = calloc(1, sizeof(*x));

  err[0] = '\0';
  ERR_clear_error();
  if (x == NULL) {
    snprintf(err, NETFW__TLS_ERR_LEN, "tls: out of memory");
    return NULL;
  }
  atomic_init(&x->refs, 1);
  x->server = server;
  x->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (x->ctx == NULL) {
    netfw__tls_ctx_unref(x);
    return file_error(err, "context", "(none)"), NULL;
  }
  if (server && t->cert_file == NULL) {
    snprintf(err, NETFW__TLS_ERR_LEN, "tls: a server needs cert_file and "
                                      "key_file");
  } else if (set_protocol(x, t, err) && load_identity(x, t, err) &&
             load_trust(x, t, err) && set_alpn(x, t, err)) {
    return x;
  }
  netfw__tls_ctx_unref(x);
  return NULL;
}

netfw__tls_ctx *netfw__tls_ctx_ref(netfw__tls_ctx *x) {
  atomic_fetch_add(&x->refs, 1);
  return x;
}

void netfw__tls_ctx_unref(netfw__tls_ctx *x) {
  if (x == NULL || atomic_fetch_sub(&x->refs, 1) != 1)
    return;
  SSL_CTX_free(x->ctx);
  free(x);
}

int netfw__tls_ctx_handshake_ms(const netfw__tls_ctx *x) {
  return x->handshake_ms;
}
