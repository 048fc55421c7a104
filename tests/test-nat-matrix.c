/* The NAT lab's call matrix (see tests/test-nat-lab.c). */
#include "config.h"

#include "nat-lab/nat-matrix.h"

void
nat_matrix_add_tests (void)
{
}

void
nat_matrix_finish (void)
{
}
