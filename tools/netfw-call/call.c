/* netfw-call MESSAGE 'JSON': the connection (plaintext or TLS), one
 * request, and the replies printed until enough came or none comes within
 * --timeout. */
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "netfw/error.h"
#include "netfw/tls.h"

/* How long closing may wait for the server to close its side: short, since
 * after the last reply nothing netfw-call sent still matters. */
#define CLOSE_TIMEOUT_MS 20

const char *call_peer(const call_opts *o, char *buf, size_t n) {
  if (strchr(o->ip, ':') != NULL)
    snprintf(buf, n, "[%s]:%ld", o->ip, o->port);
  else
    snprintf(buf, n, "%s:%ld", o->ip, o->port);
  return buf;
}

static void own_words(const call_opts *o, char *s, size_t n);

/* Replies (any message) received so far: a close before the first one
 * may be a TLS server refusing plaintext. */
static long received;

/* A hint for how c was lost (o without TLS), or "". */
static const char *loss_hint(const call_opts *o, const netfw_client *c) {
  int loss = c != NULL ? netfw_client_loss(c) : 0;

  if (loss == NETFW_E2BIG)
    return o->tls ? " (not a netfw server?)"
                  : " (not a netfw server, or a TLS server: try --tls?)";
  if (loss == NETFW_ECLOSED && received == 0 && !o->tls)
    return " (before any reply: the server may expect TLS; try --tls?)";
  return "";
}

/* Prints "netfw-call: HOST:PORT: <what>[: <netfw_client_error>][ hint]". */
static void peer_fail(const call_opts *o, const netfw_client *c,
                      const char *what) {
  const char *why = c != NULL ? netfw_client_error(c) : "";
  char peer[300], text[1500];

  call_peer(o, peer, sizeof(peer));
  if (why != NULL && why[0] != '\0')
    snprintf(text, sizeof(text), "%s: %s", what, why);
  else
    snprintf(text, sizeof(text), "%s", what);
  own_words(o, text, sizeof(text));
  fprintf(stderr, "netfw-call: %s: %s%s\n", peer, text, loss_hint(o, c));
}

/* Replaces the first `from` in s (of room n) with `to`, when it fits. */
static void replace(char *s, size_t n, const char *from, const char *to) {
  char *at = strstr(s, from);
  size_t lf = strlen(from), lt = strlen(to), rest;

  if (at == NULL || strlen(s) - lf + lt >= n)
    return;
  rest = strlen(at + lf) + 1;
  memmove(at + lt, at + lf, rest);
  memcpy(at, to, lt);
}

/* Rewrites the runtime's words in s (room n) in netfw-call's: its config
 * fields as the flags that set them ("tls ca_file 'F'" -> "--tls-ca F"),
 * and "(see the log)" as how to see the log. */
static void own_words(const call_opts *o, char *s, size_t n) {
  static const char *const fields[][2] = {
      {"key_file (does not match cert_file)", "--tls-key"},
      {"ca_file", "--tls-ca"},
      {"cert_file", "--tls-cert"},
      {"key_file", "--tls-key"}};
  const char *files[] = {o->tls_key, o->tls_ca, o->tls_cert, o->tls_key};
  char from[1200], to[1200];

  for (size_t i = 0; i < 4; i++) {
    if (files[i] == NULL)
      continue;
    snprintf(from, sizeof(from), "tls %s '%s'", fields[i][0], files[i]);
    snprintf(to, sizeof(to), "%s %s%s", fields[i][1], files[i],
             i == 0 ? " (does not match --tls-cert)" : "");
    replace(s, n, from, to);
  }
  replace(s, n, "(see the log)",
          "(run with NETFW_LOG_LEVEL=debug for the log)");
}

/* Turns TLS on for c from the --tls* options. Returns 0, or -1 after a
 * message. */
static int set_tls(netfw_client *c, const call_opts *o) {
  netfw_tls_config t;
  char why[1500];
  int err;

  netfw_tls_config_init(&t);
  t.cert_file = o->tls_cert;
  t.key_file = o->tls_key;
  t.ca_file = o->tls_ca;
  t.server_name = o->tls_server_name;
  t.handshake_timeout_ms = (int)o->timeout_ms;
  err = netfw_client_set_tls(c, &t);
  if (err == 0)
    return 0;
  snprintf(why, sizeof(why), "%s",
           netfw_client_error(c)[0] != '\0' ? netfw_client_error(c)
                                            : netfw_strerror(err));
  own_words(o, why, sizeof(why));
  fprintf(stderr, "netfw-call: %s%s\n", strncmp(why, "--tls", 5) ? "TLS: " : "",
          why);
  return -1;
}

