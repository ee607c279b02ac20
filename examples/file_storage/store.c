/* The file store: a flat directory, writes published atomically by link(). */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary files carry this prefix; user names may not. */
static const char TMP_PREFIX[] = ".netfw-tmp-";

bool store_name_ok(const char *name, size_t len) {
  if (len == 0 || len > STORE_NAME_MAX)
    return false;
  if (memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
    return false;
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    return false;
  if (len >= sizeof(TMP_PREFIX) - 1 &&
      memcmp(name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0)
    return false;
  return true;
}

/* Copies a checked name into a NUL-terminated buffer. */
static bool cname(char out[STORE_NAME_MAX + 1], const char *name, size_t len) {
  if (!store_name_ok(name, len))
    return false;
  memcpy(out, name, len);
  out[len] = '\0';
  return true;
}

store_rc store_open(store *s, const char *dir) {
  s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return s->dirfd < 0 ? STORE_IO : STORE_OK;
}

void store_close(store *s) {
  if (s->dirfd >= 0)
    close(s->dirfd);
  s->dirfd = -1;
}

static bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

store_rc store_add(store *s, const char *name, size_t len, const uint8_t *data,
                   size_t size) {
  static atomic_uint counter;
  char final[STORE_NAME_MAX + 1];
  char tmp[64];
  int fd;
  store_rc rc = STORE_OK;

  if (!cname(final, name, len))
    return STORE_BAD_NAME;
  snprintf(tmp, sizeof(tmp), "%s%ld-%u", TMP_PREFIX, (long)getpid(),
           atomic_fetch_add(&counter, 1));
  fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return STORE_IO;
  if (!write_all(fd, data, size) || fsync(fd) != 0)
    rc = STORE_IO;
  if (close(fd) != 0)
    rc = STORE_IO;
  if (rc == STORE_OK && linkat(s->dirfd, tmp, s->dirfd, final, 0) != 0)
    rc = errno == EEXIST ? STORE_EXISTS : STORE_IO;
  unlinkat(s->dirfd, tmp, 0);
  return rc;
}

store_rc store_get(store *s, const char *name, size_t len, size_t max,
                   uint8_t **data, size_t *size) {
  char cn[STORE_NAME_MAX + 1];
  struct stat st;
  uint8_t *buf;
  size_t got = 0;
  int fd;

  if (!cname(cn, name, len))
    return STORE_BAD_NAME;
  fd = openat(s->dirfd, cn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? STORE_NOT_FOUND : STORE_IO;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return STORE_IO;
  }
  if ((uint64_t)st.st_size > max) {
    close(fd);
    return STORE_TOO_BIG;
  }
  buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
  if (buf == NULL) {
    close(fd);
    return STORE_IO;
  }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  *data = buf;
  *size = got;
  return STORE_OK;
}

store_rc store_del(store *s, const char *name, size_t len) {
  char cn[STORE_NAME_MAX + 1];

  if (!cname(cn, name, len))
    return STORE_BAD_NAME;
  if (unlinkat(s->dirfd, cn, 0) != 0)
    return errno == ENOENT ? STORE_NOT_FOUND : STORE_IO;
  return STORE_OK;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

store_rc store_list(store *s, size_t limit,
                    void (*fn)(const char *name, uint64_t size, void *arg),
                    void *arg) {
  int fd = dup(s->dirfd);
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0;
  store_rc rc = STORE_OK;

  if (fd < 0 || (d = fdopendir(fd)) == NULL) {
    if (fd >= 0)
      close(fd);
    return STORE_IO;
  }
  rewinddir(d);
  while ((e = readdir(d)) != NULL && n < limit) {
    if (!store_name_ok(e->d_name, strlen(e->d_name)))
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 32;
      char **nn = realloc(names, ncap * sizeof(*nn));
      if (nn == NULL) {
        rc = STORE_IO;
        break;
      }
      names = nn;
      cap = ncap;
    }
    if ((names[n] = strdup(e->d_name)) == NULL) {
      rc = STORE_IO;
      break;
    }
    n++;
  }
  closedir(d);
  if (rc == STORE_OK)
    qsort(names, n, sizeof(*names), by_name);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (rc == STORE_OK && fstatat(s->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode))
      fn(names[i], (uint64_t)st.st_size, arg);
    free(names[i]);
  }
  free(names);
  return rc;
}
