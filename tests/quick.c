/*
 * tests/quick.c -- the quick lists in front of the default pool: a freed
 * small block serves the next request of its size; poolcheck walks and
 * checks listed blocks; a double free and an overflow are still caught;
 * large and aligned blocks bypass the lists; mallocsummary prints the
 * quick, tree and total lines; POOLDBG_FLAGS=paranoia (and noreuse) and
 * POOLDBG_QUICK=0 turn the lists off.  Blocks a thread left on the lists
 * in runs come back, each once, and poolcheck finds a link of theirs
 * broken after the free.  Listed blocks go back to the tree, and
 * coalesce there, before the pool would grow.  Two threads that churn
 * their own blocks keep them apart (each gets back what it freed, and
 * what it carves lies together); blocks one thread frees for another
 * that allocates them go back to that one; poolcheck checks the blocks
 * on a live thread's home lists.  Runs itself again in a child for what
 * aborts or needs another environment.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>
#include <pooldbg/pool.h>

#include "tap.h"

enum {
	NRUN	= 3000,		/* blocks a thread frees, in runs, onto the lists */
	RUNSIZE	= 2000,	/* no other block of the test has its block size */
	NSPILL	= 16384,	/* blocks of SPILLSIZE on the lists, 17 MB or so */
	SPILLSIZE = 1000,
	NLIVE	= 4000,		/* blocks each churning thread keeps */
	NSTEP	= 400000,	/* a churning thread's steps */
	NPASS	= 2000,		/* blocks a thread frees for another */
	PASSSIZE = 3000,
};

static const char *self;
static void *freed[NRUN];
static int nrun = NRUN;
static size_t runsize = RUNSIZE;

/* A thread that frees nrun blocks of runsize bytes; its end puts its cache on the lists. */
static void *
freer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < nrun; i++)
		freed[i] = pooldbg_malloc(runsize);
	for (i = 0; i < nrun; i++)
		pooldbg_free(freed[i]);
	return NULL;
}

/* freer, then wait at park twice: the thread, and its cache, stay until the second. */
static pthread_barrier_t park;

static void *
freepark(void *arg)
{
	freer(arg);
	pthread_barrier_wait(&park);
	pthread_barrier_wait(&park);
	return NULL;
}

static void
runfree(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, freer, NULL) != 0 || pthread_join(t, NULL) != 0)
		tap_bail("pthread");
}

static int
byaddr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/*
 * A churning thread: NSTEP times, one of its NLIVE blocks freed and
 * replaced by one of a size from 16 to 1039 bytes, mostly small; then it
 * waits at park twice, its blocks still live, and frees them.
 */
typedef struct Churner Churner;
struct Churner {
	uint64_t rng;
	void	*live[NLIVE];
};

static size_t
churnsize(Churner *c)
{
	unsigned a, b;

	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	a = (unsigned)(c->rng % 7);
	b = (unsigned)(c->rng >> 8 & 7) % 7;
	a = a < b ? a : b;
	return ((size_t)16 << a) + (size_t)(c->rng >> 32) % ((size_t)16 << a);
}

static void *
churner(void *arg)
{
	Churner *c;
	size_t k;
	int i;

	c = arg;
	for (i = 0; i < NLIVE; i++)
		c->live[i] = pooldbg_malloc(churnsize(c));
	for (i = 0; i < NSTEP; i++) {
		k = (size_t)(c->rng >> 20) % NLIVE;
		pooldbg_free(c->live[k]);
		c->live[k] = pooldbg_malloc(churnsize(c));
		memset(c->live[k], 1, 16);
	}
	pthread_barrier_wait(&park);
	pthread_barrier_wait(&park);
	for (i = 0; i < NLIVE; i++)
		pooldbg_free(c->live[i]);
	return NULL;
}

typedef struct Owned Owned;
struct Owned {
	uintptr_t addr;
	int	who;
};

static int
byowned(const void *a, const void *b)
{
	uintptr_t x = ((const Owned *)a)->addr, y = ((const Owned *)b)->addr;

	return x < y ? -1 : x > y;
}

