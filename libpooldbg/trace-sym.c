/*
 * libpooldbg/trace-sym.c -- the symbolizer's trace side: reads a trace's
 * modules and frames, has each new (process, pc) looked up in its module's
 * file (sym-file.c) and writes the inline chain into table locations.
 *
 * The modules are read into an array sorted by (process, lo), the pcs still
 * to do into another.  Each module row names a file (path and recorded
 * build-id), opened the first time one of its pcs needs it.  A looked-up
 * (file, pc - base) is kept in a hash table, so the same library at other
 * bases in other processes costs one hash probe per pc, and each row is
 * written with one prepared statement inside one savepoint.
 *
 * The work comes in three steps: reading the tables (the caller's
 * thread), the look-ups (a thread of their own, which never touches the
 * trace, so the recorder builds its tables meanwhile), and writing the
 * rows (the caller's thread again, once the look-ups are done).
 *
 * A job can also start before the run (sym_ahead): the recorder hands it
 * each module and frame as they come, and a thread looks the frames up
 * while the program runs, into the same files and (file, address) cache.
 * It keeps a module map of its own, in the order the modules came; the
 * tables decide in the end (sym_start stops that thread and looks every
 * pc up again, which is a hash probe for those it found), so a guess of
 * the map made too early costs a look-up, never a wrong row.
 *
 * Owns: the rows of locations and meta 'symbolized'.  Never creates or
 * alters tables (the schema module does), never writes any other table,
 * never runs in a traced process.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "sym.h"
#include "sym-impl.h"

enum {
	AHEADBATCH	= 1024,	/* frames the recorder gathers before it hands them over */
};

typedef struct SymMod SymMod;	/* one row of table modules */
struct SymMod {
	int64_t	id;		/* modules.id */
	int64_t	process;
	uint64_t base;		/* load bias: runtime address = file address + base */
	uint64_t lo, hi;	/* [lo, hi) of its PT_LOAD segments at run time */
	int64_t	loaded;		/* CLOCK_MONOTONIC ns; 0 if unknown */
	uint64_t maxhi;		/* the highest hi of this and every earlier module of its process */
	size_t	file;		/* index in Sym.files */
};

typedef struct SymHit SymHit;	/* a slot of the (file, address) cache */
struct SymHit {
	uint64_t addr;		/* pc - base */
	size_t	file;		/* index in Sym.files + 1; 0 marks an empty slot */
	size_t	first;		/* its chain: Sym.rows.v[first .. first + nrow) */
	size_t	nrow;
};

typedef struct SymPc SymPc;
struct SymPc {
	int64_t	process;
	uint64_t pc;
	/* what the look-ups found */
	long	mod;		/* index in Sym.mods, -1 if no module held pc */
	size_t	first;		/* its chain: Sym.rows.v[first .. first + nrow) */
	size_t	nrow;		/* 0: one row without a name (no module, or its file is bad) */
};

typedef struct SymItem SymItem;	/* a module or a frame handed over during the run */
struct SymItem {
	int64_t	process;
	uint64_t pc;		/* a frame's; 0 for a module */
	uint64_t base, lo, hi;	/* a module's */
	char	*path;		/* a module's path, its NUL, then bidlen bytes of build-id; NULL for a frame */
	int	bidlen;
};

