/*
 * poolview/model.c -- the time cursor and the set of blocks alive at it,
 * and the questions asked of the time line (heap in use, time, points,
 * stacks of blocks).
 *
 * The set follows the cursor without scanning the run: it starts from
 * where the cursor is, from the checkpoint of timeline_live before or
 * after the new place, or from the end (the blocks never freed),
 * whichever reads fewer rows, and replays the events between (births from
 * events by seq, deaths from blocks by free_seq, both on indexes).  Each
 * block read is kept (Model.tab), so a block seen once is never read
 * again; each stack keeps its bytes alive as blocks come and go.
 *
 * Must never: write to the trace, draw, or scan a table per cursor move.
 */
#include "poolview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pooldbg/timeline.h"
#include "hashmix.h"

enum {
	SLAB	= 4096,		/* Blks allocated at once */
};

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

/* Fill b from a blocks row: process, ptr, size, stack, alloc_time, call from column c. */
static void
fromblock(Model *m, Blk *b, sqlite3_stmt *st, int c)
{
	b->process = sqlite3_column_int64(st, c);
	b->ptr = (uint64_t)sqlite3_column_int64(st, c + 1);
	b->size = (uint64_t)sqlite3_column_int64(st, c + 2);
	b->stack = sqlite3_column_int64(st, c + 3);
	b->time = sqlite3_column_int64(st, c + 4);
	b->call = model_intern(m, (const char *)sqlite3_column_text(st, c + 5));
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
			fromblock(m, k, st, 1);
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

/*
 * Load the checkpoint at ck[i] as the alive set.  The set is stored in
 * ascending order, so the blocks not yet read are read from events in
 * the order of seq and the pages come in order.
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
			d += n > 0 ? (uint64_t)v[n - 1] : 0;	/* each the difference from the one before */
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
			fromblock(m, b, st, 1);
		}
		liveadd(m, b);
	}
	sqlite3_finalize(st);
	return m->tab == NULL && m->nlive > 0 ? -1 : m->nomem ? -1 : 0;
}

int
model_loadscan(Model *m)
{
	sqlite3_stmt *st;
	Blk *b;

	liveclear(m);
	if (sqlite3_prepare_v2(m->db, "SELECT b.alloc_seq, s.process, b.ptr, b.size, b.stack, s.time,"
	    " b.call, b.class FROM scans s JOIN scan_blocks b ON b.scan = s.id"
	    " WHERE s.snapshot = 0 AND b.alloc_seq IS NOT NULL", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* ordinals are each image's own: never looked up, only listed */
		if ((b = tabnew(m, sqlite3_column_int64(st, 0))) == NULL) {
			m->nomem = 1;
			break;
		}
		fromblock(m, b, st, 1);
		b->cls = model_clsbyname((const char *)sqlite3_column_text(st, 7));
		if (liveadd(m, b) < 0)
			break;
	}
	sqlite3_finalize(st);
	return m->nomem ? -1 : 0;
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
