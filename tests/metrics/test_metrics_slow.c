/* The metrics endpoint against peers that hold connections open (issue 17:
 * "slow or huge requests cannot stall the server"): 64 connections from one
 * address that never finish a request take at most half of the endpoint's
 * 64 slots, so Prometheus scraping from another address is still answered
 * at once, and the server's own clients are served throughout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfw/netfw.h"
#include "wire.h"

enum { HOLDERS = 64 };

/* Echoes. */
static void on_message(void *app, netfw_owned_msg *m) {
  (void)app;
  netfw_conn_send(m->owner, m->msg);
}

static const netfw_app app = {.on_message = on_message};

/* A TCP connection from source address src to 127.0.0.1:port; -1 when the
 * connect fails. */
static int connect_from(const char *src, uint16_t port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  struct sockaddr_in b = {.sin_family = AF_INET};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  inet_pton(AF_INET, src, &b.sin_addr);
  if (fd < 0 || bind(fd, (struct sockaddr *)&b, sizeof(b)) != 0 ||
      connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

/* GET /metrics from src: the status line's code, 0 when no answer came
 * within timeout_ms. */
static int scrape_from(const char *src, uint16_t port, int timeout_ms) {
  static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
  char buf[64] = "";
  struct pollfd p;
  int fd = connect_from(src, port), code = 0;

  if (fd < 0)
    return 0;
  p = (struct pollfd){.fd = fd, .events = POLLIN};
  if (write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1 &&
      poll(&p, 1, timeout_ms) == 1 && read(fd, buf, sizeof(buf) - 1) > 12)
    sscanf(buf, "HTTP/1.%*d %d", &code);
  close(fd);
  return code;
}

static void test_slow_holders_do_not_starve_scrapes(void **state) {
  netfw_config cfg;
  netfw_server *s;
  int holders[HOLDERS], i, fd;
  uint16_t mport;

  (void)state;
  netfw_config_init(&cfg, &app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.metrics_addr = "127.0.0.1:0";
  s = netfw_server_new(&cfg);
  assert_non_null(s);
  assert_int_equal(netfw_server_start(s), 0);
  mport = netfw_server_metrics_port(s);
  assert_int_not_equal(mport, 0);
  for (i = 0; i < HOLDERS; i++) { /* half a request each, then silence */
    holders[i] = connect_from("127.0.0.2", mport);
    assert_true(holders[i] >= 0);
    if (write(holders[i], "GET /metr", 9) != 9)
      fprintf(stderr, "holder %d: write: %s\n", i, strerror(errno));
  }
  usleep(200 * 1000); /* the endpoint has taken (or closed) them all */
  assert_int_equal(scrape_from("127.0.0.1", mport, 2000), 200);
  assert_int_equal(scrape_from("127.0.0.3", mport, 2000), 200);
  fd = wire_connect(netfw_server_port(s)); /* the server serves as ever */
  assert_true(fd >= 0);
  assert_int_equal(wire_send(fd, 7, "x", 1), 0);
  {
    uint16_t id = 0;
    uint8_t *p = NULL;
    uint32_t n = 0;
    assert_int_equal(wire_recv(fd, &id, &p, &n, 5000), 1);
    assert_int_equal(id, 7);
    free(p);
  }
  wire_close(fd);
  for (i = 0; i < HOLDERS; i++)
    close(holders[i]);
  assert_int_equal(netfw_server_stop(s, 5000), 0);
  netfw_server_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_slow_holders_do_not_starve_scrapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
