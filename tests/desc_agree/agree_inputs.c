/* The inputs of test_desc_agree: corpus files and documented fixtures. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agree_inputs.h"

/* Appends an input named name holding b[0..n) to l; 0 or -1. */
static int push(agree_inputs *l, const char *name, const uint8_t *b,
                size_t n) {
  agree_input *in;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    agree_input *v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL)
      return -1;
    l->v = v;
    l->cap = cap;
  }
  in = &l->v[l->n];
  snprintf(in->name, sizeof(in->name), "%s", name);
  in->bytes = malloc(n ? n : 1);
  if (in->bytes == NULL)
    return -1;
  if (n > 0)
    memcpy(in->bytes, b, n);
  in->n = n;
  l->n++;
  return 0;
}

/* The whole file path, malloc'd, NUL-terminated, its size in *n; NULL if
 * it cannot be read. */
static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long len;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) != NULL) {
    if (fread(buf, 1, (size_t)len, f) == (size_t)len) {
      buf[len] = '\0';
      *n = (size_t)len;
    } else {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  return buf;
}

/* scandir filter: not a dot file. */
static int visible(const struct dirent *e) { return e->d_name[0] != '.'; }

int agree_read_dir(agree_inputs *l, const char *dir) {
  struct dirent **names;
  int n = scandir(dir, &names, visible, alphasort), added = 0;

  if (n < 0)
    return -1;
  for (int i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    size_t len;
    char *buf;

    snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
    if (added >= 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      buf = slurp(path, &len);
      if (buf == NULL ||
          push(l, names[i]->d_name, (const uint8_t *)buf, len) != 0)
        added = -1;
      else
        added++;
      free(buf);
    }
    free(names[i]);
  }
  free(names);
  return added;
}

/* Appends the hex pairs of s (or nothing for "(empty payload)") to
 * out[*n..cap); 0, or -1 on anything else. */
static int parse_hex(const char *s, uint8_t *out, size_t *n, size_t cap) {
  unsigned v;
  s += strspn(s, " ");
  if (strcmp(s, "(empty payload)") == 0)
    return 0;
  while (*s != '\0') {
    if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
        (s[2] != ' ' && s[2] != '\0') || *n == cap ||
        sscanf(s, "%2x", &v) != 1)
      return -1;
    out[(*n)++] = (uint8_t)v;
    s += 2 + strspn(s + 2, " ");
  }
  return 0;
}

/* Parses the fixture lines p (the block's inside, NUL-terminated lines
 * separated by '\n' up to end) into l; the count or -1. */
static int parse_block(agree_inputs *l, char *p, const char *end) {
  uint8_t bytes[256];
  size_t n = 0;
  char name[64] = "";
  int added = 0;

  while (p < end) {
    char *nl = strchr(p, '\n'), *hex = p;
    *nl = '\0';
    if (*p != ' ') { /* a label: flush the fixture before, start one */
      size_t k = 0;
      if (name[0] != '\0' && push(l, name, bytes, n) != 0)
        return -1;
      added += name[0] != '\0';
      while (k < sizeof(name) - 1 && (isalnum((unsigned char)p[k]) || p[k] == '_'))
        k++;
      if (k == 0)
        return -1;
      memcpy(name, p, k);
      name[k] = '\0';
      n = 0;
      hex = strstr(p, "  ");
      hex = hex != NULL ? hex : nl;
    } else if (name[0] == '\0') {
      return -1;
    }
    if (parse_hex(hex, bytes, &n, sizeof(bytes)) != 0)
      return -1;
    p = nl + 1;
  }
  if (name[0] == '\0' || push(l, name, bytes, n) != 0)
    return -1;
  return added + 1;
}

int agree_read_fixtures(agree_inputs *l, const char *path,
                        const char *marker) {
  size_t len;
  char *doc = slurp(path, &len), *p, *end;
  int rc = -1;

  if (doc == NULL)
    return -1;
  p = strstr(doc, marker);
  p = p != NULL ? strstr(p, "```\n") : NULL;
  end = p != NULL ? strstr(p + 4, "\n```\n") : NULL;
  if (end != NULL)
    rc = parse_block(l, p + 4, end + 1);
  free(doc);
  return rc;
}

void agree_inputs_free(agree_inputs *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].bytes);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
