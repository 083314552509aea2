/* tests/errors/three.c -- three different errors in one run: overflow, double-free, write-after-free. */
#include <stdlib.h>
#include <string.h>

#include "errs.h"

KEEP void
overflow_step(void)
{
	char *p;

	p = malloc(16);
	memset(launder(p), 'o', 17);
	free(p);
}

KEEP void
double_free_step(void)
{
	char *p;

	p = malloc(16);
	free(p);
	free(launder(p));
}

KEEP void
write_after_free_step(void)
{
	char *p;

	p = malloc(80);
	free(p);
	((volatile char *)launder(p))[40] = 'w';
}

int
main(void)
{
	overflow_step();
	double_free_step();
	write_after_free_step();
	return 0;
}
