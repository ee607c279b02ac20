/* The counter table: the message index made from the protocol's names, the
 * blocks shared with the workers (one per live worker process), and what
 * the supervisor keeps per slot once a process is gone. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "metrics.h"
#include "netfw/log.h"

#define IDS 65536

/* Registers every id msg_name names: ids[1..], names[1..], index[id]. */
static bool build_index(netfw__metrics *m,
                        const char *(*msg_name)(uint16_t id)) {
  size_t n = 1, id;

  m->index = calloc(IDS, sizeof(*m->index));
  if (m->index == NULL)
    return false;
  for (id = 0; msg_name != NULL && id < IDS; id++)
    if (msg_name((uint16_t)id) != NULL)
      n++;
  m->ids = calloc(n, sizeof(*m->ids));
  m->names = calloc(n, sizeof(*m->names));
  if (m->ids == NULL || m->names == NULL)
    return false;
  m->nmsg = 1;
  for (id = 0; msg_name != NULL && id < IDS && m->nmsg < n; id++) {
    const char *name = msg_name((uint16_t)id);
    if (name == NULL)
      continue;
    if ((m->names[m->nmsg] = strdup(name)) == NULL)
      return false;
    m->ids[m->nmsg] = (uint16_t)id;
    m->index[id] = (uint16_t)m->nmsg++;
  }
  return true;
}

/* A zeroed block as the workers' blocks are laid out (private memory). */
static netfw__wctr *block_alloc(const netfw__metrics *m) {
  return calloc(1, m->stride);
}

static netfw__wctr *block_at(const netfw__metrics *m, int i) {
  return (netfw__wctr *)(void *)(m->map + (size_t)i * m->stride);
}

/* Maps the shared blocks and the supervisor's per-slot records. */
static bool map_blocks(netfw__metrics *m, int nslots, int per_slot) {
  size_t bytes = sizeof(netfw__wctr) + m->nmsg * sizeof(netfw__mctr);
  int i;

  m->stride = (bytes + 63) & ~(size_t)63;
  m->nslots = nslots;
  m->nblocks = nslots * per_slot;
  m->map = mmap(NULL, (size_t)m->nblocks * m->stride, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m->map == MAP_FAILED) {
    m->map = NULL;
    return false;
  }
  m->used = calloc((size_t)m->nblocks, sizeof(*m->used));
  m->slots = calloc((size_t)nslots, sizeof(*m->slots));
  if (m->used == NULL || m->slots == NULL)
    return false;
  for (i = 0; i < nslots; i++)
    if ((m->slots[i].ended = block_alloc(m)) == NULL)
      return false;
  return true;
}

netfw__metrics *netfw__metrics_new(int nslots, int per_slot,
                                   const char *(*msg_name)(uint16_t id)) {
  netfw__metrics *m = calloc(1, sizeof(*m));

  if (m == NULL || !build_index(m, msg_name) ||
      !map_blocks(m, nslots, per_slot)) {
    netfw_log(NETFW_LOG_ERROR, "out of memory making the statistics table");
    netfw__metrics_free(m);
    return NULL;
  }
  netfw__metrics_clock_init(m);
  return m;
}

void netfw__metrics_free(netfw__metrics *m) {
  size_t i;

  if (m == NULL)
    return;
  if (m->map != NULL)
    munmap(m->map, (size_t)m->nblocks * m->stride);
  for (i = 0; m->slots != NULL && i < (size_t)m->nslots; i++)
    free(m->slots[i].ended);
  for (i = 0; m->names != NULL && i < m->nmsg; i++)
    free(m->names[i]);
  free(m->slots);
  free(m->used);
  free(m->names);
  free(m->ids);
  free(m->index);
  free(m);
}

netfw__wctr *netfw__metrics_claim(netfw__metrics *m, int slot) {
  int i;

  for (i = 0; i < m->nblocks; i++)
    if (!m->used[i]) {
      m->used[i] = true;
      memset(block_at(m, i), 0, m->stride);
      return block_at(m, i);
    }
  netfw_log(NETFW_LOG_ERROR, "statistics table full: worker %d counts into "
                             "a private block (lost when it ends)", slot);
  return NULL;
}

/* acc += b for every counter but the gauges (dropped with the process);
 * the high-water mark takes the larger of the two. */
static void fold(const netfw__metrics *m, netfw__wctr *acc,
                 const netfw__wctr *b) {
  const netfw__ctr *src = (const netfw__ctr *)(const void *)b;
  netfw__ctr *dst = (netfw__ctr *)(void *)acc;
  uint64_t max = netfw__ctr_get(&acc->queued_max);
  size_t i, n = (sizeof(netfw__wctr) + m->nmsg * sizeof(netfw__mctr)) /
                sizeof(netfw__ctr);

  if (netfw__ctr_get(&b->queued_max) > max)
    max = netfw__ctr_get(&b->queued_max);
  for (i = 0; i < n; i++)
    netfw__ctr_add(&dst[i], netfw__ctr_get(&src[i]));
  netfw__ctr_set(&acc->open, 0);
  netfw__ctr_set(&acc->queued, 0);
  netfw__ctr_set(&acc->ready, 0);
  netfw__ctr_set(&acc->queued_max, max);
}

void netfw__metrics_release(netfw__metrics *m, int slot, netfw__wctr *b) {
  long i;

  if (b == NULL)
    return;
  fold(m, m->slots[slot].ended, b);
  i = ((uint8_t *)b - m->map) / (long)m->stride;
  if (i >= 0 && i < m->nblocks)
    m->used[i] = false;
}

void netfw__metrics_died(netfw__metrics *m, int slot, int status) {
  netfw__slot_ctr *c = &m->slots[slot];

  if (status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) < 65)
    c->died_signal[WTERMSIG(status)]++;
  else if (status >= 0 && WIFEXITED(status))
    c->died_exit[WEXITSTATUS(status)]++;
}
