# client-agent/dtls.mk: DTLS-SRTP for sotto-agentd (RFC 5763/5764; OpenSSL + libsrtp2) and
# the RFC 7983 first-byte demux. Its own library so it builds and tests on its own.
noinst_LIBRARIES += client-agent/libsotto-dtls.a
client_agent_libsotto_dtls_a_SOURCES = \
	client-agent/ca-demux.c client-agent/ca-demux.h \
	client-agent/ca-dtls-cert.c client-agent/ca-dtls-cert.h \
	client-agent/ca-dtls.c client-agent/ca-dtls.h \
	client-agent/ca-srtp.c client-agent/ca-srtp.h
client_agent_libsotto_dtls_a_CFLAGS = $(AM_CFLAGS) $(SRTP_CFLAGS)
CA_DTLS_LIBS = client-agent/libsotto-dtls.a $(SOTTO_COMMON_LIBS) $(SRTP_LIBS)
