/*
 * tests/traced-lib.c -- a module for tests/traced to dlopen and dlclose
 * under the runtime: its one call allocates, so its frames enter the
 * trace.  Owns nothing.
 */
#include <stdlib.h>
#include <string.h>

void	*traced_lib_alloc(size_t n);

/* A block of n bytes filled with 0x5a; the allocation is made from this module. */
__attribute__((noinline)) void *
traced_lib_alloc(size_t n)
{
	void *p;

	p = malloc(n);
	if (p != NULL)
		memset(p, 0x5a, n);
	return p;
}
