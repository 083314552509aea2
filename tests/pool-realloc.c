/*
 * tests/pool-realloc.c -- poolrealloc: each way it can resize a block, and
 * its failures.
 *
 * NULL means poolalloc, size 0 means poolfree; shrinking and growing into
 * slack or a free right neighbour keep the pointer; growing into a free left
 * neighbour moves the data down; a hemmed-in block moves; a failure (maxsize,
 * alloc out of memory, an absurd size) returns NULL with ENOMEM and leaves
 * the old block valid and unchanged.  In every case the contents up to the
 * lesser size survive, which a long random run checks as well.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

static void
test_null_zero(void)
{
	TestPool *tp = tp_new("rnull", TP_REGION, 0);
	unsigned long nf;
	char *v, *g;

	v = poolrealloc(P(tp), NULL, 100);
	ok(v != NULL && ((uintptr_t)v & 15) == 0, "poolrealloc(NULL, 100) allocates");
	ok(v != NULL && poolmsize(P(tp), v) >= 100, "... a block of at least 100 bytes");
	g = poolalloc(P(tp), 10);
	nf = P(tp)->nfree;
	memset(v, 1, 100);
	errno = 0;
	ok(poolrealloc(P(tp), v, 0) == NULL, "poolrealloc(v, 0) returns NULL");
	tp_is(P(tp)->curalloc, TP_BSIZE(g), "... and frees v: only the other block is allocated");
	ok(P(tp)->nfree >= nf, "nfree does not go backwards");
	ok(tp_quiet(tp, NULL), "poolcheck is quiet");
	ok(EXPECT_PANIC(tp, poolfree(P(tp), v)), "freeing v again is a double free");
	tp_like(tp->panicmsg, "D2B called on non-block", "... reported as such");
	tp_free(tp);
}

static void
test_shrink(void)
{
	TestPool *tp = tp_new("rshrink", TP_REGION, 0);
	char *v, *r;
	size_t n;

	v = poolalloc(P(tp), 1000);
	tp_fill(v, 1, 0, 1000);
	poolalloc(P(tp), 10);
	r = poolrealloc(P(tp), v, 100);
	ok(r == v, "shrinking keeps the pointer");
	ok(tp_verify(r, 1, 0, 100) < 0, "... and the first 100 bytes");
	ok(poolmsize(P(tp), r) >= 100, "... msize is still >= 100");
	ok(tp_quiet(tp, NULL), "... poolcheck is quiet");
	r = poolrealloc(P(tp), v, 100);
	ok(r == v, "poolrealloc to the same size keeps the pointer");
	for (n = 99; n > 0; n -= 11) {
		r = poolrealloc(P(tp), r, n);
		if (r != v || tp_verify(r, 1, 0, n) >= 0)
			break;
	}
	ok(n == 0 || n > 99, "shrinking step by step keeps pointer and contents");
	tp_free(tp);

	tp = tp_new("rshrink2", TP_REGION, 0);
	v = poolalloc(P(tp), 1000);
	poolalloc(P(tp), 10);
	r = poolrealloc(P(tp), v, 100);
	r[100] = 'x';
	ok(EXPECT_PANIC(tp, poolblockcheck(P(tp), r)), "after shrinking to 100, writing r[100] is an overflow");
	tp_free(tp);
}

static void
test_grow_in_place(void)
{
	TestPool *tp = tp_new("rgrow", TP_REGION, 0);
	char *a, *b, *c, *r;
	unsigned long na;
	size_t m;

	/* into slack */
	a = poolalloc(P(tp), 100);
	b = poolalloc(P(tp), 10);
	tp_fill(a, 2, 0, 100);
	m = TP_BSIZE(a) - 32;
	ok(m > 100, "a 100-byte block has %zu bytes of room", m);
	r = poolrealloc(P(tp), a, m);
	ok(r == a, "growing into the slack keeps the pointer");
	ok(tp_verify(r, 2, 0, 100) < 0, "... and the contents");
	memset(r + 100, 'g', m - 100);
	ok(tp_quiet(tp, r), "... the whole %zu bytes are usable", m);

	/* into a free right neighbour */
	a = poolalloc(P(tp), 100);
	b = poolalloc(P(tp), 1000);
	c = poolalloc(P(tp), 10);
	tp_fill(a, 3, 0, 100);
	tp_fill(c, 4, 0, 10);
	poolfree(P(tp), b);
	na = tp->nalloc;
	r = poolrealloc(P(tp), a, 900);
	ok(r == a, "growing into a free right neighbour keeps the pointer");
	ok(tp_verify(r, 3, 0, 100) < 0, "... and the contents");
	memset(r + 100, 'h', 800);
	ok(tp_quiet(tp, NULL), "... poolcheck is quiet with 900 bytes written");
	ok(tp_verify(c, 4, 0, 10) < 0, "... the block after is untouched");
	tp_is(tp->nalloc, na, "... no new arena");

	/* into the arena's rest */
	a = poolalloc(P(tp), 100);
	tp_fill(a, 5, 0, 100);
	r = poolrealloc(P(tp), a, 20000);
	ok(r == a, "growing into the free rest of the arena keeps the pointer");
	ok(tp_verify(r, 5, 0, 100) < 0, "... and the contents");
	memset(r + 100, 'i', 19900);
	ok(tp_quiet(tp, NULL), "... poolcheck is quiet");
	tp_free(tp);
}

