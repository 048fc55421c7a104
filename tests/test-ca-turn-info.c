/* ca-turn-info: the X-Sotto-Turn value as signal/sig-turn.c prints it, and hostile values. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "ca-turn-info.h"

/* Exactly the shape of sig_turn_header() (without the "X-Sotto-Turn: " name), tls_443 on. */
#define SIG_TURN_VALUE                                                                        \
  "uris=\"turn:turn.example.org:3478?transport=udp turn:turn.example.org:3478?transport=tcp " \
  "turns:turn.example.org:5349?transport=tcp turns:turn.example.org:443?transport=tcp\", "    \
  "username=\"1767225600:Zm9vYmFy\", password=\"q1w2e3r4t5y6u7i8o9p0AbCdEfG=\", ttl=600"

static void
test_sig_turn_format (void)
{
  g_autoptr (CaTurnInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  static const struct
  {
    CaTurnUriKind kind;
    guint16 port;
  } want[] = {
    { CA_TURN_URI_UDP, 3478 },
    { CA_TURN_URI_TCP, 3478 },
    { CA_TURN_URI_TLS, 5349 },
    { CA_TURN_URI_TLS, 443 },
  };

  g_assert_true (ca_turn_info_parse (SIG_TURN_VALUE, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info->uris->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      CaTurnUri *u = &g_array_index (info->uris, CaTurnUri, i);
      g_assert_cmpint (u->kind, ==, want[i].kind);
      g_assert_cmpuint (u->port, ==, want[i].port);
      g_assert_cmpstr (u->host, ==, "turn.example.org");
    }
  g_assert_cmpstr (info->username, ==, "1767225600:Zm9vYmFy");
  g_assert_cmpstr (info->password, ==, "q1w2e3r4t5y6u7i8o9p0AbCdEfG=");
  g_assert_cmpuint (info->ttl_s, ==, 600);
}

static void
test_variants (void)
{
  g_autoptr (GError) error = NULL;
  CaTurnInfo *info = NULL;
  CaTurnUri *u;

  /* IPv6 in brackets, default ports (RFC 7065 §3.1), no transport, unknown params ignored,
   * spacing and case of names, no ttl. */
  g_assert_true (ca_turn_info_parse (" URIS = \"turn:[2001:db8::1] turns:10.0.0.1\" ,"
                                     "future=\"x\", username=u, password=\"p\"",
                                     &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info->uris->len, ==, 2);
  u = &g_array_index (info->uris, CaTurnUri, 0);
  g_assert_cmpstr (u->host, ==, "2001:db8::1");
  g_assert_cmpuint (u->port, ==, 3478);
  g_assert_cmpint (u->kind, ==, CA_TURN_URI_UDP);
  u = &g_array_index (info->uris, CaTurnUri, 1);
  g_assert_cmpstr (u->host, ==, "10.0.0.1");
  g_assert_cmpuint (u->port, ==, 5349);
  g_assert_cmpint (u->kind, ==, CA_TURN_URI_TLS);
  g_assert_cmpuint (info->ttl_s, ==, 0);
  g_clear_pointer (&info, ca_turn_info_free);

  g_assert_true (ca_turn_info_parse ("uris=\"turn:[::1]:65535?transport=tcp\", username=\"a\", "
                                     "password=\"b\"",
                                     &info, &error));
  g_assert_cmpuint (g_array_index (info->uris, CaTurnUri, 0).port, ==, 65535);
  g_assert_cmpint (g_array_index (info->uris, CaTurnUri, 0).kind, ==, CA_TURN_URI_TCP);
  ca_turn_info_free (info);
}

static void
test_hostile (void)
{
  static const char *const bad[] = {
    "",
    "uris=\"turn:h:3478\", username=\"u\"",                       /* no password */
    "uris=\"turn:h:3478\", password=\"p\"",                       /* no username */
    "username=\"u\", password=\"p\"",                             /* no uris */
    "uris=\"\", username=\"u\", password=\"p\"",                  /* no URI */
    "uris=\"turn:h:3478\", username=\"\", password=\"p\"",        /* empty username */
    "uris=\"turn:h:3478, username=\"u\", password=\"p\"",         /* quoting broken */
    "uris=\"turn:h:3478\", username=\"u\", password=\"p",         /* unterminated */
    "uris=\"turn:h:3478\", username=\"u\\\"x\", password=\"p\"",  /* escape */
    "uris=\"turn:h:3478\", username=\"u\x01\", password=\"p\"",   /* control */
    "uris=\"stun:h:3478\", username=\"u\", password=\"p\"",       /* scheme */
    "uris=\"http://h/\", username=\"u\", password=\"p\"",
    "uris=\"turn:h:0\", username=\"u\", password=\"p\"",          /* port 0 */
    "uris=\"turn:h:65536\", username=\"u\", password=\"p\"",      /* port too big */
    "uris=\"turn:h:99999999999999999999\", username=\"u\", password=\"p\"",
    "uris=\"turn:h:-1\", username=\"u\", password=\"p\"",
    "uris=\"turn:h:\", username=\"u\", password=\"p\"",
    "uris=\"turn:h:34x\", username=\"u\", password=\"p\"",
    "uris=\"turn::3478\", username=\"u\", password=\"p\"",        /* no host */
    "uris=\"turn:h_x!:3478\", username=\"u\", password=\"p\"",    /* host chars */
    "uris=\"turn:[::1\", username=\"u\", password=\"p\"",         /* unclosed bracket */
    "uris=\"turn:[host]:1\", username=\"u\", password=\"p\"",     /* bracketed non-v6 */
    "uris=\"turn:[::1]x\", username=\"u\", password=\"p\"",
    "uris=\"turn:h?transport=sctp\", username=\"u\", password=\"p\"",
    "uris=\"turns:h?transport=udp\", username=\"u\", password=\"p\"",
    "uris=\"turn:h?transport=udp&x=1\", username=\"u\", password=\"p\"",
    "uris=\"turn:a turn:b turn:c turn:d turn:e turn:f turn:g turn:h turn:i\", "
    "username=\"u\", password=\"p\"", /* 9 URIs */
    "uris=\"turn:h\", uris=\"turn:i\", username=\"u\", password=\"p\"", /* twice */
    "uris=\"turn:h\", username=\"u\", username=\"v\", password=\"p\"",
    "uris=\"turn:h\", username=\"u\", password=\"p\", ttl=-5",
    "uris=\"turn:h\", username=\"u\", password=\"p\", ttl=5s",
    "uris=\"turn:h\", username=\"u\", password=\"p\", ttl=99999999999",
    "uris=\"turn:h\" username=\"u\", password=\"p\"",             /* no comma */
    "uris=\"turn:h\", username=, password=\"p\"",                 /* empty value */
    "uris=\"turn:h\", username, password=\"p\"",                  /* no '=' */
    "=\"turn:h\", username=\"u\", password=\"p\"",                /* no name */
    "uris=\"turn:h\", username=\"u\", password=\"p\",,",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      CaTurnInfo *info = NULL;

      if (ca_turn_info_parse (bad[i], &info, &error))
        g_error ("accepted hostile value #%u: %s", i, bad[i]);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_null (info);
    }

  /* NULL and absurdly long input. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GString) big = g_string_new ("uris=\"turn:h\", username=\"u\", password=\"");
    CaTurnInfo *info = NULL;

    g_assert_false (ca_turn_info_parse (NULL, &info, &error));
    g_clear_error (&error);
    for (guint i = 0; i < 100000; i++)
      g_string_append_c (big, 'x');
    g_string_append_c (big, '"');
    g_assert_false (ca_turn_info_parse (big->str, &info, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_null (info);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/turn-info/sig-turn-format", test_sig_turn_format);
  g_test_add_func ("/agent/turn-info/variants", test_variants);
  g_test_add_func ("/agent/turn-info/hostile", test_hostile);
  return g_test_run ();
}
