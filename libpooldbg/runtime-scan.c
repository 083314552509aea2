/*
 * libpooldbg/runtime-scan.c -- the reachability scan: every allocated
 * block of the default pool classified as memcheck classifies it, inside
 * the traced process, and written to the ring as REC_SCAN, REC_ARENA...,
 * REC_LIVE..., REC_SCANEND.
 *
 * The caller holds the ring lock, then the pool lock (that order: the
 * ring lock is held around poolrealloc).  The scan:
 *
 *  1. maps one work area with room for as many blocks as the arenas
 *     could hold (reserved, not committed: only what is filled costs
 *     memory), and walks the pool (pool-walk.c) once to fill it: each
 *     block's user pointer (the pool's pointer, past any ALIGN_MAGIC
 *     words, plus malloc.c's two tag words), user size, and pool block,
 *     in address order, so a word is looked up with a range test, a
 *     bucket of the range (below) and a binary search among the few
 *     blocks it spans; the records of step 5 come from the work area,
 *     not from another walk;
 *  2. stops every other thread (runtime-stop.c);
 *  3. reads /proc/self/maps and scans the roots (below), word by aligned
 *     word, then the blocks reached, through an explicit mark stack;
 *  4. gathers the unreached blocks into cliques;
 *  5. writes the records, lets the threads go, and writes REC_SCANEND.
 *
 * Marking follows memcheck's leak checker.  From a root, a word equal to
 * a block's user pointer makes it REACHABLE; a word inside [ptr,
 * ptr+size) but not at ptr makes an unreached block POSSIBLE.  A block's
 * contents are scanned once it is reached; a POSSIBLE block's words can
 * only make unreached blocks POSSIBLE, a REACHABLE block's start pointers
 * make blocks REACHABLE, upgrading POSSIBLE ones (which are then scanned
 * again).  A zero-size block is reached only by a word equal to its
 * pointer.  Then, for each block still unreached, in address order: it
 * leads a clique, and every unreached block its words reach (start or
 * interior pointer, transitively) becomes INDIRECT -- a block that led an
 * earlier clique too; the leaders left are DEFINITE.  So a lost cycle has
 * one definite block (the lowest), a lost list one definite head.  A block
 * is on the mark stack at most once at a time (a pending bit), so the
 * stack is sized for every block in the work area up front and never
 * grows in the middle of a scan.
 *
 * Roots: the blocks the dynamic linker allocated (their malloc tag, the
 * allocating caller, lies in ld.so), marked REACHABLE before anything is
 * read.  The loader reaches its own blocks through pointers into their
 * middle -- a thread's control block points one entry past the start of
 * its DTV, dl_find_object keeps an aligned pointer and the start inside
 * the block -- and the DTVs hold the threads' dynamic TLS blocks, whose
 * variables are roots as much as static TLS is.  (LeakSanitizer treats
 * ld.so's allocations the same way, for the same reason.)  Then every
 * readable, writable, private mapping of /proc/self/maps,
 * except character and block devices (/dev/zero aside: it is plain
 * memory, as memcheck has it), the pool's arenas, and the runtime's
 * own memory: the work area, the maps buffer, the stack trie, and the
 * writable segments of libpooldbg-malloc.so and of the privately loaded
 * libunwind (their pending events, slots and caches hold copies of heap
 * pointers that say nothing of the program).  Shared mappings are no
 * roots (memcheck reads them): what another process may have written
 * there says nothing of this one, and the ring is one of them.  A mapping holding a thread's
 * stack is read from that thread's stack pointer up only: for a stopped
 * thread the sp inside its stop handler (the signal frame with the saved
 * registers is above it) and the interrupted sp less the 128-byte red
 * zone; for the scanning thread its own frame, after
 * __builtin_unwind_init has spilled the callee-saved registers into the
 * frame above.  A thread that did not stop has its stack read whole.
 * Thread control blocks and static TLS lie at the top of glibc's thread
 * stacks; the main thread's are allocated by ld.so (its own data or an
 * anonymous mapping of its minimal malloc, before the program's malloc
 * exists), and dynamic TLS and the DTV are heap blocks reached from
 * there: all of it is covered by the rules above.  Pages neither present
 * nor swapped (per /proc/self/pagemap) hold nothing and are skipped; a
 * page that faults anyway (a file mapping past the end of its file, a
 * mapping an unstopped thread removed) is skipped through a SIGSEGV and
 * SIGBUS catcher set for the root reads alone.
 *
 * Must never: allocate from the pool (its lock is held) or anywhere but
 * mmap, use stdio or the locale, take a lock of the C library or the
 * loader (no dl_iterate_phdr, no getenv), or leave a thread stopped.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pooldbg/pool.h>
#define POOLDBG_NO_PLAN9_NAMES
#include <pooldbg/malloc.h>

#include "runtime.h"

enum {
	TAGBYTES	= 2 * sizeof(uintptr_t),	/* malloc.c's tag words before the user pointer */
	WORD		= sizeof(uintptr_t),
	PENDING		= 0x80,		/* Work.state: on the mark stack */
	NOTAG		= 0x40,		/* Work.state: too small for malloc.c's tags */
	UNREACHED	= 0,		/* Work.state before the cliques; else a CLASS_* */
	MAXEXTRA	= 16,		/* excluded ranges besides the arenas */
	MAXPOINTS	= 2 * 4096 + 8,	/* stack points */
	MAPSINIT	= 64 << 10,
	PMBATCH		= 512,		/* pagemap entries read at once */
	BIGMAP		= 64,		/* pages: a mapping this big is read through pagemap */
	PREVIEW		= 32,
	BUCKETS		= 4,		/* buckets of the lookup index per block, at most */
	MINSHIFT	= 12,		/* a bucket is 4 KiB of address space or more */
};

