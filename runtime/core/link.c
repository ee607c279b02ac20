/* The names of the link states (netfw/link.h). */
#include "netfw/link.h"

const char *netfw_link_state_name(netfw_link_state s) {
  switch (s) {
  case NETFW_LINK_CONNECTING:
    return "connecting";
  case NETFW_LINK_UP:
    return "up";
  case NETFW_LINK_DOWN:
    return "down";
  case NETFW_LINK_CLOSED:
    return "closed";
  }
  return "unknown";
}
