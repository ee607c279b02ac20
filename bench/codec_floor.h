/* The codec floor: a hand-written, fixed-layout encoder and decoder for two
 * file_storage messages, the speed netfw-gen's generated code should
 * approach (issue 7). Same bytes as the schema (little-endian, no tags, no
 * padding):
 *
 *   ListResp  u16 count, then count x FileEntry { u8 name_len, name, u32 size }
 *   Add       u8 filename_len, filename, u32 file_len, file
 *
 * Encoders write into a caller buffer and check its room; decoders check
 * every length against the bytes left before reading, return views into the
 * input (zero-copy: names and file bytes point into it), allocate nothing,
 * reject trailing bytes, and validate strings as UTF-8 like the generated
 * decoders must. The *_bytes decoders are the same without UTF-8 validation
 * (the names taken as bytes): the floor of a schema with `bytes` fields.
 * The encoders do not validate (the generated ones do: their contract
 * refuses invalid UTF-8 on encode too). */
#ifndef NETFW_BENCH_CODEC_FLOOR_H
#define NETFW_BENCH_CODEC_FLOOR_H

#include <stddef.h>
#include <stdint.h>

#define CF_OK 0
#define CF_ENOSPC (-1) /* the output buffer / entry array is too small */
#define CF_E2BIG (-2)  /* a value does not fit its length prefix */
#define CF_EPROTO (-3) /* malformed input: short, trailing bytes, bad UTF-8 */

typedef struct cf_file_entry {
  const char *name; /* not NUL-terminated */
  uint32_t name_len;
  uint32_t size;
} cf_file_entry;

typedef struct cf_add {
  const char *filename; /* not NUL-terminated */
  uint32_t filename_len;
  const uint8_t *file;
  uint32_t file_len;
} cf_add;

/* Bytes ListResp takes for these entries (no checks). */
size_t cf_list_resp_size(const cf_file_entry *files, size_t count);

/* Encodes a ListResp of count entries into out[0, cap). Returns CF_OK and
 * the length in *written, CF_E2BIG (count > 65535 or a name > 255 bytes) or
 * CF_ENOSPC, whichever it meets first; out is unspecified on error. */
int cf_list_resp_encode(const cf_file_entry *files, size_t count, uint8_t *out,
                        size_t cap, size_t *written);

/* Decodes a ListResp from in[0, len) into files[0, cap). Returns CF_OK and
 * the entry count in *count (names point into in), CF_EPROTO or CF_ENOSPC
 * (more than cap entries). */
int cf_list_resp_decode(const uint8_t *in, size_t len, cf_file_entry *files,
                        size_t cap, size_t *count);

/* cf_list_resp_decode() without UTF-8 validation of the names. */
int cf_list_resp_decode_bytes(const uint8_t *in, size_t len,
                              cf_file_entry *files, size_t cap,
                              size_t *count);

/* Bytes Add takes (no checks). */
size_t cf_add_size(const cf_add *m);

/* Encodes an Add into out[0, cap); CF_OK with *written, CF_ENOSPC, or
 * CF_E2BIG (filename > 255 bytes, found once the room is known to hold
 * it); out is unspecified on error. */
int cf_add_encode(const cf_add *m, uint8_t *out, size_t cap, size_t *written);

/* Decodes an Add from in[0, len) into *m (views into in); CF_OK or
 * CF_EPROTO. */
int cf_add_decode(const uint8_t *in, size_t len, cf_add *m);

/* cf_add_decode() without UTF-8 validation of the filename. */
int cf_add_decode_bytes(const uint8_t *in, size_t len, cf_add *m);

/* True when s[0, len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
int cf_utf8_valid(const uint8_t *s, size_t len);

#endif /* NETFW_BENCH_CODEC_FLOOR_H */
