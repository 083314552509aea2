/*
 * leak/model.c -- what a leak report is made of, read from a trace: the
 * process images, the scan chosen for each (the one at exit, or snapshot
 * N), the leak records (the blocks of those scans grouped by image, class
 * and allocation stack, largest first, with a preview of one block), the
 * totals by class, and the heap errors with the block lifetime each one
 * names.
 *
 * An image without an exit scan (killed before it could scan, or traced
 * by a runtime that did not scan) still has its live blocks in table
 * blocks: they become records of class unclassified, without preview.
 *
 * The queries go through the indexes a finished trace has (scan_blocks
 * by scan, blocks by free_seq) and never read table events, so a report
 * costs in proportion to what was live, not to what happened.
 *
 * Must never: write to the trace, print anything (the callers do), or
 * let a SQLite message through to a user: model_sqlwhy says it in words.
 */
#include "leak.h"

#include <stdlib.h>
#include <string.h>

static const char *const classnames[NCLASS] = {
	[CLASS_UNCLASSIFIED]	= "unclassified",
	[CLASS_REACHABLE]	= "reachable",
	[CLASS_POSSIBLE]	= "possible",
	[CLASS_INDIRECT]	= "indirect",
	[CLASS_DEFINITE]	= "definite",
};

static const char *const classwords[NCLASS] = {
	[CLASS_UNCLASSIFIED]	= "live at exit (not scanned)",
	[CLASS_REACHABLE]	= "still reachable",
	[CLASS_POSSIBLE]	= "possibly lost",
	[CLASS_INDIRECT]	= "indirectly lost",
	[CLASS_DEFINITE]	= "definitely lost",
};

const char *
class_name(int cls)
{
	return cls >= 0 && cls < NCLASS ? classnames[cls] : "unclassified";
}

const char *
class_words(int cls)
{
	return cls >= 0 && cls < NCLASS ? classwords[cls] : classwords[CLASS_UNCLASSIFIED];
}

int
class_byname(const char *name, size_t len)
{
	int c;

	for (c = 0; c < NCLASS; c++)
		if (strlen(classnames[c]) == len && memcmp(classnames[c], name, len) == 0)
			return c;
	return -1;
}

int
error_counts(const char *kind)
{
	return kind == NULL || strcmp(kind, "notice") != 0;
}

const char *
model_sqlwhy(sqlite3 *db)
{
	switch (sqlite3_errcode(db) & 0xff) {
	case SQLITE_NOMEM:
		return "out of memory";
	case SQLITE_IOERR:
		return "read error";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "the trace is locked by another program";
	case SQLITE_CANTOPEN:
		return "cannot read the trace's journal";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
	default:
		return "corrupt trace";
	}
}

/* A copy of a text column; NULL for NULL.  *nomem set if out of memory. */
static char *
dupcol(sqlite3_stmt *st, int col, int *nomem)
{
	const unsigned char *t;
	char *s;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	if ((t = sqlite3_column_text(st, col)) == NULL)
		t = (const unsigned char *)"";
	if ((s = strdup((const char *)t)) == NULL)
		*nomem = 1;
	return s;
}

/* The image of processes.id id; NULL if none. */
static Proc *
procof(Model *m, int64_t id)
{
	int lo, hi, mid;

	lo = 0;
	hi = m->nprocs;
	while (lo < hi) {	/* procs are in id order */
		mid = lo + (hi - lo) / 2;
		if (m->procs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->nprocs && m->procs[lo].id == id ? &m->procs[lo] : NULL;
}

/* Read table processes into m->procs. */
static int
readprocs(Model *m, sqlite3 *db, const Query *q, char *err, size_t errlen)
{
	static const char sql[] =
	    "SELECT id, pid, exe, cmdline, end_how, end_status,"
	    " CASE WHEN execseq > 0 THEN parent ELSE 0 END FROM processes ORDER BY id";
	sqlite3_stmt *st;
	Proc *p, *np;
	int rc, nomem, max, nchosen;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	nomem = 0;
	max = 0;
	nchosen = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->nprocs == max) {
			max = max != 0 ? 2 * max : 8;
			if ((np = realloc(m->procs, (size_t)max * sizeof *np)) == NULL) {
				nomem = 1;
				break;
			}
			m->procs = np;
		}
		p = &m->procs[m->nprocs++];
		memset(p, 0, sizeof *p);
		p->id = sqlite3_column_int64(st, 0);
		p->pid = sqlite3_column_int(st, 1);
		p->exe = dupcol(st, 2, &nomem);
		p->cmdline = dupcol(st, 3, &nomem);
		p->end_how = dupcol(st, 4, &nomem);
		p->has_status = sqlite3_column_type(st, 5) != SQLITE_NULL;
		p->end_status = sqlite3_column_int64(st, 5);
		p->execfrom = sqlite3_column_int64(st, 6);
		p->chosen = q->pid == 0 || q->pid == p->pid;
		p->markseq = -1;
		p->marktime = -1;
		nchosen += p->chosen;
	}
	sqlite3_finalize(st);
	if (nomem) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	if (q->pid != 0 && nchosen == 0) {
		snprintf(err, errlen, "no process with pid %d in the trace", q->pid);
		return -1;
	}
	return 0;

sqlfail:
	snprintf(err, errlen, "%s", model_sqlwhy(db));
	return -1;
}

