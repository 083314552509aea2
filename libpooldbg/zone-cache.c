/*
 * libpooldbg/zone-cache.c -- the zones' per-thread caches: one cache per
 * thread and zone, taken and filled without a lock, with the machinery of
 * the malloc family's thread caches (tcache.c).
 *
 * Owns each thread's table of caches (up to NSLOT zones; a further zone
 * evicts one, its items going back to their slabs) and each zone's list
 * of caches.  A cache holds up to the zone's bucketmax free items and the
 * counts of the calls it served.  Its owner enters it by storing busy and
 * reading freeze (no locked instruction); uma_zone_stats and uma_zdestroy
 * freeze a zone's caches under the zone's lock by storing freeze, making
 * every thread fence (fence_all: membarrier) and waiting while busy.  A
 * cache of a destroyed zone stays frozen, its zone NULL, until its owner
 * drops it.  A thread's end (a pthread key's destructor) gives its items
 * back and folds its counts into the zone's.  Items move between a cache
 * and the slabs through a local array, outside the cache (kegfill may
 * unlock the zone to make a slab).
 *
 * Locks: links (a thread's table, a zone's list, a cache's zone) change
 * under links.lock, then the zone's lock; a freezer holds the zone's lock.
 *
 * Must never: wait for a lock or call the slabs while its cache is busy,
 * or touch a zone a cache no longer names.
 */
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include <pooldbg/pool.h>

#include "zone-impl.h"

enum {
	NSLOT	= 16,	/* zones a thread keeps a cache for at once */
	SPINS	= 100,	/* tries before a freezer yields */
};

struct ZCache {
	atomic_int busy;	/* the owner is in its lock-free path */
	atomic_int freeze;	/* a freezer has it (for good once its zone is gone) */
	_Atomic(uma_zone_t) zone;	/* NULL once the zone is destroyed */
	ZCache	*next;		/* on the zone's list; zone's lock */
	int	n;		/* items in item[] */
	uint64_t requests;	/* uma_zalloc that got an item */
	uint64_t failures;	/* uma_zalloc that got none */
	uint64_t frees;		/* uma_zfree */
	void	*item[BUCKET];
};

typedef struct ZThread ZThread;
struct ZThread {
	ZCache	*slot[NSLOT];
	unsigned victim;	/* the slot evicted next */
};

#define ZDEAD	((ZThread *)1)	/* this thread's end is under way: no caches */

static __thread ZThread *mine __attribute__((tls_model("initial-exec")));

static struct {
	pthread_mutex_t lock;	/* the links */
	pthread_key_t key;
	int	keyok;
	int	asym;		/* fence_all makes every thread fence */
} links = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline int
enter(ZCache *c)
{
	atomic_store_explicit(&c->busy, 1, memory_order_relaxed);
	if (links.asym)
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&c->freeze, memory_order_acquire) == 0)
		return 1;
	atomic_store_explicit(&c->busy, 0, memory_order_release);
	return 0;
}

static inline void
leave(ZCache *c)
{
	atomic_store_explicit(&c->busy, 0, memory_order_release);
}

/* Freeze every cache of z.  Zone locked. */
static void
freezel(uma_zone_t z)
{
	ZCache *c;
	int spins;

	if (z->caches == NULL)
		return;
	for (c = z->caches; c != NULL; c = c->next)
		atomic_store(&c->freeze, 1);
	fence_all();
	for (c = z->caches; c != NULL; c = c->next)
		for (spins = 0; atomic_load_explicit(&c->busy, memory_order_acquire); spins++)
			if (spins >= SPINS)
				sched_yield();
}

static void
thawl(uma_zone_t z)
{
	ZCache *c;

	for (c = z->caches; c != NULL; c = c->next)
		atomic_store_explicit(&c->freeze, 0, memory_order_release);
}

/* c's items back to their slabs and its counts into z's; unlinked from z.  links.lock held. */
static void
retire(uma_zone_t z, ZCache *c)
{
	ZCache **l;

	kegdrain(z, c->item, c->n);
	c->n = 0;
	pthread_mutex_lock(&z->lock);
	z->requests += c->requests;
	z->failures += c->failures;
	z->frees += c->frees;
	for (l = &z->caches; *l != NULL; l = &(*l)->next)
		if (*l == c) {
			*l = c->next;
			break;
		}
	pthread_mutex_unlock(&z->lock);
}

/* Drop the cache in slot i of t (a destroyed zone's, or evicted).  links.lock held. */
static void
dropl(ZThread *t, int i)
{
	ZCache *c;
	uma_zone_t z;

	c = t->slot[i];
	if (c == NULL)
		return;
	if ((z = atomic_load(&c->zone)) != NULL)
		retire(z, c);
	t->slot[i] = NULL;
	poolfree(zone_pool(), c);
}

/* The key's destructor: every cache of the ending thread dropped. */
static void
threadend(void *v)
{
	ZThread *t;
	int i;

	t = v;
	pthread_mutex_lock(&links.lock);
	for (i = 0; i < NSLOT; i++)
		dropl(t, i);
	mine = ZDEAD;
	pthread_mutex_unlock(&links.lock);
	poolfree(zone_pool(), t);
}

