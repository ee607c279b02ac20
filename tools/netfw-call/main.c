/* netfw-call: sends one message described by a .netproto schema, written
 * as JSON, to a netfw server and prints its replies as JSON lines; or
 * requests from stdin lines (--stream); or lists and describes the
 * schema (--list, --describe). docs/netfw-call.md.
 *
 * Exit status: 0 success, 1 no reply / too few / connection error / a
 * reply the schema refuses, 2 usage, schema or request error. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "netfw/log.h"
#include "netfw/version.h"

static const char usage[] =
    "usage: netfw-call --proto FILE [--ip IP] --port N [TLS options]\n"
    "                  [--count N] [--timeout MS] MESSAGE ['JSON'|@FILE|-]\n"
    "       netfw-call --proto FILE [--ip IP] --port N [TLS options]\n"
    "                  [--timeout MS] --stream\n"
    "       netfw-call --proto FILE --list\n"
    "       netfw-call --proto FILE --describe NAME | --describe-schema\n"
    "\n"
    "Sends MESSAGE of the schema FILE with the fields JSON (default {})\n"
    "to the netfw server at IP:N and prints each reply as one JSON line\n"
    "(@FILE: the JSON read from FILE; -: read from stdin; 64 MiB at most):\n"
    "{\"message\":\"Ack\",\"id\":7,\"fields\":{\"rc\":\"OK\"}}\n"
    "\n"
    "  --proto FILE      the .netproto schema (read at run time)\n"
    "  --ip IP           the server's address or host name "
    "(default 127.0.0.1)\n"
    "  --port N          the server's port\n"
    "  --count N         replies to wait for (default 1); 0: print replies\n"
    "                    until none comes within the timeout\n"
    "  --timeout MS      the longest wait for a reply, and for the connect\n"
    "                    (default 5000)\n"
    "  --stream          send one request per stdin line,\n"
    "                    {\"message\":\"Get\",\"fields\":{...}}, and print "
    "the\n"
    "                    replies as they come; after stdin ends, wait until\n"
    "                    no reply came for --timeout MS\n"
    "  --list            list the schema's messages, structs and enums\n"
    "  --describe NAME   print a message, struct or enum as schema source\n"
    "                    (the protocol's name: the whole schema, unless\n"
    "                    a declaration has that name)\n"
    "  --describe-schema print the whole schema as source\n"
    "  --tls             connect with TLS, verifying the server against the\n"
    "                    system's trust store\n"
    "  --tls-ca FILE     TLS, trusting the PEM CAs in FILE instead\n"
    "  --tls-cert FILE   TLS, presenting this PEM certificate\n"
    "  --tls-key FILE    and its key (mutual TLS; both or neither)\n"
    "  --tls-server-name NAME\n"
    "                    TLS, sending NAME (SNI) and requiring the server's\n"
    "                    certificate to match it (default: the --ip given)\n"
    "  --version         print the version and exit\n"
    "  --help            print this help and exit\n"
    "\n"
    "Exit status: 0 success; 1 no reply (or fewer than --count) within the\n"
    "timeout, connection refused or lost, or a reply the schema refuses;\n"
    "2 bad usage, a schema error, an unknown message or one the client may\n"
    "not send, or JSON that does not match the schema.\n";

enum {
  OPT_PROTO = 0x100,
  OPT_IP,
  OPT_PORT,
  OPT_COUNT,
  OPT_TIMEOUT,
  OPT_STREAM,
  OPT_LIST,
  OPT_DESCRIBE,
  OPT_DESCRIBE_SCHEMA,
  OPT_TLS,
  OPT_TLS_CA,
  OPT_TLS_CERT,
  OPT_TLS_KEY,
  OPT_TLS_SERVER_NAME,
  OPT_VERSION,
  OPT_HELP
};

static const struct option longopts[] = {
    {"proto", required_argument, NULL, OPT_PROTO},
    {"ip", required_argument, NULL, OPT_IP},
    {"port", required_argument, NULL, OPT_PORT},
    {"count", required_argument, NULL, OPT_COUNT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"stream", no_argument, NULL, OPT_STREAM},
    {"list", no_argument, NULL, OPT_LIST},
    {"describe", required_argument, NULL, OPT_DESCRIBE},
    {"describe-schema", no_argument, NULL, OPT_DESCRIBE_SCHEMA},
    {"tls", no_argument, NULL, OPT_TLS},
    {"tls-ca", required_argument, NULL, OPT_TLS_CA},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"tls-server-name", required_argument, NULL, OPT_TLS_SERVER_NAME},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/* Prints "netfw-call: <what>" and a hint; returns CALL_USAGE. */
static int usage_error(const char *what, const char *arg) {
  fprintf(stderr, "netfw-call: %s%s\n", what, arg != NULL ? arg : "");
  fprintf(stderr, "(netfw-call --help tells how to use it)\n");
  return CALL_USAGE;
}

/* Parses a decimal integer in [min, max] from text into *out; false
 * after a message naming the option. */
static bool number(const char *opt, const char *text, long min, long max,
                   long *out) {
  char *end = NULL;
  long v = -1;

  errno = 0;
  if (text[0] >= '0' && text[0] <= '9')
    v = strtol(text, &end, 10);
  if (end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
    fprintf(stderr, "netfw-call: %s takes a number from %ld to %ld, not '%s'\n",
            opt, min, max, text);
    fprintf(stderr, "(netfw-call --help tells how to use it)\n");
    return false;
  }
  *out = v;
  return true;
}

/* Stores a --tls* option in o (any of them turns TLS on); false when
 * code is none of them. */
