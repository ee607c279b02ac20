/* The metrics tests' kit: curl as the HTTP client, a Prometheus text
 * reader. */
#include "metrics_kit.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- HTTP through curl ---- */

/* Reads the whole file at path into a malloc'ed NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, got;

  if (f == NULL)
    return NULL;
  do {
    if (n + 4096 + 1 > cap) {
      char *nb = realloc(buf, cap = (cap + 4096) * 2);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
  } while (got > 0);
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Copies header `name`'s value from the header block hdrs into out. */
static void header_value(const char *hdrs, const char *name, char *out,
                         size_t len) {
  size_t nl = strlen(name);
  const char *p = hdrs;

  out[0] = '\0';
  while (p != NULL && *p != '\0') {
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1, *end = v;
      while (*v == ' ')
        v++;
      end = v;
      while (*end != '\0' && *end != '\r' && *end != '\n')
        end++;
      snprintf(out, len, "%.*s", (int)(end - v), v);
      return;
    }
    p = strchr(p, '\n');
    p = p != NULL ? p + 1 : NULL;
  }
}

/* Runs curl for method/url, the body into body_path, the headers into
 * hdr_path, the status code on its stdout (read back into *code). Returns
 * 0 or -1. */
static int run_curl(const char *method, const char *url, const char *body_path,
                    const char *hdr_path, int *code) {
  const char *argv[16];
  int argc = 0, pfd[2], status = 0;
  char out[32] = "";
  ssize_t n, got = 0;
  posix_spawn_file_actions_t fa;
  pid_t pid;

  argv[argc++] = "curl";
  argv[argc++] = "-sS";
  argv[argc++] = "--max-time";
  argv[argc++] = "5";
  if (strcmp(method, "HEAD") == 0) {
    argv[argc++] = "--head";
  } else {
    argv[argc++] = "-X";
    argv[argc++] = method;
  }
  argv[argc++] = "-o";
  argv[argc++] = body_path;
  argv[argc++] = "-D";
  argv[argc++] = hdr_path;
  argv[argc++] = "-w";
  argv[argc++] = "%{http_code}";
  argv[argc++] = url;
  argv[argc] = NULL;
  if (pipe(pfd) != 0)
    return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
  posix_spawn_file_actions_addclose(&fa, pfd[0]);
  if (posix_spawnp(&pid, "curl", &fa, NULL, (char *const *)argv, environ) != 0)
    pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(pfd[1]);
  while (pid > 0 &&
         (n = read(pfd[0], out + got, sizeof(out) - 1 - (size_t)got)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || (got += n) >= (ssize_t)sizeof(out) - 1)
      break;
  }
  close(pfd[0]);
  out[got > 0 ? got : 0] = '\0';
  if (pid <= 0 || waitpid(pid, &status, 0) != pid)
    return -1;
  *code = atoi(out);
  return *code > 0 ? 0 : -1;
}

int mk_http(uint16_t port, const char *method, const char *path, mk_resp *r) {
  char url[256], body_path[] = "/tmp/netfw-mk-body-XXXXXX",
                 hdr_path[] = "/tmp/netfw-mk-hdr-XXXXXX";
  char *hdrs;
  size_t hlen = 0;
  int fb = mkstemp(body_path), fh = mkstemp(hdr_path), rc;

  memset(r, 0, sizeof(*r));
  if (fb >= 0)
    close(fb);
  if (fh >= 0)
    close(fh);
  snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, path);
  rc = fb >= 0 && fh >= 0 ? run_curl(method, url, body_path, hdr_path, &r->code)
                          : -1;
  r->body = slurp(body_path, &r->body_len);
  if (r->body == NULL)
    r->body = calloc(1, 1), r->body_len = 0;
  hdrs = slurp(hdr_path, &hlen);
  if (hdrs != NULL) {
    header_value(hdrs, "Content-Type", r->ctype, sizeof(r->ctype));
    header_value(hdrs, "Allow", r->allow, sizeof(r->allow));
    free(hdrs);
  }
  unlink(body_path);
  unlink(hdr_path);
  if (rc != 0)
    mk_resp_free(r); /* nothing to free after a failure */
  return rc;
}

void mk_resp_free(mk_resp *r) {
  free(r->body);
  r->body = NULL;
}

/* ---- the Prometheus text format ---- */

/* Writes a formatted reason into err; returns false. */
static bool fail(char *err, size_t len, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(char *err, size_t len, int line, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(err, len, "line %d: ", line);

  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < len)
    vsnprintf(err + n, len - (size_t)n, fmt, ap);
  va_end(ap);
  return false;
}

