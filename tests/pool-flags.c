/*
 * tests/pool-flags.c -- what each POOL_* flag changes, and that nothing is
 * printed without them.
 *
 * ANTAGONISM: the marking signatures of allocated, aligned, grown and freed
 * memory.  PARANOIA: corruption caught by the next unrelated call.
 * VERBOSITY and DEBUGGING: lines printed around and inside calls.  LOGGING:
 * the exact line of each call, logstack before each line, "newarena".
 * TOLERANCE: one NUL past the end is a notice, anything more a panic.
 * NOREUSE: freed blocks filled with 0xDA, never handed out again, and
 * writes into them caught.  Each section uses a fresh pool; a pool that
 * panicked is not used again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

static const unsigned char guardbyte[4] = { 0xFE, 0xF1, 0xF0, 0xFA };

/*
 * Offset of the first place in [s, s+len) not marked with sig: the top
 * byte of each whole 32-bit word, then each trailing byte.  -1 if none.
 */
static long
badmark(const void *s, size_t len, unsigned sig)
{
	const unsigned char *c = s;
	uint32_t w;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&w, c + i, 4);
		if (w >> 24 != sig)
			return (long)i;
	}
	for (; i < len; i++)
		if (c[i] != sig)
			return (long)i;
	return -1;
}

static void
test_quiet_without_flags(void)
{
	TestPool *tp = tp_new("noflags", TP_REGION, 0);
	void *v, *w;

	v = poolalloc(P(tp), 100);
	w = poolallocalign(P(tp), 100, 64, 0, 0);
	v = poolrealloc(P(tp), v, 1000);
	poolmsize(P(tp), v);
	poolfree(P(tp), v);
	poolfree(P(tp), w);
	poolcheck(P(tp));
	tp_is(tp->nlines, 0, "without flags nothing is printed");
	tp_is(tp->nlogstack, 0, "without POOL_LOGGING logstack is never called");
	tp_free(tp);
}

static void
test_antagonism(void)
{
	static const size_t ns[] = { 1, 3, 4, 5, 31, 100, 1001, 4096, 70000 };
	TestPool *tp = tp_new("antag", TP_REGION, POOL_ANTAGONISM);
	char *v, *g1, *g2, *r;
	unsigned i;
	long off;
	size_t bs;
	int bad;

	bad = 0;
	for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		v = poolalloc(P(tp), ns[i]);
		off = v != NULL ? badmark(v, ns[i], 0xDF) : 0;
		if (off >= 0 && !bad++)
			tap_diag("  poolalloc(%zu) = %p: offset %ld not 0xDF", ns[i], (void *)v, off);
		poolfree(P(tp), v);
	}
	ok(!bad, "ANTAGONISM: poolalloc results are marked 0xDF over [v, v+n)");

	bad = 0;
	for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		v = poolallocalign(P(tp), ns[i], 64, i, 0);
		off = v != NULL ? badmark(v, ns[i], 0xDD) : 0;
		if (off >= 0 && !bad++)
			tap_diag("  poolallocalign(%zu, 64, %u) = %p: offset %ld not 0xDD", ns[i], i,
			    (void *)v, off);
		poolfree(P(tp), v);
	}
	ok(!bad, "ANTAGONISM: poolallocalign results are marked 0xDD over [r, r+n)");

	/* growth where the block is */
	v = poolalloc(P(tp), 100);
	memset(v, 'x', 100);
	r = poolrealloc(P(tp), v, 1000);
	ok(r != NULL && badmark(r, 100, 'x') < 0 && r[0] == 'x' && r[99] == 'x',
	    "ANTAGONISM: poolrealloc keeps the old bytes");
	ok(r != NULL && badmark(r + 100, 900, 0xDE) < 0,
	    "ANTAGONISM: the part poolrealloc grew is marked 0xDE");
	poolfree(P(tp), r);

	/* growth by moving (a block follows) */
	v = poolalloc(P(tp), 100);
	g1 = poolalloc(P(tp), 10);
	memset(v, 'y', 100);
	r = poolrealloc(P(tp), v, 3000);
	ok(r != NULL && r != v && memchr(r, 'y', 100) == r && badmark(r, 100, 'y') < 0,
	    "ANTAGONISM: a moving poolrealloc keeps the old bytes");
	ok(r != NULL && badmark(r + 100, 2900, 0xDE) < 0,
	    "ANTAGONISM: the part a moving poolrealloc grew is marked 0xDE");
	poolfree(P(tp), r);
	poolfree(P(tp), g1);

	/* free: from data start + 32 to the tail */
	g1 = poolalloc(P(tp), 10);
	v = poolalloc(P(tp), 1000);
	g2 = poolalloc(P(tp), 10);
	memset(v, 0, 1000);
	bs = TP_BSIZE(v);
	poolfree(P(tp), v);
	off = badmark(v + 32, bs - 64, 0xF7);
	ok(off < 0, "ANTAGONISM: a freed block is marked 0xF7 from data + 32 to the tail");
	if (off >= 0)
		tap_diag("  offset %ld from data + 32 of %zu", off, bs - 64);
	ok(tp_quiet(tp, NULL), "ANTAGONISM: poolcheck is quiet");
	poolfree(P(tp), g1);
	poolfree(P(tp), g2);
	tp_is(P(tp)->curalloc, 0, "ANTAGONISM: curalloc is 0 after freeing all");
	tp_free(tp);
}

