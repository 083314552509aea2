/*
 * tests/testpool.c -- the test Pool fixture (see testpool.h).
 *
 * Owns the callback trampolines (alloc, merge and move receive no Pool, so
 * each live test pool gets a slot and the slot's functions find it), the
 * arena sources, and the recording callbacks.  Never allocates from the
 * pool under test nor from malloc: the fixture itself lives in its own
 * mapping, and text is formatted into fixed buffers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "testpool.h"

enum { TP_MAXSLOTS = 16 };

static TestPool *slots[TP_MAXSLOTS];
static pthread_mutex_t slotlock = PTHREAD_MUTEX_INITIALIZER;

static size_t
pagesize(void)
{
	long n = sysconf(_SC_PAGESIZE);

	return n > 0 ? (size_t)n : 4096;
}

static void *
tp_alloc(TestPool *tp, size_t n)
{
	struct TestChunk *c;
	size_t start, pg, len;
	char *a;

	tp->nalloc++;
	tp->alloclast = n;
	if (n < tp->allocmin)
		tp->allocmin = n;
	if (tp->allocfail == 0)
		return NULL;
	if (tp->allocfail > 0)
		tp->allocfail--;
	if (tp->source == TP_REGION) {
		start = (tp->regionused + 15) & ~(size_t)15;
		if (tp->nchunks > 0)
			start += tp->gap;
		if (start > tp->regionsize || n > tp->regionsize - start)
			return NULL;
		a = tp->region + start;
		tp->regionused = start + n;
		len = 0;
	} else {
		pg = pagesize();
		if (n > SIZE_MAX / 2)
			return NULL;
		len = ((n + pg - 1) & ~(pg - 1)) + pg;
		a = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (a == MAP_FAILED)
			return NULL;
		if (mprotect(a + len - pg, pg, PROT_NONE) != 0) {
			munmap(a, len);
			return NULL;
		}
	}
	if (tp->nchunks < TP_MAXCHUNKS) {
		c = &tp->chunks[tp->nchunks++];
		c->start = a;
		c->size = n;
		c->maplen = len;
	} else
		tp->chunklost = 1;
	tp->nallocok++;
	tp->allocbytes += n;
	return a;
}

static int
findchunk(const TestPool *tp, const void *start)
{
	int i;

	for (i = 0; i < tp->nchunks; i++)
		if (tp->chunks[i].start == start)
			return i;
	return -1;
}

static int
tp_merge(TestPool *tp, void *lower, void *upper)
{
	int i, j;

	tp->nmerge++;
	i = findchunk(tp, lower);
	j = findchunk(tp, upper);
	if (i < 0 || j < 0 || tp->chunks[i].start + tp->chunks[i].size != (char *)upper) {
		tp->nmergebad++;
		return 0;
	}
	if (!tp->mergeok)
		return 0;
	tp->chunks[i].size += tp->chunks[j].size;
	tp->chunks[i].maplen += tp->chunks[j].maplen;
	memmove(&tp->chunks[j], &tp->chunks[j + 1],
	    (tp->nchunks - j - 1) * sizeof tp->chunks[0]);
	tp->nchunks--;
	tp->nmerged++;
	return 1;
}

static void
tp_domove(TestPool *tp, void *from, void *to)
{
	tp->nmove++;
	if (tp->onmove != NULL)
		tp->onmove(tp, from, to);
}

/* alloc, merge and move carry no Pool: one set of functions per slot. */
#define SLOT(i)								\
static void *alloc##i(size_t n) { return tp_alloc(slots[i], n); }	\
static int merge##i(void *a, void *b) { return tp_merge(slots[i], a, b); } \
static void move##i(void *f, void *t) { tp_domove(slots[i], f, t); }
SLOT(0) SLOT(1) SLOT(2) SLOT(3) SLOT(4) SLOT(5) SLOT(6) SLOT(7)
SLOT(8) SLOT(9) SLOT(10) SLOT(11) SLOT(12) SLOT(13) SLOT(14) SLOT(15)
#undef SLOT

