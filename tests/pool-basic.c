/*
 * tests/pool-basic.c -- every pool call at its boundaries, without flags.
 *
 * Checks what pool(3) promises of poolalloc, poolfree, poolmsize,
 * poolisoverlap, the counters, the size rounding (quantum, minblock), the
 * arena requests (minarena, maxsize, merge), the locking shape of each
 * call, pooldump, and the placement policy (best fit, the most recently
 * freed of a size first, neighbours joined on free).  Each section uses a
 * fresh test pool.  Must never depend on wall-clock time or on addresses
 * beyond what the contract fixes.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

static int
aligned16(const void *v)
{
	return ((uintptr_t)v & 15) == 0;
}

/* Bytes [a, a+an) and [b, b+bn) overlap. */
static int
overlaps(const void *a, size_t an, const void *b, size_t bn)
{
	const char *x = a, *y = b;

	return x < y + bn && y < x + an;
}

static int
counters_sane(const Pool *p)
{
	return p->curalloc + p->curfree <= p->cursize;
}

static void
test_zero(void)
{
	TestPool *tp = tp_new("zero", TP_REGION, 0);
	void *a, *b;

	a = poolalloc(P(tp), 0);
	b = poolalloc(P(tp), 0);
	ok(a != NULL && b != NULL, "poolalloc(0) returns non-NULL");
	ok(a != b, "two poolalloc(0) results are distinct");
	ok(aligned16(a) && aligned16(b), "poolalloc(0) results are 16-byte aligned");
	ok(TP_BSIZE(a) >= 64 && TP_BSIZE(a) % 16 == 0, "poolalloc(0) block size %ju is >= 64, a multiple of 16",
	    (uintmax_t)TP_BSIZE(a));
	ok(tp_quiet(tp, a), "poolblockcheck of a 0-byte block is quiet");
	poolfree(P(tp), a);
	poolfree(P(tp), b);
	tp_is(P(tp)->curalloc, 0, "curalloc is 0 after freeing both");
	tp_free(tp);
}

static const size_t sizes[] = {
	1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 96, 100, 127, 128,
	129, 255, 256, 257, 1000, 1024, 4095, 4096, 4097, 10000, 65535, 65536,
	100000, 1 << 20,
};
enum { NSIZES = sizeof sizes / sizeof sizes[0] };

static void
test_sizes(void)
{
	TestPool *tp = tp_new("sizes", TP_REGION, 0);
	void *v[NSIZES];
	int i, j, bad[6] = { 0 };
	size_t bs, m, sum = 0;
	unsigned long nf;

	for (i = 0; i < NSIZES; i++) {
		v[i] = poolalloc(P(tp), sizes[i]);
		if (v[i] == NULL) {
			if (!bad[0]++)
				tap_diag("  poolalloc(%zu) failed", sizes[i]);
			continue;
		}
		bs = TP_BSIZE(v[i]);
		sum += bs;
		if (!aligned16(v[i]) && !bad[1]++)
			tap_diag("  poolalloc(%zu) = %p", sizes[i], v[i]);
		if ((bs % 32 != 0 || bs < 64 || bs < sizes[i] + 32) && !bad[2]++)
			tap_diag("  poolalloc(%zu): block size %zu", sizes[i], bs);
		tp_fill(v[i], i, 0, sizes[i]);
		m = poolmsize(P(tp), v[i]);
		if ((m < sizes[i] || m != bs - 32) && !bad[3]++)
			tap_diag("  poolmsize of a %zu-byte block of size %zu = %zu", sizes[i], bs, m);
	}
	ok(!bad[0], "poolalloc succeeds for sizes 1 .. 1 MiB");
	ok(!bad[1], "every result is 16-byte aligned");
	ok(!bad[2], "block sizes are multiples of the quantum, >= 64 and >= n + 32");
	ok(!bad[3], "poolmsize is >= n and reaches the tail (block size - 32)");
	for (i = 0; i < NSIZES; i++)
		for (j = i + 1; j < NSIZES; j++)
			if (v[i] != NULL && v[j] != NULL &&
			    overlaps((char *)v[i] - 16, TP_BSIZE(v[i]), (char *)v[j] - 16, TP_BSIZE(v[j])) &&
			    !bad[4]++)
				tap_diag("  blocks %p and %p overlap", v[i], v[j]);
	ok(!bad[4], "no two blocks overlap");
	for (i = 0; i < NSIZES; i++)
		if (v[i] != NULL && tp_verify(v[i], i, 0, sizes[i]) >= 0 && !bad[5]++)
			tap_diag("  contents of the %zu-byte block changed", sizes[i]);
	ok(!bad[5], "every block still holds what was written into it");
	tp_is(P(tp)->curalloc, sum, "curalloc is the sum of the block sizes");
	tp_is(P(tp)->cursize, tp->allocbytes, "cursize is what alloc handed out");
	ok(counters_sane(P(tp)), "curalloc + curfree <= cursize");
	ok(tp_quiet(tp, NULL), "poolcheck is quiet after msize and filling");
	nf = P(tp)->nfree;
	for (i = 0; i < NSIZES; i++)
		poolfree(P(tp), v[i]);
	tp_is(P(tp)->nfree, nf + NSIZES, "nfree counts each poolfree");
	tp_is(P(tp)->curalloc, 0, "curalloc is back to 0 after freeing all");
	ok(counters_sane(P(tp)), "curalloc + curfree <= cursize after freeing all");
	ok(tp_quiet(tp, NULL), "poolcheck is quiet after freeing all");
	tp_free(tp);
}

