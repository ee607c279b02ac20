/* Helpers of the reflective codec's tests (desc_kit.c): a payload from hex,
 * and the two directions asserted to exact bytes, JSON text and error
 * messages. cmocka assertions inside; every message is looked up by name
 * in the descriptor given. */
#ifndef NETFW_TEST_DESC_KIT_H
#define NETFW_TEST_DESC_KIT_H

#include <stddef.h>
#include <stdint.h>

#include "netfw/desc.h"
#include "netfw/netfw.h"

/* The bytes of hex ("05 61 2e", spaces ignored) into out (at most cap);
 * their count. */
size_t dk_hex(const char *hex, uint8_t *out, size_t cap);

/* The message of d named name (asserted to exist). */
const netfw_desc_message *dk_msg(const netfw_desc *d, const char *name);

/* Encodes json as message name: asserts it succeeds with the bytes of hex
 * and the message's id; then decodes those bytes and asserts the text is
 * want (json itself when want is NULL). */
void dk_round(const netfw_desc *d, const char *name, const char *json,
              const char *hex, const char *want);

/* Decodes hex as message name and asserts the JSON text is want. */
void dk_dec(const netfw_desc *d, const char *name, const char *hex,
            const char *want);

/* Asserts that decoding hex as message name fails with rc and exactly the
 * message err. */
void dk_dec_err(const netfw_desc *d, const char *name, const char *hex,
                int rc, const char *err);

/* Asserts that encoding json as message name fails with rc and exactly
 * the message err, leaving a message that held a payload as it was. */
void dk_enc_err(const netfw_desc *d, const char *name, const char *json,
                int rc, const char *err);

/* Encodes json as message name into out (appending); asserts success. */
void dk_enc(const netfw_desc *d, const char *name, const char *json,
            netfw_msg *out);

#endif
