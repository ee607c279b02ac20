/* A real redis-server for the bus tests (see redis_fixture.h). */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_fixture.h"

#define REDIS_SERVER "redis-server"
#define READY_MS 5000
#define MAX_SERVERS 8

/* The servers running now, killed at exit if a test did not stop them. */
static pid_t running[MAX_SERVERS];
static bool atexit_done;

/* Kills and reaps whatever is still running (atexit). */
static void kill_leftovers(void) {
  int i;

  for (i = 0; i < MAX_SERVERS; i++) {
    if (running[i] > 0) {
      kill(running[i], SIGKILL);
      waitpid(running[i], NULL, 0);
      running[i] = 0;
    }
  }
}

/* Records pid as running (old: 0) or forgets it (pid: 0). */
static void track(pid_t old, pid_t pid) {
  int i;

  if (!atexit_done) {
    atexit(kill_leftovers);
    atexit_done = true;
  }
  for (i = 0; i < MAX_SERVERS; i++) {
    if (running[i] == old) {
      running[i] = pid;
      return;
    }
  }
}

static uint64_t now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint16_t redis_fixture_free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  uint16_t port = 0;

  if (fd < 0)
    return 0;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* In the child: die with the parent, then become redis-server. */
static void exec_server(pid_t parent, uint16_t port) {
  char p[8];

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(1);
  snprintf(p, sizeof(p), "%u", (unsigned)port);
  execlp(REDIS_SERVER, REDIS_SERVER, "--port", p, "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel",
         "warning", (char *)NULL);
  fprintf(stderr,
          "redis_fixture: cannot run %s: %s (install it: "
          "scripts/install-deps)\n",
          REDIS_SERVER, strerror(errno));
  _exit(127);
}

/* True when the server on port answers PING now. */
static bool answers(uint16_t port) {
  struct timeval tv = {0, 200 * 1000};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
  redisReply *r;
  bool ok = false;

  if (c != NULL && c->err == 0) {
    redisSetTimeout(c, tv);
    r = redisCommand(c, "PING");
    ok = r != NULL && r->type == REDIS_REPLY_STATUS &&
         strcmp(r->str, "PONG") == 0;
    if (r != NULL)
      freeReplyObject(r);
  }
  if (c != NULL)
    redisFree(c);
  return ok;
}

/* Waits until the child answers PING; -1 if it exits or READY_MS pass. */
static int wait_ready(redis_fixture *f) {
  uint64_t end = now_ms() + READY_MS;
  int status;

  while (now_ms() < end) {
    if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
      fprintf(stderr,
              "redis_fixture: redis-server on port %u exited "
              "(status %d)\n",
              (unsigned)f->port, status);
      track(f->pid, 0);
      f->pid = 0;
      return -1;
    }
    if (answers(f->port))
      return 0;
    usleep(10 * 1000);
  }
  fprintf(stderr,
          "redis_fixture: redis-server on port %u did not answer "
          "within %d ms\n",
          (unsigned)f->port, READY_MS);
  redis_fixture_kill(f);
  return -1;
}

int redis_fixture_start(redis_fixture *f, uint16_t port) {
  pid_t parent = getpid();

  f->pid = 0;
  f->port = port != 0 ? port : redis_fixture_free_port();
  if (f->port == 0) {
    fprintf(stderr, "redis_fixture: no free port\n");
    return -1;
  }
  fflush(NULL);
  f->pid = fork();
  if (f->pid < 0) {
    fprintf(stderr, "redis_fixture: fork: %s\n", strerror(errno));
    f->pid = 0;
    return -1;
  }
  if (f->pid == 0)
    exec_server(parent, f->port);
  track(0, f->pid);
  return wait_ready(f);
}

/* Sends sig and reaps the server. */
static void end_with(redis_fixture *f, int sig) {
  if (f->pid <= 0)
    return;
  kill(f->pid, sig);
  while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  track(f->pid, 0);
  f->pid = 0;
}

void redis_fixture_stop(redis_fixture *f) {
  end_with(f, SIGTERM);
}

void redis_fixture_kill(redis_fixture *f) {
  end_with(f, SIGKILL);
}

int redis_fixture_restart(redis_fixture *f) {
  redis_fixture_kill(f);
  return redis_fixture_start(f, f->port);
}

bool redis_fixture_running(const redis_fixture *f) {
  return f->pid > 0;
}
