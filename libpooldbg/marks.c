/*
 * libpooldbg/marks.c -- the calls of <pooldbg/pooldbg.h> in libpooldbg.so,
 * for a program that runs untraced: they do nothing and return -1.  When
 * the program runs under `pooldbg run`, libpooldbg-malloc.so is preloaded
 * and its versions (runtime-snap.c) come first in the symbol lookup, so
 * these are never called.
 *
 * Must never: do anything a traced run would see.
 */
#include "internal.h"

#include <pooldbg/pooldbg.h>

/* pooldbg_mark untraced: nothing to write; -1. */
EXPORT int
pooldbg_mark(const char *label)
{
	(void)label;
	return -1;
}

/* pooldbg_snapshot untraced: nothing to scan for; -1. */
EXPORT int
pooldbg_snapshot(void)
{
	return -1;
}
