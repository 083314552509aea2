/*
 * libpooldbg/trace-vtab.c -- tables events and blocks of a trace, as
 * SQLite virtual tables over the packed pages of event_pages (trace-pack.h)
 * and the real table live_blocks.  An events row is one event of a page;
 * a blocks row is a lifetime: the event that began it and, for one that
 * ended, the free or realloc that names it (its back distance), or a row
 * of live_blocks for one still live when its image ended.
 *
 * Access paths without a scan of the whole trace: events by seq = ? and
 * seq ranges; blocks by alloc_seq = ?, free_seq = ? and ranges,
 * free_seq IS NULL (live_blocks, by process too).  A whole scan reads the
 * pages in order once, keeping the open lifetimes in a hash table.
 *
 * Built twice: into the tools (trace_vtab_register) and, with
 * POOLDBG_EXTENSION, alone as the loadable extension pooldbg_trace, so it
 * must never call into the rest of libpooldbg or the tools, and never
 * write anything but what an INSERT asks for (appended pages and
 * live_blocks rows).
 */
#include "config.h"

#ifdef POOLDBG_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
int	sqlite3_pooldbgtrace_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);
#else
#include <sqlite3.h>
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace-calls.h"
#include "trace-pack.h"

#ifndef POOLDBG_EXTENSION
int	trace_vtab_register(sqlite3 *db);
#endif

enum { NSLOT = 8, SQLPAGE = 256 };

/* A decoded page in the table's cache. */
typedef struct Slot Slot;
struct Slot {
	int64_t	first;		/* 0: empty */
	int	n;
	unsigned tick;		/* last use */
	PackEvent *ev;
};

typedef struct Vt Vt;
struct Vt {
	sqlite3_vtab base;
	sqlite3	*db;
	int	blocks;		/* 0: events, 1: blocks */
	sqlite3_stmt *qat;	/* the page holding a seq */
	sqlite3_stmt *qnext;	/* the page after one */
	Slot	slot[NSLOT];
	unsigned tick;
	sqlite3_int64 changes;	/* -1: the cache is to be dropped (this connection appended a page) */
	unsigned dataver;
};

/* An open lifetime of a whole scan, by the seq that began it. */
typedef struct Open Open;
struct Open {
	int64_t	seq;		/* 0: empty slot */
	PackEvent e;
};

enum {	/* plans: events */
	EV_EQ = 1, EV_LO = 2, EV_HI = 4, EV_LOX = 8, EV_HIX = 16,
	/* blocks, in idxNum's bits above 5 */
	BL_LIVE = 32, BL_ALLOC = 64, BL_ENDED = 128, BL_PROC = 256,
};

typedef struct Cur Cur;
struct Cur {
	sqlite3_vtab_cursor base;
	Vt	*vt;
	int	plan;
	int64_t	lo, hi;		/* seqs (events) or free_seqs (blocks), both ends included */
	int64_t	want;		/* BL_ALLOC: the lifetime's alloc_seq */
	int	eof;
	PackEvent *ev;		/* the page being read: own, or a page of the cache */
	PackEvent *own;
	int	n, i;
	int64_t	pagefirst;	/* 0: none yet */
	int	track;		/* the scan began at the first page: opens[] knows every lifetime */
	Open	*open;
	size_t	openmask, nopen;
	int	live;		/* blocks: reading live_blocks */
	int	wantlive;	/* blocks: live_blocks after the pages */
	sqlite3_stmt *qlive;
	Open	*pre;		/* blocks, a scan not from the first page: this page's lifetimes' beginnings */
	size_t	premask;
	PackEvent a;		/* blocks: the event that began the row's lifetime */
	int	ptrok;		/* events: ev[i].ptr is resolved */
};

/* ---- pages ---- */

