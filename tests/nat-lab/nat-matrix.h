/* nat-matrix: the call matrix of the NAT lab (tests/test-nat-matrix.c), run by test-nat-lab. */
#pragma once

#include "nat-lab-harness.h"

G_BEGIN_DECLS

/* The program's lab, built on first use; NULL after g_test_skip() or g_test_fail(). */
NatLab *nat_test_lab (void);

/* Adds /nat/matrix/... */
void nat_matrix_add_tests (void);
/* Prints the table of results, stops the agents, the servers and the capture. */
void nat_matrix_finish (void);

G_END_DECLS
