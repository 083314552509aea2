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

#include <stdlib.h>
#include <string.h>

/* An open lifetime. */
typedef struct Live Live;
struct Live {
	int64_t	process;	/* 0: an empty slot */
	uint64_t ptr;
	uint64_t size;
	int64_t	seq;		/* events.seq of the call that made it */
	uint64_t time;
	uint32_t stack;
	uint32_t free_stack;	/* ended lifetimes (Lifetimes.gone): the stack that ended it */
	const char *call;	/* a name of trace_callname */
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
	Live	*slot;		/* open addressing, linear probing */
	size_t	mask;		/* slots - 1, slots a power of two */
	size_t	n;
	Seen	*seen;
	size_t	seenmask;
	size_t	nseen;
	Seen	*last;		/* the thread of the previous event: most events repeat it */
	uint64_t *inuse;	/* bytes in use, indexed by processes.id */
	uint64_t *peak;
	size_t	nheap;
	Live	*gone;		/* the last lifetime ended at each address, for error reports */
	size_t	gonemask;
	size_t	ngone;
	int	nomem;		/* out of memory once: blocks are no longer whole */
	LifeStats st;
};

static size_t
hash(int64_t process, uint64_t ptr)
{
	uint64_t h;

	h = (ptr >> 4) * 0x9e3779b97f4a7c15ull ^ (uint64_t)process * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ h >> 29);
}

static Live *
lookup(Lifetimes *l, int64_t process, uint64_t ptr)
{
	size_t i;

	for (i = hash(process, ptr) & l->mask; l->slot[i].process != 0; i = (i + 1) & l->mask)
		if (l->slot[i].process == process && l->slot[i].ptr == ptr)
			return &l->slot[i];
	return NULL;
}

