/*
 * tests/leaks/dlclose-lib.c -- the library tests/leaks/dlclose opens: it
 * keeps one block in a global of its own.
 */
#include <stdlib.h>

void	*leakdl_keep(size_t n);

static void *kept;

/* Allocate n bytes, keep them in this library's data, return them. */
void *
leakdl_keep(size_t n)
{
	kept = malloc(n);
	return kept;
}
