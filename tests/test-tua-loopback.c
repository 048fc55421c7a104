/* Loopback TLS round trips of the test UA against scripted in-test servers (tua-loopback):
 * REGISTER through a 401, INVITE dialogs on both sides, keepalives, closes, certificate checks
 * and forced TLS versions. Every wait has a deadline; servers bind 127.0.0.1 port 0. */
#include "config.h"

#include "tua-loopback.h"
#include "tua.h"

#include "sotto-tls.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>

static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\n"
                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/* ---- Loopback TLS round trips against scripted servers ---- */

typedef struct
{
  char *dir;
  char *cert;
  char *key;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-tua-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_true (tua_loopback_make_cert (f->dir, "localhost", &f->cert, &f->key, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_remove (f->cert);
  g_remove (f->key);
  g_rmdir (f->dir);
  g_free (f->cert);
  g_free (f->key);
  g_free (f->dir);
}

static gboolean
fail_at (GError **error, int line, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "server check failed (line %d): %s", line,
               what);
  return FALSE;
}
#define CHECK(cond) \
  G_STMT_START { if (!(cond)) return fail_at (error, __LINE__, #cond); } G_STMT_END

static TuaMsg *
expect_request (TuaConn *s, const char *method, GError **error)
{
  TuaMsg *m = tua_conn_recv (s, 5000, error);

  if (m && (!m->is_request || strcmp (m->method, method) != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "server expected %s, got: %.60s", method,
                   m->raw);
      g_clear_pointer (&m, tua_msg_unref);
    }
  return m;
}

static gboolean
reply (TuaConn *s, const TuaMsg *req, guint status, const char *reason, const char *extra,
       const char *body, GError **error)
{
  gsize len = 0;
  g_autofree char *wire = tua_msg_build_response (req, status, reason, "srvtag", NULL, extra, NULL,
                                                  body, -1, &len);

  return tua_conn_send (s, wire, (gssize) len, error);
}

static char *
param_dup (const char *value, const char *name)
{
  return value ? tua_sip_param (value, name) : NULL;
}

/* The server's own check of Digest credentials, written with EVP_Digest and no tua-digest code. */
static char *
evp_hex (const EVP_MD *md, const char *text)
{
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  GString *hex = g_string_new (NULL);

  g_assert_true (EVP_Digest (text, strlen (text), out, &n, md, NULL));
  for (unsigned int i = 0; i < n; i++)
    g_string_append_printf (hex, "%02x", out[i]);
  return g_string_free (hex, FALSE);
}

static gboolean
verify_digest (const char *header, const char *method, const char *password, char **alg_out)
{
  g_autoptr (GHashTable) p = NULL;
  g_autofree char *scheme = NULL;
  const char *alg;
  const EVP_MD *md;

  if (header == NULL || !tua_auth_parse_params (header, &scheme, &p, NULL))
    return FALSE;
  alg = g_hash_table_lookup (p, "algorithm");
  md = g_strcmp0 (alg, "SHA-256") == 0 ? EVP_sha256 () : EVP_md5 ();
  *alg_out = g_strdup (alg ? alg : "MD5");
  {
    g_autofree char *a1 = g_strdup_printf ("%s:%s:%s", (char *) g_hash_table_lookup (p, "username"),
                                           (char *) g_hash_table_lookup (p, "realm"), password);
    g_autofree char *a2 = g_strdup_printf ("%s:%s", method, (char *) g_hash_table_lookup (p, "uri"));
    g_autofree char *ha1 = evp_hex (md, a1);
    g_autofree char *ha2 = evp_hex (md, a2);
    g_autofree char *kd = g_strdup_printf (
      "%s:%s:%s:%s:%s:%s", ha1, (char *) g_hash_table_lookup (p, "nonce"),
      (char *) g_hash_table_lookup (p, "nc"), (char *) g_hash_table_lookup (p, "cnonce"),
      (char *) g_hash_table_lookup (p, "qop"), ha2);
    g_autofree char *expected = evp_hex (md, kd);

    return g_strcmp0 (expected, g_hash_table_lookup (p, "response")) == 0;
  }
}

typedef struct
{
  const char *password;  /* the server's idea of alice's password */
  const char *offer[3];  /* algorithms offered, in header order */
  char *alg_used;
  gboolean verified;
} RegScript;

static gboolean
register_script (TuaConn *s, gpointer user_data, GError **error)
{
  RegScript *rs = user_data;
  g_autoptr (TuaMsg) r1 = NULL;
  g_autoptr (TuaMsg) r2 = NULL;
  g_autoptr (GString) challenge = g_string_new (NULL);
  guint32 c1 = 0, c2 = 0;
  g_autofree char *b1 = NULL;
  g_autofree char *b2 = NULL;
  g_autofree char *rport = NULL;
  g_autofree char *alias = NULL;
  g_autofree char *to_uri = NULL;
  g_autofree char *from_tag = NULL;
  g_autoptr (GHashTable) p = NULL;

  if (!(r1 = expect_request (s, "REGISTER", error)))
    return FALSE;
  b1 = tua_msg_branch (r1);
  rport = param_dup (tua_msg_header (r1, "Via"), "rport");
  alias = param_dup (tua_msg_header (r1, "Via"), "alias");
  to_uri = tua_sip_uri (tua_msg_header (r1, "To"));
  from_tag = param_dup (tua_msg_header (r1, "From"), "tag");
  CHECK (g_strcmp0 (r1->request_uri, "sips:example.org") == 0);
  CHECK (g_str_has_prefix (tua_msg_header (r1, "Via"), "SIP/2.0/TLS 127.0.0.1:"));
  CHECK (b1 && g_str_has_prefix (b1, "z9hG4bK") && rport && alias);
  CHECK (g_strcmp0 (tua_msg_header (r1, "Max-Forwards"), "70") == 0);
  CHECK (g_strcmp0 (to_uri, "sips:alice@example.org") == 0 && from_tag && from_tag[0]);
  CHECK (strstr (tua_msg_header (r1, "Contact"), "<sips:alice@192.0.2.1:5061;transport=tls>"));
  CHECK (g_strcmp0 (tua_msg_header (r1, "Expires"), "600") == 0);
  CHECK (g_strcmp0 (tua_msg_header (r1, "Content-Length"), "0") == 0);
  CHECK (tua_msg_header (r1, "Authorization") == NULL && tua_msg_cseq (r1, &c1, NULL));
  CHECK (strstr (r1->raw, "\r\n\r\n") == r1->raw + r1->raw_len - 4);

  for (guint i = 0; rs->offer[i]; i++)
    g_string_append_printf (challenge, "WWW-Authenticate: Digest realm=\"example.org\", "
                            "nonce=\"N0nce/%u\", opaque=\"op\", algorithm=%s, qop=\"auth\"\r\n",
                            i, rs->offer[i]);
  if (!reply (s, r1, 401, "Unauthorized", challenge->str, NULL, error))
    return FALSE;

  if (!(r2 = expect_request (s, "REGISTER", error)))
    return FALSE;
  b2 = tua_msg_branch (r2);
  CHECK (g_strcmp0 (tua_msg_header (r2, "Call-ID"), tua_msg_header (r1, "Call-ID")) == 0);
  CHECK (tua_msg_cseq (r2, &c2, NULL) && c2 == c1 + 1);
  CHECK (g_strcmp0 (b1, b2) != 0);
  CHECK (tua_auth_parse_params (tua_msg_header (r2, "Authorization"), NULL, &p, NULL));
  CHECK (g_strcmp0 (g_hash_table_lookup (p, "uri"), "sips:example.org") == 0);
  CHECK (g_strcmp0 (g_hash_table_lookup (p, "opaque"), "op") == 0);
  CHECK (g_strcmp0 (g_hash_table_lookup (p, "nc"), "00000001") == 0);
  CHECK (g_strcmp0 (g_hash_table_lookup (p, "username"), "alice") == 0);
  rs->verified = verify_digest (tua_msg_header (r2, "Authorization"), "REGISTER", rs->password,
                                &rs->alg_used);
  if (rs->verified)
    {
      g_autofree char *contact = g_strdup_printf ("Contact: %s;expires=600\r\n",
                                                  tua_msg_header (r2, "Contact"));
      return reply (s, r2, 200, "OK", contact, NULL, error);
    }
  return reply (s, r2, 403, "Forbidden", NULL, NULL, error);
}

static void
run_register (Fixture *f, RegScript *rs, const char *force_alg, guint expect_status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaLoopback) lb = tua_loopback_new (f->cert, f->key, 0, 0, register_script, rs, &error);
  g_autoptr (TuaConn) c = NULL;
  g_autoptr (TuaUa) ua = NULL;
  g_autoptr (TuaMsg) resp = NULL;

  g_assert_no_error (error);
  c = tua_conn_new ("localhost", tua_loopback_port (lb), f->cert, "localhost", &error);
  g_assert_no_error (error);
  ua = tua_ua_new (c, "alice", "example.org", "s3cret \"pw\"");
  if (force_alg)
    g_assert_true (tua_ua_set_digest_alg (ua, force_alg));
  resp = tua_ua_register (ua, 600, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (resp->status, ==, expect_status);
  g_assert_true (tua_loopback_finish (lb, &error));
  g_assert_no_error (error);
}

static void
test_register_strongest (Fixture *f, gconstpointer data)
{
  RegScript rs = { "s3cret \"pw\"", { "MD5", "SHA-256", NULL } };

  run_register (f, &rs, NULL, 200);
  g_assert_true (rs.verified);
  g_assert_cmpstr (rs.alg_used, ==, "SHA-256");
  g_free (rs.alg_used);
}

static void
test_register_forced_md5 (Fixture *f, gconstpointer data)
{
  RegScript rs = { "s3cret \"pw\"", { "SHA-256", "MD5", NULL } };

  run_register (f, &rs, "MD5", 200);
  g_assert_true (rs.verified);
  g_assert_cmpstr (rs.alg_used, ==, "MD5");
  g_free (rs.alg_used);
}

static void
test_register_wrong_password (Fixture *f, gconstpointer data)
{
  RegScript rs = { "another password", { "SHA-256", NULL } };

  run_register (f, &rs, NULL, 403);
  g_assert_false (rs.verified);
  g_free (rs.alg_used);
}

static gboolean
keepalive_script (TuaConn *s, gpointer user_data, GError **error)
{
  g_autoptr (TuaMsg) resp = NULL;
  static const char options[] = "\r\nOPTIONS sips:alice@192.0.2.1:5061;transport=tls SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKsrv1\r\nFrom: <sips:example.org>;tag=s1\r\n"
    "To: <sips:alice@example.org>\r\nCall-ID: ka@srv\r\nCSeq: 4 OPTIONS\r\nContent-Length: 0\r\n\r\n";

  /* each client ping "\r\n\r\n" counts as two CRLFs on this side */
  for (guint want = 2; want <= 4; want += 2)
    {
      while (tua_conn_pongs (s) < want)
        if (!tua_conn_wait_pong (s, 5000, error))
          return FALSE;
      CHECK (tua_conn_pongs (s) == want);
      if (!tua_conn_send (s, "\r\n", 2, error))
        return FALSE;
    }
  if (!tua_conn_send (s, options, -1, error) || !(resp = tua_conn_recv (s, 5000, error)))
    return FALSE;
  CHECK (!resp->is_request && resp->status == 200);
  CHECK (g_strcmp0 (tua_msg_header (resp, "CSeq"), "4 OPTIONS") == 0);
  return TRUE; /* and the server closes */
}

static void
test_keepalive (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaLoopback) lb = tua_loopback_new (f->cert, f->key, 0, 0, keepalive_script, NULL,
                                                 &error);
  g_autoptr (TuaConn) c = tua_conn_new ("localhost", tua_loopback_port (lb), f->cert, "localhost",
                                        &error);
  g_autoptr (TuaUa) ua = tua_ua_new (c, "alice", "example.org", NULL);
  g_autoptr (TuaMsg) req = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (tua_conn_pongs (c), ==, 0);
  for (guint i = 1; i <= 2; i++)
    {
      g_assert_true (tua_conn_send_ping (c, &error));
      g_assert_true (tua_conn_wait_pong (c, 5000, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (tua_conn_pongs (c), ==, i);
    }
  req = tua_ua_wait_request (ua, "OPTIONS", 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tua_conn_pongs (c), ==, 3); /* the CRLF before the OPTIONS */
  g_assert_true (tua_ua_respond (ua, req, 200, "OK", NULL, &error));
  g_assert_true (tua_conn_is_closed (c, 5000));
  g_assert_true (tua_loopback_finish (lb, &error));
  g_assert_no_error (error);
}

static gboolean
close_script (TuaConn *s, gpointer user_data, GError **error)
{
  g_autoptr (TuaMsg) m = expect_request (s, "OPTIONS", error);

  return m != NULL; /* no answer: the server just closes */
}

static void
test_closed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaLoopback) lb = tua_loopback_new (f->cert, f->key, 0, 0, close_script, NULL, &error);
  g_autoptr (TuaConn) c = tua_conn_new ("localhost", tua_loopback_port (lb), f->cert, "localhost",
                                        &error);
  g_autoptr (TuaUa) ua = tua_ua_new (c, "alice", "example.org", NULL);
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) none = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_no_error (error);
  none = tua_conn_recv (c, 150, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 150 * 1000);
  g_assert_false (tua_conn_is_closed (c, 100));

  req = tua_ua_new_request (ua, "OPTIONS", "sips:example.org", NULL);
  g_assert_true (tua_ua_send (ua, req, &error));
  g_assert_true (tua_conn_is_closed (c, 5000));
  none = tua_conn_recv (c, 1000, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_clear_error (&error);
  g_assert_false (tua_conn_send (c, "x", 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_clear_error (&error);
  g_assert_true (tua_loopback_finish (lb, &error));
  g_assert_no_error (error);
}

static gboolean
idle_script (TuaConn *s, gpointer user_data, GError **error)
{
  return TRUE;
}

/* Connects to a fresh idle server; NULL with @error when the client refuses or fails. */
static TuaConn *
connect_idle (Fixture *f, int srv_min, int srv_max, const char *cafile, const char *name,
              int cli_min, int cli_max, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (TuaLoopback) lb = tua_loopback_new (f->cert, f->key, srv_min, srv_max, idle_script,
                                                 NULL, &local);

  g_assert_no_error (local);
  return tua_conn_new_full ("localhost", tua_loopback_port (lb), cafile, name, cli_min, cli_max,
                            error);
}

static void
test_verify (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaConn) good = connect_idle (f, 0, 0, f->cert, "localhost", 0, 0, &error);
  g_autoptr (TuaConn) wrong = NULL;
  g_autoptr (TuaConn) blind = NULL;
  g_autoptr (TuaConn) untrusted = NULL;
  g_autoptr (X509) peer = NULL;
  g_autofree char *other_dir = g_build_filename (f->dir, "other", NULL);
  g_autofree char *other_cert = NULL;
  g_autofree char *other_key = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (tua_conn_tls_version (good), >=, TLS1_2_VERSION);
  peer = tua_conn_peer_certificate (good);
  g_assert_nonnull (peer);

  wrong = connect_idle (f, 0, 0, f->cert, "wrong.example", 0, 0, &error);
  g_assert_null (wrong);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "verification"));
  g_clear_error (&error);

  blind = connect_idle (f, 0, 0, NULL, NULL, 0, 0, &error);
  g_assert_no_error (error);

  g_assert_cmpint (g_mkdir (other_dir, 0700), ==, 0);
  g_assert_true (tua_loopback_make_cert (other_dir, "localhost", &other_cert, &other_key, &error));
  untrusted = connect_idle (f, 0, 0, other_cert, "localhost", 0, 0, &error);
  g_assert_null (untrusted);
  g_assert_nonnull (error);
  g_remove (other_cert);
  g_remove (other_key);
  g_rmdir (other_dir);
}

static void
test_tls_versions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaConn) old_ok = NULL;
  g_autoptr (TuaConn) refused = NULL;
  g_autoptr (TuaConn) tls13 = NULL;

  /* the client really speaks TLS 1.1 when forced, to a server that accepts it... */
  old_ok = connect_idle (f, TLS1_VERSION, TLS1_1_VERSION, f->cert, "localhost", TLS1_1_VERSION,
                         TLS1_1_VERSION, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tua_conn_tls_version (old_ok), ==, TLS1_1_VERSION);
  /* ...so a refusal comes from a server that requires 1.2 */
  refused = connect_idle (f, 0, 0, f->cert, "localhost", TLS1_VERSION, TLS1_1_VERSION, &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  g_clear_error (&error);
  tls13 = connect_idle (f, 0, 0, f->cert, "localhost", TLS1_3_VERSION, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tua_conn_tls_version_name (tls13), ==, "TLSv1.3");
}

