/* codec-bench: nanoseconds per encode+decode of file_storage's ListResp (16
 * entries) and Add (1 KiB file), up to three ways in one run:
 *   floor       the hand-written fixed-layout codec (codec_floor.c)
 *   generated   netfw-gen's code (built with -DNETFW_BENCH_HAVE_GEN)
 *   protobuf-c  an equivalent .proto (built with -DNETFW_BENCH_HAVE_PROTOBUF_C
 *               when Debian's protobuf-c-compiler and libprotobuf-c-dev are
 *               installed)
 * Each figure is the median of several timed runs; each run repeats the
 * operation until it lasted long enough to time. Every codec's output is
 * decoded and compared with the input once before timing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "codec_floor.h"

#ifdef NETFW_BENCH_HAVE_PROTOBUF_C
#include "file_storage.pb-c.h"
#endif
#ifdef NETFW_BENCH_HAVE_GEN
#include <netfw/netfw.h>

#include "file_storage.netfw.h"
#endif

#define LIST_ENTRIES 16
#define ADD_FILE_SIZE 1024
#define BUF_SIZE 8192
#define MIN_RUN_NS 20000000ull /* 20 ms per timed run */

static int runs = 9;
static uint64_t fixed_iters;   /* --iters: no calibration (for profilers) */
static const char *only;       /* --only: time one codec */
static volatile uint64_t sink; /* keeps results alive */

/* ---- the test messages ----------------------------------------------------
 */

static char names[LIST_ENTRIES][32];
static cf_file_entry entries[LIST_ENTRIES];
static uint8_t file_bytes[ADD_FILE_SIZE];
static cf_add add_msg;

static void make_messages(void) {
  static const char *stems[] = {"notes",      "report-final", "a",
                                "photo_0042", "ünïcödé-name", "backup.tar"};
  for (int i = 0; i < LIST_ENTRIES; i++) {
    int n = snprintf(names[i], sizeof(names[i]), "%s-%02d.dat",
                     stems[i % (int)(sizeof(stems) / sizeof(stems[0]))], i);
    entries[i].name = names[i];
    entries[i].name_len = (uint32_t)n;
    entries[i].size = (uint32_t)(i * 100003u + 17u);
  }
  for (int i = 0; i < ADD_FILE_SIZE; i++)
    file_bytes[i] = (uint8_t)(i * 7 + 3);
  add_msg.filename = "upload-0001.bin";
  add_msg.filename_len = (uint32_t)strlen(add_msg.filename);
  add_msg.file = file_bytes;
  add_msg.file_len = ADD_FILE_SIZE;
}

/* ---- timing -----------------------------------------------------------------
 */

typedef int (*op_fn)(void); /* one encode+decode; < 0 on failure */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ns per call of op over `runs` runs (*best: the fastest run, less
 * disturbed by a busy machine); negative if op failed. */
static double time_op(op_fn op, double *best) {
  uint64_t iters = fixed_iters ? fixed_iters : 64;
  double ns[64];

  while (!fixed_iters) { /* calibrate: grow until one run lasts MIN_RUN_NS */
    uint64_t t0 = bench_now_ns(), t;
    for (uint64_t i = 0; i < iters; i++)
      if (op() < 0)
        return -1;
    t = bench_now_ns() - t0;
    if (t >= MIN_RUN_NS || iters >= (1ull << 40))
      break;
    iters *= 2;
  }
  for (int r = 0; r < runs; r++) {
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
      int v = op();
      if (v < 0)
        return -1;
      sink += (uint64_t)v;
    }
    ns[r] = (double)(bench_now_ns() - t0) / (double)iters;
  }
  qsort(ns, (size_t)runs, sizeof(ns[0]), cmp_double);
  *best = ns[0];
  return ns[runs / 2];
}

/* ---- floor ------------------------------------------------------------------
 */

static uint8_t floor_buf[BUF_SIZE];

static int floor_list(void) {
  cf_file_entry out[LIST_ENTRIES];
  size_t n, count;

  if (cf_list_resp_encode(entries, LIST_ENTRIES, floor_buf, sizeof(floor_buf),
                          &n) != CF_OK ||
      cf_list_resp_decode(floor_buf, n, out, LIST_ENTRIES, &count) != CF_OK)
    return -1;
  return (int)(count + out[count - 1].size + out[0].name_len);
}

static int floor_add(void) {
  cf_add out;
  size_t n;

  if (cf_add_encode(&add_msg, floor_buf, sizeof(floor_buf), &n) != CF_OK ||
      cf_add_decode(floor_buf, n, &out) != CF_OK)
    return -1;
  return (int)(out.file_len + out.file[ADD_FILE_SIZE - 1]);
}

