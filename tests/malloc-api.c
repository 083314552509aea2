/*
 * tests/malloc-api.c -- the malloc(3) family of <pooldbg/malloc.h> at its
 * boundaries, called by its pooldbg_ and Plan 9 names (the program's own
 * malloc stays the C library's).
 *
 * Owns its checks only.  Runs itself again (with POOLDBG_FLAGS set) to see
 * the flags read from the environment, and forks children that are meant
 * to die of a panic.  Never asserts a time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#include <pooldbg/malloc.h>

#include "tap.h"

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))
#define ALIGNED(v, a)	(((uintptr_t)(v) & ((uintptr_t)(a) - 1)) == 0)
/* How far past its entry the call in a small function may lie. */
#define SITESPAN	256

static size_t pagesz;

static int
allbytes(const void *v, int c, size_t n)
{
	const unsigned char *p;
	size_t i;

	p = v;
	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)c)
			return 0;
	return 1;
}

static void
pattern(void *v, size_t n, unsigned seed)
{
	unsigned char *p;
	size_t i;

	p = v;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int
haspattern(const void *v, size_t n, unsigned seed)
{
	const unsigned char *p;
	size_t i;

	p = v;
	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

static int
inpool(void *v, size_t n)
{
	return v != NULL && poolisoverlap(pooldbg_mainmem, v, n);
}

/* ---- children ----------------------------------------------------------- */

/*
 * Reads fd to end of file into buf (NUL-terminated, cut at size-1), then
 * closes it.
 */
static void
slurp(int fd, char *buf, size_t size)
{
	char junk[4096];
	size_t len;
	ssize_t n;

	len = 0;
	for (;;) {
		if (len < size - 1)
			n = read(fd, buf + len, size - 1 - len);
		else
			n = read(fd, junk, sizeof junk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < size - 1)
			len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
}

/*
 * Forks; the child runs fn with its fd 2 on a pipe, core dumps off, and
 * exits 0 if fn returns.  The child's stderr lands in buf; returns the raw
 * wait status.
 */
static int
forkrun(void (*fn)(void), char *buf, size_t size)
{
	struct rlimit nocore = { 0, 0 };
	int fd[2], status;
	pid_t pid;

	if (pipe(fd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd[0]);
		setrlimit(RLIMIT_CORE, &nocore);
		dup2(fd[1], 2);
		close(fd[1]);
		fn();
		_exit(0);
	}
	close(fd[1]);
	slurp(fd[0], buf, size);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid: %s", strerror(errno));
	return status;
}

/*
 * Runs this program again as "--child mode" with POOLDBG_FLAGS set to
 * flags; its stderr lands in buf.  Returns its exit status, or -1 if it
 * did not exit normally.
 */
static int
rerun(const char *flags, const char *mode, char *buf, size_t size)
{
	int fd[2], status;
	pid_t pid;

	if (pipe(fd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		char *argv[] = { (char *)"malloc-api", (char *)"--child", (char *)mode, NULL };

		close(fd[0]);
		dup2(fd[1], 2);
		close(fd[1]);
		setenv("POOLDBG_FLAGS", flags, 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(fd[1]);
	slurp(fd[0], buf, size);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			tap_bail("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * In a fresh process: blocks spread over several new arenas, all freed,
 * leave room for a block bigger than any one arena only if the arenas were
 * joined.  0 if so.
 */
static int
joinarenas(void)
{
	enum { NBLOCK = 8, BLOCK = 3 << 20, BIG = 20 << 20 };
	void *v[NBLOCK], *big;
	uintptr_t before;
	int i;

	for (i = 0; i < NBLOCK; i++)
		if ((v[i] = pooldbg_malloc(BLOCK)) == NULL)
			return 3;
	for (i = 0; i < NBLOCK; i++)
		pooldbg_free(v[i]);
	before = pooldbg_mainmem->cursize;
	big = pooldbg_malloc(BIG);
	if (big == NULL)
		return 2;
	if (pooldbg_mainmem->cursize != before)
		return 1;
	poolcheck(pooldbg_mainmem);
	return 0;
}

/* The child side of rerun: checks that report through the exit status. */
static int
child(const char *mode)
{
	void *seen[64];
	uint32_t *w;
	size_t i, j;
	void *v;

	pooldbg_free(pooldbg_malloc(1));	/* the first use reads the flags */
	if (strcmp(mode, "flags") == 0)
		return pooldbg_mainmem->flags & 0x7f;
	if (strcmp(mode, "noreuse") == 0) {
		if (!(pooldbg_mainmem->flags & POOL_NOREUSE))
			return 1;
		for (i = 0; i < nelem(seen); i++) {
			seen[i] = pooldbg_malloc(64);
			memset(seen[i], 'n', 64);
			pooldbg_free(seen[i]);
			for (j = 0; j < i; j++)
				if (seen[j] == seen[i])
					return 2;
		}
		poolcheck(pooldbg_mainmem);
		return 0;
	}
	if (strcmp(mode, "join") == 0)
		return joinarenas();
	if (strcmp(mode, "antagonism") == 0) {
		v = pooldbg_malloc(256);
		w = v;
		for (i = 0; i < 256 / 4; i++)
			if (w[i] >> 24 != 0xDF)
				return 1;
		pooldbg_free(v);
		return 0;
	}
	if (strcmp(mode, "antagonism-fail") == 0) {
		errno = 0;
		v = pooldbg_malloc((size_t)1 << 60);
		if (v != NULL || errno != ENOMEM)
			return 1;
		v = pooldbg_realloc(NULL, (size_t)1 << 60);
		if (v != NULL || errno != ENOMEM)
			return 2;
		v = pooldbg_calloc(1, (size_t)1 << 60);
		if (v != NULL || errno != ENOMEM)
			return 3;
		return 0;
	}
	return 100;
}

static void
overflowone(void)
{
	char *v, *w;

	w = pooldbg_malloc(100);
	v = pooldbg_malloc(10);
	memset(v, 'a', 10);
	v[10] = 'X';	/* one byte past the end, on a guard byte */
	pooldbg_free(v);
	pooldbg_free(w);	/* the thread's next free checks the one before */
	fprintf(stderr, "not reached\n");
}

static int mallocfdpipe[2];

static void
overflowfd(void)
{
	char num[16];

	snprintf(num, sizeof num, "%d", mallocfdpipe[1]);
	setenv("MALLOCFD", num, 1);
	overflowone();
}

static void
doublefree(void)
{
	void *v;

	v = pooldbg_malloc(40);
	pooldbg_free(v);
	pooldbg_free(v);
}

static void
checkpool(void)
{
	poolcheck(pooldbg_mainmem);
}

/* Does a forked child find the pool sound?  Quiet and exit 0 is yes. */
static int
poolsound(void)
{
	char buf[4096];
	int st;

	st = forkrun(checkpool, buf, sizeof buf);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) || buf[0] != '\0') {
		tap_diag("poolcheck: status %#x: %s", st, buf);
		return 0;
	}
	return 1;
}

/* ---- call sites for the tags -------------------------------------------- */

static __attribute__((noinline)) void *
mallocsite(size_t n)
{
	void *v;

	v = pooldbg_malloc(n);
	__asm__ volatile("" : : "r"(v) : "memory");	/* no tail call */
	return v;
}

static __attribute__((noinline)) void *
malloczsite(size_t n)
{
	void *v;

	v = mallocz(n, 1);
	__asm__ volatile("" : : "r"(v) : "memory");
	return v;
}

static __attribute__((noinline)) void *
callocsite(size_t n)
{
	void *v;

	v = pooldbg_calloc(n, 1);
	__asm__ volatile("" : : "r"(v) : "memory");
	return v;
}

static __attribute__((noinline)) void *
reallocsite(void *old, size_t n)
{
	void *v;

	v = pooldbg_realloc(old, n);
	__asm__ volatile("" : : "r"(v) : "memory");
	return v;
}

static __attribute__((noinline)) void *
alignsite(size_t n)
{
	void *v;

	v = pooldbg_memalign(256, n);
	__asm__ volatile("" : : "r"(v) : "memory");
	return v;
}

/* Called through pointers so that the compiler keeps them whole. */
static void *(*volatile mallocsitep)(size_t) = mallocsite;
static void *(*volatile malloczsitep)(size_t) = malloczsite;
static void *(*volatile callocsitep)(size_t) = callocsite;
static void *(*volatile reallocsitep)(void *, size_t) = reallocsite;
static void *(*volatile alignsitep)(size_t) = alignsite;

static int
insite(uintptr_t tag, void *fn)
{
	return tag > (uintptr_t)fn && tag < (uintptr_t)fn + SITESPAN;
}

/* ---- before main -------------------------------------------------------- */

static void *early;

static __attribute__((constructor)) void
beforemain(void)
{
	early = pooldbg_malloc(100);
	if (early != NULL)
		memset(early, 'e', 100);
}

/* ---- the checks --------------------------------------------------------- */

static void
testmalloc(void)
{
	void *a, *b, *v;

	ok(early != NULL && inpool(early, 100) && allbytes(early, 'e', 100),
	    "malloc works before main");
	pooldbg_free(early);

	a = pooldbg_malloc(0);
	b = pooldbg_malloc(0);
	ok(a != NULL && b != NULL && a != b, "malloc(0) gives distinct non-NULL pointers");
	ok(ALIGNED(a, 16) && ALIGNED(b, 16), "malloc(0) is 16-byte aligned");
	pooldbg_free(a);
	pooldbg_free(b);

	v = pooldbg_malloc(1);
	ok(v != NULL && ALIGNED(v, 16) && inpool(v, 1), "malloc(1) in the pool, aligned");
	*(char *)v = 'x';
	pooldbg_free(v);

	v = pooldbg_malloc(10 << 20);	/* larger than one default arena */
	ok(v != NULL && ALIGNED(v, 16), "malloc(10 MiB)");
	if (v != NULL) {
		memset(v, 'L', 10 << 20);
		ok(inpool(v, 10 << 20) && allbytes((char *)v + (10 << 20) - 4096, 'L', 4096),
		    "10 MiB block writable to its end");
	} else
		ok(0, "10 MiB block writable to its end");
	pooldbg_free(v);

	errno = 0;
	v = pooldbg_malloc(SIZE_MAX);
	ok(v == NULL && errno == ENOMEM, "malloc(SIZE_MAX): NULL, ENOMEM");
	errno = 0;
	v = pooldbg_malloc(SIZE_MAX - 8);
	ok(v == NULL && errno == ENOMEM, "malloc(SIZE_MAX-8): NULL, ENOMEM (no wrap with tags)");
	errno = 0;
	v = pooldbg_malloc((size_t)1 << 60);
	ok(v == NULL && errno == ENOMEM, "malloc(2^60): NULL, ENOMEM");

	pooldbg_free(NULL);
	ok(1, "free(NULL) is a no-op");
}

static void
testcalloc(void)
{
	void *v;
	int i;

	for (i = 0; i < 8; i++) {	/* leave dirty free blocks of that size about */
		v = pooldbg_malloc(300);
		memset(v, 0xAA, 300);
		pooldbg_free(v);
	}
	v = pooldbg_calloc(30, 10);
	ok(v != NULL && allbytes(v, 0, 300), "calloc(30, 10) is zeroed");
	pooldbg_free(v);

	v = pooldbg_calloc(0, 5);
	ok(v != NULL, "calloc(0, 5) is non-NULL");
	pooldbg_free(v);
	v = pooldbg_calloc(5, 0);
	ok(v != NULL, "calloc(5, 0) is non-NULL");
	pooldbg_free(v);

	errno = 0;
	v = pooldbg_calloc(SIZE_MAX / 2 + 1, 2);
	ok(v == NULL && errno == ENOMEM, "calloc(SIZE_MAX/2+1, 2) overflows: NULL, ENOMEM");
	errno = 0;
	v = pooldbg_calloc((size_t)1 << 33, (size_t)1 << 33);
	ok(v == NULL && errno == ENOMEM, "calloc(2^33, 2^33) overflows: NULL, ENOMEM");
	errno = 0;
	v = pooldbg_calloc(1, SIZE_MAX);
	ok(v == NULL && errno == ENOMEM, "calloc(1, SIZE_MAX): NULL, ENOMEM");

	v = pooldbg_calloc(1000, 1000);
	ok(v != NULL && allbytes(v, 0, 1000000), "calloc(1000, 1000) is zeroed");
	pooldbg_free(v);
}

static void
testrealloc(void)
{
	unsigned long nfree;
	void *v, *w, *keep;
	size_t n;

	v = pooldbg_realloc(NULL, 50);
	ok(v != NULL && inpool(v, 50), "realloc(NULL, 50) allocates");
	pattern(v, 50, 1);

	keep = pooldbg_malloc(16);	/* likely a neighbour: forces moves now and then */
	for (n = 50; n <= 200000; n = n * 3 + 1) {
		w = pooldbg_realloc(v, n * 3 + 1);
		if (!ok(w != NULL && haspattern(w, n, 1), "realloc grows %zu -> %zu keeping contents",
		    n, n * 3 + 1))
			break;
		pattern(w, n * 3 + 1, 1);
		v = w;
	}
	w = pooldbg_realloc(v, 10);
	ok(w != NULL && haspattern(w, 10, 1), "realloc shrinks to 10 keeping contents");
	v = w;
	w = pooldbg_realloc(v, 10);
	ok(w == v, "realloc to the same size keeps the pointer");

	errno = 0;
	w = pooldbg_realloc(v, SIZE_MAX - 4);
	ok(w == NULL && errno == ENOMEM, "realloc(v, SIZE_MAX-4): NULL, ENOMEM");
	errno = 0;
	w = pooldbg_realloc(v, (size_t)1 << 60);
	ok(w == NULL && errno == ENOMEM && haspattern(v, 10, 1),
	    "failed realloc leaves the old block intact");

	poolcheck(pooldbg_mainmem);	/* frees in the thread caches are counted by now */
	nfree = pooldbg_mainmem->nfree;
	w = pooldbg_realloc(v, 0);
	poolcheck(pooldbg_mainmem);
	ok(w == NULL && pooldbg_mainmem->nfree == nfree + 1, "realloc(v, 0) frees v, returns NULL");

	w = pooldbg_realloc(NULL, 0);
	ok(w != NULL, "realloc(NULL, 0) gives a block");
	pooldbg_free(w);
	pooldbg_free(keep);

	/* a small block grown past its block, with a neighbour in the way */
	v = pooldbg_malloc(100);
	pattern(v, 100, 5);
	keep = pooldbg_malloc(100);
	w = pooldbg_realloc(v, 3000);
	ok(w != NULL && haspattern(w, 100, 5), "realloc grows 100 -> 3000 past its block, keeping contents");
	w = pooldbg_realloc(w, 5000);
	ok(w != NULL && haspattern(w, 100, 5), "and again to 5000, keeping contents");
	pooldbg_free(w);
	pooldbg_free(keep);

	v = pooldbg_malloc(20);
	pattern(v, 20, 9);
	errno = 0;
	w = pooldbg_reallocarray(v, SIZE_MAX / 4, 8);
	ok(w == NULL && errno == ENOMEM && haspattern(v, 20, 9),
	    "reallocarray overflow: NULL, ENOMEM, block intact");
	w = pooldbg_reallocarray(v, 100, 8);
	ok(w != NULL && haspattern(w, 20, 9) && pooldbg_msize(w) >= 800,
	    "reallocarray(v, 100, 8) grows keeping contents");
	v = pooldbg_reallocarray(NULL, 3, 5);
	ok(v != NULL && pooldbg_msize(v) >= 15, "reallocarray(NULL, 3, 5) allocates");
	pooldbg_free(v);
	pooldbg_free(w);
	ok(poolsound(), "pool sound after the reallocs");
}

static void
testalign(void)
{
	static const size_t good[] = { 8, 16, 32, 64, 128, 4096, 1 << 16, 1 << 20 };
	static const size_t bad[] = { 0, 1, 2, 4, 12, 24, 48, 4097 };
	void *v, *keep;
	size_t i;
	int e;

	for (i = 0; i < nelem(good); i++) {
		v = NULL;
		e = pooldbg_posix_memalign(&v, good[i], 100);
		ok(e == 0 && v != NULL && ALIGNED(v, good[i]) && inpool(v, 100),
		    "posix_memalign align %zu", good[i]);
		if (v != NULL)
			memset(v, 'p', 100);
		pooldbg_free(v);
	}
	for (i = 0; i < nelem(bad); i++) {
		keep = v = (void *)&v;
		e = pooldbg_posix_memalign(&v, bad[i], 100);
		ok(e == EINVAL && v == keep, "posix_memalign align %zu: EINVAL, *memptr untouched",
		    bad[i]);
	}
	keep = v = (void *)&v;
	errno = 1234;
	e = pooldbg_posix_memalign(&v, 64, SIZE_MAX - 8);
	ok(e == ENOMEM && v == keep && errno == 1234,
	    "posix_memalign too big: ENOMEM, *memptr and errno untouched");
	e = pooldbg_posix_memalign(&v, 64, 0);
	ok(e == 0 && v != NULL && ALIGNED(v, 64), "posix_memalign size 0");
	pooldbg_free(v);

	for (i = 1; i <= 8192; i <<= 1) {
		v = pooldbg_aligned_alloc(i, 3 * i);
		if (!ok(v != NULL && ALIGNED(v, i), "aligned_alloc(%zu, %zu)", i, 3 * i))
			break;
		memset(v, 'a', 3 * i);
		pooldbg_free(v);
	}
	errno = 0;
	v = pooldbg_aligned_alloc(24, 48);
	ok(v == NULL && errno == EINVAL, "aligned_alloc(24, 48): NULL, EINVAL");
	errno = 0;
	v = pooldbg_aligned_alloc(0, 48);
	ok(v == NULL && errno == EINVAL, "aligned_alloc(0, 48): NULL, EINVAL");
	errno = 0;
	v = pooldbg_aligned_alloc(64, SIZE_MAX);
	ok(v == NULL && errno == ENOMEM, "aligned_alloc(64, SIZE_MAX): NULL, ENOMEM");

	v = pooldbg_memalign(512, 10);
	ok(v != NULL && ALIGNED(v, 512), "memalign(512, 10)");
	pooldbg_free(v);
	v = pooldbg_memalign(48, 10);
	ok(v != NULL && ALIGNED(v, 64), "memalign(48, 10) rounds the alignment up to 64");
	pooldbg_free(v);
	v = pooldbg_memalign(0, 10);
	ok(v != NULL && ALIGNED(v, 16), "memalign(0, 10) is malloc");
	pooldbg_free(v);
	errno = 0;
	v = pooldbg_memalign(SIZE_MAX / 2 + 2, 10);
	ok(v == NULL && errno == EINVAL, "memalign(SIZE_MAX/2+2): NULL, EINVAL");

	v = pooldbg_valloc(10);
	ok(v != NULL && ALIGNED(v, pagesz) && pooldbg_msize(v) >= 10, "valloc(10) is page aligned");
	pooldbg_free(v);
	v = pooldbg_pvalloc(10);
	ok(v != NULL && ALIGNED(v, pagesz) && pooldbg_malloc_usable_size(v) >= pagesz,
	    "pvalloc(10) is page aligned, a page long");
	if (v != NULL)
		memset(v, 'v', pagesz);
	pooldbg_free(v);
	v = pooldbg_pvalloc(pagesz + 1);
	ok(v != NULL && ALIGNED(v, pagesz) && pooldbg_msize(v) >= 2 * pagesz,
	    "pvalloc(page+1) is two pages");
	pooldbg_free(v);
	errno = 0;
	v = pooldbg_pvalloc(SIZE_MAX - 10);
	ok(v == NULL && errno == ENOMEM, "pvalloc(SIZE_MAX-10) overflows: NULL, ENOMEM");
	ok(poolsound(), "pool sound after the aligned blocks");
}

static void
testsize(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4096, 70000 };
	size_t i, u, m;
	void *v;
	int good;

	good = 1;
	for (i = 0; i < nelem(sizes); i++) {
		v = pooldbg_malloc(sizes[i]);
		u = pooldbg_malloc_usable_size(v);
		m = pooldbg_msize(v);
		if (u < sizes[i] || m != u) {
			tap_diag("size %zu: usable %zu, msize %zu", sizes[i], u, m);
			good = 0;
		}
		memset(v, 'u', u);	/* every usable byte may be written */
	}
	ok(good, "usable size >= requested, msize == malloc_usable_size");
	ok(poolsound(), "writing all usable bytes leaves the pool sound");
	ok(pooldbg_malloc_usable_size(NULL) == 0 && msize(NULL) == 0, "usable size of NULL is 0");
}

static void
testplan9(void)
{
	unsigned char *v;
	size_t i;
	int good;

	ok(mainmem == pooldbg_mainmem && mainmem != NULL, "mainmem names the default pool");
	{
		char buf[4096];
		int st;

		st = rerun("", "join", buf, sizeof buf);
		ok(st == 0, "adjacent arenas are joined: 8 x 3 MiB freed make room for 20 MiB "
		    "(status %d)", st);
	}
	ok(mainmem->quantum == 16 && mainmem->minarena == 4 << 20 && mainmem->alloc != NULL &&
	    mainmem->merge != NULL && mainmem->lock != NULL && mainmem->panic != NULL,
	    "default pool: quantum 16, minarena 4 MiB, callbacks set");

	for (i = 0; i < 8; i++) {
		v = pooldbg_malloc(200);
		memset(v, 0x55, 200);
		pooldbg_free(v);
	}
	v = mallocz(200, 1);
	ok(v != NULL && allbytes(v, 0, 200), "mallocz(200, 1) is zeroed");
	pooldbg_free(v);
	v = mallocz(200, 0);
	ok(v != NULL && inpool(v, 200), "mallocz(200, 0) allocates");
	memset(v, 1, 200);
	pooldbg_free(v);
	v = mallocz(0, 1);
	ok(v != NULL, "mallocz(0, 1) is non-NULL");
	pooldbg_free(v);

	v = smalloc(333);
	ok(v != NULL && allbytes(v, 0, 333) && inpool(v, 333), "smalloc(333) is zeroed");
	pooldbg_free(v);

	v = pooldbg_malloc(77);
	ok(msize(v) >= 77 && msize(v) < 77 + 256, "msize(malloc(77)) in [77, 77+256)");
	pooldbg_free(v);

	/* mallocalign: (v - offset) % align == 0 */
	{
		static const struct { size_t align; long offset; } t[] = {
			{ 64, 0 }, { 64, 8 }, { 64, -8 }, { 64, 100 }, { 4096, 24 },
			{ 48, 5 }, { 3, 1 }, { 1000, -1 }, { 16, 0 },
		};

		good = 1;
		for (i = 0; i < nelem(t); i++) {
			v = mallocalign(40, t[i].align, t[i].offset, 0);
			if (v == NULL || ((uintptr_t)v - (uintptr_t)t[i].offset) % t[i].align != 0) {
				tap_diag("mallocalign(40, %zu, %ld, 0) = %p", t[i].align, t[i].offset,
				    (void *)v);
				good = 0;
			}
			if (v != NULL)
				memset(v, 'm', 40);
			pooldbg_free(v);
		}
		ok(good, "mallocalign honours align and offset (also negative, odd aligns)");
	}
	v = mallocalign(40, 0, 12345, 0);
	ok(v != NULL && ALIGNED(v, 16), "mallocalign with align 0 ignores the offset");
	pooldbg_free(v);

	/* span */
	good = 1;
	for (i = 0; i < 64; i++) {
		v = mallocalign(100, 0, 0, 128);
		if (v == NULL || (uintptr_t)v / 128 != ((uintptr_t)v + 99) / 128)
			good = 0;
		if (v != NULL)
			memset(v, 's', 100);
	}
	ok(good, "mallocalign(100, 0, 0, 128) never crosses 128");
	good = 1;
	for (i = 0; i < 64; i++) {
		v = mallocalign(32, 16, 8, 64);
		if (v == NULL || (uintptr_t)v % 16 != 8 ||
		    (uintptr_t)v / 64 != ((uintptr_t)v + 31) / 64)
			good = 0;
	}
	ok(good, "mallocalign(32, 16, 8, 64): offset 8 mod 16, inside 64");
	v = mallocalign(16, 256, 40, 64);
	ok(v != NULL && (uintptr_t)v % 256 == 40 && (uintptr_t)v / 64 == ((uintptr_t)v + 15) / 64,
	    "mallocalign(16, 256, 40, 64): align above span");
	errno = 0;
	v = mallocalign(200, 0, 0, 128);
	ok(v == NULL && errno == EINVAL, "mallocalign size > span: NULL, EINVAL");
	errno = 0;
	v = mallocalign(10, 48, 0, 64);
	ok(v == NULL && errno == EINVAL, "mallocalign span %% align != 0: NULL, EINVAL");
	errno = 0;
	v = mallocalign(60, 16, 8, 64);
	ok(v == NULL && errno == EINVAL, "mallocalign offset + size > span: NULL, EINVAL");
	errno = 0;
	v = mallocalign(60, 256, 8, 64);
	ok(v == NULL && errno == EINVAL, "mallocalign align > span, offset + size > span: EINVAL");
	ok(poolsound(), "pool sound after mallocalign");
}

static void
testtags(void)
{
	uintptr_t t;
	void *v, *w;

	v = mallocsitep(40);
	t = getmalloctag(v);
	ok(insite(t, (void *)mallocsite), "malloc tag is the caller's PC (%#lx in %p)",
	    (unsigned long)t, (void *)mallocsite);
	ok(getrealloctag(v) == 0, "realloc tag of a fresh block is 0");

	w = reallocsitep(v, 4000);
	ok(w != NULL && getmalloctag(w) == t, "realloc keeps the malloc tag");
	ok(insite(getrealloctag(w), (void *)reallocsite), "realloc tag is realloc's caller");
	pooldbg_free(w);

	v = reallocsitep(NULL, 10);
	ok(insite(getmalloctag(v), (void *)reallocsite) &&
	    getrealloctag(v) == getmalloctag(v), "realloc(NULL) sets both tags");
	pooldbg_free(v);

	v = malloczsitep(10);
	ok(insite(getmalloctag(v), (void *)malloczsite) && getrealloctag(v) == 0,
	    "mallocz tags its caller");
	pooldbg_free(v);
	v = callocsitep(10);
	ok(insite(getmalloctag(v), (void *)callocsite) && getrealloctag(v) == 0,
	    "calloc tags its caller");
	pooldbg_free(v);
	v = alignsitep(10);
	ok(insite(getmalloctag(v), (void *)alignsite) && ALIGNED(v, 256),
	    "memalign tags its caller");
	pooldbg_free(v);

	v = pooldbg_malloc(10);
	setmalloctag(v, 0x1234);
	setrealloctag(v, UINTPTR_MAX);
	ok(getmalloctag(v) == 0x1234 && getrealloctag(v) == UINTPTR_MAX, "tag round trip");
	memset(v, 'x', 10);
	ok(getmalloctag(v) == 0x1234, "writing the block leaves the tags alone");
	w = pooldbg_realloc(v, 100000);	/* surely moves */
	ok(w != NULL && getmalloctag(w) == 0x1234 && getrealloctag(w) != UINTPTR_MAX,
	    "tags travel with a moved block; realloc tag renewed");
	pooldbg_free(w);
	setmalloctag(NULL, 1);
	ok(getmalloctag(NULL) == 0 && getrealloctag(NULL) == 0, "tags of NULL read 0");
}

static void
testsummary(void)
{
	char buf[4096];
	int fd[2], save;

	if (pipe(fd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	save = dup(2);
	dup2(fd[1], 2);
	close(fd[1]);
	mallocsummary();
	dup2(save, 2);
	close(save);
	slurp(fd[0], buf, sizeof buf);
	ok(strstr(buf, "pool main") != NULL && strstr(buf, "allocated") != NULL &&
	    buf[strlen(buf) - 1] == '\n', "mallocsummary prints a line about pool main");
	tap_diag("%.*s", (int)strcspn(buf, "\n"), buf);
}

static void
testflags(void)
{
	char buf[8192];
	int st;

	st = rerun("noreuse", "noreuse", buf, sizeof buf);
	ok(st == 0, "POOLDBG_FLAGS=noreuse: freed blocks are not reused (status %d)", st);
	st = rerun("antagonism", "antagonism", buf, sizeof buf);
	ok(st == 0, "POOLDBG_FLAGS=antagonism: new blocks filled with 0xDF (status %d)", st);
	st = rerun("antagonism", "antagonism-fail", buf, sizeof buf);
	ok(st == 0, "POOLDBG_FLAGS=antagonism: a failing malloc returns NULL, ENOMEM (status %d)",
	    st);

	st = rerun("", "flags", buf, sizeof buf);
	ok(st == 0 && buf[0] == '\0', "POOLDBG_FLAGS empty: no flags, nothing said");
	st = rerun("paranoia,bogus,noreuse", "flags", buf, sizeof buf);
	ok(st == (POOL_PARANOIA | POOL_NOREUSE), "paranoia,bogus,noreuse -> flags %#x", st);
	ok(strstr(buf, "bogus") != NULL && strchr(buf, '\n') == buf + strlen(buf) - 1,
	    "one warning line naming the bad word: %.*s", (int)strcspn(buf, "\n"), buf);
	st = rerun(" antagonism , logging,,tolerance", "flags", buf, sizeof buf);
	ok(st == (POOL_ANTAGONISM | POOL_LOGGING | POOL_TOLERANCE),
	    "blanks and empty words are ignored -> flags %#x", st);
	ok(strstr(buf, "poolalloc ") != NULL && strstr(buf, "poolfree ") != NULL,
	    "logging lines go to fd 2");
	st = rerun("antagonism,paranoia,verbosity,debugging,logging,tolerance,noreuse", "flags",
	    buf, sizeof buf);
	ok(st == 0x7f, "every flag name known -> %#x", st);
	st = rerun("Paranoia,all", "flags", buf, sizeof buf);
	ok(st == 0 && strstr(buf, "\"Paranoia\"") != NULL && strstr(buf, "\"all\"") != NULL,
	    "names are exact: Paranoia and all are warned about");
}

static void
testpanic(void)
{
	char buf[8192], fdbuf[4096];
	int st;

	st = forkrun(overflowone, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "one-byte overflow: child aborts");
	ok(strstr(buf, "pooldbg: panic:") != NULL && strstr(buf, "mem user overflow") != NULL &&
	    strstr(buf, "not reached") == NULL,
	    "stderr says pooldbg: panic: ... mem user overflow, before the next free returns");

	if (pipe(mallocfdpipe) < 0)
		tap_bail("pipe: %s", strerror(errno));
	st = forkrun(overflowfd, buf, sizeof buf);
	close(mallocfdpipe[1]);
	slurp(mallocfdpipe[0], fdbuf, sizeof fdbuf);
	ok(WIFSIGNALED(st) && strstr(fdbuf, "pooldbg: panic:") != NULL &&
	    strstr(fdbuf, "mem user overflow") != NULL && strstr(buf, "pooldbg: panic:") != NULL,
	    "$MALLOCFD gets the panic line too");

	st = forkrun(doublefree, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "pooldbg: panic:") != NULL &&
	    strstr(buf, "D2B called on non-block") != NULL, "double free panics");
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child(argv[2]);

	pagesz = (size_t)sysconf(_SC_PAGESIZE);
	testmalloc();
	testcalloc();
	testrealloc();
	testalign();
	testsize();
	testplan9();
	testtags();
	testsummary();
	testflags();
	testpanic();
	ok(poolsound(), "pool sound at the end");
	return tap_done();
}
