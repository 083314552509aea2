/*
 * libpooldbg/malloc.c -- the malloc(3) family over the default pool.
 *
 * Owns the default pool (pooldbg_mainmem) and its callbacks: arenas from
 * anonymous mmap(2) that are never given back, a statically initialised
 * mutex made fork-safe with pthread_atfork, messages written straight to
 * fd 2, a panic that aborts, and flags read once from POOLDBG_FLAGS.
 * Owns the two tag words in front of every block it hands out.
 *
 * Must never: allocate (from the pool or anywhere else) inside a pool
 * callback, touch stdio streams or the locale, need initialisation before
 * its first call (it runs before main and before the C library has
 * finished starting when it is the program's malloc), or know of traces.
 *
 * Layout of a block handed out here, inside one pool block:
 *
 *	pool block data start (16-byte aligned, or the pool's aligned pointer)
 *	|
 *	v
 *	+-------------+--------------+-----------------------------------+
 *	| malloc tag  | realloc tag  | the caller's bytes ...            |
 *	+-------------+--------------+-----------------------------------+
 *	                             ^
 *	                             user pointer = data start + TAGBYTES
 *
 * so user pointers keep the pool's 16-byte alignment, and aligned calls
 * ask the pool for (offset - TAGBYTES) modulo the alignment.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>	/* struct mallinfo2 only */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>	/* vsnprintf only: never a FILE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#include "mmalloc-impl.h"
#include "poolflags.h"

enum {
	TAGBYTES	= 2 * sizeof(uintptr_t),	/* tag words before the user pointer */
	MALLOCTAG	= -2,	/* index of the malloc tag from the user pointer */
	REALLOCTAG	= -1,	/* index of the realloc tag */
	MINARENA	= 4 << 20,	/* smallest mapping asked of the kernel */
	QUANTUM		= 16,	/* block sizes of the default pool */
	MSGSIZE		= 1024,	/* longest message line; longer ones are cut */
	NEXTENT		= 64,	/* regions remembered for inarena */
	RETRYNSEC	= 100 * 1000 * 1000,	/* smalloc's wait between tries */
};

#define MAXPOOL		((uintptr_t)1 << 47)	/* the whole user address space */
#define CALLERPC()	((uintptr_t)__builtin_return_address(0))

static void	*mainalloc(size_t);
static void	*regionalloc(size_t);
static void	setextent(void);
static int	mainmerge(void *, void *);
static void	mainlock(Pool *);
static void	mainunlock(Pool *);
static void	mainprint(Pool *, const char *, ...) __attribute__((format(printf, 2, 3)));

/* The module's static state; every field is guarded by lock. */
static struct {
	pthread_mutex_t lock;	/* the pool's lock */
	char	*rlo, *rhi;	/* the current region of adjacent mappings */
	char	*hlo, *hhi;	/* the part of it handed to the pool as arenas */
	int	flagsread;	/* POOLDBG_FLAGS has been looked at */
	int	newregion;	/* regionalloc started a region setextent has not seen */
	int	extfull;	/* ext has no room for the current region */
} mm = {
	.lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,	/* spins briefly before sleeping */
};

/*
 * The parts of each region handed to the pool as arenas, for inarena's
 * look without the lock: written under the lock, they only ever grow, so
 * a stale look sees less and sends a pointer down the locked path.
 */
static struct {
	_Atomic uintptr_t lo[NEXTENT], hi[NEXTENT];
	atomic_int n;		/* entries in use; the last is the current region */
} ext;

/* 0: fork handlers not registered, 1: being registered, 2: registered. */
static atomic_int forkstate;

static Pool mainpool = {
	.name = "main",
	.maxsize = MAXPOOL,
	.minarena = MINARENA,
	.quantum = QUANTUM,
	.alloc = mainalloc,
	.merge = mainmerge,
	.lock = mainlock,
	.unlock = mainunlock,
	.print = mainprint,
	.panic = mainpanic,
};

EXPORT Pool *pooldbg_mainmem = &mainpool;

/* ---- messages ----------------------------------------------------------- */

