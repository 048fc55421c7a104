/* Integration tests of sotto-signald over real TLS, with real certificates, a real SQLite file
 * and the server started as a subprocess. The test UA's Contacts point at 192.0.2.1 (TEST-NET,
 * unreachable), so every request that reaches a UA proves the connection reuse. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "sig-harness.h"
#include "tua-digest.h"
#include "sotto-tls.h"

#define T 5000 /* ms: every wait in these tests */

static const char SDP_OFFER[] =
  "v=0\r\n"
  "o=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\n"
  "s=-\r\n"
  "c=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\n"
  "m=audio 49170 UDP/TLS/RTP/SAVP 111\r\n"
  "a=rtpmap:111 opus/48000/2\r\n"
  "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n"
  "a=ice-ufrag:F7gI\r\n"
  "a=x-odd-bytes:\x01\x7f \xc3\xa9\r\n";

static const char SDP_ANSWER[] =
  "v=0\r\n"
  "o=bob 2808844564 2808844564 IN IP4 192.0.2.1\r\n"
  "s=-\r\n"
  "c=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\n"
  "m=audio 49172 UDP/TLS/RTP/SAVP 111\r\n"
  "a=rtpmap:111 opus/48000/2\r\n";

typedef struct
{
  SigHarness *h;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->h = sig_harness_new ();
  if (data)
    g_string_append (f->h->config_extra, data);
  sig_harness_add_user (f->h, "alice", "alice-secret-1");
  sig_harness_add_user (f->h, "bob", "bob-secret-2");
  sig_harness_add_user (f->h, "carol", "carol-secret-3");
  sig_harness_start (f->h);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  /* The server never dials anyone: every request it sent went over a client's connection. */
  {
    g_autofree char *log = sig_harness_log (f->h);
    g_assert_null (strstr (log, "blocked an outgoing connection"));
  }
  /* SIGTERM must stop the server cleanly (exit 0): a sanitizer report makes this fail. */
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  sig_harness_free (f->h);
}

/* Sends an INVITE from @a to @to and answers the proxy's 407, so that the authenticated
 * INVITE is on its way when this returns (the test UA only answers challenges while waiting). */
static TuaCall *
start_call (SigClient *a, const char *to)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = NULL;
  TuaCall *call;

  tua_ua_set_auto_auth (a->ua, FALSE);
  call = tua_ua_invite (a->ua, to, SDP_OFFER, &error);
  g_assert_no_error (error);
  r = tua_call_wait_response (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_true (tua_call_authenticate (call, r, &error));
  tua_ua_set_auto_auth (a->ua, TRUE);
  return call;
}

/* Calls @to from a fresh client and returns the final status. When @callee is given and the
 * INVITE reaches it, it answers 486, so a reachable user gives 486. */
static guint
invite_status_via (SigHarness *h, const char *from, const char *pw, const char *to,
                   SigClient *callee)
{
  g_autoptr (SigClient) a = sig_client_new (h, from, pw);
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) r = NULL;

  sig_client_register (a, 600);
  call = start_call (a, to);
  if (callee)
    {
      g_autoptr (TuaMsg) inv = tua_ua_wait_request (callee->ua, "INVITE", 1500, NULL);
      if (inv)
        g_assert_true (tua_ua_respond (callee->ua, inv, 486, "Busy Here", NULL, &error));
    }
  r = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  return r->status;
}

static guint
invite_status (SigHarness *h, const char *from, const char *pw, const char *to)
{
  return invite_status_via (h, from, pw, to, NULL);
}

/* ---- Registration ---- */

/* What sotto-signald's 200 to REGISTER lists in Allow (SIG_ALLOW in signal/). */
#define SIG_ALLOW_TEXT "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, REFER, " \
                       "SUBSCRIBE, NOTIFY, REGISTER"

static void
register_with (Fixture *f, const char *alg)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) r1 = NULL, r2 = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) challenges = NULL;

  tua_ua_set_auto_auth (a->ua, FALSE);
  g_assert_true (tua_ua_set_digest_alg (a->ua, alg));
  req = tua_ua_register_request (a->ua, 600);
  r1 = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r1->status, ==, 401);
  challenges = tua_msg_headers (r1, "WWW-Authenticate");
  g_assert_cmpuint (g_strv_length (challenges), ==, 2);
  /* SHA-256 offered first (RFC 8760), MD5 second for older clients. */
  g_assert_nonnull (strstr (challenges[0], "algorithm=SHA-256"));
  g_assert_nonnull (strstr (challenges[1], "algorithm=MD5"));
  g_assert_nonnull (strstr (challenges[0], "qop=\"auth\""));

  g_assert_true (tua_ua_answer_challenge (a->ua, req, r1, &error));
  g_assert_nonnull (strstr (req->authorization, alg));
  tua_ua_prepare_retry (a->ua, req);
  r2 = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->status, ==, 200);
  g_assert_nonnull (strstr (tua_msg_header (r2, "Contact"), "192.0.2.1"));
  /* One Allow line naming every method the server handles, then the next header. */
  {
    const char *line = "\r\nAllow: " SIG_ALLOW_TEXT "\r\n";
    const char *at = strstr (r2->raw, line);

    g_assert_nonnull (at);
    g_assert_null (strstr (at + 1, "\r\nAllow:"));
    g_assert_true (g_ascii_isalpha (at[strlen (line)]));
  }
}

/* [auth] algorithms = SHA-256: one challenge, and an MD5 answer is refused with a fresh
 * challenge even though the password is right. */
static void
test_register_sha256_only (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) r1 = NULL, r2 = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) challenges = NULL;

  tua_ua_set_auto_auth (a->ua, FALSE);
  req = tua_ua_register_request (a->ua, 600);
  r1 = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r1->status, ==, 401);
  challenges = tua_msg_headers (r1, "WWW-Authenticate");
  g_assert_cmpuint (g_strv_length (challenges), ==, 1);
  g_assert_nonnull (strstr (challenges[0], "algorithm=SHA-256"));
  /* Answer in MD5 anyway, correctly, against the nonce we were given: the server must refuse
   * it because MD5 is not offered, even though the password is right. */
  {
    g_autoptr (TuaChallenge) ch = NULL;

    g_assert_true (tua_digest_parse_challenge (challenges[0], &ch, &error));
    g_free (ch->algorithm);
    ch->algorithm = g_strdup ("MD5");
    ch->alg = TUA_DIGEST_MD5;
    g_free (req->authorization);
    req->authorization = tua_digest_credentials (ch, "alice", "alice-secret-1", "REGISTER",
                                                 req->request_uri, 1, "0a4f113b", &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (req->authorization, "algorithm=MD5"));
    tua_ua_prepare_retry (a->ua, req);
    r2 = tua_ua_transaction (a->ua, req, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r2->status, ==, 401);
  }
  {
    g_autofree char *log = sig_harness_log (f->h);

    g_assert_nonnull (strstr (log, "refused MD5 credentials"));
  }
}

