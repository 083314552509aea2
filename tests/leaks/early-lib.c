/*
 * tests/leaks/early-lib.c -- the library of tests/leaks/early: its
 * constructor runs before the tracing runtime's (a library the program
 * needs is started before a preloaded one), so the heap calls it makes
 * are served before the runtime has begun to record them.  It makes
 * EARLYN blocks of EARLYSIZE bytes and frees them all, then keeps one
 * block of its own in kept (reachable).
 */
#include <stdlib.h>
#include <string.h>

#include "early.h"

void	*kept;

__attribute__((constructor)) static void
early(void)
{
	void *v[EARLYN];
	int i;

	for (i = 0; i < EARLYN; i++) {
		v[i] = malloc(EARLYSIZE);
		memset(v[i], 1, EARLYSIZE);
	}
	for (i = 0; i < EARLYN; i++)
		free(v[i]);
	kept = malloc(24);
}