/* A pool with PARANOIA, a 100-byte block v (its data filled) and a block w after it. */
static TestPool *
paranoid(const char *tag, size_t n, char **v, char **w)
{
	TestPool *tp = tp_new(tag, TP_REGION, POOL_PARANOIA);

	*v = poolalloc(P(tp), n);
	*w = poolalloc(P(tp), 200);
	memset(*v, 'a', n);
	return tp;
}

static void
test_paranoia(void)
{
	TestPool *tp;
	char *v, *w;

	tp = paranoid("paranoia", 100, &v, &w);
	poolfree(P(tp), poolalloc(P(tp), 50));
	ok(tp->npanic == 0 && tp->nlines == 0, "PARANOIA: sound calls are quiet");
	v[100] = 'X';
	ok(EXPECT_PANIC(tp, poolalloc(P(tp), 30)),
	    "PARANOIA: an overflow is caught by the next unrelated poolalloc");
	tp_like(tp->panicmsg, "mem user overflow", "PARANOIA: ... as \"mem user overflow\"");
	tp_free(tp);

	tp = paranoid("paranoia2", 100, &v, &w);
	TP_MAGIC(v) ^= 0x100;
	ok(EXPECT_PANIC(tp, poolmsize(P(tp), w)),
	    "PARANOIA: a smashed header is caught by the next unrelated poolmsize");
	tp_free(tp);

	tp = paranoid("paranoia3", 128 - 32, &v, &w);
	v[128 - 32] = 'X';
	ok(EXPECT_PANIC(tp, poolfree(P(tp), w)),
	    "PARANOIA: a smashed magic0 is caught by poolfree of another block");
	tp_like(tp->panicmsg, "corrupt tail magic0", "PARANOIA: ... as \"corrupt tail magic0\"");
	tp_free(tp);

	tp = paranoid("paranoia4", 100, &v, &w);
	v[-16 + TP_BSIZE(v) - 3] ^= 1;	/* the tail's size word */
	ok(EXPECT_PANIC(tp, poolisoverlap(P(tp), w, 1)),
	    "PARANOIA: a smashed tail is caught by the next poolisoverlap");
	tp_free(tp);

	tp = tp_new("noparanoia", TP_REGION, 0);
	v = poolalloc(P(tp), 100);
	v[100] = 'X';
	ok(!EXPECT_PANIC(tp, poolfree(P(tp), poolalloc(P(tp), 30))),
	    "without PARANOIA the unrelated calls do not look");
	ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "without PARANOIA poolcheck still finds it");
	tp_free(tp);
}

static void
test_verbosity_debugging(void)
{
	TestPool *tp;
	void *v, *w;

	tp = tp_new("verbose", TP_MMAP, POOL_VERBOSITY);
	v = poolalloc(P(tp), 100);
	tp_clear(tp);
	w = poolalloc(P(tp), 200);
	ok(tp_grep(tp, "arena") >= 2, "VERBOSITY: poolalloc prints an arena line before and after (%d)",
	    tp_grep(tp, "arena"));
	w = poolalloc(P(tp), 200 << 10);	/* a second arena */
	tp_clear(tp);
	poolfree(P(tp), w);
	ok(tp_grep(tp, "arena") >= 4, "VERBOSITY: with two arenas poolfree prints four arena lines (%d)",
	    tp_grep(tp, "arena"));
	tp_clear(tp);
	poolfree(P(tp), v);
	ok(tp->nlines > (unsigned long)tp_grep(tp, "arena"), "VERBOSITY: a summary line as well");
	ok(tp_quiet(tp, NULL), "VERBOSITY: poolcheck does not panic");
	tp_free(tp);

	tp = tp_new("debug", TP_REGION, POOL_DEBUGGING);
	v = poolalloc(P(tp), 100);
	w = poolalloc(P(tp), 100);
	poolfree(P(tp), v);
	v = poolrealloc(P(tp), w, 5000);
	poolfree(P(tp), v);
	ok(tp->nlines > 0, "DEBUGGING: the pool prints about its decisions (%lu lines)", tp->nlines);
	tp_free(tp);
}

