# tg-config, tg-cred, tg-render; sotto-turn render, mint, rotate
turn_glue_sotto_turn_SOURCES += turn-glue/tg-cmd-render.c turn-glue/tg-cmd-mint.c turn-glue/tg-cmd-rotate.c
