/*
 * pooldbg/timeline.h -- the time index of a trace (timeline.c): the
 * derived tables that let a reader stand at any event of the run without
 * scanning it.  The recorder builds them after recording (derive.c);
 * poolview builds them into its own temporary schema for a trace made
 * without them.
 */
#ifndef POOLDBG_TIMELINE_H
#define POOLDBG_TIMELINE_H

#include <stdint.h>

#include <sqlite3.h>

#define TIMELINE_SPAN	256	/* events per row of table timeline */

/* What building the index came to. */
typedef struct TimelineStats TimelineStats;
struct TimelineStats {
	uint64_t spans;		/* rows of timeline */
	uint64_t checkpoints;	/* rows of timeline_live */
	uint64_t stored;	/* block ids kept in all the checkpoints */
	uint64_t stacks;	/* rows of timeline_stacks */
};

/*
 * The index's makings, gathered while the recording streams in so that
 * nothing is read back when it ends: one call per block lifetime as it is
 * written to blocks.
 */
typedef struct Timeline Timeline;

/* An empty one; NULL if out of memory.  Free it with timeline_free. */
Timeline *timeline_new(void);
void	timeline_free(Timeline *t);
/*
 * One block lifetime of process: size bytes, allocation stack, made by
 * the event alloc_seq and ended by free_seq (0: never).  0, or -1 once
 * out of memory or past 2^32 events (timeline_store then fails and says
 * why).  Keeps 8 bytes per block until timeline_store.
 */
int	timeline_add(Timeline *t, int64_t process, uint64_t size, int64_t stack, int64_t alloc_seq,
	    int64_t free_seq);
/*
 * The event seq happened at time: called for every event in seq order by
 * a writer that streams them (the recorder), so that timeline_store takes
 * each span's time from here instead of reading events back.  Optional:
 * a span whose time never came is looked up in events.  8 bytes per
 * TIMELINE_SPAN events.
 */
void	timeline_time(Timeline *t, int64_t seq, uint64_t time);
/*
 * Write the index of every lifetime added into schema of db, whose events
 * table in schema main must be complete: create its tables there
 * (trace_create_timeline) and fill them, all or nothing (a savepoint).
 * Once per Timeline.  0, or -1 with one line in err ("timeline: why");
 * st may be NULL.
 */
int	timeline_store(Timeline *t, sqlite3 *db, const char *schema, TimelineStats *st, char *err,
	    size_t errlen);

/*
 * Build the time index of the trace db (its blocks and events tables in
 * schema main must be complete) into schema: create its tables there
 * (trace_create_timeline) and fill them, all or nothing (a savepoint:
 * on failure no table is left).  The caller may hold a transaction around
 * it.  Reads every blocks row once and keeps 8 bytes per block in memory
 * while it works.  0, or -1 with one line in err ("timeline: why"); st
 * may be NULL.  A trace of 2^32 events or more is not indexed (-1).
 */
int	timeline_build(sqlite3 *db, const char *schema, TimelineStats *st, char *err, size_t errlen);

#endif /* POOLDBG_TIMELINE_H */
