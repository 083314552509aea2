/*
 * libpooldbg/mmalloc-read.c -- mmalloc_walkfile: a heap file read offline,
 * block by block, with every damaged block named (pooldbg check, and
 * poolview --heap later).  Compiled into libpooldbg and into the
 * recorder.
 *
 * Owns the judgement of a heap's blocks without the Pool's code: the file
 * is mapped read-only and private, anywhere, and walked by offsets from
 * its header (mmalloc-impl.h) through the layout of pool-impl.h, so a
 * heap whose program died (crashed, SIGKILLed) mid-call can still be
 * read.  A block the forward walk cannot step over is reported and the
 * walk goes on backwards from the arena's tail, block by block through
 * the size copies in the tails, so damage in the middle of an arena hides
 * nothing beyond it.
 *
 * Must never: write the file, panic, or read outside the mapping.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmalloc-impl.h"
#include "pool-impl.h"

static const uchar guards[4] = { 0xFE, 0xF1, 0xF0, 0xFA };

typedef struct Walk Walk;
struct Walk {
	const uchar *img;	/* the mapped file */
	uint64_t len;		/* its bytes */
	uint64_t base;		/* the heap's own address */
	uint64_t tagbytes;	/* MmHeader.tagbytes */
	int	(*fn)(const mmalloc_block *, void *);
	void	*arg;
	int	damaged;
	int	stop;
};

static void
emit(Walk *w, uint64_t off, uint64_t size, int state, uint64_t dsize, const char *damage)
{
	mmalloc_block b;

	if (w->stop)
		return;
	b.addr = w->base + off;
	b.size = size;
	b.data = w->base + off + sizeof(Bhdr);
	b.ptr = b.data + w->tagbytes;
	b.dsize = dsize >= w->tagbytes ? dsize - w->tagbytes : 0;
	b.state = state;
	b.damage = damage;
	if (damage != NULL)
		w->damaged = 1;
	if (w->fn != NULL && w->fn(&b, w->arg) != 0)
		w->stop = 1;
}

/* Whether a block at off of size can lie in [lo, end). */
static int
fits(uint64_t off, uint64_t size, uint64_t end)
{
	return size % ALIGNQ == 0 && size >= MINBLOCKSIZE && off < end && size <= end - off;
}

/* Judge the block at off (its size known to fit) and report it. */
static void
judge(Walk *w, uint64_t off)
{
	const Bhdr *b;
	const Btail *t;
	const uchar *start, *q, *eq;
	uint64_t slack, dsize;
	const char *why;
	int state;

	b = (const Bhdr *)(w->img + off);
	t = (const Btail *)(w->img + off + b->size - sizeof(Btail));
	why = NULL;
	dsize = 0;
	switch (b->magic) {
	case ALLOC_MAGIC:	state = MMB_ALLOC; break;
	case QUICK_MAGIC:	state = MMB_QUICK; break;
	case FREE_MAGIC:	state = MMB_FREE; break;
	case UNALLOC_MAGIC:
	case DEAD_MAGIC:
	case DEADHEAD_MAGIC:	state = MMB_OTHER; break;
	default:
		emit(w, off, b->size, MMB_BAD, 0, "bad magic");
		return;
	}
	if (t->size != b->size)
		why = "corrupt tail ptr";
	else if (state == MMB_ALLOC || state == MMB_QUICK) {
		slack = getslack((Btail *)t);
		if (t->magic1 != TAIL_MAGIC1)
			why = "corrupt tail magic1";
		else if (t->magic0 != TAIL_MAGIC0)
			why = "mem user overflow (tail overwritten)";
		else if (slack < BLOCKOVERHEAD || slack > b->size)
			why = "too much block data";
		else {
			dsize = b->size - slack;
			start = w->img + off + sizeof(Bhdr) + dsize;
			eq = start + 4 < (const uchar *)t ? start + 4 : (const uchar *)t;
			for (q = start; why == NULL && q < eq; q++)
				if (*q != guards[(w->base + (uint64_t)(q - w->img)) % 4])
					why = "mem user overflow";
		}
	} else if (t->magic0 != TAIL_MAGIC0 || t->magic1 != TAIL_MAGIC1)
		why = "corrupt tail magic";
	else if (b->magic == DEAD_MAGIC || b->magic == DEADHEAD_MAGIC) {
		eq = (const uchar *)t;
		if (b->magic == DEADHEAD_MAGIC && eq - (w->img + off + sizeof(Bhdr)) > DEADHEAD)
			eq = w->img + off + sizeof(Bhdr) + DEADHEAD;
		for (q = w->img + off + sizeof(Bhdr); q < eq; q++)
			if (*q != DEAD_FILL) {
				why = "dangling pointer write";
				break;
			}
	}
	emit(w, off, b->size, state, dsize, why);
}