static bool floor_check(size_t *list_bytes, size_t *add_bytes) {
  cf_file_entry out[LIST_ENTRIES];
  cf_add a;
  size_t n, count;

  if (cf_list_resp_encode(entries, LIST_ENTRIES, floor_buf, sizeof(floor_buf),
                          &n) != CF_OK ||
      cf_list_resp_decode(floor_buf, n, out, LIST_ENTRIES, &count) != CF_OK ||
      count != LIST_ENTRIES)
    return false;
  *list_bytes = n;
  for (int i = 0; i < LIST_ENTRIES; i++)
    if (out[i].size != entries[i].size ||
        out[i].name_len != entries[i].name_len ||
        memcmp(out[i].name, entries[i].name, entries[i].name_len) != 0)
      return false;
  if (cf_add_encode(&add_msg, floor_buf, sizeof(floor_buf), &n) != CF_OK ||
      cf_add_decode(floor_buf, n, &a) != CF_OK)
    return false;
  *add_bytes = n;
  return a.filename_len == add_msg.filename_len &&
         memcmp(a.filename, add_msg.filename, a.filename_len) == 0 &&
         a.file_len == ADD_FILE_SIZE &&
         memcmp(a.file, file_bytes, ADD_FILE_SIZE) == 0;
}

/* ---- generated code
 * ---------------------------------------------------------- Written against
 * the generated API of DESIGN.md section 5 for `protocol file_storage;`. The
 * message is reused (netfw_msg_clear keeps its capacity) and the arena reset
 * per decode, as the server's dispatch does. */
#ifdef NETFW_BENCH_HAVE_GEN
static netfw_msg gen_msg;
static netfw_arena gen_arena;
static file_storage_FileEntry gen_entries[LIST_ENTRIES];
static file_storage_ListResp gen_list;
static file_storage_Add gen_add;

static void gen_setup(void) {
  netfw_msg_init(&gen_msg, 0);
  netfw_arena_init(&gen_arena);
  for (int i = 0; i < LIST_ENTRIES; i++) {
    gen_entries[i].name.ptr = entries[i].name;
    gen_entries[i].name.len = entries[i].name_len;
    gen_entries[i].size = entries[i].size;
  }
  gen_list.files = gen_entries;
  gen_list.files_count = LIST_ENTRIES;
  gen_add.filename.ptr = add_msg.filename;
  gen_add.filename.len = add_msg.filename_len;
  gen_add.file.ptr = add_msg.file;
  gen_add.file.len = add_msg.file_len;
}

static void gen_teardown(void) {
  netfw_msg_release(&gen_msg);
  netfw_arena_free(&gen_arena);
}

static int gen_list_op(void) {
  file_storage_ListResp out;

  netfw_msg_clear(&gen_msg);
  netfw_arena_reset(&gen_arena);
  if (file_storage_ListResp_encode(&gen_list, &gen_msg) != 0 ||
      file_storage_ListResp_decode(&gen_msg, &out, &gen_arena) != 0)
    return -1;
  return (int)(out.files_count + out.files[out.files_count - 1].size +
               out.files[0].name.len);
}

static int gen_add_op(void) {
  file_storage_Add out;

  netfw_msg_clear(&gen_msg);
  if (file_storage_Add_encode(&gen_add, &gen_msg) != 0 ||
      file_storage_Add_decode(&gen_msg, &out, &gen_arena) != 0)
    return -1;
  return (int)(out.file.len + out.file.ptr[ADD_FILE_SIZE - 1]);
}

/* The generated bytes must be the floor's bytes: same schema, same layout. */
static bool gen_check(void) {
  size_t n;

  netfw_msg_clear(&gen_msg);
  if (file_storage_ListResp_encode(&gen_list, &gen_msg) != 0 ||
      cf_list_resp_encode(entries, LIST_ENTRIES, floor_buf, sizeof(floor_buf),
                          &n) != CF_OK ||
      netfw_msg_size(&gen_msg) != n ||
      memcmp(netfw_msg_payload(&gen_msg), floor_buf, n) != 0)
    return false;
  netfw_msg_clear(&gen_msg);
  if (file_storage_Add_encode(&gen_add, &gen_msg) != 0 ||
      cf_add_encode(&add_msg, floor_buf, sizeof(floor_buf), &n) != CF_OK ||
      netfw_msg_size(&gen_msg) != n ||
      memcmp(netfw_msg_payload(&gen_msg), floor_buf, n) != 0)
    return false;
  return gen_list_op() >= 0 && gen_add_op() >= 0;
}
#endif

/* ---- protobuf-c
 * ---------------------------------------------------------------- Typical use:
 * get_packed_size + pack into a buffer, unpack (which allocates through the
 * default allocator) and free_unpacked. */
