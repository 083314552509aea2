/*
 * libpooldbg/runtime-error.c -- heap errors in a traced process: the
 * default pool's print and panic callbacks, what a report of the pool
 * means (its kind, the block, the offset of the damage, a dump of the
 * bytes around it), the REC_ERROR record, and whether the program goes
 * on.
 *
 * How an error ends.  The pool notes what it was looking at (PoolFault)
 * and calls its panic.  Here the fault is classified by looking at the
 * block itself (pool-impl.h's layout, as pool-walk.c does), recorded
 * with the stack of the operation that found it, and then either:
 *   - the heap is still sound (a pointer that is no block; a block whose
 *     header or tail can be put right from what is left of it; a freed
 *     block whose fill changed): the damage is repaired so the pool's
 *     walks step over it, the block is set aside (a free of it is
 *     dropped, a dead block is never recycled), the pool is unlocked and
 *     the operation jumps back to the ErrTry its shim set, which returns
 *     as the operation would have failed;
 *   - or not (the arena list, the free tree, a free block's links, a
 *     header that cannot be placed), or --abort-on-error, or no shim is
 *     there to go back to: the record says fatal and the process aborts
 *     through the old panic, which prints the pool's panic line.
 * POOL_TOLERANCE's forgiven NUL arrives as a print, not a panic: it is
 * recorded as a notice, and the program goes on.
 *
 * The pool's lines that belong to a report are kept for the record's
 * message and not echoed on fd 2: the recorder prints the report.  Its
 * other lines go to the recorder too (REC_PRINT), never to the program's
 * own stderr, which may be its output.
 *
 * Must never: allocate, use stdio streams, or jump out while the ring
 * lock is held.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>	/* vsnprintf only: never a FILE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#include "pool-impl.h"
#include "runtime.h"

enum {
	DUMPSIZE	= 3072,		/* pool print lines kept for a report */
	MSGSIZE		= 1024,
	TAGBYTES	= 2 * sizeof(uintptr_t),	/* malloc.c's tag words before the user pointer */
	NASIDE		= 1024,		/* dead blocks set aside, remembered */
};

/* pool-check.c's guard bytes (hidden in libpooldbg.so), by address mod 4 */
static const uchar guardbytes[4] = { 0xFE, 0xF1, 0xF0, 0xFA };

__thread ErrTry *err_try RT_TLS;
static __thread int quiet RT_TLS;	/* the dump lines of a notice follow: not echoed */
static __thread uintptr_t faultpc RT_TLS;	/* the faulting instruction, in a fault handler */

void
err_setfaultpc(uintptr_t pc)
{
	faultpc = pc;
}

static struct {
	void	(*oldunlock)(Pool *);
	void	(*oldpanic)(Pool *, const char *, ...);
	char	dump[DUMPSIZE];	/* the pool's last lines (pool lock held) */
	size_t	dumplen;
	int	abortonerror;
	uintptr_t poollo, poolhi;	/* libpooldbg.so: its frames are left out of a report's stack */
	const void *aside[NASIDE];
	_Atomic int naside;
} er;

/* What a fault turned out to be. */
typedef struct Fault Fault;
struct Fault {
	int	kind;		/* ERR_* */
	unsigned flags;		/* ERRF_* */
	uintptr_t ptr, block, size, dumpat;
	long	offset;
	int	sound;		/* the heap is sound again (after repair) */
	uintptr_t dumpaddr;	/* the bytes as they were found, before any repair */
	int	dumplen;
	uint8_t	dump[ERR_DUMPMAX];
};

int
err_abortonerror(void)
{
	return er.abortonerror;
}

void
err_setaside(const void *b)
{
	int i;

	i = atomic_fetch_add(&er.naside, 1);
	if (i < NASIDE)
		er.aside[i] = b;
}

int
err_isaside(const void *b)
{
	int i, n;

	n = atomic_load(&er.naside);
	for (i = 0; i < n && i < NASIDE; i++)
		if (er.aside[i] == b)
			return 1;
	return 0;
}

/* ---- the record --------------------------------------------------------- */

/* Copy up to ERR_DUMPMAX bytes around at, inside [lo, hi), into r. */
static void
dumpbytes(RecError *r, uintptr_t at, uintptr_t lo, uintptr_t hi)
{
	uintptr_t s, e;

	r->dumplen = 0;
	r->dumpaddr = 0;
	if (at == 0 || lo >= hi || at < lo || at >= hi)
		return;
	s = (at - 32) & ~(uintptr_t)15;
	if (at < 32 || s < lo)
		s = lo;
	e = s + ERR_DUMPMAX > hi ? hi : s + ERR_DUMPMAX;
	memcpy(r->dump, (const void *)s, e - s);
	r->dumpaddr = s;
	r->dumplen = (uint16_t)(e - s);
}

