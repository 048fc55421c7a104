/* tua: the test UA: requests, transactions over one TLS connection, Digest, callee replies. */
#include "config.h"

#include "tua-priv.h"

#include <gio/gio.h>
#include <string.h>

char *
tua_random_hex (gsize bytes)
{
  GString *s = g_string_sized_new (bytes * 2);

  for (gsize i = 0; i < bytes; i++)
    g_string_append_printf (s, "%02x", g_random_int_range (0, 256));
  return g_string_free (s, FALSE);
}

char *
tua_new_branch (void)
{
  g_autofree char *r = tua_random_hex (10);

  return g_strconcat ("z9hG4bK", r, NULL); /* RFC 3261 §8.1.1.7 magic cookie */
}

/* ---- TuaRequest ---- */

void
tua_request_free (TuaRequest *req)
{
  if (req == NULL)
    return;
  g_free (req->method);
  g_free (req->request_uri);
  g_free (req->sent_by);
  g_free (req->branch);
  g_free (req->from);
  g_free (req->to);
  g_free (req->call_id);
  g_free (req->contact);
  g_ptr_array_unref (req->routes);
  g_free (req->authorization);
  g_free (req->proxy_authorization);
  g_free (req->extra_headers);
  g_free (req->content_type);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_free (req);
}

static TuaRequest *
request_alloc (void)
{
  TuaRequest *req = g_new0 (TuaRequest, 1);

  req->routes = g_ptr_array_new_with_free_func (g_free);
  req->max_forwards = 70;
  return req;
}

TuaRequest *
tua_request_copy (const TuaRequest *src)
{
  TuaRequest *req = request_alloc ();

  req->method = g_strdup (src->method);
  req->request_uri = g_strdup (src->request_uri);
  req->sent_by = g_strdup (src->sent_by);
  req->branch = g_strdup (src->branch);
  req->from = g_strdup (src->from);
  req->to = g_strdup (src->to);
  req->call_id = g_strdup (src->call_id);
  req->cseq = src->cseq;
  req->contact = g_strdup (src->contact);
  for (guint i = 0; i < src->routes->len; i++)
    g_ptr_array_add (req->routes, g_strdup (g_ptr_array_index (src->routes, i)));
  req->authorization = g_strdup (src->authorization);
  req->proxy_authorization = g_strdup (src->proxy_authorization);
  req->extra_headers = g_strdup (src->extra_headers);
  req->content_type = g_strdup (src->content_type);
  req->body = src->body ? g_bytes_ref (src->body) : NULL;
  req->max_forwards = src->max_forwards;
  return req;
}

void
tua_request_set_body (TuaRequest *req, const char *body, gssize len)
{
  g_clear_pointer (&req->body, g_bytes_unref);
  if (body)
    req->body = g_bytes_new (body, len < 0 ? strlen (body) : (gsize) len);
}

/* TRUE when the raw CRLF-ended @lines contain header @name (compact forms folded). */
static gboolean
has_header_line (const char *lines, const char *name)
{
  g_auto (GStrv) split = NULL;

  if (lines == NULL)
    return FALSE;
  split = g_strsplit (lines, "\r\n", -1);
  for (guint i = 0; split[i]; i++)
    {
      char *colon = strchr (split[i], ':');

      if (colon == NULL)
        continue;
      *colon = '\0';
      if (tua_msg_header_name_equal (g_strstrip (split[i]), name))
        return TRUE;
    }
  return FALSE;
}

static char *
finish_message (GString *out, const char *extra_headers, const char *content_type,
                const char *default_type, const char *body, gsize body_len, gsize *out_len)
{
  if (extra_headers)
    g_string_append (out, extra_headers);
  if (body_len > 0 && !has_header_line (extra_headers, "Content-Type"))
    g_string_append_printf (out, "Content-Type: %s\r\n", content_type ? content_type : default_type);
  g_string_append_printf (out, "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n", body_len);
  if (body_len > 0)
    g_string_append_len (out, body, (gssize) body_len);
  if (out_len)
    *out_len = out->len;
  return g_string_free (out, FALSE);
}

