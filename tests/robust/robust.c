/* The robustness tests' kit: raw wire peer, echo app, /proc readers. */
#include "robust.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

bool rb_under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");

  return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* ---- time ---- */

void rb_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* ---- raw wire peer ---- */

void rb_hdr_pack(uint8_t out[RB_HDR], uint16_t id, uint32_t size) {
  out[0] = (uint8_t)id;
  out[1] = (uint8_t)(id >> 8);
  out[2] = (uint8_t)size;
  out[3] = (uint8_t)(size >> 8);
  out[4] = (uint8_t)(size >> 16);
  out[5] = (uint8_t)(size >> 24);
}

bool rb_echo_ok(int fd, uint16_t id, const void *payload, uint32_t size,
                int timeout_ms) {
  uint16_t gid = 0;
  uint8_t *got = NULL;
  uint32_t gsize = 0;
  bool ok;

  if (wire_send(fd, id, payload, size) != 0)
    return false;
  if (wire_recv(fd, &gid, &got, &gsize, timeout_ms) != 1)
    return false;
  ok = gid == id && gsize == size &&
       (size == 0 || memcmp(got, payload, size) == 0);
  free(got);
  return ok;
}

bool rb_still_open(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r;

  do
    r = poll(&p, 1, ms);
  while (r < 0 && errno == EINTR);
  return r == 0;
}

/* ---- the echo app ---- */

static void *app_create(void *context) {
  rb_board *b = context;

  atomic_fetch_add(&b->creates, 1);
  return b;
}

static bool app_connect(void *app, netfw_conn *c) {
  rb_board *b = app;

  (void)c;
  atomic_fetch_add(&b->connects, 1);
  atomic_fetch_add(&b->open_conns, 1);
  return true;
}

static void app_disconnect(void *app, netfw_conn *c) {
  rb_board *b = app;

  (void)c;
  atomic_fetch_add(&b->disconnects, 1);
  atomic_fetch_sub(&b->open_conns, 1);
}

static void app_send(rb_board *b, netfw_conn *c, const netfw_msg *m,
                     bool echo) {
  int rc = netfw_conn_send(c, m);

  if (rc == 0) {
    if (echo)
      atomic_fetch_add(&b->echoed, 1);
    return;
  }
  atomic_store(&b->last_send_rc, rc); /* before the count tests wait on */
  atomic_fetch_add(&b->send_fails, 1);
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void app_flood(rb_board *b, netfw_conn *c, netfw_msg *in) {
  const uint8_t *arg = netfw_msg_pop_view(in, 8);
  uint32_t n, size, i;
  netfw_msg out;
  uint8_t *buf;

  if (arg == NULL)
    return;
  n = get_u32(arg);
  size = get_u32(arg + 4);
  buf = malloc(size > 0 ? size : 1);
  if (buf == NULL)
    return;
  memset(buf, 0x5a, size);
  netfw_msg_init(&out, RB_FLOOD);
  if (netfw_msg_append(&out, buf, size) == 0)
    for (i = 0; i < n; i++)
      if (netfw_conn_send(c, &out) != 0) {
        atomic_store(&b->last_send_rc, -1);
        atomic_fetch_add(&b->send_fails, 1);
        break;
      }
  netfw_msg_release(&out);
  free(buf);
}

static void app_message(void *app, netfw_owned_msg *om) {
  rb_board *b = app;
  uint16_t id = netfw_msg_id(om->msg);

  atomic_fetch_add(&b->messages, 1);
  if (id == RB_PID) {
    netfw_msg r;
    uint32_t pid = (uint32_t)getpid();
    uint8_t le[4] = {(uint8_t)pid, (uint8_t)(pid >> 8), (uint8_t)(pid >> 16),
                     (uint8_t)(pid >> 24)};
    netfw_msg_init(&r, RB_PID);
    if (netfw_msg_append(&r, le, 4) == 0)
      app_send(b, om->owner, &r, false);
    netfw_msg_release(&r);
  } else if (id == RB_FLOOD) {
    app_flood(b, om->owner, om->msg);
  } else if (id == RB_QUIT) {
    netfw_conn_shutdown(om->owner);
  } else {
    app_send(b, om->owner, om->msg, true);
  }
}

static void app_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  rb_board *b = app;

  (void)c;
  if ((unsigned)why < NETFW_CLOSE_REASON_COUNT)
    atomic_fetch_add(&b->closed[why], 1);
}

static void app_destroy(void *app) {
  rb_board *b = app;

  atomic_fetch_add(&b->destroys, 1);
}

const netfw_app rb_echo_app = {.create = app_create,
                               .on_client_connect = app_connect,
                               .on_client_disconnect = app_disconnect,
                               .on_message = app_message,
                               .destroy = app_destroy,
                               .on_client_closed = app_closed};

