/*
 * libpooldbg/mmalloc.c -- mapped heaps of <pooldbg/mmalloc.h>: attaching,
 * growing and detaching the mapping, the calls over its Pool, and the
 * default pool's heap file (POOLDBG_HEAPFILE, set by `pooldbg run
 * --heap-file`).
 *
 * Owns the mapping of each heap: MMRESERVE bytes of address space are
 * reserved at the heap's base (PROT_NONE) and the file is mapped over the
 * front of it, MAP_SHARED, growing page by page as the pool asks for
 * arenas, so the heap never moves and every pointer in it stays good.
 * Arenas are handed out bottom up and always touch, so the pool joins
 * them into one.  The header (mmalloc-impl.h) is read with pread and
 * judged before anything is mapped: a refused file is never written.
 *
 * Each call tells the trace hooks what it did (pooldbg_mm_alloc,
 * pooldbg_mm_free, pooldbg_mm_realloc): here they do nothing (realloc
 * just reallocates); the tracing runtime's (mmalloc-runtime.c), preloaded,
 * record them as events of calls mmalloc, mrealloc, mvalloc and mfree.
 *
 * Must never: allocate from the default pool (mmheap_main runs under its
 * lock), map over memory it did not reserve, or let a fork child write
 * into its parent's heap file.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>	/* vsnprintf only */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#include "mmalloc-impl.h"
#include "pool-impl.h"
#include "record.h"

#define CALLERPC()	((uintptr_t)__builtin_return_address(0))

static __thread char attacherr[160];
static __thread MmHeader *current;	/* the heap whose lock this thread holds */

static MmHeader *mainheap;		/* the default pool's heap file, if any */

static size_t
pagesz(void)
{
	return (size_t)getpagesize();
}

static void __attribute__((format(printf, 2, 3)))
refuse(int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(attacherr, sizeof attacherr, fmt, ap);
	va_end(ap);
	errno = e;
}

/* ---- growth ------------------------------------------------------------- */

/* Map [h->size, newsize) of the heap (file or anonymous); 0 or -1 with errno. */
static int
grow(MmHeader *h, uint64_t newsize)
{
	char *at;
	void *v;

	if (newsize > h->reserve) {
		errno = ENOMEM;
		return -1;
	}
	at = (char *)(uintptr_t)h->base + h->size;
	if (h->anon)
		v = mmap(at, newsize - h->size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	else {
		if (ftruncate(h->fd, (off_t)newsize) != 0)
			return -1;
		v = mmap(at, newsize - h->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    h->fd, (off_t)h->size);
	}
	if (v == MAP_FAILED)
		return -1;
	h->size = newsize;
	h->checksum = mm_checksum(h);
	return 0;
}

/* The pool's alloc: n bytes at the top of the current heap. */
static void *
heaparena(size_t n)
{
	MmHeader *h;
	uint64_t top, need, pg;

	h = current;
	pg = pagesz();
	top = h->brk;
	need = (top + n + pg - 1) & ~(pg - 1);
	if (need < top + n || (need > h->size && grow(h, need) != 0)) {
		h->lasterrno = errno;
		return NULL;
	}
	h->brk = top + n;	/* the arena is [top, top + n) */
	h->checksum = mm_checksum(h);
	return (char *)(uintptr_t)h->base + top;
}

static int
heapmerge(void *lo, void *hi)
{
	(void)lo;
	(void)hi;
	return 1;	/* arenas of a heap always touch */
}

static void
heaplock(Pool *p)
{
	MmHeader *h;

	h = p->private;
	pthread_mutex_lock(&h->lock);
	current = h;
}

static void
heapunlock(Pool *p)
{
	MmHeader *h;

	h = p->private;
	current = NULL;
	pthread_mutex_unlock(&h->lock);
}

static void __attribute__((format(printf, 2, 3)))
heapprint(Pool *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	(void)p;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0 && write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) < 0)
		return;
}

