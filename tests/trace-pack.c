/*
 * tests/trace-pack.c -- the packed event pages (libpooldbg/trace-pack.c):
 * pages of made-up events decode to exactly what was put in, through
 * every branch of the format (calls and stacks that repeat or change,
 * pointers aligned or not, seq jumps, other processes and threads,
 * flags, alignments, reallocs that move, fail or free, frees that name
 * their allocation or only a pointer); and a damaged or cut page never
 * decodes into more than it holds nor reads outside it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../libpooldbg/trace-pack.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t
rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n == 0 ? rng : rng % n;
}

/* A made-up event after prev; kind picks how unusual it is. */
static void
makeevent(PackEvent *e, const PackEvent *prev, int kind)
{
	memset(e, 0, sizeof *e);
	e->seq = prev->seq + 1 + (kind == 1 ? (int64_t)rnd(1000) : 0);
	e->process = kind == 2 ? 1 + (int64_t)rnd(5) : prev->process;
	/* two threads taking turns, now and then a third */
	e->tid = kind == 3 ? 100 + (int64_t)(rnd(4) ? rnd(2) : rnd(20)) : prev->tid;
	switch (rnd(4)) {
	case 0:		/* the same time */
		e->time = prev->time;
		break;
	case 1:		/* whole microseconds later (or earlier) */
		e->time = prev->time + rnd(100) * 1000 - (kind == 4 ? 50000 : 0);
		break;
	default:
		e->time = prev->time + rnd(5000) - (kind == 4 ? 2500 : 0);
		break;
	}
	e->type = 1 + (int)rnd(3);
	e->call = rnd(4) == 0 ? (int)rnd(24) : prev->call;
	e->stack = rnd(3) == 0 ? rnd(1 << 20) : prev->stack;
	e->flags = kind == 5 ? (int)rnd(8) : 0;
	e->align = kind == 6 ? 1ull << rnd(13) : 0;
	e->ptr = 0x7f0000000000ull + rnd(1 << 24) * 16 + (kind == 7 ? rnd(16) : 0);
	switch (e->type) {
	case 1:
		e->size = rnd(10) == 0 ? rnd(0) >> 20 : rnd(4096);
		break;
	case 2:
		e->back = rnd(2) ? (int64_t)rnd((uint64_t)e->seq) : 0;
		if (e->back != 0)
			e->ptr = 0;	/* the reader fills it from the allocation */
		e->size = (e->flags & 4) ? rnd(4096) : 0;
		break;
	case 3:
		e->back = rnd(2) ? (int64_t)rnd((uint64_t)e->seq) : 0;
		if (e->back != 0)
			e->ptr = 0;
		e->newptr = rnd(4) == 0 ? 0 : rnd(2) ? e->ptr : 0x7e0000000000ull + rnd(1 << 20) * 16 +
		    (kind == 8 ? 8 : 0);
		e->size = rnd(1 << 16);
		break;
	}
}

static int
same(const PackEvent *a, const PackEvent *b)
{
	return a->seq == b->seq && a->process == b->process && a->time == b->time &&
	    a->tid == b->tid && a->type == b->type && a->call == b->call && a->flags == b->flags &&
	    a->ptr == b->ptr && a->newptr == b->newptr && a->size == b->size &&
	    a->align == b->align && a->stack == b->stack && a->back == b->back;
}

int
main(void)
{
	static PackEvent in[PACK_MAXEVENTS], out[PACK_MAXEVENTS];
	uint8_t *buf, *bad;
	PackEvent prev;
	PackPage pg;
	PackState st;
	int round, n, i, m, wrong, firstwrong, crashes, over;
	size_t cut;

	buf = malloc(PACK_MAXBYTES + PACK_EVMAX);
	bad = malloc(PACK_MAXBYTES + PACK_EVMAX);
	if (buf == NULL || bad == NULL)
		tap_bail("out of memory");
	pg.buf = buf;
	for (round = 0; round < 3; round++) {
		pack_reset(&pg);
		memset(&prev, 0, sizeof prev);
		prev.seq = 1000 * round;
		prev.process = 1;
		prev.tid = 100;
		prev.time = 1000000;
		for (n = 0; n < PACK_MAXEVENTS && !pack_full(&pg); n++) {
			makeevent(&in[n], &prev, round == 0 ? 0 : (int)rnd(10));
			pack_put(&pg, &in[n]);
			prev = in[n];
		}
		m = pack_decode(pg.buf, pg.len, pg.first, out, PACK_MAXEVENTS, &st);
		wrong = 0;
		firstwrong = -1;
		for (i = 0; i < n && i < m; i++)
			if (!same(&in[i], &out[i])) {
				if (firstwrong < 0)
					firstwrong = i;
				wrong++;
			}
		ok(m == n && wrong == 0, "round %d: %d events in %zu bytes decode as put (%d back, %d wrong, first at %d)",
		    round, n, pg.len, m, wrong, firstwrong);
		ok(st.seq == in[n - 1].seq && st.time == in[n - 1].time && st.tid == in[n - 1].tid,
		    "round %d: the state after the last event is its own", round);
		/* appending from the decoded state continues the page as if it had never stopped */
		if (n > 2) {
			pack_reset(&pg);
			for (i = 0; i < n - 1; i++)
				pack_put(&pg, &in[i]);
			m = pack_decode(pg.buf, pg.len, pg.first, out, PACK_MAXEVENTS, &st);
			pg.st = st;
			pack_put(&pg, &in[n - 1]);
			m = pack_decode(pg.buf, pg.len, pg.first, out, PACK_MAXEVENTS, NULL);
			ok(m == n && same(&out[n - 1], &in[n - 1]), "round %d: an event appended to a decoded page reads back", round);
		}
	}
	/* a cut page decodes to an error or to the events wholly before the cut, as put */
	over = 0;
	for (cut = 0; cut < pg.len; cut += 7) {
		m = pack_decode(pg.buf, cut, pg.first, out, PACK_MAXEVENTS, NULL);
		if (m > n)
			over++;
		for (i = 0; i < m && i < n; i++)
			if (!same(&in[i], &out[i])) {
				over++;
				break;
			}
	}
	ok(over == 0, "every cut of the page decodes to an error or to a prefix of its events (%d not)", over);
	/* damage: an error, or at most one event per byte, never a read outside the page */
	crashes = 0;
	for (round = 0; round < 2000; round++) {
		memcpy(bad, pg.buf, pg.len);
		for (i = 0; i < 4; i++)
			bad[rnd(pg.len)] = (uint8_t)rnd(256);
		m = pack_decode(bad, pg.len, pg.first, out, PACK_MAXEVENTS, NULL);
		if (m > (int)pg.len)
			crashes++;
	}
	ok(crashes == 0, "2000 damaged pages decode to an error or to at most one event a byte");
	memset(bad, 0xff, 64);
	ok(pack_decode(bad, 64, 1, out, PACK_MAXEVENTS, NULL) < 0, "a page of 0xff bytes is damaged");
	bad[0] = 0x61;	/* no time and a time in microseconds */
	ok(pack_decode(bad, 1, 1, out, PACK_MAXEVENTS, NULL) < 0, "bits 5 and 6 both set are damage");
	ok(pack_decode(pg.buf, pg.len, pg.first, out, 3, NULL) < 0, "more events than the reader has room for is an error");
	free(buf);
	free(bad);
	return tap_done();
}
