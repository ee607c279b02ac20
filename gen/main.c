/* netfw-gen: compiles a .netproto schema into <proto>.netfw.h/.c (or, with
 * --lang, another back end's files); with --check-compat, compares two
 * versions of a schema instead (compat/, docs/compat.md).
 *
 * Exit status: 0 done (compatible), 1 the schema has errors (breaking
 * changes), 2 usage or I/O error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netfw/version.h"

#include "compat/compat.h"
#include "gen.h"

enum { EXIT_SCHEMA = 1, EXIT_USAGE = 2 };
#define MAX_SCHEMA_BYTES (64u * 1024 * 1024)

static const char usage[] =
    "usage: netfw-gen [-o DIR] [--lang LANG] [--stubs FILE] [--client-stubs "
    "FILE]\n"
    "                 [--force] [--depfile FILE] [--fuzz-harness FILE]\n"
    "                 [--descriptor FILE]\n"
    "                 [--version] [--help]\n"
    "                 schema.netproto\n"
    "       netfw-gen --check-compat OLD.netproto NEW.netproto "
    "[--format text|json]\n"
    "\n"
    "Compiles a .netproto schema into NAME.netfw.h and NAME.netfw.c in DIR\n"
    "(default: the current directory), NAME being the schema file's name\n"
    "without .netproto.\n"
    "\n"
    "  -o DIR          write the generated files into DIR\n"
    "  --lang LANG     the back end: the language to generate (default: c)\n"
    "  --stubs FILE    write a server skeleton (handlers and main) to FILE\n"
    "  --client-stubs FILE\n"
    "                  write a client skeleton (handlers and main) to FILE\n"
    "                  (without -o, these two write only their FILE, so no\n"
    "                  stale generated header lands next to your sources)\n"
    "  --force         let --stubs/--client-stubs overwrite an existing FILE\n"
    "  --depfile FILE  write a Makefile-style dependency file (for build "
    "tools)\n"
    "  --fuzz-harness FILE\n"
    "                  also write a libFuzzer harness for the decoders\n"
    "  --descriptor FILE\n"
    "                  write the schema as data, a JSON document, to FILE\n"
    "                  (- for standard output; docs/descriptor.md; without\n"
    "                  -o, only FILE is written)\n"
    "  --check-compat OLD NEW\n"
    "                  generate nothing: check that peers built from schema "
    "NEW\n"
    "                  and from schema OLD can talk both ways "
    "(docs/compat.md)\n"
    "  --format FMT    --check-compat's report: text (default) or json\n"
    "  --version       print the version and exit\n"
    "  --help          print this help and exit\n"
    "\n"
    "Back ends (--lang):\n";

static const char usage_tail[] =
    "\n"
    "Exit status: 0 success, 1 errors in the schema, 2 usage or I/O error.\n"
    "--check-compat: 0 compatible (warnings may be printed), 1 breaking\n"
    "changes or errors in a schema, 2 usage or I/O error.\n";

/* The usage text, with the list of back ends. */
static void print_usage(FILE *f) {
  fputs(usage, f);
  for (size_t i = 0; gen_backends[i] != NULL; i++)
    fprintf(f, "  %-14s  %s\n", gen_backends[i]->name,
            gen_backends[i]->summary);
  fputs(usage_tail, f);
}

/* "c, python": the known back ends, for a message. */
static void print_backends(FILE *f) {
  for (size_t i = 0; gen_backends[i] != NULL; i++)
    fprintf(f, "%s%s", i > 0 ? ", " : "", gen_backends[i]->name);
}

