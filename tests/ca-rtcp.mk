# tests/ca-rtcp.mk: two RTCP states talking over a simulated link (round-trip time, loss),
# SR/RR choice, SDES CNAME, a byte-exact SR, hostile compound packets.
check_PROGRAMS += tests/test-ca-rtcp
TESTS += tests/test-ca-rtcp
tests_test_ca_rtcp_SOURCES = tests/test-ca-rtcp.c
tests_test_ca_rtcp_LDADD = $(CA_RTCP_LIBS)
