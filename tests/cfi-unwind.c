/*
 * tests/cfi-unwind.c -- the .eh_frame stack walker (libpooldbg/cfi-unwind.c)
 * against libunwind's unw_backtrace, frame for frame, on stacks of every
 * shape it meets: recursion of many depths, frames that keep their CFA in
 * rbp (alloca), frames of the C library (qsort's comparison), a thread, a
 * forked child, a cut at the maximum depth, a signal handler (where it
 * must either agree or give up), walks that start from a shim's
 * caller as the runtime's do, and walks that meet the last walk's frames
 * (which the walker then takes from its record) and leave them again
 * where an outer caller differs.
 *
 * Both walks start in compare(); the walker's first pc is its return
 * address into compare and libunwind's is that of its own call, so the
 * stacks are compared from compare's caller outward.
 */
#include "config.h"

#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "../libpooldbg/cfi-unwind.h"
#include "tap.h"

enum { MAXD = 256 };

static volatile int sink;

/*
 * 1 if the walker's n pcs and libunwind's m are as many and the same from
 * pcs[first] on (and more than one); what names the walk in a diagnostic.
 */
static int
agree(const char *what, const uintptr_t *mine, int n, void *const *theirs, int m, int first)
{
	int i;

	if (n != m) {
		tap_diag("%s: %d frames walked, libunwind %d", what, n, m);
		return 0;
	}
	for (i = first; i < n; i++)
		if (mine[i] != (uintptr_t)theirs[i]) {
			tap_diag("%s: frame %d: %#lx, libunwind %p", what, i,
			    (unsigned long)mine[i], theirs[i]);
			return 0;
		}
	return n > 1;
}

/* 1 if both walks agree from compare's caller outward; the walker's -1 counts as agreement if giveup is allowed. */
static __attribute__((noinline)) int
compare(const char *what, int giveup)
{
	uintptr_t mine[MAXD];
	void *theirs[MAXD];
	int n, m;

	n = cfi_backtrace(mine, MAXD, NULL);
	m = unw_backtrace(theirs, MAXD);
	if (n < 0) {
		if (!giveup)
			tap_diag("%s: the walker gave up", what);
		return giveup;
	}
	return agree(what, mine, n, theirs, m, 1);
}

/*
 * As a shim starts the walk: from its caller's frame, told by its own
 * frame pointer (the return address, the CFA, the caller's rbp).  The
 * walk's first pc is the return address into that caller, libunwind's
 * second; from there the two agree.
 */
static __attribute__((noinline)) int
fromshim(const char *what)
{
	const uintptr_t *fp;
	uintptr_t mine[MAXD];
	void *theirs[MAXD];
	int n, m;

	fp = __builtin_frame_address(0);
	n = cfi_backtrace_from(mine, MAXD, fp[1], (uintptr_t)(fp + 2), fp[0]);
	m = unw_backtrace(theirs, MAXD);
	return agree(what, mine, n, theirs + 1, m - 1, 0);
}

static __attribute__((noinline)) int
recurse(int k, int (*leaf)(void))
{
	int r;

	if (k == 0)
		return leaf();
	r = recurse(k - 1, leaf);
	sink = r;	/* no tail call */
	return r;
}

static int
plain(void)
{
	return compare("recursion", 0);
}

static int
fromplain(void)
{
	return fromshim("from a shim");
}

/* A frame whose size is known only at run time keeps its CFA in rbp. */
static __attribute__((noinline)) int
dynamic(int n, int shim)
{
	volatile char *p;
	int r;

	p = alloca((size_t)n);
	p[0] = 1;
	if (n > 40)
		r = dynamic(n / 2, shim);
	else
		r = shim ? fromshim("alloca frames, from a shim") : compare("alloca frames", 0);
	sink = p[0];
	return r;
}

/*
 * A frame of over 512 KiB: its rule does not pack into the table's words
 * and is kept in the side table of whole rules.
 */
static __attribute__((noinline)) int
bigframe(void)
{
	volatile char big[600 << 10];
	int r;

	big[0] = 1;
	big[sizeof big - 1] = 2;
	r = compare("a frame of 600 KiB", 0);
	sink = big[0] + big[sizeof big - 1];
	return r;
}

/*
 * Frames that keep their CFA in rbp, met at the last walk's sp and pc
 * with rbp elsewhere: viashift's alloca moves the frames below it by
 * as much as dynleaf's own shrinks, so dynleaf lies at one sp while its
 * rbp and everything above it move.  The words the last walk read above
 * dynleaf are still there, stale, in viashift's unwritten alloca room,
 * and lead back to the last walk's call site in viashift; only rbp tells
 * that the walk must not follow them.
 */
static __attribute__((noinline)) int
dynleaf(int n)
{
	volatile char *p;
	int r;

	p = alloca((size_t)n);
	p[0] = 1;
	r = compare("alloca frames at one sp, rbp elsewhere", 0);
	sink = p[0];
	return r;
}

static __attribute__((noinline)) int
padded(int n)
{
	volatile char *p;
	int r;

	p = alloca(64);
	p[0] = 1;
	r = dynleaf(n);
	sink = p[0];
	return r;
}

