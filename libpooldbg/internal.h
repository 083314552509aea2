/*
 * libpooldbg/internal.h -- what the files of libpooldbg share and nobody
 * else sees.  Cross-file prototypes are grouped under the file that owns
 * them.  Nothing here is installed.
 */
#ifndef POOLDBG_INTERNAL_H
#define POOLDBG_INTERNAL_H

#include "config.h"

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
 * made dead; returns the block (its header) for poolrecycle.  Damage and
 * non-blocks go to p->panic as for poolfree.
 */
void	*poolquarantine(struct Pool *p, void *v);
/*
 * Give the dead block b (from poolquarantine) back to the free blocks,
 * after checking its fill: damage goes to p->panic and b stays dead.
 */
void	poolrecycle(struct Pool *p, void *b);

/* ---- pool-walk.c -------------------------------------------------------- */

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
 * (a damaged pool: the walk stops there).  Pool locked by the caller;
 * never allocates, never calls the pool's callbacks.
 */
int	poolwalkl(struct Pool *p, int (*arena)(void *arg, uintptr_t base, uintptr_t size),
	    int (*block)(void *arg, const PoolWalkBlock *b), void *arg);

#endif /* POOLDBG_INTERNAL_H */