#define FNS(f)	{ f##0, f##1, f##2, f##3, f##4, f##5, f##6, f##7, \
		  f##8, f##9, f##10, f##11, f##12, f##13, f##14, f##15 }
static void *(*const allocfns[TP_MAXSLOTS])(size_t) = FNS(alloc);
static int (*const mergefns[TP_MAXSLOTS])(void *, void *) = FNS(merge);
static void (*const movefns[TP_MAXSLOTS])(void *, void *) = FNS(move);
#undef FNS

static TestPool *
poolof(Pool *p)
{
	return p->private;
}

static void
echo(const char *s, size_t n)
{
	if (write(2, s, n) < 0)
		return;
}

static void tp_print(Pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
tp_print(Pool *p, const char *fmt, ...)
{
	TestPool *tp = poolof(p);
	char buf[4096];
	va_list ap;
	int n, i;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof buf)
		n = sizeof buf - 1;
	for (i = 0; i < n; i++)
		if (buf[i] == '\n')
			tp->nlines++;
	if (tp->echo)
		echo(buf, n);
	if (tp->printlen + n >= sizeof tp->printbuf) {
		tp->printlost = 1;
		return;
	}
	memcpy(tp->printbuf + tp->printlen, buf, n);
	tp->printlen += n;
	tp->printbuf[tp->printlen] = '\0';
}

static void tp_panic(Pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
tp_panic(Pool *p, const char *fmt, ...)
{
	TestPool *tp = poolof(p);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tp->panicmsg, sizeof tp->panicmsg, fmt, ap);
	va_end(ap);
	tp->npanic++;
	tp->panicnlines = tp->nlines;
	tp->paniclocked = tp->depth > 0;
	if (tp->depth > 0) {
		/* the pool will never unlock: let go of the mutex for it */
		tp->depth = 0;
		if (tp->usemutex)
			pthread_mutex_unlock(&tp->mu);
	}
	if (tp->echo) {
		echo("panic: ", 7);
		echo(tp->panicmsg, strlen(tp->panicmsg));
	}
	if (tp->panicjmp != NULL)
		siglongjmp(*tp->panicjmp, 1);
	tap_bail("unexpected panic of pool %s: %s", p->name, tp->panicmsg);
}

static void
tp_lock(Pool *p)
{
	TestPool *tp = poolof(p);

	if (tp->usemutex && pthread_mutex_lock(&tp->mu) != 0)
		tp->lockerr++;
	tp->nlock++;
	if (++tp->depth > tp->maxdepth)
		tp->maxdepth = tp->depth;
}

static void
tp_unlock(Pool *p)
{
	TestPool *tp = poolof(p);

	tp->nunlock++;
	if (--tp->depth < 0) {
		tp->lockerr++;
		tp->depth = 0;
	}
	if (tp->usemutex && pthread_mutex_unlock(&tp->mu) != 0)
		tp->lockerr++;
}

static void
tp_logstack(Pool *p)
{
	TestPool *tp = poolof(p);

	tp->nlogstack++;
	tp->logstacknlines = tp->nlines;
}