/* Remove e, shifting back the entries after it (linear probing). */
static void
delete(Lifetimes *l, Live *e)
{
	size_t i, j, k;

	i = (size_t)(e - l->slot);
	l->slot[i].process = 0;
	l->n--;
	for (j = (i + 1) & l->mask; l->slot[j].process != 0; j = (j + 1) & l->mask) {
		k = hash(l->slot[j].process, l->slot[j].ptr) & l->mask;
		/* move j to the hole at i if its home k does not lie in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			l->slot[i] = l->slot[j];
			l->slot[j].process = 0;
			i = j;
		}
	}
}

static void
put(Lifetimes *l, const Live *e)
{
	size_t i;

	for (i = hash(e->process, e->ptr) & l->mask; l->slot[i].process != 0; i = (i + 1) & l->mask)
		;
	l->slot[i] = *e;
	l->n++;
}

static int
insert(Lifetimes *l, const Live *e)
{
	Live *old;
	size_t i, oldsize;

	if ((l->n + 1) * 2 > l->mask + 1) {
		old = l->slot;
		oldsize = l->mask + 1;
		if ((l->slot = calloc(oldsize * 2, sizeof *l->slot)) == NULL) {
			l->slot = old;
			return -1;
		}
		l->mask = oldsize * 2 - 1;
		l->n = 0;
		for (i = 0; i < oldsize; i++)
			if (old[i].process != 0)
				put(l, &old[i]);
		free(old);
	}
	put(l, e);
	return 0;
}

/* The slot of (process, ptr) in the ended lifetimes: its own, or the empty one it would take. */
static Live *
goneslot(Live *t, size_t mask, int64_t process, uint64_t ptr)
{
	size_t i;

	for (i = hash(process, ptr) & mask; t[i].process != 0; i = (i + 1) & mask)
		if (t[i].process == process && t[i].ptr == ptr)
			break;
	return &t[i];
}

/* Remember e, just ended, as the last lifetime at its address (best effort: never fails the run). */
static void
gone(Lifetimes *l, const Live *e)
{
	Live *old, *g;
	size_t i, oldsize;

	if ((l->ngone + 1) * 2 > l->gonemask + 1) {
		old = l->gone;
		oldsize = l->gonemask + 1;
		if ((l->gone = calloc(oldsize * 2, sizeof *l->gone)) == NULL) {
			l->gone = old;
			return;
		}
		l->gonemask = oldsize * 2 - 1;
		for (i = 0; i < oldsize; i++)
			if (old[i].process != 0)
				*goneslot(l->gone, l->gonemask, old[i].process, old[i].ptr) = old[i];
		free(old);
	}
	g = goneslot(l->gone, l->gonemask, e->process, e->ptr);
	if (g->process == 0)
		l->ngone++;
	*g = *e;
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
	l->gonemask = 1023;
	l->gone = calloc(l->gonemask + 1, sizeof *l->gone);
	l->slot = calloc(l->mask + 1, sizeof *l->slot);
	l->seen = calloc(l->seenmask + 1, sizeof *l->seen);
	l->tl = timeline_new();
	if (l->slot == NULL || l->seen == NULL || l->gone == NULL || l->tl == NULL) {
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
	free(l->gone);
	free(l->seen);
	free(l->inuse);
	free(l->peak);
	free(l);
}

void
life_event(Lifetimes *l, int64_t seq, const TraceEvent *e)
{
	Live b, *o;
	const char *call;
	int ends, starts;

	if (l->nomem)
		return;
	if (seen(l, e->process, e->tid, e->time) < 0) {
		l->nomem = 1;
		return;
	}
	if (e->process == 0)
		return;
	call = trace_callname(e->call);
	/* the end of a lifetime: free, or a realloc that moved, resized or freed */
	ends = e->type == TRACE_FREE ||
	    (e->type == TRACE_REALLOC && (e->newptr != 0 || e->size == 0));
	if (ends && (o = lookup(l, e->process, e->ptr)) != NULL) {
		trace_add_block(l->w, o->process, o->ptr, o->size, o->call, o->stack, o->seq,
		    o->time, seq, e->time, call, e->stack);
		(void)timeline_add(l->tl, o->process, o->size, o->stack, o->seq, seq);
		account(l, e->process, o->size, 0);
		o->free_stack = e->stack;
		gone(l, o);
		delete(l, o);
		l->st.blocks++;
	}
	/* the start of one: an alloc or realloc that returned a block */
	starts = e->type == TRACE_ALLOC || e->type == TRACE_REALLOC;
	b.ptr = e->type == TRACE_ALLOC ? e->ptr : e->newptr;
	if (!starts || b.ptr == 0)
		return;
	b.process = e->process;
	b.size = e->size;
	b.seq = seq;
	b.time = e->time;
	b.stack = e->stack;
	b.call = call;
	if ((o = lookup(l, e->process, b.ptr)) != NULL) {
		/* handed out twice without a free between: keep both, the first as live */
		trace_add_block(l->w, o->process, o->ptr, o->size, o->call, o->stack, o->seq,
		    o->time, 0, 0, NULL, 0);
		(void)timeline_add(l->tl, o->process, o->size, o->stack, o->seq, 0);
		delete(l, o);
		l->st.blocks++;
	}
	if (insert(l, &b) < 0 || account(l, e->process, e->size, 1) < 0)
		l->nomem = 1;
}

int
life_finish(Lifetimes *l)
{
	size_t i;

	if (l->nomem)
		return SQLITE_NOMEM;
	for (i = 0; i <= l->mask; i++)
		if (l->slot[i].process != 0) {
			trace_add_block(l->w, l->slot[i].process, l->slot[i].ptr, l->slot[i].size,
			    l->slot[i].call, l->slot[i].stack, l->slot[i].seq, l->slot[i].time,
			    0, 0, NULL, 0);
			(void)timeline_add(l->tl, l->slot[i].process, l->slot[i].size,
			    l->slot[i].stack, l->slot[i].seq, 0);
			l->st.blocks++;
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
	if (l->slot != NULL)
		__builtin_prefetch(&l->slot[h & l->mask]);
	if (l->gone != NULL)
		__builtin_prefetch(&l->gone[h & l->gonemask]);
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
	*call = o->call;
	return 1;
}

int
life_block(Lifetimes *l, int64_t process, uint64_t ptr, uint64_t *size, uint32_t *alloc_stack,
    uint32_t *free_stack)
{
	const Live *o;

	if ((o = lookup(l, process, ptr)) != NULL) {
		*size = o->size;
		*alloc_stack = o->stack;
		*free_stack = 0;
		return 1;
	}
	o = goneslot(l->gone, l->gonemask, process, ptr);
	if (o->process == 0)
		return 0;
	*size = o->size;
	*alloc_stack = o->stack;
	*free_stack = o->free_stack;
	return 2;
}

const LifeStats *
life_stats(Lifetimes *l)
{
	return &l->st;
}
