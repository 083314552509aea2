/*
 * tests/leaks/direct.c -- direct leaks from two sites: three 40-byte
 * blocks from site_a, two cleared 100-byte blocks from site_b, no pointer
 * to any of them left.  Expected: definitely lost 5 blocks, 320 bytes.
 *
 * Deterministic: the pointers live only in the frames of site_a and
 * site_b (and of printf), zeroed by clobber() before main returns.
 */
#include <stdlib.h>

#include "leaks.h"

static NOINLINE void
site_a(void)
{
	void *p;
	int i;

	for (i = 0; i < 3; i++) {
		p = malloc(40);
		block(p, "definite");
	}
}

static NOINLINE void
site_b(void)
{
	void *p;
	int i;

	for (i = 0; i < 2; i++) {
		p = calloc(1, 100);
		block(p, "definite");
	}
}

int
main(void)
{
	site_a();
	site_b();
	expect(5, 320, 0, 0, 0, 0);
	clobber();
	return 0;
}
