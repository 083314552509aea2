/*
 * libpooldbg/trace-write.c -- the recorder's statements on a trace: one
 * prepared statement per kind of row, transactions the caller batches, and
 * the sticky failure rule (the first error, a full disk most of all, rolls
 * back the open batch and turns every later call into a no-op) that keeps
 * a trace consistent up to its last commit.
 *
 * Must never: decide what a record means (drain.c does), create tables
 * (trace-schema.c does), or print: failures go back in w->rc and w->msg.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "trace.h"

static const char *const stmtsql[TW_NSTMT] = {
	[TW_BEGIN]	= "BEGIN",
	[TW_COMMIT]	= "COMMIT",
	[TW_META]	= "INSERT INTO meta(key, value) VALUES(?1, ?2)"
			  " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[TW_PROC]	= "INSERT INTO processes(pid, ppid, execseq, forked, exe, cmdline, start)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[TW_PROCEND]	= "UPDATE processes SET end_how = ?2, end_status = ?3 WHERE id = ?1",
	[TW_THREAD]	= "INSERT INTO threads(process, tid, first) VALUES(?1, ?2, ?3)"
			  " ON CONFLICT(process, tid) DO UPDATE SET first = coalesce(first, excluded.first)",
	[TW_THREADEND]	= "INSERT INTO threads(process, tid, last) VALUES(?1, ?2, ?3)"
			  " ON CONFLICT(process, tid) DO UPDATE SET last = excluded.last",
	[TW_MODULE]	= "INSERT INTO modules(process, path, buildid, base, lo, hi, loaded)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[TW_UNLOAD]	= "UPDATE modules SET unloaded = ?4 WHERE process = ?1 AND base = ?2"
			  " AND lo = ?3 AND unloaded IS NULL",
	[TW_FRAME]	= "INSERT OR REPLACE INTO frames(process, id, parent, pc) VALUES(?1, ?2, ?3, ?4)",
	[TW_EVENT]	= "INSERT OR REPLACE INTO event_pages(first, last, count, data)"
			  " VALUES(?1, ?2, ?3, ?4)",
	[TW_ERROR]	= "INSERT INTO errors(process, time, tid, ptr, stack, message, kind,"
			  " block, size, offset, alloc_stack, free_stack, dump, dump_addr, fatal)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[TW_BLOCK]	= "INSERT OR REPLACE INTO live_blocks(process, ptr, size, call, stack,"
			  " alloc_seq, alloc_time) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[TW_THREADSEEN]	= "INSERT OR IGNORE INTO threads(process, tid, first) VALUES(?1, ?2, ?3)",
	[TW_MARK]	= "INSERT INTO marks(process, time, tid, seq, label) VALUES(?1, ?2, ?3, ?4, ?5)",
	[TW_SCAN]	= "INSERT INTO scans(process, snapshot, time, seq, tid, complete)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, 0)",
	[TW_SCANEND]	= "UPDATE scans SET end_time = ?2, threads = ?3, stopped = ?4, roots = ?5,"
			  " complete = 1 WHERE id = ?1",
	[TW_ARENA]	= "INSERT INTO arenas(scan, base, size) VALUES(?1, ?2, ?3)",
	[TW_SCANBLOCK]	= "INSERT INTO scan_blocks(scan, ptr, size, class, alloc_seq, stack, call,"
			  " tag, block, bsize, preview, weight)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
};

/* Remember the first failure, roll the open batch back. */
static int
fail(TraceWriter *w, int rc, const char *what)
{
	if (w->rc == 0) {
		w->rc = rc;
		snprintf(w->msg, sizeof w->msg, "%s: %s", what,
		    rc == SQLITE_FULL ? "disk full" : sqlite3_errmsg(w->db));
	}
	if (w->intx) {
		/* may fail if SQLite rolled back already; either way the batch is gone */
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
		w->intx = 0;
	}
	return -1;
}

/* Run the bound statement i to completion and reset it. */
static int
run(TraceWriter *w, int i, const char *what)
{
	sqlite3_stmt *st;
	int rc;

	st = w->st[i];
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return fail(w, rc, what);
	return 0;
}

