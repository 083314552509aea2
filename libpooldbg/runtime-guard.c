/*
 * libpooldbg/runtime-guard.c -- guard pages: chosen allocations of a
 * traced process on pages of their own, for what fills and guard bytes
 * cannot catch (a read past the end, a read or write after free).
 *
 * POOLDBG_GUARD names sizes ("24,100-200"), POOLDBG_GUARD_SAMPLE=N
 * takes one allocation in N; malloc, calloc and operator new of a chosen
 * size get a slot of their own in one reserved region:
 *
 *	| header page | data pages ...   [tags|the caller's bytes|slack] | guard page |
 *
 * the caller's bytes end at the guard page, or up to 15 bytes before it
 * to keep the 16-byte alignment (those bytes are filled and checked at
 * free, as the pool's guard bytes are).  The header page holds the
 * slot's header (the size, the call that made it, whether it was freed).
 * A free checks the family and the slack, then releases the data pages
 * and makes them inaccessible; the slot is never used again.  Each slot
 * costs the process two mappings for good, and the kernel allows a
 * process vm.max_map_count of them: slots are made while they leave a
 * quarter of that to the program, and then (or when the region is used
 * up, or the kernel refuses) allocations go back to the pool, unguarded,
 * with a notice in the trace to say so.  A fault in
 * a guard page is an overflow, a fault in a freed slot a use-after-free:
 * reported with the faulting code's stack, then the fault goes to the
 * handler that was there before (the runtime's fatal-signal handler, or
 * the default), which stops the program.
 *
 * Must never: allocate from the pool, or read a page that may be
 * inaccessible from the fault handler.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>	/* snprintf only: never a FILE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime.h"

enum {
	NRANGE		= 32,		/* size ranges in POOLDBG_GUARD */
	DEFMAPS		= 65530,	/* vm.max_map_count when it cannot be read */
	TAGBYTES	= 2 * sizeof(uintptr_t),
	SLACKFILL	= 0xFE,
	TAG_NEW		= 1,
	TAG_NEWARRAY	= 2,
	G_LIVE		= 1,
	G_FREED		= 2,
};

#define REGION		((size_t)16 << 30)	/* reserved for slots, never touched unless used */
#define GMAGIC		((uintptr_t)0x6A4D6A4D0A110C09ULL)

typedef struct Ghdr Ghdr;
struct Ghdr {
	uintptr_t magic;	/* GMAGIC */
	uintptr_t user;		/* the pointer the program got */
	uintptr_t size;		/* bytes asked for */
	uintptr_t guard;	/* the guard page */
	unsigned kind;		/* CALL_* that made it */
	_Atomic int state;	/* G_* */
};

int guard_on;

static struct {
	pthread_mutex_t lock;
	size_t	lo[NRANGE], hi[NRANGE];	/* sizes chosen: [lo, hi] */
	int	nrange;
	unsigned long sample;	/* one in sample; 0: none */
	_Atomic unsigned long count;
	uintptr_t rlo, rhi, next;	/* the region and its first unused byte */
	uintptr_t *slots;	/* slot starts in address order */
	size_t	nslots, maxslots;
	atomic_int full;	/* no more slots: allocations go to the pool */
	_Atomic size_t live, livebytes;	/* slots not freed, and their readable pages' bytes */
	size_t	peak, peakbytes;	/* the most there were of each (under lock) */
	size_t	pg;
	struct sigaction oldsegv, oldbus;
} g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Parse "24,100-200" into the ranges; 0, or -1 for nonsense. */
static int
parsesizes(const char *s)
{
	char *e;
	unsigned long a, b;

	while (*s != '\0' && g.nrange < NRANGE) {
		a = strtoul(s, &e, 10);
		if (e == s)
			return -1;
		b = a;
		if (*e == '-') {
			s = e + 1;
			b = strtoul(s, &e, 10);
			if (e == s || b < a)
				return -1;
		}
		g.lo[g.nrange] = a;
		g.hi[g.nrange] = b;
		g.nrange++;
		if (*e == ',')
			e++;
		else if (*e != '\0')
			return -1;
		s = e;
	}
	return 0;
}

