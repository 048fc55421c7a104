# tests/turn-probe: STUN/TURN codec, sotto-turn run and check against coturn
check_PROGRAMS += tests/test-tg-stun
TESTS += tests/test-tg-stun
tests_test_tg_stun_SOURCES = tests/test-tg-stun.c
tests_test_tg_stun_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/turn-glue
tests_test_tg_stun_LDADD = $(TG_LIBS)
