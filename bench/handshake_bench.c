/* handshake-bench: full TLS handshakes per second against a TLS server.
 *
 * N slots each repeat a cycle: a non-blocking TCP connect, a TLS 1.3
 * client handshake (OpenSSL, bench_tls.c: no session cache, no tickets
 * asked for, so every handshake is a full one), then close_notify and a
 * TCP half-close, and a wait for the server's EOF; the socket is then
 * closed (SO_LINGER 0: no TIME_WAIT left behind) and the slot starts over.
 * Waiting for the server's EOF means a cycle counts only once the server
 * has seen the client's Finished and let the connection go, so the count
 * is the server's completed handshakes, not just the client's.
 *
 * After a warm-up of W seconds it counts, for T seconds, the cycles that
 * completed and their times (connect to handshake done: p50/p99), the CPU
 * the server's process tree used (--server-pid) and its own. Any failed
 * connect or handshake is an error (exit 1), and so is a cycle still open
 * at the end of the grace period that follows the window. The server does not
 * need to speak anything after the handshake: only TLS is exchanged.
 *
 * Plain C, epoll, one thread; it does not use netfw. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "bench_common.h"
#include "bench_tls.h"
#include "histogram.h"
#include "proc_tree.h"

#define PROG "handshake-bench"
#define MAX_SLOTS 4096

typedef struct options {
  const char *host;
  const char *port;
  unsigned long conns;
  double seconds;
  double warmup;
  double grace;
  long server_pid;
  const char *tls_ca;
  bool json;
} options;

typedef enum { S_FREE, S_CONNECTING, S_HANDSHAKE, S_DRAIN } slot_state;

typedef struct slot {
  int fd;
  SSL *ssl;
  slot_state st;
  uint32_t events; /* registered with epoll */
  uint64_t started;
  uint64_t handshaken;
} slot;

typedef struct hsbench {
  options opt;
  SSL_CTX *ctx;
  int epfd;
  struct addrinfo *ai;
  slot *slots;
  unsigned long active;
  uint64_t warm_end, meas_end, hard_end;
  bool starting;
  hist lat;
  uint64_t done;  /* cycles completed inside the measured window */
  uint64_t total; /* in the whole run */
  uint64_t errors;
  uint64_t resets; /* cycles whose server reset rather than closed */
  const char *version, *cipher;
  long *server_pids;
  int server_npids;
  double srv0, srv1, self0, self1;
  bool win_started, win_ended;
} hsbench;

static volatile sig_atomic_t interrupted;

/* Marks the run as interrupted (SIGINT, SIGTERM). */
static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

/* Our own user + system CPU seconds. */
static double self_cpu(void) {
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- one slot's cycle -------------------------------------------------- */

/* Registers s's socket for events ev (adding it the first time). */
static int slot_watch(hsbench *b, slot *s, uint32_t ev) {
  struct epoll_event e;
  int op = s->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

  if (s->events == ev)
    return 0;
  e.events = ev;
  e.data.ptr = s;
  if (epoll_ctl(b->epfd, op, s->fd, &e) < 0)
    return -1;
  s->events = ev;
  return 0;
}

/* Frees s's TLS state and socket (no TIME_WAIT: linger 0); s is free. */
static void slot_release(hsbench *b, slot *s) {
  struct linger lin = {1, 0};

  SSL_free(s->ssl);
  s->ssl = NULL;
  if (s->fd >= 0) {
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    close(s->fd); /* also drops it from epoll */
  }
  s->fd = -1;
  s->events = 0;
  s->st = S_FREE;
  b->active--;
}

/* A failed cycle: counted as an error, reported, the slot freed. */
static void slot_fail(hsbench *b, slot *s, const char *what, int err) {
  b->errors++;
  if (b->errors <= 10)
    fprintf(stderr, PROG ": %s%s%s\n", what, err ? ": " : "",
            err ? strerror(err) : "");
  slot_release(b, s);
}

/* Starts a new cycle on the free slot s: a non-blocking connect. */
static void slot_start(hsbench *b, slot *s) {
  int one = 1;

  s->fd = socket(b->ai->ai_family,
                 b->ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 b->ai->ai_protocol);
  b->active++;
  s->st = S_CONNECTING;
  s->started = bench_now_ns();
  if (s->fd < 0) {
    slot_fail(b, s, "socket", errno);
    return;
  }
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(s->fd, b->ai->ai_addr, b->ai->ai_addrlen) < 0 &&
      errno != EINPROGRESS) {
    slot_fail(b, s, "connect", errno);
    return;
  }
  if (slot_watch(b, s, EPOLLOUT) < 0)
    slot_fail(b, s, "epoll_ctl", errno);
}

