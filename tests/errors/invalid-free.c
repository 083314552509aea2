/* tests/errors/invalid-free.c -- free of a stack array, a global and an interior pointer. */
#include <stdlib.h>

#include "errs.h"

static char global[64];

KEEP void
free_stack(void)
{
	char buf[64];

	sink(buf);
	free(launder(buf));
}

KEEP void
free_global(void)
{
	free(launder(global));
}

KEEP void
free_interior(void)
{
	char *p;

	p = malloc(100);
	free(launder(p + 48));
	free(p);
}

int
main(void)
{
	free_stack();
	free_global();
	free_interior();
	return 0;
}
