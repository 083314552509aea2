/*
 * pooldbg/lifetime.c -- the blocks table, made while the events stream
 * in rather than by reading them back after the run: the open lifetimes
 * in a hash table keyed by (process image, address), a blocks row written
 * through the writer the moment a lifetime ends, the ones still open at
 * the end written by life_finish; with them the bytes in use per image
 * and their peak, and the first time each thread was seen in an event.
 *
 * A lifetime starts with an alloc that returned a block, or a realloc
 * that returned one; it ends with a free of it, or a realloc of it that
 * succeeded (moved or not: the new size is a new lifetime) or freed it
 * (size 0).  A failed realloc leaves the block alone.  Each process image
 * has its own heap: a fork child's frees of blocks its parent made end no
 * lifetime of the child's.  An address handed out twice without a free
 * between ends the first lifetime as still live.
 *
 * Must never: read the trace back, or store anything but blocks and
 * threads rows; it sees events only as drain.c stored them.  Others may
 * ask which lifetime is open at an address (life_lookup), never change one.
 */
#include "pooldbg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * A lifetime at an address: open, or the last one ended there (kept for
 * error reports, which name the stack that freed a block).  One table holds
 * both, so an event finds everything about its address with one probe.
 */
typedef struct Live Live;
struct Live {
	uint64_t ptr;
	uint64_t size;
	int64_t	seq;		/* open: events.seq of the call that made it; ended: of the one that ended it */
	uint64_t time;
	int32_t	process;	/* 0: an empty slot */
	uint32_t stack;
	uint32_t free_stack;	/* ended: the stack that ended it */
	uint8_t	call;		/* a trace_callname number */
	uint8_t	ended;
};

/* A thread as its events show it. */
typedef struct Seen Seen;
struct Seen {
	int64_t	process;
	int64_t	tid;
	uint64_t first;		/* smallest time of its events */
	int	used;
};

struct Lifetimes {
	TraceWriter *w;
	Timeline *tl;		/* the time index's makings, fed every lifetime written */
	Live	*slot;		/* open addressing, linear probing; ended entries stay until purged */
	size_t	mask;		/* slots - 1, slots a power of two */
	size_t	nopen;
	size_t	nended;
	Seen	*seen;
	size_t	seenmask;
	size_t	nseen;
	Seen	*last;		/* the thread of the previous event: most events repeat it */
	uint64_t *inuse;	/* bytes in use, indexed by processes.id */
	uint64_t *peak;
	size_t	nheap;
	int	nomem;		/* out of memory once: blocks are no longer whole */
	LifeStats st;
};

enum {
	KEEPENDED = 1 << 18,	/* ended lifetimes kept, at least, when older ones are forgotten */
};

/*
 * A table of n empty slots.  Small pages: asking for huge ones
 * (MADV_HUGEPAGE) made the kernel compact memory while the recorder
 * waited, long enough for the rings to fill and the programs to wait.
 */
static Live *
slotsnew(size_t n)
{
	return calloc(n, sizeof(Live));
}

static size_t
hash(int64_t process, uint64_t ptr)
{
	uint64_t h;

	h = (ptr >> 4) * 0x9e3779b97f4a7c15ull ^ (uint64_t)process * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ h >> 29);
}

/* The slot of (process, ptr), open or ended, or the empty one it would take. */
static Live *
slotof(Live *t, size_t mask, int64_t process, uint64_t ptr)
{
	size_t i;

	for (i = hash(process, ptr) & mask; t[i].process != 0; i = (i + 1) & mask)
		if (t[i].process == process && t[i].ptr == ptr)
			break;
	return &t[i];
}

static Live *
lookup(Lifetimes *l, int64_t process, uint64_t ptr)
{
	Live *e;

	e = slotof(l->slot, l->mask, process, ptr);
	return e->process != 0 && !e->ended ? e : NULL;
}

/* Move the table to one of size slots. */
static int
rebuild(Lifetimes *l, size_t size)
{
	Live *old, *t;
	size_t i, oldsize;

	if ((t = slotsnew(size)) == NULL)
		return -1;
	old = l->slot;
	oldsize = l->mask + 1;
	l->slot = t;
	l->mask = size - 1;
	for (i = 0; i < oldsize; i++)
		if (old[i].process != 0)
			*slotof(t, l->mask, old[i].process, old[i].ptr) = old[i];
	free(old);
	return 0;
}

/*
 * Forget the ended lifetimes ended before cut, in place: a new table would
 * be new pages, each cleared by the kernel, tens of megabytes every time.
 * Each one forgotten leaves its slot empty; then, from an empty slot on
 * round the table, every entry is taken out and put back, so that it lands
 * where a probe from its hash meets it before any empty slot.
 */
