/* Base64 (RFC 4648 section 4: the standard alphabet, '=' padding), the
 * encoder (base64.c). Plain C with no other dependency: netfw-gen's
 * descriptor and netfw-call compile or link the same file. */
#ifndef NETFW_CORE_BASE64_H
#define NETFW_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* The characters in[0..n) encodes to: (n + 2) / 3 * 4. */
#define NETFW__BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the NETFW__BASE64_LEN(n) characters of in[0..n) to out (no NUL). */
void netfw__base64_encode(char *out, const uint8_t *in, size_t n);

#endif /* NETFW_CORE_BASE64_H */