/* [auth] algorithms = MD5;SHA-256: the challenges come in that order. */
static void
test_register_md5_first (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) r1 = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) challenges = NULL;

  tua_ua_set_auto_auth (a->ua, FALSE);
  req = tua_ua_register_request (a->ua, 600);
  r1 = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  challenges = tua_msg_headers (r1, "WWW-Authenticate");
  g_assert_cmpuint (g_strv_length (challenges), ==, 2);
  g_assert_nonnull (strstr (challenges[0], "algorithm=MD5"));
  g_assert_nonnull (strstr (challenges[1], "algorithm=SHA-256"));
}

static void
test_register_sha256 (Fixture *f, gconstpointer data)
{
  register_with (f, "SHA-256");
}

static void
test_register_md5 (Fixture *f, gconstpointer data)
{
  register_with (f, "MD5");
}

static void
test_register_wrong_password (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "not-the-password");
  g_autoptr (SigClient) x = sig_client_new (f->h, "mallory", "whatever");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = tua_ua_register (a->ua, 600, &error);
  g_autoptr (TuaMsg) rx = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 403);
  /* An unknown user gets the same answer as a wrong password. */
  rx = tua_ua_register (x->ua, 600, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rx->status, ==, 403);
  /* And nothing was registered: alice is still offline. */
  g_assert_cmpuint (invite_status (f->h, "bob", "bob-secret-2", "alice"), ==, 480);
}

static void
test_register_unregister (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = NULL;
  g_autoptr (TuaRequest) star = NULL;

  sig_client_register (b, 600);
  g_assert_cmpuint (invite_status_via (f->h, "alice", "alice-secret-1", "bob", b), ==, 486);
  r = tua_ua_register (b->ua, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_null (tua_msg_header (r, "Contact"));
  g_assert_cmpuint (invite_status_via (f->h, "alice", "alice-secret-1", "bob", b), ==, 480);

  /* Contact: * with Expires: 0 removes every binding (RFC 3261 §10.2.2). */
  sig_client_register (b, 600);
  g_assert_cmpuint (invite_status_via (f->h, "alice", "alice-secret-1", "bob", b), ==, 486);
  star = tua_ua_register_request (b->ua, 0);
  g_free (star->contact);
  star->contact = g_strdup ("*");
  g_clear_pointer (&r, tua_msg_unref);
  r = tua_ua_transaction (b->ua, star, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_cmpuint (invite_status_via (f->h, "alice", "alice-secret-1", "bob", b), ==, 480);
}

static void
test_register_expiry (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = NULL;

  /* Below min-expires (2 here): 423 with Min-Expires. */
  r = tua_ua_register (b->ua, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 423);
  g_assert_cmpstr (tua_msg_header (r, "Min-Expires"), ==, "2");

  sig_client_register (b, 2);
  g_assert_cmpuint (invite_status_via (f->h, "alice", "alice-secret-1", "bob", b), ==, 486);
  g_usleep (3500 * 1000);
  g_assert_cmpuint (invite_status_via (f->h, "alice", "alice-secret-1", "bob", b), ==, 480);
}

static void
test_register_other_user (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (TuaRequest) req = tua_ua_register_request (a->ua, 600);
  g_autoptr (TuaMsg) r = NULL;
  g_autoptr (GError) error = NULL;

  /* alice's credentials for bob's address-of-record. */
  g_free (req->to);
  req->to = g_strdup ("<sips:bob@" SIG_HARNESS_DOMAIN ">");
  r = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 403);
}

/* One REGISTER from @a carrying @authorization, answered without a retry. */
static TuaMsg *
register_with_authorization (SigClient *a, const char *authorization)
{
  g_autoptr (TuaRequest) req = tua_ua_register_request (a->ua, 600);
  g_autoptr (GError) error = NULL;
  TuaMsg *r;

  tua_ua_set_auto_auth (a->ua, FALSE);
  req->authorization = g_strdup (authorization);
  r = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  return r;
}

/* A REGISTER from @a to sips:DOMAIN answered with the right password, but with @uri as the
 * Digest uri its response covers. */
static TuaMsg *
register_with_digest_uri (SigClient *a, const char *uri)
{
  g_autoptr (TuaMsg) challenge = register_with_authorization (a, NULL);
  g_autoptr (TuaRequest) req = tua_ua_register_request (a->ua, 600);
  g_autoptr (TuaChallenge) ch = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) challenges = tua_msg_headers (challenge, "WWW-Authenticate");
  TuaMsg *r;

  g_assert_cmpuint (challenge->status, ==, 401);
  g_assert_cmpstr (req->request_uri, ==, "sips:" SIG_HARNESS_DOMAIN);
  g_assert_true (tua_digest_parse_challenge (challenges[0], &ch, &error));
  req->authorization = tua_digest_credentials (ch, "alice", "alice-secret-1", "REGISTER", uri,
                                               1, "0a4f113b", &error);
  g_assert_no_error (error);
  r = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  return r;
}

/* Credentials for our realm that cannot be read get a 400 that says so; credentials of
 * another scheme only, a challenge. */
static void
test_register_malformed_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (TuaMsg) missing = NULL, unterminated = NULL, basic = NULL;

  missing = register_with_authorization (
      a, "Digest username=\"alice\", realm=\"" SIG_HARNESS_DOMAIN "\"");
  g_assert_cmpuint (missing->status, ==, 400);
  g_assert_cmpstr (missing->reason, ==, "Malformed credentials");
  unterminated = register_with_authorization (
      a, "Digest username=\"alice\", realm=\"" SIG_HARNESS_DOMAIN "\", nonce=\"unterminated");
  g_assert_cmpuint (unterminated->status, ==, 400);
  g_assert_cmpstr (unterminated->reason, ==, "Malformed credentials");
  basic = register_with_authorization (a, "Basic YWxpY2U6YWxpY2Utc2VjcmV0LTE=");
  g_assert_cmpuint (basic->status, ==, 401);
}

