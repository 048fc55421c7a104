# tests/ua: the test SIP user agent (raw OpenSSL TLS, independent of Sofia-SIP) that the
# integration tests link, and its own unit and loopback tests.
noinst_LIBRARIES += tests/libtua.a
tests_libtua_a_SOURCES = \
	tests/tua.c tests/tua.h tests/tua-priv.h \
	tests/tua-call.c \
	tests/tua-conn.c tests/tua-conn.h \
	tests/tua-digest.c tests/tua-digest.h \
	tests/tua-loopback.c tests/tua-loopback.h \
	tests/tua-msg.c tests/tua-msg.h
tests_libtua_a_CFLAGS = $(AM_CFLAGS)

check_PROGRAMS += tests/test-tua
TESTS += tests/test-tua
tests_test_tua_SOURCES = tests/test-tua.c
tests_test_tua_CFLAGS = $(AM_CFLAGS)
tests_test_tua_LDADD = tests/libtua.a $(SOTTO_COMMON_LIBS)

check_PROGRAMS += tests/test-tua-loopback
TESTS += tests/test-tua-loopback
tests_test_tua_loopback_SOURCES = tests/test-tua-loopback.c
tests_test_tua_loopback_CFLAGS = $(AM_CFLAGS)
tests_test_tua_loopback_LDADD = tests/libtua.a $(SOTTO_COMMON_LIBS)
