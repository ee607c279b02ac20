/* Helpers of the TLS tests (see tls_kit.h). */
#include "tls_kit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#ifndef NETFW_TEST_CERTS_DIR
#error "NETFW_TEST_CERTS_DIR: set by tests/tls/CMakeLists.txt"
#endif
#ifndef NETFW_TEST_TLS_SRC_DIR
#error "NETFW_TEST_TLS_SRC_DIR: set by tests/tls/CMakeLists.txt"
#endif

#define READY_MS 15000
#define MAX_ARGS 24

const char *tls_kit_cert(const char *name) {
  static char bufs[8][4096];
  static unsigned next;
  const char *dir = getenv("NETFW_TEST_CERTS");
  char *b = bufs[next++ % 8];

  snprintf(b, sizeof(bufs[0]), "%s/%s",
           dir != NULL && dir[0] != '\0' ? dir : NETFW_TEST_CERTS_DIR, name);
  return b;
}

static int64_t now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: stdin/stdout on the pipes, die with the parent, exec. */
static void exec_py(pid_t parent, int in_fd, int out_fd, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(1);
  if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
    _exit(1);
  setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
  execvp(argv[0], argv);
  fprintf(stderr, "tls_kit: cannot run python3: %s\n", strerror(errno));
  _exit(127);
}

/* Reads "port N\n" from fd within READY_MS. Returns N, or 0. */
static uint16_t read_port(int fd) {
  char line[64];
  size_t len = 0;
  int64_t end = now_ms() + READY_MS;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  unsigned port = 0;
  ssize_t n;

  while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
    int left = (int)(end - now_ms());
    if (left <= 0 || poll(&p, 1, left) <= 0)
      return 0;
    n = read(fd, line + len, sizeof(line) - 1 - len);
    if (n <= 0)
      return 0;
    len += (size_t)n;
  }
  line[len] = '\0';
  if (sscanf(line, "port %u", &port) != 1 || port == 0 || port > 65535)
    return 0;
  return (uint16_t)port;
}

/* Fills argv with python3, the script, the server's files and extra. */
static void build_argv(char **argv, const char *const *extra) {
  static char script[4096];
  int n = 0;

  snprintf(script, sizeof(script), "%s/py_tls_server.py",
           NETFW_TEST_TLS_SRC_DIR);
  argv[n++] = (char *)"python3";
  argv[n++] = script;
  argv[n++] = (char *)"--cert";
  argv[n++] = (char *)tls_kit_cert("server.pem");
  argv[n++] = (char *)"--key";
  argv[n++] = (char *)tls_kit_cert("server.key");
  while (extra != NULL && *extra != NULL && n < MAX_ARGS - 1)
    argv[n++] = (char *)*extra++;
  argv[n] = NULL;
}

int tls_kit_py_start(tls_kit_py *py, const char *const *extra) {
  char *argv[MAX_ARGS];
  int in[2], out[2];
  pid_t parent = getpid();

  memset(py, 0, sizeof(*py));
  build_argv(argv, extra);
  if (pipe2(in, O_CLOEXEC) != 0)
    return -1;
  if (pipe2(out, O_CLOEXEC) != 0)
    goto failed_out_pipe;
  fflush(NULL);
  py->pid = fork();
  if (py->pid < 0)
    goto failed_fork;
  if (py->pid == 0)
    exec_py(parent, in[0], out[1], argv);
  close(in[0]);
  close(out[1]);
  py->stdin_fd = in[1];
  py->port = read_port(out[0]);
  close(out[0]);
  if (py->port != 0)
    return 0;
  fprintf(stderr, "tls_kit: py_tls_server.py printed no port\n");
  tls_kit_py_stop(py);
  return -1;

failed_fork:
  close(out[0]);
  close(out[1]);
failed_out_pipe:
  close(in[0]);
  close(in[1]);
  return -1;
}

void tls_kit_py_stop(tls_kit_py *py) {
  int64_t end = now_ms() + 5000;
  pid_t r;

  if (py->pid <= 0)
    return;
  close(py->stdin_fd);
  while ((r = waitpid(py->pid, NULL, WNOHANG)) == 0 && now_ms() < end)
    usleep(10 * 1000);
  if (r == 0) {
    kill(py->pid, SIGKILL);
    waitpid(py->pid, NULL, 0);
  }
  py->pid = 0;
}

int tls_kit_pem_sha256(const char *pem, uint8_t out[32]) {
  FILE *f = fopen(pem, "r");
  X509 *x;
  unsigned len = 0;
  int rc = -1;

  if (f == NULL)
    return -1;
  x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (x != NULL && X509_digest(x, EVP_sha256(), out, &len) == 1 && len == 32)
    rc = 0;
  X509_free(x);
  return rc;
}

int tls_kit_cli_fingerprint(const char *pem, char hex[65]) {
  char cmd[4200], line[256];
  size_t n = 0;
  FILE *p;
  char *c;

  snprintf(cmd, sizeof(cmd),
           "openssl x509 -noout -fingerprint -sha256 -in '%s'", pem);
  p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  c = fgets(line, sizeof(line), p);
  pclose(p);
  /* "sha256 Fingerprint=AB:CD:..." (the prefix's case varies by version) */
  if (c == NULL || (c = strchr(line, '=')) == NULL)
    return -1;
  for (c++; *c != '\0' && n < 64; c++)
    if (isxdigit((unsigned char)*c))
      hex[n++] = (char)tolower((unsigned char)*c);
  hex[n] = '\0';
  return n == 64 ? 0 : -1;
}
