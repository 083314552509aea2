/*
 * libpooldbg/runtime.c -- the tracing runtime's core: initialisation from
 * the environment, the ring and its lock, the stack trie, and the records
 * of heap events.
 *
 * How an event travels: a shim of malloc-replace.c asks the pool, then
 * calls rt_alloc/rt_free/rt_realloc.  Unless tracing is off or the thread
 * is already inside the runtime (the guard), the event unwinds the stack
 * (runtime-unwind.c) without any lock, then under the ring lock turns the
 * PCs into one stack id -- the outer part usually straight from the
 * thread's last stack, the rest through the trie, each new node written
 * as a REC_FRAME -- and appends the event's record to the ring.
 *
 * The trie is an open-addressing hash table of (parent id, pc) -> id in
 * anonymous mmap'd memory that doubles when half full.  Ids count from 1 in
 * the order nodes are written; 0 is the empty stack.
 *
 * Before the constructor has run (the dynamic loader's allocations, other
 * libraries' constructors), events wait in a fixed buffer with the
 * caller's PC as a one-frame stack, and are written once the ring exists.
 *
 * Environment (read once, by the constructor):
 *   POOLDBG_SESSION    session directory; unset: no tracing at all
 *   POOLDBG_DEPTH      frames per stack (default 64, at most 256)
 *   POOLDBG_FOLLOW     0: exec'd images are not traced (the variable and
 *                      this library are taken out of the environment)
 *   POOLDBG_RING_SIZE  ring data bytes, suffix k, m or g allowed
 *                      (default 8m; rounded up to a power of two)
 *   POOLDBG_SCAN       0: no reachability scan at exit (runtime-snap.c
 *                      reads it)
 *   POOLDBG_MODE, POOLDBG_SAMPLE, POOLDBG_SAMPLE_SEED
 *                      leaks mode and sampling (runtime-live.c reads them):
 *                      events of the malloc family then go to the live
 *                      table, and in leaks mode never to the ring
 *
 * The pool's messages and panics are runtime-error.c's.
 *
 * Must never: allocate while holding the ring lock (the pool's panic takes
 * the ring lock under the pool lock), use stdio or the locale, make a
 * system call on the path of an ordinary event (the ring's futex when it
 * is full aside), or record an allocation made while the guard is set.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>	/* vsnprintf only: never a FILE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#include "hashmix.h"
#include "runtime.h"
#include "wordlock.h"

enum {
	NPENDING	= 1024,		/* events kept before initialisation, at first */
	TRIEINIT	= 1 << 16,	/* first trie size, entries; huge pages once it is 2 MiB */
	WHOLES		= 1 << 16,	/* entries of the whole-stack cache (1 MiB) */
	WAYS		= 4,		/* its entries one key may take: a cache line's */
	CMDSIZE		= 4096,		/* command line bytes kept in REC_PROC */
};

#define MINRING		((size_t)64 << 10)
#define MAXRING		((size_t)1 << 32)

typedef struct Trie Trie;
struct Trie {
	uint64_t pc;
	uint32_t parent;
	uint32_t id;		/* 0: empty slot */
};

/*
 * A thread's last stack, outermost frame first, with the trie ids of its
 * first known frames (a stack found whole in the whole-stack cache
 * brings only its own id: its frames past those it shares with the
 * stack before have none here).
 */
typedef struct Cache Cache;
struct Cache {
	unsigned gen;		/* rt.triegen when filled */
	int	n;
	int	known;		/* id[0..known-1] are the frames' ids */
	uint32_t last;		/* the whole stack's id */
	uintptr_t pc[RT_MAXDEPTH];
	uint32_t id[RT_MAXDEPTH];
};

/*
 * A whole stack's id, by a 64-bit hash of all its pcs: one probe for a
 * stack seen before, where the trie needs one per frame that differs from
 * the thread's last stack (the inner frames, which miss the caches).
 */
typedef struct Whole Whole;
struct Whole {
	uint64_t key;		/* stackkey(); 0: empty */
	uint32_t id;
	unsigned gen;		/* rt.triegen when filled */
};
_Static_assert(sizeof(Whole) * WAYS == 64, "a set of the whole-stack cache is a cache line");

typedef struct Pending Pending;
struct Pending {
	uint8_t	type;		/* REC_ALLOC, REC_FREE, REC_REALLOC */
	uint8_t	gone;		/* leaks mode: the block it made is given back by a later one (pendgone) */
	uint16_t kind, flags;
	uint64_t time, ptr, newptr, size, align, pc;
};

int rt_state;
__thread int rt_inside RT_TLS;

static __thread int mytid RT_TLS;		/* 0 until first asked */
static __thread unsigned seengen RT_TLS;	/* rt.ringgen when REC_THREAD was written */
static __thread Cache *mycache RT_TLS;
static __thread int cacheoff RT_TLS;		/* the thread is ending: no new cache */
static __thread int unwound RT_TLS;		/* the thread has used libunwind */

/* The runtime's state; ring, trie and module fields are guarded by lock. */
static struct {
	atomic_int lock;	/* the ring lock (wordlock.h) */
	_Atomic int owner;	/* tid holding lock, 0 if none */
	Ring	ring;
	int	pid;		/* the process that owns ring */
	unsigned ringgen;	/* counts rings opened by this image and its fork children */
	char	session[PATH_MAX];
	int	depth;
	size_t	ringsize;
	int	follow;
	pthread_key_t key;	/* a thread's end, through its destructor */
	int	havekey;
	Trie	*trie;
	size_t	triecap, trielen;
	uint32_t nextid;
	unsigned triegen;
	Whole	*wholes;	/* WHOLES entries, mapped at first use; NULL if that failed */
	int	nowholes;
} rt;

