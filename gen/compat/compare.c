/* --check-compat at the schema level: version, byte order, the protocol's
 * name, messages matched by wire id (removed, moved, reused, renamed,
 * direction, the replies a request names) and reservations. Fields, structs and
 * enums are compared in compare_types.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

compat_finding *compat_err(compat_ctx *c, const char *rule, gen_pos pos,
                           const char *fmt, ...) {
  compat_finding *f;
  va_list ap;

  va_start(ap, fmt);
  f = compat_vadd(c->r, true, rule, c->new_->path, pos, fmt, ap);
  va_end(ap);
  return f;
}

compat_finding *compat_warn(compat_ctx *c, const char *rule, gen_pos pos,
                            const char *fmt, ...) {
  compat_finding *f;
  va_list ap;

  va_start(ap, fmt);
  f = compat_vadd(c->r, false, rule, c->new_->path, pos, fmt, ap);
  va_end(ap);
  return f;
}

void compat_was(compat_ctx *c, compat_finding *f, gen_pos pos, const char *fmt,
                ...) {
  va_list ap;

  va_start(ap, fmt);
  compat_vnote(f, c->old->path, pos, fmt, ap);
  va_end(ap);
}

/* Where `option version` is, or the protocol statement when unset. */
static gen_pos version_pos(const compat_schema *cs) {
  return cs->s.version_set ? cs->s.version_pos : cs->s.proto_pos;
}

/* Where `option endian` is, or the protocol statement when unset. */
static gen_pos endian_pos(const compat_schema *cs) {
  return cs->s.endian_set ? cs->s.endian_pos : cs->s.proto_pos;
}

/* The version may only grow; the byte order never changes; the protocol's
 * name is API (every C symbol starts with it), not wire. */
static void compare_header(compat_ctx *c) {
  const compat_schema *o = c->old, *n = c->new_;
  compat_finding *f;

  if (n->version < o->version) {
    f = compat_err(c, "version-decreased", version_pos(n),
                   "version went down from %u to %u", o->version, n->version);
    compat_was(c, f, version_pos(o), "was version %u", o->version);
  }
  if (n->s.big_endian != o->s.big_endian) {
    f = compat_err(c, "endian-changed", endian_pos(n),
                   "byte order changed from %s to %s endian",
                   o->s.big_endian ? "big" : "little",
                   n->s.big_endian ? "big" : "little");
    compat_was(c, f, endian_pos(o), "was %s endian%s",
               o->s.big_endian ? "big" : "little",
               o->s.endian_set ? "" : " (the default)");
  }
  if (strcmp(n->s.proto, o->s.proto) != 0) {
    f = compat_warn(c, "protocol-renamed", n->s.proto_pos,
                    "protocol renamed from '%s' to '%s' (the generated C "
                    "names change)",
                    o->s.proto, n->s.proto);
    compat_was(c, f, o->s.proto_pos, "was '%s'", o->s.proto);
  }
}

/* A message's direction as written (no arrow: both sides receive it). */
static const char *dir_text(gen_dir d) {
  return d == DIR_BOTH     ? "both sides"
         : d == DIR_SERVER ? "'-> server'"
                           : "'-> client'";
}

/* A side that received m in OLD must still receive it in NEW; a side may
 * start receiving it (as with a message added). */
static void compare_direction(compat_ctx *c, const gen_decl *mo,
                              const gen_decl *mn) {
  compat_finding *f;

  if (mn->dir == mo->dir || mn->dir == DIR_BOTH)
    return;
  f = compat_err(c, "direction-narrowed", mn->pos,
                 "message '%s' %s from %s to %s: a side that received it "
                 "no longer does",
                 mn->name, mo->dir == DIR_BOTH ? "narrowed" : "turned",
                 dir_text(mo->dir), dir_text(mn->dir));
  compat_was(c, f, mo->pos, "was %s",
             mo->dir == DIR_BOTH ? "received by both sides"
                                 : dir_text(mo->dir));
}

/* Whether request m names the message with wire id `id` among its replies
 * (replies are matched by id, as the wire does). */
static bool names_reply(const gen_decl *m, uint64_t id) {
  for (size_t i = 0; i < m->nreturns; i++)
    if (m->returns[i].decl != NULL && m->returns[i].decl->id == id)
      return true;
  return false;
}

