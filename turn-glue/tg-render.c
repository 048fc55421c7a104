/* tg-render: coturn's configuration (see tg-render.h). Option names are those of coturn
 * 4.6.1's usage text; the coturn test starts coturn with this output and fails on any
 * "Bad configuration format" line, coturn's message for an option it does not know. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include "tg-render.h"

#include <string.h>

#include "sotto-tls.h"

/* SSRF (CVE-2020-26262 class): a relay is a proxy inside our network, so every range that is
 * not the public internet is denied. coturn 4.6.1 takes ranges, not prefixes, and checks an
 * IPv6 address against a range byte by byte (each byte between the bounds' bytes), which is
 * right only for prefix-aligned ranges: keep every IPv6 range a whole prefix (or a per-byte
 * box, as for ::/96 below). */
const char *const tg_render_denied_ranges[] = {
  "0.0.0.0-0.255.255.255",             /* "this network" */
  "10.0.0.0-10.255.255.255",           /* RFC 1918 */
  "100.64.0.0-100.127.255.255",        /* RFC 6598 shared address space (CGN) */
  "127.0.0.0-127.255.255.255",         /* loopback */
  "169.254.0.0-169.254.255.255",       /* link-local, cloud metadata services */
  "172.16.0.0-172.31.255.255",         /* RFC 1918 */
  "192.0.0.0-192.0.0.255",             /* IETF protocol assignments */
  "192.0.2.0-192.0.2.255",             /* TEST-NET-1 */
  "192.88.99.0-192.88.99.255",         /* 6to4 relay anycast */
  "192.168.0.0-192.168.255.255",       /* RFC 1918 */
  "198.18.0.0-198.19.255.255",         /* benchmarking */
  "198.51.100.0-198.51.100.255",       /* TEST-NET-2 */
  "203.0.113.0-203.0.113.255",         /* TEST-NET-3 */
  "224.0.0.0-239.255.255.255",         /* multicast */
  "240.0.0.0-255.255.255.255",         /* reserved and broadcast */
  /* ::/96 (loopback, IPv4-compatible) in four pieces: coturn 4.6.1 reads a range starting at
   * :: (or 0.0.0.0) as "no lower bound", which would match every IPv4 peer too; and it
   * compares IPv6 addresses byte by byte, so each piece is a per-byte box. */
  "::1-::ff",
  "::100-::ffff",
  "::1:0-::ff:ffff",
  "::100:0-::ffff:ffff",
  "::ffff:0:0-::ffff:ffff:ffff",       /* IPv4-mapped: would reach any IPv4 range above */
  "64:ff9b::-64:ff9b::ffff:ffff",      /* NAT64 well-known prefix: embeds IPv4 */
  "64:ff9b:1::-64:ff9b:1:ffff:ffff:ffff:ffff:ffff", /* local-use NAT64 (RFC 8215) */
  "100::-100::ffff:ffff:ffff:ffff",    /* discard-only */
  "2001::-2001:0:ffff:ffff:ffff:ffff:ffff:ffff", /* Teredo: embeds IPv4 */
  "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", /* documentation */
  "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",    /* 6to4: embeds IPv4 */
  "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",    /* unique local */
  "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",    /* link-local */
  "fec0::-feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",    /* site-local (deprecated) */
  "ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",    /* multicast */
  NULL,
};

/* lan-deployment: what a LAN-only relay may reach. An allowed-peer-ip wins over every
 * denied-peer-ip in coturn, but not over its loopback and multicast checks. */
static const char *const lan_ranges[] = {
  "10.0.0.0-10.255.255.255",
  "172.16.0.0-172.31.255.255",
  "192.168.0.0-192.168.255.255",
  "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  NULL,
};

char *
tg_render_conf_path (const TgConfig *config)
{
  return g_build_filename (config->state_dir, "turnserver.conf", NULL);
}

char *
tg_render_userdb_path (const TgConfig *config)
{
  return g_build_filename (config->state_dir, "turn-userdb.sqlite", NULL);
}

char *
tg_render_pid_path (const TgConfig *config)
{
  return g_build_filename (config->state_dir, "turnserver.pid", NULL);
}

