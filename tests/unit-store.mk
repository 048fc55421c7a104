# tests/unit-store: sig-config, sig-accounts (including kill -9 safety) and sotto-admin.
check_PROGRAMS += tests/test-config tests/test-accounts tests/test-accounts-crash tests/test-admin
TESTS += tests/test-config tests/test-accounts tests/test-accounts-crash tests/test-admin

tests_test_config_SOURCES = tests/test-config.c
tests_test_config_CFLAGS = $(AM_CFLAGS)
tests_test_config_LDADD = $(SIG_CORE_LIBS)

tests_test_accounts_SOURCES = tests/test-accounts.c
tests_test_accounts_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
tests_test_accounts_LDADD = tests/libsottotest.a $(SIG_CORE_LIBS)

tests_test_accounts_crash_SOURCES = tests/test-accounts-crash.c
tests_test_accounts_crash_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
tests_test_accounts_crash_LDADD = tests/libsottotest.a $(SIG_CORE_LIBS)

# Drives the built signal/sotto-admin (found through SOTTO_BUILDDIR).
tests_test_admin_SOURCES = tests/test-admin.c
tests_test_admin_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
tests_test_admin_LDADD = tests/libsottotest.a $(SIG_CORE_LIBS)