/* The handshake is done: send close_notify and FIN, then wait for EOF. */
static void slot_handshaken(hsbench *b, slot *s) {
  s->handshaken = bench_now_ns();
  if (b->version == NULL) {
    b->version = SSL_get_version(s->ssl);
    b->cipher = SSL_get_cipher_name(s->ssl);
  }
  SSL_shutdown(s->ssl); /* writes close_notify; the reply is not awaited */
  ERR_clear_error();
  shutdown(s->fd, SHUT_WR);
  s->st = S_DRAIN;
  if (slot_watch(b, s, EPOLLIN) < 0)
    slot_fail(b, s, "epoll_ctl", errno);
}

/* Drives the handshake as far as the socket allows. */
static void slot_handshake(hsbench *b, slot *s) {
  int r, err;

  errno = 0;
  r = SSL_connect(s->ssl);
  if (r == 1) {
    slot_handshaken(b, s);
    return;
  }
  err = SSL_get_error(s->ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    if (slot_watch(b, s, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT) < 0)
      slot_fail(b, s, "epoll_ctl", errno);
    return;
  }
  if (err == SSL_ERROR_SYSCALL && errno != 0)
    slot_fail(b, s, "handshake", errno);
  else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
    slot_fail(b, s, "handshake: the server closed the connection", 0);
  else {
    if (b->errors < 10)
      bench_tls_report(PROG, "handshake");
    ERR_clear_error();
    slot_fail(b, s, "handshake failed", 0);
  }
}

/* The connect finished (or failed): start the TLS client. */
static void slot_connected(hsbench *b, slot *s) {
  int err = 0;
  socklen_t len = sizeof(err);

  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err != 0) {
    slot_fail(b, s, "connect", err);
    return;
  }
  s->ssl = bench_tls_new(PROG, b->ctx, s->fd);
  if (s->ssl == NULL) {
    slot_fail(b, s, "SSL_new", 0);
    return;
  }
  s->st = S_HANDSHAKE;
  slot_handshake(b, s);
}

/* Reads (and drops) what the server still sends until its EOF, which
 * completes the cycle. */
static void slot_drain(hsbench *b, slot *s) {
  char buf[4096];
  ssize_t n;
  uint64_t now;

  while ((n = read(s->fd, buf, sizeof(buf))) > 0)
    ;
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n < 0 && errno != ECONNRESET) {
    slot_fail(b, s, "read after the handshake", errno);
    return;
  }
  b->resets += n < 0;
  now = bench_now_ns();
  b->total++;
  if (now >= b->warm_end && now < b->meas_end) {
    b->done++;
    hist_record(&b->lat, s->handshaken - s->started);
  }
  slot_release(b, s);
}

/* Handles one epoll event of s. */
static void slot_event(hsbench *b, slot *s) {
  switch (s->st) {
  case S_CONNECTING:
    slot_connected(b, s);
    break;
  case S_HANDSHAKE:
    slot_handshake(b, s);
    break;
  case S_DRAIN:
    slot_drain(b, s);
    break;
  case S_FREE:
    break;
  }
}

/* ---- the run ------------------------------------------------------------ */

/* Reads the CPU clocks when the measured window opens and closes. */
static void window_marks(hsbench *b, uint64_t now) {
  if (!b->win_started && now >= b->warm_end) {
    b->win_started = true;
    b->self0 = self_cpu();
    if (b->server_pids != NULL)
      b->srv0 = proc_cpu_seconds(b->server_pids, b->server_npids);
  }
  if (!b->win_ended && now >= b->meas_end) {
    b->win_ended = true;
    b->self1 = self_cpu();
    if (b->server_pids != NULL)
      b->srv1 = proc_cpu_seconds(b->server_pids, b->server_npids);
  }
}

/* Keeps every free slot busy while new cycles may start. */
static void refill(hsbench *b) {
  for (unsigned long i = 0; b->starting && i < b->opt.conns; i++)
    if (b->slots[i].st == S_FREE)
      slot_start(b, &b->slots[i]);
}

/* Warm-up, measured window, then up to the grace period for the cycles
 * still open; those left after it are errors. */