rb_board *rb_board_new(void) {
  void *p = mmap(NULL, sizeof(rb_board), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

  return p == MAP_FAILED ? NULL : p;
}

void rb_board_free(rb_board *b) {
  if (b != NULL)
    munmap(b, sizeof(*b));
}

long rb_wait_atleast(atomic_long *v, long want, int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  long got;

  while ((got = atomic_load(v)) < want && wire_now_ms() < deadline)
    rb_sleep_ms(5);
  return got;
}

int rb_wait_int(atomic_int *v, int want, int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  int got;

  while ((got = atomic_load(v)) != want && wire_now_ms() < deadline)
    rb_sleep_ms(5);
  return got;
}

/* ---- a server under test ---- */

int rb_server_init(rb_server *r) {
  memset(r, 0, sizeof(*r));
  r->b = rb_board_new();
  if (r->b == NULL)
    return -1;
  if (getenv("NETFW_LOG_LEVEL") == NULL)
    netfw_log_set_level(NETFW_LOG_ERROR);
  netfw_config_init(&r->cfg, &rb_echo_app);
  r->cfg.ip = "127.0.0.1";
  r->cfg.port = 0;
  r->cfg.worker_num = 1;
  r->cfg.context = r->b;
  return 0;
}

int rb_server_start(rb_server *r) {
  int err;

  r->s = netfw_server_new(&r->cfg);
  if (r->s == NULL)
    return NETFW_EINVAL;
  err = netfw_server_start(r->s);
  if (err != 0) {
    netfw_server_free(r->s);
    r->s = NULL;
    return err;
  }
  r->port = netfw_server_port(r->s);
  return 0;
}

void rb_server_fini(rb_server *r) {
  if (r->s != NULL) {
    netfw_server_stop(r->s, 5000);
    netfw_server_free(r->s);
  }
  r->s = NULL;
  rb_board_free(r->b);
  r->b = NULL;
}

/* ---- /proc ---- */

int rb_children(pid_t pid, pid_t *out, int max) {
  char path[64];
  DIR *d;
  struct dirent *e;
  int n = 0;

  snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
  d = opendir(path);
  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL) {
    char file[320];
    FILE *f;
    long child;
    if (e->d_name[0] == '.')
      continue;
    snprintf(file, sizeof(file), "/proc/%ld/task/%s/children", (long)pid,
             e->d_name);
    f = fopen(file, "r");
    if (f == NULL)
      continue;
    while (fscanf(f, "%ld", &child) == 1)
      if (n < max)
        out[n++] = (pid_t)child;
    fclose(f);
  }
  closedir(d);
  return n;
}

int rb_wait_children(pid_t pid, int n, pid_t *out, int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  pid_t tmp[64];
  int got, i;

  for (;;) {
    got = rb_children(pid, tmp, 64);
    if (got == n || wire_now_ms() >= deadline)
      break;
    rb_sleep_ms(10);
  }
  for (i = 0; i < got && i < n; i++)
    out[i] = tmp[i];
  return got;
}

long rb_vm_kib(pid_t pid, const char *field) {
  char path[64], line[256];
  size_t flen = strlen(field);
  long v = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
  f = fopen(path, "r");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, field, flen) == 0) {
      v = strtol(line + flen, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

int rb_fd_count(pid_t pid) {
  char path[64];
  DIR *d;
  struct dirent *e;
  int n = 0;

  snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
  d = opendir(path);
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

bool rb_alive(pid_t pid) {
  char path[64], line[256];
  bool alive = false;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
  f = fopen(path, "r");
  if (f == NULL)
    return false;
  while (fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, "State:", 6) == 0) {
      alive = strchr(line, 'Z') == NULL && strchr(line, 'X') == NULL;
      break;
    }
  fclose(f);
  return alive;
}

pid_t rb_worker_of(int fd) {
  uint16_t id = 0;
  uint8_t *p = NULL;
  uint32_t size = 0;
  pid_t pid = -1;

  if (wire_send(fd, RB_PID, NULL, 0) != 0)
    return -1;
  if (wire_recv(fd, &id, &p, &size, 10000) == 1 && id == RB_PID && size == 4)
    pid = (pid_t)get_u32(p);
  free(p);
  return pid;
}

int rb_setup(void **state) {
  rb_server *r = calloc(1, sizeof(*r));

  if (r == NULL || rb_server_init(r) != 0) {
    free(r);
    return -1;
  }
  *state = r;
  return 0;
}

int rb_teardown(void **state) {
  rb_server *r = *state;

  rb_server_fini(r);
  free(r);
  return 0;
}
