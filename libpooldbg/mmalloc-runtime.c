/*
 * libpooldbg/mmalloc-runtime.c -- the mapped heaps' trace hooks in the
 * tracing runtime (libpooldbg-malloc.so): preloaded, these definitions
 * come first in the symbol lookup, so the calls of <pooldbg/mmalloc.h>
 * in libpooldbg call them instead of the ones in mmalloc.c that do
 * nothing.
 *
 * Owns nothing but the heap of the mrealloc under way in this thread: a
 * block of a mapped heap is recorded like any other (RecAlloc, RecFree,
 * RecRealloc of kind CALL_MMALLOC, CALL_MVALLOC, CALL_MFREE,
 * CALL_MREALLOC), so the trace holds its stacks; the records do not say
 * which heap, and the exit scan walks only the default pool.
 *
 * Must never: allocate, or record when tracing is off or the thread is
 * inside the runtime (rt_alloc, rt_free and rt_realloc see to that).
 */
#include "internal.h"

#include <stdint.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>
#include <pooldbg/mmalloc.h>

#include "runtime.h"

static __thread void *curmd RT_TLS;	/* the heap of this thread's mrealloc */

/* rt_realloc's worker: the reallocation in curmd. */
static void *
reallocmd(void *ptr, size_t n, size_t size)
{
	if (curmd == NULL)
		return pooldbg_realloc(ptr, n * size);
	return poolrealloc(mmalloc_pool(curmd), ptr, n * size);
}

/* See internal.h: traced, a RecAlloc of kind call. */
EXPORT void
pooldbg_mm_alloc(unsigned call, const void *ptr, size_t size, size_t align, uintptr_t pc)
{
	rt_alloc(call, 0, ptr, size, align, RT_FROMPC(pc));
}

/* See internal.h: traced, a RecFree of kind CALL_MFREE. */
EXPORT void
pooldbg_mm_free(const void *ptr, uintptr_t pc)
{
	rt_free(CALL_MFREE, 0, ptr, 0, RT_FROMPC(pc));
}

/* See internal.h: traced, the reallocation under rt_realloc (CALL_MREALLOC). */
EXPORT void *
pooldbg_mm_realloc(void *md, void *ptr, size_t size, uintptr_t pc)
{
	void *v, *outer;

	outer = curmd;
	curmd = md;
	v = rt_realloc(CALL_MREALLOC, reallocmd, ptr, 1, size, RT_FROMPC(pc));
	curmd = outer;
	return v;
}
