# tests/sofia: Sofia-SIP regression tests. test-sofia-tls-leak fails on Debian's unfixed
# libsofia-sip-ua0 (every closed TLS connection leaks its SSL object); tools/sofia-sip-fix
# installs the fixed build.
check_PROGRAMS += tests/test-sofia-tls-leak
TESTS += tests/test-sofia-tls-leak
tests_test_sofia_tls_leak_SOURCES = tests/test-sofia-tls-leak.c
tests_test_sofia_tls_leak_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_tls_leak_LDADD = $(SOFIA_LIBS) $(SOTTO_COMMON_LIBS)

# Sofia's client Digest answers sotto-signald's RFC 8760 challenges (SHA-256, then MD5) with
# SHA-256: fails on a library without patch 9003 from tools/sofia-sip-fix. Pure, but for one
# end-to-end case against a real sotto-signald (sig-harness).
check_PROGRAMS += tests/test-sofia-digest
TESTS += tests/test-sofia-digest
tests_test_sofia_digest_SOURCES = tests/test-sofia-digest.c
tests_test_sofia_digest_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_digest_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a \
	$(SIG_CORE_LIBS)

# nta sends a request for sips:localhost:PORT to the loopback address without DNS (RFC 6761
# section 6.3) and still checks the certificate against "localhost": fails on a library without
# patch 9004 from tools/sofia-sip-fix. Against a real sotto-signald (sig-harness).
check_PROGRAMS += tests/test-sofia-localhost
TESTS += tests/test-sofia-localhost
tests_test_sofia_localhost_SOURCES = tests/test-sofia-localhost.c
tests_test_sofia_localhost_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_localhost_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a \
	$(SIG_CORE_LIBS)

# A Sofia TLS client sends RFC 5626 CRLF keepalives (TPTAG_KEEPALIVE) through the SSL, and closes
# the connection when the server stops answering (TPTAG_PINGPONG): fails on a library without
# patch 9005 from tools/sofia-sip-fix. Against a real sotto-signald (sig-harness).
check_PROGRAMS += tests/test-sofia-tls-keepalive
TESTS += tests/test-sofia-tls-keepalive
tests_test_sofia_tls_keepalive_SOURCES = tests/test-sofia-tls-keepalive.c
tests_test_sofia_tls_keepalive_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_tls_keepalive_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a \
	$(SIG_CORE_LIBS)

# Sofia's GLib port serves many descriptors through one GLib poll record (an epoll set) and keeps
# su_root_register()'s behaviour (removals, masks, order, reused descriptor numbers): the
# poll-set case fails on a library without patch 9006 from tools/sofia-sip-fix. Socketpairs
# only, in this process.
check_PROGRAMS += tests/test-sofia-glib-source
TESTS += tests/test-sofia-glib-source
tests_test_sofia_glib_source_SOURCES = tests/test-sofia-glib-source.c
tests_test_sofia_glib_source_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_glib_source_LDADD = $(SOFIA_LIBS)

# Sofia's resolver reopens a name server socket whose source address is gone, and tries again
# a server it could not reach: fails on a library without patch 9007 from tools/sofia-sip-fix.
# Root only (its own network namespace); SKIP otherwise.
check_PROGRAMS += tests/test-sofia-sres-move
TESTS += tests/test-sofia-sres-move
tests_test_sofia_sres_move_SOURCES = tests/test-sofia-sres-move.c
tests_test_sofia_sres_move_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_sres_move_LDADD = $(SOFIA_LIBS)

# The status line, CSeq and Content-Length encoders and tport_hostport() write what snprintf()
# and inet_ntop() would, with snprintf()'s contract at every buffer size. Patch 9008 from
# tools/sofia-sip-fix replaces those stdio calls for speed: this passes on Debian's library too,
# and shows the patched one writes the same bytes. Pure, in this process.
check_PROGRAMS += tests/test-sofia-encode
TESTS += tests/test-sofia-encode
tests_test_sofia_encode_SOURCES = tests/test-sofia-encode.c
tests_test_sofia_encode_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_encode_LDADD = $(SOFIA_LIBS)

# A real sotto-signald answers requests whose TLS records arrive together in one segment, and
# requests sent with the client's last handshake message: guards patch 9009 from
# tools/sofia-sip-fix (OpenSSL read-ahead, with the transport serving records read ahead).
check_PROGRAMS += tests/test-sofia-tls-read-ahead
TESTS += tests/test-sofia-tls-read-ahead
tests_test_sofia_tls_read_ahead_SOURCES = tests/test-sofia-tls-read-ahead.c
tests_test_sofia_tls_read_ahead_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
tests_test_sofia_tls_read_ahead_LDADD = tests/libsigharness.a tests/libtua.a tests/libsottotest.a \
	$(SIG_CORE_LIBS)