char *
tua_request_serialize (const TuaRequest *req, gsize *out_len)
{
  GString *out = g_string_new (NULL);
  gsize body_len = 0;
  const char *body = req->body ? g_bytes_get_data (req->body, &body_len) : NULL;
  gboolean sdp = g_strcmp0 (req->method, "INVITE") == 0 || g_strcmp0 (req->method, "ACK") == 0;

  g_string_append_printf (out, "%s %s SIP/2.0\r\n", req->method, req->request_uri);
  g_string_append_printf (out, "Via: SIP/2.0/TLS %s;branch=%s;rport;alias\r\n", req->sent_by,
                          req->branch);
  if (req->max_forwards >= 0)
    g_string_append_printf (out, "Max-Forwards: %d\r\n", req->max_forwards);
  for (guint i = 0; i < req->routes->len; i++)
    g_string_append_printf (out, "Route: %s\r\n", (char *) g_ptr_array_index (req->routes, i));
  g_string_append_printf (out, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n", req->from,
                          req->to, req->call_id, req->cseq, req->method);
  if (req->contact)
    g_string_append_printf (out, "Contact: %s\r\n", req->contact);
  if (req->authorization)
    g_string_append_printf (out, "Authorization: %s\r\n", req->authorization);
  if (req->proxy_authorization)
    g_string_append_printf (out, "Proxy-Authorization: %s\r\n", req->proxy_authorization);
  g_string_append (out, "User-Agent: sotto-tua\r\n");
  return finish_message (out, req->extra_headers, req->content_type,
                         sdp ? "application/sdp" : "text/plain", body, body_len, out_len);
}

char *
tua_msg_build_response (const TuaMsg *request, guint status, const char *reason,
                        const char *to_tag, const char *contact, const char *extra_headers,
                        const char *content_type, const char *body, gssize body_len,
                        gsize *out_len)
{
  GString *out = g_string_new (NULL);
  static const char *const copied[] = { "Via", "Record-Route", "From", "To", "Call-ID", "CSeq" };

  g_return_val_if_fail (request != NULL && request->is_request, NULL);
  g_string_append_printf (out, "SIP/2.0 %u %s\r\n", status, reason ? reason : "");
  for (gsize k = 0; k < G_N_ELEMENTS (copied); k++)
    {
      g_auto (GStrv) values = NULL;

      if (k == 1 && (status <= 100 || status >= 300))
        continue; /* Record-Route only where a dialog may form (§12.1.1) */
      values = tua_msg_headers (request, copied[k]);
      for (guint i = 0; values[i]; i++)
        {
          g_autofree char *tag = NULL;

          g_string_append_printf (out, "%s: %s", copied[k], values[i]);
          if (k == 3 && status > 100 && to_tag && (tag = tua_sip_param (values[i], "tag")) == NULL)
            g_string_append_printf (out, ";tag=%s", to_tag);
          g_string_append (out, "\r\n");
        }
    }
  if (contact)
    g_string_append_printf (out, "Contact: %s\r\n", contact);
  g_string_append (out, "Server: sotto-tua\r\n");
  if (body && body_len < 0)
    body_len = (gssize) strlen (body);
  return finish_message (out, extra_headers, content_type, "application/sdp", body,
                         body ? (gsize) body_len : 0, out_len);
}

/* ---- TuaUa ---- */

static void
rebuild_contact (TuaUa *ua)
{
  GString *c = g_string_new (NULL);

  g_string_append_printf (c, "<sips:%s@%s;transport=tls>", ua->user, ua->contact_host);
  if (ua->instance)
    g_string_append_printf (c, ";+sip.instance=\"<%s>\"", ua->instance);
  if (ua->instance && ua->reg_id > 0)
    g_string_append_printf (c, ";reg-id=%u", ua->reg_id);
  g_free (ua->contact);
  ua->contact = g_string_free (c, FALSE);
}

