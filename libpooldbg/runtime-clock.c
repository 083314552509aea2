/*
 * libpooldbg/runtime-clock.c -- the times of the runtime's records:
 * CLOCK_MONOTONIC nanoseconds, read cheaply.
 *
 * clock_gettime through the vDSO reads the time stamp counter in order
 * (rdtscp, or lfence then rdtsc), so each reading waits for every load
 * before it: a traced free's cache misses, which the runtime has started
 * early so that they overlap its other work, and every event reads the
 * clock.  Where the counter is invariant (CPUID leaf 0x80000007, EDX bit
 * 8: one rate, on every core, in every power state) a thread's time is
 * instead its anchor, a clock reading at most RESYNC ticks old, plus the
 * ticks since, read without ordering, at the rate measured between the
 * process's first anchor and the latest.  A thread whose anchor is older
 * reads the clock again; a reading the ticks predicted more than DRIFT
 * ns wrong turns the counter off for the process, and from then on every
 * time is the clock's.  The records' times are kept to the microsecond.
 *
 * An anchor is per thread and may be read by a signal handler that
 * interrupted its update: it is written under a generation count, odd
 * while the update is under way, and used only when the count was even
 * and unchanged across the read.
 *
 * Must never: take a lock, allocate, or make a system call but the
 * clock's (none at all when the vDSO has it).
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define HAVETSC	1
#endif

#include "runtime.h"

/* The clock itself. */
static uint64_t
clocknow(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef HAVETSC

enum {
	RESYNC	= 1 << 20,	/* ticks an anchor serves: about 0.3 ms at 3 GHz */
	DRIFT	= 20000,	/* ns a prediction may miss the clock by */
	SPREAD	= 4096,		/* ticks a pair's two counter readings may lie apart */
	TRIES	= 4,		/* readings of a pair before it is given up */
	UNKNOWN	= 0, STARTING, ON, OFF,
};

static struct {
	atomic_int state;	/* UNKNOWN, STARTING, ON or OFF */
	uint64_t tsc0, ns0;	/* the process's first anchor, set before ON */
	_Atomic double rate;	/* ns per tick; 0 until measured */
} tsc;

typedef struct Anchor Anchor;
struct Anchor {
	unsigned gen;		/* odd while being written */
	uint64_t tsc, ns;	/* ns == 0: none yet */
};

static __thread Anchor anchor RT_TLS;

/*
 * A counter reading paired with a clock reading (the mean of two around
 * it), in *t; the clock's time.  0 in *t when the two kept lying too far
 * apart (the thread was preempted, or a page faulted, in between): such a
 * pair would throw the rate off.
 */
static uint64_t
pair(uint64_t *t)
{
	uint64_t a, b, ns;
	int i;

	for (i = 0; i < TRIES; i++) {
		a = __rdtsc();
		ns = clocknow();
		b = __rdtsc();
		if (b - a <= SPREAD) {
			*t = a + (b - a) / 2;
			return ns;
		}
	}
	*t = 0;
	return ns;
}

/* The first call: whether the counter is invariant; if so the first anchor. */
static int
start(void)
{
	unsigned eax, ebx, ecx, edx;
	int s;

	s = UNKNOWN;
	if (!atomic_compare_exchange_strong(&tsc.state, &s, STARTING))
		return s == ON;
	if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007 ||
	    __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) == 0 || !(edx & (1u << 8))) {
		atomic_store(&tsc.state, OFF);
		return 0;
	}
	(void)clocknow();	/* the clock's first reading may fault its page in */
	tsc.ns0 = pair(&tsc.tsc0);
	if (tsc.tsc0 == 0) {
		atomic_store(&tsc.state, OFF);
		return 0;
	}
	atomic_store(&tsc.state, ON);
	return 1;
}

/* A fresh anchor for this thread; the clock's time, which it holds. */
static uint64_t
resync(void)
{
	uint64_t t, ns, want;
	double r;

	ns = pair(&t);
	if (t == 0)
		return ns;	/* no pair to trust: the old anchor stays */
	r = atomic_load_explicit(&tsc.rate, memory_order_relaxed);
	if (r != 0 && anchor.ns != 0 && !(anchor.gen & 1)) {
		want = anchor.ns + (uint64_t)((double)(t - anchor.tsc) * r);
		if (want > ns + DRIFT || ns > want + DRIFT) {
			atomic_store(&tsc.state, OFF);	/* a counter that lies: the clock from now on */
			return ns;
		}
	}
	if (t - tsc.tsc0 >= RESYNC && ns > tsc.ns0)
		atomic_store_explicit(&tsc.rate, (double)(ns - tsc.ns0) / (double)(t - tsc.tsc0),
		    memory_order_relaxed);
	anchor.gen++;
	atomic_signal_fence(memory_order_seq_cst);
	anchor.tsc = t;
	anchor.ns = ns;
	atomic_signal_fence(memory_order_seq_cst);
	anchor.gen++;
	return ns;
}

/* See runtime.h. */
uint64_t
rt_now(void)
{
	uint64_t t, ns;
	unsigned g;
	double r;
	int s;

	s = atomic_load_explicit(&tsc.state, memory_order_acquire);
	if (s != ON && (s != UNKNOWN || !start()))
		return clocknow();
	g = anchor.gen;
	atomic_signal_fence(memory_order_seq_cst);
	t = __rdtsc();
	r = atomic_load_explicit(&tsc.rate, memory_order_relaxed);
	if ((g & 1) != 0 || anchor.ns == 0 || t - anchor.tsc >= RESYNC || r == 0)
		return (g & 1) != 0 ? clocknow() : resync();
	ns = anchor.ns + (uint64_t)((double)(t - anchor.tsc) * r);
	atomic_signal_fence(memory_order_seq_cst);
	if (anchor.gen != g)
		return clocknow();	/* a signal handler moved the anchor meanwhile */
	return ns;
}

#else

/* See runtime.h. */
uint64_t
rt_now(void)
{
	return clocknow();
}

#endif
