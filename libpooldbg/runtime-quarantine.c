/*
 * libpooldbg/runtime-quarantine.c -- the checked heap operations of a
 * traced process and the quarantine of freed blocks.
 *
 * Every free, delete and realloc of the program (tracing live) comes
 * here from its shim: it is recorded, then checked before anything is
 * given back -- the pool's own check of the block (a pointer that is no
 * block, a freed block, a damaged header, tail or guard bytes), the two
 * tag words in front of it (an underflow of a few bytes lands there; a
 * tag is a pc, or 0, 1 or 2), and the family: operator new marks its
 * blocks with realloc tag 1, new[] with 2, and free, delete and delete[]
 * must each meet their own.  An error the pool finds jumps back here
 * (runtime-error.c) and the free is dropped: the block is set aside.
 *
 * The quarantine: a freed block becomes dead (filled with DEAD_FILL,
 * pool.c's poolquarantine) and waits in a FIFO until the bytes waiting
 * pass POOLDBG_QUARANTINE (default 32m); then the oldest are recycled,
 * each checked (poolrecycle): a fill that changed is a write-after-free.
 * A realloc that needs a larger block moves it, and its old block joins
 * the quarantine as a freed one (quarrealloc): a pointer kept from before
 * the move is caught writing into it.
 * With POOL_NOREUSE no block is ever recycled and the quarantine is off.
 * At exit the whole pool is checked, the waiting blocks with it, where
 * they lie: poolcheck checks a dead block's fill as a recycle would, and
 * giving them back to the free blocks first would only be work.
 *
 * Allocations come here too, to be put on guard pages when asked
 * (runtime-guard.c) and to go on after a damaged block found by
 * POOL_PARANOIA was set aside.
 *
 * The FIFO is guarded by the pool's own lock, so a fork finds it whole.
 *
 * Must never: allocate outside the pool.
 */
#include "internal.h"

#include <errno.h>
#include <malloc.h>	/* struct mallinfo2 only */
#include <stdatomic.h>
#include <stdio.h>	/* snprintf only: never a FILE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#include "pool-impl.h"
#include "runtime.h"

enum {
	TAGBYTES	= 2 * sizeof(uintptr_t),
	QCAP		= 1 << 20,	/* blocks waiting, at most */
	AHEAD		= 8,		/* recycles between a block's prefetch and its own */
	MAXTRIES	= 16,		/* an allocation tried again after errors, at most */
	TAG_NEW		= 1,		/* realloc tag of operator new's blocks */
	TAG_NEWARRAY	= 2,		/* and of new[]'s */
};

/* A block in the quarantine, with its size (to be fetched before the block is). */
typedef struct Waiting Waiting;
struct Waiting {
	Bhdr	*b;
	uintptr_t size;
};

#define DEFQUARANTINE	((size_t)32 << 20)
#define TAGMAX		((uintptr_t)1 << 47)

static struct {
	size_t	limit;		/* bytes; 0: off */
	size_t	bytes;		/* waiting */
	Waiting	*fifo;		/* QCAP dead blocks, oldest at head */
	size_t	head, n;
} q;

static long
envsize(const char *name, long def)
{
	const char *s;
	long v;

	s = getenv(name);
	if (s == NULL || *s == '\0' || (v = rt_size(s)) < 0)
		return def;
	return v;
}

void
quarantine_init(void)
{
	void *v;

	q.limit = (size_t)envsize("POOLDBG_QUARANTINE", (long)DEFQUARANTINE);
	if (pooldbg_mainmem->flags & POOL_NOREUSE)
		q.limit = 0;
	if (q.limit == 0)
		return;
	v = mmap(NULL, QCAP * sizeof(Waiting), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v == MAP_FAILED) {
		q.limit = 0;
		return;
	}
	q.fifo = v;
}

/* Start loading, for writing, the lines of [c, end). */
static inline void
prefetchrange(const char *c, const char *end)
{
	for (; c < end; c += 64)
		__builtin_prefetch(c, 1);
}

