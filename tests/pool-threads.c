/*
 * tests/pool-threads.c -- one pool shared by several threads.
 *
 * 2 and then 4 threads use one pool whose lock callback takes a real
 * mutex.  Each thread does random poolalloc, poolallocalign, poolrealloc,
 * poolmsize and poolfree on blocks of its own, checking their contents
 * against its own shadow copy; now and then it hands a block to another
 * thread through a mailbox, and the taker checks and frees it; now and
 * then it runs poolcheck.  At the end the pool is checked, the lock
 * calls must balance without nesting, and with every block freed curalloc
 * is 0.  A run under POOL_PARANOIA repeats it with less work.  Only the
 * main thread prints TAP lines.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

enum { NSLOT = 64, NMAIL = 16, MAXTHREAD = 4 };

struct Blk {
	char	*v;
	size_t	n;
	uint64_t id;
};

struct Worker {
	pthread_t thread;
	TestPool *tp;
	int	tid;
	unsigned long nops;
	uint64_t rs;
	struct Blk blk[NSLOT];
	unsigned long bad;	/* contents or results that were wrong */
	unsigned long failed;	/* allocations that returned NULL */
	unsigned long handed, taken;
	unsigned long calls;	/* pool calls made */
	unsigned long badnote;	/* first bad operation, for the report */
};

static struct Blk mail[NMAIL];
static pthread_mutex_t maillock = PTHREAD_MUTEX_INITIALIZER;

static size_t
randsize(uint64_t *rs)
{
	unsigned r = tp_randn(rs, 100);

	return r < 80 ? tp_randn(rs, 200) : r < 99 ? tp_randn(rs, 4096) : tp_randn(rs, 100000);
}

static void
note(struct Worker *w, unsigned long op)
{
	if (w->bad++ == 0)
		w->badnote = op;
}

static void
newblock(struct Worker *w, struct Blk *b, char *v, size_t n, uint64_t *next)
{
	b->v = v;
	b->n = n;
	b->id = ((uint64_t)w->tid << 48) | (*next)++;
	tp_fill(v, b->id, 0, n);
}

/* Posts b into an empty mailbox, or takes a block out of a full one. */
static void
exchange(struct Worker *w, struct Blk *b, unsigned long op)
{
	struct Blk got = { 0 };
	int m = tp_randn(&w->rs, NMAIL);

	pthread_mutex_lock(&maillock);
	if (mail[m].v == NULL && b->v != NULL) {
		mail[m] = *b;
		b->v = NULL;
		w->handed++;
	} else if (mail[m].v != NULL) {
		got = mail[m];
		mail[m].v = NULL;
	}
	pthread_mutex_unlock(&maillock);
	if (got.v != NULL) {
		if (tp_verify(got.v, got.id, 0, got.n) >= 0)
			note(w, op);
		poolfree(P(w->tp), got.v);
		w->calls++;
		w->taken++;
	}
}

static void *
work(void *arg)
{
	struct Worker *w = arg;
	Pool *p = P(w->tp);
	uint64_t next = 1;
	unsigned long op;
	struct Blk *b;
	size_t n, m, keep;
	char *v;
	int r, k;

	for (op = 0; op < w->nops; op++) {
		b = &w->blk[tp_randn(&w->rs, NSLOT)];
		r = tp_randn(&w->rs, 100);
		if (r < 3) {
			exchange(w, b, op);
			continue;
		}
		w->calls++;
		if (r == 3) {
			poolcheck(p);
			continue;
		}
		if (b->v == NULL) {
			n = randsize(&w->rs);
			v = r < 85 ? poolalloc(p, n) : poolallocalign(p, n, 64, r, 0);
			if (v == NULL) {
				w->failed++;
				continue;
			}
			if ((r < 85 && ((uintptr_t)v & 15)) || (r >= 85 && (uintptr_t)v % 64 != (unsigned)r % 64))
				note(w, op);
			newblock(w, b, v, n, &next);
			continue;
		}
		if (tp_verify(b->v, b->id, 0, b->n) >= 0)
			note(w, op);
		if (r < 50) {
			poolfree(p, b->v);
			b->v = NULL;
		} else if (r < 90) {
			n = randsize(&w->rs);
			v = poolrealloc(p, b->v, n);
			if (v == NULL && n > 0) {
				w->failed++;
				continue;
			}
			keep = n < b->n ? n : b->n;
			if (v != NULL && tp_verify(v, b->id, 0, keep) >= 0)
				note(w, op);
			b->v = v;
			b->n = n;
			if (v != NULL)
				tp_fill(v, b->id, keep, n);
		} else {
			m = poolmsize(p, b->v);
			if (m < b->n)
				note(w, op);
			else {
				tp_fill(b->v, b->id, b->n, m);
				b->n = m;
			}
		}
	}
	for (k = 0; k < NSLOT; k++) {
		b = &w->blk[k];
		if (b->v == NULL)
			continue;
		if (tp_verify(b->v, b->id, 0, b->n) >= 0)
			note(w, op);
		poolfree(p, b->v);
		w->calls++;
		b->v = NULL;
	}
	return NULL;
}

