/* Replays fuzz inputs without libFuzzer: every file named on the command
 * line, and every file inside a named directory, is passed once to
 * LLVMFuzzerTestOneInput. This is how `make test` runs the checked-in
 * corpora on machines without clang's fuzzer runtime. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  long len;

  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0 ||
      (buf = malloc(len > 0 ? (size_t)len : 1)) == NULL ||
      fread(buf, 1, (size_t)len, f) != (size_t)len) {
    fprintf(stderr, "cannot read %s\n", path);
    if (f != NULL)
      fclose(f);
    free(buf);
    return -1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)len);
  free(buf);
  return 1;
}

static int replay(const char *path) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  int n = 0;

  if (stat(path, &st) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode))
    return replay_file(path);
  if ((d = opendir(path)) == NULL)
    return -1;
  while ((e = readdir(d)) != NULL) {
    char child[4096];
    int r;
    if (e->d_name[0] == '.')
      continue;
    snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
    if ((r = replay(child)) < 0) {
      closedir(d);
      return -1;
    }
    n += r;
  }
  closedir(d);
  return n;
}

int main(int argc, char **argv) {
  int total = 0;

  for (int i = 1; i < argc; i++) {
    int n = replay(argv[i]);
    if (n < 0)
      return 2;
    total += n;
  }
  if (total == 0) {
    fprintf(stderr, "no inputs replayed\n");
    return 1;
  }
  printf("%d passed, 0 failed\n", total);
  return 0;
}