/*
 * Start the loads of what the recycle AHEAD recycles from now will touch:
 * that block's header, its fill (checkblock reads it whole, up to
 * DEADHEAD bytes), its tail and its right neighbour's header.  The
 * waiting blocks are long out of the caches, and a free waited for each
 * of them in turn otherwise; AHEAD frees give the loads time to arrive.
 * Pool locked.  noipa: the compiler takes a function of prefetches alone
 * for one without effects and drops its calls.
 */
static __attribute__((noipa)) void
prefetchnext(void)
{
	const char *b;
	uintptr_t size;
	Waiting *w;

	if (q.n <= AHEAD)
		return;
	w = &q.fifo[(q.head + AHEAD) % QCAP];
	b = (const char *)w->b;
	size = w->size;
	prefetchrange(b, b + (size < DEADHEAD + BLOCKOVERHEAD ? size : DEADHEAD + sizeof(Bhdr)));
	__builtin_prefetch(b + size - sizeof(Btail), 1);	/* the tail */
	__builtin_prefetch(b + size);	/* the right neighbour's header */
}

/* The oldest waiting block if the quarantine is over its limit, else NULL.  Pool locked. */
static Bhdr *
popoverl(void)
{
	Bhdr *b;

	if (q.n == 0 || !(q.n >= QCAP || q.bytes > q.limit))
		return NULL;
	b = q.fifo[q.head].b;
	q.bytes -= q.fifo[q.head].size;
	q.head = (q.head + 1) % QCAP;
	q.n--;
	prefetchnext();
	return b;
}

static Bhdr *
popover(void)
{
	Bhdr *b;

	pooldbg_mainmem->lock(pooldbg_mainmem);
	b = popoverl();
	pooldbg_mainmem->unlock(pooldbg_mainmem);
	return b;
}

/*
 * Recycle b (NULL: none), then waiting blocks while over the limit; an
 * error jumps out.  The limit is first looked at
 * without the lock: in the steady state a free pops the one block its
 * push put over, and no lock is taken for the look that finds no more.
 */
static void
recycle(Bhdr *b)
{
	for (;;) {
		if (b != NULL && !err_isaside(b))
			poolrecycle(pooldbg_mainmem, b);
		if (__atomic_load_n(&q.bytes, __ATOMIC_RELAXED) <= q.limit &&
		    __atomic_load_n(&q.n, __ATOMIC_RELAXED) < QCAP)
			return;
		if ((b = popover()) == NULL)
			return;
	}
}

/* See runtime.h. */
struct mallinfo2
rt_mallinfo2(GuardFigures *g)
{
	struct mallinfo2 m;

	m = pooldbg_mallinfo2();
	pooldbg_mainmem->lock(pooldbg_mainmem);
	m.ordblks += q.n;
	m.fordblks += q.bytes;
	pooldbg_mainmem->unlock(pooldbg_mainmem);
	guard_figures(g);
	m.hblks = g->blocks;
	m.hblkhd = g->bytes;
	return m;
}

/*
 * poolquarantine's swap: the dead block b joins the FIFO, and the oldest
 * comes out if that puts it over.  The pool is locked.
 */
static void *
fifoswap(void *v)
{
	Bhdr *b;

	b = v;
	q.fifo[(q.head + q.n) % QCAP] = (Waiting){ b, b->size };
	q.n++;
	q.bytes += b->size;
	return popoverl();
}

/*
 * ptr into the quarantine, and the oldest waiting block out, recycled, in
 * one hold of the pool's lock; the block is checked there first, and
 * accept (if not NULL) with it.  Returns -1, with nothing done, when
 * accept turned it down.
 */
static int
quarantine(void *ptr, int (*accept)(void *, void *), void *arg)
{
	if (poolquarantine(pooldbg_mainmem, (char *)ptr - TAGBYTES, accept, arg, fifoswap) == NULL)
		return -1;
	recycle(NULL);
	return 0;
}

