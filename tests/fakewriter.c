/*
 * tests/fakewriter.c -- a program for `pooldbg run` to run in the tests of
 * the recorder: it writes the records a traced process would, by hand,
 * into a ring of its own in $POOLDBG_SESSION, so that the recorder can be
 * tested without the runtime.  What it writes is fixed per scenario and
 * known to tests/recorder.c, which checks the trace against it.
 *
 *   fakewriter basic [CODE]     every record type; exit CODE
 *   fakewriter fork             a fork child with a ring of its own
 *   fakewriter orphan           the parent exits first; the child goes on
 *   fakewriter exec             an image replaced by exec (then "basic 4")
 *   fakewriter kill N           N allocations, then SIGKILL with the ring open
 *   fakewriter segv             says it dies of SIGSEGV, then does
 *   fakewriter error            a heap error
 *   fakewriter many N [CODE]    N malloc/free pairs through a 64 KiB ring
 *   fakewriter wait FILE        creates FILE, then waits for a signal
 *   fakewriter env              a heap error whose message is its environment
 *   fakewriter noring [CODE]    no ring at all; exit CODE
 *   fakewriter selfkill         no ring; SIGKILL itself
 *   fakewriter touch FILE       no ring; create FILE
 *   fakewriter leaks [CODE]     marks, a snapshot and a scan at exit of every class
 *   fakewriter clean [CODE]     a scan at exit with nothing lost that a recorded call made
 *   fakewriter cutscan          killed by SIGKILL in the middle of its scan at exit
 *   fakewriter forkscan         a fork child's scan finds a block it inherited
 *   fakewriter badscan          scan and mark records too short, out of place, or odd
 *   fakewriter kinds            a heap error of every kind, in the pool's words
 *   fakewriter live N [noscan]  N blocks live at exit, all found by its scan (or no scan)
 *
 * Must never: depend on the runtime (tests preload a library that does
 * nothing), or on timing: every wait is for an event, not for a while.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

static Ring ring;
static uint64_t clk = 1000;	/* fake CLOCK_MONOTONIC: deterministic times */

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "fakewriter: %s\n", what);
	exit(99);
}

static void
put(const void *rec, size_t len)
{
	if (ring_write(&ring, rec, len) < 0)
		die("ring_write");
}

/* Open a ring in the session and say who we are. */
static void
begin(size_t size, uint32_t execseq, int forked, char **argv)
{
	uint64_t buf[512];
	RecProc *p;
	const char *session, *exe;
	char *s;
	size_t len, n, i;

	if ((session = getenv("POOLDBG_SESSION")) == NULL)
		die("no POOLDBG_SESSION");
	if (ring_create(&ring, session, getpid(), size) < 0)
		die("ring_create");
	memset(buf, 0, sizeof buf);
	p = (RecProc *)buf;
	p->h.type = REC_PROC;
	p->pid = getpid();
	p->ppid = getppid();
	p->time = ++clk;
	p->execseq = execseq;
	p->forked = forked;
	exe = "/fake/bin/fakewriter";
	s = (char *)(p + 1);
	n = strlen(exe) + 1;
	memcpy(s, exe, n);
	p->exelen = (uint32_t)n;
	len = 0;
	for (i = 0; argv[i] != NULL; i++) {
		n = strlen(argv[i]) + 1;
		if (sizeof *p + p->exelen + len + n > sizeof buf - 8)
			break;
		memcpy(s + p->exelen + len, argv[i], n);
		len += n;
	}
	p->cmdlen = (uint32_t)len;
	p->h.len = REC_ALIGN(sizeof *p + p->exelen + p->cmdlen);
	put(p, p->h.len);
}

static void
module(const char *path, const char *buildid, uint64_t base, uint64_t lo, uint64_t hi)
{
	uint64_t buf[64];
	RecModule *m;
	size_t bl, pl;

	memset(buf, 0, sizeof buf);
	m = (RecModule *)buf;
	bl = buildid != NULL ? strlen(buildid) : 0;
	pl = strlen(path) + 1;
	m->h.type = REC_MODULE;
	m->time = ++clk;
	m->base = base;
	m->lo = lo;
	m->hi = hi;
	m->buildidlen = (uint32_t)bl;
	m->pathlen = (uint32_t)pl;
	memcpy(m + 1, buildid, bl);
	memcpy((char *)(m + 1) + bl, path, pl);
	m->h.len = REC_ALIGN(sizeof *m + bl + pl);
	put(m, m->h.len);
}