/* The Digest uri must name the request (RFC 7616 §3.4.6): valid credentials computed for
 * another URI are refused; the same URI in other letters is not. */
static void
test_register_credentials_uri (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  static const char *const others[] = { "sips:elsewhere.example", "sips:alice@" SIG_HARNESS_DOMAIN,
                                        "sips:" SIG_HARNESS_DOMAIN ":5071" };
  g_autofree char *upper = g_ascii_strup (SIG_HARNESS_DOMAIN, -1);
  g_autofree char *capitals = g_strdup_printf ("sips:%s", upper);

  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    {
      g_autoptr (TuaMsg) r = register_with_digest_uri (a, others[i]);

      g_assert_cmpuint (r->status, ==, 400);
      g_assert_cmpstr (r->reason, ==, "Credentials do not match the Request-URI");
    }
  {
    g_autoptr (TuaMsg) same = register_with_digest_uri (a, "sips:" SIG_HARNESS_DOMAIN);
    /* Equal as URIs, though not as text. */
    g_autoptr (TuaMsg) spelt = register_with_digest_uri (a, capitals);

    g_assert_cmpuint (same->status, ==, 200);
    g_assert_cmpuint (spelt->status, ==, 200);
  }
}

/* ---- Calls ---- */

/* Credentials for another realm are handed on as they came, ours are not: the server reads
 * each Proxy-Authorization as sent (sig-mclass) to tell which are its own. */
#define FOREIGN_CREDENTIALS \
  "Digest username=\"alice\",  realm=\"other.example\", nonce=\"n,1\",\r\n" \
  " uri=\"sips:bob@other.example\", response=\"00112233445566778899aabbccddeeff\""

static void
test_call_foreign_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) r = NULL, inv = NULL, fin = NULL;
  g_auto (GStrv) values = NULL;

  sig_client_register (a, 600);
  sig_client_register (b, 600);

  tua_ua_set_auto_auth (a->ua, FALSE);
  call = tua_ua_invite_uri (a->ua, "sips:bob@" SIG_HARNESS_DOMAIN, SDP_OFFER,
                            "Proxy-Authorization: " FOREIGN_CREDENTIALS "\r\n", &error);
  g_assert_no_error (error);
  /* Someone else's credentials are no credentials here. */
  r = tua_call_wait_response (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_true (tua_call_authenticate (call, r, &error));

  inv = tua_ua_wait_request (b->ua, "INVITE", T, &error);
  g_assert_no_error (error);
  values = tua_msg_headers (inv, "Proxy-Authorization");
  g_assert_cmpuint (g_strv_length (values), ==, 1);
  /* Byte for byte, folding included. */
  g_assert_nonnull (strstr (inv->raw, "Proxy-Authorization: " FOREIGN_CREDENTIALS "\r\n"));
  g_assert_null (strstr (inv->raw, "realm=\"" SIG_HARNESS_DOMAIN "\""));
  g_assert_true (tua_ua_respond (b->ua, inv, 486, "Busy Here", NULL, &error));
  fin = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fin->status, ==, 486);
}

static void
test_call_full (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL, uas = NULL;
  g_autoptr (TuaMsg) inv = NULL, r180 = NULL, r200 = NULL, ack = NULL, bye = NULL, byeok = NULL;

  sig_client_register (a, 600);
  sig_client_register (b, 600);

  call = start_call (a, "bob");

  inv = tua_ua_wait_request (b->ua, "INVITE", T, &error);
  g_assert_no_error (error);
  /* The offer arrives byte for byte, our credentials do not. */
  g_assert_cmpuint (inv->body_len, ==, strlen (SDP_OFFER));
  g_assert_cmpmem (inv->body, inv->body_len, SDP_OFFER, strlen (SDP_OFFER));
  g_assert_null (tua_msg_header (inv, "Proxy-Authorization"));
  g_assert_nonnull (tua_msg_header (inv, "Record-Route"));
  g_assert_nonnull (strstr (inv->request_uri, "192.0.2.1"));

  uas = tua_call_new_uas (b->ua, inv);
  g_assert_true (tua_ua_respond (b->ua, inv, 180, "Ringing", NULL, &error));
  r180 = tua_call_wait_response (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r180->status, ==, 180);

  g_assert_true (tua_ua_respond (b->ua, inv, 200, "OK", SDP_ANSWER, &error));
  r200 = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r200->status, ==, 200);
  g_assert_cmpmem (r200->body, r200->body_len, SDP_ANSWER, strlen (SDP_ANSWER));
  g_assert_true (tua_call_is_established (call));

  g_assert_true (tua_call_ack (call, NULL, &error));
  ack = tua_ua_wait_request (b->ua, "ACK", T, &error);
  g_assert_no_error (error);

  /* BYE from the caller, through the Record-Route. */
  {
    g_autoptr (TuaRequest) req = tua_call_new_request (call, "BYE");
    g_assert_true (tua_ua_send (a->ua, req, &error));
    bye = tua_ua_wait_request (b->ua, "BYE", T, &error);
    g_assert_no_error (error);
    g_assert_true (tua_ua_respond (b->ua, bye, 200, "OK", NULL, &error));
    byeok = tua_ua_wait_final (a->ua, req, T, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (byeok->status, ==, 200);
  }

  /* The server logs at debug level here, and still never wrote the bodies or credentials. */
  {
    g_autofree char *log = sig_harness_log (f->h);
    g_assert_nonnull (strstr (log, "INVITE alice -> bob"));
    g_assert_null (strstr (log, "49170"));
    g_assert_null (strstr (log, "a=fingerprint"));
    g_assert_null (strstr (log, "opus/48000"));
    g_assert_null (strstr (log, "response="));
    g_assert_null (strstr (log, "alice-secret-1"));
  }
}

