/*
 * libpooldbg/malloc-replace.c -- libpooldbg-malloc: the default pool as the
 * program's malloc, every call reported to the tracing runtime.
 *
 * Owns nothing but the allocation names: malloc, calloc, realloc,
 * reallocarray, free, posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc and malloc_usable_size, each a thin shim over its pooldbg_
 * counterpart in libpooldbg that then points the block's tags at the
 * shim's caller instead of at the shim; the calls that tell of the heap
 * (mallinfo2, mallinfo, malloc_stats, malloc_info) and malloc_trim, so
 * that the C library's own heap, unused, is never what they describe;
 * and the C++ operators new, new[],
 * delete and delete[] in all the variants libstdc++ defines (plain,
 * nothrow, sized, std::align_val_t), under their mangled names so that no
 * C++ compiler is needed.  Linked into a program, or preloaded with
 * LD_PRELOAD, it makes every heap allocation of the process (the C
 * library's own included) a block of pooldbg_mainmem; with POOLDBG_SESSION
 * set, runtime.c records each call (which one, its size, pointer and
 * stack).
 *
 * operator new on failure: as libstdc++'s, it calls the new-handler
 * (std::get_new_handler, looked up with dlsym) until it succeeds or there
 * is none, then throws std::bad_alloc built from the C++ runtime's own
 * symbols (__cxa_allocate_exception, __cxa_throw, the bad_alloc vtable and
 * typeinfo).  A process without a C++ runtime in its global scope gets one
 * line on fd 2 and abort().  The nothrow variants do not call the
 * new-handler (a handler that throws could not be caught here in C); they
 * return NULL.
 *
 * Must never: export any other name, keep state of its own, or call
 * anything that may allocate outside the failure path of operator new
 * and the printing of malloc_stats and malloc_info, which hold no lock
 * (the shims are the allocator).  Frees are reported before the block is
 * given back, allocations after it was handed out.  While tracing, malloc,
 * calloc, realloc, free and the operators go through the runtime's checked
 * calls (runtime-quarantine.c): guard pages, the quarantine, the checks of
 * a free, and the family of operator new's blocks in their realloc tag
 * (1 new, 2 new[]).
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>	/* the C library's: memalign, pvalloc, malloc_usable_size, mallinfo2 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>	/* malloc_stats and malloc_info print with it */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#include "runtime.h"

#define CALLERPC()	((uintptr_t)__builtin_return_address(0))
#define TRACING()	__builtin_expect(rt_state != RT_OFF, 0)

/*
 * Every shim has the contract of the C library call of the same name
 * (see pooldbg-malloc(3) for where it differs) and that of its pooldbg_
 * counterpart; blocks are tagged with the PC of the shim's caller.
 */

/* malloc: pooldbg_malloc, tagged with the caller. */
EXPORT void *
malloc(size_t size)
{
	void *v;

	if (TRACING()) {
		v = rt_allocate(CALL_MALLOC, 1, size, 0);
		pooldbg_setmalloctag(v, CALLERPC());
		rt_alloc(CALL_MALLOC, 0, v, size, 0, RT_FROM());
		return v;
	}
	v = pooldbg_malloc(size);
	pooldbg_setmalloctag(v, CALLERPC());
	return v;
}

/* calloc: pooldbg_calloc, tagged with the caller. */
EXPORT void *
calloc(size_t n, size_t size)
{
	size_t total;
	void *v;

	v = TRACING() ? rt_allocate(CALL_CALLOC, n, size, 0) : pooldbg_calloc(n, size);
	pooldbg_setmalloctag(v, CALLERPC());
	if (TRACING()) {
		if (__builtin_mul_overflow(n, size, &total))
			total = SIZE_MAX;
		rt_alloc(CALL_CALLOC, 0, v, total, 0, RT_FROM());
	}
	return v;
}

/*
 * Tag v, the result of reallocating ptr, for the caller at pc: the
 * realloc tag, and the malloc tag too when ptr was NULL.  A block leaks
 * mode follows keeps its marks instead (runtime-live.c).
 */
static void *
tagrealloc(void *ptr, void *v, uintptr_t pc)
{
	if (v != NULL && !live_marked(v)) {
		pooldbg_setrealloctag(v, pc);
		if (ptr == NULL)
			pooldbg_setmalloctag(v, pc);
	}
	return v;
}

