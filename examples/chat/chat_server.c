/* chat_server: one chat room over any number of workers and servers.
 * Members join with a nickname (unique in the whole room), say lines that
 * every other member receives with the sender's name, and are told when
 * others join and leave. The client wire is protocols/chat.netproto.
 *
 * Design.
 * - Each worker holds the members whose connections it accepted (a list of
 *   `member`, hung off the connection with netfw_conn_set_data, freed in
 *   on_closed). What happens in the room travels between workers as the
 *   internal messages of examples/chat/chat_bus.netproto (Said, Entered,
 *   Left) on the bus channel "chat:room" (the generated chat_bus_publish_*
 *   and chat_bus_bus_dispatch): the local bus joins the workers of one
 *   server, --bus redis://HOST:PORT every server on that Redis.
 * - Ordering: a worker delivers its own members' events to its other local
 *   members directly and publishes them without NETFW_BUS_ECHO; the bus keeps
 *   each publisher's order, so every member gets a sender's lines in the
 *   order they were said, and its MemberJoined before its first line.
 * - Membership (chat_store.h) is kept where every worker sees it: a shared
 *   memory table (--bus local) or Redis (--bus redis://). Every change gets
 *   a number from the store; a join answers the members with the number S
 *   of its own change. A member ignores Entered/Left numbered <= S (already
 *   in its snapshot), and a joining connection queues the room's events
 *   until its Joined is sent (bounded), so a concurrent join or leave is
 *   never shown twice nor missed.
 * - Ghosts (members of a worker or server that died, or stopped: on a stop
 *   members are not removed one by one) are removed by the store's sweep
 *   and announced by the worker that removed them.
 * - Bounds: PENDING_MAX joins waiting for the store per worker, QUEUE_MAX /
 *   QUEUE_BYTES events queued per joining connection; over them the
 *   connection is closed (logged). A store that cannot be reached refuses
 *   joins: the connection is closed with a log line (the wire has no refusal
 *   for it); when it loses this worker's members, they are closed too.
 * - A line from another worker goes only to the members that know its
 *   sender (chat_view.h): a line said just before its sender left, still on
 *   the bus while a member joins without the sender in its snapshot (the
 *   bus and the store are separate paths), is not shown to that member.
 * Not handled: the bus is at most once (its overflow drops are counted and
 * logged by netfw; a server cut from Redis's pub/sub but not from its
 * store misses the other servers' events until it is back): a member may
 * then miss a line or a join/leave, with no resynchronisation. One room
 * per Redis (fixed "chat:" keys); no Redis AUTH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netfw/bus.h>

#include "chat.netfw.h"
#include "chat_bus.netfw.h"
#include "chat_config.h"
#include "chat_store.h"
#include "chat_view.h"
#include "example.h"

#define CHANNEL "chat:room"
#define PENDING_MAX 256
#define QUEUE_MAX 1024
#define QUEUE_BYTES (256 * 1024)

typedef struct queued {
  struct queued *next;
  uint64_t seq; /* the change's number (0: a line) */
  bool own;     /* a line the joining member said: text in msg */
  netfw_msg *msg;
} queued;

typedef struct room room;

typedef struct member {
  room *r;
  netfw_conn *conn; /* NULL once closed (a join still owed by the store) */
  char nick[CHAT_NICK_MAX + 1];
  bool joining;   /* the store has not answered yet */
  uint64_t since; /* the join's number: changes <= since are in Joined */
  queued *head, *tail;
  uint32_t nqueued;
  size_t queued_bytes;
  struct member *prev, *next;
} member;

struct room {
  chat_store *store;
  chat_view *view; /* who may receive a line from another worker */
  member *members; /* this worker's, joined or joining */
  uint32_t pending;
  bool closing;
  uint64_t publish_failed, joins_refused; /* for rate-limited logs */
};

static const chat_store_events store_events;

static netfw_str str_of(const char *s) {
  netfw_str v = {s, (uint32_t)strlen(s)};
  return v;
}

