/* tests/errors/realloc-zero.c -- a write into a block that realloc to size 0 freed. */
#include <stdlib.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	return malloc(64);
}

KEEP void *
shrink_to_nothing(char *p)
{
	return realloc(p, 0);
}

KEEP void
stale_write(char *p)
{
	((volatile char *)p)[24] = 'w';
}

int
main(void)
{
	char *p;

	p = make_buffer();
	sink(shrink_to_nothing(p));
	stale_write(p);
	return 0;
}
