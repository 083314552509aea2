/*
 * tests/tcache.c -- the per-thread caches in front of the quick lists: a
 * block freed by a thread serves that thread's next request of its size;
 * poolcheck, run while other threads churn through their caches, finds
 * every block accounted for; a thread's end, mallocsummary and poolcheck
 * bring the cached frees into the pool's count; blocks freed by another
 * thread than their maker are fine; a double free of a cached block, an
 * overflow and a write after free are still caught; a fork while other
 * threads hold cached blocks leaves the child a sound pool; the bypass
 * rules turn the caches off; a thread alone gets its blocks in the order
 * it asks for them, and a thread beside others gets a few of one size
 * carved together.  Runs itself again in a child for what aborts.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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

enum { NTHREADS = 3, NLIVE = 500 };

static const char *self;
static atomic_int stop;
static atomic_int holding;	/* holder's cache is registered */

/* Run this program as "tcache MODE" with var=val set; its output in buf; its wait status. */
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
		unsetenv("POOLDBG_FLAGS");
		unsetenv("POOLDBG_QUICK");
		if (var != NULL)
			setenv(var, val, 1);
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

static uint64_t
next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Churn through NLIVE blocks until stop, checking each block's contents. */
static void *
churn(void *arg)
{
	unsigned char *live[NLIVE];
	size_t size[NLIVE], i, k, n;
	uint64_t s;
	long bad;

	s = (uintptr_t)arg * 7919 + 1;
	bad = 0;
	memset(live, 0, sizeof live);
	for (k = 0; !atomic_load(&stop) || k < 20000; k++) {
		i = next(&s) % NLIVE;
		if (live[i] != NULL) {
			for (n = 0; n < size[i]; n++)
				if (live[i][n] != (unsigned char)(i + size[i]))
					bad++;
			pooldbg_free(live[i]);
		}
		size[i] = 1 + next(&s) % 700;
		live[i] = pooldbg_malloc(size[i]);
		if (live[i] == NULL)
			tap_bail("malloc");
		memset(live[i], (unsigned char)(i + size[i]), size[i]);
	}
	for (i = 0; i < NLIVE; i++)
		pooldbg_free(live[i]);
	return (void *)bad;
}

/* Frees n blocks it allocates, and ends: its cache goes back to the pool. */
static void *
freer(void *arg)
{
	void *v[64];
	int i;

	(void)arg;
	for (i = 0; i < 64; i++)
		v[i] = pooldbg_malloc(24);
	for (i = 0; i < 64; i++)
		pooldbg_free(v[i]);
	return NULL;
}

/* Frees the blocks another thread made. */
static void *
otherfree(void *arg)
{
	void **v = arg;
	int i;

	for (i = 0; i < 64; i++)
		pooldbg_free(v[i]);
	v[0] = pooldbg_malloc(40);	/* comes from this thread's cache */
	return NULL;
}

