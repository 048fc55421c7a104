# tests/turn-probe: STUN/TURN codec, sotto-turn run and check against coturn
check_PROGRAMS += tests/test-tg-stun
TESTS += tests/test-tg-stun
tests_test_tg_stun_SOURCES = tests/test-tg-stun.c
tests_test_tg_stun_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/turn-glue
tests_test_tg_stun_LDADD = $(TG_LIBS)

# A real coturn (Debian's turnserver) on loopback for the run and check tests.
noinst_LIBRARIES += tests/libtgpcoturn.a
tests_libtgpcoturn_a_SOURCES = tests/tgp-coturn.c tests/tgp-coturn.h
tests_libtgpcoturn_a_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/turn-glue

check_PROGRAMS += tests/test-tg-check tests/test-tg-run
TESTS += tests/test-tg-check tests/test-tg-run
tests_test_tg_check_SOURCES = tests/test-tg-check.c
tests_test_tg_check_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/turn-glue
tests_test_tg_check_LDADD = tests/libtgpcoturn.a tests/libsottotest.a $(TG_LIBS) $(SQLITE_LIBS)
EXTRA_tests_test_tg_check_DEPENDENCIES = turn-glue/sotto-turn$(EXEEXT) certs/sotto-certs$(EXEEXT)

tests_test_tg_run_SOURCES = tests/test-tg-run.c
tests_test_tg_run_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/turn-glue
tests_test_tg_run_LDADD = tests/libtgpcoturn.a tests/libsottotest.a $(TG_LIBS) $(SQLITE_LIBS)
EXTRA_tests_test_tg_run_DEPENDENCIES = turn-glue/sotto-turn$(EXEEXT) certs/sotto-certs$(EXEEXT)

check_PROGRAMS += tests/test-tg-options
TESTS += tests/test-tg-options
tests_test_tg_options_SOURCES = tests/test-tg-options.c
tests_test_tg_options_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/turn-glue
tests_test_tg_options_LDADD = tests/libtgpcoturn.a tests/libsottotest.a $(TG_LIBS) $(SQLITE_LIBS)
EXTRA_tests_test_tg_options_DEPENDENCIES = turn-glue/sotto-turn$(EXEEXT) certs/sotto-certs$(EXEEXT)
