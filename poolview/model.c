/*
 * poolview/model.c -- the trace as poolview walks it: opening it, the
 * time line (table timeline), the points on it, and the time cursor with
 * the set of blocks alive at it.
 *
 * The set follows the cursor without scanning the run: a short move
 * replays the events between the old and the new place (births from
 * events by seq, deaths from blocks by free_seq, both on indexes); a long
 * one starts from the nearest checkpoint of timeline_live before the new
 * place and replays from there, whichever reads fewer rows.  Each block
 * read is kept (Model.tab), so a block seen once is never read again.
 *
 * Must never: write to the trace, draw, or scan a table per cursor move.
 */
#include "poolview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pooldbg/timeline.h"

enum {
	SLAB	= 4096,		/* Blks allocated at once */
	EXACTMAX = 1 << 20,	/* events of a trace short enough for its curve event by event */
};

/* Interned strings: open addressing. */
typedef struct Strs Strs;
struct Strs {
	char	**v;
	size_t	mask, n;
};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

const char *
model_intern(Model *m, const char *s)
{
	Strs *t;
	char **nv;
	uint64_t h;
	const char *p;
	size_t i, j, nmask;

	if (s == NULL)
		return NULL;
	if ((t = m->strs) == NULL) {
		if ((t = m->strs = calloc(1, sizeof *t)) == NULL)
			goto nomem;
	}
	if (2 * (t->n + 1) > t->mask + 1) {
		nmask = t->mask == 0 ? 1023 : 2 * (t->mask + 1) - 1;
		if ((nv = calloc(nmask + 1, sizeof *nv)) == NULL)
			goto nomem;
		for (i = 0; t->v != NULL && i <= t->mask; i++) {
			if (t->v[i] == NULL)
				continue;
			for (h = 1469598103934665603ULL, p = t->v[i]; *p != '\0'; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			for (j = h & nmask; nv[j] != NULL; j = (j + 1) & nmask)
				;
			nv[j] = t->v[i];
		}
		free(t->v);
		t->v = nv;
		t->mask = nmask;
	}
	for (h = 1469598103934665603ULL, p = s; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (i = h & t->mask; t->v[i] != NULL; i = (i + 1) & t->mask)
		if (strcmp(t->v[i], s) == 0)
			return t->v[i];
	if ((t->v[i] = strdup(s)) == NULL)
		goto nomem;
	t->n++;
	return t->v[i];
nomem:
	m->nomem = 1;
	return NULL;
}

const char *
model_clsname(int cls)
{
	static const char *const names[NCL] = { "-", "reachable", "possible", "indirect", "definite" };

	return cls >= 0 && cls < NCL ? names[cls] : "-";
}

static int
clsbyname(const char *s)
{
	int c;

	for (c = 1; s != NULL && c < NCL; c++)
		if (strcmp(s, model_clsname(c)) == 0)
			return c;
	return CL_NONE;
}

/* The exit class of the block born at seq. */
static int
clsof(const Model *m, int64_t seq)
{
	size_t i;

	if (m->clsseq == NULL)
		return CL_NONE;
	for (i = mix((uint64_t)seq) & m->clsmask; m->clsseq[i] != 0; i = (i + 1) & m->clsmask)
		if (m->clsseq[i] == seq)
			return m->clsv[i];
	return CL_NONE;
}

static Blk *
tabfind(const Model *m, int64_t seq)
{
	Blk *b;

	if (m->tab == NULL)
		return NULL;
	for (b = m->tab[mix((uint64_t)seq) & m->tabmask]; b != NULL; b = b->next)
		if (b->seq == seq)
			return b;
	return NULL;
}

/* A new Blk for seq in the table (fields to fill); NULL if out of memory. */
static Blk *
tabnew(Model *m, int64_t seq)
{
	Blk **nt, *b, *nb;
	size_t i, j, nmask;

	if (m->tab == NULL || m->ntab + 1 > m->tabmask + 1) {
		nmask = m->tabmask == 0 ? 65535 : 2 * (m->tabmask + 1) - 1;
		if ((nt = calloc(nmask + 1, sizeof *nt)) == NULL)
			return NULL;
		for (i = 0; m->tab != NULL && i <= m->tabmask; i++) {
			for (b = m->tab[i]; b != NULL; b = nb) {
				nb = b->next;
				j = mix((uint64_t)b->seq) & nmask;
				b->next = nt[j];
				nt[j] = b;
			}
		}
		free(m->tab);
		m->tab = nt;
		m->tabmask = nmask;
	}
	if (m->slab == NULL || m->slabused == SLAB) {
		if ((nt = realloc(m->slabs, (m->nslabs + 1) * sizeof *m->slabs)) == NULL)
			return NULL;
		m->slabs = (void **)nt;
		if ((m->slab = calloc(SLAB, sizeof *m->slab)) == NULL)
			return NULL;
		m->slabs[m->nslabs++] = m->slab;
		m->slabused = 0;
	}
	b = &m->slab[m->slabused++];
	b->seq = seq;
	b->cls = clsof(m, seq);
	i = mix((uint64_t)seq) & m->tabmask;
	b->next = m->tab[i];
	m->tab[i] = b;
	m->ntab++;
	return b;
}

static int
liveadd(Model *m, Blk *b)
{
	Blk **nv;

	if (b->live != 0)
		return 0;
	if (m->nlive == m->maxlive) {
		m->maxlive = m->maxlive == 0 ? 4096 : 2 * m->maxlive;
		if ((nv = realloc(m->live, m->maxlive * sizeof *nv)) == NULL) {
			m->nomem = 1;
			return -1;
		}
		m->live = nv;
	}
	m->live[m->nlive++] = b;
	b->live = m->nlive;
	m->inuse += b->size;
	if (b->st == NULL && m->stab != NULL)
		b->st = model_stack(m, b->process, b->stack);
	if (b->st != NULL)
		b->st->alive += b->size;
	return 0;
}

static void
livedel(Model *m, Blk *b)
{
	Blk *last;

	if (b == NULL || b->live == 0)
		return;
	last = m->live[--m->nlive];
	m->live[b->live - 1] = last;
	last->live = b->live;
	b->live = 0;
	m->inuse -= b->size;
	if (b->st != NULL)
		b->st->alive -= b->size;
}

static void
liveclear(Model *m)
{
	size_t i;

	for (i = 0; i < m->nlive; i++)
		m->live[i]->live = 0;
	for (i = 0; i < m->nstacks; i++)
		m->stacks[i]->alive = 0;
	m->nlive = 0;
	m->inuse = 0;
}

/* Fill b from an events row: process, time, type, call, ptr, newptr, size, stack. */
static void
fromevent(Model *m, Blk *b, sqlite3_stmt *st, int c)
{
	const char *type;

	b->process = sqlite3_column_int64(st, c);
	b->time = sqlite3_column_int64(st, c + 1);
	type = (const char *)sqlite3_column_text(st, c + 2);
	b->call = model_intern(m, (const char *)sqlite3_column_text(st, c + 3));
	if (type != NULL && strcmp(type, "realloc") == 0) {
		b->ptr = (uint64_t)sqlite3_column_int64(st, c + 5);
		b->call = model_intern(m, "realloc");
	} else
		b->ptr = (uint64_t)sqlite3_column_int64(st, c + 4);
	b->size = (uint64_t)sqlite3_column_int64(st, c + 6);
	b->stack = sqlite3_column_int64(st, c + 7);
}

/* The Blk born at seq, read from events if not yet known; NULL if none. */
static Blk *
blkget(Model *m, int64_t seq)
{
	Blk *b;

	if ((b = tabfind(m, seq)) != NULL)
		return b;
	sqlite3_bind_int64(m->qev, 1, seq);
	if (sqlite3_step(m->qev) == SQLITE_ROW && (b = tabnew(m, seq)) != NULL)
		fromevent(m, b, m->qev, 0);
	sqlite3_reset(m->qev);
	return b;
}

/* Apply the events of (a, b]: forward (dir 1) or backward (dir -1). */
static int
replay(Model *m, int64_t a, int64_t b, int dir)
{
	sqlite3_stmt *st;
	Blk *k;
	int64_t seq;

	if (b <= a)
		return 0;
	st = m->qborn;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	while (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		if ((k = tabfind(m, seq)) == NULL) {
			if ((k = tabnew(m, seq)) == NULL)
				break;
			fromevent(m, k, st, 1);
		}
		if (dir > 0)
			liveadd(m, k);
		else
			livedel(m, k);
	}
	sqlite3_reset(st);
	st = m->qdied;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	while (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		if ((k = tabfind(m, seq)) == NULL) {
			if ((k = tabnew(m, seq)) == NULL)
				break;
			k->process = sqlite3_column_int64(st, 1);
			k->ptr = (uint64_t)sqlite3_column_int64(st, 2);
			k->size = (uint64_t)sqlite3_column_int64(st, 3);
			k->stack = sqlite3_column_int64(st, 4);
			k->time = sqlite3_column_int64(st, 5);
			k->call = model_intern(m, (const char *)sqlite3_column_text(st, 6));
		}
		if (seq > a && dir < 0)
			continue;	/* born and died in the range: never alive at either end */
		if (dir > 0)
			livedel(m, k);
		else
			liveadd(m, k);
	}
	sqlite3_reset(st);
	return m->nomem ? -1 : 0;
}

static int
seqcmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * Load the checkpoint at ck[i] as the alive set.  The blocks not yet read
 * are read from events in the order of seq, so that the pages come in
 * order.
 */
static int
loadck(Model *m, size_t i)
{
	const unsigned char *p, *e;
	int64_t *v, *nv;
	uint64_t d;
	size_t n, max, k;
	int shift;
	Blk *b;

	liveclear(m);
	v = NULL;
	n = max = 0;
	sqlite3_bind_int64(m->qck, 1, m->ck[i]);
	if (sqlite3_step(m->qck) == SQLITE_ROW) {
		p = sqlite3_column_blob(m->qck, 0);
		e = p + sqlite3_column_bytes(m->qck, 0);
		while (p != NULL && p < e) {
			d = 0;
			shift = 0;
			while (p < e && (*p & 0x80) != 0 && shift < 63) {
				d |= (uint64_t)(*p++ & 0x7f) << shift;
				shift += 7;
			}
			if (p < e)
				d |= (uint64_t)*p++ << shift;
			if (n == max) {
				max = max == 0 ? 4096 : 2 * max;
				if ((nv = realloc(v, max * sizeof *nv)) == NULL) {
					m->nomem = 1;
					break;
				}
				v = nv;
			}
			v[n++] = (int64_t)d;
		}
	}
	sqlite3_reset(m->qck);
	if (n > 1)
		qsort(v, n, sizeof *v, seqcmp);
	for (k = 0; k < n; k++)
		if ((b = blkget(m, v[k])) != NULL)
			liveadd(m, b);
	free(v);
	return m->nomem ? -1 : 0;
}

/* The blocks alive after the last event: those never freed (an index lookup, rows in order). */
static int
loadend(Model *m)
{
	sqlite3_stmt *st;
	int64_t seq;
	Blk *b;

	liveclear(m);
	if (sqlite3_prepare_v2(m->db, "SELECT alloc_seq, process, ptr, size, stack, alloc_time, call"
	    " FROM blocks WHERE free_seq IS NULL", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		if (seq < 1 || seq > m->maxseq)
			continue;
		if ((b = tabfind(m, seq)) == NULL) {
			if ((b = tabnew(m, seq)) == NULL)
				break;
			b->process = sqlite3_column_int64(st, 1);
			b->ptr = (uint64_t)sqlite3_column_int64(st, 2);
			b->size = (uint64_t)sqlite3_column_int64(st, 3);
			b->stack = sqlite3_column_int64(st, 4);
			b->time = sqlite3_column_int64(st, 5);
			b->call = model_intern(m, (const char *)sqlite3_column_text(st, 6));
		}
		liveadd(m, b);
	}
	sqlite3_finalize(st);
	return m->tab == NULL && m->nlive > 0 ? -1 : m->nomem ? -1 : 0;
}

/* Blocks alive after event seq, from the spans (seq a span's end or maxseq). */
static int64_t
aliveat(const Model *m, int64_t seq)
{
	if (seq <= 0 || m->nspan == 0)
		return 0;
	if (seq >= m->maxseq)
		return (int64_t)m->span[m->nspan - 1].blocks;
	return (int64_t)m->span[(size_t)(seq - 1) / TIMELINE_SPAN].blocks;
}

int
model_seek(Model *m, int64_t seq)
{
	int64_t best, from, c, prev, next;
	size_t lo, hi, j;
	int how;

	if (seq < 0)
		seq = 0;
	if (seq > m->maxseq)
		seq = m->maxseq;
	/* the checkpoints around seq: the start and the end are checkpoints too */
	lo = 0;
	hi = m->nck;
	while (lo < hi) {
		j = lo + (hi - lo) / 2;
		if (m->ck[j] <= seq)
			lo = j + 1;
		else
			hi = j;
	}
	prev = lo > 0 ? m->ck[lo - 1] : 0;
	next = lo < m->nck ? m->ck[lo] : m->maxseq;
	/* the fewest rows read: from here, from the checkpoint before, or from the one after */
	best = seq > m->cur ? seq - m->cur : m->cur - seq;
	how = 0;
	from = m->cur;
	if ((c = seq - prev + aliveat(m, prev)) < best) {
		best = c;
		how = 1;
		from = prev;
	}
	if ((c = next - seq + aliveat(m, next)) < best) {
		how = 2;
		from = next;
	}
	if (how != 0) {
		if (from == 0)
			liveclear(m);
		else if (from == m->maxseq) {
			if (loadend(m) < 0)
				return -1;
		} else if (loadck(m, how == 1 ? lo - 1 : lo) < 0)
			return -1;
		m->cur = from;
	}
	if (seq > m->cur) {
		if (replay(m, m->cur, seq, 1) < 0)
			return -1;
	} else if (replay(m, seq, m->cur, -1) < 0)
		return -1;
	m->cur = seq;
	return 0;
}

uint64_t
model_inuse_at(const Model *m, int64_t seq)
{
	size_t k;

	if (m->exact != NULL)
		return m->exact[seq < 0 ? 0 : seq > m->maxseq ? m->maxseq : seq];

	if (seq < TIMELINE_SPAN || m->nspan == 0)
		return seq >= m->maxseq && m->nspan > 0 ? m->span[m->nspan - 1].inuse : 0;
	k = (size_t)seq / TIMELINE_SPAN - 1;
	if (seq >= m->maxseq || k >= m->nspan)
		k = m->nspan - 1;
	return m->span[k].inuse;
}

int64_t
model_time(Model *m, int64_t seq)
{
	int64_t t;

	if (seq <= 0)
		return 0;
	t = m->t0;
	sqlite3_bind_int64(m->qev, 1, seq);
	if (sqlite3_step(m->qev) == SQLITE_ROW)
		t = sqlite3_column_int64(m->qev, 1);
	sqlite3_reset(m->qev);
	return t - m->t0;
}

int64_t
model_point(const Model *m, int kind, int dir)
{
	size_t i;

	if (dir > 0) {
		for (i = 0; i < m->npt; i++)
			if (m->pt[i].seq > m->cur && (kind < 0 || m->pt[i].kind == kind))
				return m->pt[i].seq;
	} else {
		for (i = m->npt; i-- > 0;)
			if (m->pt[i].seq < m->cur && (kind < 0 || m->pt[i].kind == kind))
				return m->pt[i].seq;
	}
	return -1;
}

Blk *
model_blk(const Model *m, int64_t seq)
{
	return tabfind(m, seq);
}

Stack *
model_stack(const Model *m, int64_t process, int64_t stack)
{
	Stack *s;

	if (m->stab == NULL)
		return NULL;
	for (s = m->stab[mix((uint64_t)stack * 31 + (uint64_t)process) & m->smask]; s != NULL;
	    s = s->next)
		if (s->process == process && s->stack == stack)
			return s;
	return NULL;
}

const char *
model_blkfunc(const Model *m, const Blk *b)
{
	Stack *s;

	s = model_stack(m, b->process, b->stack);
	return s != NULL && s->nchain > 0 ? s->chain[0].func : "?";
}

/* The event seq an error at time t follows: the last of its process at or before t. */
static int64_t
seqoftime(Model *m, int64_t t)
{
	sqlite3_stmt *st;
	size_t lo, hi, j;
	int64_t seq, a;

	lo = 0;
	hi = m->nspan;
	while (lo < hi) {
		j = lo + (hi - lo) / 2;
		if (m->span[j].time <= t)
			lo = j + 1;
		else
			hi = j;
	}
	a = lo > 0 ? m->span[lo - 1].seq : 0;
	seq = a;
	if (sqlite3_prepare_v2(m->db, "SELECT max(seq) FROM events WHERE seq > ?1 AND seq <= ?2"
	    " AND time <= ?3", -1, &st, NULL) != SQLITE_OK)
		return seq;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, a + TIMELINE_SPAN);
	sqlite3_bind_int64(st, 3, t);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return seq;
}

static int
ptcmp(const void *x, const void *y)
{
	const Point *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : a->kind - b->kind;
}

static int
addpoint(Model *m, size_t *max, int64_t seq, int kind, int64_t id, const char *label)
{
	Point *np;

	if (m->npt == *max) {
		*max = *max == 0 ? 64 : 2 * *max;
		if ((np = realloc(m->pt, *max * sizeof *np)) == NULL)
			return -1;
		m->pt = np;
	}
	m->pt[m->npt].seq = seq;
	m->pt[m->npt].kind = kind;
	m->pt[m->npt].id = id;
	m->pt[m->npt].label = model_intern(m, label != NULL ? label : "");
	m->npt++;
	return 0;
}

/* Marks, snapshots and errors on the time line (errors: the first 100000). */
static int
readpoints(Model *m)
{
	sqlite3_stmt *st;
	size_t max;
	char lab[64];
	int rc;

	max = 0;
	rc = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT id, coalesce(seq, 0), label FROM marks", -1, &st,
	    NULL) == SQLITE_OK) {
		while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
			rc = addpoint(m, &max, sqlite3_column_int64(st, 1), PT_MARK,
			    sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 2));
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(m->db, "SELECT id, coalesce(seq, 0), snapshot FROM scans"
	    " WHERE snapshot > 0", -1, &st, NULL) == SQLITE_OK) {
		while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
			snprintf(lab, sizeof lab, "snapshot %lld", (long long)sqlite3_column_int64(st, 2));
			rc = addpoint(m, &max, sqlite3_column_int64(st, 1), PT_SNAPSHOT,
			    sqlite3_column_int64(st, 0), lab);
		}
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(m->db, "SELECT id, time, coalesce(kind, 'error') FROM errors"
	    " WHERE coalesce(kind, '') <> 'notice' ORDER BY time LIMIT 100000", -1, &st,
	    NULL) == SQLITE_OK) {
		while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
			rc = addpoint(m, &max, seqoftime(m, sqlite3_column_int64(st, 1)), PT_ERROR,
			    sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 2));
		sqlite3_finalize(st);
	}
	if (m->npt > 0)
		qsort(m->pt, m->npt, sizeof *m->pt, ptcmp);
	return rc;
}

