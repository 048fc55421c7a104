/* test-sofia-digest: Sofia-SIP's client Digest must answer sotto-signald's challenges with SHA-256.
 *
 * Guards debian/patches/9003-sotto-digest-sha256.patch (tools/sofia-sip-fix). sotto-signald
 * challenges with two Digest headers per 401/407, SHA-256 first and MD5 second (RFC 8760
 * section 2.4). Debian's auth_client.c knows MD5 only, and its auc_challenge() fails (-1) on
 * the SHA-256 challenge, which fails the whole response: a nua client could not authenticate at
 * all. Every case here except the MD5-only ones fails on the unpatched library.
 *
 * Pure: the 401/407 and the REGISTER are parsed with Sofia's own SIP parser and fed to its client
 * authenticator (auc_challenge, auc_credentials / auc_all_credentials, auc_authorization), the
 * way nua drives it. The produced credentials are parsed and checked with our sig-digest, which
 * computes the expected response independently of Sofia. No sockets, no loop.
 *
 * One case, /sofia/digest/signald/register, is end to end: a real sotto-signald (sig-harness)
 * challenges a REGISTER sent by the test UA, Sofia answers that 401, and the server must accept
 * the Authorization it built, twice. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <sofia-sip/auth_client.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "signal/sig-digest.h"
#include "sig-harness.h"

#define TD_REALM "sotto.test"
#define TD_USER "alice"
#define TD_PASS "correct horse"
#define TD_URI "sip:sotto.test"
#define TD_OPAQUE "opaque-1"
#define TD_NONCE_SHA256 "nonce-for-sha256/AbC+1"
#define TD_NONCE_MD5 "nonce-for-md5/DeF+2"
/* RFC 7616 section 6.1 registers it; Sofia (patched or not) cannot answer it. */
#define TD_UNKNOWN_CHALLENGE \
  "Digest realm=\"" TD_REALM "\", nonce=\"nonce-unknown\", algorithm=SHA-512-256, qop=\"auth\""

typedef enum
{
  TD_SHA256,  /* sotto-signald's SHA-256 challenge */
  TD_MD5,     /* sotto-signald's MD5 challenge */
  TD_UNKNOWN, /* an algorithm nobody here supports */
  TD_END
} TdChallenge;

typedef enum
{
  TD_CRED_STRING, /* auc_credentials (&auc, home, "Digest:\"realm\":user:pass") */
  TD_CRED_ALL,    /* auc_all_credentials (&auc, "Digest", "\"realm\"", user, pass) */
  TD_CRED_LAST
} TdCredentialsApi;

typedef struct
{
  guint status; /* 401: WWW-Authenticate; 407: Proxy-Authenticate */
  TdChallenge challenges[4]; /* in header order, ended by TD_END */
  TdCredentialsApi api;
  SigDigestAlg expect_alg; /* the algorithm the client must pick */
} TdCase;

static char *
td_challenge_value (TdChallenge which)
{
  switch (which)
    {
    case TD_SHA256:
      return sig_digest_challenge (SIG_DIGEST_ALG_SHA256, TD_REALM, TD_NONCE_SHA256, TD_OPAQUE,
                                   FALSE);
    case TD_MD5:
      return sig_digest_challenge (SIG_DIGEST_ALG_MD5, TD_REALM, TD_NONCE_MD5, TD_OPAQUE, FALSE);
    case TD_UNKNOWN:
      return g_strdup (TD_UNKNOWN_CHALLENGE);
    case TD_END:
    default:
      g_assert_not_reached ();
    }
}

static msg_t *
td_parse (const char *text)
{
  msg_t *msg = msg_make (sip_default_mclass (), 0, text, (ssize_t) strlen (text));

  g_assert_nonnull (msg);
  if (sip_object (msg)->sip_error)
    g_test_message ("Sofia could not parse %s in:\n%s", sip_object (msg)->sip_error->er_name, text);
  g_assert_null (sip_object (msg)->sip_error);
  return msg;
}

/* The 401 or 407 to a REGISTER carrying @challenges, in that order. */
static msg_t *
td_make_response (guint status, const TdChallenge *challenges)
{
  g_autoptr (GString) text = g_string_new (NULL);
  const char *name = status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate";

  g_string_append_printf (text,
                          "SIP/2.0 %u %s\r\n"
                          "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-td-1\r\n"
                          "From: <sip:" TD_USER "@" TD_REALM ">;tag=td-from\r\n"
                          "To: <sip:" TD_USER "@" TD_REALM ">;tag=td-to\r\n"
                          "Call-ID: td-call-1\r\n"
                          "CSeq: 1 REGISTER\r\n",
                          status, status == 407 ? "Proxy Authentication Required" : "Unauthorized");
  for (const TdChallenge *c = challenges; *c != TD_END; c++)
    {
      g_autofree char *value = td_challenge_value (*c);
      g_string_append_printf (text, "%s: %s\r\n", name, value);
    }
  g_string_append (text, "Content-Length: 0\r\n\r\n");
  return td_parse (text->str);
}

