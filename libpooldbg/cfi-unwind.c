/*
 * libpooldbg/cfi-unwind.c -- a stack walker over .eh_frame's call-frame
 * information, with the rule of every return address cached.
 *
 * On x86-64 almost every frame of compiled code is described by three
 * facts: the frame's CFA is rsp or rbp plus a constant, the return
 * address sits just below the CFA, and the caller's rbp is either still
 * in rbp or saved at a constant offset from the CFA.  Those facts are
 * packed into one word per address and kept in a process-wide table of
 * sets of four (an address's rule never changes while its object stays
 * mapped), so walking a frame costs one lookup and two loads.  A miss
 * finds the address's object with _dl_find_object (no lock), its FDE by
 * binary search of .eh_frame_hdr, and runs the CIE's and the FDE's
 * instructions up to the address.
 *
 * The table is sized for its lines, which a walk that leaves the last
 * one's frames reads one per frame: a rule and the address it belongs to
 * are packed into one word (the set holds the address's low bits, the
 * word the rest), so a set of eight is one cache line and the 32k rules
 * take 256 KiB.  The few rules that do not pack (a frame over 512 KiB,
 * an offset that is not a multiple of 8, an address past 47 bits) are
 * kept in a small table of whole addresses and rules beside it.
 *
 * A frame whose rule is anything else -- a signal frame, a CFA given by
 * an expression or by another register, code without call-frame
 * information -- makes the whole walk give up (-1), and the caller asks
 * libunwind instead; that answer is cached too, so it costs a lookup.
 *
 * Table entries are written under a try-lock (a writer that finds it
 * taken leaves its rule uncached) and read without one: a packed word is
 * written and read whole; in the side table the key is cleared before
 * the rule changes and set after, and a reader checks the key again
 * after reading the rule.
 */
#include "internal.h"

#include "cfi-unwind.h"

#if defined(__x86_64__) && defined(HAVE__DL_FIND_OBJECT)

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

enum {
	NSETS		= 4096,		/* sets of WAYS packed rules: 32k addresses, 256 KiB */
	WAYS		= 8,
	SETBITS		= 12,		/* log2(NSETS) */
	ODDSETS		= 256,		/* sets of ODDWAYS rules that do not pack: 16 KiB */
	ODDWAYS		= 4,
	MAXSTATES	= 8,		/* DW_CFA_remember_state depth kept */
	LASTN		= 128,		/* frames of a thread's last walk kept */
	MAXFRAME	= 1 << 24,	/* bytes one frame may span */
	REG_RBP		= 6,
	REG_RSP		= 7,
	REG_RA		= 16,
};

/* The bits of a rule; 0 is "beyond this walker". */
enum {
	R_OK	= 1 << 0,	/* a rule of the simple kind */
	R_END	= 1 << 1,	/* the return address is undefined: outermost frame */
	R_RBP	= 1 << 2,	/* CFA is rbp + offset, not rsp + offset */
	R_SAVED	= 1 << 3,	/* the caller's rbp is saved at CFA + rbpoff */
};

#define RULE(flags, cfaoff, rbpoff) \
	((uint64_t)(flags) | (uint64_t)(uint16_t)(int16_t)(rbpoff) << 16 | \
	    (uint64_t)(uint32_t)(int32_t)(cfaoff) << 32)
#define CFAOFF(r)	((int32_t)(uint32_t)((r) >> 32))
#define RBPOFF(r)	((int16_t)(uint16_t)((r) >> 16))

/*
 * A packed word: P_VALID, the address's bits from SETBITS up (its low
 * bits are the set's, see setof), the rule's flags, its CFA offset / 8
 * (16 bits) and its rbp offset / 8 (8 bits, signed).  0: empty.
 */
#define P_VALID		((uint64_t)1 << 63)
#define P_TAGSHIFT	28
#define P_TAGBITS	(47 - SETBITS)	/* user addresses are below 2^47 */
#define P_TAG(w)	((w) >> P_TAGSHIFT & (((uint64_t)1 << P_TAGBITS) - 1))

typedef struct Entry Entry;
struct Entry {
	_Atomic uintptr_t key;	/* the address; 0: empty */
	_Atomic uint64_t rule;
};