/* "GetResp | Ack": the replies of request m, in pool. */
static const char *replies_text(compat_ctx *c, const gen_decl *m) {
  gen_buf b = {0};
  const char *r;
  for (size_t i = 0; i < m->nreturns; i++)
    gen_buf_printf(&b, "%s%s", i > 0 ? " | " : "", m->returns[i].name);
  r = gen_pool_strndup(&c->pool, b.data != NULL ? b.data : "", b.len);
  gen_buf_free(&b);
  return r;
}

/* A one-way message that gains `returns`, or a request that loses them. */
static void compare_call_kind(compat_ctx *c, const gen_decl *mo,
                              const gen_decl *mn) {
  compat_finding *f;

  if (mo->nreturns == 0) {
    f = compat_warn(c, "returns-added", mn->returns_pos,
                    "message '%s' now names its replies (returns %s): new "
                    "clients' calls to it time out on an old server that "
                    "does not answer it",
                    mn->name, replies_text(c, mn));
    compat_was(c, f, mo->pos, "was one-way (no returns)");
    return;
  }
  f = compat_err(c, "returns-removed", mn->pos,
                 "message '%s' no longer names its replies: old clients' "
                 "calls to it wait for an answer new servers do not owe",
                 mn->name);
  compat_was(c, f, mo->returns_pos, "was returns %s", replies_text(c, mo));
}

/* A reply r that request mn gained. Old clients that know r's id as a
 * reply fail the call (NETFW_EPROTO) and drop the connection; old clients
 * that know it as a push take it for one, so their call times out, and
 * new clients take every one an old server pushes for the answer of their
 * oldest call. */
static compat_finding *reply_added(compat_ctx *c, const gen_decl *mn,
                                   const gen_reply *r) {
  const gen_decl *was = compat_message_by_id(c->old, r->decl->id);

  if (was != NULL && !was->is_reply)
    return compat_err(c, "reply-added", r->pos,
                      "message '%s' gained the reply '%s' (id %" PRIu64
                      "), a push until now: old clients take it for a push, "
                      "so their calls to '%s' time out when a new server "
                      "answers with it, and new clients take each one an "
                      "old server pushes for the answer of their oldest "
                      "call",
                      mn->name, r->name, r->decl->id, mn->name);
  return compat_err(c, "reply-added", r->pos,
                    "message '%s' gained the reply '%s' (id %" PRIu64 "): "
                    "old clients' calls to it fail, and drop the connection, "
                    "when a new server answers with it",
                    mn->name, r->name, r->decl->id);
}

/* The replies of a request in both versions, matched by wire id: one added
 * fails old clients' calls that a new server answers with it, one removed
 * fails new clients' calls that an old server answers with it (either way
 * the call ends NETFW_EPROTO and the client drops the connection, since
 * later replies could no longer be matched). Their order does not matter. */
static void compare_returns(compat_ctx *c, const gen_decl *mo,
                            const gen_decl *mn) {
  compat_finding *f;

  if ((mo->nreturns == 0) != (mn->nreturns == 0)) {
    compare_call_kind(c, mo, mn);
    return;
  }
  for (size_t i = 0; i < mn->nreturns; i++) {
    const gen_reply *r = &mn->returns[i];
    if (r->decl == NULL || names_reply(mo, r->decl->id))
      continue;
    f = reply_added(c, mn, r);
    compat_was(c, f, mo->returns_pos, "was returns %s", replies_text(c, mo));
  }
  for (size_t i = 0; i < mo->nreturns; i++) {
    const gen_reply *r = &mo->returns[i];
    if (r->decl == NULL || names_reply(mn, r->decl->id))
      continue;
    f = compat_err(c, "reply-removed", mn->returns_pos,
                   "message '%s' lost the reply '%s' (id %" PRIu64 "): new "
                   "clients' calls to it fail, and drop the connection, when "
                   "an old server answers with it",
                   mn->name, r->name, r->decl->id);
    compat_was(c, f, r->pos, "was returns %s", replies_text(c, mo));
  }
}

/* One message of OLD against NEW: the message with its id, or what became
 * of it. */
