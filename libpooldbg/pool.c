/*
 * libpooldbg/pool.c -- the calls of pool(3): allocation, freeing,
 * reallocation, alignment, arenas and compaction.
 *
 * The block layout is described in pool-impl.h; the free tree lives in
 * pool-tree.c and every check and report in pool-check.c.
 *
 * Every public call has one shape: lock, check the whole pool under
 * POOL_PARANOIA, print the arenas under POOL_VERBOSITY, call the worker
 * (whose name ends in l: lock held), check and print again, log one line
 * under POOL_LOGGING, unlock.  Workers never call public functions.
 *
 * Accounting: cursize is every byte obtained from p->alloc; curalloc and
 * curfree are the sizes of allocated and free blocks.  Arena headers and
 * tails and dead (POOL_NOREUSE) blocks are in neither.
 *
 * This file never allocates memory other than through p->alloc, and speaks
 * only through the Pool's callbacks.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pool-impl.h"

_Static_assert(POOLDBG_ALLOC_MAGIC == ALLOC_MAGIC, "malloc.c's copy of ALLOC_MAGIC");

#define DPRINT(p, ...)	do { if ((p)->flags & POOL_DEBUGGING) (p)->print((p), __VA_ARGS__); } while (0)

enum { NOCOMPACT, CANCOMPACT, QUIETLY };	/* how getblock tries: QUIETLY, no compaction nor a word */

static int poolcompactl(Pool *p);

/* The effective quantum: a power of two, at least ALIGNQ. */
static uintptr_t
quantum(Pool *p)
{
	uintptr_t q;

	q = p->quantum < ALIGNQ ? ALIGNQ : p->quantum;
	if (q & (q - 1))
		q = (uintptr_t)1 << (sizeof(q) * CHAR_BIT - __builtin_clzl(q));
	return q;
}

static uintptr_t
roundup(uintptr_t n, uintptr_t q)
{
	return (n + q - 1) & ~(q - 1);
}

/*
 * The block size that holds dsize bytes of data, or 0 when no block can.
 */
static uintptr_t
dsize2bsize(Pool *p, size_t dsize)
{
	uintptr_t q, b, min;

	q = quantum(p);
	if (dsize > UINTPTR_MAX / 4)
		return 0;
	b = roundup(dsize + BLOCKOVERHEAD, q);
	min = roundup(p->minblock > MINBLOCKSIZE ? p->minblock : MINBLOCKSIZE, q);
	return b < min ? min : b;
}

/*
 * POOL_ANTAGONISM: fill n bytes at v with 32-bit words of
 * (sig<<24) ^ (offset mod 2^24), trailing bytes with sig.
 */
static void
antagonize(void *v, int sig, size_t n)
{
	uchar *c;
	size_t i;
	uint32_t w;

	c = v;
	for (i = 0; i + 4 <= n; i += 4) {
		w = ((uint32_t)sig << 24) ^ ((uint32_t)i & 0xFFFFFF);
		memcpy(c + i, &w, 4);
	}
	for (; i < n; i++)
		c[i] = sig;
}

#define ANTAGONIZE(p, v, sig, n)	do { if ((p)->flags & POOL_ANTAGONISM) antagonize((v), (sig), (n)); } while (0)

/* Write the tail of b for dsize bytes of data and lay the guard bytes after them. */
static void
setdsize(Bhdr *b, uintptr_t dsize)
{
	Btail *t;
	uintptr_t slack;
	uchar *q, *eq;

	t = B2T(b);
	slack = b->size - dsize;
	t->magic0 = TAIL_MAGIC0;
	t->slack[0] = slack >> 8;
	t->slack[1] = slack;
	t->magic1 = TAIL_MAGIC1;
	t->slackhi[0] = slack >> 40;
	t->slackhi[1] = slack >> 32;
	t->slackhi[2] = slack >> 24;
	t->slackhi[3] = slack >> 16;
	t->size = b->size;
	q = (uchar *)B2D(b) + dsize;
	eq = q + 4 < (uchar *)t ? q + 4 : (uchar *)t;
	for (; q < eq; q++)
		*q = guardbyte[(uintptr_t)q % 4];
}

/* Make b, of the given size, a free block and put it in the tree as it is. */
static void
insertfree(Pool *p, Bhdr *b, uintptr_t size)
{
	Btail *t;

	b->magic = FREE_MAGIC;
	b->size = size;
	t = B2T(b);
	t->magic0 = TAIL_MAGIC0;
	t->magic1 = TAIL_MAGIC1;
	t->size = size;
	p->curfree += size;
	treeinsert(p, (Free *)b);
}

