/*
 * libpooldbg/internal.h -- what the files of libpooldbg share and nobody
 * else sees.  Cross-file prototypes are grouped under the file that owns
 * them.  Nothing here is installed.
 */
#ifndef POOLDBG_INTERNAL_H
#define POOLDBG_INTERNAL_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

/* The library is built with -fvisibility=hidden; EXPORT marks the ABI. */
#define EXPORT	__attribute__((visibility("default")))

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))

struct Pool;

/* ---- malloc.c ----------------------------------------------------------- */

/*
 * Take the default pool's lock only if it is free right now: 0, or -1
 * when some thread (the caller included) holds it.  Exported from
 * libpooldbg.so for the tracing runtime alone, which must never wait for
 * the lock inside a signal handler; give it back with
 * pooldbg_mainmem->unlock.
 */
int	pooldbg_maintrylock(void);
/*
 * Start loading the pool block under the user pointer v of the default
 * pool: its header (tail 0), or its tail (tail 1: the header is read for
 * the size, and only if v lies in an arena) with, for writing, the lines
 * of the first fill bytes of the pool's data that the block has.  A hint
 * for the tracing runtime's free, which unwinds between the two; never
 * faults.
 */
void	pooldbg_mainprefetch(const void *v, int tail, size_t fill);
/*
 * Whether the user pointer v looks like an allocated block of the default
 * pool: aligned, inside its arenas, header magic ALLOC_MAGIC, a size that
 * stays inside them.  Lock-free and never faults; a hint that its tag
 * words can be read, for the tracing runtime, whose free then lets the
 * pool check the block whole.
 */
int	pooldbg_mainlooksalloc(const void *v);
#define POOLDBG_ALLOC_MAGIC	((uintptr_t)0x0A110C09)	/* pool-impl.h's ALLOC_MAGIC */
/*
 * The default pool's own panic: prints the line (on fd 2 and the
 * descriptor named by MALLOCFD) and aborts.  While a pool's panic is this
 * one, tcache.c may check a freed block's tail at the thread's next call.
 */
