/* The reply lines on stdout: one compact JSON object per reply, keys in
 * the order message, id, fields (or error, payload). The fields object is
 * the reflective codec's text, inserted as it is (re-parsing it would
 * re-round its floats); jansson writes the strings around it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h" /* runtime/core (netfw-call links the static runtime) */
#include "call.h"
#include "front/util.h"
#include "netfw/error.h"

int64_t call_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *call_elide(const char *err, char *buf, size_t n) {
  const char *colon = strstr(err, ": ");
  size_t path = colon != NULL ? (size_t)(colon - err) : strlen(err);
  size_t head = CALL_PATH_KEEP, tail = path - CALL_PATH_KEEP;

  if (path <= CALL_PATH_KEEP * 2 + 20) {
    snprintf(buf, n, "%s", err);
    return buf;
  }
  while (head < tail && err[head] != '.') /* cut between path steps */
    head++;
  while (tail > head && err[tail] != '.')
    tail--;
  if (tail <= head) { /* no steps to drop: cut anywhere */
    head = CALL_PATH_KEEP;
    tail = path - CALL_PATH_KEEP - 1;
  }
  snprintf(buf, n, "%.*s \xe2\x80\xa6 %s", (int)head, err, err + tail + 1);
  return buf;
}

/* Appends s as a JSON string (escaped by jansson; bytes that are not
 * UTF-8 become '?'). */
static void put_string(gen_buf *b, const char *s) {
  json_t *j = json_string(s);
  char *text;

  if (j == NULL) {
    char *copy = strdup(s);
    if (copy == NULL)
      return;
    for (char *p = copy; *p; p++)
      if ((unsigned char)*p >= 0x80)
        *p = '?';
    j = json_string(copy);
    free(copy);
  }
  text = j != NULL ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
  gen_buf_puts(b, text != NULL ? text : "\"\"");
  free(text);
  json_decref(j);
}

/* Appends data[0..len) in standard base64 with padding. */
static void put_base64(gen_buf *b, const uint8_t *data, size_t len) {
  char *text = malloc(NETFW__BASE64_LEN(len) + 1);
  if (text == NULL)
    return;
  netfw__base64_encode(text, data, len);
  gen_buf_append(b, text, NETFW__BASE64_LEN(len));
  free(text);
}

/* Writes line b and a newline to stdout and flushes; false if it fails. */
static bool put_line(gen_buf *b) {
  bool ok;
  gen_buf_puts(b, "\n");
  ok = fwrite(b->data, 1, b->len, stdout) == b->len && fflush(stdout) == 0;
  gen_buf_free(b);
  return ok;
}

/* The error line of a reply: message null (unknown id) or its name. */
static void error_line(gen_buf *b, const netfw_desc_message *dm,
                       const netfw_msg *m, const char *why) {
  gen_buf_puts(b, "{\"message\":");
  if (dm != NULL)
    put_string(b, dm->body.name);
  else
    gen_buf_puts(b, "null");
  gen_buf_printf(b, ",\"id\":%u,\"error\":", (unsigned)netfw_msg_id(m));
  put_string(b, why);
  gen_buf_puts(b, ",\"payload\":\"");
  put_base64(b, netfw_msg_payload(m), netfw_msg_size(m));
  gen_buf_puts(b, "\"}");
}

/* Prints the line of message dm (wire id `id`) with its decoded fields
 * (freed here), marked with an "error" key when dm goes to the server.
 * Returns false for such a line (or when stdout fails). */
static bool fields_line(const netfw_desc_message *dm, uint16_t id,
                        char *fields) {
  gen_buf b = {0};
  char why[300];

  gen_buf_puts(&b, "{\"message\":");
  put_string(&b, dm->body.name);
  gen_buf_printf(&b, ",\"id\":%u,", (unsigned)id);
  if (dm->dir == NETFW_DESC_TO_SERVER) { /* a server's message: odd */
    snprintf(why, sizeof(why),
             "%.200s is a message to the server (-> server), not a reply",
             dm->body.name);
    gen_buf_puts(&b, "\"error\":");
    put_string(&b, why);
    gen_buf_puts(&b, ",");
  }
  gen_buf_printf(&b, "\"fields\":%s}", fields);
  free(fields);
  return put_line(&b) && dm->dir != NETFW_DESC_TO_SERVER;
}

bool out_reply(const netfw_desc *d, const netfw_msg *m) {
  uint16_t id = netfw_msg_id(m);
  const netfw_desc_message *dm = netfw_desc_message_by_id(d, id);
  gen_buf b = {0};
  char err[CALL_ERR_LEN], why[CALL_ERR_LEN];
  char *fields = NULL;
  static const uint8_t none[1];
  const uint8_t *p = netfw_msg_size(m) > 0 ? netfw_msg_payload(m) : none;
  int rc;

  if (dm == NULL) {
    snprintf(why, sizeof(why), "unknown message id %u", (unsigned)id);
    error_line(&b, NULL, m, why);
    put_line(&b);
    return false;
  }
  err[0] = '\0';
  rc = netfw_desc_decode_json(d, dm, p, netfw_msg_size(m), &fields, err,
                              sizeof(err));
  if (rc != 0) {
    if (err[0] != '\0')
      call_elide(err, why, sizeof(why));
    else
      snprintf(why, sizeof(why), "%s", netfw_strerror(rc));
    error_line(&b, dm, m, why);
    free(fields);
    put_line(&b);
    return false;
  }
  return fields_line(dm, id, fields);
}