static int
prep(Vt *v, sqlite3_stmt **st, const char *sql)
{
	if (*st != NULL)
		return SQLITE_OK;
	return sqlite3_prepare_v3(v->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

/*
 * Read the page holding seq (next 0) or the first one after the page
 * whose first is seq (next 1), decoded into ev (PACK_MAXEVENTS); *first
 * 0 when there is none.  SQLITE_OK or an error.
 */
static int
readpage(Vt *v, int64_t seq, int next, PackEvent *ev, int *n, int64_t *first)
{
	sqlite3_stmt *st;
	int rc;

	*first = 0;
	*n = 0;
	rc = next ? prep(v, &v->qnext, "SELECT first, data FROM event_pages WHERE first > ?1"
	    " ORDER BY first LIMIT 1") : prep(v, &v->qat, "SELECT first, data FROM event_pages"
	    " WHERE first <= ?1 ORDER BY first DESC LIMIT 1");
	if (rc != SQLITE_OK)
		return rc;
	st = next ? v->qnext : v->qat;
	sqlite3_bind_int64(st, 1, seq);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*first = sqlite3_column_int64(st, 0);
		*n = pack_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
		    *first, ev, PACK_MAXEVENTS, NULL);
		rc = *n < 0 ? SQLITE_CORRUPT : SQLITE_OK;
		if (*n < 0)
			*n = 0;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_reset(st);
	return rc;
}

/* The index in ev[n] (seqs growing) of seq, or -1. */
static int
findseq(const PackEvent *ev, int n, int64_t seq)
{
	int lo, hi, m;

	lo = 0;
	hi = n;
	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (ev[m].seq < seq)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < n && ev[lo].seq == seq ? lo : -1;
}

/* Forget the cache if the trace changed since it was filled. */
static void
checkcache(Vt *v)
{
	sqlite3_int64 c;
	unsigned dv;
	int i;

	c = 0;	/* this connection's own INSERTs clear the cache themselves */
	dv = 0;
	sqlite3_file_control(v->db, "main", SQLITE_FCNTL_DATA_VERSION, &dv);
	if (c == v->changes && dv == v->dataver)
		return;
	v->changes = c;
	v->dataver = dv;
	for (i = 0; i < NSLOT; i++)
		v->slot[i].first = 0;
}

/* The event seq, from the cache or read into it; NULL if there is none. */
static const PackEvent *
cached(Vt *v, int64_t seq)
{
	Slot *s, *old;
	int i, k;

	old = &v->slot[0];
	for (i = 0; i < NSLOT; i++) {
		s = &v->slot[i];
		if (s->first != 0 && s->first <= seq && s->n > 0 && s->ev[s->n - 1].seq >= seq) {
			s->tick = ++v->tick;
			k = findseq(s->ev, s->n, seq);
			return k < 0 ? NULL : &s->ev[k];
		}
		if (s->first == 0 || s->tick < old->tick)
			old = s;
	}
	if (old->ev == NULL && (old->ev = sqlite3_malloc64(PACK_MAXEVENTS * sizeof *old->ev)) == NULL)
		return NULL;
	if (readpage(v, seq, 0, old->ev, &old->n, &old->first) != SQLITE_OK || old->first == 0) {
		old->first = 0;
		return NULL;
	}
	old->tick = ++v->tick;
	k = findseq(old->ev, old->n, seq);
	return k < 0 ? NULL : &old->ev[k];
}

/* ---- open lifetimes of a whole scan ---- */

static size_t
ohash(int64_t seq)
{
	uint64_t h;

	h = (uint64_t)seq * 0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ h >> 29);
}

static Open *
ofindin(Open *t, size_t mask, int64_t seq)
{
	size_t i;

	if (t == NULL)
		return NULL;
	for (i = ohash(seq) & mask; t[i].seq != 0; i = (i + 1) & mask)
		if (t[i].seq == seq)
			return &t[i];
	return NULL;
}

static Open *
ofind(Cur *c, int64_t seq)
{
	return ofindin(c->open, c->openmask, seq);
}

static void
oput(Open *t, size_t mask, const PackEvent *e)
{
	size_t i;

	for (i = ohash(e->seq) & mask; t[i].seq != 0; i = (i + 1) & mask)
		;
	t[i].seq = e->seq;
	t[i].e = *e;
}

/* Remember e, which began a lifetime; -1 out of memory (the scan stops tracking). */
static int
oadd(Cur *c, const PackEvent *e)
{
	Open *t;
	size_t i, n;

	if ((c->nopen + 1) * 2 > c->openmask + 1 || c->open == NULL) {
		n = c->open == NULL ? 1024 : (c->openmask + 1) * 2;
		if ((t = sqlite3_malloc64(n * sizeof *t)) == NULL)
			return -1;
		memset(t, 0, n * sizeof *t);
		for (i = 0; c->open != NULL && i <= c->openmask; i++)
			if (c->open[i].seq != 0)
				oput(t, n - 1, &c->open[i].e);
		sqlite3_free(c->open);
		c->open = t;
		c->openmask = n - 1;
	}
	oput(c->open, c->openmask, e);
	c->nopen++;
	return 0;
}

static void
odel(Cur *c, Open *o)
{
	size_t i, j, k;

	i = (size_t)(o - c->open);
	c->open[i].seq = 0;
	c->nopen--;
	for (j = (i + 1) & c->openmask; c->open[j].seq != 0; j = (j + 1) & c->openmask) {
		k = ohash(c->open[j].seq) & c->openmask;
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			c->open[i] = c->open[j];
			c->open[j].seq = 0;
			i = j;
		}
	}
}

