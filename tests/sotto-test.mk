# tests/sotto-test: helpers every test program may link (built programs' paths, removing a
# temporary tree, dying with the parent). Put it after the libraries that use it.
noinst_LIBRARIES += tests/libsottotest.a
tests_libsottotest_a_SOURCES = tests/sotto-test.c tests/sotto-test.h
tests_libsottotest_a_CFLAGS = $(AM_CFLAGS)
