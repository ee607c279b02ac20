/* The file store: a flat directory, writes published atomically by link(). */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary files carry this prefix; user names may not. */
static const char TMP_PREFIX[] = ".netfw-tmp-";

bool store_name_ok(const char *name, size_t len) {
  if (len == 0 || len > STORE_NAME_MAX)
    return false;
  if (memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
    return false;
  if ((len == 1 && name[0] == '.') ||
      (len == 2 && name[0] == '.' && name[1] == '.'))
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

/* Writes data to a new temporary file in the store, named into tmp. */
static store_rc write_tmp(store *s, char tmp[64], const uint8_t *data,
                          size_t size) {
  static atomic_uint counter;
  store_rc rc = STORE_OK;
  int fd;

  snprintf(tmp, 64, "%s%ld-%u", TMP_PREFIX, (long)getpid(),
           atomic_fetch_add(&counter, 1));
  fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return STORE_IO;
  if (!write_all(fd, data, size) || fsync(fd) != 0)
    rc = STORE_IO;
  if (close(fd) != 0)
    rc = STORE_IO;
  return rc;
}

/* Locks the directory against other quota checks: flock on an open file
 * description of its own, so it excludes this process's other threads as
 * well as other processes. Returns the descriptor to close, or -1. */
static int lock_dir(store *s) {
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int err;

  if (fd < 0)
    return -1;
  while ((err = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
    ;
  if (err != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* STORE_QUOTA when size more bytes would take the store over quota
 * (STORE_EXISTS first when final is taken anyway). Call under lock_dir. */
static store_rc check_quota(store *s, const char *final, size_t size,
                            uint64_t quota) {
  struct stat st;
  uint64_t used;

  if (store_usage(s, &used) != STORE_OK)
    return STORE_IO;
  if (used <= quota && size <= quota - used)
    return STORE_OK;
  return fstatat(s->dirfd, final, &st, AT_SYMLINK_NOFOLLOW) == 0 ? STORE_EXISTS
                                                                 : STORE_QUOTA;
}

/* Publishes tmp as final (link: fails if final exists), within quota. */
static store_rc publish(store *s, const char *tmp, const char *final,
                        size_t size, uint64_t quota) {
  int lock = -1;
  store_rc rc = STORE_OK;

  if (quota != STORE_NO_QUOTA) {
    if ((lock = lock_dir(s)) < 0)
      return STORE_IO;
    rc = check_quota(s, final, size, quota);
  }
  if (rc == STORE_OK && linkat(s->dirfd, tmp, s->dirfd, final, 0) != 0)
    rc = errno == EEXIST ? STORE_EXISTS : STORE_IO;
  if (lock >= 0)
    close(lock);
  return rc;
}

store_rc store_add_quota(store *s, const char *name, size_t len,
                         const uint8_t *data, size_t size, uint64_t quota) {
  char final[STORE_NAME_MAX + 1];
  char tmp[64];
  store_rc rc;

  if (!cname(final, name, len))
    return STORE_BAD_NAME;
  if (quota != STORE_NO_QUOTA && size > quota)
    return STORE_QUOTA;
  rc = write_tmp(s, tmp, data, size);
  if (rc == STORE_OK)
    rc = publish(s, tmp, final, size, quota);
  unlinkat(s->dirfd, tmp, 0);
  return rc;
}

store_rc store_add(store *s, const char *name, size_t len, const uint8_t *data,
                   size_t size) {
  return store_add_quota(s, name, len, data, size, STORE_NO_QUOTA);
}

store_rc store_open_file(store *s, const char *name, size_t len, int *fd,
                         uint64_t *size) {
  char cn[STORE_NAME_MAX + 1];
  struct stat st;

  if (!cname(cn, name, len))
    return STORE_BAD_NAME;
  /* refuse before opening what is no regular file (a device's open may act) */
  if (fstatat(s->dirfd, cn, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? STORE_NOT_FOUND : STORE_IO;
  if (!S_ISREG(st.st_mode))
    return STORE_NOT_REGULAR;
  /* it may have been replaced since: O_NONBLOCK keeps a FIFO from blocking
     the open, O_NOFOLLOW refuses a symlink, fstat tells what was opened */
  *fd = openat(s->dirfd, cn, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (*fd < 0)
    return errno == ENOENT  ? STORE_NOT_FOUND
           : errno == ELOOP ? STORE_NOT_REGULAR
                            : STORE_IO;
  if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    store_rc rc = S_ISREG(st.st_mode) ? STORE_IO : STORE_NOT_REGULAR;
    close(*fd);
    *fd = -1;
    return rc;
  }
  *size = (uint64_t)st.st_size;
  return STORE_OK;
}

long store_read_at(int fd, uint8_t *buf, size_t n, uint64_t off) {
  size_t got = 0;

  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return (long)got;
}

store_rc store_get(store *s, const char *name, size_t len, size_t max,
                   uint8_t **data, size_t *size) {
  uint64_t fsize;
  uint8_t *buf;
  long got;
  int fd;
  store_rc rc = store_open_file(s, name, len, &fd, &fsize);

  if (rc != STORE_OK)
    return rc;
  if (fsize > max) {
    close(fd);
    return STORE_TOO_BIG;
  }
  buf = malloc(fsize > 0 ? (size_t)fsize : 1);
  got = buf != NULL ? store_read_at(fd, buf, (size_t)fsize, 0) : -1;
  close(fd);
  if (got < 0) {
    free(buf);
    return STORE_IO;
  }
  *data = buf;
  *size = (size_t)got;
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

/* Opens a directory stream of the store (its own descriptor). */
static DIR *open_dir(store *s) {
  int fd = dup(s->dirfd);
  DIR *d;

  if (fd < 0)
    return NULL;
  if ((d = fdopendir(fd)) == NULL) {
    close(fd);
    return NULL;
  }
  rewinddir(d);
  return d;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

store_rc store_list(store *s, size_t limit,
                    void (*fn)(const char *name, uint64_t size, void *arg),
                    void *arg) {
  DIR *d = open_dir(s);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0;
  store_rc rc = STORE_OK;

  if (d == NULL)
    return STORE_IO;
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
  if (rc == STORE_OK && n > 0) /* names is NULL when the directory is empty */
    qsort(names, n, sizeof(*names), by_name);
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (rc == STORE_OK &&
        fstatat(s->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode))
      fn(names[i], (uint64_t)st.st_size, arg);
    free(names[i]);
  }
  free(names);
  return rc;
}

store_rc store_usage(store *s, uint64_t *bytes) {
  DIR *d = open_dir(s);
  struct dirent *e;
  struct stat st;

  *bytes = 0;
  if (d == NULL)
    return STORE_IO;
  while ((e = readdir(d)) != NULL) {
    if (store_name_ok(e->d_name, strlen(e->d_name)) &&
        fstatat(s->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode))
      *bytes += (uint64_t)st.st_size;
  }
  closedir(d);
  return STORE_OK;
}

/* True when the temporary file name belongs to a process still running
 * (".netfw-tmp-PID-N"; kill(PID, 0) finds it). */
static bool tmp_owner_alive(const char *name) {
  char *end;
  long pid = strtol(name + sizeof(TMP_PREFIX) - 1, &end, 10);

  if (pid <= 0 || *end != '-')
    return false;
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

store_rc store_sweep_tmp(store *s, unsigned *removed) {
  DIR *d = open_dir(s);
  struct dirent *e;

  *removed = 0;
  if (d == NULL)
    return STORE_IO;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) != 0 ||
        tmp_owner_alive(e->d_name))
      continue;
    if (unlinkat(s->dirfd, e->d_name, 0) == 0)
      (*removed)++;
  }
  closedir(d);
  return STORE_OK;
}
