/*
 * libpooldbg/runtime-live.c -- the live-block table of leaks mode and of
 * sampling: for each block the runtime has chosen to follow, the stack id
 * and the call that made it, its size and its ordinal; and the per-thread
 * sampler that chooses.
 *
 * In leaks mode (POOLDBG_MODE=leaks) no per-event record crosses the
 * ring: an allocation is unwound and interned (its new stack nodes still
 * cross once as REC_FRAME) and goes into this table; a free takes it out
 * without unwinding or the ring lock; a scan (runtime-scan.c) reads the
 * table to give each RecLive the stack and call that made its block.
 * With sampling (POOLDBG_SAMPLE=BYTES, either mode) only sampled blocks
 * are followed, and in trace mode the table says which frees to record.
 *
 * Leaks mode keeps no table: what it knows of a followed block is in the
 * block's own two tag words, which malloc.c keeps in front of every block
 * and the shims have just written -- the
 * malloc tag becomes LIVE_MARK | call << 32 | stack id, the realloc tag
 * LIVE_MARK | ordinal << 2 | family (runtime.h).  A free then touches
 * nothing but the block's header line, which it reads anyway, where a
 * table of a million blocks misses the cache (and the TLB) on every add
 * and every free.  The words stay the malloc(2) tag API's in every other
 * mode; in leaks mode pooldbg_getmalloctag of a followed block returns
 * its mark, and a block whose words the program sets itself is no longer
 * followed (both words must carry the mark).  A thread takes its
 * ordinals SEQBATCH at a time: each is unique in its image and they grow
 * within a thread, but two threads' are not in the order of their
 * allocations.  The block's site (the
 * malloc tag the scan would report, the caller's pc) is its stack's
 * innermost frame, which the recorder fills in.  Ordinals are never
 * reset: a fork child takes the ordinals up to the fork for its parent's
 * and counts its own from there.
 *
 * Sampling in trace mode needs the table (a free is recorded only if its
 * block was sampled, and the block's words are the tag API's there).
 *
 * The table is NSHARD open-addressing hash tables (linear probing,
 * backward-shift deletion, doubled when half full) in anonymous mmap'd
 * memory, each under its own spin lock, chosen by the pointer's hash so
 * that threads rarely meet.  Keys are stored as ptr ^ HIDE, a
 * non-canonical address, so the scan, which reads this memory as a root
 * like any other, never takes an entry for a pointer to its block.
 *
 * The sampler follows heap profilers: sample points fall on the bytes
 * allocated as a Poisson process of mean spacing BYTES, drawn per thread
 * (no lock) from an exponential distribution; a block that holds a point
 * is sampled.  A block of size s is so sampled with probability
 * p = 1 - exp(-s/BYTES), whatever the sizes around it; the recorder
 * weighs it by 1/p.  POOLDBG_SAMPLE_SEED fixes the generator (each
 * thread's stream from the seed and the order threads first sample).
 *
 * Must never: allocate from the pool, take the ring lock, or make a
 * system call outside a table's growth and a fork child's reset; the scan
 * reads the table without the locks (the other threads are stopped).
 */
#include "internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"

enum {
	SEQBATCH	= 256,		/* ordinals a thread takes at once */
	NSHARD		= 64,		/* tables, a power of two */
	SHARDINIT	= 64,		/* first entries of a table: small, so a sampled run's stay in cache */
};

#define HIDE	((uintptr_t)0xa5c3ull << 48)	/* makes a key a non-canonical address */
#define HUGE	((size_t)2 << 20)		/* a huge page */

typedef struct Ent Ent;
struct Ent {
	uintptr_t key;		/* ptr ^ HIDE; 0: empty */
	uint64_t size;		/* bytes asked for */
	uint64_t seq;		/* ordinal of the allocation in this image, from 1 */
	uint32_t stack;		/* RecFrame id, 0: none */
	uint16_t call;		/* CALL_* */
	uint16_t pad;
};

typedef struct Shard Shard;
struct Shard {
	atomic_flag lock;
	Ent	*tab;
	size_t	cap, len;
	char	pad[64 - sizeof(atomic_flag) - sizeof(Ent *) - 2 * sizeof(size_t)];
};

int live_on;
int live_leaks;
double live_rate;

