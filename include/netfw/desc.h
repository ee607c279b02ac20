/* netfw — a schema as data: its messages, structs, enums and fields, for
 * tools that read and write messages without generated code.
 *
 * netfw-gen emits one descriptor per schema with the C code, as
 * `const netfw_desc <proto>_descriptor` (and, with --descriptor FILE, as
 * JSON: docs/descriptor.md); netfw-call builds the same one at run time
 * from a .netproto. The reflective codec below turns a payload into JSON
 * and JSON into a payload using only a descriptor; it accepts exactly the
 * payloads the generated decoders accept and writes the bytes the
 * generated encoders write (docs/json-mapping.md has the mapping).
 *
 * Everything a descriptor points to is constant and outlives it; all
 * indices are into the descriptor's own arrays. */
#ifndef NETFW_DESC_H
#define NETFW_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/export.h"
#include "netfw/message.h"

/* Bumped when a struct below changes shape: generated tables say which
 * layout they were written for. */
#define NETFW_DESC_ABI 1

/* What one value of a field is. */
typedef enum netfw_desc_kind {
  NETFW_DESC_U8,
  NETFW_DESC_U16,
  NETFW_DESC_U32,
  NETFW_DESC_U64,
  NETFW_DESC_I8,
  NETFW_DESC_I16,
  NETFW_DESC_I32,
  NETFW_DESC_I64,
  NETFW_DESC_F32,
  NETFW_DESC_F64,
  NETFW_DESC_BOOL,
  NETFW_DESC_STRING, /* length prefix, then UTF-8 */
  NETFW_DESC_BYTES,  /* length prefix, then bytes */
  NETFW_DESC_ENUM,   /* netfw_desc_field.type indexes enums */
  NETFW_DESC_STRUCT  /* netfw_desc_field.type indexes structs */
} netfw_desc_kind;

/* How many values a field holds. */
typedef enum netfw_desc_mode {
  NETFW_DESC_PLAIN,    /* exactly one */
  NETFW_DESC_OPTIONAL, /* presence byte 00/01, then one if 01 */
  NETFW_DESC_REPEATED, /* count prefix, then that many */
  NETFW_DESC_ARRAY     /* exactly array_len, no count */
} netfw_desc_mode;

/* Which side receives a message. */
typedef enum netfw_desc_dir {
  NETFW_DESC_BOTH,      /* no arrow */
  NETFW_DESC_TO_SERVER, /* -> server */
  NETFW_DESC_TO_CLIENT  /* -> client */
} netfw_desc_dir;

typedef struct netfw_desc_const {
  const char *name;
  uint64_t value;
  const char *doc; /* its /// comment, or NULL */
} netfw_desc_const;

typedef struct netfw_desc_enum {
  const char *name;
  const char *doc;
  uint8_t size; /* bytes on the wire: 1, 2 or 4 (u8, u16, u32) */
  bool open;    /* values not listed are accepted */
  const netfw_desc_const *consts; /* in schema order */
  uint32_t nconsts;
} netfw_desc_enum;

typedef struct netfw_desc_field {
  const char *name;
  const char *doc;
  uint8_t kind;         /* netfw_desc_kind */
  uint8_t mode;         /* netfw_desc_mode */
  uint8_t prefix;       /* STRING, BYTES: length prefix bytes 1, 2, 4 */
  uint8_t count_prefix; /* REPEATED: count prefix bytes 1, 2, 4 */
  uint16_t since;       /* [since N]; 0: there from the first version */
  uint16_t type;        /* ENUM: index in enums; STRUCT: in structs */
  uint32_t array_len;   /* ARRAY: the element count */
  /* A [since] field's default (the literal, or zero / empty / absent),
   * encoded as the field is on the wire; NULL and 0 when since is 0. A
   * decoder whose payload stops before the field decodes these bytes. */
  const uint8_t *def;
  uint32_t def_len;
} netfw_desc_field;

/* A struct, or a message's body. */
typedef struct netfw_desc_struct {
  const char *name;
  const char *doc;
  const netfw_desc_field *fields; /* in wire order */
  uint32_t nfields;
  uint8_t ext_prefix; /* extensible: length prefix bytes 1, 2, 4; else 0 */
} netfw_desc_struct;

typedef struct netfw_desc_message {
  uint16_t id;
  uint8_t dir;            /* netfw_desc_dir */
  bool is_reply;          /* named in some request's returns */
  netfw_desc_struct body; /* its name, doc and fields; ext_prefix 0 */
  /* `-> server returns A | B`: the replies, as indices in messages, in the
   * order written; NULL and 0 for a one-way message */
  const uint16_t *returns;
  uint32_t nreturns;
} netfw_desc_message;

typedef struct netfw_desc {
  uint32_t abi; /* NETFW_DESC_ABI when written */
  const char *proto;
  const char *doc;
  bool big_endian;  /* option endian = big */
  uint16_t version; /* option version (1 when not set) */
  const netfw_desc_enum *enums;
  uint32_t nenums;
  const netfw_desc_struct *structs;
  uint32_t nstructs;
  const netfw_desc_message *messages; /* in schema order */
  uint32_t nmessages;
} netfw_desc;

/* The message of d with wire id `id`, or NULL. */
NETFW_EXTERN const netfw_desc_message *
netfw_desc_message_by_id(const netfw_desc *d, uint16_t id);

/* The message of d named `name` (exact), or NULL. */
NETFW_EXTERN const netfw_desc_message *
netfw_desc_message_by_name(const netfw_desc *d, const char *name);

/* Decodes payload[0..len) as message m of d into a JSON object of its
 * fields, in schema order, as compact text in *json (malloc'd,
 * NUL-terminated; the caller frees it). Returns 0, NETFW_EPROTO when the
 * generated decoder would refuse the payload (err then says where:
 * "fields.files[3].size: payload ends inside the field"), NETFW_EINVAL
 * for NULL arguments, NETFW_ENOMEM. err (errlen bytes, may be NULL/0)
 * gets "" on success. */
NETFW_EXTERN int netfw_desc_decode_json(const netfw_desc *d,
                                        const netfw_desc_message *m,
                                        const uint8_t *payload, size_t len,
                                        char **json, char *err,
                                        size_t errlen);

/* Encodes the JSON object json[0..len) (the fields of message m of d) and
 * appends the payload to out, whose id it sets to m's. Returns 0,
 * NETFW_EINVAL when the text is not JSON or does not match the schema
 * (err names the path: "fields.files[3].size: expected an unsigned
 * integer up to 4294967295"), NETFW_E2BIG when a string, bytes or array is
 * longer than its prefix can count, NETFW_ENOMEM. On error out is left as
 * it was. */
NETFW_EXTERN int netfw_desc_encode_json(const netfw_desc *d,
                                        const netfw_desc_message *m,
                                        const char *json, size_t len,
                                        netfw_msg *out, char *err,
                                        size_t errlen);

#endif /* NETFW_DESC_H */
