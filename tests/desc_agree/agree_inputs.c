/* The inputs of test_desc_agree: corpus files and documented fixtures. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agree_inputs.h"

/* Appends an input named name holding b[0..n) to l; 0 or -1. */
static int push(agree_inputs *l, const char *name, const uint8_t *b, size_t n) {
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
static int visible(const struct dirent *e) {
  return e->d_name[0] != '.';
}

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
        (s[2] != ' ' && s[2] != '\0') || *n == cap || sscanf(s, "%2x", &v) != 1)
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
      while (k < sizeof(name) - 1 &&
             (isalnum((unsigned char)p[k]) || p[k] == '_'))
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

int agree_read_fixtures(agree_inputs *l, const char *path, const char *marker) {
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

/* p past white space and C comments. */
static const char *skip_blank(const char *p) {
  for (;;) {
    p += strspn(p, " \t\r\n");
    if (strncmp(p, "//", 2) == 0)
      p += strcspn(p, "\n");
    else if (strncmp(p, "/*", 2) == 0 && strstr(p + 2, "*/") != NULL)
      p = strstr(p + 2, "*/") + 2;
    else
      return p;
  }
}

/* The character constant at p ('a', '\x41', '\n', '\0', ...) into *v;
 * the text after it, or NULL. */
static const char *char_const(const char *p, unsigned long *v) {
  char *end;
  if (p[1] != '\\') {
    *v = (unsigned char)p[1];
    p += 2;
  } else if (p[2] == 'x') {
    *v = strtoul(p + 3, &end, 16);
    p = end;
  } else {
    switch (p[2]) {
    case 'n':
      *v = '\n';
      break;
    case 't':
      *v = '\t';
      break;
    case 'r':
      *v = '\r';
      break;
    case '0':
      *v = 0;
      break;
    case '\\':
    case '\'':
    case '"':
      *v = (unsigned char)p[2];
      break;
    default:
      return NULL;
    }
    p += 3;
  }
  return *p == '\'' ? p + 1 : NULL;
}

/* The items of the initialiser after its '{' at p into out[0..cap) and *n:
 * integer and character constants only. The text after its '}', or NULL
 * for anything else. */
static const char *c_items(const char *p, uint8_t *out, size_t *n, size_t cap) {
  for (*n = 0;;) {
    unsigned long v;
    char *end;
    p = skip_blank(p);
    if (*p == '}')
      return p + 1;
    if (*p == '\'')
      p = char_const(p, &v);
    else if (isdigit((unsigned char)*p))
      p = (v = strtoul(p, &end, 0), end);
    else
      return NULL;
    if (p == NULL || v > 255 || *n == cap)
      return NULL;
    out[(*n)++] = (uint8_t)v;
    p = skip_blank(p);
    if (*p == ',')
      p++;
    else if (*p != '}')
      return NULL;
  }
}

int agree_read_c_arrays(agree_inputs *l, const char *path) {
  size_t len;
  char *src = slurp(path, &len);
  const char *p = src;
  int added = 0;

  if (src == NULL)
    return -1;
  while (added >= 0 && (p = strstr(p, "uint8_t ")) != NULL) {
    uint8_t bytes[1024];
    char name[64];
    size_t k = 0, n;
    const char *q;
    for (p += 8;
         k < sizeof(name) - 1 && (isalnum((unsigned char)p[k]) || p[k] == '_');
         k++)
      name[k] = p[k];
    name[k] = '\0';
    q = skip_blank(p + k);
    if (k == 0 || strncmp(q, "[]", 2) != 0)
      continue;
    q = skip_blank(q + 2);
    if (*q != '=' || *(q = skip_blank(q + 1)) != '{' ||
        (q = c_items(q + 1, bytes, &n, sizeof(bytes))) == NULL)
      continue;
    added = push(l, name, bytes, n) == 0 ? added + 1 : -1;
    p = q;
  }
  free(src);
  return added;
}

/* scandir filter: a C source or header. */
static int c_file(const struct dirent *e) {
  size_t n = strlen(e->d_name);
  return n > 2 && e->d_name[n - 2] == '.' &&
         (e->d_name[n - 1] == 'c' || e->d_name[n - 1] == 'h');
}

int agree_read_c_dir(agree_inputs *l, const char *dir) {
  struct dirent **names;
  int n = scandir(dir, &names, c_file, alphasort), added = 0;

  if (n < 0)
    return -1;
  for (int i = 0; i < n; i++) {
    char path[4096];
    int k;
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
    if (added >= 0)
      added = (k = agree_read_c_arrays(l, path)) < 0 ? -1 : added + k;
    free(names[i]);
  }
  free(names);
  return added;
}

void agree_inputs_free(agree_inputs *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].bytes);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