/* Keep the bytes around f->dumpat, inside [lo, hi), as they are now (before a repair). */
static void
snap(Fault *f, uintptr_t lo, uintptr_t hi)
{
	RecError r;

	dumpbytes(&r, f->dumpat, lo, hi);
	f->dumpaddr = r.dumpaddr;
	f->dumplen = r.dumplen;
	memcpy(f->dump, r.dump, r.dumplen);
}

/* The frames of the runtime and of the pool, innermost, left out: the program's code is what a report shows. */
static int
program(uintptr_t *pcs, int n)
{
	int i, k;

	for (i = n; i > 0; i--)
		if (unwind_isself(pcs[i - 1]) || (pcs[i - 1] >= er.poollo && pcs[i - 1] < er.poolhi))
			break;
	if (i == 0)
		return n;
	for (k = 0; i < n; i++, k++)
		pcs[k] = pcs[i];
	return k;
}

/* Write one REC_ERROR of f with the message msg (len bytes, no NUL); dump from [lo, hi). */
static void
emit(const Fault *f, unsigned call, const char *msg, size_t len, uintptr_t lo, uintptr_t hi)
{
	static char buf[sizeof(RecError) + DUMPSIZE + MSGSIZE + 16];
	uintptr_t pcs[RT_MAXDEPTH];
	RecError *r;
	int i, n, nested, tid;

	if (len > DUMPSIZE + MSGSIZE)
		len = DUMPSIZE + MSGSIZE;
	rt_inside++;
	n = program(pcs, rt_unwind(pcs));
	if (faultpc != 0) {
		/* a fault: the stack starts at the faulting instruction, past the signal frame */
		for (i = 0; i < n && pcs[i] != faultpc; i++)
			;
		if (i < n) {
			memmove(pcs, pcs + i, (size_t)(n - i) * sizeof pcs[0]);
			n -= i;
			pcs[0]++;	/* read as a return address (pc - 1) like every other frame */
		}
	}
	tid = rt_gettid();
	nested = rt_lock();
	if (rt_state == RT_LIVE) {
		r = (RecError *)buf;
		memset(r, 0, sizeof *r);
		r->h.type = REC_ERROR;
		r->h.len = REC_ALIGN(sizeof *r + len + 1);
		memcpy(buf + sizeof *r, msg, len);
		memset(buf + sizeof *r + len, 0, r->h.len - (sizeof *r + len));
		r->time = rt_now();
		r->ptr = f->ptr;
		r->block = f->block;
		r->size = f->size;
		r->offset = f->offset;
		r->stack = rt_internl(pcs, n);
		r->tid = tid;
		r->kind = (uint16_t)f->kind;
		r->flags = (uint16_t)f->flags;
		r->call = (uint16_t)call;
		if (f->dumplen > 0) {
			memcpy(r->dump, f->dump, (size_t)f->dumplen);
			r->dumpaddr = f->dumpaddr;
			r->dumplen = (uint16_t)f->dumplen;
		} else
			dumpbytes(r, f->dumpat, lo, hi);
		r->msglen = (uint32_t)len + 1;
		rt_putl(r, r->h.len);
	}
	rt_unlock(nested);
	rt_inside--;
}

void
err_raise(int kind, unsigned call, const void *ptr, const void *block, size_t size, long offset,
    unsigned flags, const void *dumpat, uintptr_t lo, uintptr_t hi, const char *msg, int fatal)
{
	static const char stop[] = "pooldbg: stopped at the first heap error (--abort-on-error)\n";
	Fault f;
	ssize_t w;

	memset(&f, 0, sizeof f);
	f.kind = kind;
	f.flags = flags;
	f.ptr = (uintptr_t)ptr;
	f.block = (uintptr_t)block;
	f.size = size;
	f.offset = offset;
	f.dumpat = (uintptr_t)dumpat;
	fatal = fatal || (er.abortonerror && kind != ERR_NOTICE);
	if (fatal)
		f.flags |= ERRF_FATAL;
	emit(&f, call, msg, strlen(msg), lo, hi);
	if (fatal) {
		w = write(2, stop, sizeof stop - 1);
		(void)w;
		abort();
	}
}

