# tests/sotto-keyfile: the GKeyFile line scan the configuration loaders share (pure).
check_PROGRAMS += tests/test-sotto-keyfile
TESTS += tests/test-sotto-keyfile
tests_test_sotto_keyfile_SOURCES = tests/test-sotto-keyfile.c
tests_test_sotto_keyfile_LDADD = $(SOTTO_COMMON_LIBS)
