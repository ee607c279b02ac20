/* The netframe part of NAME_netfw.py, duck-typed against netframe's
 * documented API (Message: hdr.id, hdr.size, payload, append; OwnedMessage:
 * msg, conn; Connection: send, shutdown, addr; Client: send): from_netframe,
 * ServerHandlers and ClientHandlers with one on_<Message> per message that
 * side receives and dispatch(), and the typed send helpers. netframe itself
 * is imported only when a helper builds a Message. */
#include <string.h>

#include "py.h"

#define OUT(...) gen_buf_printf(o->b, __VA_ARGS__)

static const char common[] =
    "\n\n# ---- netframe "
    "---------------------------------------------------------------\n"
    "\n\n"
    "def from_netframe(msg):\n"
    "    \"\"\"Decodes netframe Message msg by its id, like "
    "decode_message.\"\"\"\n"
    "    return decode_message(msg.hdr.id, bytes(msg.payload[:msg.hdr.size]))"
    "\n\n\n"
    "def _netframe_message():\n"
    "    \"\"\"A new netframe Message (netframe is imported here, when first "
    "needed).\"\"\"\n"
    "    from netframe import Message\n\n    return Message()\n"
    "\n\n"
    "def _describe(msg):\n"
    "    \"\"\"A message for a log line: a decoded one or netframe's.\"\"\"\n"
    "    if hasattr(msg, \"hdr\"):\n"
    "        return \"id %d (%d bytes)\" % (msg.hdr.id, msg.hdr.size)\n"
    "    return \"%s (id %d)\" % (msg.NAME, msg.ID)\n"
    "\n\n"
    "def _peer(conn):\n"
    "    \"\"\"The address of conn's peer for a log line.\"\"\"\n"
    "    try:\n        return \"%s:%s\" % tuple(conn.addr()[:2])\n"
    "    except Exception:  # only for the log: any connection will do\n"
    "        return \"?\"\n";

/* The `_SERVER_HANDLERS = {id: "on_Name", ...}` table of one side. */
static void table(py_out *o, bool server) {
  bool any = false;
  OUT("\n\n_%s_HANDLERS = {", server ? "SERVER" : "CLIENT");
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, server))
      continue;
    OUT("\n    %llu: \"on_%s\",", (unsigned long long)d->id,
        py_type_name(o->pool, d));
    any = true;
  }
  OUT(any ? "\n}\n" : "}\n");
}

/* The first line of a doc comment, for a handler's docstring. */
static void first_line(py_out *o, const char *doc, const char *fallback) {
  size_t n;
  if (doc == NULL) {
    OUT("%s", fallback);
    return;
  }
  n = strcspn(doc, "\n");
  for (size_t i = 0; i < n; i++) {
    if (doc[i] == '"' || doc[i] == '\\')
      OUT("\\");
    gen_buf_append(o->b, doc + i, 1);
  }
}

static void handlers(py_out *o, bool server) {
  const char *C = server ? "conn, " : "";
  OUT("\n\nclass %sHandlers:\n", server ? "Server" : "Client");
  if (server)
    OUT("    \"\"\"The messages a server receives, one method each: "
        "subclass it and override\n    those you handle. A netframe "
        "ServerApp's on_message(owned) is then\n    "
        "`self.handlers.dispatch(owned)`.\"\"\"\n\n"
        "    def dispatch(self, owned) -> None:\n"
        "        \"\"\"Decodes netframe OwnedMessage owned (.msg, .conn) "
        "and calls its handler;\n        on_unknown for an id a server does "
        "not receive, on_malformed for a\n        payload that does not "
        "decode.\"\"\"\n"
        "        msg, conn = owned.msg, owned.conn\n");
  else
    OUT("    \"\"\"The messages a client receives, one method each: "
        "subclass it and override\n    those you handle, then "
        "`handlers.dispatch(client.recv())`.\"\"\"\n\n"
        "    def dispatch(self, msg) -> None:\n"
        "        \"\"\"Decodes netframe Message msg and calls its handler; "
        "on_unknown for an id a\n        client does not receive, "
        "on_malformed for a payload that does not decode.\"\"\"\n");
  OUT("        name = _%s_HANDLERS.get(msg.hdr.id)\n"
      "        if name is None:\n            self.on_unknown(%smsg)\n"
      "            return\n        try:\n"
      "            m = MESSAGES[msg.hdr.id].decode(bytes(msg.payload"
      "[:msg.hdr.size]))\n"
      "        except DecodeError as err:\n"
      "            self.on_malformed(%smsg, err)\n            return\n"
      "        getattr(self, name)(%sm)\n",
      server ? "SERVER" : "CLIENT", C, C, C);
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    const char *T = py_type_name(o->pool, d);
    if (d->kind != D_MESSAGE || !gen_receives(d, server))
      continue;
    OUT("\n    def on_%s(self, %smsg: %s) -> None:\n        \"\"\"", T, C, T);
    first_line(o, d->doc, "Not handled: goes to on_unknown.");
    OUT("\"\"\"\n        self.on_unknown(%smsg)\n", C);
  }
  OUT("\n    def on_unknown(self, %smsg) -> None:\n"
      "        \"\"\"An id this side does not receive (msg: netframe's "
      "Message) or a message\n        without a handler (msg: the decoded "
      "one): logs at WARNING%s.\"\"\"\n",
      C, server ? " and shuts conn\n        down" : "");
  if (server)
    OUT("        _log.warning(\n            \"%%s: unexpected message %%s "
        "from %%s; closing\", PROTOCOL, _describe(msg), _peer(conn)\n"
        "        )\n        conn.shutdown()\n");
  else
    OUT("        _log.warning(\"%%s: unexpected message %%s\", PROTOCOL, "
        "_describe(msg))\n");
  OUT("\n    def on_malformed(self, %smsg, err) -> None:\n"
      "        \"\"\"A payload that does not decode (err: the DecodeError): "
      "logs at WARNING%s.\"\"\"\n",
      C, server ? "\n        and shuts conn down" : "");
  if (server)
    OUT("        _log.warning(\n            \"%%s: malformed %%s from %%s: "
        "%%s; closing\", PROTOCOL, _describe(msg), _peer(conn), err\n"
        "        )\n        conn.shutdown()\n");
  else
    OUT("        _log.warning(\"%%s: malformed %%s: %%s\", PROTOCOL, "
        "_describe(msg), err)\n");
}

/* send_<Message>(conn, m) for what the client receives, and
 * client_send_<Message>(client, m) for what the server receives. */
static void senders(py_out *o) {
  for (int server = 0; server <= 1; server++)
    for (size_t i = 0; i < o->s->ndecls; i++) {
      const gen_decl *d = o->s->decls[i];
      const char *T = py_type_name(o->pool, d);
      const char *who = server ? "client" : "conn";
      if (d->kind != D_MESSAGE || !gen_receives(d, server))
        continue;
      OUT("\n\ndef %ssend_%s(%s, m: %s) -> None:\n"
          "    \"\"\"Sends m on a netframe %s.\"\"\"\n"
          "    %s.send(m.to_netframe(_netframe_message()))\n",
          server ? "client_" : "", T, who, T,
          server ? "Client" : "server Connection", who);
    }
}

void py_emit_netframe(py_out *o) {
  gen_buf_puts(o->b, common);
  table(o, true);
  table(o, false);
  handlers(o, true);
  handlers(o, false);
  senders(o);
}