static struct Worker workers[MAXTHREAD];

static void
run(int nthread, int flags, unsigned long nops, const char *name)
{
	TestPool *tp = tp_new(name, TP_REGION, flags);
	unsigned long bad = 0, failed = 0, handed = 0, taken = 0, calls = 0;
	int i, started = 0;

	tp->usemutex = 1;
	memset(mail, 0, sizeof mail);
	memset(workers, 0, sizeof workers);
	for (i = 0; i < nthread; i++) {
		workers[i].tp = tp;
		workers[i].tid = i + 1;
		workers[i].nops = nops;
		workers[i].rs = 0x7eadull * (i + 1) + nthread;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) == 0)
			started++;
		else
			break;
	}
	tp_is(started, nthread, "%s: %d threads started", name, nthread);
	for (i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	for (i = 0; i < started; i++) {
		if (workers[i].bad > 0)
			tap_diag("  thread %d: %lu bad results, the first at op %lu", i + 1, workers[i].bad,
			    workers[i].badnote);
		bad += workers[i].bad;
		failed += workers[i].failed;
		handed += workers[i].handed;
		taken += workers[i].taken;
		calls += workers[i].calls;
	}
	for (i = 0; i < NMAIL; i++)
		if (mail[i].v != NULL) {
			if (tp_verify(mail[i].v, mail[i].id, 0, mail[i].n) >= 0)
				bad++;
			poolfree(P(tp), mail[i].v);
			mail[i].v = NULL;
			taken++;
			calls++;
		}
	tp_is(bad, 0, "%s: every thread's blocks kept their contents and constraints", name);
	tp_is(failed, 0, "%s: no allocation failed", name);
	ok(handed > 0 && taken == handed, "%s: %lu blocks passed between threads, all freed", name, handed);
	tp_is(tp->nlock, calls, "%s: each of the %lu calls locked once", name, calls);
	ok(tp_quiet(tp, NULL), "%s: poolcheck is quiet at the end", name);
	tp_is(tp->nlock, tp->nunlock, "%s: lock and unlock calls balance", name);
	tp_is(tp->maxdepth, 1, "%s: the lock was never taken twice", name);
	tp_is(tp->lockerr, 0, "%s: the mutex never complained", name);
	tp_is(P(tp)->curalloc, 0, "%s: curalloc is 0 with every block freed", name);
	ok(P(tp)->curalloc + P(tp)->curfree <= P(tp)->cursize, "%s: curalloc + curfree <= cursize", name);
	tp_is(P(tp)->cursize, tp->allocbytes, "%s: cursize is what alloc handed out", name);
	tp_free(tp);
}

int
main(void)
{
	unsigned long scale = tap_scale();

	run(2, 0, 150000 * scale, "threads-2");
	run(4, 0, 100000 * scale, "threads-4");
	run(4, POOL_PARANOIA | POOL_ANTAGONISM, 10000 * scale, "threads-4-paranoia");
	return tap_done();
}