static void
unload(uint64_t base, uint64_t lo)
{
	RecUnload u = { { REC_UNLOAD, sizeof u }, ++clk, base, lo };

	put(&u, sizeof u);
}

static void
frame(uint32_t id, uint32_t parent, uint64_t pc)
{
	RecFrame f = { { REC_FRAME, sizeof f }, id, parent, pc };

	put(&f, sizeof f);
}

static void
thread(int32_t tid, uint32_t ending)
{
	RecThread t = { { REC_THREAD, sizeof t }, ++clk, tid, ending };

	put(&t, sizeof t);
}

static void
alloc(int kind, uint64_t ptr, uint64_t size, uint64_t align, uint32_t stack, int32_t tid)
{
	RecAlloc a;

	memset(&a, 0, sizeof a);
	a.h.type = REC_ALLOC;
	a.h.len = sizeof a;
	a.time = ++clk;
	a.ptr = ptr;
	a.size = size;
	a.align = align;
	a.stack = stack;
	a.tid = tid;
	a.kind = (uint16_t)kind;
	put(&a, sizeof a);
}

static void
freeb(int kind, int flags, uint64_t ptr, uint64_t size, uint32_t stack, int32_t tid)
{
	RecFree f;

	memset(&f, 0, sizeof f);
	f.h.type = REC_FREE;
	f.h.len = sizeof f;
	f.time = ++clk;
	f.ptr = ptr;
	f.size = size;
	f.stack = stack;
	f.tid = tid;
	f.kind = (uint16_t)kind;
	f.flags = (uint16_t)flags;
	put(&f, sizeof f);
}

static void
reallocb(uint64_t oldptr, uint64_t newptr, uint64_t size, uint32_t stack, int32_t tid)
{
	RecRealloc r;

	memset(&r, 0, sizeof r);
	r.h.type = REC_REALLOC;
	r.h.len = sizeof r;
	r.time = ++clk;
	r.oldptr = oldptr;
	r.newptr = newptr;
	r.size = size;
	r.stack = stack;
	r.tid = tid;
	r.kind = CALL_REALLOC;
	put(&r, sizeof r);
}

static void
heaperror(int kind, uint64_t ptr, uint32_t stack, const char *msg)
{
	uint64_t buf[1024];
	RecError *e;
	size_t n;

	memset(buf, 0, sizeof buf);
	e = (RecError *)buf;
	n = strlen(msg) + 1;
	if (sizeof *e + n > sizeof buf)
		n = sizeof buf - sizeof *e;
	e->h.type = REC_ERROR;
	e->time = ++clk;
	e->ptr = ptr;
	e->stack = stack;
	e->tid = getpid();
	e->kind = (uint16_t)kind;
	if (kind == ERR_WRITE_AFTER_FREE || kind == ERR_DOUBLE_FREE)
		e->flags = ERRF_FREED;
	e->block = ptr;
	e->msglen = (uint32_t)n;
	memcpy(e + 1, msg, n);
	((char *)(e + 1))[n - 1] = '\0';
	e->h.len = REC_ALIGN(sizeof *e + n);
	put(e, e->h.len);
}

static void
mark(const char *label)
{
	uint64_t buf[64];
	RecMark *m;
	size_t n;

	memset(buf, 0, sizeof buf);
	m = (RecMark *)buf;
	n = strlen(label) + 1;
	m->h.type = REC_MARK;
	m->time = ++clk;
	m->tid = getpid();
	m->labellen = (uint32_t)n;
	memcpy(m + 1, label, n);
	m->h.len = REC_ALIGN(sizeof *m + n);
	put(m, m->h.len);
}

static void
scan(uint32_t why, uint32_t snapshot)
{
	RecScan r;

	memset(&r, 0, sizeof r);
	r.h.type = REC_SCAN;
	r.h.len = sizeof r;
	r.time = ++clk;
	r.why = why;
	r.snapshot = snapshot;
	r.tid = getpid();
	put(&r, sizeof r);
}

