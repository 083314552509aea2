/*
 * tests/malloc-linked.c -- libpooldbg-malloc linked in: the program's malloc
 * (and so the C library's own allocations) is the default pool.
 *
 * Owns its checks only.  Drives the C library through calls that allocate
 * (strdup, asprintf, getline, qsort, stdio streams, printf), threads and
 * fork, and checks every block lands in pooldbg_mainmem and the pool stays
 * sound.  Never asserts a time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#include <pooldbg/malloc.h>

#include "tap.h"

#define ALIGNED(v, a)	(((uintptr_t)(v) & ((uintptr_t)(a) - 1)) == 0)
#define SITESPAN	256	/* how far past its entry a call in a small function lies */
#define NTHREAD		4

static int
inpool(void *v)
{
	return v != NULL && poolisoverlap(pooldbg_mainmem, v, 1);
}

static char tmpdir[] = "/tmp/pooldbg-linked-XXXXXX";

/* ---- before main -------------------------------------------------------- */

static void *early;

static __attribute__((constructor)) void
beforemain(void)
{
	early = malloc(123);
}

/* ---- the C library allocating through the pool -------------------------- */

static void
teststrings(void)
{
	char buf[64], *s, *t;
	int n;

	ok(inpool(early), "malloc before main is a pool block");
	free(early);

	s = malloc(100);
	ok(inpool(s) && ALIGNED(s, 16), "malloc(100) is a pool block, 16-byte aligned");
	free(s);

	s = strdup("a string to copy");
	ok(inpool(s) && strcmp(s, "a string to copy") == 0, "strdup");
	free(s);

	t = NULL;
	n = asprintf(&t, "%s-%d-%0500d", "fmt", 42, 7);
	ok(n == 507 && inpool(t) && strncmp(t, "fmt-42-000", 10) == 0 && t[506] == '7',
	    "asprintf of a long string");
	free(t);

	n = snprintf(buf, sizeof buf, "%s %x %.3f", "snprintf", 255u, 1.5);
	ok(n == 17 && strcmp(buf, "snprintf ff 1.500") == 0, "snprintf");
	n = snprintf(NULL, 0, "%08000d", 1);
	ok(n == 8000, "snprintf of 8000 characters into nothing");
}

static int
cmpint(const void *a, const void *b)
{
	int x, y;

	x = *(const int *)a;
	y = *(const int *)b;
	return (x > y) - (x < y);
}

static void
testqsort(void)
{
	enum { N = 100000 };
	unsigned seed;
	int *a, i, sorted;

	a = malloc(N * sizeof *a);
	if (!ok(inpool(a), "array for qsort is a pool block"))
		return;
	seed = 12345;
	for (i = 0; i < N; i++) {
		seed = seed * 1103515245 + 12345;
		a[i] = (int)(seed >> 8);
	}
	qsort(a, N, sizeof *a, cmpint);	/* large enough that qsort allocates */
	sorted = 1;
	for (i = 1; i < N; i++)
		if (a[i - 1] > a[i])
			sorted = 0;
	ok(sorted, "qsort of %d ints", N);
	free(a);
}

static void
teststdio(void)
{
	char path[sizeof tmpdir + 16], *line, *big;
	size_t cap, total;
	ssize_t n;
	FILE *f;
	int i, lines, good, save, fd;

	snprintf(path, sizeof path, "%s/file", tmpdir);
	f = fopen(path, "w");
	if (!ok(f != NULL, "fopen for writing"))
		return;
	for (i = 0; i < 1000; i++)
		fprintf(f, "line %d %0*d\n", i, i % 300, i);
	ok(fclose(f) == 0, "fprintf 1000 lines, fclose");

	f = fopen(path, "r");
	if (!ok(f != NULL, "fopen for reading"))
		return;
	line = NULL;
	cap = 0;
	lines = 0;
	good = 1;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, "line ", 5) != 0 || line[n - 1] != '\n' ||
		    atoi(line + 5) != lines)
			good = 0;
		lines++;
	}
	ok(good && lines == 1000 && inpool(line), "getline reads them back into a pool block");
	free(line);
	fclose(f);

	/* printf of long strings, on stdout sent to a file for the while */
	big = malloc(20001);
	memset(big, 'p', 20000);
	big[20000] = '\0';
	fd = open(path, O_WRONLY | O_TRUNC);
	save = dup(1);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	printf("%s|%s\n", big, big + 10000);
	printf("%-30000s|\n", "wide");
	fflush(stdout);
	dup2(save, 1);
	close(save);
	free(big);

	f = fopen(path, "r");
	total = 0;
	if (f != NULL) {
		while ((i = getc(f)) != EOF)
			total++;
		fclose(f);
	}
	ok(total == 20000 + 1 + 10000 + 1 + 30000 + 2,
	    "printf of long strings through stdio (%zu bytes)", total);
	unlink(path);
}