static msg_t *
td_make_register (guint cseq)
{
  g_autofree char *text = g_strdup_printf (
      "REGISTER " TD_URI " SIP/2.0\r\n"
      "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-td-%u\r\n"
      "From: <sip:" TD_USER "@" TD_REALM ">;tag=td-from\r\n"
      "To: <sip:" TD_USER "@" TD_REALM ">\r\n"
      "Call-ID: td-call-1\r\n"
      "CSeq: %u REGISTER\r\n"
      "Contact: <sips:" TD_USER "@127.0.0.1:5061>\r\n"
      "Content-Length: 0\r\n\r\n",
      cseq, cseq);
  return td_parse (text);
}

static gboolean
td_is_lower_hex (const char *s)
{
  for (; *s; s++)
    if (!g_ascii_isdigit (*s) && !(*s >= 'a' && *s <= 'f'))
      return FALSE;
  return TRUE;
}

/* Authorizes one REGISTER and checks its single credentials header against sig-digest.
 * Returns the credentials for the caller's cross-request checks. */
static SigDigestCredentials *
td_authorize_once (auth_client_t **auc, const TdCase *tc, guint32 expect_nc)
{
  msg_t *req = td_make_register (expect_nc + 1);
  sip_t *sip = sip_object (req);
  msg_auth_t *creds_header = tc->status == 407 ? sip->sip_proxy_authorization
                                               : sip->sip_authorization;
  g_autoptr (GError) error = NULL;
  g_autoptr (SigDigestCredentials) creds = NULL;
  g_autofree char *ha1 = NULL;
  g_autofree char *expected = NULL;
  char value[1024];
  issize_t len;

  g_assert_null (creds_header);
  g_assert_cmpint (auc_authorization (auc, req, (msg_pub_t *) sip, "REGISTER",
                                      sip->sip_request->rq_url, NULL), ==, 1);
  /* Exactly one credentials header, of the class the challenge asked for. */
  creds_header = tc->status == 407 ? sip->sip_proxy_authorization : sip->sip_authorization;
  g_assert_nonnull (creds_header);
  g_assert_null (creds_header->au_next);
  g_assert_null (tc->status == 407 ? sip->sip_authorization : sip->sip_proxy_authorization);

  /* The field value as the encoder writes it (sip_header_as_string() drops the last parameter
   * of these headers: it trusts a length cached by msg_header_format()). */
  len = msg_header_field_e (value, sizeof value, (msg_header_t const *) creds_header, 0);
  g_assert_cmpint (len, >, 0);
  g_assert_cmpint (len, <, (issize_t) sizeof value);
  g_test_message ("credentials: %s", value);
  g_assert_true (sig_digest_parse_credentials (value, &creds, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (sig_digest_alg_to_string (creds->alg), ==,
                   sig_digest_alg_to_string (tc->expect_alg));
  g_assert_cmpstr (creds->username, ==, TD_USER);
  g_assert_cmpstr (creds->realm, ==, TD_REALM);
  g_assert_cmpstr (creds->nonce, ==,
                   tc->expect_alg == SIG_DIGEST_ALG_SHA256 ? TD_NONCE_SHA256 : TD_NONCE_MD5);
  g_assert_cmpstr (creds->uri, ==, TD_URI);
  g_assert_cmpstr (creds->opaque, ==, TD_OPAQUE);
  g_assert_cmpstr (creds->qop, ==, "auth");
  g_assert_cmpuint (creds->nc, ==, expect_nc);
  g_assert_nonnull (creds->cnonce);
  g_assert_cmpuint (strlen (creds->response), ==, sig_digest_alg_hex_len (tc->expect_alg));
  g_assert_true (td_is_lower_hex (creds->response));

  ha1 = sig_digest_ha1 (tc->expect_alg, TD_USER, TD_REALM, TD_PASS);
  expected = sig_digest_response (tc->expect_alg, ha1, creds->nonce, creds->nc_text, creds->cnonce,
                                  "auth", "REGISTER", creds->uri);
  g_assert_cmpstr (creds->response, ==, expected);
  g_assert_true (sig_digest_verify (creds, "REGISTER", ha1));

  msg_destroy (req);
  return g_steal_pointer (&creds);
}

static void
td_run (gconstpointer data)
{
  const TdCase *tc = data;
  su_home_t *home = su_home_new (sizeof (su_home_t));
  auth_client_t *auc = NULL;
  msg_t *resp = td_make_response (tc->status, tc->challenges);
  sip_t *sip = sip_object (resp);
  msg_auth_t *ch = tc->status == 407 ? sip->sip_proxy_authenticate : sip->sip_www_authenticate;
  msg_hclass_t *crcl = tc->status == 407 ? sip_proxy_authorization_class
                                         : sip_authorization_class;
  g_autoptr (SigDigestCredentials) first = NULL;
  g_autoptr (SigDigestCredentials) second = NULL;

  g_assert_nonnull (home);
  g_assert_nonnull (ch);
  /* 1: a challenge was stored. The unpatched library returns -1 when SHA-256 is offered. */
  g_assert_cmpint (auc_challenge (&auc, home, ch, crcl), ==, 1);
  g_assert_nonnull (auc);
  g_assert_cmpint (auc_has_authorization (&auc), ==, 0);

  if (tc->api == TD_CRED_STRING)
    g_assert_cmpint (auc_credentials (&auc, home, "Digest:\"" TD_REALM "\":" TD_USER ":" TD_PASS),
                     >, 0);
  else
    g_assert_cmpint (auc_all_credentials (&auc, "Digest", "\"" TD_REALM "\"", TD_USER, TD_PASS),
                     >, 0);
  g_assert_cmpint (auc_has_authorization (&auc), ==, 1);

  /* RFC 7616 section 3.4: the same cnonce, nc counting up, on the same challenge. */
  first = td_authorize_once (&auc, tc, 1);
  second = td_authorize_once (&auc, tc, 2);
  g_assert_cmpstr (first->cnonce, ==, second->cnonce);
  g_assert_cmpstr (first->nc_text, ==, "00000001");
  g_assert_cmpstr (second->nc_text, ==, "00000002");
  g_assert_cmpstr (first->response, !=, second->response);

  msg_destroy (resp);
  su_home_unref (home);
}

/* A response offering nothing the client can answer still fails, as before the patch. */
static void
test_unknown_only (void)
{
  static const TdChallenge challenges[] = { TD_UNKNOWN, TD_END };
  su_home_t *home = su_home_new (sizeof (su_home_t));
  auth_client_t *auc = NULL;
  msg_t *resp = td_make_response (401, challenges);

  g_assert_cmpint (auc_challenge (&auc, home, sip_object (resp)->sip_www_authenticate,
                                  sip_authorization_class), ==, -1);
  msg_destroy (resp);
  su_home_unref (home);
}

/* Sofia's Authorization for @req (serialised by the test UA), as a field value. */
static char *
td_sofia_authorization (auth_client_t **auc, const TuaRequest *req)
{
  g_autofree char *text = tua_request_serialize (req, NULL);
  msg_t *msg = td_parse (text);
  sip_t *sip = sip_object (msg);
  char value[1024];
  issize_t len;

  g_assert_cmpint (auc_authorization (auc, msg, (msg_pub_t *) sip,
                                      sip->sip_request->rq_method_name, sip->sip_request->rq_url,
                                      sip->sip_payload), ==, 1);
  g_assert_nonnull (sip->sip_authorization);
  len = msg_header_field_e (value, sizeof value, (msg_header_t const *) sip->sip_authorization, 0);
  g_assert_cmpint (len, >, 0);
  g_assert_cmpint (len, <, (issize_t) sizeof value);
  msg_destroy (msg);
  return g_strdup (value);
}

/* End to end: sotto-signald's own 401 (SHA-256, then MD5) through Sofia's authenticator; the
 * server must accept what Sofia builds, with nc 1 and then 2 on the same nonce. */
static void
test_signald_register (void)
{
  g_autoptr (SigHarness) h = sig_harness_new ();
  g_autoptr (SigClient) c = NULL;
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) challenge = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *credentials = NULL;
  su_home_t *home = su_home_new (sizeof (su_home_t));
  auth_client_t *auc = NULL;
  msg_t *resp;
  msg_auth_t *www;

  sig_harness_add_user (h, TD_USER, TD_PASS);
  sig_harness_start (h);
  c = sig_client_new (h, TD_USER, TD_PASS);

  req = tua_ua_register_request (c->ua, 600);
  g_assert_true (tua_ua_send (c->ua, req, &error));
  g_assert_no_error (error);
  challenge = tua_ua_wait_final (c->ua, req, TUA_DEFAULT_TIMEOUT_MS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (challenge->status, ==, 401);

  resp = td_parse (challenge->raw);
  www = sip_object (resp)->sip_www_authenticate;
  g_assert_nonnull (www);
  g_assert_nonnull (www->au_next); /* RFC 8760: one challenge per algorithm */
  g_assert_cmpint (auc_challenge (&auc, home, www, sip_authorization_class), ==, 1);
  credentials = g_strdup_printf ("Digest:%s:%s:%s",
                                 msg_header_find_param (www->au_common, "realm="), TD_USER,
                                 TD_PASS);
  g_assert_cmpint (auc_credentials (&auc, home, credentials), >, 0);

  for (guint round = 1; round <= 2; round++)
    {
      g_autoptr (TuaMsg) final = NULL;
      g_autofree char *authorization = NULL;
      g_autofree char *expect_nc = g_strdup_printf ("nc=%08x", round);

      tua_ua_prepare_retry (c->ua, req);
      /* Sofia drops the request's old Authorization and adds its own. */
      authorization = td_sofia_authorization (&auc, req);
      g_free (req->authorization);
      req->authorization = g_steal_pointer (&authorization);
      g_test_message ("Sofia's credentials: %s", req->authorization);
      g_assert_nonnull (strstr (req->authorization, "algorithm=SHA-256"));
      g_assert_nonnull (strstr (req->authorization, expect_nc));
      g_assert_true (tua_ua_send (c->ua, req, &error));
      g_assert_no_error (error);
      final = tua_ua_wait_final (c->ua, req, TUA_DEFAULT_TIMEOUT_MS, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (final->status, ==, 200);
    }

  msg_destroy (resp);
  su_home_unref (home);
}

static const TdCase td_sha256_then_md5 = {
  401, { TD_SHA256, TD_MD5, TD_END }, TD_CRED_STRING, SIG_DIGEST_ALG_SHA256
};
static const TdCase td_md5_then_sha256 = {
  401, { TD_MD5, TD_SHA256, TD_END }, TD_CRED_STRING, SIG_DIGEST_ALG_SHA256
};
static const TdCase td_unknown_first = {
  401, { TD_UNKNOWN, TD_SHA256, TD_MD5, TD_END }, TD_CRED_STRING, SIG_DIGEST_ALG_SHA256
};
static const TdCase td_all_credentials = {
  401, { TD_SHA256, TD_MD5, TD_END }, TD_CRED_ALL, SIG_DIGEST_ALG_SHA256
};
static const TdCase td_proxy_sha256_then_md5 = {
  407, { TD_SHA256, TD_MD5, TD_END }, TD_CRED_STRING, SIG_DIGEST_ALG_SHA256
};
static const TdCase td_proxy_md5_then_sha256 = {
  407, { TD_MD5, TD_SHA256, TD_END }, TD_CRED_ALL, SIG_DIGEST_ALG_SHA256
};
/* MD5 behaviour the patch must keep (these pass on the unpatched library too). */
static const TdCase td_md5_only = {
  401, { TD_MD5, TD_END }, TD_CRED_STRING, SIG_DIGEST_ALG_MD5
};
static const TdCase td_unknown_then_md5 = {
  401, { TD_UNKNOWN, TD_MD5, TD_END }, TD_CRED_STRING, SIG_DIGEST_ALG_MD5
};

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/sofia/digest/401/sha256-then-md5", &td_sha256_then_md5, td_run);
  g_test_add_data_func ("/sofia/digest/401/md5-then-sha256", &td_md5_then_sha256, td_run);
  g_test_add_data_func ("/sofia/digest/401/unknown-first", &td_unknown_first, td_run);
  g_test_add_data_func ("/sofia/digest/401/all-credentials", &td_all_credentials, td_run);
  g_test_add_data_func ("/sofia/digest/407/sha256-then-md5", &td_proxy_sha256_then_md5, td_run);
  g_test_add_data_func ("/sofia/digest/407/md5-then-sha256", &td_proxy_md5_then_sha256, td_run);
  g_test_add_data_func ("/sofia/digest/401/md5-only", &td_md5_only, td_run);
  g_test_add_data_func ("/sofia/digest/401/unknown-then-md5", &td_unknown_then_md5, td_run);
  g_test_add_func ("/sofia/digest/401/unknown-only", test_unknown_only);
  g_test_add_func ("/sofia/digest/signald/register", test_signald_register);

  return g_test_run ();
}
