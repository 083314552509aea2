/*
 * libpooldbg/zone-impl.h -- what zone.c and zone-debug.c share: the zone,
 * its per-thread caches and its slabs.  Nothing outside the zones includes
 * it.
 *
 * A slab is one block of the zones' pool, aligned to SLABCHUNK:
 *
 *	Slab header | user bitmap | allocating pcs | pad | item | item | ...
 *
 * Every SLABCHUNK-aligned chunk a slab covers is registered (zone-debug.c)
 * so that a pointer finds its slab, or is known to be no item at all,
 * without reading memory it does not own.  The user bitmap has a bit set
 * for each item a caller holds: a free of an item whose bit is clear is a
 * duplicate free.  A free item (in a cache or on its slab's free list)
 * holds in its first word the slab's free-list link and in its second
 * FREECOOKIE ^ the zone's address.
 */
#ifndef POOLDBG_ZONE_IMPL_H
#define POOLDBG_ZONE_IMPL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <pooldbg/zone.h>

#include "record.h"

#define SLAB_MAGIC	((uintptr_t)0x51AB51AB2011E5ULL)
#define FREECOOKIE	((uintptr_t)0x2F2EE1735C00C1E5ULL)
#define TRASHWORD	0xdeadc0deU

enum {
	SLABCHUNK	= 64 << 10,	/* slabs are multiples of this, aligned to it */
	BUCKET		= 64,		/* items a cache holds at most */
	MAXITEM		= 1 << 20,	/* largest item size */
	MINSLABITEMS	= 8,		/* a slab holds at least this many items */
	NAMELEN		= 64,		/* zone names are cut to this, NUL included */
};

typedef struct Slab Slab;
typedef struct ZCache ZCache;

struct Slab {
	uintptr_t magic;	/* SLAB_MAGIC */
	struct uma_zone *zone;
	Slab	*next, *prev;	/* on one of the zone's lists */
	int	list;		/* which: LPARTIAL, LFULL, LEMPTY */
	uint32_t nitems;	/* items in the slab */
	uint32_t nfree;		/* of them, on the free list */
	void	*freelist;	/* free items not in a cache, linked through word 0 */
	char	*items;		/* the first item */
	char	*end;		/* one past the last item */
	size_t	size;		/* the whole slab (pool block) */
	_Atomic uint64_t *bits;	/* held-by-a-caller bitmap */
	uintptr_t *pcs;		/* the allocating call of each item */
};

enum { LPARTIAL, LFULL, LEMPTY, NLISTS };


struct uma_zone {
	char	name[NAMELEN];
	size_t	size;		/* as asked */
	size_t	stride;		/* item spacing in a slab */
	size_t	align;		/* item alignment (a power of two) */
	uma_ctor ctor;
	uma_dtor dtor;
	uma_init init;
	uma_fini fini;
	uint32_t flags;		/* UMA_ZONE_* */
	int	trash;		/* fill free items and check them on reuse */
	int	bucketmax;	/* items a cache holds (0: no caches) */
	uint32_t traceid;	/* the trace's zone id, 0 when not traced */
	_Atomic uint64_t nused;	/* items held by callers, kept only while limit is set */
	_Atomic uint64_t limit;	/* 0: none */
	_Atomic uint64_t errors;	/* reports made */
	void	(*report)(uma_zone_t, const char *, void *);
	void	*reportarg;
	pthread_mutex_t lock;	/* the slabs below */
	Slab	*lists[NLISTS];
	uint64_t nslabs;
	uint64_t kegfree;	/* items on slab free lists */
	ZCache	*caches;	/* the threads' caches of this zone (zone-cache.c) */
	uint64_t requests;	/* the counts of caches gone, and of calls made without one */
	uint64_t failures;
	uint64_t frees;
};

/* ---- zone.c: the slabs, for zone-cache.c ---------------------------------- */

/* Up to want items off the slabs into out (a slab made if need be); the count.  Takes the zone lock. */
int	kegfill(uma_zone_t z, void **out, int want);
/* Put n items back on their slabs.  Takes the zone lock. */
void	kegdrain(uma_zone_t z, void **items, int n);

/* ---- zone-cache.c: the per-thread caches ------------------------------------ */

/*
 * An item of z for the calling thread, from its cache (refilled from the
 * slabs) or, for a zone without caches, the slabs; counted as a request.
 * NULL when out of memory (not counted: see zcache_count).
 */
void	*zcache_take(uma_zone_t z);
/* Item it back, into this thread's cache (half of a full one spilled to the slabs); counted. */
void	zcache_put(uma_zone_t z, void *it);
/* Add to this thread's counts for z (or the zone's). */
void	zcache_count(uma_zone_t z, int requests, int failures, int frees);
/* The items in every cache of z and every count, the caches frozen meanwhile.  Zone unlocked. */
void	zcache_stats(uma_zone_t z, uint64_t *cached, uint64_t *requests, uint64_t *failures,
	    uint64_t *frees);
/*
 * uma_zdestroy: every cache of z frozen for good, its items handed to
 * back (zone locked) and its counts folded into z's; the caches are left
 * to their owners to drop.  Zone unlocked.
 */
void	zcache_destroy(uma_zone_t z, void (*back)(uma_zone_t, void *));

/* ---- zone-debug.c --------------------------------------------------------- */

/* The zones' pool: slabs come from it.  Created on first use. */
struct Pool	*zone_pool(void);
/* Register (slab nonzero) or forget the chunks of slab s; 0, or -1 with ENOMEM. */
int	zone_register(Slab *s, int add);
/* The slab whose chunk holds p, or NULL: lock-free, never reads p. */
Slab	*zone_slabof(const void *p);
/* What a report is about. */
typedef struct ZoneFault ZoneFault;
struct ZoneFault {
	int	kind;		/* ERR_* of record.h, or ZR_LEAK */
	int	what;		/* ZEV_ALLOC or ZEV_FREE: the call that found it */
	const void *ptr;	/* the pointer the call was given or handed out */
	const void *item;	/* the item concerned, or NULL when ptr is none */
	size_t	offset;		/* the first damaged byte of item */
};

enum { ZR_LEAK = -1 };	/* ZoneFault.kind: an item left at uma_zdestroy */

/*
 * A debugging report about zone: under pooldbg run (not for a leak) into
 * the trace's errors through pooldbg_zone_error, then through the zone's
 * report function if it has one; untraced and without one, one line on
 * fd 2 and, unless a leak, abort.  Never allocates.
 */
void	zone_report(uma_zone_t zone, const ZoneFault *f, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Fill a free item with the trash pattern past its first two words. */
void	zone_trash(uma_zone_t zone, void *item);
/* Check that pattern; report and return -1 when it was written over, else 0. */
int	zone_trashcheck(uma_zone_t zone, void *item);

/* The trace hooks: they do nothing here; the tracing runtime records (zone-runtime.c). */
enum { ZEV_ALLOC = 1, ZEV_FREE = 2 };

#endif /* POOLDBG_ZONE_IMPL_H */
