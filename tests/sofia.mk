# tests/sofia: Sofia-SIP regression tests. test-sofia-tls-leak fails on Debian's unfixed
# libsofia-sip-ua0 (every closed TLS connection leaks its SSL object); tools/sofia-sip-fix
# installs the fixed build.
check_PROGRAMS += tests/test-sofia-tls-leak
TESTS += tests/test-sofia-tls-leak
tests_test_sofia_tls_leak_SOURCES = tests/test-sofia-tls-leak.c
tests_test_sofia_tls_leak_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_tls_leak_LDADD = $(SOFIA_LIBS) $(SOTTO_COMMON_LIBS)
