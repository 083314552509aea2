/*
 * libpooldbg/quick.c -- quick lists: the fast path of the malloc family.
 *
 * Owns, for the default pool, one LIFO list per small block size (a
 * multiple of the pool's quantum, up to QUICKMAXBLOCK bytes), as
 * qmalloc's quickfit keeps them: a block freed by the malloc family goes
 * onto the list of its size instead of back into the free tree, and the
 * next request needing exactly that block size takes it from there.
 * Blocks on a list are never coalesced; they all go back to the tree,
 * and coalesce there, before the pool would take a new arena (so the
 * lists never make it grow), when it runs out of memory, and when quick
 * lists are turned off.
 *
 * A block on a quick list stays a block of its arena, with magic
 * QUICK_MAGIC (so poolfree, poolrealloc and poolmsize refuse it as a
 * non-block: a double free is still caught) and its tail and guard bytes
 * as its last owner left them; its first two data words link the list
 * (the malloc family's tag words, so never its owner's bytes).
 *
 * Each list is a stack of runs, so that a batch moves on or off it in
 * one step rather than a walk of its blocks.  A run's blocks are linked
 * through their first data word, its last one linking NULL; the first
 * block of a run keeps in its second data word the first block of the
 * next run (bits 0 to 47: the arenas lie below 2^48, as user space on
 * Linux does) and the run's length (bits 48 to 63).  A thread cache's
 * half bin goes on as one run and a refill takes one run off; a single
 * block joins the run on top while that is shorter than RUNMAX.
 * poolcheck's walk of the blocks follows several runs side by side, so
 * that their cache misses overlap.
 *
 * A free checks the block as poolfree does (and counts in p->nfree); the
 * tail and guard bytes are checked again when the block leaves its list,
 * so a write past the end made after the free is caught there.
 * poolcheck walks and checks such blocks with the allocated ones and then
 * calls quick_checkl to check the lists themselves: from what its walk
 * saw of each block's link, summed by size, and the run heads, or, when
 * those disagree, by following every link.
 *
 * Every list operation runs under the pool's own lock (p->lock), so the
 * pool and the lists are always consistent for poolcheck.  In front of
 * the lists, each thread keeps its own cache of quick blocks (tcache.c),
 * which takes from and gives to them in batches (quick_takel,
 * quick_givel) and is emptied onto them before poolcheck and the figures.
 *
 * The lists come in homes (QUICK_NHOME of them, and the shared lists):
 * a cache gives to its home's lists and takes from them first, then from
 * the shared ones, so that a thread's freed blocks come back to it and
 * its blocks stay among its own.  A home keeps at most HOMEMAX blocks of
 * a size, and only of sizes its threads took from the lists since the
 * last flush (hwants): a thread that frees what another allocates hands
 * the blocks on through the shared lists.  Blocks on a home's lists are
 * listed blocks like any other: counted in count[], walked by poolcheck,
 * flushed to the tree with the rest.
 *
 * Quick lists step aside whenever a check needs every block to pass
 * through the tree: under POOL_NOREUSE, POOL_PARANOIA, POOL_ANTAGONISM,
 * POOL_LOGGING, POOL_VERBOSITY and POOL_DEBUGGING, when POOLDBG_QUICK=0,
 * and when anything calls quick_setoff.  See quick_enabled.  A quarantine
 * of freed blocks keeps them on: the program's frees go to the
 * quarantine, and the blocks it lets go come here (quick_recyclel).
 *
 * Must never: allocate, print outside a panic's block dump, or touch a
 * block that is not in one of the pool's arenas.
 */
#include "internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pool-impl.h"

enum {
	QUICKQ		= 16,			/* the default pool's quantum */
	QUICKMAXBLOCK	= 8192,			/* largest block kept on a list */
	NQUICK		= QUICKMAXBLOCK / QUICKQ + 1,
	RUNSHIFT	= 48,			/* a run's length above its next run's address */
	RUNMAX		= 64,			/* the longest run single blocks make */
	HOMEMAX		= 1024,			/* blocks of a size a home's list keeps */
	NWALK		= 16,			/* runs a check follows side by side */
};

