/*
 * libpooldbg/mmalloc-impl.h -- the header of a mapped heap, the first
 * page of its mapping and of its file, shared by mmalloc.c (the live
 * heap) and mmalloc-read.c (the offline reader).
 *
 *	header (MMHDRSIZE bytes) | arena ... up to size | (reserved, unmapped)
 *
 * Fields up to `checksum` identify the heap and are covered by the
 * checksum (FNV-1a 64 over those bytes); they change only on creation,
 * growth and mmalloc_setkey.  The rest is the live state: the Pool (its
 * callbacks are set again by every attach), the lock, the fd.
 */
#ifndef POOLDBG_MMALLOC_IMPL_H
#define POOLDBG_MMALLOC_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <pooldbg/mmalloc.h>
#include <pooldbg/pool.h>

#define MMMAGIC		"pooldbg-mheap\n"	/* 15 bytes with the NUL */
#define MMVERSION	1
#define MMBYTEORDER	0x01020304u
#define MMHDRSIZE	4096
#define MMRESERVE	((uint64_t)1 << 36)	/* address space kept for a heap to grow into */

typedef struct MmHeader MmHeader;
struct MmHeader {
	char	magic[16];	/* MMMAGIC */
	uint32_t version;	/* MMVERSION */
	uint32_t hdrsize;	/* MMHDRSIZE */
	uint32_t byteorder;	/* MMBYTEORDER as written by the maker */
	uint32_t wordsize;	/* sizeof(void *) */
	uint64_t base;		/* the address the heap lives at */
	uint64_t size;		/* bytes of the file mapped: a multiple of the page size */
	uint64_t brk;		/* end of the last arena: arenas fill [base + hdrsize, base + brk) */
	uint64_t reserve;	/* address space the heap may grow to */
	uint64_t keys[MMALLOC_KEYS];	/* mmalloc_setkey */
	uint64_t checksum;	/* FNV-1a 64 of the bytes above */
	/* ---- live state, not checksummed ---- */
	uint32_t attached;	/* 1 while a process has it attached */
	int32_t	lasterrno;	/* mmalloc_errno */
	int32_t	fd;		/* this process's descriptor, -1 for anonymous */
	int32_t	anon;		/* no file: growth maps anonymous memory */
	int32_t	pid;		/* the process that has it attached */
	uint32_t tagbytes;	/* words before each pointer handed out: 16 for the malloc family's heap file */
	char	name[32];	/* the pool's name */
	Pool	pool;		/* arenas from [base + MMHDRSIZE, base + size) */
	pthread_mutex_t lock;
};

static inline uint64_t
mm_checksum(const MmHeader *h)
{
	const unsigned char *c;
	uint64_t x;
	size_t i;

	c = (const unsigned char *)h;
	x = 0xcbf29ce484222325ULL;
	for (i = 0; i < offsetof(MmHeader, checksum); i++) {
		x ^= c[i];
		x *= 0x100000001b3ULL;
	}
	return x;
}

/* ---- mmalloc.c ---------------------------------------------------------- */

/*
 * Put the default pool's arenas into a new heap file at path (created or
 * truncated) from now on: called by malloc.c, lock held, when
 * POOLDBG_HEAPFILE names a file for this process.  0, or -1 (the pool
 * keeps its anonymous arenas).  Never allocates.
 */
int	mmheap_main(Pool *p, const char *path);
/*
 * Around a fork, default pool locked: the child copies the default pool's
 * heap file mapping into memory of its own (mmheap_forkchild), and the
 * parent waits in mmheap_forkparent until it has -- the mapping is shared
 * with the file, so whatever the parent wrote to its heap before the copy
 * was done would land in the child's copy too, half made.  A pipe made by
 * mmheap_forkprepare carries the word; a child that dies first closes it.
 */
void	mmheap_forkprepare(void);
void	mmheap_forkparent(void);
/* In a fork child: make the default pool's heap file mapping private to it. */
void	mmheap_forkchild(void);

#endif /* POOLDBG_MMALLOC_IMPL_H */