static void
test_call_bye_from_callee (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL, uas = NULL;
  g_autoptr (TuaMsg) inv = NULL, r200 = NULL, ack = NULL, bye = NULL, byeok = NULL;
  g_autoptr (TuaRequest) req = NULL;

  sig_client_register (a, 600);
  sig_client_register (b, 600);
  call = start_call (a, "bob");
  inv = tua_ua_wait_request (b->ua, "INVITE", T, &error);
  g_assert_no_error (error);
  uas = tua_call_new_uas (b->ua, inv);
  g_assert_true (tua_ua_respond (b->ua, inv, 200, "OK", SDP_ANSWER, &error));
  r200 = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_true (tua_call_ack (call, NULL, &error));
  ack = tua_ua_wait_request (b->ua, "ACK", T, &error);
  g_assert_no_error (error);

  req = tua_call_new_request (uas, "BYE");
  g_assert_true (tua_ua_send (b->ua, req, &error));
  bye = tua_ua_wait_request (a->ua, "BYE", T, &error);
  g_assert_no_error (error);
  g_assert_true (tua_ua_respond (a->ua, bye, 200, "OK", NULL, &error));
  byeok = tua_ua_wait_final (b->ua, req, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (byeok->status, ==, 200);
}

static void
test_call_route_not_transferable (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (SigClient) c = sig_client_new (f->h, "carol", "carol-secret-3");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) inv = NULL, r200 = NULL, ack = NULL, r = NULL, stray = NULL;
  g_autoptr (TuaRequest) bye = NULL, fake_ack = NULL;

  sig_client_register (a, 600);
  sig_client_register (b, 600);
  sig_client_register (c, 600);
  call = start_call (a, "bob");
  inv = tua_ua_wait_request (b->ua, "INVITE", T, &error);
  g_assert_no_error (error);
  g_assert_true (tua_ua_respond (b->ua, inv, 200, "OK", SDP_ANSWER, &error));
  r200 = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_true (tua_call_ack (call, NULL, &error));
  ack = tua_ua_wait_request (b->ua, "ACK", T, &error);
  g_assert_no_error (error);

  /* carol copies alice's dialog (Route with its token, tags, Call-ID) and sends on her own
   * connection: the token names alice's connection, so the server refuses. */
  bye = tua_call_new_request (call, "BYE");
  g_assert_true (tua_ua_send (c->ua, bye, &error));
  r = tua_ua_wait_final (c->ua, bye, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 403);
  fake_ack = tua_call_new_request (call, "ACK");
  g_assert_true (tua_ua_send (c->ua, fake_ack, &error));
  stray = tua_ua_wait_request (b->ua, NULL, 1000, &error);
  g_assert_null (stray);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static void
test_call_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) inv = NULL, r180 = NULL, cancel_ok = NULL, cancel = NULL, final = NULL;

  sig_client_register (a, 600);
  sig_client_register (b, 600);
  call = start_call (a, "bob");
  inv = tua_ua_wait_request (b->ua, "INVITE", T, &error);
  g_assert_no_error (error);
  g_assert_true (tua_ua_respond (b->ua, inv, 180, "Ringing", NULL, &error));
  r180 = tua_call_wait_response (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r180->status, ==, 180);

  cancel_ok = tua_call_cancel (call, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cancel_ok->status, ==, 200);

  cancel = tua_ua_wait_request (b->ua, "CANCEL", T, &error);
  g_assert_no_error (error);
  g_assert_true (tua_ua_respond (b->ua, cancel, 200, "OK", NULL, &error));
  g_assert_true (tua_ua_respond (b->ua, inv, 487, "Request Terminated", NULL, &error));
  final = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (final->status, ==, 487);
}

static void
test_call_fork (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) desk = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (SigClient) phone = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) inv1 = NULL, inv2 = NULL, r200 = NULL, cancel = NULL, final2 = NULL;
  g_autoptr (TuaMsg) reg = NULL;

  tua_ua_set_instance (desk->ua, "urn:uuid:00000000-0000-4000-8000-000000000001", 1);
  tua_ua_set_instance (phone->ua, "urn:uuid:00000000-0000-4000-8000-000000000002", 1);
  sig_client_register (a, 600);
  sig_client_register (desk, 600);
  reg = tua_ua_register (phone->ua, 600, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reg->status, ==, 200);
  /* Both devices are listed. */
  {
    g_auto (GStrv) contacts = tua_msg_headers (reg, "Contact");
    g_assert_cmpuint (g_strv_length (contacts), ==, 2);
  }

  call = start_call (a, "bob");
  inv1 = tua_ua_wait_request (desk->ua, "INVITE", T, &error);
  g_assert_no_error (error);
  inv2 = tua_ua_wait_request (phone->ua, "INVITE", T, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (inv2->body, inv2->body_len, SDP_OFFER, strlen (SDP_OFFER));

  g_assert_true (tua_ua_respond (phone->ua, inv2, 180, "Ringing", NULL, &error));
  g_assert_true (tua_ua_respond (desk->ua, inv1, 200, "OK", SDP_ANSWER, &error));
  r200 = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r200->status, ==, 200);
  g_assert_true (tua_call_ack (call, NULL, &error));

  /* The branch that did not answer is cancelled. */
  cancel = tua_ua_wait_request (phone->ua, "CANCEL", T, &error);
  g_assert_no_error (error);
  g_assert_true (tua_ua_respond (phone->ua, cancel, 200, "OK", NULL, &error));
  g_assert_true (tua_ua_respond (phone->ua, inv2, 487, "Request Terminated", NULL, &error));
  final2 = tua_ua_wait_request (desk->ua, "ACK", T, &error);
  g_assert_no_error (error);
}

static void
test_call_connection_closed (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");

  sig_client_register (b, 600);
  g_assert_cmpuint (invite_status_via (f->h, "alice", "alice-secret-1", "bob", b), ==, 486);
  /* bob's laptop lid closes: its connection drops without a word. Its binding is gone, so
   * callers learn he is offline at once instead of waiting on a dead connection. */
  tua_conn_abort (b->conn);
  g_usleep (300 * 1000);
  g_assert_cmpuint (invite_status (f->h, "alice", "alice-secret-1", "bob"), ==, 480);
}

static void
test_proxy_loop (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) r = NULL;
  g_autofree char *via = NULL;

  sig_client_register (b, 600);
  req = tua_ua_new_request (a->ua, "MESSAGE", "sips:bob@" SIG_HARNESS_DOMAIN, NULL);
  /* The request already went through this server once: its own Via is in it. */
  via = g_strdup_printf ("Via: SIP/2.0/TLS 127.0.0.1:%u;branch=z9hG4bKlooped1\r\n", f->h->port);
  req->extra_headers = g_strdup (via);
  r = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 482);
}