/* ---- classification ----------------------------------------------------- */

static int
knownmagic(uintptr_t m)
{
	return m == ALLOC_MAGIC || m == FREE_MAGIC || m == UNALLOC_MAGIC || m == DEAD_MAGIC ||
	    m == DEADHEAD_MAGIC || m == QUICK_MAGIC ||
	    m == ARENATAIL_MAGIC || m == ARENA_MAGIC;
}

/* Whether a header at b of arena a claims a size that fits, with a tail that agrees. */
static int
placeable(Bhdr *b, Arena *a)
{
	uintptr_t end;

	end = (uintptr_t)A2TB(a);
	if ((uintptr_t)b < (uintptr_t)A2B(a) || (uintptr_t)b >= end || b->size % ALIGNQ != 0 ||
	    b->size < MINBLOCKSIZE || b->size > end - (uintptr_t)b)
		return 0;
	return B2T(b)->size == b->size && knownmagic(B2NB(b)->magic);
}

/* The pointer malloc.c handed out for allocated block b, and the bytes asked for (0 if unknown). */
static uintptr_t
userof(Bhdr *b, uintptr_t *size)
{
	uintptr_t *u, d, slack;

	d = (uintptr_t)B2D(b);
	u = (uintptr_t *)d;
	*size = 0;
	if (ISDEAD(b))
		return d + TAGBYTES;
	while ((uintptr_t)(u + 1) < (uintptr_t)B2T(b) && *u == ALIGN_MAGIC)
		u++;
	slack = getslack(B2T(b));
	if (B2T(b)->magic1 == TAIL_MAGIC1 && slack >= BLOCKOVERHEAD && slack <= b->size &&
	    b->size - slack >= (uintptr_t)u - d + TAGBYTES)
		*size = b->size - slack - ((uintptr_t)u - d) - TAGBYTES;
	return (uintptr_t)u + TAGBYTES;
}

/* Whether the free tree of p holds b. */
static int
infreetree(Pool *p, Bhdr *b)
{
	Free *t, *f;

	for (t = p->freeroot; t != NULL && t != POISON;) {
		if (t->h.size == b->size) {
			f = t;
			do {
				if (&f->h == b)
					return 1;
				f = f->next;
			} while (f != NULL && f != t && f != POISON);
			return 0;
		}
		t = b->size < t->h.size ? t->left : t->right;
	}
	return 0;
}

/* Put back the tail (and guard bytes) of allocated block b; the data size kept when the slack is sane. */
static void
fixtail(Bhdr *b)
{
	Btail *t;
	uintptr_t slack;
	uchar *q, *eq;

	t = B2T(b);
	slack = getslack(t);
	if (t->magic1 != TAIL_MAGIC1 || slack < BLOCKOVERHEAD || slack > b->size)
		slack = BLOCKOVERHEAD;	/* the end of the data is lost: all of it */
	t->magic0 = TAIL_MAGIC0;
	t->magic1 = TAIL_MAGIC1;
	t->slack[0] = slack >> 8;
	t->slack[1] = slack;
	t->slackhi[0] = slack >> 40;
	t->slackhi[1] = slack >> 32;
	t->slackhi[2] = slack >> 24;
	t->slackhi[3] = slack >> 16;
	t->size = b->size;
	q = (uchar *)B2D(b) + (b->size - slack);
	eq = q + 4 < (uchar *)t ? q + 4 : (uchar *)t;
	for (; q < eq; q++)
		*q = guardbytes[(uintptr_t)q % 4];
}

/* The first byte of [s, s+n) that differs from want[], 0 if none. */
static uintptr_t
firstdiff(const uchar *s, const uchar *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != want[i])
			return (uintptr_t)(s + i);
	return 0;
}

/* The first damaged byte of allocated block b: its guard bytes, then its tail. */
static uintptr_t
firstdamage(Bhdr *b)
{
	Btail *t, want;
	uintptr_t slack, d;
	uchar *q, *eq;

	t = B2T(b);
	slack = getslack(t);
	if (t->magic1 == TAIL_MAGIC1 && slack >= BLOCKOVERHEAD && slack <= b->size) {
		q = (uchar *)B2D(b) + (b->size - slack);
		eq = q + 4 < (uchar *)t ? q + 4 : (uchar *)t;
		for (; q < eq; q++)
			if (*q != guardbytes[(uintptr_t)q % 4])
				return (uintptr_t)q;
	}
	want = *t;
	want.magic0 = TAIL_MAGIC0;
	want.magic1 = TAIL_MAGIC1;
	want.size = b->size;
	d = firstdiff((uchar *)t, (uchar *)&want, sizeof want);
	return d != 0 ? d : (uintptr_t)t;
}