static void __attribute__((format(printf, 2, 3), noreturn))
heappanic(Pool *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	(void)p;
	n = snprintf(buf, sizeof buf, "pooldbg: panic: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (write(2, buf, strlen(buf)) < 0)
		abort();
	abort();
}

/* Set the process-side parts of h: the pool's callbacks, the lock, fd. */
static void
liven(MmHeader *h, int fd)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&h->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	h->fd = fd;
	h->anon = fd < 0;
	h->pid = (int32_t)getpid();
	h->attached = 1;
	h->lasterrno = 0;
	h->pool.name = h->name;
	h->pool.alloc = heaparena;
	h->pool.merge = heapmerge;
	h->pool.move = NULL;
	h->pool.lock = heaplock;
	h->pool.unlock = heapunlock;
	h->pool.print = heapprint;
	h->pool.panic = heappanic;
	h->pool.logstack = NULL;
	h->pool.private = h;
	poolreindexl(&h->pool);	/* a file written by another build may hold none */
}

/* A new heap in fd (empty; -1: anonymous) at base; NULL with errno. */
static MmHeader *
create(int fd, void *base)
{
	MmHeader *h;
	void *r;
	int flags;

	flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	if (base != NULL)
		flags |= MAP_FIXED_NOREPLACE;
	r = mmap(base, MMRESERVE, PROT_NONE, flags, -1, 0);
	if (r == MAP_FAILED || (base != NULL && r != base)) {
		if (r != MAP_FAILED)
			munmap(r, MMRESERVE);
		refuse(EEXIST, "cannot reserve the heap's address range at %p", base);
		return NULL;
	}
	if (fd >= 0 && ftruncate(fd, MMHDRSIZE) != 0) {
		refuse(errno, "cannot size the heap file: %s", strerror(errno));
		munmap(r, MMRESERVE);
		return NULL;
	}
	h = mmap(r, MMHDRSIZE, PROT_READ | PROT_WRITE,
	    fd >= 0 ? MAP_SHARED | MAP_FIXED : MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, fd, 0);
	if (h == MAP_FAILED) {
		refuse(errno, "cannot map the heap file: %s", strerror(errno));
		munmap(r, MMRESERVE);
		return NULL;
	}
	memset(h, 0, MMHDRSIZE);
	memcpy(h->magic, MMMAGIC, sizeof MMMAGIC);
	h->version = MMVERSION;
	h->hdrsize = MMHDRSIZE;
	h->byteorder = MMBYTEORDER;
	h->wordsize = sizeof(void *);
	h->base = (uintptr_t)h;
	h->size = MMHDRSIZE;
	h->brk = MMHDRSIZE;
	h->reserve = MMRESERVE;
	h->checksum = mm_checksum(h);
	snprintf(h->name, sizeof h->name, "mmalloc");
	h->pool.maxsize = MMRESERVE - MMHDRSIZE;
	h->pool.minarena = 64 << 10;
	h->pool.quantum = 32;
	liven(h, fd);
	return h;
}

/* Check the header of a non-empty file against its size; 0 or -1 with the refusal set. */
static int
judge(const MmHeader *h, ssize_t got, uint64_t filesize)
{
	if (got < (ssize_t)offsetof(MmHeader, attached) ||
	    memcmp(h->magic, MMMAGIC, sizeof MMMAGIC) != 0) {
		refuse(EINVAL, "not a pooldbg heap file (bad magic)");
		return -1;
	}
	if (h->version != MMVERSION || h->hdrsize != MMHDRSIZE) {
		refuse(ENOTSUP, "heap file version %u, header size %u: this library reads version "
		    "%u, header size %u", h->version, h->hdrsize, MMVERSION, MMHDRSIZE);
		return -1;
	}
	if (h->byteorder != MMBYTEORDER || h->wordsize != sizeof(void *)) {
		refuse(ENOTSUP, "heap file made on a machine of another byte order or word size");
		return -1;
	}
	if (h->checksum != mm_checksum(h)) {
		refuse(EBADMSG, "heap file header damaged (checksum mismatch)");
		return -1;
	}
	if (filesize < h->size || h->size < MMHDRSIZE || h->size > h->reserve ||
	    h->brk < MMHDRSIZE || h->brk > h->size ||
	    h->base % pagesz() != 0) {
		refuse(EBADMSG, "heap file truncated: %llu bytes, its header says %llu",
		    (unsigned long long)filesize, (unsigned long long)h->size);
		return -1;
	}
	return 0;
}

