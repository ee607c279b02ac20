/* Shared by the C helper programs of the Python tests (tests/python): the
 * schemas they know, each with its types in declaration order (the order
 * `netfw-gen --fuzz-harness` selects them in), and the line format they
 * answer in. */
#ifndef NETFW_TEST_PY_HELPER_H
#define NETFW_TEST_PY_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netfw/netfw.h>

/* Decodes in as one type with the C decoder (arena for its arrays), then
 * encodes the value into out. 0, or the decoder's error, or the encoder's
 * error - PY_ENCODE_FAILED (a bug: what decodes must encode). */
typedef int (*py_roundtrip_fn)(netfw_msg *in, netfw_msg *out, netfw_arena *a);

#define PY_ENCODE_FAILED 100000

typedef struct py_type {
  const char *name;
  py_roundtrip_fn roundtrip;
} py_type;

typedef struct py_schema {
  const char *name; /* as on the command line: fz, fs, chat, atb, pyev1, pyev2 */
  const py_type *types;
  size_t ntypes;
  void (*fixtures)(void); /* prints the sample values (py_fixtures) */
} py_schema;

/* The schema called name, or NULL. */
const py_schema *py_schema_find(const char *name);

/* Prints "TYPE ok HEX" (m's payload; HEX empty for an empty payload) when
 * err is 0, else "TYPE err NAME" (netfw_err_name), then releases m. */
void py_emit(const char *type, int err, netfw_msg *m);

/* Prints the n bytes at p as lower-case hex, no separators. */
void py_hex(const unsigned char *p, size_t n);

/* Shorthands of the sample values (fixtures_*.c): a netfw_str over the C
 * string p, a netfw_bytes over the n bytes at p. */
static inline netfw_str s(const char *p) {
  netfw_str v = {p, (uint32_t)strlen(p)};
  return v;
}

static inline netfw_bytes b(const void *p, uint32_t n) {
  netfw_bytes v = {p, n};
  return v;
}

/* The sample values of each schema, printed with py_emit in the order the
 * Python tests build them (fixtures_*.c). */
void py_fixtures_fz(void);
void py_fixtures_fs(void);
void py_fixtures_chat(void);
void py_fixtures_atb(void);
void py_fixtures_pyev1(void);
void py_fixtures_pyev2(void);

/* Defines py_rt_<P>_<T>: decode as P_T, encode it back (see py_roundtrip_fn). */
#define PY_ROUNDTRIP(P, T)                                                     \
  static int py_rt_##P##_##T(netfw_msg *in, netfw_msg *out, netfw_arena *a) {  \
    P##_##T v;                                                                 \
    int err;                                                                   \
    memset(&v, 0, sizeof(v));                                                  \
    if ((err = P##_##T##_decode(in, &v, a)) != 0)                              \
      return err;                                                              \
    err = P##_##T##_encode(&v, out);                                           \
    return err ? err - PY_ENCODE_FAILED : 0;                                   \
  }

/* Encodes the value *v of P_T and prints it under the type's name. */
#define PY_EMIT(P, T, v)                                                       \
  do {                                                                         \
    netfw_msg m_;                                                              \
    netfw_msg_init(&m_, 0);                                                    \
    py_emit(#T, P##_##T##_encode((v), &m_), &m_);                              \
  } while (0)

#endif