/* Runs one call and checks that exactly the expected line was logged after logstack. */
#define LOGS(tp, want, call) do {					\
	tp_clear(tp);							\
	unsigned long ls_ = (tp)->nlogstack;				\
	call;								\
	tp_is(tp_hasline(tp, want), 1, "LOGGING: %.*s", TP_STR(want));	\
	tp_is((tp)->nlines, 1, "  ... and nothing else");		\
	ok((tp)->nlogstack == ls_ + 1 && (tp)->logstacknlines == 0,	\
	    "  ... after one logstack");				\
} while (0)

static void
test_logging(void)
{
	TestPool *tp = tp_new("log", TP_REGION, POOL_LOGGING);
	char want[256], l0[256], l1[256];
	void *v, *w, *r, *x;
	size_t m;

	v = poolalloc(P(tp), 100);
	tp_is(tp->nlines, 2, "LOGGING: the first poolalloc logs two lines");
	tp_line(tp, 0, l0, sizeof l0);
	tp_line(tp, 1, l1, sizeof l1);
	snprintf(want, sizeof want, "newarena %zu\n", tp->alloclast);
	ok(strcmp(l0, want) == 0, "LOGGING: first \"%.*s\"", TP_STR(want));
	if (strcmp(l0, want) != 0)
		tap_diag("  got \"%.*s\"", TP_STR(l0));
	snprintf(want, sizeof want, "poolalloc %p %zu = %p\n", (void *)P(tp), (size_t)100, v);
	ok(strcmp(l1, want) == 0, "LOGGING: then \"%.*s\"", TP_STR(want));
	tp_is(tp->nlogstack, 2, "LOGGING: logstack was called once per line");

	w = poolalloc(P(tp), 1);	/* keeps v's right neighbour busy */
	snprintf(want, sizeof want, "poolalloc %p %zu = %p\n", (void *)P(tp), (size_t)1, w);
	tp_is(tp_hasline(tp, want), 1, "LOGGING: %.*s", TP_STR(want));

	LOGS(tp, want, {
		r = poolallocalign(P(tp), 100, 64, -8, 0);
		snprintf(want, sizeof want, "poolallocalign %p %zu %zu %ld %zu = %p\n",
		    (void *)P(tp), (size_t)100, (size_t)64, -8L, (size_t)0, r);
	});
	LOGS(tp, want, {
		x = poolallocalign(P(tp), 50, 16, 4, 256);
		snprintf(want, sizeof want, "poolallocalign %p %zu %zu %ld %zu = %p\n",
		    (void *)P(tp), (size_t)50, (size_t)16, 4L, (size_t)256, x);
	});
	LOGS(tp, want, {
		poolfree(P(tp), x);
		snprintf(want, sizeof want, "poolfree %p %p\n", (void *)P(tp), x);
	});
	LOGS(tp, want, {
		w = poolrealloc(P(tp), v, 300);
		snprintf(want, sizeof want, "poolrealloc %p %p %zu = %p\n", (void *)P(tp), v,
		    (size_t)300, w);
	});
	v = w;
	LOGS(tp, want, {
		m = poolmsize(P(tp), v);
		snprintf(want, sizeof want, "poolmsize %p %p = %zu\n", (void *)P(tp), v, m);
	});
	LOGS(tp, want, {
		x = poolalloc(P(tp), (size_t)1 << 62);
		snprintf(want, sizeof want, "poolalloc %p %zu = (nil)\n", (void *)P(tp),
		    (size_t)1 << 62);
	});
	ok(x == NULL, "LOGGING: the failed poolalloc returned NULL");
	LOGS(tp, want, {
		poolfree(P(tp), v);
		snprintf(want, sizeof want, "poolfree %p %p\n", (void *)P(tp), v);
	});
	tp_setmove(tp, NULL);
	LOGS(tp, want, {
		poolcompact(P(tp));
		snprintf(want, sizeof want, "poolcompact %p\n", (void *)P(tp));
	});
	tp_clear(tp);
	poolfree(P(tp), r);	/* aligned: compaction left it where it was */
	ok(tp->npanic == 0 && tp_grep(tp, "poolfree ") == 1, "LOGGING: the aligned block frees");
	tp_free(tp);
}

