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
#include <time.h>

#include "bench_common.h"
#include "codec_floor.h"

#ifdef NETFW_BENCH_HAVE_PROTOBUF_C
#include "file_storage.pb-c.h"
#endif
#ifdef NETFW_BENCH_HAVE_GEN
#include <netfw/netfw.h>

#include "file_storage.netfw.h"
#include "file_storage_bytes.netfw.h"
#endif

#define LIST_ENTRIES 16
#define ADD_FILE_SIZE 1024
#define BUF_SIZE 8192
#define MIN_RUN_NS 10000000ull /* 10 ms of CPU time per timed run */

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
 * The clock is the thread's CPU time, not the wall clock: on a shared machine
 * a 10 ms run is often preempted, and the time the thread waited for a core
 * would count as the codec's. (A busy machine still costs some cache misses
 * after each preemption.) */

static uint64_t cpu_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef int (*op_fn)(void); /* one encode+decode; < 0 on failure */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Iterations that make one run of op last MIN_RUN_NS (or --iters); 0 if op
 * failed. */
static uint64_t calibrate(op_fn op) {
  uint64_t iters = fixed_iters ? fixed_iters : 64;

  while (!fixed_iters) { /* grow until one run lasts MIN_RUN_NS */
    uint64_t t0 = cpu_now_ns(), t;
    for (uint64_t i = 0; i < iters; i++)
      if (op() < 0)
        return 0;
    t = cpu_now_ns() - t0;
    if (t >= MIN_RUN_NS || iters >= (1ull << 40))
      break;
    iters *= 2;
  }
  return iters;
}

/* ns per call of one run of op; negative if op failed. */
static double time_run(op_fn op, uint64_t iters) {
  uint64_t t0 = cpu_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    int v = op();
    if (v < 0)
      return -1;
    sink += (uint64_t)v;
  }
  return (double)(cpu_now_ns() - t0) / (double)iters;
}

/* Times the nops operations of ops[] (NULL: not built or not wanted) in
 * rounds: each round runs every operation once, in an order that is
 * reversed every other round, so that a busy machine disturbs all of them
 * alike. med[k] and best[k] get the median and the fastest run of ops[k]
 * (0 when not timed); false if an operation failed. */
static bool time_ops(op_fn *ops, int nops, double *med, double *best) {
  uint64_t iters[16];
  double ns[16][64];

  for (int k = 0; k < nops; k++) {
    med[k] = best[k] = 0;
    iters[k] = ops[k] != NULL ? calibrate(ops[k]) : 0;
    if (ops[k] != NULL && iters[k] == 0)
      return false;
  }
  for (int r = 0; r < runs; r++)
    for (int j = 0; j < nops; j++) {
      int k = r % 2 ? nops - 1 - j : j;
      if (ops[k] == NULL)
        continue;
      if ((ns[k][r] = time_run(ops[k], iters[k])) < 0)
        return false;
    }
  for (int k = 0; k < nops; k++) {
    if (ops[k] == NULL)
      continue;
    qsort(ns[k], (size_t)runs, sizeof(ns[k][0]), cmp_double);
    best[k] = ns[k][0];
    med[k] = ns[k][runs / 2];
  }
  return true;
}

/* ---- floor ------------------------------------------------------------------
 */

static uint8_t floor_buf[BUF_SIZE];

/* With UTF-8 validation of the names on decode (`string` fields). */
static int floor_list(void) {
  cf_file_entry out[LIST_ENTRIES];
  size_t n, count;

  if (cf_list_resp_encode(entries, LIST_ENTRIES, floor_buf, sizeof(floor_buf),
                          &n) != CF_OK ||
      cf_list_resp_decode(floor_buf, n, out, LIST_ENTRIES, &count) != CF_OK)
    return -1;
  return (int)(count + out[count - 1].size + out[0].name_len);
}