static int
seqcmp(const void *a, const void *b)
{
	int64_t x, y;

	x = *(const int64_t *)a;
	y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * A blocks scan that did not start at the first page, on a new page: the
 * events that began the lifetimes its events in range end, before this
 * page, read in seq order into c->pre, so that each page they are in is
 * decoded once rather than once for each of its lifetimes in free order.
 * Out of memory leaves c->pre empty: began then reads them one by one.
 */
static void
prefill(Cur *c)
{
	const PackEvent *e, *p;
	int64_t *want, s;
	size_t n, k, size;

	sqlite3_free(c->pre);
	c->pre = NULL;
	c->premask = 0;
	if (c->n == 0 || (want = sqlite3_malloc64((size_t)c->n * sizeof *want)) == NULL)
		return;
	n = 0;
	for (e = c->ev; e < c->ev + c->n; e++) {
		if (e->seq < c->lo || e->seq > c->hi || e->back <= 0)
			continue;
		s = e->seq - e->back;
		if (s < c->ev[0].seq && (c->want == 0 || s == c->want))
			want[n++] = s;
	}
	for (size = 16; size < 2 * n; size *= 2)
		;
	if (n > 0 && (c->pre = sqlite3_malloc64(size * sizeof *c->pre)) != NULL) {
		memset(c->pre, 0, size * sizeof *c->pre);
		c->premask = size - 1;
		qsort(want, n, sizeof *want, seqcmp);
		for (k = 0; k < n; k++)
			if ((k == 0 || want[k] != want[k - 1]) && (p = cached(c->vt, want[k])) != NULL)
				oput(c->pre, c->premask, p);
	}
	sqlite3_free(want);
}

/* Whether e began a lifetime (an alloc or realloc that returned a block). */
static int
begins(const PackEvent *e)
{
	return e->process != 0 && ((e->type == 1 && e->ptr != 0) || (e->type == 3 && e->newptr != 0));
}

/* The event that began the lifetime the cursor's event ends, into *a; 0, or -1 if not found. */
static int
began(Cur *c, const PackEvent *e, PackEvent *a)
{
	const PackEvent *p;
	Open *o;
	int64_t seq;
	int k;

	seq = e->seq - e->back;
	if (c->track && (o = ofind(c, seq)) != NULL) {
		*a = o->e;
		return 0;
	}
	if ((o = ofindin(c->pre, c->premask, seq)) != NULL) {
		*a = o->e;
		return 0;
	}
	if (c->ev != NULL && c->n > 0 && seq >= c->ev[0].seq && (k = findseq(c->ev, c->n, seq)) >= 0) {
		*a = c->ev[k];
		return 0;
	}
	if ((p = cached(c->vt, seq)) == NULL)
		return -1;
	*a = *p;
	return 0;
}

/* ---- the cursor's walk over the pages ---- */

/* After a page was read (rc): -1 an error, 0 no page, 1 the cursor is before its first event. */
static int
turned(Cur *c, int rc)
{
	if (rc != SQLITE_OK)
		return -1;
	if (c->pagefirst == 0)
		return 0;
	c->i = -1;
	if (c->vt->blocks && !c->track)
		prefill(c);
	return 1;
}

/* Move to the next event of the range: 1 there is one, 0 the end, -1 an error. */
static int
step(Cur *c)
{
	PackEvent *e;
	Open *o;
	int rc, r;

	for (;;) {
		if (c->pagefirst == 0 && c->lo == c->hi && !c->vt->blocks) {
			/* one event: read through the cache, shared by the lookups */
			const PackEvent *p;

			c->pagefirst = -1;
			if ((p = cached(c->vt, c->lo)) == NULL)
				return 0;
			c->ev = (PackEvent *)(uintptr_t)p;	/* the reader fills in ptr, nothing else */
			c->n = 1;
			c->i = 0;
			return 1;
		}
		if (c->pagefirst == -1)
			return 0;
		if (c->pagefirst == 0) {
			rc = readpage(c->vt, c->lo, 0, c->ev, &c->n, &c->pagefirst);
			if (rc == SQLITE_OK && (c->pagefirst == 0 || c->n == 0 ||
			    c->ev[c->n - 1].seq < c->lo))
				rc = readpage(c->vt, c->pagefirst, 1, c->ev, &c->n, &c->pagefirst);
			if ((r = turned(c, rc)) <= 0)
				return r;
		}
		if (++c->i >= c->n) {
			c->ev = c->own;
			if ((r = turned(c, readpage(c->vt, c->pagefirst, 1, c->ev, &c->n,
			    &c->pagefirst))) <= 0)
				return r;
			continue;
		}
		e = &c->ev[c->i];
		if (e->seq < c->lo)
			continue;
		if (e->seq > c->hi)
			return 0;
		if (c->track) {
			if (e->back > 0 && (o = ofind(c, e->seq - e->back)) != NULL) {
				if (e->ptr == 0)
					e->ptr = o->e.type == 1 ? o->e.ptr : o->e.newptr;
				if (c->vt->blocks) {
					c->a = o->e;
					odel(c, o);
					if (begins(e) && oadd(c, e) < 0)
						c->track = 0;
					return 1;
				}
				odel(c, o);
			}
			if (begins(e) && oadd(c, e) < 0)
				c->track = 0;
		}
		if (!c->vt->blocks)
			return 1;
		if (e->back > 0 && (c->want == 0 || e->seq - e->back == c->want) &&
		    began(c, e, &c->a) == 0)
			return 1;
	}
}

/* The next row of live_blocks: 1, 0 at the end, -1 an error. */
static int
steplive(Cur *c)
{
	int rc;

	rc = sqlite3_step(c->qlive);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- the module ---- */

static const char evdecl[] = "CREATE TABLE x(seq INTEGER, process INTEGER, time INTEGER,"
	" tid INTEGER, type TEXT, call TEXT, flags INTEGER, ptr INTEGER, newptr INTEGER,"
	" size INTEGER, align INTEGER, stack INTEGER)";
static const char bldecl[] = "CREATE TABLE x(process INTEGER, ptr INTEGER, size INTEGER,"
	" call TEXT, stack INTEGER, alloc_seq INTEGER, alloc_time INTEGER, free_seq INTEGER,"
	" free_time INTEGER, free_call TEXT, free_stack INTEGER)";
enum { B_PROCESS, B_PTR, B_SIZE, B_CALL, B_STACK, B_ASEQ, B_ATIME, B_FSEQ, B_FTIME,
	B_FCALL, B_FSTACK };
enum { E_SEQ, E_PROCESS, E_TIME, E_TID, E_TYPE, E_CALL, E_FLAGS, E_PTR, E_NEWPTR, E_SIZE,
	E_ALIGN, E_STACK };

static int
vconnect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **vtab,
    char **err)
{
	Vt *v;
	int rc;

	(void)argc;
	(void)argv;
	(void)err;
	rc = sqlite3_declare_vtab(db, aux != NULL ? bldecl : evdecl);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
	if ((v = sqlite3_malloc(sizeof *v)) == NULL)
		return SQLITE_NOMEM;
	memset(v, 0, sizeof *v);
	v->db = db;
	v->blocks = aux != NULL;
	v->changes = -1;
	*vtab = &v->base;
	return SQLITE_OK;
}

static int
vdisconnect(sqlite3_vtab *vtab)
{
	Vt *v = (Vt *)vtab;
	int i;

	sqlite3_finalize(v->qat);
	sqlite3_finalize(v->qnext);
	for (i = 0; i < NSLOT; i++)
		sqlite3_free(v->slot[i].ev);
	sqlite3_free(v);
	return SQLITE_OK;
}

static int
vbestindex(sqlite3_vtab *vtab, sqlite3_index_info *ii)
{
	Vt *v = (Vt *)vtab;
	const struct sqlite3_index_constraint *k;
	int i, eq, lo, hi, isnull, notnull, aeq, proc, plan, n, rangecol;
	double cost;

	eq = lo = hi = isnull = notnull = aeq = proc = -1;
	plan = 0;
	rangecol = v->blocks ? B_FSEQ : E_SEQ;
	for (i = 0; i < ii->nConstraint; i++) {
		k = &ii->aConstraint[i];
		if (!k->usable)
			continue;
		if (k->iColumn == rangecol || (!v->blocks && k->iColumn == -1)) {
			if (k->op == SQLITE_INDEX_CONSTRAINT_EQ && eq < 0)
				eq = i;
			else if ((k->op == SQLITE_INDEX_CONSTRAINT_GT ||
			    k->op == SQLITE_INDEX_CONSTRAINT_GE) && lo < 0)
				lo = i;
			else if ((k->op == SQLITE_INDEX_CONSTRAINT_LT ||
			    k->op == SQLITE_INDEX_CONSTRAINT_LE) && hi < 0)
				hi = i;
			else if (k->op == SQLITE_INDEX_CONSTRAINT_ISNULL)
				isnull = i;
			else if (k->op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL)
				notnull = i;
		} else if (v->blocks && (k->iColumn == B_ASEQ || k->iColumn == -1) &&
		    k->op == SQLITE_INDEX_CONSTRAINT_EQ && aeq < 0)
			aeq = i;
		else if (v->blocks && k->iColumn == B_PROCESS && k->op == SQLITE_INDEX_CONSTRAINT_EQ &&
		    proc < 0)
			proc = i;
	}
	n = 0;
	cost = 1e7;
	if (v->blocks && isnull >= 0) {
		/* the live ones: live_blocks, by alloc_seq or process if given */
		plan = BL_LIVE;
		cost = 2000;
		ii->aConstraintUsage[isnull].omit = 1;
		if (aeq >= 0) {
			plan |= BL_ALLOC;
			ii->aConstraintUsage[aeq].argvIndex = ++n;
			cost = 5;
		} else if (proc >= 0) {
			plan |= BL_PROC;
			ii->aConstraintUsage[proc].argvIndex = ++n;
			cost = 1000;
		}
	} else if (eq >= 0) {
		plan = EV_EQ;
		ii->aConstraintUsage[eq].argvIndex = ++n;
		cost = 20;
	} else if (v->blocks && aeq >= 0) {
		/* live_blocks, else a walk forward to the event that ends it: dear */
		plan = BL_ALLOC;
		ii->aConstraintUsage[aeq].argvIndex = ++n;
		cost = 50000;
	} else if (lo >= 0 || hi >= 0) {
		if (lo >= 0) {
			plan |= EV_LO | (ii->aConstraint[lo].op == SQLITE_INDEX_CONSTRAINT_GT ? EV_LOX : 0);
			ii->aConstraintUsage[lo].argvIndex = ++n;
		}
		if (hi >= 0) {
			plan |= EV_HI | (ii->aConstraint[hi].op == SQLITE_INDEX_CONSTRAINT_LT ? EV_HIX : 0);
			ii->aConstraintUsage[hi].argvIndex = ++n;
		}
		cost = lo >= 0 && hi >= 0 ? 1000 : 1e6;
	} else if (v->blocks && notnull >= 0) {
		plan = BL_ENDED;
		ii->aConstraintUsage[notnull].omit = 1;
	}
	if (v->blocks && plan != 0 && !(plan & BL_LIVE))
		plan |= BL_ENDED;	/* a free_seq bound: only lifetimes that ended */
	ii->idxNum = plan;
	ii->estimatedCost = cost;
	if (plan & EV_EQ)
		ii->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
	if (!v->blocks && ii->nOrderBy == 1 && (ii->aOrderBy[0].iColumn == E_SEQ ||
	    ii->aOrderBy[0].iColumn == -1) && !ii->aOrderBy[0].desc)
		ii->orderByConsumed = 1;
	return SQLITE_OK;
}

static int
vopen(sqlite3_vtab *vtab, sqlite3_vtab_cursor **cur)
{
	Cur *c;

	if ((c = sqlite3_malloc(sizeof *c)) == NULL)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof *c);
	c->vt = (Vt *)vtab;
	if ((c->ev = c->own = sqlite3_malloc64(PACK_MAXEVENTS * sizeof *c->ev)) == NULL) {
		sqlite3_free(c);
		return SQLITE_NOMEM;
	}
	*cur = &c->base;
	return SQLITE_OK;
}