static void
test_grow_left(void)
{
	TestPool *tp = tp_new("rleft", TP_REGION, 0);
	char *a, *b, *c, *r, *x;
	unsigned long na;
	uintptr_t ca;

	a = poolalloc(P(tp), 1000);
	b = poolalloc(P(tp), 100);
	c = poolalloc(P(tp), 10);
	tp_fill(b, 6, 0, 100);
	tp_fill(c, 7, 0, 10);
	poolfree(P(tp), a);
	na = tp->nalloc;
	r = poolrealloc(P(tp), b, 800);
	ok(r != NULL && r != b, "growing into a free left neighbour moves the pointer");
	ok(r >= a && r < b, "... down into the left neighbour");
	ok(r != NULL && tp_verify(r, 6, 0, 100) < 0, "... the contents came along");
	if (r != NULL)
		memset(r + 100, 'j', 700);
	ok(tp_verify(c, 7, 0, 10) < 0, "... the block after is untouched");
	ok(tp_quiet(tp, NULL), "... poolcheck is quiet");
	tp_is(tp->nalloc, na, "... no new arena");
	ca = P(tp)->curalloc;
	x = poolalloc(P(tp), 10);
	ok(x != NULL && (x < r || x >= r + 800), "a new block does not land in the grown one");
	ok(P(tp)->curalloc > ca, "curalloc counts it");
	tp_free(tp);
}

static void
test_move(void)
{
	TestPool *tp = tp_new("rmove", TP_REGION, 0);
	char *a, *b, *c, *r, *x;

	a = poolalloc(P(tp), 100);
	b = poolalloc(P(tp), 100);
	c = poolalloc(P(tp), 100);
	tp_fill(a, 8, 0, 100);
	tp_fill(b, 9, 0, 100);
	tp_fill(c, 10, 0, 100);
	r = poolrealloc(P(tp), b, 5000);
	ok(r != NULL && r != b, "a hemmed-in block moves to grow");
	ok(r != NULL && tp_verify(r, 9, 0, 100) < 0, "... with its contents");
	ok(tp_verify(a, 8, 0, 100) < 0 && tp_verify(c, 10, 0, 100) < 0, "... its neighbours are untouched");
	ok(tp_quiet(tp, NULL), "... poolcheck is quiet");
	x = poolalloc(P(tp), 100);
	ok(x == b, "the old place was freed: the next 100-byte block goes there");
	ok(r != NULL && tp_quiet(tp, r), "the moved block passes poolblockcheck");
	tp_free(tp);
}

/*
 * Checks that a failed poolrealloc left v (n bytes of id) valid and intact;
 * returns the lines with "pool too big" the call printed.
 */
static int
failed(TestPool *tp, char *v, size_t grow, size_t n, uint64_t id, const char *why)
{
	unsigned long nf = P(tp)->nfree;
	uintptr_t ca = P(tp)->curalloc;
	char *r;
	int big;

	tp_clear(tp);
	errno = 0;
	r = poolrealloc(P(tp), v, grow);
	big = tp_grep(tp, "pool too big");
	ok(r == NULL && errno == ENOMEM, "%s: poolrealloc is NULL with ENOMEM", why);
	ok(tp_verify(v, id, 0, n) < 0, "%s: the old contents are intact", why);
	ok(tp_quiet(tp, v), "%s: the old block passes poolblockcheck", why);
	ok(poolmsize(P(tp), v) >= n, "%s: poolmsize of the old block is still >= %zu", why, n);
	ok(tp_quiet(tp, NULL), "%s: poolcheck is quiet", why);
	tp_is(P(tp)->curalloc, ca, "%s: curalloc unchanged", why);
	tp_is(P(tp)->nfree, nf, "%s: nothing was freed", why);
	return big;
}