/* ---- alignment ---------------------------------------------------------- */

static void
testalign(void)
{
	volatile size_t huge;
	size_t pg;
	void *v;
	int e;

	pg = (size_t)sysconf(_SC_PAGESIZE);
	v = NULL;
	e = posix_memalign(&v, 256, 1000);
	ok(e == 0 && inpool(v) && ALIGNED(v, 256), "posix_memalign(256)");
	free(v);
	e = posix_memalign(&v, 12, 1000);
	ok(e == EINVAL, "posix_memalign(12): EINVAL");
	v = aligned_alloc(4096, 8192);
	ok(inpool(v) && ALIGNED(v, 4096), "aligned_alloc(4096)");
	free(v);
	v = memalign(128, 10);
	ok(inpool(v) && ALIGNED(v, 128), "memalign(128)");
	free(v);
	v = valloc(100);
	ok(inpool(v) && ALIGNED(v, pg), "valloc");
	free(v);
	v = pvalloc(100);
	ok(inpool(v) && ALIGNED(v, pg) && malloc_usable_size(v) >= pg, "pvalloc");
	free(v);

	v = malloc(37);
	ok(malloc_usable_size(v) >= 37, "malloc_usable_size >= requested");
	memset(v, 'z', malloc_usable_size(v));
	free(v);
	v = calloc(10, 10);
	ok(inpool(v), "calloc is a pool block");
	v = realloc(v, 5000);
	ok(inpool(v), "realloc is a pool block");
	v = reallocarray(v, 10, 1000);
	ok(inpool(v), "reallocarray is a pool block");
	free(v);
	errno = 0;
	huge = SIZE_MAX / 8;	/* volatile: the compiler must not see the overflow */
	v = calloc(huge, 16);
	ok(v == NULL && errno == ENOMEM, "calloc overflow: NULL, ENOMEM");
}

/* ---- tags --------------------------------------------------------------- */

static __attribute__((noinline)) void *
mallocsite(size_t n)
{
	void *v;

	v = malloc(n);
	__asm__ volatile("" : : "r"(v) : "memory");	/* no tail call */
	return v;
}

static __attribute__((noinline)) void *
reallocsite(void *old, size_t n)
{
	void *v;

	v = realloc(old, n);
	__asm__ volatile("" : : "r"(v) : "memory");
	return v;
}

static __attribute__((noinline)) void *
callocsite(size_t n)
{
	void *v;

	v = calloc(n, 2);
	__asm__ volatile("" : : "r"(v) : "memory");
	return v;
}

static __attribute__((noinline)) void *
memalignsite(size_t n)
{
	void *v;

	if (posix_memalign(&v, 64, n) != 0)
		v = NULL;
	__asm__ volatile("" : : "r"(v) : "memory");
	return v;
}

static void *(*volatile mallocsitep)(size_t) = mallocsite;
static void *(*volatile reallocsitep)(void *, size_t) = reallocsite;
static void *(*volatile callocsitep)(size_t) = callocsite;
static void *(*volatile memalignsitep)(size_t) = memalignsite;

static int
insite(uintptr_t tag, void *fn)
{
	return tag > (uintptr_t)fn && tag < (uintptr_t)fn + SITESPAN;
}

static void
testtags(void)
{
	void *v, *w;

	v = mallocsitep(10);
	ok(insite(getmalloctag(v), (void *)mallocsite),
	    "malloc tag names the program's call site (%#lx, site %p), not the shim",
	    (unsigned long)getmalloctag(v), (void *)mallocsite);
	ok(getrealloctag(v) == 0, "realloc tag of a fresh malloc block is 0");
	w = reallocsitep(v, 10000);
	ok(insite(getrealloctag(w), (void *)reallocsite) &&
	    insite(getmalloctag(w), (void *)mallocsite),
	    "realloc tag names realloc's call site, malloc tag kept");
	free(w);
	v = reallocsitep(NULL, 10);
	ok(insite(getmalloctag(v), (void *)reallocsite) &&
	    insite(getrealloctag(v), (void *)reallocsite),
	    "realloc(NULL) names its call site in both tags");
	free(v);
	v = callocsitep(10);
	ok(insite(getmalloctag(v), (void *)callocsite), "calloc tag names the call site");
	free(v);
	v = memalignsitep(10);
	ok(insite(getmalloctag(v), (void *)memalignsite) && ALIGNED(v, 64),
	    "posix_memalign tag names the call site");
	free(v);
}