static bool nick_ok(netfw_str nick) {
  if (nick.len == 0 || nick.len > CHAT_NICK_MAX)
    return false;
  for (uint32_t i = 0; i < nick.len; i++) {
    unsigned char ch = (unsigned char)nick.ptr[i];
    if (ch <= ' ' || ch == 0x7f)
      return false;
  }
  return true;
}

/* ---- this worker's members ---- */

static void link_member(room *r, member *m) {
  m->next = r->members;
  if (r->members != NULL)
    r->members->prev = m;
  r->members = m;
}

static void unlink_member(room *r, member *m) {
  if (m->prev != NULL)
    m->prev->next = m->next;
  else
    r->members = m->next;
  if (m->next != NULL)
    m->next->prev = m->prev;
}

static void free_member(member *m) {
  while (m->head != NULL) {
    queued *q = m->head;
    m->head = q->next;
    netfw_msg_free(q->msg);
    free(q);
  }
  free(m);
}

/* Queues msg (taken) for a joining member; over the bounds it closes the
 * connection instead. */
static void enqueue(member *m, uint64_t seq, bool own, netfw_msg *msg) {
  queued *q = msg != NULL ? calloc(1, sizeof(*q)) : NULL;

  if (q == NULL || m->nqueued >= QUEUE_MAX ||
      m->queued_bytes + netfw_msg_size(msg) > QUEUE_BYTES) {
    if (m->conn != NULL) {
      netfw_log(NETFW_LOG_WARN,
                "chat: too much room traffic while '%s' "
                "joins: closing the connection",
                m->nick);
      netfw_conn_set_data(m->conn, NULL); /* on_closed finds no member */
      netfw_conn_shutdown(m->conn);
      m->conn = NULL; /* on_joined frees m */
    }
    netfw_msg_free(msg);
    free(q);
    return;
  }
  q->seq = seq;
  q->own = own;
  q->msg = msg;
  if (m->tail != NULL)
    m->tail->next = q;
  else
    m->head = q;
  m->tail = q;
  m->nqueued++;
  m->queued_bytes += netfw_msg_size(msg);
}

/* Hands a client frame to m if m's snapshot is older than seq: for a
 * change, its number; for a line, chat_view_line_limit (UINT64_MAX: all). */
static void deliver(member *m, uint64_t seq, const netfw_msg *frame) {
  if (m->conn == NULL)
    return;
  if (m->joining)
    enqueue(m, seq, false, netfw_msg_dup(frame));
  else if (seq > m->since)
    netfw_conn_send(m->conn, frame);
}

static void broadcast(room *r, const member *except, uint64_t seq,
                      const netfw_msg *frame) {
  for (member *m = r->members; m != NULL; m = m->next)
    if (m != except)
      deliver(m, seq, frame);
}

/* ---- the room's events: delivered here, published for the others ---- */

/* Logs a failed publish (one line per 1000). NETFW_ENOTCONN is not one:
 * this server's workers got it, netfw logs the broker's state. */
static void published(room *r, int err) {
  if (err != 0 && err != NETFW_ENOTCONN && r->publish_failed++ % 1000 == 0)
    netfw_log(NETFW_LOG_WARN, "chat: bus publish failed (%s), %llu so far",
              netfw_strerror(err), (unsigned long long)r->publish_failed);
}

/* The member `from` of this worker said text: to its other members and,
 * published, to the other workers. */
static void said(room *r, const member *from, netfw_str text) {
  chat_Line line = {.from = str_of(from->nick), .text = text};
  chat_bus_Said s = {.since = from->since, .from = line.from, .text = text};
  netfw_msg f;

  netfw_msg_init(&f, 0);
  if (chat_Line_encode(&line, &f) == 0)
    broadcast(r, from, UINT64_MAX, &f);
  netfw_msg_release(&f);
  published(r, chat_bus_publish_Said(CHANNEL, &s, 0));
}