/* See testpool.h.  Bails out when out of slots or memory. */
TestPool *
tp_new(const char *tag, int source, int flags)
{
	pthread_mutexattr_t ma;
	TestPool *tp;
	const char *e;
	char *r;
	int i;

	tp = mmap(NULL, sizeof *tp, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tp == MAP_FAILED)
		tap_bail("tp_new: mmap: %s", strerror(errno));
	pthread_mutex_lock(&slotlock);
	for (i = 0; i < TP_MAXSLOTS; i++)
		if (slots[i] == NULL)
			break;
	if (i == TP_MAXSLOTS) {
		pthread_mutex_unlock(&slotlock);
		tap_bail("tp_new: more than %d test pools alive", TP_MAXSLOTS);
	}
	slots[i] = tp;
	pthread_mutex_unlock(&slotlock);

	tp->slot = i;
	tp->source = source;
	snprintf(tp->name, sizeof tp->name, "tp%d-%s", i, tag);
	if (source == TP_REGION) {
		/* aligned to TP_REGIONALIGN so that runs do not depend on where it lands */
		tp->regionsize = TP_REGIONSIZE;
		r = mmap(NULL, tp->regionsize + TP_REGIONALIGN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED)
			tap_bail("tp_new: mmap region: %s", strerror(errno));
		tp->region = (char *)(((uintptr_t)r + TP_REGIONALIGN - 1) / TP_REGIONALIGN * TP_REGIONALIGN);
		if (tp->region > r)
			munmap(r, tp->region - r);
		munmap(tp->region + tp->regionsize, r + TP_REGIONALIGN - tp->region);
	}
	tp->allocfail = -1;
	tp->allocmin = SIZE_MAX;
	tp->mergeok = 1;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&tp->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	e = getenv("POOLDBG_TEST_VERBOSE");
	tp->echo = e != NULL && *e != '\0' && *e != '0';

	tp->pool.name = tp->name;
	tp->pool.maxsize = (uintptr_t)1 << 30;
	tp->pool.minarena = 64 * 1024;
	tp->pool.quantum = 32;
	tp->pool.minblock = 0;
	tp->pool.alloc = allocfns[i];
	tp->pool.merge = mergefns[i];
	tp->pool.move = NULL;
	tp->pool.flags = flags;
	tp->pool.lock = tp_lock;
	tp->pool.unlock = tp_unlock;
	tp->pool.print = tp_print;
	tp->pool.panic = tp_panic;
	tp->pool.logstack = tp_logstack;
	tp->pool.private = tp;
	return tp;
}

/* See testpool.h. */
void
tp_free(TestPool *tp)
{
	int i;

	if (tp == NULL)
		return;
	if (tp->source == TP_REGION)
		munmap(tp->region, tp->regionsize);
	else
		for (i = 0; i < tp->nchunks; i++)
			munmap(tp->chunks[i].start, tp->chunks[i].maplen);
	pthread_mutex_destroy(&tp->mu);
	pthread_mutex_lock(&slotlock);
	slots[tp->slot] = NULL;
	pthread_mutex_unlock(&slotlock);
	munmap(tp, sizeof *tp);
}

/* See testpool.h. */
void
tp_setmove(TestPool *tp, void (*onmove)(TestPool *, void *, void *))
{
	tp->onmove = onmove;
	tp->pool.move = movefns[tp->slot];
}

/* See testpool.h. */
void
tp_clear(TestPool *tp)
{
	tp->printlen = 0;
	tp->printbuf[0] = '\0';
	tp->nlines = 0;
	tp->printlost = 0;
}

/* Calls f on each kept line (without its "\n"); stops when f returns nonzero. */
static int
eachline(const TestPool *tp, int (*f)(const char *, size_t, const void *), const void *arg)
{
	const char *s, *e, *end;
	int n = 0;

	s = tp->printbuf;
	end = s + tp->printlen;
	while (s < end) {
		e = memchr(s, '\n', end - s);
		if (e == NULL)
			e = end;
		n += f(s, e - s, arg);
		s = e + 1;
	}
	return n;
}

static int
linehas(const char *s, size_t len, const void *arg)
{
	const char *needle = arg;
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= len; i++)
		if (memcmp(s + i, needle, k) == 0)
			return 1;
	return 0;
}

static int
lineis(const char *s, size_t len, const void *arg)
{
	const char *line = arg;
	size_t k = strlen(line);

	if (k > 0 && line[k - 1] == '\n')
		k--;
	return k == len && memcmp(s, line, len) == 0;
}

/* See testpool.h. */
int
tp_grep(const TestPool *tp, const char *needle)
{
	return eachline(tp, linehas, needle);
}

/* See testpool.h. */
int
tp_hasline(const TestPool *tp, const char *line)
{
	return eachline(tp, lineis, line);
}

/* See testpool.h. */
int
tp_line(const TestPool *tp, int i, char *buf, size_t size)
{
	const char *s, *e, *end;
	size_t n;

	s = tp->printbuf;
	end = s + tp->printlen;
	for (; s < end; s = e + 1, i--) {
		e = memchr(s, '\n', end - s);
		if (e == NULL)
			e = end - 1;
		if (i == 0) {
			n = e - s + 1;
			if (n >= size)
				n = size - 1;
			memcpy(buf, s, n);
			buf[n] = '\0';
			return 1;
		}
	}
	if (size > 0)
		buf[0] = '\0';
	return 0;
}

