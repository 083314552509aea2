/*
 * tests/poolview-model.c -- poolview's model against brute force: a trace
 * of known content (written through the real writer, a few hundred
 * thousand events of allocs, frees and reallocs from four stacks, an exit
 * scan, a mark, an error), its time index built by timeline_build, then
 * the blocks alive and the bytes in use at many cursor positions --
 * stepping, jumping forward and back -- compared with a count over every
 * lifetime; the trees (top-down, bottom-up, alive at the cursor, sort,
 * search), the block list's filters, a block's detail with its realloc
 * history, the heap map, the points; and the same trace without its index
 * (as an older recorder wrote it), which the model indexes for itself.
 *
 * Must never: leave files behind.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "poolview.h"
#include "record.h"
#include "tap.h"
#include "../pooldbg/timeline.h"

enum { NEV = 200000, NSTK = 4 };

typedef struct Life Life;
struct Life {
	int64_t	a, f;		/* alloc_seq, free_seq (0: never) */
	uint64_t ptr, size;
	int	stk;
	int	leaked;
	int	re;		/* made by a realloc */
};

static Life *life;
static size_t nlife;
static int64_t lastseq;
static const char *const fn[NSTK] = { "parse_line", "grow_table", "leaky_cache", "intern_name" };
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Write the trace at path; with index, its time index too. */
static void
mktrace(const char *path, int index)
{
	char err[256], name[64];
	TraceWriter w;
	TraceEvent e;
	sqlite3 *db;
	int64_t proc, sid;
	size_t *open, nopen, i, k;
	uint64_t ptr;
	Life *l;
	int s;

	rng = 0x9e3779b97f4a7c15ULL;
	if (trace_create(path, &db, err, sizeof err) < 0 || trace_writer_open(&w, db) < 0)
		tap_bail("trace_create: %s", err);
	trace_begin(&w);
	trace_add_process(&w, 77, 1, 0, 0, "/bin/model", "model --test", 1, &proc);
	/* stacks: main (1) -> fn[s] (2 + s) */
	trace_add_frame(&w, proc, 1, 0, 0x1000);
	sqlite3_exec(db, "INSERT INTO locations VALUES(1, 4096, 0, 'main', '/src/main.c', 10, 1, NULL, NULL)",
	    NULL, NULL, NULL);
	for (s = 0; s < NSTK; s++) {
		trace_add_frame(&w, proc, (uint32_t)(2 + s), 1, 0x2000 + 0x10 * (uint64_t)s);
		snprintf(err, sizeof err, "INSERT INTO locations VALUES(1, %d, 0, '%s', '/src/%s.c', %d,"
		    " 1, NULL, NULL)", 0x2000 + 0x10 * s, fn[s], s == 2 ? "cache" : "util", 20 + s);
		sqlite3_exec(db, err, NULL, NULL, NULL);
	}
	life = calloc(NEV + 1, sizeof *life);
	open = calloc(NEV + 1, sizeof *open);
	if (life == NULL || open == NULL)
		tap_bail("out of memory");
	nlife = nopen = 0;
	ptr = 0x100000;
	memset(&e, 0, sizeof e);
	e.process = proc;
	e.tid = 77;
	for (i = 1; i <= NEV; i++) {
		e.time = 1000 + 10 * i;
		k = nopen > 0 ? rnd() % nopen : 0;
		if (nopen == 0 || (nopen < 3000 && rnd() % 100 < 55)) {
			l = &life[nlife];
			l->ptr = ptr;
			ptr += 0x100;
			l->size = 1 + rnd() % 200;
			l->stk = (int)(rnd() % NSTK);
			l->leaked = l->stk == 2 && rnd() % 4 == 0;
			e.type = TRACE_ALLOC;
			e.call = CALL_MALLOC;
			e.ptr = l->ptr;
			e.size = l->size;
			e.stack = (uint32_t)(2 + l->stk);
			trace_add_event(&w, &e);
			l->a = trace_last_seq(&w);
			if (!l->leaked)
				open[nopen++] = nlife;
			nlife++;
		} else if (rnd() % 5 == 0) {
			/* realloc: the old lifetime ends, a new one begins at the same event */
			l = &life[open[k]];
			e.type = TRACE_REALLOC;
			e.call = CALL_REALLOC;
			e.ptr = l->ptr;
			e.newptr = ptr;
			e.size = l->size + 8;
			e.stack = (uint32_t)(2 + l->stk);
			trace_add_event(&w, &e);
			l->f = trace_last_seq(&w);
			trace_add_block(&w, proc, l->ptr, l->size, l->re ? "realloc" : "malloc", 2 + l->stk,
			    l->a, 0, l->f, 0, "realloc", 2 + l->stk);
			life[nlife] = *l;
			life[nlife].a = l->f;
			life[nlife].f = 0;
			life[nlife].ptr = ptr;
			life[nlife].size = l->size + 8;
			life[nlife].re = 1;
			ptr += 0x100;
			open[k] = nlife++;
			e.newptr = 0;
		} else {
			l = &life[open[k]];
			e.type = TRACE_FREE;
			e.call = CALL_FREE;
			e.ptr = l->ptr;
			e.size = 0;
			e.stack = 2;
			trace_add_event(&w, &e);
			l->f = trace_last_seq(&w);
			trace_add_block(&w, proc, l->ptr, l->size, l->re ? "realloc" : "malloc", 2 + l->stk,
			    l->a, 0, l->f, 0, "free", 2);
			open[k] = open[--nopen];
		}
	}
	lastseq = NEV;	/* seqs are 1, 2, ... in the order of the events */
	/* what stayed: leaked ones definite, the rest reachable; the realloc'd ones keep 'realloc' */
	trace_add_scan(&w, proc, 0, 1000 + 10 * NEV + 5, lastseq, 77, &sid);
	trace_add_arena(&w, sid, 0x100000, ptr - 0x100000);
	for (i = 0; i < nlife; i++) {
		l = &life[i];
		if (l->f != 0)
			continue;
		trace_add_block(&w, proc, l->ptr, l->size, l->re ? "realloc" : "malloc", 2 + l->stk, l->a,
		    0, 0, 0, NULL, 0);
		TraceScanBlock sb = { sid, l->ptr, l->size, l->leaked ? "definite" : "reachable", l->a,
		    2 + l->stk, l->re ? "realloc" : "malloc", 0x2000, l->ptr - 16, l->size + 32,
		    "preview!", 8, 0 };
		trace_add_scan_block(&w, &sb);
	}
	trace_end_scan(&w, sid, 1000 + 10 * NEV + 6, 1, 1, 4096);
	trace_add_mark(&w, proc, 1000 + 10 * 5000, 77, 5000, "phase two");
	{
		TraceError te = { .process = proc, .time = 1000 + 10 * 9000, .tid = 77,
		    .ptr = life[3].ptr, .stack = 4, .message = "tail magic overwritten",
		    .kind = "overflow" };

		trace_add_error(&w, &te);
	}
	trace_end_process(&w, proc, "exit", 0);
	trace_set_meta(&w, "complete", "yes");
	if (trace_commit(&w) < 0)
		tap_bail("writer: %s", w.msg);
	trace_writer_close(&w);
	if (trace_create_indexes(db, err, sizeof err) < 0)
		tap_bail("indexes: %s", err);
	if (index && (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    timeline_build(db, "main", NULL, err, sizeof err) < 0 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK))
		tap_bail("timeline: %s", err);
	sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	sqlite3_close(db);
	free(open);
	snprintf(name, sizeof name, "%zu lifetimes", nlife);
	tap_diag("%s: %lld events, %s", path, (long long)lastseq, name);
}

