/*
 * libpooldbg/trace.h -- the trace file: a SQLite database whose schema is
 * documented in pooldbg-trace(5).  Declares the schema module
 * (trace-schema.c: every table, index and view, the version, opening a
 * trace for reading) and the writer's statements (trace-write.c), which
 * the recorder uses and which leak and poolview never need.
 *
 * Nothing here runs inside a traced process: the runtime must never
 * include this header (it pulls in sqlite3.h).
 */
#ifndef POOLDBG_TRACE_H
#define POOLDBG_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "trace-pack.h"

#define TRACE_FORMAT	"pooldbg-trace"		/* meta 'format' */
#define TRACE_VERSION	5			/* PRAGMA user_version and meta 'version' */
#define TRACE_OLDEST	4			/* the oldest version the tools still read */
#define TRACE_APPID	0x50444247		/* PRAGMA application_id: 'PDBG' */

/* ---- trace-schema.c ---- */

/*
 * Create a new, empty trace at path: the file must not exist (it is
 * created O_EXCL, so an existing trace is never overwritten here).  Sets
 * the application id and version, WAL and synchronous=OFF for recording,
 * creates every table and view and the meta keys format, version,
 * complete='no' and symbolized='no'.  Returns 0 and the open handle in
 * *db (the caller closes it), or -1 with a one-line reason in err
 * ("PATH: cannot create: why"); on failure nothing is left at path.
 */
int	trace_create(const char *path, sqlite3 **db, char *err, size_t errlen);

/*
 * Build what a trace gets once recording is over: the index on
 * scan_blocks (events and blocks need none).  0, or -1 with the reason in err.
 */
int	trace_create_indexes(sqlite3 *db, char *err, size_t errlen);

/*
 * Open a trace for reading (read-only).  Refuses, with one line in err and
 * *db NULL, a file that is missing or unreadable ("PATH: cannot open:
 * why"), that is not a pooldbg trace ("PATH: not a pooldbg trace") or that
 * has a version outside TRACE_OLDEST..TRACE_VERSION ("PATH: trace version
 * N; this pooldbg reads versions 4 to 5", or for version 3 and before
 * "PATH: made by an older pooldbg ...").  An incomplete trace opens; see
 * meta 'complete'.  Returns 0 or -1.
 */
int	trace_open_read(const char *path, sqlite3 **db, char *err, size_t errlen);

/*
 * Whether path is a pooldbg trace of any version: 1 yes, 0 no (another
 * kind of file, or an empty one), -1 cannot be read.
 */
int	trace_probe(const char *path);

/* The meta value of key into buf (NUL-terminated, truncated); 0, or -1 if absent. */
int	trace_meta(sqlite3 *db, const char *key, char *buf, size_t len);

/* The name stored in events.call for a CALL_* of record.h ("malloc", "new[]", ...); "unknown" if none. */
const char *trace_callname(int call);

/*
 * Create the time index's tables (timeline, timeline_live,
 * timeline_stacks; pooldbg-trace(5)) in schema ("main", or "temp" for a
 * reader's private copy), empty.  0, or -1 with the reason in err.
 */
int	trace_create_timeline(sqlite3 *db, const char *schema, char *err, size_t errlen);

/* ---- trace-vtab.c ---- */

/*
 * Register on db the modules of the virtual tables events and blocks
 * (pooldbg_events, pooldbg_blocks), which read the packed pages of a
 * version 4 trace.  trace_create and trace_open_read do it; a handle
 * opened another way needs it before it reads those tables.  SQLITE_OK or
 * SQLite's code.
 */
int	trace_vtab_register(sqlite3 *db);

/* ---- trace-write.c ---- */

enum {	/* TraceEvent.type */
	TRACE_ALLOC	= 1,
	TRACE_FREE	= 2,
	TRACE_REALLOC	= 3,
};

