/*
 * tests/leaks/realloc.c -- a block grown by realloc (10 then 5000 bytes,
 * moved) and then lost; another grown the same way and kept by a global.
 * Expected: definite 1/5000; the kept one reachable.
 *
 * Deterministic: the lost pointer lives only in grow()'s frame, zeroed
 * by clobber() before main returns.
 */
#include <stdlib.h>
#include <string.h>

#include "leaks.h"

void *kept;

static NOINLINE void
grow(void)
{
	char *p, *q;

	p = malloc(10);
	memset(p, 'x', 10);
	q = malloc(10);		/* so that p cannot grow in place */
	p = realloc(p, 5000);
	block(p, "definite");
	kept = realloc(q, 3000);
	block(kept, "reachable");
}

int
main(void)
{
	grow();
	expect(1, 5000, 0, 0, 0, 0);
	clobber();
	return 0;
}
