# tests/ca-control: the agent's configuration file (pure), and its control interface with a
# fake backend: GDBus in-process, the built sottoctl, the private socket's guards, and the
# session bus through a private dbus-daemon.
check_PROGRAMS += tests/test-ca-config tests/test-ca-control
TESTS += tests/test-ca-config tests/test-ca-control
tests_test_ca_config_SOURCES = tests/test-ca-config.c
tests_test_ca_config_LDADD = tests/libsottotest.a $(CA_CONTROL_LIBS)

tests_test_ca_control_SOURCES = tests/test-ca-control.c
tests_test_ca_control_LDADD = tests/libsottotest.a $(CA_CONTROL_LIBS)
# The test runs the built sottoctl.
EXTRA_tests_test_ca_control_DEPENDENCIES = client-agent/sottoctl$(EXEEXT)
