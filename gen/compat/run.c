/* gen_compat_run(): what `netfw-gen --check-compat OLD NEW` does. */
#include <string.h>

#include "compat.h"

/* Text mode: a schema with errors is shown as netfw-gen shows it when
 * compiling (with source lines), and nothing is compared. */
static void print_schema_errors(const compat_schema *cs, gen_buf *out) {
  if (cs->diag.errors > 0 && cs->diag.out.len > 0)
    gen_buf_append(out, cs->diag.out.data, cs->diag.out.len);
}

/* Both loaded: the report of the schemas' errors, or of the comparison. */
static int report(compat_schema *old, compat_schema *new_,
                  gen_compat_format fmt, gen_buf *out) {
  compat_report r;
  int errors = old->diag.errors + new_->diag.errors;
  int status;

  memset(&r, 0, sizeof(r));
  if (errors > 0 && fmt == GEN_COMPAT_TEXT) {
    print_schema_errors(old, out);
    print_schema_errors(new_, out);
    gen_buf_printf(out,
                   "netfw-gen: %d error%s in the schemas, nothing "
                   "compared\n",
                   errors, errors == 1 ? "" : "s");
    return GEN_COMPAT_BREAKING;
  }
  if (errors > 0) {
    if (old->diag.errors > 0)
      compat_schema_findings(old, &r);
    if (new_->diag.errors > 0)
      compat_schema_findings(new_, &r);
    if (r.errors == 0) /* never: the front end's text always parses */
      compat_add(&r, true, "schema-error", new_->path, (gen_pos){0, 0},
                 "%d errors in the schemas", errors);
  } else {
    compat_compare(old, new_, &r);
    compat_sort(&r);
  }
  if (fmt == GEN_COMPAT_JSON)
    compat_print_json(&r, old->path, new_->path, out);
  else
    compat_print_text(&r, out);
  status = r.errors > 0 ? GEN_COMPAT_BREAKING : GEN_COMPAT_OK;
  compat_report_free(&r);
  return status;
}

int gen_compat_run(const char *old_path, const char *new_path,
                   gen_compat_format fmt, gen_buf *out, gen_buf *err) {
  compat_schema old, new_;
  int status = GEN_COMPAT_IO;

  if (compat_load(&old, old_path, err) != 0)
    goto failed_old;
  if (compat_load(&new_, new_path, err) != 0)
    goto failed_new;
  status = report(&old, &new_, fmt, out);
failed_new:
  compat_unload(&new_);
failed_old:
  compat_unload(&old);
  return status;
}