static void
test_huge(void)
{
	static const size_t huge[] = {
		SIZE_MAX, SIZE_MAX - 15, SIZE_MAX - 64, SIZE_MAX / 2, (size_t)1 << 62,
		((size_t)1 << 48) + 1,
	};
	TestPool *tp = tp_new("huge", TP_REGION, 0);
	unsigned i;
	void *v;

	for (i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		errno = 0;
		v = poolalloc(P(tp), huge[i]);
		ok(v == NULL && errno == ENOMEM, "poolalloc(%#zx) is NULL with ENOMEM", huge[i]);
	}
	v = poolalloc(P(tp), 100);
	ok(v != NULL, "the pool still allocates after failures");
	ok(tp_quiet(tp, NULL), "poolcheck is quiet after failures");
	ok(counters_sane(P(tp)), "curalloc + curfree <= cursize after failures");
	poolfree(P(tp), v);
	tp_free(tp);
}

static void
test_free_msize(void)
{
	TestPool *tp = tp_new("msize", TP_MMAP, 0);
	unsigned long nf, nl, nu;
	size_t m, m2;
	char *v;

	v = poolalloc(P(tp), 10);
	nf = P(tp)->nfree;
	nl = tp->nlock;
	nu = tp->nunlock;
	ok(!EXPECT_PANIC(tp, poolfree(P(tp), NULL)), "poolfree(NULL) does not panic");
	tp_is(P(tp)->nfree, nf, "poolfree(NULL) does not count as a free");
	tp_is(tp->nlock - nl, tp->nunlock - nu, "poolfree(NULL) leaves the lock balanced");
	poolfree(P(tp), v);

	v = poolalloc(P(tp), 100);
	m = poolmsize(P(tp), v);
	ok(m >= 100, "poolmsize(100-byte block) = %zu >= 100", m);
	m2 = poolmsize(P(tp), v);
	tp_is(m2, m, "a second poolmsize returns the same size");
	memset(v, 'm', m);
	ok(tp_quiet(tp, NULL), "writing the whole msize: poolcheck quiet");
	ok(tp_quiet(tp, v), "writing the whole msize: poolblockcheck quiet");
	tp_is(poolmsize(P(tp), v), m, "poolmsize after writing is unchanged");
	ok(!EXPECT_PANIC(tp, poolfree(P(tp), v)), "the grown block frees without complaint");
	tp_is(P(tp)->nfree, nf + 2, "nfree counted the two frees");
	tp_free(tp);
}

