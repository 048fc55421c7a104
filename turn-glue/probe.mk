# tg-stun (STUN/TURN client codec), sotto-turn run and check
turn_glue_sotto_turn_SOURCES += turn-glue/tg-cmd-run.c turn-glue/tg-cmd-check.c
