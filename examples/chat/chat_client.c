/* chat_client: a line-oriented terminal client for chat_server. Lines typed
 * on stdin are said to the room; what others say, and who joins and leaves,
 * is printed as it arrives. "/quit" or end of input leaves the room.
 *
 * Two threads share one netfw_client, the combination netfw supports: this
 * one sends, a receiver thread blocks in recv. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.netfw.h"
#include "example.h"

enum { JOIN_TIMEOUT_MS = 10000, LEAVE_TIMEOUT_MS = 5000, POLL_MS = 200 };

typedef struct chat {
  netfw_client *c;
  netfw_arena arena; /* the receiver thread's */
  int joined;        /* 1 joined, -1 refused */
  chat_Refusal why;
  atomic_bool leaving;
} chat;

static void on_joined(void *user, const chat_Joined *m) {
  chat *ch = user;
  ch->joined = 1;
  printf("* in the room:");
  for (uint32_t i = 0; i < m->members_count; i++)
    printf(" %.*s", (int)m->members[i].len, m->members[i].ptr);
  printf(m->members_count == 0 ? " nobody else yet\n" : "\n");
}

static void on_refused(void *user, const chat_Refused *m) {
  chat *ch = user;
  ch->joined = -1;
  ch->why = m->reason;
}

static void on_line(void *user, const chat_Line *m) {
  (void)user;
  printf("<%.*s> %.*s\n", (int)m->from.len, m->from.ptr, (int)m->text.len,
         m->text.ptr);
}

static void on_member_joined(void *user, const chat_MemberJoined *m) {
  (void)user;
  printf("* %.*s joined\n", (int)m->nick.len, m->nick.ptr);
}

static void on_member_left(void *user, const chat_MemberLeft *m) {
  (void)user;
  printf("* %.*s left\n", (int)m->nick.len, m->nick.ptr);
}

static const chat_client_handlers handlers = {
    .on_Joined = on_joined,
    .on_Refused = on_refused,
    .on_Line = on_line,
    .on_MemberJoined = on_member_joined,
    .on_MemberLeft = on_member_left,
};

/* Prints what arrives until the server closes the connection (after our
 * Leave, or because it stopped), or until leaving takes too long. */
static void *receiver(void *arg) {
  chat *ch = arg;
  int waited = 0;

  for (;;) {
    int err = chat_client_recv(ch->c, &handlers, ch, &ch->arena, POLL_MS);
    fflush(stdout);
    if (err == NETFW_ECONNRESET) {
      if (!atomic_load(&ch->leaving)) {
        /* nothing more can be said: leave now rather than wait for the
         * next line of input (_exit: the main thread is inside fgets) */
        printf("* the server closed the connection\n");
        fflush(stdout);
        _exit(1);
      }
      break;
    }
    if (err == NETFW_ETIMEDOUT && atomic_load(&ch->leaving) &&
        (waited += POLL_MS) >= LEAVE_TIMEOUT_MS)
      break;
  }
  fflush(stdout);
  return NULL;
}

static const char *refusal_text(chat_Refusal why) {
  switch (why) {
  case CHAT_REFUSAL_NICK_TAKEN:
    return "the nickname is taken";
  case CHAT_REFUSAL_NICK_INVALID:
    return "the nickname is invalid (1-32 bytes, no spaces)";
  case CHAT_REFUSAL_ALREADY_JOINED:
    return "already joined";
  }
  return "refused";
}

/* Sends Join and waits for Joined or Refused. */
static bool join(chat *ch, const char *nick) {
  chat_Join j = {.nick = {nick, (uint32_t)strlen(nick)}};
  int err = chat_client_send_Join(ch->c, &j);

  while (err == 0 && ch->joined == 0)
    err = chat_client_recv(ch->c, &handlers, ch, &ch->arena, JOIN_TIMEOUT_MS);
  if (err != 0)
    fprintf(stderr, "error: joining failed: %s\n", netfw_strerror(err));
  else if (ch->joined < 0)
    fprintf(stderr, "error: %s\n", refusal_text(ch->why));
  fflush(stdout);
  return err == 0 && ch->joined > 0;
}

static void say_lines(chat *ch) {
  char line[4096];

  while (fgets(line, sizeof(line), stdin) != NULL) {
    chat_Say s;
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "/quit") == 0)
      break;
    if (line[0] == '\0')
      continue;
    if (line[0] == '/') {
      printf("* unknown command %s (/quit leaves)\n", line);
      fflush(stdout);
      continue;
    }
    s.text.ptr = line;
    s.text.len = (uint32_t)strlen(line);
    if (chat_client_send_Say(ch->c, &s) != 0)
      break; /* the receiver reports the lost connection */
  }
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"ip", required_argument, NULL, 'i'},
      {"port", required_argument, NULL, 'p'},
      {"nick", required_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *ip = "127.0.0.1", *nick = NULL;
  long port = NETFW_DEFAULT_PORT;
  chat ch = {0};
  pthread_t rx;
  chat_Leave leave = {0};
  int c;

  while ((c = getopt_long(argc, argv, "i:p:n:h", longopts, NULL)) != -1) {
    if (c == 'i')
      ip = optarg;
    else if (c == 'n')
      nick = optarg;
    else if (c == 'p' && example_parse_int("--port", optarg, 1, 65535, &port))
      continue;
    else {
      fprintf(c == 'h' ? stdout : stderr,
              "usage: chat_client [--ip ADDR] [--port N] --nick NAME\n"
              "Type lines to say them; /quit or end of input leaves.\n");
      return c == 'h' ? 0 : 2;
    }
  }
  if (nick == NULL || optind != argc) {
    fprintf(stderr, "error: --nick NAME is required\n");
    return 2;
  }
  if ((ch.c = example_connect(ip, (uint16_t)port)) == NULL)
    return 1;
  netfw_arena_init(&ch.arena);
  if (!join(&ch, nick)) {
    netfw_client_free(ch.c);
    netfw_arena_free(&ch.arena);
    return 1;
  }
  pthread_create(&rx, NULL, receiver, &ch);
  say_lines(&ch);
  atomic_store(&ch.leaving, true);
  chat_client_send_Leave(ch.c, &leave);
  pthread_join(rx, NULL);
  netfw_client_shutdown(ch.c, 1000);
  netfw_client_free(ch.c);
  netfw_arena_free(&ch.arena);
  return 0;
}
