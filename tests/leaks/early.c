/*
 * tests/leaks/early.c -- blocks freed before the runtime began: the
 * constructor of the library this program needs (early-lib.c) runs
 * before the tracing runtime's, and its blocks, made and freed by then,
 * wait in the allocator's free lists when main asks for blocks of their
 * size.  Those must be whole: leaks mode marks the blocks it follows in
 * their tag words, where a free list keeps its link, and only blocks
 * still allocated when the runtime starts are its to mark.  main takes
 * EARLYN blocks of that size, fills and frees them, then leaks two
 * 40-byte blocks.  Expected: definitely lost 2 blocks, 80 bytes; the
 * library's kept block is reachable.
 */
#include <stdlib.h>

#include "early.h"
#include "leaks.h"

static NOINLINE void
site(void)
{
	void *p;
	int i;

	for (i = 0; i < 2; i++) {
		p = malloc(40);
		block(p, "definite");
	}
}

int
main(void)
{
	makefree(2, 0);
	site();
	block(kept, "reachable");
	expect(2, 80, 0, 0, 0, 0);
	clobber();
	return 0;
}
