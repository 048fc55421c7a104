/* sig-registrar: REGISTER handling and the location table (RFC 3261 §10.3, RFC 5626 §6).
 *
 * Bindings live in memory only: each one is tied to the TLS connection it arrived on, and a
 * connection does not survive a restart, so persisting bindings would only keep dead ones.
 * Clients re-register when they reconnect. */
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/url.h>

#include "sig-server-priv.h"

static gint64
now_s (void)
{
  return g_get_monotonic_time () / G_USEC_PER_SEC;
}

static void
binding_free (SigBinding *b)
{
  if (b->flow)
    g_ptr_array_remove (b->flow->bindings, b);
  g_free (b->user);
  g_free (b->uri);
  g_free (b->url);
  g_free (b->instance);
  g_free (b->instance_param);
  g_free (b->call_id);
  g_free (b);
}

static void
binding_set_flow (SigBinding *b, SigFlow *flow)
{
  if (b->flow == flow)
    return;
  if (b->flow)
    g_ptr_array_remove (b->flow->bindings, b);
  b->flow = flow;
  if (flow)
    g_ptr_array_add (flow->bindings, b);
}

static GPtrArray *
user_bindings (SigServer *server, const char *user, gboolean create)
{
  GPtrArray *list = g_hash_table_lookup (server->bindings, user);

  if (list == NULL && create)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) binding_free);
      g_hash_table_insert (server->bindings, g_strdup (user), list);
    }
  return list;
}

static void
drop_if_empty (SigServer *server, const char *user)
{
  GPtrArray *list = g_hash_table_lookup (server->bindings, user);

  if (list && list->len == 0)
    g_hash_table_remove (server->bindings, user);
}

static gboolean
binding_is_live (const SigBinding *b, gint64 now)
{
  return b->expires_at > now && b->flow != NULL && !b->flow->closed
         && !tport_is_closed (b->flow->tp) && !tport_is_shutdown (b->flow->tp);
}

GPtrArray *
sig_registrar_lookup (SigServer *server, const char *user)
{
  GPtrArray *list = user_bindings (server, user, FALSE);
  GPtrArray *live = g_ptr_array_new ();
  gint64 now = now_s ();

  for (guint i = 0; list && i < list->len; i++)
    if (binding_is_live (list->pdata[i], now))
      g_ptr_array_add (live, list->pdata[i]);
  return live;
}

void
sig_registrar_flow_closed (SigServer *server, SigFlow *flow)
{
  /* A binding whose connection is gone can never be reached again (its Contact points into a
   * NAT): remove it rather than keep a dead entry until it expires. */
  while (flow->bindings->len > 0)
    {
      SigBinding *b = flow->bindings->pdata[0];
      g_autofree char *user = g_strdup (b->user);
      GPtrArray *list = user_bindings (server, user, FALSE);

      g_info ("binding of %s removed: its connection closed", user);
      if (list == NULL || !g_ptr_array_remove (list, b)) /* frees, and unlinks from flow */
        binding_set_flow (b, NULL);
      drop_if_empty (server, user);
    }
}

static gboolean
sweep (gpointer data)
{
  SigServer *server = data;
  GHashTableIter it;
  gpointer key, value;
  gint64 now = now_s ();

  g_hash_table_iter_init (&it, server->bindings);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GPtrArray *list = value;
      for (guint i = list->len; i-- > 0;)
        {
          SigBinding *b = list->pdata[i];
          if (b->expires_at <= now)
            {
              g_info ("binding of %s expired", b->user);
              g_ptr_array_remove_index (list, i);
            }
        }
      if (list->len == 0)
        g_hash_table_iter_remove (&it);
    }
  return G_SOURCE_CONTINUE;
}

void
sig_registrar_start (SigServer *server)
{
  server->allow = sip_allow_make (server->home, SIG_ALLOW);
  g_assert (server->allow != NULL);
  server->bindings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);
  server->sweep_id = g_timeout_add_seconds (1, sweep, server);
}

void
sig_registrar_stop (SigServer *server)
{
  g_clear_handle_id (&server->sweep_id, g_source_remove);
  g_clear_pointer (&server->bindings, g_hash_table_unref);
}

/* A copy of url in one g_malloc block (url_t and its strings), for g_free. */
static url_t *
url_copy (const url_t *url)
{
  isize_t xtra = url_xtra (url);
  url_t *copy = g_malloc (sizeof *copy + xtra);
  issize_t used = url_dup ((char *) (copy + 1), xtra, copy, url);

  g_assert (used >= 0 && used <= xtra);
  return copy;
}

/* The value of a contact parameter, or NULL. */
static const char *
contact_param (const sip_contact_t *m, const char *name)
{
  return m->m_params ? msg_params_find (m->m_params, name) : NULL;
}

static SigBinding *
find_binding (GPtrArray *list, const char *uri, const char *instance, guint reg_id)
{
  for (guint i = 0; list && i < list->len; i++)
    {
      SigBinding *b = list->pdata[i];
      if (instance != NULL)
        {
          if (g_strcmp0 (b->instance, instance) == 0 && b->reg_id == reg_id)
            return b;
        }
      else if (b->instance == NULL && strcmp (b->uri, uri) == 0)
        return b;
    }
  return NULL;
}