/* realloc: pooldbg_realloc, tagged as a reallocation by the caller. */
EXPORT void *
realloc(void *ptr, size_t size)
{
	void *v;

	if (TRACING())
		v = rt_reallocate(CALL_REALLOC, ptr, 1, size, RT_FROM());
	else
		v = pooldbg_realloc(ptr, size);
	return tagrealloc(ptr, v, CALLERPC());
}

/* reallocarray: pooldbg_reallocarray, tagged as realloc. */
EXPORT void *
reallocarray(void *ptr, size_t n, size_t size)
{
	void *v;

	if (TRACING())
		v = rt_reallocate(CALL_REALLOCARRAY, ptr, n, size, RT_FROM());
	else
		v = pooldbg_reallocarray(ptr, n, size);
	return tagrealloc(ptr, v, CALLERPC());
}

/* free: pooldbg_free; a pointer that is no block of the pool is a panic. */
EXPORT void
free(void *ptr)
{
	if (TRACING())
		rt_release(CALL_FREE, 0, ptr, 0, RT_FROM());
	else
		pooldbg_free(ptr);
}

/* posix_memalign: pooldbg_posix_memalign, tagged with the caller. */
EXPORT int
posix_memalign(void **memptr, size_t align, size_t size)
{
	int e;

	e = pooldbg_posix_memalign(memptr, align, size);
	if (e == 0)
		pooldbg_setmalloctag(*memptr, CALLERPC());
	if (TRACING())
		rt_alloc(CALL_POSIX_MEMALIGN, 0, e == 0 ? *memptr : NULL, size, align, RT_FROM());
	return e;
}

/* aligned_alloc: pooldbg_aligned_alloc, tagged with the caller. */
EXPORT void *
aligned_alloc(size_t align, size_t size)
{
	void *v;

	v = pooldbg_aligned_alloc(align, size);
	pooldbg_setmalloctag(v, CALLERPC());
	if (TRACING())
		rt_alloc(CALL_ALIGNED_ALLOC, 0, v, size, align, RT_FROM());
	return v;
}

/* memalign: pooldbg_memalign, tagged with the caller. */
EXPORT void *
memalign(size_t align, size_t size)
{
	void *v;

	v = pooldbg_memalign(align, size);
	pooldbg_setmalloctag(v, CALLERPC());
	if (TRACING())
		rt_alloc(CALL_MEMALIGN, 0, v, size, align, RT_FROM());
	return v;
}

/* valloc: pooldbg_valloc, tagged with the caller. */
EXPORT void *
valloc(size_t size)
{
	void *v;

	v = pooldbg_valloc(size);
	pooldbg_setmalloctag(v, CALLERPC());
	if (TRACING())
		rt_alloc(CALL_VALLOC, 0, v, size, (size_t)getpagesize(), RT_FROM());
	return v;
}

/* pvalloc: pooldbg_pvalloc, tagged with the caller. */
EXPORT void *
pvalloc(size_t size)
{
	void *v;

	v = pooldbg_pvalloc(size);
	pooldbg_setmalloctag(v, CALLERPC());
	if (TRACING())
		rt_alloc(CALL_PVALLOC, 0, v, size, (size_t)getpagesize(), RT_FROM());
	return v;
}

/* malloc_usable_size: pooldbg_malloc_usable_size (the block grows to it). */
EXPORT size_t
malloc_usable_size(void *ptr)
{
	size_t n;

	if (TRACING() && guard_on && guard_owns(ptr, &n))
		return n;
	return pooldbg_malloc_usable_size(ptr);
}

/* ---- the heap's figures -------------------------------------------------- */

/*
 * mallinfo2: pooldbg_mallinfo2, or, tracing, the runtime's figures (the
 * quarantine's blocks free, guarded blocks as mapped chunks).  *g gets the
 * guarded blocks' figures (all 0 when not tracing).
 */
static struct mallinfo2
figures(GuardFigures *g)
{
	memset(g, 0, sizeof *g);
	if (TRACING())
		return rt_mallinfo2(g);
	return pooldbg_mallinfo2();
}

/* mallinfo2: the default pool's figures (see pooldbg-malloc(3)). */
EXPORT struct mallinfo2
mallinfo2(void)
{
	GuardFigures g;

	return figures(&g);
}

