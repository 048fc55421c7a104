# tg-config, tg-cred, tg-render, tg-userdb; sotto-turn render, mint, rotate
turn_glue_libturnglue_a_SOURCES += \
	turn-glue/tg-config.c turn-glue/tg-config.h \
	turn-glue/tg-cred.c turn-glue/tg-cred.h \
	turn-glue/tg-render.c turn-glue/tg-render.h \
	turn-glue/tg-userdb.c turn-glue/tg-userdb.h
turn_glue_libturnglue_a_CFLAGS += $(SQLITE_CFLAGS)
turn_glue_sotto_turn_SOURCES += turn-glue/tg-cmd-render.c turn-glue/tg-cmd-mint.c turn-glue/tg-cmd-rotate.c
turn_glue_sotto_turn_LDADD += $(SQLITE_LIBS)