typedef struct Range Range;
struct Range {
	uintptr_t lo, hi;
};

/* The scan's state; one scan at a time (the ring lock is held). */
typedef struct Work Work;
struct Work {
	void	*area;		/* one mapping for all the arrays below */
	size_t	arealen;
	size_t	n;		/* blocks */
	uintptr_t *ptr;		/* user pointers, ascending */
	uintptr_t *size;	/* user sizes */
	uintptr_t *block;	/* pool blocks (their headers) */
	uintptr_t *bsize;	/* their whole sizes */
	uint8_t	*state;		/* UNREACHED or CLASS_*, | PENDING, | NOTAG */
	uint32_t *stack;	/* the mark stack, room for cap */
	size_t	top;
	uintptr_t lo, hi;	/* every user range lies in [lo, hi) */
	uint32_t *first;	/* per bucket of [lo, hi): the blocks that start below it */
	size_t	nbucket;	/* buckets, and one more (the end) */
	unsigned shift;		/* a bucket is 1 << shift bytes */
	uintptr_t ldlo, ldhi;	/* the dynamic linker's text: its blocks are roots */
	Range	*excl;		/* excluded from the roots: arenas, then the extra ranges; sorted */
	size_t	nexcl, narenas, capexcl;
	size_t	cap;		/* blocks the work area has room for */
	uintptr_t heapbytes;	/* the arenas' sizes, summed */
	size_t	fill;		/* blocks filled by the walk */
	char	*maps;		/* /proc/self/maps */
	size_t	mapslen, mapscap;
	int	pagemap;	/* /proc/self/pagemap, or -1 */
	uint64_t roots;		/* bytes of root memory read */
	uintptr_t points[MAXPOINTS];	/* stack points: a mapping holding one is read from it up */
	int	npoints;
};

static Work w;

/* ---- the blocks ---------------------------------------------------------- */

static inline void	push(size_t i);

static int
countarena(void *arg, uintptr_t base, uintptr_t size)
{
	(void)arg;
	(void)base;
	w.narenas++;
	w.heapbytes += size;
	return 0;
}

