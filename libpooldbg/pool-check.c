/*
 * libpooldbg/pool-check.c -- checking, dumping and reporting the Pool.
 *
 * Owns every judgement of whether a block is sound and every message about
 * one: the block checks behind poolcheck, poolblockcheck and the checks of
 * poolfree and poolrealloc; the block dump printed before a panic; the
 * arena and block listings of pooldump and POOL_VERBOSITY.  A block is
 * reported by dumping what can safely be read of it and calling p->panic
 * with the reason; nothing here guesses or repairs, except the one NUL that
 * POOL_TOLERANCE forgives.  Never reads outside the pool's arenas.
 * Everything runs with the pool locked.
 */
#include "internal.h"

#include <stdlib.h>

#include "pool-impl.h"

const uchar guardbyte[4] = { 0xFE, 0xF1, 0xF0, 0xFA };

/* initial-exec, as tcache.c's: every block check notes itself here, and a
 * call of __tls_get_addr at each would cost more than the note */
static __thread PoolFault lastfault __attribute__((tls_model("initial-exec")));

/* See internal.h. */
EXPORT PoolFault *
pooldbg_poolfault(void)
{
	return &lastfault;
}

/*
 * Note what the pool is looking at, in case it reports it; with report
 * set, it is reported now (the note becomes live for the callbacks).
 */
void
poolfault(Pool *p, int what, const void *b, const void *addr, int report)
{
	lastfault.what = what;
	lastfault.block = (uintptr_t)b;
	lastfault.addr = (uintptr_t)addr;
	if (report) {
		lastfault.arena = (uintptr_t)arenaof(p, addr != NULL ? addr : b);
		lastfault.live = 1;
	}
}

/*
 * The arena holding address v, or NULL.  The index (poolreindexl) is
 * read in one pass of independent compares: the arenas' own headers lie
 * a mapping apart, and walking them missed the caches at every lookup of
 * a program whose mappings come between the arenas (a binary search of
 * the index is a chain of dependent loads, slower for 32 arenas or
 * fewer).  Past the index the arenas are walked from the last indexed
 * one, remembering the last answer.  Pool locked.
 */
Arena *
arenaof(Pool *p, const void *v)
{
	const uintptr_t *e;
	uintptr_t x;
	size_t base, n, i;
	Arena *a;

	x = (uintptr_t)v;
	e = p->arenaidx;
	n = (size_t)p->narenaidx;
	/* base: the arenas starting at or below x; the last of them may hold it */
	base = 0;
	for (i = 0; i < n; i++)
		base += e[2 * i] <= x;
	if (base == 0)
		return NULL;
	base--;
	if (x >= e[2 * base] && x < e[2 * base + 1])
		return (Arena *)e[2 * base];
	if (base + 1 < NARENAIDX)
		return NULL;
	a = p->arenahint;
	if (a != NULL && x >= (uintptr_t)a && x - (uintptr_t)a < a->asize)
		return a;
	for (a = ((Arena *)e[2 * base])->up; a != NULL; a = a->up) {
		if (x < (uintptr_t)a)
			break;
		if (x - (uintptr_t)a < a->asize) {
			p->arenahint = a;
			return a;
		}
	}
	return NULL;
}

/* Whether b's size is one a block of arena a can have. */
static int
sanesize(Bhdr *b, Arena *a)
{
	uintptr_t end;

	if (a == NULL)
		return 0;
	end = (uintptr_t)A2TB(a);
	return b->size % ALIGNQ == 0 && b->size >= MINBLOCKSIZE &&
	    (uintptr_t)b < end && b->size <= end - (uintptr_t)b;
}

static const char *
statename(uintptr_t magic)
{
	switch (magic) {
	case ALLOC_MAGIC:	return "alloc";
	case FREE_MAGIC:	return "free";
	case UNALLOC_MAGIC:	return "unalloc";
	case DEAD_MAGIC:
	case DEADHEAD_MAGIC:	return "dead";
	case QUICK_MAGIC:	return "quick";
	case ARENA_MAGIC:	return "arena";
	case ARENATAIL_MAGIC:	return "arenatail";
	default:		return "bad";
	}
}

