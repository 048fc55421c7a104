# client-agent/agent.mk: the call session (ICE + DTLS-SRTP + audio) and sotto-agentd itself.
noinst_LIBRARIES += client-agent/libsotto-session.a
client_agent_libsotto_session_a_SOURCES = \
	client-agent/ca-session.c client-agent/ca-session.h client-agent/ca-session-priv.h \
	client-agent/ca-session-restart.c
client_agent_libsotto_session_a_CFLAGS = $(AM_CFLAGS) $(SRTP_CFLAGS) $(NICE_CFLAGS) $(GST_CFLAGS) \
	$(BZRTP_CFLAGS)
CA_SESSION_LIBS = client-agent/libsotto-session.a $(CA_ICE_LIBS) $(CA_MEDIA_LIBS) $(CA_DTLS_LIBS) \
	$(CA_ZRTP_LIBS)

bin_PROGRAMS += client-agent/sotto-agentd
client_agent_sotto_agentd_SOURCES = \
	client-agent/ca-agent.c client-agent/ca-agent.h client-agent/ca-agentd-main.c \
	common/sotto-tls-context.c
client_agent_sotto_agentd_CFLAGS = $(AM_CFLAGS) $(SRTP_CFLAGS) $(NICE_CFLAGS) $(GST_CFLAGS) \
	$(BZRTP_CFLAGS)
# libnice first, and kept there even under --as-needed: Sofia-SIP exports a
# stun_message_length of its own that would otherwise shadow libnice's (check_stun_symbol in
# ca-ice.c says so at run time).
client_agent_sotto_agentd_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--push-state,--no-as-needed $(NICE_LIBS) -Wl,--pop-state
client_agent_sotto_agentd_LDADD = $(CA_CONTROL_LIBS) $(CA_SIP_LIBS) \
	$(CA_SESSION_LIBS) -ldl

noinst_PROGRAMS += client-agent/sotto-wavcmp
client_agent_sotto_wavcmp_SOURCES = client-agent/sotto-wavcmp.c
client_agent_sotto_wavcmp_LDADD = $(CA_MEDIA_LIBS)
