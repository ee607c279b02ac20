/* Calls in a schema: a request (a message sent to the server) may name the
 * messages that answer it, one reply per request, and the client matches
 * replies to requests in order. The rules here keep that matching sound:
 * the server receives the request, the client receives every reply. */
#include <string.h>

#include "returns.h"

enum { MAX_REPLIES = 16 };

/* "did you mean" among the schema's message names, or NULL. */
static const char *closest_message(const gen_schema *s, const char *name,
                                   gen_pool *pool) {
  const char **names = gen_pool_alloc(pool, (s->ndecls + 1) * sizeof(*names));
  size_t n = 0;
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE)
      names[n++] = s->decls[i]->name;
  return gen_closest(name, names, n);
}

/* The declaration named `name` (any kind), or NULL. */
static gen_decl *decl_named(const gen_schema *s, const char *name) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (strcmp(s->decls[i]->name, name) == 0)
      return s->decls[i];
  return NULL;
}

static const char *const kind_word[] = {[D_ENUM] = "an enum",
                                        [D_STRUCT] = "a struct",
                                        [D_MESSAGE] = "a message",
                                        [D_CONST] = "a const"};

/* Resolves reply r of request m; reports what is wrong with it. */
static void check_reply(gen_schema *s, gen_diag *d, gen_pool *pool,
                        const gen_decl *m, gen_reply *r) {
  gen_decl *x = decl_named(s, r->name);
  if (x == NULL) {
    const char *best = closest_message(s, r->name, pool);
    if (best != NULL)
      gen_error(d, r->pos, "unknown message '%s' (did you mean '%s'?)",
                r->name, best);
    else
      gen_error(d, r->pos, "unknown message '%s'", r->name);
  } else if (x->kind != D_MESSAGE) {
    gen_error(d, r->pos, "'%s' is %s: a request returns messages", r->name,
              kind_word[x->kind]);
  } else if (!gen_receives(x, false)) {
    gen_error(d, r->pos, "'%s' cannot answer '%s': the client never "
              "receives it (it is sent '-> server')", r->name, m->name);
  } else {
    r->decl = x;
    x->is_reply = true;
  }
}

/* Checks the returns list of request m. */
static void check_request(gen_schema *s, gen_diag *d, gen_pool *pool,
                          gen_decl *m) {
  if (m->dir != DIR_SERVER)
    gen_error(d, m->returns_pos, "'returns' needs a request sent to the "
              "server: write 'message %s = %llu -> server returns ...'",
              m->name, (unsigned long long)m->id);
  if (m->nreturns > MAX_REPLIES)
    gen_error(d, m->returns[MAX_REPLIES].pos,
              "'%s' names %zu replies; at most %d", m->name, m->nreturns,
              MAX_REPLIES);
  for (size_t i = 0; i < m->nreturns; i++) {
    gen_reply *r = &m->returns[i];
    bool again = false;
    for (size_t k = 0; k < i && !again; k++)
      again = strcmp(m->returns[k].name, r->name) == 0;
    if (again)
      gen_error(d, r->pos, "'%s' is named twice in the replies of '%s'",
                r->name, m->name);
    else
      check_reply(s, d, pool, m, r);
  }
}

void gen_check_returns(gen_schema *s, gen_diag *d) {
  gen_pool pool = {0};
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE && s->decls[i]->nreturns > 0)
      check_request(s, d, &pool, s->decls[i]);
  gen_pool_free(&pool);
}
