/* tests/errors/guard-read.c -- a read one past a block of 32 bytes: only a guard page sees it. */
#include <stdio.h>
#include <stdlib.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	return malloc(32);
}

KEEP int
read_past(const char *p)
{
	return ((volatile const char *)p)[32];
}

int
main(void)
{
	char *p;

	p = make_buffer();
	printf("%d\n", read_past(p));
	free(p);
	return 0;
}
