/*
 * libpooldbg/pool-impl.h -- the Pool's block layout and what pool.c,
 * pool-tree.c and pool-check.c share.  Nothing outside the Pool includes it.
 *
 * An arena is a run of memory from p->alloc:
 *
 *	Arena header | block | block | ... | block | arena tail
 *
 * The arena header is itself a block (magic ARENA_MAGIC, size sizeof(Arena))
 * that ends in a block tail, so that the first real block can look back at
 * it like at any other neighbour.  The arena tail is a bare header with
 * magic ARENATAIL_MAGIC and size 0; a walk from the first block must land
 * exactly on it.
 *
 * Every block starts with a Bhdr (magic, whole block size) and ends with a
 * Btail:
 *
 *	magic0 0xBE | slack, 16 bits big-endian | magic1 0xEF |
 *	slack bits 16..47, big-endian | block size again
 *
 * The slack is the block size minus the size the caller asked for (counted
 * from the data start), so the tail knows where the caller's bytes end.  Up
 * to four guard bytes follow those bytes, each taken from guardbyte[] by its
 * address mod 4.  The size copy in the tail lets a block find its left
 * neighbour: the Btail just before a header belongs to the block on the left.
 *
 * Free blocks are Free: the header, then the links of the free tree (left,
 * right: a splay tree ordered by size) and of the ring of free blocks of the
 * same size (next, prev).  Only one block of each size is a tree node; the
 * others hang in its ring with left and right poisoned.
 *
 * An allocated block may hand out a pointer past its data start
 * (poolallocalign); the words between the data start and that pointer hold
 * ALIGN_MAGIC so the block can be found again from the pointer.
 */
#ifndef POOLDBG_POOL_IMPL_H
#define POOLDBG_POOL_IMPL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <pooldbg/pool.h>

typedef unsigned char uchar;

#define ALLOC_MAGIC	((uintptr_t)0x0A110C09)
#define FREE_MAGIC	((uintptr_t)0xBA5EBA11)
#define UNALLOC_MAGIC	((uintptr_t)0xCAB00D1F)	/* in transit */
#define ARENA_MAGIC	((uintptr_t)0xC0A1E5CF)
#define ARENATAIL_MAGIC	((uintptr_t)0xEC5E1A0D)
#define ALIGN_MAGIC	((uintptr_t)0xA1F1D1C1)
#define DEAD_MAGIC	((uintptr_t)0xDEADDEAD)	/* freed under POOL_NOREUSE: all data filled */
#define DEADHEAD_MAGIC	((uintptr_t)0xDEADBEAD)	/* dead, only its first DEADHEAD data bytes filled */
#define NOT_MAGIC	((uintptr_t)0xDEADFA11)	/* header swallowed by a merge */
#define QUICK_MAGIC	((uintptr_t)0x0B1C0F17)	/* on a quick list (quick.c): allocated to the lists */
#define TAIL_MAGIC0	0xBE
#define TAIL_MAGIC1	0xEF
#define DEAD_FILL	0xDA
#define DEADHEAD	256	/* bytes of fill of a DEADHEAD_MAGIC block */

/* Marking signatures of POOL_ANTAGONISM */
enum {
	MARK_FREED	= 0xF7,	/* poolfree */
	MARK_FRAG	= 0xF1,	/* new free fragments and arenas */
	MARK_ALLOC	= 0xDF,	/* poolalloc */
	MARK_ALIGN	= 0xDD,	/* poolallocalign */
	MARK_GROW	= 0xDE,	/* the grown part of poolrealloc */
};

/* A link that must never be followed: non-canonical on x86_64. */
#define POISON	((Free *)(uintptr_t)0xFEEDFACEDEADBEEFULL)

typedef struct Bhdr Bhdr;
typedef struct Btail Btail;
typedef struct Free Free;
typedef struct Arena Arena;

struct Bhdr {
	uintptr_t magic;
	uintptr_t size;		/* whole block: header, data, tail */
};

struct Btail {
	uchar	magic0;		/* TAIL_MAGIC0 */
	uchar	slack[2];	/* bits 0..15 of block size - data size, big-endian */
	uchar	magic1;		/* TAIL_MAGIC1 */
	uchar	slackhi[4];	/* bits 16..47 */
	uintptr_t size;		/* copy of the header's size */
};

struct Free {
	Bhdr	h;
	Free	*left;		/* smaller sizes (tree) */
	Free	*right;		/* larger sizes (tree) */
	Free	*next;		/* ring of this size */
	Free	*prev;
};

struct Arena {
	Bhdr	h;		/* ARENA_MAGIC, sizeof(Arena) */
	Arena	*up;		/* next arena, higher address */
	Arena	*down;		/* previous arena, lower address */
	uintptr_t asize;	/* whole arena, header and arena tail included */
	uintptr_t pad;
	Btail	tail;		/* so the first block can look left */
};