static bool set_tls_option(call_opts *o, int code, const char *arg) {
  const char **slot = code == OPT_TLS_CA            ? &o->tls_ca
                      : code == OPT_TLS_CERT        ? &o->tls_cert
                      : code == OPT_TLS_KEY         ? &o->tls_key
                      : code == OPT_TLS_SERVER_NAME ? &o->tls_server_name
                                                    : NULL;
  if (slot == NULL && code != OPT_TLS)
    return false;
  if (slot != NULL)
    *slot = arg;
  o->tls = true;
  return true;
}

/* Stores --ip arg in o: not empty; "[::1]" taken as "::1" (arg is
 * changed in place). Returns -1 to go on, else CALL_USAGE. */
static int set_ip(call_opts *o, char *arg) {
  size_t n = strlen(arg);

  if (n >= 2 && arg[0] == '[' && arg[n - 1] == ']') {
    arg[n - 1] = '\0';
    arg++;
  }
  if (arg[0] == '\0')
    return usage_error("--ip takes an address or a host name, not ''", NULL);
  o->ip = arg;
  return -1;
}

/* Stores option code (argument arg) in o. Returns -1 to go on, else an
 * exit status (after --help, --version or a message). */
static int set_option(call_opts *o, int code, char *arg) {
  if (set_tls_option(o, code, arg))
    return -1;
  switch (code) {
  case OPT_PROTO:
    o->proto = arg;
    break;
  case OPT_IP:
    return set_ip(o, arg);
  case OPT_PORT:
    return number("--port", arg, 1, 65535, &o->port) ? -1 : CALL_USAGE;
  case OPT_COUNT:
    o->count_given = true;
    return number("--count", arg, 0, INT_MAX, &o->count) ? -1 : CALL_USAGE;
  case OPT_TIMEOUT:
    return number("--timeout", arg, 1, INT_MAX, &o->timeout_ms) ? -1
                                                                : CALL_USAGE;
  case OPT_STREAM:
    o->stream = true;
    break;
  case OPT_LIST:
    o->list = true;
    break;
  case OPT_DESCRIBE:
    o->describe = arg;
    break;
  case OPT_DESCRIBE_SCHEMA:
    o->describe_schema = true;
    break;
  case OPT_VERSION:
    printf("netfw-call %s\n", NETFW_VERSION_STRING);
    return CALL_OK;
  case OPT_HELP:
    fputs(usage, stdout);
    return CALL_OK;
  default:
    return CALL_USAGE;
  }
  return -1;
}

/* The positional arguments MESSAGE ['JSON'] into o. Returns -1 to go on,
 * else CALL_USAGE after a message. */
static int set_operands(call_opts *o, int n, char **args) {
  if (n > 2)
    return usage_error("too many arguments from ", args[2]);
  if (n >= 1)
    o->message = args[0];
  if (n == 2)
    o->json = args[1];
  return -1;
}

/* Checks the options go together. Returns -1 to go on, else CALL_USAGE
 * after a message. */
static int check_options(const call_opts *o) {
  int modes = o->list + (o->describe != NULL) + o->describe_schema +
              o->stream + (o->message != NULL);

  if (o->proto == NULL)
    return usage_error("--proto FILE is required", NULL);
  if (modes == 0)
    return usage_error("nothing to do: give a MESSAGE, --stream, --list, "
                       "--describe NAME or --describe-schema",
                       NULL);
  if (modes > 1)
    return usage_error("MESSAGE, --stream, --list and --describe go one at "
                       "a time",
                       NULL);
  if (o->list || o->describe != NULL || o->describe_schema)
    return -1;
  if (o->port == 0)
    return usage_error("--port N is required to send", NULL);
  if (o->stream && o->count_given)
    return usage_error("--count does not apply to --stream (it waits "
                       "--timeout MS after stdin ends)",
                       NULL);
  if ((o->tls_cert == NULL) != (o->tls_key == NULL))
    return usage_error("--tls-cert and --tls-key go together", NULL);
  return -1;
}

/* Parses the command line into o. Returns -1 to go on, else an exit
 * status. */
static int parse_args(call_opts *o, int argc, char **argv) {
  int code, status;

  opterr = 0;
  while ((code = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (code == 'h')
      code = OPT_HELP;
    if (code == '?')
      return usage_error(optopt >= OPT_PROTO ? "missing argument for "
                                             : "unknown option ",
                         argv[optind - 1]);
    status = set_option(o, code, optarg);
    if (status >= 0)
      return status;
  }
  status = set_operands(o, argc - optind, argv + optind);
  return status >= 0 ? status : check_options(o);
}

/* Drops the runtime's log lines: netfw-call says what went wrong itself
 * (with netfw_client_error's words). */
static void no_log(netfw_log_level level, const char *line, void *arg) {
  (void)level;
  (void)line;
  (void)arg;
}

int main(int argc, char **argv) {
  call_opts o = {.ip = "127.0.0.1",
                 .count = 1,
                 .timeout_ms = CALL_DEFAULT_TIMEOUT_MS,
                 .json = "{}"};
  call_schema s;
  int status = parse_args(&o, argc, argv);

  if (status >= 0)
    return status;
  if (getenv("NETFW_LOG_LEVEL") == NULL) /* set: the runtime's lines too */
    netfw_log_set_sink(no_log, NULL);
  status = call_schema_load(&s, o.proto);
  if (status != 0)
    return status;
  if (o.list)
    status = call_list(&s);
  else if (o.describe != NULL)
    status = call_describe(&s, o.describe);
  else if (o.describe_schema)
    status = call_describe_schema(&s);
  else if (o.stream)
    status = call_stream(&o, &s);
  else
    status = call_run(&o, &s);
  call_schema_free(&s);
  if (fflush(stdout) != 0 && status == CALL_OK)
    status = CALL_FAIL;
  return status;
}
