/* A worker's connections by number (calls.h): chained buckets, as many as
 * blocks (doubled when the count passes them). Numbers are handed out in
 * sequence, so num & mask spreads them evenly without a hash. */
#include <stdlib.h>

#include "calls.h"
#include "netfw/error.h"

#define MIN_SLOTS 64

/* Moves every block into a table of n buckets (n a power of two). Returns
 * 0 or NETFW_ENOMEM (the table is unchanged). */
static int rehash(netfw__callidx *x, size_t n) {
  netfw__calls **slots = calloc(n, sizeof(*slots)), *k, *next;
  size_t i;

  if (slots == NULL)
    return NETFW_ENOMEM;
  for (i = 0; x->slots != NULL && i <= x->mask; i++)
    for (k = x->slots[i]; k != NULL; k = next) {
      next = k->idx_next;
      k->idx_next = slots[k->num & (n - 1)];
      slots[k->num & (n - 1)] = k;
    }
  free(x->slots);
  x->slots = slots;
  x->mask = n - 1;
  return 0;
}

int netfw__callidx_add(netfw__callidx *x, netfw__calls *k) {
  size_t nslots = x->slots != NULL ? x->mask + 1 : 0;

  if (x->n + 1 > nslots &&
      rehash(x, nslots == 0 ? MIN_SLOTS : nslots * 2) != 0 && nslots == 0)
    return NETFW_ENOMEM; /* a failed grow only lengthens the chains */
  k->idx_next = x->slots[k->num & x->mask];
  x->slots[k->num & x->mask] = k;
  x->n++;
  return 0;
}

void netfw__callidx_del(netfw__callidx *x, netfw__calls *k) {
  netfw__calls **pp;

  if (x->slots == NULL)
    return;
  for (pp = &x->slots[k->num & x->mask]; *pp != NULL; pp = &(*pp)->idx_next)
    if (*pp == k) {
      *pp = k->idx_next;
      k->idx_next = NULL;
      x->n--;
      return;
    }
}

netfw__calls *netfw__callidx_find(const netfw__callidx *x, uint64_t num) {
  netfw__calls *k;

  if (x->slots == NULL)
    return NULL;
  for (k = x->slots[num & x->mask]; k != NULL; k = k->idx_next)
    if (k->num == num)
      return k;
  return NULL;
}

void netfw__callidx_free(netfw__callidx *x) {
  free(x->slots);
  x->slots = NULL;
  x->mask = 0;
  x->n = 0;
}