static int
vclose(sqlite3_vtab_cursor *cur)
{
	Cur *c = (Cur *)cur;

	sqlite3_finalize(c->qlive);
	sqlite3_free(c->open);
	sqlite3_free(c->pre);
	sqlite3_free(c->own);
	sqlite3_free(c);
	return SQLITE_OK;
}

/*
 * A bound as an integer: *v gets it rounded the way that keeps every row
 * it admits (up for a lower bound, down for an upper).  0 no bound (not a
 * number: SQLite checks it), 1 a bound, -1 NULL (no row matches).
 */
static int
bound(sqlite3_value *x, int upper, int64_t *v)
{
	double d;

	switch (sqlite3_value_numeric_type(x)) {
	case SQLITE_INTEGER:
		*v = sqlite3_value_int64(x);
		return 1;
	case SQLITE_FLOAT:
		d = sqlite3_value_double(x);
		if (d != d)
			return -1;
		if (d > 9e18 || d < -9e18)
			return 0;
		*v = (int64_t)(upper ? floor(d) : ceil(d));
		return 1;
	case SQLITE_NULL:
		return -1;
	default:
		return 0;
	}
}

/* Reset c to begin a new walk. */
static void
restart(Cur *c)
{
	c->eof = 0;
	c->ev = c->own;
	c->pagefirst = 0;
	c->n = c->i = 0;
	c->live = c->wantlive = 0;
	c->want = 0;
	c->track = 0;
	c->lo = 1;
	c->hi = INT64_MAX;
	sqlite3_free(c->open);
	c->open = NULL;
	c->openmask = 0;
	c->nopen = 0;
	sqlite3_free(c->pre);
	c->pre = NULL;
	c->premask = 0;
}

