/*
 * tests/pool-panic.c -- every corruption report of pool(3), provoked on
 * purpose.
 *
 * Each case builds a fresh pool with a victim block between two small
 * guard blocks, breaks something (an overflow, a smashed header or tail, a
 * double or foreign free, a write into a dead block, ...), makes one call
 * and checks that the pool panicked with the right reason in a message of
 * the form "pool NAME: REASON: block ADDR\n", after dumping the block
 * through p->print (the dump names the pool and the block).  A pool that
 * panicked is thrown away.  An alarm guards against a check that never
 * ends.  Must never smash memory outside the pool's arenas.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "testpool.h"

#define P(tp)	(&(tp)->pool)

typedef struct Ctx Ctx;
struct Ctx {
	TestPool *tp;
	char	*a;	/* guard block before v */
	char	*v;	/* the victim */
	char	*b;	/* guard block after v */
	size_t	n;	/* v's size */
	size_t	bs;	/* v's block size */
	char	*p;	/* a pointer for the foreign-pointer cases */
};

/* v's tail: the last 16 bytes of its block. */
static unsigned char *
tail(Ctx *c)
{
	return (unsigned char *)c->v - 16 + c->bs - 16;
}

static char *foreign;	/* a PROT_NONE page */
static int stackvar;

/* ---- corruptions ---- */
static void s_over1(Ctx *c) { c->v[c->n] = 'X'; }
static void s_msizeover(Ctx *c) { c->v[poolmsize(P(c->tp), c->v)] = 'X'; }
static void s_magic1(Ctx *c) { tail(c)[3] ^= 0x40; }
static void s_tailsize(Ctx *c) { ((uintptr_t *)tail(c))[1] += 16; }
static void s_slack0(Ctx *c) { tail(c)[1] = 0; tail(c)[2] = 0; }
static void s_hdrmagic(Ctx *c) { TP_MAGIC(c->v) = 0x12345678; }
static void s_hdrsize8(Ctx *c) { TP_BSIZE(c->v) += 8; }
static void s_hdrsizehuge(Ctx *c) { TP_BSIZE(c->v) = (uintptr_t)1 << 40; }
static void s_hdrsize32(Ctx *c) { TP_BSIZE(c->v) = 32; }
static void s_hdrsizeplus(Ctx *c) { TP_BSIZE(c->v) += 64; }
static void s_free(Ctx *c) { poolfree(P(c->tp), c->v); }
static void s_freemerged(Ctx *c) { poolfree(P(c->tp), c->a); poolfree(P(c->tp), c->v); }
static void s_interior16(Ctx *c) { c->p = c->v + 16; }
static void s_interior1(Ctx *c) { c->p = c->v + 1; }
static void s_stack(Ctx *c) { c->p = (char *)&stackvar; }
static void s_foreign(Ctx *c) { c->p = foreign + 64; }
static void s_dead(Ctx *c) { poolfree(P(c->tp), c->v); c->v[c->n / 2] = 'w'; }
static void s_nul2(Ctx *c) { c->v[c->n] = 0; c->v[c->n + 1] = 0; }
static void s_nonnul(Ctx *c) { c->v[c->n] = 'x'; }
static void s_nul(Ctx *c) { c->v[c->n] = 0; }
static void s_freetail0(Ctx *c) { poolfree(P(c->tp), c->v); tail(c)[0] ^= 0x40; }
static void s_freetailsize(Ctx *c) { poolfree(P(c->tp), c->v); ((uintptr_t *)tail(c))[1] -= 16; }
static void s_freemagic(Ctx *c) { poolfree(P(c->tp), c->v); TP_MAGIC(c->v) = 0x5555; }
static void
s_freelinks(Ctx *c)
{
	uintptr_t *w = (uintptr_t *)c->v;
	int i;

	poolfree(P(c->tp), c->v);
	for (i = 0; i < 4; i++)
		w[i] = (uintptr_t)(c->b - 16);	/* an allocated block's header */
}

