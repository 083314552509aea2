/*
 * <pooldbg/malloc.h> -- the malloc(3) family over the default pool.
 *
 * Every call here allocates from one process-wide Pool, pooldbg_mainmem,
 * whose arenas come from mmap(2) and whose behaviour flags come from the
 * environment variable POOLDBG_FLAGS.  Each block carries two tag words
 * just before the pointer handed out: the malloc tag (by default the
 * program counter of the allocating call) and the realloc tag (that of the
 * last reallocating call).
 *
 * The glibc-compatible calls keep a pooldbg_ prefix so that including
 * this header never replaces the C library's malloc; link
 * libpooldbg-malloc (or preload it) for that.  The Plan 9 names (mainmem,
 * mallocz, msize, ...) are macros over the pooldbg_ names; define
 * POOLDBG_NO_PLAN9_NAMES before including this header to keep them out of
 * your namespace.  See pooldbg-malloc(3).
 */
#ifndef POOLDBG_MALLOC_H
#define POOLDBG_MALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <pooldbg/pool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define POOLDBG_MALLOC_ATTR	__attribute__((malloc, warn_unused_result))
#else
#define POOLDBG_MALLOC_ATTR
#endif

/* The default pool behind every call below.  Do not assign to it. */
extern Pool *pooldbg_mainmem;

/* ---- the C and POSIX calls, with glibc's semantics ---------------------- */

void	*pooldbg_malloc(size_t size) POOLDBG_MALLOC_ATTR;
void	*pooldbg_calloc(size_t n, size_t size) POOLDBG_MALLOC_ATTR;
void	*pooldbg_realloc(void *ptr, size_t size);
void	*pooldbg_reallocarray(void *ptr, size_t n, size_t size);
void	pooldbg_free(void *ptr);
int	pooldbg_posix_memalign(void **memptr, size_t align, size_t size);
void	*pooldbg_aligned_alloc(size_t align, size_t size) POOLDBG_MALLOC_ATTR;
void	*pooldbg_memalign(size_t align, size_t size) POOLDBG_MALLOC_ATTR;
void	*pooldbg_valloc(size_t size) POOLDBG_MALLOC_ATTR;
void	*pooldbg_pvalloc(size_t size) POOLDBG_MALLOC_ATTR;
size_t	pooldbg_malloc_usable_size(void *ptr);
struct mallinfo2;	/* <malloc.h>'s */
struct mallinfo2 pooldbg_mallinfo2(void);

/* ---- the Plan 9 calls --------------------------------------------------- */

void	*pooldbg_mallocz(size_t size, int clr) POOLDBG_MALLOC_ATTR;
void	*pooldbg_mallocalign(size_t size, size_t align, long offset, size_t span)
	    POOLDBG_MALLOC_ATTR;
size_t	pooldbg_msize(void *ptr);
void	*pooldbg_smalloc(size_t size) POOLDBG_MALLOC_ATTR;
void	pooldbg_setmalloctag(void *ptr, uintptr_t tag);
uintptr_t	pooldbg_getmalloctag(void *ptr);
void	pooldbg_setrealloctag(void *ptr, uintptr_t tag);
uintptr_t	pooldbg_getrealloctag(void *ptr);
void	pooldbg_mallocsummary(void);

#undef POOLDBG_MALLOC_ATTR

#ifndef POOLDBG_NO_PLAN9_NAMES
#define mainmem			pooldbg_mainmem
#define mallocz(size, clr)	pooldbg_mallocz(size, clr)
#define mallocalign(size, align, offset, span) \
	pooldbg_mallocalign(size, align, offset, span)
#define msize(ptr)		pooldbg_msize(ptr)
#define smalloc(size)		pooldbg_smalloc(size)
#define setmalloctag(ptr, tag)	pooldbg_setmalloctag(ptr, tag)
#define getmalloctag(ptr)	pooldbg_getmalloctag(ptr)
#define setrealloctag(ptr, tag)	pooldbg_setrealloctag(ptr, tag)
#define getrealloctag(ptr)	pooldbg_getrealloctag(ptr)
#define mallocsummary()		pooldbg_mallocsummary()
#endif

#ifdef __cplusplus
}
#endif

#endif /* POOLDBG_MALLOC_H */
