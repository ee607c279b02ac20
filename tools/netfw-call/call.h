/* netfw-call's parts: the options (main.c), the schema read at run time
 * (schema.c), the connection and the reply loop (call.c), --stream
 * (stream.c), --list and --describe (describe.c) and the reply lines
 * (out.c). docs/netfw-call.md is the user's side of it. */
#ifndef NETFW_CALL_H
#define NETFW_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/ast.h"
#include "netfw/client.h"
#include "netfw/desc.h"

/* Exit statuses (docs/netfw-call.md "Exit status"). */
enum {
  CALL_OK = 0,   /* done: every reply wanted came, and all decoded */
  CALL_FAIL = 1, /* no reply / too few / connection refused or lost /
                    a reply the schema refuses */
  CALL_USAGE = 2 /* bad usage, schema error, unknown or unsendable
                    message, JSON that does not match the schema */
};

#define CALL_DEFAULT_TIMEOUT_MS 5000

/* The command line. */
typedef struct call_opts {
  const char *proto;    /* --proto FILE */
  const char *ip;       /* --ip (default 127.0.0.1) */
  long port;            /* --port; 0: not given */
  bool tls;             /* --tls or any --tls-* option */
  const char *tls_cert; /* --tls-cert FILE (with --tls-key) */
  const char *tls_key;
  const char *tls_ca;          /* --tls-ca FILE */
  const char *tls_server_name; /* --tls-server-name NAME */
  long count;                  /* --count N (default 1; 0: until quiet) */
  bool count_given;
  long timeout_ms;      /* --timeout MS: the longest wait for a reply */
  bool stream;          /* --stream */
  bool list;            /* --list */
  const char *describe; /* --describe NAME */
  bool describe_schema; /* --describe-schema */
  const char *message;  /* MESSAGE */
  const char *json;     /* 'JSON' (default "{}") */
} call_opts;

/* A .netproto read at run time: its AST and its descriptor, both in pool. */
typedef struct call_schema {
  gen_pool pool;
  gen_schema ast;
  const netfw_desc *desc;
} call_schema;

/* ---- schema.c ---- */

/* Reads, parses and checks the schema at path and builds its descriptor
 * into s. Returns 0, or CALL_USAGE after printing why (the schema's
 * diagnostics as netfw-gen prints them, or the I/O error). */
int call_schema_load(call_schema *s, const char *path);

/* The longest request JSON read from @FILE or - (and the longest
 * --stream line), as docs/netfw-call.md says. */
#define CALL_MAX_JSON (64u * 1024 * 1024)

/* Reads the JSON argument's text: "-" from stdin, "@FILE" from FILE, at
 * most CALL_MAX_JSON bytes, into out. Returns 0, or CALL_USAGE after a
 * message. */
int call_read_json(const char *arg, gen_buf *out);

/* Frees everything s holds. */
void call_schema_free(call_schema *s);

/* The message of s named name; NULL after printing "<where>unknown
 * message 'name' (did you mean 'X'?)" on stderr. */
const netfw_desc_message *
call_find_message(const call_schema *s, const char *name, const char *where);

/* Encodes json[0..len) as message m into out (m's id set), as a client
 * may send it. Returns 0, or CALL_USAGE after printing "<where>..." on
 * stderr: m goes to the client only, or the JSON does not match (the
 * codec's field path). */
int call_encode(const call_schema *s, const netfw_desc_message *m,
                const char *json, size_t len, netfw_msg *out,
                const char *where);

/* ---- call.c ---- */

/* "127.0.0.1:9" or "[::1]:9": how messages name the server (buf of n). */
const char *call_peer(const call_opts *o, char *buf, size_t n);

/* A new client connected to the server of o (TLS as o says). NULL after
 * printing "netfw-call: HOST:PORT: reason" on stderr, *status then
 * CALL_FAIL (or CALL_USAGE: a --tls-* file is unusable). */
netfw_client *call_connect(const call_opts *o, int *status);

/* Prints "netfw-call: HOST:PORT: <netfw_strerror(err)>[: <why>]" for c. */
void call_fail(const call_opts *o, const netfw_client *c, int err);

/* Shuts c down within a bounded time and frees it (NULL: nothing). */
void call_close(netfw_client *c);

/* What waiting for one reply ended with. */
typedef enum call_wait {
  CALL_GOT_REPLY, /* printed (*bad set when its line was an error line) */
  CALL_QUIET,     /* nothing came within the timeout */
  CALL_LOST       /* the connection is gone (reason printed) */
} call_wait;

/* Waits up to timeout_ms for one reply on c, and prints it; its id goes
 * to *id (may be NULL). */
call_wait call_wait_reply(const call_opts *o, const call_schema *s,
                          netfw_client *c, int timeout_ms, bool *bad,
                          uint16_t *id);

/* netfw-call MESSAGE 'JSON': connect, send, print the replies. Returns
 * the exit status. */
int call_run(const call_opts *o, const call_schema *s);

/* ---- stream.c ---- */

/* netfw-call --stream: requests from stdin lines, replies on stdout as
 * they come. Returns the exit status. */
int call_stream(const call_opts *o, const call_schema *s);

/* ---- describe.c ---- */

/* --list: one line per message, struct and enum. Returns the status. */
int call_list(const call_schema *s);

/* --describe NAME: the declaration as schema source. Returns the
 * status (CALL_USAGE for an unknown name, after a message). */
int call_describe(const call_schema *s, const char *name);

/* --describe-schema: the whole schema as source. Returns the status. */
int call_describe_schema(const call_schema *s);

/* ---- out.c ---- */

/* Prints the line of reply m on stdout and flushes it:
 * {"message":"Ack","id":7,"fields":{...}}, or, when the schema has no
 * such id or refuses the payload,
 * {"message":null|"Name","id":N,"error":"...","payload":"<base64>"};
 * a message to the server (-> server) is printed with its fields and
 * marked: {"message":"Add","id":1,"error":"...","fields":{...}}.
 * Returns false for an error line (or when stdout fails). */
bool out_reply(const netfw_desc *d, const netfw_msg *m);

/* Room for a codec error: its field path may be NETFW_MAX_DECODE_DEPTH
 * levels deep, and the reason comes after it. */
#define CALL_ERR_LEN 16384
/* How much of each end of a long field path call_elide keeps. */
#define CALL_PATH_KEEP 60

/* err ("fields.a.b...: reason") into buf of n, a path longer than
 * 2 * CALL_PATH_KEEP + 20 shortened in the middle, between path steps,
 * to "HEAD … TAIL" (each about CALL_PATH_KEEP long; the reason always
 * whole). Returns buf. */
const char *call_elide(const char *err, char *buf, size_t n);

/* The monotonic clock in milliseconds. */
int64_t call_now_ms(void);

#endif /* NETFW_CALL_H */
