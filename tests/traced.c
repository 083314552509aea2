/*
 * tests/traced.c -- a program for the runtime to trace (tests/runtime.sh
 * runs it under LD_PRELOAD=libpooldbg-malloc.so with POOLDBG_SESSION set).
 *
 * Usage: traced MODE [ARGS]; each mode does one thing and prints, on
 * stdout, "want ..." lines: fragments the ring must hold, in the words of
 * tests/ringdump, and "site ptr=P func=F" lines: the block P was allocated
 * directly from the function at F.  The C++ operators are called by their
 * mangled names through dlsym, so no C++ compiler is needed; the calls of
 * <pooldbg/pooldbg.h> and the default pool are found with dlsym too.
 *
 * Owns nothing but its output; never checks anything itself.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pooldbg/pool.h>

#define NOINLINE	__attribute__((noinline))

/* Keeps the compiler from dropping an allocation whose block is never used, or from turning realloc(NULL, n) into malloc(n). */
static void *volatile sink;
static void *volatile null;
static void *volatile held;	/* a root for a block the scan must find reachable */

static void
want_alloc(const char *call, const char *flags, void *p, size_t size, size_t align)
{
	printf("want alloc call=%s flags=%s ptr=%p size=%zu align=%zu\n", call, flags, p, size, align);
}

/* Pointers are printed from their values saved before the call that ends them. */
static void
want_free(const char *call, const char *flags, uintptr_t p, size_t size)
{
	printf("want free call=%s flags=%s ptr=%#" PRIxPTR " size=%zu\n", call, flags, p, size);
}

static void *
sym(const char *name)
{
	void *f;

	if ((f = dlsym(RTLD_DEFAULT, name)) == NULL) {
		printf("nosym %s\n", name);
		exit(1);
	}
	return f;
}

/* Every call of the C family, made directly from this function. */
static NOINLINE void
ccalls(void)
{
	void *p, *q;
	uintptr_t u;
	int e;

	p = malloc(1001);
	want_alloc("malloc", "-", p, 1001, 0);
	printf("site ptr=%p func=%p\n", p, (void *)ccalls);
	u = (uintptr_t)p;
	free(p);
	want_free("free", "-", u, 0);
	p = calloc(3, 337);
	want_alloc("calloc", "-", p, 1011, 0);
	u = (uintptr_t)p;
	q = realloc(p, 5003);
	printf("want realloc call=realloc old=%#" PRIxPTR " new=%p size=5003\n", u, q);
	u = (uintptr_t)q;
	sink = realloc(q, 0);
	printf("want realloc call=realloc old=%#" PRIxPTR " new=0x0 size=0\n", u);
	p = realloc(null, 1021);
	want_alloc("realloc", "-", p, 1021, 0);
	u = (uintptr_t)p;
	q = reallocarray(p, 7, 151);
	printf("want realloc call=reallocarray old=%#" PRIxPTR " new=%p size=1057\n", u, q);
	free(q);
	e = posix_memalign(&p, 64, 1031);
	if (e == 0)
		want_alloc("posix_memalign", "-", p, 1031, 64);
	free(p);
	p = aligned_alloc(128, 1024);
	want_alloc("aligned_alloc", "-", p, 1024, 128);
	free(p);
	p = memalign(256, 1051);
	want_alloc("memalign", "-", p, 1051, 256);
	free(p);
	p = valloc(1061);
	want_alloc("valloc", "-", p, 1061, (size_t)getpagesize());
	free(p);
	p = pvalloc(1071);
	want_alloc("pvalloc", "-", p, 1071, (size_t)getpagesize());
	printf("usable %d\n", malloc_usable_size(p) >= 1071);
	free(p);
	free(NULL);
}