static Shard shard[NSHARD];
static _Atomic uint64_t nextseq;
static uint64_t forkseq;	/* tag mode: ordinals up to here are a fork parent's */
static uint64_t seed;
static _Atomic uint64_t nthreads;	/* threads that have drawn, for their streams */

static __thread double left RT_TLS;	/* bytes to this thread's next sample point */
static __thread uint64_t seqnext RT_TLS, seqend RT_TLS;	/* the thread's ordinals still to give */
static __thread uint64_t rng RT_TLS;	/* its generator; 0: not seeded */

/* ---- the sampler --------------------------------------------------------- */

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ x >> 31;
}

/* An exponential draw of mean live_rate (xorshift64*, u in (0, 1]). */
static double
draw(void)
{
	uint64_t x;
	double u;

	if (rng == 0)
		rng = mix(seed + 0x9e3779b97f4a7c15ull * (atomic_fetch_add(&nthreads, 1) + 1)) | 1;
	x = rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng = x;
	u = (double)(((x * 0x2545f4914f6cdd1dull) >> 11) + 1) * 0x1.0p-53;
	return -log(u) * live_rate;
}

/* Whether an allocation of size bytes is sampled (always, without sampling).  No lock. */
int
live_sample(size_t size)
{
	if (live_rate <= 0)
		return 1;
	if (rng == 0)
		left = draw();
	if ((double)size < left) {
		left -= (double)size;
		return 0;
	}
	left = draw();	/* memoryless: the next point is this far past the block's end */
	return 1;
}

/* ---- the table ------------------------------------------------------------ */

static inline size_t
hash(uintptr_t p)
{
	return (size_t)mix((uint64_t)p);
}

static inline Shard *
shardof(size_t h)
{
	return &shard[h >> 58 & (NSHARD - 1)];
}

static inline void
lock(Shard *s)
{
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		;
}