static void run(hsbench *b) {
  struct epoll_event evs[256];
  uint64_t start = bench_now_ns();

  b->warm_end = start + (uint64_t)(b->opt.warmup * 1e9);
  b->meas_end = b->warm_end + (uint64_t)(b->opt.seconds * 1e9);
  b->hard_end = b->meas_end + (uint64_t)(b->opt.grace * 1e9);
  b->starting = true;
  for (;;) {
    uint64_t now = bench_now_ns(), next;
    int n;

    window_marks(b, now);
    if (now >= b->meas_end || b->errors > 0) /* an error ends the run */
      b->starting = false;
    refill(b);
    if (interrupted || (!b->starting && b->active == 0) || now >= b->hard_end)
      break;
    next = !b->win_started ? b->warm_end
           : b->starting   ? b->meas_end
                           : b->hard_end;
    n = epoll_wait(b->epfd, evs, 256,
                   next <= now ? 0 : (int)((next - now) / 1000000 + 1));
    if (n < 0 && errno != EINTR) {
      fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
      b->errors++;
      break;
    }
    for (int i = 0; i < n; i++)
      slot_event(b, evs[i].data.ptr);
  }
  if (interrupted) {
    fprintf(stderr, PROG ": interrupted\n");
    b->errors++;
  }
  for (unsigned long i = 0; i < b->opt.conns; i++)
    if (b->slots[i].st != S_FREE)
      slot_fail(b, &b->slots[i],
                b->slots[i].st == S_DRAIN
                    ? "the server did not close within the grace period"
                    : "handshake not done within the grace period",
                0);
}

/* ---- command line, setup and report ------------------------------------- */

/* Prints the command line's summary on f. */
static void usage(FILE *f) {
  fprintf(f,
          "usage: " PROG " [--host IP] --port P [--conns N] [--seconds T]\n"
          "                       [--warmup W] [--grace G] [--server-pid PID]\n"
          "                       [--tls-ca FILE] [--json]\n"
          "  --conns N    handshakes in progress at a time (default 16)\n"
          "  --seconds T  measured time after the warm-up (default 5)\n"
          "  --warmup W   seconds not measured at the start (default 1)\n"
          "  --grace G    seconds left to the cycles still open (default 2)\n"
          "  --server-pid PID  also report the CPU time the server (PID and "
          "its children) spent per handshake\n"
          "  --tls-ca FILE  verify the server's chain and name (localhost) "
          "(default: only the handshake's own signature is checked)\n"
          "  --json       print the result as one JSON object\n"
          "Exit status: 0 no error and at least one handshake measured, 1 "
          "errors, 2 usage.\n");
}

/* Parses the value of option a into o; 0, or -1 when it is bad. */
static int parse_opt(options *o, const char *a, const char *val) {
  unsigned long v = 0;

  if (strcmp(a, "--host") == 0)
    o->host = val;
  else if (strcmp(a, "--port") == 0) {
    o->port = val;
    return bench_parse_ulong(val, 1, 65535, &v);
  } else if (strcmp(a, "--conns") == 0)
    return bench_parse_ulong(val, 1, MAX_SLOTS, &o->conns);
  else if (strcmp(a, "--seconds") == 0)
    return bench_parse_seconds(val, 86400, &o->seconds);
  else if (strcmp(a, "--warmup") == 0)
    return bench_parse_seconds(val, 3600, &o->warmup);
  else if (strcmp(a, "--grace") == 0)
    return bench_parse_seconds(val, 3600, &o->grace);
  else if (strcmp(a, "--server-pid") == 0) {
    if (bench_parse_ulong(val, 1, 1ul << 30, &v) < 0)
      return -1;
    o->server_pid = (long)v;
  } else if (strcmp(a, "--tls-ca") == 0)
    o->tls_ca = val;
  else
    return -1;
  return 0;
}

/* Fills o from the command line; -1 on a usage error (reported). */
static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof(*o));
  o->host = "127.0.0.1";
  o->conns = 16;
  o->seconds = 5;
  o->warmup = 1;
  o->grace = 2;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      o->json = true;
      continue;
    }
    if (strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      exit(0);
    }
    if (i + 1 >= argc || parse_opt(o, argv[i], argv[i + 1]) < 0) {
      fprintf(stderr, PROG ": bad or incomplete option %s\n", argv[i]);
      return -1;
    }
    i++;
  }
  if (o->port == NULL || o->seconds <= 0) {
    fprintf(stderr, PROG ": --port and --seconds > 0 are required\n");
    return -1;
  }
  return 0;
}

