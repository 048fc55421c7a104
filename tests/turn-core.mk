# tests/turn-core: tg-config, tg-cred, render, coturn with the rendered config
check_PROGRAMS += tests/test-tg-config tests/test-tg-cred tests/test-tg-coturn
TESTS += tests/test-tg-config tests/test-tg-cred tests/test-tg-coturn

tests_test_tg_config_SOURCES = tests/test-tg-config.c
tests_test_tg_config_LDADD = $(TG_LIBS)

tests_test_tg_cred_SOURCES = tests/test-tg-cred.c
tests_test_tg_cred_LDADD = $(TG_LIBS)

# Starts a real coturn (Debian's turnserver, turnutils_uclient, turnutils_peer) on loopback.
tests_test_tg_coturn_SOURCES = tests/test-tg-coturn.c
tests_test_tg_coturn_LDADD = tests/libsottotest.a $(TG_LIBS) $(SQLITE_LIBS)
tests_test_tg_coturn_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
EXTRA_tests_test_tg_coturn_DEPENDENCIES = turn-glue/sotto-turn$(EXEEXT) certs/sotto-certs$(EXEEXT)
