/* py_decode: the C decoders' verdict on payloads, for the Python tests'
 * shared corpus (test_properties.py, test_evolve.py).
 *
 *   py_decode SCHEMA --types   prints the schema's types, one a line, in
 *                              declaration order
 *   py_decode SCHEMA           answers records read from stdin until EOF
 *
 * A record is a u32 little-endian length N, then N bytes: the first byte
 * selects the type (byte % number of types, declaration order, as in the
 * harness of `netfw-gen --fuzz-harness`), the rest is its payload (an empty
 * record selects nothing: "err NETFW_EINVAL"). Each record is answered at
 * once by one line, flushed:
 *   ok HEX             decoded; HEX is the value encoded again
 *   err NAME           the decoder refused it (netfw_err_name: NETFW_EPROTO)
 *   encode-err NAME    decoded, but the value did not encode (a bug)
 * SCHEMA: fz fs chat atb pyev1 pyev2 (py_schemas.c). Exit status 0 at EOF,
 * 2 on a usage error or a short record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py_helper.h"

/* Reads exactly n bytes; 0 on success, -1 at EOF or on error. */
static int read_exact(void *buf, size_t n) {
  return n == 0 || fread(buf, 1, n, stdin) == n ? 0 : -1;
}

/* Answers one record: data[0] selects the type, the rest is the payload. */
static void answer(const py_schema *s, const uint8_t *data, size_t n,
                   netfw_arena *arena) {
  netfw_msg in, out;
  const py_type *t;
  int err;

  if (n == 0) {
    printf("err %s\n", netfw_err_name(NETFW_EINVAL));
    return;
  }
  t = &s->types[data[0] % s->ntypes];
  netfw_msg_init(&in, 0);
  netfw_msg_init(&out, 0);
  netfw_arena_reset(arena);
  if (n > 1 && netfw_msg_append(&in, data + 1, n - 1) != 0) {
    printf("err %s\n", netfw_err_name(NETFW_ENOMEM));
  } else if ((err = t->roundtrip(&in, &out, arena)) <= -PY_ENCODE_FAILED) {
    printf("encode-err %s\n", netfw_err_name(err + PY_ENCODE_FAILED));
  } else if (err != 0) {
    printf("err %s\n", netfw_err_name(err));
  } else {
    printf("ok ");
    if (netfw_msg_size(&out) > 0)
      py_hex(netfw_msg_payload(&out), netfw_msg_size(&out));
    putchar('\n');
  }
  netfw_msg_release(&in);
  netfw_msg_release(&out);
}

/* Answers records until EOF; 0 at a clean EOF, 2 on a short record. */
static int serve(const py_schema *s) {
  netfw_arena arena;
  uint8_t len_le[4];
  int status = 0;

  netfw_arena_init(&arena);
  while (read_exact(len_le, 4) == 0) {
    size_t n = (size_t)len_le[0] | (size_t)len_le[1] << 8 |
               (size_t)len_le[2] << 16 | (size_t)len_le[3] << 24;
    uint8_t *data = malloc(n > 0 ? n : 1);
    if (data == NULL || read_exact(data, n) != 0) {
      fprintf(stderr, "py_decode: short record (%zu bytes announced)\n", n);
      free(data);
      status = 2;
      break;
    }
    answer(s, data, n, &arena);
    fflush(stdout);
    free(data);
  }
  netfw_arena_free(&arena);
  return status;
}

int main(int argc, char **argv) {
  const py_schema *s = argc >= 2 ? py_schema_find(argv[1]) : NULL;

  if (s == NULL || argc > 3 || (argc == 3 && strcmp(argv[2], "--types") != 0)) {
    fprintf(stderr, "usage: py_decode fz|fs|chat|atb|pyev1|pyev2 [--types]\n");
    return 2;
  }
  if (argc == 3) {
    for (size_t i = 0; i < s->ntypes; i++)
      printf("%s\n", s->types[i].name);
    return 0;
  }
  return serve(s);
}