/* Begin reading live_blocks: where is "" or a condition on ?1. */
static int
openlive(Cur *c, const char *where, sqlite3_value *arg)
{
	char sql[256];
	int rc;

	sqlite3_finalize(c->qlive);
	c->qlive = NULL;
	sqlite3_snprintf(sizeof sql, sql, "SELECT process, ptr, size, call, stack, alloc_seq,"
	    " alloc_time FROM live_blocks%s ORDER BY alloc_seq", where);
	if ((rc = sqlite3_prepare_v2(c->vt->db, sql, -1, &c->qlive, NULL)) != SQLITE_OK)
		return rc;
	if (arg != NULL)
		sqlite3_bind_value(c->qlive, 1, arg);
	c->live = 1;
	return SQLITE_OK;
}

/* The cursor's next row: of the pages, then of live_blocks if wanted; sets eof. */
static int
advance(Cur *c)
{
	int r, rc;

	if (c->live)
		r = steplive(c);
	else if ((r = step(c)) == 0 && c->wantlive) {
		if ((rc = openlive(c, "", NULL)) != SQLITE_OK)
			return rc;
		r = steplive(c);
	}
	c->eof = r <= 0;
	return r < 0 ? SQLITE_ERROR : SQLITE_OK;
}

static int
vfilter(sqlite3_vtab_cursor *cur, int plan, const char *idxstr, int argc, sqlite3_value **argv)
{
	Cur *c = (Cur *)cur;
	const PackEvent *e;
	int64_t x;
	int a, r, rc;

	(void)idxstr;
	(void)argc;
	checkcache(c->vt);
	restart(c);
	a = 0;
	if (c->vt->blocks && (plan & BL_LIVE)) {
		rc = openlive(c, (plan & BL_ALLOC) ? " WHERE alloc_seq = ?1" : (plan & BL_PROC) ?
		    " WHERE process = ?1" : "", (plan & (BL_ALLOC | BL_PROC)) ? argv[0] : NULL);
		if (rc != SQLITE_OK)
			return rc;
		r = steplive(c);
		c->eof = r <= 0;
		return r < 0 ? SQLITE_ERROR : SQLITE_OK;
	}
	if (c->vt->blocks && (plan & BL_ALLOC) && !(plan & EV_EQ)) {
		if ((rc = openlive(c, " WHERE alloc_seq = ?1", argv[0])) != SQLITE_OK)
			return rc;
		if ((r = steplive(c)) != 0) {
			c->eof = r < 0;
			return r < 0 ? SQLITE_ERROR : SQLITE_OK;
		}
		c->live = 0;
		/* an ended lifetime: the first event after it that names it */
		if (bound(argv[0], 0, &x) <= 0 || x < 1 || (e = cached(c->vt, x)) == NULL ||
		    !begins(e)) {
			c->eof = 1;
			return SQLITE_OK;
		}
		c->want = x;
		c->lo = x + 1;
		r = step(c);
		c->eof = r <= 0;
		return r < 0 ? SQLITE_ERROR : SQLITE_OK;
	}
	if (plan & EV_EQ) {
		if ((r = bound(argv[a++], 0, &x)) < 0)
			c->eof = 1;
		else if (r > 0)
			c->lo = c->hi = x;
	}
	if (plan & EV_LO) {
		if ((r = bound(argv[a++], 0, &x)) < 0)
			c->eof = 1;
		else if (r > 0 && x + ((plan & EV_LOX) ? 1 : 0) > c->lo)
			c->lo = x + ((plan & EV_LOX) ? 1 : 0);
	}
	if (plan & EV_HI) {
		if ((r = bound(argv[a++], 1, &x)) < 0)
			c->eof = 1;
		else if (r > 0 && x - ((plan & EV_HIX) ? 1 : 0) < c->hi)
			c->hi = x - ((plan & EV_HIX) ? 1 : 0);
	}
	if (c->eof || c->lo > c->hi) {
		c->eof = 1;
		return SQLITE_OK;
	}
	/* a walk from the first event knows every lifetime it has passed */
	c->track = c->lo <= 1 && c->hi == INT64_MAX;
	c->wantlive = c->vt->blocks && !(plan & BL_ENDED);
	return advance(c);
}