static const char *
callname(unsigned kind)
{
	switch (kind) {
	case CALL_NEW:		return "new";
	case CALL_NEW_ARRAY:	return "new[]";
	case CALL_DELETE:	return "delete";
	case CALL_DELETE_ARRAY:	return "delete[]";
	case CALL_REALLOC:	return "realloc";
	case CALL_REALLOCARRAY:	return "reallocarray";
	default:		return "free";
	}
}

enum {
	TAGS_OK,
	TAGS_DAMAGED,	/* a word no tag can be */
	TAGS_FAMILY,	/* a block of new, new[] or malloc given to another family's free */
};

/* The realloc tag in front of ptr; for a block leaks mode marks, the family its mark carries. */
static uintptr_t
realloctag(const void *ptr)
{
	const uintptr_t *u;

	u = ptr;
	return live_marked(ptr) ? u[-1] & LIVE_FAMILY : u[-1];
}

/* What the tag words in front of ptr say of its free by kind. */
static int
tagstate(unsigned kind, const void *ptr)
{
	const uintptr_t *u;
	uintptr_t mt, rt, want;

	u = ptr;
	mt = live_marked(ptr) ? 0 : u[-2];	/* a mark is no malloc tag */
	rt = realloctag(ptr);
	if ((mt != 0 && (mt < 4096 || mt >= TAGMAX)) || (rt > TAG_NEWARRAY && (rt < 4096 || rt >= TAGMAX)))
		return TAGS_DAMAGED;
	want = kind == CALL_DELETE ? TAG_NEW : kind == CALL_DELETE_ARRAY ? TAG_NEWARRAY : 0;
	if ((want == 0 && (rt == TAG_NEW || rt == TAG_NEWARRAY)) || (want != 0 && rt != want))
		return TAGS_FAMILY;
	return TAGS_OK;
}

/* poolquarantine's accept: a free of kind (*arg) whose tags are in order; data is the pool's. */
static int
tagsok(void *data, void *arg)
{
	return tagstate(*(unsigned *)arg, (char *)data + TAGBYTES) == TAGS_OK;
}

/*
 * The checks of a free (or realloc) of ptr beyond the pool's: 0 to go on,
 * -1 when the free must be dropped (its tag words are damaged).  A family
 * mismatch is reported and the free goes on.
 */
static int
checktags(unsigned kind, void *ptr, int freed)
{
	uintptr_t *u, rt;
	char msg[160];
	const char *made;
	unsigned char *c;
	int i, state;

	/*
	 * A free (freed) hands the block to the pool, which checks one that
	 * looks allocated as it takes it back; any other block is checked
	 * first, so that its tags are read only if it is one (the check
	 * reports what it is not).
	 */
	if (!freed || !pooldbg_mainlooksalloc(ptr))
		poolblockcheck(pooldbg_mainmem, (char *)ptr - TAGBYTES);
	u = ptr;
	state = tagstate(kind, ptr);
	if (state == TAGS_DAMAGED) {
		/* the first damaged byte: the highest impossible one below ptr */
		c = (unsigned char *)ptr;
		for (i = 1; i <= (int)TAGBYTES && c[-i] == 0; i++)
			;
		if (i > (int)TAGBYTES)
			i = 1;
		err_raise(ERR_UNDERFLOW, kind, ptr, ptr, 0, -i, 0, c - i, (uintptr_t)c - TAGBYTES,
		    (uintptr_t)c + TAGBYTES, "the tag words before the block were written over", 0);
		u[-1] = 0;
		u[-2] = 0;
		return -1;
	}
	if (state == TAGS_FAMILY) {
		rt = realloctag(ptr);
		made = rt == TAG_NEW ? "new" : rt == TAG_NEWARRAY ? "new[]" : "malloc";
		snprintf(msg, sizeof msg, "a block from %s given to %s", made, callname(kind));
		err_raise(ERR_MISMATCHED_FREE, kind, ptr, ptr, 0, 0, 0, ptr, (uintptr_t)ptr - TAGBYTES,
		    (uintptr_t)ptr + TAGBYTES, msg, 0);
		if (kind == CALL_REALLOC || kind == CALL_REALLOCARRAY)
			return -1;
	}
	return 0;
}

