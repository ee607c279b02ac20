/* Reading a whole file in a cmocka test. */
#ifndef NETFW_TEST_FILE_KIT_H
#define NETFW_TEST_FILE_KIT_H

#include <stddef.h>

/* The whole file at path, NUL-terminated (free it); its length in *len
 * unless len is NULL. Fails the test if the file cannot be read. */
char *test_read_file(const char *path, size_t *len);

#endif