/* A pointer that is no allocated block: freed already, a smashed header, or no block at all. */
static void
notblock(const PoolFault *pf, unsigned call, Fault *f)
{
	static const uintptr_t allocmagic = ALLOC_MAGIC;
	Arena *a;
	Bhdr *b;
	uintptr_t v;

	v = pf->addr;
	f->ptr = v + TAGBYTES;
	f->sound = 1;
	f->kind = ERR_INVALID_FREE;
	a = (Arena *)pf->arena;
	if (a == NULL || v % sizeof(uintptr_t) != 0 || v < (uintptr_t)A2B(a) + sizeof(Bhdr))
		return;
	f->dumpat = v;
	b = (Bhdr *)(v - sizeof(Bhdr));
	if (ISDEAD(b) || b->magic == FREE_MAGIC || b->magic == UNALLOC_MAGIC ||
	    b->magic == NOT_MAGIC || b->magic == QUICK_MAGIC) {
		f->kind = call == CALL_REALLOC || call == CALL_REALLOCARRAY ? ERR_REALLOC_FREED :
		    ERR_DOUBLE_FREE;
		f->flags |= ERRF_FREED;
		f->block = f->ptr;
		f->offset = 0;
		f->dumpat = f->ptr;
		return;
	}
	if (!knownmagic(b->magic) && placeable(b, a)) {
		/* the header's magic was written over: put it back, the block stays out of use */
		f->kind = ERR_UNDERFLOW;
		f->block = f->ptr;
		userof(b, &f->size);
		f->dumpat = firstdiff((uchar *)&b->magic, (const uchar *)&allocmagic, sizeof b->magic);
		f->offset = (long)(f->dumpat - f->block);
		snap(f, pf->arena, pf->arena + ((Arena *)pf->arena)->asize);
		b->magic = ALLOC_MAGIC;
		fixtail(b);
	}
}

/* Classify the fault the pool just reported and repair what can be; under the pool lock. */
static void
classify(Pool *p, const PoolFault *pf, unsigned call, Fault *f)
{
	uintptr_t lo, hi;
	Arena *a;
	Bhdr *b;
	uchar *q, *e;

	memset(f, 0, sizeof *f);
	f->kind = ERR_CORRUPTION;
	if (pf->what == PF_NOTBLOCK && pf->block == 0) {
		notblock(pf, call, f);
		return;
	}
	a = (Arena *)pf->arena;
	b = (Bhdr *)pf->block;
	f->dumpat = pf->addr;
	if (a == NULL || b == NULL || pf->what == PF_STRUCTURE)
		return;
	lo = (uintptr_t)a;
	hi = lo + a->asize;
	if (b->magic == ALLOC_MAGIC || ISDEAD(b))
		f->block = userof(b, &f->size);
	f->ptr = f->block;
	switch (pf->what) {
	case PF_HEADER:
		f->kind = ERR_UNDERFLOW;
		snap(f, lo, hi);
		if (placeable(b, a) && !knownmagic(b->magic)) {
			f->sound = 1;
			if (infreetree(p, b)) {
				b->magic = FREE_MAGIC;
				f->kind = ERR_CORRUPTION;	/* a free block's links may be gone too */
				f->sound = 0;
			} else {
				b->magic = ALLOC_MAGIC;
				fixtail(b);
			}
			f->block = userof(b, &f->size);
			f->ptr = f->block;
		}
		break;
	case PF_TAIL:
	case PF_GUARD:
	case PF_TOLERATED:
		if (b->magic == ALLOC_MAGIC) {
			f->kind = pf->what == PF_TOLERATED ? ERR_NOTICE : ERR_OVERFLOW;
			if (pf->what != PF_TOLERATED)
				f->dumpat = firstdamage(b);
			snap(f, lo, hi);
			f->sound = placeable(b, a);
			if (f->sound && pf->what != PF_TOLERATED)
				fixtail(b);
		} else if (ISDEAD(b)) {
			f->kind = ERR_WRITE_AFTER_FREE;
			f->flags |= ERRF_FREED;
			snap(f, lo, hi);
			f->sound = placeable(b, a);
			if (f->sound) {
				fixtail(b);
				memset(B2D(b), DEAD_FILL, (size_t)(deadend(b) - (uchar *)B2D(b)));
				err_setaside(b);
			}
		}
		break;
	case PF_FILL:
		f->kind = ERR_WRITE_AFTER_FREE;
		f->flags |= ERRF_FREED;
		snap(f, lo, hi);
		f->sound = 1;
		e = deadend(b);
		for (q = B2D(b); q < e; q++)
			*q = DEAD_FILL;
		err_setaside(b);
		break;
	}
	if (f->block != 0 && f->dumpat != 0)
		f->offset = (long)(f->dumpat - f->block);
}