/* nick joined (or left) with change number seq; as said() otherwise. */
static void changed(room *r, const member *except, bool joined, netfw_str nick,
                    uint64_t seq, bool publish_it) {
  chat_MemberJoined j = {.nick = nick};
  chat_MemberLeft l = {.nick = nick};
  chat_bus_Entered e = {.seq = seq, .nick = nick};
  chat_bus_Left b = {.seq = seq, .nick = nick};
  netfw_msg f;
  int err;

  if (joined)
    chat_view_entered(r->view, nick.ptr, nick.len, seq);
  else
    chat_view_left(r->view, nick.ptr, nick.len, seq);
  netfw_msg_init(&f, 0);
  err = joined ? chat_MemberJoined_encode(&j, &f)
               : chat_MemberLeft_encode(&l, &f);
  if (err == 0)
    broadcast(r, except, seq, &f);
  netfw_msg_release(&f);
  if (publish_it)
    published(r, joined ? chat_bus_publish_Entered(CHANNEL, &e, 0)
                        : chat_bus_publish_Left(CHANNEL, &b, 0));
}

/* The store answered a leave: tells everybody, unless nothing was removed
 * (a ghost sweep told them already). */
static void on_left(void *arg, const char *nick, uint64_t seq) {
  room *r = arg;
  if (seq != 0 && !r->closing)
    changed(r, NULL, false, str_of(nick), seq, true);
}

/* A sweep removed a dead owner's member. */
static void on_gone(void *ctx, const char *nick, uint64_t seq) {
  room *r = ctx;
  if (!r->closing)
    changed(r, NULL, false, str_of(nick), seq, true);
}

/* The store lost this worker's members: close them (each leaves). */
static void on_lost(void *ctx) {
  room *r = ctx;
  unsigned n = 0;

  for (member *m = r->members; m != NULL; m = m->next)
    if (m->conn != NULL && !m->joining && ++n)
      netfw_conn_shutdown(m->conn);
  if (n > 0)
    netfw_log(NETFW_LOG_WARN,
              "chat: the membership store lost this "
              "worker's %u members: closing their connections",
              n);
}

static const chat_store_events store_events = {on_gone, on_lost};

/* ---- joining ---- */

static void refuse(netfw_conn *conn, chat_Refusal why) {
  chat_Refused r = {.reason = why};
  chat_server_send_Refused(conn, &r);
}

/* Sends Joined: the snapshot but m itself. false if it could not. */
static bool send_joined(member *m, const chat_store_member *all, uint32_t n) {
  chat_Joined joined = {.members = calloc(n ? n : 1, sizeof(netfw_str))};
  int err = NETFW_ENOMEM;

  if (joined.members != NULL) {
    for (uint32_t i = 0; i < n; i++)
      if (all[i].seq != m->since)
        joined.members[joined.members_count++] =
            (netfw_str){all[i].nick, all[i].len};
    err = chat_server_send_Joined(m->conn, &joined);
  }
  free(joined.members);
  if (err != 0)
    netfw_log(NETFW_LOG_WARN, "chat: cannot send Joined to '%s': %s", m->nick,
              netfw_strerror(err));
  return err == 0;
}

/* The joined member gets what happened while it was joining, in order. */
static void flush_queue(member *m) {
  while (m->head != NULL && m->conn != NULL) {
    queued *q = m->head;
    m->head = q->next;
    if (q->own)
      said(m->r, m,
           (netfw_str){(const char *)netfw_msg_payload(q->msg),
                       netfw_msg_size(q->msg)});
    else
      deliver(m, q->seq, q->msg);
    netfw_msg_free(q->msg);
    free(q);
  }
  m->tail = NULL;
  m->nqueued = 0;
  m->queued_bytes = 0;
}

/* The store's answer to a join. m was closed meanwhile when m->conn is
 * NULL: then a successful join is announced and undone at once, so that
 * the members whose snapshot has it also see it leave. */