/* The slot holding addr, or NULL.  No lock: slots are only ever appended. */
static Ghdr *
slotof(uintptr_t addr)
{
	size_t lo, hi, mid, n;

	if (addr < g.rlo || addr >= g.rhi)
		return NULL;
	n = __atomic_load_n(&g.nslots, __ATOMIC_ACQUIRE);
	lo = 0;
	hi = n;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (g.slots[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	return (Ghdr *)g.slots[lo - 1];
}

static void
onfault(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old;
	uintptr_t a, lo, hi;
	Ghdr *h;
	int kind, e;

	e = errno;
#ifdef REG_RIP
	err_setfaultpc((uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
#else
	(void)uc;
#endif
	a = (uintptr_t)si->si_addr;
	h = slotof(a);
	if (h != NULL && h->magic == GMAGIC && a >= (uintptr_t)h + g.pg) {
		kind = atomic_load(&h->state) == G_FREED ? ERR_USE_AFTER_FREE : ERR_OVERFLOW;
		lo = hi = 0;
		if (kind == ERR_OVERFLOW) {
			lo = h->user;
			hi = h->guard;
		}
		err_raise(kind, 0, (void *)a, (void *)h->user, h->size, (long)(a - h->user),
		    ERRF_GUARD | ERRF_FATAL | (kind == ERR_USE_AFTER_FREE ? ERRF_FREED : 0),
		    kind == ERR_OVERFLOW ? (void *)(hi - 1) : NULL, lo, hi,
		    kind == ERR_OVERFLOW ? "a fault in the guard page after the block" :
		    "a fault in the pages of a freed block", 0);
	}
	/* the handler before ours takes the fault again, and ends the program */
	old = sig == SIGBUS ? &g.oldbus : &g.oldsegv;
	sigaction(sig, old, NULL);
	errno = e;
}

/* The kernel's limit on a process's mappings (vm.max_map_count). */
static size_t
maxmaps(void)
{
	char buf[32], *e;
	unsigned long v;
	ssize_t r;
	int fd;

	if ((fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC)) < 0)
		return DEFMAPS;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return DEFMAPS;
	buf[r] = '\0';
	v = strtoul(buf, &e, 10);
	return e == buf || v == 0 ? DEFMAPS : (size_t)v;
}

void
guard_init(void)
{
	size_t maps;
	struct sigaction sa;
	const char *s;
	void *v;

	g.pg = (size_t)getpagesize();
	s = getenv("POOLDBG_GUARD");
	if (s != NULL && *s != '\0' && parsesizes(s) < 0) {
		s = "pooldbg: POOLDBG_GUARD: not a list of sizes; ignored\n";
		if (write(2, s, strlen(s)) < 0)
			return;
		g.nrange = 0;
	}
	s = getenv("POOLDBG_GUARD_SAMPLE");
	if (s != NULL && *s != '\0')
		g.sample = strtoul(s, NULL, 10);
	if (g.nrange == 0 && g.sample == 0)
		return;
	v = mmap(NULL, REGION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v == MAP_FAILED)
		return;
	g.rlo = g.next = (uintptr_t)v;
	g.rhi = g.rlo + REGION;
	g.maxslots = REGION / (3 * g.pg);
	maps = maxmaps();
	if (g.maxslots > maps / 2 - maps / 8)
		g.maxslots = maps / 2 - maps / 8;	/* two mappings a slot, a quarter left */
	v = mmap(NULL, g.maxslots * sizeof(uintptr_t), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v == MAP_FAILED)
		return;
	g.slots = v;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onfault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &g.oldsegv) < 0 || sigaction(SIGBUS, &sa, &g.oldbus) < 0)
		return;
	guard_on = 1;
}

int
guard_wanted(size_t n)
{
	int i;

	if (atomic_load_explicit(&g.full, memory_order_relaxed))
		return 0;
	for (i = 0; i < g.nrange; i++)
		if (n >= g.lo[i] && n <= g.hi[i])
			return 1;
	return g.sample != 0 && atomic_fetch_add(&g.count, 1) % g.sample == 0;
}

/*
 * Say once that no more blocks will be guarded: a notice in the trace,
 * which the recorder prints; never a line on the program's own stderr,
 * which may be its output.  Called without g.lock: the ring's lock may be
 * held by a thread waiting for g.lock (a realloc under rt_realloc).
 */
static void
sayfull(unsigned kind, size_t nslots)
{
	char msg[200];

	snprintf(msg, sizeof msg, "guard pages: %zu blocks guarded, as many as the process's "
	    "mappings allow (vm.max_map_count); later ones come from the pool unguarded", nslots);
	err_raise(ERR_NOTICE, kind, NULL, NULL, 0, 0, 0, NULL, 0, 0, msg, 0);
}

void *
guard_alloc(unsigned kind, size_t n, size_t align)
{
	uintptr_t slot, len, data, user, alg;
	Ghdr *h;
	size_t nslots, live, livebytes;
	int first;

	alg = align > 16 ? align : 16;
	if (n > REGION / 4 || alg > g.pg) {
		errno = ENOMEM;
		return NULL;
	}
	data = (n + TAGBYTES + alg + g.pg - 1) / g.pg * g.pg;
	len = g.pg + data + g.pg;
	pthread_mutex_lock(&g.lock);
	slot = g.next;
	if (slot + len > g.rhi || g.nslots == g.maxslots ||
	    mprotect((void *)slot, g.pg + data, PROT_READ | PROT_WRITE) < 0) {
		first = !atomic_exchange(&g.full, 1);
		nslots = g.nslots;
		pthread_mutex_unlock(&g.lock);
		if (first)
			sayfull(kind, nslots);
		return rt_allocate(kind, 1, n, align);	/* from the pool */
	}
	g.next += len;
	h = (Ghdr *)slot;
	h->guard = slot + g.pg + data;
	user = (h->guard - n) & ~(alg - 1);
	h->user = user;
	h->size = n;
	h->kind = kind;
	atomic_store(&h->state, G_LIVE);
	h->magic = GMAGIC;
	memset((void *)(user + n), SLACKFILL, h->guard - (user + n));
	g.slots[g.nslots] = slot;
	__atomic_store_n(&g.nslots, g.nslots + 1, __ATOMIC_RELEASE);
	live = atomic_fetch_add(&g.live, 1) + 1;
	livebytes = atomic_fetch_add(&g.livebytes, g.pg + data) + g.pg + data;
	g.peak = live > g.peak ? live : g.peak;
	g.peakbytes = livebytes > g.peakbytes ? livebytes : g.peakbytes;
	pthread_mutex_unlock(&g.lock);
	return (void *)user;
}

void
guard_figures(GuardFigures *f)
{
	f->blocks = atomic_load(&g.live);
	f->bytes = atomic_load(&g.livebytes);
	pthread_mutex_lock(&g.lock);
	f->maxblocks = g.peak;
	f->maxbytes = g.peakbytes;
	pthread_mutex_unlock(&g.lock);
}

int
guard_owns(const void *ptr, size_t *size)
{
	Ghdr *h;

	h = slotof((uintptr_t)ptr);
	if (h == NULL || h->magic != GMAGIC || h->user != (uintptr_t)ptr)
		return 0;
	if (size != NULL)
		*size = h->size;
	return 1;
}

static const char *
family(unsigned kind)
{
	switch (kind) {
	case CALL_NEW:		return "new";
	case CALL_NEW_ARRAY:	return "new[]";
	case CALL_DELETE:	return "delete";
	case CALL_DELETE_ARRAY:	return "delete[]";
	case CALL_REALLOC:	return "realloc";
	default:		return kind <= CALL_PVALLOC ? "malloc" : "free";
	}
}

void
guard_free(unsigned kind, void *ptr)
{
	uintptr_t u, start, q;
	char msg[160];
	unsigned made;
	Ghdr *h;
	int expect;

	h = slotof((uintptr_t)ptr);
	u = h->user;
	expect = G_LIVE;
	if (!atomic_compare_exchange_strong(&h->state, &expect, G_FREED)) {
		err_raise(kind == CALL_REALLOC || kind == CALL_REALLOCARRAY ? ERR_REALLOC_FREED :
		    ERR_DOUBLE_FREE, kind, ptr, ptr, h->size, 0, ERRF_FREED | ERRF_GUARD, NULL, 0, 0,
		    "a guarded block freed already", 0);
		return;
	}
	atomic_fetch_sub(&g.live, 1);
	atomic_fetch_sub(&g.livebytes, h->guard - (uintptr_t)h);
	made = h->kind == CALL_NEW ? TAG_NEW : h->kind == CALL_NEW_ARRAY ? TAG_NEWARRAY : 0;
	if ((kind == CALL_DELETE) != (made == TAG_NEW) ||
	    (kind == CALL_DELETE_ARRAY) != (made == TAG_NEWARRAY)) {
		snprintf(msg, sizeof msg, "a block from %s given to %s",
		    made == TAG_NEW ? "new" : made == TAG_NEWARRAY ? "new[]" : "malloc", family(kind));
		err_raise(ERR_MISMATCHED_FREE, kind, ptr, ptr, h->size, 0, ERRF_GUARD, ptr, u,
		    h->guard, msg, 0);
	}
	for (q = u + h->size; q < h->guard; q++)
		if (*(unsigned char *)q != SLACKFILL) {
			err_raise(ERR_OVERFLOW, kind, ptr, ptr, h->size, (long)(q - u), ERRF_GUARD,
			    (void *)q, u, h->guard, "the bytes after a guarded block were written", 0);
			break;
		}
	start = (uintptr_t)h + g.pg;
	madvise((void *)start, h->guard - start, MADV_DONTNEED);
	mprotect((void *)start, h->guard - start, PROT_NONE);
}
