# Shared convenience library: code that two or more programs need.
noinst_LIBRARIES += common/libsotto-common.a
common_libsotto_common_a_SOURCES = \
	common/sotto-keyfile.c common/sotto-keyfile.h \
	common/sotto-log.c common/sotto-log.h \
	common/sotto-tls.c common/sotto-tls.h \
	common/sotto-util.c common/sotto-util.h
SOTTO_COMMON_LIBS = common/libsotto-common.a $(GLIB_LIBS) $(OPENSSL_LIBS)