static int
countblock(void *arg, const PoolWalkBlock *b)
{
	(void)arg;
	(void)b;
	w.n++;
	return 0;
}

static int
fillarena(void *arg, uintptr_t base, uintptr_t size)
{
	(void)arg;
	if (w.nexcl >= w.narenas)
		return 1;
	w.excl[w.nexcl].lo = base;
	w.excl[w.nexcl].hi = base + size;
	w.nexcl++;
	return 0;
}

/* The user pointer and size of a malloc.c block whose pool pointer is b->ptr. */
static void
userof(const PoolWalkBlock *b, uintptr_t *ptr, uintptr_t *size)
{
	*ptr = b->ptr + TAGBYTES;
	*size = b->dsize >= TAGBYTES ? b->dsize - TAGBYTES : 0;
}

static int
fillblock(void *arg, const PoolWalkBlock *b)
{
	uintptr_t tag;

	(void)arg;
	if (w.fill >= w.cap)
		return 1;
	userof(b, &w.ptr[w.fill], &w.size[w.fill]);
	w.block[w.fill] = b->block;
	w.bsize[w.fill] = b->bsize;
	w.state[w.fill] = UNREACHED;
	if (b->dsize < TAGBYTES)
		w.state[w.fill] = NOTAG;
	else {
		tag = ((const uintptr_t *)w.ptr[w.fill])[-2];
		if ((tag >= w.ldlo && tag < w.ldhi) ||
		    (live_marked((const void *)w.ptr[w.fill]) && (tag & LIVE_LOADER))) {
			/* the dynamic linker's: a root (see the top of the file) */
			w.state[w.fill] = CLASS_REACHABLE;
			push(w.fill);
		}
	}
	w.fill++;
	return 0;
}

static size_t
roundpage(size_t n)
{
	size_t pg;

	pg = (size_t)getpagesize();
	return (n + pg - 1) & ~(pg - 1);
}

/*
 * The lookup index: [lo, hi) cut into buckets of 1 << shift bytes, the
 * smallest power of two from 4 KiB up that makes no more than BUCKETS per
 * block (a sparse heap gets coarse buckets, never a big index); first[k]
 * is the number of blocks that start below bucket k.  A word's block is
 * then the last one starting at or below it among those that start in its
 * bucket, or the one before them.
 */
static void
mkindex(void)
{
	size_t i, k;
	uintptr_t span;

	span = w.hi - w.lo;
	for (w.shift = MINSHIFT; (span >> w.shift) > BUCKETS * w.n; w.shift++)
		;
	w.nbucket = (span >> w.shift) + 2;
	for (i = 0, k = 0; k < w.nbucket; k++) {
		while (i < w.n && (w.ptr[i] - w.lo) >> w.shift < k)
			i++;
		w.first[k] = (uint32_t)i;
	}
}

/* Map the work area with room for cap blocks: 0, or -1. */
static int
maparea(size_t cap)
{
	size_t len, off;
	char *a;

	if (cap > UINT32_MAX / (BUCKETS + 1))
		return -1;	/* the mark stack and the index hold 32-bit numbers */
	len = cap * (4 * sizeof(uintptr_t) + sizeof(uint32_t) + 1) + w.capexcl * sizeof(Range) +
	    (BUCKETS * cap + 2) * sizeof(uint32_t) + 64;
	len = roundpage(len);
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	    -1, 0);
	if (a == MAP_FAILED)
		return -1;
	w.area = a;
	w.arealen = len;
	w.cap = cap;
	off = 0;
	w.ptr = (uintptr_t *)(a + off);
	off += cap * sizeof(uintptr_t);
	w.size = (uintptr_t *)(a + off);
	off += cap * sizeof(uintptr_t);
	w.block = (uintptr_t *)(a + off);
	off += cap * sizeof(uintptr_t);
	w.bsize = (uintptr_t *)(a + off);
	off += cap * sizeof(uintptr_t);
	w.excl = (Range *)(a + off);
	off += w.capexcl * sizeof(Range);
	w.stack = (uint32_t *)(a + off);
	off += cap * sizeof(uint32_t);
	w.first = (uint32_t *)(a + off);
	off += (BUCKETS * cap + 2) * sizeof(uint32_t);
	w.state = (uint8_t *)(a + off);
	return 0;
}