/*
 * The heap calls made before initialisation, to be recorded when it is
 * done: NPENDING in place, then as many as a mapping twice as large at
 * each step holds.  A constructor of a library the program needs may make
 * thousands.  Guarded by pendlock.
 */
static Pending pendfirst[NPENDING];
static Pending *pend = pendfirst;
static int npend, pendcap = NPENDING;
static int pendlost;		/* calls dropped for want of memory */
static atomic_flag pendlock = ATOMIC_FLAG_INIT;

static void	threadend(void *);

/* ---- small helpers ------------------------------------------------------ */

static uint64_t
realnow(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The calling thread's id, asked of the kernel once per thread (reset in a fork child). */
int
rt_gettid(void)
{
	if (mytid == 0)
		mytid = (int)syscall(SYS_gettid);
	return mytid;
}

static void
say(const char *a, const char *b)
{
	ssize_t r;

	r = write(2, a, strlen(a));
	r = write(2, b, strlen(b));
	r = write(2, "\n", 1);
	(void)r;
}

/* ---- the lock and the ring ---------------------------------------------- */

/* Take the ring lock; 1 if this thread already holds it (a signal inside the runtime). */
int
rt_lock(void)
{
	int me;

	me = rt_gettid();
	if (atomic_load_explicit(&rt.owner, memory_order_relaxed) == me)
		return 1;
	wordlock(&rt.lock);
	atomic_store_explicit(&rt.owner, me, memory_order_relaxed);
	return 0;
}

/* Take the ring lock if no thread holds it (this one included); 0, or -1.  Signal-safe. */
int
rt_trylock(void)
{
	if (wordtrylock(&rt.lock) != 0)
		return -1;
	atomic_store_explicit(&rt.owner, rt_gettid(), memory_order_relaxed);
	return 0;
}

/* Whether the calling thread holds the ring lock.  Signal-safe. */
int
rt_holdslock(void)
{
	return atomic_load_explicit(&rt.owner, memory_order_relaxed) == rt_gettid();
}

/* Give the ring lock back, unless nested (rt_lock returned 1). */
void
rt_unlock(int nested)
{
	if (nested)
		return;
	atomic_store_explicit(&rt.owner, 0, memory_order_relaxed);
	wordunlock(&rt.lock);
}

/* Append a record to this image's ring if it is live; lock held.  May wait while the ring is full. */
void
rt_putl(const void *rec, size_t len)
{
	if (rt_state == RT_LIVE)
		(void)ring_write(&rt.ring, rec, len);
}

/* Whether the ring is live and this process created it (a vfork child did not); lock held. */
int
rt_ownerl(void)
{
	return rt_state == RT_LIVE && rt.pid == (int)getpid();
}

/* ---- the stack trie ----------------------------------------------------- */

static size_t
triehash(uint32_t parent, uint64_t pc)
{
	uint64_t h;

	h = pc * 0x9e3779b97f4a7c15ull ^ ((uint64_t)parent + 1) * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ h >> 29);
}

static void
trieresetl(void)
{
	if (rt.trie != NULL)
		munmap(rt.trie, rt.triecap * sizeof(Trie));
	rt.trie = NULL;
	rt.triecap = rt.trielen = 0;
	rt.nextid = 0;
	rt.triegen++;
}

/* Double the table (or make the first one); -1 when no memory. */
static int
triegrowl(void)
{
	Trie *t, *o;
	size_t cap, i, j;

	cap = rt.triecap == 0 ? TRIEINIT : rt.triecap * 2;
	if ((t = rt_tablemap(cap * sizeof(Trie))) == NULL)
		return -1;
	o = rt.trie;
	for (i = 0; i < rt.triecap; i++) {
		if (o[i].id == 0)
			continue;
		for (j = triehash(o[i].parent, o[i].pc) & (cap - 1); t[j].id != 0; j = (j + 1) & (cap - 1))
			;
		t[j] = o[i];
	}
	if (o != NULL)
		munmap(o, rt.triecap * sizeof(Trie));
	rt.trie = t;
	rt.triecap = cap;
	return 0;
}

/* The node (parent, pc), written as a REC_FRAME when new; parent itself when out of memory. */
static uint32_t
triegetl(uint32_t parent, uintptr_t pc)
{
	RecFrame f;
	size_t i;
	Trie *e;

	if (rt.trielen * 2 >= rt.triecap && triegrowl() < 0)
		return parent;
	for (i = triehash(parent, pc) & (rt.triecap - 1);; i = (i + 1) & (rt.triecap - 1)) {
		e = &rt.trie[i];
		if (e->id == 0)
			break;
		if (e->pc == pc && e->parent == parent)
			return e->id;
	}
	modules_notepcl(pc);
	e->pc = pc;
	e->parent = parent;
	e->id = ++rt.nextid;
	rt.trielen++;
	f.h.type = REC_FRAME;
	f.h.len = sizeof f;
	f.id = e->id;
	f.parent = parent;
	f.pc = pc;
	rt_putl(&f, sizeof f);
	return e->id;
}