static int
vnext(sqlite3_vtab_cursor *cur)
{
	Cur *c = (Cur *)cur;

	if (!c->live && c->vt->blocks && c->want != 0) {
		c->eof = 1;	/* one lifetime has one end */
		return SQLITE_OK;
	}
	return advance(c);
}

static int
veof(sqlite3_vtab_cursor *cur)
{
	return ((Cur *)cur)->eof;
}

static const char *const typenames[] = { "unknown", "alloc", "free", "realloc" };

/* The pointer of the lifetime a began. */
static uint64_t
lifeptr(const PackEvent *a)
{
	return a->type == 1 ? a->ptr : a->newptr;
}

static int
vcolumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	Cur *c = (Cur *)cur;
	PackEvent *e, a;

	if (c->live) {
		if (col <= B_ATIME)
			sqlite3_result_value(ctx, sqlite3_column_value(c->qlive, col));
		return SQLITE_OK;
	}
	e = &c->ev[c->i];
	if (c->vt->blocks) {
		switch (col) {
		case B_PROCESS:	sqlite3_result_int64(ctx, c->a.process); break;
		case B_PTR:	sqlite3_result_int64(ctx, (sqlite3_int64)lifeptr(&c->a)); break;
		case B_SIZE:	sqlite3_result_int64(ctx, (sqlite3_int64)c->a.size); break;
		case B_CALL:	sqlite3_result_text(ctx, trace_callname_of(c->a.call), -1, SQLITE_STATIC); break;
		case B_STACK:	sqlite3_result_int64(ctx, (sqlite3_int64)c->a.stack); break;
		case B_ASEQ:	sqlite3_result_int64(ctx, c->a.seq); break;
		case B_ATIME:	sqlite3_result_int64(ctx, (sqlite3_int64)c->a.time); break;
		case B_FSEQ:	sqlite3_result_int64(ctx, e->seq); break;
		case B_FTIME:	sqlite3_result_int64(ctx, (sqlite3_int64)e->time); break;
		case B_FCALL:	sqlite3_result_text(ctx, trace_callname_of(e->call), -1, SQLITE_STATIC); break;
		case B_FSTACK:	sqlite3_result_int64(ctx, (sqlite3_int64)e->stack); break;
		}
		return SQLITE_OK;
	}
	switch (col) {
	case E_SEQ:	sqlite3_result_int64(ctx, e->seq); break;
	case E_PROCESS:	sqlite3_result_int64(ctx, e->process); break;
	case E_TIME:	sqlite3_result_int64(ctx, (sqlite3_int64)e->time); break;
	case E_TID:	sqlite3_result_int64(ctx, e->tid); break;
	case E_TYPE:
		sqlite3_result_text(ctx, e->type >= 1 && e->type <= 3 ? typenames[e->type] : "unknown",
		    -1, SQLITE_STATIC);
		break;
	case E_CALL:	sqlite3_result_text(ctx, trace_callname_of(e->call), -1, SQLITE_STATIC); break;
	case E_FLAGS:	sqlite3_result_int(ctx, e->flags); break;
	case E_PTR:
		if (e->back > 0 && e->ptr == 0 && began(c, e, &a) == 0)
			e->ptr = lifeptr(&a);
		sqlite3_result_int64(ctx, (sqlite3_int64)e->ptr);
		break;
	case E_NEWPTR:
		if (e->type == 3)
			sqlite3_result_int64(ctx, (sqlite3_int64)e->newptr);
		break;
	case E_SIZE:
		if (e->type != 2 || (e->flags & CALLF_SIZED))
			sqlite3_result_int64(ctx, (sqlite3_int64)e->size);
		break;
	case E_ALIGN:
		if (e->align != 0)
			sqlite3_result_int64(ctx, (sqlite3_int64)e->align);
		break;
	case E_STACK:	sqlite3_result_int64(ctx, (sqlite3_int64)e->stack); break;
	}
	return SQLITE_OK;
}

