# tests/ca-session.mk: two ca-sessions in one process (libnice on loopback, DTLS-SRTP, audio),
# their SDP handed over directly: ICE restarts and the new descriptions they refuse.
check_PROGRAMS += tests/test-ca-session
TESTS += tests/test-ca-session
tests_test_ca_session_SOURCES = tests/test-ca-session.c
tests_test_ca_session_CFLAGS = $(AM_CFLAGS) $(GST_CFLAGS)
# libnice before Sofia-SIP (stun_message_length, see client-agent/agent.mk)
tests_test_ca_session_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--push-state,--no-as-needed $(NICE_LIBS) -Wl,--pop-state
tests_test_ca_session_LDADD = $(CA_SESSION_LIBS)
