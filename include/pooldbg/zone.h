/*
 * <pooldbg/zone.h> -- zones: UMA-style allocators of fixed-size items.
 *
 * A zone hands out items of one size.  Items come from slabs the zone
 * takes from a Pool of its own (pool "zones", arenas from mmap), and are
 * kept in per-thread caches in front of the slabs.  Storage is type
 * stable: init runs on each item when its slab enters the zone, fini when
 * the slab leaves it; ctor runs on every uma_zalloc, dtor on every
 * uma_zfree.  While an item is free the zone keeps its own state in the
 * item's first two pointers; a structure that wants the rest of its
 * fields kept between uses reserves them:
 *
 *	struct thing { void *z_rsvd1, *z_rsvd2; ... };
 *
 * Debugging is always on: duplicate frees, frees to the wrong zone,
 * unaligned and foreign pointers are reported; items of a zone without
 * init/fini (and without UMA_ZONE_NOTRASH) are filled with 0xdeadc0de
 * when freed and checked when handed out again ("memory modified after
 * free"); uma_zdestroy reports every item still allocated as a leak.
 * Under `pooldbg run` every call is recorded with the zone's name.  See
 * zone(3).
 */
#ifndef POOLDBG_ZONE_H
#define POOLDBG_ZONE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct uma_zone *uma_zone_t;

/* Called on every uma_zalloc; nonzero fails the allocation (the item goes back, no dtor). */
typedef int	(*uma_ctor)(void *mem, int size, void *arg, int flags);
/* Called on every uma_zfree, before the item goes back. */
typedef void	(*uma_dtor)(void *mem, int size, void *arg);
/* Called once per item when its slab enters the zone; nonzero: the slab is given up. */
typedef int	(*uma_init)(void *mem, int size, int flags);
/* Called once per item when its slab leaves the zone (uma_zdestroy, or slabs given back). */
typedef void	(*uma_fini)(void *mem, int size);

enum {	/* flags of uma_zalloc */
	M_NOWAIT	= 0x0001,	/* fail rather than wait: NULL at the zone's limit or out of memory */
	M_WAITOK	= 0x0002,	/* wait (100 ms at a time) until an item can be had; never NULL */
	M_ZERO		= 0x0100,	/* clear the item before the ctor runs */
};

/* uma_zcreate's align: a mask, the alignment less one */
#define UMA_ALIGN_PTR	(sizeof(void *) - 1)
#define UMA_ALIGN_LONG	(sizeof(long) - 1)
#define UMA_ALIGN_CACHE	63

enum {	/* flags of uma_zcreate */
	UMA_ZONE_NOTRASH	= 0x0001,	/* no fill on free / check on reuse */
	UMA_ZONE_NOCACHE	= 0x0002,	/* no per-thread caches: every call goes to the slabs */
};

/* Figures of a zone, as uma_zone_stats returns them (vmstat -z). */
typedef struct uma_stats uma_stats;
struct uma_stats {
	size_t	size;		/* item size as created */
	size_t	stride;		/* bytes each item takes in a slab */
	uint64_t limit;		/* uma_zone_set_max, 0 for none */
	uint64_t used;		/* items held by callers now */
	uint64_t free;		/* items free in caches and slabs */
	uint64_t requests;	/* uma_zalloc calls that returned an item */
	uint64_t failures;	/* uma_zalloc calls that returned NULL */
	uint64_t frees;		/* uma_zfree calls that gave an item back */
	uint64_t slabs;		/* slabs held */
	uint64_t errors;	/* debugging reports made */
};

/*
 * A new zone of items of size bytes (at least 1), aligned to align + 1
 * (align is a mask: UMA_ALIGN_PTR, ...; 0 means pointer alignment); name
 * is copied.  Any of ctor, dtor, init and fini may be NULL.  NULL with
 * errno EINVAL (size 0, align not a power of two less one, items over
 * 1 MiB) or ENOMEM.
 */
uma_zone_t	uma_zcreate(const char *name, size_t size, uma_ctor ctor, uma_dtor dtor,
		    uma_init init, uma_fini fini, int align, uint32_t flags);
/*
 * An item of zone, or NULL (M_NOWAIT at the limit, out of memory, or the
 * ctor failed).  flags: M_NOWAIT or M_WAITOK (neither: M_WAITOK), with
 * M_ZERO to clear it.  Free it with uma_zfree to the same zone.
 */
void	*uma_zalloc(uma_zone_t zone, int flags);
/* uma_zalloc with arg passed to the ctor. */
void	*uma_zalloc_arg(uma_zone_t zone, void *arg, int flags);
/*
 * Give item back to zone; NULL is a no-op.  A duplicate free, a free to
 * the wrong zone, an unaligned or a foreign pointer is reported (see
 * uma_zone_set_report) and the item is left alone.
 */
void	uma_zfree(uma_zone_t zone, void *item);
/* uma_zfree with arg passed to the dtor. */
void	uma_zfree_arg(uma_zone_t zone, void *item, void *arg);
/*
 * Destroy zone, giving its slabs back: fini runs on every item.  Items
 * still allocated are reported as leaks, one report each with the
 * address of their allocating call, and their memory goes too.
 */
void	uma_zdestroy(uma_zone_t zone);
/* At most n items held by callers at once (0: no limit). */
void	uma_zone_set_max(uma_zone_t zone, uint64_t n);
/* Copy the zone's figures into *st. */
void	uma_zone_stats(uma_zone_t zone, uma_stats *st);
/* The zone's name, as given to uma_zcreate. */
const char	*uma_zone_name(uma_zone_t zone);
/*
 * Where the zone's debugging reports go.  By default a report is one
 * line "pooldbg: zone NAME: MESSAGE" on fd 2, and for anything but a leak
 * the process then aborts.  With fn set, fn(zone, message, arg) is called
 * instead and the call that found the fault returns doing nothing more
 * (the bad free is ignored; a modified item is handed out all the same).
 */
void	uma_zone_set_report(uma_zone_t zone, void (*fn)(uma_zone_t, const char *, void *),
	    void *arg);

#ifdef __cplusplus
}
#endif

#endif /* POOLDBG_ZONE_H */