static void
purge(Lifetimes *l, int64_t cut)
{
	Live *t, e;
	size_t i, k, first, size;

	t = l->slot;
	size = l->mask + 1;
	for (i = 0; i < size; i++) {
		if (t[i].process != 0 && t[i].ended && t[i].seq < cut) {
			t[i].process = 0;
			l->nended--;
		}
	}
	for (first = 0; t[first].process != 0; first++)
		;	/* the table is at most half full */
	for (k = 1; k <= size; k++) {
		i = (first + k) & l->mask;
		if (t[i].process == 0)
			continue;
		e = t[i];
		t[i].process = 0;
		*slotof(t, l->mask, e.process, e.ptr) = e;
	}
}

/*
 * Make room for one more entry, keeping the table at most half full.  When
 * ended lifetimes fill half of what it holds (and are 2 KEEPENDED at least),
 * the older half of them (by the seq that ended them) are forgotten; the
 * table doubles when they are fewer, or when forgetting them left it over
 * 3/8 full, so a purge is always followed by an eighth of the table's
 * inserts at least.
 */
static int
room(Lifetimes *l)
{
	size_t i, size;
	int64_t lo, hi;

	size = l->mask + 1;
	if ((l->nopen + l->nended + 1) * 2 <= size)
		return 0;
	if (l->nended >= l->nopen && l->nended >= 2 * KEEPENDED) {
		lo = INT64_MAX;
		hi = 0;
		for (i = 0; i < size; i++)
			if (l->slot[i].process != 0 && l->slot[i].ended) {
				if (l->slot[i].seq < lo)
					lo = l->slot[i].seq;
				if (l->slot[i].seq > hi)
					hi = l->slot[i].seq;
			}
		purge(l, lo + (hi - lo) / 2 + 1);
		if ((l->nopen + l->nended + 1) * 8 <= size * 3)
			return 0;
	}
	return rebuild(l, size * 2);
}

/* Count size in (up) or out of (!up) the heap of process; keep its peak. */
static int
account(Lifetimes *l, int64_t process, uint64_t size, int up)
{
	uint64_t *a, *b;
	size_t n;

	if (process < 0)
		return 0;
	if ((size_t)process >= l->nheap) {
		n = (size_t)process * 2 + 16;
		if ((a = realloc(l->inuse, n * sizeof *a)) == NULL)
			return -1;
		l->inuse = a;
		if ((b = realloc(l->peak, n * sizeof *b)) == NULL)
			return -1;
		l->peak = b;
		memset(l->inuse + l->nheap, 0, (n - l->nheap) * sizeof *a);
		memset(l->peak + l->nheap, 0, (n - l->nheap) * sizeof *b);
		l->nheap = n;
	}
	if (up) {
		l->inuse[process] += size;
		if (l->inuse[process] > l->peak[process])
			l->peak[process] = l->inuse[process];
	} else
		l->inuse[process] -= size < l->inuse[process] ? size : l->inuse[process];
	return 0;
}

/* The thread (process, tid) saw an event at time. */
static int
seen(Lifetimes *l, int64_t process, int64_t tid, uint64_t time)
{
	Seen *old, *s;
	size_t i, j, oldsize;

	s = l->last;
	if (s == NULL || s->process != process || s->tid != tid) {
		i = (size_t)hash(process, (uint64_t)tid << 4) & l->seenmask;
		for (; l->seen[i].used; i = (i + 1) & l->seenmask)
			if (l->seen[i].process == process && l->seen[i].tid == tid)
				break;
		s = &l->seen[i];
		if (!s->used) {
			if ((l->nseen + 1) * 2 > l->seenmask + 1) {
				old = l->seen;
				oldsize = l->seenmask + 1;
				if ((l->seen = calloc(oldsize * 2, sizeof *l->seen)) == NULL) {
					l->seen = old;
					return -1;
				}
				l->seenmask = oldsize * 2 - 1;
				for (j = 0; j < oldsize; j++) {
					if (!old[j].used)
						continue;
					i = hash(old[j].process, (uint64_t)old[j].tid << 4) & l->seenmask;
					while (l->seen[i].used)
						i = (i + 1) & l->seenmask;
					l->seen[i] = old[j];
				}
				free(old);
				l->last = NULL;
				return seen(l, process, tid, time);
			}
			s->used = 1;
			s->process = process;
			s->tid = tid;
			s->first = time;
			l->nseen++;
		}
		l->last = s;
	}
	if (time < s->first)
		s->first = time;
	return 0;
}

Lifetimes *
life_new(TraceWriter *w)
{
	Lifetimes *l;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	l->w = w;
	l->mask = 1023;
	l->seenmask = 63;
	l->slot = slotsnew(l->mask + 1);
	l->seen = calloc(l->seenmask + 1, sizeof *l->seen);
	l->tl = timeline_new();
	if (l->slot == NULL || l->seen == NULL || l->tl == NULL) {
		life_free(l);
		return NULL;
	}
	return l;
}

void
life_free(Lifetimes *l)
{
	if (l == NULL)
		return;
	timeline_free(l->tl);
	free(l->slot);
	free(l->seen);
	free(l->inuse);
	free(l->peak);
	free(l);
}

