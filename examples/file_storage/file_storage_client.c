/* file_storage_client: talks to file_storage_server (or to netframe's own
 * file-storage server: same bytes). One-shot commands for scripts, or
 * netframe's interactive menu when no command is given. Each request is a
 * generated call (file_storage_call_Add, ...: docs/calls.md), which waits
 * for that request's own reply, typed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "example.h"
#include "file_storage.netfw.h"

enum { REPLY_TIMEOUT_MS = 30000 };

/* Largest file sent: an ADD (name and prefixes included) must fit the
 * server's default 16 MiB payload limit. */
#define MAX_FILE ((long)NETFW_DEFAULT_MAX_PAYLOAD - 512)

static const char *rc_name(file_storage_Rc rc) {
  switch (rc) {
  case FILE_STORAGE_RC_NONE:
    return "NONE (refused)";
  case FILE_STORAGE_RC_OK:
    return "OK";
  case FILE_STORAGE_RC_FILE_EXISTS:
    return "FILE_EXISTS";
  case FILE_STORAGE_RC_FILE_NOT_FOUND:
    return "FILE_NOT_FOUND";
  }
  return "unknown";
}

static void show_hex(const uint8_t *p, uint32_t len) {
  for (uint32_t i = 0; i < len && i < 64; i++)
    printf("%02x%s", p[i], (i % 16 == 15) ? "\n" : " ");
  if (len > 64)
    printf("... (%u bytes in all)\n", len);
  else if (len % 16 != 0)
    printf("\n");
}

typedef struct session {
  netfw_client *c; /* from file_storage_client_new: it makes calls */
  netfw_arena arena; /* the last reply's bytes and arrays */
  bool lost; /* the connection is gone: nothing more can be asked */
} session;

/* Reports a call that ended without a reply (request: "ADD", ...). */
static void call_failed(session *s, const char *request, int err) {
  char what[64];

  /* ECONNRESET, or a reply the client could not match (it then drops the
   * connection: netfw_client_loss says so) */
  s->lost |= err == NETFW_ECONNRESET || netfw_client_loss(s->c) != 0;
  if (err == NETFW_ETIMEDOUT || err == NETFW_ECONNRESET || err == NETFW_EPROTO)
    snprintf(what, sizeof(what), "no valid reply from the server");
  else
    snprintf(what, sizeof(what), "cannot send %s", request);
  example_client_fail(s->c, what, err);
}

static bool name_fits(const char *name) {
  if (strlen(name) == 0 || strlen(name) > 255) {
    fprintf(stderr, "error: a name is 1 to 255 bytes long\n");
    return false;
  }
  return true;
}

static netfw_str str_of(const char *s) {
  netfw_str v = {s, (uint32_t)strlen(s)};
  return v;
}

/* Stores data under name; true when the server answered OK. */
static bool do_put(session *s, const char *name, const uint8_t *data,
                   size_t size) {
  file_storage_Add m = {.filename = str_of(name), .file = {data, (uint32_t)size}};
  file_storage_Add_reply r;
  int err;

  if (!name_fits(name))
    return false;
  err = file_storage_call_Add(s->c, &m, &r, &s->arena, REPLY_TIMEOUT_MS);
  if (err != 0) {
    call_failed(s, "ADD", err);
    return false;
  }
  if (r.as.Ack.rc != FILE_STORAGE_RC_OK) { /* Ack is Add's only reply */
    fprintf(stderr, "error: %s not stored: %s\n", name, rc_name(r.as.Ack.rc));
    return false;
  }
  printf("stored %s (%zu bytes)\n", name, size);
  return true;
}

/* Fetches name into out (NULL: hex on stdout) and its length into *size;
 * true on GET_RESP. */
static bool do_get(session *s, const char *name, FILE *out, uint32_t *size) {
  file_storage_Get m = {.filename = str_of(name)};
  file_storage_Get_reply r;
  const file_storage_GetResp *g = &r.as.GetResp;
  int err;

  *size = 0;
  if (!name_fits(name))
    return false;
  err = file_storage_call_Get(s->c, &m, &r, &s->arena, REPLY_TIMEOUT_MS);
  if (err != 0) {
    call_failed(s, "GET", err);
    return false;
  }
  if (r.id == FILE_STORAGE_ACK_ID) { /* refused: Get's other reply */
    fprintf(stderr, "error: %s not fetched: %s\n", name, rc_name(r.as.Ack.rc));
    return false;
  }
  if (out == NULL) {
    show_hex(g->file.ptr, g->file.len);
  } else if (g->file.len > 0 &&
             fwrite(g->file.ptr, 1, g->file.len, out) != g->file.len) {
    fprintf(stderr, "error: cannot write %s: %s\n", name, strerror(errno));
    return false;
  }
  *size = g->file.len;
  return true;
}

