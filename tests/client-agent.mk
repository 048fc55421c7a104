# tests/client-agent: the agent's pure parts (SDP and ICE candidates).
check_PROGRAMS += tests/test-ca-sdp tests/test-ca-sdp-candidate
TESTS += tests/test-ca-sdp tests/test-ca-sdp-candidate

tests_test_ca_sdp_SOURCES = tests/test-ca-sdp.c
tests_test_ca_sdp_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_sdp_LDADD = $(CA_LIBS)

tests_test_ca_sdp_candidate_SOURCES = tests/test-ca-sdp-candidate.c
tests_test_ca_sdp_candidate_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_sdp_candidate_LDADD = $(CA_LIBS)
