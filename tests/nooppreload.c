/*
 * tests/nooppreload.c -- a shared library that does nothing, preloaded
 * (POOLDBG_PRELOAD) into the programs the recorder's tests run, so that
 * what they record is only what tests/fakewriter writes by hand, whatever
 * the real runtime would add.
 */
#include "config.h"

/* Present so the library has a symbol; never called. */
int	pooldbg_test_nooppreload(void);

int
pooldbg_test_nooppreload(void)
{
	return 0;
}