/* A NUL at v[n]: a notice, no panic, and a second look is quiet. */
static void
tolerate(TestPool *tp, char *v, size_t n, int byfree, const char *what)
{
	v[n] = '\0';
	tp_clear(tp);
	ok(!EXPECT_PANIC(tp, byfree ? poolfree(P(tp), v) : poolblockcheck(P(tp), v)),
	    "TOLERANCE: %s: a NUL at v[n] does not panic %s", what,
	    byfree ? "poolfree" : "poolblockcheck");
	ok(tp_grep(tp, "mem user overflow") >= 1,
	    "TOLERANCE: %s: ... but prints a \"mem user overflow\" notice", what);
	ok(tp_quiet(tp, NULL), "TOLERANCE: %s: ... and repairs it: poolcheck is quiet", what);
	if (!byfree)
		ok(tp_quiet(tp, v), "TOLERANCE: %s: ... poolblockcheck is quiet", what);
}

/* A fresh TOLERANCE pool with one n-byte block; bytes past it are set by the caller. */
static TestPool *
tolerant(size_t n, char **v)
{
	TestPool *tp = tp_new("tolerant", TP_REGION, POOL_TOLERANCE);

	*v = poolalloc(P(tp), n);
	return tp;
}

static void
test_tolerance(void)
{
	TestPool *tp;
	char *v, *w, *x;
	size_t m;

	tp = tolerant(100, &v);
	/* with guard bytes: 100 + 32 rounds up to 160 */
	ok(TP_BSIZE(v) >= 100 + 32 + 4 && (unsigned char)v[100] == guardbyte[(uintptr_t)(v + 100) % 4],
	    "TOLERANCE: a 100-byte block has guard bytes after its data");
	tolerate(tp, v, 100, 0, "guard byte");
	/* without guard bytes: 96 + 32 is the block exactly */
	w = poolalloc(P(tp), 96);
	ok(TP_BSIZE(w) == 128 && (unsigned char)w[96] == 0xBE,
	    "TOLERANCE: a 96-byte block has magic0 right after its data");
	tolerate(tp, w, 96, 0, "magic0");
	/* after poolmsize: no guard bytes either */
	x = poolalloc(P(tp), 100);
	m = poolmsize(P(tp), x);
	tolerate(tp, x, m, 0, "msize");
	/* found by poolfree */
	poolfree(P(tp), w);
	tolerate(tp, poolalloc(P(tp), 200), 200, 1, "free");
	poolfree(P(tp), v);
	poolfree(P(tp), x);
	tp_is(P(tp)->curalloc, 0, "TOLERANCE: curalloc is 0 after freeing all");
	tp_free(tp);

	tp = tolerant(100, &v);
	v[100] = '\0';
	v[101] = '\0';
	ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "TOLERANCE: two NULs past the end still panic");
	tp_free(tp);

	tp = tolerant(96, &v);
	v[96] = '\0';
	v[97] = '\0';	/* the slack's high byte: 0 already */
	v[98] = '\0';
	ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "TOLERANCE: NULs over magic0 and the slack still panic");
	tp_free(tp);

	tp = tolerant(100, &v);
	v[100] = 'x';
	ok(EXPECT_PANIC(tp, poolfree(P(tp), v)), "TOLERANCE: a non-NUL past the end still panics");
	tp_like(tp->panicmsg, "mem user overflow", "TOLERANCE: ... with \"mem user overflow\"");
	tp_free(tp);

	tp = tolerant(100, &v);
	P(tp)->flags = 0;
	v[100] = '\0';
	ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "without TOLERANCE a single NUL panics");
	tp_like(tp->panicmsg, "mem user overflow", "  ... with \"mem user overflow\"");
	tp_free(tp);
}

enum { NLIVE = 64, NDEAD = 4200 };

static struct { char *v; size_t size; } deads[NDEAD];
static int ndead;