static void
test_call_404_480 (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (invite_status (f->h, "alice", "alice-secret-1", "nobody"), ==, 404);
  g_assert_cmpuint (invite_status (f->h, "alice", "alice-secret-1", "carol"), ==, 480);
}

static void
test_call_407 (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) r = NULL, r2 = NULL, stray = NULL;

  sig_client_register (b, 600);
  /* Not registered and no credentials: the INVITE is challenged, never forwarded. */
  tua_ua_set_auto_auth (a->ua, FALSE);
  call = tua_ua_invite (a->ua, "bob", SDP_OFFER, &error);
  r = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_nonnull (tua_msg_header (r, "Proxy-Authenticate"));
  stray = tua_ua_wait_request (b->ua, "INVITE", 500, &error);
  g_assert_null (stray);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* A MESSAGE without credentials too. */
  r2 = tua_ua_message (a->ua, "bob", "hello", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->status, ==, 407);
}

static void
test_proxy_message (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) m = NULL, r = NULL;
  g_autoptr (TuaRequest) req = NULL;
  const char *text = "hello \xc3\xa9 bob";

  sig_client_register (a, 600);
  sig_client_register (b, 600);
  req = tua_ua_new_request (a->ua, "MESSAGE", "sips:bob@" SIG_HARNESS_DOMAIN, NULL);
  tua_request_set_body (req, text, -1);
  g_assert_true (tua_ua_send (a->ua, req, &error));
  r = tua_ua_wait_final (a->ua, req, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_true (tua_ua_answer_challenge (a->ua, req, r, &error));
  tua_ua_prepare_retry (a->ua, req);
  g_assert_true (tua_ua_send (a->ua, req, &error));
  m = tua_ua_wait_request (b->ua, "MESSAGE", T, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (m->body, m->body_len, text, strlen (text));
  g_assert_true (tua_ua_respond_full (b->ua, m, 202, "Accepted", NULL, NULL, NULL, &error));
  g_clear_pointer (&r, tua_msg_unref);
  r = tua_ua_wait_final (a->ua, req, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 202);
}

static void
test_proxy_from_spoof (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) r = NULL;

  sig_client_register (b, 600);
  req = tua_ua_new_request (a->ua, "MESSAGE", "sips:bob@" SIG_HARNESS_DOMAIN, NULL);
  tua_request_set_body (req, "spoofed", -1);
  g_free (req->from);
  req->from = g_strdup ("<sips:carol@" SIG_HARNESS_DOMAIN ">;tag=spoof1");
  r = tua_ua_transaction (a->ua, req, &error); /* authenticates as alice */
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 403);
}

static void
test_proxy_max_forwards (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) r = NULL;

  sig_client_register (b, 600);
  req = tua_ua_new_request (a->ua, "MESSAGE", "sips:bob@" SIG_HARNESS_DOMAIN, NULL);
  req->max_forwards = 0;
  r = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 483);
}

static void
test_relay_foreign_domain (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) r = NULL, r2 = NULL, r3 = NULL;
  g_autoptr (TuaRequest) reg = NULL;

  sig_client_register (a, 600);
  call = tua_ua_invite_uri (a->ua, "sips:victim@example.com", SDP_OFFER, NULL, &error);
  r = tua_call_wait_final (call, T, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 403);

  r2 = tua_ua_request (a->ua, "MESSAGE", "sips:victim@192.0.2.7:5061", NULL, "x", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->status, ==, 403);

  /* A REGISTER for another domain is refused too. */
  reg = tua_ua_register_request (a->ua, 600);
  g_free (reg->request_uri);
  reg->request_uri = g_strdup ("sips:example.com");
  r3 = tua_ua_transaction (a->ua, reg, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r3->status, ==, 403);
}

static void
test_auth_replay (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) eve = sig_client_new (f->h, "alice", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaRequest) req = NULL, replay = NULL;
  g_autoptr (TuaMsg) r = NULL, r2 = NULL, r3 = NULL;

  tua_ua_set_auto_auth (a->ua, FALSE);
  req = tua_ua_register_request (a->ua, 600);
  r = tua_ua_transaction (a->ua, req, &error);
  g_assert_cmpuint (r->status, ==, 401);
  g_assert_true (tua_ua_answer_challenge (a->ua, req, r, &error));
  tua_ua_prepare_retry (a->ua, req);
  replay = tua_request_copy (req);
  r2 = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->status, ==, 200);

  /* The same Authorization (same nonce, same nc) sent again, from another connection. */
  tua_ua_prepare_retry (eve->ua, replay);
  r3 = tua_ua_transaction (eve->ua, replay, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r3->status, ==, 403);
  g_assert_cmpstr (r3->reason, ==, "Replayed credentials");
}

static void
test_auth_throttle (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = NULL;

  /* throttle-free-failures = 2: two wrong guesses are answered normally... */
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (SigClient) g = sig_client_new (f->h, "alice", "guess");
      g_autoptr (TuaMsg) rg = tua_ua_register (g->ua, 600, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (rg->status, ==, 403);
    }
  /* ...then the next attempt must wait, even with the right password. */
  {
    g_autoptr (SigClient) real = sig_client_new (f->h, "alice", "alice-secret-1");
    r = tua_ua_register (real->ua, 600, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r->status, ==, 503);
    g_assert_nonnull (tua_msg_header (r, "Retry-After"));
  }
  /* Not locked out for good: after the delay (capped at 2 s here) the user gets in. */
  g_usleep (2500 * 1000);
  {
    g_autoptr (SigClient) real = sig_client_new (f->h, "alice", "alice-secret-1");
    sig_client_register (real, 600);
  }
}

/* ---- Robustness ---- */

static void
assert_server_alive (SigHarness *h)
{
  g_autoptr (SigClient) c = sig_client_new (h, "carol", "carol-secret-3");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = tua_ua_options (c->ua, "sips:" SIG_HARNESS_DOMAIN, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 200);
}