/* Without (`bytes` fields). */
static int floor_list_b(void) {
  cf_file_entry out[LIST_ENTRIES];
  size_t n, count;

  if (cf_list_resp_encode(entries, LIST_ENTRIES, floor_buf, sizeof(floor_buf),
                          &n) != CF_OK ||
      cf_list_resp_decode_bytes(floor_buf, n, out, LIST_ENTRIES, &count) !=
          CF_OK)
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

static int floor_add_b(void) {
  cf_add out;
  size_t n;

  if (cf_add_encode(&add_msg, floor_buf, sizeof(floor_buf), &n) != CF_OK ||
      cf_add_decode_bytes(floor_buf, n, &out) != CF_OK)
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

/* The same messages with the names as bytes (bench/file_storage_bytes.netproto):
 * no UTF-8 validation. */
static fs_bytes_FileEntry genb_entries[LIST_ENTRIES];
static fs_bytes_ListResp genb_list;
static fs_bytes_Add genb_add;

static void gen_setup(void) {
  netfw_msg_init(&gen_msg, 0);
  for (int i = 0; i < LIST_ENTRIES; i++) {
    genb_entries[i].name.ptr = (const uint8_t *)entries[i].name;
    genb_entries[i].name.len = entries[i].name_len;
    genb_entries[i].size = entries[i].size;
  }
  genb_list.files = genb_entries;
  genb_list.files_count = LIST_ENTRIES;
  genb_add.filename.ptr = (const uint8_t *)add_msg.filename;
  genb_add.filename.len = add_msg.filename_len;
  genb_add.file.ptr = add_msg.file;
  genb_add.file.len = add_msg.file_len;
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

static int genb_list_op(void) {
  fs_bytes_ListResp out;

  netfw_msg_clear(&gen_msg);
  netfw_arena_reset(&gen_arena);
  if (fs_bytes_ListResp_encode(&genb_list, &gen_msg) != 0 ||
      fs_bytes_ListResp_decode(&gen_msg, &out, &gen_arena) != 0)
    return -1;
  return (int)(out.files_count + out.files[out.files_count - 1].size +
               out.files[0].name.len);
}

static int genb_add_op(void) {
  fs_bytes_Add out;

  netfw_msg_clear(&gen_msg);
  if (fs_bytes_Add_encode(&genb_add, &gen_msg) != 0 ||
      fs_bytes_Add_decode(&gen_msg, &out, &gen_arena) != 0)
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
  netfw_msg_clear(&gen_msg);
  if (fs_bytes_ListResp_encode(&genb_list, &gen_msg) != 0 ||
      cf_list_resp_encode(entries, LIST_ENTRIES, floor_buf, sizeof(floor_buf),
                          &n) != CF_OK ||
      netfw_msg_size(&gen_msg) != n ||
      memcmp(netfw_msg_payload(&gen_msg), floor_buf, n) != 0)
    return false;
  return gen_list_op() >= 0 && gen_add_op() >= 0 && genb_list_op() >= 0 &&
         genb_add_op() >= 0;
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
    printf(" %10.1f", ns);
  else
    printf(" %10s", "n/a");
}

static bool wanted(const char *codec) {
  return only == NULL || strcmp(only, codec) == 0;
}

/* The timed operations, in table order: per row floor, generated,
 * protobuf-c. */
enum { ROWS = 4, COLS = 3 };
static const char *const row_names[ROWS] = {
    "ListResp(16)", "ListResp(16) bytes", "Add(1 KiB)", "Add(1 KiB) bytes"};

static void print_table(const char *what, const double *t) {
  printf("%-19s %10s %10s %11s %10s %10s   (%s)\n", "message", "floor",
         "generated", "protobuf-c", "gen/floor", "pbc/gen", what);
  for (int i = 0; i < ROWS; i++) {
    const double *c = t + i * COLS;
    printf("%-19s", row_names[i]);
    print_ns(c[0]);
    print_ns(c[1]);
    print_ns(c[2]);
    print_ratio(c[1], c[0]);
    print_ratio(c[2], c[1]);
    printf("\n");
  }
}

int main(int argc, char **argv) {
  op_fn ops[ROWS * COLS] = {0};
  double med[ROWS * COLS], best[ROWS * COLS];
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
  if (wanted("floor")) {
    ops[0] = floor_list;
    ops[3] = floor_list_b;
    ops[6] = floor_add;
    ops[9] = floor_add_b;
  }
#ifdef NETFW_BENCH_HAVE_GEN
  gen_setup();
  if (!gen_check()) {
    fprintf(stderr, "codec-bench: generated code: round trip failed or bytes "
                    "differ from the floor's\n");
    return 1;
  }
  if (wanted("gen")) {
    ops[1] = gen_list_op;
    ops[4] = genb_list_op;
    ops[7] = gen_add_op;
    ops[10] = genb_add_op;
  }
#endif
#ifdef NETFW_BENCH_HAVE_PROTOBUF_C
  pb_setup();
  if (!pb_check(&pb_bytes[0], &pb_bytes[1])) {
    fprintf(stderr, "codec-bench: protobuf-c round trip failed\n");
    return 1;
  }
  if (wanted("pbc")) {
    ops[2] = pb_list_op;
    ops[8] = pb_add_op;
  }
#endif
  if (!time_ops(ops, ROWS * COLS, med, best)) {
    fprintf(stderr, "codec-bench: an operation failed while timed\n");
    return 1;
  }
#ifdef NETFW_BENCH_HAVE_GEN
  gen_teardown();
#endif

  printf("codec-bench: ns (thread CPU time) per encode+decode; median and "
         "fastest of %d runs\n",
         runs);
#ifndef NETFW_BENCH_HAVE_GEN
  printf("  generated: not built (netfw-gen's file_storage code not enabled; "
         "see bench/CMakeLists.txt)\n");
#endif
#ifndef NETFW_BENCH_HAVE_PROTOBUF_C
  printf("  protobuf-c: not built (install protobuf-c-compiler and "
         "libprotobuf-c-dev, then reconfigure)\n");
#endif
  printf("  (\"bytes\": the names as bytes, no UTF-8 validation; "
         "floor and generated\n   alternate within each round)\n");
  print_table("median", med);
  print_table("fastest run", best);
  printf("encoded bytes: ListResp(16) %zu (protobuf %zu), Add(1 KiB) %zu "
         "(protobuf %zu)\n",
         floor_bytes[0], pb_bytes[0], floor_bytes[1], pb_bytes[1]);
  return 0;
}