/* ---- the pool's callbacks ----------------------------------------------- */

/* Keep a line of the pool's in the dump buffer (pool lock held). */
static void
keep(const char *buf, size_t n)
{
	if (er.dumplen + n > sizeof er.dump) {
		/* keep the newest lines: drop the oldest half */
		memmove(er.dump, er.dump + er.dumplen / 2, er.dumplen - er.dumplen / 2);
		er.dumplen -= er.dumplen / 2;
		if (er.dumplen + n > sizeof er.dump)
			er.dumplen = 0;
	}
	memcpy(er.dump + er.dumplen, buf, n);
	er.dumplen += n;
}

/*
 * The pool's other lines (its debug flags' and mallocsummary's) wait in a
 * buffer of the printing thread's until the pool's lock is let go, and
 * then go to the recorder as REC_PRINT: the pool prints with its lock
 * held, and the ring's lock must not be taken under it (rt_realloc holds
 * the ring's while it waits for the pool's).  Before the ring exists they
 * wait for it; where there is none (no session, or after the last
 * record) they go to fd 2 as the library's own print would send them.
 */
enum {
	PRINTCHUNK	= 4096,		/* text of one REC_PRINT, at most */
	PRINTFIRST	= 1 << 16,	/* a thread's first buffer */
};
#define PRINTMAX	((size_t)64 << 20)	/* a thread's lines held at once, at most */

static __thread struct {
	char	*buf;		/* mapped; NULL until the first line */
	size_t	len, cap;
	size_t	dropped;	/* bytes of lines past PRINTMAX or a failed mapping */
} pb RT_TLS;

/* Keep the n bytes of s for err_flushprints; never allocates from the pool. */
static void
hold(const char *s, size_t n)
{
	size_t cap;
	void *v;

	if (pb.len + n > pb.cap) {
		for (cap = pb.cap != 0 ? pb.cap : PRINTFIRST; cap < pb.len + n && cap < PRINTMAX; cap *= 2)
			;
		if (cap < pb.len + n) {
			pb.dropped += n;
			return;
		}
		v = pb.buf == NULL ? mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
		    mremap(pb.buf, pb.cap, cap, MREMAP_MAYMOVE);
		if (v == MAP_FAILED) {
			pb.dropped += n;
			return;
		}
		pb.buf = v;
		pb.cap = cap;
	}
	memcpy(pb.buf + pb.len, s, n);
	pb.len += n;
}

