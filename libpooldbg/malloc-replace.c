/*
 * libpooldbg/malloc-replace.c -- libpooldbg-malloc: the default pool as the
 * program's malloc.
 *
 * Owns nothing but the C library's allocation names: malloc, calloc,
 * realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign,
 * valloc, pvalloc and malloc_usable_size, each a thin shim over its
 * pooldbg_ counterpart in libpooldbg that then points the block's tags at
 * the shim's caller instead of at the shim.  Linked into a program, or
 * preloaded with LD_PRELOAD, it makes every heap allocation of the process
 * (the C library's own included) a block of pooldbg_mainmem.
 *
 * Must never: export any other name, keep state of its own, or call
 * anything that may allocate (the shims are the allocator).
 */
#include "internal.h"

#include <malloc.h>	/* the C library's: memalign, pvalloc, malloc_usable_size */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#define CALLERPC()	((uintptr_t)__builtin_return_address(0))

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

	v = pooldbg_malloc(size);
	pooldbg_setmalloctag(v, CALLERPC());
	return v;
}

/* calloc: pooldbg_calloc, tagged with the caller. */
EXPORT void *
calloc(size_t n, size_t size)
{
	void *v;

	v = pooldbg_calloc(n, size);
	pooldbg_setmalloctag(v, CALLERPC());
	return v;
}

/*
 * Tag v, the result of reallocating ptr, for the caller at pc: the
 * realloc tag, and the malloc tag too when ptr was NULL.
 */
static void *
tagrealloc(void *ptr, void *v, uintptr_t pc)
{
	if (v != NULL) {
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
	return tagrealloc(ptr, pooldbg_realloc(ptr, size), CALLERPC());
}

/* reallocarray: pooldbg_reallocarray, tagged as realloc. */
EXPORT void *
reallocarray(void *ptr, size_t n, size_t size)
{
	return tagrealloc(ptr, pooldbg_reallocarray(ptr, n, size), CALLERPC());
}

/* free: pooldbg_free; a pointer that is no block of the pool is a panic. */
EXPORT void
free(void *ptr)
{
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
	return e;
}

/* aligned_alloc: pooldbg_aligned_alloc, tagged with the caller. */
EXPORT void *
aligned_alloc(size_t align, size_t size)
{
	void *v;

	v = pooldbg_aligned_alloc(align, size);
	pooldbg_setmalloctag(v, CALLERPC());
	return v;
}

/* memalign: pooldbg_memalign, tagged with the caller. */
EXPORT void *
memalign(size_t align, size_t size)
{
	void *v;

	v = pooldbg_memalign(align, size);
	pooldbg_setmalloctag(v, CALLERPC());
	return v;
}

/* valloc: pooldbg_valloc, tagged with the caller. */
EXPORT void *
valloc(size_t size)
{
	void *v;

	v = pooldbg_valloc(size);
	pooldbg_setmalloctag(v, CALLERPC());
	return v;
}

/* pvalloc: pooldbg_pvalloc, tagged with the caller. */
EXPORT void *
pvalloc(size_t size)
{
	void *v;

	v = pooldbg_pvalloc(size);
	pooldbg_setmalloctag(v, CALLERPC());
	return v;
}

/* malloc_usable_size: pooldbg_malloc_usable_size (the block grows to it). */
EXPORT size_t
malloc_usable_size(void *ptr)
{
	return pooldbg_malloc_usable_size(ptr);
}
