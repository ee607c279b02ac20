/* The PROXY protocol in the server: the trusted-sources policy made by
 * netfw_server_new from cfg.proxy_from (a bad list fails there, logged);
 * the workers inherit it and put the preamble transport (runtime/proxy)
 * under every connection when cfg.proxy_protocol is on. */
#include <stdlib.h>
#include <string.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "proxy.h"
#include "server_internal.h"

int netfw__server_proxy_setup(netfw_server *s) {
  char err[256];

  if (s->cfg.proxy_from != NULL &&
      (s->proxy_from = strdup(s->cfg.proxy_from)) == NULL)
    return NETFW_ENOMEM;
  s->cfg.proxy_from = s->proxy_from;
  if (!s->cfg.proxy_protocol && s->proxy_from == NULL)
    return 0;
  if ((s->proxy = netfw__proxy_policy_new(s->proxy_from, err, sizeof(err))) ==
      NULL) {
    netfw_log(NETFW_LOG_ERROR, "netfw_server_new: %s", err);
    return NETFW_EINVAL;
  }
  if (!s->cfg.proxy_protocol) {
    netfw__proxy_policy_free(s->proxy); /* checked, but unused */
    s->proxy = NULL;
  }
  return 0;
}

void netfw__server_proxy_free(netfw_server *s) {
  netfw__proxy_policy_free(s->proxy);
  free(s->proxy_from);
  s->proxy = NULL;
  s->proxy_from = NULL;
}