static int
vrowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	Cur *c = (Cur *)cur;

	if (c->live)
		*rowid = sqlite3_column_int64(c->qlive, B_ASEQ);
	else
		*rowid = c->vt->blocks ? c->a.seq : c->ev[c->i].seq;
	return SQLITE_OK;
}

/* ---- INSERT: events appended to the last page, live lifetimes into live_blocks ---- */

/* Set the table's error message; returns rc. */
static int
verr(Vt *v, int rc, const char *msg)
{
	sqlite3_free(v->base.zErrMsg);
	v->base.zErrMsg = sqlite3_mprintf("%s", msg);
	return rc;
}

/* Run sql with up to 7 values bound; the first column of its row into *out if out. */
static int
exec1(sqlite3 *db, const char *sql, sqlite3_value **val, int nval, sqlite3_int64 *out)
{
	sqlite3_stmt *st;
	int i, rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	for (i = 0; i < nval; i++)
		sqlite3_bind_value(st, i + 1, val[i]);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && out != NULL)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
callcode(sqlite3_value *v)
{
	const char *s;
	int i;

	if ((s = (const char *)sqlite3_value_text(v)) == NULL)
		return 0;
	for (i = 1; i < CALL_NCALLS; i++)
		if (trace_callnames[i] != NULL && strcmp(trace_callnames[i], s) == 0)
			return i;
	return 0;
}