#define RUNADDR	(((uintptr_t)1 << RUNSHIFT) - 1)

/* The lists of the one pool they serve; guarded by that pool's lock. */
static struct {
	Pool	*pool;			/* the pool whose blocks are listed (set on first use) */
	Bhdr	*head[QUICK_NHOME + 1][NQUICK];	/* by home, then block size / QUICKQ */
	unsigned long count[NQUICK];	/* blocks of each size, on all homes' lists */
	unsigned hcount[QUICK_NHOME][NQUICK];	/* blocks on each home's list */
	unsigned char hwants[QUICK_NHOME][NQUICK];	/* the home's thread asked for the size */
	uintptr_t bytes;		/* bytes of all listed blocks */
	unsigned long nblocks;		/* blocks on all lists */
	unsigned long hits;		/* allocations served from a list */
	unsigned long misses;		/* small allocations the lists could not serve */
	unsigned long puts;		/* frees that went onto a list */
	unsigned long flushes;		/* times every list went back to the tree */
} q;

/*
 * What poolcheck's walk of the arenas saw of the listed blocks, by size:
 * how many, their addresses summed, their links summed, and how many
 * end a run (link NULL).  See quick_checkl.  Guarded by q.pool's lock.
 */
static struct {
	unsigned long n, ends;
	uintptr_t addr, next;
} seen[NQUICK];
static int seenodd;		/* a listed block of a size no list has */

/* See pool-impl.h. */
atomic_int quick_off;

static inline Bhdr *
getnext(Bhdr *b)
{
	return *(Bhdr **)B2D(b);
}

static inline void
setnext(Bhdr *b, Bhdr *n)
{
	*(Bhdr **)B2D(b) = n;
}

/* The first block of the run after the run b starts. */
static inline Bhdr *
runnext(Bhdr *b)
{
	return (Bhdr *)(((uintptr_t *)B2D(b))[1] & RUNADDR);
}

/* The length of the run b starts. */
static inline unsigned long
runlen(Bhdr *b)
{
	return ((uintptr_t *)B2D(b))[1] >> RUNSHIFT;
}

static inline void
setrun(Bhdr *b, Bhdr *next, unsigned long len)
{
	((uintptr_t *)B2D(b))[1] = (uintptr_t)next | (uintptr_t)len << RUNSHIFT;
}

/*
 * Push b onto the shared list i: into the run on top, or as a run of its
 * own.  Lock held.
 */
static void
pushl(size_t i, Bhdr *b)
{
	Bhdr *top;

	top = q.head[QUICK_SHARED][i];
	if (top != NULL && runlen(top) < RUNMAX) {
		setnext(b, top);
		setrun(b, runnext(top), runlen(top) + 1);
	} else {
		setnext(b, NULL);
		setrun(b, top, 1);
	}
	q.head[QUICK_SHARED][i] = b;
	q.count[i]++;
	q.nblocks++;
	q.bytes += b->size;
}

/* Put the allocated block b of p on its list.  Pool locked. */
static void
listl(Pool *p, Bhdr *b)
{
	q.pool = p;
	b->magic = QUICK_MAGIC;
	pushl(b->size / QUICKQ, b);
	q.puts++;
}

