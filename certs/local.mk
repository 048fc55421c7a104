# certs/: sotto-certs, the certificate tool (init / import / show).
bin_PROGRAMS += certs/sotto-certs
certs_sotto_certs_SOURCES = \
	certs/main.c \
	certs/sotto-certs.h \
	certs/certs-error.c \
	certs/cmd-init.c \
	certs/cmd-import.c \
	certs/cmd-show.c \
	certs/certs-names.c certs/certs-names.h \
	certs/certs-x509.c certs/certs-x509.h \
	certs/certs-pem.c certs/certs-pem.h \
	certs/certs-layout.c certs/certs-layout.h
certs_sotto_certs_LDADD = $(SOTTO_COMMON_LIBS)