/*
 * b's left neighbour if it is a free block, else NULL.  The neighbour is
 * found through the tail before b, which is only trusted as far as it
 * points inside b's arena at a free block of the size it claims.
 */
static Bhdr *
leftfree(Pool *p, Bhdr *b)
{
	Btail *pt;
	Arena *a;
	Bhdr *pb;

	pt = B2PT(b);
	if (pt->magic0 != TAIL_MAGIC0 || pt->magic1 != TAIL_MAGIC1)
		return NULL;
	if ((a = arenaof(p, b)) == NULL || pt->size > (uintptr_t)b - (uintptr_t)A2B(a))
		return NULL;
	pb = (Bhdr *)((uchar *)b - pt->size);
	return ISFREE(pb) && pb->size == pt->size ? pb : NULL;
}

/*
 * Return b (not in the tree, not counted) to the free blocks, joined with
 * free neighbours on both sides.
 */
static void
freeblockl(Pool *p, Bhdr *b)
{
	Bhdr *nb, *pb;
	uintptr_t size;

	size = b->size;
	nb = B2NB(b);
	if (ISFREE(nb)) {
		treedelete(p, (Free *)nb);
		p->curfree -= nb->size;
		size += nb->size;
		nb->magic = NOT_MAGIC;
	}
	if ((pb = leftfree(p, b)) != NULL) {
		treedelete(p, (Free *)pb);
		p->curfree -= pb->size;
		size += pb->size;
		b->magic = NOT_MAGIC;
		b = pb;
	}
	DPRINT(p, "pool %s: free block %p size %lu\n", pname(p), (void *)b, (unsigned long)size);
	insertfree(p, b, size);
}

/*
 * Whether a block of size bytes, of which a block of need bytes is
 * wanted, is cut in two: when the rest is worth a free block of its own.
 */
static int
worthcut(Pool *p, uintptr_t size, uintptr_t need)
{
	uintptr_t extra, min;

	if (need > size)
		return 0;
	extra = size - need;
	min = p->minblock > MINBLOCKSIZE ? p->minblock : MINBLOCKSIZE;
	return extra >= 65536 || (extra >= size / 4 && extra >= min);
}

/*
 * Cut b (allocated) down to the block size dsize bytes need when the rest
 * is worth a free block of its own, then record dsize in the tail.  The
 * first olddsize bytes of b's data held the caller's bytes; under
 * POOL_ANTAGONISM those that fall in the split-off fragment are marked
 * (the rest of it came from free space and is marked already).
 */
static void
trim(Pool *p, Bhdr *b, uintptr_t dsize, uintptr_t olddsize)
{
	uintptr_t need, extra, fragoff;
	Bhdr *frag;

	need = dsize2bsize(p, dsize);
	extra = b->size - need;
	if (worthcut(p, b->size, need)) {
		b->size = need;
		frag = B2NB(b);
		frag->magic = UNALLOC_MAGIC;
		frag->size = extra;
		p->curalloc -= extra;
		DPRINT(p, "pool %s: trim %p: %lu bytes split off\n", pname(p), (void *)b,
		    (unsigned long)extra);
		fragoff = need + sizeof(Bhdr);	/* frag's data, from b's data start */
		if (olddsize > fragoff)
			ANTAGONIZE(p, B2D(frag), MARK_FRAG, olddsize - fragoff);
		/* b must be whole before frag looks left at it */
		b->magic = ALLOC_MAGIC;
		setdsize(b, dsize);
		freeblockl(p, frag);
		return;
	}
	b->magic = ALLOC_MAGIC;
	setdsize(b, dsize);
}

/* Join arena hi onto lo, which ends where hi starts, if p->merge agrees. */
static void
arenamerge(Pool *p, Arena *lo, Arena *hi)
{
	Bhdr *j;

	if (p->merge == NULL || !p->merge(lo, hi))
		return;
	DPRINT(p, "pool %s: merge arenas %p and %p\n", pname(p), (void *)lo, (void *)hi);
	/* lo's arena tail and hi's header become one free block */
	j = A2TB(lo);
	j->size = sizeof(Bhdr) + sizeof(Arena);
	lo->asize += hi->asize;
	lo->up = hi->up;
	if (hi->up != NULL)
		hi->up->down = lo;
	poolreindexl(p);
	freeblockl(p, j);
}

/* See pool-impl.h. */
void
poolreindexl(Pool *p)
{
	Arena *a;
	int n;

	n = 0;
	for (a = p->arenalist; a != NULL && n < NARENAIDX; a = a->up, n++) {
		p->arenaidx[2 * n] = (uintptr_t)a;
		p->arenaidx[2 * n + 1] = (uintptr_t)a + a->asize;
	}
	p->narenaidx = n;
	p->arenahint = NULL;
}

