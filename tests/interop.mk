# tests/interop.mk: third-party softphones (linphonec, baresip) against a real sotto-signald and
# a real sotto-agentd. Each case skips, saying why, when its client is not installed.
check_PROGRAMS += tests/test-interop
TESTS += tests/test-interop
tests_test_interop_SOURCES = tests/test-interop.c tests/interop-client.c tests/interop-client.h
tests_test_interop_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/client-agent
tests_test_interop_LDADD = tests/libagentharness.a tests/libsigharness.a tests/libtua.a \
	tests/libtgpcoturn.a tests/libsottotest.a $(CA_MEDIA_LIBS) $(TG_LIBS) $(OPENSSL_LIBS)
EXTRA_tests_test_interop_DEPENDENCIES = client-agent/sotto-agentd$(EXEEXT) \
	signal/sotto-signald$(EXEEXT) signal/sotto-admin$(EXEEXT) certs/sotto-certs$(EXEEXT)