/* Of the two churners' live blocks in address order, the percentage followed by the other's. */
static double
mixed(Churner *c)
{
	static Owned o[2 * NLIVE];
	int i, n;

	for (i = 0; i < 2 * NLIVE; i++)
		o[i] = (Owned){ (uintptr_t)c[i / NLIVE].live[i % NLIVE], i / NLIVE };
	qsort(o, 2 * NLIVE, sizeof o[0], byowned);
	n = 0;
	for (i = 1; i < 2 * NLIVE; i++)
		n += o[i].who != o[i - 1].who;
	return 100.0 * n / (2 * NLIVE - 1);
}

/* A thread that frees the NPASS blocks another allocated, then waits at park twice. */
static void *
passer(void *arg)
{
	void **v;
	int i;

	v = arg;
	for (i = 0; i < NPASS; i++)
		pooldbg_free(v[i]);
	pthread_barrier_wait(&park);
	pthread_barrier_wait(&park);
	return NULL;
}

static int
inset(void *const *set, size_t n, void *v)
{
	return bsearch(&v, set, n, sizeof set[0], byaddr) != NULL;
}

/* Run this program as "quick MODE" with env set; its output in buf; its wait status. */
static int
rerun(const char *mode, const char *var, const char *val, char *buf, size_t len)
{
	int fds[2], st;
	size_t got;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) != 0)
		tap_bail("pipe");
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (var != NULL)
			setenv(var, val, 1);
		else
			unsetenv("POOLDBG_FLAGS");
		execl(self, self, mode, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	got = 0;
	while (got < len - 1 && (n = read(fds[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fds[0]);
	waitpid(pid, &st, 0);
	return st;
}

/* "same": whether a freed block of 100 bytes comes back for 98 (same block size); prints 1 or 0. */
static int
same(void)
{
	void *a, *b;

	a = pooldbg_malloc(100);
	pooldbg_free(a);
	b = pooldbg_malloc(98);
	printf("%d\n", a == b);
	fflush(stdout);
	pooldbg_mallocsummary();
	return 0;
}

/*
 * "spill": NSPILL blocks freed, most onto the lists; then a block
 * larger than any arena's room is asked for.  Prints "grew" or "same"
 * (the pool's size), then "inside" or "outside" (whether the block lies
 * where the freed ones were), then the summary.
 */
static int
spill(void)
{
	static void *v[NSPILL];
	uintptr_t lo, hi;
	size_t before;
	char *big;
	int i;

	lo = UINTPTR_MAX;
	hi = 0;
	for (i = 0; i < NSPILL; i++) {
		v[i] = pooldbg_malloc(SPILLSIZE);
		lo = (uintptr_t)v[i] < lo ? (uintptr_t)v[i] : lo;
		hi = (uintptr_t)v[i] > hi ? (uintptr_t)v[i] : hi;
	}
	for (i = 0; i < NSPILL; i++)
		pooldbg_free(v[i]);
	before = pooldbg_mainmem->cursize;
	big = pooldbg_malloc(12 << 20);
	if (big == NULL)
		return 1;
	memset(big, 3, 12 << 20);
	printf("%s\n%s\n", pooldbg_mainmem->cursize == before ? "same" : "grew",
	    (uintptr_t)big >= lo && (uintptr_t)big < hi ? "inside" : "outside");
	fflush(stdout);
	poolcheck(pooldbg_mainmem);
	pooldbg_mallocsummary();
	return 0;
}

static int
child(const char *mode)
{
	char *p;

	if (strcmp(mode, "same") == 0)
		return same();
	if (strcmp(mode, "spill") == 0)
		return spill();
	if (strcmp(mode, "cut") == 0 || strcmp(mode, "stray") == 0) {
		uintptr_t **w;
		int i;

		runfree();
		/* the link word is the malloc tag, two words before the pointer */
		for (i = NRUN / 4; i < NRUN / 2; i += 2) {
			w = (uintptr_t **)freed[i] - 2;
			*w = strcmp(mode, "cut") == 0 ? NULL : (uintptr_t *)freed[i + 1] + 1;
		}
		poolcheck(pooldbg_mainmem);
		return 0;
	}
	if (strcmp(mode, "skip") == 0) {
		uintptr_t **w;

		/*
		 * A link that still points at a listed block of its size, the
		 * one after its own: the lists' sums no longer agree, and the
		 * walk of every link finds the run shorter than its length.
		 */
		runfree();
		w = (uintptr_t **)freed[NRUN / 2] - 2;
		if (*w == NULL)
			return 2;
		*w = *(uintptr_t **)((char *)*w + 2 * sizeof(uintptr_t));
		poolcheck(pooldbg_mainmem);
		return 0;
	}
	if (strcmp(mode, "homecut") == 0) {
		pthread_t t;
		int i;

		/*
		 * Links cleared in blocks among the first a live thread's
		 * cache spilled, onto the lists of its home.
		 */
		pthread_barrier_init(&park, NULL, 2);
		if (pthread_create(&t, NULL, freepark, NULL) != 0)
			return 2;
		pthread_barrier_wait(&park);
		for (i = 100; i < 140; i += 2)
			*((uintptr_t **)freed[i] - 2) = NULL;
		poolcheck(pooldbg_mainmem);
		return 0;
	}
	if (strcmp(mode, "takecut") == 0) {
		/*
		 * 100 blocks, fewer than a thread cache's bin holds, go on the
		 * list as one run when the thread ends; a refill takes part of it.
		 */
		nrun = 100;
		runsize = 100;
		runfree();
		*((uintptr_t **)freed[80] - 2) = NULL;
		pooldbg_free(pooldbg_malloc(100));
		return 0;
	}
	p = pooldbg_malloc(40);
	if (strcmp(mode, "double") == 0) {
		pooldbg_free(p);
		pooldbg_free(p);
	} else if (strcmp(mode, "overflow") == 0) {
		memset(p, 'x', 41);
		pooldbg_free(p);
	} else if (strcmp(mode, "afterfree") == 0) {
		pooldbg_free(p);
		memset(p + 8, 'x', 40);	/* over the guard bytes, after the free */
		p = pooldbg_malloc(40);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char buf[4096];
	void *a, *b, *v[100], *big, *al;
	int st, i, good;

	self = argv[0];
	if (argc > 1)
		return child(argv[1]);
	unsetenv("POOLDBG_FLAGS");
	unsetenv("POOLDBG_QUICK");

	a = pooldbg_malloc(100);
	memset(a, 1, 100);
	pooldbg_free(a);
	b = pooldbg_malloc(100);
	ok(a == b, "a freed small block serves the next request of its size");
	/*
	 * While the lists are still all but empty: a growth of the pool
	 * would send the blocks listed before back to the tree, to be handed
	 * out among the thread's.
	 */
	runfree();
	poolcheck(pooldbg_mainmem);
	ok(1, "poolcheck passes with %d blocks a thread left on a quick list", NRUN);
	{
		static void *back[NRUN];

		for (i = 0; i < NRUN; i++)
			back[i] = pooldbg_malloc(RUNSIZE);
		qsort(back, NRUN, sizeof back[0], byaddr);
		qsort(freed, NRUN, sizeof freed[0], byaddr);
		good = 1;
		for (i = 0; i < NRUN; i++)
			if (back[i] != freed[i] || (i > 0 && back[i] == back[i - 1]))
				good = 0;
		ok(good, "the %d blocks serve %d allocations of their size, each once", NRUN, NRUN);
		memcpy(freed, back, sizeof back);
	}
	poolcheck(pooldbg_mainmem);
	ok(1, "poolcheck passes once they are taken");
	for (i = 0; i < NRUN; i++)
		pooldbg_free(freed[i]);
	poolcheck(pooldbg_mainmem);
	for (i = 0; i < 100; i++)
		v[i] = pooldbg_malloc((size_t)(8 + 16 * i));
	for (i = 0; i < 100; i += 2)
		pooldbg_free(v[i]);
	poolcheck(pooldbg_mainmem);
	ok(1, "poolcheck walks and checks 50 blocks on quick lists");
	good = 1;
	for (i = 0; i < 100; i += 2) {
		v[i] = pooldbg_malloc((size_t)(8 + 16 * i));
		memset(v[i], 2, (size_t)(8 + 16 * i));
		if (pooldbg_msize(v[i]) < (size_t)(8 + 16 * i))
			good = 0;
	}
	ok(good, "the listed blocks serve again, msize as large as asked");
	for (i = 0; i < 100; i++)
		pooldbg_free(v[i]);
	big = pooldbg_malloc(100000);
	pooldbg_free(big);
	al = pooldbg_memalign(256, 64);
	ok(al != NULL && ((uintptr_t)al & 255) == 0, "an aligned block still works");
	pooldbg_free(al);
	poolcheck(pooldbg_mainmem);
	ok(1, "large and aligned blocks went to the pool; poolcheck passes");
	pooldbg_free(b);
	{
		static Churner c[2];
		pthread_t t[2];
		double m;

		pthread_barrier_init(&park, NULL, 3);
		for (i = 0; i < 2; i++) {
			c[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
			if (pthread_create(&t[i], NULL, churner, &c[i]) != 0)
				tap_bail("pthread");
		}
		pthread_barrier_wait(&park);
		m = mixed(c);
		poolcheck(pooldbg_mainmem);
		ok(1, "poolcheck passes with two live threads' blocks on their homes' lists");
		ok(m < 10, "two threads churning their own blocks keep them apart: "
		    "%.1f%% of their blocks lie next to the other's", m);
		pthread_barrier_wait(&park);
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&park);
	}
	{
		static void *pass[NPASS], *sorted[NPASS];
		pthread_t t;
		int back;

		for (i = 0; i < NPASS; i++)
			pass[i] = pooldbg_malloc(PASSSIZE);
		memcpy(sorted, pass, sizeof pass);
		qsort(sorted, NPASS, sizeof sorted[0], byaddr);
		pthread_barrier_init(&park, NULL, 2);
		if (pthread_create(&t, NULL, passer, pass) != 0)
			tap_bail("pthread");
		pthread_barrier_wait(&park);
		back = 0;
		for (i = 0; i < NPASS; i++) {
			pass[i] = pooldbg_malloc(PASSSIZE);
			back += inset(sorted, NPASS, pass[i]);
		}
		ok(back >= NPASS - 64, "blocks a live thread freed for another, which allocates them, "
		    "go back to that one: %d of %d", back, NPASS);
		pthread_barrier_wait(&park);
		pthread_join(t, NULL);
		pthread_barrier_destroy(&park);
		for (i = 0; i < NPASS; i++)
			pooldbg_free(pass[i]);
		poolcheck(pooldbg_mainmem);
	}

	st = rerun("same", NULL, NULL, buf, sizeof buf);
	ok(WIFEXITED(st) && strncmp(buf, "1\n", 2) == 0 && strstr(buf, "pool main: quick: ") &&
	    strstr(buf, "pool main: tree: ") && strstr(buf, "pool main: total: ") &&
	    strstr(buf, "(on)"), "mallocsummary: quick, tree and total lines");
	st = rerun("same", "POOLDBG_QUICK", "0", buf, sizeof buf);
	ok(WIFEXITED(st) && strstr(buf, "(off)") && strstr(buf, "quick: 0 blocks"),
	    "POOLDBG_QUICK=0: quick lists off");
	st = rerun("same", "POOLDBG_FLAGS", "paranoia", buf, sizeof buf);
	ok(WIFEXITED(st) && strstr(buf, "(off)") && strstr(buf, "0 hits"),
	    "POOLDBG_FLAGS=paranoia: every block through the tree");
	st = rerun("same", "POOLDBG_FLAGS", "noreuse", buf, sizeof buf);
	ok(WIFEXITED(st) && strncmp(buf, "0\n", 2) == 0 && strstr(buf, "(off)"),
	    "POOLDBG_FLAGS=noreuse: a freed block is not handed out again");
	st = rerun("double", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "double-free"),
	    "a double free through the quick lists is still a panic");
	st = rerun("overflow", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && strstr(buf, "mem user overflow"),
	    "an overflow freed last is reported at exit, by the thread cache's check");
	st = rerun("cut", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "shorter than its length"),
	    "poolcheck: a listed block's link cleared after the free");
	st = rerun("stray", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "quick list"),
	    "poolcheck: a listed block's link pointed into another block");
	st = rerun("skip", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "shorter than its length"),
	    "poolcheck: a listed block's link moved on to the next listed block of its size");
	st = rerun("homecut", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "shorter than its length"),
	    "poolcheck: links cleared on the lists of a live thread's home");
	st = rerun("takecut", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "shorter than its length"),
	    "a refill that meets a link cleared after the free is a panic, not a crash");
	st = rerun("spill", NULL, NULL, buf, sizeof buf);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strncmp(buf, "same\ninside\n", 12) == 0 &&
	    strstr(buf, " 1 flushes") != NULL,
	    "17 MB of listed blocks go back to the tree and serve 12 MB before the pool grows");
	st = rerun("afterfree", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && strstr(buf, "pool main"),
	    "a write after free over the tail is caught when the block leaves its list");
	return tap_done();
}
