/* Frames in NAME_netfw.py: MESSAGES (id -> class), UnknownMessage,
 * decode_message and read_frames, which cuts netframe's frames (id u16,
 * size u32, little-endian, then the payload) off the front of a buffer. */
#include "py.h"

#define OUT(...) gen_buf_printf(o->b, __VA_ARGS__)

static const char frames[] =
    "\n\n@dataclasses.dataclass\n"
    "class UnknownMessage:\n"
    "    \"\"\"A frame whose id the schema does not define.\"\"\"\n\n"
    "    id: int\n    payload: bytes\n"
    "\n\n"
    "def decode_message(id: int, payload: bytes):\n"
    "    \"\"\"The message with this id decoded from payload, or an "
    "UnknownMessage for an\n    id not in the schema; DecodeError if "
    "payload is malformed.\"\"\"\n"
    "    cls = MESSAGES.get(id)\n"
    "    if cls is None:\n"
    "        return UnknownMessage(id, bytes(payload))\n"
    "    return cls.decode(payload)\n"
    "\n\n"
    "def read_frames(\n    buffer: bytearray, max_payload: int = "
    "MAX_PAYLOAD\n) -> typing.List[typing.Tuple[int, bytes]]:\n"
    "    \"\"\"Removes every complete frame from the front of buffer and "
    "returns them as\n    (id, payload); an incomplete tail stays. "
    "DecodeError (buffer untouched) when a\n    header announces more "
    "than max_payload bytes.\"\"\"\n"
    "    frames = []\n    pos = 0\n    size = len(buffer)\n"
    "    while size - pos >= 6:\n"
    "        mid, n = _S_HEADER.unpack_from(buffer, pos)\n"
    "        if n > max_payload:\n"
    "            raise DecodeError(\n"
    "                \"frame %d announces %d bytes, more than %d\" % (mid, n, "
    "max_payload))\n"
    "        if size - pos - 6 < n:\n            break\n"
    "        frames.append((mid, bytes(buffer[pos + 6:pos + 6 + n])))\n"
    "        pos += 6 + n\n"
    "    del buffer[:pos]\n    return frames\n";

void py_emit_frames(py_out *o) {
  const gen_schema *s = o->s;
  OUT("\n\n# ---- frames "
      "-----------------------------------------------------------------\n\n"
      "_S_HEADER = struct.Struct(\"<HI\")  # netframe's: id, payload size\n\n"
      "MESSAGES: typing.Dict[int, type] = {");
  for (size_t i = 0, n = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE)
      continue;
    OUT("%s\n    %llu: %s,", n++ == 0 ? "" : "", (unsigned long long)d->id,
        py_type_name(o->pool, d));
  }
  OUT("\n}\n");
  gen_buf_puts(o->b, frames);
}