static void
arena(uint64_t base, uint64_t size)
{
	RecArena a = { { REC_ARENA, sizeof a }, base, size };

	put(&a, sizeof a);
}

/* A block the scan found: its pool block is 64 bytes before ptr, its preview the text what. */
static void
live(uint64_t ptr, uint64_t size, int cls, const char *what)
{
	RecLive l;

	memset(&l, 0, sizeof l);
	l.h.type = REC_LIVE;
	l.h.len = sizeof l;
	l.ptr = ptr;
	l.size = size;
	l.block = ptr - 64;
	l.bsize = REC_ALIGN(size) + 128;
	l.tag = 0x400200;
	l.cls = (uint8_t)cls;
	l.previewlen = (uint8_t)(size < sizeof l.preview ? size : sizeof l.preview);
	memcpy(l.preview, what, strlen(what) < l.previewlen ? strlen(what) : l.previewlen);
	put(&l, sizeof l);
}

static void
scanend(uint32_t threads, uint32_t stopped, uint64_t roots)
{
	RecScanEnd x;

	memset(&x, 0, sizeof x);
	x.h.type = REC_SCANEND;
	x.h.len = sizeof x;
	x.time = ++clk;
	x.roots = roots;
	x.threads = threads;
	x.stopped = stopped;
	put(&x, sizeof x);
}

/* A record of type and len bytes, all zero but its header: too short for most types. */
static void
stub(uint32_t type, uint32_t len)
{
	uint64_t buf[32];
	RecHdr *h;

	memset(buf, 0, sizeof buf);
	h = (RecHdr *)buf;
	h->type = type;
	h->len = len;
	put(buf, len);
}

static void
end(uint32_t how, int32_t status)
{
	RecExit x = { { REC_EXIT, sizeof x }, ++clk, how, status };

	put(&x, sizeof x);
	ring_close(&ring);
}

/* The common prelude: two modules, a stack tree of three frames. */
static void
prelude(void)
{
	module("/fake/bin/fakewriter", "\x01\x02\x03\x04", 0x400000, 0x400000, 0x401000);
	module("/fake/lib/libfake.so", NULL, 0x7f0000000000, 0x7f0000001000, 0x7f0000009000);
	frame(1, 0, 0x400100);
	frame(2, 1, 0x400200);
	frame(3, 1, 0x7f0000001234);
}

/*
 * Every kind of record.  Live at exit: 0x3000 (150 bytes) and 0x5000 (64):
 * 2 blocks, 214 bytes; the heap peaks at 280 bytes; 7 block lifetimes.
 */
static void
basic(int tid)
{
	thread(tid, 0);
	thread(tid + 1, 0);
	alloc(CALL_MALLOC, 0x1000, 100, 0, 2, tid);	/* 100 */
	alloc(CALL_CALLOC, 0x2000, 80, 0, 3, tid);	/* 180 */
	reallocb(0x1000, 0x3000, 200, 2, tid);		/* moved: 280 */
	reallocb(0x3000, 0x3000, 150, 2, tid);		/* in place: 230 */
	reallocb(0x2000, 0, 1000, 3, tid);		/* failed: 0x2000 stays */
	freeb(CALL_FREE, 0, 0x2000, 0, 3, tid);		/* 150 */
	alloc(CALL_NEW, 0x4000, 24, 0, 3, tid + 1);	/* 174 */
	freeb(CALL_DELETE, CALLF_SIZED, 0x4000, 24, 3, tid + 1);	/* 150 */
	alloc(CALL_MALLOC, 0, 1UL << 40, 0, 2, tid);	/* failed */
	alloc(CALL_POSIX_MEMALIGN, 0x5000, 64, 64, 2, tid);	/* 214 */
	alloc(CALL_MALLOC, 0x6000, 32, 0, 2, tid);	/* 246 */
	reallocb(0x6000, 0, 0, 2, tid);			/* freed by realloc(p, 0): 214 */
	unload(0x7f0000000000, 0x7f0000001000);
	thread(tid + 1, 1);
}

/*
 * Marks, a snapshot and the scan at exit.  The snapshot finds the five
 * blocks reachable, and 0x9000, which no recorded call made.  Then 0x5000
 * is freed and 0x4000 moved to 0x6000.  At exit: 0x1000 (100 bytes)
 * definite, 0x2000 (200) indirect, 0x3000 (300) possible, 0x6000 (450,
 * made by the realloc) reachable, 0x9000 (16) definite but no call's.
 */
