/* The schema read at run time: the generator's front end (gen_parse,
 * gen_check with no back-end hooks) and its descriptor (gen_desc_build),
 * then message look-ups and request encoding with the reflective codec. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "desc/desc.h"
#include "front/check.h"
#include "netfw/error.h"

#define MAX_SCHEMA_BYTES (64u * 1024 * 1024)

/* Reads f to its end into b, at most limit bytes. Returns 0, -1 on a
 * read error (errno set), -2 when f holds more than limit. */
static int read_all(FILE *f, gen_buf *b, size_t limit) {
  char chunk[65536];
  size_t got;

  while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= limit)
    gen_buf_append(b, chunk, got);
  if (ferror(f))
    return -1;
  return b->len > limit ? -2 : 0;
}

/* Opens and reads the file at path (NULL: stdin, named name) into b;
 * returns 0, or -1 after a message. */
static int read_file(const char *path, const char *name, gen_buf *b,
                     size_t limit) {
  FILE *f = path != NULL ? fopen(path, "rb") : stdin;
  int rc;

  if (f == NULL) {
    fprintf(stderr, "netfw-call: cannot open %s: %s\n", name, strerror(errno));
    return -1;
  }
  rc = read_all(f, b, limit);
  if (rc == -1)
    fprintf(stderr, "netfw-call: cannot read %s: %s\n", name, strerror(errno));
  if (rc == -2)
    fprintf(stderr, "netfw-call: %s is larger than %zu bytes\n", name, limit);
  if (path != NULL)
    fclose(f);
  if (rc != 0)
    gen_buf_free(b);
  return rc != 0 ? -1 : 0;
}

int call_read_json(const char *arg, gen_buf *out) {
  if (strcmp(arg, "-") == 0)
    return read_file(NULL, "stdin", out, CALL_MAX_JSON) ? CALL_USAGE : 0;
  return read_file(arg + 1, arg + 1, out, CALL_MAX_JSON) ? CALL_USAGE : 0;
}

/* Reads the whole file at path into pool memory (NUL-terminated). Returns
 * 0, or -1 after a message. */
static int read_schema(gen_pool *pool, const char *path, char **data,
                       size_t *len) {
  gen_buf b = {0};

  if (read_file(path, path, &b, MAX_SCHEMA_BYTES) != 0)
    return -1;
  /* The lexer wants a NUL after the last byte. */
  *data = gen_pool_alloc(pool, b.len + 1);
  if (b.len > 0)
    memcpy(*data, b.data, b.len);
  *len = b.len;
  gen_buf_free(&b);
  return 0;
}

int call_schema_load(call_schema *s, const char *path) {
  gen_diag d;
  char *src;
  size_t len;

  memset(s, 0, sizeof(*s));
  if (read_schema(&s->pool, path, &src, &len) != 0) {
    call_schema_free(s);
    return CALL_USAGE;
  }
  memset(&d, 0, sizeof(d));
  d.path = path;
  d.src = src;
  d.src_len = len;
  gen_parse(&s->ast, src, len, &d, &s->pool);
  if (s->ast.proto == NULL && d.errors == 0)
    gen_error(&d, (gen_pos){1, 1}, "a schema must start with 'protocol NAME;'");
  gen_check(&s->ast, &d, &s->pool, NULL);
  if (d.errors > 0 || s->ast.proto == NULL) {
    /* Errors only: warnings are netfw-gen's business. */
    fputs(d.out.data ? d.out.data : "", stderr);
    fprintf(stderr, "netfw-call: %d error%s in %s\n", d.errors,
            d.errors == 1 ? "" : "s", path);
    gen_buf_free(&d.out);
    call_schema_free(s);
    return CALL_USAGE;
  }
  gen_buf_free(&d.out);
  s->desc = gen_desc_build(&s->ast, &s->pool);
  return 0;
}

void call_schema_free(call_schema *s) {
  gen_pool_free(&s->pool);
  memset(s, 0, sizeof(*s));
}

const netfw_desc_message *
call_find_message(const call_schema *s, const char *name, const char *where) {
  const netfw_desc *d = s->desc;
  const netfw_desc_message *m = netfw_desc_message_by_name(d, name);
  const char **names;
  const char *near;

  if (m != NULL)
    return m;
  names = calloc(d->nmessages + 1, sizeof(*names));
  if (names == NULL) {
    fprintf(stderr, "netfw-call: out of memory\n");
    return NULL;
  }
  for (uint32_t i = 0; i < d->nmessages; i++)
    names[i] = d->messages[i].body.name;
  near = gen_closest(name, names, d->nmessages);
  free(names);
  if (near != NULL)
    fprintf(stderr, "netfw-call: %sunknown message '%s' (did you mean '%s'?)\n",
            where, name, near);
  else
    fprintf(stderr,
            "netfw-call: %sunknown message '%s' (protocol %s; --list shows "
            "its messages)\n",
            where, name, d->proto);
  return NULL;
}

int call_encode(const call_schema *s, const netfw_desc_message *m,
                const char *json, size_t len, netfw_msg *out,
                const char *where) {
  char err[CALL_ERR_LEN], shown[CALL_ERR_LEN];
  int rc;

  if (m->dir == NETFW_DESC_TO_CLIENT) {
    fprintf(stderr,
            "netfw-call: %s%s is a message to the client (-> client): a "
            "client cannot send it\n",
            where, m->body.name);
    return CALL_USAGE;
  }
  err[0] = '\0';
  rc = netfw_desc_encode_json(s->desc, m, json, len, out, err, sizeof(err));
  if (rc == 0)
    return 0;
  if (err[0] != '\0')
    fprintf(stderr, "netfw-call: %s%s\n", where,
            call_elide(err, shown, sizeof(shown)));
  else
    fprintf(stderr, "netfw-call: %scannot encode %s: %s\n", where, m->body.name,
            netfw_strerror(rc));
  return CALL_USAGE;
}