/* ---- the calls that must notice ---- */
static void a_check(Ctx *c) { poolcheck(P(c->tp)); }
static void a_free(Ctx *c) { poolfree(P(c->tp), c->v); }
static void a_blockcheck(Ctx *c) { poolblockcheck(P(c->tp), c->v); }
static void a_realloc(Ctx *c) { poolrealloc(P(c->tp), c->v, 200); }
static void a_msize(Ctx *c) { poolmsize(P(c->tp), c->v); }
static void a_freep(Ctx *c) { poolfree(P(c->tp), c->p); }
static void a_reallocp(Ctx *c) { poolrealloc(P(c->tp), c->p, 50); }
static void a_msizep(Ctx *c) { poolmsize(P(c->tp), c->p); }
static void a_blockcheckp(Ctx *c) { poolblockcheck(P(c->tp), c->p); }
static void a_alloc(Ctx *c) { poolalloc(P(c->tp), 40); }

typedef struct Case Case;
struct Case {
	const char *what;
	int	flags;
	size_t	n;		/* victim size */
	void	(*smash)(Ctx *);
	void	(*act)(Ctx *);
	const char *why[3];	/* the message holds one of these */
	int	dumped;		/* a dump must precede the panic */
};

#define D2B	"D2B called on non-block"
#define TOL	POOL_TOLERANCE

static const Case cases[] = {
	{ "overflow by one byte, poolcheck", 0, 100, s_over1, a_check, { "mem user overflow" }, 1 },
	{ "overflow by one byte, poolfree", 0, 100, s_over1, a_free, { "mem user overflow" }, 1 },
	{ "overflow by one byte, poolblockcheck", 0, 100, s_over1, a_blockcheck, { "mem user overflow" }, 1 },
	{ "overflow by one byte, poolrealloc", 0, 100, s_over1, a_realloc, { "mem user overflow" }, 1 },
	{ "overflow by one byte, poolmsize", 0, 1000, s_over1, a_msize, { "mem user overflow" }, 1 },
	{ "overflow onto magic0, poolcheck", 0, 96, s_over1, a_check, { "corrupt tail magic0" }, 1 },
	{ "overflow onto magic0, poolfree", 0, 96, s_over1, a_free, { "corrupt tail magic0" }, 1 },
	{ "overflow past msize", 0, 100, s_msizeover, a_blockcheck, { "corrupt tail magic0" }, 1 },
	{ "smashed tail magic1", 0, 100, s_magic1, a_check, { "corrupt tail magic1" }, 1 },
	{ "smashed tail size word, poolcheck", 0, 100, s_tailsize, a_check, { "corrupt tail ptr" }, 1 },
	{ "smashed tail size word, poolfree", 0, 100, s_tailsize, a_free, { "corrupt tail ptr" }, 1 },
	{ "slack says more data than fits", 0, 100, s_slack0, a_blockcheck, { "too much block data" }, 1 },
	{ "smashed header magic, poolfree", 0, 100, s_hdrmagic, a_free, { D2B }, 1 },
	{ "smashed header magic, poolcheck", 0, 100, s_hdrmagic, a_check, { "bad magic" }, 1 },
	{ "header size not a multiple of 16", 0, 100, s_hdrsize8, a_check, { "bad block size" }, 1 },
	{ "header size past the arena", 0, 100, s_hdrsizehuge, a_check, { "bad block size" }, 1 },
	{ "header size below 64", 0, 100, s_hdrsize32, a_check, { "bad block size" }, 1 },
	{ "header size 64 too big", 0, 100, s_hdrsizeplus, a_check,
	    { "bad block size", "corrupt tail ptr", "corrupt tail magic" }, 1 },
	{ "double free", 0, 100, s_free, a_free, { D2B }, 1 },
	{ "double free of a merged block", 0, 100, s_freemerged, a_free, { D2B }, 1 },
	{ "poolrealloc of a freed block", 0, 100, s_free, a_realloc, { D2B }, 1 },
	{ "poolmsize of a freed block", 0, 100, s_free, a_msize, { D2B }, 1 },
	{ "poolblockcheck of a freed block", 0, 100, s_free, a_blockcheck, { D2B }, 1 },
	{ "free of an interior pointer (+16)", 0, 100, s_interior16, a_freep, { D2B }, 1 },
	{ "free of an interior pointer (+1)", 0, 100, s_interior1, a_freep, { D2B }, 1 },
	{ "poolrealloc of an interior pointer", 0, 100, s_interior16, a_reallocp, { D2B }, 1 },
	{ "poolmsize of an interior pointer", 0, 100, s_interior16, a_msizep, { D2B }, 1 },
	{ "poolblockcheck of an interior pointer", 0, 100, s_interior16, a_blockcheckp, { D2B }, 1 },
	{ "free of a stack address", 0, 100, s_stack, a_freep, { D2B }, 0 },
	{ "free of an unreadable address", 0, 100, s_foreign, a_freep, { D2B }, 0 },
	{ "write into a NOREUSE block", POOL_NOREUSE, 300, s_dead, a_check, { "dangling pointer write" }, 1 },
	{ "write into a NOREUSE block, PARANOIA", POOL_NOREUSE | POOL_PARANOIA, 300, s_dead, a_alloc,
	    { "dangling pointer write" }, 1 },
	{ "TOLERANCE: two NULs past the end", TOL, 100, s_nul2, a_check, { "mem user overflow" }, 1 },
	{ "TOLERANCE: a non-NUL past the end", TOL, 100, s_nonnul, a_free, { "mem user overflow" }, 1 },
	{ "TOLERANCE: a non-NUL onto magic0", TOL, 96, s_nonnul, a_check, { "corrupt tail magic0" }, 1 },
	{ "no TOLERANCE: one NUL past the end", 0, 100, s_nul, a_free, { "mem user overflow" }, 1 },
	{ "no TOLERANCE: one NUL onto magic0", 0, 96, s_nul, a_check, { "corrupt tail magic0" }, 1 },
	{ "smashed free block tail magic", 0, 300, s_freetail0, a_check, { "corrupt tail magic" }, 1 },
	{ "smashed free block tail size", 0, 300, s_freetailsize, a_check, { "corrupt tail ptr" }, 1 },
	{ "smashed free block magic", 0, 300, s_freemagic, a_check, { "bad magic", "bad free tree" }, 1 },
	{ "free tree links to an allocated block", 0, 300, s_freelinks, a_check,
	    { "bad free tree" }, 1 },
	{ "smashed free block magic, PARANOIA", POOL_PARANOIA, 300, s_freemagic, a_alloc,
	    { "bad magic", "bad free tree" }, 1 },
};