void
rt_release(unsigned kind, unsigned flags, void *ptr, size_t size, const RtFrom *from)
{
	ErrTry t;
	int e, late;

	if (ptr == NULL)
		return;
	/*
	 * The block's header comes in while rt_free unwinds, then its tail
	 * and, for the quarantine's fill, the lines of its first DEADHEAD
	 * bytes that the block has (a small block's neighbours are left
	 * alone).  In leaks mode nothing is unwound and rt_free, which only
	 * reads the block's mark in its tag words, comes after the checks (a
	 * free they drop leaves the block followed, as it leaves it
	 * allocated).
	 */
	late = live_leaks && rt_state == RT_LIVE && !rt_inside;
	pooldbg_mainprefetch(ptr, 0, 0);
	if (!late)
		rt_free(kind, flags, ptr, size, from);
	pooldbg_mainprefetch(ptr, 1, q.limit != 0 ? DEADHEAD : 0);
	if (rt_state != RT_LIVE || rt_inside) {
		pooldbg_free(ptr);
		return;
	}
	e = errno;
	if (guard_on && guard_owns(ptr, NULL)) {
		if (late)
			rt_free(kind, flags, ptr, size, from);
		guard_free(kind, ptr);
		errno = e;
		return;
	}
	if (ERR_TRY(&t, kind, ptr)) {
		errno = e;
		return;	/* reported; the free is dropped */
	}
	/*
	 * The common case in one hold of the pool's lock: block and tags
	 * checked, the block made dead, the oldest waiting one recycled.  In
	 * leaks mode the block leaves the live table in between.
	 */
	if (q.limit != 0 && !late && quarantine(ptr, tagsok, &kind) == 0)
		;
	else if (checktags(kind, ptr, 1) == 0) {
		if (late)
			rt_free(kind, flags, ptr, size, from);
		if (q.limit != 0)
			quarantine(ptr, NULL, NULL);
		else
			pooldbg_free(ptr);
	}
	err_pop(&t);
	errno = e;
}

/* One allocation of the pool for kind. */
static void *
poolget(unsigned kind, size_t n, size_t size, size_t align)
{
	if (kind == CALL_CALLOC)
		return pooldbg_calloc(n, size);
	return align != 0 ? pooldbg_aligned_alloc(align, size) : pooldbg_malloc(size);
}

void *
rt_allocate(unsigned kind, size_t n, size_t size, size_t align)
{
	volatile int tries;
	size_t total;
	ErrTry t;
	void *v;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (rt_state != RT_LIVE || rt_inside) {
		if (rt_state == RT_UNINIT)
			err_early();
		return poolget(kind, n, size, align);
	}
	if (guard_on && guard_wanted(total))
		return guard_alloc(kind, total, align);
	tries = 0;
again:
	if (ERR_TRY(&t, kind, NULL)) {
		/* a damaged block elsewhere was set aside: try again */
		if (++tries < MAXTRIES)
			goto again;
		abort();
	}
	v = poolget(kind, n, size, align);
	err_pop(&t);
	return v;
}

/* The realloc of a guarded block: a new block, the bytes copied, the old one freed. */
static void *
guardrealloc(void *ptr, size_t n, size_t size)
{
	size_t total, old;
	void *v;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	guard_owns(ptr, &old);
	if (total == 0) {
		guard_free(CALL_REALLOC, ptr);
		return NULL;
	}
	rt_inside--;	/* the new block is the program's: guarded or checked as any */
	v = rt_allocate(CALL_MALLOC, 1, total, 0);
	rt_inside++;
	if (v == NULL)
		return NULL;
	memcpy(v, ptr, old < total ? old : total);
	guard_free(CALL_REALLOC, ptr);
	return v;
}

