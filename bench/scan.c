/*
 * bench/scan.c -- what a reachability scan costs on a big heap: the
 * program makes N live blocks (default 1000000) and times
 * pooldbg_snapshot() against the time it took to make them.
 *
 * The heap: a table of N pointers (itself one block) holds every 8th
 * block; each block holds the next seven in a chain (start pointers, so
 * the mark stack goes deep), and every 1000th chain is cut from the table
 * and lost (a definite head, indirect followers), so the scan has every
 * class to sort.  Sizes run from 16 to 255 bytes.
 *
 * Usage: scan [N] under LD_PRELOAD=libpooldbg-malloc.so with
 * POOLDBG_SESSION set (bench/scan.sh does it); pooldbg_snapshot is found
 * with dlsym, so nothing is linked and the program is itself (no libtool
 * wrapper).  Prints one line per measure.  Owns nothing but its output.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { CHAIN = 8, LOSE = 1000 };

void **table;		/* a root to the end: the exit scan finds the same heap */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	int (*snapshot)(void);
	void **b, **prev;
	double t0, talloc, tsnap[2];
	long n, i, nlost;
	int k, r;

	n = argc > 1 ? atol(argv[1]) : 1000000;
	if (n < CHAIN) {
		fprintf(stderr, "usage: scan [N >= %d]\n", CHAIN);
		return 2;
	}
	*(void **)&snapshot = dlsym(RTLD_DEFAULT, "pooldbg_snapshot");
	if (snapshot == NULL) {
		fprintf(stderr, "scan: pooldbg_snapshot not found: run it under the tracing runtime\n");
		return 2;
	}
	t0 = now();
	table = calloc((size_t)n / CHAIN + 1, sizeof *table);
	prev = NULL;
	nlost = 0;
	for (i = 0; i < n; i++) {
		b = malloc(16 + (size_t)(i * 37 % 240));
		b[0] = NULL;
		b[1] = NULL;
		if (i % CHAIN == 0)
			table[i / CHAIN] = b;
		else
			prev[0] = b;
		prev = b;
	}
	for (i = 0; i < n / CHAIN; i += LOSE) {
		table[i] = NULL;	/* a chain lost: one definite, seven indirect */
		nlost++;
	}
	talloc = now() - t0;
	for (k = 0; k < 2; k++) {
		t0 = now();
		r = snapshot();
		tsnap[k] = now() - t0;
		if (r < 0) {
			fprintf(stderr, "scan: the snapshot failed: is POOLDBG_SESSION set?\n");
			return 1;
		}
	}
	printf("blocks %ld (chains lost %ld)\n", n + 1, nlost);
	printf("allocating them: %.1f ms\n", talloc * 1e3);
	printf("snapshot 1: %.1f ms, %.0f ns per block, %.2f x the allocation time\n",
	    tsnap[0] * 1e3, tsnap[0] * 1e9 / (double)(n + 1), tsnap[0] / talloc);
	printf("snapshot 2: %.1f ms, %.0f ns per block, %.2f x the allocation time\n",
	    tsnap[1] * 1e3, tsnap[1] * 1e9 / (double)(n + 1), tsnap[1] / talloc);
	return 0;
}
