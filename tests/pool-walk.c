/*
 * tests/pool-walk.c -- the walk over a pool's arenas and allocated blocks
 * (libpooldbg/pool-walk.c, which the reachability scan reads the heap
 * with): every live block exactly once, in address order, inside an
 * arena it reported, with the pointer the pool handed out (past the
 * alignment words of poolallocalign) and the size asked for; freed blocks
 * never; a callback's nonzero answer ends the walk; a block whose size
 * cannot be stepped over ends it with -1, nothing read outside the
 * arenas.  Also: libpooldbg's untraced pooldbg_mark and pooldbg_snapshot
 * return -1.
 *
 * Owns its test pools.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pooldbg/pool.h>
#include <pooldbg/pooldbg.h>

#include "internal.h"
#include "tap.h"
#include "testpool.h"

enum { NBLOCKS = 400, MAXARENAS = 256 };

typedef struct Live Live;
struct Live {
	uintptr_t ptr;
	size_t	size;
	int	seen;
};

typedef struct Walk Walk;
struct Walk {
	Live	*live;
	int	nlive;
	uintptr_t abase[MAXARENAS], aend[MAXARENAS];
	int	narenas;
	int	nblocks, unknown, badsize, outside, disorder, twice, badblock;
	uintptr_t last;
	int	stopafter;	/* > 0: the block callback ends the walk at this count */
};

static int
onarena(void *arg, uintptr_t base, uintptr_t size)
{
	Walk *w = arg;

	if (w->narenas < MAXARENAS) {
		w->abase[w->narenas] = base;
		w->aend[w->narenas] = base + size;
		w->narenas++;
	}
	return 0;
}

static int
onblock(void *arg, const PoolWalkBlock *b)
{
	Walk *w = arg;
	int i;

	w->nblocks++;
	if (b->ptr <= w->last)
		w->disorder++;
	w->last = b->ptr;
	if (w->narenas == 0 || b->block < w->abase[w->narenas - 1] ||
	    b->block + b->bsize > w->aend[w->narenas - 1])
		w->outside++;
	if (b->data != b->block + 2 * sizeof(uintptr_t) || b->ptr < b->data ||
	    b->ptr + b->dsize > b->block + b->bsize)
		w->badblock++;
	for (i = 0; i < w->nlive; i++)
		if (w->live[i].ptr == b->ptr)
			break;
	if (i == w->nlive)
		w->unknown++;
	else {
		if (w->live[i].seen++)
			w->twice++;
		if (w->live[i].size != b->dsize)
			w->badsize++;
	}
	return w->stopafter > 0 && w->nblocks == w->stopafter ? 7 : 0;
}

/* Fill a pool with plain and aligned blocks, free a third of them; the rest in live. */
static int
fill(TestPool *tp, Live *live, uint64_t *rng)
{
	static const size_t aligns[] = { 8, 32, 64, 256, 4096 };
	static const long offsets[] = { 0, 8, -16, 24 };
	void *v[NBLOCKS];
	size_t n[NBLOCKS];
	int i, k;

	for (i = 0; i < NBLOCKS; i++) {
		n[i] = (size_t)tp_randn(rng, 3000);
		if (i % 3 == 0)
			v[i] = poolallocalign(&tp->pool, n[i], aligns[i / 3 % 5], offsets[i / 15 % 4], 0);
		else
			v[i] = poolalloc(&tp->pool, n[i]);
		if (v[i] == NULL)
			tap_bail("out of memory in a test pool");
		memset(v[i], (int)(i & 0xff), n[i]);
	}
	for (i = k = 0; i < NBLOCKS; i++) {
		if (i % 3 == 1) {
			poolfree(&tp->pool, v[i]);
			continue;
		}
		live[k].ptr = (uintptr_t)v[i];
		live[k].size = n[i];
		live[k].seen = 0;
		k++;
	}
	return k;
}

static void
walkpool(int source, const char *what)
{
	static Live live[NBLOCKS];
	uint64_t rng = 42;
	TestPool *tp;
	Walk w;
	int r, i, missed;

	tp = tp_new(what, source, 0);
	memset(&w, 0, sizeof w);
	w.live = live;
	w.nlive = fill(tp, live, &rng);
	tp->pool.lock(&tp->pool);
	r = poolwalkl(&tp->pool, onarena, onblock, &w);
	tp->pool.unlock(&tp->pool);
	for (i = missed = 0; i < w.nlive; i++)
		missed += live[i].seen == 0;
	ok(r == 0, "%s: the walk ends with 0 (%d)", what, r);
	ok(w.nblocks == w.nlive && missed == 0 && w.unknown == 0 && w.twice == 0,
	    "%s: every live block once, no freed one (%d of %d, %d missed, %d unknown, %d twice)",
	    what, w.nblocks, w.nlive, missed, w.unknown, w.twice);
	ok(w.disorder == 0, "%s: blocks in address order (%d out of order)", what, w.disorder);
	ok(w.narenas > 0 && w.outside == 0, "%s: each block inside the arena reported before it "
	    "(%d arenas, %d outside)", what, w.narenas, w.outside);
	ok(w.badsize == 0 && w.badblock == 0, "%s: the pool's pointer (past alignment words) and the "
	    "size asked for (%d sizes, %d layouts wrong)", what, w.badsize, w.badblock);
	for (i = 1; i < w.narenas && w.abase[i] >= w.aend[i - 1]; i++)
		;
	ok(i >= w.narenas, "%s: arenas in address order, apart", what);

	memset(&w, 0, sizeof w);
	w.live = live;
	w.nlive = 0;
	w.stopafter = 5;
	tp->pool.lock(&tp->pool);
	r = poolwalkl(&tp->pool, NULL, onblock, &w);
	tp->pool.unlock(&tp->pool);
	ok(r == 7 && w.nblocks == 5, "%s: a callback's answer ends the walk and is returned (%d after %d)",
	    what, r, w.nblocks);

	/* a plain block's size word smashed (live[1] is poolalloc's): the walk stops at it */
	TP_BSIZE((void *)live[1].ptr) = 0;
	memset(&w, 0, sizeof w);
	w.live = live;
	tp->pool.lock(&tp->pool);
	r = poolwalkl(&tp->pool, onarena, onblock, &w);
	tp->pool.unlock(&tp->pool);
	ok(r == -1, "%s: a block that cannot be stepped over ends the walk with -1 (%d)", what, r);
	tp_free(tp);
}

int
main(void)
{
	TestPool *tp;
	Walk w;
	int r;

	walkpool(TP_REGION, "one region");
	walkpool(TP_MMAP, "separate arenas");

	tp = tp_new("empty", TP_MMAP, 0);
	memset(&w, 0, sizeof w);
	tp->pool.lock(&tp->pool);
	r = poolwalkl(&tp->pool, onarena, onblock, &w);
	tp->pool.unlock(&tp->pool);
	ok(r == 0 && w.narenas == 0 && w.nblocks == 0, "an empty pool: nothing walked (%d, %d, %d)",
	    r, w.narenas, w.nblocks);
	tp_free(tp);

	ok(pooldbg_mark("untraced") == -1, "pooldbg_mark untraced: -1");
	ok(pooldbg_snapshot() == -1, "pooldbg_snapshot untraced: -1");
	return tap_done();
}