/* The hex digits of the address after "block 0x" in msg, or "" */
static void
blockaddr(const char *msg, char *buf, size_t size)
{
	const char *s = strstr(msg, "block 0x");
	size_t i = 0;

	if (s != NULL)
		for (s += 8; i + 1 < size && strchr("0123456789abcdefABCDEF", *s) && *s; s++)
			buf[i++] = *s;
	buf[i] = '\0';
}

/* The checks every panic must pass. */
static void
checkpanic(TestPool *tp, const char *what, const char *const why[3], int dumped)
{
	char prefix[64], addr[32], want[128];
	int i, hit, n;

	for (i = 0, hit = 0, n = 0; i < 3 && why[i] != NULL; i++) {
		hit |= strstr(tp->panicmsg, why[i]) != NULL;
		n += snprintf(want + n, sizeof want - n, "%s\"%s\"", i ? " or " : "", why[i]);
	}
	ok(hit, "%s: the reason is %s", what, want);
	if (!hit)
		tap_diag("  got \"%.*s\"", TP_STR(tp->panicmsg));
	snprintf(prefix, sizeof prefix, "pool %s: ", tp->name);
	ok(strncmp(tp->panicmsg, prefix, strlen(prefix)) == 0 &&
	    strlen(tp->panicmsg) > 0 && tp->panicmsg[strlen(tp->panicmsg) - 1] == '\n' &&
	    strstr(tp->panicmsg, ": block ") != NULL,
	    "%s: the message reads \"pool NAME: REASON: block ADDR\\n\"", what);
	if (!dumped)
		return;
	blockaddr(tp->panicmsg, addr, sizeof addr);
	ok(tp->panicnlines > 0 && strstr(tp->printbuf, tp->name) != NULL &&
	    addr[0] != '\0' && strstr(tp->printbuf, addr) != NULL,
	    "%s: the block was dumped through print first (%lu lines)", what, tp->panicnlines);
}

