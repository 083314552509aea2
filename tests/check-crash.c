/*
 * tests/check-crash.c -- a program whose heap is left damaged when it
 * dies: it allocates blocks, writes 8 bytes past the end of one of them,
 * prints that block's address, and kills itself with the signal named by
 * its argument (KILL or SEGV).  Run by tests/check.sh under pooldbg run
 * --heap-file, whose heap file pooldbg check then reads.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char *v[100];
	int i;

	for (i = 0; i < 100; i++) {
		v[i] = malloc(24 + (size_t)i);
		memset(v[i], 'a', 24 + (size_t)i);
	}
	for (i = 0; i < 100; i += 2)
		free(v[i]);
	memset(v[51], 'X', 24 + 51 + 8);	/* 8 bytes too many */
	printf("%p\n", (void *)v[51]);
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "SEGV") == 0)
		raise(SIGSEGV);
	kill(getpid(), SIGKILL);
	return 0;
}