static void
test_isoverlap(void)
{
	TestPool *tp = tp_new("overlap", TP_REGION, 0);
	char *v, *s;
	size_t z;
	int local;

	v = poolalloc(P(tp), 100);
	if (!ok(v != NULL && tp->nchunks == 1, "one arena after the first poolalloc")) {
		tp_free(tp);
		return;
	}
	s = tp->chunks[0].start;
	z = tp->chunks[0].size;
	ok(poolisoverlap(P(tp), v, 1), "a block's first byte overlaps the pool");
	ok(poolisoverlap(P(tp), v + 50, 200), "a range from inside a block overlaps the pool");
	ok(poolisoverlap(P(tp), s - 64, z + 128), "a range covering the arena overlaps the pool");
	ok(poolisoverlap(P(tp), s - 16, 32), "a range straddling the arena start overlaps");
	ok(poolisoverlap(P(tp), s + z - 16, 32), "a range straddling the arena end overlaps");
	ok(!poolisoverlap(P(tp), s - 16, 16), "a range ending at the arena start does not overlap");
	ok(!poolisoverlap(P(tp), s + z, 16), "a range starting at the arena end does not overlap");
	ok(!poolisoverlap(P(tp), &local, sizeof local), "a stack address does not overlap");
	ok(!poolisoverlap(P(tp), tp, sizeof *tp), "the fixture does not overlap");
	poolfree(P(tp), v);
	tp_free(tp);
}

static void
test_rounding(void)
{
	static const size_t q[] = { 0, 16, 48, 64, 256 };
	static const size_t mb[] = { 0, 200, 256, 1000 };
	unsigned i, j, k;
	size_t qq, bs, n;
	TestPool *tp;
	int bad;
	void *v;

	for (i = 0; i < sizeof q / sizeof q[0]; i++)
		for (j = 0; j < sizeof mb / sizeof mb[0]; j++) {
			tp = tp_new("round", TP_REGION, 0);
			P(tp)->quantum = q[i];
			P(tp)->minblock = mb[j];
			for (qq = 16; qq < q[i]; qq <<= 1)
				;
			bad = 0;
			for (k = 0; k < 12; k++) {
				n = k * 37;
				v = poolalloc(P(tp), n);
				if (v == NULL) {
					bad++;
					continue;
				}
				bs = TP_BSIZE(v);
				if ((bs % qq != 0 || bs % 16 != 0 || bs < 64 || bs < mb[j] ||
				    bs < n + 32) && !bad++)
					tap_diag("  quantum %zu minblock %zu: poolalloc(%zu) block size %zu",
					    q[i], mb[j], n, bs);
			}
			ok(!bad, "quantum %zu (as %zu), minblock %zu: every block size rounded and >= minblock",
			    q[i], qq, mb[j]);
			tp_free(tp);
		}
}