static struct {
	_Atomic uint64_t set[NSETS][WAYS];
	Entry	odd[ODDSETS][ODDWAYS];	/* the rules that do not pack */
	atomic_flag writing;
	int	on;
	_Atomic unsigned gen;	/* flushes so far */
} cache __attribute__((aligned(64)));

/*
 * Each thread's last walk: the frames (pc, sp, rbp and rule) it went
 * through.  Most of a stack is the same as the one before it, so a frame
 * found at the same sp with the same pc takes its rule from here instead
 * of the table -- and so do the frames above it, without a walk, while
 * the stack words the last walk read there still hold what it read (see
 * walk).  Two buffers, the last walk's and the one being made.
 */
typedef struct Walk Walk;
struct Walk {
	uintptr_t ip[LASTN], sp[LASTN], bp[LASTN];
	uint64_t rule[LASTN];
	int	n;
};

static __thread struct {
	Walk	buf[2];
	int	cur;		/* buf[cur] is the last walk */
	int	busy;		/* a walk is under way (a signal handler's walk leaves these alone) */
	unsigned gen;		/* cache.gen when the last walk was made */
} last __attribute__((tls_model("initial-exec")));

/* ---- reading .eh_frame ------------------------------------------------ */

/* What a rule says of one register while the instructions run. */
enum { U_SAME, U_UNDEF, U_OFFSET, U_OTHER };

typedef struct Reg Reg;
struct Reg {
	int	how;		/* U_* */
	int64_t	off;		/* U_OFFSET: where it is saved, from the CFA */
};

typedef struct State State;
struct State {
	int	cfareg;
	int64_t	cfaoff;
	int	cfaexpr;	/* the CFA is an expression */
	Reg	rbp, ra;
};

typedef struct Cursor Cursor;
struct Cursor {
	const uint8_t *p, *end;
	int	bad;
};

static uint64_t
u8(Cursor *c)
{
	if (c->p >= c->end) {
		c->bad = 1;
		return 0;
	}
	return *c->p++;
}

static uint64_t
fixed(Cursor *c, size_t n)
{
	uint64_t v;

	if ((size_t)(c->end - c->p) < n) {
		c->bad = 1;
		c->p = c->end;
		return 0;
	}
	v = 0;
	memcpy(&v, c->p, n);	/* little-endian */
	c->p += n;
	return v;
}

