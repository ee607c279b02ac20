/* echo_client: sends N messages with varying ids and payloads to an echo
 * server, keeps up to D of them in flight, checks every echo byte for byte
 * and prints a one-line summary. Exits 0 only if every echo matched. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netfw/netfw.h>

#include "example.h"

enum { RECV_TIMEOUT_MS = 10000 };

typedef struct echo_opts {
  const char *ip;
  uint16_t port;
  long count;
  long size;
  long pipeline;
  example_client_tls tls;
} echo_opts;

/* Message i has id i mod 65536 and payload bytes that depend on i and the
 * position, so a reordered, duplicated or corrupted echo never matches. */
static int fill(netfw_msg *m, long i, long size) {
  uint8_t *p;

  netfw_msg_clear(m);
  netfw_msg_set_id(m, (uint16_t)i);
  p = netfw_msg_append_space(m, (size_t)size);
  if (p == NULL)
    return NETFW_ENOMEM;
  for (long j = 0; j < size; j++)
    p[j] = (uint8_t)(i * 131 + j * 7 + (j >> 8));
  return 0;
}

static bool matches(const netfw_msg *got, const netfw_msg *want) {
  return netfw_msg_id(got) == netfw_msg_id(want) &&
         netfw_msg_size(got) == netfw_msg_size(want) &&
         (netfw_msg_size(want) == 0 ||
          memcmp(netfw_msg_payload(got), netfw_msg_payload(want),
                 netfw_msg_size(want)) == 0);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends and checks; returns how many echoes matched. */
static long run(netfw_client *c, const echo_opts *o) {
  netfw_msg out, want;
  long sent = 0, matched = 0;
  int err = 0;

  netfw_msg_init(&out, 0);
  netfw_msg_init(&want, 0);
  while (matched < o->count && err == 0) {
    netfw_msg *got = NULL;
    while (sent < o->count && sent - matched < o->pipeline) {
      if ((err = fill(&out, sent, o->size)) != 0 ||
          (err = netfw_client_send(c, &out)) != 0)
        break;
      sent++;
    }
    if (err != 0)
      break;
    err = netfw_client_recv(c, &got, RECV_TIMEOUT_MS);
    if (err != 0)
      break;
    if (fill(&want, matched, o->size) != 0 || !matches(got, &want)) {
      fprintf(stderr, "error: echo %ld does not match what was sent\n", matched);
      netfw_msg_free(got);
      break;
    }
    netfw_msg_free(got);
    matched++;
  }
  if (err != 0) {
    char what[64];
    snprintf(what, sizeof(what), "after %ld echoes", matched);
    example_client_fail(c, what, err);
  }
  netfw_msg_release(&out);
  netfw_msg_release(&want);
  return matched;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: echo_client [--ip ADDR] [--port N] [--count N] [--size BYTES]\n"
          "                   [--pipeline D] [--tls] [--tls-ca FILE]\n"
          "                   [--tls-cert FILE --tls-key FILE]\n"
          "                   [--tls-server-name NAME]\n"
          "  --ip ADDR              server address (default 127.0.0.1)\n"
          "  --port N               server port (default 54314)\n"
          "  --count N              messages to send (default 1000)\n"
          "  --size BYTES           payload size of each (default 64, at\n"
          "                         most 16 MiB)\n"
          "  --pipeline D           messages in flight at once (default 1)\n");
  example_client_tls_usage(out);
}

static bool parse(int argc, char **argv, echo_opts *o) {
  static const struct option longopts[] = {
      {"ip", required_argument, NULL, 'i'},
      {"port", required_argument, NULL, 'p'},
      {"count", required_argument, NULL, 'n'},
      {"size", required_argument, NULL, 's'},
      {"pipeline", required_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},
      EXAMPLE_CLIENT_TLS_LONGOPTS,
      {NULL, 0, NULL, 0}};
  long port = NETFW_DEFAULT_PORT;
  int c;

  while ((c = getopt_long(argc, argv, "i:p:n:s:d:h", longopts, NULL)) != -1) {
    bool ok = true;
    switch (c) {
    case 'i': o->ip = optarg; break;
    case 'p': ok = example_parse_int("--port", optarg, 1, 65535, &port); break;
    case 'n': ok = example_parse_int("--count", optarg, 0, 1L << 40, &o->count); break;
    case 's': ok = example_parse_int("--size", optarg, 0, 16L << 20, &o->size); break;
    case 'd': ok = example_parse_int("--pipeline", optarg, 1, 1L << 20, &o->pipeline); break;
    case 'h': usage(stdout); exit(0);
    default: ok = example_client_tls_opt(&o->tls, c, optarg);
    }
    if (!ok)
      return false;
  }
  o->port = (uint16_t)port;
  return optind == argc && example_client_tls_check(&o->tls);
}

int main(int argc, char **argv) {
  echo_opts o = {"127.0.0.1", NETFW_DEFAULT_PORT, 1000, 64, 1, {0}};
  netfw_client *c;
  double start, secs;
  long matched;

  if (!parse(argc, argv, &o)) {
    usage(stderr);
    return 2;
  }
  c = example_connect_tls(o.ip, o.port, &o.tls);
  if (c == NULL)
    return 1;
  start = now_s();
  matched = run(c, &o);
  secs = now_s() - start;
  netfw_client_free(c);
  if (secs <= 0)
    secs = 1e-9;
  printf("echo_client: %ld/%ld echoes matched, %ld B each, pipeline %ld, "
         "%.0f msg/s, %.2f MB/s\n",
         matched, o.count, o.size, o.pipeline, (double)matched / secs,
         (double)matched * (double)o.size / secs / 1e6);
  return matched == o.count ? 0 : 1;
}