static bool do_del(session *s, const char *name) {
  file_storage_Del m = {.filename = str_of(name)};
  file_storage_Del_reply r;
  int err;

  if (!name_fits(name))
    return false;
  err = file_storage_call_Del(s->c, &m, &r, &s->arena, REPLY_TIMEOUT_MS);
  if (err != 0) {
    call_failed(s, "DEL", err);
    return false;
  }
  if (r.as.Ack.rc != FILE_STORAGE_RC_OK) {
    fprintf(stderr, "error: %s not deleted: %s\n", name,
            rc_name(r.as.Ack.rc));
    return false;
  }
  printf("deleted %s\n", name);
  return true;
}

static bool do_list(session *s) {
  file_storage_List m = {0};
  file_storage_List_reply r;
  const file_storage_ListResp *l = &r.as.ListResp;
  int err;

  err = file_storage_call_List(s->c, &m, &r, &s->arena, REPLY_TIMEOUT_MS);
  if (err != 0) {
    call_failed(s, "LIST", err);
    return false;
  }
  for (uint32_t i = 0; i < l->files_count; i++)
    printf("%10u  %.*s\n", l->files[i].size, (int)l->files[i].name.len,
           l->files[i].name.ptr);
  printf("%u file%s\n", l->files_count, l->files_count == 1 ? "" : "s");
  return true;
}

