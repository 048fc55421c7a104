# bench/: sotto-sipload, a TLS SIP load generator, and bench/run, which measures sotto-signald
# and Kamailio side by side. Benchmarks print figures; nothing in `make check` depends on them.
noinst_PROGRAMS += bench/sotto-sipload
bench_sotto_sipload_SOURCES = \
	bench/bench-main.c \
	bench/bench-worker.c bench/bench-worker.h bench/bench-worker-priv.h \
	bench/bench-ua.c \
	bench/bench-conn.c bench/bench-conn.h \
	bench/bench-sip.c bench/bench-sip.h \
	bench/bench-digest.c bench/bench-digest.h \
	bench/bench-stats.c bench/bench-stats.h \
	bench/bench-proc.c bench/bench-proc.h
bench_sotto_sipload_LDADD = $(SOTTO_COMMON_LIBS)
EXTRA_DIST += bench/run bench/calls bench/README.md bench/kamailio/kamailio.cfg bench/kamailio/tls.cfg

.PHONY: bench
bench: bench/sotto-sipload
	$(srcdir)/bench/run $(abs_top_builddir)