static void
test_robust_garbage (Fixture *f, gconstpointer data)
{
  static const char *const inputs[] = {
    "\x00\x01\x02\xff\xfe garbage \r\n\r\n",
    "INVITE\r\n\r\n",
    "INVITE sips:bob@localhost SIP/2.0\r\n\r\n", /* no headers at all */
    "SIP/2.0 200 OK\r\n\r\n",
    "REGISTER sips:localhost SIP/2.0\r\nVia: SIP/2.0/TLS x;branch=z9hG4bK1\r\n"
    "Content-Length: 99999999\r\n\r\n",
    "OPTIONS sips:localhost SIP/2.0\r\nVia: bogus\r\nFrom: <<<\r\nTo: >\r\nCall-ID:\r\n"
    "CSeq: x OPTIONS\r\nContent-Length: 0\r\n\r\n",
  };
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (TuaConn) c = sig_harness_connect (f->h);
      /* The first input starts with a NUL byte: its length is fixed, not strlen. */
      gsize len = i == 0 ? sizeof "\x00\x01\x02\xff\xfe garbage \r\n\r\n" - 1 : strlen (inputs[i]);
      g_autoptr (TuaMsg) r = NULL;

      g_assert_true (tua_conn_send (c, inputs[i], len, &error));
      r = tua_conn_recv (c, 1000, NULL); /* a 400 or nothing; never a crash */
      if (r)
        g_assert_cmpuint (r->status, >=, 400);
      assert_server_alive (f->h);
    }

  /* Oversized: a 200 KiB body on a 64 KiB limit. */
  {
    g_autoptr (TuaConn) c = sig_harness_connect (f->h);
    gsize body = 200 * 1024;
    g_autofree char *head = g_strdup_printf (
        "MESSAGE sips:bob@localhost SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKbig\r\n"
        "From: <sips:alice@localhost>;tag=a\r\nTo: <sips:bob@localhost>\r\nCall-ID: big\r\n"
        "CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: %zu\r\n\r\n",
        (size_t) body);
    g_autofree char *filler = g_malloc (body);
    memset (filler, 'x', body);
    g_assert_true (tua_conn_send (c, head, -1, &error));
    tua_conn_send (c, filler, body, NULL); /* the server may close mid-way */
    /* Over the limit: refused (413) or the connection closed, never delivered. */
    {
      g_autoptr (TuaMsg) r = tua_conn_recv (c, 2000, NULL);
      if (r)
        g_assert_cmpuint (r->status, ==, 413);
      else
        g_assert_true (tua_conn_is_closed (c, T));
    }
  }
  assert_server_alive (f->h);
}

/* ---- Persistence ---- */

static void
test_accounts_restart (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  f->h->port = 0;
  sig_harness_start (f->h);
  {
    g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
    sig_client_register (a, 600);
  }
  /* kill -9, then an account added while the server is down, then start again. */
  sig_harness_kill9 (f->h);
  sig_harness_add_user (f->h, "dave", "dave-secret-4");
  f->h->port = 0;
  sig_harness_start (f->h);
  {
    g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
    g_autoptr (SigClient) d = sig_client_new (f->h, "dave", "dave-secret-4");
    g_autoptr (SigClient) b = sig_client_new (f->h, "bob", "bob-secret-2");
    sig_client_register (a, 600);
    sig_client_register (d, 600);
    sig_client_register (b, 600);
  }
}

/* sotto-admin changes accounts while the server runs, from another process: each change
 * counts for the very next request, although the server answers repeated lookups from
 * memory (signal/sig-accounts-cache.h). */
static guint
register_status (SigHarness *h, const char *user, const char *password)
{
  g_autoptr (SigClient) c = sig_client_new (h, user, password);
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = tua_ua_register (c->ua, 600, &error);

  g_assert_no_error (error);
  return r->status;
}

static void
admin_ok (SigHarness *h, const char *const *argv, const char *stdin_text)
{
  g_autofree char *err = NULL;

  if (sig_harness_admin (h, argv, stdin_text, NULL, &err) != 0)
    g_error ("sotto-admin %s failed: %s", argv[0], err);
}

static void
test_accounts_live_changes (Fixture *f, gconstpointer data)
{
  const char *passwd[] = { "passwd", "alice", "--password-stdin", NULL };
  const char *disable[] = { "disable", "alice", NULL };
  const char *enable[] = { "enable", "alice", NULL };
  const char *del[] = { "delete", "alice", NULL };
  const char *add[] = { "add", "alice", "--password-stdin", NULL };

  /* Twice, and on one connection several times: the account is in the cache now. */
  g_assert_cmpuint (register_status (f->h, "alice", "alice-secret-1"), ==, 200);
  {
    g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
    for (int i = 0; i < 3; i++)
      sig_client_register (a, 600);
  }

  admin_ok (f->h, passwd, "alice-new-5\n");
  g_assert_cmpuint (register_status (f->h, "alice", "alice-secret-1"), ==, 403);
  g_assert_cmpuint (register_status (f->h, "alice", "alice-new-5"), ==, 200);
  g_assert_cmpuint (register_status (f->h, "alice", "alice-new-5"), ==, 200);

  admin_ok (f->h, disable, NULL);
  g_assert_cmpuint (register_status (f->h, "alice", "alice-new-5"), ==, 403);
  admin_ok (f->h, enable, NULL);
  g_assert_cmpuint (register_status (f->h, "alice", "alice-new-5"), ==, 200);

  /* A change to another account empties the cache too; alice still works. */
  sig_harness_add_user (f->h, "dave", "dave-secret-4");
  g_assert_cmpuint (register_status (f->h, "dave", "dave-secret-4"), ==, 200);
  g_assert_cmpuint (register_status (f->h, "alice", "alice-new-5"), ==, 200);

  admin_ok (f->h, del, NULL);
  g_assert_cmpuint (register_status (f->h, "alice", "alice-new-5"), ==, 403);
  admin_ok (f->h, add, "alice-again-6\n");
  g_assert_cmpuint (register_status (f->h, "alice", "alice-new-5"), ==, 403);
  g_assert_cmpuint (register_status (f->h, "alice", "alice-again-6"), ==, 200);
}

/* ---- Limits ---- */