static void
test_minarena_maxsize(void)
{
	TestPool *tp;
	void *v, *w[64];
	int i, n;

	tp = tp_new("minarena", TP_MMAP, 0);
	P(tp)->minarena = 1 << 20;
	v = poolalloc(P(tp), 10);
	ok(v != NULL && tp->nalloc >= 1, "poolalloc(10) got an arena");
	ok(tp->allocmin >= (1 << 20), "the arena request %zu honours minarena 1 MiB", tp->allocmin);
	w[0] = poolalloc(P(tp), 3 << 20);
	ok(w[0] != NULL && tp->alloclast >= (3 << 20) + 32,
	    "a 3 MiB poolalloc asks alloc for enough (%zu)", tp->alloclast);
	ok(tp->allocmin >= (1 << 20), "no request below minarena");
	poolfree(P(tp), w[0]);
	poolfree(P(tp), v);
	tp_free(tp);

	tp = tp_new("maxsize", TP_REGION, 0);
	P(tp)->maxsize = 256 << 10;
	errno = 0;
	v = poolalloc(P(tp), 512 << 10);
	ok(v == NULL && errno == ENOMEM, "poolalloc beyond maxsize is NULL with ENOMEM");
	ok(tp_grep(tp, "pool too big") >= 1, "and prints \"pool too big\"");
	tp_clear(tp);
	for (n = 0; n < 64; n++) {
		errno = 0;
		if ((w[n] = poolalloc(P(tp), 16 << 10)) == NULL)
			break;
	}
	ok(n > 0 && n < 64 && errno == ENOMEM, "filling the pool ends in ENOMEM after %d blocks", n);
	ok(P(tp)->cursize <= P(tp)->maxsize, "cursize %ju stays within maxsize",
	    (uintmax_t)P(tp)->cursize);
	ok(tp->allocbytes <= (256 << 10), "alloc handed out no more than maxsize");
	ok(tp_grep(tp, "pool too big") >= 1, "\"pool too big\" printed when full");
	if (n > 0) {
		poolfree(P(tp), w[--n]);
		w[n] = poolalloc(P(tp), 16 << 10);
		ok(w[n] != NULL, "after a free the full pool allocates again");
		n++;
	}
	ok(tp_quiet(tp, NULL), "poolcheck is quiet in the full pool");
	for (i = 0; i < n; i++)
		poolfree(P(tp), w[i]);
	tp_is(P(tp)->curalloc, 0, "curalloc is 0 after emptying the full pool");
	tp_free(tp);
}

static void
test_merge(int accept)
{
	TestPool *tp = tp_new(accept ? "merge" : "nomerge", TP_REGION, 0);
	unsigned long na;
	char *v[3], *big;
	int i, bad = 0;

	tp->mergeok = accept;
	for (i = 0; i < 3; i++) {
		v[i] = poolalloc(P(tp), 40 << 10);
		if (v[i] != NULL)
			tp_fill(v[i], i, 0, 40 << 10);
	}
	ok(v[0] && v[1] && v[2], "three 40 KiB blocks (merge %s)", accept ? "on" : "off");
	ok(tp->nallocok >= 2, "they took %lu arenas of 64 KiB", tp->nallocok);
	ok(tp->nmerge >= 1, "adjacent arenas were offered to merge (%lu times)", tp->nmerge);
	tp_is(tp->nmergebad, 0, "merge was offered adjacent arenas, lower first");
	if (accept) {
		tp_is(tp->nchunks, 1, "accepted merges joined the arenas into one");
	} else {
		tp_is(tp->nallocok, 3, "unmerged, three arenas were needed");
		tp_is(tp->nmerged, 0, "refused merges joined nothing");
		tp_is(tp->nchunks, 3, "the arenas stay separate");
	}
	for (i = 0; i < 3; i++)
		if (v[i] != NULL && tp_verify(v[i], i, 0, 40 << 10) >= 0)
			bad++;
	ok(!bad, "every block is intact");
	ok(tp_quiet(tp, NULL), "poolcheck is quiet");
	for (i = 0; i < 3; i++)
		poolfree(P(tp), v[i]);
	ok(tp_quiet(tp, NULL), "poolcheck is quiet after freeing");
	na = tp->nalloc;
	big = poolalloc(P(tp), 100 << 10);
	ok(big != NULL, "a 100 KiB block can be had");
	if (accept)
		tp_is(tp->nalloc, na, "merged arenas hold 100 KiB without a new arena");
	else
		ok(tp->nalloc > na, "separate 64 KiB arenas cannot hold 100 KiB: a new arena");
	if (big != NULL)
		memset(big, 1, 100 << 10);
	ok(tp_quiet(tp, NULL), "poolcheck is quiet with the big block");
	poolfree(P(tp), big);
	tp_free(tp);
}

static void **movetab;
static int nmovetab;

/* A move hook: the handle in movetab that held from now holds to. */
static void
retarget(TestPool *tp, void *from, void *to)
{
	int i;

	(void)tp;
	for (i = 0; i < nmovetab; i++)
		if (movetab[i] == from) {
			movetab[i] = to;
			return;
		}
}

