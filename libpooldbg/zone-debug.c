/*
 * libpooldbg/zone-debug.c -- what the zones need besides allocation: the
 * zones' pool, the registry that maps an address to its slab, the
 * debugging reports, the trash pattern of free items, and the trace
 * hooks that do nothing when the program is not traced.
 *
 * The registry is an open-addressed hash of SLABCHUNK-aligned chunk
 * addresses: written under one lock, read without any (an address that
 * is no item is answered NULL without being read).  A table that fills up
 * is replaced by one twice its size; the old one stays mapped, for a
 * reader that may still be in it.
 *
 * The trace hooks (pooldbg_zone_created, pooldbg_zone_item,
 * pooldbg_zone_destroyed) are exported so that the tracing runtime
 * (zone-runtime.c in libpooldbg-malloc.so, preloaded) can put its own
 * first in the symbol lookup, as marks.c does for pooldbg_mark.
 *
 * Must never: allocate from the default pool, or use stdio streams.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>	/* vsnprintf only */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pooldbg/pool.h>

#include "zone-impl.h"

/* ---- the zones' pool ------------------------------------------------------ */

static pthread_mutex_t zplock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;

static void *
zpalloc(size_t n)
{
	void *v;

	v = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return v == MAP_FAILED ? NULL : v;
}

static int
zpmerge(void *lo, void *hi)
{
	(void)lo;
	(void)hi;
	return 1;	/* mappings are never given back: touching ones are one */
}

static void
zplockf(Pool *p)
{
	(void)p;
	pthread_mutex_lock(&zplock);
}

static void
zpunlock(Pool *p)
{
	(void)p;
	pthread_mutex_unlock(&zplock);
}

static void
writeall(const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0 && ((w = write(2, buf, n)) > 0 || errno == EINTR))
		if (w > 0) {
			buf += w;
			n -= (size_t)w;
		}
}