/*
 * Map the work area and fill it.  Pool locked.  0, or -1 (damaged pool,
 * no memory).  The arenas bound the number of blocks; where even the
 * reservation of that many is refused (a strict overcommit policy, an
 * address-space limit), the blocks are counted first and just enough is
 * mapped.
 */
static int
collect(void)
{
	w.n = w.narenas = 0;
	w.heapbytes = 0;
	if (poolwalkl(pooldbg_mainmem, countarena, NULL, NULL) != 0)
		return -1;
	w.capexcl = w.narenas + MAXEXTRA;
	if (maparea(w.heapbytes / POOLWALK_MINBLOCK) < 0) {
		if (poolwalkl(pooldbg_mainmem, NULL, countblock, NULL) != 0 || maparea(w.n) < 0)
			return -1;
	}
	w.top = w.fill = w.nexcl = 0;
	if (poolwalkl(pooldbg_mainmem, fillarena, fillblock, NULL) != 0 || w.nexcl != w.narenas)
		return -1;
	w.n = w.fill;
	w.lo = w.n > 0 ? w.ptr[0] : 0;
	w.hi = w.n > 0 ? w.ptr[w.n - 1] + (w.size[w.n - 1] > 0 ? w.size[w.n - 1] : 1) : 0;
	mkindex();
	return 0;
}

/* The block whose user range holds a, or -1. */
static inline ssize_t
lookup(uintptr_t a)
{
	size_t l, h, m, k;

	if (a < w.lo || a >= w.hi)
		return -1;
	k = (a - w.lo) >> w.shift;
	/* the answer is in [l, h): ptr[l] <= a, and every block from h on starts above a */
	l = w.first[k] > 0 ? w.first[k] - 1 : 0;
	h = w.first[k + 1] > l ? w.first[k + 1] : l + 1;
	while (h - l > 1) {
		m = l + (h - l) / 2;
		if (w.ptr[m] <= a)
			l = m;
		else
			h = m;
	}
	if (a - w.ptr[l] < (w.size[l] > 0 ? w.size[l] : 1))
		return (ssize_t)l;
	return -1;
}

static inline void
push(size_t i)
{
	if (!(w.state[i] & PENDING)) {
		w.state[i] |= PENDING;
		w.stack[w.top++] = (uint32_t)i;
	}
}

static inline void
setstate(size_t i, uint8_t s)
{
	w.state[i] = (uint8_t)((w.state[i] & (PENDING | NOTAG)) | s);
}

#define STATE(i)	(w.state[i] & ~(PENDING | NOTAG))

/* A word found in a root (definite 1) or in a reached block. */
static inline void
markword(uintptr_t a, int definite)
{
	ssize_t i;

	if ((i = lookup(a)) < 0 || STATE(i) == CLASS_REACHABLE)
		return;
	if (a == w.ptr[i] && definite) {
		setstate((size_t)i, CLASS_REACHABLE);
		push((size_t)i);
	} else if (STATE(i) == UNREACHED) {
		setstate((size_t)i, CLASS_POSSIBLE);
		push((size_t)i);
	}
}

/* A word found in a block of the clique led by block leader. */
static inline void
cliqueword(uintptr_t a, size_t leader)
{
	ssize_t i;

	if ((i = lookup(a)) < 0 || (size_t)i == leader || STATE(i) != UNREACHED)
		return;
	setstate((size_t)i, CLASS_INDIRECT);
	push((size_t)i);
}

