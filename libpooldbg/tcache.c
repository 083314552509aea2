/*
 * libpooldbg/tcache.c -- per-thread caches in front of the quick lists.
 *
 * Owns one cache per thread that uses the malloc family's fast path: a
 * LIFO bin per quick-list size (a multiple of 16 bytes up to 8192), each
 * bin bounded (128, 64 or 32 blocks by size) and the whole cache bounded
 * (TCMAXBYTES).  A block in a cache is a quick block as quick.c keeps
 * them: magic QUICK_MAGIC (so a second free of it is refused and goes to
 * the pool, which reports the double free), its first data word the link,
 * its tail and guard bytes as its last owner left them, counted in
 * p->curalloc as allocated to the lists.
 *
 * The owner takes and puts blocks without the pool's lock and without
 * any locked instruction (one would wait for every store before it, and
 * the fast path would lose the overlap of its cache misses).  Its cache
 * has two flags: busy, set by the owner while inside its lock-free path
 * (which never waits for anything), and freeze, set by a thread holding
 * the pool's lock that wants to work on the cache.  The owner stores
 * busy, then reads freeze, and backs off to the locked path if it is
 * set; a freezer stores freeze, then reads busy, and waits while it is
 * set.  The owner's side needs no fence because the freezer's side makes
 * one happen on every thread of the process, membarrier(2)'s private
 * expedited barrier, between its store and its read (the pattern of
 * userspace RCU).  Where membarrier is missing the owner fences instead.
 * Everything else
 * (registering a cache, refilling a bin from its quick list, spilling a
 * full bin onto it, freezing, a thread's end, fork) runs under the pool's
 * lock, so one lock orders it all and the lock-free path needs no other.
 *
 * The tail and guard bytes are checked when a block goes into a cache (an
 * overflow is reported at its free, as poolfree would) and again when it
 * leaves it, handed out or moved onto a quick list (a write after free
 * past its end is caught there).  A check that fails sends the block to
 * checkblock (through the locked path), which dumps it and panics.
 * While the pool's panic is the library's own, which ends the process,
 * the lock-free free checks the header and only starts loading the tail:
 * the block is left pending, and the thread's next free checks its tail
 * and guard bytes, or its next locked call, or the block's leaving the
 * cache, or the process's exit (a destructor), whichever comes first.  A
 * free then costs one cache miss (the header) where it cost two in a row
 * (the tail's address is in the header), and the program's work overlaps
 * the second.  The report names the same block; only its moment is later.
 * A panic of the program's or the tracing runtime's, which may return or
 * report the call it happened in, gets the check inside the free itself.
 *
 * Frees that went into a cache are added to p->nfree, and hits to the
 * quick lists' figures, when the cache's blocks go onto the quick lists.
 *
 * Blocks go back to the quick lists, those of the cache's home (see
 * quick.c), when a bin is full (half the bin), when the thread ends (a
 * pthread key's destructor), before poolcheck walks the pool, before
 * mallocsummary counts, when the pool runs out of memory, around fork,
 * and when the quick lists are off (the owner empties its cache at its
 * next call; the fast path is off meanwhile).
 * Caches live in their own mappings, reused by later threads, never in
 * the pool.
 *
 * Must never: allocate from a pool, wait for anything while its cache is
 * BUSY, or look at a pointer outside the pool's arenas without the lock.
 */
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_membarrier
#include <linux/membarrier.h>
#endif

#include "pool-impl.h"

enum {
	TCQ		= 16,			/* the quick lists' quantum */
	TCMAXBLOCK	= 8192,			/* the largest block they keep */
	NBIN		= TCMAXBLOCK / TCQ + 1,
	SPINS		= 100,			/* tries before a freezer yields */
};

#define TCMAXBYTES	((uintptr_t)4 << 20)	/* bytes one cache may hold */


typedef struct TCache TCache;
struct TCache {
	atomic_int busy;	/* the owner is in its lock-free path */
	atomic_int freeze;	/* a freezer wants the cache, or has it */
	TCache	*next;		/* on the list of caches, or of spare ones */
	uintptr_t bytes;	/* bytes of the cached blocks */
	unsigned home;		/* its quick lists' home (see quick_takel) */
	unsigned long hits;	/* allocations served from the cache */
	unsigned long puts;	/* frees that went into the cache */
	Bhdr	*pend;	/* in a bin, its tail not checked yet (see the top); or NULL */
	uint16_t count[NBIN];	/* blocks in each bin */
	Bhdr	*head[NBIN];	/* by block size / TCQ */
};