static void __attribute__((format(printf, 2, 3)))
zpprint(Pool *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	(void)p;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		writeall(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void __attribute__((format(printf, 2, 3), noreturn))
zppanic(Pool *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	(void)p;
	writeall("pooldbg: panic: ", 16);
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		writeall(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
	abort();
}

static Pool zonepool = {
	.name = "zones",
	.maxsize = (uintptr_t)1 << 46,
	.minarena = 4 << 20,
	.quantum = 64,
	.alloc = zpalloc,
	.merge = zpmerge,
	.lock = zplockf,
	.unlock = zpunlock,
	.print = zpprint,
	.panic = zppanic,
};

/* See zone-impl.h. */
Pool *
zone_pool(void)
{
	return &zonepool;
}

/* ---- the registry ----------------------------------------------------------- */

typedef struct Entry Entry;
struct Entry {
	_Atomic uintptr_t key;	/* chunk address; 0 empty, 1 deleted */
	Slab	*_Atomic slab;
};

typedef struct Table Table;
struct Table {
	size_t	cap;		/* a power of two */
	size_t	used;		/* keys and deleted marks */
	Entry	e[];
};

static pthread_mutex_t reglock = PTHREAD_MUTEX_INITIALIZER;
static Table *_Atomic regtab;

static size_t
hash(uintptr_t k, size_t cap)
{
	k /= SLABCHUNK;
	k *= 0x9E3779B97F4A7C15ULL;
	return (size_t)(k >> 17) & (cap - 1);
}

static Table *
newtable(size_t cap)
{
	Table *t;

	t = mmap(NULL, sizeof *t + cap * sizeof(Entry), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	t->cap = cap;
	return t;
}

/* Put k -> s into t, which has room.  Registry locked. */
static void
insert(Table *t, uintptr_t k, Slab *s)
{
	size_t i;
	uintptr_t old;

	for (i = hash(k, t->cap);; i = (i + 1) & (t->cap - 1)) {
		old = atomic_load(&t->e[i].key);
		if (old == 0 || old == 1) {
			atomic_store(&t->e[i].slab, s);
			atomic_store(&t->e[i].key, k);
			if (old == 0)
				t->used++;
			return;
		}
	}
}

/* See zone-impl.h. */
int
zone_register(Slab *s, int add)
{
	Table *t, *nt;
	uintptr_t k, base, end;
	size_t i, j;

	base = (uintptr_t)s;
	end = base + s->size;
	pthread_mutex_lock(&reglock);
	t = atomic_load(&regtab);
	if (add) {
		if (t == NULL || (t->used + s->size / SLABCHUNK) * 2 > t->cap) {
			nt = newtable(t == NULL ? 4096 : t->cap * 2);
			if (nt == NULL) {
				pthread_mutex_unlock(&reglock);
				return -1;
			}
			for (j = 0; t != NULL && j < t->cap; j++)
				if ((k = atomic_load(&t->e[j].key)) > 1)
					insert(nt, k, atomic_load(&t->e[j].slab));
			atomic_store(&regtab, nt);
			t = nt;
		}
		for (k = base; k < end; k += SLABCHUNK)
			insert(t, k, s);
	} else if (t != NULL) {
		for (k = base; k < end; k += SLABCHUNK)
			for (i = hash(k, t->cap); atomic_load(&t->e[i].key) != 0; i = (i + 1) & (t->cap - 1))
				if (atomic_load(&t->e[i].key) == k) {
					atomic_store(&t->e[i].key, 1);
					break;
				}
	}
	pthread_mutex_unlock(&reglock);
	return 0;
}

/* See zone-impl.h. */
Slab *
zone_slabof(const void *p)
{
	Table *t;
	uintptr_t k, x;
	size_t i;

	t = atomic_load_explicit(&regtab, memory_order_acquire);
	if (t == NULL)
		return NULL;
	k = (uintptr_t)p & ~(uintptr_t)(SLABCHUNK - 1);
	if (k <= 1)
		return NULL;
	for (i = hash(k, t->cap); (x = atomic_load_explicit(&t->e[i].key, memory_order_acquire)) != 0;
	    i = (i + 1) & (t->cap - 1))
		if (x == k)
			return atomic_load_explicit(&t->e[i].slab, memory_order_relaxed);
	return NULL;
}

/* ---- reports and trash -------------------------------------------------- */

/* See zone-impl.h. */
void
zone_report(uma_zone_t z, const ZoneFault *f, const char *fmt, ...)
{
	char msg[400], line[512];
	va_list ap;
	int n, leak, traced;

	atomic_fetch_add(&z->errors, 1);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	leak = f->kind == ZR_LEAK;
	traced = 0;
	if (!leak) {
		/* under pooldbg run: into the trace's errors, and the program goes on */
		n = snprintf(line, sizeof line, "zone %s: %s", z->name, msg);
		traced = pooldbg_zone_error(z->traceid, f->kind, f->what, f->ptr, f->item,
		    f->item != NULL ? z->size : 0, f->offset, n > 0 ? line : msg);
	}
	if (z->report != NULL) {
		z->report(z, msg, z->reportarg);
		return;
	}
	if (traced)
		return;	/* the recorder's error report shows it */
	n = snprintf(line, sizeof line, "pooldbg: zone %s: %s\n", z->name, msg);
	if (n > 0)
		writeall(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	if (!leak)
		abort();
}

/* See zone-impl.h. */
void
zone_trash(uma_zone_t z, void *item)
{
	unsigned char *c;
	size_t i, n;
	uint32_t w;

	c = item;
	n = z->size;
	w = TRASHWORD;
	for (i = 2 * sizeof(void *); i + 4 <= n; i += 4)
		memcpy(c + i, &w, 4);
	for (; i < n; i++)
		c[i] = 0xde;
}

/* See zone-impl.h. */
int
zone_trashcheck(uma_zone_t z, void *item)
{
	ZoneFault f = { ERR_WRITE_AFTER_FREE, ZEV_ALLOC, item, item, 0 };
	unsigned char *c;
	size_t i, n;
	uint32_t w, want;

	c = item;
	n = z->size;
	want = TRASHWORD;
	for (i = 2 * sizeof(void *); i + 4 <= n; i += 4) {
		memcpy(&w, c + i, 4);
		if (w != want) {
			f.offset = i;
			zone_report(z, &f, "memory modified after free %p(%zu) val=%x @ %p (offset %zu)",
			    item, n, w, (void *)(c + i), i);
			return -1;
		}
	}
	for (; i < n; i++)
		if (c[i] != 0xde) {
			f.offset = i;
			zone_report(z, &f, "memory modified after free %p(%zu) val=%x @ %p (offset %zu)",
			    item, n, c[i], (void *)(c + i), i);
			return -1;
		}
	return 0;
}

/* ---- trace hooks, untraced ---------------------------------------------- */

/* See internal.h: untraced, no zone id (0). */
EXPORT uint32_t
pooldbg_zone_created(const void *zone, const char *name, size_t size)
{
	(void)zone;
	(void)name;
	(void)size;
	return 0;
}

/* See internal.h: untraced, nothing to record. */
EXPORT void
pooldbg_zone_item(uint32_t id, int what, const void *item, size_t size)
{
	(void)id;
	(void)what;
	(void)item;
	(void)size;
}

/* See internal.h: untraced, nothing recorded (0). */
EXPORT int
pooldbg_zone_error(uint32_t id, int kind, int what, const void *ptr, const void *item, size_t size,
    size_t offset, const char *msg)
{
	(void)id;
	(void)kind;
	(void)what;
	(void)ptr;
	(void)item;
	(void)size;
	(void)offset;
	(void)msg;
	return 0;
}

/* See internal.h: untraced, nothing to record. */
EXPORT void
pooldbg_zone_destroyed(uint32_t id, const void *zone, const char *name, const uma_stats *st)
{
	(void)id;
	(void)zone;
	(void)name;
	(void)st;
}
