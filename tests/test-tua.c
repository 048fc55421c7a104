/* Tests of the test UA itself: the pure parser and builders, its Digest client against RFC 7616,
 * and loopback TLS round trips against scripted in-test servers (tua-loopback). */
#include "config.h"

#include "tua-loopback.h"
#include "tua.h"

#include "sotto-tls.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>

#define CRLF "\r\n"

static TuaMsg *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  TuaMsg *msg = NULL;

  g_assert_true (tua_msg_parse (text, strlen (text), &msg, &error));
  g_assert_no_error (error);
  return msg;
}

/* ---- Parser ---- */

static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\n"
                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

static void
test_parse_request (void)
{
  g_autofree char *text = g_strdup_printf (
    "INVITE sips:bob@example.org SIP/2.0" CRLF
    "Via: SIP/2.0/TLS 192.0.2.5:5061;branch=z9hG4bKabc;rport" CRLF
    "Max-Forwards: 70" CRLF
    "From: \"Alice\" <sips:alice@example.org>;tag=a1" CRLF
    "To: <sips:bob@example.org>" CRLF
    "Call-ID: c1@x" CRLF
    "CSeq: 7 INVITE" CRLF
    "Content-Type: application/sdp" CRLF
    "Content-Length: %zu" CRLF CRLF "%s", strlen (sdp), sdp);
  g_autoptr (TuaMsg) msg = parse_ok (text);
  guint32 n = 0;
  g_autofree char *method = NULL;
  g_autofree char *branch = tua_msg_branch (msg);

  g_assert_true (msg->is_request);
  g_assert_cmpstr (msg->method, ==, "INVITE");
  g_assert_cmpstr (msg->request_uri, ==, "sips:bob@example.org");
  g_assert_cmpuint (msg->status, ==, 0);
  g_assert_cmpuint (msg->headers->len, ==, 8);
  g_assert_cmpstr (tua_msg_header (msg, "call-id"), ==, "c1@x");
  g_assert_cmpstr (tua_msg_header (msg, "MAX-FORWARDS"), ==, "70");
  g_assert_null (tua_msg_header (msg, "Route"));
  g_assert_true (tua_msg_cseq (msg, &n, &method));
  g_assert_cmpuint (n, ==, 7);
  g_assert_cmpstr (method, ==, "INVITE");
  g_assert_cmpstr (branch, ==, "z9hG4bKabc");
  g_assert_cmpmem (msg->body, msg->body_len, sdp, strlen (sdp));
  g_assert_cmpmem (msg->raw, msg->raw_len, text, strlen (text));
}

static void
test_parse_response (void)
{
  g_autoptr (TuaMsg) msg =
    parse_ok ("SIP/2.0 486 Busy Here" CRLF "Via: SIP/2.0/TLS h;branch=z9hG4bK1" CRLF
              "Content-Length: 0" CRLF CRLF);
  g_autoptr (TuaMsg) bare = parse_ok ("SIP/2.0 200" CRLF "Content-Length:0" CRLF CRLF);

  g_assert_false (msg->is_request);
  g_assert_cmpuint (msg->status, ==, 486);
  g_assert_cmpstr (msg->reason, ==, "Busy Here");
  g_assert_null (msg->method);
  g_assert_cmpuint (msg->body_len, ==, 0);
  g_assert_cmpuint (bare->status, ==, 200);
  g_assert_cmpstr (bare->reason, ==, "");
}