#define DEAD	((TCache *)1)	/* this thread's cache is gone: its end is under way */

/* This thread's cache: NULL until its first call, then its cache or DEAD. */
static __thread TCache *mine __attribute__((tls_model("initial-exec")));

/* Every cache; guarded by the pool's lock. */
static struct {
	Pool	*pool;		/* the pool the caches serve (set by the first) */
	TCache	*list;		/* caches of live threads */
	TCache	*spare;		/* caches of threads that ended, for new ones */
	pthread_key_t key;	/* its destructor empties a thread's cache */
	int	keyok;		/* key made */
	int	asym;		/* membarrier works: owners need no fence */
	unsigned made;		/* caches made */
} tc;

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

/* Blocks a bin of blocks of bsize bytes may hold. */
static inline unsigned
bincap(uintptr_t bsize)
{
	return bsize <= 256 ? 128 : bsize <= 1024 ? 64 : 32;
}

/*
 * A cached block's tail and guard bytes, read and written a word at a
 * time.  A cached block is at most TCMAXBLOCK bytes, so its slack fits the
 * tail's two low bytes and its slackhi is zero; the first eight bytes of
 * its tail are one value, TAILWORD(slack).  Its guard bytes are the four
 * bytes at its data end, guardbyte[] repeated by address (fewer when the
 * tail is nearer).  Little-endian byte order; elsewhere the bytes one by
 * one.
 */
#define TAILWORD(slack)	((uint64_t)TAIL_MAGIC0 | ((uint64_t)(slack) >> 8 & 0xff) << 8 | \
			    ((uint64_t)(slack) & 0xff) << 16 | (uint64_t)TAIL_MAGIC1 << 24)

/* The guard bytes due at c and the three bytes after it, as one word. */
static inline __attribute__((always_inline)) uint32_t
guardword(const uchar *c)
{
	uint32_t g;
	unsigned r;

	memcpy(&g, guardbyte, sizeof g);
	r = 8 * ((uintptr_t)c % 4);
	return r == 0 ? g : g >> r | g << (32 - r);
}

/*
 * Whether b's tail and guard bytes are as poolalloc laid them out, b a
 * block of size bytes (the tail is found by size, so that it loads
 * alongside the header); a quick look for the lock-free path
 * (checkblock has the last word).
 */
static inline __attribute__((always_inline)) int
tailok(Bhdr *b, uintptr_t size)
{
	Btail *t;
	uintptr_t slack;
	uchar *c;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t h;
	uint32_t w;
	unsigned n;

	t = (Btail *)((uchar *)b + size - sizeof(Btail));
	memcpy(&h, t, sizeof h);
	slack = (h & 0xff00) | (h >> 16 & 0xff);
	if (h != TAILWORD(slack) || t->size != size || b->size != size ||
	    slack < BLOCKOVERHEAD || slack > size)
		return 0;
	c = (uchar *)B2D(b) + (size - slack);
	n = (uchar *)t - c < 4 ? (unsigned)((uchar *)t - c) : 4;	/* the word read ends inside the tail */
	memcpy(&w, c, sizeof w);
	return ((w ^ guardword(c)) & (n == 4 ? 0xffffffffu : (1u << 8 * n) - 1)) == 0;
#else
	uchar *ec;

	t = (Btail *)((uchar *)b + size - sizeof(Btail));
	if (t->magic0 != TAIL_MAGIC0 || t->magic1 != TAIL_MAGIC1 || t->size != size ||
	    b->size != size)
		return 0;
	slack = getslack(t);
	if (slack < BLOCKOVERHEAD || slack > size)
		return 0;
	c = (uchar *)B2D(b) + (size - slack);
	ec = c + 4 < (uchar *)t ? c + 4 : (uchar *)t;
	for (; c < ec; c++)
		if (*c != guardbyte[(uintptr_t)c % 4])
			return 0;
	return 1;
#endif
}

/*
 * Lay out the tail and guard bytes of b, a block of size bytes that
 * passed tailok, for dsize bytes of data: quick_settail, for a cached
 * block.
 */
static inline __attribute__((always_inline)) void
settail(Bhdr *b, uintptr_t size, uintptr_t dsize)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t h;
	uint32_t g;
	uchar *c;

	c = (uchar *)B2D(b) + dsize;
	g = guardword(c);
	memcpy(c, &g, sizeof g);	/* what passes the tail's start is written over next */
	h = TAILWORD(size - dsize);
	memcpy((uchar *)b + size - sizeof(Btail), &h, sizeof h);	/* its size is right already */