static void
test_limits_unauthenticated (Fixture *f, gconstpointer data)
{
  g_autoptr (TuaConn) silent = sig_harness_connect (f->h);
  g_autoptr (SigClient) chatty = sig_client_new (f->h, "alice", NULL);
  g_autoptr (SigClient) good = sig_client_new (f->h, "bob", "bob-secret-2");
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = NULL;

  sig_client_register (good, 600);
  /* unauthenticated-timeout = 2: a connection that sends requests but never authenticates
   * is closed, and so is one that sends nothing. */
  r = tua_ua_options (chatty->ua, "sips:" SIG_HARNESS_DOMAIN, &error);
  g_assert_no_error (error);
  g_assert_true (tua_conn_is_closed (chatty->conn, 4000));
  g_assert_true (tua_conn_is_closed (silent, 4000));
  /* The authenticated one stays. */
  g_assert_false (tua_conn_is_closed (good->conn, 500));
  g_clear_pointer (&r, tua_msg_unref);
  r = tua_ua_options (good->ua, "sips:" SIG_HARNESS_DOMAIN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 200);
}

static void
test_limits_per_address (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) sig_client_free);
  g_autoptr (SigClient) extra = NULL;
  g_autoptr (GError) error = NULL;

  /* max-connections-per-address = 3. */
  for (int i = 0; i < 3; i++)
    {
      SigClient *c = sig_client_new (f->h, "alice", "alice-secret-1");
      g_ptr_array_add (clients, c);
      sig_client_register (c, 600);
    }
  extra = sig_client_new (f->h, "bob", "bob-secret-2");
  {
    /* Told why, then closed. */
    g_autoptr (TuaMsg) r = tua_ua_options (extra->ua, "sips:" SIG_HARNESS_DOMAIN, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r->status, ==, 503);
  }
  g_assert_true (tua_conn_is_closed (extra->conn, 2000));
}

static void
test_limits_per_address_released (Fixture *f, gconstpointer data)
{
  /* max-connections-per-address = 3: closed connections must not count. */
  for (int i = 0; i < 12; i++)
    {
      g_autoptr (SigClient) c = sig_client_new (f->h, "alice", "alice-secret-1");
      sig_client_register (c, 600);
    }
  /* Abrupt closes too (no close_notify: the TCP socket just goes). */
  for (int i = 0; i < 6; i++)
    {
      g_autoptr (SigClient) c = sig_client_new (f->h, "bob", "bob-secret-2");
      sig_client_register (c, 600);
      tua_conn_abort (c->conn);
    }
  {
    g_autoptr (SigClient) c = sig_client_new (f->h, "carol", "carol-secret-3");
    sig_client_register (c, 600);
  }
}

static void
test_limits_refused_pipelined (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) first = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) extra = NULL;
  g_autoptr (TuaRequest) r1 = NULL, r2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *w1 = NULL, *w2 = NULL, *both = NULL;

  /* max-connections-per-address = 1: the second connection sends two requests in one write.
   * Both get their 503 on that connection before it closes. */
  sig_client_register (first, 600);
  extra = sig_client_new (f->h, "bob", "bob-secret-2");
  r1 = tua_ua_new_request (extra->ua, "OPTIONS", "sips:" SIG_HARNESS_DOMAIN, NULL);
  r2 = tua_ua_new_request (extra->ua, "OPTIONS", "sips:" SIG_HARNESS_DOMAIN, NULL);
  w1 = tua_request_serialize (r1, NULL);
  w2 = tua_request_serialize (r2, NULL);
  both = g_strconcat (w1, w2, NULL);
  g_assert_true (tua_conn_send (extra->conn, both, -1, &error));
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (TuaMsg) r = tua_conn_recv (extra->conn, T, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (r->status, ==, 503);
    }
  g_assert_true (tua_conn_is_closed (extra->conn, T));
  /* The first client is unaffected. */
  {
    g_autoptr (TuaMsg) r = tua_ua_options (first->ua, "sips:" SIG_HARNESS_DOMAIN, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (r->status, ==, 200);
  }
}

/* ---- TLS only ---- */

static void
test_tls_versions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaConn) old10 = NULL, old11 = NULL, v12 = NULL, v13 = NULL;

  old10 = tua_conn_new_full ("127.0.0.1", f->h->port, f->h->cafile, "localhost", TLS1_VERSION,
                             TLS1_VERSION, &error);
  g_assert_null (old10);
  g_assert_nonnull (error);
  g_clear_error (&error);
  old11 = tua_conn_new_full ("127.0.0.1", f->h->port, f->h->cafile, "localhost", TLS1_1_VERSION,
                             TLS1_1_VERSION, &error);
  g_assert_null (old11);
  g_assert_nonnull (error);
  g_clear_error (&error);
  v12 = tua_conn_new_full ("127.0.0.1", f->h->port, f->h->cafile, "localhost", TLS1_2_VERSION,
                           TLS1_2_VERSION, &error);
  g_assert_no_error (error);
  v13 = tua_conn_new_full ("127.0.0.1", f->h->port, f->h->cafile, "localhost", TLS1_3_VERSION,
                           TLS1_3_VERSION, &error);
  g_assert_no_error (error);
  /* A name the certificate does not carry fails verification. */
  {
    g_autoptr (TuaConn) wrong = tua_conn_new ("127.0.0.1", f->h->port, f->h->cafile,
                                              "not-localhost.example", &error);
    g_assert_null (wrong);
    g_assert_nonnull (error);
  }
}