enum { ARENA_OK, ARENA_TOOBIG, ARENA_NOMEM };

/*
 * Get an arena with room for a block of bsize bytes and add it, as one free
 * block, to the pool; join it to adjacent arenas.
 */
static int
newarena(Pool *p, uintptr_t bsize)
{
	Arena *a, *lo, *hi;
	uintptr_t usable, asize, adj;
	void *v;

	usable = bsize;
	if (p->minarena > ARENAOVERHEAD && p->minarena - ARENAOVERHEAD > usable)
		usable = p->minarena - ARENAOVERHEAD;
	usable = roundup(usable, quantum(p));
	asize = usable + ARENAOVERHEAD;
	if (usable < bsize || asize < usable)
		return ARENA_NOMEM;
	if (p->maxsize != 0 && (asize > p->maxsize || p->cursize > p->maxsize - asize))
		return ARENA_TOOBIG;
	if ((v = p->alloc(asize)) == NULL)
		return ARENA_NOMEM;
	p->cursize += asize;
	adj = -(uintptr_t)v & (ALIGNQ - 1);
	a = (Arena *)((uchar *)v + adj);
	usable = (asize - adj - ARENAOVERHEAD) & ~(uintptr_t)(ALIGNQ - 1);
	a->asize = usable + ARENAOVERHEAD;

	a->h.magic = ARENA_MAGIC;
	a->h.size = sizeof(Arena);
	a->pad = 0;
	memset(&a->tail, 0, sizeof a->tail);
	a->tail.magic0 = TAIL_MAGIC0;
	a->tail.magic1 = TAIL_MAGIC1;
	a->tail.size = sizeof(Arena);
	A2TB(a)->magic = ARENATAIL_MAGIC;
	A2TB(a)->size = 0;

	/* keep the list in address order */
	lo = NULL;
	for (hi = p->arenalist; hi != NULL && (uintptr_t)hi < (uintptr_t)a; hi = hi->up)
		lo = hi;
	a->down = lo;
	a->up = hi;
	if (lo != NULL)
		lo->up = a;
	else
		p->arenalist = a;
	if (hi != NULL)
		hi->down = a;
	poolreindexl(p);

	if (p->flags & POOL_LOGGING) {
		if (p->logstack != NULL)
			p->logstack(p);
		p->print(p, "newarena %zu\n", (size_t)asize);
	}
	DPRINT(p, "pool %s: new arena %p size %lu\n", pname(p), (void *)a, (unsigned long)asize);
	ANTAGONIZE(p, B2D(A2B(a)), MARK_FRAG, usable - BLOCKOVERHEAD);
	insertfree(p, A2B(a), usable);

	if (hi != NULL && (uchar *)a + a->asize == (uchar *)hi)
		arenamerge(p, a, hi);
	if (lo != NULL && (uchar *)lo + lo->asize == (uchar *)a)
		arenamerge(p, lo, a);
	return ARENA_OK;
}

/* f, taken out of the free structure for a block of bsize bytes, counted as allocated. */
static Bhdr *
taken(Pool *p, Free *f, uintptr_t bsize)
{
	DPRINT(p, "pool %s: block %p size %lu for %lu\n", pname(p), (void *)f,
	    (unsigned long)f->h.size, (unsigned long)bsize);
	p->curfree -= f->h.size;
	p->curalloc += f->h.size;
	return &f->h;
}

/*
 * A block of at least bsize bytes out of the free tree: when none fits,
 * the quick lists' blocks are put back in it and it is asked again, then
 * a new arena is taken, and compaction is tried once when that is
 * refused (how CANCOMPACT).  The block is taken out of the tree and
 * counted as allocated, but its header still says FREE.  NULL with errno
 * set when there is no memory, said unless how is QUIETLY.
 */
static Bhdr *
getblock(Pool *p, uintptr_t bsize, int how)
{
	Free *f;
	int r;

	if ((f = treetake(p, bsize)) == NULL && quick_spilll(p))
		f = treetake(p, bsize);
	if (f == NULL) {
		r = newarena(p, bsize);
		if (r == ARENA_OK)
			f = treetake(p, bsize);
		if (f == NULL && how == CANCOMPACT && poolcompactl(p))
			f = treetake(p, bsize);
		if (f == NULL) {
			if (r == ARENA_TOOBIG && how != QUIETLY)
				p->print(p, "pool %s: pool too big: %lu+%lu > %lu\n", pname(p),
				    (unsigned long)p->cursize, (unsigned long)bsize,
				    (unsigned long)p->maxsize);
			errno = ENOMEM;
			return NULL;
		}
	}
	return taken(p, f, bsize);
}

