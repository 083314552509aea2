/*
 * libpooldbg/trace-pack.c -- encoding and decoding the packed event pages
 * of trace-pack.h.  An event is one byte of type and call, an extension
 * byte only when its process, thread, seq step, flags or alignment differ
 * from the plain case, then varints: time as a signed delta from the
 * event before it, the stack, and per type the pointer as a signed delta
 * (or, for a free, the distance back to the event that began the lifetime
 * it ends), the new pointer and the size.
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

void
pack_put(PackPage *p, const PackEvent *e)
{
	uint8_t *q, *h, x;
	PackState *s;

	s = &p->st;
	if (p->count == 0) {
		p->first = e->seq;
		s->seq = e->seq - 1;
	}
	q = p->buf + p->len;
	h = q++;
	*h = (uint8_t)((e->call >= 0 && e->call < PACK_CALLMASK ? e->call : PACK_CALLMASK) |
	    (e->type & 3) << PACK_TYPESHIFT);
	x = 0;
	if (e->seq != s->seq + 1)
		x |= PACK_X_SEQ;
	if (e->process != s->process)
		x |= PACK_X_PROCESS;
	if (e->tid != s->tid)
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
	if ((*h & PACK_CALLMASK) == PACK_CALLMASK)
		q = putv(q, (uint64_t)e->call);
	q = putz(q, (int64_t)(e->time - s->time));
	q = putv(q, e->stack);
	switch (e->type) {
	case 1:		/* alloc: ptr, size */
		q = putz(q, (int64_t)(e->ptr - s->ptr));
		s->ptr = e->ptr;
		q = putv(q, e->size);
		break;
	case 2:		/* free: back, or 0 and ptr; size if sized */
		q = putv(q, (uint64_t)e->back);
		if (e->back == 0) {
			q = putz(q, (int64_t)(e->ptr - s->ptr));
			s->ptr = e->ptr;
		}
		if (e->flags & 4)
			q = putv(q, e->size);
		break;
	case 3:		/* realloc: back, or 0 and ptr; newptr, size */
		q = putv(q, (uint64_t)e->back);
		if (e->back == 0) {
			q = putz(q, (int64_t)(e->ptr - s->ptr));
			s->ptr = e->ptr;
		}
		q = putz(q, (int64_t)(e->newptr - s->ptr));
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
	p->len = (size_t)(q - p->buf);
	p->count++;
}

int
pack_decode(const uint8_t *data, size_t len, int64_t first, PackEvent *ev, int max,
    PackState *st)
{
	const uint8_t *p, *end;
	PackState s;
	PackEvent *e;
	uint64_t u;
	int64_t z;
	uint8_t h, x;
	int n;

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
		e->call = h & PACK_CALLMASK;
		e->type = h >> PACK_TYPESHIFT & 3;
		x = (h & PACK_EXT) ? (p < end ? *p++ : 0xff) : 0;
		if (x & 0xe0)
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
		}
		if (x & PACK_X_FLAGS) {
			if (getv(&p, end, &u) < 0)
				return -1;
			e->flags = (int)u;
		}
		if ((x & PACK_X_ALIGN) && getv(&p, end, &e->align) < 0)
			return -1;
		if (e->call == PACK_CALLMASK) {
			if (getv(&p, end, &u) < 0)
				return -1;
			e->call = (int)u;
		}
		if (getz(&p, end, &z) < 0 || getv(&p, end, &e->stack) < 0)
			return -1;
		e->time = s.time + (uint64_t)z;
		switch (e->type) {
		case 1:
			if (getz(&p, end, &z) < 0 || getv(&p, end, &e->size) < 0)
				return -1;
			e->ptr = s.ptr + (uint64_t)z;
			s.ptr = e->ptr;
			break;
		case 2:
		case 3:
			if (getv(&p, end, &u) < 0)
				return -1;
			e->back = (int64_t)u;
			if (u == 0) {
				if (getz(&p, end, &z) < 0)
					return -1;
				e->ptr = s.ptr + (uint64_t)z;
				s.ptr = e->ptr;
			}
			if (e->type == 2) {
				if ((e->flags & 4) && getv(&p, end, &e->size) < 0)
					return -1;
				break;
			}
			if (getz(&p, end, &z) < 0 || getv(&p, end, &e->size) < 0)
				return -1;
			e->newptr = s.ptr + (uint64_t)z;
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
	}
	if (st != NULL)
		*st = s;
	return n;
}
