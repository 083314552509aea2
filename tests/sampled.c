/*
 * tests/sampled.c -- a deterministic heap for tests/leaks-mode.sh: each of
 * T threads allocates N blocks of known sizes (a fixed pseudo-random
 * sequence from 256 to 4096 bytes, one sequence per thread), shrinks every
 * third one to 16 bytes (in place, so that a block sampled at its birth
 * is likely not sampled as the smaller one) and frees it, drops the
 * pointers to the rest (definitely lost), and the
 * program prints the truth:
 *   truth blocks=B bytes=S
 * of the blocks lost, over all threads.  Nothing keeps a pointer to a
 * lost block, so all of them are definitely lost at exit.
 *
 * usage: sampled [N [T]]   (default 30000 blocks, 1 thread: the main one)
 * Owns nothing beyond its own blocks; frees none of the lost ones on purpose.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXT = 16 };

typedef struct Work Work;
struct Work {
	size_t	n;		/* blocks to allocate */
	uint64_t seed;
	unsigned long long bytes, blocks;	/* lost */
};

/* Allocate n bytes and fill them; noinline so every block has the same stack. */
static __attribute__((noinline)) void *
make(size_t n)
{
	void *p;

	p = malloc(n);
	if (p != NULL)
		memset(p, 0x5a, n);
	return p;
}

static void *
work(void *arg)
{
	Work *w = arg;
	uint64_t x;
	size_t i, size;
	void *p, *q;

	x = w->seed;
	for (i = 0; i < w->n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size = 256 + (size_t)(x % 3841);
		if ((p = make(size)) == NULL)
			exit(1);
		if (i % 3 == 0) {
			if ((q = realloc(p, 16)) != NULL)
				p = q;
			free(p);
			continue;
		}
		/* lost: the only pointer is overwritten by the next block's */
		w->bytes += size;
		w->blocks++;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	unsigned long long bytes, blocks;
	pthread_t t[MAXT];
	Work w[MAXT];
	size_t n, nt, i;

	n = argc > 1 ? strtoul(argv[1], NULL, 10) : 30000;
	nt = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
	if (nt < 1 || nt > MAXT)
		return 2;
	memset(w, 0, sizeof w);
	for (i = 0; i < nt; i++) {
		w[i].n = n;
		w[i].seed = 88172645463325252ull + i * 0x9e3779b97f4a7c15ull;
	}
	if (nt == 1)
		work(&w[0]);
	else {
		for (i = 0; i < nt; i++)
			if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
				return 1;
		for (i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
	}
	bytes = blocks = 0;
	for (i = 0; i < nt; i++) {
		bytes += w[i].bytes;
		blocks += w[i].blocks;
	}
	printf("truth blocks=%llu bytes=%llu\n", blocks, bytes);
	return 0;
}