/* mallinfo: mallinfo2's figures in ints, truncated as glibc's are. */
EXPORT struct mallinfo
mallinfo(void)
{
	struct mallinfo2 m2;
	struct mallinfo m;
	GuardFigures g;

	m2 = figures(&g);
	m.arena = (int)m2.arena;
	m.ordblks = (int)m2.ordblks;
	m.smblks = (int)m2.smblks;
	m.hblks = (int)m2.hblks;
	m.hblkhd = (int)m2.hblkhd;
	m.usmblks = (int)m2.usmblks;
	m.fsmblks = (int)m2.fsmblks;
	m.uordblks = (int)m2.uordblks;
	m.fordblks = (int)m2.fordblks;
	m.keepcost = (int)m2.keepcost;
	return m;
}

/* malloc_trim: the pool never gives its arenas back, so nothing is released: 0. */
EXPORT int
malloc_trim(size_t pad)
{
	(void)pad;
	return 0;
}

/*
 * malloc_stats: glibc's lines on stderr, of the one arena the default
 * pool is (its arenas together) and of the whole heap, guarded blocks
 * being its mapped regions.
 */
EXPORT void
malloc_stats(void)
{
	struct mallinfo2 m;
	GuardFigures g;

	m = figures(&g);
	fprintf(stderr, "Arena 0:\n"
	    "system bytes     = %10zu\n"
	    "in use bytes     = %10zu\n"
	    "Total (incl. mmap):\n"
	    "system bytes     = %10zu\n"
	    "in use bytes     = %10zu\n"
	    "max mmap regions = %10zu\n"
	    "max mmap bytes   = %10zu\n",
	    m.arena, m.uordblks, m.arena + m.hblkhd, m.uordblks + m.hblkhd,
	    g.maxblocks, g.maxbytes);
}

/*
 * malloc_info's figures of a heap (mapped 0) or of the whole (mapped 1,
 * with the mapped chunks): glibc's totals, then its system and aspace
 * lines, all the arenas' bytes, which are never given back, so what there
 * is now is the most there was.
 */
static void
infofigures(FILE *fp, const struct mallinfo2 *m, int mapped)
{
	fprintf(fp, "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
	    "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n",
	    m->smblks, m->fsmblks, m->ordblks, m->fordblks - m->fsmblks);
	if (mapped)
		fprintf(fp, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n",
		    m->hblks, m->hblkhd);
	fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n"
	    "<system type=\"max\" size=\"%zu\"/>\n"
	    "<aspace type=\"total\" size=\"%zu\"/>\n"
	    "<aspace type=\"mprotect\" size=\"%zu\"/>\n",
	    m->arena, m->arena, m->arena, m->arena);
}

/*
 * malloc_info: glibc's XML on fp, the same figures; options must be 0
 * (else EINVAL, as glibc's).  The free blocks are not listed by size.
 */
EXPORT int
malloc_info(int options, FILE *fp)
{
	struct mallinfo2 m;
	GuardFigures g;

	if (options != 0)
		return EINVAL;
	m = figures(&g);
	fputs("<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n</sizes>\n", fp);
	infofigures(fp, &m, 0);
	fputs("</heap>\n", fp);
	infofigures(fp, &m, 1);
	fputs("</malloc>\n", fp);
	return 0;
}

/* ---- C++ operators new and delete --------------------------------------- */

/*
 * The mangled names of libstdc++'s replaceable operators (LP64: size_t is
 * 'm', std::align_val_t is an enum over size_t).  "nothrow" stands for
 * const std::nothrow_t &.
 */
void	*_Znwm(size_t);					/* new(size) */
void	*_Znam(size_t);					/* new[](size) */
void	*_ZnwmRKSt9nothrow_t(size_t, const void *);	/* new(size, nothrow) */
void	*_ZnamRKSt9nothrow_t(size_t, const void *);
void	*_ZnwmSt11align_val_t(size_t, size_t);		/* new(size, align) */
void	*_ZnamSt11align_val_t(size_t, size_t);
void	*_ZnwmSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
void	*_ZnamSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
void	_ZdlPv(void *);					/* delete(ptr) */
void	_ZdaPv(void *);
void	_ZdlPvm(void *, size_t);			/* delete(ptr, size) */
void	_ZdaPvm(void *, size_t);
void	_ZdlPvRKSt9nothrow_t(void *, const void *);	/* delete(ptr, nothrow) */
void	_ZdaPvRKSt9nothrow_t(void *, const void *);
void	_ZdlPvSt11align_val_t(void *, size_t);		/* delete(ptr, align) */
void	_ZdaPvSt11align_val_t(void *, size_t);
void	_ZdlPvmSt11align_val_t(void *, size_t, size_t);	/* delete(ptr, size, align) */
void	_ZdaPvmSt11align_val_t(void *, size_t, size_t);
void	_ZdlPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);
void	_ZdaPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);

