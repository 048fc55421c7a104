# tests/client-agent-dtls: two DTLS-SRTP endpoints back to back in one process, SRTP both ways;
# and one against `openssl s_client` over loopback UDP, keys checked by an independent split.
check_PROGRAMS += tests/test-ca-dtls tests/test-ca-dtls-openssl
TESTS += tests/test-ca-dtls tests/test-ca-dtls-openssl
tests_test_ca_dtls_SOURCES = tests/test-ca-dtls.c
tests_test_ca_dtls_LDADD = $(CA_DTLS_LIBS)

tests_test_ca_dtls_openssl_SOURCES = tests/test-ca-dtls-openssl.c
tests_test_ca_dtls_openssl_CFLAGS = $(AM_CFLAGS) $(SRTP_CFLAGS)
tests_test_ca_dtls_openssl_LDADD = $(CA_DTLS_LIBS)