/* Blocks and bytes alive after seq, by brute force. */
static void
truth(int64_t seq, size_t *n, uint64_t *bytes)
{
	size_t i;

	*n = 0;
	*bytes = 0;
	for (i = 0; i < nlife; i++)
		if (life[i].a <= seq && (life[i].f == 0 || life[i].f > seq)) {
			(*n)++;
			*bytes += life[i].size;
		}
}

/* The cursor at each of seqs agrees with brute force; returns the failures. */
static int
walk(Model *m, const int64_t *seqs, int nseq)
{
	uint64_t bytes;
	size_t n;
	int i, bad;

	bad = 0;
	for (i = 0; i < nseq; i++) {
		if (model_seek(m, seqs[i]) < 0)
			return nseq;
		truth(seqs[i], &n, &bytes);
		if (m->nlive != n || m->inuse != bytes || model_inuse_at(m, seqs[i]) != bytes) {
			tap_diag("at %lld: model %zu blocks %llu bytes (curve %llu), truth %zu %llu",
			    (long long)seqs[i], m->nlive, (unsigned long long)m->inuse,
			    (unsigned long long)model_inuse_at(m, seqs[i]), n, (unsigned long long)bytes);
			bad++;
		}
	}
	return bad;
}

static Node *
kid(Node *n, const char *func)
{
	size_t i;

	for (i = 0; n != NULL && i < n->nkids; i++)
		if (strcmp(n->kids[i]->loc->func, func) == 0)
			return n->kids[i];
	return NULL;
}

