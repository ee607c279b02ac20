/* chat_server: one chat room. Members join with a nickname (duplicates are
 * refused), say lines that every other member receives with the sender's
 * name, and are told when others join and leave.
 *
 * The room lives in one worker process: netfw workers cannot reach each
 * other's connections, so run it with --workers 1 (the default here). Each
 * member's state hangs off its connection (netfw_conn_set_data) and is freed
 * in on_closed, which netfw calls for every end of a connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.netfw.h"
#include "example.h"

#define NICK_MAX 32

typedef struct member {
  netfw_conn *conn;
  char nick[NICK_MAX + 1];
  struct member *prev, *next;
} member;

typedef struct room {
  member *members; /* in joining order: newest last */
  member *last;
  uint32_t count;
} room;

static void *create(void *context) {
  (void)context;
  return calloc(1, sizeof(room));
}

static void unlink_member(room *r, member *m) {
  if (m->prev != NULL)
    m->prev->next = m->next;
  else
    r->members = m->next;
  if (m->next != NULL)
    m->next->prev = m->prev;
  else
    r->last = m->prev;
  r->count--;
}

static void destroy(void *app) {
  room *r = app;
  while (r->members != NULL) {
    member *m = r->members;
    unlink_member(r, m);
    free(m);
  }
  free(r);
}

static bool nick_ok(netfw_str nick) {
  if (nick.len == 0 || nick.len > NICK_MAX)
    return false;
  for (uint32_t i = 0; i < nick.len; i++) {
    unsigned char ch = (unsigned char)nick.ptr[i];
    if (ch <= ' ' || ch == 0x7f)
      return false;
  }
  return true;
}

static member *find(room *r, netfw_str nick) {
  for (member *m = r->members; m != NULL; m = m->next)
    if (strlen(m->nick) == nick.len && memcmp(m->nick, nick.ptr, nick.len) == 0)
      return m;
  return NULL;
}

static netfw_str str_of(const char *s) {
  netfw_str v = {s, (uint32_t)strlen(s)};
  return v;
}

/* Tells every member but `except` that nick joined or left. */
static void announce(room *r, const member *except, const char *nick,
                     bool joined) {
  for (member *m = r->members; m != NULL; m = m->next) {
    if (m == except)
      continue;
    if (joined) {
      chat_MemberJoined j = {.nick = str_of(nick)};
      chat_send_MemberJoined(m->conn, &j);
    } else {
      chat_MemberLeft l = {.nick = str_of(nick)};
      chat_send_MemberLeft(m->conn, &l);
    }
  }
}

static void refuse(netfw_conn *conn, chat_Refusal why) {
  chat_Refused r = {.reason = why};
  chat_send_Refused(conn, &r);
}

static void on_join(void *app, netfw_conn *conn, const chat_Join *msg) {
  room *r = app;
  chat_Joined joined;
  member *m;
  uint32_t i = 0;

  if (netfw_conn_data(conn) != NULL || !nick_ok(msg->nick) ||
      find(r, msg->nick) != NULL) {
    refuse(conn, netfw_conn_data(conn) != NULL ? CHAT_REFUSAL_ALREADY_JOINED
                 : !nick_ok(msg->nick)         ? CHAT_REFUSAL_NICK_INVALID
                                               : CHAT_REFUSAL_NICK_TAKEN);
    return;
  }
  if (r->count >= UINT16_MAX || (m = calloc(1, sizeof(*m))) == NULL) {
    netfw_conn_shutdown(conn);
    return;
  }
  /* who was already there, before adding the newcomer */
  joined.members = calloc(r->count ? r->count : 1, sizeof(netfw_str));
  if (joined.members == NULL) {
    free(m);
    netfw_conn_shutdown(conn);
    return;
  }
  for (member *o = r->members; o != NULL; o = o->next)
    joined.members[i++] = str_of(o->nick);
  joined.members_count = i;
  chat_send_Joined(conn, &joined);
  free(joined.members);

  m->conn = conn;
  memcpy(m->nick, msg->nick.ptr, msg->nick.len);
  m->prev = r->last;
  if (r->last != NULL)
    r->last->next = m;
  else
    r->members = m;
  r->last = m;
  r->count++;
  netfw_conn_set_data(conn, m);
  announce(r, m, m->nick, true);
}

static void on_say(void *app, netfw_conn *conn, const chat_Say *msg) {
  room *r = app;
  member *from = netfw_conn_data(conn);
  chat_Line line;

  if (from == NULL) {
    netfw_log(NETFW_LOG_WARN, "Say before Join: closing the connection");
    netfw_conn_shutdown(conn);
    return;
  }
  line.from = str_of(from->nick);
  line.text = msg->text;
  for (member *m = r->members; m != NULL; m = m->next)
    if (m != from)
      chat_send_Line(m->conn, &line);
}

/* The member leaves the room, whoever closed the connection. */
static void part(room *r, netfw_conn *conn) {
  member *m = netfw_conn_data(conn);
  if (m == NULL)
    return;
  netfw_conn_set_data(conn, NULL);
  unlink_member(r, m);
  announce(r, m, m->nick, false);
  free(m);
}

static void on_leave(void *app, netfw_conn *conn, const chat_Leave *msg) {
  (void)msg;
  part(app, conn);
  netfw_conn_shutdown(conn); /* on_closed then finds no member */
}

/* The connection is gone, whoever closed it (the peer, a protocol error, a
 * limit, the server stopping): the member leaves. After this the conn
 * pointer is invalid, so the room must not keep it. */
static void on_closed(void *app, netfw_conn *conn, netfw_close_reason why) {
  (void)why;
  part(app, conn);
}

static const chat_server_handlers handlers = {
    .on_Join = on_join, .on_Say = on_say, .on_Leave = on_leave};

int main(int argc, char **argv) {
  chat_server_app app = {.handlers = &handlers,
                         .create = create,
                         .destroy = destroy,
                         .on_closed = on_closed};
  example_server_opts opts;
  netfw_config cfg;
  int status = example_server_args(
      argc, argv, "chat_server",
      "One chat room. The room lives in one worker process: --workers 1.\n",
      &opts, NULL);

  if (status >= 0)
    return status;
  if (opts.workers != 1) {
    fprintf(stderr, "error: the room lives in one worker: use --workers 1\n");
    return 2;
  }
  chat_server_config_init(&cfg, &app);
  return example_serve(&opts, &cfg);
}