/* Bind an address or size: SQLite integers are signed 64-bit; the bits are kept. */
static void
bindu(sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

int
trace_writer_open(TraceWriter *w, sqlite3 *db)
{
	sqlite3_stmt *st;
	int i, rc;

	memset(w, 0, sizeof *w);
	w->db = db;
	for (i = 0; i < TW_NSTMT; i++) {
		rc = sqlite3_prepare_v3(db, stmtsql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i], NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	if ((w->page.buf = malloc(PACK_MAXBYTES + PACK_EVMAX)) == NULL) {
		rc = SQLITE_NOMEM;
		goto fail;
	}
	pack_reset(&w->page);
	/* a trace reopened for writing goes on after its last event */
	if ((rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(last), 0) FROM event_pages", -1, &st,
	    NULL)) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		w->seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;

fail:
	fail(w, rc, "prepare");
	trace_writer_close(w);
	return -1;
}

void
trace_writer_close(TraceWriter *w)
{
	int i;

	for (i = 0; i < TW_NSTMT; i++) {
		sqlite3_finalize(w->st[i]);
		w->st[i] = NULL;
	}
	free(w->page.buf);
	w->page.buf = NULL;
}

int
trace_begin(TraceWriter *w)
{
	if (w->rc != 0)
		return -1;
	if (w->intx)
		return 0;
	if (run(w, TW_BEGIN, "begin") < 0)
		return -1;
	w->intx = 1;
	return 0;
}

int
trace_commit(TraceWriter *w)
{
	if (w->rc != 0 || trace_flush(w) < 0)
		return -1;
	if (!w->intx)
		return 0;
	if (run(w, TW_COMMIT, "commit") < 0)
		return -1;
	w->intx = 0;
	return 0;
}

int
trace_set_meta(TraceWriter *w, const char *key, const char *value)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_META];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (value != NULL)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	return run(w, TW_META, "meta");
}

int
trace_add_process(TraceWriter *w, int pid, int ppid, uint32_t execseq, int forked,
    const char *exe, const char *cmdline, uint64_t start, int64_t *id)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_PROC];
	sqlite3_bind_int(st, 1, pid);
	sqlite3_bind_int(st, 2, ppid);
	sqlite3_bind_int64(st, 3, execseq);
	sqlite3_bind_int(st, 4, forked);
	sqlite3_bind_text(st, 5, exe, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, cmdline, -1, SQLITE_TRANSIENT);
	bindu(st, 7, start);
	if (run(w, TW_PROC, "processes") < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(w->db);
	return 0;
}

int
trace_end_process(TraceWriter *w, int64_t id, const char *how, int64_t status)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_PROCEND];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, how, -1, SQLITE_STATIC);
	if (status >= 0)
		sqlite3_bind_int64(st, 3, status);
	return run(w, TW_PROCEND, "processes");
}

int
trace_add_thread(TraceWriter *w, int64_t process, int64_t tid, uint64_t time, int ending)
{
	sqlite3_stmt *st;
	int i;

	if (w->rc != 0)
		return -1;
	i = ending ? TW_THREADEND : TW_THREAD;
	st = w->st[i];
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_int64(st, 2, tid);
	bindu(st, 3, time);
	return run(w, i, "threads");
}

int
trace_add_module(TraceWriter *w, int64_t process, const char *path, const void *buildid,
    size_t buildidlen, uint64_t base, uint64_t lo, uint64_t hi, uint64_t time)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_MODULE];
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	if (buildidlen > 0)
		sqlite3_bind_blob(st, 3, buildid, (int)buildidlen, SQLITE_TRANSIENT);
	bindu(st, 4, base);
	bindu(st, 5, lo);
	bindu(st, 6, hi);
	bindu(st, 7, time);
	return run(w, TW_MODULE, "modules");
}

int
trace_unload_module(TraceWriter *w, int64_t process, uint64_t base, uint64_t lo, uint64_t time)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_UNLOAD];
	sqlite3_bind_int64(st, 1, process);
	bindu(st, 2, base);
	bindu(st, 3, lo);
	bindu(st, 4, time);
	return run(w, TW_UNLOAD, "modules");
}