static int read_file(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;

  if (f == NULL) {
    fprintf(stderr, "netfw-gen: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  for (;;) {
    size_t got;
    if (cap - n < 65536) {
      char *bigger;
      cap = cap ? cap * 2 : 65536;
      bigger = realloc(buf, cap);
      if (bigger == NULL) {
        fprintf(stderr, "netfw-gen: out of memory reading %s\n", path);
        goto failed;
      }
      buf = bigger;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n > MAX_SCHEMA_BYTES) {
      fprintf(stderr, "netfw-gen: %s is larger than %u bytes\n", path,
              MAX_SCHEMA_BYTES);
      goto failed;
    }
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    fprintf(stderr, "netfw-gen: cannot read %s: %s\n", path, strerror(errno));
    goto failed;
  }
  fclose(f);
  *data = buf;
  *len = n;
  return 0;

failed:
  free(buf);
  fclose(f);
  return -1;
}

/* Writes through a temporary file and rename(), so a reader never sees half
 * a file and a failed run leaves no partial output. */
static int write_file(const char *path, const char *data, size_t len) {
  size_t n = strlen(path) + 16;
  char *tmp = malloc(n);
  FILE *f;

  if (tmp == NULL)
    return -1;
  snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
  f = fopen(tmp, "wb");
  if (f == NULL)
    goto failed_open;
  if ((len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
    remove(tmp);
    goto failed_open;
  }
  if (rename(tmp, path) != 0) {
    remove(tmp);
    goto failed_open;
  }
  free(tmp);
  return 0;

failed_open:
  fprintf(stderr, "netfw-gen: cannot write %s: %s\n", path, strerror(errno));
  free(tmp);
  return -1;
}

static char *join(const char *dir, const char *base, const char *ext) {
  size_t n = strlen(dir) + strlen(base) + strlen(ext) + 2;
  char *r = malloc(n);
  if (r != NULL)
    snprintf(r, n, "%s/%s%s", dir, base, ext);
  return r;
}

/* Escapes spaces for a Makefile dependency line. */
static void dep_path(gen_buf *b, const char *p) {
  for (; *p; p++) {
    if (*p == ' ' || *p == '#')
      gen_buf_puts(b, "\\");
    if (*p == '$')
      gen_buf_puts(b, "$");
    gen_buf_append(b, p, 1);
  }
}

typedef struct options {
  const char *out_dir, *stubs, *depfile, *schema, *fuzz;
  const char *client_stubs;
  const char *descriptor; /* --descriptor FILE */
  const char *out_dir_given; /* -o, if given */
  const gen_backend *lang;
  bool force;
  const char *compat_old, *compat_new; /* --check-compat OLD NEW */
  const char *format;                  /* --format */
  int generating; /* options that only apply when generating */
} options;

/* The value of option a (argv[i]), or NULL after a message. */
static const char *option_value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "netfw-gen: %s needs an argument\n", argv[*i]);
    print_usage(stderr);
    return NULL;
  }
  return argv[++*i];
}

/* The back end called name, or NULL after a message. */
static const gen_backend *pick_lang(const char *name) {
  const gen_backend *b = gen_backend_find(name);
  if (b == NULL) {
    fprintf(stderr,
            "netfw-gen: unknown language '%s' for --lang (known: ", name);
    print_backends(stderr);
    fputs(")\n", stderr);
  }
  return b;
}

/* Stores the value of option a in o; false after a message. */
static bool set_option(options *o, const char *a, const char *v) {
  if (strcmp(a, "-o") == 0)
    o->out_dir = o->out_dir_given = v;
  else if (strcmp(a, "--stubs") == 0)
    o->stubs = v;
  else if (strcmp(a, "--client-stubs") == 0)
    o->client_stubs = v;
  else if (strcmp(a, "--fuzz-harness") == 0)
    o->fuzz = v;
  else if (strcmp(a, "--depfile") == 0)
    o->depfile = v;
  else if (strcmp(a, "--descriptor") == 0)
    o->descriptor = v;
  else if (strcmp(a, "--format") == 0)
    o->format = v;
  else
    return (o->lang = pick_lang(v)) != NULL;
  return true;
}

static bool takes_value(const char *a) {
  return strcmp(a, "-o") == 0 || strcmp(a, "--stubs") == 0 ||
         strcmp(a, "--client-stubs") == 0 ||
         strcmp(a, "--depfile") == 0 || strcmp(a, "--fuzz-harness") == 0 ||
         strcmp(a, "--lang") == 0 || strcmp(a, "--format") == 0 ||
         strcmp(a, "--descriptor") == 0;
}

/* --check-compat OLD NEW into o; false after a message. */
static bool set_compat(options *o, int argc, char **argv, int *i) {
  if (*i + 2 >= argc) {
    fprintf(stderr, "netfw-gen: --check-compat needs two schemas (OLD NEW)\n");
    print_usage(stderr);
    return false;
  }
  if (o->compat_old != NULL) {
    fprintf(stderr, "netfw-gen: --check-compat given twice\n");
    return false;
  }
  o->compat_old = argv[++*i];
  o->compat_new = argv[++*i];
  return true;
}

