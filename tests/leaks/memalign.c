/*
 * tests/leaks/memalign.c -- aligned blocks: posix_memalign (64, 100
 * bytes), aligned_alloc (256, 512 bytes) and memalign (4096, 10 bytes)
 * lost; posix_memalign (128, 64 bytes) kept by a global.  The pointer
 * the program holds is the aligned one, past the pool's alignment words:
 * it must count as the block's start.  Expected: definite 3/622; the kept
 * one reachable.
 *
 * Deterministic: the lost pointers live only in make()'s frame, zeroed by
 * clobber() before main returns.
 */
#include <malloc.h>
#include <stdlib.h>

#include "leaks.h"

void *kept;

static NOINLINE void
make(void)
{
	void *p;

	if (posix_memalign(&p, 64, 100) != 0)
		exit(1);
	block(p, "definite");
	p = aligned_alloc(256, 512);
	block(p, "definite");
	p = memalign(4096, 10);
	block(p, "definite");
	if (posix_memalign(&kept, 128, 64) != 0)
		exit(1);
	block(kept, "reachable");
}

int
main(void)
{
	make();
	expect(3, 622, 0, 0, 0, 0);
	clobber();
	return 0;
}