/* Frees v under NOREUSE, remembering where its block was. */
static void
bury(TestPool *tp, char *v)
{
	if (v != NULL && ndead < NDEAD) {
		deads[ndead].v = v - 16;
		deads[ndead].size = TP_BSIZE(v);
		ndead++;
	}
	poolfree(P(tp), v);
}

/* v lies in one of the blocks freed so far. */
static int
isdead(const char *v)
{
	int i;

	for (i = 0; i < ndead; i++)
		if (v >= deads[i].v && v < deads[i].v + deads[i].size)
			return 1;
	return 0;
}

static void
test_noreuse(void)
{
	TestPool *tp = tp_new("noreuse", TP_MMAP, POOL_NOREUSE);
	char *live[NLIVE], *v, *g[2];
	uintptr_t ca, cf;
	uint64_t rs = 42;
	int i, j, bad, hit;
	size_t bs;
	long off;

	g[0] = poolalloc(P(tp), 10);
	v = poolalloc(P(tp), 200);
	g[1] = poolalloc(P(tp), 10);
	memset(v, 0, 200);
	bs = TP_BSIZE(v);
	ca = P(tp)->curalloc;
	cf = P(tp)->curfree;
	bury(tp, v);
	tp_is(TP_MAGIC(v), 0xDEADDEAD, "NOREUSE: a freed block is marked DEAD");
	off = badmark(v, bs - 32, 0xDA);
	ok(off < 0, "NOREUSE: its data is filled with 0xDA up to the tail");
	tp_is(P(tp)->curalloc, ca - bs, "NOREUSE: curalloc drops by the block size");
	tp_is(P(tp)->curfree, cf, "NOREUSE: curfree does not grow");
	ok(tp_quiet(tp, NULL), "NOREUSE: poolcheck is quiet");

	hit = 0;
	for (i = 0; i < NLIVE; i++)
		if ((live[i] = poolalloc(P(tp), tp_randn(&rs, 600))) != NULL && isdead(live[i]))
			hit++;
	for (j = 0; j < 4000; j++) {
		i = tp_randn(&rs, NLIVE);
		bury(tp, live[i]);
		if ((live[i] = poolalloc(P(tp), tp_randn(&rs, 600))) != NULL && isdead(live[i]))
			hit++;
	}
	ok(hit == 0, "NOREUSE: over 4000 allocations no freed block came back");
	bad = 0;
	for (i = 0; i < ndead; i++)
		if (badmark(deads[i].v + 16, deads[i].size - 32, 0xDA) >= 0 && !bad++)
			tap_diag("  dead block %p lost its 0xDA", (void *)deads[i].v);
	ok(!bad, "NOREUSE: the freed blocks still hold 0xDA");
	ok(tp_quiet(tp, NULL), "NOREUSE: poolcheck is quiet after the churn");
	for (i = 0; i < NLIVE; i++)
		poolfree(P(tp), live[i]);
	poolfree(P(tp), g[0]);
	poolfree(P(tp), g[1]);
	tp_is(P(tp)->curalloc, 0, "NOREUSE: curalloc is 0 after freeing all");
	ok(P(tp)->curalloc + P(tp)->curfree <= P(tp)->cursize, "NOREUSE: curalloc + curfree <= cursize");

	v[100] = 1;
	tp_clear(tp);
	ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "NOREUSE: a write into a freed block is caught by poolcheck");
	tp_like(tp->panicmsg, "dangling pointer write", "NOREUSE: ... as \"dangling pointer write\"");
	tp_free(tp);

	tp = tp_new("noreuse-par", TP_REGION, POOL_NOREUSE | POOL_PARANOIA);
	v = poolalloc(P(tp), 300);
	g[0] = poolalloc(P(tp), 10);
	poolfree(P(tp), v);
	v[150] = 'w';
	ok(EXPECT_PANIC(tp, poolalloc(P(tp), 10)),
	    "NOREUSE|PARANOIA: the next call catches a write into a freed block");
	tp_like(tp->panicmsg, "dangling pointer write", "NOREUSE|PARANOIA: ... as \"dangling pointer write\"");
	tp_free(tp);
}

int
main(void)
{
	test_quiet_without_flags();
	test_antagonism();
	test_paranoia();
	test_verbosity_debugging();
	test_logging();
	test_tolerance();
	test_noreuse();
	return tap_done();
}
