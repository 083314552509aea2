/*
 * bench/churn.c -- allocation churn: each thread keeps a table of live
 * blocks, and each step frees a random slot and puts a new block of a
 * random size into it.  Prints the time one step takes.
 *
 * It owns its tables and, in pool mode, one Pool over mmap'd arenas shared
 * by all threads; malloc mode uses the default pool of <pooldbg/malloc.h>,
 * with whatever flags POOLDBG_FLAGS gives it.  It measures and never
 * asserts: a slow run is a number, not a failure.  Runs are deterministic: the same seed gives every mode
 * the same sequence of sizes and slots.
 *
 * usage: churn [-mx] [-l live] [-n steps] [-s seed] glibc|padded|pool|malloc threads
 * padded: glibc malloc asked for LAYOUTBYTES more than each block needs,
 * so that its blocks take the room the malloc family's do: the runs of
 * glibc and padded tell apart what the layout costs from what the
 * allocator's code does.
 * -x: cross-thread frees; each step puts its new block into a slot of the
 * next thread's table and frees the block it displaces, made by that
 * thread or by this one.
 * -m: after the timed steps, also measure how mixed the threads' blocks
 * lie: of the live blocks taken in address order, the percentage whose
 * next one belongs to another thread (0 when each thread's blocks lie
 * apart; near (threads-1)/threads when they are shuffled together).  Two
 * threads whose blocks touch share the cache lines between them, and
 * each one's writes take those lines from the other's cache.
 * output: one line "MODE THREADS NS_PER_OP", where an op is one step (a
 * free and an allocation) and the time is each thread's own, averaged;
 * with -m, the percentage follows as a fourth field.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>
#include <pooldbg/pool.h>

enum {
	MAXTHREADS = 64,
	MINSIZE = 8,
	MAXSIZE = 4096,
	/*
	 * What a block of the malloc family spends beyond glibc's 8-byte
	 * chunk header: the pool's 16-byte header and 16-byte tail and the
	 * 16 bytes of malloc tags, less those 8.
	 */
	LAYOUTBYTES = 16 + 16 + 16 - 8,
};

typedef struct Mode Mode;
typedef struct Worker Worker;

struct Mode {
	const char *name;
	void	*(*alloc)(size_t);
	void	(*free)(void *);
};

/* Each on a cache line of its own: its rng changes every step, and two
 * threads' workers on one line would make each step wait for the other. */
struct __attribute__((aligned(64))) Worker {
	pthread_t thread;
	uint64_t rng;		/* xorshift64* state */
	char	**table;	/* the live blocks */
	Worker	*next;		/* whose table its steps work on: itself, or with -x the next thread */
	double	ns;		/* time of the timed steps */
};

static const Mode *mode;
static size_t nlive = 50000;	/* blocks in each table */
static unsigned long nsteps = 1000000;	/* timed steps of each thread */
static int cross;			/* -x: each thread frees in the next one's table */
static int mixing;			/* -m: measure how the threads' blocks lie */
static double mixed;			/* -m: the percentage measured */
static Worker workers[MAXTHREADS];	/* the threads' workers */
static unsigned long nworkers;		/* how many run */
static pthread_barrier_t barrier;

/* ---- the pool under test ---------------------------------------------- */

static pthread_mutex_t poollock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;

static void *
maparena(size_t size)
{
	void *v;

	v = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return v == MAP_FAILED ? NULL : v;
}

/* Arenas are never unmapped, so two adjacent mappings may be one. */
static int
joinarenas(void *lower, void *upper)
{
	(void)lower;
	(void)upper;
	return 1;
}

static void
lockpool(Pool *p)
{
	(void)p;
	pthread_mutex_lock(&poollock);
}

static void
unlockpool(Pool *p)
{
	(void)p;
	pthread_mutex_unlock(&poollock);
}

static void __attribute__((format(printf, 2, 3)))
poolprint(Pool *p, const char *fmt, ...)
{
	va_list ap;

	(void)p;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3), noreturn))