static void
writeall2(const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(2, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* One REC_PRINT of s[0..n-1] (n <= PRINTCHUNK).  Ring lock held. */
static void
putprintl(const char *s, size_t n, int tid)
{
	static char rec[sizeof(RecPrint) + PRINTCHUNK + 8];
	RecPrint *r;

	r = (RecPrint *)rec;
	memset(r, 0, sizeof *r);
	r->h.type = REC_PRINT;
	r->h.len = REC_ALIGN(sizeof *r + n);
	r->textlen = (uint32_t)n;
	r->tid = tid;
	memcpy(rec + sizeof *r, s, n);
	memset(rec + sizeof *r + n, 0, r->h.len - (sizeof *r + n));
	rt_putl(r, r->h.len);
}

/* See runtime.h. */
void
err_flushprints(void)
{
	char note[120];
	const char *nl;
	size_t off, n;
	int e, len, nested, tid, sent;

	if (pb.len == 0 && pb.dropped == 0)
		return;
	if (rt_state == RT_UNINIT)
		return;		/* kept for the ring */
	e = errno;
	len = 0;
	if (pb.dropped != 0)
		len = snprintf(note, sizeof note, "pooldbg: %zu bytes of the pool's lines dropped "
		    "(more than %zu MB at once)\n", pb.dropped, PRINTMAX >> 20);
	sent = 0;
	if (rt_state == RT_LIVE) {
		rt_inside++;
		tid = rt_gettid();
		nested = rt_lock();
		if (rt_state == RT_LIVE) {
			for (off = 0; off < pb.len; off += n) {
				n = pb.len - off;
				if (n > PRINTCHUNK) {
					n = PRINTCHUNK;
					/* a chunk ends at a line's end where there is one */
					if ((nl = memrchr(pb.buf + off, '\n', n)) != NULL)
						n = (size_t)(nl - (pb.buf + off)) + 1;
				}
				putprintl(pb.buf + off, n, tid);
			}
			if (len > 0)
				putprintl(note, (size_t)len, tid);
			sent = 1;
		}
		rt_unlock(nested);
		rt_inside--;
	}
	if (!sent) {
		writeall2(pb.buf, pb.len);
		if (len > 0)
			writeall2(note, (size_t)len);
	}
	pb.len = 0;
	pb.dropped = 0;
	errno = e;
}

/* The pool's unlock: the lines it printed meanwhile go out after it. */
static void
tunlock(Pool *p)
{
	er.oldunlock(p);
	if (__builtin_expect(pb.len != 0 || pb.dropped != 0, 0))
		err_flushprints();
}

static void __attribute__((format(printf, 2, 3)))
tprint(Pool *p, const char *fmt, ...)
{
	char buf[MSGSIZE];
	PoolFault *pf;
	va_list ap;
	Arena *a;
	Fault f;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	pf = pooldbg_poolfault();
	if (pf->live && pf->what == PF_TOLERATED) {
		pf->live = 0;
		classify(p, pf, err_try != NULL ? err_try->call : 0, &f);
		a = (Arena *)pf->arena;
		emit(&f, err_try != NULL ? err_try->call : 0, buf, (size_t)n,
		    (uintptr_t)a, (uintptr_t)a + a->asize);
		er.dumplen = 0;
		quiet = 1;
		return;
	}
	if (quiet && buf[0] == ' ')
		return;
	quiet = 0;
	keep(buf, (size_t)n);
	if (!pf->live)
		hold(buf, (size_t)n);
}

static void __attribute__((format(printf, 2, 3)))
tpanic(Pool *p, const char *fmt, ...)
{
	static char msg[DUMPSIZE + MSGSIZE + 1];
	PoolFault *pf;
	ErrTry *t;
	va_list ap;
	size_t len;
	uintptr_t lo, hi;
	Arena *a;
	Fault f;
	int m, nested, fatal;

	rt_inside++;
	len = er.dumplen;
	memcpy(msg, er.dump, len);
	va_start(ap, fmt);
	m = vsnprintf(msg + len, MSGSIZE, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if (m >= MSGSIZE)
		m = MSGSIZE - 1;
	er.dumplen = 0;
	pf = pooldbg_poolfault();
	t = err_try;
	classify(p, pf, t != NULL ? t->call : 0, &f);
	pf->live = 0;
	/* a jump with the ring lock held (a realloc's pool call) would leave it held */
	nested = rt_holdslock();
	fatal = !f.sound || t == NULL || nested || er.abortonerror;
	if (fatal)
		f.flags |= ERRF_FATAL;
	a = (Arena *)pf->arena;
	lo = a != NULL ? (uintptr_t)a : 0;
	hi = a != NULL ? (uintptr_t)a + a->asize : 0;
	emit(&f, t != NULL ? t->call : 0, msg, len + (size_t)m, lo, hi);
	rt_inside--;
	if (fatal) {
		er.oldpanic(p, "%s", msg + len);
		abort();
	}
	t->kind = f.kind;
	err_try = t->prev;
	rt_inside = t->inside;
	p->unlock(p);
	__builtin_longjmp(t->jb, 1);
}

/* See runtime.h. */
void
err_early(void)
{
	static atomic_int hooked;

	if (atomic_load_explicit(&hooked, memory_order_relaxed) || atomic_exchange(&hooked, 1))
		return;
	er.oldunlock = pooldbg_mainmem->unlock;
	atomic_signal_fence(memory_order_seq_cst);
	pooldbg_mainmem->print = tprint;
	pooldbg_mainmem->unlock = tunlock;
}

void
err_init(void)
{
	const char *s;

	s = getenv("POOLDBG_ABORT_ON_ERROR");
	er.abortonerror = s != NULL && strcmp(s, "1") == 0;
	err_early();
	er.oldpanic = pooldbg_mainmem->panic;
	pooldbg_mainmem->panic = tpanic;
	(void)modules_bounds((const void *)poolalloc, &er.poollo, &er.poolhi);
	quarantine_init();
}