/* Every aligned word of [lo, hi), readable memory. */
static void
scanwords(uintptr_t lo, uintptr_t hi, int definite, ssize_t leader)
{
	const uintptr_t *p, *e;

	p = (const uintptr_t *)((lo + WORD - 1) & ~(uintptr_t)(WORD - 1));
	e = (const uintptr_t *)(hi & ~(uintptr_t)(WORD - 1));
	if (leader < 0) {
		for (; p < e; p++)
			if (*p >= w.lo && *p < w.hi)
				markword(*p, definite);
	} else {
		for (; p < e; p++)
			if (*p >= w.lo && *p < w.hi)
				cliqueword(*p, (size_t)leader);
	}
}

/* Scan the blocks on the mark stack until it is empty. */
static void
drain(ssize_t leader)
{
	size_t i;

	while (w.top > 0) {
		i = w.stack[--w.top];
		w.state[i] &= ~PENDING;
		scanwords(w.ptr[i], w.ptr[i] + w.size[i], STATE(i) != CLASS_POSSIBLE, leader);
	}
}

/* ---- the roots ----------------------------------------------------------- */

static sigjmp_buf faultjb;
static volatile uintptr_t faultaddr;
static __thread volatile int catching RT_TLS;	/* this thread is reading a root */
static struct sigaction oldsegv, oldbus;	/* the actions onfault stands in for */

static void
onfault(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old;

	if (catching) {
		faultaddr = (uintptr_t)si->si_addr;
		siglongjmp(faultjb, 1);
	}
	/* another thread's fault (one the scan did not stop): what would have run */
	old = sig == SIGSEGV ? &oldsegv : &oldbus;
	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL)
		old->sa_sigaction(sig, si, uc);
	else if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL &&
	    old->sa_handler != SIG_IGN)
		old->sa_handler(sig);
	else
		signal(sig, SIG_DFL);	/* fault again, for real */
}

/* Whether the page at a is worth reading: present or swapped (1), or untouched (0). */
static int
pagelive(uintptr_t a, uintptr_t pg, uint64_t *buf, uintptr_t *bufpage, size_t *bufn)
{
	uintptr_t page;
	ssize_t r;

	page = a / pg;
	if (*bufn == 0 || page < *bufpage || page >= *bufpage + *bufn) {
		r = pread(w.pagemap, buf, PMBATCH * sizeof *buf, (off_t)(page * sizeof *buf));
		if (r < (ssize_t)sizeof *buf) {
			*bufn = 0;
			return 1;
		}
		*bufpage = page;
		*bufn = (size_t)r / sizeof *buf;
	}
	return buf[page - *bufpage] >> 62 != 0;	/* bit 63 present, bit 62 swapped */
}

/* Read [lo, hi) as a root: page by page, skipping untouched and faulting pages. */
static void
scanroot(uintptr_t lo, uintptr_t hi)
{
	static uint64_t pm[PMBATCH];
	static uintptr_t pmpage;
	static size_t pmn;
	volatile uintptr_t a;
	uintptr_t pg, e;
	int big;

	pg = (uintptr_t)getpagesize();
	big = w.pagemap >= 0 && hi - lo >= BIGMAP * pg;
	pmn = 0;
	a = lo;
	if (sigsetjmp(faultjb, 1) != 0) {
		catching = 0;
		a = (faultaddr > a ? faultaddr : a) / pg * pg + pg;
	}
	while (a < hi) {
		e = (a / pg + 1) * pg;
		if (e > hi)
			e = hi;
		if (!big || pagelive(a, pg, pm, &pmpage, &pmn)) {
			catching = 1;
			scanwords(a, e, 1, -1);
			catching = 0;
			w.roots += e - a;
		}
		a = e;
	}
}