static void compare_message(compat_ctx *c, const gen_decl *mo) {
  const gen_schema *n = &c->new_->s;
  const gen_decl *byname = compat_message_by_name(c->new_, mo->name);
  const gen_decl *mn = compat_message_by_id(c->new_, mo->id);
  const gen_decl *was;
  compat_finding *f;

  if (byname != NULL && byname->id != mo->id) {
    f = compat_err(c, "message-id-changed", byname->id_pos,
                   "message '%s' changed its id from %" PRIu64 " to %" PRIu64,
                   mo->name, mo->id, byname->id);
    compat_was(c, f, mo->id_pos, "was id %" PRIu64, mo->id);
    return;
  }
  if (mn == NULL) {
    if (compat_reserved_id(c->new_, mo->id) != NULL)
      return; /* retired on purpose */
    f = compat_err(c, "message-removed", n->proto_pos,
                   "message '%s' (id %" PRIu64 ") removed without "
                   "'reserved %" PRIu64 ";'",
                   mo->name, mo->id, mo->id);
    compat_was(c, f, mo->pos, "was message '%s' = %" PRIu64, mo->name, mo->id);
    return;
  }
  if (strcmp(mn->name, mo->name) != 0) {
    was = compat_message_by_name(c->old, mn->name);
    if (was != NULL) {
      f = compat_err(c, "message-id-reused", mn->id_pos,
                     "id %" PRIu64 " now carries message '%s' (id %" PRIu64
                     " before) instead of '%s'",
                     mo->id, mn->name, was->id, mo->name);
      compat_was(c, f, mo->pos, "was message '%s' = %" PRIu64, mo->name,
                 mo->id);
      return;
    }
    f = compat_warn(c, "message-renamed", mn->pos,
                    "message %" PRIu64 " renamed from '%s' to '%s' (the "
                    "generated names change)",
                    mo->id, mo->name, mn->name);
    compat_was(c, f, mo->pos, "was '%s'", mo->name);
  }
  compare_direction(c, mo, mn);
  compare_returns(c, mo, mn);
  compat_compare_fields(c, mo, mn);
}

/* A message of NEW on an id that OLD reserved. */
static void check_reserved_reuse(compat_ctx *c, const gen_decl *mn) {
  const gen_reserved *rv;
  compat_finding *f;

  if (compat_message_by_id(c->old, mn->id) != NULL)
    return; /* compared from the old side */
  rv = compat_reserved_id(c->old, mn->id);
  if (rv == NULL)
    return;
  f = compat_err(c, "message-id-reused", mn->id_pos,
                 "message '%s' uses id %" PRIu64 ", which the old schema "
                 "reserved",
                 mn->name, mn->id);
  compat_was(c, f, rv->pos, "was reserved");
}

/* A reservation of OLD that NEW no longer has. Reusing the id is an
 * error reported with the message that reuses it. */
static void check_dropped(compat_ctx *c, const gen_reserved *rv) {
  const gen_schema *n = &c->new_->s;
  compat_finding *f;

  if (rv->is_name) {
    if (compat_reserved_name(c->new_, rv->name) != NULL)
      return;
    f = compat_warn(c, "reservation-dropped", n->proto_pos,
                    "reservation of message name '%s' dropped", rv->name);
    compat_was(c, f, rv->pos, "was reserved");
    return;
  }
  if (compat_reserved_id(c->new_, rv->id) != NULL ||
      compat_message_by_id(c->new_, rv->id) != NULL)
    return;
  f = compat_warn(c, "reservation-dropped", n->proto_pos,
                  "reservation of message id %" PRIu64 " dropped", rv->id);
  compat_was(c, f, rv->pos, "was reserved");
}

void compat_compare(const compat_schema *old, const compat_schema *new_,
                    compat_report *r) {
  compat_ctx c;

  memset(&c, 0, sizeof(c));
  c.old = old;
  c.new_ = new_;
  c.r = r;
  compare_header(&c);
  for (size_t i = 0; i < old->s.ndecls; i++)
    if (old->s.decls[i]->kind == D_MESSAGE)
      compare_message(&c, old->s.decls[i]);
  compat_compare_queued(&c);
  for (size_t i = 0; i < new_->s.ndecls; i++)
    if (new_->s.decls[i]->kind == D_MESSAGE)
      check_reserved_reuse(&c, new_->s.decls[i]);
  for (size_t i = 0; i < old->s.nreserved; i++)
    check_dropped(&c, &old->s.reserved[i]);
  free(c.seen_old);
  free(c.seen_new);
  gen_map_free(&c.seen);
  gen_pool_free(&c.pool);
}