/* Every C++ operator, called by its mangled name. */
static NOINLINE void
cxxcalls(void)
{
	static const char nt[1];	/* stands for std::nothrow */
	void *(*nw)(size_t), *(*nwnt)(size_t, const void *), *(*nwal)(size_t, size_t);
	void *(*nwalnt)(size_t, size_t, const void *);
	void (*dl)(void *), (*dlsz)(void *, size_t), (*dlnt)(void *, const void *);
	void (*dlal)(void *, size_t), (*dlszal)(void *, size_t, size_t);
	void (*dlalnt)(void *, size_t, const void *);
	const char *k[2] = { "w", "a" }, *nn[2] = { "new", "new[]" }, *dn[2] = { "delete", "delete[]" };
	char name[64];
	void *p;
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "_Zn%sm", k[i]);
		*(void **)&nw = sym(name);
		snprintf(name, sizeof name, "_Zn%smRKSt9nothrow_t", k[i]);
		*(void **)&nwnt = sym(name);
		snprintf(name, sizeof name, "_Zn%smSt11align_val_t", k[i]);
		*(void **)&nwal = sym(name);
		snprintf(name, sizeof name, "_Zn%smSt11align_val_tRKSt9nothrow_t", k[i]);
		*(void **)&nwalnt = sym(name);
		snprintf(name, sizeof name, "_Zd%sPv", i == 0 ? "l" : "a");
		*(void **)&dl = sym(name);
		snprintf(name, sizeof name, "_Zd%sPvm", i == 0 ? "l" : "a");
		*(void **)&dlsz = sym(name);
		snprintf(name, sizeof name, "_Zd%sPvRKSt9nothrow_t", i == 0 ? "l" : "a");
		*(void **)&dlnt = sym(name);
		snprintf(name, sizeof name, "_Zd%sPvSt11align_val_t", i == 0 ? "l" : "a");
		*(void **)&dlal = sym(name);
		snprintf(name, sizeof name, "_Zd%sPvmSt11align_val_t", i == 0 ? "l" : "a");
		*(void **)&dlszal = sym(name);
		snprintf(name, sizeof name, "_Zd%sPvSt11align_val_tRKSt9nothrow_t", i == 0 ? "l" : "a");
		*(void **)&dlalnt = sym(name);

		p = nw(2001 + i);
		want_alloc(nn[i], "-", p, 2001 + i, 0);
		want_free(dn[i], "-", (uintptr_t)p, 0);
		dl(p);
		p = nw(2011 + i);
		want_free(dn[i], "sized", (uintptr_t)p, 2011 + i);
		dlsz(p, 2011 + i);
		p = nwnt(2021 + i, nt);
		want_alloc(nn[i], "nothrow", p, 2021 + i, 0);
		want_free(dn[i], "nothrow", (uintptr_t)p, 0);
		dlnt(p, nt);
		p = nwal(2031 + i, 64);
		want_alloc(nn[i], "aligned", p, 2031 + i, 64);
		want_free(dn[i], "aligned", (uintptr_t)p, 0);
		dlal(p, 64);
		p = nwal(2041 + i, 128);
		want_free(dn[i], "aligned,sized", (uintptr_t)p, 2041 + i);
		dlszal(p, 2041 + i, 128);
		p = nwalnt(2051 + i, 256, nt);
		want_alloc(nn[i], "nothrow,aligned", p, 2051 + i, 256);
		want_free(dn[i], "nothrow,aligned", (uintptr_t)p, 0);
		dlalnt(p, 256, nt);
	}
}

static void *
threadmain(void *arg)
{
	void *p;

	p = malloc(3000 + (size_t)(uintptr_t)arg);
	printf("want thread tid=%ld ending=0\n", (long)syscall(SYS_gettid));
	printf("want alloc tid=%ld call=malloc flags=- ptr=%p size=%zu\n",
	    (long)syscall(SYS_gettid), p, 3000 + (size_t)(uintptr_t)arg);
	printf("want thread tid=%ld ending=1\n", (long)syscall(SYS_gettid));
	free(p);
	return NULL;
}

/* n allocations and frees among 64 live blocks, made depth calls deep. */
static NOINLINE long
churn(long n, long depth)
{
	void *slot[64] = { 0 };
	volatile long r;
	long i;

	if (depth > 0) {
		r = churn(n, depth - 1);	/* volatile: a real call, not a loop */
		return r + 1;
	}
	for (i = 0; i < n; i++) {
		free(slot[i & 63]);
		slot[i & 63] = malloc((size_t)(16 + (i * 7919) % 2000));
	}
	for (i = 0; i < 64; i++)
		free(slot[i]);
	return 0;
}

