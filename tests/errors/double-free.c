/* tests/errors/double-free.c -- a block freed twice. */
#include <stdlib.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	return malloc(32);
}

KEEP void
first_free(char *p)
{
	free(p);
}

KEEP void
second_free(char *p)
{
	free(p);
}

int
main(void)
{
	char *p;

	p = make_buffer();
	first_free(p);
	second_free(p);
	return 0;
}