/* Calls one pool function and checks that it locked exactly once. */
#define LOCKED(tp, what, bad, call) do {				\
	unsigned long nl_ = (tp)->nlock, nu_ = (tp)->nunlock;		\
	call;								\
	if (((tp)->nlock != nl_ + 1 || (tp)->nunlock != nu_ + 1) && !(bad)++) \
		tap_diag("  %s: %lu locks, %lu unlocks", what,		\
		    (tp)->nlock - nl_, (tp)->nunlock - nu_);		\
} while (0)

static void
test_locking(void)
{
	TestPool *tp = tp_new("lock", TP_REGION, 0);
	void *v[32], *a, *r;
	int i, bad = 0;

	movetab = v;
	nmovetab = 32;
	tp_setmove(tp, retarget);
	for (i = 0; i < 32; i++)
		LOCKED(tp, "poolalloc", bad, v[i] = poolalloc(P(tp), i * 700));
	LOCKED(tp, "poolallocalign", bad, a = poolallocalign(P(tp), 100, 256, 8, 0));
	LOCKED(tp, "poolrealloc", bad, r = poolrealloc(P(tp), v[1], 5000));
	v[1] = r;
	LOCKED(tp, "poolmsize", bad, poolmsize(P(tp), v[2]));
	LOCKED(tp, "poolisoverlap", bad, poolisoverlap(P(tp), v[2], 1));
	LOCKED(tp, "poolcheck", bad, poolcheck(P(tp)));
	LOCKED(tp, "poolblockcheck", bad, poolblockcheck(P(tp), v[3]));
	LOCKED(tp, "pooldump", bad, pooldump(P(tp)));
	for (i = 0; i < 32; i += 2)
		LOCKED(tp, "poolfree", bad, poolfree(P(tp), v[i]));
	LOCKED(tp, "poolcompact", bad, poolcompact(P(tp)));
	LOCKED(tp, "poolfree", bad, poolfree(P(tp), a));
	ok(!bad, "every call locks once and unlocks once");
	tp_is(tp->maxdepth, 1, "the lock is never taken twice");
	tp_is(tp->lockerr, 0, "never unlocked without a lock");
	for (i = 1; i < 32; i += 2)
		poolfree(P(tp), v[i]);
	tp_is(tp->nlock, tp->nunlock, "locks and unlocks balance");
	tp_free(tp);

	tp = tp_new("nolock", TP_REGION, 0);
	P(tp)->lock = NULL;
	P(tp)->unlock = NULL;
	ok(!EXPECT_PANIC(tp, {
		for (i = 0; i < 32; i++)
			v[i] = poolalloc(P(tp), i * 100);
		v[0] = poolrealloc(P(tp), v[0], 300);
		poolmsize(P(tp), v[1]);
		poolcheck(P(tp));
		for (i = 0; i < 32; i++)
			poolfree(P(tp), v[i]);
	}), "a pool without lock and unlock works");
	tp_is(tp->nlock, 0, "and nothing was locked");
	tp_free(tp);
}

static void
test_dump(void)
{
	TestPool *tp = tp_new("dump", TP_REGION, 0);
	unsigned long l1, l2;
	void *v[10];
	int i;

	for (i = 0; i < 10; i++)
		v[i] = poolalloc(P(tp), 100);
	tp_clear(tp);
	pooldump(P(tp));
	l1 = tp->nlines;
	ok(l1 >= 12, "pooldump of 10 blocks, a free rest and an arena prints >= 12 lines (%lu)", l1);
	for (i = 0; i < 5; i++)
		poolalloc(P(tp), 100);
	tp_clear(tp);
	pooldump(P(tp));
	l2 = tp->nlines;
	tp_is(l2, l1 + 5, "five more blocks: five more lines");
	poolfree(P(tp), v[3]);
	tp_clear(tp);
	pooldump(P(tp));
	tp_is(tp->nlines, l2, "a freed block (no neighbour free) still has its line");
	tp_free(tp);
}

