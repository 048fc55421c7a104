# turn-glue/: sotto-turn and the library other programs link (libturnglue.a, prefix tg_).
noinst_LIBRARIES += turn-glue/libturnglue.a
turn_glue_libturnglue_a_SOURCES =
turn_glue_libturnglue_a_CFLAGS = $(AM_CFLAGS)
TG_LIBS = turn-glue/libturnglue.a $(SOTTO_COMMON_LIBS)

bin_PROGRAMS += turn-glue/sotto-turn
turn_glue_sotto_turn_SOURCES = turn-glue/tg-main.c turn-glue/tg-commands.h
turn_glue_sotto_turn_CFLAGS = $(AM_CFLAGS)
turn_glue_sotto_turn_LDADD = $(TG_LIBS)

# Configuration, secrets, credentials, rendering; render/mint/rotate commands.
include $(srcdir)/turn-glue/core.mk
# STUN/TURN client codec; run and check commands.
include $(srcdir)/turn-glue/probe.mk
