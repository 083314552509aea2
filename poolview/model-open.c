/*
 * poolview/model-open.c -- opening a trace for poolview: the checks of
 * trace_open_read, the time index (read from the trace, or built into a
 * temporary schema for a trace made without it), the time line, the
 * points on it (marks, snapshots, errors), the curve event by event of a
 * short trace, the leak classes at exit; the strings the model keeps; and
 * closing it all.
 *
 * Must never: write to the trace (a temporary schema is not the trace),
 * or draw.
 */
#include "poolview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pooldbg/timeline.h"
#include "hashmix.h"

enum {
	EXACTMAX = 1 << 20,	/* events of a trace short enough for its curve event by event */
};

/* Interned strings: open addressing. */
typedef struct Strs Strs;
struct Strs {
	char	**v;
	size_t	mask, n;
};


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

int
model_clsbyname(const char *s)
{
	int c;

	for (c = 1; s != NULL && c < NCL; c++)
		if (strcmp(s, model_clsname(c)) == 0)
			return c;
	return CL_NONE;
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
		c = model_clsbyname((const char *)sqlite3_column_text(st, 1));
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
	if (sqlite3_prepare_v2(m->db, "SELECT coalesce(max(last), 0) FROM event_pages", -1, &st,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			m->maxseq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(m->db, "SELECT time FROM events WHERE seq = (SELECT min(first) FROM event_pages)", -1, &st,
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
