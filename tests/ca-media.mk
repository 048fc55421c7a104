# tests/ca-media.mk: the envelope comparison on synthetic signals and malformed WAVs; the media
# pipelines back to back in one process (Opus and PCMU, spoken WAVs from espeak-ng, RTP
# handed over in memory), hostile packets and bad sources; RFC 3550 statistics.
check_PROGRAMS += tests/test-ca-audio-compare tests/test-ca-media
TESTS += tests/test-ca-audio-compare tests/test-ca-media

tests_test_ca_audio_compare_SOURCES = tests/test-ca-audio-compare.c
tests_test_ca_audio_compare_LDADD = $(CA_MEDIA_LIBS)

tests_test_ca_media_SOURCES = tests/test-ca-media.c
tests_test_ca_media_CFLAGS = $(AM_CFLAGS) $(GST_CFLAGS)
tests_test_ca_media_LDADD = $(CA_MEDIA_LIBS)
