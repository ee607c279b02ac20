/* The calls tests' kit: the hand-built protocol, the deferring server app
 * and loop helpers (calls_kit.h). */
#include "calls_kit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

/* Req(10) returns Resp(11) (index 1); Push(12) to the client; Note(13)
 * one-way to the server; Req2(14) returns Resp2(15) (index 5). */
static const uint16_t req_returns[] = {1};
static const uint16_t req2_returns[] = {5};
static const netfw_desc_message msgs[] = {
    {.id = CALLS_REQ,
     .dir = NETFW_DESC_TO_SERVER,
     .body = {.name = "Req"},
     .returns = req_returns,
     .nreturns = 1},
    {.id = CALLS_RESP,
     .dir = NETFW_DESC_TO_CLIENT,
     .is_reply = true,
     .body = {.name = "Resp"}},
    {.id = CALLS_PUSH, .dir = NETFW_DESC_TO_CLIENT, .body = {.name = "Push"}},
    {.id = CALLS_NOTE, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Note"}},
    {.id = CALLS_REQ2,
     .dir = NETFW_DESC_TO_SERVER,
     .body = {.name = "Req2"},
     .returns = req2_returns,
     .nreturns = 1},
    {.id = CALLS_RESP2,
     .dir = NETFW_DESC_TO_CLIENT,
     .is_reply = true,
     .body = {.name = "Resp2"}},
};
static const netfw_desc desc = {
    .abi = NETFW_DESC_ABI, .proto = "calls", .messages = msgs, .nmessages = 6};

/* Returns the protocol's static descriptor. */
const netfw_desc *calls_desc(void) {
  return &desc;
}

/* Builds Req(seq, delay); NULL when out of memory. */
netfw_msg *calls_req(uint64_t seq, uint32_t delay_ms) {
  netfw_msg *m = netfw_msg_new(CALLS_REQ);

  if (m == NULL || netfw_msg_append(m, &seq, sizeof(seq)) != 0 ||
      netfw_msg_append(m, &delay_ms, sizeof(delay_ms)) != 0) {
    netfw_msg_free(m);
    return NULL;
  }
  return m;
}

/* Reads the leading u64 of an 8-byte payload; UINT64_MAX otherwise. */
uint64_t calls_seq_of(const netfw_msg *m) {
  uint64_t seq;

  if (m == NULL || netfw_msg_size(m) != sizeof(seq))
    return UINT64_MAX;
  memcpy(&seq, netfw_msg_payload(m), sizeof(seq));
  return seq;
}

/* ---- the server app ---------------------------------------------------- */

typedef struct worker {
  const calls_server_opts *opts;
  unsigned rng; /* rand_r state: the random delays */
} worker;

typedef struct conn_state {
  uint64_t requests; /* read on this connection */
  uint64_t pushes;   /* sent on it */
} conn_state;

/* One deferred reply waiting for its timer. */
typedef struct pending {
  uv_timer_t timer;
  netfw_reply token;
  uint64_t seq;
} pending;

/* Makes the worker's state and runs the test's on_create hook. */
static void *app_create(void *context) {
  worker *w = calloc(1, sizeof(*w));

  if (w == NULL)
    abort();
  w->opts = context;
  w->rng = (unsigned)getpid() ^ (unsigned)time(NULL);
  if (w->opts->on_create != NULL)
    w->opts->on_create(w->opts->user, netfw_worker_loop());
  return w;
}

/* Runs the test's on_destroy hook and frees the worker's state. */
static void app_destroy(void *app) {
  worker *w = app;

  if (w->opts->on_destroy != NULL)
    w->opts->on_destroy(w->opts->user);
  free(w);
}

/* Gives every connection its counters. */
static bool app_connect(void *app, netfw_conn *c) {
  (void)app;
  conn_state *cs = calloc(1, sizeof(*cs));

  if (cs == NULL)
    return false;
  netfw_conn_set_data(c, cs);
  return true;
}

/* Frees the connection's counters. */
static void app_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  (void)app;
  (void)why;
  free(netfw_conn_data(c));
}

/* Frees a reply's timer once libuv is done with it. */
static void pending_free(uv_handle_t *h) {
  free(h->data);
}

/* The delay is over: answers (the connection may be gone: ECLOSED). */
static void pending_fire(uv_timer_t *t) {
  pending *p = t->data;
  netfw_msg resp;

  netfw_msg_init(&resp, CALLS_RESP);
  if (netfw_msg_append(&resp, &p->seq, sizeof(p->seq)) == 0)
    (void)netfw_reply_send(p->token, &resp);
  netfw_msg_release(&resp);
  uv_close((uv_handle_t *)t, pending_free);
}