/* Call the new-handler if there is one; whether there was (it may throw instead). */
static int
newhandler(void)
{
	void (*(*get)(void))(void);
	void (*h)(void);

	*(void **)&get = dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
	if (get == NULL || (h = get()) == NULL)
		return 0;
	h();
	return 1;
}

/* throw std::bad_alloc(); without a C++ runtime, say so and abort. */
static __attribute__((noreturn)) void
badalloc(void)
{
	static const char msg[] = "pooldbg: operator new: out of memory, "
	    "and no C++ runtime to throw std::bad_alloc\n";
	void *(*alloc)(size_t);
	void (*throwfn)(void *, void *, void (*)(void *));
	void (*dtor)(void *);
	char *vtable, *typeinfo;
	void **e;
	ssize_t r;

	*(void **)&alloc = dlsym(RTLD_DEFAULT, "__cxa_allocate_exception");
	*(void **)&throwfn = dlsym(RTLD_DEFAULT, "__cxa_throw");
	*(void **)&dtor = dlsym(RTLD_DEFAULT, "_ZNSt9bad_allocD1Ev");
	vtable = dlsym(RTLD_DEFAULT, "_ZTVSt9bad_alloc");
	typeinfo = dlsym(RTLD_DEFAULT, "_ZTISt9bad_alloc");
	if (alloc != NULL && throwfn != NULL && dtor != NULL && vtable != NULL &&
	    typeinfo != NULL && (e = alloc(sizeof(void *))) != NULL) {
		/* the object's vptr: past the offset-to-top and typeinfo words */
		*e = vtable + 2 * sizeof(void *);
		throwfn(e, typeinfo, dtor);
	}
	r = write(2, msg, sizeof msg - 1);
	(void)r;
	abort();
}

static void *
newblock(unsigned kind, size_t size, size_t align, int nothrow)
{
	void *v;

	for (;;) {
		if (TRACING())
			v = rt_allocate(kind, 1, size, align);
		else
			v = align != 0 ? pooldbg_aligned_alloc(align, size) : pooldbg_malloc(size);
		if (v != NULL || nothrow || !newhandler())
			return v;
	}
}

/*
 * One body for every operator new: the block, tagged with pc and
 * recorded as kind with flags; a failure throws unless nothrow.
 */
#define NEWBODY(kind, flags, size, align, nothrow) do { \
	void *v_; \
	v_ = newblock((kind), (size), (align), (nothrow)); \
	pooldbg_setmalloctag(v_, CALLERPC()); \
	if (TRACING()) { \
		/* the family, for delete to check: realloc tag 1 for new, 2 for new[] */ \
		pooldbg_setrealloctag(v_, (kind) == CALL_NEW ? 1 : 2); \
		rt_alloc((kind), (flags), v_, (size), (align), RT_FROM()); \
	} \
	if (v_ == NULL && !(nothrow)) \
		badalloc(); \
	return v_; \
} while (0)

#define DELBODY(kind, flags, ptr, size) do { \
	if (TRACING()) \
		rt_release((kind), (flags), (ptr), (size), RT_FROM()); \
	else \
		pooldbg_free(ptr); \
} while (0)

/* operator new(size_t): throws std::bad_alloc on failure. */
EXPORT void *
_Znwm(size_t size)
{
	NEWBODY(CALL_NEW, 0, size, 0, 0);
}

/* operator new[](size_t). */
EXPORT void *
_Znam(size_t size)
{
	NEWBODY(CALL_NEW_ARRAY, 0, size, 0, 0);
}

/* operator new(size_t, const std::nothrow_t &): NULL on failure. */
EXPORT void *
_ZnwmRKSt9nothrow_t(size_t size, const void *nt)
{
	(void)nt;
	NEWBODY(CALL_NEW, CALLF_NOTHROW, size, 0, 1);
}

