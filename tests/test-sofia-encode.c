/* test-sofia-encode: the status line, CSeq and Content-Length encoders and tport_hostport()
 * write exactly what snprintf() and inet_ntop() would.
 *
 * Guards debian/patches/9008-sotto-msg-encode.patch (tools/sofia-sip-fix), which replaces
 * those stdio calls, run for every response sotto-signald sends and every request it receives,
 * with hand-written formatting. It is a speed change only, so this test passes on Debian's
 * library as well: what it shows is that the patched one still writes the same bytes and keeps
 * snprintf()'s contract, on which Sofia's encoder relies to grow its buffer (the full length is
 * returned whatever the buffer size, at most size - 1 bytes and a NUL are written, a NULL string
 * prints "(null)" as glibc's does). Every buffer size from 0 to past the text is tried, and the
 * bytes after the written ones must stay untouched. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/tport.h>

#define CANARY 0x5a
#define BUF 256

/* Runs the header class's own printer (what the patch changed) with every buffer size and
 * compares it with @expected, the text snprintf() gives. */
static void
check_printer (const msg_header_t *h, const char *expected)
{
  gsize len = strlen (expected);

  g_assert_cmpuint (len + 4, <, BUF);
  for (gsize bsiz = 0; bsiz <= len + 3; bsiz++)
    {
      char got[BUF];
      char want[BUF];
      issize_t n;

      memset (got, CANARY, sizeof got);
      memset (want, CANARY, sizeof want);
      if (bsiz > 0)
        {
          gsize k = MIN (len, bsiz - 1);

          memcpy (want, expected, k);
          want[k] = '\0';
        }
      n = h->sh_class->hc_print (got, bsiz, (msg_header_t *) h, 0);
      g_assert_cmpint (n, ==, (issize_t) len);
      g_assert_cmpmem (got, sizeof got, want, sizeof want);
    }
}

static void
test_status (void)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  static const struct
  {
    int status;
    const char *phrase;
  } cases[] = {
    { 200, "OK" },
    { 100, "Trying" },
    { 401, "Unauthorized" },
    { 699, "" },
    { 503, "Too many failed attempts, a long reason phrase for the buffer edges" },
    { 404, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      sip_status_t *st = sip_status_create (home, cases[i].status, cases[i].phrase, NULL);
      char expected[BUF];

      g_assert_nonnull (st);
      g_snprintf (expected, sizeof expected, "%s %03u %s\r\n", st->st_version,
                  (unsigned) cases[i].status, st->st_phrase);
      check_printer ((msg_header_t *) st, expected);

      /* Three digits up to 999, which sip_status_create() refuses but a parsed response keeps. */
      st->st_status = 999;
      g_snprintf (expected, sizeof expected, "%s 999 %s\r\n", st->st_version, st->st_phrase);
      check_printer ((msg_header_t *) st, expected);

      /* A NULL phrase or version prints as glibc prints a NULL %s, and a status out of range
       * as 000, as before. */
      st->st_phrase = NULL;
      st->st_version = NULL;
      st->st_status = cases[i].status + 1000;
      check_printer ((msg_header_t *) st, "(null) 000 (null)\r\n");
    }
  su_home_deinit (home);
}

static void
test_cseq (void)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  static const guint32 seqs[] = { 0, 1, 9, 10, 99, 100, 65535, 1000000, 4294967295u };
  static const char *const methods[] = { "REGISTER", "INVITE", "FOO-BAR", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (seqs); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (methods); j++)
      {
        sip_cseq_t *cs = sip_cseq_create (home, seqs[i], sip_method_unknown,
                                          methods[j] ? methods[j] : "X");
        char expected[BUF];

        g_assert_nonnull (cs);
        if (methods[j] == NULL)
          cs->cs_method_name = NULL;
        g_snprintf (expected, sizeof expected, "%u %s", (unsigned) seqs[i],
                    methods[j] ? methods[j] : "(null)");
        check_printer ((msg_header_t *) cs, expected);
      }
  su_home_deinit (home);
}