TuaUa *
tua_ua_new (TuaConn *conn, const char *user, const char *domain, const char *password)
{
  TuaUa *ua;

  g_return_val_if_fail (conn != NULL && user != NULL && domain != NULL, NULL);
  ua = g_new0 (TuaUa, 1);
  ua->conn = conn;
  ua->user = g_strdup (user);
  ua->domain = g_strdup (domain);
  ua->password = g_strdup (password);
  ua->aor = g_strdup_printf ("sips:%s@%s", user, domain);
  ua->contact_host = g_strdup (TUA_CONTACT_HOST);
  ua->auto_auth = TRUE;
  ua->timeout_ms = TUA_DEFAULT_TIMEOUT_MS;
  {
    g_autofree char *r = tua_random_hex (12);
    ua->reg_call_id = g_strdup_printf ("%s@tua.invalid", r);
  }
  ua->reg_from_tag = tua_random_hex (6);
  ua->uas_tags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  rebuild_contact (ua);
  return ua;
}

void
tua_ua_free (TuaUa *ua)
{
  if (ua == NULL)
    return;
  g_free (ua->user);
  g_free (ua->domain);
  if (ua->password)
    memset (ua->password, 0, strlen (ua->password));
  g_free (ua->password);
  g_free (ua->aor);
  g_free (ua->contact_host);
  g_free (ua->contact);
  g_free (ua->instance);
  g_free (ua->reg_call_id);
  g_free (ua->reg_from_tag);
  g_free (ua->nonce);
  g_hash_table_unref (ua->uas_tags);
  g_free (ua);
}

TuaConn *tua_ua_conn (TuaUa *ua) { return ua->conn; }
const char *tua_ua_aor (TuaUa *ua) { return ua->aor; }
const char *tua_ua_contact (TuaUa *ua) { return ua->contact; }
void tua_ua_set_timeout (TuaUa *ua, guint timeout_ms) { ua->timeout_ms = timeout_ms; }
void tua_ua_set_auto_auth (TuaUa *ua, gboolean auto_auth) { ua->auto_auth = auto_auth; }

void
tua_ua_set_password (TuaUa *ua, const char *password)
{
  if (ua->password)
    memset (ua->password, 0, strlen (ua->password));
  g_free (ua->password);
  ua->password = g_strdup (password);
}

gboolean
tua_ua_set_digest_alg (TuaUa *ua, const char *alg)
{
  if (alg == NULL)
    {
      ua->force_alg = FALSE;
      return TRUE;
    }
  if (!tua_digest_alg_from_string (alg, &ua->alg))
    return FALSE;
  ua->force_alg = TRUE;
  return TRUE;
}

void
tua_ua_set_instance (TuaUa *ua, const char *uuid_urn, guint reg_id)
{
  g_free (ua->instance);
  ua->instance = g_strdup (uuid_urn);
  ua->reg_id = reg_id;
  rebuild_contact (ua);
}

void
tua_ua_set_contact_host (TuaUa *ua, const char *hostport)
{
  g_free (ua->contact_host);
  ua->contact_host = g_strdup (hostport);
  rebuild_contact (ua);
}

TuaRequest *
tua_ua_new_request (TuaUa *ua, const char *method, const char *request_uri, const char *to_uri)
{
  TuaRequest *req = request_alloc ();
  g_autofree char *tag = tua_random_hex (6);
  g_autofree char *cid = tua_random_hex (12);

  req->method = g_strdup (method);
  req->request_uri = g_strdup (request_uri);
  req->sent_by = g_strdup (tua_conn_local_sent_by (ua->conn));
  req->branch = tua_new_branch ();
  req->from = g_strdup_printf ("<%s>;tag=%s", ua->aor, tag);
  req->to = g_strdup_printf ("<%s>", to_uri ? to_uri : request_uri);
  req->call_id = g_strdup_printf ("%s@tua.invalid", cid);
  req->cseq = 1;
  if (g_strcmp0 (method, "INVITE") == 0 || g_strcmp0 (method, "SUBSCRIBE") == 0 ||
      g_strcmp0 (method, "REFER") == 0)
    req->contact = g_strdup (ua->contact);
  return req;
}