enum {
	ALIGNQ		= 16,				/* every block size is a multiple */
	MINBLOCKSIZE	= sizeof(Free) + sizeof(Btail),	/* 64: a block must be able to become free */
	BLOCKOVERHEAD	= sizeof(Bhdr) + sizeof(Btail),	/* 32 */
	ARENAOVERHEAD	= sizeof(Arena) + sizeof(Bhdr),	/* 80 */
	NARENAIDX	= sizeof(((Pool *)0)->arenaidx) / (2 * sizeof(uintptr_t)),	/* 32 */
};

#define B2D(b)		((void *)((uchar *)(b) + sizeof(Bhdr)))
#define B2T(b)		((Btail *)((uchar *)(b) + (b)->size - sizeof(Btail)))
#define B2NB(b)		((Bhdr *)((uchar *)(b) + (b)->size))
#define B2PT(b)		((Btail *)(b) - 1)
#define A2B(a)		((Bhdr *)((uchar *)(a) + sizeof(Arena)))
#define A2TB(a)		((Bhdr *)((uchar *)(a) + (a)->asize - sizeof(Bhdr)))

static inline uintptr_t
getslack(Btail *t)
{
	return (uintptr_t)t->slack[0] << 8 | t->slack[1] |
	    (uintptr_t)t->slackhi[0] << 40 | (uintptr_t)t->slackhi[1] << 32 |
	    (uintptr_t)t->slackhi[2] << 24 | (uintptr_t)t->slackhi[3] << 16;
}

/* The caller's size of an allocated block, counted from its data start. */
static inline uintptr_t
getdsize(Bhdr *b)
{
	return b->size - getslack(B2T(b));
}

#define ISFREE(b)	((b)->magic == FREE_MAGIC)
#define ISDEAD(b)	((b)->magic == DEAD_MAGIC || (b)->magic == DEADHEAD_MAGIC)

/* The end of a dead block's fill: its tail, or DEADHEAD bytes into its data. */
static inline uchar *
deadend(Bhdr *b)
{
	uchar *t;

	t = (uchar *)B2T(b);
	if (b->magic == DEADHEAD_MAGIC && t - (uchar *)B2D(b) > DEADHEAD)
		return (uchar *)B2D(b) + DEADHEAD;
	return t;
}

static inline const char *
pname(Pool *p)
{
	return p->name != NULL ? p->name : "(unnamed)";
}

/* pool-tree.c */
void	treeinsert(Pool *p, Free *f);
void	treedelete(Pool *p, Free *f);
Free	*treetake(Pool *p, uintptr_t size);
Free	*treefit(Pool *p, uintptr_t size);
Free	*treepick(Pool *p, Free *t);
int	treecut(Pool *p, Free *t, Free *r, uintptr_t rest);
long	treecheck(Pool *p, Free *t, uintptr_t lo, uintptr_t hi, long budget, uintptr_t *bytes);

/*
 * Return b, a block off the quick lists (checked already, its bytes still
 * counted in p->curalloc), to the free tree, joined with its free
 * neighbours.  Pool locked.
 */
void	poolunlistl(Pool *p, Bhdr *b);

/*
 * poolalloc's work with the lock already held, for a caller that holds it
 * for its own reasons and has checked that none of the flags poolalloc
 * acts on around it (PARANOIA, VERBOSITY, ANTAGONISM, LOGGING) is set.
 */
void	*poolallocheld(Pool *p, size_t n);

/* pool-check.c */
Arena	*arenaof(Pool *p, const void *v);
/*
 * Set p->arenaidx from the arena list: the start and end of each of the
 * lowest NARENAIDX arenas, in address order.  Called whenever the list
 * changes, and by whoever brings a pool's arenas into a process (a
 * mapped heap attached).  Pool locked.
 */
void	poolreindexl(Pool *p);
void	checkblock(Pool *p, Bhdr *b, Arena *a);
void	panicblock(Pool *p, Bhdr *b, Arena *a, const char *why) __attribute__((noreturn));
void	printblock(Pool *p, Bhdr *b, Arena *a, const char *why);
void	poolcheckl(Pool *p);
void	poolfault(Pool *p, int what, const void *b, const void *addr, int report);
void	pooldumpl(Pool *p, int blocks);
extern const uchar guardbyte[4];

/*
 * Up to k blocks of bsize bytes (a multiple of the quantum) cut one after
 * the other from one free block, the best fit for all k: QUICK_MAGIC,
 * their tails laid out for bsize - BLOCKOVERHEAD bytes, counted as
 * allocated, linked through the first data word in address order and
 * ending in NULL; *n says how many.  The pool grows, as for poolalloc
 * but without compaction, when no free block is large enough; NULL when
 * it cannot, without a word (the caller asks for less).  Pool locked.
 */