int
trace_add_frame(TraceWriter *w, int64_t process, uint32_t id, uint32_t parent, uint64_t pc)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_FRAME];
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, parent);
	bindu(st, 4, pc);
	return run(w, TW_FRAME, "frames");
}

/* Store the open page as far as it goes. */
static int
putpage(TraceWriter *w)
{
	sqlite3_stmt *st;

	if (!w->dirty || w->page.count == 0)
		return 0;
	st = w->st[TW_EVENT];
	sqlite3_bind_int64(st, 1, w->page.first);
	sqlite3_bind_int64(st, 2, w->page.st.seq);
	sqlite3_bind_int(st, 3, w->page.count);
	sqlite3_bind_blob(st, 4, w->page.buf, (int)w->page.len, SQLITE_STATIC);
	if (run(w, TW_EVENT, "events") < 0)
		return -1;
	w->dirty = 0;
	return 0;
}

/* Encode the waiting event into the open page, storing the page first if it is full. */
static int
encode(TraceWriter *w)
{
	if (!w->haspending)
		return 0;
	if (pack_full(&w->page)) {
		if (putpage(w) < 0)
			return -1;
		pack_reset(&w->page);
	}
	pack_put(&w->page, &w->pending);
	w->haspending = 0;
	w->dirty = 1;
	return 0;
}

int
trace_flush(TraceWriter *w)
{
	if (w->rc != 0)
		return -1;
	if (encode(w) < 0 || putpage(w) < 0)
		return -1;
	return 0;
}

int
trace_add_event(TraceWriter *w, const TraceEvent *e)
{
	PackEvent *p;

	if (w->rc != 0)
		return -1;
	if (w->haspending && encode(w) < 0)
		return -1;
	p = &w->pending;
	p->seq = ++w->seq;
	p->process = e->process;
	p->time = e->time;
	p->tid = e->tid;
	p->type = e->type;
	p->call = e->call;
	p->flags = e->flags;
	p->ptr = e->ptr;
	p->newptr = e->type == TRACE_REALLOC ? e->newptr : 0;
	p->size = e->type != TRACE_FREE || (e->flags & CALLF_SIZED) != 0 ? e->size : 0;
	p->align = e->align;
	p->stack = e->stack;
	p->back = 0;
	w->haspending = 1;
	return 0;
}

int64_t
trace_last_seq(TraceWriter *w)
{
	return w->seq;
}

int
trace_add_block(TraceWriter *w, int64_t process, uint64_t ptr, uint64_t size,
    const char *call, int64_t stack, int64_t alloc_seq, uint64_t alloc_time,
    int64_t free_seq, uint64_t free_time, const char *free_call, int64_t free_stack)
{
	sqlite3_stmt *st;

	(void)free_time;
	(void)free_call;
	(void)free_stack;
	if (w->rc != 0)
		return -1;
	if (free_seq != 0) {
		/* the free names the lifetime it ends; nothing else to store */
		if (w->haspending && w->pending.seq == free_seq && alloc_seq > 0 &&
		    alloc_seq < free_seq)
			w->pending.back = free_seq - alloc_seq;
		return 0;
	}
	st = w->st[TW_BLOCK];
	sqlite3_bind_int64(st, 1, process);
	bindu(st, 2, ptr);
	bindu(st, 3, size);
	sqlite3_bind_text(st, 4, call, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, stack);
	sqlite3_bind_int64(st, 6, alloc_seq);
	bindu(st, 7, alloc_time);
	return run(w, TW_BLOCK, "blocks");
}

int
trace_add_thread_seen(TraceWriter *w, int64_t process, int64_t tid, uint64_t time)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_THREADSEEN];
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_int64(st, 2, tid);
	bindu(st, 3, time);
	return run(w, TW_THREADSEEN, "threads");
}