static void
leaks(int tid)
{
	mark("start");
	thread(tid, 0);
	alloc(CALL_MALLOC, 0x1000, 100, 0, 2, tid);
	alloc(CALL_MALLOC, 0x2000, 200, 0, 3, tid);
	alloc(CALL_NEW, 0x3000, 300, 0, 2, tid);
	alloc(CALL_CALLOC, 0x4000, 400, 0, 3, tid);
	alloc(CALL_MALLOC, 0x5000, 50, 0, 2, tid);
	mark("loaded");
	scan(SCAN_SNAPSHOT, 1);
	arena(0x10000000, 1 << 20);
	live(0x1000, 100, CLASS_REACHABLE, "A");
	live(0x2000, 200, CLASS_REACHABLE, "B");
	live(0x3000, 300, CLASS_REACHABLE, "C");
	live(0x4000, 400, CLASS_REACHABLE, "D");
	live(0x5000, 50, CLASS_REACHABLE, "E");
	live(0x9000, 16, CLASS_REACHABLE, "runtime");
	scanend(1, 1, 8192);
	freeb(CALL_FREE, 0, 0x5000, 0, 3, tid);
	reallocb(0x4000, 0x6000, 450, 2, tid);
	mark("done");
	scan(SCAN_EXIT, 0);
	arena(0x10000000, 1 << 20);
	arena(0x20000000, 1 << 21);
	live(0x1000, 100, CLASS_DEFINITE, "lost block A");
	live(0x2000, 200, CLASS_INDIRECT, "B");
	live(0x3000, 300, CLASS_POSSIBLE, "C");
	live(0x6000, 450, CLASS_REACHABLE, "D, moved");
	live(0x9000, 16, CLASS_DEFINITE, "runtime");
	scanend(2, 1, 4096);
}

/*
 * Nothing lost that a recorded call made: 0x1000 reachable, 0x2000
 * indirect (not lost by itself); the runtime's own 0x9000 definite and
 * 0x9100 possible.  And a notice of the pool.
 */
static void
clean(int tid)
{
	alloc(CALL_MALLOC, 0x1000, 10, 0, 2, tid);
	alloc(CALL_MALLOC, 0x2000, 20, 0, 3, tid);
	heaperror(ERR_NOTICE, 0x1000, 2, "pool main: block 0xff0: mem user overflow (one NUL, tolerated)\n"
	    "  header: magic 0xa110c09 (alloc) size 0x40\n");
	scan(SCAN_EXIT, 0);
	arena(0x10000000, 1 << 20);
	live(0x1000, 10, CLASS_REACHABLE, "x");
	live(0x2000, 20, CLASS_INDIRECT, "y");
	live(0x9000, 16, CLASS_DEFINITE, "runtime");
	live(0x9100, 16, CLASS_POSSIBLE, "runtime");
	scanend(1, 1, 4096);
}

/* Records of marks and scans that make no sense, between ones that do. */
static void
badscan(int tid)
{
	uint64_t buf[16];
	RecMark *m;
	RecLive l;

	stub(REC_MARK, 16);			/* too short */
	memset(buf, 0, sizeof buf);
	m = (RecMark *)buf;
	m->h.type = REC_MARK;
	m->h.len = 32;
	m->labellen = 1000;			/* longer than its record */
	memcpy(m + 1, "liar", 5);
	put(m, m->h.len);
	live(0x1000, 10, CLASS_DEFINITE, "stray");	/* outside a scan */
	arena(0x10000000, 1 << 20);		/* outside a scan */
	scanend(1, 1, 0);			/* outside a scan */
	stub(REC_SCAN, 16);			/* too short */
	scan(99, 1);				/* neither at exit nor a snapshot */
	scan(SCAN_SNAPSHOT, 0);			/* a snapshot without a number */
	alloc(CALL_MALLOC, 0x1000, 10, 0, 2, tid);
	scan(SCAN_SNAPSHOT, 1);
	stub(REC_ARENA, 16);			/* too short */
	stub(REC_LIVE, 48);			/* too short */
	live(0x1000, 10, 9, "no such class");
	memset(&l, 0, sizeof l);
	l.h.type = REC_LIVE;
	l.h.len = sizeof l;
	l.ptr = 0x7000;
	l.size = 100;
	l.cls = CLASS_REACHABLE;
	l.previewlen = 200;			/* more than there is */
	memset(l.preview, 'p', sizeof l.preview);
	put(&l, sizeof l);
	stub(REC_SCANEND, 40);			/* too short: the scan goes on */
	live(0x1000, 10, CLASS_REACHABLE, "ok");
	scanend(1, 1, 512);
	mark("after");
	stub(REC_NTYPES + 3, 24);		/* a type this recorder does not know */
	alloc(CALL_MALLOC, 0x2000, 20, 0, 2, tid);
}