static void
test_parse_compact (void)
{
  g_autoptr (TuaMsg) msg = parse_ok (
    "MESSAGE sips:b@x SIP/2.0" CRLF "v: SIP/2.0/TLS h:1;branch=z9hG4bK2" CRLF
    "f: <sips:a@x>;tag=9" CRLF "t: <sips:b@x>" CRLF "i: cid" CRLF "m: <sips:a@192.0.2.1>" CRLF
    "k: path, outbound" CRLF "c: text/plain" CRLF "CSeq: 1 MESSAGE" CRLF "l: 2" CRLF CRLF "hi");

  g_assert_cmpstr (tua_msg_header (msg, "Via"), ==, "SIP/2.0/TLS h:1;branch=z9hG4bK2");
  g_assert_cmpstr (tua_msg_header (msg, "From"), ==, "<sips:a@x>;tag=9");
  g_assert_cmpstr (tua_msg_header (msg, "To"), ==, "<sips:b@x>");
  g_assert_cmpstr (tua_msg_header (msg, "Call-ID"), ==, "cid");
  g_assert_cmpstr (tua_msg_header (msg, "Contact"), ==, "<sips:a@192.0.2.1>");
  g_assert_cmpstr (tua_msg_header (msg, "Content-Type"), ==, "text/plain");
  g_assert_cmpstr (tua_msg_header (msg, "content-length"), ==, "2");
  g_assert_cmpuint (tua_msg_header_count (msg, "Supported"), ==, 2);
  /* and the other way round: a compact name finds a full header */
  g_assert_cmpstr (tua_msg_header (msg, "L"), ==, "2");
  g_assert_cmpstr (tua_msg_header (msg, "cseq"), ==, "1 MESSAGE");
  g_assert_cmpmem (msg->body, msg->body_len, "hi", 2);
}

static void
test_parse_split (void)
{
  g_autoptr (TuaMsg) msg = parse_ok (
    "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/TLS p1:5061;branch=z9hG4bKp1 , SIP/2.0/TLS p2;branch=z9hG4bKp2" CRLF
    "v: SIP/2.0/TLS ua;branch=z9hG4bKua" CRLF
    "Record-Route: <sips:p1.example;lr>,<sips:p2.example;lr;x=\"a,b\">" CRLF
    "Contact: \"Doe, John\" <sips:j@192.0.2.1;a=1,2>;q=0.5;expires=\"Thu, 01 Jan\", <sips:k@y>" CRLF
    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"" CRLF
    "Content-Length: 0" CRLF CRLF);
  g_auto (GStrv) vias = tua_msg_headers (msg, "v");
  g_auto (GStrv) rr = tua_msg_headers (msg, "Record-Route");
  g_auto (GStrv) contacts = tua_msg_headers (msg, "m");
  g_auto (GStrv) www = tua_msg_headers (msg, "WWW-Authenticate");
  g_auto (GStrv) none = tua_msg_headers (msg, "Route");

  g_assert_cmpuint (g_strv_length (vias), ==, 3);
  g_assert_cmpstr (vias[0], ==, "SIP/2.0/TLS p1:5061;branch=z9hG4bKp1");
  g_assert_cmpstr (vias[1], ==, "SIP/2.0/TLS p2;branch=z9hG4bKp2");
  g_assert_cmpstr (vias[2], ==, "SIP/2.0/TLS ua;branch=z9hG4bKua");
  g_assert_cmpstr (tua_msg_header (msg, "Via"), ==, vias[0]);
  g_assert_cmpuint (g_strv_length (rr), ==, 2);
  g_assert_cmpstr (rr[1], ==, "<sips:p2.example;lr;x=\"a,b\">");
  g_assert_cmpuint (g_strv_length (contacts), ==, 2);
  g_assert_cmpstr (contacts[0], ==,
                   "\"Doe, John\" <sips:j@192.0.2.1;a=1,2>;q=0.5;expires=\"Thu, 01 Jan\"");
  g_assert_cmpstr (contacts[1], ==, "<sips:k@y>");
  /* auth headers are not lists: their commas separate parameters */
  g_assert_cmpuint (g_strv_length (www), ==, 1);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
}

static void
test_parse_folding (void)
{
  g_autoptr (TuaMsg) msg = parse_ok ("OPTIONS sips:x SIP/2.0" CRLF "Subject: one" CRLF
                                     "  two" CRLF "\tthree" CRLF "Content-Length: 0" CRLF CRLF);

  g_assert_cmpstr (tua_msg_header (msg, "s"), ==, "one two three");
}