static void *
tchurn(void *arg)
{
	churn((long)(uintptr_t)arg, 3);
	return NULL;
}

static int
usage(void)
{
	fprintf(stderr, "usage: traced calls|threads|fork|forkexec|exec|execfail|exit|_exit|"
	    "return|abort|segv|kill|dlopen|fd|overflow|churn N [DEPTH]|tchurn N|marks|"
	    "snapdefer|mapeof FILE|sleep SECONDS|figures\n");
	return 2;
}

/*
 * mallinfo2 before, between and after 100 blocks of 3000 bytes allocated
 * and freed; one line of their figures, with malloc_stats's mapped
 * regions at most (on stderr) after it.
 */
static void
figures(void)
{
	struct mallinfo2 m[3];
	void *v[100];
	int i;

	m[0] = mallinfo2();
	for (i = 0; i < 100; i++)
		v[i] = malloc(3000);
	m[1] = mallinfo2();
	for (i = 0; i < 100; i++)
		free(v[i]);
	m[2] = mallinfo2();
	for (i = 0; i < 3; i++)
		printf("%sarena%d=%zu uord%d=%zu ford%d=%zu ord%d=%zu hblks%d=%zu hblkhd%d=%zu",
		    i == 0 ? "figures " : " ", i, m[i].arena, i, m[i].uordblks, i, m[i].fordblks, i,
		    m[i].ordblks, i, m[i].hblks, i, m[i].hblkhd);
	printf("\n");
	malloc_stats();
}

static uint64_t
monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Allocations whose recorded times are to be checked against the clock:
 * a marker after a sleep, then 20 ms of allocations, one each 20 us, then
 * another marker, and so on; each marker's line gives the clock just
 * before and just after its malloc.
 */
static void
clockmarks(void)
{
	uint64_t t0, t1, end, spin;
	void *p, *q;
	int k;

	usleep(20000);
	for (k = 0; k < 3; k++) {
		t0 = monotonic();
		p = malloc(7771);
		t1 = monotonic();
		printf("mark ptr=%p before=%" PRIu64 " after=%" PRIu64 "\n", p, t0, t1);
		end = t1 + 20000000;
		while (monotonic() < end) {
			/* one pair each 20 us: the ring, which no one reads here, holds them all */
			sink = q = malloc(24);	/* through sink, or the pair is optimised away */
			free(q);
			for (spin = monotonic() + 20000; monotonic() < spin;)
				;
		}
		sink = p;
	}
}