static void
hexbytes(char *buf, const uchar *q, int n)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < n; i++) {
		buf[3 * i] = hex[q[i] >> 4];
		buf[3 * i + 1] = hex[q[i] & 15];
		buf[3 * i + 2] = i + 1 < n ? ' ' : '\0';
	}
	if (n == 0)
		buf[0] = '\0';
}

/*
 * Print what can be read of block b (in arena a, which may be NULL when
 * the block could not be placed) through p->print: the header words, and,
 * when the size is sane, the tail and the bytes around the end of the
 * caller's data.  Pool locked.
 */
void
printblock(Pool *p, Bhdr *b, Arena *a, const char *why)
{
	char buf[3 * 16 + 1];
	Btail *t;
	uchar *end, *lo, *hi;

	p->print(p, "pool %s: block %p: %s\n", pname(p), (void *)b, why);
	if (a == NULL) {
		p->print(p, "  (outside every arena; not read)\n");
		return;
	}
	p->print(p, "  header: magic %#lx (%s) size %#lx\n", (unsigned long)b->magic,
	    statename(b->magic), (unsigned long)b->size);
	if (b->magic == ARENA_MAGIC || b->magic == ARENATAIL_MAGIC || !sanesize(b, a))
		return;
	t = B2T(b);
	hexbytes(buf, (uchar *)t, 8);
	p->print(p, "  tail: %s size %#lx\n", buf, (unsigned long)t->size);
	if (b->magic != ALLOC_MAGIC || getslack(t) > b->size || getslack(t) < BLOCKOVERHEAD)
		return;
	end = (uchar *)B2D(b) + getdsize(b);
	lo = end - 8 < (uchar *)B2D(b) ? (uchar *)B2D(b) : end - 8;
	hi = end + 8 > (uchar *)t + 8 ? (uchar *)t + 8 : end + 8;
	hexbytes(buf, lo, hi - lo);
	p->print(p, "  data %p size %#lx; bytes %p..%p: %s\n", B2D(b),
	    (unsigned long)getdsize(b), (void *)lo, (void *)hi, buf);
}

/*
 * Dump b and report why through p->panic.  Does not return: if the
 * owner's panic does, the process aborts.
 */
void
panicblock(Pool *p, Bhdr *b, Arena *a, const char *why)
{
	if (lastfault.what == PF_NONE || lastfault.block != (uintptr_t)b)
		poolfault(p, PF_STRUCTURE, b, b, 0);
	poolfault(p, lastfault.what, b, (void *)lastfault.addr, 1);
	printblock(p, b, a, why);
	p->panic(p, "pool %s: %s: block %p\n", pname(p), why, (void *)b);
	abort();
}

/* POOL_TOLERANCE: forgive one NUL at q, report it, and put back what it hid. */
static int
tolerate(Pool *p, Bhdr *b, Arena *a, uchar *q, uchar want)
{
	if (!(p->flags & POOL_TOLERANCE) || *q != 0)
		return 0;
	poolfault(p, PF_TOLERATED, b, q, 1);
	printblock(p, b, a, "mem user overflow (one NUL, tolerated)");
	*q = want;
	return 1;
}

/* An allocated block: tail, slack, guard bytes. */
static void
checkalloc(Pool *p, Bhdr *b, Arena *a)
{
	Btail *t;
	uintptr_t slack;
	uchar *q, *eq, *start;

	t = B2T(b);
	poolfault(p, PF_TAIL, b, t, 0);
	if (t->magic1 != TAIL_MAGIC1)
		panicblock(p, b, a, "corrupt tail magic1");
	if (t->size != b->size)
		panicblock(p, b, a, "corrupt tail ptr");
	slack = getslack(t);
	if (slack < BLOCKOVERHEAD || slack > b->size)
		panicblock(p, b, a, "too much block data");
	start = (uchar *)B2D(b) + (b->size - slack);
	if (t->magic0 != TAIL_MAGIC0) {
		/* the caller's bytes end right at the tail: magic0 is the first byte past them */
		if (start != (uchar *)t || !tolerate(p, b, a, &t->magic0, TAIL_MAGIC0))
			panicblock(p, b, a, "corrupt tail magic0");
	}
	eq = start + 4 < (uchar *)t ? start + 4 : (uchar *)t;
	for (q = start; q < eq; q++) {
		if (*q == guardbyte[(uintptr_t)q % 4])
			continue;
		if (q == start && tolerate(p, b, a, q, guardbyte[(uintptr_t)q % 4]))
			continue;
		poolfault(p, PF_GUARD, b, q, 0);
		panicblock(p, b, a, "mem user overflow");
	}
}