static void *
doreallocarray(void *ptr, size_t n, size_t size)
{
	return pooldbg_reallocarray(ptr, n, size);
}

/* The block quarrealloc moved away from, for rt_reallocate to put in the quarantine. */
static __thread void *moved RT_TLS;

/*
 * The realloc while the quarantine is on: shrinking, or growing into the
 * block's slack, is the pool's realloc, in place; growing past the block
 * makes a new block, copies the tags and bytes, and leaves the old block
 * in moved, to be made dead and wait as a freed one does, so that a
 * pointer kept from before the move is caught writing into it.  (The
 * pool's realloc would give the old block straight back, or slide the
 * data down over it into a free left neighbour.)  It never grows a block
 * into a free neighbour: with freed blocks waiting dead, a free neighbour
 * is seldom there, and a look under the lock for one costs more than it
 * saves.  A size of 0 frees the block the same way.  The block was
 * checked by rt_reallocate.
 */
static void *
quarrealloc(void *ptr, size_t n, size_t size)
{
	size_t total, used, room;
	Bhdr *b;
	void *v;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!pooldbg_mainlooksalloc(ptr))
		return pooldbg_reallocarray(ptr, n, size);	/* an aligned block: the pool's way */
	b = (Bhdr *)((char *)ptr - TAGBYTES) - 1;
	room = b->size - BLOCKOVERHEAD - TAGBYTES;
	if (total != 0 && total <= room)
		return pooldbg_reallocarray(ptr, n, size);
	v = NULL;
	if (total != 0) {
		if ((v = pooldbg_malloc(total)) == NULL)
			return NULL;	/* ptr stays as it was */
		used = getdsize(b) - TAGBYTES;
		memcpy((char *)v - TAGBYTES, (char *)ptr - TAGBYTES,
		    TAGBYTES + (used < total ? used : total));
	}
	moved = ptr;
	return v;
}

void *
rt_reallocate(unsigned kind, void *ptr, size_t n, size_t size, const RtFrom *from)
{
	void *v, *old;
	ErrTry t;
	int bad, e;

	if (ptr == NULL || rt_state != RT_LIVE || rt_inside) {
		if (rt_state == RT_UNINIT)
			err_early();
		return rt_realloc(kind, doreallocarray, ptr, n, size, from);
	}
	if (guard_on && guard_owns(ptr, NULL))
		return rt_realloc(kind, guardrealloc, ptr, n, size, from);
	if (ERR_TRY(&t, kind, ptr)) {
		errno = ENOMEM;
		return NULL;	/* reported: a freed block, no block, or a damaged one */
	}
	bad = checktags(kind, ptr, 0);
	err_pop(&t);
	if (bad) {
		errno = ENOMEM;
		return NULL;
	}
	if (q.limit == 0)
		return rt_realloc(kind, doreallocarray, ptr, n, size, from);
	moved = NULL;
	v = rt_realloc(kind, quarrealloc, ptr, n, size, from);
	if ((old = moved) != NULL) {
		moved = NULL;
		e = errno;
		if (!ERR_TRY(&t, kind, old)) {
			quarantine(old, NULL, NULL);
			err_pop(&t);
		}
		errno = e;
	}
	return v;
}

void
quarantine_atexit(void)
{
	volatile int rounds;
	ErrTry t;

	if (rt_state != RT_LIVE)
		return;
	rounds = 0;
again:
	if (ERR_TRY(&t, 0, NULL)) {
		/* reported and set aside: go on with the rest */
		if (++rounds < 1000)
			goto again;
		return;
	}
	poolcheck(pooldbg_mainmem);
	err_pop(&t);
}
