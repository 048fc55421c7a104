# client-agent/ice.mk: ICE for sotto-agentd (RFC 8445 with RFC 7675 consent freshness) on one
# libnice agent per call. Its own library so it builds and tests on its own; it uses
# CaSdpCandidate from libsotto-agent.a.
noinst_LIBRARIES += client-agent/libsotto-ice.a
client_agent_libsotto_ice_a_SOURCES = \
	client-agent/ca-ice.c client-agent/ca-ice.h client-agent/ca-ice-priv.h \
	client-agent/ca-ice-candidate.c
client_agent_libsotto_ice_a_CFLAGS = $(AM_CFLAGS) $(NICE_CFLAGS) $(SOFIA_CFLAGS)
CA_ICE_LIBS = client-agent/libsotto-ice.a client-agent/libsotto-agent.a $(SOTTO_COMMON_LIBS) \
	$(NICE_LIBS) $(SOFIA_LIBS)
