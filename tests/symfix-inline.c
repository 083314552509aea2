/*
 * tests/symfix-inline.c -- the -O2 half of the symbolizer's fixture
 * library: two always_inline functions inlined into one out-of-line
 * function, so a pc has an inline chain three deep.
 *
 * Test code only: each call stays on one line with the __LINE__ it reports.
 */
#include "symfix.h"

static inline __attribute__((always_inline)) void
symfix_inner(SymfixSite *chain, int callline)
{
	chain[1].line = callline;
	symfix_capture(&chain[0], __LINE__);
	symfix_sink++;
}

static inline __attribute__((always_inline)) void
symfix_middle(SymfixSite *chain, int callline)
{
	chain[2].line = callline;
	symfix_inner(chain, __LINE__);
	symfix_sink++;
}

/* Contract in symfix.h. */
__attribute__((noinline)) int
symfix_inline_outer(SymfixSite chain[3])
{
	symfix_middle(chain, __LINE__);
	return symfix_sink;
}