/* ---- threads and fork --------------------------------------------------- */

struct worker {
	pthread_t tid;
	unsigned seed;
	long rounds;
	long bad;	/* blocks found outside the pool or with wrong contents */
};

static void *
work(void *arg)
{
	enum { NSLOT = 64 };
	struct worker *w;
	unsigned char *slot[NSLOT];
	size_t len[NSLOT], n;
	unsigned r;
	long i;
	int k;

	w = arg;
	memset(slot, 0, sizeof slot);
	memset(len, 0, sizeof len);
	for (i = 0; i < w->rounds; i++) {
		w->seed = w->seed * 1103515245 + 12345;
		r = w->seed >> 8;
		k = (int)(r % NSLOT);
		n = 1 + (r >> 6) % 2000;
		if (slot[k] != NULL && (slot[k][0] != (unsigned char)k ||
		    slot[k][len[k] - 1] != (unsigned char)k))
			w->bad++;
		switch (r % 3) {
		case 0:
			free(slot[k]);
			slot[k] = malloc(n);
			break;
		case 1:
			slot[k] = realloc(slot[k], n);
			break;
		default:
			free(slot[k]);
			slot[k] = NULL;
			continue;
		}
		if (!inpool(slot[k])) {
			w->bad++;
			slot[k] = NULL;
			continue;
		}
		len[k] = n;
		memset(slot[k], k, n);
	}
	for (k = 0; k < NSLOT; k++)
		free(slot[k]);
	return NULL;
}

static void
testthreads(void)
{
	struct worker w[NTHREAD];
	long bad;
	int i, started;

	started = 0;
	for (i = 0; i < NTHREAD; i++) {
		w[i].seed = 77u + (unsigned)i * 1000;
		w[i].rounds = 5000 * tap_scale();
		w[i].bad = 0;
		if (pthread_create(&w[i].tid, NULL, work, &w[i]) == 0)
			started++;
		else
			break;
	}
	ok(started == NTHREAD, "%d threads started", NTHREAD);
	bad = 0;
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		bad += w[i].bad;
	}
	ok(bad == 0, "%d threads x %ld malloc/realloc/free rounds: every block sound (%ld bad)",
	    NTHREAD, 5000 * tap_scale(), bad);
}

static void
testfork(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		char *s;
		int i;

		for (i = 0; i < 100; i++) {
			s = malloc(100 + i);
			if (!inpool(s))
				_exit(2);
			memset(s, 'c', 100 + i);
			free(s);
		}
		s = strdup("child");
		poolcheck(pooldbg_mainmem);
		_exit(s != NULL && strcmp(s, "child") == 0 ? 0 : 3);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "a forked child mallocs, checks the pool, exits 0");
}

/* A thread keeps allocating while the main thread forks: the child's pool is usable. */
static volatile int stopchurn;

static void *
churn(void *arg)
{
	void *v;

	(void)arg;
	while (!stopchurn) {
		v = malloc(64);
		free(v);
	}
	return NULL;
}

