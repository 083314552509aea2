/*
 * pooldbg/derive.c -- what a trace gets once its recording is over:
 * processes linked to the images they came from, threads known only from
 * their events, the blocks table (one row per block lifetime, built by
 * walking events in order), the indexes, and the numbers of the summary.
 *
 * A lifetime starts with an alloc that returned a block, or a realloc
 * that returned one; it ends with a free of it, or a realloc of it that
 * succeeded (moved or not: the new size is a new lifetime) or freed it
 * (size 0).  A failed realloc leaves the block alone.  Each process image
 * has its own heap: a fork child's frees of blocks its parent made end no
 * lifetime of the child's.
 *
 * Must never: change events or anything else the recorder stored.
 */
#include "pooldbg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A block alive while walking the events. */
typedef struct Live Live;
struct Live {
	int64_t	process;	/* 0: an empty slot */
	uint64_t ptr;
	uint64_t size;
	int64_t	seq;
	int64_t	time;
	int64_t	stack;
	char	call[16];
};

/* Open-addressed table of live blocks keyed by (process, ptr). */
typedef struct Table Table;
struct Table {
	Live	*slot;
	size_t	mask;		/* slots - 1, slots a power of two */
	size_t	n;
};

/* Bytes in use per process image, and the most they reached. */
typedef struct Heap Heap;
struct Heap {
	uint64_t *inuse;
	uint64_t *peak;
	size_t	n;		/* entries, indexed by processes.id */
};

static size_t
hash(int64_t process, uint64_t ptr)
{
	uint64_t h;

	h = (ptr >> 4) * 0x9e3779b97f4a7c15ull ^ (uint64_t)process * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h ^ h >> 29);
}

static Live *
lookup(Table *t, int64_t process, uint64_t ptr)
{
	size_t i;

	for (i = hash(process, ptr) & t->mask; t->slot[i].process != 0; i = (i + 1) & t->mask)
		if (t->slot[i].process == process && t->slot[i].ptr == ptr)
			return &t->slot[i];
	return NULL;
}

