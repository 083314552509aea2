/*
 * libpooldbg/trace-pack.c -- encoding and decoding the packed event pages
 * of trace-pack.h.  An event is one byte of type and of what it does not
 * share with the event of its type before it (call, stack, pointers
 * aligned to 16), an extension byte only when its process, thread, seq
 * step, flags or alignment differ from the plain case (a thread that
 * comes back after one other takes no more: it swaps back, with its own
 * pointer to take deltas from), then varints:
 * the call if new, time as a signed delta from the event before it (none
 * when it is 0, in microseconds when it is a whole number of them), the
 * stack as a signed delta if new, and per type the pointer as a signed
 * delta in 16-byte units where it can be (or, for a free, the distance
 * back to the event that began the lifetime it ends), the new pointer and
 * the size.
 *
 * Must never: allocate, call SQLite, or read outside the bytes it is
 * given: a damaged page decodes to an error, never a crash.
 */
#include "config.h"

#include <string.h>

#include "trace-pack.h"

/* ---- varints: 7 bits a byte, low first, 0x80 when more follow ---- */

static uint8_t *
putv(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint8_t *
putz(uint8_t *p, int64_t v)
{
	return putv(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* The varint at *p (below end) into *v; 0, or -1 if it runs off the end or is too long. */
static int
getv(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q;
	uint64_t r;
	int shift;

	q = *p;
	r = 0;
	for (shift = 0; shift < 64; shift += 7) {
		if (q >= end)
			return -1;
		r |= (uint64_t)(*q & 0x7f) << shift;
		if ((*q++ & 0x80) == 0) {
			*p = q;
			*v = r;
			return 0;
		}
	}
	return -1;
}

static int
getz(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	uint64_t u;

	if (getv(p, end, &u) < 0)
		return -1;
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}

void
pack_reset(PackPage *p)
{
	p->len = 0;
	p->first = 0;
	p->count = 0;
	memset(&p->st, 0, sizeof p->st);
}

int
pack_full(const PackPage *p)
{
	return p->count >= PACK_MAXEVENTS || p->len >= PACK_MAXBYTES;
}

/* Whether every pointer delta of e (from the state s) is a multiple of 16. */
static int
in16(const PackEvent *e, const PackState *s)
{
	uint64_t or, prev;

	or = 0;
	prev = s->ptr;
	if (e->type == 1 || e->back == 0) {
		or |= e->ptr - prev;
		prev = e->ptr;
	}
	if (e->type == 3)
		or |= e->newptr - prev;
	return (or & 15) == 0;
}

/* A pointer delta in the event's units. */
static uint8_t *
putp(uint8_t *q, uint64_t d, int bytes)
{
	return putz(q, bytes ? (int64_t)d : (int64_t)d >> 4);
}

void
pack_put(PackPage *p, const PackEvent *e)
{
	uint8_t *q, *h, x;
	PackState *s;
	uint64_t u;
	int64_t dt;
	int t, bytes, swap;

	s = &p->st;
	if (p->count == 0) {
		p->first = e->seq;
		s->seq = e->seq - 1;
	}
	/* a change of thread first: the pointer deltas are from the new thread's pointer */
	swap = 0;
	if (e->tid != s->tid) {
		if (s->tid2 != 0 && e->tid == s->tid2) {
			swap = 1;
			s->tid2 = s->tid;
			s->tid = e->tid;
			u = s->ptr2;
			s->ptr2 = s->ptr;
			s->ptr = u;
		} else {
			s->tid2 = s->tid;
			s->ptr2 = s->ptr;
		}
	}
	t = e->type & PACK_TYPEMASK;
	q = p->buf + p->len;
	h = q++;
	*h = (uint8_t)t;
	if (e->call != s->call[t])
		*h |= PACK_H_CALL;
	if (e->stack != s->stack[t])
		*h |= PACK_H_STACK;
	bytes = !in16(e, s);
	if (bytes)
		*h |= PACK_H_BYTES;
	x = 0;
	if (e->seq != s->seq + 1)
		x |= PACK_X_SEQ;
	if (e->process != s->process)
		x |= PACK_X_PROCESS;
	if (swap)
		x |= PACK_X_TIDSWAP;
	else if (e->tid != s->tid)
		x |= PACK_X_TID;
	if (e->flags != 0)
		x |= PACK_X_FLAGS;
	if (e->align != 0)
		x |= PACK_X_ALIGN;
	if (x != 0) {
		*h |= PACK_EXT;
		*q++ = x;
		if (x & PACK_X_SEQ)
			q = putv(q, (uint64_t)(e->seq - s->seq - 1));
		if (x & PACK_X_PROCESS)
			q = putv(q, (uint64_t)e->process);
		if (x & PACK_X_TID)
			q = putz(q, e->tid - s->tid);
		if (x & PACK_X_FLAGS)
			q = putv(q, (uint64_t)e->flags);
		if (x & PACK_X_ALIGN)
			q = putv(q, e->align);
	}
	dt = (int64_t)(e->time - s->time);
	if (dt == 0)
		*h |= PACK_H_SAMETIME;
	else if (dt % 1000 == 0)
		*h |= PACK_H_USEC;
	if (*h & PACK_H_CALL)
		q = putv(q, (uint64_t)e->call);
	if (*h & PACK_H_USEC)
		q = putz(q, dt / 1000);
	else if (!(*h & PACK_H_SAMETIME))
		q = putz(q, dt);
	if (*h & PACK_H_STACK)
		q = putz(q, (int64_t)(e->stack - s->stack[t]));
	switch (t) {
	case 1:		/* alloc: ptr, size */
		q = putp(q, e->ptr - s->ptr, bytes);
		s->ptr = e->ptr;
		q = putv(q, e->size);
		break;
	case 2:		/* free: back, or 0 and ptr; size if sized */
		q = putv(q, (uint64_t)e->back);
		if (e->back == 0) {
			q = putp(q, e->ptr - s->ptr, bytes);
			s->ptr = e->ptr;
		}
		if (e->flags & 4)
			q = putv(q, e->size);
		break;
	case 3:		/* realloc: back, or 0 and ptr; newptr, size */
		q = putv(q, (uint64_t)e->back);
		if (e->back == 0) {
			q = putp(q, e->ptr - s->ptr, bytes);
			s->ptr = e->ptr;
		}
		q = putp(q, e->newptr - s->ptr, bytes);
		if (e->newptr != 0)
			s->ptr = e->newptr;
		q = putv(q, e->size);
		break;
	default:	/* another type: ptr and size, kept as they are */
		q = putz(q, (int64_t)(e->ptr - s->ptr));
		q = putv(q, e->size);
		break;
	}
	s->seq = e->seq;
	s->process = e->process;
	s->tid = e->tid;
	s->time = e->time;
	s->call[t] = e->call;
	s->stack[t] = e->stack;
	p->len = (size_t)(q - p->buf);
	p->count++;
}

/* A pointer delta in the event's units, read. */
static int
getp(const uint8_t **p, const uint8_t *end, int bytes, uint64_t *d)
{
	int64_t z;

	if (getz(p, end, &z) < 0)
		return -1;
	*d = bytes ? (uint64_t)z : (uint64_t)z << 4;
	return 0;
}

int
pack_decode(const uint8_t *data, size_t len, int64_t first, PackEvent *ev, int max,
    PackState *st)
{
	const uint8_t *p, *end;
	PackState s;
	PackEvent *e;
	uint64_t u, d;
	int64_t z;
	uint8_t h, x;
	int n, t, bytes;

	memset(&s, 0, sizeof s);
	s.seq = first - 1;
	p = data;
	end = data + len;
	for (n = 0; p < end; n++) {
		if (n >= max)
			return -1;
		e = &ev[n];
		memset(e, 0, sizeof *e);
		h = *p++;
		if ((h & PACK_H_SAMETIME) && (h & PACK_H_USEC))
			return -1;
		t = h & PACK_TYPEMASK;
		e->type = t;
		bytes = (h & PACK_H_BYTES) != 0;
		x = (h & PACK_EXT) ? (p < end ? *p++ : 0xff) : 0;
		if ((x & 0xc0) || ((x & PACK_X_TID) && (x & PACK_X_TIDSWAP)) ||
		    ((x & PACK_X_TIDSWAP) && s.tid2 == 0))
			return -1;
		e->seq = s.seq + 1;
		e->process = s.process;
		e->tid = s.tid;
		if (x & PACK_X_SEQ) {
			if (getv(&p, end, &u) < 0)
				return -1;
			e->seq += (int64_t)u;
		}
		if (x & PACK_X_PROCESS) {
			if (getv(&p, end, &u) < 0)
				return -1;
			e->process = (int64_t)u;
		}
		if (x & PACK_X_TID) {
			if (getz(&p, end, &z) < 0)
				return -1;
			e->tid = s.tid + z;
			s.tid2 = s.tid;
			s.ptr2 = s.ptr;
		}
		if (x & PACK_X_TIDSWAP) {
			e->tid = s.tid2;
			s.tid2 = s.tid;
			d = s.ptr2;
			s.ptr2 = s.ptr;
			s.ptr = d;
		}
		if (x & PACK_X_FLAGS) {
			if (getv(&p, end, &u) < 0)
				return -1;
			e->flags = (int)u;
		}
		if ((x & PACK_X_ALIGN) && getv(&p, end, &e->align) < 0)
			return -1;
		e->call = s.call[t];
		if (h & PACK_H_CALL) {
			if (getv(&p, end, &u) < 0 || u > 255)
				return -1;
			e->call = (int)u;
		}
		z = 0;
		if (!(h & PACK_H_SAMETIME) && getz(&p, end, &z) < 0)
			return -1;
		e->time = s.time + (uint64_t)z * (h & PACK_H_USEC ? 1000 : 1);
		e->stack = s.stack[t];
		if (h & PACK_H_STACK) {
			if (getz(&p, end, &z) < 0)
				return -1;
			e->stack += (uint64_t)z;
		}
		switch (t) {
		case 1:
			if (getp(&p, end, bytes, &d) < 0 || getv(&p, end, &e->size) < 0)
				return -1;
			e->ptr = s.ptr + d;
			s.ptr = e->ptr;
			break;
		case 2:
		case 3:
			if (getv(&p, end, &u) < 0)
				return -1;
			e->back = (int64_t)u;
			if (u == 0) {
				if (getp(&p, end, bytes, &d) < 0)
					return -1;
				e->ptr = s.ptr + d;
				s.ptr = e->ptr;
			}
			if (t == 2) {
				if ((e->flags & 4) && getv(&p, end, &e->size) < 0)
					return -1;
				break;
			}
			if (getp(&p, end, bytes, &d) < 0 || getv(&p, end, &e->size) < 0)
				return -1;
			e->newptr = s.ptr + d;
			if (e->newptr != 0)
				s.ptr = e->newptr;
			break;
		default:
			if (getz(&p, end, &z) < 0 || getv(&p, end, &e->size) < 0)
				return -1;
			e->ptr = s.ptr + (uint64_t)z;
			break;
		}
		if (e->back < 0 || e->back >= e->seq)
			return -1;
		s.seq = e->seq;
		s.process = e->process;
		s.tid = e->tid;
		s.time = e->time;
		s.call[t] = e->call;
		s.stack[t] = e->stack;
	}
	if (st != NULL)
		*st = s;
	return n;
}
