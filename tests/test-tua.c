/* Tests of the test UA itself: the pure parser and builders, and its Digest client against
 * RFC 7616. The loopback TLS round trips are in test-tua-loopback.c. */
#include "config.h"

#include "tua.h"

#include <gio/gio.h>
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
  return g_test_run ();
}