/* See <pooldbg/mmalloc.h>. */
EXPORT void *
mmalloc_attach(int fd, void *base)
{
	MmHeader hdr, *h;
	struct stat st;
	ssize_t got;
	void *r, *at;
	int fl;

	attacherr[0] = '\0';
	if (fd < 0)
		return create(-1, base);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) {
		refuse(fl < 0 ? EBADF : EACCES, "the heap file must be open for reading and writing");
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		refuse(errno, "cannot stat the heap file: %s", strerror(errno));
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		refuse(EBUSY, "the heap file is attached by another process");
		return NULL;
	}
	if (st.st_size == 0) {
		if ((h = create(fd, base)) == NULL)
			flock(fd, LOCK_UN);
		return h;
	}
	memset(&hdr, 0, sizeof hdr);
	got = pread(fd, &hdr, sizeof hdr, 0);
	if (judge(&hdr, got, (uint64_t)st.st_size) != 0)
		goto bad;
	at = (void *)(uintptr_t)hdr.base;
	r = mmap(at, hdr.reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
	    MAP_FIXED_NOREPLACE, -1, 0);
	if (r != at) {
		if (r != MAP_FAILED)
			munmap(r, hdr.reserve);
		refuse(EEXIST, "the heap's address range %p.. is in use in this process", at);
		goto bad;
	}
	h = mmap(at, hdr.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (h == MAP_FAILED) {
		refuse(errno, "cannot map the heap file: %s", strerror(errno));
		munmap(r, hdr.reserve);
		goto bad;
	}
	liven(h, fd);
	return h;
bad:
	flock(fd, LOCK_UN);
	return NULL;
}

/* See <pooldbg/mmalloc.h>. */
EXPORT const char *
mmalloc_attach_error(void)
{
	return attacherr;
}

/* See <pooldbg/mmalloc.h>. */
EXPORT void *
mmalloc_detach(void *md)
{
	MmHeader *h;
	uint64_t reserve;
	int fd;

	if ((h = md) == NULL) {
		errno = EINVAL;
		return md;
	}
	fd = h->fd;
	reserve = h->reserve;
	h->attached = 0;
	h->pid = 0;
	if (fd >= 0 && msync(h, h->size, MS_SYNC) != 0)
		return md;
	pthread_mutex_destroy(&h->lock);
	if (munmap(h, reserve) != 0)
		return md;
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
	return NULL;
}

/* ---- the calls ---------------------------------------------------------- */

static void *
result(MmHeader *h, void *v)
{
	if (v != NULL)
		h->lasterrno = 0;
	return v;
}

/* ---- trace hooks, untraced ---------------------------------------------- */

/* See internal.h: untraced, nothing to record. */
EXPORT void
pooldbg_mm_alloc(unsigned call, const void *ptr, size_t size, size_t align, uintptr_t pc)
{
	(void)call;
	(void)ptr;
	(void)size;
	(void)align;
	(void)pc;
}

/* See internal.h: untraced, nothing to record. */
EXPORT void
pooldbg_mm_free(const void *ptr, uintptr_t pc)
{
	(void)ptr;
	(void)pc;
}

/* See internal.h: untraced, the reallocation alone. */
EXPORT void *
pooldbg_mm_realloc(void *md, void *ptr, size_t size, uintptr_t pc)
{
	(void)pc;
	if (md == NULL)
		return pooldbg_realloc(ptr, size);
	return poolrealloc(&((MmHeader *)md)->pool, ptr, size);
}

/* See <pooldbg/mmalloc.h>. */
EXPORT __attribute__((noinline)) void *
mmalloc(void *md, size_t size)
{
	void *v;

	if (md == NULL)
		v = pooldbg_malloc(size);
	else
		v = result(md, poolalloc(&((MmHeader *)md)->pool, size));
	if (v != NULL)
		pooldbg_mm_alloc(CALL_MMALLOC, v, size, 0, CALLERPC());
	return v;
}

/* See <pooldbg/mmalloc.h>. */
EXPORT __attribute__((noinline)) void *
mrealloc(void *md, void *ptr, size_t size)
{
	void *v;

	v = pooldbg_mm_realloc(md, ptr, size, CALLERPC());
	return md == NULL ? v : result(md, v);
}

/* See <pooldbg/mmalloc.h>. */
EXPORT __attribute__((noinline)) void *
mvalloc(void *md, size_t size)
{
	void *v;

	if (md == NULL)
		v = pooldbg_valloc(size);
	else
		v = result(md, poolallocalign(&((MmHeader *)md)->pool, size, pagesz(), 0, 0));
	if (v != NULL)
		pooldbg_mm_alloc(CALL_MVALLOC, v, size, pagesz(), CALLERPC());
	return v;
}