/* A LEB128 number, sign-extended if sign. */
static uint64_t
leb(Cursor *c, int sign)
{
	uint64_t v, b;
	unsigned shift;

	v = 0;
	shift = 0;
	do {
		b = u8(c);
		if (shift < 64)
			v |= (b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && !c->bad);
	if (sign && shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return v;
}

#define uleb(c)	leb((c), 0)
#define sleb(c)	((int64_t)leb((c), 1))

/* Step over a block of bytes counted by a ULEB128 first. */
static void
block(Cursor *c)
{
	uint64_t n;

	n = uleb(c);
	if ((uint64_t)(c->end - c->p) < n) {
		c->bad = 1;
		c->p = c->end;
	} else
		c->p += n;
}

/* The rule of DWARF register reg in s if it is one the walker needs (rbp, the return address), else NULL. */
static Reg *
tracked(State *s, int reg)
{
	return reg == REG_RBP ? &s->rbp : reg == REG_RA ? &s->ra : NULL;
}

/* A pointer in DW_EH_PE encoding enc; data is the base of datarel.  Sets bad for what it cannot read. */
static uintptr_t
encoded(Cursor *c, int enc, uintptr_t data)
{
	const uint8_t *at;
	uint64_t v;

	if (enc == 0xff)	/* DW_EH_PE_omit */
		return 0;
	at = c->p;
	switch (enc & 0x0f) {
	case 0x00: v = fixed(c, 8); break;			/* absptr */
	case 0x01: v = uleb(c); break;
	case 0x02: v = fixed(c, 2); break;
	case 0x03: v = fixed(c, 4); break;
	case 0x04: v = fixed(c, 8); break;
	case 0x09: v = (uint64_t)sleb(c); break;
	case 0x0a: v = (uint64_t)(int64_t)(int16_t)fixed(c, 2); break;
	case 0x0b: v = (uint64_t)(int64_t)(int32_t)fixed(c, 4); break;
	case 0x0c: v = fixed(c, 8); break;
	default: c->bad = 1; return 0;
	}
	switch (enc & 0x70) {
	case 0x00: break;
	case 0x10: v += (uintptr_t)at; break;		/* pcrel */
	case 0x30: v += data; break;			/* datarel */
	default: c->bad = 1; return 0;
	}
	if (enc & 0x80)		/* indirect: never needed for the fields read here */
		c->bad = 1;
	return (uintptr_t)v;
}

/* Run the instructions in c up to (not past) the address target, starting at loc. */
static int
run(Cursor *c, State *s, const State *init, uintptr_t loc, uintptr_t target,
    uint64_t codealign, int64_t dataalign)
{
	State stack[MAXSTATES];
	int depth, op, reg;
	int64_t off;
	Reg *t;

	depth = 0;
	while (c->p < c->end && !c->bad) {
		op = (int)u8(c);
		switch (op & 0xc0) {
		case 0x40:	/* advance_loc */
			loc += (op & 0x3f) * codealign;
			if (loc > target)
				return 0;
			continue;
		case 0x80:	/* offset */
			reg = op & 0x3f;
			off = (int64_t)uleb(c) * dataalign;
			goto offset;
		case 0xc0:	/* restore */
			reg = op & 0x3f;
			goto restore;
		}
		switch (op) {
		case 0x00:	/* nop */
			break;
		case 0x01:	/* set_loc */
			return -1;
		case 0x02:
		case 0x03:
		case 0x04:	/* advance_loc1, 2, 4 */
			loc += fixed(c, op == 0x02 ? 1 : op == 0x03 ? 2 : 4) * codealign;
			if (loc > target)
				return 0;
			break;
		case 0x05:	/* offset_extended */
			reg = (int)uleb(c);
			off = (int64_t)uleb(c) * dataalign;
			goto offset;
		case 0x06:	/* restore_extended */
			reg = (int)uleb(c);
			goto restore;
		case 0x07:	/* undefined */
		case 0x08:	/* same_value */
			if ((t = tracked(s, (int)uleb(c))) != NULL)
				t->how = op == 0x07 ? U_UNDEF : U_SAME;
			break;
		case 0x09:	/* register */
			reg = (int)uleb(c);
			(void)uleb(c);
			goto other;
		case 0x0a:	/* remember_state */
			if (depth == MAXSTATES)
				return -1;
			stack[depth++] = *s;
			break;
		case 0x0b:	/* restore_state */
			if (depth == 0)
				return -1;
			*s = stack[--depth];
			break;
		case 0x0c:	/* def_cfa */
			s->cfareg = (int)uleb(c);
			s->cfaoff = (int64_t)uleb(c);
			s->cfaexpr = 0;
			break;
		case 0x0d:	/* def_cfa_register */
			s->cfareg = (int)uleb(c);
			s->cfaexpr = 0;
			break;
		case 0x0e:	/* def_cfa_offset */
			s->cfaoff = (int64_t)uleb(c);
			break;
		case 0x0f:	/* def_cfa_expression */
			s->cfaexpr = 1;
			block(c);
			break;
		case 0x10:	/* expression */
		case 0x16:	/* val_expression */
			reg = (int)uleb(c);
			block(c);
			goto other;
		case 0x11:	/* offset_extended_sf */
			reg = (int)uleb(c);
			off = sleb(c) * dataalign;
			goto offset;
		case 0x12:	/* def_cfa_sf */
			s->cfareg = (int)uleb(c);
			s->cfaoff = sleb(c) * dataalign;
			s->cfaexpr = 0;
			break;
		case 0x13:	/* def_cfa_offset_sf */
			s->cfaoff = sleb(c) * dataalign;
			break;
		case 0x14:	/* val_offset */
		case 0x15:	/* val_offset_sf */
			reg = (int)uleb(c);
			(void)uleb(c);	/* either form: its bytes are skipped alike */
			goto other;
		case 0x2e:	/* GNU_args_size */
			(void)uleb(c);
			break;
		case 0x2f:	/* GNU_negative_offset_extended */
			reg = (int)uleb(c);
			off = -(int64_t)uleb(c) * dataalign;
			goto offset;
		default:
			return -1;
		}
		continue;
offset:
		if ((t = tracked(s, reg)) != NULL) {
			t->how = U_OFFSET;
			t->off = off;
		}
		continue;
other:
		if ((t = tracked(s, reg)) != NULL)
			t->how = U_OTHER;
		continue;
restore:
		if (init == NULL)
			return -1;
		if ((t = tracked(s, reg)) != NULL)
			*t = t == &s->rbp ? init->rbp : init->ra;
	}
	return c->bad ? -1 : 0;
}

/* The FDE covering pc in the .eh_frame_hdr at hdr; NULL if none or unreadable. */
static const uint8_t *
findfde(const uint8_t *hdr, uintptr_t pc)
{
	Cursor c;
	const int32_t *t;
	size_t count, lo, hi, mid;

	if (hdr[0] != 1 || hdr[3] != 0x3b)	/* version 1, table of datarel sdata4 pairs */
		return NULL;
	c.p = hdr + 4;
	c.end = hdr + 4 + 16;
	c.bad = 0;
	(void)encoded(&c, hdr[1], (uintptr_t)hdr);	/* eh_frame_ptr */
	count = (size_t)encoded(&c, hdr[2], (uintptr_t)hdr);
	if (c.bad || count == 0)
		return NULL;
	t = (const int32_t *)c.p;
	if ((uintptr_t)hdr + t[0] > pc)
		return NULL;
	lo = 0;
	hi = count;	/* the answer is in [lo, hi) */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if ((uintptr_t)hdr + t[2 * mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return hdr + t[2 * lo + 1];
}

/* The rule of the frame whose pc (an address inside its call, or the walker's own ip) is at. */
static uint64_t
ruleat(uintptr_t at)
{
	struct dl_find_object fo;
	const uint8_t *fde, *cie, *aug, *p;
	uint64_t codealign, len;
	int64_t dataalign;
	uintptr_t begin, range;
	int fdeenc, version, raw, zaug;
	Cursor c;
	State s, init;
	uint32_t l32, fdelen;

	if (_dl_find_object((void *)at, &fo) != 0 || fo.dlfo_eh_frame == NULL)
		return 0;
	fde = findfde(fo.dlfo_eh_frame, at);
	if (fde == NULL)
		return 0;

	/* the FDE's CIE */
	memcpy(&fdelen, fde, 4);
	if (fdelen == 0 || fdelen == 0xffffffff)
		return 0;
	memcpy(&l32, fde + 4, 4);
	cie = fde + 4 - l32;
	memcpy(&l32, cie, 4);
	if (l32 == 0 || l32 == 0xffffffff)
		return 0;
	c.p = cie + 8;		/* past length and CIE id */
	c.end = cie + 4 + l32;
	c.bad = 0;
	version = (int)u8(&c);
	if (version != 1 && version != 3)
		return 0;
	aug = c.p;
	while (c.p < c.end && *c.p != 0)
		c.p++;
	c.p++;
	codealign = uleb(&c);
	dataalign = sleb(&c);
	raw = version == 1 ? (int)u8(&c) : (int)uleb(&c);
	if (raw != REG_RA)
		return 0;
	fdeenc = 0;	/* absptr */
	zaug = aug[0] == 'z';
	if (zaug) {
		len = uleb(&c);
		if (c.bad || (uint64_t)(c.end - c.p) < len)
			return 0;
		p = c.p + len;	/* the CIE's instructions */
		for (aug++; *aug != 0 && !c.bad; aug++) {
			switch (*aug) {
			case 'R':
				fdeenc = (int)u8(&c);
				break;
			case 'L':
				(void)u8(&c);
				break;
			case 'P': {
				int penc = (int)u8(&c);

				(void)encoded(&c, penc & 0x7f, 0);	/* skipped, never followed */
				break;
			}
			case 'B':
				break;
			default:	/* 'S' (a signal frame) and the unknown */
				return 0;
			}
		}
		c.p = p;
	} else if (aug[0] != 0)
		return 0;
	if (c.bad)
		return 0;
	memset(&s, 0, sizeof s);
	s.cfareg = -1;
	s.rbp.how = U_SAME;
	s.ra.how = U_SAME;
	if (run(&c, &s, NULL, 0, UINTPTR_MAX, codealign, dataalign) < 0)
		return 0;
	init = s;

	/* the FDE: its range, then its instructions */
	c.p = fde + 8;
	c.end = fde + 4 + fdelen;
	c.bad = 0;
	begin = encoded(&c, fdeenc, 0);
	range = encoded(&c, fdeenc & 0x0f, 0);
	if (c.bad || at < begin || at - begin >= range)
		return 0;
	if (zaug)
		block(&c);	/* the FDE's augmentation data */
	if (run(&c, &s, &init, begin, at, codealign, dataalign) < 0)
		return 0;

	if (s.ra.how == U_UNDEF)
		return RULE(R_OK | R_END, 0, 0);
	if (s.cfaexpr || (s.cfareg != REG_RSP && s.cfareg != REG_RBP) ||
	    s.cfaoff <= 0 || s.cfaoff > MAXFRAME)
		return 0;
	if (s.ra.how != U_OFFSET || s.ra.off != -8)
		return 0;
	if (s.rbp.how == U_OTHER ||
	    (s.rbp.how == U_OFFSET && (s.rbp.off < INT16_MIN || s.rbp.off > INT16_MAX)))
		return 0;
	return RULE(R_OK | (s.cfareg == REG_RBP ? R_RBP : 0) | (s.rbp.how == U_OFFSET ? R_SAVED : 0),
	    s.cfaoff, s.rbp.how == U_OFFSET ? s.rbp.off : 0);
}

/* ---- the cache -------------------------------------------------------- */

/* The packed table's set of at: its low bits, mixed with the rest (which the word keeps). */
static inline _Atomic uint64_t *
setof(uintptr_t at)
{
	uint64_t tag;

	tag = (uint64_t)at >> SETBITS;
	return cache.set[(at ^ (tag * 0x9e3779b97f4a7c15ull) >> (64 - SETBITS)) & (NSETS - 1)];
}

static inline Entry *
oddsetof(uintptr_t at)
{
	return cache.odd[(at * 0x9e3779b97f4a7c15ull) >> (64 - 8) & (ODDSETS - 1)];
}

/* Rule r of the address at as a packed word, or 0 when it does not pack. */
static uint64_t
pack(uintptr_t at, uint64_t r)
{
	int32_t cfa;
	int16_t rbp;

	cfa = CFAOFF(r);
	rbp = RBPOFF(r);
	if ((uint64_t)at >> 47 != 0 || cfa < 0 || cfa % 8 != 0 || cfa / 8 > 0xffff ||
	    rbp % 8 != 0 || rbp / 8 < INT8_MIN || rbp / 8 > INT8_MAX)
		return 0;
	return P_VALID | ((uint64_t)at >> SETBITS) << P_TAGSHIFT | (r & 0xf) |
	    (uint64_t)(cfa / 8) << 4 | (uint64_t)(uint8_t)(int8_t)(rbp / 8) << 20;
}

/* The rule a packed word holds. */
static inline uint64_t
unpack(uint64_t w)
{
	return RULE(w & 0xf, (int32_t)(w >> 4 & 0xffff) * 8, (int8_t)(uint8_t)(w >> 20) * 8);
}

/* The rule of at in the side table, or -1 (no rule is all ones). */
static uint64_t
oddrule(uintptr_t at)
{
	Entry *e;
	uint64_t r;
	int i;

	e = oddsetof(at);
	for (i = 0; i < ODDWAYS; i++) {
		if (atomic_load_explicit(&e[i].key, memory_order_acquire) != at)
			continue;
		r = atomic_load_explicit(&e[i].rule, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e[i].key, memory_order_relaxed) == at)
			return r;
	}
	return ~(uint64_t)0;
}

/* The rule at at, not found in the packed table: read it and keep it.  Locks. */
static __attribute__((noinline)) uint64_t
rulemiss(_Atomic uint64_t *set, uintptr_t at)
{
	static _Atomic unsigned victim;
	uint64_t r, w;
	Entry *e;
	int i;

	if ((r = oddrule(at)) != ~(uint64_t)0)
		return r;
	r = ruleat(at);
	if (atomic_flag_test_and_set_explicit(&cache.writing, memory_order_acquire))
		return r;	/* another thread is writing: this rule stays uncached */
	if ((w = pack(at, r)) != 0) {
		for (i = 0; i < WAYS; i++)
			if (atomic_load_explicit(&set[i], memory_order_relaxed) == 0)
				break;
		if (i == WAYS)
			i = (int)(atomic_fetch_add_explicit(&victim, 1, memory_order_relaxed) % WAYS);
		atomic_store_explicit(&set[i], w, memory_order_release);
	} else {
		e = oddsetof(at);
		for (i = 0; i < ODDWAYS; i++)
			if (atomic_load_explicit(&e[i].key, memory_order_relaxed) == 0)
				break;
		if (i == ODDWAYS)
			i = (int)(atomic_fetch_add_explicit(&victim, 1, memory_order_relaxed) % ODDWAYS);
		atomic_store_explicit(&e[i].key, 0, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		atomic_store_explicit(&e[i].rule, r, memory_order_relaxed);
		atomic_store_explicit(&e[i].key, at, memory_order_release);
	}
	atomic_flag_clear_explicit(&cache.writing, memory_order_release);
	return r;
}

static inline uint64_t
rule(uintptr_t at)
{
	_Atomic uint64_t *set;
	uint64_t w, want;
	int i;

	set = setof(at);
	want = (uint64_t)at >> SETBITS;	/* past 47 bits: wider than any tag, never found */
	for (i = 0; i < WAYS; i++) {
		w = atomic_load_explicit(&set[i], memory_order_relaxed);
		if ((w & P_VALID) && P_TAG(w) == want)
			return unpack(w);
	}
	return rulemiss(set, at);
}

int
cfi_init(void)
{
	struct dl_find_object fo;

	if (_dl_find_object((void *)cfi_init, &fo) != 0 || fo.dlfo_eh_frame == NULL)
		return -1;
	cache.on = 1;
	return 0;
}

void
cfi_flush(void)
{
	int i, j;

	while (atomic_flag_test_and_set_explicit(&cache.writing, memory_order_acquire))
		;
	for (i = 0; i < NSETS; i++)
		for (j = 0; j < WAYS; j++)
			atomic_store_explicit(&cache.set[i][j], 0, memory_order_relaxed);
	for (i = 0; i < ODDSETS; i++)
		for (j = 0; j < ODDWAYS; j++)
			atomic_store_explicit(&cache.odd[i][j].key, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&cache.gen, 1, memory_order_release);
	atomic_flag_clear_explicit(&cache.writing, memory_order_release);
}

void
cfi_forked(void)
{
	atomic_flag_clear(&cache.writing);
}

/* Frame k of the walk being made, w, kept while there is room; the next k. */
static inline int
keep(Walk *w, int k, uintptr_t ip, uintptr_t sp, uintptr_t bp, uint64_t r)
{
	if (w == NULL || k >= LASTN)
		return k;
	w->ip[k] = ip;
	w->sp[k] = sp;
	w->bp[k] = bp;
	w->rule[k] = r;
	return k + 1;
}

/*
 * The walk from the frame at ip, sp, bp: first when ip is where that
 * frame is now (the walker's own), not a return address.  The pcs of the
 * frames above it go into pcs, those skip holds for left out at the top.
 *
 * A walk is a function of its starting registers and of the stack words
 * it reads: each frame's return address (at its CFA - 8) and, where the
 * rule says so, its caller's rbp.  So once the walk reaches a frame of
 * the last walk (same pc, sp, and rbp where the rule reads it), each
 * frame above follows from the last walk's record alone while the words
 * the last walk read for it hold the same values: the reads of those
 * words do not wait on one another, where a walk's every step waits for
 * the load before it.  The first word that differs ends the shortcut and
 * the walk goes on from that frame as usual.
 */
static inline __attribute__((always_inline)) int
walk(uintptr_t *pcs, int max, int (*skip)(uintptr_t), uintptr_t ip, uintptr_t sp,
    uintptr_t bp, int first)
{
	uintptr_t cfa, next;
	uint64_t r;
	int n, top, j, k;
	unsigned gen;
	Walk *old, *new;

	old = new = NULL;
	if (!last.busy) {
		last.busy = 1;
		old = &last.buf[last.cur];
		new = &last.buf[last.cur ^ 1];
		gen = atomic_load_explicit(&cache.gen, memory_order_acquire);
		if (last.gen != gen) {
			old->n = 0;
			last.gen = gen;
		}
	}
	n = 0;
	top = 1;
	j = k = 0;
	for (;;) {
		/* the rule of the frame at ip, sp: a return address's is the call's */
		if (old != NULL)
			while (j < old->n && old->sp[j] < sp)
				j++;
		if (old != NULL && j < old->n && old->sp[j] == sp && old->ip[j] == ip) {
			/* the last walk's frames from here on, while their words are unchanged */
			while (j + 1 < old->n && (skip == NULL || !top)) {
				r = old->rule[j];
				if ((r & R_RBP) && bp != old->bp[j])
					break;
				next = old->sp[j + 1];	/* this frame's CFA */
				if (*(uintptr_t *)(next - 8) != old->ip[j + 1])
					break;
				k = keep(new, k, ip, sp, bp, r);
				if (r & R_SAVED)
					bp = *(uintptr_t *)(next + RBPOFF(r));
				ip = old->ip[j + 1];
				sp = next;
				j++;
				first = 0;
				top = 0;
				if (n == max)
					goto out;
				pcs[n++] = ip;
			}
			r = old->rule[j];
		} else
			r = rule(first ? ip : ip - 1);
		first = 0;
		k = keep(new, k, ip, sp, bp, r);
		if ((r & R_OK) == 0) {
			n = -1;
			break;
		}
		if (r & R_END)
			break;
		cfa = ((r & R_RBP) ? bp : sp) + (intptr_t)CFAOFF(r);
		if (cfa <= sp || cfa - sp > MAXFRAME || (cfa & 7) != 0) {
			n = -1;
			break;
		}
		ip = *(uintptr_t *)(cfa - 8);
		if (r & R_SAVED)
			bp = *(uintptr_t *)(cfa + RBPOFF(r));
		sp = cfa;
		if (ip == 0)
			break;
		if (top && skip != NULL && skip(ip))
			continue;
		top = 0;
		if (n == max)
			break;
		pcs[n++] = ip;
	}
out:
	if (new != NULL) {
		new->n = k;
		last.cur ^= 1;
		last.busy = 0;
	}
	return n;
}

int
cfi_backtrace(uintptr_t *pcs, int max, int (*skip)(uintptr_t))
{
	uintptr_t ip, sp, bp;

	if (!cache.on)
		return -1;
	/* this frame's registers, all at one instruction */
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
	    : "=r"(ip), "=r"(sp), "=r"(bp));
	return walk(pcs, max, skip, ip, sp, bp, 1);
}

int
cfi_backtrace_from(uintptr_t *pcs, int max, uintptr_t ip, uintptr_t sp, uintptr_t bp)
{
	int n;

	if (!cache.on)
		return -1;
	if (max <= 0 || ip == 0)
		return 0;
	pcs[0] = ip;
	if (max == 1)
		return 1;
	n = walk(pcs + 1, max - 1, NULL, ip, sp, bp, 0);
	return n < 0 ? -1 : n + 1;
}

#else

int
cfi_backtrace(uintptr_t *pcs, int max, int (*skip)(uintptr_t))
{
	(void)pcs;
	(void)max;
	(void)skip;
	return -1;
}

int
cfi_backtrace_from(uintptr_t *pcs, int max, uintptr_t ip, uintptr_t sp, uintptr_t bp)
{
	(void)pcs;
	(void)max;
	(void)ip;
	(void)sp;
	(void)bp;
	return -1;
}

int
cfi_init(void)
{
	return -1;
}

void
cfi_flush(void)
{
}

void
cfi_forked(void)
{
}

#endif