/* One row of events, as the writer takes it. */
typedef struct TraceEvent TraceEvent;
struct TraceEvent {
	int64_t	process;	/* processes.id */
	uint64_t time;		/* CLOCK_MONOTONIC ns */
	int64_t	tid;
	int	type;		/* TRACE_* */
	int	call;		/* CALL_* */
	int	flags;		/* CALLF_* */
	uint64_t ptr;		/* the block (realloc: the old one) */
	uint64_t newptr;	/* realloc only */
	uint64_t size;		/* free: stored only when flags has CALLF_SIZED */
	uint64_t align;		/* 0: stored as NULL */
	uint32_t stack;		/* frames.id of the innermost frame, 0: empty stack */
};

enum {	/* the writer's prepared statements */
	TW_BEGIN, TW_COMMIT, TW_META, TW_PROC, TW_PROCEND, TW_THREAD, TW_THREADEND,
	TW_MODULE, TW_UNLOAD, TW_FRAME, TW_EVENT, TW_ERROR, TW_BLOCK, TW_THREADSEEN,
	TW_MARK, TW_SCAN, TW_SCANEND, TW_ARENA, TW_SCANBLOCK,
	TW_NSTMT
};

typedef struct TraceWriter TraceWriter;
/*
 * Events go into packed pages (trace-pack.h): the last event waits in the
 * writer (a lifetime it ends is named by the trace_add_block that follows
 * it), then is encoded into the open page; a page is stored, one INSERT,
 * when it is full, and stored again, as far as it goes, at each commit or
 * trace_flush, so that every commit leaves whole pages.  events.seq is
 * given by the writer (one writer per trace), so it is known at once.
 */
struct TraceWriter {
	sqlite3	*db;
	sqlite3_stmt *st[TW_NSTMT];
	int64_t	seq;		/* the last events.seq given */
	PackPage page;		/* the open page; page.buf is the writer's */
	PackEvent pending;	/* the last event, not yet in the page */
	int	haspending;
	int	dirty;		/* the page has events not yet stored */
	int	intx;		/* a transaction is open */
	int	rc;		/* SQLite code of the first failure; 0 while all is well (sticky) */
	char	msg[256];	/* that failure in words */
};

/*
 * Prepare the writer's statements on db (made by trace_create).  0, or -1
 * with w->rc and w->msg set.  Every call below returns 0, or -1 once
 * anything failed: the first failure rolls back the open transaction and
 * makes every later call a no-op that returns -1, so what was committed
 * before stays and nothing half-written follows it.
 */
int	trace_writer_open(TraceWriter *w, sqlite3 *db);
/* Finalize the statements (the database stays open; its owner closes it). */
void	trace_writer_close(TraceWriter *w);

/* Store the events still waiting in the writer (the open page as far as it goes); 0 or -1. */
int	trace_flush(TraceWriter *w);

/* Open a transaction if none is open. */
int	trace_begin(TraceWriter *w);
/* Commit the open transaction, if any, the waiting rows first. */
int	trace_commit(TraceWriter *w);

/* Set meta key to value (NULL stores NULL). */
int	trace_set_meta(TraceWriter *w, const char *key, const char *value);

/* Add a process image; *id gets its processes.id.  cmdline: words joined by spaces. */
int	trace_add_process(TraceWriter *w, int pid, int ppid, uint32_t execseq, int forked,
	    const char *exe, const char *cmdline, uint64_t start, int64_t *id);
/* How a process image ended: how is "exit", "_exit", "signal", "exec" or "killed"; status < 0 stores NULL. */
int	trace_end_process(TraceWriter *w, int64_t id, const char *how, int64_t status);
/* A thread first seen (ending 0) or ended (ending 1) at time. */
int	trace_add_thread(TraceWriter *w, int64_t process, int64_t tid, uint64_t time, int ending);
/* A module mapped in. */
int	trace_add_module(TraceWriter *w, int64_t process, const char *path, const void *buildid,
	    size_t buildidlen, uint64_t base, uint64_t lo, uint64_t hi, uint64_t time);
