/* sotto-signald: placeholder while the server is written. */
#include "config.h"
int main (void) { return 1; }