/* Sends the connection's next push (its number as payload). */
static void send_push(netfw_conn *c, conn_state *cs) {
  netfw_msg push;
  uint64_t n = ++cs->pushes;

  netfw_msg_init(&push, CALLS_PUSH);
  if (netfw_msg_append(&push, &n, sizeof(n)) == 0)
    (void)netfw_conn_send(c, &push);
  netfw_msg_release(&push);
}

/* Defers a Req and starts the timer that answers it. */
static void on_req(worker *w, netfw_conn *c, netfw_msg *m) {
  conn_state *cs = netfw_conn_data(c);
  pending *p = calloc(1, sizeof(*p));
  uint32_t delay;

  if (p == NULL || netfw_msg_pop(m, &p->seq, sizeof(p->seq)) != 0 ||
      netfw_msg_pop(m, &delay, sizeof(delay)) != 0 ||
      netfw_conn_defer(c, &p->token) != 0) {
    free(p);
    netfw_conn_shutdown_for(c, NETFW_CLOSE_PROTOCOL);
    return;
  }
  if (delay == CALLS_RANDOM)
    delay = (uint32_t)(rand_r(&w->rng) % 6);
  uv_timer_init(netfw_conn_loop(c), &p->timer);
  p->timer.data = p;
  uv_timer_start(&p->timer, pending_fire, delay, 0);
  if (w->opts->pushes && ++cs->requests % CALLS_PUSH_EVERY == 0)
    send_push(c, cs);
}

/* The plain server's Req: Resp(seq) at once, or Resp2 (CALLS_WRONG). */
static void on_plain_req(netfw_conn *c, netfw_msg *m) {
  uint64_t seq = 0;
  uint32_t delay = 0;
  netfw_msg resp;

  if (netfw_msg_pop(m, &seq, sizeof(seq)) != 0 ||
      netfw_msg_pop(m, &delay, sizeof(delay)) != 0) {
    netfw_conn_shutdown_for(c, NETFW_CLOSE_PROTOCOL);
    return;
  }
  netfw_msg_init(&resp, delay == CALLS_WRONG ? CALLS_RESP2 : CALLS_RESP);
  if (netfw_msg_append(&resp, &seq, sizeof(seq)) == 0)
    (void)netfw_conn_send(c, &resp);
  netfw_msg_release(&resp);
}

/* Req: deferred (plain: answered at once); anything else comes back as it
 * came (a push). */
static void app_message(void *app, netfw_owned_msg *om) {
  worker *w = app;

  if (netfw_msg_id(om->msg) == CALLS_REQ && w->opts->plain)
    on_plain_req(om->owner, om->msg);
  else if (netfw_msg_id(om->msg) == CALLS_REQ)
    on_req(app, om->owner, om->msg);
  else
    (void)netfw_conn_send(om->owner, om->msg);
}

static const netfw_app calls_app = {
    .create = app_create,
    .on_client_connect = app_connect,
    .on_message = app_message,
    .destroy = app_destroy,
    .on_client_closed = app_closed,
};

/* Starts the calls server (see the header). */
netfw_server *calls_server_start(int workers, uint16_t port,
                                 const calls_server_opts *opts) {
  netfw_config cfg;
  netfw_server *s;

  netfw_config_init(&cfg, &calls_app);
  cfg.ip = "127.0.0.1";
  cfg.port = port;
  cfg.worker_num = workers;
  cfg.context = (void *)opts;
  cfg.protocol = opts->plain ? NULL : &desc;
  s = netfw_server_new(&cfg);
  if (s != NULL && netfw_server_start(s) != 0) {
    netfw_server_free(s);
    s = NULL;
  }
  return s;
}

/* Stops s within 3 s and frees it. */
void calls_server_stop(netfw_server *s) {
  if (s == NULL)
    return;
  (void)netfw_server_stop(s, 3000);
  netfw_server_free(s);
}

/* ---- loops and clocks ---------------------------------------------------- */

/* CLOCK_MONOTONIC in ms. */
double calls_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wakes the loop now and then so that the flag is looked at. */
static void tick(uv_timer_t *t) {
  (void)t;
}

/* Runs loop until *flag or the timeout (a 5 ms tick bounds each turn). */
bool calls_run_until(uv_loop_t *loop, const volatile bool *flag,
                     int timeout_ms) {
  uv_timer_t t;
  double end = calls_now_ms() + timeout_ms;

  uv_timer_init(loop, &t);
  uv_timer_start(&t, tick, 5, 5);
  while (!*flag && calls_now_ms() < end)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return *flag;
}

/* Closes whatever handle is left open on loop, runs it dry, closes it. */
static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Tears the test's loop down (after the clients were closed). */
void calls_loop_close(uv_loop_t *loop) {
  for (int i = 0; i < 200 && uv_loop_alive(loop); i++)
    uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
  uv_walk(loop, close_walk, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}