/* The module of process at (base, lo) unmapped at time. */
int	trace_unload_module(TraceWriter *w, int64_t process, uint64_t base, uint64_t lo, uint64_t time);
/* One node of a process's stack tree. */
int	trace_add_frame(TraceWriter *w, int64_t process, uint32_t id, uint32_t parent, uint64_t pc);
/* One heap event. */
int	trace_add_event(TraceWriter *w, const TraceEvent *e);
/* The events.seq the last trace_add_event that returned 0 stored. */
int64_t	trace_last_seq(TraceWriter *w);
/*
 * One block lifetime: made by the event alloc_seq (its call and stack),
 * ended by the event free_seq.  A lifetime that ended is stored by its
 * events: free_seq must be the last event added, which gets the distance
 * back to alloc_seq (the rest of the row is read from the two events).
 * free_seq 0: still live, a row of live_blocks (the free_ columns read
 * NULL).  call must outlive the call: the names of trace_callname do.
 */
int	trace_add_block(TraceWriter *w, int64_t process, uint64_t ptr, uint64_t size,
	    const char *call, int64_t stack, int64_t alloc_seq, uint64_t alloc_time,
	    int64_t free_seq, uint64_t free_time, const char *free_call, int64_t free_stack);
/* A thread known from its events only, first seen at time; one already in threads is kept. */
int	trace_add_thread_seen(TraceWriter *w, int64_t process, int64_t tid, uint64_t time);
/* One row of errors, as the writer takes it. */
typedef struct TraceError TraceError;
struct TraceError {
	int64_t	process;	/* processes.id */
	uint64_t time;
	int64_t	tid;
	uint64_t ptr;		/* the pointer named, 0 if none */
	int64_t	stack;		/* frames.id of the operation that found it */
	const char *message;
	const char *kind;	/* one of pooldbg-trace(5)'s errors.kind; NULL stores NULL */
	uint64_t block;		/* 0: none (block and offset NULL) */
	uint64_t size;		/* 0 with block 0: NULL */
	int64_t	offset;
	int64_t	alloc_stack;	/* 0: NULL */
	int64_t	free_stack;	/* 0: NULL */
	const void *dump;	/* copied */
	size_t	dumplen;	/* 0: dump and dump_addr NULL */
	uint64_t dumpaddr;
	int	fatal;
};

/* A heap error. */
int	trace_add_error(TraceWriter *w, const TraceError *e);
/* A mark: seq is the image's last events.seq before it, 0 if none (stored as NULL). */
int	trace_add_mark(TraceWriter *w, int64_t process, uint64_t time, int64_t tid, int64_t seq,
	    const char *label);
/*
 * A reachability scan begins: snapshot 0 for the scan at exit, else the
 * image's snapshot number; seq as for a mark.  Stored with complete 0
 * until trace_end_scan; *id gets its scans.id.
 */
int	trace_add_scan(TraceWriter *w, int64_t process, uint32_t snapshot, uint64_t time,
	    int64_t seq, int64_t tid, int64_t *id);
/* The scan id ended: its end time and totals, and complete = 1. */
int	trace_end_scan(TraceWriter *w, int64_t id, uint64_t end_time, uint32_t threads,
	    uint32_t stopped, uint64_t roots);
/* One arena of the pool as the scan found it. */
int	trace_add_arena(TraceWriter *w, int64_t scan, uint64_t base, uint64_t size);

/* One row of scan_blocks, as the writer takes it. */
typedef struct TraceScanBlock TraceScanBlock;
struct TraceScanBlock {
	int64_t	scan;		/* scans.id */
	uint64_t ptr;		/* the pointer the program holds */
	uint64_t size;		/* bytes asked for */
	const char *cls;	/* 'definite', 'indirect', 'possible', 'reachable'; must outlive the call */
	int64_t	alloc_seq;	/* its lifetime's blocks.alloc_seq; 0: none (alloc_seq, stack, call NULL) */
	int64_t	stack;		/* frames.id of the call that made it */
	const char *call;	/* that call, a name of trace_callname */
	uint64_t tag;		/* the malloc tag */
	uint64_t block;		/* the pool block's first byte */
	uint64_t bsize;		/* and its whole size */
	const void *preview;	/* its first bytes (copied) */
	size_t	previewlen;
	double	weight;		/* sampled runs: the blocks this one stands for (1/p); 0: not sampled */
};

/* One block a scan found. */
int	trace_add_scan_block(TraceWriter *w, const TraceScanBlock *b);

#endif /* POOLDBG_TRACE_H */