/* padded from one of two call sites, below an alloca of 256 + shift bytes. */
static __attribute__((noinline)) int
viashift(int site, int shift)
{
	volatile char *room;
	int r;

	room = alloca((size_t)(256 + shift));
	room[0] = 1;
	if (site) {
		sink = 1;
		r = padded(512 - shift);
	} else {
		r = padded(512 - shift);
		sink = 2;
	}
	sink = room[0];
	return r;
}

static int sorted;

static int
bycmp(const void *a, const void *b)
{
	if (!sorted)
		sorted = compare("inside qsort", 0) ? 1 : -1;
	return *(const int *)a - *(const int *)b;
}

static void *
inthread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)recurse(7, plain);
}

static int
maxcut(void)
{
	uintptr_t pcs[4], all[MAXD];
	int n, m;

	n = cfi_backtrace(pcs, 4, NULL);
	m = cfi_backtrace(all, MAXD, NULL);
	return n == 4 && m > 4 && memcmp(pcs + 1, all + 1, 3 * sizeof pcs[0]) == 0;
}

/* The same cut, made after a whole walk of the same stack. */
static int
maxcutafter(void)
{
	uintptr_t pcs[4], all[MAXD];
	int n, m;

	m = cfi_backtrace(all, MAXD, NULL);
	n = cfi_backtrace(pcs, 4, NULL);
	return n == 4 && m > 4 && memcmp(pcs + 1, all + 1, 3 * sizeof pcs[0]) == 0;
}

static int
plain2(void)
{
	return compare("recursion, second leaf", 0);
}

/*
 * The same recursion from two call sites, with one of two leaves: a walk
 * after the other kind meets the last walk's frames at the same sp and
 * pc, and the words above them differ at the leaf, at the call site, or
 * at both.
 */
static __attribute__((noinline)) int
via(int site, int leaf, int k)
{
	int r;

	if (site) {
		sink = 1;
		r = recurse(k, leaf ? plain2 : plain);
	} else {
		r = recurse(k, leaf ? plain2 : plain);
		sink = 2;
	}
	return r;
}

static volatile int inhandler = -1;

static void
onsignal(int sig)
{
	(void)sig;
	inhandler = compare("signal handler", 1);
}

static int
skipall(uintptr_t pc)
{
	(void)pc;
	return 1;
}

int
main(void)
{
	int d, good, a[64], i, status;
	pthread_t t;
	void *r;
	pid_t pid;
	uintptr_t pcs[8];

	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	if (cfi_init() < 0) {
		tap_skip(17, "no .eh_frame walker on this platform");
		return tap_done();
	}
	ok(compare("main", 0), "walk from main agrees with libunwind");
	good = 1;
	for (d = 0; d <= 200 && good; d += 7)
		good = recurse(d, plain);
	ok(good, "walks at recursion depths 0 to 200 agree with libunwind");
	ok(recurse(3, plain) && recurse(3, plain), "a second walk, from the cached rules, agrees");
	ok(dynamic(4000, 0), "walks through frames whose CFA is in rbp agree");
	ok(bigframe() && bigframe(), "walks through a frame of 600 KiB agree, from its cached rule too");
	for (i = 0; i < 64; i++)
		a[i] = (i * 37) % 64;
	qsort(a, 64, sizeof a[0], bycmp);
	ok(sorted == 1, "a walk from qsort's comparison, through the C library, agrees");
	ok(pthread_create(&t, NULL, inthread, NULL) == 0 && pthread_join(t, &r) == 0 &&
	    r == (void *)1, "a walk in a second thread agrees");
	ok(recurse(10, maxcut), "a walk cut at max frames keeps the innermost");
	ok(recurse(10, maxcutafter), "a walk cut at max frames after a whole one keeps the innermost");
	good = 1;
	for (d = 0; d < 16 && good; d++)
		good = via(d & 1, d >> 1 & 1, 6);
	ok(good, "walks that leave the last walk's frames at an outer caller agree");
	good = 1;
	for (d = 0; d < 8 && good; d++)
		good = d & 1 ? viashift(1, 64) : viashift(0, 0);
	ok(good, "walks through frames at the last walk's sp with rbp elsewhere agree");
	pid = fork();
	if (pid == 0) {
		cfi_forked();
		_exit(recurse(5, plain) ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "a walk in a forked child agrees");
	signal(SIGUSR1, onsignal);
	raise(SIGUSR1);
	ok(inhandler == 1, "in a signal handler the walker agrees or gives up");
	cfi_flush();
	ok(recurse(4, plain), "after a flush the rules are found again");
	ok(cfi_backtrace(pcs, 8, skipall) == 0, "a skip that takes every frame leaves none");
	good = 1;
	for (d = 0; d <= 100 && good; d += 9)
		good = recurse(d, fromplain);
	ok(good, "walks from a shim's caller agree with libunwind");
	ok(dynamic(4000, 1), "walks from a shim whose caller keeps its CFA in rbp agree");
	ok(cfi_backtrace_from(pcs, 1, 0x1234, (uintptr_t)pcs, 0) == 1 && pcs[0] == 0x1234,
	    "a walk from a frame cut at one pc gives that pc alone");
	return tap_done();
}