/* See testpool.h. */
int
tp_chunkof(const TestPool *tp, const void *a, char **start, size_t *size)
{
	const char *c = a;
	int i;

	for (i = 0; i < tp->nchunks; i++)
		if (c >= tp->chunks[i].start && c < tp->chunks[i].start + tp->chunks[i].size) {
			*start = tp->chunks[i].start;
			*size = tp->chunks[i].size;
			return 1;
		}
	return 0;
}

/* See testpool.h. */
int
tp_quiet(TestPool *tp, void *v)
{
	char line[256];

	tp_clear(tp);
	if (EXPECT_PANIC(tp, v != NULL ? poolblockcheck(&tp->pool, v) : poolcheck(&tp->pool))) {
		tap_diag("  %s panicked: %.*s", v != NULL ? "poolblockcheck" : "poolcheck",
		    TP_STR(tp->panicmsg));
		return 0;
	}
	if (tp->nlines == 0 || (tp->pool.flags & (POOL_VERBOSITY | POOL_DEBUGGING | POOL_LOGGING)))
		return 1;
	tp_line(tp, 0, line, sizeof line);
	tap_diag("  %s printed %lu lines: %.*s", v != NULL ? "poolblockcheck" : "poolcheck",
	    tp->nlines, TP_STR(line));
	return 0;
}

/* See testpool.h. */
int
tp_is(uintmax_t got, uintmax_t want, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	if (tap_ok(got == want, "%s", name))
		return 1;
	tap_diag("  got %ju (%#jx), want %ju (%#jx)", got, got, want, want);
	return 0;
}

/* See testpool.h. */
int
tp_like(const char *s, const char *needle, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	if (tap_ok(s != NULL && strstr(s, needle) != NULL, "%s", name))
		return 1;
	if (s == NULL)
		s = "(null)";
	tap_diag("  got \"%.*s\", want it to contain \"%s\"", TP_STR(s), needle);
	return 0;
}

/* See testpool.h. */
int
tp_chomplen(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '\n')
		n--;
	return (int)n;
}

/* See testpool.h. */
uint64_t
tp_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* See testpool.h. */
uint64_t
tp_randn(uint64_t *state, uint64_t n)
{
	return tp_rand(state) % n;
}

/* See testpool.h. */
void
tp_fill(void *v, uint64_t id, size_t from, size_t to)
{
	unsigned char *c = v;
	size_t i;

	for (i = from; i < to; i++)
		c[i] = tp_pattern(id, i);
}

/* See testpool.h. */
long
tp_verify(const void *v, uint64_t id, size_t from, size_t to)
{
	const unsigned char *c = v;
	size_t i;

	for (i = from; i < to; i++)
		if (c[i] != tp_pattern(id, i))
			return (long)i;
	return -1;
}

/* offset modulo align, in [0, align); align > 0 */
static uintptr_t
residue(long offset, size_t align)
{
	long r = offset % (long)align;

	return r < 0 ? (uintptr_t)(r + (long)align) : (uintptr_t)r;
}

/* See testpool.h. */
int
tp_alignable(size_t n, size_t align, long offset, size_t span)
{
	uintptr_t r;
	size_t k;

	if (span == 0 || n == 0)
		return 1;
	if (n > span)
		return 0;
	if (align <= 1)
		return 1;
	r = residue(offset, align);
	for (k = 0; k <= span; k++)
		if ((r + k * align) % span + n <= span)
			return 1;
	return 0;
}

/* See testpool.h. */
int
tp_alignok(const void *r, size_t n, size_t align, long offset, size_t span)
{
	uintptr_t a = (uintptr_t)r;

	if (align > 0 && a % align != residue(offset, align))
		return 0;
	return span == 0 || n == 0 || a / span == (a + n - 1) / span;
}