typedef struct SymJob Sym;	/* the state of one symbolization (sym.h's SymJob) */
struct SymJob {
	sqlite3	*db;		/* not used by the look-ups' thread */
	char	*err;		/* where fail() writes: the caller's buffer, or why */
	size_t	errlen;
	char	why[256];	/* the look-ups' reason to fail, copied out by sym_finish */
	pthread_t thread;
	int	threaded;	/* thread runs lookupall */
	int	lookuprc;	/* lookupall's result */
	double	lookupsec;	/* its seconds */
	size_t	nopen;		/* files opened with success */
	double	waitsec;	/* sym_finish's wait for the look-ups */
	double	storesec;	/* reading and writing the trace */
	SymFile	*files;
	size_t	nfile, afile;
	SymStrs	strs;		/* paths, build-ids, names, file names */
	SymMod	*mods;		/* sorted by (process, lo) */
	size_t	nmod, amod;
	SymPc	*pcs;		/* sorted by (process, pc) */
	size_t	npc, apc;
	SymRows	rows;		/* every looked-up chain, end to end */
	SymHit	*hits;		/* open addressing, a power of two of slots */
	size_t	nhit, ahit;
	sqlite3_stmt *ins;
	/* looking ahead (sym_ahead) */
	int	ahead;		/* alock, acond and athread exist */
	pthread_mutex_t alock;
	pthread_cond_t acond;
	pthread_t athread;
	SymItem	*in;		/* the recorder's items, not handed over yet */
	size_t	nin, ain;
	SymItem	*queue;		/* handed over, under alock */
	size_t	nqueue, aqueue;
	int	stop;		/* under alock: the thread leaves */
	int	afailed;	/* it ran out of memory and left */
	int64_t	amods;		/* modules it was given: their order */
	size_t	apcs;		/* addresses it looked up */
	size_t	adone;		/* items it worked through (atomic) */
	double	asec;		/* its seconds of work */
};

