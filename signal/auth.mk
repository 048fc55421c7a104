# sig-digest, sig-nonce, sig-throttle: pure Digest, nonces and throttling (no sockets, no loop).
signal_libsig_core_a_SOURCES += \
	signal/sig-digest.c signal/sig-digest.h \
	signal/sig-nonce.c signal/sig-nonce.h \
	signal/sig-throttle.c signal/sig-throttle.h

# libFuzzer target for the Digest parser; built by hand with clang (see the file's header),
# never by configure, so clang stays optional.
EXTRA_DIST += fuzz/fuzz-digest.c