/* operator new[](size_t, const std::nothrow_t &). */
EXPORT void *
_ZnamRKSt9nothrow_t(size_t size, const void *nt)
{
	(void)nt;
	NEWBODY(CALL_NEW_ARRAY, CALLF_NOTHROW, size, 0, 1);
}

/* operator new(size_t, std::align_val_t). */
EXPORT void *
_ZnwmSt11align_val_t(size_t size, size_t align)
{
	NEWBODY(CALL_NEW, CALLF_ALIGNED, size, align, 0);
}

/* operator new[](size_t, std::align_val_t). */
EXPORT void *
_ZnamSt11align_val_t(size_t size, size_t align)
{
	NEWBODY(CALL_NEW_ARRAY, CALLF_ALIGNED, size, align, 0);
}

/* operator new(size_t, std::align_val_t, const std::nothrow_t &). */
EXPORT void *
_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt)
{
	(void)nt;
	NEWBODY(CALL_NEW, CALLF_ALIGNED | CALLF_NOTHROW, size, align, 1);
}

/* operator new[](size_t, std::align_val_t, const std::nothrow_t &). */
EXPORT void *
_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt)
{
	(void)nt;
	NEWBODY(CALL_NEW_ARRAY, CALLF_ALIGNED | CALLF_NOTHROW, size, align, 1);
}

/* operator delete(void *). */
EXPORT void
_ZdlPv(void *ptr)
{
	DELBODY(CALL_DELETE, 0, ptr, 0);
}

/* operator delete[](void *). */
EXPORT void
_ZdaPv(void *ptr)
{
	DELBODY(CALL_DELETE_ARRAY, 0, ptr, 0);
}

/* operator delete(void *, size_t): the size is recorded as the program said it. */
EXPORT void
_ZdlPvm(void *ptr, size_t size)
{
	DELBODY(CALL_DELETE, CALLF_SIZED, ptr, size);
}

/* operator delete[](void *, size_t). */
EXPORT void
_ZdaPvm(void *ptr, size_t size)
{
	DELBODY(CALL_DELETE_ARRAY, CALLF_SIZED, ptr, size);
}

/* operator delete(void *, const std::nothrow_t &). */
EXPORT void
_ZdlPvRKSt9nothrow_t(void *ptr, const void *nt)
{
	(void)nt;
	DELBODY(CALL_DELETE, CALLF_NOTHROW, ptr, 0);
}

/* operator delete[](void *, const std::nothrow_t &). */
EXPORT void
_ZdaPvRKSt9nothrow_t(void *ptr, const void *nt)
{
	(void)nt;
	DELBODY(CALL_DELETE_ARRAY, CALLF_NOTHROW, ptr, 0);
}

/* operator delete(void *, std::align_val_t). */
EXPORT void
_ZdlPvSt11align_val_t(void *ptr, size_t align)
{
	(void)align;
	DELBODY(CALL_DELETE, CALLF_ALIGNED, ptr, 0);
}

/* operator delete[](void *, std::align_val_t). */
EXPORT void
_ZdaPvSt11align_val_t(void *ptr, size_t align)
{
	(void)align;
	DELBODY(CALL_DELETE_ARRAY, CALLF_ALIGNED, ptr, 0);
}

/* operator delete(void *, size_t, std::align_val_t). */
EXPORT void
_ZdlPvmSt11align_val_t(void *ptr, size_t size, size_t align)
{
	(void)align;
	DELBODY(CALL_DELETE, CALLF_SIZED | CALLF_ALIGNED, ptr, size);
}

/* operator delete[](void *, size_t, std::align_val_t). */
EXPORT void
_ZdaPvmSt11align_val_t(void *ptr, size_t size, size_t align)
{
	(void)align;
	DELBODY(CALL_DELETE_ARRAY, CALLF_SIZED | CALLF_ALIGNED, ptr, size);
}

/* operator delete(void *, std::align_val_t, const std::nothrow_t &). */
EXPORT void
_ZdlPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t align, const void *nt)
{
	(void)align;
	(void)nt;
	DELBODY(CALL_DELETE, CALLF_ALIGNED | CALLF_NOTHROW, ptr, 0);
}

/* operator delete[](void *, std::align_val_t, const std::nothrow_t &). */
EXPORT void
_ZdaPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t align, const void *nt)
{
	(void)align;
	(void)nt;
	DELBODY(CALL_DELETE_ARRAY, CALLF_ALIGNED | CALLF_NOTHROW, ptr, 0);
}
