/*
 * tests/pool-compact.c -- poolcompact and the move callback.
 *
 * Without p->move, or without a poolfree since the last compaction,
 * poolcompact returns 0 and moves nothing.  Otherwise it slides allocated
 * blocks down, telling p->move(from, to) after the contents moved; the test
 * keeps a handle table that the move callback updates and checks every
 * handle's contents, that blocks only moved down, that the free space of
 * the arena ends up in one piece (a request for nearly all of it fits
 * without a new arena), that aligned and NOREUSE dead blocks stay put, and
 * that poolalloc compacts once by itself when maxsize stops it.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

enum { NB = 400 };

struct Handle {
	char	*v;
	size_t	n;
	uint64_t id;
	int	aligned;
};

static struct Handle h[NB];
static int nh;
static int badmove;	/* moves of unknown pointers, upwards, or before the data */
static int nmoved;

/* The move callback: finds the handle, checks it moved down with its contents. */
static void
onmove(TestPool *tp, void *from, void *to)
{
	int i;

	(void)tp;
	nmoved++;
	for (i = 0; i < nh; i++)
		if (h[i].v == from)
			break;
	if (i == nh) {
		if (!badmove++)
			tap_diag("  move of unknown %p", from);
		return;
	}
	if (((char *)to >= (char *)from || h[i].aligned ||
	    tp_verify(to, h[i].id, 0, h[i].n) >= 0) && !badmove++)
		tap_diag("  move %p -> %p of handle %d (aligned %d)", from, to, i, h[i].aligned);
	h[i].v = to;
}

/* Allocates handle i with n bytes (aligned to 256 when align) and fills it. */
static void
take(TestPool *tp, int i, size_t n, int align)
{
	h[i].v = align ? poolallocalign(P(tp), n, 256, 0, 0) : poolalloc(P(tp), n);
	h[i].n = n;
	h[i].id = 1000 + i;
	h[i].aligned = align;
	if (h[i].v != NULL)
		tp_fill(h[i].v, h[i].id, 0, n);
}

static void
drop(TestPool *tp, int i)
{
	poolfree(P(tp), h[i].v);
	h[i].v = NULL;
}

/* Handles whose contents are not what was written. */
static int
damaged(void)
{
	int i, bad = 0;

	for (i = 0; i < nh; i++)
		if (h[i].v != NULL && tp_verify(h[i].v, h[i].id, 0, h[i].n) >= 0)
			bad++;
	return bad;
}

static TestPool *
setup(const char *tag, int flags, int withmove)
{
	TestPool *tp = tp_new(tag, TP_REGION, flags);

	P(tp)->minarena = 1 << 20;	/* everything in one arena */
	if (withmove)
		tp_setmove(tp, onmove);
	nh = NB;
	badmove = 0;
	nmoved = 0;
	memset(h, 0, sizeof h);
	return tp;
}

static void
test_noop(void)
{
	TestPool *tp;
	char *old[NB];
	int i, same;

	tp = setup("nomove", 0, 0);
	for (i = 0; i < NB; i++)
		take(tp, i, 100 + i, 0);
	for (i = 0; i < NB; i += 2)
		drop(tp, i);
	for (i = 0; i < NB; i++)
		old[i] = h[i].v;
	tp_is(poolcompact(P(tp)), 0, "poolcompact without p->move returns 0");
	for (i = same = 0; i < NB; i++)
		same += old[i] == h[i].v;
	tp_is(same, NB, "... and moved nothing");
	tp_is(damaged(), 0, "... contents intact");
	ok(tp_quiet(tp, NULL), "... poolcheck is quiet");
	tp_free(tp);

	tp = setup("nofree", 0, 1);
	for (i = 0; i < 50; i++)
		take(tp, i, 100, 0);
	nh = 50;
	tp_is(poolcompact(P(tp)), 0, "poolcompact with no poolfree ever returns 0");
	tp_is(nmoved, 0, "... and calls move never");
	drop(tp, 10);
	ok(poolcompact(P(tp)) != 0, "after a poolfree it compacts");
	tp_is(P(tp)->lastcompact, P(tp)->nfree, "lastcompact is set to nfree");
	nmoved = 0;
	tp_is(poolcompact(P(tp)), 0, "poolcompact again without a poolfree returns 0");
	tp_is(nmoved, 0, "... and calls move never");
	tp_is(damaged(), 0, "contents intact");
	tp_is(badmove, 0, "every move went down, after the contents");
	tp_free(tp);
}