netfw_client *call_connect(const call_opts *o, int *status) {
  netfw_client *c = netfw_client_new();
  int err;

  *status = CALL_FAIL;
  if (c == NULL) {
    fprintf(stderr, "netfw-call: out of memory\n");
    return NULL;
  }
  netfw_client_set_connect_timeout(c, (int)o->timeout_ms);
  if (o->tls && set_tls(c, o) != 0) {
    *status = CALL_USAGE;
    goto failed;
  }
  err = netfw_client_connect(c, o->ip, (uint16_t)o->port);
  if (err == NETFW_ETIMEDOUT && netfw_client_error(c)[0] == '\0') {
    char what[64];
    snprintf(what, sizeof(what), "timed out after %ld ms", o->timeout_ms);
    peer_fail(o, c, what);
    goto failed;
  }
  if (err != 0) {
    peer_fail(o, c, netfw_strerror(err));
    goto failed;
  }
  return c;
failed:
  netfw_client_free(c);
  return NULL;
}

void call_fail(const call_opts *o, const netfw_client *c, int err) {
  peer_fail(o, c, netfw_strerror(err));
}

void call_close(netfw_client *c) {
  if (c == NULL)
    return;
  netfw_client_shutdown(c, CLOSE_TIMEOUT_MS);
  netfw_client_free(c);
}

call_wait call_wait_reply(const call_opts *o, const call_schema *s,
                          netfw_client *c, int timeout_ms, bool *bad,
                          uint16_t *id) {
  netfw_msg *m = NULL;
  int err = netfw_client_recv(c, &m, timeout_ms);

  if (err == 0) {
    received++;
    if (id != NULL)
      *id = netfw_msg_id(m);
    *bad = !out_reply(s->desc, m);
    netfw_msg_free(m);
    return CALL_GOT_REPLY;
  }
  if (err == NETFW_ETIMEDOUT)
    return CALL_QUIET;
  peer_fail(o, c, netfw_strerror(err));
  return CALL_LOST;
}

/* Prints why the replies stopped short: got of want within timeout. */
static void too_few(const call_opts *o, long got) {
  char peer[300];

  call_peer(o, peer, sizeof(peer));
  if (got == 0)
    fprintf(stderr, "netfw-call: %s: no reply within %ld ms\n", peer,
            o->timeout_ms);
  else
    fprintf(stderr,
            "netfw-call: %s: %ld of %ld replies, then none within %ld ms\n",
            peer, got, o->count, o->timeout_ms);
}

/* Whether a message with wire id `id` answers request m: any message
 * does, unless m names its replies (`returns`, docs/netproto.md section
 * 11); then only those do, and the others are pushes. */
static bool answers(const netfw_desc *d, const netfw_desc_message *m,
                    uint16_t id) {
  if (m->nreturns == 0)
    return true;
  for (uint32_t i = 0; i < m->nreturns; i++)
    if (d->messages[m->returns[i]].id == id)
      return true;
  return false;
}

/* Prints what comes on c: o->count replies to request m, or (count 0)
 * everything until no reply came within the timeout. Only a reply moves
 * the deadline: pushes are printed but cannot keep netfw-call waiting.
 * Returns the exit status. */
static int replies(const call_opts *o, const call_schema *s,
                   const netfw_desc_message *m, netfw_client *c) {
  long got = 0;
  bool any_bad = false;
  int64_t deadline = call_now_ms() + o->timeout_ms;

  while (o->count == 0 || got < o->count) {
    bool bad = false;
    uint16_t id = 0;
    int64_t left = deadline - call_now_ms();
    call_wait w = left <= 0 ? CALL_QUIET
                            : call_wait_reply(o, s, c, (int)left, &bad, &id);
    if (w == CALL_LOST)
      return CALL_FAIL;
    if (w == CALL_QUIET) {
      if (o->count == 0)
        break;
      too_few(o, got);
      return CALL_FAIL;
    }
    if (answers(s->desc, m, id)) {
      got++;
      deadline = call_now_ms() + o->timeout_ms;
    }
    any_bad |= bad;
  }
  return any_bad ? CALL_FAIL : CALL_OK;
}

/* Encodes the request m from o->json (the text, or "@FILE" or "-" to
 * read it) into req. Returns 0 or CALL_USAGE (after a message). */
static int request_json(const call_opts *o, const call_schema *s,
                        const netfw_desc_message *m, netfw_msg *req) {
  gen_buf b = {0};
  int status;

  if (o->json[0] != '@' && strcmp(o->json, "-") != 0)
    return call_encode(s, m, o->json, strlen(o->json), req, "");
  status = call_read_json(o->json, &b);
  if (status == 0)
    status = call_encode(s, m, b.data != NULL ? b.data : "", b.len, req, "");
  gen_buf_free(&b);
  return status;
}

int call_run(const call_opts *o, const call_schema *s) {
  const netfw_desc_message *m = call_find_message(s, o->message, "");
  netfw_client *c;
  netfw_msg req;
  int status, err;

  if (m == NULL)
    return CALL_USAGE;
  netfw_msg_init(&req, m->id);
  status = request_json(o, s, m, &req);
  if (status != 0)
    goto done;
  c = call_connect(o, &status);
  if (c == NULL)
    goto done;
  err = netfw_client_send(c, &req);
  if (err != 0) {
    peer_fail(o, c, netfw_strerror(err));
    status = CALL_FAIL;
  } else {
    status = replies(o, s, m, c);
  }
  call_close(c);
done:
  netfw_msg_release(&req);
  return status;
}