/* See <pooldbg/mmalloc.h>. */
EXPORT __attribute__((noinline)) void
mfree(void *md, void *ptr)
{
	if (ptr != NULL)
		pooldbg_mm_free(ptr, CALLERPC());	/* before the block can be handed out again */
	if (md == NULL)
		pooldbg_free(ptr);
	else
		poolfree(&((MmHeader *)md)->pool, ptr);
}

/* See <pooldbg/mmalloc.h>. */
EXPORT int
mmalloc_errno(void *md)
{
	return md == NULL ? 0 : ((MmHeader *)md)->lasterrno;
}

/* See <pooldbg/mmalloc.h>. */
EXPORT int
mmalloc_setkey(void *md, int keynum, void *key)
{
	MmHeader *h;

	if ((h = md) == NULL || keynum < 0 || keynum >= MMALLOC_KEYS) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&h->lock);
	h->keys[keynum] = (uintptr_t)key;
	h->checksum = mm_checksum(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* See <pooldbg/mmalloc.h>. */
EXPORT void *
mmalloc_getkey(void *md, int keynum)
{
	if (md == NULL || keynum < 0 || keynum >= MMALLOC_KEYS)
		return NULL;
	return (void *)(uintptr_t)((MmHeader *)md)->keys[keynum];
}

/* See <pooldbg/mmalloc.h>. */
EXPORT Pool *
mmalloc_pool(void *md)
{
	return md == NULL ? pooldbg_mainmem : &((MmHeader *)md)->pool;
}

/* ---- the default pool in a heap file ------------------------------------- */

static void *
mainarena(size_t n)
{
	MmHeader *h;
	void *v;

	h = mainheap;
	current = h;
	pthread_mutex_lock(&h->lock);
	v = heaparena(n);
	pthread_mutex_unlock(&h->lock);
	current = NULL;
	if (v == NULL)
		errno = ENOMEM;
	return v;
}

/* See mmalloc-impl.h. */
int
mmheap_main(Pool *p, const char *path)
{
	MmHeader *h;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || (h = create(fd, NULL)) == NULL) {
		close(fd);
		return -1;
	}
	snprintf(h->name, sizeof h->name, "%s", p->name != NULL ? p->name : "main");
	h->pool.maxsize = 0;	/* the default pool's own state lives in the process */
	h->tagbytes = 2 * sizeof(uintptr_t);	/* malloc.c's tag words */
	mainheap = h;
	p->alloc = mainarena;
	/*
	 * Only arenas from the file are handed out from now on; any arena the
	 * pool got before stays where it is, and the file's reservation
	 * keeps them from touching the new ones, so the pool never joins them.
	 */
	return 0;
}

/* The pipe between mmheap_forkprepare and the child's copy; -1: none. */
static int forkpipe[2] = { -1, -1 };

/* See mmalloc-impl.h.  The system call itself: the runtime's pipe2 would move its ends. */
void
mmheap_forkprepare(void)
{
	if (mainheap == NULL || mainheap->anon ||
	    syscall(SYS_pipe2, forkpipe, O_CLOEXEC) != 0)
		forkpipe[0] = forkpipe[1] = -1;
}

/* See mmalloc-impl.h. */
void
mmheap_forkparent(void)
{
	char c;

	if (forkpipe[0] < 0)
		return;
	close(forkpipe[1]);
	/* one byte once the child has its copy; end of file if it died first */
	while (read(forkpipe[0], &c, 1) < 0 && errno == EINTR)
		;
	close(forkpipe[0]);
	forkpipe[0] = forkpipe[1] = -1;
}

/* See mmalloc-impl.h. */
void
mmheap_forkchild(void)
{
	MmHeader *h;
	uint64_t size, len;
	void *copy, *at;

	if ((h = mainheap) == NULL || h->anon)
		return;
	size = h->size;
	len = (size + pagesz() - 1) & ~((uint64_t)pagesz() - 1);
	at = h;
	copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		abort();	/* the child would write into its parent's heap */
	memcpy(copy, at, size);
	if (mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED)
		abort();
	h->anon = 1;	/* grows with anonymous memory, in its own copy of the header */
	h->fd = -1;
	if (forkpipe[1] >= 0) {
		while (write(forkpipe[1], "", 1) < 0 && errno == EINTR)
			;
		close(forkpipe[0]);
		close(forkpipe[1]);
		forkpipe[0] = forkpipe[1] = -1;
	}
}
