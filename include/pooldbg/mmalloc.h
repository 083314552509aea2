/*
 * <pooldbg/mmalloc.h> -- mapped heaps, as GNU mmalloc has them: a Pool
 * whose arenas, free tree and state all live in one mapping, usually of a
 * file, so that a heap written by one process is attached by another at
 * the same address with its data intact.  See mmalloc(3).
 *
 * The descriptor a call takes (md) is the address of the heap's header,
 * the first page of the mapping.  A NULL md means the default pool of
 * <pooldbg/malloc.h>.
 */
#ifndef POOLDBG_MMALLOC_H
#define POOLDBG_MMALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { MMALLOC_KEYS = 16 };	/* root slots of mmalloc_setkey */

/*
 * Attach the heap of file fd (open read-write; fd < 0: an anonymous heap
 * that no file keeps).  An empty file becomes a new heap mapped at base
 * (NULL: where the kernel chooses).  A file that holds a heap is checked
 * (magic, version, header size, byte order, checksum, size) and mapped
 * back at the address it was made at; base is ignored.  Returns the
 * descriptor, or NULL with errno and a message (mmalloc_attach_error):
 * EINVAL not a heap file; ENOTSUP another version, header size, byte
 * order or word size; EBADMSG a damaged header (checksum) or a file
 * shorter than its header says; EEXIST its address range is taken in
 * this process; EBUSY another process has it attached; EACCES fd is not
 * open for reading and writing.  A refused file is never written.
 */
void	*mmalloc_attach(int fd, void *base);
/*
 * Detach md: unmap the heap and close its file.  NULL on success; md
 * when it could not be (then errno says why).
 */
void	*mmalloc_detach(void *md);
/* Why the last mmalloc_attach of this thread failed; "" after a success. */
const char	*mmalloc_attach_error(void);
/* size bytes from heap md; NULL with ENOMEM. */
void	*mmalloc(void *md, size_t size);
/* Resize ptr of heap md, as realloc(3). */
void	*mrealloc(void *md, void *ptr, size_t size);
/* size bytes aligned to the page size. */
void	*mvalloc(void *md, size_t size);
/* Give ptr back to heap md; NULL is a no-op; anything else not of md is a panic. */
void	mfree(void *md, void *ptr);
/* The errno of the system call that made the last call on md fail; 0 if it did not fail. */
int	mmalloc_errno(void *md);
/* Store key in root slot keynum (0..MMALLOC_KEYS-1) of md: 0, or -1 with EINVAL. */
int	mmalloc_setkey(void *md, int keynum, void *key);
/* The pointer in root slot keynum of md; NULL if none or out of range. */
void	*mmalloc_getkey(void *md, int keynum);
/* The Pool of heap md, for poolcheck, pooldump and the other pool(3) calls. */
struct Pool	*mmalloc_pool(void *md);

/* ---- reading a heap file offline (pooldbg check, poolview --heap) ------ */

enum {	/* mmalloc_block.state */
	MMB_ALLOC	= 1,	/* allocated */
	MMB_FREE	= 2,	/* in the free tree */
	MMB_QUICK	= 3,	/* on a quick list */
	MMB_OTHER	= 4,	/* dead, in transit, or an arena header or tail */
	MMB_BAD		= 5,	/* unreadable: the walk could not place it */
};

typedef struct mmalloc_block mmalloc_block;
struct mmalloc_block {
	uint64_t addr;		/* the block's header, at the heap's own address */
	uint64_t size;		/* whole block, 0 when unreadable */
	uint64_t data;		/* data start */
	uint64_t ptr;		/* the pointer its owner got: data, past the malloc family's tag words */
	uint64_t dsize;		/* bytes the owner asked for, from ptr (allocated blocks), else 0 */
	int	state;		/* MMB_* */
	const char *damage;	/* NULL, or what is wrong with the block */
};

/*
 * Read the heap file path without attaching it (read-only, anywhere in
 * memory, never written) and call fn(block, arg) for each block of its
 * arenas in address order, damaged ones included (damage set); a block
 * that cannot be stepped over ends the forward walk, which then resumes
 * backwards from the arena's end through the tails' size copies.  fn
 * returning nonzero stops the walk.  Returns 0 when every block is sound,
 * 1 when damage was found, 2 when the file is no readable heap (then
 * err, of errlen bytes, says why).  Thread-safe; allocates with malloc.
 */
int	mmalloc_walkfile(const char *path, int (*fn)(const mmalloc_block *, void *), void *arg,
	    char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* POOLDBG_MMALLOC_H */
