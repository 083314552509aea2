/*
 * tests/sampled.c -- a deterministic heap for the sampling estimates of
 * tests/leaks-mode.sh: it allocates many blocks of known sizes (a fixed
 * pseudo-random sequence from 256 to 4096 bytes), frees every third one,
 * drops the pointers to the rest (definitely lost), and prints the truth:
 *   truth blocks=N bytes=B
 * of the blocks it lost.  It keeps the sizes of the lost blocks apart
 * from their pointers, so nothing points at them at exit.
 *
 * usage: sampled [N]   (N blocks allocated, default 30000)
 * Owns nothing beyond its own blocks; frees none of the lost ones on purpose.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
main(int argc, char **argv)
{
	unsigned long long bytes, blocks;
	uint64_t x;
	size_t n, i, size;
	void *p;

	n = argc > 1 ? strtoul(argv[1], NULL, 10) : 30000;
	x = 88172645463325252ull;
	bytes = blocks = 0;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size = 256 + (size_t)(x % 3841);
		if ((p = make(size)) == NULL)
			return 1;
		if (i % 3 == 0) {
			free(p);
			continue;
		}
		/* lost: the only pointer is overwritten by the next block's */
		bytes += size;
		blocks++;
		p = NULL;
	}
	printf("truth blocks=%llu bytes=%llu\n", blocks, bytes);
	return 0;
}
