# sotto-signald
signal_libsig_core_a_SOURCES += \
	signal/sig-flow-token.c signal/sig-flow-token.h \
	signal/sig-mclass.c signal/sig-mclass.h
sbin_PROGRAMS += signal/sotto-signald
signal_sotto_signald_SOURCES = \
	signal/sig-main.c \
	signal/sig-server.c signal/sig-server.h signal/sig-server-priv.h \
	common/sotto-tls-context.c \
	signal/sig-no-dial.c \
	signal/sig-flows.c \
	signal/sig-auth.c \
	signal/sig-registrar.c \
	signal/sig-proxy.c \
	signal/sig-turn.c
signal_sotto_signald_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS) $(SQLITE_CFLAGS) -I$(top_srcdir)/turn-glue
# TCMALLOC_LIBS is empty without tcmalloc or with the sanitizers (configure.ac).
signal_sotto_signald_LDADD = turn-glue/libturnglue.a $(SIG_CORE_LIBS) -ldl $(TCMALLOC_LIBS)
