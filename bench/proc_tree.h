/* Reading a running server's process tree from /proc (Linux): the root and
 * all its descendants (a prefork server's workers), their resident memory
 * and their CPU time. Header-only, for the benchmark tools. */
#ifndef NETFW_BENCH_PROC_TREE_H
#define NETFW_BENCH_PROC_TREE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROC_TREE_MAX 4096

/* Fields of /proc/pid/stat after the command name: state is field 3, ppid
 * 4, utime 14, stime 15. Returns 0 and fills what is asked, or -1. */
static inline int proc_stat(long pid, long *ppid, unsigned long long *ticks) {
  char path[64], buf[1024], *p;
  unsigned long long ut, st;
  long pp;
  size_t n;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  f = fopen(path, "r");
  if (f == NULL)
    return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')'); /* the command name may hold spaces and parens */
  if (p == NULL ||
      sscanf(p + 1, " %*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
             &pp, &ut, &st) != 3)
    return -1;
  if (ppid != NULL)
    *ppid = pp;
  if (ticks != NULL)
    *ticks = ut + st;
  return 0;
}

/* Fills out[0..max) with root and its descendants (root first). Returns
 * their number, or -1 when root does not exist. Cost: one read of every
 * /proc/PID/stat on the machine. */
static inline int proc_tree(long root, long *out, int max) {
  static long pids[PROC_TREE_MAX], ppids[PROC_TREE_MAX];
  int n = 0, nt = 1;
  struct dirent *d;
  DIR *dir;

  if (max < 1 || proc_stat(root, NULL, NULL) < 0)
    return -1;
  dir = opendir("/proc");
  if (dir == NULL)
    return -1;
  while ((d = readdir(dir)) != NULL && n < PROC_TREE_MAX) {
    char *end;
    long pid = strtol(d->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || proc_stat(pid, &ppids[n], NULL) < 0)
      continue;
    pids[n++] = pid;
  }
  closedir(dir);
  out[0] = root;
  for (int t = 0; t < nt; t++) /* breadth-first over the children */
    for (int i = 0; i < n && nt < max; i++)
      if (ppids[i] == out[t])
        out[nt++] = pids[i];
  return nt;
}

/* CPU seconds (user + system) used so far by pids[0..n); processes that
 * are gone count 0. */
static inline double proc_cpu_seconds(const long *pids, int n) {
  unsigned long long total = 0, t;
  long hz = sysconf(_SC_CLK_TCK);

  for (int i = 0; i < n; i++)
    if (proc_stat(pids[i], NULL, &t) == 0)
      total += t;
  return (double)total / (double)(hz > 0 ? hz : 100);
}

/* VmRSS of pid in KiB, or -1. */
static inline long proc_rss_kib(long pid) {
  char path[64], line[256];
  long kib = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%ld/status", pid);
  f = fopen(path, "r");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

#endif /* NETFW_BENCH_PROC_TREE_H */
