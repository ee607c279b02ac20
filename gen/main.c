/* netfw-gen: compiles a .netproto schema into <proto>.netfw.h/.c.
 *
 * Exit status: 0 done, 1 the schema has errors, 2 usage or I/O error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netfw/version.h"

#include "ast.h"

enum { EXIT_SCHEMA = 1, EXIT_USAGE = 2 };
#define MAX_SCHEMA_BYTES (64u * 1024 * 1024)

static const char usage[] =
    "usage: netfw-gen [-o DIR] [--stubs FILE [--force]] [--depfile FILE]\n"
    "                 [--fuzz-harness FILE] [--version] [--help] "
    "schema.netproto\n"
    "\n"
    "Compiles a .netproto schema into NAME.netfw.h and NAME.netfw.c in DIR\n"
    "(default: the current directory), NAME being the schema file's name\n"
    "without .netproto.\n"
    "\n"
    "  -o DIR          write the generated files into DIR\n"
    "  --stubs FILE    also write a server handler skeleton to FILE\n"
    "  --force         let --stubs overwrite an existing FILE\n"
    "  --depfile FILE  write a Makefile-style dependency file (for build tools)\n"
    "  --fuzz-harness FILE\n"
    "                  also write a libFuzzer harness for the decoders\n"
    "  --version       print the version and exit\n"
    "  --help          print this help and exit\n"
    "\n"
    "Exit status: 0 success, 1 errors in the schema, 2 usage or I/O error.\n";

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

int main(int argc, char **argv) {
  const char *out_dir = ".", *stubs = NULL, *depfile = NULL, *schema = NULL;
  const char *fuzz = NULL;
  bool force = false;
  char *src = NULL, *h_path = NULL, *c_path = NULL;
  size_t len = 0;
  gen_result r;
  int status = EXIT_USAGE;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(a, "--version") == 0) {
      printf("netfw-gen %s (generated-code ABI %d)\n", NETFW_VERSION_STRING,
             NETFW_GEN_ABI);
      return 0;
    } else if (strcmp(a, "--force") == 0) {
      force = true;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--stubs") == 0 ||
               strcmp(a, "--depfile") == 0 ||
               strcmp(a, "--fuzz-harness") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "netfw-gen: %s needs an argument\n%s", a, usage);
        return EXIT_USAGE;
      }
      if (strcmp(a, "-o") == 0)
        out_dir = argv[++i];
      else if (strcmp(a, "--stubs") == 0)
        stubs = argv[++i];
      else if (strcmp(a, "--fuzz-harness") == 0)
        fuzz = argv[++i];
      else
        depfile = argv[++i];
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "netfw-gen: unknown option %s\n%s", a, usage);
      return EXIT_USAGE;
    } else if (schema != NULL) {
      fprintf(stderr, "netfw-gen: one schema per run (got %s and %s)\n",
              schema, a);
      return EXIT_USAGE;
    } else {
      schema = a;
    }
  }
  if (schema == NULL) {
    fprintf(stderr, "netfw-gen: no schema given\n%s", usage);
    return EXIT_USAGE;
  }
  if (force && stubs == NULL) {
    fprintf(stderr, "netfw-gen: --force only applies to --stubs\n");
    return EXIT_USAGE;
  }
  if (stubs != NULL && !force && access(stubs, F_OK) == 0) {
    fprintf(stderr,
            "netfw-gen: %s exists; not overwriting your handlers (use "
            "--force)\n",
            stubs);
    return EXIT_USAGE;
  }
  if (read_file(schema, &src, &len) != 0)
    return EXIT_USAGE;

  if (gen_compile(&r, schema, src, len) != 0) {
    fputs(r.diag.out.data ? r.diag.out.data : "", stderr);
    fprintf(stderr, "netfw-gen: %d error%s, nothing written\n", r.diag.errors,
            r.diag.errors == 1 ? "" : "s");
    status = EXIT_SCHEMA;
    goto done;
  }
  if (r.diag.out.len > 0)
    fputs(r.diag.out.data, stderr); /* warnings */

  h_path = join(out_dir, r.base, ".netfw.h");
  c_path = join(out_dir, r.base, ".netfw.c");
  if (h_path == NULL || c_path == NULL)
    goto done;
  if (write_file(h_path, r.header.data, r.header.len) != 0 ||
      write_file(c_path, r.source.data, r.source.len) != 0)
    goto done;
  if (stubs != NULL && write_file(stubs, r.stubs.data, r.stubs.len) != 0)
    goto done;
  if (fuzz != NULL && write_file(fuzz, r.fuzz.data, r.fuzz.len) != 0)
    goto done;
  if (depfile != NULL) {
    gen_buf d = {0};
    dep_path(&d, h_path);
    gen_buf_puts(&d, " ");
    dep_path(&d, c_path);
    gen_buf_puts(&d, ": ");
    dep_path(&d, schema);
    gen_buf_puts(&d, "\n");
    if (write_file(depfile, d.data, d.len) != 0) {
      gen_buf_free(&d);
      goto done;
    }
    gen_buf_free(&d);
  }
  status = 0;

done:
  free(h_path);
  free(c_path);
  free(src);
  gen_result_free(&r);
  return status;
}
