/*
 * libpooldbg/runtime-snap.c -- when the reachability scan (runtime-scan.c)
 * runs, and the calls of <pooldbg/pooldbg.h> in a traced process:
 * pooldbg_mark and pooldbg_snapshot.
 *
 * At exit: the on_exit hook, _exit and _Exit (runtime-exit.c) call
 * snap_atexit before REC_EXIT is written; it takes the ring lock, then
 * the pool lock, the ordinary way.  POOLDBG_SCAN=0 in the environment
 * turns this scan off.  On a fatal signal, snap_onsignal scans only if
 * both locks can be had with trylock: the signal may have come while this
 * very thread holds one of them (a pool panic aborts with the pool lock
 * held, a crash inside the runtime holds the ring lock), or while another
 * thread does and will never give it back; waiting would hang a dying
 * process, and scanning under a half-made pool operation would read a
 * heap in pieces.  Never on exec: the heap goes with the image, and
 * fork+exec would pay a scan for nothing.
 *
 * Snapshots: pooldbg_snapshot() scans now, locks taken the ordinary way.
 * From outside, `pooldbg snapshot PID` sends the snapshot signal,
 * SIGRTMAX-3, which the runtime catches from the start if its action is
 * then the default (a program that uses the signal keeps it; pooldbg
 * then finds no catcher and says so).  The handler scans at once when
 * both locks are free (trylock); else it sets snap_want, and the next
 * heap event of any thread, once it has given the locks back, takes the
 * snapshot.  Snapshots are numbered 1, 2, ... per ring (per process
 * image), the count kept in the ring's header and stored there after the
 * snapshot's last record: that store is what `pooldbg snapshot` waits
 * for.
 *
 * Marks: REC_MARK with the label, under the ring lock.
 *
 * Must never: allocate, use stdio, or scan without holding the ring lock
 * and then the pool lock.
 */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>
#include <pooldbg/pooldbg.h>

#include "runtime.h"

enum {
	MAXLABEL	= 1023,		/* label bytes kept in a mark */
};

_Atomic int snap_want;

static int scanoff;		/* POOLDBG_SCAN=0 */

/* A snapshot scan numbered after the ring's last one; its number, or -1.  Both locks held. */
static int
snapshotl(uintptr_t isp)
{
	uint32_t n;

	n = rt_snapshotsl() + 1;
	if (scan_runl(SCAN_SNAPSHOT, n, isp) < 0)
		return -1;
	rt_setsnapshotsl(n);
	return (int)n;
}

/* Both locks if both are free now, and the scan; 0, or -1 when a lock was busy. */
static int
tryscan(unsigned why, uintptr_t isp)
{
	if (rt_trylock() < 0)
		return -1;
	if (!rt_ownerl() || pooldbg_maintrylock() < 0) {
		rt_unlock(0);
		return -1;
	}
	if (why == SCAN_SNAPSHOT)
		(void)snapshotl(isp);
	else
		(void)scan_runl(why, 0, isp);
	pooldbg_mainmem->unlock(pooldbg_mainmem);
	rt_unlock(0);
	return 0;
}

static void
onsnap(int sig, siginfo_t *si, void *uc)
{
	int e;

	(void)sig;
	(void)si;
	e = errno;
	if (rt_state == RT_LIVE) {
		rt_inside++;
		if (tryscan(SCAN_SNAPSHOT, stop_ctxsp(uc)) < 0)
			atomic_store(&snap_want, 1);
		rt_inside--;
	}
	errno = e;
}

/* POOLDBG_SCAN, and the snapshot signal if its action is the default; constructor only. */
void
snap_init(void)
{
	struct sigaction sa, old;
	const char *s;
	int sig;

	s = getenv("POOLDBG_SCAN");
	scanoff = s != NULL && strcmp(s, "0") == 0;
	sig = SIGRTMAX - 3;
	if (sigaction(sig, NULL, &old) < 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onsnap;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* The exit scan: both locks taken in order, unless POOLDBG_SCAN=0 or the ring is not ours. */
void
snap_atexit(void)
{
	int nested;

	if (scanoff || rt_state != RT_LIVE)
		return;
	rt_inside++;
	nested = rt_lock();
	if (!nested && rt_ownerl()) {
		pooldbg_mainmem->lock(pooldbg_mainmem);
		(void)scan_runl(SCAN_EXIT, 0, 0);
		pooldbg_mainmem->unlock(pooldbg_mainmem);
	}
	rt_unlock(nested);
	rt_inside--;
}

/* The scan on a fatal signal, only if both locks are free (see the top of the file). */
void
snap_onsignal(void *uc)
{
	if (scanoff || rt_state != RT_LIVE)
		return;
	rt_inside++;
	(void)tryscan(SCAN_EXIT, uc != NULL ? stop_ctxsp(uc) : 0);
	rt_inside--;
}

/* The snapshot the signal asked for, after a heap event with no lock held. */
void
snap_honour(void)
{
	int nested;

	if (!atomic_load(&snap_want) || rt_state != RT_LIVE)
		return;
	rt_inside++;
	nested = rt_lock();
	/* the pool lock may be busy with another thread's call: then the next event tries */
	if (!nested && rt_ownerl() && atomic_load(&snap_want) && pooldbg_maintrylock() == 0) {
		atomic_store(&snap_want, 0);
		(void)snapshotl(0);
		pooldbg_mainmem->unlock(pooldbg_mainmem);
	}
	rt_unlock(nested);
	rt_inside--;
}

/*
 * pooldbg_mark: REC_MARK(label) into this image's ring.  0, or -1 when
 * the process is not traced (or this is a vfork child, which does not
 * own the ring).  Keeps errno.
 */
EXPORT int
pooldbg_mark(const char *label)
{
	char buf[sizeof(RecMark) + MAXLABEL + 1 + 8];
	RecMark *m;
	size_t n, len;
	int nested, r, e;

	if (rt_state != RT_LIVE)
		return -1;
	e = errno;
	if (label == NULL)
		label = "";
	n = strnlen(label, MAXLABEL);
	m = (RecMark *)buf;
	len = sizeof *m + n + 1;
	memset(buf, 0, sizeof buf);
	m->h.type = REC_MARK;
	m->h.len = REC_ALIGN(len);
	m->tid = rt_gettid();
	m->labellen = (uint32_t)(n + 1);
	memcpy(buf + sizeof *m, label, n);
	r = -1;
	rt_inside++;
	nested = rt_lock();
	if (rt_ownerl()) {
		m->time = rt_now();
		rt_putl(m, m->h.len);
		r = 0;
	}
	rt_unlock(nested);
	rt_inside--;
	errno = e;
	return r;
}

/*
 * pooldbg_snapshot: scan the heap now and record it as the next snapshot
 * of this image.  Its number, or -1 when not traced, called from inside
 * the runtime (a signal handler that interrupted it) or when the scan
 * could not be made.  Takes the ring lock, then the pool lock; keeps errno.
 */
EXPORT int
pooldbg_snapshot(void)
{
	int nested, n, e;

	if (rt_state != RT_LIVE)
		return -1;
	e = errno;
	n = -1;
	rt_inside++;
	nested = rt_lock();
	if (!nested && rt_ownerl()) {
		pooldbg_mainmem->lock(pooldbg_mainmem);
		n = snapshotl(0);
		pooldbg_mainmem->unlock(pooldbg_mainmem);
	}
	rt_unlock(nested);
	rt_inside--;
	errno = e;
	return n;
}
