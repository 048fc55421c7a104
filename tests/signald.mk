# tests/signald: integration tests that start a real sotto-signald.
noinst_LIBRARIES += tests/libsigharness.a
tests_libsigharness_a_SOURCES = tests/sig-harness.c tests/sig-harness.h tests/sig-portscan.c
tests_libsigharness_a_CFLAGS = $(AM_CFLAGS)

check_PROGRAMS += tests/test-signald
TESTS += tests/test-signald
tests_test_signald_SOURCES = tests/test-signald.c
tests_test_signald_CFLAGS = $(AM_CFLAGS)
tests_test_signald_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a $(SOTTO_COMMON_LIBS)

# RSS and descriptors of a real sotto-signald across 5,000 TLS connect/register/close cycles.
check_PROGRAMS += tests/test-signald-memory
TESTS += tests/test-signald-memory
tests_test_signald_memory_SOURCES = tests/test-signald-memory.c
tests_test_signald_memory_CFLAGS = $(AM_CFLAGS)
tests_test_signald_memory_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a $(SOTTO_COMMON_LIBS)

# RFC 5626 §4.4.1 CRLF keepalives answered over TLS (Sofia-SIP fix 9002 from tools/sofia-sip-fix).
check_PROGRAMS += tests/test-signald-keepalive
TESTS += tests/test-signald-keepalive
tests_test_signald_keepalive_SOURCES = tests/test-signald-keepalive.c
tests_test_signald_keepalive_CFLAGS = $(AM_CFLAGS)
tests_test_signald_keepalive_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a $(SOTTO_COMMON_LIBS)

check_PROGRAMS += tests/test-signald-turn
TESTS += tests/test-signald-turn
tests_test_signald_turn_SOURCES = tests/test-signald-turn.c
tests_test_signald_turn_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/turn-glue
tests_test_signald_turn_LDADD = tests/libsigharness.a tests/libtua.a tests/libtgpcoturn.a tests/libsottotest.a \
	$(TG_LIBS) $(SQLITE_LIBS)

check_PROGRAMS += tests/test-signald-shutdown
TESTS += tests/test-signald-shutdown
tests_test_signald_shutdown_SOURCES = tests/test-signald-shutdown.c
tests_test_signald_shutdown_CFLAGS = $(AM_CFLAGS)
tests_test_signald_shutdown_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a $(SOTTO_COMMON_LIBS)
