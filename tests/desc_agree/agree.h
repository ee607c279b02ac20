/* The reflective codec (netfw/desc.h) against the generated codecs of one
 * schema: the same verdict on any payload, the same bytes out, both ways.
 * Used by test_desc_agree and by the fuzz_desc_json fuzz target. */
#ifndef AGREE_H
#define AGREE_H

#include <stddef.h>
#include <stdint.h>

#include "netfw/codec.h"
#include "netfw/desc.h"
#include "netfw/message.h"

/* The switch of a schema's codec returns this for an id it does not know. */
#define AGREE_NO_MESSAGE 1000

/* What agree_payload() and agree_json() found. */
enum { AGREE_BROKEN = -1, AGREE_REFUSED = 0, AGREE_ACCEPTED = 1 };

/* One schema's generated side, written by agree_switch.cmake. */
typedef struct agree_schema {
  const char *proto;
  const netfw_desc *desc;
  /* The generated decoder of message `id` on in; when it accepts, the
   * generated encoder's result on the value in *enc_rc, its bytes in out. */
  int (*codec)(uint16_t id, netfw_msg *in, netfw_msg *out, netfw_arena *a,
               int *enc_rc);
  const char *const *types; /* the fuzz harness's structs and messages */
  uint32_t ntypes;          /* (its first input byte, modulo ntypes) */
} agree_schema;

/* The message the fuzz harness of s would feed an input starting with
 * `first`, or NULL when it picks a struct. */
const netfw_desc_message *agree_harness_pick(const agree_schema *s,
                                             uint8_t first);

/* Payload p[0..n) as message m of s: the generated decoder and
 * netfw_desc_decode_json() must both refuse it (NETFW_EPROTO) or both
 * accept it; accepted, the JSON must encode (netfw_desc_encode_json) to the
 * generated re-encoding (for a type that does not evolve: to the bytes
 * read), which the generated decoder must read whole and re-encode as is,
 * and which must decode to the same JSON. Returns AGREE_ACCEPTED,
 * AGREE_REFUSED, or AGREE_BROKEN with why (whylen bytes) saying what
 * differed. */
int agree_payload(const agree_schema *s, const netfw_desc_message *m,
                  const uint8_t *p, size_t n, char *why, size_t whylen);

/* JSON text j[0..n) as message m of s: when netfw_desc_encode_json()
 * accepts it, the generated decoder must read its output whole and
 * re-encode it as is, and the output must go back to JSON and bytes
 * unchanged; when it refuses, the code must be NETFW_EINVAL or
 * NETFW_E2BIG and out untouched. Returns AGREE_ACCEPTED, AGREE_REFUSED or
 * AGREE_BROKEN (why as above). */
int agree_json(const agree_schema *s, const netfw_desc_message *m,
               const char *j, size_t n, char *why, size_t whylen);

/* Frees what the checks keep between calls (their arena). */
void agree_free(void);

#endif /* AGREE_H */