static void on_joined(void *arg, chat_store_status status, uint64_t seq,
                      const chat_store_member *all, uint32_t n) {
  member *m = arg;
  room *r = m->r;

  r->pending--;
  if (status == CHAT_STORE_OK)
    chat_view_snapshot(r->view, seq, all, n);
  if (status == CHAT_STORE_OK && m->conn != NULL) {
    m->joining = false;
    m->since = seq;
    if (!send_joined(m, all, n))
      netfw_conn_shutdown(m->conn); /* a member still: on_closed leaves */
    netfw_log(NETFW_LOG_INFO, "chat: %s joined", m->nick);
    changed(r, m, true, str_of(m->nick), seq, true);
    flush_queue(m);
    return;
  }
  if (status == CHAT_STORE_OK && !r->closing) { /* closed while joining */
    changed(r, m, true, str_of(m->nick), seq, true);
    chat_store_leave(r->store, m->nick, seq, on_left, r);
  }
  if (m->conn != NULL) {
    netfw_conn_set_data(m->conn, NULL);
    if (status == CHAT_STORE_TAKEN)
      refuse(m->conn, CHAT_REFUSAL_NICK_TAKEN);
    else {
      netfw_log(NETFW_LOG_WARN, "chat: cannot join '%s': the room is %s",
                m->nick, status == CHAT_STORE_FULL ? "full" : "unavailable");
      netfw_conn_shutdown(m->conn);
    }
  }
  unlink_member(r, m);
  free_member(m);
}

static void on_join(void *app, netfw_conn *conn, const chat_Join *msg) {
  room *r = app;
  member *m;
  int err;

  if (r == NULL) { /* create() failed (logged): this worker serves nobody */
    netfw_conn_shutdown(conn);
    return;
  }
  if (netfw_conn_data(conn) != NULL || !nick_ok(msg->nick)) {
    refuse(conn, netfw_conn_data(conn) != NULL ? CHAT_REFUSAL_ALREADY_JOINED
                                               : CHAT_REFUSAL_NICK_INVALID);
    return;
  }
  if (r->pending >= PENDING_MAX || (m = calloc(1, sizeof(*m))) == NULL) {
    if (r->joins_refused++ % 1000 == 0) /* one line per 1000 */
      netfw_log(NETFW_LOG_WARN,
                "chat: too many joins in progress: closing (%llu so far)",
                (unsigned long long)r->joins_refused);
    netfw_conn_shutdown(conn);
    return;
  }
  m->r = r;
  m->conn = conn;
  m->joining = true;
  memcpy(m->nick, msg->nick.ptr, msg->nick.len);
  link_member(r, m);
  netfw_conn_set_data(conn, m);
  r->pending++;
  err = chat_store_join(r->store, m->nick, on_joined, m); /* may answer now */
  if (err != 0) {
    r->pending--;
    netfw_log(NETFW_LOG_WARN, "chat: cannot join '%s': the room is %s", m->nick,
              err == CHAT_STORE_FULL ? "full" : "unavailable");
    netfw_conn_set_data(conn, NULL);
    unlink_member(r, m);
    free_member(m);
    netfw_conn_shutdown(conn);
  }
}

/* ---- saying, leaving ---- */

static void on_say(void *app, netfw_conn *conn, const chat_Say *msg) {
  room *r = app;
  member *m = netfw_conn_data(conn);
  netfw_msg *text;

  if (m == NULL) {
    netfw_log(NETFW_LOG_WARN, "Say before Join: closing the connection");
    netfw_conn_shutdown(conn);
    return;
  }
  if (!m->joining) {
    said(r, m, msg->text);
    return;
  }
  text = netfw_msg_new(0); /* said once joined */
  if (text != NULL && netfw_msg_append(text, msg->text.ptr, msg->text.len)) {
    netfw_msg_free(text);
    text = NULL;
  }
  enqueue(m, 0, true, text);
}

/* The member leaves the room, whoever closed the connection. On a stop the
 * store keeps it: the stopping worker's members are swept as a whole. */
static void part(room *r, netfw_conn *conn, netfw_close_reason why) {
  member *m = netfw_conn_data(conn);

  if (m == NULL)
    return;
  netfw_conn_set_data(conn, NULL);
  m->conn = NULL;
  if (m->joining)
    return; /* on_joined frees it */
  unlink_member(r, m);
  if (why != NETFW_CLOSE_STOPPING)
    chat_store_leave(r->store, m->nick, m->since, on_left, r);
  free_member(m);
}

static void on_leave(void *app, netfw_conn *conn, const chat_Leave *msg) {
  (void)msg;
  part(app, conn, NETFW_CLOSE_SHUTDOWN);
  netfw_conn_shutdown(conn); /* on_closed then finds no member */
}