static const char bob_contact[] = "<sips:bob@198.51.100.7:5061;transport=tls>";

/* Plays proxy and callee for a UAC call: 407, then 100/180/200 with two Record-Routes. */
static gboolean
invite_uac_script (TuaConn *s, gpointer user_data, GError **error)
{
  g_autoptr (TuaMsg) inv1 = NULL, ack1 = NULL, inv2 = NULL, ack2 = NULL, bye = NULL;
  g_autofree char *b1 = NULL, *ba1 = NULL, *b2 = NULL, *ba2 = NULL, *alg = NULL;
  g_autofree char *ack1_tag = NULL;
  g_auto (GStrv) routes = NULL;
  g_auto (GStrv) bye_routes = NULL;
  guint32 n1 = 0, n2 = 0, na = 0, nb = 0;
  g_autofree char *ma = NULL, *mb = NULL;
  g_autofree char *extra200 = g_strdup_printf (
    "Record-Route: <sips:p1.example;lr>, <sips:p2.example;lr>\r\nContact: %s\r\n", bob_contact);

  if (!(inv1 = expect_request (s, "INVITE", error)))
    return FALSE;
  CHECK (g_strcmp0 (inv1->request_uri, "sips:bob@example.org") == 0);
  CHECK (tua_msg_header (inv1, "Contact") && tua_msg_cseq (inv1, &n1, NULL));
  if (!reply (s, inv1, 407, "Proxy Authentication Required",
              "Proxy-Authenticate: Digest realm=\"example.org\", nonce=\"pn\", qop=\"auth\", "
              "algorithm=SHA-256\r\n", NULL, error))
    return FALSE;
  /* the non-2xx ACK: same branch and CSeq number, To with our tag (§17.1.1.3) */
  if (!(ack1 = expect_request (s, "ACK", error)))
    return FALSE;
  b1 = tua_msg_branch (inv1);
  ba1 = tua_msg_branch (ack1);
  ack1_tag = param_dup (tua_msg_header (ack1, "To"), "tag");
  CHECK (g_strcmp0 (b1, ba1) == 0 && g_strcmp0 (ack1_tag, "srvtag") == 0);
  CHECK (tua_msg_cseq (ack1, &na, &ma) && na == n1 && g_strcmp0 (ma, "ACK") == 0);
  CHECK (g_strcmp0 (ack1->request_uri, inv1->request_uri) == 0);

  if (!(inv2 = expect_request (s, "INVITE", error)))
    return FALSE;
  b2 = tua_msg_branch (inv2);
  CHECK (tua_msg_cseq (inv2, &n2, NULL) && n2 == n1 + 1 && g_strcmp0 (b1, b2) != 0);
  CHECK (tua_msg_header (inv2, "Authorization") == NULL);
  CHECK (verify_digest (tua_msg_header (inv2, "Proxy-Authorization"), "INVITE", "pw", &alg));
  CHECK (g_strcmp0 (alg, "SHA-256") == 0);
  CHECK (inv2->body_len == strlen (sdp) && memcmp (inv2->body, sdp, inv2->body_len) == 0);
  if (!reply (s, inv2, 100, "Trying", NULL, NULL, error) ||
      !reply (s, inv2, 180, "Ringing", NULL, NULL, error) ||
      !reply (s, inv2, 200, "OK", extra200, sdp, error))
    return FALSE;

  /* the 2xx ACK: new branch, to the remote target, Route = Record-Route reversed (§12.2.1.1) */
  if (!(ack2 = expect_request (s, "ACK", error)))
    return FALSE;
  ba2 = tua_msg_branch (ack2);
  routes = tua_msg_headers (ack2, "Route");
  CHECK (g_strcmp0 (ba2, b2) != 0);
  CHECK (g_strcmp0 (ack2->request_uri, "sips:bob@198.51.100.7:5061;transport=tls") == 0);
  CHECK (g_strv_length (routes) == 2 && g_strcmp0 (routes[0], "<sips:p2.example;lr>") == 0 &&
         g_strcmp0 (routes[1], "<sips:p1.example;lr>") == 0);
  CHECK (g_strcmp0 (tua_msg_header (ack2, "Proxy-Authorization"),
                    tua_msg_header (inv2, "Proxy-Authorization")) == 0);
  g_clear_pointer (&ma, g_free);
  CHECK (tua_msg_cseq (ack2, &na, &ma) && na == n2 && g_strcmp0 (ma, "ACK") == 0);

  if (!(bye = expect_request (s, "BYE", error)))
    return FALSE;
  bye_routes = tua_msg_headers (bye, "Route");
  CHECK (g_strcmp0 (bye->request_uri, ack2->request_uri) == 0);
  CHECK (g_strv_length (bye_routes) == 2 && g_strcmp0 (bye_routes[0], routes[0]) == 0);
  CHECK (tua_msg_cseq (bye, &nb, &mb) && nb == n2 + 1 && g_strcmp0 (mb, "BYE") == 0);
  CHECK (g_strcmp0 (tua_msg_header (bye, "To"), tua_msg_header (ack2, "To")) == 0);
  return reply (s, bye, 200, "OK", NULL, NULL, error);
}

