# sotto-signald
sbin_PROGRAMS += signal/sotto-signald
signal_sotto_signald_SOURCES = signal/sig-main.c
signal_sotto_signald_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS)
signal_sotto_signald_LDADD = $(SIG_CORE_LIBS)
