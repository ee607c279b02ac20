/* netfw-gen --check-compat: whether every peer built from an old version of
 * a schema can talk to every peer built from a new one, both ways
 * (docs/compat.md has the rules, the text and JSON reports and the exit
 * statuses).
 *
 * run.c     gen_compat_run(): load both, compare, report
 * load.c    one schema file: read, parse, check (no back end's hooks)
 * compare.c the schema level: version, byte order, messages by wire id,
 *           reservations, directions
 * compare_types.c  fields and structs, by shape, from a queue of type pairs
 * compare_enums.c  enums: width, openness, constants
 * report.c  the findings, sorted, as text or JSON */
#ifndef NETFW_GEN_COMPAT_H
#define NETFW_GEN_COMPAT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "front/ast.h"

typedef enum gen_compat_format {
  GEN_COMPAT_TEXT,
  GEN_COMPAT_JSON
} gen_compat_format;

/* The exit statuses of --check-compat. */
enum {
  GEN_COMPAT_OK = 0,       /* compatible (warnings may have been reported) */
  GEN_COMPAT_BREAKING = 1, /* breaking changes, or a schema with errors */
  GEN_COMPAT_IO = 2        /* a file could not be read */
};

/* Compares the schemas at old_path and new_path (paths shown as given):
 * the report in fmt goes to out, I/O errors to err. Returns the exit
 * status. */
int gen_compat_run(const char *old_path, const char *new_path,
                   gen_compat_format fmt, gen_buf *out, gen_buf *err);

/* ---- internal to gen/compat/ ---------------------------------------- */

/* One schema file, parsed and checked (load.c). */
typedef struct compat_schema {
  const char *path; /* as given */
  char *src;        /* NUL-terminated, in pool */
  size_t len;
  gen_pool pool;
  gen_schema s;
  gen_diag diag;    /* the front end's errors and warnings */
  unsigned version; /* s.version, 1 when unset */
  /* messages and reservations by name and by id (decimal keys in pool):
   * the front end's gen_message_by_id() and friends scan the schema, too
   * slow for every message of a large one */
  gen_map msg_by_name, msg_by_id, rsv_by_name, rsv_by_id;
} compat_schema;

/* Reads, parses and checks path into cs. Returns 0 (cs->diag.errors tells
 * whether the schema is valid) or -1 after a message in err; free cs with
 * compat_unload() either way. */
int compat_load(compat_schema *cs, const char *path, gen_buf *err);
/* Frees what compat_load() allocated. */
void compat_unload(compat_schema *cs);
/* The message of cs with wire id `id` / named `name`, or NULL; the
 * reservation of id / name, or NULL (as gen_message_by_id() etc.). */
const gen_decl *compat_message_by_id(const compat_schema *cs, uint64_t id);
const gen_decl *compat_message_by_name(const compat_schema *cs,
                                       const char *name);
const gen_reserved *compat_reserved_id(const compat_schema *cs, uint64_t id);
const gen_reserved *compat_reserved_name(const compat_schema *cs,
                                         const char *name);
/* "4": a decimal key for a map, in pool. */
const char *compat_key(gen_pool *pool, uint64_t v);

/* One finding: where in NEW (or, for a schema's own errors, in that
 * schema), and an optional note pointing into OLD. */
typedef struct compat_finding {
  bool error;       /* else a warning */
  const char *rule; /* stable code, e.g. "message-removed" */
  const char *file;
  gen_pos pos;
  char *message;         /* malloc'ed */
  const char *note_file; /* NULL: no note */
  gen_pos note_pos;
  char *note; /* malloc'ed: "was ..." */
  size_t seq; /* order of discovery, for a stable sort */
} compat_finding;

typedef struct compat_report {
  compat_finding *v;
  size_t n, cap;
  int errors, warnings;
} compat_report;

/* Adds a finding at pos in file; returns it (for compat_note). */
compat_finding *compat_add(compat_report *r, bool error, const char *rule,
                           const char *file, gen_pos pos, const char *fmt, ...)
    GEN_PRINTF(6, 7);
/* compat_add() with a va_list. */
compat_finding *compat_vadd(compat_report *r, bool error, const char *rule,
                            const char *file, gen_pos pos, const char *fmt,
                            va_list ap) GEN_PRINTF(6, 0);
/* Attaches a note at pos in file to f. */
void compat_note(compat_finding *f, const char *file, gen_pos pos,
                 const char *fmt, ...) GEN_PRINTF(4, 5);
void compat_vnote(compat_finding *f, const char *file, gen_pos pos,
                  const char *fmt, va_list ap) GEN_PRINTF(4, 0);
/* Turns a schema's diagnostics (the front end's text) into findings with
 * rule "schema-error" (load.c). */
void compat_schema_findings(const compat_schema *cs, compat_report *r);
/* Sorts the findings by position, keeping discovery order among equals. */
void compat_sort(compat_report *r);
/* Writes the report: text lines plus a summary, or one JSON object. */
void compat_print_text(const compat_report *r, gen_buf *out);
void compat_print_json(const compat_report *r, const char *old_path,
                       const char *new_path, gen_buf *out);
/* Frees the findings. */
void compat_report_free(compat_report *r);

/* The comparison under way (compare.c, compare_types.c). */
typedef struct compat_ctx {
  const compat_schema *old, *new_;
  compat_report *r;
  /* (old, new) struct and enum pairs met so far, in order: each is
   * compared once (a recursive struct ends here); [0, ndone) are done */
  const gen_decl **seen_old, **seen_new;
  size_t nseen, capseen, ndone;
  gen_map seen;  /* "OLD\nNEW" (type names) -> the pair was queued */
  gen_pool pool; /* its keys, and the enum constant maps' */
} compat_ctx;

/* Compares old against new_ into r (both valid schemas). */
void compat_compare(const compat_schema *old, const compat_schema *new_,
                    compat_report *r);
/* Compares the fields of old declaration o (a message or struct) with
 * those of n, queueing the pairs of structs and enums they use. */
void compat_compare_fields(compat_ctx *c, const gen_decl *o, const gen_decl *n);
/* Compares every queued pair of types, and those they queue in turn. */
void compat_compare_queued(compat_ctx *c);
/* Compares OLD's enum eo with NEW's en (compare_enums.c). */
void compat_compare_enum(compat_ctx *c, const gen_decl *eo, const gen_decl *en);
/* A built-in type's keyword: TY_U8 -> "u8". */
const char *compat_scalar_name(gen_tykind k);
/* Shorthand for findings: error/warning at pos in NEW. */
compat_finding *compat_err(compat_ctx *c, const char *rule, gen_pos pos,
                           const char *fmt, ...) GEN_PRINTF(4, 5);
compat_finding *compat_warn(compat_ctx *c, const char *rule, gen_pos pos,
                            const char *fmt, ...) GEN_PRINTF(4, 5);
/* A note at pos in OLD. */
void compat_was(compat_ctx *c, compat_finding *f, gen_pos pos, const char *fmt,
                ...) GEN_PRINTF(4, 5);

#endif /* NETFW_GEN_COMPAT_H */
