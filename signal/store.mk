# sig-accounts, sig-config, sotto-admin
signal_libsig_core_a_SOURCES += \
	signal/sig-accounts.c signal/sig-accounts.h \
	signal/sig-accounts-cache.c signal/sig-accounts-cache.h \
	signal/sig-config.c signal/sig-config.h

# sotto-admin: manages accounts in the server's database.
sbin_PROGRAMS += signal/sotto-admin
signal_sotto_admin_SOURCES = \
	signal/sig-admin.c signal/sig-admin.h \
	signal/sig-admin-accounts.c
signal_sotto_admin_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
signal_sotto_admin_LDADD = $(SIG_CORE_LIBS)

# A libFuzzer target for the configuration parser (not built by default).
EXTRA_DIST += fuzz/fuzz-config.c