static void
test_placement(void)
{
	TestPool *tp = tp_new("place", TP_REGION, 0);
	char *a, *b, *s[6], *x[3], *r, *m[3];
	unsigned long na;
	uintptr_t sz;
	int i, ns = 0;

	/* best fit */
	a = poolalloc(P(tp), 100);
	s[0] = poolalloc(P(tp), 10);
	b = poolalloc(P(tp), 1000);
	s[1] = poolalloc(P(tp), 10);
	poolfree(P(tp), b);
	poolfree(P(tp), a);
	r = poolalloc(P(tp), 90);
	ok(r == a, "best fit: 90 bytes go into the 100-byte hole, not the 1000-byte one");
	r = poolalloc(P(tp), 900);
	ok(r == b, "best fit: 900 bytes go into the 1000-byte hole, not the arena's rest");

	/* the most recently freed block of a size is reused first */
	for (i = 0; i < 3; i++) {
		x[i] = poolalloc(P(tp), 200);
		s[2 + i] = poolalloc(P(tp), 10);
	}
	poolfree(P(tp), x[0]);
	poolfree(P(tp), x[2]);
	poolfree(P(tp), x[1]);
	r = poolalloc(P(tp), 200);
	ok(r == x[1], "same size: the most recently freed block comes back first");
	r = poolalloc(P(tp), 200);
	ok(r == x[2], "then the one freed before it");
	r = poolalloc(P(tp), 200);
	ok(r == x[0], "then the oldest");

	/* neighbours are joined on free */
	for (i = 0; i < 3; i++)
		m[i] = poolalloc(P(tp), 1000);
	s[5] = poolalloc(P(tp), 10);
	ok((char *)m[1] == m[0] + TP_BSIZE(m[0]) && (char *)m[2] == m[1] + TP_BSIZE(m[1]),
	    "three blocks carved in a row are adjacent");
	sz = TP_BSIZE(m[0]) + TP_BSIZE(m[1]) + TP_BSIZE(m[2]);
	poolfree(P(tp), m[0]);
	poolfree(P(tp), m[2]);
	poolfree(P(tp), m[1]);
	ok(tp_quiet(tp, NULL), "poolcheck is quiet after joining neighbours");
	na = tp->nalloc;
	r = poolalloc(P(tp), sz - 32);
	ok(r == m[0], "a request for their sum fits exactly where the first was");
	tp_is(tp->nalloc, na, "no new arena for it");
	if (r != NULL) {
		memset(r, 7, sz - 32);
		ok(tp_quiet(tp, NULL), "poolcheck is quiet after filling it");
	}
	for (i = 0; i < 6; i++)
		ns += s[i] != NULL;
	tp_is(ns, 6, "the separating blocks were all allocated");
	tp_free(tp);
}

/*
 * A block cut from a larger free one leaves its rest free, in the tree
 * where best fit finds it: whether the rest is smaller than another free
 * block (and so goes elsewhere in the tree) or larger than every smaller
 * one (and so can stay where the cut block was).
 */
static void
test_cutrest(void)
{
	static const size_t small[2] = { 1400, 200 };	/* larger, then smaller than the rest */
	TestPool *tp;
	char *a, *b, *s[3], *r1, *r2, *r3;
	int k;

	for (k = 0; k < 2; k++) {
		tp = tp_new("cut", TP_REGION, 0);
		a = poolalloc(P(tp), small[k]);
		s[0] = poolalloc(P(tp), 10);
		b = poolalloc(P(tp), 3900);
		s[1] = poolalloc(P(tp), 10);
		poolfree(P(tp), a);
		poolfree(P(tp), b);
		r1 = poolalloc(P(tp), 2800);
		ok(r1 == b, "cut %d: 2800 bytes go into the 3900-byte hole", k);
		ok(tp_quiet(tp, NULL), "cut %d: poolcheck is quiet after the cut", k);
		r2 = poolalloc(P(tp), 900);
		ok(r1 != NULL && r2 == r1 + TP_BSIZE(r1),
		    "cut %d: 900 bytes go into the rest of the hole, right after the cut block", k);
		r3 = poolalloc(P(tp), small[k]);
		ok(r3 == a, "cut %d: the %zu-byte hole is still found", k, small[k]);
		s[2] = poolalloc(P(tp), 5000);
		ok(s[2] > s[1], "cut %d: the arena's rest serves what no hole can", k);
		poolfree(P(tp), r1);
		poolfree(P(tp), r2);
		poolfree(P(tp), r3);
		poolfree(P(tp), s[0]);
		poolfree(P(tp), s[1]);
		poolfree(P(tp), s[2]);
		ok(tp_quiet(tp, NULL), "cut %d: poolcheck is quiet with everything freed", k);
		tp_is(P(tp)->curalloc, 0, "cut %d: curalloc is 0", k);
		tp_free(tp);
	}
}

