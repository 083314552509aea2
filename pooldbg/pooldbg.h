/*
 * pooldbg/pooldbg.h -- what the files of the pooldbg command share.
 * Cross-file prototypes are grouped under the file that owns them.
 */
#ifndef POOLDBG_POOLDBG_H
#define POOLDBG_POOLDBG_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring.h"
#include "timeline.h"
#include "trace.h"

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))

/* How `pooldbg run` was asked to run (pooldbg.c fills it). */
typedef struct Opts Opts;
struct Opts {
	const char *output;	/* -o FILE, NULL: pooldbg.PROGRAM.PID.db */
	const char *flags;	/* --flags LIST, NULL: not given */
	int	depth;		/* --depth N */
	int	follow;		/* 0 after --no-follow */
	int	force;		/* --force */
	int	errexit;	/* --error-exitcode N (1..255), 0: not given */
	const char *heapfile;	/* --heap-file FILE, NULL: not given */
	int	abortonerror;	/* --abort-on-error */
	const char *quarantine;	/* --quarantine SIZE, NULL: the runtime's default */
	const char *guard;	/* --guard SIZES, NULL: none */
	const char *guardsample;	/* --guard-sample N, NULL: none */
	int	leaks;		/* --mode=leaks: no events, the scans carry the stacks */
	double	sample;		/* --sample BYTES: mean bytes between samples, 0: every block */
	char	**argv;		/* PROGRAM ARGS..., NULL-terminated */
};

/* ---- pooldbg.c ---- */

/* Print "pooldbg: " and the formatted message as one line on stderr. */
void	say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- prog.c ---- */

/*
 * Find the program to run as a shell would (a name without '/' is looked
 * up in PATH) and make sure preloading can work on it: into path the file
 * to exec.  Returns 0, or the exit status to leave with after saying why
 * in one line: 127 not found, 126 not executable, 2 setuid/setgid or
 * statically linked (LD_PRELOAD cannot reach it).
 */
int	prog_find(const char *name, char *path, size_t len);

/*
 * The runtime library to preload, into path: $POOLDBG_PRELOAD, else the
 * one beside this binary in its build tree, else the installed one.
 * Returns 0, or 2 after saying that none exists.
 */
int	prog_preload(char *path, size_t len);

/* ---- run.c ---- */

/* Record o->argv into a trace; returns pooldbg's exit status. */
int	run(const Opts *o);

/* ---- check.c ---- */

/* `pooldbg check FILE` (argv[0] "check"): walk a heap file; returns the exit status. */
int	check(int argc, char **argv);

/* ---- snapshot.c ---- */

/* `pooldbg snapshot PID` (argv[0] "snapshot"): one line out; returns the exit status. */
int	snapshot(int argc, char **argv);

/* ---- lifetime.c ---- */

/* What the lifetimes came to, for the summary. */
typedef struct LifeStats LifeStats;
struct LifeStats {
	uint64_t blocks;	/* block lifetimes written */
	uint64_t peak;		/* largest bytes in use of any process image (after life_finish) */
};

typedef struct Lifetimes Lifetimes;

/* Lifetimes written through w; NULL if out of memory.  The caller frees it with life_free. */
Lifetimes *life_new(TraceWriter *w);
void	life_free(Lifetimes *l);
/*
 * The event e was stored as events.seq seq: end the lifetime it ends
 * (writing its blocks row now, in the writer's open transaction), open the
 * one it starts.  Failures of the writer stay in it (sticky); running out
 * of memory makes life_finish fail.
 */
void	life_event(Lifetimes *l, int64_t seq, const TraceEvent *e);
/*
 * After the last event: write the lifetimes still open (free_seq NULL) and
 * the threads known only from events.  0, or a SQLite code (SQLITE_NOMEM
 * if the lifetimes could not all be kept, else the writer's w->rc).
 */
int	life_finish(Lifetimes *l);
const LifeStats *life_stats(Lifetimes *l);
/* The time index's makings that every lifetime written has fed (timeline_store writes them). */
Timeline *life_timeline(Lifetimes *l);
/*
 * The lifetime open now at ptr in the image process: 1 with the events.seq,
 * stack and call (a name of trace_callname) of the event that started it,
 * or 0 if none is open there.
 */
/* Start loading what an event of process at ptr will touch (a hint: no effect on results). */
void	life_prefetch(Lifetimes *l, int64_t process, uint64_t ptr);
int	life_lookup(Lifetimes *l, int64_t process, uint64_t ptr, int64_t *seq, uint32_t *stack,
	    const char **call);

/*
 * The block the program got at ptr in image process, for an error report:
 * 1 if its lifetime is open (*free_stack 0), 2 if the last one there has
 * ended (freed at *free_stack), 0 if none is known; its size and the
 * stack that made it.
 */
int	life_block(Lifetimes *l, int64_t process, uint64_t ptr, uint64_t *size,
	    uint32_t *alloc_stack, uint32_t *free_stack);

/* ---- scan.c ---- */

/* What the marks and the scans came to, for the summary and the exit status. */
typedef struct ScanStats ScanStats;
struct ScanStats {
	uint64_t marks;
	uint64_t exits;		/* scans at exit begun */
	uint64_t snapshots;	/* snapshot scans begun */
	uint64_t ended;		/* scans of either kind that ended (RecScanEnd came) */
	uint64_t blocks[CLASS_DEFINITE + 1];	/* by CLASS_*: blocks the scans at exit found that a recorded call made */
	uint64_t bytes[CLASS_DEFINITE + 1];	/* their bytes */
	double	wblocks[CLASS_DEFINITE + 1];	/* --sample: the blocks they stand for (sum of weights) */
	double	wbytes[CLASS_DEFINITE + 1];	/* and their bytes (sum of size * weight) */
};

