/*
 * libpooldbg/zone.c -- zones of <pooldbg/zone.h>: creation, the slabs
 * behind a zone (its keg), the per-thread caches in front of them, and
 * the calls uma_zalloc, uma_zfree, uma_zdestroy.
 *
 * Owns every zone's slab lists and caches.  The path of an item:
 *
 *	slab (init ran when the slab came) -> cache of the calling thread
 *	-> caller (ctor) -> uma_zfree (dtor, checks, trash) -> cache
 *	-> back to its slab when the cache is full -> the slab back to the
 *	pool when more than one slab of the zone is empty (fini)
 *
 * Locks: the zone's lock guards its slabs.  Each thread has its own cache
 * of each zone it uses, taken and filled without a lock (zone-cache.c).
 *
 * Must never: hand out an item whose held bit is set, call a ctor, dtor,
 * init or fini with a lock held, or read memory a pointer given to
 * uma_zfree names before its slab is known.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pooldbg/pool.h>

#include "zone-impl.h"

#define CALLERPC()	((uintptr_t)__builtin_return_address(0))

/* ---- slabs ------------------------------------------------------------- */

static void
unlinkslab(uma_zone_t z, Slab *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		z->lists[s->list] = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void
linkslab(uma_zone_t z, Slab *s, int list)
{
	s->list = list;
	s->prev = NULL;
	s->next = z->lists[list];
	if (s->next != NULL)
		s->next->prev = s;
	z->lists[list] = s;
}

/* Put s on the list its free count says.  Zone locked. */
static void
placeslab(uma_zone_t z, Slab *s)
{
	int want;

	want = s->nfree == 0 ? LFULL : s->nfree == s->nitems ? LEMPTY : LPARTIAL;
	if (want != s->list) {
		unlinkslab(z, s);
		linkslab(z, s, want);
	}
}

/* The slab size for z and how many items it holds; the header fits before them. */
static size_t
slabgeometry(uma_zone_t z, uint32_t *nitems, size_t *hdr)
{
	size_t size, n, h;

	size = SLABCHUNK;
	for (;;) {
		n = size / z->stride;
		while (n > 0) {
			h = sizeof(Slab) + (n + 63) / 64 * 8 + n * sizeof(uintptr_t);
			h = (h + z->align - 1) & ~(z->align - 1);
			if (h + n * z->stride <= size)
				break;
			n--;
		}
		if (n >= MINSLABITEMS) {
			*nitems = (uint32_t)n;
			*hdr = h;
			return size;
		}
		size += SLABCHUNK;
	}
}

/*
 * A new slab for z, every item initialised (zeroed, init run, trashed),
 * on the empty list; NULL with ENOMEM (or init failed).  Zone unlocked:
 * init runs without it; the caller links the slab.
 */
static Slab *
newslab(uma_zone_t z)
{
	uint32_t n, i;
	size_t size, hdr;
	char *base, *it;
	Slab *s;

	size = slabgeometry(z, &n, &hdr);
	base = poolallocalign(zone_pool(), size, SLABCHUNK, 0, 0);
	if (base == NULL)
		return NULL;
	memset(base, 0, size);
	s = (Slab *)base;
	s->magic = SLAB_MAGIC;
	s->zone = z;
	s->nitems = n;
	s->size = size;
	s->bits = (_Atomic uint64_t *)(base + sizeof(Slab));
	s->pcs = (uintptr_t *)(base + sizeof(Slab) + (n + 63) / 64 * 8);
	s->items = base + hdr;
	s->end = s->items + (size_t)n * z->stride;
	for (i = 0; i < n; i++) {
		it = s->items + (size_t)i * z->stride;
		if (z->init != NULL && z->init(it, (int)z->size, M_NOWAIT) != 0) {
			while (i-- > 0)
				if (z->fini != NULL)
					z->fini(s->items + (size_t)i * z->stride, (int)z->size);
			poolfree(zone_pool(), base);
			errno = ENOMEM;
			return NULL;
		}
	}
	/* the free list, first item first; the zone's state in each item's first two words */
	for (i = n; i-- > 0;) {
		it = s->items + (size_t)i * z->stride;
		if (z->trash)
			zone_trash(z, it);
		((void **)it)[0] = s->freelist;
		((uintptr_t *)it)[1] = FREECOOKIE ^ (uintptr_t)z;
		s->freelist = it;
	}
	s->nfree = n;
	if (zone_register(s, 1) != 0) {
		poolfree(zone_pool(), base);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

/* Give s back to the pool: fini on every item.  Unlinked, zone unlocked. */
static void
freeslab(uma_zone_t z, Slab *s)
{
	uint32_t i;

	if (z->fini != NULL)
		for (i = 0; i < s->nitems; i++)
			z->fini(s->items + (size_t)i * z->stride, (int)z->size);
	zone_register(s, 0);
	s->magic = 0;
	poolfree(zone_pool(), s);
}

/* Take an item off a slab of z; NULL when none is free.  Zone locked. */
static void *
kegtakel(uma_zone_t z)
{
	Slab *s;
	void *it;

	s = z->lists[LPARTIAL] != NULL ? z->lists[LPARTIAL] : z->lists[LEMPTY];
	if (s == NULL)
		return NULL;
	it = s->freelist;
	s->freelist = ((void **)it)[0];
	s->nfree--;
	z->kegfree--;
	placeslab(z, s);
	return it;
}

/*
 * Put a free item back on its slab; returns a slab to give back to the
 * pool (more than one empty), else NULL.  Zone locked.
 */
static Slab *
kegputl(uma_zone_t z, void *it)
{
	Slab *s;

	s = zone_slabof(it);
	((void **)it)[0] = s->freelist;
	s->freelist = it;
	s->nfree++;
	z->kegfree++;
	placeslab(z, s);
	if (s->list == LEMPTY && (s->next != NULL || s->prev != NULL)) {
		unlinkslab(z, s);
		z->nslabs--;
		z->kegfree -= s->nitems;
		return s;
	}
	return NULL;
}

/*
 * Up to want items from the slabs of z into out, making a slab when none
 * has a free item; the count, 0 when out of memory.  Takes the zone lock.
 */
int
kegfill(uma_zone_t z, void **out, int want)
{
	Slab *s;
	int n;

	pthread_mutex_lock(&z->lock);
	for (n = 0; n < want; n++) {
		if ((out[n] = kegtakel(z)) != NULL)
			continue;
		if (n > 0)
			break;
		pthread_mutex_unlock(&z->lock);
		s = newslab(z);
		pthread_mutex_lock(&z->lock);
		if (s == NULL)
			break;
		linkslab(z, s, LEMPTY);
		z->nslabs++;
		z->kegfree += s->nitems;
		n--;	/* and take from it */
	}
	pthread_mutex_unlock(&z->lock);
	return n;
}

/* Put n items back on their slabs; slabs that fall empty beyond one go back.  Takes the zone lock. */
void
kegdrain(uma_zone_t z, void **items, int n)
{
	Slab *give[BUCKET];
	int i, ngive;

	ngive = 0;
	pthread_mutex_lock(&z->lock);
	for (i = 0; i < n; i++)
		if ((give[ngive] = kegputl(z, items[i])) != NULL)
			ngive++;
	pthread_mutex_unlock(&z->lock);
	for (i = 0; i < ngive; i++)
		freeslab(z, give[i]);
}

/* ---- the calls ---------------------------------------------------------- */

/* See <pooldbg/zone.h>. */
EXPORT uma_zone_t
uma_zcreate(const char *name, size_t size, uma_ctor ctor, uma_dtor dtor, uma_init init,
    uma_fini fini, int align, uint32_t flags)
{
	pthread_mutexattr_t ma;
	uma_zone_t z;
	size_t a;

	if (align == 0)
		align = (int)UMA_ALIGN_PTR;
	a = (size_t)align + 1;
	if (size == 0 || size > MAXITEM || align < 0 || (a & (a - 1)) != 0 || a > SLABCHUNK / 8) {
		errno = EINVAL;
		return NULL;
	}
	if (a < sizeof(void *))
		a = sizeof(void *);
	z = poolalloc(zone_pool(), sizeof *z);
	if (z == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(z, 0, sizeof *z);
	if (name == NULL)
		name = "";
	strncpy(z->name, name, NAMELEN - 1);
	z->size = size;
	z->align = a;
	z->stride = size < 2 * sizeof(void *) ? 2 * sizeof(void *) : size;
	z->stride = (z->stride + a - 1) & ~(a - 1);
	z->ctor = ctor;
	z->dtor = dtor;
	z->init = init;
	z->fini = fini;
	z->flags = flags;
	z->trash = init == NULL && fini == NULL && !(flags & UMA_ZONE_NOTRASH) &&
	    size > 2 * sizeof(void *);
	z->bucketmax = flags & UMA_ZONE_NOCACHE ? 0 : BUCKET;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&z->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	z->traceid = pooldbg_zone_created(z, z->name, size);
	return z;
}

/* Wait 100 ms for an item to come free. */
static void
pause100(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *
zalloc(uma_zone_t z, void *arg, int flags, uintptr_t pc)
{
	uint64_t lim, used;
	Slab *s;
	void *it;
	size_t i;

	for (;;) {
		/* nused is kept only while a limit is set: no shared counter on the fast path */
		lim = atomic_load_explicit(&z->limit, memory_order_relaxed);
		used = lim != 0 ? atomic_fetch_add(&z->nused, 1) : 0;
		if (lim != 0 && used >= lim) {
			atomic_fetch_sub(&z->nused, 1);
			it = NULL;
		} else if ((it = zcache_take(z)) == NULL && lim != 0)
			atomic_fetch_sub(&z->nused, 1);
		if (it != NULL || (flags & M_NOWAIT))
			break;
		pause100();
	}
	if (it == NULL) {
		zcache_count(z, 0, 1, 0);
		errno = ENOMEM;
		return NULL;
	}
	s = zone_slabof(it);
	i = (size_t)((char *)it - s->items) / z->stride;
	if (atomic_fetch_or(&s->bits[i / 64], (uint64_t)1 << (i % 64)) & ((uint64_t)1 << (i % 64)))
		zone_report(z, &(ZoneFault){ ERR_CORRUPTION, ZEV_ALLOC, it, it, 0 },
		    "item %p handed out while held (free list damaged)", it);
	s->pcs[i] = pc;
	if (z->trash)
		zone_trashcheck(z, it);
	((uintptr_t *)it)[1] = 0;	/* no longer free */
	if (flags & M_ZERO)
		memset(it, 0, z->size);
	if (z->ctor != NULL && z->ctor(it, (int)z->size, arg, flags) != 0) {
		atomic_fetch_and(&s->bits[i / 64], ~((uint64_t)1 << (i % 64)));
		if (lim != 0)
			atomic_fetch_sub(&z->nused, 1);
		if (z->trash)
			zone_trash(z, it);
		((uintptr_t *)it)[1] = FREECOOKIE ^ (uintptr_t)z;
		zcache_put(z, it);
		zcache_count(z, -1, 1, -1);	/* a failure, not a request and a free */
		errno = ENOMEM;
		return NULL;
	}
	if (z->traceid != 0)
		pooldbg_zone_item(z->traceid, ZEV_ALLOC, it, z->size);
	return it;
}

/* See <pooldbg/zone.h>. */
EXPORT __attribute__((noinline)) void *
uma_zalloc(uma_zone_t zone, int flags)
{
	return zalloc(zone, NULL, flags, CALLERPC());
}

/* See <pooldbg/zone.h>. */
EXPORT __attribute__((noinline)) void *
uma_zalloc_arg(uma_zone_t zone, void *arg, int flags)
{
	return zalloc(zone, arg, flags, CALLERPC());
}

static void
zfree(uma_zone_t z, void *it, void *arg)
{
	uint64_t bit, old;
	Slab *s;
	size_t off, i;

	if (it == NULL)
		return;
	s = zone_slabof(it);
	if (s == NULL) {
		zone_report(z, &(ZoneFault){ ERR_INVALID_FREE, ZEV_FREE, it, NULL, 0 },
		    "invalid free of %p: not an item of any zone", it);
		return;
	}
	if (s->zone != z) {
		zone_report(z, &(ZoneFault){ ERR_INVALID_FREE, ZEV_FREE, it, NULL, 0 },
		    "freed item %p did not belong to zone %s (it is of zone %s)",
		    it, z->name, s->zone->name);
		return;
	}
	if ((char *)it < s->items || (char *)it >= s->end ||
	    (off = (size_t)((char *)it - s->items)) % z->stride != 0) {
		zone_report(z, &(ZoneFault){ ERR_INVALID_FREE, ZEV_FREE, it, NULL, 0 },
		    "unaligned free of %p: not the start of an item", it);
		return;
	}
	i = off / z->stride;
	bit = (uint64_t)1 << (i % 64);
	old = atomic_fetch_and(&s->bits[i / 64], ~bit);
	if (!(old & bit)) {
		zone_report(z, &(ZoneFault){ ERR_DOUBLE_FREE, ZEV_FREE, it, it, 0 },
		    "duplicate free of %p", it);
		return;
	}
	if (z->traceid != 0)
		pooldbg_zone_item(z->traceid, ZEV_FREE, it, z->size);
	if (z->dtor != NULL)
		z->dtor(it, (int)z->size, arg);
	if (z->trash)
		zone_trash(z, it);
	((uintptr_t *)it)[1] = FREECOOKIE ^ (uintptr_t)z;
	if (atomic_load_explicit(&z->limit, memory_order_relaxed) != 0)
		atomic_fetch_sub(&z->nused, 1);
	zcache_put(z, it);
}

/* See <pooldbg/zone.h>. */
EXPORT void
uma_zfree(uma_zone_t zone, void *item)
{
	zfree(zone, item, NULL);
}

/* See <pooldbg/zone.h>. */
EXPORT void
uma_zfree_arg(uma_zone_t zone, void *item, void *arg)
{
	zfree(zone, item, arg);
}

/* See <pooldbg/zone.h>. */
EXPORT void
uma_zone_set_max(uma_zone_t zone, uint64_t n)
{
	uma_stats st;

	/* the count of items held is kept only under a limit: start it from the figures */
	uma_zone_stats(zone, &st);
	atomic_store(&zone->nused, st.used);
	atomic_store(&zone->limit, n);
}

/* See <pooldbg/zone.h>. */
EXPORT const char *
uma_zone_name(uma_zone_t zone)
{
	return zone->name;
}

/* See <pooldbg/zone.h>. */
EXPORT void
uma_zone_set_report(uma_zone_t zone, void (*fn)(uma_zone_t, const char *, void *), void *arg)
{
	zone->report = fn;
	zone->reportarg = arg;
}

/* See <pooldbg/zone.h>. */
EXPORT void
uma_zone_stats(uma_zone_t z, uma_stats *st)
{
	uint64_t cached;

	memset(st, 0, sizeof *st);
	zcache_stats(z, &cached, &st->requests, &st->failures, &st->frees);
	pthread_mutex_lock(&z->lock);
	st->free = cached + z->kegfree;
	st->slabs = z->nslabs;
	pthread_mutex_unlock(&z->lock);
	st->size = z->size;
	st->stride = z->stride;
	st->limit = atomic_load(&z->limit);
	st->used = st->requests - st->frees;
	st->errors = atomic_load(&z->errors);
}

/* A cached item back on its slab at uma_zdestroy; empty slabs stay listed until the end.  Zone locked. */
static void
backl(uma_zone_t z, void *it)
{
	Slab *s;

	if ((s = kegputl(z, it)) != NULL) {
		linkslab(z, s, LEMPTY);
		z->nslabs++;
		z->kegfree += s->nitems;
	}
}

/* Report every held item of s as a leak. */
static void
leaks(uma_zone_t z, Slab *s)
{
	uint32_t i;

	for (i = 0; i < s->nitems; i++)
		if (atomic_load(&s->bits[i / 64]) & ((uint64_t)1 << (i % 64)))
			zone_report(z, &(ZoneFault){ ZR_LEAK, ZEV_FREE, NULL, NULL, 0 },
			    "leak: item %p (%zu bytes) still allocated at uma_zdestroy, "
			    "allocated from pc %#lx", s->items + (size_t)i * z->stride, z->size,
			    (unsigned long)s->pcs[i]);
}

/* See <pooldbg/zone.h>. */
EXPORT void
uma_zdestroy(uma_zone_t z)
{
	uma_stats st;
	Slab *s, *next;
	int l;

	if (z == NULL)
		return;
	zcache_destroy(z, backl);
	uma_zone_stats(z, &st);
	if (z->traceid != 0)
		pooldbg_zone_destroyed(z->traceid, z, z->name, &st);
	for (l = 0; l < NLISTS; l++) {
		for (s = z->lists[l]; s != NULL; s = next) {
			next = s->next;
			if (s->nfree != s->nitems)
				leaks(z, s);
			freeslab(z, s);
		}
		z->lists[l] = NULL;
	}
	pthread_mutex_destroy(&z->lock);
	poolfree(zone_pool(), z);
}
