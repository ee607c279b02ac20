/* The server tests' app: echoes, plus the behaviours named in testapp.h. */
#include "testapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

/* Takes the next event entry; NULL once the board is full. */
static tevent *event_take(board *b, int kind, netfw_conn *c) {
  int i = atomic_fetch_add(&b->nevents, 1);
  char ip[48];
  uint16_t port = 0;
  tevent *e;

  if (i >= BOARD_EVENTS)
    return NULL;
  e = &b->events[i];
  e->kind = kind;
  e->port = -1;
  if (c != NULL) {
    e->addr_rc = netfw_conn_addr(c, ip, sizeof(ip), &port);
    if (e->addr_rc == 0) {
      e->port = port;
      memcpy(e->ip, ip, sizeof(e->ip));
    }
  }
  return e;
}

static void event_add(board *b, int kind, netfw_conn *c) {
  tevent *e = event_take(b, kind, c);
  if (e != NULL)
    atomic_store(&e->ready, 1);
}

static void *app_create(void *context) {
  board *b = context;

  atomic_fetch_add(&b->create_calls, 1);
  if (atomic_load(&b->abort_in_create))
    abort();
  atomic_fetch_add(&b->creates, 1);
  return b;
}

static void app_destroy(void *app) {
  board *b = app;
  event_add(b, EV_DESTROY, NULL);
  atomic_fetch_add(&b->destroys, 1);
}

static int send_bytes(netfw_conn *c, uint16_t id, const void *p, size_t n) {
  netfw_msg m;
  int rc;

  netfw_msg_init(&m, id);
  rc = netfw_msg_append(&m, p, n);
  if (rc == 0)
    rc = netfw_conn_send(c, &m);
  netfw_msg_release(&m);
  return rc;
}

static int send_fill(netfw_conn *c, uint16_t id, uint32_t n);

static bool app_connect(void *app, netfw_conn *c) {
  board *b = app;
  int i, n = atomic_load(&b->reject_send);

  event_add(b, EV_CONNECT, c);
  atomic_fetch_add(&b->connects, 1);
  if (!atomic_load(&b->reject)) {
    n = atomic_load(&b->connect_send);
    if (n > 0)
      atomic_store(&b->connect_send_rc,
                   send_fill(c, T_CONNECT_ID, (uint32_t)n));
    return true;
  }
  for (i = 0; i < n; i++) {
    char p[16];
    snprintf(p, sizeof(p), "pre-%d", i);
    send_bytes(c, (uint16_t)(100 + i), p, strlen(p));
  }
  return false;
}

static void app_disconnect(void *app, netfw_conn *c) {
  board *b = app;

  event_add(b, EV_DISCONNECT, c);
  atomic_store(&b->disconnect_data, (long long)(uintptr_t)netfw_conn_data(c));
  atomic_store(&b->disconnect_send_rc, send_bytes(c, 9, "late", 4));
  atomic_fetch_add(&b->disconnects, 1);
}

/* Sends n bytes of a pattern as one frame. */
static int send_pattern(netfw_conn *c, uint16_t id, uint32_t n) {
  netfw_msg m;
  uint8_t *p;
  uint32_t i;
  int rc = NETFW_ENOMEM;

  netfw_msg_init(&m, id);
  p = netfw_msg_append_space(&m, n);
  if (p != NULL) {
    for (i = 0; i < n; i++)
      p[i] = (uint8_t)(i * 7u + 1u);
    rc = netfw_conn_send(c, &m);
  }
  netfw_msg_release(&m);
  return rc;
}

/* Sends n bytes of 0xab as one frame (cheap even under valgrind). */
static int send_fill(netfw_conn *c, uint16_t id, uint32_t n) {
  netfw_msg m;
  uint8_t *p;
  int rc = NETFW_ENOMEM;

  netfw_msg_init(&m, id);
  p = netfw_msg_append_space(&m, n);
  if (p != NULL) {
    memset(p, 0xab, n);
    rc = netfw_conn_send(c, &m);
  }
  netfw_msg_release(&m);
  return rc;
}