poolpanic(Pool *p, const char *fmt, ...)
{
	va_list ap;

	(void)p;
	fputs("churn: pool panic: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

static Pool benchpool = {
	.name = "churn",
	.maxsize = (uintptr_t)1 << 40,
	.minarena = 4 << 20,
	.quantum = 32,
	.alloc = maparena,
	.merge = joinarenas,
	.lock = lockpool,
	.unlock = unlockpool,
	.print = poolprint,
	.panic = poolpanic,
	.flags = 0,
};

static void *
poolmodealloc(size_t n)
{
	return poolalloc(&benchpool, n);
}

static void
poolmodefree(void *v)
{
	poolfree(&benchpool, v);
}

static void *
paddedalloc(size_t n)
{
	return malloc(n + LAYOUTBYTES);
}

static const Mode modes[] = {
	{ "glibc", malloc, free },
	{ "padded", paddedalloc, free },
	{ "pool", poolmodealloc, poolmodefree },
	{ "malloc", pooldbg_malloc, pooldbg_free },
};

/* ---- the churn ---------------------------------------------------------- */

static uint64_t
rnd(Worker *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545F4914F6CDD1DULL;
}

/*
 * A size in [MINSIZE, MAXSIZE], mostly small: the power of two below it is
 * the smaller of two uniform draws among 8, 16, ..., 2048, so each class is
 * less likely than the one before; within its class the size is uniform.
 * The mean is about 220 bytes.
 */
static size_t
rndsize(Worker *w)
{
	uint64_t r;
	unsigned a, b, e;
	size_t lo;

	r = rnd(w);
	a = (unsigned)(r % 9);
	b = (unsigned)((r >> 8) % 9);
	e = a < b ? a : b;
	lo = (size_t)MINSIZE << e;
	return lo + (size_t)((r >> 32) % lo);
}

static char *
newblock(Worker *w)
{
	size_t n;
	char *v;

	n = rndsize(w);
	v = mode->alloc(n);
	if (v == NULL) {
		fprintf(stderr, "churn: %s: cannot allocate %zu bytes\n",
		    mode->name, n);
		exit(1);
	}
	v[0] = (char)n;
	v[n - 1] = (char)n;
	return v;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef struct Owned Owned;
struct Owned {
	uintptr_t addr;		/* a live block */
	Worker	*owner;		/* whose table holds it */
};

static int
byaddr(const void *a, const void *b)
{
	uintptr_t x = ((const Owned *)a)->addr, y = ((const Owned *)b)->addr;

	return x < y ? -1 : x > y;
}

/* -m: of the live blocks in address order, the percentage followed by another thread's. */
static void
measuremix(void)
{
	Owned *o;
	size_t n, k, i, changes;
	unsigned long t;

	n = nlive * nworkers;
	if (n < 2 || (o = malloc(n * sizeof *o)) == NULL) {
		mixed = -1;
		return;
	}
	k = 0;
	for (t = 0; t < nworkers; t++)
		for (i = 0; i < nlive; i++) {
			o[k].addr = (uintptr_t)workers[t].table[i];
			o[k].owner = &workers[t];
			k++;
		}
	qsort(o, n, sizeof *o, byaddr);
	changes = 0;
	for (i = 1; i < n; i++)
		changes += o[i].owner != o[i - 1].owner;
	mixed = 100.0 * (double)changes / (double)(n - 1);
	free(o);
}

static void *
work(void *arg)
{
	Worker *w = arg;
	unsigned long i;
	size_t slot;
	double t0;

	for (slot = 0; slot < nlive; slot++)
		w->table[slot] = newblock(w);

	pthread_barrier_wait(&barrier);
	t0 = now();
	if (!cross)
		for (i = 0; i < nsteps; i++) {
			slot = (size_t)(rnd(w) % nlive);
			mode->free(w->table[slot]);
			w->table[slot] = newblock(w);
		}
	else
		for (i = 0; i < nsteps; i++) {
			char *b;

			/* the slot's old block, made by whichever thread, is freed here */
			slot = (size_t)(rnd(w) % nlive);
			b = newblock(w);
			b = __atomic_exchange_n(&w->next->table[slot], b, __ATOMIC_ACQ_REL);
			mode->free(b);
		}
	w->ns = now() - t0;
	pthread_barrier_wait(&barrier);
	if (mixing) {
		if (w == &workers[0])
			measuremix();	/* every table is still, and stays so until the barrier */
		pthread_barrier_wait(&barrier);
	}

	for (slot = 0; slot < nlive; slot++)
		mode->free(w->table[slot]);
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: churn [-mx] [-l live] [-n steps] [-s seed] "
	    "glibc|padded|pool|malloc threads\n");
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

int
main(int argc, char **argv)
{
	uint64_t seed = 1;
	unsigned long nthreads, t;
	double sum;
	size_t i;
	int c, err;

	while ((c = getopt(argc, argv, "l:mn:s:x")) != -1) {
		switch (c) {
		case 'm':
			mixing = 1;
			break;
		case 'x':
			cross = 1;
			break;
		case 'l':
			nlive = number(optarg);
			break;
		case 'n':
			nsteps = number(optarg);
			break;
		case 's':
			seed = number(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(argv[optind], modes[i].name) == 0)
			mode = &modes[i];
	if (mode == NULL)
		usage();
	nthreads = number(argv[optind + 1]);
	if (nthreads > MAXTHREADS)
		usage();
	nworkers = nthreads;

	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
	for (t = 0; t < nthreads; t++) {
		/* splitmix64 of seed and thread: never a zero state */
		uint64_t z = seed + (t + 1) * 0x9E3779B97F4A7C15ULL;
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		workers[t].rng = (z ^ (z >> 31)) | 1;
		workers[t].table = calloc(nlive, sizeof(char *));
		workers[t].next = cross ? &workers[(t + 1) % nthreads] : &workers[t];
		if (workers[t].table == NULL) {
			perror("churn: calloc");
			return 1;
		}
	}
	for (t = 0; t < nthreads; t++) {
		err = pthread_create(&workers[t].thread, NULL, work, &workers[t]);
		if (err != 0) {
			fprintf(stderr, "churn: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	sum = 0;
	for (t = 0; t < nthreads; t++) {
		pthread_join(workers[t].thread, NULL);
		sum += workers[t].ns;
		free(workers[t].table);
	}
	printf("%s %lu %.1f", mode->name, nthreads, sum / nthreads / nsteps);
	if (mixing)
		printf(" %.1f", mixed);
	printf("\n");
	return 0;
}
