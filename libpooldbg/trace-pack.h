/*
 * libpooldbg/trace-pack.h -- the packed event pages of a trace (versions
 * 4 and 5): the rows of events, thousands to a BLOB of table event_pages, each
 * event a few bytes of varints and deltas.  pooldbg-trace(5) describes
 * the format byte by byte; trace-pack.c encodes and decodes it.
 *
 * Plain C: no SQLite, no allocation but the page buffer the caller hands
 * over, so the same code serves the recorder, the virtual tables and the
 * loadable extension.
 */
#ifndef POOLDBG_TRACE_PACK_H
#define POOLDBG_TRACE_PACK_H

#include <stddef.h>
#include <stdint.h>

enum {
	PACK_MAXEVENTS	= 32768,	/* events in one page at most */
	/*
	 * A page is closed once its data is this long.  SQLite keeps a row
	 * longer than a page in overflow pages and the rest (at least 2031
	 * bytes, with the trace's 16 KiB pages) on its leaf page: this length
	 * fills seven overflow pages and leaves near that least on the leaf,
	 * so that seven rows share a leaf page rather than one leaving half
	 * of one empty.
	 */
	PACK_MAXBYTES	= 7 * (16384 - 4) + 2031 - 64,
	PACK_EVMAX	= 64,		/* bytes one event can take at most, encoded */
};

/*
 * The first byte of an event: the type in bits 0-1, then what follows
 * that the event before it of the same type in the page does not tell.
 */
enum {
	PACK_TYPEMASK	= 0x03,
	PACK_H_CALL	= 1 << 2,	/* the call follows (else: the last one of this type) */
	PACK_H_STACK	= 1 << 3,	/* zigzag (stack - last of this type) follows (else the same) */
	PACK_H_BYTES	= 1 << 4,	/* pointer deltas in bytes (else in 16-byte units) */
	PACK_H_SAMETIME	= 1 << 5,	/* no time delta: the time of the event before (version 5) */
	PACK_H_USEC	= 1 << 6,	/* the time delta is in microseconds (version 5); else ns */
	PACK_EXT	= 0x80,		/* an extension byte follows */
};

/* The extension byte: what differs from the event before it in the page. */
enum {
	PACK_X_SEQ	= 1 << 0,	/* seq jumps: varint (seq - previous seq - 1) follows */
	PACK_X_PROCESS	= 1 << 1,	/* another process: varint process */
	PACK_X_TID	= 1 << 2,	/* another thread: zigzag varint (tid - previous tid) */
	PACK_X_FLAGS	= 1 << 3,	/* flags not 0: varint flags */
	PACK_X_ALIGN	= 1 << 4,	/* align not 0: varint align */
	PACK_X_TIDSWAP	= 1 << 5,	/* back to the thread before the last change of thread (version 5) */
};

/* One event as a page holds it (the columns of table events). */
typedef struct PackEvent PackEvent;
struct PackEvent {
	int64_t	seq;
	int64_t	process;
	uint64_t time;
	int64_t	tid;
	int	type;		/* 1 alloc, 2 free, 3 realloc (TRACE_* of trace.h) */
	int	call;		/* CALL_* of record.h */
	int	flags;		/* CALLF_* */
	uint64_t ptr;		/* free/realloc with back: 0 in a page, the reader fills it */
	uint64_t newptr;	/* realloc */
	uint64_t size;		/* free: only with CALLF_SIZED */
	uint64_t align;
	uint64_t stack;
	int64_t	back;		/* free/realloc: seq - the seq that began the lifetime it ends; 0 none */
};

/* The state a page's encoder carries from one event to the next. */
typedef struct PackState PackState;
struct PackState {
	int64_t	seq;		/* of the previous event; the page's first - 1 at its start */
	int64_t	process;
	int64_t	tid;
	int64_t	tid2;		/* the thread before the last change of thread (0: none yet) */
	uint64_t time;
	uint64_t ptr;		/* the pointer the next delta is from: the current thread's */
	uint64_t ptr2;		/* and tid2's, kept for when it comes back */
	int	call[4];	/* by type: the call of the last event of that type */
	uint64_t stack[4];	/* and its stack */
};

/* A page being written. */
typedef struct PackPage PackPage;
struct PackPage {
	uint8_t	*buf;		/* the caller's, at least PACK_MAXBYTES + PACK_EVMAX bytes */
	size_t	len;
	int64_t	first;		/* seq of its first event; 0 while it is empty */
	int	count;
	PackState st;
};

/* ---- trace-pack.c ---- */

/* Empty p (its buffer stays). */
void	pack_reset(PackPage *p);
/*
 * Append e to p (e->seq above the last one's).  The caller closes a page
 * with pack_full true before it adds more.  Never fails.
 */
void	pack_put(PackPage *p, const PackEvent *e);
/* Whether p takes no more events. */
int	pack_full(const PackPage *p);
/*
 * Decode the page data[len] whose first event is first: at most max
 * events into ev (ptr of a free or realloc with back left 0).  Returns
 * how many, or -1 if the data does not make sense; *st gets the state
 * after the last one (for appending to the page).
 */
int	pack_decode(const uint8_t *data, size_t len, int64_t first, PackEvent *ev, int max,
	    PackState *st);

#endif /* POOLDBG_TRACE_PACK_H */