static void
test_failure(void)
{
	TestPool *tp;
	char *v;

	tp = tp_new("rmax", TP_REGION, 0);
	P(tp)->maxsize = 256 << 10;
	v = poolalloc(P(tp), 1000);
	poolalloc(P(tp), 10);
	tp_fill(v, 11, 0, 1000);
	ok(failed(tp, v, 1 << 20, 1000, 11, "beyond maxsize") >= 1,
	    "beyond maxsize: \"pool too big\" printed");
	failed(tp, v, SIZE_MAX - 8, 1000, 11, "an absurd size");
	poolfree(P(tp), v);
	ok(tp_quiet(tp, NULL), "the old block frees afterwards");
	tp_free(tp);

	tp = tp_new("room", TP_MMAP, 0);
	v = poolalloc(P(tp), 1000);
	poolalloc(P(tp), 10);
	tp_fill(v, 12, 0, 1000);
	tp->allocfail = 0;
	failed(tp, v, 1 << 20, 1000, 12, "alloc out of memory");
	tp->allocfail = -1;
	v = poolrealloc(P(tp), v, 1 << 20);
	ok(v != NULL && tp_verify(v, 12, 0, 1000) < 0, "once alloc has memory again the same call works");
	tp_free(tp);
}

enum { NH = 48 };

static void
test_random(int flags, const char *tag)
{
	TestPool *tp = tp_new(tag, TP_REGION, flags);
	char *h[NH] = { 0 };
	size_t hn[NH] = { 0 }, n, keep;
	uint64_t id[NH] = { 0 }, rs = 7 + flags;
	int i, k, bad = 0, fails = 0, same = 0, moved = 0;
	char *r;

	for (k = 0; k < 6000; k++) {
		i = tp_randn(&rs, NH);
		switch (tp_randn(&rs, 8)) {
		case 0: n = 0; break;
		case 1: n = tp_randn(&rs, 40000); break;
		default: n = tp_randn(&rs, 3000); break;
		}
		if (h[i] != NULL && tp_verify(h[i], id[i], 0, hn[i]) >= 0 && !bad++)
			tap_diag("  op %d: block %p (%zu bytes) changed", k, (void *)h[i], hn[i]);
		r = poolrealloc(P(tp), h[i], n);
		if (r == NULL && n > 0) {
			fails++;
			continue;
		}
		same += r != NULL && r == h[i];
		moved += r != NULL && h[i] != NULL && r != h[i];
		keep = n < hn[i] ? n : hn[i];
		if (h[i] == NULL)
			keep = 0;
		if (r != NULL && tp_verify(r, id[i], 0, keep) >= 0 && !bad++)
			tap_diag("  op %d: poolrealloc(%p, %zu) = %p lost contents", k, (void *)h[i], n,
			    (void *)r);
		h[i] = r;
		hn[i] = r != NULL ? n : 0;
		if (r != NULL) {
			if (keep == 0)
				id[i] = tp_rand(&rs);
			tp_fill(r, id[i], keep, n);
		}
		if (k % 500 == 0 && !tp_quiet(tp, NULL) && !bad++)
			tap_diag("  op %d: poolcheck complained", k);
	}
	ok(!bad, "%s: 6000 random poolreallocs keep the contents", tag);
	tp_is(fails, 0, "%s: none of them failed", tag);
	ok(same > 0 && moved > 0, "%s: some stayed in place (%d), some moved (%d)", tag, same, moved);
	for (i = 0; i < NH; i++)
		if (h[i] != NULL)
			poolrealloc(P(tp), h[i], 0);
	tp_is(P(tp)->curalloc, 0, "%s: curalloc is 0 after shrinking all to 0", tag);
	ok(tp_quiet(tp, NULL), "%s: poolcheck is quiet at the end", tag);
	tp_free(tp);
}

int
main(void)
{
	test_null_zero();
	test_shrink();
	test_grow_in_place();
	test_grow_left();
	test_move();
	test_failure();
	test_random(0, "random");
	test_random(POOL_ANTAGONISM, "random-antagonism");
	return tap_done();
}
