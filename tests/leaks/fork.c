/*
 * tests/leaks/fork.c -- a leak in a forked child, found by the child's
 * own exit scan: the child loses a 77-byte block (definite 1/77), and
 * the parent, which waits for it, loses nothing.  The child's scan
 * stores only the blocks it made; those it inherited (the parent's
 * stdout buffer) are the parent's.
 *
 * Deterministic: the child's pointer lives only in child()'s frame,
 * zeroed by clobber() before the child exits; stdout is flushed before
 * the fork, so the child prints nothing twice.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "leaks.h"

static NOINLINE void
child(void)
{
	void *p;

	p = malloc(77);
	block(p, "definite");
	expect(1, 77, 0, 0, 0, 0);
}

static NOINLINE int
parent(void)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		child();
		clobber();
		exit(0);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 1;
	expect(0, 0, 0, 0, 0, 0);
	return 0;
}

int
main(void)
{
	if (parent() != 0)
		return 1;
	clobber();
	return 0;
}