/* See pool-impl.h: as the pool lays out an allocated block's tail and guard bytes. */
void
quick_settail(Bhdr *b, uintptr_t dsize)
{
	Btail *t;
	uintptr_t slack;
	uchar *c, *ec;

	t = B2T(b);
	slack = b->size - dsize;
	t->magic0 = TAIL_MAGIC0;
	t->slack[0] = (uchar)(slack >> 8);
	t->slack[1] = (uchar)slack;
	t->magic1 = TAIL_MAGIC1;
	t->slackhi[0] = (uchar)(slack >> 40);
	t->slackhi[1] = (uchar)(slack >> 32);
	t->slackhi[2] = (uchar)(slack >> 24);
	t->slackhi[3] = (uchar)(slack >> 16);
	t->size = b->size;
	c = (uchar *)B2D(b) + dsize;
	ec = c + 4 < (uchar *)t ? c + 4 : (uchar *)t;
	for (; c < ec; c++)
		*c = guardbyte[(uintptr_t)c % 4];
}

/*
 * Detach every list; the blocks become allocated blocks again (their
 * first word is overwritten by the link, their tail is as it was).
 * Returns the chain, linked through the first data word.  Lock held.
 */
static Bhdr *
detachl(void)
{
	Bhdr *chain, *b, *n, *r, *nr;
	int h, i;

	chain = NULL;
	for (i = 0; i < NQUICK; i++) {
		for (h = 0; h <= QUICK_NHOME; h++) {
			for (r = q.head[h][i]; r != NULL; r = nr) {
				nr = runnext(r);
				for (b = r; b != NULL; b = n) {
					n = getnext(b);
					b->magic = ALLOC_MAGIC;
					setnext(b, chain);
					chain = b;
				}
			}
			q.head[h][i] = NULL;
		}
		q.count[i] = 0;
	}
	memset(q.hcount, 0, sizeof q.hcount);
	memset(q.hwants, 0, sizeof q.hwants);
	q.bytes = 0;
	q.nblocks = 0;
	if (chain != NULL)
		q.flushes++;
	return chain;
}

/* See pool-impl.h.  Pool locked. */
int
quick_spilll(Pool *p)
{
	Bhdr *chain, *n;

	if (q.pool != p || q.nblocks == 0)
		return 0;
	for (chain = detachl(); chain != NULL; chain = n) {
		n = getnext(chain);
		poolunlistl(p, chain);
	}
	return 1;
}

/* See internal.h. */
void
quick_flush(Pool *p)
{
	Bhdr *chain, *n;

	if (p->lock != NULL)
		p->lock(p);
	tcache_freezel(p);	/* the threads' caches onto the lists first */
	tcache_thawl(p);
	chain = q.pool == p ? detachl() : NULL;
	if (p->unlock != NULL)
		p->unlock(p);
	for (; chain != NULL; chain = n) {
		n = getnext(chain);
		poolfree(p, B2D(chain));
	}
}

/* See pool-impl.h.  Pool locked. */
Bhdr *
quick_takel(Pool *p, uintptr_t bsize, unsigned max, unsigned home, unsigned *n)
{
	Bhdr *run, *b, *rest, **head;
	unsigned long len;
	unsigned k;
	size_t i;

	*n = 0;
	if ((q.pool != NULL && q.pool != p) || bsize > QUICKMAXBLOCK || bsize % QUICKQ != 0 ||
	    max == 0)
		return NULL;
	i = bsize / QUICKQ;
	if (home < QUICK_NHOME)
		q.hwants[home][i] = 1;
	if (home >= QUICK_NHOME || q.head[home][i] == NULL)
		home = QUICK_SHARED;
	head = &q.head[home][i];
	if ((run = *head) == NULL) {
		q.misses++;
		return NULL;
	}
	q.pool = p;
	len = runlen(run);
	if (len <= max) {
		*head = runnext(run);	/* the whole run, without a walk */
		*n = (unsigned)len;
	} else {
		/* the first max blocks; the rest stays on top as a shorter run */
		for (b = run, k = 1; k < max && b != NULL; k++)
			b = getnext(b);
		if (b == NULL || (rest = getnext(b)) == NULL)
			panicblock(p, run, arenaof(p, run), "quick list run shorter than its length");
		setnext(b, NULL);
		setrun(rest, runnext(run), len - max);
		*head = rest;
		*n = max;
	}
	if (home != QUICK_SHARED)
		q.hcount[home][i] -= *n;
	q.count[i] -= *n;
	q.nblocks -= *n;
	q.bytes -= (uintptr_t)*n * bsize;
	return run;
}