/* Remove e from t, shifting back the entries after it (linear probing). */
static void
delete(Table *t, Live *e)
{
	size_t i, j, k;

	i = (size_t)(e - t->slot);
	t->slot[i].process = 0;
	t->n--;
	for (j = (i + 1) & t->mask; t->slot[j].process != 0; j = (j + 1) & t->mask) {
		k = hash(t->slot[j].process, t->slot[j].ptr) & t->mask;
		/* move j to the hole at i if its home k does not lie in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			t->slot[i] = t->slot[j];
			t->slot[j].process = 0;
			i = j;
		}
	}
}

static int
insert(Table *t, const Live *e)
{
	Live *old;
	size_t i, oldsize;

	if ((t->n + 1) * 2 > t->mask + 1) {
		old = t->slot;
		oldsize = t->mask + 1;
		if ((t->slot = calloc(oldsize * 2, sizeof *t->slot)) == NULL) {
			t->slot = old;
			return -1;
		}
		t->mask = oldsize * 2 - 1;
		t->n = 0;
		for (i = 0; i < oldsize; i++)
			if (old[i].process != 0)
				insert(t, &old[i]);
		free(old);
	}
	for (i = hash(e->process, e->ptr) & t->mask; t->slot[i].process != 0; i = (i + 1) & t->mask)
		;
	t->slot[i] = *e;
	t->n++;
	return 0;
}

/* Count size in (up) or out of (!up) the heap of process; keep its peak. */
static int
account(Heap *h, int64_t process, uint64_t size, int up)
{
	uint64_t *a, *b;
	size_t n;

	if (process < 0)
		return 0;
	if ((size_t)process >= h->n) {
		n = (size_t)process * 2 + 16;
		a = realloc(h->inuse, n * sizeof *a);
		if (a == NULL)
			return -1;
		h->inuse = a;
		b = realloc(h->peak, n * sizeof *b);
		if (b == NULL)
			return -1;
		h->peak = b;
		memset(h->inuse + h->n, 0, (n - h->n) * sizeof *a);
		memset(h->peak + h->n, 0, (n - h->n) * sizeof *b);
		h->n = n;
	}
	if (up) {
		h->inuse[process] += size;
		if (h->inuse[process] > h->peak[process])
			h->peak[process] = h->inuse[process];
	} else
		h->inuse[process] -= size < h->inuse[process] ? size : h->inuse[process];
	return 0;
}

/* Store the lifetime b, ended by the event (seq, time, call, stack) or still live (seq 0). */
static int
putblock(sqlite3_stmt *ins, const Live *b, int64_t seq, int64_t time, const char *call,
    int64_t stack)
{
	int rc;

	sqlite3_bind_int64(ins, 1, b->process);
	sqlite3_bind_int64(ins, 2, (sqlite3_int64)b->ptr);
	sqlite3_bind_int64(ins, 3, (sqlite3_int64)b->size);
	sqlite3_bind_text(ins, 4, b->call, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 5, b->stack);
	sqlite3_bind_int64(ins, 6, b->seq);
	sqlite3_bind_int64(ins, 7, b->time);
	if (seq != 0) {
		sqlite3_bind_int64(ins, 8, seq);
		sqlite3_bind_int64(ins, 9, time);
		sqlite3_bind_text(ins, 10, call, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 11, stack);
	}
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	return rc == SQLITE_DONE ? 0 : rc;
}

/* Walk events in order into blocks; 0 or a SQLite code (SQLITE_NOMEM for our own memory). */
static int
mkblocks(sqlite3 *db, DeriveStats *ds)
{
	sqlite3_stmt *sel, *ins;
	Table t;
	Heap h;
	Live b, *o;
	const char *type, *call;
	int64_t seq, time, stack, process;
	uint64_t ptr, newptr, size;
	size_t i;
	int rc, r;

	sel = ins = NULL;
	memset(&h, 0, sizeof h);
	t.mask = 1023;
	t.n = 0;
	if ((t.slot = calloc(t.mask + 1, sizeof *t.slot)) == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db,
	    "SELECT seq, process, time, type, call, ptr, newptr, size, stack FROM events"
	    " ORDER BY seq", -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
		    "INSERT INTO blocks(process, ptr, size, call, stack, alloc_seq, alloc_time,"
		    " free_seq, free_time, free_call, free_stack)"
		    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1, &ins, NULL);
	if (rc != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(sel, 0);
		process = sqlite3_column_int64(sel, 1);
		time = sqlite3_column_int64(sel, 2);
		type = (const char *)sqlite3_column_text(sel, 3);
		call = (const char *)sqlite3_column_text(sel, 4);
		ptr = (uint64_t)sqlite3_column_int64(sel, 5);
		newptr = (uint64_t)sqlite3_column_int64(sel, 6);
		size = (uint64_t)sqlite3_column_int64(sel, 7);
		stack = sqlite3_column_int64(sel, 8);
		if (type == NULL || process == 0)
			continue;
		if (call == NULL)
			call = "unknown";
		r = 0;
		/* the end of a lifetime: free, or a realloc that moved, resized or freed */
		if (strcmp(type, "free") == 0 ||
		    (strcmp(type, "realloc") == 0 && (newptr != 0 || size == 0))) {
			if ((o = lookup(&t, process, ptr)) != NULL) {
				r = putblock(ins, o, seq, time, call, stack);
				account(&h, process, o->size, 0);
				delete(&t, o);
				ds->blocks++;
			}
		}
		/* the start of one: an alloc or realloc that returned a block */
		if (r == 0 && (strcmp(type, "alloc") == 0 || strcmp(type, "realloc") == 0)) {
			b.ptr = strcmp(type, "alloc") == 0 ? ptr : newptr;
			if (b.ptr == 0)
				continue;
			b.process = process;
			b.size = size;
			b.seq = seq;
			b.time = time;
			b.stack = stack;
			snprintf(b.call, sizeof b.call, "%s", call);
			if ((o = lookup(&t, process, b.ptr)) != NULL) {
				/* handed out twice without a free between: keep both, the first as live */
				r = putblock(ins, o, 0, 0, NULL, 0);
				delete(&t, o);
				ds->blocks++;
			}
			if (r == 0 && (insert(&t, &b) < 0 || account(&h, process, size, 1) < 0))
				r = SQLITE_NOMEM;
		}
		if (r != 0) {
			rc = r;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		goto out;
	rc = SQLITE_OK;
	for (i = 0; i <= t.mask && rc == SQLITE_OK; i++)
		if (t.slot[i].process != 0) {
			rc = putblock(ins, &t.slot[i], 0, 0, NULL, 0);
			ds->blocks++;
		}
	for (i = 0; i < h.n; i++)
		if (h.peak[i] > ds->peak)
			ds->peak = h.peak[i];
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	free(t.slot);
	free(h.inuse);
	free(h.peak);
	return rc;
}

/* The steps in SQL: parents, threads known only from events. */
static const char linksql[] =
	/* an exec'd image came from the image before it of the same pid */
	"UPDATE processes SET parent = (SELECT p.id FROM processes p"
	"  WHERE p.pid = processes.pid AND p.execseq < processes.execseq"
	"  ORDER BY p.execseq DESC LIMIT 1) WHERE execseq > 0;"
	/* a first image, from its parent's image that was current when it started */
	"UPDATE processes SET parent = (SELECT p.id FROM processes p"
	"  WHERE p.pid = processes.ppid AND p.start <= processes.start"
	"  ORDER BY p.start DESC, p.execseq DESC LIMIT 1) WHERE execseq = 0;"
	"INSERT OR IGNORE INTO threads(process, tid, first, last)"
	"  SELECT process, tid, min(time), NULL FROM events GROUP BY process, tid;";

int
derive(sqlite3 *db, DeriveStats *ds, int *rc, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *msg;
	const char *what;

	memset(ds, 0, sizeof *ds);
	msg = NULL;
	what = "derive";
	if ((*rc = sqlite3_exec(db, "BEGIN", NULL, NULL, &msg)) != SQLITE_OK)
		goto fail;
	what = "processes";
	if ((*rc = sqlite3_exec(db, linksql, NULL, NULL, &msg)) != SQLITE_OK)
		goto fail;
	what = "blocks";
	if ((*rc = mkblocks(db, ds)) != SQLITE_OK)
		goto fail;
	what = "indexes";
	if (trace_create_indexes(db, err, errlen) < 0) {
		*rc = sqlite3_errcode(db);
		goto rollback;
	}
	what = "commit";
	if ((*rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg)) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(size), 0) FROM live_at_exit",
	    -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			ds->live = (uint64_t)sqlite3_column_int64(st, 0);
			ds->livebytes = (uint64_t)sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	return 0;

fail:
	snprintf(err, errlen, "%s: %s", what, *rc == SQLITE_FULL ? "disk full" :
	    *rc == SQLITE_NOMEM ? "out of memory" : msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
