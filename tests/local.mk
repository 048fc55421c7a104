# tests/: GTest unit tests and integration tests that start the real programs.
# Each group keeps its own fragment.
include $(srcdir)/tests/sotto-test.mk
include $(srcdir)/tests/unit-auth.mk
include $(srcdir)/tests/unit-store.mk
include $(srcdir)/tests/certs.mk
include $(srcdir)/tests/ua.mk
include $(srcdir)/tests/signald.mk
include $(srcdir)/tests/sofia.mk
include $(srcdir)/tests/turn-core.mk
include $(srcdir)/tests/turn-probe.mk
include $(srcdir)/tests/client-agent-dtls.mk
include $(srcdir)/tests/client-agent.mk
include $(srcdir)/tests/ca-ice.mk
include $(srcdir)/tests/ca-media.mk
include $(srcdir)/tests/ca-sip.mk
include $(srcdir)/tests/ca-control.mk
include $(srcdir)/tests/ca-agent.mk
include $(srcdir)/tests/ca-session.mk
include $(srcdir)/tests/nat-lab.mk
include $(srcdir)/tests/interop.mk
include $(srcdir)/tests/ca-rtcp.mk
include $(srcdir)/tests/ca-zrtp.mk
include $(srcdir)/tests/sotto-keyfile.mk