/* Add the excluded range [lo, hi) to the sorted table. */
static void
exclude(uintptr_t lo, uintptr_t hi)
{
	size_t i;

	if (lo >= hi || w.nexcl >= w.capexcl)
		return;
	for (i = w.nexcl; i > 0 && w.excl[i - 1].lo > lo; i--)
		w.excl[i] = w.excl[i - 1];
	w.excl[i].lo = lo;
	w.excl[i].hi = hi;
	w.nexcl++;
}

/* Scan [lo, hi) less the excluded ranges. */
static void
scanminus(uintptr_t lo, uintptr_t hi)
{
	size_t i;

	for (i = 0; i < w.nexcl && lo < hi; i++) {
		if (w.excl[i].hi <= lo)
			continue;
		if (w.excl[i].lo >= hi)
			break;
		if (w.excl[i].lo > lo)
			scanroot(lo, w.excl[i].lo);
		if (w.excl[i].hi > lo)
			lo = w.excl[i].hi;
	}
	if (lo < hi)
		scanroot(lo, hi);
}

/* Read /proc/self/maps whole into w.maps (mmap'd, made bigger until it fits).  0 or -1. */
static int
readmaps(void)
{
	ssize_t r;
	size_t cap;
	void *v;
	int fd;

	for (cap = MAPSINIT;; cap *= 2) {
		v = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (v == MAP_FAILED)
			return -1;
		w.maps = v;
		w.mapscap = cap;
		w.mapslen = 0;
		if ((fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
		while (w.mapslen < cap - 1 && (r = read(fd, w.maps + w.mapslen, cap - 1 - w.mapslen)) > 0)
			w.mapslen += (size_t)r;
		close(fd);
		if (w.mapslen < cap - 1)
			break;
		munmap(w.maps, cap);	/* may not be whole: read it again, bigger */
		w.maps = NULL;
	}
	w.maps[w.mapslen] = '\0';
	return 0;
}

static uintptr_t
hexnum(const char **sp)
{
	const char *s;
	uintptr_t v;
	int d;

	for (s = *sp, v = 0;; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			break;
		v = v << 4 | (uintptr_t)d;
	}
	*sp = s;
	return v;
}

/*
 * Whether the mapped file [path, eol) is a device whose memory is not to
 * be read (reading may hang, fault or act on the device): a character or
 * block device other than /dev/zero, which is plain memory -- as memcheck
 * has it.  A file under /dev that is no device (/dev/shm) is memory too.
 */
static int
isdevice(const char *path, const char *eol)
{
	static char name[PATH_MAX];
	struct stat sb;
	size_t n;

	n = (size_t)(eol - path);
	if (n < 5 || memcmp(path, "/dev/", 5) != 0 || n >= sizeof name)
		return 0;
	if (n == 9 && memcmp(path, "/dev/zero", 9) == 0)
		return 0;
	memcpy(name, path, n);
	name[n] = '\0';
	if (stat(name, &sb) < 0)
		return 0;	/* gone (a deleted file): read it, the fault catcher stands by */
	return S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode);
}

/* Scan one line of the maps, if it is a root. */
static void
mapline(const char *s, const char *eol)
{
	uintptr_t lo, hi, from;
	const char *perm, *path;
	int i, f;

	lo = hexnum(&s);
	if (*s++ != '-')
		return;
	hi = hexnum(&s);
	if (*s++ != ' ' || eol - s < 4)
		return;
	perm = s;
	if (perm[0] != 'r' || perm[1] != 'w' || perm[3] != 'p')
		return;		/* not readable and writable, or shared */
	/* the path: after the fourth run of blanks from perm (offset, device, inode) */
	for (path = s, f = 0; path < eol && f < 4; path++) {
		if (*path == ' ') {
			while (path + 1 < eol && path[1] == ' ')
				path++;
			f++;
		}
	}
	if (isdevice(path, eol))
		return;
	/* a thread's stack: from its lowest stack point up */
	from = hi;
	for (i = 0; i < w.npoints; i++)
		if (w.points[i] >= lo && w.points[i] < hi && w.points[i] < from)
			from = w.points[i];
	if (from == hi)
		from = lo;
	from &= ~(uintptr_t)(WORD - 1);
	scanminus(from < lo ? lo : from, hi);
}

/* Stack points inside blocks of the heap: root memory from the point to the block's end. */
static void
heappoints(void)
{
	ssize_t b;
	int i;

	for (i = 0; i < w.npoints; i++)
		if ((b = lookup(w.points[i])) >= 0)
			scanroot(w.points[i], w.ptr[b] + w.size[b]);
}

/* Scan every root; the threads are stopped. */
static void
scanroots(void)
{
	struct sigaction sa;
	sigset_t faults, oldmask;
	const char *s, *eol;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onfault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &oldsegv);
	sigaction(SIGBUS, &sa, &oldbus);
	/* inside the handler of a fault, that fault is blocked: a second one would kill */
	sigemptyset(&faults);
	sigaddset(&faults, SIGSEGV);
	sigaddset(&faults, SIGBUS);
	pthread_sigmask(SIG_UNBLOCK, &faults, &oldmask);
	w.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (s = w.maps; *s != '\0'; s = *eol != '\0' ? eol + 1 : eol) {
		if ((eol = strchr(s, '\n')) == NULL)
			eol = s + strlen(s);
		mapline(s, eol);
	}
	heappoints();
	if (w.pagemap >= 0)
		close(w.pagemap);
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	sigaction(SIGSEGV, &oldsegv, NULL);
	sigaction(SIGBUS, &oldbus, NULL);
}

