# tests/nat-lab.mk: the NAT lab (issue 5): namespaces and nftables NATs (tests/nat-lab/nat-lab),
# the routers' self-check and the call matrix of real agents. Needs root; skips otherwise.
check_PROGRAMS += tests/test-nat-lab
TESTS += tests/test-nat-lab
tests_test_nat_lab_SOURCES = tests/test-nat-lab.c tests/test-nat-matrix.c \
	tests/nat-lab/nat-lab-harness.c tests/nat-lab/nat-lab-harness.h tests/nat-lab/nat-matrix.h \
	tests/nat-lab/nat-wire.c tests/nat-lab/nat-wire.h
tests_test_nat_lab_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests \
	-I$(top_srcdir)/client-agent
tests_test_nat_lab_LDADD = tests/libagentharness.a tests/libsigharness.a tests/libtua.a \
	tests/libsottotest.a $(CA_MEDIA_LIBS) $(CA_DTLS_LIBS) $(OPENSSL_LIBS)
EXTRA_tests_test_nat_lab_DEPENDENCIES = client-agent/sotto-agentd$(EXEEXT) \
	signal/sotto-signald$(EXEEXT) signal/sotto-admin$(EXEEXT) certs/sotto-certs$(EXEEXT) \
	turn-glue/sotto-turn$(EXEEXT)
EXTRA_DIST += tests/nat-lab/nat-lab
EXTRA_DIST += docs/nat-lab.md
