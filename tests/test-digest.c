/* Unit tests for sig-digest: RFC 7616 vectors, an independently computed SIP example, the
 * parser against good and hostile input, and challenge text. */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "signal/sig-digest.h"

/* ---- RFC 7616 §3.9.1 ---- */

#define RFC_USER "Mufasa"
#define RFC_PASS "Circle of Life"
#define RFC_REALM "http-auth@example.org"
#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_URI "/dir/index.html"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC_MD5_RESPONSE "8ca523f5e9506fed4657c9700eebdbec"
#define RFC_SHA256_RESPONSE "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"

/* The Authorization header of the RFC, folded over lines as printed there. */
static char *
rfc_header (const char *algorithm, const char *response)
{
  return g_strdup_printf ("Digest username=\"" RFC_USER "\",\r\n"
                          "    realm=\"" RFC_REALM "\",\r\n"
                          "    uri=\"" RFC_URI "\",\r\n"
                          "    algorithm=%s,\r\n"
                          "    nonce=\"" RFC_NONCE "\",\r\n"
                          "    nc=00000001,\r\n"
                          "    cnonce=\"" RFC_CNONCE "\",\r\n"
                          "    qop=auth,\r\n"
                          "    response=\"%s\",\r\n"
                          "    opaque=\"" RFC_OPAQUE "\"",
                          algorithm, response);
}