/* Reads a whole file (at most 16 MiB: the server's default limit). */
static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  long len = 0;

  if (f == NULL) {
    fprintf(stderr, "error: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "error: cannot read %s\n", path);
  } else if (len > MAX_FILE) {
    fprintf(stderr, "error: %s is larger than the 16 MiB message limit\n", path);
  } else if ((buf = malloc(len > 0 ? (size_t)len : 1)) != NULL &&
             fread(buf, 1, (size_t)len, f) != (size_t)len) {
    fprintf(stderr, "error: cannot read %s\n", path);
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = buf != NULL ? (size_t)len : 0;
  return buf;
}

static bool do_get_stdout(session *s, const char *name) {
  uint32_t size;
  return do_get(s, name, stdout, &size);
}

/* Fetches name into path through a temporary file renamed on success, so a
 * failed GET leaves an existing file as it was. */
static int get_into(session *s, const char *name, const char *path) {
  char tmp[4096];
  FILE *out;
  uint32_t size;
  bool ok;

  if (snprintf(tmp, sizeof(tmp), "%s.part-%ld", path, (long)getpid()) >=
      (int)sizeof(tmp)) {
    fprintf(stderr, "error: path too long: %s\n", path);
    return 1;
  }
  if ((out = fopen(tmp, "wb")) == NULL) {
    fprintf(stderr, "error: cannot create %s: %s\n", tmp, strerror(errno));
    return 1;
  }
  ok = do_get(s, name, out, &size);
  if (fclose(out) != 0)
    ok = false;
  if (ok && rename(tmp, path) != 0) {
    fprintf(stderr, "error: cannot write %s: %s\n", path, strerror(errno));
    ok = false;
  }
  if (!ok) {
    remove(tmp);
    return 1;
  }
  printf("got %s (%u bytes) into %s\n", name, size, path);
  return 0;
}

/* True when argv is a command one_shot() knows, with its argument count. */
static bool command_ok(int argc, char **argv) {
  const char *cmd = argv[0];
  return (strcmp(cmd, "put") == 0 && argc == 3) ||
         (strcmp(cmd, "get") == 0 && (argc == 2 || argc == 3)) ||
         (strcmp(cmd, "del") == 0 && argc == 2) ||
         (strcmp(cmd, "ls") == 0 && argc == 1);
}

static int one_shot(session *s, int argc, char **argv) {
  const char *cmd = argv[0];

  if (strcmp(cmd, "put") == 0 && argc == 3) {
    size_t size;
    uint8_t *data = read_file(argv[2], &size);
    bool ok = data != NULL && do_put(s, argv[1], data, size);
    free(data);
    return ok ? 0 : 1;
  }
  if (strcmp(cmd, "get") == 0 && (argc == 2 || argc == 3))
    return argc == 3 ? get_into(s, argv[1], argv[2]) : !do_get_stdout(s, argv[1]);
  if (strcmp(cmd, "del") == 0)
    return do_del(s, argv[1]) ? 0 : 1;
  return do_list(s) ? 0 : 1; /* "ls": command_ok() let nothing else in */
}

/* netframe's menu: 1 store random bytes, 2 get (hex), 3 delete, 4 list,
 * 5 quit. Reads stdin line by line, so it can be scripted. */
static int menu(session *s) {
  char line[512];
  unsigned seed = (unsigned)time(NULL);
  int failures = 0;

  printf("1 <name> <len>  store <len> random bytes as <name>\n"
         "2 <name>        get <name> and show it in hex\n"
         "3 <name>        delete <name>\n"
         "4               list files\n"
         "5               quit\n");
  for (;;) {
    char name[300];
    long len;
    int choice;
    printf("> ");
    fflush(stdout);
    if (fgets(line, sizeof(line), stdin) == NULL)
      break;
    if (sscanf(line, "%d", &choice) != 1) {
      printf("choose 1-5\n");
      continue;
    }
    if (choice == 5)
      break;
    if (choice == 1 && sscanf(line, "%*d %299s %ld", name, &len) == 2 && len >= 0 &&
        len <= MAX_FILE) {
      uint8_t *data = malloc(len > 0 ? (size_t)len : 1);
      if (data == NULL)
        return 1;
      for (long i = 0; i < len; i++)
        data[i] = (uint8_t)rand_r(&seed);
      failures += !do_put(s, name, data, (size_t)len);
      free(data);
    } else if (choice == 2 && sscanf(line, "%*d %299s", name) == 1) {
      uint32_t size;
      failures += !do_get(s, name, NULL, &size);
    } else if (choice == 3 && sscanf(line, "%*d %299s", name) == 1) {
      failures += !do_del(s, name);
    } else if (choice == 4) {
      failures += !do_list(s);
    } else {
      printf("usage: 1 <name> <len> (len at most %ld) | 2 <name> | 3 <name> | "
             "4 | 5\n", MAX_FILE);
    }
    if (s->lost) {
      printf("the connection is lost: quitting\n");
      return 1;
    }
  }
  return failures == 0 ? 0 : 1;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: file_storage_client [--ip ADDR] [--port N] [--tls]\n"
          "       [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]\n"
          "       [--tls-server-name NAME] [COMMAND]\n"
          "  --ip ADDR              server address (default 127.0.0.1)\n"
          "  --port N               server port (default 54314)\n");
  example_client_tls_usage(out);
  fprintf(out,
          "commands:\n"
          "  put NAME FILE       store FILE's bytes as NAME\n"
          "  get NAME [OUTFILE]  fetch NAME into OUTFILE (default stdout)\n"
          "  del NAME            delete NAME\n"
          "  ls                  list stored files with their sizes\n"
          "Without a command: an interactive menu read from stdin.\n"
          "Exit status 0 on success, 1 on a refused request or an error,\n"
          "2 on wrong arguments.\n");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"ip", required_argument, NULL, 'i'},
      {"port", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      EXAMPLE_CLIENT_TLS_LONGOPTS,
      {NULL, 0, NULL, 0}};
  const char *ip = "127.0.0.1";
  long port = NETFW_DEFAULT_PORT;
  session s = {0};
  example_client_tls tls = {0};
  int c, rc;

  while ((c = getopt_long(argc, argv, "+i:p:h", longopts, NULL)) != -1) {
    if (c == 'h') {
      usage(stdout);
      return 0;
    }
    if (c == 'i')
      ip = optarg;
    else if (example_client_tls_opt(&tls, c, optarg))
      continue;
    else if (c != 'p' || !example_parse_int("--port", optarg, 1, 65535, &port)) {
      usage(stderr);
      return 2;
    }
  }
  if (!example_client_tls_check(&tls)) {
    usage(stderr);
    return 2;
  }
  if (optind < argc && !command_ok(argc - optind, argv + optind)) {
    fprintf(stderr, "error: unknown command or wrong arguments: %s\n",
            argv[optind]);
    usage(stderr);
    return 2;
  }
  s.c = example_connect_with(file_storage_client_new(), ip, (uint16_t)port,
                             &tls);
  if (s.c == NULL)
    return 1;
  netfw_arena_init(&s.arena);
  rc = optind < argc ? one_shot(&s, argc - optind, argv + optind) : menu(&s);
  netfw_client_shutdown(s.c, 5000);
  netfw_client_free(s.c);
  netfw_arena_free(&s.arena);
  return rc;
}