/* The lifetime open at (process, ptr) in live_blocks: its alloc_seq, removed; 0 none. */
static int
endlive(Vt *v, int64_t process, uint64_t ptr, int64_t *aseq)
{
	sqlite3_stmt *st;
	int rc;

	*aseq = 0;
	rc = sqlite3_prepare_v2(v->db, "SELECT max(alloc_seq) FROM live_blocks WHERE process = ?1"
	    " AND ptr = ?2", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ptr);
	if (sqlite3_step(st) == SQLITE_ROW)
		*aseq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (*aseq == 0)
		return SQLITE_OK;
	rc = sqlite3_prepare_v2(v->db, "DELETE FROM live_blocks WHERE alloc_seq = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, *aseq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* INSERT INTO events: one event after the last, its lifetime followed in live_blocks. */
static int
insertevent(Vt *v, sqlite3_value **col)
{
	sqlite3_stmt *st;
	PackEvent e;
	PackPage pg;
	const char *type;
	int64_t last, aseq;
	int rc, n;
	PackEvent *tmp;

	memset(&e, 0, sizeof e);
	type = (const char *)sqlite3_value_text(col[E_TYPE]);
	e.type = type == NULL ? 0 : strcmp(type, "alloc") == 0 ? 1 : strcmp(type, "free") == 0 ? 2 :
	    strcmp(type, "realloc") == 0 ? 3 : 0;
	if (e.type == 0)
		return verr(v, SQLITE_CONSTRAINT, "events: type must be 'alloc', 'free' or 'realloc'");
	e.seq = sqlite3_value_int64(col[E_SEQ]);
	e.process = sqlite3_value_int64(col[E_PROCESS]);
	e.time = (uint64_t)sqlite3_value_int64(col[E_TIME]);
	e.tid = sqlite3_value_int64(col[E_TID]);
	e.call = callcode(col[E_CALL]);
	e.flags = sqlite3_value_int(col[E_FLAGS]);
	e.ptr = (uint64_t)sqlite3_value_int64(col[E_PTR]);
	e.newptr = (uint64_t)sqlite3_value_int64(col[E_NEWPTR]);
	e.size = (uint64_t)sqlite3_value_int64(col[E_SIZE]);
	e.align = (uint64_t)sqlite3_value_int64(col[E_ALIGN]);
	e.stack = (uint64_t)sqlite3_value_int64(col[E_STACK]);
	memset(&pg, 0, sizeof pg);
	if ((pg.buf = sqlite3_malloc(PACK_MAXBYTES + PACK_EVMAX)) == NULL ||
	    (tmp = sqlite3_malloc64(PACK_MAXEVENTS * sizeof *tmp)) == NULL) {
		sqlite3_free(pg.buf);
		return SQLITE_NOMEM;
	}
	rc = sqlite3_prepare_v2(v->db, "SELECT first, last, count, data FROM event_pages"
	    " ORDER BY first DESC LIMIT 1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	last = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 1);
		n = sqlite3_column_bytes(st, 3);
		if (sqlite3_column_int(st, 2) < SQLPAGE && n <= PACK_MAXBYTES / 2 &&
		    pack_decode(sqlite3_column_blob(st, 3), (size_t)n, sqlite3_column_int64(st, 0),
		    tmp, PACK_MAXEVENTS, &pg.st) == sqlite3_column_int(st, 2)) {
			memcpy(pg.buf, sqlite3_column_blob(st, 3), (size_t)n);
			pg.len = (size_t)n;
			pg.first = sqlite3_column_int64(st, 0);
			pg.count = sqlite3_column_int(st, 2);
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_value_type(col[E_SEQ]) == SQLITE_NULL)
		e.seq = last + 1;
	if (e.seq <= last || e.seq < 1) {
		rc = verr(v, SQLITE_CONSTRAINT, "events: seq must follow the last event's");
		goto out;
	}
	/* the lifetime it ends, and the one it begins */
	if (e.type == 2 || (e.type == 3 && (e.newptr != 0 || e.size == 0))) {
		if ((rc = endlive(v, e.process, e.ptr, &aseq)) != SQLITE_OK)
			goto out;
		e.back = aseq != 0 ? e.seq - aseq : 0;
	}
	if (begins(&e)) {
		rc = sqlite3_prepare_v2(v->db, "INSERT INTO live_blocks(process, ptr, size, call,"
		    " stack, alloc_seq, alloc_time) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL);
		if (rc != SQLITE_OK)
			goto out;
		sqlite3_bind_int64(st, 1, e.process);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(e.type == 1 ? e.ptr : e.newptr));
		sqlite3_bind_int64(st, 3, (sqlite3_int64)e.size);
		sqlite3_bind_text(st, 4, trace_callname_of(e.call), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)e.stack);
		sqlite3_bind_int64(st, 6, e.seq);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)e.time);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			goto out;
	}
	if (pg.count == 0)
		pack_reset(&pg);
	pack_put(&pg, &e);
	v->changes = -1;	/* the last page changes: forget the cache */
	rc = sqlite3_prepare_v2(v->db, "INSERT OR REPLACE INTO event_pages(first, last, count, data)"
	    " VALUES(?1, ?2, ?3, ?4)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, pg.first);
	sqlite3_bind_int64(st, 2, e.seq);
	sqlite3_bind_int(st, 3, pg.count);
	sqlite3_bind_blob(st, 4, pg.buf, (int)pg.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
out:
	sqlite3_free(tmp);
	sqlite3_free(pg.buf);
	return rc;
}

static int
vupdate(sqlite3_vtab *vtab, int argc, sqlite3_value **argv, sqlite3_int64 *rowid)
{
	Vt *v = (Vt *)vtab;
	sqlite3_value **col;
	int rc;

	(void)rowid;
	if (argc < 2 || sqlite3_value_type(argv[0]) != SQLITE_NULL)
		return verr(v, SQLITE_READONLY, v->blocks ? "blocks: rows can only be added" :
		    "events: rows can only be added");
	col = argv + 2;
	if (!v->blocks)
		return insertevent(v, col);
	if (sqlite3_value_type(col[B_FSEQ]) != SQLITE_NULL)
		return verr(v, SQLITE_CONSTRAINT, "blocks: a lifetime that ended is stored by its"
		    " events; insert those");
	rc = exec1(v->db, "INSERT INTO live_blocks(process, ptr, size, call, stack, alloc_seq,"
	    " alloc_time) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", col, 7, NULL);
	return rc;
}

static sqlite3_module module = {
	.iVersion = 1,
	.xCreate = vconnect,
	.xConnect = vconnect,
	.xBestIndex = vbestindex,
	.xDisconnect = vdisconnect,
	.xDestroy = vdisconnect,
	.xOpen = vopen,
	.xClose = vclose,
	.xFilter = vfilter,
	.xNext = vnext,
	.xEof = veof,
	.xColumn = vcolumn,
	.xRowid = vrowid,
	.xUpdate = vupdate,
};

static int
registerall(sqlite3 *db)
{
	static int blocks = 1;
	int rc;

	if ((rc = sqlite3_create_module(db, "pooldbg_events", &module, NULL)) != SQLITE_OK)
		return rc;
	return sqlite3_create_module(db, "pooldbg_blocks", &module, &blocks);
}

#ifdef POOLDBG_EXTENSION
/* The entry point the sqlite3 shell's .load finds from the file name pooldbg_trace. */
__attribute__((visibility("default"))) int
sqlite3_pooldbgtrace_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
	(void)err;
	SQLITE_EXTENSION_INIT2(api);
	return registerall(db);
}
#else
/*
 * Make tables events and blocks of a version 4 trace readable on db:
 * register their modules.  SQLITE_OK or SQLite's code.
 */
int
trace_vtab_register(sqlite3 *db)
{
	return registerall(db);
}
#endif
