/* netfw — umbrella header: everything a netfw program needs.
 * See README.md and docs/ for the guide. */
#ifndef NETFW_NETFW_H
#define NETFW_NETFW_H

#include "netfw/version.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "netfw/bus.h"
#include "netfw/message.h"
#include "netfw/tls.h"
#include "netfw/codec.h"
#include "netfw/desc.h"
#include "netfw/server.h"
#include "netfw/stats.h"
#include "netfw/client.h"
#include "netfw/link.h"
#include "netfw/aclient.h"

#endif /* NETFW_NETFW_H */
