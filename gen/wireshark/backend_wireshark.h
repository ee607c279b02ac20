/* The Wireshark back end (netfw-gen --lang wireshark): <schema>.lua, a
 * Wireshark Lua dissector for the protocol. */
#ifndef NETFW_GEN_BACKEND_WIRESHARK_H
#define NETFW_GEN_BACKEND_WIRESHARK_H

#include "front/backend.h"

/* The Wireshark back end, for the driver's list. */
extern const gen_backend gen_backend_wireshark;

#endif /* NETFW_GEN_BACKEND_WIRESHARK_H */