static uint32_t u32_of(netfw_msg *m) {
  uint32_t v = 0;
  netfw_msg_pop(m, &v, sizeof(v));
  return v;
}

static void send_stream(board *b, netfw_conn *c);

static void on_special(board *b, netfw_conn *c, netfw_msg *m) {
  uint16_t id = netfw_msg_id(m);
  uint64_t v = 0;
  uint32_t u;
  char addr[80], ip[64];
  uint16_t port = 0;
  int i, rc;

  switch (id) {
  case T_SHUTDOWN3:
    send_bytes(c, 1, "a", 1);
    send_bytes(c, 2, "b", 1);
    send_bytes(c, 3, "c", 1);
    netfw_conn_shutdown(c);
    atomic_store(&b->after_shutdown_rc, send_bytes(c, 4, "d", 1));
    break;
  case T_SHUTDOWN:
    netfw_conn_shutdown(c);
    break;
  case T_SHUTDOWN_FOR:
    netfw_conn_shutdown_for(c, (netfw_close_reason)u32_of(m));
    break;
  case T_STREAM:
    send_stream(b, c);
    break;
  case T_FLOOD:
    u = u32_of(m);
    for (i = 0; i < 4; i++) {
      rc = send_fill(c, T_FLOOD, u);
      if (rc != 0) {
        int zero = 0;
        atomic_compare_exchange_strong(&b->flood_rc, &zero, rc);
        break;
      }
    }
    break;
  case T_ABORT:
    abort();
  case T_SPIN:
    atomic_store(&b->spinning, 1);
    for (;;)
      usleep(100000);
  case T_PID:
    u = (uint32_t)getpid();
    send_bytes(c, T_PID, &u, sizeof(u));
    break;
  case T_SETDATA:
    netfw_msg_pop(m, &v, sizeof(v));
    netfw_conn_set_data(c, (void *)(uintptr_t)v);
    break;
  case T_GETDATA:
    v = (uint64_t)(uintptr_t)netfw_conn_data(c);
    send_bytes(c, T_GETDATA, &v, sizeof(v));
    break;
  case T_ADDR:
    if (netfw_conn_addr(c, ip, sizeof(ip), &port) != 0)
      snprintf(ip, sizeof(ip), "error");
    snprintf(addr, sizeof(addr), "%s:%u", ip, port);
    send_bytes(c, T_ADDR, addr, strlen(addr));
    break;
  case T_SEQ:
    u = u32_of(m);
    if (u != (uint32_t)(uintptr_t)netfw_conn_data(c))
      atomic_fetch_add(&b->order_errors, 1);
    netfw_conn_set_data(c, (void *)(uintptr_t)(u + 1));
    atomic_fetch_add(&b->seq_received, 1);
    break;
  case T_BIG:
    send_pattern(c, T_BIG, u32_of(m));
    atomic_store(&b->big_sent, 1);
    break;
  default:
    break;
  }
}

/* The frame T_STREAM_ID "abcdefghij" in three pieces, with the calls that
 * must be refused in between, then T_STREAM_AFTER "after". */
static void send_stream(board *b, netfw_conn *c) {
  atomic_int *rc = b->stream_rc;

  atomic_store(&rc[SR_BEGIN], netfw_conn_send_begin(c, T_STREAM_ID, 10));
  atomic_store(&rc[SR_MORE1], netfw_conn_send_more(c, "abc", 3));
  atomic_store(&rc[SR_SEND_INSIDE], send_bytes(c, 9, "inside", 6));
  atomic_store(&rc[SR_BEGIN_INSIDE], netfw_conn_send_begin(c, 9, 1));
  atomic_store(&rc[SR_MORE2], netfw_conn_send_more(c, "defg", 4));
  atomic_store(&rc[SR_MORE_TOO_LONG], netfw_conn_send_more(c, "WXYZ", 4));
  atomic_store(&rc[SR_MORE3], netfw_conn_send_more(c, "hij", 3));
  atomic_store(&rc[SR_MORE_DONE], netfw_conn_send_more(c, "!", 1));
  atomic_store(&rc[SR_SEND_AFTER], send_bytes(c, T_STREAM_AFTER, "after", 5));
}