/* A TLS 1.2 client that offers only @ciphers: TRUE when the handshake completes. */
static gboolean
handshake_with_ciphers (guint16 port, const char *ciphers)
{
  g_autoptr (SSL_CTX) ctx = SSL_CTX_new (TLS_client_method ());
  g_autoptr (SSL) ssl = NULL;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct timeval tv = { .tv_sec = 5 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gboolean ok;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL_CTX_set_security_level (ctx, 0);
  SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version (ctx, TLS1_2_VERSION);
  g_assert_true (SSL_CTX_set_cipher_list (ctx, ciphers));
  g_assert_cmpint (connect (fd, (struct sockaddr *) &a, sizeof a), ==, 0);
  ssl = SSL_new (ctx);
  SSL_set_fd (ssl, fd);
  ok = SSL_connect (ssl) == 1;
  close (fd);
  return ok;
}

/* The first certificate in @path (PEM). */
static X509 *
read_first_certificate (const char *path)
{
  FILE *fp = fopen (path, "r");
  X509 *x = NULL;

  g_assert_nonnull (fp);
  x = PEM_read_X509 (fp, NULL, NULL, NULL);
  fclose (fp);
  g_assert_nonnull (x);
  return x;
}

/* The chain the server sends (built once at start, common/sotto-tls-context.c, instead of at
 * every handshake): its certificate, then the CA of cafile.pem, over TLS 1.3 and 1.2 alike,
 * handshake after handshake. */
static void
test_tls_chain (Fixture *f, gconstpointer data)
{
  g_autofree char *agent_pem = g_build_filename (f->h->cert_dir, "agent.pem", NULL);
  X509 *leaf = read_first_certificate (agent_pem);
  X509 *ca = read_first_certificate (f->h->cafile);

  for (int round = 0; round < 4; round++)
    {
      int version = round % 2 ? TLS1_2_VERSION : TLS1_3_VERSION;
      g_autoptr (SSL_CTX) ctx = SSL_CTX_new (TLS_client_method ());
      g_autoptr (SSL) ssl = NULL;
      struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (f->h->port) };
      struct timeval tv = { .tv_sec = 5 };
      int fd = socket (AF_INET, SOCK_STREAM, 0);
      STACK_OF (X509) *chain;

      a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL_CTX_set_min_proto_version (ctx, version);
      SSL_CTX_set_max_proto_version (ctx, version);
      g_assert_cmpint (connect (fd, (struct sockaddr *) &a, sizeof a), ==, 0);
      ssl = SSL_new (ctx);
      SSL_set_fd (ssl, fd);
      g_assert_cmpint (SSL_connect (ssl), ==, 1);
      chain = SSL_get_peer_cert_chain (ssl);
      g_assert_nonnull (chain);
      g_assert_cmpint (sk_X509_num (chain), ==, 2);
      g_assert_cmpint (X509_cmp (sk_X509_value (chain, 0), leaf), ==, 0);
      g_assert_cmpint (X509_cmp (sk_X509_value (chain, 1), ca), ==, 0);
      close (fd);
    }
  X509_free (leaf);
  X509_free (ca);
}

static void
test_tls_ciphers (Fixture *f, gconstpointer data)
{
  /* Modern AEAD suites with forward secrecy are accepted... */
  g_assert_true (handshake_with_ciphers (f->h->port, "ECDHE-ECDSA-AES128-GCM-SHA256"));
  g_assert_true (handshake_with_ciphers (f->h->port, "ECDHE-ECDSA-CHACHA20-POLY1305"));
  /* ...CBC suites and suites without forward secrecy are not. */
  g_assert_false (handshake_with_ciphers (f->h->port, "ECDHE-ECDSA-AES128-SHA"));
  g_assert_false (handshake_with_ciphers (f->h->port, "ECDHE-ECDSA-AES256-SHA384"));
  g_assert_false (handshake_with_ciphers (f->h->port, "AES128-GCM-SHA256:AES256-SHA256"));
}

int test_signald_plaintext_scan (SigHarness *h);

static void
test_tls_no_plaintext (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (test_signald_plaintext_scan (f->h), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, cfg) g_test_add (path, Fixture, cfg, setup, fn, teardown)
  ADD ("/signal/register/sha256", test_register_sha256, NULL);
  ADD ("/signal/register/md5", test_register_md5, NULL);
  ADD ("/signal/register/sha256-only", test_register_sha256_only,
       "[auth]\nalgorithms = SHA-256\n");
  ADD ("/signal/register/md5-first", test_register_md5_first,
       "[auth]\nalgorithms = MD5;SHA-256\n");
  ADD ("/signal/register/wrong-password", test_register_wrong_password, NULL);
  ADD ("/signal/register/unregister", test_register_unregister, NULL);
  ADD ("/signal/register/expiry", test_register_expiry,
       "[registrar]\nmin-expires = 2\ndefault-expires = 60\n");
  ADD ("/signal/register/other-user", test_register_other_user, NULL);
  ADD ("/signal/register/malformed-credentials", test_register_malformed_credentials, NULL);
  ADD ("/signal/register/credentials-uri", test_register_credentials_uri, NULL);
  ADD ("/signal/call/full", test_call_full, NULL);
  ADD ("/signal/call/foreign-credentials", test_call_foreign_credentials, NULL);
  ADD ("/signal/call/bye-from-callee", test_call_bye_from_callee, NULL);
  ADD ("/signal/call/cancel", test_call_cancel, NULL);
  ADD ("/signal/call/route-not-transferable", test_call_route_not_transferable, NULL);
  ADD ("/signal/call/fork", test_call_fork, NULL);
  ADD ("/signal/call/404-480", test_call_404_480, NULL);
  ADD ("/signal/call/connection-closed", test_call_connection_closed, NULL);
  ADD ("/signal/proxy/loop", test_proxy_loop, NULL);
  ADD ("/signal/call/407", test_call_407, NULL);
  ADD ("/signal/proxy/message", test_proxy_message, NULL);
  ADD ("/signal/proxy/from-spoof", test_proxy_from_spoof, NULL);
  ADD ("/signal/proxy/max-forwards", test_proxy_max_forwards, NULL);
  ADD ("/signal/relay/foreign-domain", test_relay_foreign_domain, NULL);
  ADD ("/signal/auth/replay", test_auth_replay, NULL);
  ADD ("/signal/auth/throttle", test_auth_throttle,
       "[auth]\nthrottle-free-failures = 2\nthrottle-max-delay = 2\n");
  ADD ("/signal/robust/garbage", test_robust_garbage, NULL);
  ADD ("/signal/accounts/restart-and-kill9", test_accounts_restart, NULL);
  ADD ("/signal/accounts/live-changes", test_accounts_live_changes, NULL);
  ADD ("/signal/limits/unauthenticated", test_limits_unauthenticated,
       "[limits]\nunauthenticated-timeout = 2\n");
  ADD ("/signal/limits/per-address", test_limits_per_address,
       "[limits]\nmax-connections-per-address = 3\n");
  ADD ("/signal/limits/per-address-released", test_limits_per_address_released,
       "[limits]\nmax-connections-per-address = 3\n");
  ADD ("/signal/limits/refused-pipelined", test_limits_refused_pipelined,
       "[limits]\nmax-connections-per-address = 1\n");
  ADD ("/signal/tls/versions", test_tls_versions, NULL);
  ADD ("/signal/tls/chain", test_tls_chain, NULL);
  ADD ("/signal/tls/ciphers", test_tls_ciphers, NULL);
  ADD ("/signal/tls/no-plaintext", test_tls_no_plaintext, NULL);
  return g_test_run ();
}