/* Parses the command line into o. Returns -1 to go on, else an exit
 * status (after --help, --version or a message). */
static int parse_args(options *o, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      print_usage(stdout);
      return 0;
    } else if (strcmp(a, "--version") == 0) {
      printf("netfw-gen %s (generated-code ABI %d)\n", NETFW_VERSION_STRING,
             NETFW_GEN_ABI);
      return 0;
    } else if (strcmp(a, "--force") == 0) {
      o->force = true;
      o->generating++;
    } else if (strcmp(a, "--check-compat") == 0) {
      if (!set_compat(o, argc, argv, &i))
        return EXIT_USAGE;
    } else if (takes_value(a)) {
      const char *v = option_value(argc, argv, &i);
      if (v == NULL || !set_option(o, a, v))
        return EXIT_USAGE;
      o->generating += strcmp(a, "--format") != 0;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "netfw-gen: unknown option %s\n", a);
      print_usage(stderr);
      return EXIT_USAGE;
    } else if (o->schema != NULL) {
      fprintf(stderr, "netfw-gen: one schema per run (got %s and %s)\n",
              o->schema, a);
      return EXIT_USAGE;
    } else {
      o->schema = a;
    }
  }
  return -1;
}

/* The options of --check-compat; false after a message. */
static bool check_compat_options(const options *o, gen_compat_format *fmt) {
  if (o->schema != NULL || o->generating > 0) {
    fprintf(stderr, "netfw-gen: --check-compat takes two schemas and no "
                    "option but --format\n");
    return false;
  }
  if (o->format == NULL || strcmp(o->format, "text") == 0) {
    *fmt = GEN_COMPAT_TEXT;
  } else if (strcmp(o->format, "json") == 0) {
    *fmt = GEN_COMPAT_JSON;
  } else {
    fprintf(stderr,
            "netfw-gen: unknown format '%s' for --format (known: "
            "text, json)\n",
            o->format);
    return false;
  }
  return true;
}

/* netfw-gen --check-compat OLD NEW: the report on stdout. */
static int check_compat(const options *o) {
  gen_compat_format fmt;
  gen_buf out = {0}, err = {0};
  int status;

  if (!check_compat_options(o, &fmt))
    return EXIT_USAGE;
  status = gen_compat_run(o->compat_old, o->compat_new, fmt, &out, &err);
  if (out.len > 0)
    fwrite(out.data, 1, out.len, stdout);
  if (err.len > 0)
    fputs(err.data, stderr);
  gen_buf_free(&out);
  gen_buf_free(&err);
  if (fflush(stdout) != 0) {
    fprintf(stderr, "netfw-gen: cannot write the report: %s\n",
            strerror(errno));
    return EXIT_USAGE;
  }
  return status;
}

/* --stubs, --client-stubs or --descriptor without -o: only their files are
 * written. */
static bool skeletons_only(const options *o) {
  return (o->stubs != NULL || o->client_stubs != NULL ||
          o->descriptor != NULL) &&
         o->out_dir_given == NULL;
}

/* False (after a message) if path is an existing file and no --force. */
static bool keeps_users_file(const options *o, const char *path) {
  if (path == NULL || o->force || access(path, F_OK) != 0)
    return true;
  fprintf(stderr,
          "netfw-gen: %s exists; not overwriting your code (use --force)\n",
          path);
  return false;
}

/* Checks the options against each other and the file system; false after a
 * message. */
static bool check_options(const options *o) {
  if (o->format != NULL) {
    fprintf(stderr, "netfw-gen: --format only applies to --check-compat\n");
    return false;
  }
  if (o->schema == NULL) {
    fprintf(stderr, "netfw-gen: no schema given\n");
    print_usage(stderr);
    return false;
  }
  if (o->force && o->stubs == NULL && o->client_stubs == NULL) {
    fprintf(stderr,
            "netfw-gen: --force only applies to --stubs and --client-stubs\n");
    return false;
  }
  if (((o->stubs != NULL || o->client_stubs != NULL) && !o->lang->stubs) ||
      (o->fuzz != NULL && !o->lang->fuzz_harness)) {
    fprintf(stderr, "netfw-gen: --lang %s writes no %s\n", o->lang->name,
            o->fuzz == NULL || o->lang->fuzz_harness ? "skeletons"
                                                     : "--fuzz-harness");
    return false;
  }
  if (skeletons_only(o) && o->depfile != NULL) {
    fprintf(stderr, "netfw-gen: --depfile lists generated files: add -o DIR "
                    "to write them\n");
    return false;
  }
  return keeps_users_file(o, o->stubs) && keeps_users_file(o, o->client_stubs);
}

