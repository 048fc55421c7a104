/* sig-mclass: sotto-signald parses Authorization and Proxy-Authorization into their scheme and
 * the rest of the value as sent; every other header, and Sofia's own message class, as before. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "signal/sig-mclass.h"

#define CRED_A                                                                             \
  "username=\"alice\", realm=\"sotto.example\", nonce=\"n1\", uri=\"sips:sotto.example\", " \
  "response=\"0123456789abcdef0123456789abcdef\", qop=auth, nc=00000001, cnonce=\"c\""
/* Folded over two lines, odd spacing and an unquoted comma inside a quoted string. */
#define CRED_B_RAW "realm = \"other.example\" ,\r\n\tusername=\"a,b\""
#define CRED_P "username=\"alice\",realm=\"sotto.example\",nonce=\"n2\""

static const char REGISTER[] =
  "REGISTER sips:sotto.example SIP/2.0\r\n"
  "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-1\r\n"
  "Max-Forwards: 70\r\n"
  "From: <sips:alice@sotto.example>;tag=1\r\n"
  "To: <sips:alice@sotto.example>\r\n"
  "Call-ID: mclass-1\r\n"
  "CSeq: 2 REGISTER\r\n"
  "Contact: <sips:alice@192.0.2.1:5061>\r\n"
  "Authorization: Digest " CRED_A "\r\n"
  "Authorization:   Digest   " CRED_B_RAW "  \r\n"
  "Proxy-Authorization: Digest " CRED_P "\r\n"
  "Content-Length: 0\r\n"
  "\r\n";

static msg_t *
parse (msg_mclass_t const *mc, const char *text)
{
  msg_t *msg = msg_make (mc, 0, text, strlen (text));

  g_assert_nonnull (msg);
  return msg;
}

static int
count_items (const msg_auth_t *au)
{
  int n = 0;

  while (au->au_params && au->au_params[n])
    n++;
  return n;
}

static void
test_raw_credentials (void)
{
  msg_mclass_t *mc = sig_mclass_new ();
  msg_t *msg;
  sip_t *sip;
  const msg_auth_t *a, *b, *p;
  char buf[1024];

  g_assert_nonnull (mc);
  msg = parse (mc, REGISTER);
  sip = sip_object (msg);
  g_assert_null (sip->sip_error);

  a = sip->sip_authorization;
  g_assert_nonnull (a);
  g_assert_cmpstr (a->au_scheme, ==, "Digest");
  g_assert_cmpint (count_items (a), ==, 1);
  g_assert_cmpstr (a->au_params[0], ==, CRED_A);

  b = a->au_next;
  g_assert_nonnull (b);
  g_assert_null (b->au_next);
  g_assert_cmpstr (b->au_scheme, ==, "Digest");
  g_assert_cmpstr (b->au_params[0], ==, CRED_B_RAW);

  p = sip->sip_proxy_authorization;
  g_assert_nonnull (p);
  g_assert_cmpstr (p->au_scheme, ==, "Digest");
  g_assert_cmpstr (p->au_params[0], ==, CRED_P);

  /* Sofia's encoder writes the value back as it came (what a forwarded request carries). */
  g_assert_cmpint (msg_header_e (buf, sizeof buf, (msg_header_t *) a, 0), >, 0);
  g_assert_cmpstr (buf, ==, "Authorization: Digest " CRED_A "\r\n");
  g_assert_cmpint (msg_header_e (buf, sizeof buf, (msg_header_t *) p, 0), >, 0);
  g_assert_cmpstr (buf, ==, "Proxy-Authorization: Digest " CRED_P "\r\n");

  /* A copy (as nta makes when it forwards) keeps the text too. */
  {
    su_home_t home[1] = { SU_HOME_INIT (home) };
    msg_header_t *copy = msg_header_dup (home, (msg_header_t *) p);

    g_assert_nonnull (copy);
    g_assert_cmpint (msg_header_e (buf, sizeof buf, copy, 0), >, 0);
    g_assert_cmpstr (buf, ==, "Proxy-Authorization: Digest " CRED_P "\r\n");
    su_home_deinit (home);
  }

  /* The other headers parse as Sofia parses them. */
  g_assert_nonnull (sip->sip_contact);
  g_assert_cmpstr (sip->sip_contact->m_url->url_host, ==, "192.0.2.1");
  g_assert_cmpuint (sip->sip_cseq->cs_seq, ==, 2);

  msg_destroy (msg);
  free (mc);
}

/* Sofia's own class is left alone once one of ours is made: it still splits the credentials
 * into items. */
static void
test_stock_class_untouched (void)
{
  msg_mclass_t *mc = sig_mclass_new ();
  msg_t *msg;
  sip_t *sip;

  g_assert_nonnull (mc);
  msg = parse (sip_default_mclass (), REGISTER);
  sip = sip_object (msg);
  g_assert_nonnull (sip->sip_authorization);
  g_assert_cmpint (count_items (sip->sip_authorization), ==, 8);
  msg_destroy (msg);
  free (mc);
}

/* Runs the decoder on a copy of @value in @home, as Sofia's extractor would. */
static int
decode (su_home_t *home, msg_auth_t *au, const char *value)
{
  char *s = su_strdup (home, value);

  return (int) sig_mclass_auth_d (home, (msg_header_t *) au, s, (isize_t) strlen (s));
}

/* Values that are not "scheme LWS something" are refused by the decoder; in a message they
 * end among the erroneous headers and the request carries no credentials. */
static void
test_malformed (void)
{
  static const char *const bad[] = { "Digest", "Digest,x=1", "Di@gest x=1", ",Digest x=1",
                                     "\"Digest\" x=1", "" };
  static const char *const good[][3] = {
    { "Digest x", "Digest", "x" },
    { "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Basic", "YWxhZGRpbjpvcGVuc2VzYW1l" },
    { "Digest \r\n x=1", "Digest", "x=1" },
  };
  msg_mclass_t *mc = sig_mclass_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      su_home_t home[1] = { SU_HOME_INIT (home) };
      msg_auth_t au[1] = { { { { 0 } } } };

      g_assert_cmpint (decode (home, au, bad[i]), ==, -1);
      su_home_deinit (home);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      su_home_t home[1] = { SU_HOME_INIT (home) };
      msg_auth_t au[1] = { { { { 0 } } } };

      g_assert_cmpint (decode (home, au, good[i][0]), ==, 0);
      g_assert_cmpstr (au->au_scheme, ==, good[i][1]);
      g_assert_cmpstr (au->au_params[0], ==, good[i][2]);
      g_assert_null (au->au_params[1]);
      su_home_deinit (home);
    }

  {
    static const char text[] = "OPTIONS sips:sotto.example SIP/2.0\r\n"
                               "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-2\r\n"
                               "From: <sips:alice@sotto.example>;tag=1\r\n"
                               "To: <sips:sotto.example>\r\n"
                               "Call-ID: mclass-2\r\nCSeq: 1 OPTIONS\r\n"
                               "Proxy-Authorization: Digest\r\n"
                               "Content-Length: 0\r\n\r\n";
    msg_t *msg = parse (mc, text);
    sip_t *sip = sip_object (msg);

    g_assert_null (sip->sip_proxy_authorization);
    g_assert_nonnull (sip->sip_error);
    msg_destroy (msg);
  }
  free (mc);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signal/mclass/raw-credentials", test_raw_credentials);
  g_test_add_func ("/signal/mclass/stock-class-untouched", test_stock_class_untouched);
  g_test_add_func ("/signal/mclass/malformed", test_malformed);
  return g_test_run ();
}