#ifdef NETFW_BENCH_HAVE_PROTOBUF_C
static Netfwbench__FileEntry pb_entries[LIST_ENTRIES];
static Netfwbench__FileEntry *pb_entry_ptrs[LIST_ENTRIES];
static char pb_names[LIST_ENTRIES][32];
static Netfwbench__ListResp pb_list = NETFWBENCH__LIST_RESP__INIT;
static Netfwbench__Add pb_add = NETFWBENCH__ADD__INIT;
static char pb_filename[64];
static uint8_t pb_buf[BUF_SIZE];

static void pb_setup(void) {
  for (int i = 0; i < LIST_ENTRIES; i++) {
    netfwbench__file_entry__init(&pb_entries[i]);
    memcpy(pb_names[i], entries[i].name, entries[i].name_len);
    pb_names[i][entries[i].name_len] = '\0';
    pb_entries[i].name = pb_names[i];
    pb_entries[i].size = entries[i].size;
    pb_entry_ptrs[i] = &pb_entries[i];
  }
  pb_list.n_files = LIST_ENTRIES;
  pb_list.files = pb_entry_ptrs;
  snprintf(pb_filename, sizeof(pb_filename), "%.*s", (int)add_msg.filename_len,
           add_msg.filename);
  pb_add.filename = pb_filename;
  pb_add.file.data = file_bytes;
  pb_add.file.len = ADD_FILE_SIZE;
}

static int pb_list_op(void) {
  size_t n = netfwbench__list_resp__get_packed_size(&pb_list);
  Netfwbench__ListResp *out;
  int v;

  if (n > sizeof(pb_buf))
    return -1;
  netfwbench__list_resp__pack(&pb_list, pb_buf);
  out = netfwbench__list_resp__unpack(NULL, n, pb_buf);
  if (out == NULL || out->n_files != LIST_ENTRIES) {
    if (out != NULL)
      netfwbench__list_resp__free_unpacked(out, NULL);
    return -1;
  }
  v = (int)(out->n_files + out->files[LIST_ENTRIES - 1]->size +
            (uint32_t)strlen(out->files[0]->name));
  netfwbench__list_resp__free_unpacked(out, NULL);
  return v;
}

static int pb_add_op(void) {
  size_t n = netfwbench__add__get_packed_size(&pb_add);
  Netfwbench__Add *out;
  int v;

  if (n > sizeof(pb_buf))
    return -1;
  netfwbench__add__pack(&pb_add, pb_buf);
  out = netfwbench__add__unpack(NULL, n, pb_buf);
  if (out == NULL || out->file.len != ADD_FILE_SIZE) {
    if (out != NULL)
      netfwbench__add__free_unpacked(out, NULL);
    return -1;
  }
  v = (int)(out->file.len + out->file.data[ADD_FILE_SIZE - 1]);
  netfwbench__add__free_unpacked(out, NULL);
  return v;
}

static bool pb_check(size_t *list_bytes, size_t *add_bytes) {
  size_t n = netfwbench__list_resp__get_packed_size(&pb_list);
  Netfwbench__ListResp *l;
  Netfwbench__Add *a;
  bool ok = true;

  netfwbench__list_resp__pack(&pb_list, pb_buf);
  l = netfwbench__list_resp__unpack(NULL, n, pb_buf);
  if (l == NULL || l->n_files != LIST_ENTRIES)
    ok = false;
  for (int i = 0; ok && i < LIST_ENTRIES; i++)
    ok = l->files[i]->size == entries[i].size &&
         strcmp(l->files[i]->name, pb_names[i]) == 0;
  if (l != NULL)
    netfwbench__list_resp__free_unpacked(l, NULL);
  *list_bytes = n;
  n = netfwbench__add__get_packed_size(&pb_add);
  netfwbench__add__pack(&pb_add, pb_buf);
  a = netfwbench__add__unpack(NULL, n, pb_buf);
  ok = ok && a != NULL && a->file.len == ADD_FILE_SIZE &&
       memcmp(a->file.data, file_bytes, ADD_FILE_SIZE) == 0 &&
       strcmp(a->filename, pb_filename) == 0;
  if (a != NULL)
    netfwbench__add__free_unpacked(a, NULL);
  *add_bytes = n;
  return ok;
}
#endif

/* ---- report
 * ------------------------------------------------------------------- */

static void print_ratio(double num, double den) {
  if (num > 0 && den > 0)
    printf(" %10.2f", num / den);
  else
    printf(" %10s", "n/a");
}

static void print_ns(double ns) {
  if (ns > 0)
    printf(" %11.1f", ns);
  else
    printf(" %11s", "n/a");
}

static bool wanted(const char *codec) {
  return only == NULL || strcmp(only, codec) == 0;
}

