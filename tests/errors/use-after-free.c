/* tests/errors/use-after-free.c -- a read of a freed block: a guard page fault. */
#include <stdio.h>
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

KEEP int
read_freed(const char *p)
{
	return ((volatile const char *)p)[8];
}

int
main(void)
{
	char *p;

	p = make_buffer();
	release(p);
	printf("%d\n", read_freed(p));
	return 0;
}
