# tests/ca-sip: the X-Sotto-Turn parser (pure), and the agent's SIP side against a real
# sotto-signald (registration, TLS verification, calls, reconnect).
check_PROGRAMS += tests/test-ca-turn-info tests/test-ca-sip
TESTS += tests/test-ca-turn-info tests/test-ca-sip
tests_test_ca_turn_info_SOURCES = tests/test-ca-turn-info.c
tests_test_ca_turn_info_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_turn_info_LDADD = $(CA_SIP_LIBS)

tests_test_ca_sip_SOURCES = tests/test-ca-sip.c
tests_test_ca_sip_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_sip_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a $(CA_SIP_LIBS)
