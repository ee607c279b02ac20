/* Error names and messages, both expanded from NETFW_ERRNO_MAP. */
#include "netfw/error.h"
#include "netfw/version.h"

const char *netfw_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
#define NETFW__ERR_MSG(name, value, msg)                                       \
  case NETFW_##name:                                                           \
    return msg;
    NETFW_ERRNO_MAP(NETFW__ERR_MSG)
#undef NETFW__ERR_MSG
  default:
    return "unknown error";
  }
}

const char *netfw_err_name(int err) {
  switch (err) {
  case 0:
    return "NETFW_OK";
#define NETFW__ERR_NAME(name, value, msg)                                      \
  case NETFW_##name:                                                           \
    return "NETFW_" #name;
    NETFW_ERRNO_MAP(NETFW__ERR_NAME)
#undef NETFW__ERR_NAME
  default:
    return "NETFW_UNKNOWN";
  }
}

const char *netfw_version(void) { return NETFW_VERSION_STRING; }
