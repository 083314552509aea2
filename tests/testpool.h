/*
 * tests/testpool.h -- the fixture the pool tests build their Pools with.
 *
 * Owns: test Pools whose arenas come either from one fixed mmap'd region
 * (carved in address order, so consecutive arenas are adjacent and can be
 * merged) or from one mmap per arena (each followed by an inaccessible
 * guard page, so arenas are never adjacent); callbacks that record what the
 * pool did (alloc requests, merge offers, printed lines, panics, lock and
 * unlock calls, logstack calls, moves); and small helpers to search what was
 * printed and to compare values with a diagnostic on failure.
 *
 * Never: allocates from the pool under test, or from malloc in a callback
 * (print and panic format into fixed buffers), so a broken pool cannot
 * break the fixture that watches it.  A panic never returns into the pool:
 * it siglongjmp()s to the point EXPECT_PANIC set, or bails out of the
 * whole test program when no such point is set.
 */
#ifndef POOLDBG_TESTPOOL_H
#define POOLDBG_TESTPOOL_H

#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <pooldbg/pool.h>

enum {	/* where the arenas come from */
	TP_REGION,	/* carved from one reserved region, lowest first; the region
			   starts at a multiple of TP_REGIONALIGN, so that alignments
			   dividing it (24, 100, 3000, 64 KiB, ...) give the same
			   layout in every run */
	TP_MMAP,	/* one mapping per arena, a PROT_NONE page after each */
};

enum {
	TP_MAXCHUNKS	= 4096,		/* arenas remembered per pool */
	TP_PRINTMAX	= 1 << 20,	/* bytes of printed text kept */
	TP_MSGMAX	= 1024,		/* bytes of the panic message kept */
	TP_REGIONSIZE	= 256 << 20,	/* reserved size of a TP_REGION region */
	TP_REGIONALIGN	= 375 << 20,	/* its start is a multiple of this: of 1 MiB, 3 and 125 */
};

typedef struct TestPool TestPool;

struct TestChunk {
	char	*start;		/* address handed to the pool */
	size_t	size;		/* bytes the pool asked for (after merges: the sum) */
	size_t	maplen;		/* TP_MMAP: bytes mapped, guard page included */
};

struct TestPool {
	Pool	pool;		/* the pool under test; pool.private points here */
	int	slot;		/* index of the callback trampolines this pool uses */
	int	source;		/* TP_REGION or TP_MMAP */
	char	name[32];	/* pool.name points here */

	/* arena source */
	char	*region;	/* TP_REGION: the reserved region */
	size_t	regionsize;	/* its size */
	size_t	regionused;	/* bytes handed out from its start */
	size_t	gap;		/* TP_REGION: bytes skipped between arenas */
	long	allocfail;	/* >= 0: succeed this many more times, then fail */
	unsigned long nalloc;	/* calls of the alloc callback */
	unsigned long nallocok;	/* ... that returned memory */
	size_t	allocmin;	/* smallest size asked for (SIZE_MAX if none) */
	size_t	alloclast;	/* size of the latest request */
	size_t	allocbytes;	/* bytes handed out in total */
	struct TestChunk chunks[TP_MAXCHUNKS];	/* the arenas, in the order obtained */
	int	nchunks;
	int	chunklost;	/* chunks[] overflowed: some mappings are not unmapped */

	/* merge */
	int	mergeok;	/* nonzero: accept adjacent arenas (the default) */
	unsigned long nmerge;	/* calls of the merge callback */
	unsigned long nmerged;	/* ... that joined two arenas */
	unsigned long nmergebad;	/* ... offered arenas that were not adjacent */

	/* move (poolcompact); the hook is the test's own bookkeeping */
	void	(*onmove)(TestPool *, void *from, void *to);
	unsigned long nmove;

	/* print */
	char	printbuf[TP_PRINTMAX];	/* text printed since tp_clear, NUL-terminated */
	size_t	printlen;	/* bytes in printbuf */
	unsigned long nlines;	/* lines printed since tp_clear (even if not kept) */
	int	printlost;	/* printbuf filled up: later text was dropped */
	int	echo;		/* copy printed text to stderr (POOLDBG_TEST_VERBOSE) */

	/* panic */
	sigjmp_buf *panicjmp;	/* where a panic returns to; NULL: bail out */
	char	panicmsg[TP_MSGMAX];	/* the latest panic, formatted */
	unsigned long npanic;
	unsigned long panicnlines;	/* nlines when the panic came */
	int	paniclocked;	/* the pool held its lock when it panicked */

	/* lock, unlock */
	int	usemutex;	/* lock a real mutex as well as counting */
	pthread_mutex_t mu;
	unsigned long nlock;
	unsigned long nunlock;
	int	depth;		/* lock calls not yet unlocked */
	int	maxdepth;	/* deepest nesting seen */
	unsigned long lockerr;	/* unlock without a lock */