static void
check_rfc (SigDigestAlg alg, const char *alg_text, const char *response)
{
  g_autofree char *header = rfc_header (alg_text, response);
  g_autoptr (SigDigestCredentials) creds = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ha1 = NULL;
  g_autofree char *computed = NULL;
  g_autofree char *wrong_ha1 = NULL;

  g_assert_true (sig_digest_parse_credentials (header, &creds, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (creds->username, ==, RFC_USER);
  g_assert_cmpstr (creds->realm, ==, RFC_REALM);
  g_assert_cmpstr (creds->nonce, ==, RFC_NONCE);
  g_assert_cmpstr (creds->uri, ==, RFC_URI);
  g_assert_cmpstr (creds->cnonce, ==, RFC_CNONCE);
  g_assert_cmpstr (creds->opaque, ==, RFC_OPAQUE);
  g_assert_cmpstr (creds->qop, ==, "auth");
  g_assert_cmpstr (creds->nc_text, ==, "00000001");
  g_assert_cmpuint (creds->nc, ==, 1);
  g_assert_cmpint (creds->alg, ==, alg);
  g_assert_cmpstr (creds->response, ==, response);

  ha1 = sig_digest_ha1 (alg, RFC_USER, RFC_REALM, RFC_PASS);
  g_assert_nonnull (ha1);
  g_assert_cmpuint (strlen (ha1), ==, sig_digest_alg_hex_len (alg));
  computed = sig_digest_response (alg, ha1, RFC_NONCE, "00000001", RFC_CNONCE, "auth", "GET",
                                  RFC_URI);
  g_assert_cmpstr (computed, ==, response);
  g_assert_true (sig_digest_verify (creds, "GET", ha1));
  g_assert_false (sig_digest_verify (creds, "POST", ha1));

  wrong_ha1 = sig_digest_ha1 (alg, RFC_USER, RFC_REALM, "Circle of Life!");
  g_assert_false (sig_digest_verify (creds, "GET", wrong_ha1));
}

static void
test_sha256_rfc7616 (void)
{
  check_rfc (SIG_DIGEST_ALG_SHA256, "SHA-256", RFC_SHA256_RESPONSE);
}

static void
test_md5_rfc7616 (void)
{
  check_rfc (SIG_DIGEST_ALG_MD5, "MD5", RFC_MD5_RESPONSE);
}

/* ---- A SIP REGISTER computed here with EVP, independently of sig-digest ---- */

static char *
evp_hex (const EVP_MD *md, const char *text)
{
  guint8 out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *s = g_string_new (NULL);

  g_assert_cmpint (EVP_Digest (text, strlen (text), out, &len, md, NULL), ==, 1);
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", out[i]);
  return g_string_free (s, FALSE);
}

static void
check_sip (SigDigestAlg alg, const EVP_MD *md)
{
  const char *user = "alice", *realm = "sotto.example", *pass = "correct horse";
  const char *nonce = "AAAAAGc3q_R2bW5vbmNlLXRlc3QtdmFsdWUtMTIzNDU2";
  const char *uri = "sips:sotto.example", *cnonce = "0a4f113b";
  g_autofree char *ha1_text = g_strdup_printf ("%s:%s:%s", user, realm, pass);
  g_autofree char *ha1 = evp_hex (md, ha1_text);
  g_autofree char *ha2_text = g_strdup_printf ("REGISTER:%s", uri);
  g_autofree char *ha2 = evp_hex (md, ha2_text);
  g_autofree char *kd = g_strdup_printf ("%s:%s:0000000a:%s:auth:%s", ha1, nonce, cnonce, ha2);
  g_autofree char *expected = evp_hex (md, kd);
  g_autofree char *upper = g_ascii_strup (expected, -1);
  g_autofree char *header = NULL;
  g_autofree char *ours_ha1 = sig_digest_ha1 (alg, user, realm, pass);
  g_autofree char *ours_resp = NULL;
  g_autoptr (SigDigestCredentials) creds = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (ours_ha1, ==, ha1);
  ours_resp = sig_digest_response (alg, ha1, nonce, "0000000a", cnonce, "auth", "REGISTER", uri);
  g_assert_cmpstr (ours_resp, ==, expected);

  /* Parameters in another order, unquoted nc and qop, an upper-case hex response. */
  header = g_strdup_printf ("Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, "
                            "username=\"%s\", uri=\"%s\", response=\"%s\", cnonce=\"%s\", "
                            "nc=0000000a, qop=auth",
                            realm, nonce, sig_digest_alg_to_string (alg), user, uri, upper,
                            cnonce);
  g_assert_true (sig_digest_parse_credentials (header, &creds, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (creds->nc, ==, 10);
  g_assert_cmpstr (creds->response, ==, expected);
  g_assert_true (sig_digest_verify (creds, "REGISTER", ha1));
  g_assert_false (sig_digest_verify (creds, "INVITE", ha1));

  /* A tampered nc no longer matches. The strings belong to the credentials' own block. */
  char tampered_nc[] = "0000000b";
  creds->nc_text = tampered_nc;
  g_assert_false (sig_digest_verify (creds, "REGISTER", ha1));
}

static void
test_sip_sha256 (void)
{
  check_sip (SIG_DIGEST_ALG_SHA256, EVP_sha256 ());
}

static void
test_sip_md5 (void)
{
  check_sip (SIG_DIGEST_ALG_MD5, EVP_md5 ());
}

/* Inputs of every length around the hasher's 512-byte gathering buffer (one part filling it
 * exactly, a separator falling on its edge, parts longer than it) hash as EVP does in one go. */
static void
test_long_inputs (void)
{
  static const gsize lens[] = { 0, 1, 255, 510, 511, 512, 513, 1023, 1024, 1025, 3000 };

  for (gsize i = 0; i < G_N_ELEMENTS (lens); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (lens); j += 3)
      {
        g_autofree char *user = g_strnfill (lens[i], 'u');
        g_autofree char *pass = g_strnfill (lens[j], 'p');
        g_autofree char *uri = g_strdup_printf ("sips:%s@x", user);
        g_autofree char *a1 = g_strdup_printf ("%s:realm:%s", user, pass);
        g_autofree char *ha1 = evp_hex (EVP_sha256 (), a1);
        g_autofree char *ours_ha1 = sig_digest_ha1 (SIG_DIGEST_ALG_SHA256, user, "realm", pass);
        g_autofree char *a2 = g_strdup_printf ("REGISTER:%s", uri);
        g_autofree char *ha2 = evp_hex (EVP_md5 (), a2);
        g_autofree char *kd = g_strdup_printf ("%s:%s:00000001:%s:auth:%s", ha1, pass, user, ha2);
        g_autofree char *expected = evp_hex (EVP_md5 (), kd);
        g_autofree char *ours = sig_digest_response (SIG_DIGEST_ALG_MD5, ha1, pass, "00000001",
                                                     user, "auth", "REGISTER", uri);

        g_assert_cmpstr (ours_ha1, ==, ha1);
        g_assert_cmpstr (ours, ==, expected);
      }
}

/* sig-digest remembers the last H(method:uri) of each algorithm: every pair, asked in turns
 * (same method and another uri, a uri that is a prefix of the last, the colon moved between
 * method and uri, the other algorithm, one too long to remember), still hashes its own. */
static void
test_a2_memo (void)
{
  g_autofree char *long_user = g_strnfill (300, 'l');
  g_autofree char *long_uri = g_strdup_printf ("sips:%s@x", long_user);
  const char *const pairs[][2] = {
    { "REGISTER", "sips:a.example" }, { "REGISTER", "sips:a.example" },
    { "REGISTER", "sips:b.example" }, { "REGISTER", "sips:b.exampl" },
    { "INVITE", "sips:b.exampl" },    { "REGISTER", "sips:a.example" },
    { "REGISTE", "R:sips:a.example" }, { "REGISTER", "sips:a.example" },
    { "REGISTER", long_uri },         { "REGISTER", long_uri },
    { "REGISTER", "sips:a.example" }, { "", "" },
    { "REGISTER", "sips:a.example" },
  };
  const char *ha1 = "939e7578ed9e3c518a452acee763bce9";

  for (guint round = 0; round < 2; round++)
    for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
      for (int a = 0; a < SIG_DIGEST_ALG_LAST; a++)
        {
          const EVP_MD *md = a == SIG_DIGEST_ALG_MD5 ? EVP_md5 () : EVP_sha256 ();
          g_autofree char *a2 = g_strdup_printf ("%s:%s", pairs[i][0], pairs[i][1]);
          g_autofree char *ha2 = evp_hex (md, a2);
          g_autofree char *kd = g_strdup_printf ("%s:n:00000001:c:auth:%s", ha1, ha2);
          g_autofree char *expected = evp_hex (md, kd);
          g_autofree char *ours = sig_digest_response (a, ha1, "n", "00000001", "c", "auth",
                                                       pairs[i][0], pairs[i][1]);

          g_assert_cmpstr (ours, ==, expected);
        }
}

/* An HA1 of the wrong algorithm never verifies, even against itself. */
static void
test_verify_wrong_ha1_alg (void)
{
  g_autofree char *header = rfc_header ("SHA-256", RFC_SHA256_RESPONSE);
  g_autoptr (SigDigestCredentials) creds = NULL;
  g_autofree char *md5_ha1 = sig_digest_ha1 (SIG_DIGEST_ALG_MD5, RFC_USER, RFC_REALM, RFC_PASS);
  g_autofree char *sha_ha1 = sig_digest_ha1 (SIG_DIGEST_ALG_SHA256, RFC_USER, RFC_REALM, RFC_PASS);
  g_autofree char *sha_ha1_upper = g_ascii_strup (sha_ha1, -1);

  g_assert_true (sig_digest_parse_credentials (header, &creds, NULL));
  g_assert_false (sig_digest_verify (creds, "GET", md5_ha1));
  g_assert_false (sig_digest_verify (creds, "GET", ""));
  g_assert_true (sig_digest_verify (creds, "GET", sha_ha1_upper));
}

/* ---- Parser ---- */

static SigDigestCredentials *
parse_ok (const char *header)
{
  SigDigestCredentials *creds = NULL;
  g_autoptr (GError) error = NULL;

  if (!sig_digest_parse_credentials (header, &creds, &error))
    g_error ("should parse: %.200s\n  %s", header, error->message);
  g_assert_nonnull (creds);
  return creds;
}

static void
parse_fails (const char *header, gint code)
{
  SigDigestCredentials *creds = (SigDigestCredentials *) 0x1;
  g_autoptr (GError) error = NULL;

  if (sig_digest_parse_credentials (header, &creds, &error))
    g_error ("should fail: %.200s", header);
  g_assert_error (error, SIG_DIGEST_ERROR, code);
  /* Out-parameter untouched on failure. */
  g_assert_true (creds == (SigDigestCredentials *) 0x1);
}

#define R32 "0123456789abcdef0123456789abcdef"
#define GOOD_TAIL "realm=\"r\", nonce=\"n\", uri=\"sips:x\", response=\"" R32 "\""

static void
test_parse_good_forms (void)
{
  g_autoptr (SigDigestCredentials) a = NULL;
  g_autoptr (SigDigestCredentials) b = NULL;
  g_autoptr (SigDigestCredentials) c = NULL;
  g_autoptr (SigDigestCredentials) d = NULL;
  g_autoptr (SigDigestCredentials) e = NULL;

  /* Minimal, no algorithm (MD5 by default), no qop, no opaque. */
  a = parse_ok ("Digest username=\"bob\", " GOOD_TAIL);
  g_assert_cmpstr (a->username, ==, "bob");
  g_assert_cmpint (a->alg, ==, SIG_DIGEST_ALG_MD5);
  g_assert_null (a->qop);
  g_assert_null (a->opaque);
  g_assert_null (a->nc_text);
  g_assert_null (a->cnonce);

  /* Odd case, tabs, spaces around '=', stray commas, unknown parameters, token values. */
  b = parse_ok ("  dIgEsT\tUSERNAME = \"bob\" ,, Realm=r,NONCE=n , x-extra=\"whatever, \\\"x\\\"\","
                " uri=\"sips:x\",response=" R32 ",foo=bar, QOP=\"auth\", nc=0000000A,"
                " cnonce=c0ffee, Algorithm=\"md5\", userhash=false,");
  g_assert_cmpstr (b->username, ==, "bob");
  g_assert_cmpstr (b->realm, ==, "r");
  g_assert_cmpstr (b->nonce, ==, "n");
  g_assert_cmpstr (b->qop, ==, "auth");
  g_assert_cmpstr (b->nc_text, ==, "0000000A");
  g_assert_cmpuint (b->nc, ==, 10);
  g_assert_cmpstr (b->cnonce, ==, "c0ffee");
  g_assert_cmpint (b->alg, ==, SIG_DIGEST_ALG_MD5);

  /* Escapes inside quoted strings are unescaped; empty opaque is a value. */
  c = parse_ok ("Digest username=\"bo\\\"b\\\\\", opaque=\"\", " GOOD_TAIL);
  g_assert_cmpstr (c->username, ==, "bo\"b\\");
  g_assert_cmpstr (c->opaque, ==, "");

  /* SHA-256 with an upper-case response, lowered. */
  d = parse_ok ("Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sips:x\", "
                "algorithm=sha-256, response=\"" "ABCDEF0123456789ABCDEF0123456789"
                "ABCDEF0123456789ABCDEF0123456789" "\"");
  g_assert_cmpint (d->alg, ==, SIG_DIGEST_ALG_SHA256);
  g_assert_cmpstr (d->response, ==,
                   "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");

  /* nc at its maximum. */
  e = parse_ok ("Digest username=u, qop=auth, nc=ffffffff, cnonce=x, " GOOD_TAIL);
  g_assert_cmpuint (e->nc, ==, G_MAXUINT32);
}

static void
test_parse_malformed (void)
{
  g_autofree char *big_value = g_strnfill (2000, 'a');
  g_autofree char *big_header = NULL;
  g_autofree char *at_cap = g_strnfill (1024, 'u');
  g_autofree char *over_cap = g_strnfill (1025, 'u');
  g_autofree char *cap_ok = NULL;
  g_autofree char *cap_bad = NULL;
  g_autoptr (SigDigestCredentials) ok = NULL;
  GString *many = g_string_new ("Digest username=u, " GOOD_TAIL);
  const char *cases[] = {
    "",
    "   ",
    "Digest",
    "Digest ",
    "Basic dXNlcjpwYXNz",
    "username=\"u\", " GOOD_TAIL,             /* no scheme */
    "Digestusername=\"u\", " GOOD_TAIL,       /* no space after scheme */
    "DigestX username=\"u\", " GOOD_TAIL,
    "Digest username=\"u, " GOOD_TAIL,        /* quote runs on... */
    "Digest " GOOD_TAIL ", username=\"u",     /* ...and never closes */
    "Digest " GOOD_TAIL ", username=\"u\\",   /* backslash at the very end */
    "Digest " GOOD_TAIL ", username",         /* no '=' */
    "Digest " GOOD_TAIL ", username=",        /* no value */
    "Digest " GOOD_TAIL ", =u",               /* no name */
    "Digest " GOOD_TAIL ", username=\"u\" x", /* junk after a value */
    "Digest " GOOD_TAIL ", username=u v",
    "Digest " GOOD_TAIL ", username=\"u\"\"v\"",
    "Digest " GOOD_TAIL "; username=u",       /* wrong separator */
    "Digest username=a, username=b, " GOOD_TAIL,
    "Digest username=a, Realm=r2, " GOOD_TAIL,
    "Digest realm=\"r\", nonce=\"n\", uri=\"sips:x\", response=\"" R32 "\"", /* no user */
    "Digest username=u, realm=\"r\", nonce=\"n\", uri=\"sips:x\"",           /* no response */
    "Digest username=u, nonce=\"n\", uri=\"sips:x\", response=\"" R32 "\"",
    "Digest username=u, realm=\"r\", uri=\"sips:x\", response=\"" R32 "\"",
    "Digest username=u, realm=\"r\", nonce=\"n\", response=\"" R32 "\"",
    "Digest username=\"\", " GOOD_TAIL,                                      /* empty */
    "Digest username=u, realm=\"r\", nonce=\"\", uri=\"sips:x\", response=\"" R32 "\"",
    "Digest username=u, realm=\"r\", nonce=\"n\", uri=\"sips:x\", response=\"\"",
    "Digest username=u, realm=\"r\", nonce=\"n\", uri=\"sips:x\", response=\"" R32 "0\"",
    "Digest username=u, realm=\"r\", nonce=\"n\", uri=\"sips:x\", "
    "response=\"0123456789abcdef0123456789abcdeg\"",                         /* not hex */
    "Digest username=u, algorithm=SHA-256, " GOOD_TAIL,                      /* 32 for SHA-256 */
    "Digest username=u, qop=auth, nc=0000001, cnonce=c, " GOOD_TAIL,         /* 7 digits */
    "Digest username=u, qop=auth, nc=000000001, cnonce=c, " GOOD_TAIL,
    "Digest username=u, qop=auth, nc=0000000g, cnonce=c, " GOOD_TAIL,
    "Digest username=u, qop=auth, nc=\"-0000001\", cnonce=c, " GOOD_TAIL,
    "Digest username=u, qop=auth, cnonce=c, " GOOD_TAIL,                     /* no nc */
    "Digest username=u, qop=auth, nc=00000001, " GOOD_TAIL,                  /* no cnonce */
    "Digest username=u, qop=auth, nc=00000001, cnonce=\"\", " GOOD_TAIL,
    "Digest username=\"a\x01" "b\", " GOOD_TAIL,                                /* control char */
    "Digest username=\"a\\\x7f\", " GOOD_TAIL,
    "Digest username=\"a\r\nb\", " GOOD_TAIL,
    "Digest username=u,\r\n" GOOD_TAIL,                                      /* CRLF, no fold */
    "Digest username=u, userhash=maybe, " GOOD_TAIL,
    "Digest username=u@x, " GOOD_TAIL,                                       /* '@' not tchar */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    parse_fails (cases[i], SIG_DIGEST_ERROR_MALFORMED);
  parse_fails (NULL, SIG_DIGEST_ERROR_MALFORMED);

  /* Huge values and headers. The parameter cap is 1024 bytes, the header cap 8 KiB. */
  big_header = g_strdup_printf ("Digest username=\"%s\", " GOOD_TAIL, big_value);
  parse_fails (big_header, SIG_DIGEST_ERROR_MALFORMED);
  g_free (big_header);
  big_header = g_strdup_printf ("Digest x-unknown=%s, username=u, " GOOD_TAIL, big_value);
  parse_fails (big_header, SIG_DIGEST_ERROR_MALFORMED);
  cap_ok = g_strdup_printf ("Digest username=\"%s\", " GOOD_TAIL, at_cap);
  ok = parse_ok (cap_ok);
  g_assert_cmpuint (strlen (ok->username), ==, 1024);
  cap_bad = g_strdup_printf ("Digest username=\"%s\", " GOOD_TAIL, over_cap);
  parse_fails (cap_bad, SIG_DIGEST_ERROR_MALFORMED);
  while (many->len <= 8192)
    g_string_append (many, ", x-pad=\"0123456789012345678901234567890123456789\"");
  parse_fails (many->str, SIG_DIGEST_ERROR_MALFORMED);
  g_string_free (many, TRUE);
}

static void
test_parse_unsupported (void)
{
  const char *cases[] = {
    "Digest username=u, algorithm=SHA-512-256, " GOOD_TAIL,
    "Digest username=u, algorithm=MD5-sess, " GOOD_TAIL,
    "Digest username=u, algorithm=\"SHA-256-sess\", " GOOD_TAIL,
    "Digest username=u, algorithm=AKAv1-MD5, " GOOD_TAIL,
    "Digest username=u, qop=auth-int, nc=00000001, cnonce=c, " GOOD_TAIL,
    "Digest username=u, qop=\"auth,auth-int\", nc=00000001, cnonce=c, " GOOD_TAIL,
    "Digest username=u, userhash=true, " GOOD_TAIL,
    "Digest username*=UTF-8''J%C3%A4s%C3%B8n, realm=\"r\", nonce=\"n\", uri=\"sips:x\", "
    "response=\"" R32 "\"",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    parse_fails (cases[i], SIG_DIGEST_ERROR_UNSUPPORTED);
}

/* RFC 2069 style (no qop) parses but never verifies, even with the right RFC 2069 response. */
static void
test_parse_missing_qop (void)
{
  g_autofree char *ha1 = sig_digest_ha1 (SIG_DIGEST_ALG_MD5, "u", "r", "pw");
  g_autofree char *ha2 = evp_hex (EVP_md5 (), "REGISTER:sips:x");
  g_autofree char *kd = g_strdup_printf ("%s:n:%s", ha1, ha2);
  g_autofree char *resp = evp_hex (EVP_md5 (), kd);
  g_autofree char *header = g_strdup_printf (
      "Digest username=u, realm=r, nonce=n, uri=\"sips:x\", response=\"%s\"", resp);
  g_autoptr (SigDigestCredentials) creds = parse_ok (header);

  g_assert_null (creds->qop);
  g_assert_false (sig_digest_verify (creds, "REGISTER", ha1));
}

/* Every prefix and many random mutations of a good header either parse or fail cleanly;
 * run under --enable-sanitizers this catches any read out of bounds. */
static void
test_parse_hostile (void)
{
  g_autofree char *good = rfc_header ("SHA-256", RFC_SHA256_RESPONSE);
  gsize len = strlen (good);
  static const char alphabet[] = "\"\\,= \t\r\na0Z-\x01\x7f\xff";
  guint parsed = 0, failed = 0;

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autofree char *prefix = g_strndup (good, cut);
      g_autoptr (SigDigestCredentials) creds = NULL;
      g_autoptr (GError) error = NULL;

      if (sig_digest_parse_credentials (prefix, &creds, &error))
        {
          g_assert_nonnull (creds);
          parsed++;
        }
      else
        {
          g_assert_nonnull (error);
          failed++;
        }
    }
  /* Only the whole header (the opaque is optional, so also a cut before it) parses. */
  g_assert_cmpuint (parsed, >=, 1);
  g_assert_cmpuint (failed, >, len / 2);

  for (guint round = 0; round < 20000; round++)
    {
      g_autofree char *m = g_strdup (good);
      g_autoptr (SigDigestCredentials) creds = NULL;
      g_autoptr (GError) error = NULL;
      guint edits = (guint) g_test_rand_int_range (1, 4);

      for (guint k = 0; k < edits; k++)
        m[g_test_rand_int_range (0, (gint32) len)] =
            alphabet[g_test_rand_int_range (0, (gint32) sizeof alphabet - 1)];
      if (sig_digest_parse_credentials (m, &creds, &error))
        {
          g_assert_no_error (error);
          g_assert_nonnull (creds->response);
          (void) sig_digest_verify (creds, "GET", "0000");
        }
      else
        g_assert_nonnull (error);
    }
}

/* ---- Algorithms and challenges ---- */

static void
test_alg_names (void)
{
  SigDigestAlg alg = SIG_DIGEST_ALG_LAST;

  g_assert_cmpstr (sig_digest_alg_to_string (SIG_DIGEST_ALG_SHA256), ==, "SHA-256");
  g_assert_cmpstr (sig_digest_alg_to_string (SIG_DIGEST_ALG_MD5), ==, "MD5");
  g_assert_true (sig_digest_alg_from_string ("sha-256", &alg));
  g_assert_cmpint (alg, ==, SIG_DIGEST_ALG_SHA256);
  g_assert_true (sig_digest_alg_from_string ("md5", &alg));
  g_assert_cmpint (alg, ==, SIG_DIGEST_ALG_MD5);
  g_assert_false (sig_digest_alg_from_string ("SHA256", &alg));
  g_assert_false (sig_digest_alg_from_string ("MD5-sess", &alg));
  g_assert_false (sig_digest_alg_from_string (NULL, &alg));
  g_assert_cmpint (alg, ==, SIG_DIGEST_ALG_MD5); /* untouched on failure */
  g_assert_cmpuint (sig_digest_alg_hex_len (SIG_DIGEST_ALG_SHA256), ==, 64);
  g_assert_cmpuint (sig_digest_alg_hex_len (SIG_DIGEST_ALG_MD5), ==, 32);
}

static void
test_challenge (void)
{
  g_autofree char *a = sig_digest_challenge (SIG_DIGEST_ALG_SHA256, "sotto.example", "abc",
                                             "xyz", FALSE);
  g_autofree char *b = sig_digest_challenge (SIG_DIGEST_ALG_MD5, "r", "n", NULL, TRUE);
  g_autofree char *c = sig_digest_challenge (SIG_DIGEST_ALG_SHA256, "we \"q\" \\", "n", "",
                                             FALSE);

  g_assert_cmpstr (a, ==,
                   "Digest realm=\"sotto.example\", nonce=\"abc\", opaque=\"xyz\", "
                   "algorithm=SHA-256, qop=\"auth\"");
  g_assert_cmpstr (b, ==, "Digest realm=\"r\", nonce=\"n\", algorithm=MD5, qop=\"auth\", "
                          "stale=true");
  g_assert_cmpstr (c, ==,
                   "Digest realm=\"we \\\"q\\\" \\\\\", nonce=\"n\", opaque=\"\", "
                   "algorithm=SHA-256, qop=\"auth\"");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signal/digest/sha256/rfc7616", test_sha256_rfc7616);
  g_test_add_func ("/signal/digest/md5/rfc7616", test_md5_rfc7616);
  g_test_add_func ("/signal/digest/sha256/sip", test_sip_sha256);
  g_test_add_func ("/signal/digest/md5/sip", test_sip_md5);
  g_test_add_func ("/signal/digest/verify/wrong-ha1-alg", test_verify_wrong_ha1_alg);
  g_test_add_func ("/signal/digest/long-inputs", test_long_inputs);
  g_test_add_func ("/signal/digest/a2-memo", test_a2_memo);
  g_test_add_func ("/signal/digest/parse/good", test_parse_good_forms);
  g_test_add_func ("/signal/digest/parse/malformed", test_parse_malformed);
  g_test_add_func ("/signal/digest/parse/unsupported", test_parse_unsupported);
  g_test_add_func ("/signal/digest/parse/missing-qop", test_parse_missing_qop);
  g_test_add_func ("/signal/digest/parse/hostile", test_parse_hostile);
  g_test_add_func ("/signal/digest/alg/names", test_alg_names);
  g_test_add_func ("/signal/digest/challenge", test_challenge);

  return g_test_run ();
}
