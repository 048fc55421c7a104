# client-agent/media.mk: the audio of a call (GStreamer pipelines around plain RTP packets),
# the receive statistics (RFC 3550) and the envelope comparison the tests use to check that a
# recording carries what was sent. Its own library so it builds and tests on its own.
noinst_LIBRARIES += client-agent/libsotto-media.a
client_agent_libsotto_media_a_SOURCES = \
	client-agent/ca-media.c client-agent/ca-media.h client-agent/ca-media-priv.h \
	client-agent/ca-media-send.c client-agent/ca-media-recv.c \
	client-agent/ca-audio-compare.c client-agent/ca-audio-compare.h
client_agent_libsotto_media_a_CFLAGS = $(AM_CFLAGS) $(GST_CFLAGS)
# RFC 3550 receive statistics (ca-rtp-stats.c) live in libsotto-rtcp.a.
CA_MEDIA_LIBS = client-agent/libsotto-media.a client-agent/libsotto-rtcp.a $(SOTTO_COMMON_LIBS) \
	$(GST_LIBS) -lm