static void
test_invite_uac (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaLoopback) lb = tua_loopback_new (f->cert, f->key, 0, 0, invite_uac_script, NULL,
                                                 &error);
  g_autoptr (TuaConn) c = tua_conn_new ("localhost", tua_loopback_port (lb), f->cert, "localhost",
                                        &error);
  g_autoptr (TuaUa) ua = tua_ua_new (c, "alice", "example.org", "pw");
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) r100 = NULL, r180 = NULL, r200 = NULL, bye = NULL;

  g_assert_no_error (error);
  call = tua_ua_invite (ua, "bob", sdp, &error);
  g_assert_no_error (error);
  r100 = tua_call_wait_response (call, 5000, &error); /* the 407 is handled inside */
  g_assert_no_error (error);
  g_assert_cmpuint (r100->status, ==, 100);
  g_assert_false (tua_call_is_established (call));
  r180 = tua_call_wait_response (call, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r180->status, ==, 180);
  r200 = tua_call_wait_final (call, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r200->status, ==, 200);
  g_assert_cmpmem (r200->body, r200->body_len, sdp, strlen (sdp));
  g_assert_true (tua_call_is_established (call));
  g_assert_cmpuint (tua_call_route_set (call)->len, ==, 2);
  g_assert_true (tua_call_ack (call, NULL, &error));
  bye = tua_call_bye (call, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bye->status, ==, 200);
  g_assert_true (tua_loopback_finish (lb, &error));
  g_assert_no_error (error);
}