/* coturn checks loopback peers before its allow list: 127.x and ::1 need
 * allow-loopback-peers even when allowed-peer-ip names them. */
static gboolean
range_touches_loopback (const char *range)
{
  return g_str_has_prefix (range, "127.") || g_str_equal (range, "::1")
         || g_str_has_prefix (range, "::1-") || g_str_has_prefix (range, "::-");
}

char *
tg_render_turnserver_conf (const TgConfig *c)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *userdb = tg_render_userdb_path (c);
  g_autofree char *pid = tg_render_pid_path (c);
  gboolean loopback = FALSE;

#define OPT(...) g_string_append_printf (out, __VA_ARGS__)
  OPT ("# Written by sotto-turn render; edits are lost at the next render.\n");
  OPT ("# The shared secrets live in the user database below (turn_secret table).\n\n");

  OPT ("realm=%s\nserver-name=%s\n", c->realm, c->server_name);
  for (gsize i = 0; c->listen[i] != NULL; i++)
    OPT ("listening-ip=%s\n", c->listen[i]);
  for (gsize i = 0; c->relay[i] != NULL; i++)
    OPT ("relay-ip=%s\n", c->relay[i]);
  if (c->external_ip != NULL)
    OPT ("external-ip=%s\n", c->external_ip);
  OPT ("listening-port=%u\ntls-listening-port=%u\n", c->port, c->tls_443 ? 443 : c->tls_port);
  OPT ("min-port=%u\nmax-port=%u\n", c->min_port, c->max_port);

  OPT ("\n# TURN REST API credentials (tg-cred), secrets read per request from the database\n");
  OPT ("use-auth-secret\nuserdb=%s\n", userdb);
  /* The database is ours: peer lists and realms come from this file only. */
  OPT ("no-dynamic-ip-list\nno-dynamic-realms\n");

  OPT ("\n# TLS 1.2 and later (coturn 4.6.1 negotiates 1.2), modern ciphers, no DTLS listener\n");
  OPT ("cert=%s\npkey=%s\n", c->cert_file, c->key_file);
  OPT ("cipher-list=%s\n", SOTTO_TLS_CIPHERS_TLS12);
  OPT ("no-tlsv1\nno-tlsv1_1\nno-dtls\n");

  OPT ("\n# Hardening\n");
  OPT ("fingerprint\nno-cli\nno-software-attribute\nno-rfc5780\n"
       "no-stun-backward-compatibility\nno-multicast-peers\nno-tcp-relay\n");
  OPT ("stale-nonce=600\nuser-quota=%u\ntotal-quota=%u\n", c->user_quota, c->total_quota);
  if (c->max_bps > 0)
    OPT ("max-bps=%u\n", c->max_bps);

  OPT ("\n# Peers a relay must never reach\n");
  for (gsize i = 0; tg_render_denied_ranges[i] != NULL; i++)
    OPT ("denied-peer-ip=%s\n", tg_render_denied_ranges[i]);
  if (c->lan_deployment)
    {
      OPT ("\n# lan-deployment = true: private (RFC 1918, ULA) peers are allowed\n");
      for (gsize i = 0; lan_ranges[i] != NULL; i++)
        OPT ("allowed-peer-ip=%s\n", lan_ranges[i]);
    }
  if (c->allow_peer[0] != NULL)
    {
      OPT ("\n# allow-peer: FOR TESTS ONLY, never in production\n");
      for (gsize i = 0; c->allow_peer[i] != NULL; i++)
        {
          OPT ("allowed-peer-ip=%s\n", c->allow_peer[i]);
          loopback |= range_touches_loopback (c->allow_peer[i]);
        }
      if (loopback)
        OPT ("allow-loopback-peers\n");
    }

  OPT ("\n# Logs: to stdout for the supervisor (sotto-turn run); peers are logged by address,\n"
       "# users only by the opaque id of their credential\n");
  OPT ("log-file=stdout\nsimple-log\npidfile=%s\n", pid);
#undef OPT
  return g_string_free (g_steal_pointer (&out), FALSE);
}