/* "NAME=VALUE" for a contact parameter, into buf (digits written by hand: this runs for every
 * binding of every REGISTER). */
static const char *
uint_param (char buf[static 32], const char *name, guint64 value)
{
  char digits[21];
  size_t n = 0, len = strlen (name);

  g_assert (len + 1 + sizeof digits <= 32);
  do
    digits[n++] = (char) ('0' + value % 10);
  while ((value /= 10) != 0);
  memcpy (buf, name, len);
  buf[len++] = '=';
  while (n > 0)
    buf[len++] = digits[--n];
  buf[len] = '\0';
  return buf;
}

static void
reply_ok (SigServer *server, nta_incoming_t *irq, const char *user)
{
  msg_t *msg = nta_incoming_create_response (irq, SIP_200_OK);
  sip_t *sip = sip_object (msg);
  GPtrArray *list = user_bindings (server, user, FALSE);
  gint64 now = now_s ();

  /* Each binding's Contact is made from its stored URL and parameters and copied into the
   * response, instead of printing "<uri>;expires=N..." and having Sofia parse that text back
   * (about 3 % of a REGISTER). The encoder is the same, so the bytes on the wire are too. */
  for (guint i = 0; list && i < list->len; i++)
    {
      SigBinding *b = list->pdata[i];
      sip_contact_t m[1];
      msg_param_t params[4];
      char expires[32], reg_id[32];
      guint n = 0;

      if (!binding_is_live (b, now))
        continue;
      sip_contact_init (m);
      *m->m_url = *b->url;
      params[n++] = uint_param (expires, "expires", (guint64) (b->expires_at - now));
      if (b->instance_param)
        params[n++] = b->instance_param;
      if (b->reg_id)
        params[n++] = uint_param (reg_id, "reg-id", b->reg_id);
      params[n] = NULL;
      m->m_params = params;
      msg_header_add_dup (msg, NULL, (const msg_header_t *) m);
    }
  /* Parsed once at start (parsing it was about 1.5 % of a REGISTER), and its item list is
   * shared rather than copied (copying it was ~4k instructions, 3 %): the response only reads
   * it, nothing adds a second Allow to it, and server->home outlives every message (the nta
   * agent is destroyed first, sig_server_free). Its text is encoded again for each response
   * (~1.2k instructions): a pre-encoded h_data outside the message buffer would be sent as a
   * TLS record of its own, since Sofia's TLS transport writes each iovec separately. */
  {
    sip_allow_t *allow = (sip_allow_t *) msg_header_alloc (msg_home (msg), sip_allow_class, 0);

    allow->k_items = server->allow->k_items;
    allow->k_bitmap = server->allow->k_bitmap;
    msg_header_insert (msg, NULL, (msg_header_t *) allow);
  }
  {
    /* Only here: this REGISTER's credentials verified (issue 3, delivery). */
    g_autofree char *turn = sig_turn_header (server, user);
    if (turn)
      {
        sip_add_tl (msg, sip, SIPTAG_HEADER_STR (turn), TAG_END ());
        OPENSSL_cleanse (turn, strlen (turn));
      }
  }
  nta_incoming_mreply (irq, msg);
}

typedef struct
{
  const sip_contact_t *m;
  char *uri;
  const char *instance;
  guint reg_id;
  guint expires;
} ContactReq;

/* @url as text (g_free): encoded once into a stack buffer, where url_as_string() measures
 * first and needs a Sofia home, whose block table alone was most of its cost here. */
static char *
contact_uri_text (const url_t *url)
{
  char buf[512];
  isize_t n = url_e (buf, sizeof buf, url);

  if (n >= 0 && (size_t) n < sizeof buf)
    return g_strndup (buf, (gsize) n);
  n = url_e (NULL, 0, url);
  if (n < 0)
    return g_strdup ("");
  {
    char *text = g_malloc ((gsize) n + 1);

    url_e (text, n + 1, url);
    return text;
  }
}