/* Heap errors of every kind, as the pool words them (pool(3), DIAGNOSTICS). */
static const char *const kindmsgs[] = {
	"pool main: block 0x1000: mem user overflow\n"
	"  header: magic 0xa110c09 (alloc) size 0x40\n"
	"  tail: be 00 10 ef size 0x40\n"
	"pool main: mem user overflow: block 0x1000\n",			/* overflow */
	"pool main: block 0x1040: corrupt tail magic0\n"
	"  header: magic 0xa110c09 (alloc) size 0x40\n"
	"pool main: corrupt tail magic0: block 0x1040",			/* overflow */
	"pool main: block 0x1080: bad magic\n"
	"  header: magic 0x78787878 (?) size 0x7878787878787878\n"
	"pool main: bad magic: block 0x1080\n",				/* underflow */
	"pool main: 0x10d0: D2B called on non-block\n"
	"  words before it: 0xba5eba11 0x40\n"
	"pool main: D2B called on non-block: block 0x10d0 (double-free?)\n",	/* double-free */
	"pool main: 0x10: D2B called on non-block (outside every arena)\n"
	"pool main: D2B called on non-block: block 0x10 (double-free?)\n",	/* invalid-free */
	"pool main: 0x1118: D2B called on non-block\n"
	"  words before it: 0x7878787878787878 0x7878787878787878\n"
	"pool main: D2B called on non-block: block 0x1118 (double-free?)\n",	/* invalid-free */
	"pool main: block 0x1200: dangling pointer write\n"
	"  header: magic 0xdeaddead (dead) size 0x40\n"
	"pool main: dangling pointer write: block 0x1200\n",		/* write-after-free */
	"pool main: block 0x1300: mem user overflow (one NUL, tolerated)\n"
	"  header: magic 0xa110c09 (alloc) size 0x40\n"
	"  tail: be 00 10 ef size 0x40\n",					/* notice */
	"pool main: block 0x1300: mem user overflow (one NUL, tolerated)\n"
	"  header: magic 0xa110c09 (alloc) size 0x40\n"
	"pool main: block 0x1400: bad free tree\n"
	"pool main: bad free tree: block 0x1400\n",				/* corruption */
	"pool main: counted 1 allocated, 2 free; counters say 3, 4\n"
	"pool main: bad pool accounting\n",					/* corruption */
	"",									/* corruption */
};

static const int kindof[] = {
	ERR_OVERFLOW, ERR_OVERFLOW, ERR_UNDERFLOW, ERR_DOUBLE_FREE, ERR_INVALID_FREE,
	ERR_INVALID_FREE, ERR_WRITE_AFTER_FREE, ERR_NOTICE, ERR_CORRUPTION, ERR_CORRUPTION,
	ERR_CORRUPTION,
};

static int
code(char **argv, int i, int dflt)
{
	return argv[i] != NULL ? atoi(argv[i]) : dflt;
}

