/* The inputs of test_desc_agree: the files of a fuzz corpus and the byte
 * fixtures of the documentation. */
#ifndef AGREE_INPUTS_H
#define AGREE_INPUTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct agree_input {
  char name[64];  /* a corpus file's name, or a fixture's message name */
  uint8_t *bytes; /* malloc'd (never NULL) */
  size_t n;
} agree_input;

typedef struct agree_inputs {
  agree_input *v;
  size_t n, cap;
} agree_inputs;

/* Appends every regular file of dir, in name order, to l. Returns the
 * number appended, or -1 when dir cannot be read. */
int agree_read_dir(agree_inputs *l, const char *dir);

/* Appends the fixtures of the fenced block after the line containing
 * `marker` in the Markdown file path (the format of docs/evolution.md
 * section 6: a label, then hex pairs after two spaces or on indented
 * lines; "(empty payload)" for none), each named by the identifier that
 * starts its label. Returns the number appended, or -1 on a malformed
 * block. */
int agree_read_fixtures(agree_inputs *l, const char *path, const char *marker);

/* Appends the bytes of every `uint8_t NAME[] = {...}` initialiser of the C
 * file path made of integer and character constants only (the byte
 * fixtures of the tests), each named NAME. Returns the number appended, or
 * -1 when path cannot be read. */
int agree_read_c_arrays(agree_inputs *l, const char *path);

/* agree_read_c_arrays() on every .c and .h file of dir, in name order.
 * Returns the number appended, or -1. */
int agree_read_c_dir(agree_inputs *l, const char *dir);

/* Frees what l holds. */
void agree_inputs_free(agree_inputs *l);

#endif /* AGREE_INPUTS_H */
