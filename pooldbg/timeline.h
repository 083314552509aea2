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
