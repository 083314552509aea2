/*
 * libpooldbg/pool-walk.c -- a walk over a pool's arenas and allocated
 * blocks, in address order, for the reachability scan of the tracing
 * runtime (which links this file itself: the walk is no public call).
 *
 * Owns the reading of the block layout of pool-impl.h from outside the
 * Pool's calls: where an allocated block's data starts, where the pointer
 * the pool handed out lies (past the ALIGN_MAGIC words of an aligned
 * block), and how many bytes the caller asked for from there.
 *
 * Must never: write to the pool, allocate, call the pool's callbacks
 * (the caller may hold the lock inside a signal handler), or read outside
 * the arenas: a block whose size does not fit its arena ends the walk.
 */
#include "internal.h"

#include "pool-impl.h"

_Static_assert((size_t)POOLWALK_MINBLOCK == (size_t)MINBLOCKSIZE, "POOLWALK_MINBLOCK is the pool's smallest block");

/* Whether b, in arena a, has a size the walk can step over. */
static int
steppable(Bhdr *b, Arena *a)
{
	uintptr_t end;

	end = (uintptr_t)A2TB(a);
	return b->size % ALIGNQ == 0 && b->size >= MINBLOCKSIZE &&
	    (uintptr_t)b < end && b->size <= end - (uintptr_t)b;
}

/* Fill w from the allocated block b. */
static void
describe(Bhdr *b, PoolWalkBlock *w)
{
	uintptr_t *u, *end, dsize, skip;

	w->block = (uintptr_t)b;
	w->bsize = b->size;
	w->data = (uintptr_t)B2D(b);
	dsize = b->size - BLOCKOVERHEAD >= getdsize(b) ? getdsize(b) : 0;
	/*
	 * poolallocalign fills the words from the data start up to the
	 * pointer it hands out with ALIGN_MAGIC; a plain block's first word
	 * is the caller's.  (A caller that stores ALIGN_MAGIC in its first
	 * word is taken for an aligned block, as D2B would take it.)
	 */
	u = (uintptr_t *)w->data;
	end = (uintptr_t *)(w->data + dsize);
	while (u < end && *u == ALIGN_MAGIC)
		u++;
	skip = (uintptr_t)u - w->data;
	w->ptr = (uintptr_t)u;
	w->dsize = dsize - skip;
}

/* See internal.h.  Pool locked by the caller. */
int
poolwalkl(Pool *p, int (*arena)(void *, uintptr_t, uintptr_t),
    int (*block)(void *, const PoolWalkBlock *), void *arg)
{
	PoolWalkBlock w;
	Arena *a;
	Bhdr *b, *end;
	int r;

	for (a = p->arenalist; a != NULL; a = a->up) {
		if (arena != NULL && (r = arena(arg, (uintptr_t)a, a->asize)) != 0)
			return r;
		if (block == NULL)
			continue;
		end = A2TB(a);
		for (b = A2B(a); b < end; b = B2NB(b)) {
			if (!steppable(b, a))
				return -1;
			if (b->magic != ALLOC_MAGIC)
				continue;
			describe(b, &w);
			if ((r = block(arg, &w)) != 0)
				return r;
		}
		if (b != end)
			return -1;
	}
	return 0;
}