TuaRequest *
tua_ua_register_request (TuaUa *ua, guint expires)
{
  g_autofree char *ruri = g_strdup_printf ("sips:%s", ua->domain);
  TuaRequest *req = tua_ua_new_request (ua, "REGISTER", ruri, ua->aor);

  g_free (req->from);
  req->from = g_strdup_printf ("<%s>;tag=%s", ua->aor, ua->reg_from_tag);
  g_free (req->call_id);
  req->call_id = g_strdup (ua->reg_call_id);
  req->cseq = ++ua->reg_cseq;
  req->contact = g_strdup (ua->contact);
  req->extra_headers = g_strdup_printf ("Expires: %u\r\n%s", expires,
                                        ua->instance ? "Supported: outbound, path\r\n" : "");
  return req;
}

void
tua_ua_prepare_retry (TuaUa *ua, TuaRequest *req)
{
  req->cseq++;
  g_free (req->branch);
  req->branch = tua_new_branch ();
  if (g_strcmp0 (req->call_id, ua->reg_call_id) == 0 && req->cseq > ua->reg_cseq)
    ua->reg_cseq = req->cseq;
}

gboolean
tua_ua_answer_challenge (TuaUa *ua, TuaRequest *req, const TuaMsg *response, GError **error)
{
  const char *hname = response->status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
  g_auto (GStrv) values = tua_msg_headers (response, hname);
  g_autoptr (TuaChallenge) best = NULL;
  g_autofree char *cnonce = tua_random_hex (8);
  char *creds;

  for (guint i = 0; values[i]; i++)
    {
      g_autoptr (TuaChallenge) ch = NULL;

      if (!tua_digest_parse_challenge (values[i], &ch, NULL) || !ch->supported)
        continue;
      if (ua->force_alg ? ch->alg != ua->alg
                        : (best && best->alg == TUA_DIGEST_SHA256))
        continue;
      g_clear_pointer (&best, tua_challenge_free);
      best = g_steal_pointer (&ch);
    }
  if (best == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%u response has no usable %s challenge%s%s", response->status, hname,
                   ua->force_alg ? " for " : "",
                   ua->force_alg ? tua_digest_alg_to_string (ua->alg) : "");
      return FALSE;
    }
  if (g_strcmp0 (ua->nonce, best->nonce) == 0)
    ua->nc++;
  else
    {
      g_free (ua->nonce);
      ua->nonce = g_strdup (best->nonce);
      ua->nc = 1;
    }
  creds = tua_digest_credentials (best, ua->user, ua->password ? ua->password : "",
                                  req->method, req->request_uri, ua->nc, cnonce, error);
  if (creds == NULL)
    return FALSE;
  if (response->status == 407)
    {
      g_free (req->proxy_authorization);
      req->proxy_authorization = creds;
    }
  else
    {
      g_free (req->authorization);
      req->authorization = creds;
    }
  return TRUE;
}

gboolean
tua_ua_send (TuaUa *ua, const TuaRequest *req, GError **error)
{
  gsize len = 0;
  g_autofree char *wire = tua_request_serialize (req, &len);

  return tua_conn_send (ua->conn, wire, (gssize) len, error);
}

typedef struct
{
  const char *branch;
  const char *method;
  gboolean final_only;
} ResponseMatch;

static gboolean
match_response (const TuaMsg *msg, gpointer user_data)
{
  ResponseMatch *m = user_data;
  g_autofree char *branch = NULL;
  g_autofree char *method = NULL;

  if (msg->is_request || (m->final_only && msg->status < 200))
    return FALSE;
  branch = tua_msg_branch (msg);
  return branch && g_strcmp0 (branch, m->branch) == 0 && tua_msg_cseq (msg, NULL, &method) &&
         g_strcmp0 (method, m->method) == 0;
}

static TuaMsg *
wait_response (TuaUa *ua, const TuaRequest *req, gboolean final_only, guint timeout_ms,
               GError **error)
{
  ResponseMatch m = { req->branch, req->method, final_only };

  return tua_conn_recv_match (ua->conn, match_response, &m, timeout_ms, error);
}

TuaMsg *
tua_ua_wait_response (TuaUa *ua, const TuaRequest *req, guint timeout_ms, GError **error)
{
  return wait_response (ua, req, FALSE, timeout_ms, error);
}

TuaMsg *
tua_ua_wait_final (TuaUa *ua, const TuaRequest *req, guint timeout_ms, GError **error)
{
  return wait_response (ua, req, TRUE, timeout_ms, error);
}