/* The spans and checkpoints into memory, the peak found. */
static int
readtimeline(Model *m)
{
	sqlite3_stmt *st;
	size_t max;
	Span *ns;
	int64_t *nc;

	if (sqlite3_prepare_v2(m->db, "SELECT seq, coalesce(time, 0), in_use, blocks, born, allocs"
	    " FROM timeline ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -1;
	max = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (m->nspan == max) {
			max = max == 0 ? 4096 : 2 * max;
			if ((ns = realloc(m->span, max * sizeof *ns)) == NULL)
				goto nomem;
			m->span = ns;
		}
		ns = &m->span[m->nspan++];
		ns->seq = sqlite3_column_int64(st, 0);
		ns->time = sqlite3_column_int64(st, 1);
		ns->inuse = (uint64_t)sqlite3_column_int64(st, 2);
		ns->blocks = (uint64_t)sqlite3_column_int64(st, 3);
		ns->born = (uint64_t)sqlite3_column_int64(st, 4);
		ns->allocs = (uint64_t)sqlite3_column_int64(st, 5);
		if (ns->inuse > m->peak) {
			m->peak = ns->inuse;
			m->peakseq = ns->seq;
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(m->db, "SELECT seq FROM timeline_live ORDER BY seq", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	max = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (m->nck == max) {
			max = max == 0 ? 256 : 2 * max;
			if ((nc = realloc(m->ck, max * sizeof *nc)) == NULL)
				goto nomem;
			m->ck = nc;
		}
		m->ck[m->nck++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return 0;
nomem:
	sqlite3_finalize(st);
	m->nomem = 1;
	return -1;
}

/*
 * A short trace gets its curve event by event (the spans of timeline are
 * too coarse to draw it): bytes in use after each event, and the peak.
 */
static int
readexact(Model *m)
{
	sqlite3_stmt *st;
	int64_t *d, a, f, k;
	uint64_t size;

	if (m->maxseq > EXACTMAX)
		return 0;
	if ((d = calloc((size_t)m->maxseq + 2, sizeof *d)) == NULL ||
	    (m->exact = calloc((size_t)m->maxseq + 1, sizeof *m->exact)) == NULL) {
		free(d);
		return -1;
	}
	if (sqlite3_prepare_v2(m->db, "SELECT alloc_seq, free_seq, size FROM blocks", -1, &st,
	    NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			a = sqlite3_column_int64(st, 0);
			f = sqlite3_column_type(st, 1) == SQLITE_NULL ? m->maxseq + 1 :
			    sqlite3_column_int64(st, 1);
			size = (uint64_t)sqlite3_column_int64(st, 2);
			if (a < 1 || a > m->maxseq || f <= a)
				continue;
			d[a] += (int64_t)size;
			d[f <= m->maxseq ? f : m->maxseq + 1] -= (int64_t)size;
		}
		sqlite3_finalize(st);
	}
	m->peak = 0;
	m->peakseq = 0;
	for (k = 1; k <= m->maxseq; k++) {
		m->exact[k] = m->exact[k - 1] + (uint64_t)d[k];
		if (m->exact[k] > m->peak) {
			m->peak = m->exact[k];
			m->peakseq = k;
		}
	}
	free(d);
	return 0;
}

/* The exit classes of blocks, and the leaked totals. */
static int
readclasses(Model *m)
{
	sqlite3_stmt *st;
	int64_t n, seq;
	size_t i;
	int c;

	n = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT count(*) FROM scans s JOIN scan_blocks b"
	    " ON b.scan = s.id WHERE s.snapshot = 0", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	for (m->clsmask = 1023; (int64_t)m->clsmask < 2 * n; m->clsmask = 2 * m->clsmask + 1)
		;
	m->clsseq = calloc(m->clsmask + 1, sizeof *m->clsseq);
	m->clsv = calloc(m->clsmask + 1, 1);
	if (m->clsseq == NULL || m->clsv == NULL)
		return -1;
	if ((m->leakrows = calloc((size_t)n + 1, sizeof *m->leakrows)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(m->db, "SELECT b.alloc_seq, b.class, b.size, s.process, b.stack"
	    " FROM scans s JOIN scan_blocks b ON b.scan = s.id WHERE s.snapshot = 0", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	for (n = 0; sqlite3_step(st) == SQLITE_ROW && n * 2 < (int64_t)m->clsmask; n++) {
		c = clsbyname((const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;	/* no recorded call made it: not the program's */
		m->leaktotal[c] += (uint64_t)sqlite3_column_int64(st, 2);
		m->leakrows[m->nleakrows].bytes = (uint64_t)sqlite3_column_int64(st, 2);
		m->leakrows[m->nleakrows].cls = c;
		m->leakrows[m->nleakrows].process = sqlite3_column_int64(st, 3);
		m->leakrows[m->nleakrows].stack = sqlite3_column_int64(st, 4);
		m->nleakrows++;
		seq = sqlite3_column_int64(st, 0);
		for (i = mix((uint64_t)seq) & m->clsmask; m->clsseq[i] != 0 && m->clsseq[i] != seq;
		    i = (i + 1) & m->clsmask)
			;
		m->clsseq[i] = seq;
		m->clsv[i] = (unsigned char)c;
	}
	sqlite3_finalize(st);
	return 0;
}

static int
hastimeline(sqlite3 *db)
{
	sqlite3_stmt *st;
	int r;

	r = 0;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
	    " name IN ('timeline', 'timeline_live', 'timeline_stacks')", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			r = sqlite3_column_int(st, 0) == 3;
		sqlite3_finalize(st);
	}
	return r;
}

#define EVCOLS	"process, time, type, call, ptr, newptr, size, stack"

int
model_open(Model *m, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char why[200];

	memset(m, 0, sizeof *m);
	if (trace_open_read(path, &m->db, err, errlen) < 0)
		return -1;
	/*
	 * Reads jump about the file: map it, keep more of it than SQLite's
	 * default, and hold one read transaction for the session rather than
	 * lock and check the file again for every statement.
	 */
	sqlite3_exec(m->db, "PRAGMA mmap_size = 68719476736; PRAGMA cache_size = -65536; BEGIN",
	    NULL, NULL, NULL);
	if (!hastimeline(m->db)) {
		/* a trace made before the time index: build it for this session only */
		if (timeline_build(m->db, "temp", NULL, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s: cannot index: %s", path, why);
			return -1;
		}
		m->cached = 1;
	}
	if (sqlite3_prepare_v2(m->db, "SELECT coalesce(max(seq), 0) FROM events", -1, &st,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			m->maxseq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(m->db, "SELECT time FROM events ORDER BY seq LIMIT 1", -1, &st,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			m->t0 = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(m->db, "SELECT count(*), (SELECT cmdline FROM processes ORDER BY id"
	    " LIMIT 1) FROM processes", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			m->nproc = sqlite3_column_int(st, 0);
			snprintf(m->program, sizeof m->program, "%s",
			    sqlite3_column_text(st, 1) != NULL ?
			    (const char *)sqlite3_column_text(st, 1) : "?");
		}
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(m->db, "SELECT seq, " EVCOLS " FROM events WHERE seq = ?1", -1,
	    &m->qev, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db, "SELECT seq, " EVCOLS " FROM events WHERE seq > ?1 AND"
	    " seq <= ?2 AND ((type = 'alloc' AND ptr <> 0) OR (type = 'realloc' AND newptr <> 0))",
	    -1, &m->qborn, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db, "SELECT alloc_seq, process, ptr, size, stack, alloc_time, call"
	    " FROM blocks WHERE free_seq > ?1 AND free_seq <= ?2", -1, &m->qdied, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db, "SELECT data FROM timeline_live WHERE seq = ?1", -1, &m->qck,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: not a pooldbg trace this poolview can read", path);
		return -1;
	}
	/* qev reads the event itself: shift its columns by one */
	sqlite3_finalize(m->qev);
	if (sqlite3_prepare_v2(m->db, "SELECT " EVCOLS " FROM events WHERE seq = ?1", -1, &m->qev,
	    NULL) != SQLITE_OK || readtimeline(m) < 0 || readexact(m) < 0 || readclasses(m) < 0 || readpoints(m) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, m->nomem ? "out of memory" :
		    "the trace is damaged");
		return -1;
	}
	m->cur = 0;
	return 0;
}

void
model_close(Model *m)
{
	Strs *t;
	size_t i;

	model_frames_free(m);
	sqlite3_finalize(m->qev);
	sqlite3_finalize(m->qborn);
	sqlite3_finalize(m->qdied);
	sqlite3_finalize(m->qck);
	for (i = 0; i < m->nslabs; i++)
		free(m->slabs[i]);
	free(m->slabs);
	free(m->leakrows);
	free(m->tab);
	free(m->live);
	free(m->span);
	free(m->exact);
	free(m->ck);
	free(m->pt);
	free(m->clsseq);
	free(m->clsv);
	for (i = 0; i < m->nstacks; i++) {
		free(m->stacks[i]->chain);
		free(m->stacks[i]);
	}
	free(m->stacks);
	free(m->stab);
	if ((t = m->strs) != NULL) {
		for (i = 0; t->v != NULL && i <= t->mask; i++)
			free(t->v[i]);
		free(t->v);
		free(t);
	}
	sqlite3_close(m->db);
	memset(m, 0, sizeof *m);
}
