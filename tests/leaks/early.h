/* tests/leaks/early.h -- what tests/leaks/early and its library share. */
#ifndef EARLY_H
#define EARLY_H

#include <stdlib.h>
#include <string.h>

enum {
	EARLYN		= 16,	/* blocks the library's constructor makes and frees */
	EARLYSIZE	= 120,	/* bytes each */
};

extern void	*kept;

/* Make EARLYN blocks of EARLYSIZE bytes, fill each with c, and free them all. */
static __attribute__((noinline, unused)) void
makefree(int c)
{
	void *v[EARLYN];
	int i;

	for (i = 0; i < EARLYN; i++) {
		v[i] = malloc(EARLYSIZE);
		memset(v[i], c, EARLYSIZE);
	}
	for (i = 0; i < EARLYN; i++)
		free(v[i]);
}

#endif
