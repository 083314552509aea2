/* tests/leaks/early.h -- what tests/leaks/early and its library share. */
#ifndef EARLY_H
#define EARLY_H

enum {
	EARLYN		= 16,	/* blocks the library's constructor makes and frees */
	EARLYSIZE	= 120,	/* bytes each */
};

extern void	*kept;

#endif
