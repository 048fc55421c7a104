/* ca-sdp candidates (RFC 8839 §5.1, RFC 6544): valid, ignored and invalid lines; round trips. */
#include "config.h"

#include <string.h>

#include "ca-sdp.h"

static void
test_host_ipv4 (void)
{
  g_autoptr (GError) error = NULL;
  CaSdpCandidate c;

  g_assert_true (ca_sdp_candidate_parse ("a=candidate:1 1 UDP 2130706431 192.0.2.10 7078 typ host"
                                         "\r\n", &c, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c.foundation, ==, "1");
  g_assert_cmpuint (c.component, ==, 1);
  g_assert_cmpint (c.transport, ==, CA_SDP_TRANSPORT_UDP);
  g_assert_cmpint (c.tcptype, ==, CA_SDP_TCPTYPE_NONE);
  g_assert_cmpuint (c.priority, ==, 2130706431);
  g_assert_cmpstr (c.address, ==, "192.0.2.10");
  g_assert_cmpuint (c.port, ==, 7078);
  g_assert_cmpint (c.type, ==, CA_SDP_CANDIDATE_HOST);
  g_assert_false (c.has_related);
}

static void
test_ipv6_normalised (void)
{
  CaSdpCandidate c;

  g_assert_true (ca_sdp_candidate_parse ("candidate:a+/Z 2 udp 1 2001:DB8:0:0::1 65535 typ host",
                                         &c, NULL));
  g_assert_cmpstr (c.address, ==, "2001:db8::1");
  g_assert_cmpstr (c.foundation, ==, "a+/Z");
  g_assert_cmpuint (c.component, ==, 2);
  g_assert_cmpuint (c.port, ==, 65535);
  g_assert_true (ca_sdp_candidate_parse ("3 1 udp 5 ::ffff:192.0.2.1 9 typ relay raddr "
                                         "2001:db8::2 rport 4000", &c, NULL));
  g_assert_cmpint (c.type, ==, CA_SDP_CANDIDATE_RELAY);
  g_assert_true (c.has_related);
  g_assert_cmpstr (c.raddr, ==, "2001:db8::2");
  g_assert_cmpuint (c.rport, ==, 4000);
}

static void
test_srflx_extensions (void)
{
  CaSdpCandidate c;

  /* browser style: generation, network-id, ufrag after the standard fields */
  g_assert_true (ca_sdp_candidate_parse (
      "842163049 1 udp 1677729535 203.0.113.7 51234 typ srflx raddr 10.0.0.5 rport 51234 "
      "generation 0 ufrag EsAw network-id 1 network-cost 10", &c, NULL));
  g_assert_cmpint (c.type, ==, CA_SDP_CANDIDATE_SRFLX);
  g_assert_cmpstr (c.raddr, ==, "10.0.0.5");
  g_assert_cmpuint (c.rport, ==, 51234);
  g_assert_true (ca_sdp_candidate_parse ("7 1 udp 1 198.51.100.1 1 typ prflx", &c, NULL));
  g_assert_cmpint (c.type, ==, CA_SDP_CANDIDATE_PRFLX);
}

static void
test_tcptype (void)
{
  CaSdpCandidate c;

  g_assert_true (ca_sdp_candidate_parse ("2 1 tcp 1015022079 192.0.2.10 9 typ host tcptype active",
                                         &c, NULL));
  g_assert_cmpint (c.transport, ==, CA_SDP_TRANSPORT_TCP);
  g_assert_cmpint (c.tcptype, ==, CA_SDP_TCPTYPE_ACTIVE);
  g_assert_true (ca_sdp_candidate_parse ("2 1 TCP 1015022079 192.0.2.10 0 typ host tcptype active",
                                         &c, NULL));
  g_assert_cmpuint (c.port, ==, 0);
  g_assert_true (ca_sdp_candidate_parse ("3 1 tcp 1015022078 192.0.2.10 40000 typ host "
                                         "tcptype passive", &c, NULL));
  g_assert_cmpint (c.tcptype, ==, CA_SDP_TCPTYPE_PASSIVE);
  g_assert_true (ca_sdp_candidate_parse ("4 1 tcp 1015022077 192.0.2.10 40001 typ host tcptype so",
                                         &c, NULL));
  g_assert_cmpint (c.tcptype, ==, CA_SDP_TCPTYPE_SO);
}

typedef struct {
  const char *line;
  int code; /* CaSdpError */
} Case;

static const Case bad_cases[] = {
  /* well formed, not for us: ignored */
  { "1 1 sctp 2130706431 192.0.2.1 5000 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 ssltcp 2130706431 192.0.2.1 443 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 udp 2130706431 192.0.2.1 5000 typ wormhole", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 tcp 2130706431 192.0.2.1 5000 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 tcp 2130706431 192.0.2.1 5000 typ host tcptype sideways", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 udp 4294967295 192.0.2.1 5000 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 udp 2147483648 192.0.2.1 5000 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 udp 9999999999 192.0.2.1 5000 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 udp 0 192.0.2.1 5000 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 3 udp 1 192.0.2.1 5000 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 udp 1 3c1f7d2e-0d43-4b1a-9c9e-7a1d2b3c4d5e.local 5000 typ host",
    CA_SDP_ERROR_CANDIDATE_IGNORED },
  { "1 1 udp 1 192.0.2.1 0 typ host", CA_SDP_ERROR_CANDIDATE_IGNORED },
  /* broken grammar: invalid */
  { "", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 5000", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 5000 type host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 99999999999 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp -1 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 65536 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 -1 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 123456 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 0 udp 1 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1000 udp 1 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "123456789012345678901234567890123 1 udp 1 192.0.2.1 5000 typ host",
    CA_SDP_ERROR_BAD_CANDIDATE },
  { "f-1 1 udp 1 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1%eth0 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 u/dp 1 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1  1 udp 1 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1\t1 udp 1 192.0.2.1 5000 typ host", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 5000 typ srflx raddr 10.0.0.1", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 5000 typ srflx raddr 10.0.0.1 rport 70000", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 5000 typ srflx rport 1", CA_SDP_ERROR_BAD_CANDIDATE },
  { "1 1 udp 1 192.0.2.1 5000 typ srflx raddr bad/addr rport 1", CA_SDP_ERROR_BAD_CANDIDATE },
};

static void
test_bad (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autoptr (GError) error = NULL;
      CaSdpCandidate c;

      memset (&c, 0x5a, sizeof c);
      g_test_message ("case %u: %s", i, bad_cases[i].line);
      g_assert_false (ca_sdp_candidate_parse (bad_cases[i].line, &c, &error));
      g_assert_error (error, CA_SDP_ERROR, bad_cases[i].code);
      g_assert_cmpuint (c.port, ==, 0x5a5a); /* untouched on failure */
    }
}

static void
test_long_line (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) s = g_string_new ("1 1 udp 1 192.0.2.1 5000 typ host");
  CaSdpCandidate c;

  for (guint i = 0; i < 200; i++)
    g_string_append (s, " x y");
  g_assert_false (ca_sdp_candidate_parse (s->str, &c, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_CANDIDATE);
}

static const char *const round_trips[] = {
  "1 1 udp 2130706431 192.0.2.10 7078 typ host",
  "abc/+9 2 udp 16777215 2001:db8::5 3478 typ relay raddr 203.0.113.9 rport 60000",
  "5 1 udp 1694498815 203.0.113.9 60000 typ srflx raddr 10.0.0.2 rport 7078",
  "6 1 tcp 1015022079 10.0.0.2 9 typ host tcptype active",
  "7 1 tcp 1015022078 10.0.0.2 50000 typ host tcptype passive",
  "8 1 udp 1862270975 198.51.100.4 1 typ prflx",
};

static void
test_round_trip (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (round_trips); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = NULL;
      CaSdpCandidate a, b;

      g_assert_true (ca_sdp_candidate_parse (round_trips[i], &a, &error));
      g_assert_no_error (error);
      text = ca_sdp_candidate_to_string (&a);
      g_assert_cmpstr (text, ==, round_trips[i]);
      g_assert_true (ca_sdp_candidate_parse (text, &b, &error));
      g_assert_cmpmem (&a, sizeof a, &b, sizeof b);
    }
}