void	mainpanic(struct Pool *p, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* ---- quick.c ------------------------------------------------------------ */

/*
 * The quick lists in front of the default pool (see quick.c).  Every call
 * takes the pool's lock itself.
 */

/* Figures of the quick lists, for mallocsummary. */
typedef struct QuickStats QuickStats;
struct QuickStats {
	unsigned long blocks;	/* blocks on the lists now */
	uintptr_t bytes;	/* their bytes (whole blocks) */
	unsigned long hits;	/* allocations served from a list */
	unsigned long misses;	/* small allocations passed on to the pool */
	unsigned long puts;	/* frees that went onto a list */
	unsigned long flushes;	/* times the lists went back to the tree */
	int	enabled;	/* quick_enabled now */
};

/* Whether quick lists serve p now: quick_enabled, in pool-impl.h. */
/*
 * Turn the quick lists off (off nonzero) or on again, for every pool.
 * Anything that needs every free to reach the pool calls
 * quick_setoff(1) once before its first block; blocks already listed go
 * back to the tree on the next call.  Also set by POOLDBG_QUICK=0.
 */
void	quick_setoff(int off);
/*
 * Data start of a block of p for n bytes (the size asked of the pool)
 * taken from its quick list, laid out as poolalloc would; NULL when the
 * list is empty, n is too large, or quick lists are off (then any listed
 * blocks go back to the tree first).  Free it with quick_free or poolfree.
 */
void	*quick_alloc(struct Pool *p, size_t n);
/*
 * Put the block with data start v (from poolalloc or quick_alloc) on its
 * quick list after checking it as poolfree would: 1.  0 when quick lists
 * are off or the block is not one they keep (too large, aligned, not an
 * allocated block, the lists full): the caller then calls poolfree, which
 * judges it.
 */
int	quick_free(struct Pool *p, void *v);
/* Give every listed block of p back to the tree (before failing for lack of memory). */
void	quick_flush(struct Pool *p);
/* The figures of the quick lists of p; quick_statsl with p locked. */
void	quick_stats(struct Pool *p, QuickStats *s);
void	quick_statsl(struct Pool *p, QuickStats *s);

/* ---- tcache.c ----------------------------------------------------------- */

/*
 * The calling thread's cache in front of the quick lists of p (see
 * tcache.c): lock-free while it can serve, the quick lists (and their
 * lock) when it cannot.
 */

/*
 * As quick_alloc: the data start of a block of p for n bytes laid out as
 * poolalloc would, from this thread's cache or the quick lists; NULL when
 * neither has one (the caller asks the pool).
 */
void	*tcache_alloc(struct Pool *p, size_t n);
/*
 * As quick_free: 1 when the block with data start v, an allocated block
 * of p of a size the lists keep, went into this thread's cache or onto
 * its quick list; 0 when the caller must poolfree it.  inarena: the
 * caller knows v lies in p's arenas; only then is v looked at without
 * the lock (else the locked path judges it).
 */
int	tcache_free(struct Pool *p, void *v, int inarena);
/*
 * The owners' side of a lock-free cache (tcache.c, zone-cache.c) stores
 * its busy flag and reads the freeze flag with no fence between when
 * fence_asym says 1: then fence_all, called by a freezer between storing
 * freeze and reading busy, makes every running thread of the process
 * execute a full barrier (membarrier(2), private expedited).  With 0 the
 * owners must fence themselves, and fence_all fences only its caller.
 * fence_asym registers for membarrier on its first call.
 */
int	fence_asym(void);
void	fence_all(void);
/* Fork handlers: every cache frozen before (pool locked), thawed after. */
void	tcache_forkprepare(struct Pool *p);
void	tcache_forkparent(struct Pool *p);
/* In the child: the other threads' caches, emptied onto the lists, are dropped. */
void	tcache_forkchild(struct Pool *p);

/* ---- zone-debug.c: the zones' trace hooks ------------------------------- */

/*
 * Exported from libpooldbg.so, where they do nothing: the tracing runtime
 * (zone-runtime.c, in libpooldbg-malloc.so) defines the same names and,
 * preloaded, comes first in the symbol lookup.  Never called with a zone
 * lock held.
 */
struct uma_stats;
/* A zone was made: its trace id (1, 2, ...), or 0 when not traced. */
uint32_t	pooldbg_zone_created(const void *zone, const char *name, size_t size);
/* Item handed out (what 1) or given back (what 2) by the zone of trace id id. */
void	pooldbg_zone_item(uint32_t id, int what, const void *item, size_t size);
/* The zone of trace id id is being destroyed; st its last figures. */
void	pooldbg_zone_destroyed(uint32_t id, const void *zone, const char *name,
	    const struct uma_stats *st);
/*
 * A zone's debugging report: kind an ERR_* of record.h, found by a zalloc
 * (what 1) or a zfree (what 2) given ptr; item the item concerned when
 * it is one (its size bytes readable), offset the first damaged byte in
 * it, msg one line.  Traced: a REC_ERROR, and 1 (the program goes on,
 * unless the run stops at the first error); else 0 (nothing recorded).
 */
int	pooldbg_zone_error(uint32_t id, int kind, int what, const void *ptr, const void *item,
	    size_t size, size_t offset, const char *msg);
/* ---- mmalloc.c: the mapped heaps' trace hooks --------------------------- */

/*
 * Exported from libpooldbg.so, where they do nothing (realloc only
 * reallocates); the tracing runtime (mmalloc-runtime.c) defines the same
 * names.  pc: the caller of the mmalloc(3) call.
 */
/* A block ptr of size bytes was handed out by call CALL_MMALLOC or CALL_MVALLOC. */
void	pooldbg_mm_alloc(unsigned call, const void *ptr, size_t size, size_t align, uintptr_t pc);
/* Block ptr is about to be given back by mfree. */
void	pooldbg_mm_free(const void *ptr, uintptr_t pc);
/* mrealloc's reallocation in heap md (NULL: the default pool): its result, recorded. */
void	*pooldbg_mm_realloc(void *md, void *ptr, size_t size, uintptr_t pc);

/* ---- pool-check.c, pool.c: the last fault the pool reported ----------- */

enum {	/* PoolFault.what */
	PF_NONE,
	PF_NOTBLOCK,	/* a pointer given to the pool is no allocated block */
	PF_HEADER,	/* a block's header: magic or size */
	PF_TAIL,	/* a block's tail: magics, slack or size copy */
	PF_GUARD,	/* the guard bytes after an allocated block's data */
	PF_FILL,	/* the fill of a dead (freed under POOL_NOREUSE) block */
	PF_TOLERATED,	/* POOL_TOLERANCE forgave one NUL at addr */
	PF_STRUCTURE,	/* the arena list, an arena tail, the free tree or the counters */
};

/* What the pool was looking at when it last reported damage: set just before p->panic (or the notice's print). */
typedef struct PoolFault PoolFault;
struct PoolFault {
	int	what;		/* PF_* */
	uintptr_t block;	/* the block's header, 0 if none */
	uintptr_t addr;		/* the first damaged byte, or the pointer given */
	uintptr_t arena;	/* its arena, 0 if outside every arena */
	int	live;		/* set when reported; the reader clears it */
};

/*
 * The calling thread's PoolFault.  Exported from libpooldbg.so for the
 * tracing runtime, which reads it in its panic and print callbacks.
 */
PoolFault *pooldbg_poolfault(void);

/* ---- pool.c: the quarantine's two calls --------------------------------- */

/*
 * Free v as POOL_NOREUSE would whatever the flags: checked, filled and
 * made dead; returns the block (its header).  Damage and non-blocks go to
 * p->panic as for poolfree.  Both calls are made with p locked, and must
 * not call the pool: accept (if not NULL), once v's block has passed its
 * check, with v and arg; when it returns 0 the block is left as it was
 * and poolquarantine returns NULL.  Then swap (if not NULL) with the dead
 * block: a block it returns, dead from an earlier poolquarantine, is
 * recycled as by poolrecycle before the lock is let go.  The quick lists
 * stay on: a block that leaves the quarantine goes onto its list
 * (quick_recyclel).
 */
void	*poolquarantine(struct Pool *p, void *v, int (*accept)(void *, void *), void *arg,
	    void *(*swap)(void *));
/*
 * Give the dead block b (from poolquarantine) back to its quick list or
 * the free blocks, after checking its fill: damage goes to p->panic and b
 * stays dead.
 */
void	poolrecycle(struct Pool *p, void *b);

/* ---- pool-tree.c: the free blocks counted ------------------------------- */

/* The free blocks in the tree of p, the rings of its sizes included.  Pool locked. */
unsigned long	tree_countl(struct Pool *p);

/* ---- pool-walk.c -------------------------------------------------------- */

enum { POOLWALK_MINBLOCK = 64 };	/* no block of any pool is smaller */

/* One allocated block of a pool, as the walk finds it. */
typedef struct PoolWalkBlock PoolWalkBlock;
struct PoolWalkBlock {
	uintptr_t block;	/* first byte of the pool block (its header) */
	uintptr_t bsize;	/* whole block: header, data, slack, tail */
	uintptr_t data;		/* data start */
	uintptr_t ptr;		/* what the pool handed out: data, past any ALIGN_MAGIC words */
	uintptr_t dsize;	/* the bytes asked of the pool, counted from ptr */
};

/*
 * Walk the arenas of p, lowest address first: arena(arg, base, size) for
 * each arena, then block(arg, b) for each of its allocated blocks in
 * address order.  A callback returning nonzero ends the walk, and its
 * value is returned; else 0, or -1 when a block cannot be stepped over
 * (a damaged pool: the walk stops there).  With block NULL only the
 * arenas are visited, and their blocks neither read nor checked.  Pool
 * locked by the caller; never allocates, never calls the pool's callbacks.
 */
int	poolwalkl(struct Pool *p, int (*arena)(void *arg, uintptr_t base, uintptr_t size),
	    int (*block)(void *arg, const PoolWalkBlock *b), void *arg);

#endif /* POOLDBG_INTERNAL_H */
