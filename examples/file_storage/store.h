/* The file store behind file_storage_server: a flat directory of files,
 * safe against names that try to escape it and against concurrent workers.
 *
 * Every write goes to a private temporary file that is then linked under its
 * final name (link fails if the name exists), so concurrent ADDs of one name
 * give exactly one success and a reader never sees a half-written file.
 *
 * Every call blocks on the disk: an event-loop program calls them from a
 * thread pool (file_storage_server does, through uv_queue_work). */
#ifndef FILE_STORAGE_STORE_H
#define FILE_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum store_rc {
  STORE_OK = 0,
  STORE_EXISTS,      /* add: the name is taken                         */
  STORE_NOT_FOUND,   /* get/del: no such file                          */
  STORE_BAD_NAME,    /* empty, too long, '/', NUL, "." or "..", or ours */
  STORE_TOO_BIG,     /* get: file larger than the caller's limit       */
  STORE_IO,          /* a system call failed (errno kept)              */
  STORE_NOT_REGULAR, /* get: a FIFO, device, directory or symlink     */
  STORE_QUOTA        /* add: the stored files would exceed the quota   */
} store_rc;

/* store_add_quota's quota meaning "none". */
#define STORE_NO_QUOTA UINT64_MAX

typedef struct store {
  int dirfd;
} store;

/* Largest name the protocol can carry (u8 length prefix). */
#define STORE_NAME_MAX 255

/* Opens dir (which must exist). Returns STORE_OK or STORE_IO. */
store_rc store_open(store *s, const char *dir);

/* Closes the directory handle. */
void store_close(store *s);

/* True if name[0..len) is a plain file name inside the store. */
bool store_name_ok(const char *name, size_t len);

/* Stores a new file. STORE_OK, STORE_EXISTS, STORE_BAD_NAME or STORE_IO. */
store_rc store_add(store *s, const char *name, size_t len, const uint8_t *data,
                   size_t size);

/* Stores a new file unless the stored files (what store_list shows) would
 * then total more than quota bytes: STORE_QUOTA. The check and the publish
 * happen under a lock on the directory (flock), so servers sharing it with
 * the same quota never exceed it together. Else as store_add. */
store_rc store_add_quota(store *s, const char *name, size_t len,
                         const uint8_t *data, size_t size, uint64_t quota);

/* Opens a stored file for reading without ever blocking on what is not a
 * regular file (O_NONBLOCK|O_NOFOLLOW, then fstat): *fd (caller closes)
 * and its *size now. STORE_OK, STORE_NOT_FOUND, STORE_BAD_NAME,
 * STORE_NOT_REGULAR or STORE_IO. */
store_rc store_open_file(store *s, const char *name, size_t len, int *fd,
                         uint64_t *size);

/* Reads up to n bytes at offset off of fd (retrying EINTR and short reads
 * until n or end of file). Returns the count read (0 at end of file) or -1
 * with errno set. */
long store_read_at(int fd, uint8_t *buf, size_t n, uint64_t off);

/* Sums the sizes of the stored files (as listed) into *bytes. STORE_OK or
 * STORE_IO. */
store_rc store_usage(store *s, uint64_t *bytes);

/* Removes the temporary files of writers that no longer run (the pid in
 * their name is gone: a worker killed mid-ADD); counts them in *removed.
 * STORE_OK or STORE_IO. */
store_rc store_sweep_tmp(store *s, unsigned *removed);

/* Reads a whole file into *data (malloc'ed, caller frees) of *size bytes, at
 * most max bytes. STORE_OK, STORE_NOT_FOUND, STORE_BAD_NAME, STORE_TOO_BIG,
 * STORE_NOT_REGULAR or STORE_IO. Blocking: call it off the event loop. */
store_rc store_get(store *s, const char *name, size_t len, size_t max,
                   uint8_t **data, size_t *size);

/* Removes a file. STORE_OK, STORE_NOT_FOUND, STORE_BAD_NAME or STORE_IO. */
store_rc store_del(store *s, const char *name, size_t len);

/* Calls fn for every stored file (at most limit of them), in name order.
 * Returns STORE_OK or STORE_IO. */
store_rc store_list(store *s, size_t limit,
                    void (*fn)(const char *name, uint64_t size, void *arg),
                    void *arg);

#endif /* FILE_STORAGE_STORE_H */
