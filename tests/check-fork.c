/*
 * tests/check-fork.c -- forks while its heap lives in a heap file: run by
 * tests/check.sh under pooldbg run --heap-file.  Forty times it forks;
 * right away, parent and child each make and free a few thousand blocks
 * of mixed sizes and check what they wrote in them.  The child must start
 * from the heap as it was at the fork, in memory of its own, and leave the
 * parent's file alone.  Prints "forks N bad B" (B: children that did not
 * end with status 0, or blocks found changed) and exits 1 if B is not 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { NFORK = 40, NSTEP = 3000, NLIVE = 64 };

/* Churn blocks with seed's sizes; the count of blocks whose bytes changed. */
static int
churn(unsigned seed)
{
	unsigned char *live[NLIVE];
	size_t size[NLIVE], j;
	uint32_t x;
	int i, k, bad;

	memset(live, 0, sizeof live);
	bad = 0;
	x = seed * 2654435761u + 1;
	for (i = 0; i < NSTEP; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		k = (int)(x % NLIVE);
		if (live[k] != NULL) {
			for (j = 0; j < size[k]; j++)
				if (live[k][j] != (unsigned char)k) {
					bad++;
					break;
				}
			free(live[k]);
		}
		size[k] = 8 + (x >> 8) % 600;
		if ((live[k] = malloc(size[k])) == NULL)
			return bad + 1;
		memset(live[k], k, size[k]);
	}
	for (k = 0; k < NLIVE; k++)
		free(live[k]);
	return bad;
}

int
main(void)
{
	int i, st, bad;
	pid_t pid;

	bad = churn(0);
	for (i = 0; i < NFORK; i++) {
		pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0)
			_exit(churn((unsigned)i + 1) != 0);
		bad += churn((unsigned)i + 1000);
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	printf("forks %d bad %d\n", NFORK, bad);
	return bad != 0;
}