#else
	(void)size;
	quick_settail(b, dsize);
#endif
}

/*
 * Start loading the rest of what tailok reads of b, a block of size bytes
 * whose header is in: its tail, and its guard bytes, which lie in the 16
 * bytes before the tail and so may start on the line before it.
 */
static inline __attribute__((always_inline)) void
prefetchtail(Bhdr *b, uintptr_t size)
{
	__builtin_prefetch((uchar *)b + size - sizeof(Btail) - 16, 1);
	__builtin_prefetch((uchar *)b + size - sizeof(Btail), 1);
}

/* The owner into its lock-free path: 1, or 0 when a freezer has the cache. */
static inline __attribute__((always_inline)) int
enter(TCache *c)
{
	atomic_store_explicit(&c->busy, 1, memory_order_relaxed);
	if (tc.asym)
		atomic_signal_fence(memory_order_seq_cst);	/* the freezer's membarrier fences */
	else
		atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&c->freeze, memory_order_acquire) == 0)
		return 1;
	atomic_store_explicit(&c->busy, 0, memory_order_release);
	return 0;
}

static inline __attribute__((always_inline)) void
leave(TCache *c)
{
	atomic_store_explicit(&c->busy, 0, memory_order_release);
}

static pthread_once_t mbonce = PTHREAD_ONCE_INIT;
static int mbok;	/* registered for membarrier's private expedited barrier */

