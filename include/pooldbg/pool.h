/*
 * <pooldbg/pool.h> -- the Pool allocator of pool(3).
 *
 * A Pool carves blocks out of arenas it obtains from a coarser allocator
 * (p->alloc) and hands them to callers.  Every call locks the pool through
 * p->lock/p->unlock, checks what it touches, and reports corruption through
 * p->panic with a dump of the broken block printed through p->print.
 * Sizes and addresses are full width (size_t, uintptr_t).
 *
 * The pool knows nothing of tracing: it speaks only through the callbacks
 * below.  See pool(3) for the whole contract.
 */
#ifndef POOLDBG_POOL_H
#define POOLDBG_POOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct Pool Pool;

struct Pool {
	const char *name;	/* shown in dumps and panics */
	uintptr_t maxsize;	/* bytes the arenas may total, at most */
	uintptr_t cursize;	/* bytes the arenas total now */
	uintptr_t curfree;	/* bytes in free blocks */
	uintptr_t curalloc;	/* bytes in allocated blocks */
	size_t	minarena;	/* smallest request made of alloc */
	size_t	quantum;	/* block sizes are a multiple of this (power of 2) */
	size_t	minblock;	/* smallest block handed out */
	void	*freeroot;	/* private: root of the free tree */
	void	*arenalist;	/* private: arenas, lowest address first */
	void	*arenahint;	/* private: the arena last looked up */
	void	*(*alloc)(size_t);	/* get an arena; NULL when out of memory */
	int	(*merge)(void *, void *);	/* join two adjacent arenas; 0 if not */
	void	(*move)(void *from, void *to);	/* told of each block poolcompact moves */
	int	flags;		/* POOL_* below */
	unsigned long nfree;	/* calls of poolfree so far */
	unsigned long lastcompact;	/* nfree at the last poolcompact */
	void	(*lock)(Pool *);	/* may be NULL */
	void	(*unlock)(Pool *);	/* may be NULL */
	void	(*print)(Pool *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));	/* messages, dumps, log */
	void	(*panic)(Pool *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));	/* corruption; must not return */
	void	(*logstack)(Pool *);	/* called before each POOL_LOGGING line */
#ifdef __cplusplus
	void	*private_;
#else
	void	*private;	/* the owner's, never touched by the pool */
#endif
	uintptr_t arenaidx[2 * 32];	/* private: start and end of the lowest 32 arenas */
	int	narenaidx;	/* private: the arenas arenaidx holds */
};

enum {	/* Pool.flags */
	POOL_ANTAGONISM	= 1 << 0,	/* fill blocks with marked garbage */
	POOL_PARANOIA	= 1 << 1,	/* poolcheck before and after every call */
	POOL_VERBOSITY	= 1 << 2,	/* print the arenas before and after every call */
	POOL_DEBUGGING	= 1 << 3,	/* trace the allocator's own decisions */
	POOL_LOGGING	= 1 << 4,	/* one line per call, after logstack */
	POOL_TOLERANCE	= 1 << 5,	/* one NUL past the end is a notice, not a panic */
	POOL_NOREUSE	= 1 << 6,	/* freed blocks are filled and never reused */
};

void	*poolalloc(Pool *p, size_t size);
void	*poolallocalign(Pool *p, size_t size, size_t align, long offset, size_t span);
void	poolfree(Pool *p, void *ptr);
size_t	poolmsize(Pool *p, void *ptr);
int	poolisoverlap(Pool *p, void *ptr, size_t len);
void	*poolrealloc(Pool *p, void *ptr, size_t size);
int	poolcompact(Pool *p);
void	poolcheck(Pool *p);
void	poolblockcheck(Pool *p, void *ptr);
void	pooldump(Pool *p);

#ifdef __cplusplus
}
#endif

#endif /* POOLDBG_POOL_H */
