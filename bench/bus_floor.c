/* bus-bench's baseline, the floor of a relay-free design: this process
 * writes the frames itself to W socketpairs, W forked readers count them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "bus_bench.h"

static void reader(int fd, rslot *s, int lat, uint64_t want) {
  static uint8_t buf[1 << 16];
  size_t have = 0, off;
  uint32_t expect = 0;

  while (atomic_load(lat ? &s->lat : &s->thr) < want) {
    ssize_t r = read(fd, buf + have, sizeof(buf) - have);
    if (r <= 0)
      _exit(2);
    have += (size_t)r;
    for (off = 0; have - off >= BENCH_HDR_SIZE + o.size; off += BENCH_HDR_SIZE + o.size) {
      const uint8_t *p = buf + off + BENCH_HDR_SIZE;
      uint64_t ns;
      uint32_t seq;
      memcpy(&ns, p, 8);
      memcpy(&seq, p + 8, 4);
      if (seq != expect++ || bench_hdr_size(buf + off) != o.size)
        atomic_fetch_add(&s->bad, 1);
      uint64_t now = bench_now_ns();
      if (lat)
        hist_record(&s->h, now - ns);
      atomic_store_explicit(&s->last_ns, now, memory_order_relaxed);
      atomic_fetch_add_explicit(lat ? &s->lat : &s->thr, 1, memory_order_release);
    }
    memmove(buf, buf + off, have - off);
    have -= off;
  }
  _exit(0);
}

void baseline_run(board *w, int lat, result *res) {
  uint64_t want = lat ? o.lat_messages : o.messages, first, last = 0;
  size_t fsz = BENCH_HDR_SIZE + o.size, batch = lat ? 1 : o.batch;
  uint8_t *buf = calloc(batch, fsz);
  int fds[MAX_W][2], i, st;
  pid_t pids[MAX_W];
  static hist all;

  if (buf == NULL)
    die("out of memory");
  board_reset(w);
  for (i = 0; i < (int)o.workers; i++) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]) != 0)
      die("socketpair failed");
    if ((pids[i] = fork()) == 0) {
      for (int j = 0; j <= i; j++)
        close(fds[j][0]);
      reader(fds[i][1], &w->slot[i], lat, want);
    }
    close(fds[i][1]);
  }
  first = bench_now_ns();
  for (uint64_t seq = 0; seq < want;) {
    size_t k;
    for (k = 0; k < batch && seq < want; k++, seq++) {
      uint8_t *f = buf + k * fsz;
      uint64_t now = bench_now_ns();
      uint32_t s32 = (uint32_t)seq;
      bench_hdr_pack(f, ID_THR, (uint32_t)o.size);
      memcpy(f + BENCH_HDR_SIZE, &now, 8);
      memcpy(f + BENCH_HDR_SIZE + 8, &s32, 4);
    }
    if (lat) { /* paced: one message per millisecond */
      struct timespec ts;
      uint64_t at = first + seq * 1000000u;
      ts.tv_sec = (time_t)(at / 1000000000u);
      ts.tv_nsec = (long)(at % 1000000000u);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      uint64_t now = bench_now_ns();
      memcpy(buf + BENCH_HDR_SIZE, &now, 8);
    }
    for (i = 0; i < (int)o.workers; i++)
      write_all(fds[i][0], buf, k * fsz);
  }
  res->ok = 1;
  hist_init(&all);
  for (i = 0; i < (int)o.workers; i++) {
    rslot *s = &w->slot[i];
    if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0 || atomic_load(lat ? &s->lat : &s->thr) != want ||
        atomic_load(&s->bad) != 0)
      res->ok = 0;
    close(fds[i][0]);
    if (atomic_load(&s->last_ns) > last)
      last = atomic_load(&s->last_ns);
    for (unsigned k = 0; k < HIST_BUCKETS; k++)
      all.count[k] += s->h.count[k];
    all.total += s->h.total;
    all.max = s->h.max > all.max ? s->h.max : all.max;
  }
  free(buf);
  if (lat) {
    res->p50_us = (double)hist_quantile(&all, 0.50) / 1e3;
    res->p99_us = (double)hist_quantile(&all, 0.99) / 1e3;
  } else {
    res->rate = (double)want * 1e9 / (double)(last - first);
  }
  if (!res->ok)
    fprintf(stderr, "bus-bench: baseline %s run did not verify\n",
            lat ? "latency" : "throughput");
}

