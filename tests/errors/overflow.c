/* tests/errors/overflow.c -- a write one past a block of 24 bytes, found when it is freed. */
#include <stdlib.h>
#include <string.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	return malloc(24);
}

KEEP void
fill(char *p)
{
	memset(launder(p), 'a', 25);
}

KEEP void
release(char *p)
{
	free(p);
}

int
main(void)
{
	char *p;

	p = make_buffer();
	fill(p);
	release(p);
	return 0;
}
