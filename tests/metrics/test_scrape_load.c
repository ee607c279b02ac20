/* /metrics under load (issue 17): 20 concurrent scrapers (scrapers.py,
 * Python's http.client, each checking every answer: 200, a complete and
 * well-formed exposition, counters that never go down) hit the endpoint
 * in a loop while the accounting load (tests/robust/accounting.h: every
 * echo checked byte for byte, nothing lost, corrupted, duplicated or
 * reordered) runs through an echo server of 2 workers. Then the final
 * counts are exactly what the load sent: frames and bytes (payload + the
 * 6-byte header) both ways, one accepted and one peer close per
 * connection; and a last /metrics matches netfw_server_stats series by
 * series. */
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounting.h"
#include "frame.h" /* NETFW_FRAME_HDR_SIZE */
#include "metrics_kit.h"
#include "netfw/netfw.h"
#include "wire.h"

#ifndef SCRAPERS_PY
#error "SCRAPERS_PY (the path of scrapers.py) must be defined"
#endif

enum { SCRAPERS = 20, CONNS = 50, MSGS = 3000, HDR = NETFW_FRAME_HDR_SIZE };

extern char **environ;

/* Echoes every frame unchanged. */
static void echo(void *app, netfw_owned_msg *m) {
  (void)app;
  if (netfw_conn_send(m->owner, m->msg) != 0)
    netfw_conn_shutdown(m->owner);
}

static const netfw_app echo_app = {.on_message = echo};

/* The running scrapers: their pid, the pipe that stops them (their
 * stdin) and the one they report on (their stdout). */
typedef struct scrapers {
  pid_t pid;
  int stop_fd, out_fd;
} scrapers;

/* Waits for the scrapers' "running" line (every one has scraped once). */
static void scrapers_running(scrapers *sc) {
  char line[16];
  size_t got = 0;

  while (got < 8 && read(sc->out_fd, line + got, 1) == 1)
    got++;
  assert_int_equal(got, 8);
  assert_memory_equal(line, "running\n", 8);
}

/* Starts scrapers.py PORT SCRAPERS; returns once they all scrape. */
static void scrapers_start(scrapers *sc, uint16_t port) {
  char arg_port[16], arg_n[16];
  char py[] = "python3", script[] = SCRAPERS_PY;
  char *argv[] = {py, script, arg_port, arg_n, NULL};
  int in[2], out[2];
  posix_spawn_file_actions_t fa;

  snprintf(arg_port, sizeof(arg_port), "%u", (unsigned)port);
  snprintf(arg_n, sizeof(arg_n), "%d", SCRAPERS);
  assert_int_equal(pipe(in), 0);
  assert_int_equal(pipe(out), 0);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, in[1]);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  assert_int_equal(posix_spawnp(&sc->pid, "python3", &fa, NULL, argv, environ),
                   0);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  sc->stop_fd = in[1];
  sc->out_fd = out[0];
  scrapers_running(sc);
}

/* Stops the scrapers and reads their report into buf; returns their exit
 * status (-1 if they did not exit within 60 s: killed). */