/* See pool-impl.h.  Pool locked. */
void
quick_givel(Pool *p, Bhdr *run, unsigned n, unsigned home, unsigned long hits,
    unsigned long puts)
{
	Bhdr **head;
	size_t i;

	q.pool = p;
	q.hits += hits;
	q.puts += puts;
	p->nfree += puts;
	if (run == NULL || n == 0)
		return;
	i = run->size / QUICKQ;
	if (home < QUICK_NHOME && q.hwants[home][i] && q.hcount[home][i] + n <= HOMEMAX)
		q.hcount[home][i] += n;
	else
		home = QUICK_SHARED;	/* more than its home's thread has been taking back */
	head = &q.head[home][i];
	setrun(run, *head, n);
	*head = run;
	q.count[i] += n;
	q.nblocks += n;
	q.bytes += (uintptr_t)n * run->size;
}

/* See pool-impl.h.  Pool locked. */
void
quick_disownl(Pool *p, unsigned home)
{
	Bhdr *r, **shared;
	size_t i;

	if (q.pool != p || home >= QUICK_NHOME)
		return;
	for (i = 0; i < NQUICK; i++) {
		if ((r = q.head[home][i]) == NULL)
			continue;
		while (runnext(r) != NULL)
			r = runnext(r);
		shared = &q.head[QUICK_SHARED][i];
		setrun(r, *shared, runlen(r));
		*shared = q.head[home][i];
		q.head[home][i] = NULL;
		q.hcount[home][i] = 0;
		q.hwants[home][i] = 0;
	}
}

/* See internal.h. */
void
quick_setoff(int off)
{
	atomic_store(&quick_off, off);
}

/* See internal.h. */
void *
quick_alloc(Pool *p, size_t n)
{
	uintptr_t bsize;
	Bhdr *b, *chain, **head;
	size_t i;

	if (n > QUICKMAXBLOCK - BLOCKOVERHEAD)
		return NULL;
	bsize = (n + BLOCKOVERHEAD + QUICKQ - 1) & ~(uintptr_t)(QUICKQ - 1);
	if (bsize < MINBLOCKSIZE)
		bsize = MINBLOCKSIZE;
	i = bsize / QUICKQ;
	if (!quick_enabled(p) && q.nblocks == 0)
		return NULL;	/* a racy peek, but only a shortcut: the lock decides */
	p->lock(p);
	if (!quick_enabled(p) || (q.pool != NULL && q.pool != p)) {
		chain = q.pool == p ? detachl() : NULL;
		p->unlock(p);
		for (; chain != NULL; chain = b) {
			b = getnext(chain);
			poolfree(p, B2D(chain));
		}
		return NULL;
	}
	head = &q.head[QUICK_SHARED][i];
	b = *head;
	if (b == NULL) {
		q.misses++;
		p->unlock(p);
		return NULL;
	}
	if (runlen(b) > 1) {
		if (getnext(b) == NULL)
			panicblock(p, b, arenaof(p, b), "quick list run shorter than its length");
		setrun(getnext(b), runnext(b), runlen(b) - 1);
		*head = getnext(b);
	} else
		*head = runnext(b);
	q.count[i]--;
	q.nblocks--;
	q.bytes -= b->size;
	q.hits++;
	checkblock(p, b, arenaof(p, b));	/* its last owner's tail and guard bytes */
	b->magic = ALLOC_MAGIC;
	quick_settail(b, n);
	p->unlock(p);
	return B2D(b);
}