int
trace_add_error(TraceWriter *w, const TraceError *e)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_ERROR];
	sqlite3_bind_int64(st, 1, e->process);
	bindu(st, 2, e->time);
	sqlite3_bind_int64(st, 3, e->tid);
	bindu(st, 4, e->ptr);
	sqlite3_bind_int64(st, 5, e->stack);
	sqlite3_bind_text(st, 6, e->message, -1, SQLITE_TRANSIENT);
	if (e->kind != NULL)
		sqlite3_bind_text(st, 7, e->kind, -1, SQLITE_TRANSIENT);
	if (e->block != 0) {
		bindu(st, 8, e->block);
		sqlite3_bind_int64(st, 10, e->offset);
	}
	if (e->size != 0 || e->block != 0)
		bindu(st, 9, e->size);
	if (e->alloc_stack != 0)
		sqlite3_bind_int64(st, 11, e->alloc_stack);
	if (e->free_stack != 0)
		sqlite3_bind_int64(st, 12, e->free_stack);
	if (e->dumplen > 0) {
		sqlite3_bind_blob(st, 13, e->dump, (int)e->dumplen, SQLITE_TRANSIENT);
		bindu(st, 14, e->dumpaddr);
	}
	sqlite3_bind_int(st, 15, e->fatal != 0);
	return run(w, TW_ERROR, "errors");
}

int
trace_add_mark(TraceWriter *w, int64_t process, uint64_t time, int64_t tid, int64_t seq,
    const char *label)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_MARK];
	sqlite3_bind_int64(st, 1, process);
	bindu(st, 2, time);
	sqlite3_bind_int64(st, 3, tid);
	if (seq != 0)
		sqlite3_bind_int64(st, 4, seq);
	sqlite3_bind_text(st, 5, label, -1, SQLITE_TRANSIENT);
	return run(w, TW_MARK, "marks");
}

int
trace_add_scan(TraceWriter *w, int64_t process, uint32_t snapshot, uint64_t time,
    int64_t seq, int64_t tid, int64_t *id)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_SCAN];
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_int64(st, 2, snapshot);
	bindu(st, 3, time);
	if (seq != 0)
		sqlite3_bind_int64(st, 4, seq);
	sqlite3_bind_int64(st, 5, tid);
	if (run(w, TW_SCAN, "scans") < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(w->db);
	return 0;
}

int
trace_end_scan(TraceWriter *w, int64_t id, uint64_t end_time, uint32_t threads,
    uint32_t stopped, uint64_t roots)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_SCANEND];
	sqlite3_bind_int64(st, 1, id);
	bindu(st, 2, end_time);
	sqlite3_bind_int64(st, 3, threads);
	sqlite3_bind_int64(st, 4, stopped);
	bindu(st, 5, roots);
	return run(w, TW_SCANEND, "scans");
}

int
trace_add_arena(TraceWriter *w, int64_t scan, uint64_t base, uint64_t size)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_ARENA];
	sqlite3_bind_int64(st, 1, scan);
	bindu(st, 2, base);
	bindu(st, 3, size);
	return run(w, TW_ARENA, "arenas");
}

int
trace_add_scan_block(TraceWriter *w, const TraceScanBlock *b)
{
	sqlite3_stmt *st;

	if (w->rc != 0)
		return -1;
	st = w->st[TW_SCANBLOCK];
	sqlite3_bind_int64(st, 1, b->scan);
	bindu(st, 2, b->ptr);
	bindu(st, 3, b->size);
	sqlite3_bind_text(st, 4, b->cls, -1, SQLITE_STATIC);
	if (b->alloc_seq != 0) {
		sqlite3_bind_int64(st, 5, b->alloc_seq);
		sqlite3_bind_int64(st, 6, b->stack);
		sqlite3_bind_text(st, 7, b->call, -1, SQLITE_STATIC);
	}
	bindu(st, 8, b->tag);
	bindu(st, 9, b->block);
	bindu(st, 10, b->bsize);
	/* a zero-length blob, not NULL, for a block of size 0 */
	sqlite3_bind_blob(st, 11, b->previewlen > 0 ? b->preview : "", (int)b->previewlen,
	    SQLITE_TRANSIENT);
	if (b->weight > 0)
		sqlite3_bind_double(st, 12, b->weight);
	return run(w, TW_SCANBLOCK, "scan_blocks");
}
