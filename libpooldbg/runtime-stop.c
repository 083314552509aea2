/*
 * libpooldbg/runtime-stop.c -- stopping every other thread of the process
 * for a reachability scan, and letting them go again, without ptrace.
 *
 * The scanning thread lists /proc/self/task with getdents64 and sends each
 * other thread the stop signal, SIGRTMAX-2, with tgkill.  The runtime owns
 * that signal only while the threads are stopped: its old action is saved
 * before the first signal is sent and put back after the last thread has
 * left the handler.  The handler runs on the thread's own stack (no
 * SA_ONSTACK), so the signal frame holding the interrupted registers lies
 * just above its locals; it writes down the address of one of those locals
 * and the interrupted stack pointer, counts itself in (a futex word the
 * scanner waits on), and waits on a second futex word until the scanner
 * lets everybody go.  Every other signal is blocked while it waits.
 *
 * A thread that blocks the stop signal (its SigBlk in
 * /proc/self/task/TID/status says so) is not sent it; one that does not
 * answer within STOPWAITMS is given up.  Both are counted as not stopped,
 * and the scan reads their stacks whole, as any other root mapping.  If
 * any thread was sent the signal and never answered, the action is set to
 * SIG_IGN before the old one is put back: that discards the pending
 * signal, which would otherwise reach the program's own action (the
 * default one ends the process).  Listing is repeated until it finds no
 * thread not yet seen, since threads may be created while others stop.
 *
 * Must never: allocate, use stdio, take a lock of the C library or the
 * loader, or return from stop_others without the saved action in place to
 * be put back by stop_release.  Called with the ring and pool locks held,
 * possibly inside a signal handler.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime.h"

enum {
	MAXSTOP		= 4096,		/* threads whose stacks are written down; more are still stopped */
	MAXSENT		= 8192,		/* threads signalled in one stop */
	STOPWAITMS	= 1000,		/* how long the threads have to answer, all together */
	LEAVEWAITMS	= 1000,		/* how long they have to leave the handler */
	MAXROUNDS	= 4,		/* listings of /proc/self/task */
	REDZONE		= 128,		/* below the stack pointer, the function's own (x86-64 ABI) */
	DIRBUF		= 4096,
	STATUSBUF	= 4096,
};

struct dirent64 {
	uint64_t d_ino;
	int64_t	d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char	d_name[];
};

typedef struct Slot Slot;
struct Slot {
	uintptr_t lsp;		/* a local of the handler: the signal frame is above it */
	uintptr_t isp;		/* the interrupted stack pointer */
};

/* One stop at a time: the caller holds the ring lock. */
static struct {
	_Atomic uint32_t go;		/* futex word: odd while threads are to stay stopped */
	_Atomic uint32_t acked;		/* futex word: handlers that wrote themselves down */
	_Atomic int inside;		/* handlers running */
	_Atomic int nslots;
	Slot	slots[MAXSTOP];
	int	sent[MAXSENT];		/* tids seen in this stop: signalled, or negated when not */
	int	nsent;
	int	blocked;		/* threads that block the signal, not sent it */
	int	sig;
	int	installed;		/* the handler is in place, old saved */
	struct sigaction old;
} st;

static long
futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, ts, NULL, 0);
}

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t
nowms(void)
{
	return (int64_t)(rt_now() / 1000000u);
}

/* The interrupted stack pointer in a signal's context; 0 where unknown.  Any thread. */
uintptr_t
stop_ctxsp(void *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.sp;
#else
	(void)uc;
	return 0;
#endif
}

/* A stop signal that is not the scanner's: hand it to the action it replaced. */
static void
chain(int sig, siginfo_t *si, void *uc)
{
	if (st.old.sa_flags & SA_SIGINFO) {
		if (st.old.sa_sigaction != NULL)
			st.old.sa_sigaction(sig, si, uc);
	} else if (st.old.sa_handler != SIG_DFL && st.old.sa_handler != SIG_IGN)
		st.old.sa_handler(sig);
}

