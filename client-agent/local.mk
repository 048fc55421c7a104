# client-agent/: sotto-agentd and sottoctl (issue 4). So far only the library they will share
# (libsotto-agent.a, prefix ca_): the SDP of an end-to-end encrypted ICE call.
noinst_LIBRARIES += client-agent/libsotto-agent.a
client_agent_libsotto_agent_a_SOURCES = \
	client-agent/ca-sdp.c client-agent/ca-sdp.h client-agent/ca-sdp-priv.h \
	client-agent/ca-sdp-build.c client-agent/ca-sdp-candidate.c client-agent/ca-sdp-media.c
client_agent_libsotto_agent_a_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
CA_LIBS = client-agent/libsotto-agent.a $(SOTTO_COMMON_LIBS) $(SOFIA_LIBS)

EXTRA_DIST += fuzz/fuzz-ca-sdp.c