/* Plays a proxy delivering a call to the UA (over the UA's own connection), checks its answers. */
static gboolean
invite_uas_script (TuaConn *s, gpointer user_data, GError **error)
{
  g_autofree char *invite = g_strdup_printf (
    "INVITE sips:alice@192.0.2.1:5061;transport=tls SIP/2.0\r\n"
    "Via: SIP/2.0/TLS proxy.example;branch=z9hG4bKprx\r\n"
    "Via: SIP/2.0/TLS 198.51.100.9;branch=z9hG4bKcaller;received=198.51.100.9\r\n"
    "Record-Route: <sips:proxy.example;lr>\r\nMax-Forwards: 69\r\n"
    "From: <sips:carol@example.org>;tag=ct\r\nTo: <sips:alice@example.org>\r\n"
    "Call-ID: uas@x\r\nCSeq: 11 INVITE\r\nContact: <sips:carol@198.51.100.9;transport=tls>\r\n"
    "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s", strlen (sdp), sdp);
  static const char ack[] = "ACK sips:alice@192.0.2.1:5061;transport=tls SIP/2.0\r\n"
    "Via: SIP/2.0/TLS proxy.example;branch=z9hG4bKprxack\r\nFrom: <sips:carol@example.org>;tag=ct\r\n"
    "To: <sips:alice@example.org>;tag=%s\r\nCall-ID: uas@x\r\nCSeq: 11 ACK\r\nContent-Length: 0\r\n\r\n";
  g_autoptr (TuaMsg) r180 = NULL, r200 = NULL, bye = NULL;
  g_autofree char *tag180 = NULL, *tag200 = NULL, *ack_text = NULL, *from_tag = NULL;
  g_auto (GStrv) vias = NULL;
  g_auto (GStrv) routes = NULL;

  if (!tua_conn_send (s, invite, -1, error) || !(r180 = tua_conn_recv (s, 5000, error)) ||
      !(r200 = tua_conn_recv (s, 5000, error)))
    return FALSE;
  CHECK (r180->status == 180 && r200->status == 200);
  tag180 = param_dup (tua_msg_header (r180, "To"), "tag");
  tag200 = param_dup (tua_msg_header (r200, "To"), "tag");
  CHECK (tag180 && tag180[0] && g_strcmp0 (tag180, tag200) == 0);
  vias = tua_msg_headers (r200, "Via");
  CHECK (g_strv_length (vias) == 2 && g_str_has_suffix (vias[1], "received=198.51.100.9"));
  CHECK (g_strcmp0 (tua_msg_header (r200, "Record-Route"), "<sips:proxy.example;lr>") == 0);
  CHECK (g_strcmp0 (tua_msg_header (r200, "CSeq"), "11 INVITE") == 0);
  CHECK (g_strcmp0 (tua_msg_header (r200, "From"), "<sips:carol@example.org>;tag=ct") == 0);
  CHECK (strstr (tua_msg_header (r200, "Contact"), "@192.0.2.1:5061;transport=tls>") != NULL);
  CHECK (r200->body_len == strlen (sdp) && memcmp (r200->body, sdp, r200->body_len) == 0);
  ack_text = g_strdup_printf (ack, tag200);
  if (!tua_conn_send (s, ack_text, -1, error) || !(bye = expect_request (s, "BYE", error)))
    return FALSE;
  routes = tua_msg_headers (bye, "Route");
  from_tag = param_dup (tua_msg_header (bye, "From"), "tag");
  CHECK (g_strcmp0 (bye->request_uri, "sips:carol@198.51.100.9;transport=tls") == 0);
  CHECK (g_strv_length (routes) == 1 && g_strcmp0 (routes[0], "<sips:proxy.example;lr>") == 0);
  CHECK (g_strcmp0 (from_tag, tag200) == 0);
  CHECK (g_strcmp0 (tua_msg_header (bye, "To"), "<sips:carol@example.org>;tag=ct") == 0);
  CHECK (g_strcmp0 (tua_msg_header (bye, "Call-ID"), "uas@x") == 0);
  return reply (s, bye, 200, "OK", NULL, NULL, error);
}