/* ---- the records --------------------------------------------------------- */

typedef struct Emit Emit;
struct Emit {
	uint64_t blocks[5], bytes[5];	/* of the blocks emitted */
	int	ownonly;	/* emit only the blocks the live table knows (live_knowsown) */
};

static int
emitarena(void *arg, uintptr_t base, uintptr_t size)
{
	RecArena a;

	(void)arg;
	memset(&a, 0, sizeof a);
	a.h.type = REC_ARENA;
	a.h.len = sizeof a;
	a.base = base;
	a.size = size;
	rt_putl(&a, sizeof a);
	return 0;
}

/* Block i's REC_LIVE. */
static void
emitblock(Emit *e, size_t i)
{
	uintptr_t ptr, size;
	RecLive l;
	unsigned cls;
	int tagged;

	ptr = w.ptr[i];
	size = w.size[i];
	tagged = !(w.state[i] & NOTAG);
	cls = STATE(i);
	if (cls == UNREACHED || cls > CLASS_DEFINITE)
		cls = CLASS_DEFINITE;
	memset(&l, 0, sizeof l);
	l.h.type = REC_LIVE;
	l.h.len = sizeof l;
	l.ptr = ptr;
	l.size = size;
	l.block = w.block[i];
	l.bsize = w.bsize[i];
	l.tag = tagged ? ((const uintptr_t *)ptr)[-2] : 0;
	if (tagged && live_marked((const void *)ptr))
		l.tag = 0;	/* leaks mode's marks: the recorder takes the stack's innermost pc */
	l.cls = (uint8_t)cls;
	l.previewlen = (uint8_t)(size < PREVIEW ? size : PREVIEW);
	memcpy(l.preview, (const void *)ptr, l.previewlen);
	if (live_on && (tagged || !live_leaks)) {
		unsigned call;

		if (live_get(ptr, &l.stack, &call, &l.seq)) {
			l.call = (uint16_t)call;
			l.flags = LIVEF_KNOWN;
		}
	}
	if (!(l.flags & LIVEF_KNOWN) && e->ownonly)
		return;	/* a fork parent's: its scans have it (the recorder would drop it) */
	rt_putl(&l, sizeof l);
	e->blocks[cls]++;
	e->bytes[cls] += size;
}

/* ---- the scan ------------------------------------------------------------ */

static void
addpoint(uintptr_t p)
{
	if (p != 0 && w.npoints < MAXPOINTS)
		w.points[w.npoints++] = p;
}

