/*
 * tests/leaks/interior.c -- a 64-byte block held only by an interior
 * pointer (a global pointing 16 bytes into it), which holds the start
 * pointer of a 48-byte block.  The first is possibly lost; a start
 * pointer found in a possibly lost block makes the second possibly lost
 * too, never reachable.  Expected: possible 2/112, nothing lost.
 *
 * Deterministic: the start pointer of the first block lives only in
 * make()'s frame, zeroed by clobber() before main returns.
 */
#include <stdlib.h>

#include "leaks.h"

char *middle;		/* 16 bytes into the first block */

static NOINLINE void
make(void)
{
	void **p, *q;

	p = malloc(64);
	q = malloc(48);
	p[0] = q;
	middle = (char *)p + 16;
	block(p, "possible");
	block(q, "possible");
}

int
main(void)
{
	make();
	expect(0, 0, 0, 0, 2, 112);
	clobber();
	return 0;
}