/* Walk the blocks of [lo, end) (end: the arena tail's offset). */
static void
blocks(Walk *w, uint64_t lo, uint64_t end)
{
	uint64_t off, back, offs[4096];
	const Bhdr *b;
	const Btail *t;
	int n;

	for (off = lo; off < end && !w->stop; off += b->size) {
		b = (const Bhdr *)(w->img + off);
		if (!fits(off, b->size, end))
			break;
		judge(w, off);
	}
	if (off >= end || w->stop)
		return;
	b = (const Bhdr *)(w->img + off);
	emit(w, off, 0, MMB_BAD, 0, b->magic == ALLOC_MAGIC || b->magic == FREE_MAGIC ||
	    b->magic == QUICK_MAGIC ? "bad block size" : "bad magic");
	/* backwards from the tail, through the size copies, down to the bad block */
	n = 0;
	for (back = end; back > off && n < (int)nelem(offs);) {
		t = (const Btail *)(w->img + back - sizeof(Btail));
		if (t->size > back - off || !fits(back - t->size, t->size, end) ||
		    ((const Bhdr *)(w->img + back - t->size))->size != t->size)
			break;
		back -= t->size;
		offs[n++] = back;
	}
	while (n-- > 0)
		judge(w, offs[n]);
}

/* See <pooldbg/mmalloc.h>. */
EXPORT int
mmalloc_walkfile(const char *path, int (*fn)(const mmalloc_block *, void *), void *arg,
    char *err, size_t errlen)
{
	const MmHeader *h;
	const Arena *a;
	const Bhdr *tail;
	struct stat st;
	uint64_t off, brk;
	Walk w;
	void *img;
	int fd, r;

	r = 2;
	img = MAP_FAILED;
	memset(&w, 0, sizeof w);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size < sizeof(MmHeader)) {
		snprintf(err, errlen, "not a pooldbg heap file (%lld bytes)", (long long)st.st_size);
		goto out;
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED) {
		snprintf(err, errlen, "cannot map it: %s", strerror(errno));
		goto out;
	}
	h = img;
	if (memcmp(h->magic, MMMAGIC, sizeof MMMAGIC) != 0) {
		snprintf(err, errlen, "not a pooldbg heap file (bad magic)");
		goto out;
	}
	if (h->version != MMVERSION || h->hdrsize != MMHDRSIZE || h->byteorder != MMBYTEORDER ||
	    h->wordsize != sizeof(void *)) {
		snprintf(err, errlen, "heap file of another version, byte order or word size");
		goto out;
	}
	w.img = img;
	w.len = (uint64_t)st.st_size;
	w.base = h->base;
	w.tagbytes = h->tagbytes <= 64 ? h->tagbytes : 0;
	w.fn = fn;
	w.arg = arg;
	if (h->checksum != mm_checksum(h))
		emit(&w, 0, MMHDRSIZE, MMB_BAD, 0, "heap header damaged (checksum mismatch)");
	brk = h->brk <= w.len ? h->brk : w.len;
	if (h->brk > w.len || h->size > w.len)
		emit(&w, 0, MMHDRSIZE, MMB_BAD, 0, "heap file truncated");
	for (off = MMHDRSIZE; off + sizeof(Arena) + sizeof(Bhdr) <= brk && !w.stop; off += a->asize) {
		a = (const Arena *)(w.img + off);
		if (a->h.magic != ARENA_MAGIC || a->h.size != sizeof(Arena) || a->asize % ALIGNQ != 0 ||
		    a->asize < sizeof(Arena) + sizeof(Bhdr) || a->asize > brk - off) {
			emit(&w, off, 0, MMB_BAD, 0, "bad arena header");
			break;
		}
		emit(&w, off, sizeof(Arena), MMB_OTHER, 0, NULL);
		blocks(&w, off + sizeof(Arena), off + a->asize - sizeof(Bhdr));
		tail = (const Bhdr *)(w.img + off + a->asize - sizeof(Bhdr));
		if (tail->magic != ARENATAIL_MAGIC || tail->size != 0)
			emit(&w, off + a->asize - sizeof(Bhdr), 0, MMB_BAD, 0, "found wrong tail");
	}
	r = w.damaged ? 1 : 0;
out:
	if (img != MAP_FAILED)
		munmap(img, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	return r;
}