static void
writeall(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

/*
 * Formats into buf after the len bytes already there and makes sure the
 * result ends in a newline; returns the length.  Never allocates.
 */
static size_t __attribute__((format(printf, 4, 0)))
vformat(char *buf, size_t size, size_t len, const char *fmt, va_list ap)
{
	int m;

	m = vsnprintf(buf + len, size - len, fmt, ap);
	if (m < 0)
		m = 0;
	len += (size_t)m;
	if (len > size - 1)
		len = size - 1;	/* cut: buf[size-1] is the NUL */
	if (len == 0 || buf[len - 1] != '\n') {
		if (len == size - 1)
			len--;
		buf[len++] = '\n';
	}
	return len;
}

static void __attribute__((format(printf, 1, 2)))
warn(const char *fmt, ...)
{
	char buf[MSGSIZE];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vformat(buf, sizeof buf, 0, fmt, ap);
	va_end(ap);
	writeall(2, buf, n);
}

static void
mainprint(Pool *p, const char *fmt, ...)
{
	char buf[MSGSIZE];
	va_list ap;
	size_t n;

	(void)p;
	va_start(ap, fmt);
	n = vformat(buf, sizeof buf, 0, fmt, ap);
	va_end(ap);
	writeall(2, buf, n);
}

/* The descriptor named by $MALLOCFD, if it is an open one other than 2; else -1. */
static int
mallocfd(void)
{
	const char *s;
	long fd;

	s = getenv("MALLOCFD");
	if (s == NULL || *s == '\0')
		return -1;
	for (fd = 0; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		fd = fd * 10 + (*s - '0');
		if (fd > INT_MAX)
			return -1;
	}
	if (fd == 2 || fcntl((int)fd, F_GETFD) == -1)
		return -1;
	return (int)fd;
}

/* See internal.h. */
void
mainpanic(Pool *p, const char *fmt, ...)
{
	static const char prefix[] = "pooldbg: panic: ";
	char buf[MSGSIZE];
	va_list ap;
	size_t n;
	int fd;

	(void)p;
	memcpy(buf, prefix, sizeof prefix - 1);
	va_start(ap, fmt);
	n = vformat(buf, sizeof buf, sizeof prefix - 1, fmt, ap);
	va_end(ap);
	writeall(2, buf, n);
	if ((fd = mallocfd()) >= 0)
		writeall(fd, buf, n);
	abort();
}

/* ---- flags from the environment ----------------------------------------- */

/* An unknown name in POOLDBG_FLAGS: one line on fd 2. */
static void
badflag(const char *w, size_t n, void *arg)
{
	(void)arg;
	warn("pooldbg: POOLDBG_FLAGS: unknown flag \"%.*s\" ignored", n > 64 ? 64 : (int)n, w);
}

/*
 * Reads POOLDBG_FLAGS into p->flags the first time the environment is
 * there to read (early in a process started with this library preloaded
 * it may not be yet).  Lock held.
 */
static void
readflagsl(Pool *p)
{
	const char *s, *t;

	if (environ == NULL)
		return;
	mm.flagsread = 1;
	if ((s = getenv("POOLDBG_FLAGS")) != NULL)
		p->flags |= poolflags_parse(s, badflag, NULL);
	if ((s = getenv("POOLDBG_QUICK")) != NULL && strcmp(s, "0") == 0)
		quick_setoff(1);
	/* pooldbg run --heap-file: this process's arenas go into the file (mmalloc.c) */
	if ((s = getenv("POOLDBG_HEAPFILE")) != NULL && (t = getenv("POOLDBG_HEAPFILE_PID")) != NULL &&
	    atol(t) == (long)getpid() && mmheap_main(p, s) != 0)
		warn("pooldbg: POOLDBG_HEAPFILE: cannot make the heap file %s", s);
}

/* ---- lock and fork ------------------------------------------------------ */

static void
forkprepare(void)
{
	pthread_mutex_lock(&mm.lock);
	tcache_forkprepare(&mainpool);
	mmheap_forkprepare();
}

static void
forkparent(void)
{
	mmheap_forkparent();	/* no heap call until the child has its own heap */
	tcache_forkparent(&mainpool);
	pthread_mutex_unlock(&mm.lock);
}

static void
forkchild(void)
{
	static const pthread_mutex_t fresh = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;

	mmheap_forkchild();	/* the parent's heap file stays the parent's */
	tcache_forkchild(&mainpool);
	mm.lock = fresh;
}

/*
 * Registers the fork handlers once.  Called without the lock: if
 * pthread_atfork allocates, that allocation comes back here, sees the
 * registration under way and goes on.
 */
static void
registerfork(void)
{
	int expect;

	expect = 0;
	if (!atomic_compare_exchange_strong(&forkstate, &expect, 1))
		return;
	if (pthread_atfork(forkprepare, forkparent, forkchild) == 0)
		atomic_store(&forkstate, 2);
	else
		atomic_store(&forkstate, 0);
}

static void
mainlock(Pool *p)
{
	if (atomic_load_explicit(&forkstate, memory_order_acquire) != 2)
		registerfork();
	pthread_mutex_lock(&mm.lock);
	if (!mm.flagsread)
		readflagsl(p);
}

static void
mainunlock(Pool *p)
{
	(void)p;
	pthread_mutex_unlock(&mm.lock);
}

/* See internal.h: the pool's lock if it is free now (0), else -1. */
EXPORT int
pooldbg_maintrylock(void)
{
	/* POOLDBG_FLAGS is left for the next mainlock: nothing here may allocate or print */
	return pthread_mutex_trylock(&mm.lock) == 0 ? 0 : -1;
}

/* ---- arenas ------------------------------------------------------------- */

static size_t
pagesize(void)
{
	return (size_t)getpagesize();
}

/*
 * A new arena of exactly n bytes for the pool.  Arenas are carved out of
 * the current region, a run of adjacent mappings: the first arena of a
 * region sits at its bottom, later ones just above the highest arena or
 * just below the lowest, so that consecutive arenas touch and the pool
 * joins them.  When the region has no room, a mapping of at least
 * MINARENA bytes (whole pages) is asked for just past its end; if the
 * kernel puts it right after or right before the region, the region
 * grows, else the mapping starts a new region (the old one's spare pages
 * stay mapped, never touched).  Lock held.
 */
static void *
mainalloc(size_t n)
{
	char *a;

	a = regionalloc(n);
	if (a != NULL)
		setextent();
	return a;
}

/* Publish the current region's arena part for inarena.  Lock held. */
static void
setextent(void)
{
	int k;

	k = atomic_load_explicit(&ext.n, memory_order_relaxed) - 1;
	if (mm.newregion || k < 0) {
		mm.newregion = 0;
		if (k + 1 >= NEXTENT) {
			mm.extfull = 1;	/* the locked path serves the blocks of further regions */
			return;
		}
		atomic_store_explicit(&ext.lo[k + 1], (uintptr_t)mm.hlo, memory_order_relaxed);
		atomic_store_explicit(&ext.hi[k + 1], (uintptr_t)mm.hhi, memory_order_relaxed);
		atomic_store_explicit(&ext.n, k + 2, memory_order_release);
		return;
	}
	if (mm.extfull)
		return;
	/* the current region grew: each store only widens what a reader sees */
	atomic_store_explicit(&ext.lo[k], (uintptr_t)mm.hlo, memory_order_release);
	atomic_store_explicit(&ext.hi[k], (uintptr_t)mm.hhi, memory_order_release);
}

/*
 * Whether v lies in a part of a region handed to the pool (so in an
 * arena, as long as mainalloc makes the arenas).  Lock-free; a false
 * answer only sends v down the locked path.
 */
static inline int
inarena(const void *v)
{
	uintptr_t x;
	int k, n;

	x = (uintptr_t)v;
	n = atomic_load_explicit(&ext.n, memory_order_acquire);
	for (k = n - 1; k >= 0; k--)
		if (x >= atomic_load_explicit(&ext.lo[k], memory_order_relaxed) &&
		    x < atomic_load_explicit(&ext.hi[k], memory_order_relaxed))
			return 1;
	return 0;
}

/* mainalloc's worker: see there.  Lock held. */
static void *
regionalloc(size_t n)
{
	size_t pg, len;
	char *a;

	if (mm.rhi != NULL) {
		if ((size_t)(mm.rhi - mm.hhi) >= n) {
			a = mm.hhi;
			mm.hhi += n;
			return a;
		}
		if ((size_t)(mm.hlo - mm.rlo) >= n) {
			mm.hlo -= n;
			return mm.hlo;
		}
	}
	pg = pagesize();
	len = n < MINARENA ? MINARENA : n;
	if (len > SIZE_MAX - pg) {
		errno = ENOMEM;
		return NULL;
	}
	len = (len + pg - 1) & ~(pg - 1);
	a = mmap(mm.rhi, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
#ifdef MADV_POPULATE_WRITE
	/*
	 * A heap past its first mapping is growing a MINARENA at a time, and
	 * the pool will write to all of it soon: fault its pages in with one
	 * call instead of one trap each.  Not the first mapping (a small
	 * program never needs all of it), not a larger one (a big block may
	 * be touched sparsely).  Small pages, not huge: a huge page is a
	 * gamble where free memory is handed back to a hypervisor, whose
	 * first touch of it can cost more than the TLB misses it saves.
	 * A hint only; a kernel without it says EINVAL.
	 */
	if (mm.rhi != NULL && len == MINARENA)
		(void)madvise(a, len, MADV_POPULATE_WRITE);
#endif
	if (mm.rhi != NULL && a == mm.rhi) {
		mm.rhi += len;
		a = mm.hhi;
		mm.hhi += n;
		return a;
	}
	if (mm.rhi != NULL && a + len == mm.rlo) {
		mm.rlo = a;
		mm.hlo -= n;
		return mm.hlo;
	}
	mm.rlo = mm.hlo = a;
	mm.newregion = 1;
	mm.rhi = a + len;
	mm.hhi = a + n;
	return a;
}

/*
 * The pool offers only arenas that touch; mappings are never unmapped, so
 * two that touch can always be treated as one.
 */
static int
mainmerge(void *lower, void *upper)
{
	(void)lower;
	(void)upper;
	return 1;
}

/* See internal.h.  noipa: calls to a function of prefetches would otherwise be dropped. */
EXPORT __attribute__((noipa)) void
pooldbg_mainprefetch(const void *v, int tail, size_t fill)
{
	const uintptr_t *h;
	const char *c, *end;

	h = (const uintptr_t *)((const char *)v - TAGBYTES) - 2;	/* the header: magic, size */
	if (!tail) {
		__builtin_prefetch(h);
		return;
	}
	if (!inarena(h) || !inarena(h + 2))
		return;
	end = (const char *)h + h[1] - 1;	/* the tail's last byte */
	__builtin_prefetch(end);
	/* the data's first fill bytes past the header's line, for writing */
	c = (const char *)((uintptr_t)h & ~(uintptr_t)63) + 64;
	if ((const char *)(h + 2) + fill < end)
		end = (const char *)(h + 2) + fill;
	for (; c < end; c += 64)
		__builtin_prefetch(c, 1);
}

/* See internal.h. */
EXPORT int
pooldbg_mainlooksalloc(const void *v)
{
	const uintptr_t *h;

	if (((uintptr_t)v & 15) != 0)
		return 0;
	h = (const uintptr_t *)((const char *)v - TAGBYTES) - 2;	/* the header: magic, size */
	/* at least header (2 words), tags and tail (2 words) */
	return inarena(h) && inarena(v) && h[0] == POOLDBG_ALLOC_MAGIC && h[1] % 16 == 0 &&
	    h[1] >= 4 * sizeof(uintptr_t) + TAGBYTES && inarena((const char *)h + h[1] - 1);
}

/* ---- blocks and tags ---------------------------------------------------- */

static inline void *
pooldata(void *v)
{
	return (char *)v - TAGBYTES;
}

/* The user pointer of pool data r with both tags set; NULL for NULL. */
static void *
tagged(void *r, uintptr_t mtag, uintptr_t rtag)
{
	uintptr_t *u;

	if (r == NULL)
		return NULL;
	u = (uintptr_t *)((char *)r + TAGBYTES);
	u[MALLOCTAG] = mtag;
	u[REALLOCTAG] = rtag;
	return u;
}

/*
 * The fast path: a block from this thread's cache, refilled from its
 * quick list (tcache.c, quick.c), else from the pool; when the pool is
 * out of memory the quick lists go back to the tree and the pool is asked
 * once more.
 */
static void *
allocpc(size_t n, uintptr_t pc)
{
	void *r;

	if (n > SIZE_MAX - TAGBYTES) {
		errno = ENOMEM;
		return NULL;
	}
	if ((r = tcache_alloc(&mainpool, n + TAGBYTES)) == NULL &&
	    (r = poolalloc(&mainpool, n + TAGBYTES)) == NULL) {
		quick_flush(&mainpool);
		r = poolalloc(&mainpool, n + TAGBYTES);
	}
	return tagged(r, pc, 0);
}

/*
 * Free v of this family: into this thread's cache or onto its quick list,
 * or back to the pool (which judges it).
 */
static void
freeblock(void *v)
{
	if (!tcache_free(&mainpool, pooldata(v), inarena(pooldata(v))))
		poolfree(&mainpool, pooldata(v));
}

/* n bytes aligned to align, a power of two; the malloc tag is pc. */
static void *
alignpc(size_t n, size_t align, uintptr_t pc)
{
	if (align <= TAGBYTES)
		return allocpc(n, pc);
	if (n > SIZE_MAX - TAGBYTES) {
		errno = ENOMEM;
		return NULL;
	}
	return tagged(poolallocalign(&mainpool, n + TAGBYTES, align, -(long)TAGBYTES, 0), pc, 0);
}

static void *
reallocpc(void *v, size_t n, uintptr_t pc)
{
	void *r;

	if (v == NULL) {
		v = allocpc(n, pc);
		if (v != NULL)
			((uintptr_t *)v)[REALLOCTAG] = pc;
		return v;
	}
	if (n == 0) {
		freeblock(v);
		return NULL;
	}
	if (n > SIZE_MAX - TAGBYTES) {
		errno = ENOMEM;
		return NULL;
	}
	r = poolrealloc(&mainpool, pooldata(v), n + TAGBYTES);
	if (r == NULL)
		return NULL;
	v = (char *)r + TAGBYTES;
	((uintptr_t *)v)[REALLOCTAG] = pc;
	return v;
}

/* ---- the C and POSIX calls ---------------------------------------------- */

/*
 * pooldbg_malloc: size bytes from the default pool, not cleared; a
 * distinct non-NULL pointer for 0.  NULL with errno ENOMEM on failure.
 * Malloc tag: the caller's PC; realloc tag 0.  Free with pooldbg_free.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_malloc(size_t size)
{
	return allocpc(size, CALLERPC());
}

/*
 * pooldbg_calloc: n*size bytes, cleared; NULL with ENOMEM when n*size
 * overflows or memory runs out.  Tags as pooldbg_malloc.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_calloc(size_t n, size_t size)
{
	size_t total;
	void *v;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	v = allocpc(total, CALLERPC());
	if (v != NULL)
		memset(v, 0, total);
	return v;
}

/*
 * pooldbg_realloc: ptr NULL -> as pooldbg_malloc(size); size 0 with ptr
 * non-NULL -> frees ptr and returns NULL.  Otherwise resizes, keeping the
 * contents up to the smaller size, and returns the (possibly moved)
 * block; on failure returns NULL with ENOMEM and ptr stays valid.  Sets
 * the realloc tag to the caller's PC, and the malloc tag too when ptr was
 * NULL.  An aligned block may lose its alignment.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_realloc(void *ptr, size_t size)
{
	return reallocpc(ptr, size, CALLERPC());
}

/*
 * pooldbg_reallocarray: pooldbg_realloc(ptr, n*size), but NULL with ENOMEM
 * and ptr untouched when n*size overflows.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_reallocarray(void *ptr, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return reallocpc(ptr, total, CALLERPC());
}

/*
 * pooldbg_free: returns a block of this family to the pool; NULL is a
 * no-op.  Anything else (a double free, a foreign or interior pointer, a
 * smashed block) is a panic.
 */
EXPORT void
pooldbg_free(void *ptr)
{
	if (ptr != NULL)
		freeblock(ptr);
}

/*
 * pooldbg_posix_memalign: stores in *memptr size bytes aligned to align,
 * which must be a power of two and a multiple of sizeof(void *), and
 * returns 0; else returns EINVAL (bad align) or ENOMEM, leaving *memptr
 * and errno as they were.
 */
EXPORT __attribute__((noinline)) int
pooldbg_posix_memalign(void **memptr, size_t align, size_t size)
{
	void *v;
	int e;

	if (align == 0 || (align & (align - 1)) != 0 || align % sizeof(void *) != 0)
		return EINVAL;
	e = errno;
	v = alignpc(size, align, CALLERPC());
	if (v == NULL) {
		errno = e;
		return ENOMEM;
	}
	*memptr = v;
	return 0;
}

/*
 * pooldbg_aligned_alloc: size bytes aligned to align, a power of two
 * (EINVAL otherwise); NULL with ENOMEM when out of memory.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_aligned_alloc(size_t align, size_t size)
{
	if (align == 0 || (align & (align - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	return alignpc(size, align, CALLERPC());
}

/*
 * pooldbg_memalign: size bytes aligned to align rounded up to a power of
 * two; EINVAL when that power does not fit a size_t, ENOMEM when out of
 * memory.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_memalign(size_t align, size_t size)
{
	size_t a;

	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	for (a = 1; a < align; a <<= 1)
		;
	return alignpc(size, a, CALLERPC());
}

/* pooldbg_valloc: size bytes aligned to the page size. */
EXPORT __attribute__((noinline)) void *
pooldbg_valloc(size_t size)
{
	return alignpc(size, pagesize(), CALLERPC());
}

/*
 * pooldbg_pvalloc: size rounded up to a multiple of the page size, aligned
 * to the page size; ENOMEM when the rounding overflows.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_pvalloc(size_t size)
{
	size_t pg;

	pg = pagesize();
	if (size > SIZE_MAX - (pg - 1)) {
		errno = ENOMEM;
		return NULL;
	}
	return alignpc((size + pg - 1) & ~(pg - 1), pg, CALLERPC());
}

/*
 * pooldbg_malloc_usable_size: as pooldbg_msize, which see; 0 for NULL.
 */
EXPORT size_t
pooldbg_malloc_usable_size(void *ptr)
{
	return pooldbg_msize(ptr);
}

/* ---- the Plan 9 calls --------------------------------------------------- */

/*
 * pooldbg_mallocz: pooldbg_malloc(size), cleared when clr is nonzero.
 * Malloc tag: the caller's PC.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_mallocz(size_t size, int clr)
{
	void *v;

	v = allocpc(size, CALLERPC());
	if (v != NULL && clr)
		memset(v, 0, size);
	return v;
}

/* o modulo m in [0, m), for m > 0 and any sign of o. */
static size_t
modulo(long o, size_t m)
{
	size_t r;

	if (o >= 0)
		return (size_t)o % m;
	r = ((size_t)-(o + 1) + 1) % m;	/* |o| mod m, without overflow */
	return r == 0 ? 0 : m - r;
}

/*
 * pooldbg_mallocalign: size bytes at a pointer v with (v - offset) a
 * multiple of align (align 0: no constraint), and, when span is nonzero,
 * [v, v+size) inside one span-aligned span.  As in Plan 9, span >= align
 * turns into alignment: size > span or span not a multiple of align fails,
 * else the block starts offset modulo align past a span boundary.  NULL
 * with EINVAL for an impossible request, ENOMEM when out of memory.
 * Malloc tag: the caller's PC.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_mallocalign(size_t size, size_t align, long offset, size_t span)
{
	size_t o;

	if (span != 0 && align <= span) {
		if (align == 0)
			align = 1;
		o = modulo(offset, align);
		if (size > span || span % align != 0 || o > span - size) {
			errno = EINVAL;
			return NULL;
		}
		offset = (long)o;
		align = span;
		span = 0;
	} else if (span != 0 && align % span == 0) {
		/* The alignment fixes where in its span the block starts. */
		if (size > span || modulo(offset, span) > span - size) {
			errno = EINVAL;
			return NULL;
		}
		span = 0;
	}
	/* Any other span is checked over the tag words too: never looser. */
	if (size > SIZE_MAX - TAGBYTES || align > (size_t)LONG_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	offset = align != 0 ? (long)modulo(offset, align) : 0;
	return tagged(poolallocalign(&mainpool, size + TAGBYTES, align,
	    offset - (long)TAGBYTES, span), CALLERPC(), 0);
}

/*
 * pooldbg_msize: the bytes usable at ptr (>= the size asked for); the
 * block grows to that size, so all of them may be written.  0 for NULL;
 * a pointer that is not a live block of this family is a panic.
 */
EXPORT size_t
pooldbg_msize(void *ptr)
{
	if (ptr == NULL)
		return 0;
	return poolmsize(&mainpool, pooldata(ptr)) - TAGBYTES;
}

/*
 * pooldbg_smalloc: size cleared bytes; never returns NULL: while memory
 * is short it tries again every 100 ms, for ever.  Malloc tag: the
 * caller's PC.
 */
EXPORT __attribute__((noinline)) void *
pooldbg_smalloc(size_t size)
{
	struct timespec ts;
	uintptr_t pc;
	void *v;

	pc = CALLERPC();
	while ((v = allocpc(size, pc)) == NULL) {
		ts.tv_sec = 0;
		ts.tv_nsec = RETRYNSEC;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	memset(v, 0, size);
	return v;
}

/*
 * The tag calls read and write the words in front of ptr, which must be a
 * live block of this family; they take no lock and check nothing.
 */

/* pooldbg_setmalloctag: the malloc tag of ptr becomes tag; NULL: no-op. */
EXPORT void
pooldbg_setmalloctag(void *ptr, uintptr_t tag)
{
	if (ptr != NULL)
		((uintptr_t *)ptr)[MALLOCTAG] = tag;
}

/* pooldbg_getmalloctag: the malloc tag of ptr; 0 for NULL. */
EXPORT uintptr_t
pooldbg_getmalloctag(void *ptr)
{
	return ptr == NULL ? 0 : ((uintptr_t *)ptr)[MALLOCTAG];
}

/* pooldbg_setrealloctag: the realloc tag of ptr becomes tag; NULL: no-op. */
EXPORT void
pooldbg_setrealloctag(void *ptr, uintptr_t tag)
{
	if (ptr != NULL)
		((uintptr_t *)ptr)[REALLOCTAG] = tag;
}

/* pooldbg_getrealloctag: the realloc tag of ptr; 0 for NULL. */
EXPORT uintptr_t
pooldbg_getrealloctag(void *ptr)
{
	return ptr == NULL ? 0 : ((uintptr_t *)ptr)[REALLOCTAG];
}

/*
 * pooldbg_mallocsummary: three lines about the default pool on fd 2
 * (through its print callback): the quick lists (blocks and bytes on
 * them, hits and misses), the tree (bytes allocated to callers, free in
 * the tree, frees) and the total (bytes mapped, the limit).
 */
EXPORT void
pooldbg_mallocsummary(void)
{
	uintptr_t cursize, curalloc, curfree, maxsize;
	unsigned long nfree;
	QuickStats qs;
	Pool *p;

	p = &mainpool;
	p->lock(p);
	cursize = p->cursize;
	curalloc = p->curalloc;
	curfree = p->curfree;
	maxsize = p->maxsize;
	nfree = p->nfree;
	p->unlock(p);
	quick_stats(p, &qs);
	p->print(p, "pool %s: quick: %lu blocks, %" PRIuPTR " bytes on the lists; %lu hits, "
	    "%lu misses, %lu puts, %lu flushes (%s)\n", p->name, qs.blocks, qs.bytes, qs.hits,
	    qs.misses, qs.puts, qs.flushes, qs.enabled ? "on" : "off");
	p->print(p, "pool %s: tree: %" PRIuPTR " bytes allocated, %" PRIuPTR " free; %lu frees\n",
	    p->name, curalloc - qs.bytes, curfree, nfree);
	p->print(p, "pool %s: total: %" PRIuPTR " bytes in arenas, %" PRIuPTR " at most\n",
	    p->name, cursize, maxsize);
}

/*
 * pooldbg_mallinfo2: glibc's figures, of the default pool: arena the bytes
 * of its arenas (never given back, so also the most there ever were),
 * uordblks the bytes of blocks handed out, fordblks those free in the
 * tree or waiting on the quick lists, ordblks the free blocks, smblks and
 * fsmblks the quick lists' blocks and bytes (glibc's fastbins).  Whole
 * blocks, headers and tails included; the rest of arena is the arenas'
 * own ends and the dead blocks of POOL_NOREUSE.  No mapped chunks (hblks,
 * hblkhd), no top (keepcost).
 */
EXPORT struct mallinfo2
pooldbg_mallinfo2(void)
{
	struct mallinfo2 m;
	QuickStats qs;
	Pool *p;

	memset(&m, 0, sizeof m);
	p = &mainpool;
	p->lock(p);
	quick_statsl(p, &qs);	/* listed blocks count as allocated: taken out below */
	m.arena = p->cursize;
	m.ordblks = tree_countl(p);
	m.smblks = qs.blocks;
	m.fsmblks = qs.bytes;
	m.uordblks = p->curalloc - qs.bytes;
	m.fordblks = p->curfree + qs.bytes;
	p->unlock(p);
	return m;
}
