# client-agent/control.mk: sotto-agentd's control interface (org.sotto.Agent1 on D-Bus: a
# private 0600 socket and the session bus), its configuration file, and sottoctl.
noinst_LIBRARIES += client-agent/libsotto-control.a
client_agent_libsotto_control_a_SOURCES = \
	client-agent/ca-control.c client-agent/ca-control.h \
	client-agent/ca-config.c client-agent/ca-config.h
nodist_client_agent_libsotto_control_a_SOURCES = client-agent/ca-control-xml.h
client_agent_libsotto_control_a_CFLAGS = $(AM_CFLAGS)
CA_CONTROL_LIBS = client-agent/libsotto-control.a $(SOTTO_COMMON_LIBS) $(GLIB_LIBS)

# The introspection XML is the one definition of the interface; ca-control.c embeds it as a
# C string (no gdbus-codegen, no GResource: it is one short text).
client-agent/ca-control-xml.h: $(srcdir)/client-agent/org.sotto.Agent1.xml
	$(AM_V_GEN)$(MKDIR_P) client-agent && { \
	  echo '/* Generated from org.sotto.Agent1.xml by control.mk: do not edit. */'; \
	  echo 'static const char ca_control_introspection_xml[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' -e 's/$$/\\n"/' \
	    $(srcdir)/client-agent/org.sotto.Agent1.xml; \
	  echo ';'; } > $@.tmp && mv $@.tmp $@
client-agent/libsotto_control_a-ca-control.$(OBJEXT): client-agent/ca-control-xml.h
CLEANFILES += client-agent/ca-control-xml.h

bin_PROGRAMS += client-agent/sottoctl
client_agent_sottoctl_SOURCES = client-agent/sottoctl.c
client_agent_sottoctl_LDADD = $(CA_CONTROL_LIBS)

EXTRA_DIST += client-agent/org.sotto.Agent1.xml
