/*
 * tests/pool-align.c -- poolallocalign over many (n, align, offset, span)
 * combinations, and the other calls on the pointers it returns.
 *
 * For every combination the result r must satisfy (r - offset) % align == 0
 * (offset taken modulo align, negative ones too), must not let [r, r+n)
 * cross a multiple of span, must be usable for n bytes and be accepted by
 * poolmsize, poolblockcheck, poolrealloc and poolfree.  Combinations that
 * cannot be met (n > span, or align and offset forcing a span crossing)
 * must give NULL with errno set.  poolcheck stays quiet throughout.  An
 * alarm guards against a search that never ends.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

static const size_t ns[] = { 0, 1, 7, 16, 100, 1000, 5000 };
static const size_t aligns[] = { 0, 1, 2, 3, 8, 16, 24, 48, 64, 100, 256, 4096 };
static const long offsets[] = { 0, 1, -1, 5, -8, 17, 1000, -1000 };
static const size_t spans[] = { 0, 64, 100, 256, 4096, 8192 };

enum {
	NN = sizeof ns / sizeof ns[0],
	NO = sizeof offsets / sizeof offsets[0],
	NS = sizeof spans / sizeof spans[0],
	NLIVE = NN * NO * NS,
};

/* Counts failures of one property, reporting the first. */
#define FAIL(k, ...) do { if (!bad[k]++) tap_diag(__VA_ARGS__); } while (0)

static int npanics;	/* calls on returned pointers that panicked, this group */

static void
panicked(TestPool *tp, const char *call, const void *r, size_t n, size_t align, long off, size_t span)
{
	if (npanics++ == 0)
		tap_diag("  %s(%p) of poolallocalign(%zu, %zu, %ld, %zu) panicked: %.*s", call, r, n,
		    align, off, span, TP_STR(tp->panicmsg));
}

/* poolmsize, poolrealloc, poolfree that report a panic instead of leaving by it. */
static int
safemsize(TestPool *tp, void *r, size_t *m)
{
	volatile size_t vm = 0;

	if (EXPECT_PANIC(tp, vm = poolmsize(P(tp), r)))
		return 0;
	*m = vm;
	return 1;
}

static int
saferealloc(TestPool *tp, void *r, size_t n, char **nr)
{
	char *volatile vr = NULL;

	if (EXPECT_PANIC(tp, vr = poolrealloc(P(tp), r, n)))
		return 0;
	*nr = vr;
	return 1;
}

static int
safefree(TestPool *tp, void *r)
{
	return !EXPECT_PANIC(tp, poolfree(P(tp), r));
}

struct Live {
	char	*r;
	size_t	n;
	uint64_t id;
	size_t	align, span;
	long	off;
};

static struct Live live[NLIVE];
static int nlive;

/* Every combination for one align: the results' properties. */
static void
group_alloc(TestPool *tp, size_t align, uint64_t *rs)
{
	static const char *const what[] = {
		"possible combinations succeed", "impossible combinations give NULL with errno",
		"results are congruent to offset modulo align", "results do not cross a span boundary",
		"poolmsize is >= n", "poolblockcheck is quiet", "contents survive the other allocations",
		"results do not overlap each other", "poolisoverlap sees them",
	};
	enum { NPROP = sizeof what / sizeof what[0] };
	int bad[NPROP] = { 0 }, i, j, k, o, s;
	size_t n, span, m;
	long off;
	char *r;

	nlive = 0;
	for (i = 0; i < NN; i++)
		for (o = 0; o < NO; o++)
			for (s = 0; s < NS; s++) {
				n = ns[i], off = offsets[o], span = spans[s];
				errno = 0;
				r = poolallocalign(P(tp), n, align, off, span);
				if (!tp_alignable(n, align, off, span)) {
					if (r != NULL || errno == 0)
						FAIL(1, "  n %zu align %zu offset %ld span %zu: %p errno %d",
						    n, align, off, span, (void *)r, errno);
					if (r != NULL && !safefree(tp, r))
						panicked(tp, "poolfree", r, n, align, off, span);
					continue;
				}
				if (r == NULL) {
					FAIL(0, "  n %zu align %zu offset %ld span %zu: NULL", n, align, off, span);
					continue;
				}
				if (!tp_alignok(r, n, align, off, 0))
					FAIL(2, "  n %zu align %zu offset %ld: %p", n, align, off, (void *)r);
				if (!tp_alignok(r, n, 0, 0, span))
					FAIL(3, "  n %zu span %zu: %p", n, span, (void *)r);
				if (!safemsize(tp, r, &m)) {
					panicked(tp, "poolmsize", r, n, align, off, span);
					continue;	/* lost to the test */
				}
				if (m < n)
					FAIL(4, "  n %zu align %zu offset %ld: msize %zu", n, align, off, m);
				if (!tp_quiet(tp, r))
					FAIL(5, "  n %zu align %zu offset %ld span %zu", n, align, off, span);
				if (n > 0 && !poolisoverlap(P(tp), r, n))
					FAIL(8, "  %p n %zu", (void *)r, n);
				live[nlive] = (struct Live){ r, n, tp_rand(rs), align, span, off };
				tp_fill(r, live[nlive].id, 0, n);
				nlive++;
			}
	for (k = 0; k < nlive; k++) {
		if (tp_verify(live[k].r, live[k].id, 0, live[k].n) >= 0)
			FAIL(6, "  %p (n %zu) changed", (void *)live[k].r, live[k].n);
		for (j = k + 1; j < nlive; j++)
			if (live[k].r < live[j].r + live[j].n && live[j].r < live[k].r + live[k].n)
				FAIL(7, "  %p+%zu and %p+%zu", (void *)live[k].r, live[k].n,
				    (void *)live[j].r, live[j].n);
	}
	for (k = 0; k < NPROP; k++)
		if (!ok(!bad[k], "align %zu: %s", align, what[k]))
			tap_diag("  %d combinations failed", bad[k]);
	ok(tp_quiet(tp, NULL), "align %zu: poolcheck is quiet with %d aligned blocks", align, nlive);
}