/*
 * The scan itself, below the frame of scan_runl: the words of this frame
 * and of every frame it calls are not roots (they hold the scan's own
 * pointers into blocks); scan_runl's frame, with the spilled registers,
 * and every frame above it are.
 */
static __attribute__((noinline)) int
scanwork(unsigned why, uint32_t snapshot, uintptr_t isp)
{
	uintptr_t lsp, tsp;
	RecScanEnd end;
	RecScan sc;
	StopSet ss;
	Emit em;
	size_t i;
	int k, ok;

	memset(&w, 0, sizeof w);
	w.pagemap = -1;
	if (unwind_loader(&w.ldlo, &w.ldhi) < 0)
		w.ldlo = w.ldhi = 0;
	if (collect() < 0) {
		if (w.area != NULL)
			munmap(w.area, w.arealen);
		return -1;
	}
	addpoint((uintptr_t)__builtin_frame_address(0));
	addpoint(isp);
	stop_others(&ss);
	for (k = 0; stop_thread(k, &lsp, &tsp) == 0; k++) {
		addpoint(lsp);
		addpoint(tsp);
	}
	ok = readmaps() == 0;

	memset(&sc, 0, sizeof sc);
	sc.h.type = REC_SCAN;
	sc.h.len = sizeof sc;
	sc.time = rt_now();
	sc.why = why;
	sc.snapshot = snapshot;
	sc.tid = rt_gettid();

	if (ok) {
		exclude((uintptr_t)w.area, (uintptr_t)w.area + w.arealen);
		exclude((uintptr_t)w.maps, (uintptr_t)w.maps + w.mapscap);
		if (rt_trierangel(&lsp, &tsp) == 0)
			exclude(lsp, tsp);
		for (k = 0; unwind_private(k, &lsp, &tsp) == 0; k++)
			exclude(lsp, tsp);
		scanroots();
		drain(-1);
		for (i = 0; i < w.n; i++) {
			if (STATE(i) != UNREACHED)
				continue;
			push(i);
			drain((ssize_t)i);
		}
	}
	/* unreached leaders are DEFINITE (emitblock); without the maps, every block is */

	rt_putl(&sc, sizeof sc);
	memset(&em, 0, sizeof em);
	em.ownonly = live_knowsown();
	(void)poolwalkl(pooldbg_mainmem, emitarena, NULL, NULL);
	for (i = 0; i < w.n; i++)
		emitblock(&em, i);
	stop_release(&ss);

	memset(&end, 0, sizeof end);
	end.h.type = REC_SCANEND;
	end.h.len = sizeof end;
	end.time = rt_now();
	end.roots = w.roots;
	end.threads = (uint32_t)ss.threads;
	end.stopped = (uint32_t)ss.stopped;
	memcpy(end.blocks, em.blocks, sizeof end.blocks);
	memcpy(end.bytes, em.bytes, sizeof end.bytes);
	rt_putl(&end, sizeof end);

	if (w.maps != NULL)
		munmap(w.maps, w.mapscap);
	munmap(w.area, w.arealen);
	return 0;
}

/*
 * Scan now (see the top of the file) and write the scan's records: why
 * is SCAN_EXIT or SCAN_SNAPSHOT, snapshot its number (0 at exit), isp the
 * stack pointer this thread was interrupted at when the scan runs in a
 * signal handler (0 otherwise).  The ring lock, then the pool lock, are
 * held by the caller, who owns the ring.  Returns 0, or -1 when the scan
 * could not be made (a damaged pool, no memory for the work area): then
 * nothing was written.
 */
int
scan_runl(unsigned why, uint32_t snapshot, uintptr_t isp)
{
	int r;

	__builtin_unwind_init();	/* callee-saved registers into this frame: roots */
	r = scanwork(why, snapshot, isp);
	__asm__ volatile("" ::: "memory");	/* no tail call: this frame must stay */
	return r;
}
