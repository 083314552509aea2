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

/* ---- drain.c ---- */

/* Counts of what was drained, for the summary. */
typedef struct DrainStats DrainStats;
struct DrainStats {
	uint64_t records;
	uint64_t processes;
	uint64_t allocs;
	uint64_t frees;
	uint64_t reallocs;
	uint64_t errors;
	uint64_t damaged;	/* rings that stopped making sense */
};

typedef struct Drain Drain;

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
 * After recording: link processes to their parents, finish the blocks
 * (life_finish: the lifetimes still open, the threads seen only in
 * events), build the indexes.  One transaction; 0, or -1 with one line in
 * err (and SQLite's code in *rc).
 */
int	derive(sqlite3 *db, Lifetimes *l, DeriveStats *ds, int *rc, char *err, size_t errlen);

#endif /* POOLDBG_POOLDBG_H */
