/*
 * tests/leaks/strdup.c -- strings copied by the C library and lost:
 * strdup of an 11-character string (12 bytes) and strndup of 5 characters
 * (6 bytes).  Expected: definite 2/18.
 *
 * Deterministic: the copies live only in copy()'s frame, zeroed by
 * clobber() before main returns.
 */
#include <stdlib.h>
#include <string.h>

#include "leaks.h"

static NOINLINE void
copy(void)
{
	char *s;

	s = strdup("hello, leak");
	block(s, "definite");
	s = strndup("truncated", 5);
	block(s, "definite");
}

int
main(void)
{
	copy();
	expect(2, 18, 0, 0, 0, 0);
	clobber();
	return 0;
}