/* Grows, shrinks and frees the live blocks in a scrambled order. */
static void
group_churn(TestPool *tp, size_t align, uint64_t *rs)
{
	int bad[5] = { 0 }, j, k;
	struct Live *l, t;
	size_t n;
	char *r;

	for (k = 0; k < nlive; k++) {
		j = tp_randn(rs, nlive);
		t = live[k];
		live[k] = live[j];
		live[j] = t;
	}
	for (k = 0; k < nlive; k++) {
		l = &live[k];
		n = k % 3 == 0 ? l->n * 2 + 24 : k % 3 == 1 ? l->n / 2 : l->n;
		if (k % 3 != 2) {
			if (!saferealloc(tp, l->r, n, &r)) {
				panicked(tp, "poolrealloc", l->r, l->n, l->align, l->off, l->span);
				l->r = NULL;
				continue;
			}
			if (r == NULL && n > 0) {
				FAIL(0, "  poolrealloc(%p, %zu) failed", (void *)l->r, n);
				continue;
			}
			if (r != NULL && tp_verify(r, l->id, 0, n < l->n ? n : l->n) >= 0)
				FAIL(1, "  poolrealloc(%p, %zu) lost contents", (void *)l->r, n);
			l->r = r;
			l->n = n;
			if (r != NULL)
				tp_fill(r, l->id, 0, n);
		}
		if (k % 5 == 0 && !tp_quiet(tp, NULL))
			FAIL(2, "  poolcheck after %d reallocs", k);
	}
	for (k = 0; k < nlive; k++) {
		l = &live[k];
		if (l->r != NULL && tp_verify(l->r, l->id, 0, l->n) >= 0)
			FAIL(3, "  %p changed before poolfree", (void *)l->r);
		if (!safefree(tp, l->r))
			panicked(tp, "poolfree", l->r, l->n, l->align, l->off, l->span);
		if (k % 7 == 0 && !tp_quiet(tp, NULL))
			FAIL(4, "  poolcheck after %d frees", k);
	}
	ok(!bad[0], "align %zu: poolrealloc of aligned pointers succeeds", align);
	ok(!bad[1], "align %zu: poolrealloc of aligned pointers keeps the contents", align);
	ok(!bad[2] && !bad[3], "align %zu: poolcheck quiet and contents intact while reallocating", align);
	ok(!bad[4], "align %zu: poolcheck quiet while freeing", align);
}

static void
test_group(size_t align)
{
	TestPool *tp = tp_new("align", TP_REGION, 0);
	uint64_t rs = align;

	npanics = 0;
	group_alloc(tp, align, &rs);
	group_churn(tp, align, &rs);
	if (!ok(npanics == 0, "align %zu: poolmsize, poolrealloc, poolfree accept every result", align))
		tap_diag("  %d calls panicked", npanics);
	if (npanics == 0)
		tp_is(P(tp)->curalloc, 0, "align %zu: curalloc is 0 after freeing all", align);
	else
		tap_skip(1, "blocks were lost to panics");
	tp_free(tp);
}

