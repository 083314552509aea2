/* tests/errors/underflow.c -- a write 24 bytes before a block (its header), found when it is freed. */
#include <stdlib.h>
#include <string.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	return malloc(40);
}

KEEP void
scribble(char *p)
{
	memset(p - 32, 'u', 8);
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
	scribble(p);
	release(p);
	return 0;
}