static void
runcase(const Case *k)
{
	TestPool *tp = tp_new("panic", TP_REGION, k->flags);
	Ctx c = { 0 };
	int hit;

	c.tp = tp;
	c.n = k->n;
	c.a = poolalloc(P(tp), 10);
	c.v = poolalloc(P(tp), k->n);
	c.b = poolalloc(P(tp), 10);
	memset(c.v, 0, k->n);
	c.bs = TP_BSIZE(c.v);
	k->smash(&c);
	tp_clear(tp);
	hit = EXPECT_PANIC(tp, k->act(&c));
	if (!ok(hit, "%s: panics", k->what)) {
		tap_skip(k->dumped ? 3 : 2, "no panic");
		tp_free(tp);
		return;
	}
	checkpanic(tp, k->what, k->why, k->dumped);
	tp_free(tp);
}

/* The arena tail of tp's first arena: the ARENATAIL header near its end, or NULL. */
static uintptr_t *
arenatail(TestPool *tp)
{
	char *end = tp->chunks[0].start + tp->chunks[0].size;
	int i;

	for (i = 1; i <= 8; i++)
		if (((uintptr_t *)(end - 16 * i))[0] == 0xEC5E1A0D)
			return (uintptr_t *)(end - 16 * i);
	return NULL;
}

/* A pool with one block, to break its arena. */
static TestPool *
onearena(void)
{
	TestPool *tp = tp_new("arena", TP_REGION, 0);

	poolalloc(P(tp), 100);
	return tp;
}

/* The arena's own header and tail, if they sit where the layout says. */
static void
arenacases(void)
{
	static const char *const badsize[3] = { "bad arena size", "bad block size", NULL };
	static const char *const badtail[3] = { "bad arena tail size", "found wrong tail", "bad magic" };
	TestPool *tp;
	uintptr_t *w;

	tp = onearena();
	w = (uintptr_t *)tp->chunks[0].start;
	if (w[0] != 0xC0A1E5CF) {
		tap_skip(3, "no arena magic at the arena start");
	} else {
		w[1] += 16;
		tp_clear(tp);
		ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "smashed arena size: panics");
		checkpanic(tp, "smashed arena size", badsize, 1);
	}
	tp_free(tp);

	tp = onearena();
	if ((w = arenatail(tp)) == NULL) {
		tap_skip(6, "no arena tail magic near the arena end");
		tp_free(tp);
		return;
	}
	w[1] = 64;
	tp_clear(tp);
	ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "smashed arena tail size: panics");
	checkpanic(tp, "smashed arena tail size", badtail, 1);
	tp_free(tp);

	tp = onearena();
	arenatail(tp)[0] = 0x1234;
	tp_clear(tp);
	ok(EXPECT_PANIC(tp, poolcheck(P(tp))), "smashed arena tail magic: panics");
	checkpanic(tp, "smashed arena tail magic", badtail, 1);
	tp_free(tp);
}

static void
onalarm(int sig)
{
	(void)sig;
	tap_bail("a pool call did not return within 30 seconds");
}

int
main(void)
{
	unsigned i;

	signal(SIGALRM, onalarm);
	alarm(30);
	foreign = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (foreign == MAP_FAILED)
		tap_bail("mmap of a PROT_NONE page failed");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		runcase(&cases[i]);
	arenacases();
	munmap(foreign, 4096);
	return tap_done();
}