/*
 * More arenas than the pool's index holds, none adjacent (each mapping
 * ends in a guard page): every block is still found in its arena, by
 * poolmsize, poolfree and poolblockcheck, in the indexed arenas and past
 * them, and an address between two arenas is no block.
 */
static void
test_manyarenas(void)
{
	enum { NB = 48, BSIZE = 60 << 10 };
	TestPool *tp = tp_new("manyarenas", TP_MMAP, 0);
	char *v[NB], *gap;
	int i, bad, sorted, panicked;

	bad = 0;
	for (i = 0; i < NB; i++) {
		v[i] = poolalloc(P(tp), BSIZE);
		if (v[i] == NULL)
			bad++;
		else
			tp_fill(v[i], i, 0, BSIZE);
	}
	ok(bad == 0, "%d blocks of 60 KiB", NB);
	ok(tp->nchunks >= NB && tp->nmerged == 0, "they took %lu arenas, none joined",
	    (unsigned long)tp->nchunks);
	tp_is((uintmax_t)P(tp)->narenaidx, 32, "the index holds the lowest 32 arenas");
	sorted = 1;
	for (i = 0; i < P(tp)->narenaidx; i++)
		if (P(tp)->arenaidx[2 * i] >= P(tp)->arenaidx[2 * i + 1] ||
		    (i > 0 && P(tp)->arenaidx[2 * i] < P(tp)->arenaidx[2 * i - 1]))
			sorted = 0;
	ok(sorted, "the index is in address order, arenas apart");
	bad = 0;
	for (i = 0; i < NB; i++)
		if (poolmsize(P(tp), v[i]) < BSIZE || tp_verify(v[i], i, 0, BSIZE) >= 0)
			bad++;
	ok(bad == 0, "poolmsize finds every block, indexed arena or not");
	ok(tp_quiet(tp, NULL), "poolcheck is quiet with %d arenas", NB);
	/* the word just past the 10th arena's end: the guard page of its mapping */
	gap = (char *)P(tp)->arenaidx[2 * 9 + 1] + 64;
	panicked = EXPECT_PANIC(tp, poolblockcheck(P(tp), gap));
	ok(panicked, "an address between two arenas is no block: %s", tp->panicmsg);
	tp_free(tp);

	tp = tp_new("manyarenas2", TP_MMAP, 0);
	for (i = 0; i < NB; i++)
		v[i] = poolalloc(P(tp), BSIZE);
	for (i = 0; i < NB; i += 2)
		poolfree(P(tp), v[i]);
	for (i = NB - 1; i > 0; i -= 2)
		poolfree(P(tp), v[i]);
	ok(tp_quiet(tp, NULL), "every block freed, low and high arenas alike; poolcheck is quiet");
	tp_is(P(tp)->curalloc, 0, "nothing is left allocated");
	tp_free(tp);
}

int
main(void)
{
	test_zero();
	test_sizes();
	test_huge();
	test_free_msize();
	test_isoverlap();
	test_rounding();
	test_minarena_maxsize();
	test_merge(1);
	test_merge(0);
	test_locking();
	test_dump();
	test_placement();
	test_cutrest();
	test_manyarenas();
	return tap_done();
}
