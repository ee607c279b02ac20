/* The C back end (netfw-gen --lang c): NAME.netfw.h and NAME.netfw.c, the
 * handler stubs and the fuzz harness. */
#ifndef NETFW_GEN_BACKEND_C_H
#define NETFW_GEN_BACKEND_C_H

#include "front/backend.h"

/* The C back end, for the driver's list. */
extern const gen_backend gen_backend_c;

#endif /* NETFW_GEN_BACKEND_C_H */