static void print_table(const char *what, const double *fl, const double *gen,
                        const double *pb) {
  static const char *msg_names[2] = {"ListResp(16)", "Add(1 KiB)"};

  printf("%-13s %11s %11s %11s %10s %10s %10s   (%s)\n", "message", "floor",
         "generated", "protobuf-c", "gen/floor", "pbc/gen", "pbc/floor", what);
  for (int i = 0; i < 2; i++) {
    printf("%-13s", msg_names[i]);
    print_ns(fl[i]);
    print_ns(gen[i]);
    print_ns(pb[i]);
    print_ratio(gen[i], fl[i]);
    print_ratio(pb[i], gen[i]);
    print_ratio(pb[i], fl[i]);
    printf("\n");
  }
}

int main(int argc, char **argv) {
  double t_floor[2], t_gen[2] = {0, 0}, t_pb[2] = {0, 0};
  double b_floor[2], b_gen[2] = {0, 0}, b_pb[2] = {0, 0};
  size_t floor_bytes[2], pb_bytes[2] = {0, 0};
  unsigned long v;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc &&
        bench_parse_ulong(argv[i + 1], 1, 63, &v) == 0) {
      runs = (int)v;
      i++;
    } else if (strcmp(argv[i], "--quick") == 0) {
      runs = 3;
    } else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc &&
               bench_parse_ulong(argv[i + 1], 1, 1ul << 40, &v) == 0) {
      fixed_iters = v;
      i++;
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
               (strcmp(argv[i + 1], "floor") == 0 ||
                strcmp(argv[i + 1], "gen") == 0 ||
                strcmp(argv[i + 1], "pbc") == 0)) {
      only = argv[++i];
    } else {
      fprintf(stderr,
              "usage: codec-bench [--runs N (1..63, default 9)] [--quick]\n"
              "                   [--iters N] [--only floor|gen|pbc]\n"
              "  --iters N  N operations per run instead of calibrating to "
              "20 ms\n"
              "  --only C   time only codec C (with --iters: for callgrind or "
              "perf)\n");
      return 2;
    }
  }
  make_messages();
  if (!floor_check(&floor_bytes[0], &floor_bytes[1])) {
    fprintf(stderr, "codec-bench: the floor codec failed its round trip\n");
    return 1;
  }
  t_floor[0] = t_floor[1] = b_floor[0] = b_floor[1] = 0;
  if (wanted("floor")) {
    t_floor[0] = time_op(floor_list, &b_floor[0]);
    t_floor[1] = time_op(floor_add, &b_floor[1]);
  }
#ifdef NETFW_BENCH_HAVE_GEN
  gen_setup();
  if (!gen_check()) {
    fprintf(stderr, "codec-bench: generated code: round trip failed or bytes "
                    "differ from the floor's\n");
    return 1;
  }
  if (wanted("gen")) {
    t_gen[0] = time_op(gen_list_op, &b_gen[0]);
    t_gen[1] = time_op(gen_add_op, &b_gen[1]);
  }
  gen_teardown();
#endif
#ifdef NETFW_BENCH_HAVE_PROTOBUF_C
  pb_setup();
  if (!pb_check(&pb_bytes[0], &pb_bytes[1])) {
    fprintf(stderr, "codec-bench: protobuf-c round trip failed\n");
    return 1;
  }
  if (wanted("pbc")) {
    t_pb[0] = time_op(pb_list_op, &b_pb[0]);
    t_pb[1] = time_op(pb_add_op, &b_pb[1]);
  }
#endif
  if (t_floor[0] < 0 || t_floor[1] < 0 || t_gen[0] < 0 || t_gen[1] < 0 ||
      t_pb[0] < 0 || t_pb[1] < 0) {
    fprintf(stderr, "codec-bench: an operation failed while timed\n");
    return 1;
  }

  printf("codec-bench: ns per encode+decode; median and fastest of %d runs\n",
         runs);
#ifndef NETFW_BENCH_HAVE_GEN
  printf("  generated: not built (netfw-gen's file_storage code not enabled; "
         "see bench/CMakeLists.txt)\n");
#endif
#ifndef NETFW_BENCH_HAVE_PROTOBUF_C
  printf("  protobuf-c: not built (install protobuf-c-compiler and "
         "libprotobuf-c-dev, then reconfigure)\n");
#endif
  print_table("median", t_floor, t_gen, t_pb);
  print_table("fastest run", b_floor, b_gen, b_pb);
  printf("encoded bytes: ListResp(16) %zu (protobuf %zu), Add(1 KiB) %zu "
         "(protobuf %zu)\n",
         floor_bytes[0], pb_bytes[0], floor_bytes[1], pb_bytes[1]);
  return 0;
}