static void
onstop(int sig, siginfo_t *si, void *uc)
{
	volatile char here;
	uint32_t g;
	int e, i;

	e = errno;
	atomic_fetch_add(&st.inside, 1);
	g = atomic_load(&st.go);
	if (!(g & 1) || si->si_code != SI_TKILL || si->si_pid != getpid()) {
		atomic_fetch_sub(&st.inside, 1);
		if (!(g & 1) && si->si_code == SI_TKILL && si->si_pid == getpid())
			goto out;	/* ours, but late: the scan is over */
		chain(sig, si, uc);
		goto out;
	}
	i = atomic_fetch_add(&st.nslots, 1);
	if (i < MAXSTOP) {
		st.slots[i].lsp = (uintptr_t)&here;
		st.slots[i].isp = stop_ctxsp(uc);
	}
	atomic_fetch_add(&st.acked, 1);
	futex(&st.acked, FUTEX_WAKE_PRIVATE, 1, NULL);
	while (atomic_load(&st.go) == g)
		futex(&st.go, FUTEX_WAIT_PRIVATE, g, NULL);
	atomic_fetch_sub(&st.inside, 1);
out:
	errno = e;
}

/* Unsigned decimal at s; -1 if none. */
static int
atoiraw(const char *s)
{
	int n;

	if (*s < '0' || *s > '9')
		return -1;
	for (n = 0; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (*s - '0');
	return *s == '\0' ? n : -1;
}

/* The value after "key" at the start of a line of buf, blanks skipped; NULL if no such line. */
static const char *
field(const char *buf, const char *key)
{
	const char *s;
	size_t k;

	k = strlen(key);
	for (s = buf; *s != '\0'; s++) {
		if ((s == buf || s[-1] == '\n') && strncmp(s, key, k) == 0) {
			for (s += k; *s == ' ' || *s == '\t'; s++)
				;
			return s;
		}
	}
	return NULL;
}

enum { TASK_GONE, TASK_BLOCKS, TASK_OK };

/* What /proc/self/task/TID/status says of a thread: gone, blocking the signal, or fine. */
static int
taskstate(int tid)
{
	static char buf[STATUSBUF];	/* static: the scan may run on a small signal stack */
	char path[64], num[16];
	const char *v;
	uint64_t mask;
	ssize_t r;
	size_t n;
	int fd, k, d;

	memcpy(path, "/proc/self/task/", 16);
	n = 16;
	k = 0;
	do {
		num[k++] = (char)('0' + tid % 10);
		tid /= 10;
	} while (tid > 0);
	while (k > 0)
		path[n++] = num[--k];
	memcpy(path + n, "/status", 8);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return TASK_GONE;
	n = 0;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	if ((v = field(buf, "State:")) != NULL && (*v == 'Z' || *v == 'X'))
		return TASK_GONE;
	if ((v = field(buf, "SigBlk:")) == NULL)
		return TASK_OK;
	for (mask = 0; (d = *v) != '\0' && d != '\n'; v++) {
		if (d >= '0' && d <= '9')
			d -= '0';
		else if (d >= 'a' && d <= 'f')
			d -= 'a' - 10;
		else
			break;
		mask = mask << 4 | (uint64_t)d;
	}
	return mask >> (st.sig - 1) & 1 ? TASK_BLOCKS : TASK_OK;
}

static int
wassent(int tid)
{
	int i;

	for (i = 0; i < st.nsent; i++)
		if (st.sent[i] == tid || st.sent[i] == -tid)
			return 1;
	return 0;
}

/* List the threads once and signal those not seen yet; how many were new. */
static int
signalnew(int self)
{
	static char buf[DIRBUF];
	struct dirent64 *d;
	long n, off;
	int fd, tid, fresh;

	fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	fresh = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		for (off = 0; off < n; off += d->d_reclen) {
			d = (struct dirent64 *)(buf + off);
			tid = atoiraw(d->d_name);
			if (tid <= 0 || tid == self || wassent(tid) || st.nsent >= MAXSENT)
				continue;
			/* seen: never looked at again in this stop, whatever happens now */
			switch (taskstate(tid)) {
			case TASK_GONE:
				st.sent[st.nsent++] = -tid;
				continue;
			case TASK_BLOCKS:
				st.sent[st.nsent++] = -tid;
				st.blocked++;
				fresh++;
				continue;
			}
			if (syscall(SYS_tgkill, (long)getpid(), (long)tid, (long)st.sig) < 0) {
				st.sent[st.nsent++] = -tid;	/* gone meanwhile */
				continue;
			}
			st.sent[st.nsent++] = tid;
			fresh++;
		}
	}
	close(fd);
	return fresh;
}