/* --since-mark: each chosen image's first mark of that label; images without it are dropped. */
static int
readmarks(Model *m, sqlite3 *db, const Query *q, char *err, size_t errlen)
{
	static const char sql[] =
	    "SELECT process, coalesce(seq, 0), coalesce(time, 0) FROM marks"
	    " WHERE label = ?1 ORDER BY id";
	sqlite3_stmt *st;
	Proc *p;
	int rc, i, nmarked;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, q->mark, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = procof(m, sqlite3_column_int64(st, 0));
		if (p == NULL || p->markseq >= 0)
			continue;	/* the first mark of the label counts */
		p->markseq = sqlite3_column_int64(st, 1);
		p->marktime = sqlite3_column_int64(st, 2);
		if (p->markseq < 0)
			p->markseq = 0;
		if (p->marktime < 0)
			p->marktime = 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto sqlfail;
	nmarked = 0;
	for (i = 0; i < m->nprocs; i++) {
		p = &m->procs[i];
		if (p->chosen && p->markseq < 0)
			p->chosen = 0;
		nmarked += p->chosen;
	}
	if (nmarked == 0) {
		snprintf(err, errlen, "no mark '%s'%s", q->mark,
		    q->pid != 0 ? " in that process" : " in the trace");
		return -1;
	}
	return 0;

sqlfail:
	snprintf(err, errlen, "%s", model_sqlwhy(db));
	return -1;
}

/* The scan of each chosen image: the last one of snapshot q->snapshot. */
static int
readscans(Model *m, sqlite3 *db, const Query *q, char *err, size_t errlen)
{
	static const char sql[] =
	    "SELECT id, process, complete, end_time IS NULL FROM scans WHERE snapshot = ?1 ORDER BY id";
	sqlite3_stmt *st;
	Proc *p;
	int rc, i, nscans;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_int(st, 1, q->snapshot);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = procof(m, sqlite3_column_int64(st, 1))) == NULL || !p->chosen)
			continue;
		p->scan = sqlite3_column_int64(st, 0);
		p->scan_unfinished = sqlite3_column_int(st, 2) != 1 || sqlite3_column_int(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto sqlfail;
	nscans = 0;
	for (i = 0; i < m->nprocs; i++) {
		p = &m->procs[i];
		if (!p->chosen)
			continue;
		if (p->scan != 0) {
			nscans++;
			m->nunfinished += p->scan_unfinished;
		} else if (q->snapshot == 0 &&
		    (p->end_how == NULL || strcmp(p->end_how, "exec") != 0)) {
			/* an image replaced by exec dropped its heap: nothing to report */
			p->unclassified = 1;
			m->nunclassified++;
		}
	}
	if (q->snapshot != 0 && nscans == 0) {
		snprintf(err, errlen, "no snapshot %d%s", q->snapshot,
		    q->pid != 0 ? " of that process" : " in the trace");
		return -1;
	}
	return 0;

sqlfail:
	snprintf(err, errlen, "%s", model_sqlwhy(db));
	return -1;
}

/* Room for one more record; -1 if out of memory. */
static int
growleaks(Model *m, size_t *max)
{
	Leak *nl;
	size_t nmax;

	if (m->nleaks < *max)
		return 0;
	nmax = *max != 0 ? 2 * *max : 256;
	if ((nl = realloc(m->leaks, nmax * sizeof *nl)) == NULL)
		return -1;
	m->leaks = nl;
	*max = nmax;
	return 0;
}

/*
 * The records a prepared, bound query gives, one per row; its columns are
 * class (NULL: unclassified), stack, blocks, bytes, the first alloc_seq,
 * that block's ptr and preview (NULL: none), and for zone items an eighth,
 * the zone's name.  mapped marks the records as blocks of mapped heaps.
 * Finalizes st.  0, -1 (SQLite), -2 (memory).
 */
