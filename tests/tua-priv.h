/* tua-priv: internals shared by tua.c (UA, transactions) and tua-call.c (dialogs). */
#pragma once

#include "tua.h"

G_BEGIN_DECLS

struct _TuaUa
{
  TuaConn *conn; /* borrowed */
  char *user;
  char *domain;
  char *password;
  char *aor;
  char *contact_host;
  char *contact; /* cached value, rebuilt when its parts change */
  char *instance;
  guint reg_id;
  gboolean force_alg;
  TuaDigestAlg alg;
  gboolean auto_auth;
  guint timeout_ms;
  char *reg_call_id;
  char *reg_from_tag;
  guint32 reg_cseq;
  char *nonce; /* last nonce answered, for nc */
  guint32 nc;
  GHashTable *uas_tags; /* "call-id\nfrom-tag" -> our To tag */
};

/* Random lower-case hex of 2 * @bytes characters. */
char *tua_random_hex (gsize bytes);
char *tua_new_branch (void);

G_END_DECLS