/* Length of the metric or label name at p (0: none). */
static size_t name_len(const char *p, bool metric) {
  size_t n = 0;

  if (!(isalpha((unsigned char)p[0]) || p[0] == '_' || (metric && p[0] == ':')))
    return 0;
  while (isalnum((unsigned char)p[n]) || p[n] == '_' || (metric && p[n] == ':'))
    n++;
  return n;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses "{k="v",...}" at *pp (past it on return) into a sorted,
 * comma-joined copy in *out. Returns false on a malformed set. */
static bool parse_labels(const char **pp, char **out) {
  const char *p = *pp + 1;
  char *pairs[64], *joined;
  size_t np = 0, total = 1, i;
  bool ok = false;

  while (*p != '}') {
    size_t k = name_len(p, false);
    const char *v;
    if (k == 0 || p[k] != '=' || p[k + 1] != '"' || np == 64)
      goto done;
    for (v = p + k + 2; *v != '"'; v++)
      if (*v == '\0' || *v == '\n' || (*v == '\\' && *++v == '\0'))
        goto done;
    pairs[np] = strndup(p, (size_t)(v + 1 - p));
    total += (size_t)(v + 1 - p) + 1;
    np++;
    p = v + 1;
    if (*p == ',')
      p++;
    else if (*p != '}')
      goto done;
  }
  qsort(pairs, np, sizeof(pairs[0]), cmp_str);
  joined = calloc(1, total);
  for (i = 0; joined != NULL && i < np; i++) {
    if (i > 0)
      strcat(joined, ",");
    strcat(joined, pairs[i]);
  }
  *out = joined;
  *pp = p + 1;
  ok = joined != NULL;
done:
  for (i = 0; i < np; i++)
    free(pairs[i]);
  return ok;
}

/* Appends an entry to an array of pointers. */
static bool push(char ***arr, size_t n, char *v) {
  char **na = realloc(*arr, (n + 1) * sizeof(**arr));
  if (na == NULL)
    return false;
  na[n] = v;
  *arr = na;
  return true;
}

/* Handles a "# HELP" or "# TYPE" line (others are comments). cur_help is
 * the family of the last HELP line. */
static bool parse_meta(mk_prom *p, const char *l, char **cur_help, int line,
                       char *err, size_t elen) {
  bool help = strncmp(l, "# HELP ", 7) == 0;
  bool type = strncmp(l, "# TYPE ", 7) == 0;
  const char *n = l + 7;
  size_t nl;
  size_t i;

  if (!help && !type)
    return true;
  nl = name_len(n, true);
  if (nl == 0 || n[nl] != ' ')
    return fail(err, elen, line, "bad name in '%s'", l);
  if (help) {
    free(*cur_help);
    *cur_help = strndup(n, nl);
    return true;
  }
  if (*cur_help == NULL || strlen(*cur_help) != nl ||
      strncmp(*cur_help, n, nl) != 0)
    return fail(err, elen, line, "TYPE without its HELP first: '%s'", l);
  for (i = 0; i < p->nfam; i++)
    if (strlen(p->fam[i]) == nl && strncmp(p->fam[i], n, nl) == 0)
      return fail(err, elen, line, "family announced twice: '%s'", l);
  if (strcmp(n + nl + 1, "counter") != 0 && strcmp(n + nl + 1, "gauge") != 0 &&
      strcmp(n + nl + 1, "histogram") != 0 &&
      strcmp(n + nl + 1, "summary") != 0 && strcmp(n + nl + 1, "untyped") != 0)
    return fail(err, elen, line, "unknown type: '%s'", l);
  return push(&p->fam, p->nfam, strndup(n, nl)) &&
         push(&p->fam_type, p->nfam++, strdup(n + nl + 1));
}

/* True when sample name belongs to the family last announced. */
static bool in_current_family(const mk_prom *p, const char *name) {
  const char *fam, *type;
  size_t fl;

  if (p->nfam == 0)
    return false;
  fam = p->fam[p->nfam - 1];
  type = p->fam_type[p->nfam - 1];
  fl = strlen(fam);
  if (strcmp(name, fam) == 0)
    return strcmp(type, "histogram") != 0;
  if (strncmp(name, fam, fl) != 0 || strcmp(type, "histogram") != 0)
    return false;
  return strcmp(name + fl, "_bucket") == 0 || strcmp(name + fl, "_sum") == 0 ||
         strcmp(name + fl, "_count") == 0;
}

/* Parses one sample line into p. */
static bool parse_sample(mk_prom *p, const char *l, int line, char *err,
                         size_t elen) {
  size_t nl = name_len(l, true);
  const char *q = l + nl;
  char *labels = NULL, *end;
  mk_sample *ns;

  if (nl == 0)
    return fail(err, elen, line, "bad sample '%s'", l);
  if (*q == '{' && !parse_labels(&q, &labels))
    return fail(err, elen, line, "bad labels in '%s'", l);
  if (labels == NULL)
    labels = strdup("");
  if (*q != ' ' || (strtod(q + 1, &end), end == q + 1) ||
      (*end != '\0' && *end != ' ')) {
    free(labels);
    return fail(err, elen, line, "bad value in '%s'", l);
  }
  ns = realloc(p->s, (p->n + 1) * sizeof(*ns));
  if (ns == NULL) {
    free(labels);
    return fail(err, elen, line, "out of memory");
  }
  p->s = ns;
  ns[p->n].name = strndup(l, nl);
  ns[p->n].labels = labels;
  ns[p->n].value = strndup(q + 1, (size_t)(end - q - 1));
  if (!in_current_family(p, ns[p->n++].name))
    return fail(err, elen, line, "sample outside its family: '%s'", l);
  return true;
}

mk_prom *mk_prom_parse(const char *text, char *err, size_t err_len) {
  mk_prom *p = calloc(1, sizeof(*p));
  char *copy = strdup(text), *l, *nl, *cur_help = NULL;
  int line = 0;
  bool ok = p != NULL && copy != NULL;

  if (ok && text[0] != '\0' && text[strlen(text) - 1] != '\n')
    ok = fail(err, err_len, 0, "the text does not end with a newline");
  for (l = copy; ok && l != NULL && *l != '\0'; l = nl) {
    nl = strchr(l, '\n');
    if (nl != NULL)
      *nl++ = '\0';
    line++;
    if (*l == '#')
      ok = parse_meta(p, l, &cur_help, line, err, err_len);
    else if (*l != '\0')
      ok = parse_sample(p, l, line, err, err_len);
  }
  free(cur_help);
  free(copy);
  if (!ok) {
    mk_prom_free(p);
    return NULL;
  }
  return p;
}

void mk_prom_free(mk_prom *p) {
  size_t i;

  if (p == NULL)
    return;
  for (i = 0; i < p->n; i++) {
    free(p->s[i].name);
    free(p->s[i].labels);
    free(p->s[i].value);
  }
  for (i = 0; i < p->nfam; i++) {
    free(p->fam[i]);
    free(p->fam_type[i]);
  }
  free(p->s);
  free(p->fam);
  free(p->fam_type);
  free(p);
}

/* The sample name{labels}, or NULL. */
static const mk_sample *find(const mk_prom *p, const char *name,
                             const char *labels) {
  char *want = NULL, *set = malloc(strlen(labels) + 3);
  const char *q = set;
  const mk_sample *hit = NULL;
  size_t i;

  if (set == NULL)
    return NULL;
  sprintf(set, "{%s}", labels);
  if (parse_labels(&q, &want))
    for (i = 0; i < p->n && hit == NULL; i++)
      if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].labels, want) == 0)
        hit = &p->s[i];
  free(want);
  free(set);
  return hit;
}