static void
test_sip_params (void)
{
  const char *from = "\"A;b <c>\" <sips:a@x;transport=tls;lr>;tag=12;q=\"x\\\"y\";flag";
  g_autofree char *uri = tua_sip_uri (from);
  g_autofree char *tag = tua_sip_param (from, "TAG");
  g_autofree char *q = tua_sip_param (from, "q");
  g_autofree char *flag = tua_sip_param (from, "flag");
  g_autofree char *transport = tua_sip_param (from, "transport");
  g_autofree char *lr = tua_sip_uri_param (uri, "lr");
  g_autofree char *tr = tua_sip_uri_param (uri, "transport");
  g_autofree char *bare = tua_sip_uri ("sips:a@x;tag=1");
  g_autofree char *bare_tag = tua_sip_param ("sips:a@x;tag=1", "tag");

  g_assert_cmpstr (uri, ==, "sips:a@x;transport=tls;lr");
  g_assert_cmpstr (tag, ==, "12");
  g_assert_cmpstr (q, ==, "x\"y");
  g_assert_cmpstr (flag, ==, "");
  g_assert_null (transport); /* a URI parameter, not a header parameter */
  g_assert_cmpstr (lr, ==, "");
  g_assert_cmpstr (tr, ==, "tls");
  g_assert_cmpstr (bare, ==, "sips:a@x");
  g_assert_cmpstr (bare_tag, ==, "1");
  g_assert_null (tua_sip_uri ("<>"));
}

/* ---- Framing ---- */

static const char two_messages[] =
  "SIP/2.0 100 Trying" CRLF "Content-Length: 0" CRLF CRLF
  CRLF
  "MESSAGE sips:a@x SIP/2.0" CRLF "l: 5" CRLF CRLF "a\r\nb\0";

static void
test_frame_two (void)
{
  /* the second body is "a\r\nb\0": 5 bytes, a NUL included */
  gsize len = sizeof two_messages - 1;
  const char *p = two_messages;
  gsize n = 0;
  g_autoptr (TuaMsg) second = NULL;

  g_assert_cmpint (tua_msg_frame (p, len, &n, NULL), ==, TUA_FRAME_MESSAGE);
  g_assert_cmpuint (n, ==, strlen ("SIP/2.0 100 Trying" CRLF "Content-Length: 0" CRLF CRLF));
  p += n, len -= n;
  g_assert_cmpint (tua_msg_frame (p, len, &n, NULL), ==, TUA_FRAME_CRLF);
  g_assert_cmpuint (n, ==, 2);
  p += n, len -= n;
  g_assert_cmpint (tua_msg_frame (p, len, &n, NULL), ==, TUA_FRAME_MESSAGE);
  g_assert_cmpuint (n, ==, len);
  g_assert_true (tua_msg_parse (p, n, &second, NULL));
  g_assert_cmpuint (second->body_len, ==, 5);
  g_assert_cmpmem (second->body, 5, "a\r\nb\0", 5); /* exact bytes, NUL included */
}

static void
test_frame_split (void)
{
  const char *msg = "OPTIONS sips:x SIP/2.0" CRLF "Content-Length: 4" CRLF CRLF "abcd";
  gsize total = strlen (msg), n = 0;

  /* every split point of a message arriving in two reads */
  for (gsize cut = 0; cut < total; cut++)
    g_assert_cmpint (tua_msg_frame (msg, cut, &n, NULL), ==, TUA_FRAME_NEED_MORE);
  g_assert_cmpint (tua_msg_frame (msg, total, &n, NULL), ==, TUA_FRAME_MESSAGE);
  g_assert_cmpuint (n, ==, total);
  g_assert_cmpint (tua_msg_frame ("\r", 1, &n, NULL), ==, TUA_FRAME_NEED_MORE);
}

static void
test_frame_invalid (void)
{
  const char *bad[] = {
    "OPTIONS sips:x SIP/2.0" CRLF "To: x" CRLF CRLF,                         /* no length */
    "OPTIONS sips:x SIP/2.0" CRLF "l: 1" CRLF "Content-Length: 2" CRLF CRLF "ab", /* conflict */
    "OPTIONS sips:x SIP/2.0" CRLF "Content-Length: -1" CRLF CRLF,
    "OPTIONS sips:x SIP/2.0" CRLF "Content-Length: 1x" CRLF CRLF,
    "OPTIONS sips:x SIP/2.0" CRLF "Content-Length: 99999999999999999999999" CRLF CRLF,
    "OPTIONS sips:x SIP/2.0" CRLF "Content-Length: 999999999" CRLF CRLF,     /* over the limit */
  };
  g_autofree char *huge = g_strnfill (TUA_MSG_MAX_HEADER_BYTES + 10, 'a');
  gsize n = 12345;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_cmpint (tua_msg_frame (bad[i], strlen (bad[i]), &n, &error), ==, TUA_FRAME_INVALID);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpuint (n, ==, 12345); /* not written on failure */
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (tua_msg_frame (huge, strlen (huge), &n, &error), ==, TUA_FRAME_INVALID);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
}