/*
 * The first byte of dead block b's fill that is not DEAD_FILL, or NULL.
 * The fill starts and ends 16-byte aligned, so it is compared a word at a
 * time.
 */
static uchar *
deadfirstdiff(Bhdr *b)
{
	const uint64_t fill = 0x0101010101010101ull * DEAD_FILL;
	uint64_t *w, *ew;
	uchar *q;

	w = B2D(b);
	ew = (uint64_t *)deadend(b);
	for (; w < ew; w++)
		if (*w != fill)
			for (q = (uchar *)w;; q++)
				if (*q != DEAD_FILL)
					return q;
	return NULL;
}

/*
 * Check one block of arena a (which must hold it): its header, and by its
 * kind its tail, guard bytes or fill.  Reports through panicblock.
 * Pool locked.
 */
void
checkblock(Pool *p, Bhdr *b, Arena *a)
{
	Btail *t;
	uchar *q;

	switch (b->magic) {
	case ARENA_MAGIC:
		poolfault(p, PF_STRUCTURE, b, b, 0);
		if (b->size != sizeof(Arena))
			panicblock(p, b, a, "bad arena size");
		return;
	case ARENATAIL_MAGIC:
		poolfault(p, PF_STRUCTURE, b, b, 0);
		if (b->size != 0)
			panicblock(p, b, a, "bad arena tail size");
		return;
	case ALLOC_MAGIC:
	case FREE_MAGIC:
	case UNALLOC_MAGIC:
	case DEAD_MAGIC:
	case DEADHEAD_MAGIC:
	case QUICK_MAGIC:
		break;
	default:
		poolfault(p, PF_HEADER, b, &b->magic, 0);
		panicblock(p, b, a, "bad magic");
	}
	if (!sanesize(b, a)) {
		poolfault(p, PF_HEADER, b, &b->size, 0);
		panicblock(p, b, a, "bad block size");
	}
	if (b->magic == ALLOC_MAGIC || b->magic == QUICK_MAGIC) {
		/* a quick block keeps the tail and guard bytes of its last allocation */
		checkalloc(p, b, a);
		return;
	}
	t = B2T(b);
	poolfault(p, PF_TAIL, b, t, 0);
	if (t->magic0 != TAIL_MAGIC0 || t->magic1 != TAIL_MAGIC1)
		panicblock(p, b, a, "corrupt tail magic");
	if (t->size != b->size)
		panicblock(p, b, a, "corrupt tail ptr");
	if (ISDEAD(b) && (q = deadfirstdiff(b)) != NULL) {
		poolfault(p, PF_FILL, b, q, 0);
		panicblock(p, b, a, "dangling pointer write");
	}
}

/*
 * The body of poolcheck: walk every arena block by block, then the free
 * tree, and check that the counters agree with what was found.  Pool locked.
 */
