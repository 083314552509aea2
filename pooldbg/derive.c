/*
 * pooldbg/derive.c -- what a trace gets once its recording is over:
 * processes linked to the images they came from, the last of the blocks
 * table (lifetime.c wrote every lifetime that ended while the events
 * streamed in; the ones still open and the threads known only from their
 * events come here), the indexes, the time index (timeline.c) and the
 * numbers of the summary.
 *
 * Must never: change events or anything else the recorder stored.
 */
#include "pooldbg.h"
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The steps in SQL: parents.  An index on pid for the while, or each image
 * would read every other: a configure of thousands of processes took
 * seconds.
 */
static const char linksql[] =
	"CREATE INDEX processes_pid ON processes(pid);"
	/* an exec'd image came from the image before it of the same pid */
	"UPDATE processes SET parent = (SELECT p.id FROM processes p"
	"  WHERE p.pid = processes.pid AND p.execseq < processes.execseq"
	"  ORDER BY p.execseq DESC LIMIT 1) WHERE execseq > 0;"
	/* a first image, from its parent's image that was current when it started */
	"UPDATE processes SET parent = (SELECT p.id FROM processes p"
	"  WHERE p.pid = processes.ppid AND p.start <= processes.start"
	"  ORDER BY p.start DESC, p.execseq DESC LIMIT 1) WHERE execseq = 0;"
	"DROP INDEX processes_pid;";

/*
 * A block leaks mode followed has no malloc tag (its tag words held what
 * the runtime knew of it): its site is its stack's innermost pc, which is
 * what the tag would have been.  scan.c sets it as the block is stored;
 * this finds the ones it could not (the drain short of memory for its
 * table of frames).
 */
static const char sitesql[] =
	"UPDATE scan_blocks SET tag = (SELECT f.pc FROM scans c JOIN frames f"
	"  ON f.process = c.process AND f.id = scan_blocks.stack WHERE c.id = scan_blocks.scan)"
	"  WHERE tag = 0 AND stack > 0;";

int
derive(sqlite3 *db, Lifetimes *l, int leaks, DeriveStats *ds, int *rc, char *err, size_t errlen)
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
	what = "sites";
	if (leaks && (*rc = sqlite3_exec(db, sitesql, NULL, NULL, &msg)) != SQLITE_OK)
		goto fail;
	what = "blocks";
	if ((*rc = life_finish(l)) != SQLITE_OK)
		goto fail;
	ds->blocks = life_stats(l)->blocks;
	ds->peak = life_stats(l)->peak;
	what = "indexes";
	if (trace_create_indexes(db, err, errlen) < 0) {
		*rc = sqlite3_errcode(db);
		goto rollback;
	}
	if (timeline_store(life_timeline(l), db, "main", NULL, err, errlen) < 0)
		say("%s (poolview will index the trace itself)", err);
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
