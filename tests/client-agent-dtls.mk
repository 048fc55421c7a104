# tests/client-agent-dtls: two DTLS-SRTP endpoints back to back in one process, SRTP both ways.
check_PROGRAMS += tests/test-ca-dtls
TESTS += tests/test-ca-dtls
tests_test_ca_dtls_SOURCES = tests/test-ca-dtls.c
tests_test_ca_dtls_LDADD = $(CA_DTLS_LIBS)