static void
test_msize_edge(void)
{
	TestPool *tp;
	size_t m;
	char *r;

	tp = tp_new("alignmsize", TP_REGION, 0);
	r = poolallocalign(P(tp), 100, 64, 8, 0);
	m = poolmsize(P(tp), r);
	memset(r, 'q', m);
	ok(tp_quiet(tp, NULL), "an aligned block written up to its msize: poolcheck quiet");
	ok(tp_quiet(tp, r), "... and poolblockcheck quiet");
	r[m] = 'q';
	ok(EXPECT_PANIC(tp, poolblockcheck(P(tp), r)), "one byte past an aligned block's msize panics");
	tp_like(tp->panicmsg, "corrupt tail magic0", "... with \"corrupt tail magic0\"");
	tp_free(tp);

	tp = tp_new("alignover", TP_REGION, 0);
	r = poolallocalign(P(tp), 100, 256, -3, 0);
	r[100] = 'q';
	ok(EXPECT_PANIC(tp, poolfree(P(tp), r)), "one byte past an aligned block's data panics at poolfree");
	tp_like(tp->panicmsg, "mem user overflow", "... with \"mem user overflow\"");
	tp_free(tp);

	tp = tp_new("aligndouble", TP_REGION, 0);
	r = poolallocalign(P(tp), 100, 256, 0, 0);
	poolalloc(P(tp), 10);
	poolfree(P(tp), r);
	ok(EXPECT_PANIC(tp, poolfree(P(tp), r)), "a double free of an aligned pointer panics");
	tp_like(tp->panicmsg, "D2B called on non-block", "... with \"D2B called on non-block\"");
	tp_free(tp);
}

static void
test_exact(void)
{
	TestPool *tp = tp_new("alignexact", TP_REGION, 0);
	char *r;

	errno = 0;
	r = poolallocalign(P(tp), 65, 1, 0, 64);
	ok(r == NULL && errno != 0, "n 65 > span 64: NULL with errno");
	r = poolallocalign(P(tp), 64, 0, 0, 64);
	ok(r != NULL && (uintptr_t)r % 64 == 0, "n == span: the result starts on a span boundary");
	poolfree(P(tp), r);
	r = poolallocalign(P(tp), 4096, 4096, 0, 4096);
	ok(r != NULL && (uintptr_t)r % 4096 == 0, "a page on a page boundary");
	poolfree(P(tp), r);
	r = poolallocalign(P(tp), 10, 4096, -1, 0);
	ok(r != NULL && ((uintptr_t)r + 1) % 4096 == 0, "offset -1: one byte before a 4096 boundary");
	poolfree(P(tp), r);
	r = poolallocalign(P(tp), 10, 4096, 4095, 0);
	ok(r != NULL && ((uintptr_t)r + 1) % 4096 == 0, "offset 4095 is the same as -1");
	poolfree(P(tp), r);
	r = poolallocalign(P(tp), 10, 4096, 4096 * 3 + 5, 0);
	ok(r != NULL && (uintptr_t)r % 4096 == 5, "offsets above align are taken modulo align");
	poolfree(P(tp), r);
	r = poolallocalign(P(tp), 10, 3000, 7, 0);
	ok(r != NULL && (uintptr_t)r % 3000 == 7, "align 3000 (not a power of two), offset 7");
	poolfree(P(tp), r);
	errno = 0;
	r = poolallocalign(P(tp), 64, 4096, 1, 64);
	ok(r == NULL && errno != 0, "align 4096 offset 1 span 64 n 64 cannot be met: NULL");
	r = poolallocalign(P(tp), 16, 0, 0, 100);
	ok(r != NULL && tp_alignok(r, 16, 0, 0, 100), "span 100 without align");
	poolfree(P(tp), r);
	ok(tp_quiet(tp, NULL), "poolcheck is quiet");
	tp_is(P(tp)->curalloc, 0, "curalloc is 0");
	tp_free(tp);
}

static void
onalarm(int sig)
{
	(void)sig;
	tap_bail("a pool call did not return within 60 seconds");
}

int
main(void)
{
	unsigned i;

	signal(SIGALRM, onalarm);
	alarm(60);
	test_exact();
	for (i = 0; i < sizeof aligns / sizeof aligns[0]; i++)
		test_group(aligns[i]);
	test_msize_edge();
	return tap_done();
}
