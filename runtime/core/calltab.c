/* The calls of a protocol: request and reply ids from a descriptor's
 * returns (calltab.h). Lookups are a binary search over the protocol's
 * messages sorted by id; a request's replies are a short list. */
#include "calltab.h"

#include <stdlib.h>

#include "netfw/error.h"

typedef struct calltab_msg {
  uint16_t id;
  bool is_reply;
  uint16_t nreplies;   /* 0: not a request */
  uint32_t first;      /* its reply ids start at replies[first] */
  const char *name;
} calltab_msg;

struct netfw__calltab {
  calltab_msg *msgs; /* sorted by id */
  uint32_t nmsgs;
  uint16_t *replies;
};

static int by_id(const void *a, const void *b) {
  const calltab_msg *x = a, *y = b;
  return (int)x->id - (int)y->id;
}

static uint32_t count_replies(const netfw_desc *d, int *rc) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < d->nmessages; i++) {
    const netfw_desc_message *m = &d->messages[i];
    for (uint32_t k = 0; k < m->nreturns; k++)
      if (m->returns == NULL || m->returns[k] >= d->nmessages)
        *rc = NETFW_EINVAL;
    n += m->nreturns;
  }
  return n;
}

int netfw__calltab_new(const netfw_desc *d, netfw__calltab **out) {
  if (d == NULL || out == NULL || (d->nmessages > 0 && d->messages == NULL))
    return NETFW_EINVAL;
  int rc = 0;
  uint32_t nrep = count_replies(d, &rc);
  if (rc != 0)
    return rc;
  netfw__calltab *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NETFW_ENOMEM;
  t->msgs = calloc(d->nmessages ? d->nmessages : 1, sizeof *t->msgs);
  t->replies = calloc(nrep ? nrep : 1, sizeof *t->replies);
  if (t->msgs == NULL || t->replies == NULL) {
    netfw__calltab_free(t);
    return NETFW_ENOMEM;
  }
  uint32_t at = 0;
  for (uint32_t i = 0; i < d->nmessages; i++) {
    const netfw_desc_message *m = &d->messages[i];
    calltab_msg *e = &t->msgs[i];
    e->id = m->id;
    e->is_reply = m->is_reply;
    e->name = m->body.name != NULL ? m->body.name : "";
    e->first = at;
    e->nreplies = (uint16_t)m->nreturns;
    for (uint32_t k = 0; k < m->nreturns; k++)
      t->replies[at++] = d->messages[m->returns[k]].id;
  }
  t->nmsgs = d->nmessages;
  qsort(t->msgs, t->nmsgs, sizeof *t->msgs, by_id);
  *out = t;
  return 0;
}

void netfw__calltab_free(netfw__calltab *t) {
  if (t == NULL)
    return;
  free(t->msgs);
  free(t->replies);
  free(t);
}

static const calltab_msg *find(const netfw__calltab *t, uint16_t id) {
  if (t == NULL)
    return NULL;
  uint32_t lo = 0, hi = t->nmsgs;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (t->msgs[mid].id == id)
      return &t->msgs[mid];
    if (t->msgs[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

bool netfw__calltab_is_request(const netfw__calltab *t, uint16_t id) {
  const calltab_msg *e = find(t, id);
  return e != NULL && e->nreplies > 0;
}

bool netfw__calltab_is_reply(const netfw__calltab *t, uint16_t id) {
  const calltab_msg *e = find(t, id);
  return e != NULL && e->is_reply;
}

bool netfw__calltab_answers(const netfw__calltab *t, uint16_t request,
                            uint16_t reply) {
  const calltab_msg *e = find(t, request);
  if (e == NULL)
    return false;
  for (uint32_t k = 0; k < e->nreplies; k++)
    if (t->replies[e->first + k] == reply)
      return true;
  return false;
}

const char *netfw__calltab_name(const netfw__calltab *t, uint16_t id) {
  const calltab_msg *e = find(t, id);
  return e != NULL ? e->name : "";
}