static Cache *
cacheget(void)
{
	void *v;

	if (mycache == NULL && !cacheoff) {
		v = mmap(NULL, sizeof(Cache), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (v == MAP_FAILED) {
			cacheoff = 1;
			return NULL;
		}
		mycache = v;
	}
	return mycache;
}

/*
 * The whole-stack cache's key of pcs[0..n-1]; never 0.  Four chains of
 * multiplies, each over every fourth pc, then joined: one chain over a
 * deep stack is a long wait, each step on the one before.
 */
static uint64_t
stackkey(const uintptr_t *pcs, int n)
{
	uint64_t h0, h1, h2, h3;
	int i;

	h0 = (uint64_t)n * 0x9e3779b97f4a7c15ull;
	h1 = h0 ^ 0x6a09e667f3bcc909ull;
	h2 = h0 ^ 0xbb67ae8584caa73bull;
	h3 = h0 ^ 0x3c6ef372fe94f82bull;
	for (i = 0; i + 4 <= n; i += 4) {
		h0 = (h0 ^ pcs[i]) * 0xff51afd7ed558ccdull;
		h1 = (h1 ^ pcs[i + 1]) * 0xc4ceb9fe1a85ec53ull;
		h2 = (h2 ^ pcs[i + 2]) * 0xff51afd7ed558ccdull;
		h3 = (h3 ^ pcs[i + 3]) * 0xc4ceb9fe1a85ec53ull;
	}
	for (; i < n; i++)
		h0 = (h0 ^ pcs[i]) * 0xff51afd7ed558ccdull;
	h0 = (h0 ^ h1 >> 29 ^ h2 >> 17 ^ h3 >> 41) * 0x9e3779b97f4a7c15ull;
	h0 ^= h1 ^ h2 << 7 ^ h3 << 13;
	h0 ^= h0 >> 32;
	return h0 | 1;
}

/* The index of key's first entry in the whole-stack cache; key's low bit is always set. */
static inline size_t
wholeset(uint64_t key)
{
	return ((key >> 1) & (WHOLES / WAYS - 1)) * WAYS;
}

/*
 * The set of WAYS entries of the whole-stack cache where key may be,
 * most recently used first; NULL when there is no cache.  Lock held.
 */
static Whole *
wholel(uint64_t key)
{
	void *v;

	if (rt.wholes == NULL) {
		if (rt.nowholes)
			return NULL;
		v = mmap(NULL, WHOLES * sizeof(Whole), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (v == MAP_FAILED) {
			rt.nowholes = 1;
			return NULL;
		}
		rt.wholes = v;
	}
	return &rt.wholes[wholeset(key)];
}

/*
 * The key of pcs[0..n-1], its set of the whole-stack cache starting to
 * load, so that the miss overlaps what an event does before it takes the
 * lock.  No lock needed: a prefetch of a stale table is harmless.
 */
static inline uint64_t
keyload(const uintptr_t *pcs, int n)
{
	uint64_t key;
	Whole *t;

	key = stackkey(pcs, n);
	if ((t = rt.wholes) != NULL)
		__builtin_prefetch(&t[wholeset(key)]);
	return key;
}

/*
 * Key's entry in the set w, moved to its front; NULL when it is not in the
 * set or is from an earlier trie.  One cache line: a stack programs use
 * often stays when others come and go, where a single slot would lose it
 * to any stack whose key it shares.
 */
static Whole *
wholefind(Whole *w, uint64_t key)
{
	Whole e;
	int i;

	for (i = 0; i < WAYS; i++) {
		if (w[i].key == key && w[i].gen == rt.triegen) {
			e = w[i];
			for (; i > 0; i--)
				w[i] = w[i - 1];
			w[0] = e;
			return w;
		}
	}
	return NULL;
}

/* Enter key's id at the front of the set w, dropping the least recently used. */
static void
wholeput(Whole *w, uint64_t key, uint32_t id)
{
	int i;

	for (i = WAYS - 1; i > 0; i--)
		w[i] = w[i - 1];
	w[0].key = key;
	w[0].id = id;
	w[0].gen = rt.triegen;
}

/*
 * The number of outermost frames pcs[0..n-1] (innermost first) shares
 * with the thread's last stack, c, whose ids c knows.
 */
static int
shared(const uintptr_t *pcs, int n, const Cache *c)
{
	int m;

	m = 0;
	if (c != NULL && c->gen == rt.triegen)
		while (m < n && m < c->known && c->pc[m] == pcs[n - 1 - m])
			m++;
	return m;
}

/*
 * The stack id of pcs[0..n-1] (innermost first).  A stack seen before
 * comes from the whole-stack cache.  Otherwise the outer frames the stack
 * shares with this thread's last one keep their ids and only the rest is
 * looked up in the trie.  Either way, with follow (leaks mode's stackid),
 * it becomes the thread's last stack, so that the same stack again is
 * found without the lock (samestack); a recorded event takes the lock
 * anyway.
 * Two stacks whose 64-bit keys are equal would share an id; with the pcs
 * hashed whole that takes on the order of 2^32 distinct stacks.  Lock
 * held.
 */
static uint32_t
internl(const uintptr_t *pcs, int n, uint64_t key, Cache *c, int follow)
{
	uint32_t id;
	Whole *w, *e;
	int k, m;

	w = wholel(key);
	if (w != NULL && (e = wholefind(w, key)) != NULL) {
		if (c != NULL && follow) {
			c->known = m = shared(pcs, n, c);
			for (k = m; k < n; k++)
				c->pc[k] = pcs[n - 1 - k];
			c->n = n;
			c->last = e->id;
			c->gen = rt.triegen;
		}
		return e->id;
	}
	m = shared(pcs, n, c);
	id = m > 0 ? c->id[m - 1] : 0;
	for (k = m; k < n; k++) {
		id = triegetl(id, pcs[n - 1 - k]);
		if (c != NULL) {
			c->pc[k] = pcs[n - 1 - k];
			c->id[k] = id;
		}
	}
	if (c != NULL) {
		c->n = c->known = n;
		c->last = id;
		c->gen = rt.triegen;
	}
	if (w != NULL)
		wholeput(w, key, id);
	return id;
}

/* ---- threads ------------------------------------------------------------ */

static void
putthreadl(int tid, uint32_t ending)
{
	RecThread t;

	t.h.type = REC_THREAD;
	t.h.len = sizeof t;
	t.time = rt_now();
	t.tid = tid;
	t.ending = ending;
	rt_putl(&t, sizeof t);
}

/* The first event of this thread in this ring: REC_THREAD, and a key for its end.  No lock held. */
static void
threadfirst(void)
{
	int nested;

	if (rt.havekey)
		(void)pthread_setspecific(rt.key, (void *)1);	/* may allocate: before the lock */
	nested = rt_lock();
	if (seengen != rt.ringgen) {
		seengen = rt.ringgen;
		putthreadl(rt_gettid(), 0);
	}
	rt_unlock(nested);
}

static void
threadend(void *v)
{
	int nested;

	(void)v;
	rt_inside++;
	if (rt_state == RT_LIVE && seengen == rt.ringgen) {
		nested = rt_lock();
		putthreadl(rt_gettid(), 1);
		rt_unlock(nested);
	}
	if (mycache != NULL)
		munmap(mycache, sizeof(Cache));
	mycache = NULL;
	cacheoff = 1;
	rt_inside--;
}

/* ---- events ------------------------------------------------------------- */

/* Room in pend for one more call: a mapping twice as large when it is full; -1 if none.  Pendlock held. */
static int
pendroom(void)
{
	Pending *n;

	if (npend < pendcap)
		return 0;
	if (pendcap > INT_MAX / 2)
		return -1;
	n = mmap(NULL, (size_t)pendcap * 2 * sizeof(Pending), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (n == MAP_FAILED)
		return -1;
	memcpy(n, pend, (size_t)npend * sizeof(Pending));
	if (pend != pendfirst)
		munmap(pend, (size_t)pendcap * sizeof(Pending));
	pend = n;
	pendcap *= 2;
	return 0;
}

static void
pendadd(uint8_t type, unsigned kind, unsigned flags, const void *ptr, const void *newptr,
    size_t size, size_t align, uintptr_t pc)
{
	Pending *e;

	while (atomic_flag_test_and_set_explicit(&pendlock, memory_order_acquire))
		;
	if (rt_state == RT_UNINIT && pendroom() < 0)
		pendlost = 1;
	else if (rt_state == RT_UNINIT) {
		e = &pend[npend++];
		e->type = type;
		e->kind = (uint16_t)kind;
		e->flags = (uint16_t)flags;
		e->time = rt_now();
		e->ptr = (uintptr_t)ptr;
		e->newptr = (uintptr_t)newptr;
		e->size = size;
		e->align = align;
		e->pc = pc;
	}
	atomic_flag_clear_explicit(&pendlock, memory_order_release);
}

/*
 * Unwind, then under the lock set the record's stack and append it.  rec
 * is one of RecAlloc, RecFree, RecRealloc; time, stack and tid point into
 * it.  The stack's key is computed and its cache set prefetched before the
 * lock is taken, so that the miss overlaps the clock and the lock.
 */
static void
event(void *rec, size_t len, uint64_t *time, uint32_t *stack, int32_t *tid, const RtFrom *from)
{
	uintptr_t pcs[RT_MAXDEPTH];
	uint64_t key;
	Cache *c;
	int n, e, nested;

	e = errno;
	rt_inside++;
	n = unwind_stack(pcs, rt.depth, from);
	unwound = 1;
	key = keyload(pcs, n);
	*time = rt_now();
	*tid = rt_gettid();
	if (seengen != rt.ringgen)
		threadfirst();
	c = cacheget();
	nested = rt_lock();
	if (rt_state == RT_LIVE) {
		*stack = internl(pcs, n, key, c, 0);
		rt_putl(rec, len);
	}
	rt_unlock(nested);
	if (__builtin_expect(atomic_load_explicit(&snap_want, memory_order_relaxed), 0) && !nested)
		snap_honour();
	rt_inside--;
	errno = e;
}

/*
 * The stack id of pcs[0..n-1] when it is this thread's last stack whole,
 * found without the ring lock (the trie is only reset by a new ring, in
 * this process's one thread); 0 when it is not.
 */
static uint32_t
samestack(const uintptr_t *pcs, int n, const Cache *c)
{
	int k;

	if (c == NULL || n == 0 || c->n != n || c->gen != rt.triegen)
		return 0;
	for (k = 0; k < n; k++)
		if (c->pc[k] != pcs[n - 1 - k])
			return 0;
	return c->last;
}

/*
 * The calling thread's stack as an id: unwound from from's frame, then
 * interned (REC_FRAME for new nodes).  Guard set.  Inlined, as follow
 * is, so that a walk without from goes through two frames fewer of the
 * runtime's own.
 */
static inline __attribute__((always_inline)) uint32_t
stackid(const RtFrom *from)
{
	uintptr_t pcs[RT_MAXDEPTH];
	uint64_t key;
	uint32_t id;
	Cache *c;
	int n, nested;

	n = unwind_stack(pcs, rt.depth, from);
	unwound = 1;
	if (seengen != rt.ringgen)
		threadfirst();
	c = cacheget();
	if ((id = samestack(pcs, n, c)) != 0)
		return id;
	key = keyload(pcs, n);
	nested = rt_lock();
	if (rt_state == RT_LIVE)
		id = internl(pcs, n, key, c, 1);
	rt_unlock(nested);
	return id;
}

/*
 * A snapshot asked for by signal, at a heap event that records nothing
 * (leaks mode, an unsampled block): snapshots must not wait for the next
 * event that is unwound.  Keeps errno.
 */
static inline void
honour(void)
{
	int e;

	if (__builtin_expect(atomic_load_explicit(&snap_want, memory_order_relaxed), 0) &&
	    !rt_holdslock()) {
		e = errno;
		snap_honour();
		errno = e;
	}
}

/* Whether a call is of the pool's malloc family: the only blocks the live table follows. */
static int
poolcall(unsigned kind)
{
	return kind < CALL_ZALLOC;
}

/* Leaks mode: follow the block ptr, made by kind, with the caller's stack; no record. */
static inline __attribute__((always_inline)) void
follow(unsigned kind, const void *ptr, size_t size, const RtFrom *from)
{
	uint32_t stack;
	int e;

	e = errno;
	rt_inside++;
	stack = stackid(from);
	live_add(ptr, stack, kind, size);
	if (__builtin_expect(atomic_load_explicit(&snap_want, memory_order_relaxed), 0) &&
	    !rt_holdslock())
		snap_honour();
	rt_inside--;
	errno = e;
}

/* Record an allocation (see runtime.h); keeps errno; no lock held by the caller. */
void
rt_alloc(unsigned kind, unsigned flags, const void *ptr, size_t size, size_t align,
    const RtFrom *from)
{
	RecAlloc a;

	if (rt_state != RT_LIVE || rt_inside) {
		if (rt_state == RT_UNINIT && !rt_inside)
			pendadd(REC_ALLOC, kind, flags, ptr, NULL, size, align, from->pc);
		return;
	}
	if (live_on && poolcall(kind)) {
		/* leaks mode or sampling: only the blocks sampled, and in leaks mode no record */
		if (ptr == NULL || !live_sample(size)) {
			honour();
			return;
		}
		if (live_leaks) {
			follow(kind, ptr, size, from);
			return;
		}
		live_add(ptr, 0, kind, size);
	}
	a.h.type = REC_ALLOC;
	a.h.len = sizeof a;
	a.ptr = (uintptr_t)ptr;
	a.size = size;
	a.align = align;
	a.kind = (uint16_t)kind;
	a.flags = (uint16_t)flags;
	a.zone = rt_zone;
	event(&a, sizeof a, &a.time, &a.stack, &a.tid, from);
}

/* Record a free before the block goes back (see runtime.h); NULL is not recorded. */
void
rt_free(unsigned kind, unsigned flags, const void *ptr, size_t size, const RtFrom *from)
{
	RecFree f;

	if (ptr == NULL)
		return;
	if (rt_state != RT_LIVE || rt_inside) {
		if (rt_state == RT_UNINIT && !rt_inside)
			pendadd(REC_FREE, kind, flags, ptr, NULL, size, 0, from->pc);
		return;
	}
	/* leaks mode: never a record; sampling: only the frees of sampled blocks */
	if (live_on && poolcall(kind) && (!live_del(ptr, NULL, NULL, NULL) || live_leaks)) {
		honour();
		return;
	}
	f.h.type = REC_FREE;
	f.h.len = sizeof f;
	f.ptr = (uintptr_t)ptr;
	f.size = size;
	f.kind = (uint16_t)kind;
	f.flags = (uint16_t)flags;
	f.zone = rt_zone;
	event(&f, sizeof f, &f.time, &f.stack, &f.tid, from);
}

/*
 * rt_realloc in leaks mode or with sampling: the new block is sampled
 * afresh by its size, as a new allocation would be (so a block's weight
 * depends on its size only).  Leaks mode records nothing; trace mode
 * records what the old and new blocks' sampling leaves of the call: a
 * reallocation (both followed), a free of the old block or an allocation
 * of the new one, with fn run under the ring lock as rt_realloc does.
 */
static void *
liverealloc(unsigned kind, ReallocFn *fn, void *ptr, size_t n, size_t size, size_t total,
    const RtFrom *from)
{
	union {
		RecAlloc a;
		RecFree f;
		RecRealloc r;
	} u;
	uint64_t osize;
	uint32_t ostack, stack;
	unsigned ocall;
	int was, want, e, nested;
	void *v;

	rt_inside++;
	/* out of the table before fn: another thread may be given ptr once fn has freed it */
	was = live_del(ptr, &ostack, &ocall, &osize);
	want = live_sample(total);
	if (live_leaks || (!was && !want)) {
		v = fn(ptr, n, size);
		e = errno;
		if (v == NULL && total != 0) {
			if (was)
				live_add(ptr, ostack, ocall, osize);	/* failed: the old block stays */
		} else if (v != NULL && want && live_leaks)
			live_add(v, stackid(from), kind, total);
		else if (v != NULL && live_leaks)
			live_forget(v);		/* in place, it would keep the old block's marks */
		goto out;
	}
	stack = stackid(from);
	memset(&u, 0, sizeof u);
	nested = rt_lock();
	v = fn(ptr, n, size);
	e = errno;
	if (v == NULL && total != 0 && was)
		live_add(ptr, ostack, ocall, osize);
	if (v != NULL && want)
		live_add(v, 0, kind, total);
	if (rt_state == RT_LIVE) {
		if (was && want) {
			u.r = (RecRealloc){ .h = { REC_REALLOC, sizeof u.r }, .time = rt_now(),
			    .oldptr = (uintptr_t)ptr, .newptr = (uintptr_t)v, .size = total,
			    .stack = stack, .tid = rt_gettid(), .kind = (uint16_t)kind };
			rt_putl(&u.r, sizeof u.r);
		} else if (was && (v != NULL || total == 0)) {
			u.f = (RecFree){ .h = { REC_FREE, sizeof u.f }, .time = rt_now(),
			    .ptr = (uintptr_t)ptr, .stack = stack, .tid = rt_gettid(),
			    .kind = (uint16_t)kind };
			rt_putl(&u.f, sizeof u.f);
		} else if (!was && v != NULL) {
			u.a = (RecAlloc){ .h = { REC_ALLOC, sizeof u.a }, .time = rt_now(),
			    .ptr = (uintptr_t)v, .size = total, .stack = stack, .tid = rt_gettid(),
			    .kind = (uint16_t)kind };
			rt_putl(&u.a, sizeof u.a);
		}
	}
	rt_unlock(nested);
out:
	if (__builtin_expect(atomic_load_explicit(&snap_want, memory_order_relaxed), 0) &&
	    !rt_holdslock())
		snap_honour();
	rt_inside--;
	errno = e;
	return v;
}

/* Run fn and record it under the ring lock (see runtime.h); returns fn's result and errno. */
void *
rt_realloc(unsigned kind, ReallocFn *fn, void *ptr, size_t n, size_t size, const RtFrom *from)
{
	uintptr_t pcs[RT_MAXDEPTH];
	RecRealloc r;
	uint64_t key;
	Cache *c;
	size_t total;
	void *v;
	int nd, e, nested;

	if (__builtin_mul_overflow(n, size, &total))
		total = SIZE_MAX;
	if (ptr == NULL || rt_state != RT_LIVE || rt_inside) {
		v = fn(ptr, n, size);
		if (ptr == NULL)
			rt_alloc(kind, 0, v, total, 0, from);
		else if (rt_state == RT_UNINIT && !rt_inside) {
			e = errno;
			pendadd(REC_REALLOC, kind, 0, ptr, v, total, 0, from->pc);
			errno = e;
		}
		return v;
	}
	if (live_on && kind != CALL_MREALLOC)
		return liverealloc(kind, fn, ptr, n, size, total, from);
	rt_inside++;
	nd = unwind_stack(pcs, rt.depth, from);
	unwound = 1;
	key = keyload(pcs, nd);
	if (seengen != rt.ringgen)
		threadfirst();
	c = cacheget();
	r.h.type = REC_REALLOC;
	r.h.len = sizeof r;
	r.oldptr = (uintptr_t)ptr;
	r.size = total;
	r.tid = rt_gettid();
	r.kind = (uint16_t)kind;
	r.flags = 0;
	r.pad = 0;
	nested = rt_lock();
	v = fn(ptr, n, size);
	e = errno;
	if (rt_state == RT_LIVE) {
		r.time = rt_now();
		r.newptr = (uintptr_t)v;
		r.stack = internl(pcs, nd, key, c, 0);
		rt_putl(&r, sizeof r);
	}
	rt_unlock(nested);
	if (__builtin_expect(atomic_load_explicit(&snap_want, memory_order_relaxed), 0) && !nested)
		snap_honour();
	rt_inside--;
	errno = e;
	return v;
}

/* The slot of p in the open-addressed set of cap pointers: p's, or the empty one it would take. */
static size_t
setslot(const uintptr_t *set, size_t cap, uintptr_t p)
{
	size_t h;

	for (h = (size_t)mix(p) & (cap - 1); set[h] != 0 && set[h] != p; h = (h + 1) & (cap - 1))
		;
	return h;
}

/*
 * Set each pending call's gone: whether the block it made (an
 * allocation's, a reallocation's new one) is given back by a later one
 * (a free, or a reallocation of it).  Leaks mode keeps its marks in a
 * block's tag words, and a block freed since is no longer the program's
 * to mark: its first words are the free lists' link.  One pass from the
 * last call back, with the pointers given back after each call in a hash
 * set.  When calls were dropped, or the set cannot be had, every block is
 * taken for gone: none is marked, rather than a freed one.
 */
static void
pendgone(void)
{
	uintptr_t *set, p;
	size_t cap;
	Pending *e;
	int i;

	for (cap = 64; cap < (size_t)npend * 2; cap *= 2)
		;
	set = MAP_FAILED;
	if (!pendlost)
		set = mmap(NULL, cap * sizeof *set, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (set == MAP_FAILED) {
		for (i = 0; i < npend; i++)
			pend[i].gone = 1;
		return;
	}
	for (i = npend - 1; i >= 0; i--) {
		e = &pend[i];
		p = e->type == REC_ALLOC ? e->ptr : e->type == REC_REALLOC ? e->newptr : 0;
		e->gone = p != 0 && set[setslot(set, cap, p)] == p;
		if (e->type != REC_ALLOC && e->ptr != 0)
			set[setslot(set, cap, e->ptr)] = e->ptr;
	}
	munmap(set, cap * sizeof *set);
}

/* Record the pending calls, or in leaks mode mark their blocks that are still allocated.  Lock held. */
static void
pendflushl(void)
{
	union {
		RecAlloc a;
		RecFree f;
		RecRealloc r;
	} u;
	Pending *e;
	uint32_t stack;
	int i, tid;

	tid = rt_gettid();
	if (live_leaks)
		pendgone();
	for (i = 0; i < npend; i++) {
		e = &pend[i];
		if (live_on && poolcall(e->kind)) {
			/* the table keeps them: sampled as any other, recorded only in trace mode */
			if (e->type != REC_ALLOC && !live_del((void *)(uintptr_t)e->ptr, NULL, NULL, NULL) &&
			    e->type == REC_FREE)
				continue;
			if (e->type == REC_REALLOC && e->newptr != 0 && live_sample(e->size) && !e->gone)
				live_add((void *)(uintptr_t)e->newptr, triegetl(0, e->pc), e->kind, e->size);
			if (e->type == REC_ALLOC) {
				if (e->ptr == 0 || !live_sample(e->size) || e->gone)
					continue;
				live_add((void *)(uintptr_t)e->ptr, triegetl(0, e->pc), e->kind, e->size);
			}
			if (live_leaks || e->type == REC_REALLOC)
				continue;
		}
		stack = triegetl(0, e->pc);
		memset(&u, 0, sizeof u);
		switch (e->type) {
		case REC_ALLOC:
			u.a = (RecAlloc){ .h = { REC_ALLOC, sizeof u.a }, .time = e->time,
			    .ptr = e->ptr, .size = e->size, .align = e->align, .stack = stack,
			    .tid = tid, .kind = e->kind, .flags = e->flags };
			rt_putl(&u.a, sizeof u.a);
			break;
		case REC_FREE:
			u.f = (RecFree){ .h = { REC_FREE, sizeof u.f }, .time = e->time,
			    .ptr = e->ptr, .size = e->size, .stack = stack, .tid = tid,
			    .kind = e->kind, .flags = e->flags };
			rt_putl(&u.f, sizeof u.f);
			break;
		case REC_REALLOC:
			u.r = (RecRealloc){ .h = { REC_REALLOC, sizeof u.r }, .time = e->time,
			    .oldptr = e->ptr, .newptr = e->newptr, .size = e->size, .stack = stack,
			    .tid = tid, .kind = e->kind };
			rt_putl(&u.r, sizeof u.r);
			break;
		}
	}
	npend = 0;
}

/* ---- the ring of this image --------------------------------------------- */

/* Read up to size bytes of path into buf; the count, or 0. */
static size_t
readfile(const char *path, char *buf, size_t size)
{
	ssize_t r;
	size_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = 0;
	while (n < size) {
		r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	return n;
}

/* Create the ring and write REC_PROC and the modules.  Lock held; 0 or -1. */
static int
openringl(int forked)
{
	static char buf[sizeof(RecProc) + PATH_MAX + CMDSIZE + 8];
	RecProc *p;
	ssize_t el;
	size_t cl;
	char *s;

	if (ring_create(&rt.ring, rt.session, (int)getpid(), rt.ringsize) < 0) {
		say("pooldbg: cannot create a ring in ", rt.session);
		rt_state = RT_OFF;
		return -1;
	}
	rt.pid = (int)getpid();
	rt.ringgen++;
	rt_state = RT_LIVE;
	p = (RecProc *)buf;
	s = buf + sizeof *p;
	el = readlink("/proc/self/exe", s, PATH_MAX - 1);
	if (el < 0)
		el = 0;
	s[el++] = '\0';
	cl = readfile("/proc/self/cmdline", s + el, CMDSIZE);
	if (cl == 0 || s[el + cl - 1] != '\0')
		s[el + cl++] = '\0';
	memset(p, 0, sizeof *p);
	p->h.type = REC_PROC;
	p->h.len = REC_ALIGN(sizeof *p + (size_t)el + cl);
	memset(buf + sizeof *p + el + cl, 0, p->h.len - (sizeof *p + el + cl));
	p->pid = rt.pid;
	p->ppid = (int32_t)getppid();
	p->time = realnow();
	p->execseq = rt.ring.hdr->execseq;
	p->forked = (uint32_t)forked;
	p->exelen = (uint32_t)el;
	p->cmdlen = (uint32_t)cl;
	rt_putl(p, p->h.len);
	trieresetl();
	modules_reset();
	modules_scanl();
	return 0;
}

/* REC_EXIT and close, once, by the ring's owner only; async-signal-safe. */
void
rt_finish(unsigned how, int status)
{
	RecExit x;
	int nested;

	if (rt_state != RT_LIVE)
		return;
	rt_inside++;
	nested = rt_lock();
	if (rt_ownerl()) {
		x.h.type = REC_EXIT;
		x.h.len = sizeof x;
		x.time = rt_now();
		x.how = how;
		x.status = status;
		rt_putl(&x, sizeof x);
		ring_close(&rt.ring);
		rt_state = RT_DONE;
	}
	rt_unlock(nested);
	rt_inside--;
}

/* A new ring: in a fork child (forked 1, the parent's ring dropped untouched) or after a failed exec. */
void
rt_reopen(int forked)
{
	int nested;

	rt_inside++;
	if (forked) {
		atomic_store(&rt.lock, 0);
		atomic_store(&rt.owner, 0);
		mytid = 0;
		ring_detach(&rt.ring);
		if (live_on)
			live_reset();
		if (rt_state == RT_LIVE)
			rt_state = RT_DONE;
	}
	nested = rt_lock();
	if (rt_state == RT_DONE && openringl(forked) == 0)
		putthreadl(rt_gettid(), 0);
	seengen = rt.ringgen;
	rt_unlock(nested);
	rt_inside--;
}

/* The trie's mapping, kept out of the scan's roots; 0, or -1 if there is none.  Lock held. */
int
rt_trierangel(uintptr_t *lo, uintptr_t *hi)
{
	if (rt.trie == NULL)
		return -1;
	*lo = (uintptr_t)rt.trie;
	*hi = *lo + rt.triecap * sizeof(Trie);
	return 0;
}

/* Snapshots recorded in this ring so far (its header's count); lock held. */
uint32_t
rt_snapshotsl(void)
{
	if (rt_state != RT_LIVE)
		return 0;
	return __atomic_load_n(&rt.ring.hdr->snapshots, __ATOMIC_RELAXED);
}

/* Publish the count of snapshots in the ring's header (after their records); lock held. */
void
rt_setsnapshotsl(uint32_t n)
{
	if (rt_state == RT_LIVE)
		__atomic_store_n(&rt.ring.hdr->snapshots, n, __ATOMIC_RELEASE);
}

/* ---- what runtime-error.c needs ---------------------------------------- */

/* The calling thread's stack for an error report: empty for a thread that never unwound (libunwind may allocate). */
int
rt_unwind(uintptr_t *pcs)
{
	return unwound ? unwind_stack(pcs, rt.depth, NULL) : 0;
}

/* The stack id of pcs[0..n-1]; lock held. */
uint32_t
rt_internl(const uintptr_t *pcs, int n)
{
	return internl(pcs, n, stackkey(pcs, n), NULL, 0);
}

/* ---- initialisation ----------------------------------------------------- */

/* See runtime.h. */
long
rt_size(const char *s)
{
	char *e;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &e, 10);
	switch (*e) {
	case 'k': case 'K': v <<= 10; e++; break;
	case 'm': case 'M': v <<= 20; e++; break;
	case 'g': case 'G': v <<= 30; e++; break;
	}
	return *e != '\0' || v < 0 ? -1 : v;
}

static long
envnum(const char *name, long def)
{
	const char *s;
	long v;

	s = getenv(name);
	if (s == NULL || *s == '\0')
		return def;
	if ((v = rt_size(s)) <= 0) {
		say("pooldbg: ignored a bad number in ", name);
		return def;
	}
	return v;
}

/*
 * POOLDBG_FOLLOW=0: take POOLDBG_SESSION and this library out of the
 * environment, editing LD_PRELOAD in place (no allocation).
 */
static void
nofollow(void)
{
	extern char **environ;
	char **ep, *s, *w, *d, *b;
	size_t n;

	unsetenv("POOLDBG_SESSION");
	for (ep = environ; ep != NULL && *ep != NULL; ep++)
		if (strncmp(*ep, "LD_PRELOAD=", 11) == 0)
			break;
	if (ep == NULL || *ep == NULL)
		return;
	d = s = *ep + 11;
	while (*s != '\0') {
		while (*s == ':' || *s == ' ')
			s++;
		for (w = s; *s != '\0' && *s != ':' && *s != ' '; s++)
			;
		n = (size_t)(s - w);
		if (n == 0)
			break;
		for (b = s; b > w && b[-1] != '/'; b--)
			;
		if (strncmp(b, "libpooldbg-malloc.so", 20) == 0)
			continue;
		if (d != *ep + 11)
			*d++ = ':';
		memmove(d, w, n);
		d += n;
	}
	*d = '\0';
	if (d == *ep + 11)
		unsetenv("LD_PRELOAD");
}

static __attribute__((constructor)) void
rt_init(void)
{
	const char *s;
	int nested;

	rt_inside++;
	exit_resolve();
	s = getenv("POOLDBG_SESSION");
	if (s == NULL || *s == '\0' || strlen(s) >= sizeof rt.session) {
		rt_state = RT_OFF;
		rt_inside--;
		return;
	}
	strcpy(rt.session, s);
	rt.depth = (int)envnum("POOLDBG_DEPTH", RT_DEFDEPTH);
	if (rt.depth > RT_MAXDEPTH)
		rt.depth = RT_MAXDEPTH;
	live_init();
	rt.ringsize = (size_t)envnum("POOLDBG_RING_SIZE", (long)RING_DEFSIZE);
	if (rt.ringsize < MINRING)
		rt.ringsize = MINRING;
	if (rt.ringsize > MAXRING)
		rt.ringsize = MAXRING;
	s = getenv("POOLDBG_FOLLOW");
	rt.follow = !(s != NULL && strcmp(s, "0") == 0);
	if (!rt.follow)
		nofollow();
	if (unwind_init() < 0)
		say("pooldbg: libunwind not loaded: ", "stacks will be empty");
	rt.havekey = pthread_key_create(&rt.key, threadend) == 0;

	nested = rt_lock();
	while (atomic_flag_test_and_set_explicit(&pendlock, memory_order_acquire))
		;
	if (openringl(0) == 0) {
		putthreadl(rt_gettid(), 0);
		seengen = rt.ringgen;
		pendflushl();
	}
	npend = 0;
	atomic_flag_clear_explicit(&pendlock, memory_order_release);
	rt_unlock(nested);
	if (rt_state != RT_LIVE) {
		rt_inside--;
		return;
	}
	if (rt.havekey)
		(void)pthread_setspecific(rt.key, (void *)1);
	err_init();
	err_flushprints();	/* what the pool printed before */
	exit_init();
	guard_init();
	rt_inside--;
}