/*
 * getblock and trim at once when the best fit, t, is cut and its rest can
 * take its place in the tree (treecut): the block and the rest are those
 * of the long way, without the rest taken out of the tree and put back.
 * Returns b, allocated for dsize bytes, or NULL with nothing changed.
 * A program whose heap grows cuts nearly every block it asks for from the
 * one large free block at the arena's end, so this is its usual path.
 */
static Bhdr *
cutl(Pool *p, Free *t, uintptr_t bsize, uintptr_t dsize)
{
	uintptr_t rest;
	Bhdr *b;
	Free *r;

	b = &t->h;
	if (!worthcut(p, b->size, bsize) || ISFREE(B2NB(b)))
		return NULL;	/* a free right neighbour, joined by the long way, is never there */
	rest = b->size - bsize;
	r = (Free *)((uchar *)b + bsize);
	if (!treecut(p, t, r, rest))
		return NULL;
	DPRINT(p, "pool %s: block %p size %lu for %lu: cut, its rest %p size %lu in its place\n",
	    pname(p), (void *)b, (unsigned long)b->size, (unsigned long)bsize, (void *)r,
	    (unsigned long)rest);
	r->h.magic = FREE_MAGIC;
	B2T(&r->h)->size = rest;	/* t's tail, with its magics */
	p->curfree -= bsize;
	p->curalloc += bsize;
	b->size = bsize;
	b->magic = ALLOC_MAGIC;
	setdsize(b, dsize);
	return b;
}