/* Write the lifetime o, still open, as a blocks row never freed. */
static void
writeopen(Lifetimes *l, const Live *o)
{
	trace_add_block(l->w, o->process, o->ptr, o->size, trace_callname(o->call), o->stack,
	    o->seq, o->time, 0, 0, NULL, 0);
	(void)timeline_add(l->tl, o->process, o->size, o->stack, o->seq, 0);
	l->st.blocks++;
}

/* A lifetime starts at ptr (0: the call returned none) with the event e, the seq-th. */
static void
start(Lifetimes *l, int64_t seq, const TraceEvent *e, uint64_t ptr)
{
	Live *o;

	if (ptr == 0)
		return;
	if (room(l) < 0) {
		l->nomem = 1;
		return;
	}
	o = slotof(l->slot, l->mask, e->process, ptr);
	if (o->process != 0 && !o->ended)
		writeopen(l, o);	/* handed out twice without a free between: the first as live */
	else if (o->process != 0)
		l->nended--, l->nopen++;
	else
		l->nopen++;
	o->process = (int32_t)e->process;
	o->ptr = ptr;
	o->size = e->size;
	o->seq = seq;
	o->time = e->time;
	o->stack = e->stack;
	o->free_stack = 0;
	o->call = (uint8_t)e->call;
	o->ended = 0;
	if (account(l, e->process, e->size, 1) < 0)
		l->nomem = 1;
}

void
life_event(Lifetimes *l, int64_t seq, const TraceEvent *e)
{
	Live *o;
	int ends;

	timeline_time(l->tl, seq, e->time);
	if (l->nomem)
		return;
	if (seen(l, e->process, e->tid, e->time) < 0) {
		l->nomem = 1;
		return;
	}
	if (e->process <= 0 || e->process > INT32_MAX)
		return;
	/* the end of a lifetime: free, or a realloc that moved, resized or freed */
	ends = e->type == TRACE_FREE ||
	    (e->type == TRACE_REALLOC && (e->newptr != 0 || e->size == 0));
	if (ends && (o = lookup(l, e->process, e->ptr)) != NULL) {
		trace_add_block(l->w, o->process, o->ptr, o->size, trace_callname(o->call),
		    o->stack, o->seq, o->time, seq, e->time, trace_callname(e->call), e->stack);
		(void)timeline_add(l->tl, o->process, o->size, o->stack, o->seq, seq);
		account(l, e->process, o->size, 0);
		o->ended = 1;
		o->seq = seq;
		o->free_stack = e->stack;
		l->nopen--;
		l->nended++;
		l->st.blocks++;
	}
	/* the start of one: an alloc or realloc that returned a block */
	if (e->type == TRACE_ALLOC)
		start(l, seq, e, e->ptr);
	else if (e->type == TRACE_REALLOC)
		start(l, seq, e, e->newptr);
}

int
life_finish(Lifetimes *l)
{
	const Live *o;
	size_t i;

	if (l->nomem)
		return SQLITE_NOMEM;
	for (i = 0; i <= l->mask; i++) {
		o = &l->slot[i];
		if (o->process != 0 && !o->ended)
			writeopen(l, o);
	}
	for (i = 0; i <= l->seenmask; i++)
		if (l->seen[i].used)
			trace_add_thread_seen(l->w, l->seen[i].process, l->seen[i].tid,
			    l->seen[i].first);
	for (i = 0; i < l->nheap; i++)
		if (l->peak[i] > l->st.peak)
			l->st.peak = l->peak[i];
	trace_flush(l->w);
	return l->w->rc;
}

Timeline *
life_timeline(Lifetimes *l)
{
	return l->tl;
}

void
life_prefetch(Lifetimes *l, int64_t process, uint64_t ptr)
{
	size_t h;

	h = hash(process, ptr);
	__builtin_prefetch(&l->slot[h & l->mask]);
}

int
life_lookup(Lifetimes *l, int64_t process, uint64_t ptr, int64_t *seq, uint32_t *stack,
    const char **call)
{
	const Live *o;

	if ((o = lookup(l, process, ptr)) == NULL)
		return 0;
	*seq = o->seq;
	*stack = o->stack;
	*call = trace_callname(o->call);
	return 1;
}

int
life_block(Lifetimes *l, int64_t process, uint64_t ptr, uint64_t *size, uint32_t *alloc_stack,
    uint32_t *free_stack)
{
	const Live *o;

	if (process <= 0 || process > INT32_MAX)
		return 0;
	o = slotof(l->slot, l->mask, process, ptr);
	if (o->process == 0)
		return 0;
	*size = o->size;
	*alloc_stack = o->stack;
	*free_stack = o->ended ? o->free_stack : 0;
	return o->ended ? 2 : 1;
}

const LifeStats *
life_stats(Lifetimes *l)
{
	return &l->st;
}