/* The connection is gone, whoever closed it. After this the conn pointer
 * is invalid, so the room must not keep it. */
static void on_closed(void *app, netfw_conn *conn, netfw_close_reason why) {
  if (app != NULL)
    part(app, conn, why);
}

/* ---- the bus: what the other workers tell ---- */

/* A line from another worker: for the members who know its sender. */
static void bus_said(void *app, const char *channel, const chat_bus_Said *m) {
  room *r = app;
  chat_Line line = {.from = m->from, .text = m->text};
  netfw_msg f;

  (void)channel;
  netfw_msg_init(&f, 0);
  if (chat_Line_encode(&line, &f) == 0)
    broadcast(r, NULL,
              chat_view_line_limit(r->view, m->from.ptr, m->from.len, m->since),
              &f);
  netfw_msg_release(&f);
}

static void bus_entered(void *app, const char *channel,
                        const chat_bus_Entered *m) {
  (void)channel;
  changed(app, NULL, true, m->nick, m->seq, false);
}

static void bus_left(void *app, const char *channel, const chat_bus_Left *m) {
  (void)channel;
  changed(app, NULL, false, m->nick, m->seq, false);
}

static const chat_bus_server_app bus_app = {
    .bus_handlers = &(const chat_bus_bus_handlers){
        .on_Said = bus_said, .on_Entered = bus_entered, .on_Left = bus_left}};

/* Every bus message reaches the chat app's on_bus (chat.netproto's messages
 * are never published); chat_bus's typed dispatch decodes it (a malformed
 * one is logged and dropped; an unknown id is dropped). */
static void on_bus(void *app, const char *channel, netfw_msg *msg) {
  if (app != NULL && strcmp(channel, CHANNEL) == 0)
    (void)chat_bus_bus_dispatch(&bus_app, app, channel, msg, NULL);
}

/* ---- the worker ---- */

static void *create(void *context) {
  const chat_config *ctx = context;
  room *r = calloc(1, sizeof(*r));
  int err;

  if (r == NULL || (r->view = chat_view_new()) == NULL) {
    free(r);
    return NULL;
  }
  r->store = chat_config_open_store(ctx, netfw_worker_loop(), &store_events, r);
  if (r->store == NULL) {
    netfw_log(NETFW_LOG_ERROR, "chat: cannot open the membership store");
    chat_view_free(r->view);
    free(r);
    return NULL;
  }
  if ((err = netfw_bus_subscribe(CHANNEL)) != 0)
    netfw_log(NETFW_LOG_WARN, "chat: cannot subscribe to %s: %s", CHANNEL,
              netfw_strerror(err));
  return r;
}

static void destroy(void *app) {
  room *r = app;
  if (r == NULL)
    return;
  r->closing = true;
  chat_store_close(r->store); /* answers what it owes: joins free members */
  while (r->members != NULL) {
    member *m = r->members;
    unlink_member(r, m);
    free_member(m);
  }
  chat_view_free(r->view);
  free(r);
}

int main(int argc, char **argv) {
  static const chat_server_handlers handlers = {
      .on_Join = on_join, .on_Say = on_say, .on_Leave = on_leave};
  example_server_opts opts;
  netfw_config cfg;
  chat_config ctx = {0};
  int status;
  chat_server_app app = {.handlers = &handlers,
                         .create = create,
                         .destroy = destroy,
                         .on_closed = on_closed,
                         .context = &ctx,
                         .on_bus = on_bus};

  if (!chat_config_take_max_members(&argc, argv, &ctx.max_members))
    return 2;
  status = example_server_args(
      argc, argv, "chat_server",
      "One chat room over every worker (--workers) and, with\n"
      "--bus redis://HOST:PORT, over every server on that Redis.\n"
      "  --max-members N        members in the room, 1..65535; a join over\n"
      "                         it is closed (default 10000)\n",
      &opts, NULL);
  if (status >= 0)
    return status;
  if (!chat_config_setup(opts.bus, &ctx))
    return 1;
  chat_server_config_init(&cfg, &app);
  status = example_serve(&opts, &cfg);
  chat_store_table_free(ctx.table);
  return status;
}
