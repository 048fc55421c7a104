# tests/ca-agent.mk: sotto-agentd end to end (real signald, coturn, agents) through agent-harness.
noinst_LIBRARIES += tests/libagentharness.a
tests_libagentharness_a_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/client-agent
tests_libagentharness_a_SOURCES = tests/agent-harness.c tests/agent-harness.h \
	tests/tamper-proxy.c tests/tamper-proxy.h

check_PROGRAMS += tests/test-ca-agent
TESTS += tests/test-ca-agent
tests_test_ca_agent_SOURCES = tests/test-ca-agent.c
tests_test_ca_agent_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_agent_LDADD = tests/libagentharness.a tests/libsigharness.a tests/libtua.a \
	tests/libtgpcoturn.a tests/libsottotest.a $(CA_MEDIA_LIBS) $(TG_LIBS) $(OPENSSL_LIBS)

check_PROGRAMS += tests/test-ca-agent-wire
TESTS += tests/test-ca-agent-wire
tests_test_ca_agent_wire_SOURCES = tests/test-ca-agent-wire.c
tests_test_ca_agent_wire_CFLAGS = $(AM_CFLAGS) $(GST_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_agent_wire_LDADD = tests/libagentharness.a tests/libsigharness.a tests/libtua.a \
	tests/libsottotest.a $(CA_MEDIA_LIBS) $(CA_DTLS_LIBS) $(OPENSSL_LIBS)

AGENT_TEST_DEPS = client-agent/sotto-agentd$(EXEEXT) signal/sotto-signald$(EXEEXT) \
	signal/sotto-admin$(EXEEXT) certs/sotto-certs$(EXEEXT)
EXTRA_tests_test_ca_agent_DEPENDENCIES = $(AGENT_TEST_DEPS)
EXTRA_tests_test_ca_agent_wire_DEPENDENCIES = $(AGENT_TEST_DEPS)

check_PROGRAMS += tests/test-ca-agent-netchange
TESTS += tests/test-ca-agent-netchange
tests_test_ca_agent_netchange_SOURCES = tests/test-ca-agent-netchange.c
tests_test_ca_agent_netchange_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_ca_agent_netchange_LDADD = tests/libagentharness.a tests/libsigharness.a tests/libtua.a \
	tests/libsottotest.a $(CA_MEDIA_LIBS) $(OPENSSL_LIBS)
EXTRA_tests_test_ca_agent_netchange_DEPENDENCIES = $(AGENT_TEST_DEPS)
