/*
 * tests/quick.c -- the quick lists in front of the default pool: a freed
 * small block serves the next request of its size; poolcheck walks and
 * checks listed blocks; a double free and an overflow are still caught;
 * large and aligned blocks bypass the lists; mallocsummary prints the
 * quick, tree and total lines; POOLDBG_FLAGS=paranoia (and noreuse) and
 * POOLDBG_QUICK=0 turn the lists off.  Runs itself again in a child for
 * what aborts or needs another environment.
 */
#include "config.h"

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

static const char *self;

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

static int
child(const char *mode)
{
	char *p;

	if (strcmp(mode, "same") == 0)
		return same();
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
	st = rerun("afterfree", NULL, NULL, buf, sizeof buf);
	ok(WIFSIGNALED(st) && strstr(buf, "pool main"),
	    "a write after free over the tail is caught when the block leaves its list");
	return tap_done();
}