static void *
poolallocl(Pool *p, size_t n, int cancompact)
{
	uintptr_t bsize;
	Free *t;
	Bhdr *b;

	if ((bsize = dsize2bsize(p, n)) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	if ((t = treefit(p, bsize)) != NULL) {
		if ((b = cutl(p, t, bsize, n)) != NULL)
			return B2D(b);
		b = taken(p, treepick(p, t), bsize);
	} else if ((b = getblock(p, bsize, cancompact)) == NULL)
		return NULL;
	trim(p, b, n, 0);
	return B2D(b);
}

/* See pool-impl.h.  Pool locked. */
Bhdr *
poolcarvel(Pool *p, uintptr_t bsize, unsigned k, unsigned *n)
{
	uintptr_t left;
	Bhdr *b, *chain, **tail;

	*n = 0;
	if (k == 0 || bsize < MINBLOCKSIZE || bsize % quantum(p) != 0 || bsize > (uintptr_t)-1 / k)
		return NULL;
	if ((b = getblock(p, bsize * k, QUIETLY)) == NULL)
		return NULL;	/* the caller asks for less */
	/* cut in address order; a rest too small for a block of its own stays with the last */
	left = b->size;
	chain = NULL;
	tail = &chain;
	while (*n < k && left >= bsize && (left == bsize || left - bsize >= MINBLOCKSIZE)) {
		b->magic = QUICK_MAGIC;
		b->size = bsize;
		quick_settail(b, bsize - BLOCKOVERHEAD);
		*tail = b;
		tail = (Bhdr **)B2D(b);
		left -= bsize;
		(*n)++;
		b = (Bhdr *)((uchar *)b + bsize);
	}
	*tail = NULL;
	if (left != 0) {
		/* what is left, whole, back to the tree */
		b->size = left;
		b->magic = UNALLOC_MAGIC;
		B2T(b)->size = left;
		p->curalloc -= left;
		freeblockl(p, b);
	}
	return chain;
}

/*
 * The block holding the pointer v: v is its data start, or lies in the
 * word after the ALIGN_MAGIC words that follow the data start.  Reports a
 * pointer that is no allocated block (freed, interior, foreign), without
 * reading outside the arenas.  Sets *ap to the arena.
 */
static Bhdr *
D2B(Pool *p, void *v, Arena **ap)
{
	Arena *a;
	uintptr_t *u, *w;
	Bhdr *b;

	a = arenaof(p, v);
	if (a == NULL)
		goto bad;
	w = (uintptr_t *)((uintptr_t)v & ~(uintptr_t)(sizeof(uintptr_t) - 1));
	for (u = w; (uintptr_t)(u - 1) > (uintptr_t)A2B(a) && u[-1] == ALIGN_MAGIC; u--)
		;
	if (u == w && (void *)w != v)
		goto bad;	/* inside a word, and no aligned pointer */
	b = (Bhdr *)((uchar *)u - sizeof(Bhdr));
	if ((uintptr_t)b < (uintptr_t)A2B(a) || b->magic != ALLOC_MAGIC)
		goto bad;
	*ap = a;
	return b;
bad:
	poolfault(p, PF_NOTBLOCK, NULL, v, 1);
	p->print(p, "pool %s: %p: D2B called on non-block%s\n", pname(p), v,
	    a == NULL ? " (outside every arena)" : "");
	if (a != NULL && (uintptr_t)v >= (uintptr_t)A2B(a) + sizeof(Bhdr))
		p->print(p, "  words before it: %#lx %#lx\n", (unsigned long)((uintptr_t *)w)[-2],
		    (unsigned long)((uintptr_t *)w)[-1]);
	p->panic(p, "pool %s: D2B called on non-block: block %p (double-free?)\n", pname(p), v);
	abort();
}

static void
poolfreel(Pool *p, void *v)
{
	Arena *a;
	Bhdr *b;

	b = D2B(p, v, &a);
	checkblock(p, b, a);
	p->nfree++;
	p->curalloc -= b->size;
	if (p->flags & POOL_NOREUSE) {
		b->magic = DEAD_MAGIC;
		memset(B2D(b), DEAD_FILL, b->size - BLOCKOVERHEAD);
		return;
	}
	if (b->size >= BLOCKOVERHEAD + 32)
		ANTAGONIZE(p, (uchar *)B2D(b) + 32, MARK_FREED, b->size - BLOCKOVERHEAD - 32);
	b->magic = UNALLOC_MAGIC;
	freeblockl(p, b);
}

/* See pool-impl.h. */
void
poolunlistl(Pool *p, Bhdr *b)
{
	p->curalloc -= b->size;
	b->magic = UNALLOC_MAGIC;
	freeblockl(p, b);
}

/* poolquarantine's worker: as poolfreel under POOL_NOREUSE, of b, checked already. */
static void
poolquarantinel(Pool *p, Bhdr *b)
{
	p->nfree++;
	p->curalloc -= b->size;
	/* the head is where stale pointers write; POOL_PARANOIA pays for all of it */
	b->magic = p->flags & POOL_PARANOIA ? DEAD_MAGIC : DEADHEAD_MAGIC;
	memset(B2D(b), DEAD_FILL, (size_t)(deadend(b) - (uchar *)B2D(b)));
}

/* poolrecycle's worker: b must be a dead block of p; its fill is checked first. */
static void
poolrecyclel(Pool *p, Bhdr *b)
{
	Arena *a;

	a = arenaof(p, b);
	if (a == NULL || !ISDEAD(b)) {
		poolfault(p, PF_NOTBLOCK, b, b, 0);
		panicblock(p, b, a, "recycling a block that is not dead");
	}
	checkblock(p, b, a);
	if (quick_recyclel(p, b))
		return;		/* the next request of its size takes it on the fast path */
	if (b->size >= BLOCKOVERHEAD + 32)
		ANTAGONIZE(p, (uchar *)B2D(b) + 32, MARK_FREED, b->size - BLOCKOVERHEAD - 32);
	b->magic = UNALLOC_MAGIC;
	freeblockl(p, b);
}

/* The smallest c >= v with c = offset (mod align). */
static uchar *
alignptr(uchar *v, size_t align, size_t offset)
{
	uintptr_t r;

	if (align <= 1)
		return v;
	r = (uintptr_t)v % align;
	return v + (offset + align - r) % align;
}

/*
 * Give the first skip bytes of b's data back to the free blocks when there
 * are enough of them for a block; returns the block that now holds the
 * rest (b itself, or a block further on).
 */
static Bhdr *
freefromfront(Pool *p, Bhdr *b, uintptr_t skip, uintptr_t n)
{
	uintptr_t k, q;
	Bhdr *nb;

	q = quantum(p);
	k = skip & ~(q - 1);
	if (skip - k != 0 && skip - k < sizeof(uintptr_t))
		k = k >= q ? k - q : 0;	/* leave room for an ALIGN word */
	if (k < MINBLOCKSIZE || k < p->minblock || b->size - k < dsize2bsize(p, skip - k + n))
		return b;
	nb = (Bhdr *)((uchar *)b + k);
	nb->magic = ALLOC_MAGIC;
	nb->size = b->size - k;
	b->size = k;
	b->magic = UNALLOC_MAGIC;
	p->curalloc -= k;
	freeblockl(p, b);
	return nb;
}

/* Whether [c, c+n) crosses a multiple of span. */
static int
crossesspan(uchar *c, size_t n, size_t span)
{
	return (uintptr_t)c / span != ((uintptr_t)c + (n ? n : 1) - 1) / span;
}

static uintptr_t
gcd(uintptr_t a, uintptr_t b)
{
	uintptr_t t;

	while (b != 0) {
		t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static void *
poolallocalignl(Pool *p, size_t n, size_t align, long offset, size_t span)
{
	uintptr_t off, asize, skip, ae, g, room;
	uchar *v, *c;
	uintptr_t *u;
	Arena *a;
	Bhdr *b;

	off = 0;
	if (align > 1) {
		if (offset >= 0)
			off = (uintptr_t)offset % align;
		else
			off = (align - (uintptr_t)(-(offset + 1)) % align - 1) % align;
	}
	if (span != 0 && n > span) {
		errno = EINVAL;
		return NULL;
	}
	/*
	 * Room to slide to the alignment and a word past the data start;
	 * with a span, to slide through a whole period of the pattern the
	 * alignment and the span repeat in, lcm(align, span).
	 */
	ae = align > 1 ? align : 1;
	room = ae;
	if (span != 0) {
		g = gcd(ae, span);
		if (ae / g > UINTPTR_MAX / 8 / span) {
			errno = ENOMEM;
			return NULL;
		}
		room = ae / g * span + ae;
	}
	asize = n + room + sizeof(uintptr_t);
	if (n > UINTPTR_MAX / 8 || room > UINTPTR_MAX / 8) {
		errno = ENOMEM;
		return NULL;
	}
	if ((v = poolallocl(p, asize, CANCOMPACT)) == NULL)
		return NULL;
	/*
	 * Slide c forward until it is aligned, leaves room for an ALIGN word
	 * when it is not the data start, and does not cross a span boundary:
	 * every pointer between a crossing c and the next boundary crosses
	 * too, so each step goes to the next aligned pointer past a boundary.
	 */
	c = alignptr(v, align, off);
	while (c + n <= v + asize) {
		if (c != v && c < v + sizeof(uintptr_t))
			c = alignptr(v + sizeof(uintptr_t), align, off);
		else if (span != 0 && crossesspan(c, n, span))
			c = alignptr(c + span - (uintptr_t)c % span, align, off);
		else
			break;
	}
	if (c + n > v + asize) {
		/* a whole period held no such pointer: there is none */
		poolfreel(p, v);
		errno = EINVAL;
		return NULL;
	}
	b = D2B(p, v, &a);
	b = freefromfront(p, b, c - v, n);
	v = B2D(b);
	skip = c - v;
	for (u = (uintptr_t *)v; (uchar *)(u + 1) <= c; u++)
		*u = ALIGN_MAGIC;
	trim(p, b, skip + n, 0);
	ANTAGONIZE(p, c, MARK_ALIGN, n);
	return c;
}

static void *
poolreallocl(Pool *p, void *v, size_t n)
{
	Arena *a;
	Bhdr *b, *nb, *pb;
	uintptr_t skip, oldn, need, total;
	uchar *d;
	void *nv;

	if (v == NULL)
		return poolallocl(p, n, CANCOMPACT);
	b = D2B(p, v, &a);
	checkblock(p, b, a);
	if (n == 0) {
		poolfreel(p, v);
		return NULL;
	}
	skip = (uchar *)v - (uchar *)B2D(b);
	oldn = getdsize(b) - skip;
	if ((need = dsize2bsize(p, skip + n)) == 0) {
		errno = ENOMEM;
		return NULL;
	}

	/* in place: shrinking, or growing into the slack */
	if (need <= b->size)
		goto inplace;

	/* into a free right neighbour */
	nb = B2NB(b);
	if (ISFREE(nb) && b->size + nb->size >= need) {
		treedelete(p, (Free *)nb);
		p->curfree -= nb->size;
		p->curalloc += nb->size;
		b->size += nb->size;
		nb->magic = NOT_MAGIC;
		DPRINT(p, "pool %s: realloc %p grows right\n", pname(p), v);
		goto inplace;
	}

	/* into a free left neighbour, maybe with the right one too */
	if ((pb = leftfree(p, b)) != NULL) {
		total = pb->size + b->size + (ISFREE(nb) ? nb->size : 0);
		if (total >= dsize2bsize(p, n)) {
			treedelete(p, (Free *)pb);
			p->curfree -= pb->size;
			p->curalloc += pb->size;
			if (ISFREE(nb)) {
				treedelete(p, (Free *)nb);
				p->curfree -= nb->size;
				p->curalloc += nb->size;
				nb->magic = NOT_MAGIC;
			}
			b->magic = NOT_MAGIC;
			d = B2D(pb);
			memmove(d, v, oldn < n ? oldn : n);
			pb->size = total;
			pb->magic = ALLOC_MAGIC;
			DPRINT(p, "pool %s: realloc %p grows left to %p\n", pname(p), v, (void *)d);
			trim(p, pb, n, 0);
			if (n > oldn)
				ANTAGONIZE(p, d + oldn, MARK_GROW, n - oldn);
			return d;
		}
	}

	/* elsewhere; no compaction, which could move v under us */
	if ((nv = poolallocl(p, n, NOCOMPACT)) == NULL)
		return NULL;
	memmove(nv, v, oldn < n ? oldn : n);
	if (n > oldn)
		ANTAGONIZE(p, (uchar *)nv + oldn, MARK_GROW, n - oldn);
	poolfreel(p, v);
	return nv;

inplace:
	trim(p, b, skip + n, skip + oldn);
	if (n > oldn)
		ANTAGONIZE(p, (uchar *)v + oldn, MARK_GROW, n - oldn);
	return v;
}

static size_t
poolmsizel(Pool *p, void *v)
{
	Arena *a;
	Bhdr *b;
	uintptr_t skip;

	b = D2B(p, v, &a);
	checkblock(p, b, a);
	skip = (uchar *)v - (uchar *)B2D(b);
	setdsize(b, b->size - BLOCKOVERHEAD);
	return b->size - BLOCKOVERHEAD - skip;
}

/*
 * Slide the allocated blocks of every arena down over the free space,
 * telling p->move of each; blocks holding an aligned pointer and dead
 * blocks stay put.  Returns whether anything moved.
 */
static int
poolcompactl(Pool *p)
{
	Arena *a;
	Bhdr *b, *nb, *wb, *end;
	uintptr_t size;
	int moved;

	if (p->move == NULL || p->nfree == p->lastcompact)
		return 0;
	p->lastcompact = p->nfree;
	moved = 0;
	for (a = p->arenalist; a != NULL; a = a->up) {
		end = A2TB(a);
		wb = A2B(a);
		for (b = A2B(a); b < end; b = nb) {
			nb = B2NB(b);
			if (ISFREE(b)) {
				treedelete(p, (Free *)b);
				p->curfree -= b->size;
				continue;
			}
			if (ISDEAD(b) || ((uintptr_t *)B2D(b))[0] == ALIGN_MAGIC) {
				/* pinned: the space before it becomes one free block */
				if (wb != b)
					insertfree(p, wb, (uchar *)b - (uchar *)wb);
				wb = nb;
				continue;
			}
			if (wb != b) {
				size = b->size;
				memmove(wb, b, size);
				if ((uchar *)wb + size <= (uchar *)b)
					b->magic = NOT_MAGIC;	/* no stale header behind */
				p->move(B2D(b), B2D(wb));
				moved = 1;
				wb = (Bhdr *)((uchar *)wb + size);
				continue;
			}
			wb = nb;
		}
		if (wb != end)
			insertfree(p, wb, (uchar *)end - (uchar *)wb);
	}
	DPRINT(p, "pool %s: compacted, %s\n", pname(p), moved ? "blocks moved" : "nothing moved");
	return moved;
}

/* ---- the public calls ------------------------------------------------- */

static void
enter(Pool *p)
{
	if (p->lock != NULL)
		p->lock(p);
	if (p->flags & POOL_PARANOIA)
		poolcheckl(p);
	if (p->flags & POOL_VERBOSITY)
		pooldumpl(p, 0);
}

static void
leave(Pool *p)
{
	if (p->flags & POOL_PARANOIA)
		poolcheckl(p);
	if (p->flags & POOL_VERBOSITY)
		pooldumpl(p, 0);
}

static void
unlock(Pool *p)
{
	if (p->unlock != NULL)
		p->unlock(p);
}

#define LOG(p, ...) do { \
	if ((p)->flags & POOL_LOGGING) { \
		if ((p)->logstack != NULL) \
			(p)->logstack(p); \
		(p)->print((p), __VA_ARGS__); \
	} \
} while (0)

/* See pool-impl.h. */
void *
poolallocheld(Pool *p, size_t n)
{
	return poolallocl(p, n, CANCOMPACT);
}

/*
 * Allocate n bytes; poolalloc(p, 0) returns a block too.  NULL with errno
 * ENOMEM when there is no memory.  The caller frees with poolfree.
 */
EXPORT void *
poolalloc(Pool *p, size_t n)
{
	void *v;
	int e;

	enter(p);
	v = poolallocl(p, n, CANCOMPACT);
	e = errno;
	if (v != NULL)
		ANTAGONIZE(p, v, MARK_ALLOC, n);
	leave(p);
	LOG(p, "poolalloc %p %zu = %p\n", (void *)p, n, v);
	unlock(p);
	errno = e;
	return v;
}

/*
 * Allocate n bytes at an address equal to offset modulo align (align 0:
 * any), not crossing a multiple of span (span 0: no limit).  NULL with
 * errno when there is no memory or the request cannot be met.
 */
EXPORT void *
poolallocalign(Pool *p, size_t n, size_t align, long offset, size_t span)
{
	void *v;
	int e;

	enter(p);
	v = poolallocalignl(p, n, align, offset, span);
	e = errno;
	leave(p);
	LOG(p, "poolallocalign %p %zu %zu %ld %zu = %p\n", (void *)p, n, align, offset, span, v);
	unlock(p);
	errno = e;
	return v;
}

/* Free a block from poolalloc and friends; NULL is a no-op. */
EXPORT void
poolfree(Pool *p, void *v)
{
	enter(p);
	if (v != NULL)
		poolfreel(p, v);
	leave(p);
	LOG(p, "poolfree %p %p\n", (void *)p, v);
	unlock(p);
}

/*
 * Resize the block at v to n bytes, keeping its contents up to the smaller
 * size; v NULL allocates, n 0 frees and returns NULL.  On failure returns
 * NULL with errno ENOMEM and v is untouched.
 */
EXPORT void *
poolrealloc(Pool *p, void *v, size_t n)
{
	void *nv;
	int e;

	enter(p);
	nv = poolreallocl(p, v, n);
	e = errno;
	if (v == NULL && nv != NULL)
		ANTAGONIZE(p, nv, MARK_ALLOC, n);
	leave(p);
	LOG(p, "poolrealloc %p %p %zu = %p\n", (void *)p, v, n, nv);
	unlock(p);
	errno = e;
	return nv;
}

/*
 * See internal.h: free v into a dead block kept out of use, and recycle
 * the block swap gives back, all in one hold of the lock; returns v's
 * block, or NULL when accept turned it down.
 */
EXPORT void *
poolquarantine(Pool *p, void *v, int (*accept)(void *, void *), void *arg, void *(*swap)(void *))
{
	Arena *a;
	Bhdr *b, *old;

	enter(p);
	b = D2B(p, v, &a);
	checkblock(p, b, a);
	if (accept != NULL && !accept(v, arg)) {
		leave(p);
		unlock(p);
		return NULL;
	}
	poolquarantinel(p, b);
	old = swap != NULL ? swap(b) : NULL;
	if (old != NULL)
		poolrecyclel(p, old);
	leave(p);
	LOG(p, "poolquarantine %p %p\n", (void *)p, v);
	if (old != NULL)
		LOG(p, "poolrecycle %p %p\n", (void *)p, (void *)old);
	unlock(p);
	return b;
}

/* See internal.h: a dead block from poolquarantine goes back to the free blocks. */
EXPORT void
poolrecycle(Pool *p, void *b)
{
	enter(p);
	poolrecyclel(p, b);
	leave(p);
	LOG(p, "poolrecycle %p %p\n", (void *)p, b);
	unlock(p);
}

/* Grow the block at v to all the room it has and return that size. */
EXPORT size_t
poolmsize(Pool *p, void *v)
{
	size_t n;

	enter(p);
	n = poolmsizel(p, v);
	leave(p);
	LOG(p, "poolmsize %p %p = %zu\n", (void *)p, v, n);
	unlock(p);
	return n;
}

/* Whether [v, v+n) overlaps one of p's arenas. */
EXPORT int
poolisoverlap(Pool *p, void *v, size_t n)
{
	Arena *a;
	uintptr_t x, e;
	int r;

	enter(p);
	x = (uintptr_t)v;
	e = x + n < x ? UINTPTR_MAX : x + n;
	r = 0;
	for (a = p->arenalist; a != NULL && !r; a = a->up)
		r = x < (uintptr_t)a + a->asize && e > (uintptr_t)a;
	leave(p);
	unlock(p);
	return r;
}

/*
 * Move allocated blocks down to join the free space, telling p->move.
 * Returns nonzero if a block moved.
 */
EXPORT int
poolcompact(Pool *p)
{
	int r;

	enter(p);
	r = poolcompactl(p);
	leave(p);
	LOG(p, "poolcompact %p\n", (void *)p);
	unlock(p);
	return r;
}

/* Check the whole pool; corruption goes to p->panic. */
EXPORT void
poolcheck(Pool *p)
{
	enter(p);
	poolcheckl(p);
	leave(p);
	unlock(p);
}

/* Check the block holding v; corruption goes to p->panic. */
EXPORT void
poolblockcheck(Pool *p, void *v)
{
	Arena *a;
	Bhdr *b;

	enter(p);
	b = D2B(p, v, &a);
	checkblock(p, b, a);
	leave(p);
	unlock(p);
}

/* Print a line for the pool, each arena and each block through p->print. */
EXPORT void
pooldump(Pool *p)
{
	enter(p);
	pooldumpl(p, 1);
	leave(p);
	unlock(p);
}