static int
addrows(Model *m, Proc *p, size_t *max, sqlite3_stmt *st, int mapped)
{
	const unsigned char *cls, *name;
	Leak *l;
	int rc, n, c;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (growleaks(m, max) < 0) {
			sqlite3_finalize(st);
			return -2;
		}
		l = &m->leaks[m->nleaks++];
		memset(l, 0, sizeof *l);
		l->proc = p;
		l->cls = CLASS_UNCLASSIFIED;
		if ((cls = sqlite3_column_text(st, 0)) != NULL &&
		    (c = class_byname((const char *)cls, strlen((const char *)cls))) >= 0)
			l->cls = c;
		l->mapped = mapped;
		l->stack = sqlite3_column_int64(st, 1);
		l->blocks = (uint64_t)sqlite3_column_int64(st, 2);
		l->bytes = (uint64_t)sqlite3_column_int64(st, 3);
		l->ptr = (uint64_t)sqlite3_column_int64(st, 5);
		l->npreview = -1;
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			n = sqlite3_column_bytes(st, 6);
			if (n > (int)sizeof l->preview)
				n = sizeof l->preview;
			if (n > 0)
				memcpy(l->preview, sqlite3_column_blob(st, 6), (size_t)n);
			l->npreview = n;
		}
		if (sqlite3_column_count(st) > 7) {
			name = sqlite3_column_text(st, 7);
			snprintf(l->zone, sizeof l->zone, "%s",
			    name != NULL ? (const char *)name : "?");
		}
		m->sum[l->cls].bytes += l->bytes;
		m->sum[l->cls].blocks += l->blocks;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The items zones of one image still held when it ended (never given back
 * with uma_zfree, their zone destroyed or not), grouped by zone and
 * allocation stack: unclassified, since the scan reads only the heap.
 * 0, -1 (SQLite), -2 (memory).
 */
static int
readzoneleaks(Model *m, sqlite3 *db, Proc *p, size_t *max)
{
	static const char sql[] =
	    "SELECT NULL, b.stack, count(*), sum(b.size), min(b.alloc_seq), b.ptr, NULL, z.name"
	    " FROM blocks b JOIN zone_events e ON e.seq = b.alloc_seq"
	    " JOIN zones z ON z.process = b.process AND z.id = e.zone"
	    " WHERE b.free_seq IS NULL AND b.process = ?1 AND b.alloc_seq > ?2"
	    " GROUP BY z.id, b.stack";
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;	/* a trace without zones */
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, p->markseq);
	return addrows(m, p, max, st, 0);
}

/*
 * The blocks of mapped heaps (mmalloc(3)) one image still held when it
 * ended, grouped by allocation stack: unclassified, since the exit scan
 * walks only the default pool.  Those of mmalloc(NULL, ...), in the
 * default pool, are in the scan like any other.  Only for an image with
 * a scan (without one, every live block is unclassified already).
 * 0, -1 (SQLite), -2 (memory).
 */
static int
readmappedleaks(Model *m, sqlite3 *db, Proc *p, size_t *max)
{
	static const char sql[] =
	    "SELECT NULL, b.stack, count(*), sum(b.size), min(b.alloc_seq), b.ptr, NULL"
	    " FROM blocks b"
	    " WHERE b.free_seq IS NULL AND +b.process = ?1 AND b.alloc_seq > ?2"
	    " AND b.call IN ('mmalloc', 'mrealloc', 'mvalloc') AND NOT EXISTS"
	    " (SELECT 1 FROM scan_blocks s WHERE s.scan = ?3 AND s.alloc_seq = b.alloc_seq)"
	    " GROUP BY b.stack";
	sqlite3_stmt *st;

	if (p->scan == 0)
		return 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, p->markseq);
	sqlite3_bind_int64(st, 3, p->scan);
	return addrows(m, p, max, st, 1);
}

/*
 * The records of one image: from its scan (scanned) or from its live
 * blocks (unclassified), then the items of its zones and the blocks of
 * its mapped heaps.
 */
