/* TEMPORARY, for this tree's own programs only: a stand-in for the bus
 * runtime's netfw_bus_publish (netfw/bus.h) until runtime/ defines it.
 *
 * Code from netfw-gen calls netfw_bus_publish in its publish helpers, so
 * every in-tree program built on generated server glue needs the symbol.
 * This archive is linked after libnetfw (gen/CMakeLists.txt): once libnetfw
 * defines netfw_bus_publish, the linker takes that one and never pulls this
 * file in. Delete it, and its three lines in gen/CMakeLists.txt, when the
 * bus runtime lands. Never installed. */
#include "netfw/bus.h"
#include "netfw/error.h"

/* Publishes nothing: the bus is not built yet. Returns NETFW_ENOSYS. */
int netfw_bus_publish(const char *channel, const netfw_msg *m, unsigned flags) {
  (void)channel;
  (void)m;
  (void)flags;
  return NETFW_ENOSYS;
}
