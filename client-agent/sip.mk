# client-agent/sip.mk: the agent's SIP side (Sofia-SIP nua over TLS: registration, calls) and
# the pure X-Sotto-Turn parser. Its own library so it builds and tests on its own.
noinst_LIBRARIES += client-agent/libsotto-sip.a
client_agent_libsotto_sip_a_SOURCES = \
	client-agent/ca-sip.c client-agent/ca-sip.h client-agent/ca-sip-priv.h \
	client-agent/ca-sip-reg.c client-agent/ca-sip-call.c client-agent/ca-sip-listen.c \
	client-agent/ca-sip-stale.c \
	client-agent/ca-turn-info.c client-agent/ca-turn-info.h
client_agent_libsotto_sip_a_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
CA_SIP_LIBS = client-agent/libsotto-sip.a $(SOTTO_COMMON_LIBS) $(SOFIA_LIBS) -ldl