static int
readleaks(Model *m, sqlite3 *db, Proc *p, size_t *max)
{
	static const char scansql[] =
	    "SELECT class, stack, count(*), sum(size), min(alloc_seq), ptr, preview"
	    " FROM scan_blocks WHERE scan = ?1 AND alloc_seq > ?2 GROUP BY class, stack";
	/* unary + keeps process off the index: blocks_free finds the live ones */
	static const char livesql[] =
	    "SELECT NULL, stack, count(*), sum(size), min(alloc_seq), ptr, NULL"
	    " FROM blocks WHERE free_seq IS NULL AND +process = ?1 AND alloc_seq > ?2"
	    " AND call <> 'zalloc' GROUP BY stack";
	sqlite3_stmt *st;
	int rc;

	/* a sampled run: each block stands for weight blocks (pooldbg-trace(5)), rounded sums */
	static const char weightedsql[] =
	    "SELECT class, stack, CAST(round(total(coalesce(weight, 1))) AS INTEGER),"
	    " CAST(round(total(size * coalesce(weight, 1))) AS INTEGER), min(alloc_seq), ptr, preview"
	    " FROM scan_blocks WHERE scan = ?1 AND alloc_seq > ?2 GROUP BY class, stack";

	if (sqlite3_prepare_v2(db, p->scan == 0 ? livesql : m->sample > 0 ? weightedsql : scansql,
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, p->scan != 0 ? p->scan : p->id);
	sqlite3_bind_int64(st, 2, p->markseq);
	if ((rc = addrows(m, p, max, st, 0)) != 0)
		return rc;
	if ((rc = readzoneleaks(m, db, p, max)) != 0)
		return rc;
	return readmappedleaks(m, db, p, max);
}

/* Largest first: bytes, blocks, then the worse class, the image, the stack. */
static int
leakcmp(const void *a, const void *b)
{
	const Leak *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->blocks != y->blocks)
		return x->blocks > y->blocks ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls > y->cls ? -1 : 1;
	if (x->proc->id != y->proc->id)
		return x->proc->id < y->proc->id ? -1 : 1;
	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return 0;
}

/* The errors of the chosen images (after their mark, if any), in time order. */
static int
readerrors(Model *m, sqlite3 *db, char *err, size_t errlen)
{
	static const char sql[] =
	    "SELECT id, process, time, ptr, stack, message, kind,"
	    " block, size, offset, alloc_stack, free_stack FROM errors ORDER BY time, id";
	static const char oldsql[] =	/* a trace made before errors had their blocks */
	    "SELECT id, process, time, ptr, stack, message, kind FROM errors ORDER BY time, id";
	sqlite3_stmt *st;
	Herr *e, *ne;
	Proc *p;
	size_t max;
	int rc, nomem, cols;

	cols = 12;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		cols = 7;
		if (sqlite3_prepare_v2(db, oldsql, -1, &st, NULL) != SQLITE_OK)
			goto sqlfail;
	}
	max = 0;
	nomem = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = procof(m, sqlite3_column_int64(st, 1));
		if (p == NULL || !p->chosen)
			continue;
		if (p->marktime >= 0 && sqlite3_column_int64(st, 2) <= p->marktime)
			continue;
		if (m->nerrs == max) {
			max = max != 0 ? 2 * max : 16;
			if ((ne = realloc(m->errs, max * sizeof *ne)) == NULL) {
				nomem = 1;
				break;
			}
			m->errs = ne;
		}
		e = &m->errs[m->nerrs++];
		memset(e, 0, sizeof *e);
		e->proc = p;
		p->nerrs++;
		e->id = sqlite3_column_int64(st, 0);
		e->time = (uint64_t)sqlite3_column_int64(st, 2);
		e->ptr = (uint64_t)sqlite3_column_int64(st, 3);
		e->stack = sqlite3_column_int64(st, 4);
		e->message = dupcol(st, 5, &nomem);
		e->kind = dupcol(st, 6, &nomem);
		e->size = -1;
		if (cols > 7 && sqlite3_column_type(st, 7) != SQLITE_NULL) {
			e->block = (uint64_t)sqlite3_column_int64(st, 7);
			e->offset = sqlite3_column_int64(st, 9);
			e->hasblock = 1;
			if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
				e->size = sqlite3_column_int64(st, 8);
				e->alloc_stack = sqlite3_column_int64(st, 10);
				e->free_stack = sqlite3_column_int64(st, 11);
				e->known = 1;
			}
		}
	}
	sqlite3_finalize(st);
	if (nomem) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	return 0;

sqlfail:
	snprintf(err, errlen, "%s", model_sqlwhy(db));
	return -1;
}