/* Resolves the server, makes the TLS context, epoll and the slots. */
static int setup(hsbench *b) {
  struct addrinfo hints;
  int rc;

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo(b->opt.host, b->opt.port, &hints, &b->ai);
  if (rc != 0) {
    fprintf(stderr, PROG ": %s: %s\n", b->opt.host, gai_strerror(rc));
    return -1;
  }
  b->ctx = bench_tls_client_ctx(PROG, b->opt.tls_ca, NULL);
  b->epfd = epoll_create1(EPOLL_CLOEXEC);
  b->slots = calloc(b->opt.conns, sizeof(slot));
  if (b->ctx == NULL || b->epfd < 0 || b->slots == NULL)
    return -1;
  for (unsigned long i = 0; i < b->opt.conns; i++)
    b->slots[i].fd = -1;
  if (b->opt.server_pid > 0) {
    b->server_pids = malloc(PROC_TREE_MAX * sizeof(long));
    if (b->server_pids == NULL)
      return -1;
    b->server_npids =
        proc_tree(b->opt.server_pid, b->server_pids, PROC_TREE_MAX);
    if (b->server_npids < 0) {
      fprintf(stderr, PROG ": no process %ld\n", b->opt.server_pid);
      return -1;
    }
  }
  return 0;
}

/* Prints the result on stdout (one JSON object with --json). */
static void report(const hsbench *b) {
  const options *o = &b->opt;
  double rate = (double)b->done / o->seconds;
  double p50 = (double)hist_quantile(&b->lat, 0.50) / 1e3;
  double p99 = (double)hist_quantile(&b->lat, 0.99) / 1e3;
  double self = b->win_ended ? (b->self1 - b->self0) / o->seconds : 0;
  double srv = b->win_ended ? b->srv1 - b->srv0 : 0;
  double srv_us = b->done > 0 ? srv * 1e6 / (double)b->done : 0;

  if (o->json) {
    printf("{\"conns\":%lu,\"seconds\":%.3f,\"handshakes\":%llu,"
           "\"handshakes_per_s\":%.1f,\"hs_p50_us\":%.1f,\"hs_p99_us\":%.1f,"
           "\"total\":%llu,\"resets\":%llu,\"errors\":%llu,"
           "\"loadgen_cpu_util\":%.3f",
           o->conns, o->seconds, (unsigned long long)b->done, rate, p50, p99,
           (unsigned long long)b->total, (unsigned long long)b->resets,
           (unsigned long long)b->errors, self);
    if (b->server_pids != NULL && b->win_ended)
      printf(",\"server_cpu_util\":%.3f,\"server_cpu_us_per_hs\":%.1f",
             srv / o->seconds, srv_us);
    printf(",\"tls_version\":\"%s\",\"tls_cipher\":\"%s\"}\n",
           b->version ? b->version : "", b->cipher ? b->cipher : "");
    return;
  }
  printf(PROG
         " %s:%s  %lu at a time, %.1f s after %.1f s warm-up, %s %s\n"
         "  %.0f full handshakes/s (%llu; connect to handshake done p50 %.1f "
         "us, p99 %.1f us)\n"
         "  errors %llu, server resets %llu; CPU: handshake-bench %.0f %% of "
         "a core",
         o->host, o->port, o->conns, o->seconds, o->warmup,
         b->version ? b->version : "?", b->cipher ? b->cipher : "?", rate,
         (unsigned long long)b->done, p50, p99, (unsigned long long)b->errors,
         (unsigned long long)b->resets, self * 100);
  if (b->server_pids != NULL && b->win_ended)
    printf(", server %.0f %% of a core = %.1f us per handshake",
           srv / o->seconds * 100, srv_us);
  printf("\n");
}

int main(int argc, char **argv) {
  static hsbench b; /* the histogram is large: off the stack */
  struct sigaction sa;
  int rc = 1;

  if (parse_args(argc, argv, &b.opt) < 0) {
    usage(stderr);
    return 2;
  }
  b.epfd = -1;
  signal(SIGPIPE, SIG_IGN);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  hist_init(&b.lat);
  if (setup(&b) == 0) {
    run(&b);
    report(&b);
    rc = b.errors == 0 && b.done > 0 ? 0 : 1;
    if (b.done == 0 && b.errors == 0)
      fprintf(stderr, PROG ": no handshake completed in the window\n");
  }
  free(b.slots);
  free(b.server_pids);
  SSL_CTX_free(b.ctx);
  if (b.ai != NULL)
    freeaddrinfo(b.ai);
  if (b.epfd >= 0)
    close(b.epfd);
  return rc;
}
