/*
 * tests/pool-stress.c -- a long random run against a shadow model.
 *
 * The model holds every live block: its pointer, its size, the id its
 * contents are derived from, and its alignment constraints.  Random
 * operations (poolalloc, poolfree, poolrealloc, poolallocalign, poolmsize,
 * sizes 0 .. 8 KiB and now and then up to 1 MiB) are applied to the pool
 * and the model; contents are verified on free and realloc and the whole
 * model now and then.  Three phases: under POOL_PARANOIA with poolcheck
 * after every step; without flags and poolcheck every few hundred steps;
 * under POOL_ANTAGONISM|POOL_NOREUSE.  The run is reproducible: the seed
 * is printed, and POOLDBG_TEST_SEED sets it.  POOLDBG_TEST_SCALE
 * multiplies the work.  A failure is reported with the operation number.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

enum { MAXSLOT = 2048 };

struct Blk {
	char	*v;
	size_t	n;
	uint64_t id;
};

static struct Blk blk[MAXSLOT];
static uint64_t rs;
static uint64_t nextid;
static unsigned long opno;

enum {	/* what can go wrong; one TAP check each per phase */
	F_ALLOC, F_ALIGN16, F_ALIGNMENT, F_CONTENTS, F_MSIZE, F_CHECK, F_COUNTERS,
	F_MARK, F_REUSE, NF,
};
static const char *const fname[NF] = {
	"every allocation succeeded", "poolalloc results are 16-byte aligned",
	"poolallocalign results meet align, offset and span", "contents intact at every verification",
	"poolmsize >= the size asked", "poolcheck quiet at every check", "curalloc + curfree <= cursize",
	"ANTAGONISM marks fresh blocks 0xDF", "NOREUSE never hands out a freed block again",
};
static unsigned long nfail[NF];

/* Records a failure of kind k; the first of each kind is described. */
static void
fail(int k, const char *what, const void *v, size_t n)
{
	if (nfail[k]++ == 0)
		tap_diag("  op %lu: %s: %s %p (%zu bytes)", opno, fname[k], what, v, n);
}

/* ---- a set of dead data pointers (NOREUSE) ---- */
enum { DEADBITS = 20 };
static uintptr_t *dead;	/* open addressing, 0 empty */
static size_t ndead;

static size_t
deadslot(uintptr_t a)
{
	size_t i = (a * 0x9E3779B97F4A7C15ull) >> (64 - DEADBITS);

	while (dead[i] != 0 && dead[i] != a)
		i = (i + 1) & ((1 << DEADBITS) - 1);
	return i;
}

static void
bury(const void *v)
{
	size_t i;

	if (dead == NULL || ndead >= (1 << DEADBITS) / 2)
		return;
	i = deadslot((uintptr_t)v);
	if (dead[i] == 0) {
		dead[i] = (uintptr_t)v;
		ndead++;
	}
}

static int
isdead(const void *v)
{
	return dead != NULL && dead[deadslot((uintptr_t)v)] == (uintptr_t)v;
}

/* ---- the operations ---- */
static size_t
randsize(void)
{
	unsigned r = tp_randn(&rs, 1000);

	if (r < 700)
		return tp_randn(&rs, 257);
	if (r < 985)
		return tp_randn(&rs, 8193);
	if (r < 998)
		return 8192 + tp_randn(&rs, 56 * 1024);
	return 64 * 1024 + tp_randn(&rs, 960 * 1024);
}

static void
verify(struct Blk *b, const char *when)
{
	if (b->v != NULL && tp_verify(b->v, b->id, 0, b->n) >= 0)
		fail(F_CONTENTS, when, b->v, b->n);
}

static void
fresh(TestPool *tp, struct Blk *b, char *v, size_t n)
{
	b->v = v;
	b->n = n;
	b->id = ++nextid;
	if (v == NULL)
		return;
	if ((P(tp)->flags & POOL_NOREUSE) && isdead(v))
		fail(F_REUSE, "poolalloc returned", v, n);
	tp_fill(v, b->id, 0, n);
}

static void
op_alloc(TestPool *tp, struct Blk *b)
{
	size_t n = randsize();
	uint32_t w;
	char *v;

	v = poolalloc(P(tp), n);
	if (v == NULL) {
		fail(F_ALLOC, "poolalloc", NULL, n);
		return;
	}
	if ((uintptr_t)v & 15)
		fail(F_ALIGN16, "poolalloc", v, n);
	if ((P(tp)->flags & POOL_ANTAGONISM) && n >= 4) {
		memcpy(&w, v + (n / 4 - 1) * 4, 4);
		if (w >> 24 != 0xDF)
			fail(F_MARK, "poolalloc", v, n);
	}
	fresh(tp, b, v, n);
}

static void
op_free(TestPool *tp, struct Blk *b)
{
	verify(b, "before poolfree");
	poolfree(P(tp), b->v);
	if (P(tp)->flags & POOL_NOREUSE)
		bury(b->v);
	b->v = NULL;
}

static void
op_realloc(TestPool *tp, struct Blk *b)
{
	size_t n = tp_randn(&rs, 50) == 0 ? 0 : randsize(), keep;
	char *v;

	verify(b, "before poolrealloc");
	v = poolrealloc(P(tp), b->v, n);
	if (n == 0) {
		if (P(tp)->flags & POOL_NOREUSE)
			bury(b->v);
		b->v = NULL;
		return;
	}
	if (v == NULL) {
		fail(F_ALLOC, "poolrealloc", b->v, n);
		return;
	}
	if ((P(tp)->flags & POOL_NOREUSE) && v > b->v) {
		/*
		 * Moved up: copied and freed.  (Moving down may be growth into
		 * the left neighbour, whose leftover is free space, not dead.)
		 */
		bury(b->v);
		if (isdead(v))
			fail(F_REUSE, "poolrealloc returned", v, n);
	}
	keep = n < b->n ? n : b->n;
	b->v = v;
	b->n = keep;
	verify(b, "after poolrealloc");
	tp_fill(v, b->id, keep, n);
	b->n = n;
}