static void
test_names (void)
{
  g_assert_cmpstr (ca_sdp_transport_to_string (CA_SDP_TRANSPORT_TCP), ==, "tcp");
  g_assert_cmpstr (ca_sdp_tcptype_to_string (CA_SDP_TCPTYPE_SO), ==, "so");
  g_assert_cmpstr (ca_sdp_candidate_type_to_string (CA_SDP_CANDIDATE_SRFLX), ==, "srflx");
  g_assert_cmpstr (ca_sdp_candidate_type_to_string (CA_SDP_CANDIDATE_LAST), ==, "?");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client-agent/sdp/candidate/host-ipv4", test_host_ipv4);
  g_test_add_func ("/client-agent/sdp/candidate/ipv6", test_ipv6_normalised);
  g_test_add_func ("/client-agent/sdp/candidate/srflx-extensions", test_srflx_extensions);
  g_test_add_func ("/client-agent/sdp/candidate/tcptype", test_tcptype);
  g_test_add_func ("/client-agent/sdp/candidate/ignored-and-invalid", test_bad);
  g_test_add_func ("/client-agent/sdp/candidate/long-line", test_long_line);
  g_test_add_func ("/client-agent/sdp/candidate/round-trip", test_round_trip);
  g_test_add_func ("/client-agent/sdp/candidate/names", test_names);
  return g_test_run ();
}