static inline void
unlock(Shard *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/*
 * See runtime.h.  Huge pages because the tables are read at random: a
 * program with a million blocks alive has 64 live tables of 2 MiB, and
 * with small pages each add and free would miss the TLB as well as the
 * cache; so would each event's look in the stack tables.
 */
void *
rt_tablemap(size_t len)
{
	uintptr_t p, a;

	if (len < HUGE) {
		p = (uintptr_t)mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		return p == (uintptr_t)MAP_FAILED ? NULL : (void *)p;
	}
	p = (uintptr_t)mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == (uintptr_t)MAP_FAILED)
		return NULL;
	a = (p + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
	if (a > p)
		munmap((void *)p, a - p);
	if (p + HUGE > a)
		munmap((void *)(a + len), p + HUGE - a);
	(void)madvise((void *)a, len, MADV_HUGEPAGE);
	return (void *)a;
}

/* Double s's table (or make its first); -1 when no memory.  Shard locked. */
static int
grow(Shard *s)
{
	size_t cap, i, j;
	Ent *t, *o;

	cap = s->cap == 0 ? SHARDINIT : s->cap * 2;
	if ((t = rt_tablemap(cap * sizeof(Ent))) == NULL)
		return -1;
	o = s->tab;
	for (i = 0; i < s->cap; i++) {
		if (o[i].key == 0)
			continue;
		for (j = hash(o[i].key ^ HIDE) & (cap - 1); t[j].key != 0; j = (j + 1) & (cap - 1))
			;
		t[j] = o[i];
	}
	/* publish the full copy before the old one goes: a scan reads either */
	atomic_store_explicit((_Atomic(Ent *) *)&s->tab, t, memory_order_release);
	s->cap = cap;
	if (o != NULL)
		munmap(o, (cap / 2) * sizeof(Ent));
	return 0;
}

/* ---- tag mode ------------------------------------------------------------ */

/*
 * The next ordinal for a block in leaks mode: from the thread's own
 * batch, so that threads allocating side by side do not pass one
 * counter's cache line to and fro at every allocation.
 */
static inline uint64_t
ordinal(void)
{
	if (seqnext == seqend) {
		seqnext = atomic_fetch_add_explicit(&nextseq, SEQBATCH, memory_order_relaxed) + 1;
		seqend = seqnext + SEQBATCH;
	}
	return seqnext++;
}

/*
 * Mark the block at u (its user pointer) as followed: the family comes
 * from the realloc tag the shim wrote (1 or 2 for operator new) or from
 * the block's old mark, except that a reallocation's block is malloc's,
 * as the shims tag it.
 */
static void
tagadd(uintptr_t *u, uint32_t stack, unsigned call)
{
	uintptr_t fam, seq, loader, lo, hi;

	if (live_tagged(u)) {
		fam = u[-1] & LIVE_FAMILY;
		loader = u[-2] & LIVE_LOADER;
	} else {
		/* the scan's roots are the loader's blocks, told by their malloc tag */
		fam = u[-1] <= 2 ? u[-1] : 0;
		loader = unwind_loader(&lo, &hi) == 0 && u[-2] >= lo && u[-2] < hi ? LIVE_LOADER : 0;
	}
	if (call == CALL_REALLOC || call == CALL_REALLOCARRAY)
		fam = 0;
	seq = ordinal();
	u[-2] = LIVE_MARK | loader | (uintptr_t)(call & 0xff) << 32 | stack;
	u[-1] = LIVE_MARK | (seq & (((uintptr_t)1 << 54) - 1)) << 2 | fam;
}

/* What the marks of u say: 1 with *stack, *call and *seq (this image's ordinal), or 0. */
static int
tagget(const uintptr_t *u, uint32_t *stack, unsigned *call, uint64_t *seq)
{
	uint64_t n;

	if (!live_tagged(u))
		return 0;
	n = (u[-1] & ~LIVE_RMASK) >> 2;
	if (n <= forkseq)
		return 0;	/* a fork parent's block */
	if (stack != NULL)
		*stack = (uint32_t)u[-2];
	if (call != NULL)
		*call = (unsigned)(u[-2] >> 32) & 0xff;
	if (seq != NULL)
		*seq = n - forkseq;
	return 1;
}

/*
 * See runtime.h: each tag loses its mark, the malloc tag to 0 (the mark
 * held the block's stack instead of its site).  Each is looked at alone:
 * realloc has already set its realloc tag to its caller, so the block is
 * no longer marked whole, and a mark left in the malloc tag beside a
 * plain realloc tag is what an underflow leaves -- the block's free
 * would say so.  No pc has the mark's high bits.
 */
void
live_forget(void *ptr)
{
	uintptr_t *u;

	if (ptr == NULL)
		return;
	u = ptr;
	if ((u[-2] & LIVE_MMASK) == LIVE_MARK)
		u[-2] = 0;
	if ((u[-1] & LIVE_RMASK) == LIVE_MARK)
		u[-1] &= LIVE_FAMILY;
}

/* Follow the block ptr (stack id, CALL_*, size); a block already there is replaced.  No lock held. */
void
live_add(const void *ptr, uint32_t stack, unsigned call, size_t size)
{
	uintptr_t key;
	size_t h, i;
	Shard *s;
	Ent *e;

	if (ptr == NULL)
		return;
	if (live_leaks) {
		tagadd((uintptr_t *)ptr, stack, call);
		return;
	}
	key = (uintptr_t)ptr ^ HIDE;
	h = hash((uintptr_t)ptr);
	s = shardof(h);
	lock(s);
	if ((s->len + 1) * 2 > s->cap && grow(s) < 0) {
		unlock(s);
		return;
	}
	for (i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		e = &s->tab[i];
		if (e->key == 0 || e->key == key)
			break;
	}
	if (e->key == 0)
		s->len++;
	e->size = size;
	e->seq = atomic_fetch_add_explicit(&nextseq, 1, memory_order_relaxed) + 1;
	e->stack = stack;
	e->call = (uint16_t)call;
	e->pad = 0;
	atomic_store_explicit((_Atomic uintptr_t *)&e->key, key, memory_order_release);
	unlock(s);
}

/*
 * Stop following ptr; 1 if it was followed, with what it held in *stack,
 * *call and *size (each may be NULL), or 0.  No lock held.
 */
int
live_del(const void *ptr, uint32_t *stack, unsigned *call, uint64_t *size)
{
	uintptr_t key;
	size_t h, i, j, k, mask;
	Shard *s;
	Ent *t;

	if (ptr == NULL)
		return 0;
	if (live_leaks) {
		if (!tagget(ptr, stack, call, NULL))
			return 0;
		if (size != NULL)
			*size = 0;	/* not kept: the block knows */
		return 1;
	}
	key = (uintptr_t)ptr ^ HIDE;
	h = hash((uintptr_t)ptr);
	s = shardof(h);
	/*
	 * An empty shard cannot hold ptr: its live_add happened before this
	 * free (the program passed the pointer on), and so did the count.
	 */
	if (atomic_load_explicit((_Atomic size_t *)&s->len, memory_order_relaxed) == 0)
		return 0;
	lock(s);
	if (s->len == 0) {
		unlock(s);
		return 0;
	}
	t = s->tab;
	mask = s->cap - 1;
	for (i = h & mask; t[i].key != key; i = (i + 1) & mask)
		if (t[i].key == 0) {
			unlock(s);
			return 0;
		}
	if (stack != NULL)
		*stack = t[i].stack;
	if (call != NULL)
		*call = t[i].call;
	if (size != NULL)
		*size = t[i].size;
	/* backward shift: pull later entries of the run into the hole */
	for (j = i;;) {
		j = (j + 1) & mask;
		if (t[j].key == 0)
			break;
		k = hash(t[j].key ^ HIDE) & mask;
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			t[i] = t[j];
			i = j;
		}
	}
	t[i].key = 0;
	s->len--;
	unlock(s);
	return 1;
}