static void app_message(void *app, netfw_owned_msg *om) {
  board *b = app;
  netfw_msg *m = om->msg;
  uint16_t id = netfw_msg_id(m);

  atomic_fetch_add(&b->messages, 1);
  if (id >= T_SHUTDOWN3 && id <= T_LAST) {
    on_special(b, om->owner, m);
    return;
  }
  /* echo: the same id and payload back */
  netfw_conn_send(om->owner, m);
}

/* Records the call and what the connection looks like during it. */
static void app_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  board *b = app;
  tevent *e = event_take(b, EV_CLOSED, c);

  if ((unsigned)why < NETFW_CLOSE_REASON_COUNT)
    atomic_fetch_add(&b->closed_by[why], 1);
  if (e != NULL) {
    e->reason = (int)why;
    e->data = (long long)(uintptr_t)netfw_conn_data(c);
    e->send_rc = send_bytes(c, 9, "late", 4);
    e->begin_rc = netfw_conn_send_begin(c, 9, 4);
    atomic_store(&e->ready, 1);
  }
  atomic_fetch_add(&b->closes, 1);
}

const netfw_app testapp = {
    .create = app_create,
    .on_client_connect = app_connect,
    .on_client_disconnect = app_disconnect,
    .on_message = app_message,
    .destroy = app_destroy,
    .on_client_closed = app_closed,
};

board *board_new(void) {
  board *b = mmap(NULL, sizeof(board), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return b == MAP_FAILED ? NULL : b;
}

void board_free(board *b) {
  if (b != NULL)
    munmap(b, sizeof(board));
}

static void sink(netfw_log_level level, const char *line, void *arg) {
  board *b = arg;
  size_t n = strlen(line) + 1;
  size_t at = atomic_fetch_add(&b->log_len, n);

  if (getenv("NETFW_TEST_VERBOSE") != NULL)
    fprintf(stderr, "%s\n", line);
  if (at + n >= sizeof(b->log))
    return;
  memcpy(b->log + at, line, n - 1);
  b->log[at + n - 1] = '\n';
}

void board_capture_log(board *b) {
  netfw_log_set_sink(sink, b);
}

int board_wait(atomic_int *v, int want, int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  int x;

  while ((x = atomic_load(v)) < want && wire_now_ms() < deadline) {
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return x;
}

int board_log_has(board *b, const char *s1, const char *s2) {
  size_t len = atomic_load(&b->log_len);
  char *copy, *line, *save = NULL;
  int found = 0;

  if (len > sizeof(b->log))
    len = sizeof(b->log);
  copy = malloc(len + 1);
  if (copy == NULL)
    return 0;
  memcpy(copy, b->log, len);
  copy[len] = '\0';
  for (line = strtok_r(copy, "\n", &save); line != NULL && !found;
       line = strtok_r(NULL, "\n", &save))
    found = strstr(line, s1) != NULL && (s2 == NULL || strstr(line, s2));
  free(copy);
  return found;
}

/* Index of the first complete event of this kind from this port, or -1. */
static int find_event(board *b, int kind, int port) {
  int i, n = atomic_load(&b->nevents);

  if (n > BOARD_EVENTS)
    n = BOARD_EVENTS;
  for (i = 0; i < n; i++)
    if (atomic_load(&b->events[i].ready) && b->events[i].kind == kind &&
        (port == -1 || b->events[i].port == port))
      return i;
  return -1;
}

int board_wait_event(board *b, int kind, int port, int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  int i;

  while ((i = find_event(b, kind, port)) < 0 && wire_now_ms() < deadline) {
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return i;
}

int board_count_events(board *b, int kind, int port) {
  int i, n = atomic_load(&b->nevents), count = 0;

  if (n > BOARD_EVENTS)
    n = BOARD_EVENTS;
  for (i = 0; i < n; i++)
    if (atomic_load(&b->events[i].ready) && b->events[i].kind == kind &&
        (port == -1 || b->events[i].port == port))
      count++;
  return count;
}
