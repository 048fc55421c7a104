# tests/ca-ice: two libnice agents in one process over loopback: host/host, relay/relay through
# a real coturn (UDP and TCP to the server), force-relay hiding, bad remotes, consent loss.
check_PROGRAMS += tests/test-ca-ice
TESTS += tests/test-ca-ice
tests_test_ca_ice_SOURCES = tests/test-ca-ice.c
tests_test_ca_ice_CFLAGS = $(AM_CFLAGS) $(NICE_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_ice_LDADD = tests/libtgpcoturn.a tests/libsottotest.a $(CA_ICE_LIBS) $(TG_LIBS)
EXTRA_tests_test_ca_ice_DEPENDENCIES = certs/sotto-certs$(EXEEXT)