int
main(int argc, char **argv)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_t t[8];
	const char *mode;
	volatile int *nil;
	void *p, *h, *(*f)(size_t);
	long i, n;
	pid_t pid;
	int st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	mode = argv[1];
	n = argc > 2 ? atol(argv[2]) : 0;
	if (strcmp(mode, "calls") == 0) {
		ccalls();
		cxxcalls();
	} else if (strcmp(mode, "threads") == 0) {
		for (i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, threadmain, (void *)(uintptr_t)i);
		for (i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		pthread_mutex_destroy(&m);
	} else if (strcmp(mode, "fork") == 0) {
		p = malloc(8881);
		if ((pid = fork()) == 0) {
			printf("child %d\n", (int)getpid());
			printf("want-child free ptr=%p\n", p);
			free(p);
			p = malloc(7771);
			printf("want-child alloc size=7771 ptr=%p\n", p);
			exit(0);
		}
		waitpid(pid, &st, 0);
		printf("want free call=free flags=- ptr=%p\n", p);
		free(p);
	} else if (strcmp(mode, "forkexec") == 0 && argc > 2) {
		if ((pid = fork()) == 0) {
			execv(argv[2], argv + 2);
			_exit(127);
		}
		printf("child %d\n", (int)pid);
		waitpid(pid, &st, 0);
	} else if (strcmp(mode, "exec") == 0 && argc > 2) {
		sink = p = malloc(6661);
		execv(argv[2], argv + 2);
		return 127;
	} else if (strcmp(mode, "execfail") == 0) {
		execl("/nonexistent/program", "program", (char *)NULL);
		p = malloc(9991);
		printf("want alloc call=malloc flags=- ptr=%p size=9991\n", p);
	} else if (strcmp(mode, "exit") == 0) {
		sink = p = malloc(1111);
		exit((int)n);
	} else if (strcmp(mode, "_exit") == 0) {
		sink = p = malloc(1112);
		_exit((int)n);
	} else if (strcmp(mode, "return") == 0) {
		sink = p = malloc(1113);
		return (int)n;
	} else if (strcmp(mode, "abort") == 0) {
		sink = p = malloc(1114);
		abort();
	} else if (strcmp(mode, "segv") == 0) {
		sink = p = malloc(1115);
		nil = NULL;
		*nil = 1;
	} else if (strcmp(mode, "kill") == 0) {
		for (i = 0; i < n; i++) {
			p = malloc(100000 + (size_t)i);
			printf("want alloc call=malloc flags=- ptr=%p size=%ld\n", p, 100000 + i);
		}
		raise(SIGKILL);
	} else if (strcmp(mode, "dlopen") == 0 && argc > 2) {
		if ((h = dlopen(argv[2], RTLD_NOW)) == NULL) {
			printf("dlopen failed: %s\n", dlerror());
			return 1;
		}
		*(void **)&f = dlsym(h, "traced_lib_alloc");
		p = f(4321);
		printf("want alloc call=malloc flags=- ptr=%p size=4321\n", p);
		printf("want free call=free flags=- ptr=%p\n", p);
		free(p);
		dlclose(h);
	} else if (strcmp(mode, "overflow") == 0) {
		char *volatile c = malloc(40);

		memset(c, 'x', malloc_usable_size(c) + 16);	/* over the block's tail */
		free(c);
	} else if (strcmp(mode, "tchurn") == 0) {
		for (i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, tchurn, (void *)(uintptr_t)n);
		for (i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	} else if (strcmp(mode, "fd") == 0) {
		sink = malloc(10);
		printf("fd %d\n", open("/dev/null", O_RDONLY));
	} else if (strcmp(mode, "churn") == 0) {
		churn(n, argc > 3 ? atol(argv[3]) : 0);
	} else if (strcmp(mode, "marks") == 0) {
		int (*mark)(const char *) = (int (*)(const char *))sym("pooldbg_mark");
		int (*snap)(void) = (int (*)(void))sym("pooldbg_snapshot");

		sink = p = malloc(2221);
		printf("block %p\n", p);
		printf("mark %d\n", mark("first mark"));
		printf("snapshot %d\n", snap());
		free(p);
		printf("mark %d\n", mark(NULL));
		printf("snapshot %d\n", snap());
	} else if (strcmp(mode, "snapdefer") == 0) {
		/* the snapshot signal while this thread holds the pool lock: taken at the next call */
		Pool *pool = *(Pool **)sym("pooldbg_mainmem");

		pool->lock(pool);
		raise(SIGRTMAX - 3);
		pool->unlock(pool);
		sink = p = malloc(5555);
		printf("block %p\n", p);
	} else if (strcmp(mode, "mapeof") == 0 && argc > 2) {
		/* a private, writable file mapping three pages long over a file of five bytes */
		int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || write(fd, "bytes", 5) != 5)
			return 1;
		sink = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		close(fd);
		if (sink == MAP_FAILED)
			return 1;
		held = p = malloc(4441);
		printf("block %p\n", p);
	} else if (strcmp(mode, "clock") == 0) {
		clockmarks();
	} else if (strcmp(mode, "figures") == 0) {
		figures();
	} else if (strcmp(mode, "sleep") == 0) {
		sink = p = malloc(3331);
		printf("ready %p\n", p);
		for (i = 0; i < n * 10; i++)
			usleep(100000);
	} else
		return usage();
	return 0;
}