/* The scan under way in one process image. */
typedef struct ScanOpen ScanOpen;
struct ScanOpen {
	int	on;		/* its RecScan came, its RecScanEnd not yet */
	int	exit;		/* it is the scan at exit */
	int64_t	id;		/* its scans.id; 0 if the writer could not store it */
};

/* What scan_record works with: the drain's, and one image's. */
typedef struct ScanCtx ScanCtx;
struct ScanCtx {
	TraceWriter *w;
	Lifetimes *life;	/* the lifetimes open now */
	ScanStats *st;
	ScanOpen *open;		/* the image's scan under way */
	int64_t	proc;		/* the image's processes.id */
	int64_t	lastseq;	/* events.seq of its last event stored; 0 if none */
	int	forked;		/* the image is a fork child, not yet exec'd */
	const uint64_t *fpc;	/* leaks mode: the pc of each frame id so far (0: unknown) */
	size_t	nfpc;
};

/*
 * One record of type REC_MARK, REC_SCAN, REC_ARENA, REC_LIVE or
 * REC_SCANEND of the image c->proc into rows, in the writer's open
 * transaction; c->open follows the scan from record to record.  Records
 * too short for their type, or outside a scan, are skipped.
 */
void	scan_record(const ScanCtx *c, const RecHdr *h);
/* How the run records: --mode=leaks (1) or not, --sample's rate in bytes (0: none); before any record. */
void	scan_setmode(int leaks, double rate);
/* Whether the scans want each image's frames (fpc of ScanCtx): leaks mode's blocks have no tag. */
int	scan_wantsites(void);
/* The name stored in scan_blocks.class for a CLASS_* ("definite", ...); NULL if none. */
const char *scan_classname(int cls);

/* ---- errkind.c ---- */

/*
 * The name errors.kind stores for a RecError kind (ERR_*): "overflow",
 * "underflow", "double-free", "invalid-free", "write-after-free",
 * "mismatched-free", "realloc-freed", "use-after-free", "notice" or
 * "corruption" (also for a number it does not know).  Never NULL; static.
 */
const char *error_kind(int kind);

/* ---- report-error.c ---- */

typedef struct ErrReport ErrReport;

/* The stderr reports of heap errors, looking stacks up through w's connection; NULL if out of memory. */
ErrReport *errreport_new(TraceWriter *w);
void	errreport_free(ErrReport *r);
/*
 * Print the report of one error as it is stored (e) to stderr: its kind,
 * address, block and offset, the stacks symbolized on the spot (function
 * +offset, module, file:line where known), the hex dump.  pid names the
 * process.  Never fails the run: what cannot be looked up is left out.
 */
void	errreport_print(ErrReport *r, int pid, const TraceError *e);

/* ---- drain.c ---- */

/* Counts of what was drained, for the summary. */
typedef struct DrainStats DrainStats;
struct DrainStats {
	uint64_t records;
	uint64_t processes;
	uint64_t allocs;
	uint64_t frees;
	uint64_t reallocs;
	uint64_t errors;	/* heap errors, notices aside */
	uint64_t notices;	/* reports of kind 'notice' */
	uint64_t damaged;	/* rings that stopped making sense */
	ScanStats scan;		/* marks and scans */
};

typedef struct Drain Drain;
typedef struct SymJob SymJob;	/* sym.h's */

/* A drain of the ring files in dir into w; NULL if out of memory.  The caller frees it with drain_free. */
Drain	*drain_new(const char *dir, TraceWriter *w);
void	drain_free(Drain *d);
/* Look for new ring files now. */
void	drain_scan(Drain *d);
/*
 * One pass: rescan the directory if due, then move up to a bounded number
 * of records from every ring into the trace, committing a batch when it is
 * big or old enough.  Records are consumed even once the writer failed (a
 * full disk), so a traced process never waits on the recorder.  Returns
 * the number of records moved.
 */
size_t	drain_round(Drain *d);
/* pid (a process of ours) was reaped with wait status st. */
void	drain_reaped(Drain *d, pid_t pid, int st);
/*
 * Whether every ring known is finished (closed or its writer gone, and
 * empty); finishes those that are.  With force, every ring is emptied and
 * finished now, and a writer still running finds its ring closed.
 */
int	drain_idle(Drain *d, int force);
/*
 * Give every module and frame drained from now on to j (sym_ahead), so
 * their look-ups start during the run; NULL stops that.  The caller keeps j.
 */
void	drain_ahead(Drain *d, SymJob *j);
/* Mark the images that never said how they ended as 'killed', commit.  0, or -1 (see the writer). */
int	drain_end(Drain *d);
/* The counts so far. */
const DrainStats *drain_stats(Drain *d);
/* The lifetimes the drained events opened and closed (the drain owns them). */
Lifetimes *drain_lifetimes(Drain *d);

/* ---- derive.c ---- */

/* What derive found, for the summary. */
typedef struct DeriveStats DeriveStats;
struct DeriveStats {
	uint64_t peak;		/* largest bytes in use of any process image */
	uint64_t live;		/* blocks live at exit (live_at_exit) */
	uint64_t livebytes;
	uint64_t blocks;	/* block lifetimes */
};

/*
 * After recording: link processes to their parents, give the blocks
 * leaks mode followed their sites (leaks), finish the blocks
 * (life_finish: the lifetimes still open, the threads seen only in
 * events), build the indexes and the time index (timeline.c; a failure of
 * that one is said and passed over).  One transaction; 0, or -1 with one line in
 * err (and SQLite's code in *rc).
 */
int	derive(sqlite3 *db, Lifetimes *l, int leaks, DeriveStats *ds, int *rc, char *err,
	    size_t errlen);

#endif /* POOLDBG_POOLDBG_H */
