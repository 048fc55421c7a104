# tests/certs: runs the built certs/sotto-certs and checks its files with OpenSSL,
# including real TLS handshakes on loopback.
check_PROGRAMS += tests/test-certs
TESTS += tests/test-certs
tests_test_certs_SOURCES = tests/test-certs.c
tests_test_certs_LDADD = tests/libsottotest.a $(SOTTO_COMMON_LIBS)
# The tests run the program, so building them builds it.
EXTRA_tests_test_certs_DEPENDENCIES = certs/sotto-certs$(EXEEXT)