static void
test_parse_malformed (void)
{
  static const char *const bad[] = {
    "", CRLF CRLF, "garbage" CRLF CRLF, "INVITE sips:x" CRLF CRLF, "INVITE sips:x SIP/3.0" CRLF CRLF,
    "INVITE  sips:x SIP/2.0" CRLF CRLF, "IN(VITE sips:x SIP/2.0" CRLF CRLF,
    "SIP/2.0 99 Low" CRLF CRLF, "SIP/2.0 700 High" CRLF CRLF, "SIP/2.0 2x0 OK" CRLF CRLF,
    "SIP/2.0 200 OK" CRLF "NoColon" CRLF CRLF, "SIP/2.0 200 OK" CRLF ": empty" CRLF CRLF,
    "SIP/2.0 200 OK" CRLF " fold first" CRLF CRLF, "SIP/2.0 200 OK" CRLF "Bad Name: x" CRLF CRLF,
    "SIP/2.0 200 OK" CRLF "Content-Length: 3" CRLF CRLF "ab",
    "SIP/2.0 200 OK" CRLF "Content-Length: 1" CRLF CRLF "ab",
    "SIP/2.0 200 OK" CRLF "X: a\rb" CRLF CRLF, "SIP/2.0 200 OK" CRLF "Content-Length: 0",
  };
  g_autofree char *valid = g_strdup_printf (
    "INVITE sips:bob@x SIP/2.0" CRLF "Via: SIP/2.0/TLS h;branch=z9hG4bK1, SIP/2.0/TLS g" CRLF
    "From: \"a,\\\"b\" <sips:a@x>;tag=1" CRLF "Contact: <sips:a@h;lr>;q=1" CRLF
    "Content-Length: %zu" CRLF CRLF "%s", strlen (sdp), sdp);
  GRand *rand = g_rand_new_with_seed (20261122);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      TuaMsg *msg = NULL;

      g_test_message ("case %zu", i);
      g_assert_false (tua_msg_parse (bad[i], strlen (bad[i]), &msg, &error));
      g_assert_null (msg);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
  /* mutations of a valid message must never crash the parser, framer or helpers */
  for (guint round = 0; round < 3000; round++)
    {
      g_autofree char *m = g_strdup (valid);
      gsize len = strlen (m), n;
      TuaMsg *msg = NULL;

      for (guint k = g_rand_int_range (rand, 1, 6); k > 0; k--)
        m[g_rand_int_range (rand, 0, (gint32) len)] = "\r\n:;,<>\"\\ \0a9"[g_rand_int_range (rand, 0, 14)];
      len = g_rand_int_range (rand, 0, (gint32) len + 1);
      tua_msg_frame (m, len, &n, NULL);
      if (tua_msg_parse (m, len, &msg, NULL))
        {
          g_auto (GStrv) all = tua_msg_headers (msg, "Via");
          g_autofree char *branch = tua_msg_branch (msg);
          const char *from = tua_msg_header (msg, "From");
          g_autofree char *uri = from ? tua_sip_uri (from) : NULL;
          g_autofree char *tag = from ? tua_sip_param (from, "tag") : NULL;
          tua_msg_cseq (msg, NULL, NULL);
          tua_msg_unref (msg);
        }
    }
  g_rand_free (rand);
}