static void
testforkbusy(void)
{
	pthread_t t;
	int i, status, good;
	pid_t pid;

	if (pthread_create(&t, NULL, churn, NULL) != 0) {
		ok(0, "churn thread started");
		return;
	}
	good = 1;
	for (i = 0; i < 20; i++) {
		pid = fork();
		if (pid == 0) {
			free(malloc(1000));
			poolcheck(pooldbg_mainmem);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			good = 0;
	}
	stopchurn = 1;
	pthread_join(t, NULL);
	ok(good, "fork while another thread allocates: children allocate and exit 0");
}

/* ---- the heap's figures -------------------------------------------------- */

#define NFIG	200
#define FIGSIZE	1000

/* The first number after "in use bytes" in file path (malloc_stats's), or -1. */
static long
inusebytes(const char *path)
{
	char line[200];
	long v;
	FILE *f;

	v = -1;
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "in use bytes = %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void
testfigures(void)
{
	static char fbuf[8192];
	struct mallinfo2 m0, m1, m2, p2;
	struct mallinfo mi;
	char path[256], want[128], *text;
	void *v[NFIG];
	size_t got;
	int fd, saved, i, r;
	long used;
	FILE *f;

	m0 = mallinfo2();
	for (i = 0; i < NFIG; i++)
		v[i] = malloc(FIGSIZE);
	m1 = mallinfo2();
	ok(m1.uordblks - m0.uordblks >= (size_t)NFIG * FIGSIZE &&
	    m1.uordblks - m0.uordblks <= (size_t)NFIG * (FIGSIZE + 256),
	    "mallinfo2: %d blocks of %d bytes add %zu bytes in use", NFIG, FIGSIZE,
	    m1.uordblks - m0.uordblks);
	ok(m1.arena >= m1.uordblks + m1.fordblks && m1.arena == pooldbg_mainmem->cursize &&
	    m1.fsmblks <= m1.fordblks, "mallinfo2: the arenas' bytes hold those in use and those free");
	for (i = 0; i < NFIG; i++)
		free(v[i]);
	m2 = mallinfo2();
	ok(m2.uordblks == m0.uordblks && m2.arena == m1.arena &&
	    m2.fordblks - m1.fordblks == m1.uordblks - m2.uordblks,
	    "mallinfo2: freed, the bytes go from in use (%zu, was %zu) to free", m2.uordblks,
	    m0.uordblks);
	ok(m2.ordblks + m2.smblks > 0 && m2.hblks == 0 && m2.hblkhd == 0,
	    "mallinfo2: free blocks counted (%zu in the tree, %zu listed), no mapped chunks",
	    m2.ordblks, m2.smblks);
	p2 = pooldbg_mallinfo2();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"	/* glibc's, for its int fields; still answered */
	mi = mallinfo();
#pragma GCC diagnostic pop
	ok(p2.arena == m2.arena && p2.uordblks == m2.uordblks && mi.arena == (int)m2.arena &&
	    mi.uordblks == (int)m2.uordblks && mi.fordblks == (int)m2.fordblks,
	    "mallinfo and pooldbg_mallinfo2 agree with mallinfo2");
	ok(malloc_trim(0) == 0, "malloc_trim: nothing given back");

	snprintf(path, sizeof path, "%s/info", tmpdir);
	if ((f = fopen(path, "w+")) == NULL || setvbuf(f, fbuf, _IOFBF, sizeof fbuf) != 0)
		tap_bail("%s: %s", path, strerror(errno));
	r = malloc_info(1, f);
	ok(r == EINVAL, "malloc_info: options other than 0 are EINVAL");
	m1 = mallinfo2();
	r = malloc_info(0, f);
	fflush(f);
	text = NULL;
	got = 0;
	if (r == 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc(8192)) != NULL)
		got = fread(text, 1, 8191, f);
	fclose(f);
	snprintf(want, sizeof want, "<system type=\"current\" size=\"%zu\"/>", m1.arena);
	ok(text != NULL && (text[got] = '\0', strncmp(text, "<malloc version=\"1\">\n", 21) == 0) &&
	    strstr(text, want) != NULL && strstr(text, "</malloc>\n") != NULL,
	    "malloc_info: glibc's XML, with the arenas' bytes");
	free(text);

	snprintf(path, sizeof path, "%s/stats", tmpdir);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0 || dup2(fd, 2) < 0)
		tap_bail("%s: %s", path, strerror(errno));
	m1 = mallinfo2();
	malloc_stats();
	dup2(saved, 2);
	close(saved);
	close(fd);
	used = inusebytes(path);
	unlink(path);
	snprintf(path, sizeof path, "%s/info", tmpdir);
	unlink(path);
	ok(used >= 0 && (size_t)used == m1.uordblks,
	    "malloc_stats: the bytes in use on stderr (%ld, mallinfo2 says %zu)", used, m1.uordblks);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		tap_bail("mkdtemp: %s", strerror(errno));
	teststrings();
	testqsort();
	teststdio();
	testalign();
	testtags();
	testthreads();
	testfork();
	testforkbusy();
	testfigures();
	poolcheck(pooldbg_mainmem);
	ok(1, "poolcheck after the work");
	ok(pooldbg_mainmem->curalloc > 0 && pooldbg_mainmem->curalloc + pooldbg_mainmem->curfree <=
	    pooldbg_mainmem->cursize, "pool counters are consistent");
	rmdir(tmpdir);
	return tap_done();
}