/* This thread's cache of z, made if need be; NULL: none (no memory, or the thread is ending). */
static ZCache *
newcache(uma_zone_t z)
{
	ZThread *t;
	ZCache *c;
	int i;

	c = NULL;
	pthread_mutex_lock(&links.lock);
	if (!links.keyok) {
		if (pthread_key_create(&links.key, threadend) != 0)
			goto out;
		links.keyok = 1;
		links.asym = fence_asym();	/* before any cache is used */
	}
	if ((t = mine) == ZDEAD)
		goto out;
	if (t == NULL) {
		if ((t = poolalloc(zone_pool(), sizeof *t)) == NULL)
			goto out;
		memset(t, 0, sizeof *t);
		if (pthread_setspecific(links.key, t) != 0) {
			poolfree(zone_pool(), t);
			goto out;
		}
		mine = t;
	}
	for (i = 0; i < NSLOT; i++)
		if (t->slot[i] == NULL || atomic_load(&t->slot[i]->zone) == NULL)
			break;
	if (i == NSLOT)
		i = (int)(t->victim++ % NSLOT);
	dropl(t, i);
	if ((c = poolalloc(zone_pool(), sizeof *c)) == NULL)
		goto out;
	memset(c, 0, sizeof *c);
	atomic_store(&c->zone, z);
	pthread_mutex_lock(&z->lock);
	c->next = z->caches;
	z->caches = c;
	pthread_mutex_unlock(&z->lock);
	t->slot[i] = c;
out:
	pthread_mutex_unlock(&links.lock);
	return c;
}

/* This thread's cache of z, or NULL. */
static inline ZCache *
mycache(uma_zone_t z)
{
	ZThread *t;
	int i;

	t = mine;
	if (t == NULL || t == ZDEAD)
		return NULL;
	for (i = 0; i < NSLOT; i++)
		if (t->slot[i] != NULL && atomic_load_explicit(&t->slot[i]->zone,
		    memory_order_relaxed) == z)
			return t->slot[i];
	return NULL;
}

/* See zone-impl.h. */
void
zcache_count(uma_zone_t z, int requests, int failures, int frees)
{
	ZCache *c;

	if ((c = mycache(z)) != NULL && enter(c)) {
		c->requests += (uint64_t)requests;
		c->failures += (uint64_t)failures;
		c->frees += (uint64_t)frees;
		leave(c);
		return;
	}
	pthread_mutex_lock(&z->lock);
	z->requests += (uint64_t)requests;
	z->failures += (uint64_t)failures;
	z->frees += (uint64_t)frees;
	pthread_mutex_unlock(&z->lock);
}

/* See zone-impl.h. */
void *
zcache_take(uma_zone_t z)
{
	void *fill[BUCKET], *it;
	ZCache *c;
	int n, i;

	c = NULL;
	if (z->bucketmax > 0 && (c = mycache(z)) == NULL)
		c = newcache(z);
	if (c != NULL && enter(c)) {
		if (c->n > 0) {
			it = c->item[--c->n];
			c->requests++;
			leave(c);
			return it;
		}
		leave(c);
	}
	if (c == NULL) {
		n = kegfill(z, &it, 1);
		if (n == 1)
			zcache_count(z, 1, 0, 0);
		return n == 1 ? it : NULL;
	}
	if ((n = kegfill(z, fill, z->bucketmax / 2)) == 0)
		return NULL;
	it = fill[--n];
	if (n > 0 && enter(c)) {
		for (i = 0; i < n && c->n < z->bucketmax; i++)
			c->item[c->n++] = fill[i];
		leave(c);
		memmove(fill, fill + i, (size_t)(n - i) * sizeof fill[0]);
		n -= i;
	}
	if (n > 0)
		kegdrain(z, fill, n);	/* the cache is frozen: back to the slabs */
	zcache_count(z, 1, 0, 0);
	return it;
}

/* See zone-impl.h. */
void
zcache_put(uma_zone_t z, void *it)
{
	void *spill[BUCKET];
	ZCache *c;
	int n;

	c = NULL;
	if (z->bucketmax > 0 && (c = mycache(z)) == NULL)
		c = newcache(z);
	if (c != NULL && enter(c)) {
		c->frees++;
		if (c->n < z->bucketmax) {
			c->item[c->n++] = it;
			leave(c);
			return;
		}
		n = c->n / 2;
		c->n -= n;
		memcpy(spill, &c->item[c->n], (size_t)n * sizeof spill[0]);
		c->item[c->n++] = it;
		leave(c);
		kegdrain(z, spill, n);
		return;
	}
	kegdrain(z, &it, 1);
	zcache_count(z, 0, 0, 1);
}

/* See zone-impl.h. */
void
zcache_stats(uma_zone_t z, uint64_t *cached, uint64_t *requests, uint64_t *failures,
    uint64_t *frees)
{
	ZCache *c;

	pthread_mutex_lock(&z->lock);
	freezel(z);
	*cached = 0;
	*requests = z->requests;
	*failures = z->failures;
	*frees = z->frees;
	for (c = z->caches; c != NULL; c = c->next) {
		*cached += (uint64_t)c->n;
		*requests += c->requests;
		*failures += c->failures;
		*frees += c->frees;
	}
	thawl(z);
	pthread_mutex_unlock(&z->lock);
}

/* See zone-impl.h. */
void
zcache_destroy(uma_zone_t z, void (*back)(uma_zone_t, void *))
{
	ZCache *c, *n;

	pthread_mutex_lock(&links.lock);
	pthread_mutex_lock(&z->lock);
	freezel(z);	/* and frozen for good */
	for (c = z->caches; c != NULL; c = n) {
		n = c->next;
		while (c->n > 0)
			back(z, c->item[--c->n]);
		z->requests += c->requests;
		z->failures += c->failures;
		z->frees += c->frees;
		c->requests = c->failures = c->frees = 0;
		c->next = NULL;
		atomic_store(&c->zone, NULL);	/* its owner drops it */
	}
	z->caches = NULL;
	pthread_mutex_unlock(&z->lock);
	pthread_mutex_unlock(&links.lock);
}