static void
mbregister(void)
{
#ifdef SYS_membarrier
	mbok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

/* See internal.h. */
int
fence_asym(void)
{
	pthread_once(&mbonce, mbregister);
	return mbok;
}

/* See internal.h. */
void
fence_all(void)
{
#ifdef SYS_membarrier
	if (fence_asym() && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return;
#endif
	atomic_thread_fence(memory_order_seq_cst);
}

/*
 * Check the first k blocks of a bin (all: k -1).  A damaged one goes to
 * checkblock, whose panic may jump out (the tracing runtime's does):
 * so every block is checked before any is moved.  Pool locked.
 */
static void
checkbinl(Pool *p, Bhdr *b, long k)
{
	for (; b != NULL && k != 0; b = getnext(b), k--)
		if (!tailok(b, b->size))
			checkblock(p, b, arenaof(p, b));
}

/* Check c's pending block, if any.  Pool locked, c not BUSY. */
static void
settlel(Pool *p, TCache *c)
{
	Bhdr *b;

	if ((b = c->pend) == NULL)
		return;
	c->pend = NULL;	/* before checkblock, whose panic may jump out */
	if (!tailok(b, b->size))
		checkblock(p, b, arenaof(p, b));
}

/* Every block and count of c onto the quick lists.  Pool locked, c not BUSY. */
static void
emptyl(Pool *p, TCache *c)
{
	int i;

	c->pend = NULL;	/* checked with the rest */
	for (i = 0; i < NBIN; i++)
		checkbinl(p, c->head[i], -1);
	for (i = 0; i < NBIN; i++) {
		if (c->head[i] != NULL)
			quick_givel(p, c->head[i], c->count[i], c->home, 0, 0);	/* the bin as one run */
		c->head[i] = NULL;
		c->count[i] = 0;
	}
	if (c->hits != 0 || c->puts != 0)
		quick_givel(p, NULL, 0, c->home, c->hits, c->puts);
	c->bytes = 0;
	c->hits = 0;
	c->puts = 0;
}

/*
 * c off the list of caches of live threads, onto the spare ones.  When
 * no live thread's cache shares its home, the home's quick lists go to
 * the shared lists, where any thread finds them.  Pool locked.
 */
static void
unlinkl(Pool *p, TCache *c)
{
	TCache **l, *o;

	for (l = &tc.list; *l != NULL; l = &(*l)->next) {
		if (*l == c) {
			*l = c->next;
			break;
		}
	}
	c->next = tc.spare;
	tc.spare = c;
	for (o = tc.list; o != NULL && o->home != c->home; o = o->next)
		;
	if (o == NULL)
		quick_disownl(p, c->home);
}

/* The key's destructor: the ending thread's cache goes back to the lists. */
static void
threadend(void *v)
{
	TCache *c;
	Pool *p;

	c = v;
	p = tc.pool;
	p->lock(p);
	emptyl(p, c);
	unlinkl(p, c);
	mine = DEAD;
	p->unlock(p);
}

/* A cache for this thread, or NULL (mine becomes DEAD: no cache, ever).  Pool locked. */
static TCache *
registerl(Pool *p)
{
	TCache *c;
	void *m;

	if (tc.pool == NULL)
		tc.pool = p;
	if (tc.pool != p)
		return NULL;
	mine = DEAD;
	if (!tc.keyok) {
		if (pthread_key_create(&tc.key, threadend) != 0)
			return NULL;
		tc.keyok = 1;
		tc.asym = fence_asym();	/* before any cache is used: every owner sees it */
	}
	if ((c = tc.spare) != NULL)
		tc.spare = c->next;
	else {
		m = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		c = m;
		c->home = tc.made++ % QUICK_NHOME;	/* kept by the threads that reuse it */
	}
	atomic_store(&c->busy, 0);
	atomic_store(&c->freeze, 0);
	c->next = tc.list;
	tc.list = c;
	if (pthread_setspecific(tc.key, c) != 0) {
		unlinkl(p, c);
		return NULL;
	}
	mine = c;
	return c;
}

/*
 * This thread's cache for the locked path, registered if need be; NULL
 * when the cache is not to be used now (no cache, or its owner's
 * lock-free path was interrupted by this very call).  Pool locked.
 */
static TCache *
ownl(Pool *p)
{
	TCache *c;

	c = mine;
	if (c == NULL)
		c = registerl(p);
	if (c == NULL || c == DEAD)
		return NULL;
	/*
	 * With the lock held no freezer is at work: freeze is left by one
	 * whose check panicked and jumped out (the tracing runtime's panic).
	 */
	atomic_store(&c->freeze, 0);
	if (atomic_load(&c->busy))
		return NULL;
	return c;
}

/* Quick lists off, or another pool: empty this thread's cache if it has blocks. */
static void
dropmine(Pool *p)
{
	TCache *c;

	c = mine;
	if (c == NULL || c == DEAD || p != tc.pool || (c->bytes == 0 && c->hits == 0 && c->puts == 0))
		return;
	p->lock(p);
	if (!atomic_load(&c->busy))
		emptyl(p, c);
	p->unlock(p);
}

/*
 * Blocks of bsize bytes for c's bin, which is empty, as is its quick
 * list, while another thread has a cache: a few at once, cut one after
 * the other from one free block (poolcarvel), so that this thread's
 * blocks lie together rather than between other threads' (whose writes
 * to their own blocks would take the cache lines from under these).  A
 * thread alone is not given them: its blocks, cut one by one, then lie
 * in the order it asked for them, whatever their sizes, as a program
 * that later walks its objects in that order (python's cyclic
 * collector) wants them; carved by size, each object of a group lay
 * with others of its size instead, and python3 ran about a quarter
 * longer.  Returns the chain; *got says how many.  Pool locked.
 */
static Bhdr *
carvel(Pool *p, TCache *c, uintptr_t bsize, unsigned *got)
{
	uintptr_t k;

	k = bincap(bsize) / 8;
	if (c->bytes + k * bsize > TCMAXBYTES)
		k = c->bytes < TCMAXBYTES ? (TCMAXBYTES - c->bytes) / bsize : 0;
	*got = 0;
	return k == 0 ? NULL : poolcarvel(p, bsize, (unsigned)k, got);
}

/*
 * The locked path of tcache_alloc: refill the bin from its quick list.
 * When that is empty too, the pool serves it: the block alone when this
 * thread is the only one with a cache, else carved with a few more of
 * its size (carvel).  NULL when it cannot (poolalloc will try, and say
 * why).
 */
static __attribute__((noinline)) void *
slowalloc(Pool *p, size_t n, uintptr_t bsize)
{
	TCache *c;
	Bhdr *b, *chain;
	void *v;
	unsigned got, max;
	size_t i;

	if (!quick_enabled(p) || (tc.pool != NULL && tc.pool != p)) {
		dropmine(p);
		return quick_alloc(p, n);
	}
	p->lock(p);
	if ((c = ownl(p)) == NULL) {
		p->unlock(p);
		return quick_alloc(p, n);
	}
	settlel(p, c);
	i = bsize / TCQ;
	if (c->head[i] == NULL) {
		max = bincap(bsize) / 2;
		if (c->bytes + max * bsize > TCMAXBYTES)
			max = 1;
		chain = quick_takel(p, bsize, max, c->home, &got);
		if (got == 0 && tc.list != NULL && tc.list->next != NULL)
			chain = carvel(p, c, bsize, &got);
		if (got == 0) {
			v = quick_enabled(p) ? poolallocheld(p, n) : NULL;
			p->unlock(p);
			return v;
		}
		c->head[i] = chain;
		c->count[i] = (uint16_t)got;
		c->bytes += got * bsize;
	}
	b = c->head[i];
	checkblock(p, b, arenaof(p, b));	/* its last owner's tail and guard bytes */
	c->head[i] = getnext(b);
	c->count[i]--;
	c->bytes -= bsize;
	c->hits++;
	b->magic = ALLOC_MAGIC;
	quick_settail(b, n);
	p->unlock(p);
	return B2D(b);
}

/* See pool-impl.h.  Pool locked. */
int
tcache_recyclel(Pool *p, Bhdr *b)
{
	uintptr_t bsize;
	TCache *c;
	size_t i;

	bsize = b->size;
	if (p != tc.pool || bsize > TCMAXBLOCK || bsize % TCQ != 0 || (c = ownl(p)) == NULL)
		return 0;
	i = bsize / TCQ;
	if (c->count[i] >= bincap(bsize) || c->bytes + bsize > TCMAXBYTES)
		return 0;
	setnext(b, c->head[i]);
	c->head[i] = b;
	c->count[i]++;
	c->bytes += bsize;
	return 1;
}

/* See internal.h. */
void *
tcache_alloc(Pool *p, size_t n)
{
	uintptr_t bsize;
	TCache *c;
	size_t i;
	Bhdr *b;

	if (n > TCMAXBLOCK - BLOCKOVERHEAD)
		return NULL;
	bsize = (n + BLOCKOVERHEAD + TCQ - 1) & ~(uintptr_t)(TCQ - 1);
	if (bsize < MINBLOCKSIZE)
		bsize = MINBLOCKSIZE;
	i = bsize / TCQ;
	c = mine;
	if (c > DEAD && p == tc.pool && c->count[i] != 0 && quick_enabled(p) && enter(c)) {
		b = c->head[i];
		if (b != NULL && tailok(b, bsize)) {
			if (b == c->pend)
				c->pend = NULL;
			if ((c->head[i] = getnext(b)) != NULL) {
				/* the next of this size: its header and tail lines were likely evicted */
				__builtin_prefetch(c->head[i], 1);
				prefetchtail(c->head[i], bsize);
			}
			c->count[i]--;
			c->bytes -= bsize;
			c->hits++;
			b->magic = ALLOC_MAGIC;
			settail(b, bsize, n);
			leave(c);
			return B2D(b);
		}
		leave(c);	/* the locked path checks it, and panics */
	}
	return slowalloc(p, n, bsize);
}

/* The locked path of tcache_free: check the block, spill half a full bin. */
static __attribute__((noinline)) int
slowfree(Pool *p, void *v, int inarena)
{
	uintptr_t bsize;
	TCache *c;
	Bhdr *b, *chain, *x;
	Arena *a;
	unsigned k, moved;
	size_t i;

	if (!inarena || !quick_enabled(p) || (tc.pool != NULL && tc.pool != p)) {
		dropmine(p);
		return quick_free(p, v);
	}
	p->lock(p);
	if ((c = ownl(p)) == NULL) {
		p->unlock(p);
		return quick_free(p, v);
	}
	settlel(p, c);
	if ((a = arenaof(p, v)) == NULL || (uintptr_t)v < (uintptr_t)A2B(a) + sizeof(Bhdr) ||
	    ((uintptr_t)v & (ALIGNQ - 1)) != 0)
		goto no;
	b = (Bhdr *)v - 1;
	bsize = b->size;
	if (b->magic != ALLOC_MAGIC || bsize > TCMAXBLOCK || bsize % TCQ != 0)
		goto no;	/* the pool judges and frees it */
	checkblock(p, b, a);	/* as poolfree would: an overflow is reported at its free */
	i = bsize / TCQ;
	b->magic = QUICK_MAGIC;
	if (c->count[i] >= bincap(bsize) || c->bytes + bsize > TCMAXBYTES) {
		/* the top half of the bin as one run, or this block alone, onto the quick list */
		chain = NULL;
		moved = c->count[i] / 2;
		if (moved > 0) {
			checkbinl(p, c->head[i], moved);
			chain = c->head[i];
			for (x = chain, k = 1; k < moved; k++)
				x = getnext(x);
			c->head[i] = getnext(x);
			setnext(x, NULL);
			c->count[i] -= moved;
			c->bytes -= moved * bsize;
		}
		if (c->bytes + bsize > TCMAXBYTES) {
			setnext(b, chain);
			quick_givel(p, b, moved + 1, c->home, 0, 1);
			p->unlock(p);
			return 1;
		}
		quick_givel(p, chain, moved, c->home, 0, 0);
	}
	setnext(b, c->head[i]);
	c->head[i] = b;
	c->count[i]++;
	c->bytes += bsize;
	c->puts++;
	p->unlock(p);
	return 1;
no:
	p->unlock(p);
	return 0;
}

/* See internal.h. */
int
tcache_free(Pool *p, void *v, int inarena)
{
	uintptr_t bsize;
	TCache *c;
	Bhdr *b, *d;
	size_t i;
	int lazy;

	c = mine;
	b = (Bhdr *)v - 1;
	if (inarena && c > DEAD && p == tc.pool && ((uintptr_t)v & (ALIGNQ - 1)) == 0 &&
	    b->magic == ALLOC_MAGIC && quick_enabled(p)) {
		bsize = b->size;
		i = bsize / TCQ;
		if (bsize <= TCMAXBLOCK && bsize % TCQ == 0 && c->count[i] < bincap(bsize) &&
		    c->bytes + bsize <= TCMAXBYTES) {
			lazy = p->panic == mainpanic;
			if (lazy)
				prefetchtail(b, bsize);
			if ((lazy || tailok(b, bsize)) && enter(c)) {
				if ((d = c->pend) != NULL && !tailok(d, d->size)) {
					leave(c);	/* the locked path reports it */
					return slowfree(p, v, inarena);
				}
				b->magic = QUICK_MAGIC;
				setnext(b, c->head[i]);
				c->head[i] = b;
				c->count[i]++;
				c->bytes += bsize;
				c->puts++;
				c->pend = lazy ? b : NULL;
				leave(c);
				return 1;
			}
		}
	}
	return slowfree(p, v, inarena);
}

/*
 * At exit: the calling thread's pending block is checked, so that a
 * program whose last free was of an overflowed block still hears of it.
 * Lock-free like a free; the lock only to report.
 */
__attribute__((destructor)) static void
exitcheck(void)
{
	TCache *c;
	Pool *p;
	Bhdr *d;
	int ok;

	c = mine;
	p = tc.pool;
	if (c <= DEAD || p == NULL || c->pend == NULL || !enter(c))
		return;
	ok = (d = c->pend) == NULL || tailok(d, d->size);
	leave(c);
	if (ok)
		return;
	p->lock(p);
	if ((c = ownl(p)) != NULL)
		settlel(p, c);
	p->unlock(p);
}

/* See pool-impl.h. */
void
tcache_freezel(Pool *p)
{
	TCache *c;
	int spins;

	if (p != tc.pool || tc.list == NULL)
		return;
	for (c = tc.list; c != NULL; c = c->next)
		atomic_store(&c->freeze, 1);
	fence_all();	/* every owner now sees freeze, or we see its busy */
	for (c = tc.list; c != NULL; c = c->next) {
		if (c == mine && atomic_load(&c->busy))
			continue;	/* this thread, interrupted inside its own lock-free path */
		for (spins = 0; atomic_load_explicit(&c->busy, memory_order_acquire); spins++)
			if (spins >= SPINS)
				sched_yield();	/* the owner was preempted while busy */
		emptyl(p, c);
	}
}

/* See pool-impl.h. */
void
tcache_thawl(Pool *p)
{
	TCache *c;

	if (p != tc.pool)
		return;
	for (c = tc.list; c != NULL; c = c->next)
		atomic_store_explicit(&c->freeze, 0, memory_order_release);
}

/* See internal.h.  Pool locked by the caller. */
void
tcache_forkprepare(Pool *p)
{
	tcache_freezel(p);
}

/* See internal.h.  Pool locked by the caller. */
void
tcache_forkparent(Pool *p)
{
	tcache_thawl(p);
}

/* See internal.h.  In the child, before its lock is made fresh. */
void
tcache_forkchild(Pool *p)
{
	TCache *c, *n;

	if (p != tc.pool)
		return;
	for (c = tc.list; c != NULL; c = n) {
		n = c->next;
		if (c != mine)
			unlinkl(p, c);	/* emptied by tcache_forkprepare; its thread is not here */
	}
	tcache_thawl(p);
}
