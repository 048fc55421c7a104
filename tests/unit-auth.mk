# tests/unit-auth: sig-digest, sig-nonce, sig-throttle, sig-mclass.
check_PROGRAMS += tests/test-digest tests/test-nonce tests/test-throttle
TESTS += tests/test-digest tests/test-nonce tests/test-throttle

tests_test_digest_SOURCES = tests/test-digest.c
tests_test_digest_CFLAGS = $(AM_CFLAGS)
tests_test_digest_LDADD = $(SIG_CORE_LIBS)

tests_test_nonce_SOURCES = tests/test-nonce.c
tests_test_nonce_CFLAGS = $(AM_CFLAGS)
tests_test_nonce_LDADD = $(SIG_CORE_LIBS)

tests_test_throttle_SOURCES = tests/test-throttle.c
tests_test_throttle_CFLAGS = $(AM_CFLAGS)
tests_test_throttle_LDADD = $(SIG_CORE_LIBS)

# sig-mclass: the message class sotto-signald parses requests with.
check_PROGRAMS += tests/test-sig-mclass
TESTS += tests/test-sig-mclass
tests_test_sig_mclass_SOURCES = tests/test-sig-mclass.c
tests_test_sig_mclass_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sig_mclass_LDADD = $(SIG_CORE_LIBS)