/* Writes "OUT... : schema" for build tools. */
static int write_depfile(const options *o, char *const *paths) {
  gen_buf d = {0};
  int rc;
  for (size_t i = 0; i < GEN_MAX_FILES && paths[i] != NULL; i++) {
    if (i > 0)
      gen_buf_puts(&d, " ");
    dep_path(&d, paths[i]);
  }
  gen_buf_puts(&d, ": ");
  dep_path(&d, o->schema);
  gen_buf_puts(&d, "\n");
  rc = write_file(o->depfile, d.data, d.len);
  gen_buf_free(&d);
  return rc;
}

/* --descriptor FILE, or standard output for "-"; 0 or -1 after a
 * message. */
static int write_descriptor(const options *o, const gen_result *r) {
  if (strcmp(o->descriptor, "-") != 0)
    return write_file(o->descriptor, r->descriptor.data, r->descriptor.len);
  if (fwrite(r->descriptor.data, 1, r->descriptor.len, stdout) !=
          r->descriptor.len ||
      fflush(stdout) != 0) {
    fprintf(stderr, "netfw-gen: cannot write the descriptor to standard "
                    "output: %s\n", strerror(errno));
    return -1;
  }
  return 0;
}

/* Writes every output of r; 0 or -1 after a message. */
static int write_outputs(const options *o, const gen_result *r) {
  char *paths[GEN_MAX_FILES] = {NULL};
  int rc = -1;

  for (size_t i = 0; i < GEN_MAX_FILES && o->lang->suffixes[i] != NULL; i++)
    if ((paths[i] = join(o->out_dir, r->base, o->lang->suffixes[i])) == NULL)
      goto done;
  for (size_t i = 0; i < GEN_MAX_FILES && paths[i] != NULL; i++)
    if (!skeletons_only(o) &&
        write_file(paths[i], r->files[i].data, r->files[i].len) != 0)
      goto done;
  if (o->stubs != NULL &&
      write_file(o->stubs, r->stubs.data, r->stubs.len) != 0)
    goto done;
  if (o->client_stubs != NULL &&
      write_file(o->client_stubs, r->client_stubs.data,
                 r->client_stubs.len) != 0)
    goto done;
  if (o->fuzz != NULL && write_file(o->fuzz, r->fuzz.data, r->fuzz.len) != 0)
    goto done;
  if (o->descriptor != NULL && write_descriptor(o, r) != 0)
    goto done;
  if (o->depfile != NULL && write_depfile(o, paths) != 0)
    goto done;
  rc = 0;

done:
  for (size_t i = 0; i < GEN_MAX_FILES; i++)
    free(paths[i]);
  return rc;
}

int main(int argc, char **argv) {
  options o = {.out_dir = ".", .lang = gen_backends[0]};
  char *src = NULL;
  size_t len = 0;
  gen_result r;
  int status = parse_args(&o, argc, argv);

  if (status >= 0)
    return status;
  if (o.compat_old != NULL)
    return check_compat(&o);
  if (!check_options(&o) || read_file(o.schema, &src, &len) != 0)
    return EXIT_USAGE;
  if (gen_compile_with(&r, o.lang, o.schema, src, len) != 0) {
    fputs(r.diag.out.data ? r.diag.out.data : "", stderr);
    fprintf(stderr, "netfw-gen: %d error%s, nothing written\n", r.diag.errors,
            r.diag.errors == 1 ? "" : "s");
    status = EXIT_SCHEMA;
  } else {
    if (r.diag.out.len > 0)
      fputs(r.diag.out.data, stderr); /* warnings */
    status = write_outputs(&o, &r) == 0 ? 0 : EXIT_USAGE;
  }
  free(src);
  gen_result_free(&r);
  return status;
}