/* See internal.h. */
int
quick_free(Pool *p, void *v)
{
	Arena *a;
	Bhdr *b;

	p->lock(p);
	if (!quick_enabled(p) || (q.pool != NULL && q.pool != p))
		goto no;
	if ((a = arenaof(p, v)) == NULL || (uintptr_t)v < (uintptr_t)A2B(a) + sizeof(Bhdr))
		goto no;
	if (((uintptr_t)v & (ALIGNQ - 1)) != 0)
		goto no;
	b = (Bhdr *)v - 1;
	if (b->magic != ALLOC_MAGIC || b->size > QUICKMAXBLOCK || b->size % QUICKQ != 0)
		goto no;	/* the pool judges and frees it */
	checkblock(p, b, a);	/* as poolfree would: an overflow is reported at its free */
	p->nfree++;
	listl(p, b);
	p->unlock(p);
	return 1;
no:
	p->unlock(p);
	return 0;
}

/* See pool-impl.h.  Pool locked. */
int
quick_recyclel(Pool *p, Bhdr *b)
{
	if (!quick_enabled(p) || (q.pool != NULL && q.pool != p) || b->size > QUICKMAXBLOCK ||
	    b->size % QUICKQ != 0)
		return 0;
	/* no owner's bytes: a tail for a block used to its end, so no guard bytes to keep */
	quick_settail(b, b->size - BLOCKOVERHEAD);
	p->curalloc += b->size;		/* listed blocks count as allocated (to the lists) */
	/*
	 * The recycling thread's cache first: its next allocation of the size
	 * takes the block without the lock, and without a walk of the list.
	 */
	b->magic = QUICK_MAGIC;
	if (tcache_recyclel(p, b)) {
		q.pool = p;
		q.puts++;
		return 1;
	}
	listl(p, b);
	return 1;
}

/* Check that b, reached through list i, is a listed block of its size. */
static void
checklinkl(Pool *p, Bhdr *b, size_t i)
{
	Arena *a;

	a = arenaof(p, b);
	if (a == NULL || ((uintptr_t)b & (ALIGNQ - 1)) != 0 || b->magic != QUICK_MAGIC)
		panicblock(p, b, a, "bad quick list link");
	if (b->size != (uintptr_t)i * QUICKQ)
		panicblock(p, b, a, "quick block on the wrong list");
}

/*
 * Check the lists of size i, every home's, their runs NWALK at a time:
 * the run heads one after the other (each says how long its run is),
 * then the blocks of those runs side by side, one step of each in turn.
 * Returns the blocks found.
 */
static unsigned long
checklistl(Pool *p, size_t i)
{
	Bhdr *cur[NWALK], *r, *b;
	unsigned long left[NWALK], n, len;
	int k, j, going, h;

	n = 0;
	h = 0;
	r = q.head[0][i];
	for (;;) {
		while (r == NULL && h < QUICK_NHOME)
			r = q.head[++h][i];
		if (r == NULL)
			break;
		for (k = 0; k < NWALK && r != NULL; k++) {	/* the runs of one home */
			checklinkl(p, r, i);
			len = runlen(r);
			if (len == 0 || len > q.count[i] - n)
				panicblock(p, r, arenaof(p, r), "quick list longer than its count");
			n += len;
			cur[k] = r;
			left[k] = len;
			r = runnext(r);
		}
		do {
			going = 0;
			for (j = 0; j < k; j++) {
				if (left[j] == 0)
					continue;
				b = getnext(cur[j]);
				if (--left[j] == 0) {
					if (b != NULL)
						panicblock(p, cur[j], arenaof(p, cur[j]),
						    "quick list run longer than its length");
					continue;
				}
				if (b == NULL)
					panicblock(p, cur[j], arenaof(p, cur[j]),
					    "quick list run shorter than its length");
				checklinkl(p, b, i);
				cur[j] = b;
				going = 1;
			}
		} while (going);
	}
	return n;
}

