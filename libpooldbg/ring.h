/*
 * libpooldbg/ring.h -- the shared-memory ring between one traced process
 * (the writer, possibly many threads) and the recorder (the reader).
 *
 * A ring is a file in the session directory, "<pid>-<execseq>.ring",
 * mapped MAP_SHARED by both sides: a RingHdr page, then a data area whose
 * size is a power of two.  Records (record.h) are appended at head and
 * consumed at tail; both are byte counts that only grow, and a position is
 * taken modulo the data size.  A record never straddles the end of the
 * data area: the writer fills the rest with a REC_PAD record and goes on at
 * the start.
 *
 * Lossless: a writer waits (futex on tail) while there is no room.  A
 * record is visible to the reader once head has been stored past it
 * (release); after that it survives the writer's death, even by SIGKILL,
 * because the data lives in the file, not in the process.
 *
 * The writer side (ring_create, ring_write, ring_close, ring_detach) runs
 * inside the traced process: it never allocates from the heap, never uses
 * stdio, and is safe in a fork child (ring_detach drops the parent's ring
 * without touching it).  The reader side (ring_open, ring_peek, ring_consume,
 * ring_advance, ring_wake, ring_unmap) is the recorder's.
 */
#ifndef POOLDBG_RING_H
#define POOLDBG_RING_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define RING_MAGIC	"PDBGRNG1"	/* 8 bytes, no NUL */
#define RING_HDRSIZE	4096
/*
 * Data area, bytes: room for some 600k events (48 to 56 bytes each), so
 * that the recorder's pauses (a commit, a table that grows) pass without
 * the writers waiting.  Only the pages written to are ever memory.
 */
#define RING_DEFSIZE	((size_t)32 << 20)

enum {	/* RingHdr.state */
	RING_LIVE	= 1,	/* the writer may still append */
	RING_CLOSED	= 2,	/* the writer said it is done (exit, exec) */
};

typedef struct RingHdr RingHdr;
struct RingHdr {
	char	magic[8];	/* RING_MAGIC */
	uint32_t version;	/* RECORD_VERSION */
	uint32_t hdrsize;	/* RING_HDRSIZE */
	uint64_t size;		/* data area bytes, a power of two */
	int32_t	pid;		/* the writer */
	uint32_t execseq;	/* as in the file name */
	_Alignas(64) uint64_t head;	/* bytes ever written; atomic, written by the writer */
	_Alignas(64) uint64_t tail;	/* bytes ever consumed; atomic, written by the reader */
	_Alignas(64) uint32_t state;	/* RING_*; atomic */
	uint32_t waiters;	/* writers asleep on tail (futex word: tail's low 32 bits are used) */
	_Alignas(64) uint32_t snapshots;	/* snapshots recorded so far; atomic, stored by the writer
					   after a snapshot's last record (`pooldbg snapshot` waits on it) */
};

typedef struct Ring Ring;
struct Ring {
	RingHdr	*hdr;		/* the mapping: header page, then data */
	uint8_t	*data;		/* hdr + hdrsize */
	uint64_t size;		/* data area */
	int	fd;		/* -1 once the file descriptor was closed */
	uint64_t rtail;		/* reader: its tail, stored to the header by ring_wake */
	uint64_t rhead;		/* reader: head as last loaded */
};

/* ---- writer side (traced process) ---- */

/*
 * Create "<dir>/<pid>-<execseq>.ring" (O_EXCL; execseq counts up from 0
 * until a free name is found), size it, map it, write its header.  Returns
 * 0 and fills *r, or -1 with errno.  Async-signal-safe and heap-free.
 */
int	ring_create(Ring *r, const char *dir, int pid, size_t datasize);

/*
 * Append one record of len bytes (len a multiple of 8, the RecHdr
 * included and filled in by the caller, len <= size / 4).  Waits while
 * the ring is full.  The caller serialises writers of one ring (the
 * runtime holds its ring lock).  Returns 0, or -1 if the ring is not live.
 */
int	ring_write(Ring *r, const void *rec, size_t len);

/* Mark the ring closed (no more records) and unmap it. */
void	ring_close(Ring *r);

/* In a fork child: forget the parent's ring without writing to it. */
void	ring_detach(Ring *r);

/* ---- reader side (recorder) ---- */

/* Map an existing ring file read-write; 0, or -1 with errno (EPROTO: not a ring). */
int	ring_open(Ring *r, const char *path);

/*
 * The next unread record, or NULL when the ring is empty right now (errno
 * 0) or damaged (errno EPROTO).  Skips REC_PAD.  The pointer is valid
 * until ring_consume.
 */
const RecHdr *ring_peek(Ring *r);

/*
 * The complete record at absolute position *pos (at or after the one
 * ring_peek returned), padding stepped over (*pos moves past it); NULL
 * when the writer has not finished one there.  Consumes nothing: a
 * reader looks ahead with it.
 */
const RecHdr *ring_at(Ring *r, uint64_t *pos);
/* The absolute position of the next record ring_peek returns. */
uint64_t ring_tail(Ring *r);

/* Mark the record ring_peek returned as read and wake a waiting writer. */
void	ring_consume(Ring *r, const RecHdr *rec);
/*
 * Mark the record ring_peek returned as read without waking anyone or
 * telling the writer: a reader that takes many records in a row calls
 * ring_wake once after them, sparing a writer on a full ring a wake-up
 * per record and both a cache line passed back and forth.  The caller
 * must call ring_wake before it stops reading or sleeps.
 */
void	ring_advance(Ring *r, const RecHdr *rec);
/* Give the writer the room read so far and wake it if it waits. */
void	ring_wake(Ring *r);

/* Whether the writer closed the ring. */
int	ring_closed(Ring *r);

/* Unmap and close. */
void	ring_unmap(Ring *r);

#endif /* POOLDBG_RING_H */
