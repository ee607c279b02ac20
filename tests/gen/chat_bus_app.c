/* A chat room across workers and servers, as an app writes it on the code
 * netfw-gen makes from protocols/chat.netproto: Say is published on the
 * room's bus channel and every worker relays the Line to its own members.
 * gen_cli_test.sh compiles it (not links it) with -Werror by gcc and clang,
 * to keep the generated bus API usable under strict warnings. */
#include <stdlib.h>
#include <string.h>

#include "chat.netfw.h"

#define ROOM "chat/lobby"
#define MAX_MEMBERS 64

typedef struct member {
  netfw_conn *conn;
  char nick[32];
} member;

typedef struct room {
  member members[MAX_MEMBERS];
  int count;
} room;

/* Subscribes this worker to the room; returns the room, or NULL. */
static void *room_create(void *context) {
  room *r = calloc(1, sizeof(*r));
  (void)context;
  if (r != NULL && netfw_bus_subscribe(ROOM) != 0) {
    free(r);
    return NULL;
  }
  return r;
}

/* Frees the room. */
static void room_destroy(void *app) {
  free(app);
}

/* Returns the member on conn, or NULL. */
static member *find(room *r, const netfw_conn *conn) {
  for (int i = 0; i < r->count; i++)
    if (r->members[i].conn == conn)
      return &r->members[i];
  return NULL;
}

/* Admits a nickname that fits, answering Joined or Refused. */
static void on_join(void *app, netfw_conn *conn, const chat_Join *m) {
  room *r = app;
  chat_Joined joined = {NULL, 0};
  chat_Refused refused = {CHAT_REFUSAL_NICK_INVALID};

  if (m->nick.len == 0 || m->nick.len >= sizeof(r->members[0].nick) ||
      r->count == MAX_MEMBERS) {
    (void)chat_server_send_Refused(conn, &refused);
    return;
  }
  r->members[r->count].conn = conn;
  memcpy(r->members[r->count].nick, m->nick.ptr, m->nick.len);
  r->members[r->count].nick[m->nick.len] = '\0';
  r->count++;
  (void)chat_server_send_Joined(conn, &joined);
}

/* Publishes what a member says to every worker of the room, this one too. */
static void on_say(void *app, netfw_conn *conn, const chat_Say *m) {
  const member *who = find(app, conn);
  chat_Line line;

  if (who == NULL)
    return;
  line.from.ptr = who->nick;
  line.from.len = (uint32_t)strlen(who->nick);
  line.text = m->text;
  if (chat_publish_Line(ROOM, &line, NETFW_BUS_ECHO) != 0)
    netfw_log(NETFW_LOG_WARN, "chat: a line from %s was not published",
              who->nick);
}

/* Relays a published line to this worker's members but its author. */
static void on_bus_line(void *app, const char *channel, const chat_Line *m) {
  room *r = app;
  (void)channel;
  for (int i = 0; i < r->count; i++)
    if (strlen(r->members[i].nick) != m->from.len ||
        memcmp(r->members[i].nick, m->from.ptr, m->from.len) != 0)
      (void)chat_server_send_Line(r->members[i].conn, m);
}

/* Logs what the room does not know. */
static void on_bus_other(void *app, const char *channel, netfw_msg *msg) {
  (void)app;
  netfw_log(NETFW_LOG_INFO, "chat: message %u on %s ignored",
            (unsigned)netfw_msg_id(msg), channel);
}

/* Forgets a member that left. */
static void on_closed(void *app, netfw_conn *conn, netfw_close_reason why) {
  room *r = app;
  member *m = find(r, conn);
  (void)why;
  if (m != NULL)
    *m = r->members[--r->count];
}

static const chat_server_handlers handlers = {.on_Join = on_join,
                                              .on_Say = on_say};
static const chat_bus_handlers bus_handlers = {.on_Line = on_bus_line};

const chat_server_app chat_room_app = {.handlers = &handlers,
                                       .create = room_create,
                                       .destroy = room_destroy,
                                       .on_closed = on_closed,
                                       .bus_handlers = &bus_handlers,
                                       .on_bus = on_bus_other};