int
model_read(Model *m, sqlite3 *db, const Query *q, char *err, size_t errlen)
{
	char meta[64];
	size_t max;
	Proc *p;
	int i, rc;

	memset(m, 0, sizeof *m);
	/* a sampled run (pooldbg(1) --sample): absent from older traces */
	if (trace_meta(db, "sample", meta, sizeof meta) == 0)
		m->sample = strtod(meta, NULL);
	if (readprocs(m, db, q, err, errlen) < 0)
		return -1;
	if (q->mark != NULL && readmarks(m, db, q, err, errlen) < 0)
		return -1;
	if (readscans(m, db, q, err, errlen) < 0)
		return -1;
	for (i = 0; i < m->nprocs; i++)
		if (m->procs[i].chosen && m->procs[i].execfrom != 0 &&
		    (p = procof(m, m->procs[i].execfrom)) != NULL)
			p->replaced = 1;
	max = 0;
	for (i = 0; i < m->nprocs; i++) {
		if (!m->procs[i].chosen || (m->procs[i].scan == 0 && !m->procs[i].unclassified))
			continue;
		if ((rc = readleaks(m, db, &m->procs[i], &max)) < 0) {
			snprintf(err, errlen, "%s", rc == -2 ? "out of memory" : model_sqlwhy(db));
			return -1;
		}
	}
	if (m->nleaks > 1)
		qsort(m->leaks, m->nleaks, sizeof *m->leaks, leakcmp);
	return readerrors(m, db, err, errlen);
}

/* Errors by (process, ptr), then time. */
static int
errcmp(const void *a, const void *b)
{
	const Herr *const *x = a, *const *y = b;

	if ((*x)->proc->id != (*y)->proc->id)
		return (*x)->proc->id < (*y)->proc->id ? -1 : 1;
	if ((*x)->ptr != (*y)->ptr)
		return (*x)->ptr < (*y)->ptr ? -1 : 1;
	return (*x)->time < (*y)->time ? -1 : (*x)->time > (*y)->time;
}

int
model_error_blocks(Model *m, sqlite3 *db, char *err, size_t errlen)
{
	/* one pass over blocks: there is no index on ptr, and errors are few */
	static const char sql[] =
	    "SELECT process, ptr, size, stack, alloc_time, free_stack, free_seq IS NOT NULL"
	    " FROM blocks WHERE ptr IN (SELECT ptr FROM errors WHERE ptr <> 0)";
	sqlite3_stmt *st;
	Herr **byptr, key, *kp;
	Proc kproc;
	int64_t *best;
	size_t i, n, lo, hi, mid;
	uint64_t atime;
	int rc;

	n = 0;
	for (i = 0; i < m->nerrs; i++)
		n += m->errs[i].ptr != 0 && !m->errs[i].known;
	if (n == 0)
		return 0;
	byptr = calloc(n, sizeof *byptr);
	best = calloc(n, sizeof *best);
	if (byptr == NULL || best == NULL) {
		free(byptr);
		free(best);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = 0;
	for (i = 0; i < m->nerrs; i++)
		if (m->errs[i].ptr != 0 && !m->errs[i].known)
			byptr[n++] = &m->errs[i];
	qsort(byptr, n, sizeof *byptr, errcmp);
	for (i = 0; i < n; i++)
		best[i] = -1;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&key, 0, sizeof key);
		kproc.id = sqlite3_column_int64(st, 0);
		key.proc = &kproc;
		key.ptr = (uint64_t)sqlite3_column_int64(st, 1);
		key.time = 0;
		kp = &key;
		/* the first error of (process, ptr) */
		lo = 0;
		hi = n;
		while (lo < hi) {
			mid = (lo + hi) / 2;
			if (errcmp(&byptr[mid], &kp) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		atime = (uint64_t)sqlite3_column_int64(st, 4);
		for (i = lo; i < n && byptr[i]->proc->id == kproc.id && byptr[i]->ptr == key.ptr; i++) {
			if (atime > byptr[i]->time || (best[i] >= 0 && (uint64_t)best[i] > atime))
				continue;
			best[i] = (int64_t)atime;
			byptr[i]->size = sqlite3_column_int64(st, 2);
			byptr[i]->alloc_stack = sqlite3_column_int64(st, 3);
			byptr[i]->free_stack = sqlite3_column_int(st, 6) ? sqlite3_column_int64(st, 5) : 0;
		}
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		snprintf(err, errlen, "%s", model_sqlwhy(db));
	sqlite3_finalize(st);
	free(byptr);
	free(best);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
model_free(Model *m)
{
	size_t i;
	int k;

	for (k = 0; k < m->nprocs; k++) {
		free(m->procs[k].exe);
		free(m->procs[k].cmdline);
		free(m->procs[k].end_how);
	}
	for (i = 0; i < m->nerrs; i++) {
		free(m->errs[i].kind);
		free(m->errs[i].message);
	}
	free(m->procs);
	free(m->leaks);
	free(m->errs);
	memset(m, 0, sizeof *m);
}
