/* The Python back end (netfw-gen --lang python): NAME_netfw.py, one
 * self-contained module for Python 3.9+ (standard library only). */
#ifndef NETFW_GEN_BACKEND_PYTHON_H
#define NETFW_GEN_BACKEND_PYTHON_H

#include "front/backend.h"

/* The Python back end, for the driver's list. */
extern const gen_backend gen_backend_python;

#endif /* NETFW_GEN_BACKEND_PYTHON_H */