bool mk_prom_double(const mk_prom *p, const char *name, const char *labels,
                    double *v) {
  const mk_sample *s = find(p, name, labels);

  if (s == NULL)
    return false;
  *v = strtod(s->value, NULL);
  return true;
}

bool mk_prom_u64(const mk_prom *p, const char *name, const char *labels,
                 uint64_t *v) {
  const mk_sample *s = find(p, name, labels);
  char *end;
  double d;

  if (s == NULL)
    return false;
  errno = 0;
  *v = strtoull(s->value, &end, 10);
  if (*end == '\0' && errno == 0 && s->value[0] != '-')
    return true;
  d = strtod(s->value, &end); /* "1e+06" style */
  if (*end != '\0' || !(d >= 0) || d != floor(d) || d > 9.007199254740992e15)
    return false;
  *v = (uint64_t)d;
  return true;
}

size_t mk_prom_count(const mk_prom *p, const char *name) {
  size_t i, n = 0;

  for (i = 0; i < p->n; i++)
    n += strcmp(p->s[i].name, name) == 0;
  return n;
}

const char *mk_prom_type(const mk_prom *p, const char *name) {
  size_t i;

  for (i = 0; i < p->nfam; i++)
    if (strcmp(p->fam[i], name) == 0)
      return p->fam_type[i];
  return NULL;
}
