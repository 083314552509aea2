/* tests/errors/write-after-free.c -- a write through a stale pointer, found at exit. */
#include <stdlib.h>
#include <string.h>

#include "errs.h"

KEEP char *
make_buffer(void)
{
	return malloc(64);
}

KEEP void
release(char *p)
{
	free(p);
}

KEEP void
stale_write(char *p)
{
	((volatile char *)p)[16] = 'w';
}

int
main(void)
{
	char *p;

	p = make_buffer();
	release(p);
	stale_write(p);
	return 0;
}