static int scrapers_stop(scrapers *sc, char *buf, size_t len) {
  size_t got = 0;
  ssize_t n;
  int status = -1, i;

  close(sc->stop_fd);
  while (got + 1 < len && (n = read(sc->out_fd, buf + got, len - 1 - got)) > 0)
    got += (size_t)n;
  buf[got] = '\0';
  close(sc->out_fd);
  for (i = 0; i < 600 && waitpid(sc->pid, &status, WNOHANG) == 0; i++) {
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  if (i == 600) {
    kill(sc->pid, SIGKILL);
    waitpid(sc->pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs the accounting load to the end; fills *s with its totals. */
static void run_load(uint16_t port, acct_stats *s) {
  acct_cfg cfg = {.port = port,
                  .conns = CONNS,
                  .msgs = MSGS,
                  .window = 16,
                  .sizes = ACCT_SIZES_SMALL,
                  .seed = 17};
  accounting *a = acct_new(&cfg);
  char line[512];

  assert_non_null(a);
  assert_int_equal(acct_open(a), 0);
  assert_int_equal(acct_run(a, 200000), 0);
  acct_totals(a, s);
  acct_format(s, line, sizeof(line));
  printf("load: %s\n", line);
  acct_free(a); /* closes every connection: the server sees EOFs */
}

/* Waits until every connection of the load is closed; returns the
 * snapshot (10 s at most). */
static void settled_stats(netfw_server *srv, netfw_stats *st) {
  uint64_t deadline = wire_now_ms() + 10000;

  for (;;) {
    assert_int_equal(netfw_server_stats(srv, st), 0);
    if (st->total.closed[NETFW_CLOSE_PEER] == CONNS || wire_now_ms() > deadline)
      return;
    netfw_stats_free(st);
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* The load's messages, counted by the server: in "other" (echo registers
 * no names), exactly what the load sent and received. */
static void assert_counts(const netfw_stats *st, const acct_stats *s) {
  const netfw_worker_stats *t = &st->total;
  int r;

  assert_int_equal(t->accepted, CONNS);
  assert_int_equal(t->open, 0);
  for (r = 0; r < NETFW_CLOSE_REASON_COUNT; r++)
    assert_int_equal(t->closed[r], r == NETFW_CLOSE_PEER ? CONNS : 0);
  for (r = 0; r < NETFW_REFUSE_REASON_COUNT; r++)
    assert_int_equal(t->refused[r], 0);
  assert_int_equal(t->nmessages, 1);
  assert_null(t->messages[0].name);
  assert_int_equal(t->all.received, (uint64_t)s->sent);
  assert_int_equal(t->all.received_bytes,
                   s->bytes_out + (uint64_t)s->sent * HDR);
  assert_int_equal(t->all.sent, (uint64_t)s->received);
  assert_int_equal(t->all.sent_bytes,
                   s->bytes_in + (uint64_t)s->received * HDR);
  assert_int_equal(t->all.malformed, 0);
  assert_int_equal(t->all.unhandled, 0);
  assert_int_equal(t->messages[0].received, t->all.received);
  assert_int_equal(t->restarts, 0);
  assert_int_equal(t->started, 2);
}

static void test_scrape_load(void **state) {
  netfw_config cfg;
  netfw_server *srv;
  scrapers sc;
  acct_stats s;
  netfw_stats st;
  char report[4096], err[256] = "";
  mk_resp resp;
  mk_prom *p;
  int rc, total = 0, ok = 0, bad = -1;

  (void)state;
  netfw_config_init(&cfg, &echo_app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = 2;
  cfg.metrics_addr = "127.0.0.1:0";
  srv = netfw_server_new(&cfg);
  assert_non_null(srv);
  assert_int_equal(netfw_server_start(srv), 0);
  assert_int_not_equal(netfw_server_metrics_port(srv), 0);

  scrapers_start(&sc, netfw_server_metrics_port(srv));
  run_load(netfw_server_port(srv), &s);
  rc = scrapers_stop(&sc, report, sizeof(report));
  printf("scrapers: %s", report);
  assert_int_equal(rc, 0);
  assert_int_equal(sscanf(report, "scrapes %d ok %d bad %d", &total, &ok, &bad),
                   3);
  assert_int_equal(bad, 0);
  assert_true(ok >= 2 * SCRAPERS); /* each scraped during the load */

  /* the load's own checks: every echo exact, every connection done */
  assert_int_equal(s.sent, (long)CONNS * MSGS);
  assert_int_equal(s.ok, s.sent);
  assert_int_equal(s.received, s.sent);
  assert_int_equal(
      s.lost + s.unanswered + s.corrupted + s.duplicated + s.reordered, 0);
  assert_int_equal(s.conns_done, CONNS);

  settled_stats(srv, &st);
  assert_counts(&st, &s);
  assert_int_equal(
      mk_http(netfw_server_metrics_port(srv), "GET", "/metrics", &resp), 0);
  assert_int_equal(resp.code, 200);
  p = mk_prom_parse(resp.body, err, sizeof(err));
  if (p == NULL)
    fail_msg("/metrics does not parse: %s", err);
  mk_assert_exposition(p, &st);
  mk_prom_free(p);
  mk_resp_free(&resp);
  netfw_stats_free(&st);
  assert_int_equal(netfw_server_stop(srv, 5000), 0);
  netfw_server_free(srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_scrape_load)};

  return cmocka_run_group_tests(tests, NULL, NULL);
}