static int
fail(Sym *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err != NULL && s->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(s->err, s->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
dbfail(Sym *s, const char *what)
{
	return fail(s, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* sym_grow, saying why it failed. */
static int
grow(Sym *s, void *vp, size_t *cap, size_t need, size_t elem)
{
	if (sym_grow(vp, cap, need, elem) < 0)
		return fail(s, "out of memory");
	return 0;
}

static const char *
intern(Sym *s, const char *str)
{
	const char *r = symstrs_intern(&s->strs, str, strlen(str));

	if (r == NULL)
		fail(s, "out of memory");
	return r;
}

/* ---- modules and files ---------------------------------------------------- */

/* The file of (path, build-id), added unopened if new; -1 when out of memory. */
static int
findfile(Sym *s, const char *path, const void *bid, int bidlen, size_t *idx)
{
	const char *ipath, *ibid;
	SymFile *f;
	size_t i;

	ipath = intern(s, path);
	if (ipath == NULL)
		return -1;
	ibid = NULL;
	if (bidlen > 0) {
		char hex[2 * 64 + 1];
		int k;

		if (bidlen > 64)
			bidlen = 64;
		for (k = 0; k < bidlen; k++)
			snprintf(hex + 2 * k, 3, "%02x", ((const unsigned char *)bid)[k]);
		ibid = intern(s, hex);
		if (ibid == NULL)
			return -1;
	}
	for (i = 0; i < s->nfile; i++)
		if (s->files[i].path == ipath && s->files[i].bid == ibid) {
			*idx = i;
			return 0;
		}
	if (grow(s, &s->files, &s->afile, s->nfile + 1, sizeof *s->files) < 0)
		return -1;
	f = &s->files[s->nfile];
	memset(f, 0, sizeof *f);
	f->path = ipath;
	f->bid = ibid;
	f->state = SYMFILE_UNOPENED;
	*idx = s->nfile++;
	return 0;
}

static int
modcmp(const void *a, const void *b)
{
	const SymMod *x = a, *y = b;

	if (x->process != y->process)
		return x->process < y->process ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Set s->mods[i].maxhi from its hi and the module before it. */
static void
setmaxhi(Sym *s, size_t i)
{
	SymMod *m = &s->mods[i];

	m->maxhi = m->hi;
	if (i > 0 && m[-1].process == m->process && m[-1].maxhi > m->maxhi)
		m->maxhi = m[-1].maxhi;
}

/* The index of the first module of s->mods past (process, addr) in their order. */
static size_t
modafter(Sym *s, int64_t process, uint64_t addr)
{
	size_t lo, hi, mid;
	SymMod *m;

	lo = 0;
	hi = s->nmod;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		m = &s->mods[mid];
		if (m->process < process || (m->process == process && m->lo <= addr))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
loadmods(Sym *s)
{
	static const char q[] =
	    "SELECT id, process, path, buildid, base, lo, hi, loaded FROM modules";
	sqlite3_stmt *st;
	SymMod *m;
	const char *path;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "reading modules");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow(s, &s->mods, &s->amod, s->nmod + 1, sizeof *s->mods) < 0)
			goto out;
		m = &s->mods[s->nmod];
		m->id = sqlite3_column_int64(st, 0);
		m->process = sqlite3_column_int64(st, 1);
		path = (const char *)sqlite3_column_text(st, 2);
		m->base = (uint64_t)sqlite3_column_int64(st, 4);
		m->lo = (uint64_t)sqlite3_column_int64(st, 5);
		m->hi = (uint64_t)sqlite3_column_int64(st, 6);
		m->loaded = sqlite3_column_int64(st, 7);
		if (findfile(s, path ? path : "", sqlite3_column_blob(st, 3),
		    sqlite3_column_bytes(st, 3), &m->file) < 0)
			goto out;
		s->nmod++;
	}
	if (rc != SQLITE_DONE) {
		dbfail(s, "reading modules");
		goto out;
	}
	sqlite3_finalize(st);
	qsort(s->mods, s->nmod, sizeof *s->mods, modcmp);
	for (i = 0; i < s->nmod; i++)
		setmaxhi(s, i);
	return 0;
out:
	sqlite3_finalize(st);
	return -1;
}

/*
 * The module of process that held pc, or NULL.  Several may have over the
 * run (one unloaded, another loaded over it); a frame carries no time, so
 * the one loaded last wins.
 */
static SymMod *
findmod(Sym *s, int64_t process, uint64_t pc)
{
	SymMod *m, *best;
	size_t lo;

	lo = modafter(s, process, pc);
	best = NULL;
	while (lo-- > 0) {
		m = &s->mods[lo];
		if (m->process != process || m->maxhi <= pc)
			break;
		if (pc >= m->lo && pc < m->hi)
			if (best == NULL || m->loaded > best->loaded ||
			    (m->loaded == best->loaded && m->id > best->id))
				best = m;
	}
	return best;
}

/* The cached chain of (file, addr), resolved now if new; NULL if out of memory. */
static SymHit *
lookup(Sym *s, size_t file, uint64_t addr)
{
	SymHit *h, *old;
	size_t i, mask, aold;

	if (2 * (s->nhit + 1) > s->ahit) {
		old = s->hits;
		aold = s->ahit;
		s->ahit = aold ? 2 * aold : 4096;
		s->hits = calloc(s->ahit, sizeof *s->hits);
		if (s->hits == NULL) {
			s->hits = old;
			s->ahit = aold;
			fail(s, "out of memory");
			return NULL;
		}
		mask = s->ahit - 1;
		for (i = 0; i < aold; i++) {
			size_t j;

			if (old[i].file == 0)
				continue;
			j = sym_hash(&old[i].addr, sizeof old[i].addr) ^ old[i].file;
			for (j &= mask; s->hits[j].file != 0; j = (j + 1) & mask)
				;
			s->hits[j] = old[i];
		}
		free(old);
	}
	mask = s->ahit - 1;
	i = (sym_hash(&addr, sizeof addr) ^ (file + 1)) & mask;
	for (; s->hits[i].file != 0; i = (i + 1) & mask)
		if (s->hits[i].file == file + 1 && s->hits[i].addr == addr)
			return &s->hits[i];
	h = &s->hits[i];
	h->first = s->rows.n;
	if (symfile_chain(&s->files[file], &s->strs, addr - 1, &s->rows) < 0) {
		fail(s, "out of memory");
		return NULL;
	}
	h->file = file + 1;
	h->addr = addr;
	h->nrow = s->rows.n - h->first;
	s->nhit++;
	return h;
}

/* ---- the tables -------------------------------------------------------------- */

/* A set of (process, pc) pairs: open addressing, a power of two of slots. */
typedef struct PcSet PcSet;
struct PcSet {
	struct PcSlot {
		int64_t	process;
		uint64_t pc;
		int	used;
	} *v;
	size_t	n, cap;
};

static size_t
pcslot(const PcSet *t, int64_t process, uint64_t pc)
{
	uint64_t h;
	size_t i, mask;

	h = pc * 0x9e3779b97f4a7c15ull ^ (uint64_t)process * 0xc2b2ae3d27d4eb4full;
	mask = t->cap - 1;
	for (i = (size_t)(h ^ h >> 29) & mask; t->v[i].used; i = (i + 1) & mask)
		if (t->v[i].pc == pc && t->v[i].process == process)
			break;
	return i;
}

/* Add (process, pc) to t: 1 if it is new, 0 if it was there, -1 when out of memory. */
static int
pcadd(PcSet *t, int64_t process, uint64_t pc)
{
	struct PcSlot *old;
	size_t i, j, ocap;

	if (2 * (t->n + 1) > t->cap) {
		old = t->v;
		ocap = t->cap;
		t->cap = ocap ? 2 * ocap : 1 << 14;
		if ((t->v = calloc(t->cap, sizeof *t->v)) == NULL) {
			t->v = old;
			t->cap = ocap;
			return -1;
		}
		for (i = 0; i < ocap; i++)
			if (old[i].used) {
				j = pcslot(t, old[i].process, old[i].pc);
				t->v[j] = old[i];
			}
		free(old);
	}
	i = pcslot(t, process, pc);
	if (t->v[i].used)
		return 0;
	t->v[i].process = process;
	t->v[i].pc = pc;
	t->v[i].used = 1;
	t->n++;
	return 1;
}

static int
pccmp(const void *a, const void *b)
{
	const SymPc *x = a, *y = b;

	if (x->process != y->process)
		return x->process < y->process ? -1 : 1;
	return (x->pc > y->pc) - (x->pc < y->pc);
}

/*
 * The distinct (process, pc) of frames without rows in locations, sorted.
 * Found with a hash set here: SQLite would sort every frame to find them.
 */
static int
loadpcs(Sym *s)
{
	static const char have[] = "SELECT process, pc FROM locations WHERE depth = 0";
	static const char all[] = "SELECT process, pc FROM frames";
	sqlite3_stmt *st;
	PcSet set;
	int64_t process;
	uint64_t pc;
	int rc, r;

	memset(&set, 0, sizeof set);
	st = NULL;
	/* the pairs done before go into the set first, so the frames' copies of them are not new */
	if (sqlite3_prepare_v2(s->db, have, -1, &st, NULL) != SQLITE_OK) {
		dbfail(s, "reading locations");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (pcadd(&set, sqlite3_column_int64(st, 0),
		    (uint64_t)sqlite3_column_int64(st, 1)) < 0) {
			fail(s, "out of memory");
			goto out;
		}
	if (rc != SQLITE_DONE) {
		dbfail(s, "reading locations");
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, all, -1, &st, NULL) != SQLITE_OK) {
		dbfail(s, "reading frames");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		process = sqlite3_column_int64(st, 0);
		pc = (uint64_t)sqlite3_column_int64(st, 1);
		if ((r = pcadd(&set, process, pc)) < 0 ||
		    (r == 1 && grow(s, &s->pcs, &s->apc, s->npc + 1, sizeof *s->pcs) < 0)) {
			fail(s, "out of memory");
			goto out;
		}
		if (r == 1) {
			s->pcs[s->npc].process = process;
			s->pcs[s->npc].pc = pc;
			s->npc++;
		}
	}
	if (rc != SQLITE_DONE) {
		dbfail(s, "reading frames");
		goto out;
	}
	sqlite3_finalize(st);
	free(set.v);
	qsort(s->pcs, s->npc, sizeof *s->pcs, pccmp);
	return 0;
out:
	sqlite3_finalize(st);
	free(set.v);
	return -1;
}

static void
bindtext(sqlite3_stmt *st, int col, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static void
bindint(sqlite3_stmt *st, int col, int v)
{
	if (v > 0)
		sqlite3_bind_int(st, col, v);
	else
		sqlite3_bind_null(st, col);
}

/* Insert one row of locations; m NULL when no module held pc. */
static int
putrow(Sym *s, const SymPc *p, int depth, const SymRow *r, const SymMod *m)
{
	sqlite3_stmt *st = s->ins;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, p->process);
	sqlite3_bind_int64(st, 2, (int64_t)p->pc);
	sqlite3_bind_int(st, 3, depth);
	bindtext(st, 4, r ? r->function : NULL);
	bindtext(st, 5, r ? r->file : NULL);
	bindint(st, 6, r ? r->line : 0);
	bindint(st, 7, r ? r->column : 0);
	if (m != NULL) {
		sqlite3_bind_int64(st, 8, m->id);
		sqlite3_bind_int64(st, 9, (int64_t)(p->pc - m->base));
	} else {
		sqlite3_bind_null(st, 8);
		sqlite3_bind_null(st, 9);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		return dbfail(s, "writing locations");
	return 0;
}

static double
seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Find each pc's module and chain; touches no SQLite.  -1 only when out of memory. */
static int
lookupall(Sym *s)
{
	SymPc *p;
	SymMod *m;
	SymFile *f;
	SymHit *h;
	size_t i;

	for (i = 0; i < s->npc; i++) {
		p = &s->pcs[i];
		m = p->pc != 0 ? findmod(s, p->process, p->pc) : NULL;
		p->mod = m != NULL ? (long)(m - s->mods) : -1;
		p->first = p->nrow = 0;
		f = m ? &s->files[m->file] : NULL;
		if (f != NULL && f->state == SYMFILE_UNOPENED) {
			symfile_open(f);
			s->nopen += f->state == SYMFILE_OPEN;
		}
		if (f == NULL || f->state != SYMFILE_OPEN)
			continue;
		h = lookup(s, m->file, p->pc - m->base);
		if (h == NULL)
			return -1;
		p->first = h->first;	/* h moves when the table grows; its rows do not */
		p->nrow = h->nrow;
	}
	if (s->strs.nomem)
		return fail(s, "out of memory");
	return 0;
}

static void
lookuptimed(Sym *s)
{
	double t0 = seconds();

	s->lookuprc = lookupall(s);
	s->lookupsec = seconds() - t0;
}

static void *
lookupthread(void *arg)
{
	sigset_t all;

	/* signals are the caller's business: let its thread take them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	lookuptimed(arg);
	return NULL;
}

/* ---- looking ahead, during the run ------------------------------------------- */

/* Whether the ahead thread was told to leave. */
static int
stopping(Sym *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_RELAXED);
}

/* Put its module into s->mods, kept sorted by (process, lo); -1 when out of memory. */
static int
aheadmod(Sym *s, const SymItem *it)
{
	size_t file, lo, i;
	SymMod *m;

	if (findfile(s, it->path, it->path + strlen(it->path) + 1, it->bidlen, &file) < 0 ||
	    grow(s, &s->mods, &s->amod, s->nmod + 1, sizeof *s->mods) < 0)
		return -1;
	lo = modafter(s, it->process, it->lo);
	memmove(&s->mods[lo + 1], &s->mods[lo], (s->nmod - lo) * sizeof *s->mods);
	m = &s->mods[lo];
	memset(m, 0, sizeof *m);
	m->id = m->loaded = ++s->amods;	/* the one given last wins, as the one loaded last does */
	m->process = it->process;
	m->base = it->base;
	m->lo = it->lo;
	m->hi = it->hi;
	m->file = file;
	s->nmod++;
	/* maxhi from here to the end of the process's modules */
	for (i = lo; i < s->nmod && s->mods[i].process == it->process; i++)
		setmaxhi(s, i);
	return 0;
}

/* Look its frame up in the module map so far; -1 when out of memory. */
static int
aheadpc(Sym *s, const SymItem *it)
{
	SymMod *m;
	SymFile *f;
	size_t n;

	if ((m = findmod(s, it->process, it->pc)) == NULL)
		return 0;
	f = &s->files[m->file];
	if (f->state == SYMFILE_UNOPENED) {
		symfile_open(f);
		s->nopen += f->state == SYMFILE_OPEN;
	}
	if (f->state != SYMFILE_OPEN)
		return 0;
	n = s->nhit;
	if (lookup(s, m->file, it->pc - m->base) == NULL)
		return -1;
	s->apcs += s->nhit - n;
	return 0;
}

static void
freeitems(SymItem *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
}

/* The ahead thread: takes the queue whole, works through it, waits for more. */
static void *
aheadthread(void *arg)
{
	Sym *s = arg;
	SymItem *v, *t;
	size_t n, a, i;
	sigset_t all;
	double t0;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	v = NULL;
	n = a = 0;
	pthread_mutex_lock(&s->alock);
	for (;;) {
		while (s->nqueue == 0 && !s->stop)
			pthread_cond_wait(&s->acond, &s->alock);
		if (s->stop)
			break;
		/* leave the queue our empty array */
		t = s->queue;
		s->queue = v;
		v = t;
		n = s->nqueue;
		s->nqueue = 0;
		i = s->aqueue;
		s->aqueue = a;
		a = i;
		pthread_mutex_unlock(&s->alock);
		t0 = seconds();
		rc = 0;
		for (i = 0; i < n && rc == 0 && !stopping(s); i++) {
			rc = v[i].path != NULL ? aheadmod(s, &v[i]) : aheadpc(s, &v[i]);
			__atomic_add_fetch(&s->adone, 1, __ATOMIC_RELAXED);
		}
		s->asec += seconds() - t0;
		freeitems(v, n);
		n = 0;
		pthread_mutex_lock(&s->alock);
		if (rc < 0) {
			s->afailed = 1;	/* the look-ups after the run do it all */
			break;
		}
	}
	pthread_mutex_unlock(&s->alock);
	free(v);
	return NULL;
}

/* Hand the recorder's items to the thread. */
static void
handover(Sym *s)
{
	SymItem *t;
	size_t a;

	pthread_mutex_lock(&s->alock);
	if (s->stop || s->afailed) {
		freeitems(s->in, s->nin);
	} else if (s->nqueue == 0) {
		t = s->queue;
		s->queue = s->in;
		s->in = t;
		a = s->aqueue;
		s->aqueue = s->ain;
		s->ain = a;
		s->nqueue = s->nin;
	} else if (sym_grow(&s->queue, &s->aqueue, s->nqueue + s->nin, sizeof *s->queue) == 0) {
		memcpy(&s->queue[s->nqueue], s->in, s->nin * sizeof *s->in);
		s->nqueue += s->nin;
	} else
		freeitems(s->in, s->nin);	/* left to the look-ups after the run */
	s->nin = 0;
	pthread_cond_signal(&s->acond);
	pthread_mutex_unlock(&s->alock);
}

/* A new item at the end of s->in, NULL when out of memory. */
static SymItem *
newitem(Sym *s)
{
	SymItem *it;

	if (sym_grow(&s->in, &s->ain, s->nin + 1, sizeof *s->in) < 0)
		return NULL;
	it = &s->in[s->nin++];
	memset(it, 0, sizeof *it);
	return it;
}

/* Contract in sym.h. */
SymJob *
sym_ahead(void)
{
	Sym *s;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->err = s->why;
	s->errlen = sizeof s->why;
	if (pthread_mutex_init(&s->alock, NULL) != 0) {
		free(s);
		return NULL;
	}
	if (pthread_cond_init(&s->acond, NULL) != 0) {
		pthread_mutex_destroy(&s->alock);
		free(s);
		return NULL;
	}
	if (pthread_create(&s->athread, NULL, aheadthread, s) != 0) {
		pthread_cond_destroy(&s->acond);
		pthread_mutex_destroy(&s->alock);
		free(s);
		return NULL;
	}
	s->ahead = 1;
	return s;
}

/* Contract in sym.h. */
void
sym_ahead_module(SymJob *s, int64_t process, const char *path, const void *bid, int bidlen,
    uint64_t base, uint64_t lo, uint64_t hi)
{
	SymItem *it;
	size_t n;

	if (bidlen < 0)
		bidlen = 0;
	n = strlen(path);
	if ((it = newitem(s)) == NULL)
		return;
	if ((it->path = malloc(n + 1 + (size_t)bidlen)) == NULL) {
		s->nin--;
		return;
	}
	memcpy(it->path, path, n + 1);
	if (bidlen > 0)
		memcpy(it->path + n + 1, bid, (size_t)bidlen);
	it->bidlen = bidlen;
	it->process = process;
	it->base = base;
	it->lo = lo;
	it->hi = hi;
}

/* Contract in sym.h. */
void
sym_ahead_pc(SymJob *s, int64_t process, uint64_t pc)
{
	SymItem *it;

	if (pc == 0 || (it = newitem(s)) == NULL)
		return;
	it->process = process;
	it->pc = pc;
	if (s->nin >= AHEADBATCH)
		handover(s);
}

/* Contract in sym.h. */
void
sym_ahead_flush(SymJob *s)
{
	if (s->nin > 0)
		handover(s);
}

/* Contract in sym.h. */
size_t
sym_ahead_done(SymJob *s)
{
	return __atomic_load_n(&s->adone, __ATOMIC_RELAXED);
}

/* Stop the ahead thread, if any, and free what it was not given time to do. */
static void
aheadstop(Sym *s)
{
	if (!s->ahead)
		return;
	pthread_mutex_lock(&s->alock);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&s->acond);
	pthread_mutex_unlock(&s->alock);
	pthread_join(s->athread, NULL);
	pthread_cond_destroy(&s->acond);
	pthread_mutex_destroy(&s->alock);
	freeitems(s->queue, s->nqueue);
	freeitems(s->in, s->nin);
	free(s->queue);
	free(s->in);
	s->queue = s->in = NULL;
	s->nqueue = s->nin = s->aqueue = s->ain = 0;
	s->ahead = 0;
}

/* Write what lookupall found, and meta 'symbolized'. */
static int
writeall(Sym *s)
{
	static const char ins[] =
	    "INSERT INTO locations(process, pc, depth, function, file, line,"
	    " \"column\", module, \"offset\") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	static const char meta[] =
	    "INSERT OR REPLACE INTO meta(key, value) VALUES ('symbolized', 'yes')";
	const SymPc *p;
	const SymMod *m;
	size_t i, k;

	if (sqlite3_prepare_v2(s->db, ins, -1, &s->ins, NULL) != SQLITE_OK)
		return dbfail(s, "writing locations");
	for (i = 0; i < s->npc; i++) {
		p = &s->pcs[i];
		m = p->mod >= 0 ? &s->mods[p->mod] : NULL;
		if (p->nrow == 0 && putrow(s, p, 0, NULL, m) < 0)
			return -1;
		for (k = 0; k < p->nrow; k++)
			if (putrow(s, p, (int)k, &s->rows.v[p->first + k], m) < 0)
				return -1;
	}
	if (sqlite3_exec(s->db, meta, NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(s, "writing meta");
	return 0;
}

static void
freeall(Sym *s)
{
	size_t i;

	aheadstop(s);
	sqlite3_finalize(s->ins);
	for (i = 0; i < s->nfile; i++)
		symfile_close(&s->files[i]);
	symstrs_free(&s->strs);
	free(s->files);
	free(s->mods);
	free(s->pcs);
	free(s->rows.v);
	free(s->hits);
	free(s);
}

/* Contract in sym.h. */
SymJob *
sym_start(sqlite3 *db, SymJob *ahead, char *err, size_t errlen)
{
	Sym *s;
	double t0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (ahead != NULL) {
		/* its files and its cache stay; the tables give the module map */
		aheadstop(ahead);
		ahead->nmod = 0;
		s = ahead;
	} else
		s = calloc(1, sizeof *s);
	if (s == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t0 = seconds();
	s->db = db;
	s->err = err;
	s->errlen = errlen;
	if (loadmods(s) < 0 || loadpcs(s) < 0) {
		freeall(s);
		return NULL;
	}
	s->storesec = seconds() - t0;
	/* from here on the look-ups say why they failed in s->why */
	s->err = s->why;
	s->errlen = sizeof s->why;
	s->db = NULL;
	if (s->npc == 0)
		return s;
	if (pthread_create(&s->thread, NULL, lookupthread, s) == 0)
		s->threaded = 1;
	else
		lookuptimed(s);	/* no thread to be had: the same work, now */
	return s;
}

/* Wait for the look-ups; the seconds it took into s->waitsec. */
static void
join(Sym *s)
{
	double t0 = seconds();

	if (s->threaded)
		pthread_join(s->thread, NULL);
	s->threaded = 0;
	s->waitsec = seconds() - t0;
}

/* Contract in sym.h. */
int
sym_finish(SymJob *s, sqlite3 *db, SymStats *st, char *err, size_t errlen)
{
	double t0;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	join(s);
	t0 = seconds();
	s->db = db;
	s->err = err;
	s->errlen = errlen;
	rc = -1;
	if (s->lookuprc < 0) {
		fail(s, "%s", s->why);
		goto done;
	}
	if (sqlite3_exec(db, "SAVEPOINT sym_resolve", NULL, NULL, NULL) != SQLITE_OK) {
		dbfail(s, "starting a transaction");
		goto done;
	}
	if (writeall(s) == 0)
		rc = s->npc > INT_MAX ? INT_MAX : (int)s->npc;
	sqlite3_finalize(s->ins);
	s->ins = NULL;
	if (rc < 0)
		sqlite3_exec(db, "ROLLBACK TO sym_resolve", NULL, NULL, NULL);
	if (sqlite3_exec(db, "RELEASE sym_resolve", NULL, NULL, NULL) != SQLITE_OK &&
	    rc >= 0) {
		dbfail(s, "committing locations");
		rc = -1;
	}
done:
	s->storesec += seconds() - t0;
	if (st != NULL) {
		st->pcs = rc >= 0 ? s->npc : 0;
		st->files = s->nopen;
		st->lookup = s->lookupsec;
		st->wait = s->waitsec;
		st->store = s->storesec;
		st->ahead = s->apcs;
		st->aheadsec = s->asec;
	}
	freeall(s);
	return rc;
}

/* Contract in sym.h. */
void
sym_abandon(SymJob *s)
{
	if (s == NULL)
		return;
	join(s);
	freeall(s);
}

/* Contract in sym.h. */
int
sym_resolve(sqlite3 *db, char *err, size_t errlen)
{
	Sym *s;

	s = sym_start(db, NULL, err, errlen);
	if (s == NULL)
		return -1;
	return sym_finish(s, db, NULL, err, errlen);
}