/* See pool-impl.h.  Pool locked. */
void
quick_seenl(Pool *p, Bhdr *b)
{
	uintptr_t i;
	Bhdr *n;

	if (p != q.pool)
		return;
	if (b == NULL) {
		memset(seen, 0, sizeof seen);
		seenodd = 0;
		return;
	}
	i = b->size / QUICKQ;
	if (b->size % QUICKQ != 0 || i >= NQUICK) {
		seenodd = 1;
		return;
	}
	n = getnext(b);
	seen[i].n++;
	seen[i].addr += (uintptr_t)b;
	seen[i].next += (uintptr_t)n;
	seen[i].ends += n == NULL;
}

/*
 * Whether the lists of size i (every home's) hold exactly the blocks of
 * that size the walk of the arenas saw, told from their sums and from
 * the run heads alone: each block is a run's head or the link of exactly
 * one listed block of its size, so the addresses seen add up to the
 * links seen plus the heads, there are as many NULL links as runs, and
 * the runs' lengths add up to the count.  A link written over changes
 * the links' sum; 0 sends the check to follow every link (checklistl),
 * which names the block.  The heads are few (a run is up to a bin's
 * half), the blocks many, and following a list's links in order is a
 * miss of the cache and of the TLB at each one, where the walk of the
 * arenas reads them in address order.  Pool locked.
 */
static int
sumsagreel(Pool *p, size_t i)
{
	unsigned long len, runs, l;
	uintptr_t heads;
	Bhdr *r;
	int h;

	if (seen[i].n != q.count[i])
		return 0;
	len = runs = 0;
	heads = 0;
	for (h = 0; h <= QUICK_NHOME; h++) {
		for (r = q.head[h][i]; r != NULL; r = runnext(r)) {
			checklinkl(p, r, i);
			l = runlen(r);
			if (l == 0 || l > q.count[i] - len)
				return 0;
			len += l;
			runs++;
			heads += (uintptr_t)r;
		}
	}
	return len == q.count[i] && runs == seen[i].ends && seen[i].addr == seen[i].next + heads;
}

/* See pool-impl.h.  Pool locked. */
void
quick_checkl(Pool *p, unsigned long walked)
{
	unsigned long n, total;
	uintptr_t bytes;
	size_t i;

	if (q.pool != p) {
		if (walked != 0) {
			p->print(p, "pool %s: %lu quick blocks, and no quick lists\n", pname(p), walked);
			p->panic(p, "pool %s: stray quick blocks\n", pname(p));
			abort();
		}
		return;
	}
	total = 0;
	bytes = 0;
	for (i = 0; i < NQUICK; i++) {
		n = !seenodd && sumsagreel(p, i) ? q.count[i] : checklistl(p, i);
		if (n != q.count[i]) {
			p->panic(p, "pool %s: quick list %zu: %lu blocks, count says %lu\n", pname(p),
			    i * QUICKQ, n, q.count[i]);
			abort();
		}
		bytes += (uintptr_t)n * i * QUICKQ;
		total += n;
	}
	if (total != walked || total != q.nblocks || bytes != q.bytes) {
		p->print(p, "pool %s: %lu quick blocks in the arenas, %lu on the lists, count %lu\n",
		    pname(p), walked, total, q.nblocks);
		p->panic(p, "pool %s: bad quick list accounting\n", pname(p));
		abort();
	}
}

/* See internal.h.  Pool locked. */
void
quick_statsl(Pool *p, QuickStats *s)
{
	tcache_freezel(p);	/* every cached block onto the lists, every count in */
	tcache_thawl(p);
	s->blocks = q.pool == p ? q.nblocks : 0;
	s->bytes = q.pool == p ? q.bytes : 0;
	s->hits = q.hits;
	s->misses = q.misses;
	s->puts = q.puts;
	s->flushes = q.flushes;
	s->enabled = quick_enabled(p);
}

/* See internal.h. */
void
quick_stats(Pool *p, QuickStats *s)
{
	p->lock(p);
	quick_statsl(p, s);
	p->unlock(p);
}