/* What the table holds for ptr: 1 with *stack, *call and *seq set, or 0.  No lock (a scan). */
int
live_get(uintptr_t ptr, uint32_t *stack, unsigned *call, uint64_t *seq)
{
	uintptr_t key;
	size_t h, i, mask;
	Shard *s;
	Ent *t;

	if (live_leaks)
		return tagget((const uintptr_t *)ptr, stack, call, seq);
	key = ptr ^ HIDE;
	h = hash(ptr);
	s = shardof(h);
	t = atomic_load_explicit((_Atomic(Ent *) *)&s->tab, memory_order_acquire);
	if (t == NULL)
		return 0;
	mask = s->cap - 1;
	for (i = h & mask; t[i].key != 0; i = (i + 1) & mask)
		if (t[i].key == key) {
			*stack = t[i].stack;
			*call = t[i].call;
			*seq = t[i].seq;
			return 1;
		}
	return 0;
}

/*
 * Forget every block: a fork child (its stack ids belonged to the
 * parent's ring; its inherited blocks are the parent's, as in trace
 * mode), with any lock a vanished thread held taken back.
 */
void
live_reset(void)
{
	int i;

	for (i = 0; i < NSHARD; i++) {
		if (shard[i].tab != NULL)
			munmap(shard[i].tab, shard[i].cap * sizeof(Ent));
		shard[i].tab = NULL;
		shard[i].cap = shard[i].len = 0;
		atomic_flag_clear(&shard[i].lock);
	}
	seqnext = seqend = 0;	/* the forking thread's batch was its parent's */
	if (live_leaks)
		forkseq = atomic_load(&nextseq);	/* the parent's blocks keep their marks */
	else
		atomic_store(&nextseq, 0);
}

/* See runtime.h: forkseq is set by live_reset in leaks mode only. */
int
live_knowsown(void)
{
	return live_leaks && live_rate == 0 && forkseq != 0;
}

/* ---- set-up --------------------------------------------------------------- */

/*
 * Read POOLDBG_MODE (trace, leaks), POOLDBG_SAMPLE (bytes, 0: none) and
 * POOLDBG_SAMPLE_SEED; once, by the constructor.  Bad values are said in
 * one line on fd 2 and the defaults kept (the recorder checks them first).
 */
void
live_init(void)
{
	static const char bad[] = "pooldbg: ignored a bad POOLDBG_MODE or POOLDBG_SAMPLE\n";
	const char *s;
	double r;
	ssize_t n = 0;

	s = getenv("POOLDBG_MODE");
	if (s != NULL && strcmp(s, "leaks") == 0)
		live_leaks = 1;
	else if (s != NULL && *s != '\0' && strcmp(s, "trace") != 0)
		n = write(2, bad, sizeof bad - 1);
	s = getenv("POOLDBG_SAMPLE");
	if (s != NULL && *s != '\0') {
		if ((r = (double)rt_size(s)) < 0)
			n = write(2, bad, sizeof bad - 1);
		else
			live_rate = r;
	}
	s = getenv("POOLDBG_SAMPLE_SEED");
	seed = s != NULL && *s != '\0' ? strtoull(s, NULL, 10) : (uint64_t)rt_now() ^ (uint64_t)getpid() << 32;
	live_on = live_leaks || live_rate > 0;
	(void)n;
}
