/* Differential fuzzing of the reflective JSON codec (runtime/desc) against
 * the generated codecs of all_types.netproto (protocol fz), through the
 * checks of tests/desc_agree/agree.h. The first two bytes pick a message
 * (their low 15 bits, modulo the message count); the rest is
 *  - top bit clear: a payload: both decoders must give the same verdict,
 *    and an accepted one must go to JSON and back to the generated
 *    encoder's bytes (agree_payload);
 *  - top bit set: JSON text for netfw_desc_encode_json: never a crash,
 *    and what it encodes the generated decoder must read whole and
 *    re-encode as is (agree_json).
 * Any disagreement aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "agree.h"

extern const agree_schema agree_fz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int registered;
  const netfw_desc *d = agree_fz.desc;
  const netfw_desc_message *m;
  char why[2048] = "";
  int rc;

  if (!registered) /* the arena of the checks, freed at exit */
    registered = atexit(agree_free) == 0;
  if (size < 2)
    return 0;
  m = &d->messages[(((unsigned)data[0] & 0x7f) << 8 | data[1]) % d->nmessages];
  if (data[0] & 0x80)
    rc = agree_json(&agree_fz, m, (const char *)data + 2, size - 2, why,
                    sizeof(why));
  else
    rc = agree_payload(&agree_fz, m, data + 2, size - 2, why, sizeof(why));
  if (rc == AGREE_BROKEN) {
    fprintf(stderr, "fuzz_desc_json: %s\n", why);
    abort();
  }
  return 0;
}
