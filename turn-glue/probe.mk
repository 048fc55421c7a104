# tg-stun (STUN/TURN client codec), tg-probe (blocking probes), sotto-turn run and check
turn_glue_libturnglue_a_SOURCES += \
	turn-glue/tg-stun.c turn-glue/tg-stun.h \
	turn-glue/tg-probe.c turn-glue/tg-probe.h
turn_glue_sotto_turn_SOURCES += turn-glue/tg-cmd-run.c turn-glue/tg-cmd-check.c
EXTRA_DIST += fuzz/fuzz-stun.c