static void
op_align(TestPool *tp, struct Blk *b)
{
	static const size_t aligns[] = { 8, 16, 24, 64, 100, 256, 4096 };
	static const size_t spans[] = { 4096, 8192, 65536 };
	size_t align = aligns[tp_randn(&rs, 7)], span = 0, n = randsize();
	long off = (long)tp_randn(&rs, 2 * align + 1) - (long)align;
	char *v;

	if (tp_randn(&rs, 4) == 0) {
		span = spans[tp_randn(&rs, 3)];
		n %= span / 2;
		if (!tp_alignable(n, align, off, span))
			span = 0;
	}
	v = poolallocalign(P(tp), n, align, off, span);
	if (v == NULL) {
		fail(F_ALLOC, "poolallocalign", NULL, n);
		tap_diag("  poolallocalign(%zu, %zu, %ld, %zu) = NULL", n, align, off, span);
		return;
	}
	if (!tp_alignok(v, n, align, off, span))
		fail(F_ALIGNMENT, "poolallocalign", v, n);
	fresh(tp, b, v, n);
}

static void
op_msize(TestPool *tp, struct Blk *b)
{
	size_t m = poolmsize(P(tp), b->v);

	if (m < b->n) {
		fail(F_MSIZE, "poolmsize", b->v, b->n);
		return;
	}
	verify(b, "at poolmsize");
	tp_fill(b->v, b->id, b->n, m);
	b->n = m;
}

static void
check(TestPool *tp)
{
	if (!tp_quiet(tp, NULL))
		fail(F_CHECK, "poolcheck", NULL, 0);
	if (P(tp)->curalloc + P(tp)->curfree > P(tp)->cursize)
		fail(F_COUNTERS, "counters", NULL, 0);
}

/*
 * Runs nops random operations on nslot slots of tp, poolcheck every
 * checkevery steps, the whole model verified every verifyevery steps; then
 * frees everything and reports one TAP check per kind of failure.
 */
static void
phase(TestPool *tp, const char *name, unsigned long nops, int nslot, int checkevery, int verifyevery)
{
	struct Blk *b;
	unsigned long i;
	int k, r;

	memset(nfail, 0, sizeof nfail);
	memset(blk, 0, sizeof blk);
	for (i = 0; i < nops; i++) {
		opno = i;
		b = &blk[tp_randn(&rs, nslot)];
		r = tp_randn(&rs, 100);
		if (b->v == NULL)
			r < 75 ? op_alloc(tp, b) : op_align(tp, b);
		else if (r < 40)
			op_free(tp, b);
		else if (r < 80)
			op_realloc(tp, b);
		else if (r < 90)
			op_msize(tp, b);
		else
			verify(b, "spot check");
		if (checkevery > 0 && i % checkevery == 0)
			check(tp);
		if (i % verifyevery == 0)
			for (k = 0; k < nslot; k++)
				verify(&blk[k], "full verification");
	}
	check(tp);
	for (k = 0; k < nslot; k++) {
		verify(&blk[k], "at the end");
		poolfree(P(tp), blk[k].v);
		blk[k].v = NULL;
	}
	check(tp);
	for (k = 0; k < NF; k++)
		if (!ok(nfail[k] == 0, "%s: %s", name, fname[k]))
			tap_diag("  %lu failures", nfail[k]);
	tp_is(P(tp)->curalloc, 0, "%s: curalloc is 0 after freeing all", name);
	tap_diag("%s: %lu ops, %lu arenas, cursize %ju, %lu frees", name, nops, tp->nallocok,
	    (uintmax_t)P(tp)->cursize, P(tp)->nfree);
}

int
main(void)
{
	const char *s = getenv("POOLDBG_TEST_SEED");
	uint64_t seed = 0x9f00dbee5ull;
	long scale = tap_scale(), i;
	TestPool *tp;

	if (s != NULL && *s != '\0')
		seed = strtoull(s, NULL, 0);
	tap_diag("seed %#llx (POOLDBG_TEST_SEED=%#llx repeats this run), scale %ld",
	    (unsigned long long)seed, (unsigned long long)seed, scale);

	rs = seed;
	tp = tp_new("stress-paranoia", TP_REGION, POOL_PARANOIA);
	phase(tp, "paranoia", 150000UL * scale, 128, 1, 5000);
	tp_free(tp);

	rs = seed + 1;
	tp = tp_new("stress", TP_REGION, 0);
	phase(tp, "plain", 600000UL * scale, 1024, 500, 50000);
	tp_free(tp);

	/* NOREUSE never gives memory back: more scale, more pools, not bigger ones */
	for (i = 0; i < scale; i++) {
		rs = seed + 2 + i;
		dead = calloc((size_t)1 << DEADBITS, sizeof *dead);
		if (dead == NULL)
			tap_bail("out of memory for the dead set");
		ndead = 0;
		tp = tp_new("stress-noreuse", TP_REGION, POOL_ANTAGONISM | POOL_NOREUSE);
		P(tp)->minarena = 1 << 20;
		phase(tp, "antagonism-noreuse", 60000, 256, 4000, 10000);
		tp_free(tp);
		free(dead);
		dead = NULL;
	}
	return tap_done();
}