static void
checkmodel(const char *path, int cached)
{
	char err[256];
	int64_t steps[64], seq;
	uint64_t bytes, leaked;
	size_t n, i;
	Model m;
	Tree t;
	Blist bl;
	Detail d;
	Hmap hm;
	Node *nd, *lk;
	Blk *b;
	Err *errs;
	int k, nerr, found;

	if (model_open(&m, path, err, sizeof err) < 0 || model_tree_load(&m, &t, err, sizeof err) < 0)
		tap_bail("model_open %s: %s", path, err);
	is(m.cached, cached, "%s: time index %s", path, cached ? "built for the session" : "read from the trace");
	is(m.maxseq, lastseq, "the last event is %lld", (long long)lastseq);
	/* stepping one event at a time, then far jumps both ways, then back again */
	for (k = 0; k < 20; k++)
		steps[k] = 1000 + k;
	seq = 0;
	for (; k < 40; k++)
		steps[k] = (seq = (int64_t)(rnd() % (uint64_t)(lastseq + 1)));
	for (; k < 50; k++)
		steps[k] = lastseq - (k - 40) * 7000;
	for (; k < 60; k++)
		steps[k] = 70000 + (k % 2 ? 3 : -3) * k;
	steps[60] = 0;
	steps[61] = lastseq;
	steps[62] = 65536;
	steps[63] = 65537;
	is(walk(&m, steps, 64), 0, "blocks and bytes alive at 64 cursor positions match every lifetime");
	truth(m.peakseq, &n, &bytes);
	is(m.peak, bytes, "the peak is the bytes alive at its event");

	/* trees at the end: leaky_cache holds every definite byte */
	model_seek(&m, lastseq);
	tree_alive(&m, &t);
	leaked = 0;
	for (i = 0; i < nlife; i++)
		if (life[i].leaked)
			leaked += life[i].size;
	nd = kid(t.root[0], "main");
	lk = kid(nd, "leaky_cache");
	ok(nd != NULL && lk != NULL, "top-down: main, then leaky_cache under it");
	ok(lk != NULL && lk->v[COL_DEF] == leaked && leaked > 0, "leaky_cache leaked %llu bytes definite",
	    (unsigned long long)leaked);
	ok(nd != NULL && nd->v[COL_ALIVE] == m.inuse, "main holds every byte alive");
	model_seek(&m, 70001);
	tree_alive(&m, &t);
	truth(70001, &n, &bytes);
	ok(nd != NULL && nd->v[COL_ALIVE] == bytes, "after a jump back, main holds the bytes alive then");
	model_seek(&m, lastseq);
	t.up = 1;
	tree_alive(&m, &t);
	ok(kid(t.root[1], "leaky_cache") != NULL && kid(kid(t.root[1], "leaky_cache"), "main") != NULL,
	    "bottom-up: leaky_cache first, main its caller");
	ok(kid(t.root[1], "parse_line")->v[COL_ALIVE] > 0, "bottom-up has alive bytes at the cursor");
	t.sort = COL_DEF;
	tree_rows(&t);
	ok(t.nrows > 1 && t.rows[1]->loc != NULL && strcmp(t.rows[1]->loc->func, "leaky_cache") == 0,
	    "sorted by definite bytes, leaky_cache comes first");
	t.up = 0;
	t.sel = 0;
	tree_rows(&t);
	snprintf(t.pat, sizeof t.pat, "cache.c");
	ok(tree_search(&t, 1) == 0 && strcmp(t.rows[t.sel]->loc->func, "leaky_cache") == 0,
	    "searching a file name selects its function");
	snprintf(t.pat, sizeof t.pat, "no_such_function");
	ok(tree_search(&t, 1) < 0, "a search without a match says so");

	/* the block list and its filters */
	memset(&bl, 0, sizeof bl);
	bl.cls = -1;
	bl.sort = BS_SIZE;
	blist_fill(&m, &bl);
	is(bl.n, m.nlive, "the list holds every block alive");
	ok(bl.n > 1 && bl.v[0]->size >= bl.v[bl.n - 1]->size, "sorted by size, largest first");
	bl.cls = CL_DEFINITE;
	blist_fill(&m, &bl);
	bytes = 0;
	for (i = 0; i < bl.n; i++)
		bytes += bl.v[i]->size;
	is(bytes, leaked, "the definite filter keeps exactly the leaked bytes");
	bl.cls = -1;
	snprintf(bl.func, sizeof bl.func, "intern");
	bl.minsize = 50;
	bl.maxsize = 60;
	blist_fill(&m, &bl);
	found = bl.n > 0;
	for (i = 0; i < bl.n; i++)
		if (bl.v[i]->size < 50 || bl.v[i]->size > 60 || strcmp(model_blkfunc(&m, bl.v[i]), "intern_name") != 0)
			found = 0;
	ok(found, "function and size filters (%zu blocks)", bl.n);

	/* a realloc'd block's detail has its history */
	b = NULL;
	for (i = 0; i < m.nlive && b == NULL; i++)
		if (strcmp(m.live[i]->call, "realloc") == 0)
			b = m.live[i];
	ok(b != NULL && model_detail(&m, b, &d) == 0 && d.nhist >= 2 && d.free_seq == 0,
	    "a block made by realloc: its history (%d lines), never freed", b != NULL ? d.nhist : 0);
	ok(b != NULL && d.bsize == b->size + 32 && d.npreview == 8 && memcmp(d.preview, "preview!", 8) == 0,
	    "its pool block and preview from the scan");

	/* the heap map: arenas of the scan, leaked cells where leaked blocks are */
	memset(&hm, 0, sizeof hm);
	ok(hmap_fill(&m, &hm, 300, 200) == 0 && !hm.derived && hm.scan == 1, "the map uses the scan's arena");
	found = 0;
	for (i = 0; i < 300 * 200; i++)
		found |= 1 << hm.cell[i];
	ok((found & (1 << MC_LEAK)) && (found & (1 << MC_ALLOC)), "the map shows leaked and allocated cells");
	b = NULL;
	for (i = 0; i < m.nlive && b == NULL; i++)
		if (m.live[i]->cls == CL_DEFINITE)
			b = m.live[i];
	i = b != NULL ? (size_t)((b->ptr - hm.lo) / hm.per) : 0;
	ok(b != NULL && hm.cell[i] == MC_LEAK && hm.blk[i] != NULL && hm.blk[i]->cls >= CL_POSSIBLE,
	    "a leaked block's cell is leaked and shows a leaked block");
	hmap_free(&hm);
	/* at the start nothing is alive: the arena is all free */
	model_seek(&m, 0);
	ok(hmap_fill(&m, &hm, 60, 20) == 0 && hm.cell[0] == MC_FREE && hm.cell[60 * 20 - 1] == MC_FREE &&
	    hm.blk[0] == NULL, "before the first event the arena is free");
	hmap_free(&hm);

	/* the points */
	m.cur = 0;
	is(model_point(&m, PT_MARK, 1), 5000, "the mark follows event 5000");
	seq = model_point(&m, PT_ERROR, 1);
	ok(seq > 8990 && seq <= 9000, "the error is placed by its time (event %lld)", (long long)seq);
	nerr = model_errors(&m, &errs);
	ok(nerr == 1 && strcmp(errs[0].kind, "overflow") == 0 && errs[0].stack == 4, "the error, its kind and stack");
	free(errs);
	free(bl.v);
	model_tree_free(&t);
	model_close(&m);
}

int
main(void)
{
	char dir[] = "/tmp/poolview-model-XXXXXX", p1[64], p2[64], err[256];
	Model m;

	if (mkdtemp(dir) == NULL)
		tap_bail("mkdtemp");
	snprintf(p1, sizeof p1, "%s/indexed.db", dir);
	snprintf(p2, sizeof p2, "%s/older.db", dir);
	mktrace(p1, 1);
	checkmodel(p1, 0);
	mktrace(p2, 0);
	checkmodel(p2, 1);
	ok(model_open(&m, "/nonexistent.db", err, sizeof err) < 0 &&
	    strcmp(err, "/nonexistent.db: cannot open: No such file or directory") == 0,
	    "a missing trace: %s", err);
	model_close(&m);
	ok(model_open(&m, "/etc/passwd", err, sizeof err) < 0 && strstr(err, "not a pooldbg trace") != NULL,
	    "not a trace: %s", err);
	model_close(&m);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	free(life);
	return tap_done();
}
