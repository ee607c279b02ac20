/* The checker's rules for calls (returns.c): which messages answer which
 * request, `message Get = 3 -> server returns GetResp | Ack { ... }`. */
#ifndef NETFW_GEN_RETURNS_H
#define NETFW_GEN_RETURNS_H

#include "ast.h"

/* Resolves every request's replies and checks them: a request is sent to
 * the server, each reply is a message the client receives, named once;
 * fills gen_reply.decl and is_reply. */
void gen_check_returns(gen_schema *s, gen_diag *d);

#endif /* NETFW_GEN_RETURNS_H */
