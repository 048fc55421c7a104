# client-agent/rtcp.mk: the RTCP of a call (RFC 3550 §6): our SR/RR with SDES CNAME, the
# peer's reports read for the round-trip time and the loss it sees. Pure, over buffers; its
# own library so it builds, tests and fuzzes on its own. It also holds the RFC 3550 receive
# statistics (ca-rtp-stats.c), which the audio code (libsotto-media.a) uses too.
noinst_LIBRARIES += client-agent/libsotto-rtcp.a
client_agent_libsotto_rtcp_a_SOURCES = \
	client-agent/ca-rtcp.c client-agent/ca-rtcp.h \
	client-agent/ca-rtp-stats.c client-agent/ca-rtp-stats.h
client_agent_libsotto_rtcp_a_CFLAGS = $(AM_CFLAGS)
CA_RTCP_LIBS = client-agent/libsotto-rtcp.a $(SOTTO_COMMON_LIBS)

EXTRA_DIST += fuzz/fuzz-ca-rtcp.c
