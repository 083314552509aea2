/* tests/leaks/early.h -- what tests/leaks/early and its library share. */
#ifndef EARLY_H
#define EARLY_H

#include <stdlib.h>
#include <string.h>

enum {
	EARLYN		= 16,	/* blocks the library's constructor makes and frees */
	EARLYSIZE	= 120,	/* bytes each */
	EARLYCHURN	= 1500,	/* blocks of another size it makes and frees meanwhile */
};

extern void	*kept;

/*
 * Make EARLYN blocks of EARLYSIZE bytes and fill each with c; make and
 * free churn blocks of 200 bytes, one at a time; then free the EARLYN.
 */
static __attribute__((noinline, unused)) void
makefree(int c, int churn)
{
	void *v[EARLYN], *w;
	int i;

	for (i = 0; i < EARLYN; i++) {
		v[i] = malloc(EARLYSIZE);
		memset(v[i], c, EARLYSIZE);
	}
	for (i = 0; i < churn; i++) {
		w = malloc(200);
		memset(w, c, 200);
		free(w);
	}
	for (i = 0; i < EARLYN; i++)
		free(v[i]);
}

#endif