static void
test_build_response (void)
{
  g_autoptr (TuaMsg) req = parse_ok (
    "INVITE sips:bob@192.0.2.1 SIP/2.0" CRLF "Via: SIP/2.0/TLS p1;branch=z9hG4bKp1;received=1.2.3.4" CRLF
    "Via: SIP/2.0/TLS ua;branch=z9hG4bKua" CRLF "Record-Route: <sips:p1;lr>, <sips:p0;lr>" CRLF
    "From: <sips:alice@x>;tag=af" CRLF "To: <sips:bob@x>" CRLF "Call-ID: cid" CRLF
    "CSeq: 3 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
  gsize len = 0;
  g_autofree char *wire = tua_msg_build_response (req, 200, "OK", "bt", "<sips:bob@192.0.2.1>",
                                                  "X-Test: 1\r\n", NULL, sdp, -1, &len);
  g_autofree char *trying = tua_msg_build_response (req, 100, "Trying", "bt", NULL, NULL, NULL,
                                                    NULL, 0, NULL);
  g_autoptr (TuaMsg) resp = NULL;
  g_autoptr (TuaMsg) r100 = parse_ok (trying);
  g_auto (GStrv) vias = NULL;
  g_auto (GStrv) rr = NULL;
  gsize n = 0;

  g_assert_cmpint (tua_msg_frame (wire, len, &n, NULL), ==, TUA_FRAME_MESSAGE);
  g_assert_cmpuint (n, ==, len);
  g_assert_true (tua_msg_parse (wire, len, &resp, NULL));
  vias = tua_msg_headers (resp, "Via");
  rr = tua_msg_headers (resp, "Record-Route");
  g_assert_cmpuint (resp->status, ==, 200);
  g_assert_cmpuint (g_strv_length (vias), ==, 2);
  g_assert_cmpstr (vias[0], ==, "SIP/2.0/TLS p1;branch=z9hG4bKp1;received=1.2.3.4");
  g_assert_cmpstr (vias[1], ==, "SIP/2.0/TLS ua;branch=z9hG4bKua");
  g_assert_cmpuint (g_strv_length (rr), ==, 2);
  g_assert_cmpstr (rr[0], ==, "<sips:p1;lr>");
  g_assert_cmpstr (tua_msg_header (resp, "To"), ==, "<sips:bob@x>;tag=bt");
  g_assert_cmpstr (tua_msg_header (resp, "From"), ==, "<sips:alice@x>;tag=af");
  g_assert_cmpstr (tua_msg_header (resp, "CSeq"), ==, "3 INVITE");
  g_assert_cmpstr (tua_msg_header (resp, "Contact"), ==, "<sips:bob@192.0.2.1>");
  g_assert_cmpstr (tua_msg_header (resp, "Content-Type"), ==, "application/sdp");
  g_assert_cmpstr (tua_msg_header (resp, "X-Test"), ==, "1");
  g_assert_cmpmem (resp->body, resp->body_len, sdp, strlen (sdp));
  /* 100 Trying: no tag, no Record-Route */
  g_assert_cmpstr (tua_msg_header (r100, "To"), ==, "<sips:bob@x>");
  g_assert_null (tua_msg_header (r100, "Record-Route"));
  g_assert_cmpstr (tua_msg_header (r100, "Content-Length"), ==, "0");
}

/* ---- Digest ---- */

#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

static void
test_digest_rfc7616 (gconstpointer data)
{
  TuaDigestAlg alg = GPOINTER_TO_INT (data);
  const char *expected = alg == TUA_DIGEST_MD5 ? "8ca523f5e9506fed4657c9700eebdbec"
                         : "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";
  g_autofree char *response =
    tua_digest_response (alg, "Mufasa", "Circle of Life", "http-auth@example.org", RFC_NONCE,
                         "00000001", RFC_CNONCE, "auth", "GET", "/dir/index.html");
  g_autofree char *challenge_text = g_strdup_printf (
    "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=%s, "
    "nonce=\"" RFC_NONCE "\", opaque=\"" RFC_OPAQUE "\"", tua_digest_alg_to_string (alg));
  g_autoptr (TuaChallenge) ch = NULL;
  g_autoptr (GHashTable) params = NULL;
  g_autofree char *creds = NULL;
  g_autofree char *scheme = NULL;

  g_assert_cmpstr (response, ==, expected);

  /* the same through a parsed challenge and a credentials header */
  g_assert_true (tua_digest_parse_challenge (challenge_text, &ch, NULL));
  g_assert_true (ch->supported && ch->qop_auth);
  g_assert_cmpint (ch->alg, ==, alg);
  creds = tua_digest_credentials (ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1,
                                  RFC_CNONCE, NULL);
  g_assert_nonnull (creds);
  g_assert_true (tua_auth_parse_params (creds, &scheme, &params, NULL));
  g_assert_cmpstr (scheme, ==, "Digest");
  g_assert_cmpstr (g_hash_table_lookup (params, "response"), ==, expected);
  g_assert_cmpstr (g_hash_table_lookup (params, "nc"), ==, "00000001");
  g_assert_cmpstr (g_hash_table_lookup (params, "qop"), ==, "auth");
  g_assert_cmpstr (g_hash_table_lookup (params, "opaque"), ==, RFC_OPAQUE);
  g_assert_cmpstr (g_hash_table_lookup (params, "uri"), ==, "/dir/index.html");
  g_assert_cmpstr (g_hash_table_lookup (params, "algorithm"), ==, tua_digest_alg_to_string (alg));
}

static void
test_digest_params (void)
{
  g_autoptr (GHashTable) p = NULL;
  g_autofree char *scheme = NULL;
  g_autoptr (TuaChallenge) ch = NULL;
  g_autoptr (TuaChallenge) odd = NULL;
  static const char *const bad[] = { "", "Digest realm", "Digest realm=\"x", "Digest a=1, a=2",
                                     "Digest a=1 b=2", "Digest =x", "Digest a=" };

  g_assert_true (tua_auth_parse_params ("Digest  Realm=\"a\\\"b,c\" ,nonce=n1,stale=TRUE", &scheme,
                                        &p, NULL));
  g_assert_cmpstr (g_hash_table_lookup (p, "realm"), ==, "a\"b,c");
  g_assert_cmpstr (g_hash_table_lookup (p, "nonce"), ==, "n1");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (tua_auth_parse_params (bad[i], NULL, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
  g_assert_true (tua_digest_parse_challenge ("Digest realm=r, nonce=n, stale=true", &ch, NULL));
  g_assert_true (ch->stale && ch->supported && !ch->has_qop);
  g_assert_cmpint (ch->alg, ==, TUA_DIGEST_MD5);
  g_assert_true (tua_digest_parse_challenge ("Digest realm=r, nonce=n, algorithm=SHA-512-256",
                                             &odd, NULL));
  g_assert_false (odd->supported);
  g_assert_null (tua_digest_credentials (odd, "u", "p", "REGISTER", "sips:x", 1, "c", NULL));
  g_assert_false (tua_digest_parse_challenge ("Basic realm=r", &ch, NULL));
  g_assert_false (tua_digest_parse_challenge ("Digest nonce=n", &ch, NULL));
}

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

/* LOOPBACK3 */

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tua/msg/parse/request", test_parse_request);
  g_test_add_func ("/tua/msg/parse/response", test_parse_response);
  g_test_add_func ("/tua/msg/parse/compact", test_parse_compact);
  g_test_add_func ("/tua/msg/parse/split", test_parse_split);
  g_test_add_func ("/tua/msg/parse/folding", test_parse_folding);
  g_test_add_func ("/tua/msg/parse/malformed", test_parse_malformed);
  g_test_add_func ("/tua/msg/params", test_sip_params);
  g_test_add_func ("/tua/msg/frame/two-in-one", test_frame_two);
  g_test_add_func ("/tua/msg/frame/split", test_frame_split);
  g_test_add_func ("/tua/msg/frame/invalid", test_frame_invalid);
  g_test_add_func ("/tua/msg/build-response", test_build_response);
  g_test_add_data_func ("/tua/digest/md5/rfc7616", GINT_TO_POINTER (TUA_DIGEST_MD5),
                        test_digest_rfc7616);
  g_test_add_data_func ("/tua/digest/sha256/rfc7616", GINT_TO_POINTER (TUA_DIGEST_SHA256),
                        test_digest_rfc7616);
  g_test_add_func ("/tua/digest/params", test_digest_params);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/tua/loopback/register/strongest", test_register_strongest);
  ADD ("/tua/loopback/register/forced-md5", test_register_forced_md5);
  ADD ("/tua/loopback/register/wrong-password", test_register_wrong_password);
  ADD ("/tua/loopback/keepalive", test_keepalive);
  ADD ("/tua/loopback/closed", test_closed);
  ADD ("/tua/loopback/verify", test_verify);
  ADD ("/tua/loopback/tls-versions", test_tls_versions);
  return g_test_run ();
}