static void
test_invite_uas (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaLoopback) lb = tua_loopback_new (f->cert, f->key, 0, 0, invite_uas_script, NULL,
                                                 &error);
  g_autoptr (TuaConn) c = tua_conn_new ("localhost", tua_loopback_port (lb), f->cert, "localhost",
                                        &error);
  g_autoptr (TuaUa) ua = tua_ua_new (c, "alice", "example.org", "pw");
  g_autoptr (TuaMsg) invite = NULL, ack = NULL, bye = NULL;
  g_autoptr (TuaCall) call = NULL;

  g_assert_no_error (error);
  invite = tua_ua_wait_request (ua, "INVITE", 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (invite->body, invite->body_len, sdp, strlen (sdp));
  g_assert_true (tua_ua_respond (ua, invite, 180, "Ringing", NULL, &error));
  g_assert_true (tua_ua_respond (ua, invite, 200, "OK", sdp, &error));
  call = tua_call_new_uas (ua, invite);
  ack = tua_ua_wait_request (ua, "ACK", 5000, &error);
  g_assert_no_error (error);
  bye = tua_call_bye (call, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bye->status, ==, 200);
  g_assert_true (tua_loopback_finish (lb, &error));
  g_assert_no_error (error);
}

/* Plays proxy for a call the caller cancels (§9.1): 180, CANCEL, 200 for it and 487 + ACK. */
static gboolean
cancel_script (TuaConn *s, gpointer user_data, GError **error)
{
  g_autoptr (TuaMsg) inv = NULL, cancel = NULL, ack = NULL;
  g_autofree char *bi = NULL, *bc = NULL, *ba = NULL, *mc = NULL;
  guint32 ni = 0, nc = 0;

  if (!(inv = expect_request (s, "INVITE", error)) ||
      !reply (s, inv, 180, "Ringing", NULL, NULL, error) ||
      !(cancel = expect_request (s, "CANCEL", error)))
    return FALSE;
  bi = tua_msg_branch (inv);
  bc = tua_msg_branch (cancel);
  CHECK (g_strcmp0 (bi, bc) == 0 && g_strcmp0 (cancel->request_uri, inv->request_uri) == 0);
  CHECK (tua_msg_cseq (inv, &ni, NULL) && tua_msg_cseq (cancel, &nc, &mc) && ni == nc);
  CHECK (g_strcmp0 (mc, "CANCEL") == 0 && cancel->body_len == 0);
  CHECK (g_strcmp0 (tua_msg_header (cancel, "To"), tua_msg_header (inv, "To")) == 0);
  CHECK (g_strcmp0 (tua_msg_header (cancel, "From"), tua_msg_header (inv, "From")) == 0);
  if (!reply (s, cancel, 200, "OK", NULL, NULL, error) ||
      !reply (s, inv, 487, "Request Terminated", NULL, NULL, error) ||
      !(ack = expect_request (s, "ACK", error)))
    return FALSE;
  ba = tua_msg_branch (ack);
  CHECK (g_strcmp0 (ba, bi) == 0);
  return TRUE;
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaLoopback) lb = tua_loopback_new (f->cert, f->key, 0, 0, cancel_script, NULL, &error);
  g_autoptr (TuaConn) c = tua_conn_new ("localhost", tua_loopback_port (lb), f->cert, "localhost",
                                        &error);
  g_autoptr (TuaUa) ua = tua_ua_new (c, "alice", "example.org", "pw");
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) r180 = NULL, r_cancel = NULL, r487 = NULL;

  g_assert_no_error (error);
  call = tua_ua_invite (ua, "bob", sdp, &error);
  g_assert_no_error (error);
  r180 = tua_call_wait_response (call, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r180->status, ==, 180);
  r_cancel = tua_call_cancel (call, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r_cancel->status, ==, 200);
  r487 = tua_call_wait_final (call, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r487->status, ==, 487);
  g_assert_false (tua_call_is_established (call));
  g_assert_true (tua_loopback_finish (lb, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/tua/loopback/register/strongest", test_register_strongest);
  ADD ("/tua/loopback/register/forced-md5", test_register_forced_md5);
  ADD ("/tua/loopback/register/wrong-password", test_register_wrong_password);
  ADD ("/tua/loopback/keepalive", test_keepalive);
  ADD ("/tua/loopback/closed", test_closed);
  ADD ("/tua/loopback/verify", test_verify);
  ADD ("/tua/loopback/tls-versions", test_tls_versions);
  ADD ("/tua/loopback/invite/uac", test_invite_uac);
  ADD ("/tua/loopback/invite/uas", test_invite_uas);
  ADD ("/tua/loopback/invite/cancel", test_cancel);
  return g_test_run ();
}