Bhdr	*poolcarvel(Pool *p, uintptr_t bsize, unsigned k, unsigned *n);

/* quick.c */
/* Flags under which every block must pass through the tree. */
#define QUICK_BYPASS	(POOL_NOREUSE | POOL_PARANOIA | POOL_ANTAGONISM | POOL_LOGGING | \
			    POOL_VERBOSITY | POOL_DEBUGGING)
/* Nonzero: quick lists are off (see quick_setoff); read without the lock. */
extern atomic_int quick_off;
/*
 * The one predicate: whether quick lists serve p now.  False under
 * POOL_NOREUSE, POOL_PARANOIA, POOL_ANTAGONISM, POOL_LOGGING,
 * POOL_VERBOSITY and POOL_DEBUGGING (every block must pass through the
 * tree for those), and while quick_setoff has turned them off.  Lock-free;
 * inline, because the thread caches' lock-free paths ask it on every call.
 */
static inline int
quick_enabled(const Pool *p)
{
	return !(p->flags & QUICK_BYPASS) &&
	    atomic_load_explicit(&quick_off, memory_order_relaxed) == 0;
}
/* Lay out b's tail and guard bytes for dsize bytes, as poolalloc would. */
void	quick_settail(Bhdr *b, uintptr_t dsize);
/*
 * The quick lists come in homes: a thread's cache gives to and takes from
 * the lists of its home (one of QUICK_NHOME), so that the blocks a thread
 * freed go back to it rather than to another thread, whose blocks they
 * would lie among.  The shared lists, QUICK_SHARED, take the blocks of
 * the paths without a cache.
 */
enum { QUICK_NHOME = 8, QUICK_SHARED = QUICK_NHOME };
/*
 * Take at least one and at most max blocks of size bsize off their quick
 * list of home home, or when that is empty the shared one (they keep
 * QUICK_MAGIC): the run on top, or its first max blocks.  The chain is
 * linked through the first data word and ends in NULL; *n says how many.
 * Pool locked.
 */
Bhdr	*quick_takel(Pool *p, uintptr_t bsize, unsigned max, unsigned home, unsigned *n);
/*
 * Put run, n QUICK_MAGIC blocks of one size linked through the first
 * data word and ending in NULL (or NULL and 0; n below 2^16, a run's
 * length field: a thread cache's bin is far smaller), on their list of
 * home home; and count hits and puts made away from the lists (puts are
 * frees: p->nfree).  Pool locked.
 */
void	quick_givel(Pool *p, Bhdr *run, unsigned n, unsigned home, unsigned long hits,
	    unsigned long puts);
/*
 * Move the lists of home home, which no thread's cache has any more,
 * onto the shared lists.  Pool locked.
 */
void	quick_disownl(Pool *p, unsigned home);
/*
 * Every block on p's quick lists back into the free tree, coalesced
 * there: what the pool does before it takes a new arena.  1 when there
 * was one.  Pool locked.
 */
int	quick_spilll(Pool *p);

/* tcache.c */
/*
 * Freeze every thread's cache of p (wait for an owner inside its lock-free
 * path to leave it) and move its blocks and counts onto the quick lists;
 * the caches stay frozen, their owners going through the lock, until
 * tcache_thawl.  Pool locked.
 */
void	tcache_freezel(Pool *p);
/* Let the owners of the caches tcache_freezel froze use them again.  Pool locked. */
void	tcache_thawl(Pool *p);
/*
 * Put b, a listed block of p (QUICK_MAGIC, its tail laid out), in the
 * calling thread's cache when the cache is p's and its bin has room: 1,
 * or 0 when b must go on its quick list.  Pool locked.
 */
int	tcache_recyclel(Pool *p, Bhdr *b);
/*
 * poolcheck's walk of the arenas shows each block of magic QUICK_MAGIC
 * to the quick lists' check, after a NULL that starts the walk.  Pool
 * locked.
 */
void	quick_seenl(Pool *p, Bhdr *b);
/*
 * Check the quick lists of p against the walked blocks of magic
 * QUICK_MAGIC (walked of them, each shown to quick_seenl); reports
 * through p->panic.  Pool locked.
 */
void	quick_checkl(Pool *p, unsigned long walked);
/*
 * Put b, a dead block just checked on leaving a quarantine, in the calling
 * thread's cache or on its quick list when quick lists serve p and it
 * fits: 1, or 0 when it must go to the free tree.  Pool locked.
 */
int	quick_recyclel(Pool *p, Bhdr *b);

#endif /* POOLDBG_POOL_IMPL_H */
