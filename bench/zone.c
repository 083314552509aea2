/*
 * bench/zone.c -- fixed-size items: a zone of <pooldbg/zone.h> against
 * the malloc family of <pooldbg/malloc.h> and glibc's malloc, on the same
 * churn: a table of live items, each step frees a random one and
 * allocates a new one in its slot.  Prints the time one step takes.
 *
 * It owns its table and its zone.  It measures and never asserts.
 *
 * usage: zone [-l live] [-n steps] [-z size] zone|zone-notrash|malloc|glibc
 * output: one line "MODE NS_PER_OP".
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>
#include <pooldbg/zone.h>

static uma_zone_t zone;
static size_t itemsize = 64;

static void *
zonealloc(size_t n)
{
	(void)n;
	return uma_zalloc(zone, M_WAITOK);
}

static void
zonefree(void *v)
{
	uma_zfree(zone, v);
}

static void
usage(void)
{
	fprintf(stderr, "usage: zone [-l live] [-n steps] [-z size] "
	    "zone|zone-notrash|malloc|glibc\n");
	exit(2);
}

static unsigned long
number(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v == 0)
		usage();
	return v;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	void *(*alloc)(size_t);
	void (*release)(void *);
	unsigned long nsteps = 2000000, i;
	size_t nlive = 50000, slot;
	uint64_t rng = 88172645463325252ULL;
	char **table;
	double t0;
	int c;

	while ((c = getopt(argc, argv, "l:n:z:")) != -1) {
		switch (c) {
		case 'l': nlive = number(optarg); break;
		case 'n': nsteps = number(optarg); break;
		case 'z': itemsize = number(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (strcmp(argv[optind], "zone") == 0 || strcmp(argv[optind], "zone-notrash") == 0) {
		zone = uma_zcreate("bench", itemsize, NULL, NULL, NULL, NULL, 0,
		    strcmp(argv[optind], "zone") == 0 ? 0 : UMA_ZONE_NOTRASH);
		alloc = zonealloc;
		release = zonefree;
	} else if (strcmp(argv[optind], "malloc") == 0) {
		alloc = pooldbg_malloc;
		release = pooldbg_free;
	} else if (strcmp(argv[optind], "glibc") == 0) {
		alloc = malloc;
		release = free;
	} else
		usage();
	if ((table = calloc(nlive, sizeof *table)) == NULL)
		return 1;
	for (slot = 0; slot < nlive; slot++) {
		table[slot] = alloc(itemsize);
		table[slot][itemsize - 1] = 1;
	}
	t0 = now();
	for (i = 0; i < nsteps; i++) {
		rng ^= rng >> 12;
		rng ^= rng << 25;
		rng ^= rng >> 27;
		slot = (size_t)((rng * 0x2545F4914F6CDD1DULL) >> 33) % nlive;
		release(table[slot]);
		table[slot] = alloc(itemsize);
		table[slot][itemsize - 1] = (char)i;
	}
	printf("%s %.1f\n", argv[optind], (now() - t0) / nsteps);
	for (slot = 0; slot < nlive; slot++)
		release(table[slot]);
	free(table);
	return 0;
}