TuaMsg *
tua_ua_transaction (TuaUa *ua, TuaRequest *req, GError **error)
{
  g_autoptr (TuaMsg) resp = NULL;

  g_return_val_if_fail (g_strcmp0 (req->method, "INVITE") != 0, NULL);
  if (!tua_ua_send (ua, req, error))
    return NULL;
  resp = tua_ua_wait_final (ua, req, ua->timeout_ms, error);
  if (resp == NULL || !ua->auto_auth || (resp->status != 401 && resp->status != 407))
    return g_steal_pointer (&resp);
  if (!tua_ua_answer_challenge (ua, req, resp, error))
    return NULL;
  tua_ua_prepare_retry (ua, req);
  g_clear_pointer (&resp, tua_msg_unref);
  if (!tua_ua_send (ua, req, error))
    return NULL;
  return tua_ua_wait_final (ua, req, ua->timeout_ms, error);
}

TuaMsg *
tua_ua_register (TuaUa *ua, guint expires, GError **error)
{
  g_autoptr (TuaRequest) req = tua_ua_register_request (ua, expires);

  return tua_ua_transaction (ua, req, error);
}

TuaMsg *
tua_ua_request (TuaUa *ua, const char *method, const char *request_uri,
                const char *extra_headers, const char *body, GError **error)
{
  g_autoptr (TuaRequest) req = tua_ua_new_request (ua, method, request_uri, NULL);

  req->extra_headers = g_strdup (extra_headers);
  tua_request_set_body (req, body, -1);
  return tua_ua_transaction (ua, req, error);
}

TuaMsg *
tua_ua_options (TuaUa *ua, const char *request_uri, GError **error)
{
  return tua_ua_request (ua, "OPTIONS", request_uri, "Accept: application/sdp\r\n", NULL, error);
}

TuaMsg *
tua_ua_message (TuaUa *ua, const char *target_user, const char *text, GError **error)
{
  g_autofree char *uri = g_strdup_printf ("sips:%s@%s", target_user, ua->domain);

  return tua_ua_request (ua, "MESSAGE", uri, "Content-Type: text/plain\r\n", text, error);
}

/* ---- Callee side ---- */

static gboolean
match_request (const TuaMsg *msg, gpointer user_data)
{
  const char *method = user_data;

  return msg->is_request && (method == NULL || strcmp (msg->method, method) == 0);
}

TuaMsg *
tua_ua_wait_request (TuaUa *ua, const char *method, guint timeout_ms, GError **error)
{
  return tua_conn_recv_match (ua->conn, match_request, (gpointer) method, timeout_ms, error);
}

const char *
tua_ua_local_tag_for (TuaUa *ua, const TuaMsg *request)
{
  const char *from = tua_msg_header (request, "From");
  const char *cid = tua_msg_header (request, "Call-ID");
  g_autofree char *from_tag = from ? tua_sip_param (from, "tag") : NULL;
  g_autofree char *key = g_strdup_printf ("%s\n%s", cid ? cid : "", from_tag ? from_tag : "");
  const char *tag = g_hash_table_lookup (ua->uas_tags, key);

  if (tag == NULL)
    {
      char *fresh = tua_random_hex (6);
      g_hash_table_insert (ua->uas_tags, g_steal_pointer (&key), fresh);
      tag = fresh;
    }
  return tag;
}

gboolean
tua_ua_respond_full (TuaUa *ua, const TuaMsg *request, guint status, const char *reason,
                     const char *extra_headers, const char *content_type, const char *body,
                     GError **error)
{
  gsize len = 0;
  gboolean contact = strcmp (request->method, "INVITE") == 0 && status > 100 && status < 300;
  g_autofree char *wire =
    tua_msg_build_response (request, status, reason, tua_ua_local_tag_for (ua, request),
                            contact ? ua->contact : NULL, extra_headers, content_type, body, -1,
                            &len);

  return tua_conn_send (ua->conn, wire, (gssize) len, error);
}

gboolean
tua_ua_respond (TuaUa *ua, const TuaMsg *request, guint status, const char *reason,
                const char *body, GError **error)
{
  return tua_ua_respond_full (ua, request, status, reason, NULL, NULL, body, error);
}
