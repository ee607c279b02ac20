/* Emits the public codec of each struct and message: P_T_encode (one
 * checked pass into the message's spare room; without enough room, check
 * and size in one pass, one allocation, write), P_T_decode (a reader over the
 * payload, every member set on success, the output zeroed on error, the
 * read cursor moved past what was read)
 * and P_T_encoded_size, over the static functions of emit_source.c. */
#include "emit.h"

void gen_emit_codec_api(gen_buf *o, const gen_schema *s, const gen_decl *d,
                        gen_pool *pool) {
  const char *p = s->proto, *n = d->name;
  bool msg = d->kind == D_MESSAGE;

  gen_buf_printf(o,
                 "int %s_%s_encode(const %s_%s *in, netfw_msg *out) {\n"
                 "  const uint8_t *end;\n  uint8_t *start, *w;\n  size_t n;\n"
                 "  int rc;\n\n"
                 "  if (in == NULL || out == NULL)\n    return NETFW_EINVAL;\n"
                 "  /* the strings first (NULL pointers, UTF-8) */\n"
                 "  rc = %s__u8_%s(in);\n  if (rc != 0)\n    return rc;\n"
                 "  /* one pass into the room the message already has (a "
                 "reused message) */\n"
                 "  start = netfw__msg_spare(out, &end);\n"
                 "  if (start != NULL) {\n"
                 "    w = %s__enc_%s(in, start, end, &rc);\n"
                 "    if (w != NULL) {\n"
                 "      netfw__msg_add_size(out, (size_t)(w - start));\n",
                 p, n, p, n, p, n, p, n);
  if (msg)
    gen_buf_printf(o, "      netfw__msg_set_id(out, %s_%s_ID);\n",
                   gen_upper(pool, p), gen_upper(pool, n));
  gen_buf_printf(o,
                 "      return 0;\n    }\n"
                 "    if (rc != NETFW__ENC_NOROOM)\n      return rc;\n  }\n"
                 "  /* no room: check and size, make room, write */\n"
                 "  n = 0;\n"
                 "  rc = %s__cs_%s(in, &n);\n  if (rc != 0)\n    return rc;\n"
                 "  if (n > UINT32_MAX - netfw__msg_size(out))\n"
                 "    return NETFW_E2BIG;\n"
                 "  start = netfw__msg_append_space(out, n);\n"
                 "  if (start == NULL)\n    return NETFW_ENOMEM;\n",
                 p, n);
  if (msg)
    gen_buf_printf(o, "  netfw__msg_set_id(out, %s_%s_ID);\n",
                   gen_upper(pool, p), gen_upper(pool, n));
  gen_buf_printf(o,
                 "  /* cannot fail: everything was checked and n is the exact "
                 "size */\n"
                 "  (void)%s__enc_%s(in, start, start + n, &rc);\n"
                 "  return 0;\n}\n\n",
                 p, n);

  gen_buf_printf(o,
                 "int %s_%s_decode(netfw_msg *in, %s_%s *out, netfw_arena "
                 "*arena) {\n"
                 "  netfw_reader r;\n  size_t start;\n  int rc;\n\n"
                 "  if (in == NULL || out == NULL)\n    return NETFW_EINVAL;\n",
                 p, n, p, n);
  if (msg)
    gen_buf_puts(o, "  start = 0;\n");
  else
    gen_buf_puts(o, "  start = netfw__msg_cursor(in);\n");
  gen_buf_printf(o,
                 "  r.p = netfw__msg_data(in);\n"
                 "  r.p = r.p != NULL ? r.p + start : (const uint8_t *)\"\";\n"
                 "  r.left = netfw__msg_size(in) - start;\n"
                 "  /* the decoder sets every member: no zeroing first */\n"
                 "  rc = %s__dec_%s(&r, out, arena, 0);\n"
                 "  if (rc != 0) {\n    memset(out, 0, sizeof(*out));\n"
                 "    return rc;\n  }\n"
                 "  netfw__msg_seek(in, netfw__msg_size(in) - (uint32_t)r.left);\n"
                 "  return 0;\n}\n\n",
                 p, n);

  gen_buf_printf(o,
                 "size_t %s_%s_encoded_size(const %s_%s *in) {\n"
                 "  return in != NULL ? %s__sz_%s(in) : 0;\n}\n\n",
                 p, n, p, n, p, n);
}

