# tests/ca-zrtp: ZRTP endpoints back to back in one process: same SAS, aux secrets matched or
# not, a ZRTP man in the middle, a Hello that does not match its a=zrtp-hash, the verified flag
# across calls and caches, hostile packets.
check_PROGRAMS += tests/test-ca-zrtp
TESTS += tests/test-ca-zrtp
tests_test_ca_zrtp_SOURCES = tests/test-ca-zrtp.c
tests_test_ca_zrtp_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
tests_test_ca_zrtp_LDADD = $(CA_ZRTP_LIBS) tests/libsottotest.a
