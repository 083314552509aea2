/* tests/errors/deep-write.c -- a stale write far into a large freed block. */
#include <stdlib.h>
#include <string.h>

#include "errs.h"

KEEP char *
make_big(void)
{
	return malloc(4096);
}

KEEP void
release(char *p)
{
	free(p);
}

KEEP void
stale_write(char *p)
{
	((volatile char *)p)[1000] = 'w';
}

int
main(void)
{
	char *p;

	p = make_big();
	release(p);
	stale_write(p);
	return 0;
}