/* A panic of the program's own: its line on stderr, exit status 3. */
static void
ownpanic(Pool *p, const char *fmt, ...)
{
	va_list ap;

	(void)p;
	fprintf(stderr, "own panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	_exit(3);
}

/* A second thread with a cache of its own, alive until stop is set. */
static void *
holder(void *arg)
{
	(void)arg;
	pooldbg_free(pooldbg_malloc(40));
	atomic_store(&holding, 1);
	while (!atomic_load(&stop))
		usleep(1000);
	return NULL;
}

/*
 * NPAIR allocations of 40 bytes, each followed by one of 200, with no
 * blocks of either size cached: prints "ascending" when every block lies
 * above the one before (blocks taken in the order asked for), and the
 * span of the 40-byte blocks.
 */
enum { NPAIR = 16 };

static void
pairs(void)
{
	char *a[NPAIR], *b[NPAIR], *prev, *lo, *hi;
	int i, up;

	up = 1;
	prev = NULL;
	lo = hi = NULL;
	for (i = 0; i < NPAIR; i++) {
		a[i] = pooldbg_malloc(40);
		b[i] = pooldbg_malloc(200);
		if (prev != NULL && (a[i] < prev || b[i] < a[i]))
			up = 0;
		prev = b[i];
		if (lo == NULL || a[i] < lo)
			lo = a[i];
		if (hi == NULL || a[i] > hi)
			hi = a[i];
	}
	printf("%s span %ld\n", up ? "ascending" : "not ascending", (long)(hi - lo));
}

static int
child(const char *mode)
{
	pthread_t t[NTHREADS];
	char *p, *q;
	pid_t pid;
	int i, st;

	if (strcmp(mode, "same") == 0) {
		p = pooldbg_malloc(100);
		pooldbg_free(p);
		q = pooldbg_malloc(100);
		printf("%d\n", p == q);
		fflush(stdout);
		pooldbg_mallocsummary();
		return 0;
	}
	if (strcmp(mode, "alone") == 0) {
		pairs();
		return 0;
	}
	if (strcmp(mode, "shared") == 0) {
		atomic_store(&stop, 0);
		pthread_create(&t[0], NULL, holder, NULL);
		while (!atomic_load(&holding))
			usleep(1000);
		pairs();
		atomic_store(&stop, 1);
		pthread_join(t[0], NULL);
		return 0;
	}
	if (strcmp(mode, "fork") == 0) {
		atomic_store(&stop, 0);
		for (i = 0; i < NTHREADS; i++)
			pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
		usleep(20000);
		pid = fork();
		if (pid == 0) {
			p = pooldbg_malloc(50);
			pooldbg_free(p);
			poolcheck(pooldbg_mainmem);
			pooldbg_mallocsummary();
			_exit(0);
		}
		waitpid(pid, &st, 0);
		atomic_store(&stop, 1);
		for (i = 0; i < NTHREADS; i++)
			pthread_join(t[i], NULL);
		printf("child %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return 0;
	}
	p = pooldbg_malloc(40);
	q = pooldbg_malloc(200);
	if (strcmp(mode, "double") == 0) {
		pooldbg_free(p);	/* into this thread's cache */
		pooldbg_free(p);
	} else if (strcmp(mode, "overflow") == 0) {
		p[40] = 'x';
		pooldbg_free(p);	/* pending */
		pooldbg_free(q);	/* checks it */
		fprintf(stderr, "not reached\n");
	} else if (strcmp(mode, "overflowexit") == 0) {
		p[40] = 'x';
		pooldbg_free(p);
		exit(0);	/* the exit handlers check it */
	} else if (strcmp(mode, "ownpanic") == 0) {
		pooldbg_mainmem->panic = ownpanic;
		p[40] = 'x';
		pooldbg_free(p);	/* a panic not the library's: checked here */
		fprintf(stderr, "not reached\n");
	} else if (strcmp(mode, "afterfree") == 0) {
		pooldbg_free(p);
		memset(p + 8, 'x', 40);	/* over the guard bytes, after the free */
		p = pooldbg_malloc(40);
	}
	_exit(0);	/* no exit handlers: what is caught is caught at the call */
}

int
main(int argc, char **argv)
{
	pthread_t t[NTHREADS];
	void *v[64], *r;
	char buf[8192], *s;
	unsigned long nfree;
	long bad;
	int i, st, checks;

	self = argv[0];
	if (argc > 1)
		return child(argv[1]);
	unsetenv("POOLDBG_FLAGS");
	unsetenv("POOLDBG_QUICK");

	st = rerun("same", NULL, NULL, buf, sizeof buf);
	ok(WIFEXITED(st) && strncmp(buf, "1\n", 2) == 0 && strstr(buf, " 1 hits") != NULL,
	    "a freed block serves the thread's next request, counted as a hit");

	atomic_store(&stop, 0);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)) != 0)
			tap_bail("pthread_create");
	for (checks = 0; checks < 50; checks++) {
		poolcheck(pooldbg_mainmem);
		usleep(1000);
	}
	atomic_store(&stop, 1);
	bad = 0;
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	ok(bad == 0, "%d threads churned through their caches, every block kept its bytes", NTHREADS);
	poolcheck(pooldbg_mainmem);
	ok(1, "50 poolchecks while they ran, and one after, found every block accounted for");

	poolcheck(pooldbg_mainmem);
	nfree = pooldbg_mainmem->nfree;
	pthread_create(&t[0], NULL, freer, NULL);
	pthread_join(t[0], NULL);
	ok(pooldbg_mainmem->nfree == nfree + 64, "a thread's end counts its cached frees (%lu)",
	    pooldbg_mainmem->nfree - nfree);

	for (i = 0; i < 64; i++)
		v[i] = pooldbg_malloc(40);
	pthread_create(&t[0], NULL, otherfree, v);
	pthread_join(t[0], NULL);
	pooldbg_free(v[0]);
	poolcheck(pooldbg_mainmem);
	ok(1, "blocks freed by another thread than their maker; poolcheck passes");

	st = rerun("alone", NULL, NULL, buf, sizeof buf);
	ok(WIFEXITED(st) && strncmp(buf, "ascending ", 10) == 0,
	    "a thread alone gets its blocks in the order it asks for them, sizes mixed");
	st = rerun("shared", NULL, NULL, buf, sizeof buf);
	bad = -1;
	if (WIFEXITED(st) && (s = strstr(buf, "span ")) != NULL)
		bad = strtol(s + 5, NULL, 10);
	ok(bad >= 0 && bad < NPAIR * 128,
	    "beside another thread with a cache, blocks of one size lie together (span %ld)", bad);

	st = rerun("fork", NULL, NULL, buf, sizeof buf);
	ok(WIFEXITED(st) && strstr(buf, "child 0") != NULL && strstr(buf, "pool main: quick:"),
	    "fork while threads hold cached blocks: the child's pool is sound");
	st = rerun("double", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(buf, "double-free"),
	    "a double free of a cached block is a panic");
	st = rerun("overflow", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && strstr(buf, "mem user overflow") && !strstr(buf, "not reached"),
	    "an overflow is reported by the thread's next free");
	st = rerun("overflowexit", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && strstr(buf, "mem user overflow"),
	    "an overflow freed last is reported at exit");
	st = rerun("ownpanic", NULL, NULL, buf, sizeof buf);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 3 && strstr(buf, "own panic: ") &&
	    strstr(buf, "mem user overflow") && !strstr(buf, "not reached"),
	    "with a panic of the program's own the overflow is reported at its free");
	st = rerun("afterfree", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && strstr(buf, "pool main"),
	    "a write after free over the tail is caught when the block leaves the cache");
	st = rerun("same", "POOLDBG_QUICK", "0", buf, sizeof buf);
	ok(WIFEXITED(st) && strstr(buf, " 0 hits") != NULL && strstr(buf, "(off)") != NULL,
	    "POOLDBG_QUICK=0: no cache");
	st = rerun("same", "POOLDBG_FLAGS", "noreuse", buf, sizeof buf);
	ok(WIFEXITED(st) && strncmp(buf, "0\n", 2) == 0, "POOLDBG_FLAGS=noreuse: no cache");
	return tap_done();
}
