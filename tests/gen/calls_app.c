/* An app on the calls netfw-gen writes for tests/gen/calls.netproto, every
 * generated calls symbol used with its exact type: gen_cli_test.sh compiles
 * it with -Werror (no link), so a change to a generated signature fails
 * there first. test_gen_calls_live.c runs the same calls. */
#include <string.h>

#include "calls.netfw.h"

/* The generated signatures, spelled out: an assignment of another type
 * does not compile. */
static netfw_client *(*const client_new)(void) = calls_client_new;
static void (*const aclient_init)(netfw_aclient_config *) =
    calls_aclient_config_init;
static int (*const call_get)(netfw_client *, const calls_Get *,
                             calls_Get_reply *, netfw_arena *,
                             int) = calls_call_Get;
static int (*const call_put)(netfw_client *, const calls_Put *,
                             calls_Put_reply *, netfw_arena *,
                             int) = calls_call_Put;
static int (*const acall_get)(netfw_aclient *, const calls_Get *, int,
                              calls_Get_cb, void *) = calls_acall_Get;
static int (*const acall_put)(netfw_aclient *, const calls_Put *, int,
                              calls_Put_cb, void *) = calls_acall_Put;
static int (*const reply_value)(netfw_reply,
                                const calls_Value *) = calls_server_reply_Value;
static int (*const reply_missing)(netfw_reply, const calls_Missing *) =
    calls_server_reply_Missing;
static int (*const reply_done)(netfw_reply,
                               const calls_Done *) = calls_server_reply_Done;

int calls_app_blocking(netfw_arena *arena);
int calls_app_async(netfw_aclient *a, uint32_t *value);
int calls_app_answer(netfw_reply r, bool found, uint32_t value);
void calls_app_config(netfw_aclient_config *cfg);

/* Get then Put on a new client: the value found, -1 when missing, or the
 * error. */
int calls_app_blocking(netfw_arena *arena) {
  netfw_client *c = client_new();
  calls_Get get = {{"key", 3}};
  calls_Put put = {{"key", 3}, 1};
  calls_Get_reply got;
  calls_Put_reply done;
  int rc;

  if (c == NULL)
    return NETFW_ENOMEM;
  rc = netfw_client_connect(c, "127.0.0.1", 4000);
  if (rc == 0)
    rc = call_get(c, &get, &got, arena, 200);
  if (rc == 0) {
    switch (got.id) {
    case CALLS_VALUE_ID:
      rc = (int)got.as.Value.value;
      break;
    case CALLS_MISSING_ID:
      rc = call_put(c, &put, &done, arena, 200);
      if (rc == 0 && done.id == CALLS_DONE_ID)
        rc = -1;
      break;
    default:
      rc = NETFW_EPROTO; /* not one of Get's: the call fails first */
    }
  }
  netfw_client_free(c);
  return rc;
}

static void on_get(void *arg, int status, calls_Get_reply *reply) {
  uint32_t *value = arg;
  if (status == 0 && reply->id == CALLS_VALUE_ID)
    *value = reply->as.Value.value;
}

static void on_put(void *arg, int status, calls_Put_reply *reply) {
  (void)arg;
  (void)status;
  (void)reply;
}

/* Get and Put on an async client; *value is set by the callback. */
int calls_app_async(netfw_aclient *a, uint32_t *value) {
  calls_Get get = {{"key", 3}};
  calls_Put put = {{"key", 3}, 1};
  int rc = acall_get(a, &get, 200, on_get, value);
  return rc != 0 ? rc : acall_put(a, &put, -1, on_put, NULL);
}

/* A deferred Get answered, or a Put's Done. */
int calls_app_answer(netfw_reply r, bool found, uint32_t value) {
  calls_Value v = {value};
  calls_Missing m = {0};
  calls_Done d = {0};
  if (value == 0)
    return reply_done(r, &d);
  return found ? reply_value(r, &v) : reply_missing(r, &m);
}

void calls_app_config(netfw_aclient_config *cfg) {
  aclient_init(cfg);
}
