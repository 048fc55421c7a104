# client-agent/zrtp.mk: ZRTP (RFC 6189, bzrtp) for the SAS that authenticates a call's
# DTLS-SRTP keys; its ZID cache is SQLite. Its own library so it builds and tests on its own.
noinst_LIBRARIES += client-agent/libsotto-zrtp.a
client_agent_libsotto_zrtp_a_SOURCES = \
	client-agent/ca-zrtp.c client-agent/ca-zrtp.h
client_agent_libsotto_zrtp_a_CFLAGS = $(AM_CFLAGS) $(BZRTP_CFLAGS) $(SQLITE_CFLAGS)
CA_ZRTP_LIBS = client-agent/libsotto-zrtp.a $(SOTTO_COMMON_LIBS) $(BZRTP_LIBS) $(SQLITE_LIBS)
