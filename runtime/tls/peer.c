/* Who is on the other end of a TLS connection: the verified certificate's
 * common name, alternative names and fingerprint, and the version, cipher
 * and ALPN protocol agreed on (see netfw_tls_peer). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "netfw/error.h"
#include "tls_internal.h"

/* Appends one "TYPE:value" entry to out->sans, or marks the list cut. */
static void add_san(netfw_tls_peer *out, const char *type, const char *v) {
  size_t used = strlen(out->sans);
  int n;

  if (out->sans_truncated)
    return;
  n = snprintf(out->sans + used, sizeof(out->sans) - used, "%s%s:%s",
               used > 0 ? ", " : "", type, v);
  if (n < 0 || (size_t)n >= sizeof(out->sans) - used) {
    out->sans[used] = '\0'; /* cut at a whole entry */
    out->sans_truncated = true;
  }
}

/* An ASN1 string's bytes as text, or NULL when it holds a NUL. */
static const char *asn1_text(const ASN1_STRING *s, char *buf, size_t len) {
  int n = ASN1_STRING_length(s);
  const unsigned char *d = ASN1_STRING_get0_data(s);

  if (n < 0 || (size_t)n >= len || memchr(d, '\0', (size_t)n) != NULL)
    return NULL;
  memcpy(buf, d, (size_t)n);
  buf[n] = '\0';
  return buf;
}

/* One alternative name in text, with its type's label. */
static void san_entry(netfw_tls_peer *out, const GENERAL_NAME *g) {
  char buf[256];
  const char *v;
  int n;

  switch (g->type) {
  case GEN_DNS:
    if ((v = asn1_text(g->d.dNSName, buf, sizeof(buf))) != NULL)
      add_san(out, "DNS", v);
    break;
  case GEN_EMAIL:
    if ((v = asn1_text(g->d.rfc822Name, buf, sizeof(buf))) != NULL)
      add_san(out, "email", v);
    break;
  case GEN_URI:
    if ((v = asn1_text(g->d.uniformResourceIdentifier, buf, sizeof(buf))) !=
        NULL)
      add_san(out, "URI", v);
    break;
  case GEN_IPADD:
    n = ASN1_STRING_length(g->d.iPAddress);
    if ((n == 4 || n == 16) &&
        inet_ntop(n == 4 ? AF_INET : AF_INET6,
                  ASN1_STRING_get0_data(g->d.iPAddress), buf,
                  sizeof(buf)) != NULL)
      add_san(out, "IP", buf);
    break;
  default:
    break;
  }
}

/* The certificate's names and fingerprint into out. */
static void cert_identity(X509 *cert, netfw_tls_peer *out) {
  GENERAL_NAMES *names;
  unsigned len = 0;
  int i;

  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
                                out->subject_cn,
                                (int)sizeof(out->subject_cn)) < 0)
    out->subject_cn[0] = '\0';
  names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++)
    san_entry(out, sk_GENERAL_NAME_value(names, i));
  GENERAL_NAMES_free(names);
  if (X509_digest(cert, EVP_sha256(), out->sha256, &len) != 1 || len != 32)
    memset(out->sha256, 0, sizeof(out->sha256));
}

int netfw__tls_peer(const netfw__stream *s, netfw_tls_peer *out) {
  const netfw__tls *tls = netfw__tls_of(s);
  const unsigned char *alpn = NULL;
  unsigned alpn_len = 0;
  X509 *cert;

  if (tls == NULL || !(tls->flags & NETFW__TLS_ESTABLISHED))
    return NETFW_ESTATE;
  memset(out, 0, sizeof(*out));
  out->version = SSL_get_version(tls->ssl);
  out->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(tls->ssl));
  SSL_get0_alpn_selected(tls->ssl, &alpn, &alpn_len);
  if (alpn_len > 0 && alpn_len < sizeof(out->alpn))
    memcpy(out->alpn, alpn, alpn_len);
  cert = SSL_get0_peer_certificate(tls->ssl);
  if (cert == NULL)
    return 0;
  out->has_cert = SSL_get_verify_result(tls->ssl) == X509_V_OK &&
                  (SSL_get_verify_mode(tls->ssl) & SSL_VERIFY_PEER);
  cert_identity(cert, out);
  return 0;
}