static int
nsignalled(void)
{
	int i, k;

	for (i = k = 0; i < st.nsent; i++)
		k += st.sent[i] > 0;
	return k;
}

/* Wait until every thread signalled has answered, or until deadline (ms). */
static void
waitacks(int64_t deadline)
{
	struct timespec ts;
	uint32_t a;
	int64_t left;

	while ((a = atomic_load(&st.acked)) < (uint32_t)nsignalled()) {
		left = deadline - nowms();
		if (left <= 0)
			return;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = left % 1000 * 1000000;
		futex(&st.acked, FUTEX_WAIT_PRIVATE, a, &ts);
	}
}

/*
 * Stop every other thread of the process (see the top of the file).  The
 * ring and pool locks are held.  Fills s with the threads counted and
 * those stopped; stop_thread tells where their stacks are.  Returns 0, or
 * -1 when the signal's action could not be set (then nothing was stopped
 * and s says one thread).
 */
int
stop_others(StopSet *s)
{
	struct sigaction sa;
	int64_t deadline;
	int self, round, i;

	memset(s, 0, sizeof *s);
	s->threads = 1;
	st.sig = SIGRTMAX - 2;
	st.nsent = st.blocked = 0;
	atomic_store(&st.acked, 0);
	atomic_store(&st.nslots, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onstop;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGSEGV);
	sigdelset(&sa.sa_mask, SIGBUS);
	sigdelset(&sa.sa_mask, SIGILL);
	sigdelset(&sa.sa_mask, SIGFPE);
	atomic_fetch_add(&st.go, 1);		/* odd: stay stopped */
	if (sigaction(st.sig, &sa, &st.old) < 0) {
		atomic_fetch_add(&st.go, 1);
		return -1;
	}
	st.installed = 1;
	self = rt_gettid();
	deadline = nowms() + STOPWAITMS;
	for (round = 0; round < MAXROUNDS; round++) {
		if (signalnew(self) == 0)
			break;
		waitacks(deadline);
	}
	for (i = 0; i < st.nsent; i++)
		s->threads += st.sent[i] > 0;
	s->threads += st.blocked;
	s->stopped = (int)atomic_load(&st.acked);
	return 0;
}

/*
 * The stack of the i-th thread that answered (0, 1, ... in no order):
 * *lsp a local of its handler, with the signal frame and the interrupted
 * frames above it, *isp the interrupted stack pointer less the red zone
 * (0 where unknown).  0, or -1 past the last one written down.  Between
 * stop_others and stop_release only.
 */
int
stop_thread(int i, uintptr_t *lsp, uintptr_t *isp)
{
	int n;

	n = atomic_load(&st.nslots);
	if (i < 0 || i >= n || i >= MAXSTOP)
		return -1;
	*lsp = st.slots[i].lsp;
	*isp = st.slots[i].isp > REDZONE ? st.slots[i].isp - REDZONE : 0;
	return 0;
}

/*
 * Let the threads stopped by stop_others go, wait (bounded) until they
 * have left the handler, and put the signal's old action back.  Locks
 * held as for stop_others.
 */
void
stop_release(StopSet *s)
{
	struct timespec ms = { 0, 1000000 };
	struct sigaction ign;
	int64_t deadline;

	(void)s;
	if (!st.installed)
		return;
	atomic_fetch_add(&st.go, 1);		/* even: go */
	futex(&st.go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	deadline = nowms() + LEAVEWAITMS;
	while (atomic_load(&st.inside) > 0 && nowms() < deadline)
		nanosleep(&ms, NULL);
	if (atomic_load(&st.acked) < (uint32_t)nsignalled()) {
		/* a signal still pending somewhere: discard it before the old action is back */
		memset(&ign, 0, sizeof ign);
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(st.sig, &ign, NULL);
	}
	sigaction(st.sig, &st.old, NULL);
	st.installed = 0;
}