void
sig_registrar_handle (SigServer *server, nta_incoming_t *irq, const sip_t *sip, SigFlow *flow)
{
  const SigConfig *config = server->config;
  const url_t *ruri = sip->sip_request->rq_url;
  const url_t *aor = sip->sip_to ? sip->sip_to->a_url : NULL;
  g_autofree char *user = NULL;
  g_autoptr (GArray) reqs = NULL;
  GPtrArray *list;
  gboolean star = FALSE;
  guint default_expires;
  gint64 now = now_s ();

  /* RFC 3261 §10.3 step 1: the Request-URI names the domain this registrar serves. */
  if (ruri->url_user != NULL || !sig_server_is_local_domain (server, ruri) || aor == NULL
      || aor->url_user == NULL || !sig_server_is_local_domain (server, aor))
    {
      nta_incoming_treply (irq, 403, "Not a domain served here", TAG_END ());
      return;
    }
  if (flow == NULL)
    {
      nta_incoming_treply (irq, 400, "No connection", TAG_END ());
      return;
    }
  if (!sig_auth_check (server, irq, sip, flow, FALSE, &user))
    return;
  /* Step 4: an authenticated user may only register its own address-of-record. */
  if (g_ascii_strcasecmp (user, aor->url_user) != 0)
    {
      nta_incoming_treply (irq, 403, "May only register your own address", TAG_END ());
      return;
    }

  default_expires = sip->sip_expires ? (guint) MIN (sip->sip_expires->ex_delta, G_MAXUINT)
                                     : config->default_expires;
  reqs = g_array_new (FALSE, TRUE, sizeof (ContactReq));
  for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next)
    {
      ContactReq r = { .m = m };
      const char *reg_id;

      if (m->m_url->url_type == url_any)
        {
          star = TRUE;
          continue;
        }
      if (m->m_url->url_type != url_sip && m->m_url->url_type != url_sips)
        {
          nta_incoming_treply (irq, 400, "Contact must be a sip: or sips: URI", TAG_END ());
          goto out;
        }
      r.instance = contact_param (m, "+sip.instance");
      reg_id = contact_param (m, "reg-id");
      if (reg_id)
        {
          char *end = NULL;
          unsigned long v = strtoul (reg_id, &end, 10);
          if (end == reg_id || *end != '\0' || v == 0 || v > G_MAXUINT)
            {
              nta_incoming_treply (irq, 400, "Bad reg-id", TAG_END ());
              goto out;
            }
          r.reg_id = (guint) v;
        }
      r.expires = m->m_expires ? (guint) MIN (strtoul (m->m_expires, NULL, 10), G_MAXUINT)
                               : default_expires;
      if (r.expires > 0 && r.expires < config->min_expires)
        {
          g_autofree char *min = g_strdup_printf ("%u", config->min_expires);
          nta_incoming_treply (irq, SIP_423_INTERVAL_TOO_BRIEF, SIPTAG_MIN_EXPIRES_STR (min),
                               TAG_END ());
          goto out;
        }
      r.expires = MIN (r.expires, config->max_expires);
      r.uri = contact_uri_text (m->m_url); /* freed at out */
      g_array_append_val (reqs, r);
    }

  list = user_bindings (server, user, TRUE);

  /* Step 6: "*" only alone and with Expires: 0. */
  if (star)
    {
      if (reqs->len > 0 || sip->sip_expires == NULL || sip->sip_expires->ex_delta != 0)
        {
          nta_incoming_treply (irq, 400, "Contact: * needs Expires: 0 and no other contact",
                               TAG_END ());
          goto out;
        }
      g_ptr_array_set_size (list, 0);
      g_info ("%s unregistered every contact", user);
    }

  for (guint i = 0; i < reqs->len; i++)
    {
      ContactReq *r = &g_array_index (reqs, ContactReq, i);
      SigBinding *b = find_binding (list, r->uri, r->instance, r->reg_id);

      /* Step 7: same Call-ID with an older CSeq is a stale request. */
      if (b && g_strcmp0 (b->call_id, sip->sip_call_id->i_id) == 0
          && sip->sip_cseq->cs_seq <= b->cseq)
        {
          nta_incoming_treply (irq, 500, "Out of order REGISTER", TAG_END ());
          goto out;
        }
      if (r->expires == 0)
        {
          if (b)
            g_ptr_array_remove (list, b);
          continue;
        }
      if (b == NULL)
        {
          guint live = 0;
          for (guint j = 0; j < list->len; j++)
            live += binding_is_live (list->pdata[j], now);
          if (live >= config->max_bindings_per_user)
            {
              nta_incoming_treply (irq, 403, "Too many registered devices", TAG_END ());
              goto out;
            }
          b = g_new0 (SigBinding, 1);
          b->user = g_strdup (user);
          b->instance = g_strdup (r->instance);
          if (r->instance)
            b->instance_param = g_strconcat ("+sip.instance=", r->instance, NULL);
          b->reg_id = r->reg_id;
          g_ptr_array_add (list, b);
          g_info ("%s registered a device from %s", user, flow->peer);
        }
      /* A refresh usually repeats the Contact and the Call-ID: kept as they are then. */
      if (g_strcmp0 (b->uri, r->uri) != 0)
        {
          g_free (b->uri);
          b->uri = g_strdup (r->uri);
          g_free (b->url);
          b->url = url_copy (r->m->m_url);
        }
      if (g_strcmp0 (b->call_id, sip->sip_call_id->i_id) != 0)
        {
          g_free (b->call_id);
          b->call_id = g_strdup (sip->sip_call_id->i_id);
        }
      b->cseq = sip->sip_cseq->cs_seq;
      b->expires_at = now + r->expires;
      /* Requests to this device go over the connection this REGISTER came on. */
      binding_set_flow (b, flow);
    }

  reply_ok (server, irq, user);
  drop_if_empty (server, user);
out:
  for (guint i = 0; i < reqs->len; i++)
    g_free (g_array_index (reqs, ContactReq, i).uri);
}
