/* tests/errors/realloc-moved.c -- a write through a pointer kept from before realloc moved the block. */
#include <stdlib.h>
#include <string.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	char *p;

	p = malloc(40);
	memset(p, 'a', 40);
	return p;
}

KEEP char *
grow(char *p)
{
	return realloc(p, 3000);
}

KEEP void
stale_write(char *p)
{
	((volatile char *)p)[8] = 'w';
}

int
main(void)
{
	char *p, *q, *next;

	p = make_buffer();
	next = malloc(40);	/* the block cannot grow where it lies */
	q = grow(p);
	stale_write(p);
	sink(q);
	sink(next);
	return 0;
}