static void
test_content_length (void)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  static const guint32 lens[] = { 0, 7, 10, 512, 65536, 4294967295u };

  for (gsize i = 0; i < G_N_ELEMENTS (lens); i++)
    {
      sip_content_length_t *l = sip_content_length_create (home, lens[i]);
      char expected[BUF];

      g_assert_nonnull (l);
      g_snprintf (expected, sizeof expected, "%lu", (unsigned long) lens[i]);
      check_printer ((msg_header_t *) l, expected);
    }
  su_home_deinit (home);
}

/* tport_hostport() against inet_ntop() for IPv4 (the patched path) and IPv6 (unchanged), with
 * and without port and brackets. */
static void
check_hostport (const su_sockaddr_t *su, int mode)
{
  char addr[INET6_ADDRSTRLEN];
  char expected[BUF];
  char got[BUF];
  unsigned port = ntohs (su->su_port);
  gboolean v6 = su->su_family == AF_INET6;
  const void *a = v6 ? (const void *) &su->su_sin6.sin6_addr : (const void *) &su->su_sin.sin_addr;

  g_assert_nonnull (inet_ntop (su->su_family, a, addr, sizeof addr));
  if (mode > 1 || v6)
    g_snprintf (expected, sizeof expected, "[%s]", addr);
  else
    g_strlcpy (expected, addr, sizeof expected);
  if (mode > 0 && port != 0)
    {
      char p[16];

      g_snprintf (p, sizeof p, ":%u", port);
      g_strlcat (expected, p, sizeof expected);
    }
  memset (got, CANARY, sizeof got);
  g_assert_true (tport_hostport (got, TPORT_HOSTPORTSIZE, su, mode) == got);
  g_assert_cmpstr (got, ==, expected);
}

static void
test_hostport (void)
{
  static const guint8 octets[] = { 0, 1, 9, 10, 99, 100, 127, 199, 200, 255 };
  static const guint16 ports[] = { 0, 1, 5061, 65535 };
  su_sockaddr_t su;

  for (gsize a = 0; a < G_N_ELEMENTS (octets); a++)
    for (gsize b = 0; b < G_N_ELEMENTS (octets); b++)
      for (gsize p = 0; p < G_N_ELEMENTS (ports); p++)
        for (int mode = 0; mode <= 2; mode++)
          {
            guint8 ip[4] = { octets[a], octets[b], octets[(a + b) % G_N_ELEMENTS (octets)],
                             octets[(a * 3 + b) % G_N_ELEMENTS (octets)] };

            memset (&su, 0, sizeof su);
            su.su_family = AF_INET;
            su.su_port = htons (ports[p]);
            memcpy (&su.su_sin.sin_addr, ip, 4);
            check_hostport (&su, mode);
          }

  memset (&su, 0, sizeof su);
  su.su_family = AF_INET6;
  su.su_port = htons (5061);
  g_assert_cmpint (inet_pton (AF_INET6, "2001:db8::1:0:0:1", &su.su_sin6.sin6_addr), ==, 1);
  for (int mode = 0; mode <= 2; mode++)
    check_hostport (&su, mode);

  /* A buffer too small for any IPv4 text still fails as inet_ntop() makes it fail. */
  {
    char tiny[6];

    memset (&su, 0, sizeof su);
    su.su_family = AF_INET;
    g_assert_cmpint (inet_pton (AF_INET, "192.168.100.200", &su.su_sin.sin_addr), ==, 1);
    g_assert_null (tport_hostport (tiny, sizeof tiny, &su, 0));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sofia/encode/status", test_status);
  g_test_add_func ("/sofia/encode/cseq", test_cseq);
  g_test_add_func ("/sofia/encode/content-length", test_content_length);
  g_test_add_func ("/sofia/encode/hostport", test_hostport);
  return g_test_run ();
}