	/* logstack */
	unsigned long nlogstack;
	unsigned long logstacknlines;	/* nlines when logstack was last called */
};

/*
 * A new test pool named "tp<slot>-<tag>", its arenas from source, with the
 * given flags and every callback installed.  Defaults: quantum 32,
 * minblock 0, minarena 64 KiB, maxsize 1 GiB, mergeok 1, no move callback
 * (see tp_setmove).  POOLDBG_TEST_VERBOSE in the environment echoes what
 * the pool prints to stderr.
 * Bails out of the program if it cannot be made.  Free with tp_free.
 */
TestPool	*tp_new(const char *tag, int source, int flags);
/* Unmaps everything tp owns, the pool's arenas included.  tp may be NULL. */
void	tp_free(TestPool *tp);
/*
 * Installs the move callback of tp's slot as tp->pool.move; each move is
 * counted in tp->nmove and passed to onmove (may be NULL).  To remove it,
 * set tp->pool.move = NULL.
 */
void	tp_setmove(TestPool *tp, void (*onmove)(TestPool *, void *, void *));
/* Forgets the printed text and the line count (the panic record stays). */
void	tp_clear(TestPool *tp);

/* Lines printed since tp_clear that contain needle. */
int	tp_grep(const TestPool *tp, const char *needle);
/* Lines printed since tp_clear equal to line (line includes its "\n"). */
int	tp_hasline(const TestPool *tp, const char *line);
/* Copies line i (0 first, "\n" kept) into buf; returns 0 if there is none. */
int	tp_line(const TestPool *tp, int i, char *buf, size_t size);
/* 1 if the arena chunk holding address a is known, with its bounds. */
int	tp_chunkof(const TestPool *tp, const void *a, char **start, size_t *size);

/* The block size word of the block v belongs to (v as poolalloc returned it). */
#define TP_BSIZE(v)	(((uintptr_t *)(v))[-1])
/* The magic word of that block. */
#define TP_MAGIC(v)	(((uintptr_t *)(v))[-2])

/*
 * EXPECT_PANIC(tp, code...): runs code; if the pool panics on the way, the
 * panic returns here.  Evaluates to 1 if it panicked (message in
 * tp->panicmsg), else 0.  The pool is left as the panic found it: locked,
 * possibly half-updated (the fixture releases a held mutex).  Use a fresh
 * pool afterwards.  Locals that code changes and the caller reads after a
 * panic must be volatile.
 */
#define EXPECT_PANIC(tp, ...) __extension__ ({			\
	sigjmp_buf tp_jb_;					\
	volatile int tp_hit_ = 0;				\
	(tp)->panicmsg[0] = '\0';				\
	(tp)->panicjmp = &tp_jb_;				\
	if (sigsetjmp(tp_jb_, 0) == 0) {			\
		__VA_ARGS__;					\
	} else							\
		tp_hit_ = 1;					\
	(tp)->panicjmp = NULL;					\
	tp_hit_;						\
})

/*
 * Runs poolblockcheck(p, v), or poolcheck(p) when v is NULL, after
 * tp_clear.  Returns 1 if it did not panic and printed nothing (lines are
 * allowed when the pool's flags ask for printing); else 0, with the panic
 * message or the first line as a TAP comment.
 */
int	tp_quiet(TestPool *tp, void *v);

/* One TAP check that got == want, printing both when not. */
int	tp_is(uintmax_t got, uintmax_t want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* One TAP check that s contains needle, printing s when not. */
int	tp_like(const char *s, const char *needle, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * poolallocalign's promise: 1 if some address r has (r - offset) % align
 * == 0 and keeps [r, r+n) from crossing a multiple of span (0: none).
 */
int	tp_alignable(size_t n, size_t align, long offset, size_t span);
/* 1 if r meets align, offset and span for n bytes. */
int	tp_alignok(const void *r, size_t n, size_t align, long offset, size_t span);

/* Length of s without a trailing newline; with TP_STR for "%.*s". */
int	tp_chomplen(const char *s);
#define TP_STR(s)	tp_chomplen(s), (s)

/* A small reproducible generator (splitmix64) the tests share. */
uint64_t	tp_rand(uint64_t *state);
/* Uniform in [0, n) (n > 0). */
uint64_t	tp_randn(uint64_t *state, uint64_t n);
/* The byte a block with this id holds at offset i. */
static inline unsigned char
tp_pattern(uint64_t id, size_t i)
{
	uint64_t x = id * 0x9E3779B97F4A7C15ull + i;

	x ^= x >> 29;
	return (unsigned char)(x * 0xBF58476D1CE4E5B9ull >> 56);
}
/* Fills [v+from, v+to) with the pattern of id. */
void	tp_fill(void *v, uint64_t id, size_t from, size_t to);
/* Offset of the first byte in [v+from, v+to) that is not id's pattern, or -1. */
long	tp_verify(const void *v, uint64_t id, size_t from, size_t to);

#endif /* POOLDBG_TESTPOOL_H */