int
main(int argc, char **argv)
{
	int fd, i, n, pfd[2], st;
	pid_t pid;
	char c;

	if (argc < 2)
		die("no scenario");
	if (strcmp(argv[1], "noring") == 0)
		return code(argv, 2, 0);
	if (strcmp(argv[1], "selfkill") == 0)
		raise(SIGKILL);
	if (strcmp(argv[1], "touch") == 0) {
		if (argc < 3 || (fd = open(argv[2], O_WRONLY | O_CREAT, 0644)) < 0)
			die("touch");
		close(fd);
		return 0;
	}
	if (strcmp(argv[1], "basic") == 0) {
		begin(RING_DEFSIZE, (uint32_t)code(argv, 3, 0), 0, argv);
		prelude();
		basic(getpid());
		end(EXIT_NORMAL, code(argv, 2, 0));
		return code(argv, 2, 0);
	}
	if (strcmp(argv[1], "exec") == 0) {
		static char basicarg[] = "basic", four[] = "4", one[] = "1";
		char *nargv[] = { argv[0], basicarg, four, one, NULL };

		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		alloc(CALL_MALLOC, 0x9000, 9, 0, 2, getpid());	/* dropped by the exec */
		end(EXIT_EXEC, 0);
		execv("/proc/self/exe", nargv);
		die("execv");
	}
	if (strcmp(argv[1], "fork") == 0 || strcmp(argv[1], "orphan") == 0) {
		int orphan = strcmp(argv[1], "orphan") == 0;

		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		alloc(CALL_MALLOC, 0x1000, 10, 0, 2, getpid());
		alloc(CALL_MALLOC, 0x2000, 20, 0, 2, getpid());
		if (pipe(pfd) < 0)
			die("pipe");
		if ((pid = fork()) < 0)
			die("fork");
		if (pid == 0) {
			close(pfd[1]);
			ring_detach(&ring);
			if (orphan) {
				/* EOF once the parent is gone: it has exited */
				while (read(pfd[0], &c, 1) > 0)
					;
			}
			begin(RING_DEFSIZE, 0, 1, argv);
			prelude();
			freeb(CALL_FREE, 0, 0x1000, 0, 3, getpid());	/* inherited */
			alloc(CALL_MALLOC, 0x8000, 8, 0, 3, getpid());
			end(EXIT_NORMAL, orphan ? 5 : 0);
			_exit(orphan ? 5 : 0);
		}
		close(pfd[0]);
		if (!orphan && waitpid(pid, &st, 0) != pid)
			die("waitpid");
		freeb(CALL_FREE, 0, 0x2000, 0, 2, getpid());
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "kill") == 0) {
		n = code(argv, 2, 1000);
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		for (i = 0; i < n; i++)
			alloc(CALL_MALLOC, 0x10000 + 16 * (uint64_t)i, 16, 0, 2, getpid());
		raise(SIGKILL);
	}
	if (strcmp(argv[1], "segv") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		alloc(CALL_MALLOC, 0x1000, 10, 0, 2, getpid());
		end(EXIT_SIGNAL, SIGSEGV);
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		die("still alive");
	}
	if (strcmp(argv[1], "error") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		alloc(CALL_MALLOC, 0x1000, 10, 0, 2, getpid());
		heaperror(ERR_OVERFLOW, 0x1000, 2, "block 0x1000: tail magic0 corrupt\npanic: corrupt tail magic0");
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "many") == 0) {
		n = code(argv, 2, 100000);
		begin(64 << 10, 0, 0, argv);
		prelude();
		for (i = 0; i < n; i++) {
			alloc(CALL_MALLOC, 0x100000 + 32 * (uint64_t)(i % 1000), 32, 0, 2, getpid());
			freeb(CALL_FREE, 0, 0x100000 + 32 * (uint64_t)(i % 1000), 0, 3, getpid());
		}
		end(EXIT_NORMAL, code(argv, 3, 0));
		return code(argv, 3, 0);
	}
	if (strcmp(argv[1], "forget") == 0) {
		/* N blocks at N addresses, each freed at once; then a use after free of the K-th from last */
		n = code(argv, 2, 100000);
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		for (i = 0; i < n; i++) {
			alloc(CALL_MALLOC, 0x100000 + 32 * (uint64_t)i, 32, 0, 2, getpid());
			freeb(CALL_FREE, 0, 0x100000 + 32 * (uint64_t)i, 0, 3, getpid());
		}
		heaperror(ERR_WRITE_AFTER_FREE, 0x100000 + 32 * (uint64_t)(n - 1 - code(argv, 3, 0)), 4,
		    "freed block modified");
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "mixed") == 0) {
		/* N blocks, a thousand alive at a time, each freed at a random point after */
		static uint64_t alive[1000];
		uint64_t x = 88172645463325252ull;
		size_t na = 0, j;

		n = code(argv, 2, 100000);
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		for (i = 0; i < n; i++) {
			if (na == 1000) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				j = (size_t)(x % na);
				freeb(CALL_FREE, 0, alive[j], 0, 3, getpid());
				alive[j] = alive[--na];
			}
			alive[na] = 0x100000 + 64 * (uint64_t)i;
			alloc(CALL_MALLOC, alive[na++], 48, 0, 2, getpid());
		}
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "wait") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		alloc(CALL_MALLOC, 0x1000, 10, 0, 2, getpid());
		if (argc < 3 || (fd = open(argv[2], O_WRONLY | O_CREAT, 0644)) < 0)
			die("wait: marker");
		close(fd);
		for (;;)
			pause();
	}
	if (strcmp(argv[1], "leaks") == 0 || strcmp(argv[1], "clean") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		if (strcmp(argv[1], "leaks") == 0)
			leaks(getpid());
		else
			clean(getpid());
		end(EXIT_NORMAL, code(argv, 2, 0));
		return code(argv, 2, 0);
	}
	if (strcmp(argv[1], "cutscan") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		alloc(CALL_MALLOC, 0x1000, 10, 0, 2, getpid());
		alloc(CALL_MALLOC, 0x2000, 20, 0, 2, getpid());
		scan(SCAN_EXIT, 0);
		arena(0x10000000, 1 << 20);
		live(0x1000, 10, CLASS_DEFINITE, "cut");
		raise(SIGKILL);
	}
	if (strcmp(argv[1], "forkscan") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		alloc(CALL_MALLOC, 0x1000, 10, 0, 2, getpid());
		if ((pid = fork()) < 0)
			die("fork");
		if (pid == 0) {
			ring_detach(&ring);
			begin(RING_DEFSIZE, 0, 1, argv);
			prelude();
			alloc(CALL_MALLOC, 0x8000, 8, 0, 3, getpid());
			scan(SCAN_EXIT, 0);
			live(0x1000, 10, CLASS_DEFINITE, "inherited");
			live(0x8000, 8, CLASS_DEFINITE, "child's");
			scanend(1, 1, 4096);
			end(EXIT_NORMAL, 0);
			_exit(0);
		}
		if (waitpid(pid, &st, 0) != pid)
			die("waitpid");
		scan(SCAN_EXIT, 0);
		live(0x1000, 10, CLASS_REACHABLE, "parent's");
		scanend(1, 1, 4096);
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "badscan") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		badscan(getpid());
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "kinds") == 0) {
		begin(RING_DEFSIZE, 0, 0, argv);
		for (i = 0; i < (int)(sizeof kindmsgs / sizeof kindmsgs[0]); i++)
			heaperror(kindof[i], 0x1000 + (uint64_t)i, 0, kindmsgs[i]);
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "live") == 0) {
		n = code(argv, 2, 1000);
		begin(RING_DEFSIZE, 0, 0, argv);
		prelude();
		for (i = 0; i < n; i++)
			alloc(CALL_MALLOC, 0x100000 + 64 * (uint64_t)i, 48, 0, 2, getpid());
		if (argc < 4 || strcmp(argv[3], "noscan") != 0) {
			scan(SCAN_EXIT, 0);
			arena(0x100000, 64 * (uint64_t)n);
			for (i = 0; i < n; i++)
				live(0x100000 + 64 * (uint64_t)i, 48, CLASS_DEFINITE, "lost");
			scanend(1, 1, 4096);
		}
		end(EXIT_NORMAL, 0);
		return 0;
	}
	if (strcmp(argv[1], "env") == 0) {
		static const char *const names[] = {
			"LD_PRELOAD", "POOLDBG_SESSION", "POOLDBG_FLAGS", "POOLDBG_DEPTH", "POOLDBG_FOLLOW",
		};
		char msg[4096];
		size_t len;
		const char *v;

		begin(RING_DEFSIZE, 0, 0, argv);
		len = 0;
		for (i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
			v = getenv(names[i]);
			len += (size_t)snprintf(msg + len, sizeof msg - len, "%s=%s\n", names[i],
			    v != NULL ? v : "(unset)");
			if (len >= sizeof msg)
				die("env: too long");
		}
		heaperror(ERR_CORRUPTION, 0, 0, msg);
		end(EXIT_NORMAL, 0);
		return 0;
	}
	die("unknown scenario");
}