void
poolcheckl(Pool *p)
{
	Arena *a, *prev;
	Bhdr *b, *end;
	uintptr_t nalloc, nfreeb, treebytes;
	unsigned long nquick, narenas;
	long nfree, ntree;

	tcache_freezel(p);	/* every thread's cached blocks onto the quick lists */
	quick_seenl(p, NULL);
	nquick = 0;
	nalloc = nfreeb = 0;
	nfree = 0;
	prev = NULL;
	narenas = 0;
	for (a = p->arenalist; a != NULL; prev = a, a = a->up, narenas++) {
		poolfault(p, PF_STRUCTURE, a, a, 0);
		if (a->down != prev || (prev != NULL && (uintptr_t)a < (uintptr_t)prev + prev->asize))
			panicblock(p, (Bhdr *)a, a, "bad arena list");
		if (narenas < NARENAIDX && (narenas >= (unsigned long)p->narenaidx ||
		    p->arenaidx[2 * narenas] != (uintptr_t)a ||
		    p->arenaidx[2 * narenas + 1] != (uintptr_t)a + a->asize))
			panicblock(p, (Bhdr *)a, a, "arena index disagrees with the arena list");
		checkblock(p, (Bhdr *)a, a);
		end = A2TB(a);
		for (b = A2B(a); b < end; b = B2NB(b)) {
			checkblock(p, b, a);
			if (b->magic == ALLOC_MAGIC)
				nalloc += b->size;
			else if (b->magic == QUICK_MAGIC) {
				nalloc += b->size;	/* allocated to the quick lists */
				nquick++;
				quick_seenl(p, b);
			} else if (b->magic == FREE_MAGIC) {
				nfreeb += b->size;
				nfree++;
			}
		}
		poolfault(p, PF_STRUCTURE, end, end, 0);
		if (b != end || end->magic != ARENATAIL_MAGIC)
			panicblock(p, end, a, "found wrong tail");
		checkblock(p, end, a);
	}
	if (narenas < (unsigned long)p->narenaidx) {
		p->print(p, "pool %s: the arena index holds %d arenas, the list %lu\n",
		    pname(p), p->narenaidx, narenas);
		poolfault(p, PF_STRUCTURE, NULL, NULL, 1);
		p->panic(p, "pool %s: arena index disagrees with the arena list\n", pname(p));
		abort();
	}
	quick_checkl(p, nquick);
	treebytes = 0;
	poolfault(p, PF_STRUCTURE, p->freeroot, p->freeroot, 0);
	ntree = treecheck(p, p->freeroot, 0, UINTPTR_MAX, nfree, &treebytes);
	if (ntree != nfree || treebytes != nfreeb)
		panicblock(p, (Bhdr *)p->freeroot, arenaof(p, p->freeroot), "bad free tree");
	if (nalloc != p->curalloc || nfreeb != p->curfree) {
		p->print(p, "pool %s: counted %lu allocated, %lu free; counters say %lu, %lu\n",
		    pname(p), (unsigned long)nalloc, (unsigned long)nfreeb,
		    (unsigned long)p->curalloc, (unsigned long)p->curfree);
		poolfault(p, PF_STRUCTURE, NULL, NULL, 1);
		p->panic(p, "pool %s: bad pool accounting\n", pname(p));
		abort();
	}
	tcache_thawl(p);
}

/*
 * Print a summary line, a line per arena, and with blocks set a line per
 * block.  Pool locked.
 */
void
pooldumpl(Pool *p, int blocks)
{
	Arena *a;
	Bhdr *b, *end;

	p->print(p, "pool %s: cursize %lu curalloc %lu curfree %lu maxsize %lu nfree %lu\n",
	    pname(p), (unsigned long)p->cursize, (unsigned long)p->curalloc,
	    (unsigned long)p->curfree, (unsigned long)p->maxsize, p->nfree);
	for (a = p->arenalist; a != NULL; a = a->up) {
		p->print(p, "arena %p size %lu\n", (void *)a, (unsigned long)a->asize);
		if (!blocks)
			continue;
		end = A2TB(a);
		for (b = A2B(a); b < end; b = B2NB(b)) {
			if (!sanesize(b, a)) {
				p->print(p, "  %p %s size %#lx (walk stops here)\n", (void *)b,
				    statename(b->magic), (unsigned long)b->size);
				break;
			}
			if (b->magic == ALLOC_MAGIC)
				p->print(p, "  %p alloc size %lu data %lu\n", (void *)b,
				    (unsigned long)b->size, (unsigned long)getdsize(b));
			else
				p->print(p, "  %p %s size %lu\n", (void *)b, statename(b->magic),
				    (unsigned long)b->size);
		}
	}
}