static void
test_compact(int flags, const char *tag)
{
	TestPool *tp = setup(tag, flags, 1);
	char *old[NB], *big;
	int i, down, same, alive, naligned, alignstay;
	unsigned long na;
	uintptr_t free0;
	uint64_t rs = 99;
	size_t want;

	for (i = 0; i < NB; i++)
		take(tp, i, 16 + tp_randn(&rs, 1500), i % 37 == 5);
	for (i = 0; i < NB; i++)
		if (h[i].v == NULL)
			break;
	tp_is(i, NB, "%s: %d blocks allocated", tag, NB);
	tp_is(tp->nallocok, 1, "%s: all in one arena", tag);
	for (i = 0; i < NB; i += 2)
		if (!h[i].aligned)
			drop(tp, i);
	for (i = 0; i < NB; i++)
		old[i] = h[i].v;
	free0 = P(tp)->curfree;
	if (flags & POOL_NOREUSE) {
		/* freed blocks are dead, not free: there is no hole to slide into */
		tp_is(poolcompact(P(tp)), 0, "%s: poolcompact with only dead holes returns 0", tag);
		tp_is(nmoved, 0, "%s: it moved nothing", tag);
	} else {
		ok(poolcompact(P(tp)) != 0, "%s: poolcompact after freeing every other block returns nonzero",
		    tag);
		ok(nmoved > 0, "%s: it moved %d blocks", tag, nmoved);
	}
	tp_is(badmove, 0, "%s: every move was of a known, unaligned block, down, contents already there", tag);
	tp_is(damaged(), 0, "%s: every handle's contents are intact", tag);
	for (i = down = same = alive = naligned = alignstay = 0; i < NB; i++) {
		if (h[i].v == NULL)
			continue;
		alive++;
		down += h[i].v <= old[i];
		same += h[i].v == old[i];
		naligned += h[i].aligned;
		if (h[i].aligned)
			alignstay += h[i].v == old[i];
	}
	tp_is(down, alive, "%s: no handle moved up", tag);
	if (!(flags & POOL_NOREUSE))
		ok(same < down, "%s: handles moved down (%d of %d)", tag, down - same, alive);
	ok(naligned > 0 && alignstay == naligned, "%s: the %d aligned blocks stayed put", tag, naligned);
	tp_is(P(tp)->curfree, free0, "%s: the free space did not change in size", tag);
	ok(tp_quiet(tp, NULL), "%s: poolcheck is quiet", tag);
	tp_is(P(tp)->lastcompact, P(tp)->nfree, "%s: lastcompact is nfree", tag);
	for (i = 0; i < NB; i++)
		if (h[i].v != NULL && !poolisoverlap(P(tp), h[i].v, 1))
			break;
	tp_is(i, NB, "%s: every handle is in the pool", tag);

	if (!(flags & POOL_NOREUSE)) {
		/* the free space is in as few pieces as the aligned blocks allow: the last gap is big */
		want = P(tp)->curfree;
		na = tp->nalloc;
		big = poolalloc(P(tp), want / 2);
		ok(big != NULL, "%s: half the free space (%zu bytes) in one block", tag, want / 2);
		tp_is(tp->nalloc, na, "%s: without a new arena", tag);
		poolfree(P(tp), big);
	}
	for (i = 0; i < NB; i++)
		if (h[i].v != NULL)
			drop(tp, i);
	tp_is(P(tp)->curalloc, 0, "%s: curalloc is 0 after freeing all", tag);
	ok(tp_quiet(tp, NULL), "%s: poolcheck is quiet at the end", tag);
	tp_free(tp);
}

static void
test_onepiece(void)
{
	TestPool *tp = setup("onepiece", 0, 1);
	unsigned long na;
	size_t want;
	char *big;
	int i;

	for (i = 0; i < NB; i++)
		take(tp, i, 200 + (i % 7) * 100, 0);
	for (i = 0; i < NB; i += 2)
		drop(tp, i);
	ok(poolcompact(P(tp)) != 0, "onepiece: poolcompact moved blocks");
	tp_is(damaged(), 0, "onepiece: contents intact");
	want = P(tp)->curfree - 32 - 64;
	na = tp->nalloc;
	big = poolalloc(P(tp), want);
	ok(big != NULL, "onepiece: nearly all the free space (%zu of %ju) in one block", want,
	    (uintmax_t)P(tp)->curfree);
	tp_is(tp->nalloc, na, "onepiece: without a new arena");
	if (big != NULL)
		memset(big, 'b', want);
	ok(tp_quiet(tp, NULL), "onepiece: poolcheck is quiet");
	tp_is(damaged(), 0, "onepiece: contents intact after filling the big block");
	tp_free(tp);
}

static void
test_auto(void)
{
	TestPool *tp = setup("auto", 0, 1);
	size_t want;
	char *big;
	int i;

	P(tp)->minarena = 256 << 10;
	for (i = 0; i < 200; i++)
		take(tp, i, 1000, 0);
	nh = 200;
	P(tp)->maxsize = P(tp)->cursize;	/* no second arena */
	for (i = 0; i < 200; i += 2)
		drop(tp, i);
	want = P(tp)->curfree / 2;
	nmoved = 0;
	errno = 0;
	big = poolalloc(P(tp), want);
	ok(big != NULL, "with maxsize reached, a request that needs compaction succeeds");
	ok(nmoved > 0, "... poolalloc compacted by itself (%d moves)", nmoved);
	tp_is(tp->nallocok, 1, "... within the one arena");
	tp_is(damaged(), 0, "... contents intact");
	tp_is(badmove, 0, "... every move went down");
	ok(tp_quiet(tp, NULL), "... poolcheck is quiet");
	tp_free(tp);
}

int
main(void)
{
	test_noop();
	test_compact(0, "compact");
	test_compact(POOL_ANTAGONISM, "compact-antagonism");
	test_compact(POOL_NOREUSE, "compact-noreuse");
	test_compact(POOL_PARANOIA, "compact-paranoia");
	test_onepiece();
	test_auto();
	return tap_done();
}
