/* tests/errors/realloc-freed.c -- realloc of a block freed before. */
#include <stdlib.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	return malloc(48);
}

KEEP void
release(char *p)
{
	free(p);
}

KEEP char *
grow(char *p)
{
	return realloc(p, 200);
}

int
main(void)
{
	char *p;

	p = make_buffer();
	release(p);
	sink(grow(p));
	return 0;
}
