/*
 * tests/leaks/early-lib.c -- the library of tests/leaks/early: its
 * constructor runs before the tracing runtime's (a library the program
 * needs is started before a preloaded one), so the heap calls it makes
 * are served before the runtime has begun to record them.  It makes
 * EARLYN blocks of EARLYSIZE bytes, makes and frees EARLYCHURN others
 * (thousands of calls: more than a small buffer of early calls holds),
 * frees the EARLYN, then keeps one block of its own in kept (reachable).
 */
#include "early.h"

void	*kept;

__attribute__((constructor)) static void
early(void)
{
	makefree(1, EARLYCHURN);
	kept = malloc(24);
}
