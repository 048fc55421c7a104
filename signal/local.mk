# signal/: sotto-signald, the TLS-only SIP registrar and proxy, and sotto-admin.
noinst_LIBRARIES += signal/libsig-core.a
signal_libsig_core_a_SOURCES =
signal_libsig_core_a_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS) $(SQLITE_CFLAGS)
SIG_CORE_LIBS = signal/libsig-core.a $(SOTTO_COMMON_LIBS) $(SOFIA_LIBS) $(SQLITE_LIBS)

# Pure Digest, nonces and throttling.
include $(srcdir)/signal/auth.mk
# Account store, configuration and the sotto-admin command.
include $(srcdir)/signal/store.mk
# The server itself.
include $(srcdir)/signal/server.mk
