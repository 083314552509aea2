/*
 * libpooldbg/trace-schema.c -- the one place the trace's schema lives:
 * every table, index and view, the version, the names stored for calls,
 * and the checks a reader makes before it trusts a file.  pooldbg-trace(5)
 * documents the same schema column by column; change both together, and
 * bump TRACE_VERSION when a reader of the old layout would be misled.
 *
 * Must never: write rows other than the meta keys it owns (format,
 * version, complete, symbolized), or be linked into a traced process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "trace.h"
#include "trace-calls.h"

/*
 * The tables.  Integers that are addresses (ptr, pc, base, lo, hi) are
 * stored as SQLite's signed 64-bit integers: user-space addresses on the
 * machines pooldbg runs on are below 2^63, so they read back unchanged.
 * Times: processes.start is CLOCK_REALTIME ns; every other time is
 * CLOCK_MONOTONIC ns (the same clock in every process of a run).
 */
static const char schema[] =
	"CREATE TABLE meta(\n"
	"  key TEXT PRIMARY KEY,   -- format, version, command, started, flags, depth, follow,\n"
	"                          -- complete, symbolized, recorder (see pooldbg-trace(5))\n"
	"  value TEXT\n"
	");\n"
	"CREATE TABLE processes(\n"
	"  id INTEGER PRIMARY KEY, -- one row per process image (one ring)\n"
	"  pid INTEGER,            -- its process id\n"
	"  ppid INTEGER,           -- its parent's process id (the recorder's for the first)\n"
	"  parent INTEGER,         -- processes.id of the image it came from: the image it was\n"
	"                          -- exec'd from (execseq > 0), else its parent's; NULL if untraced\n"
	"  execseq INTEGER,        -- 0 for the first image of pid, +1 per exec\n"
	"  forked INTEGER,         -- 1: a fork child without exec (inherits its parent's blocks)\n"
	"  exe TEXT,               -- path of the executable\n"
	"  cmdline TEXT,           -- its arguments joined by spaces\n"
	"  start INTEGER,          -- CLOCK_REALTIME ns when tracing began in this image\n"
	"  end_how TEXT,           -- 'exit', '_exit', 'signal', 'exec', or 'killed' (ended\n"
	"                          -- without saying so: SIGKILL and the like)\n"
	"  end_status INTEGER      -- exit code, or signal number for 'signal'/'killed'; NULL unknown\n"
	");\n"
	"CREATE TABLE threads(\n"
	"  process INTEGER,        -- processes.id\n"
	"  tid INTEGER,            -- kernel thread id\n"
	"  first INTEGER,          -- time first seen (NULL: not known)\n"
	"  last INTEGER,           -- time it ended (NULL: not seen to end)\n"
	"  PRIMARY KEY(process, tid)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE modules(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  process INTEGER,        -- processes.id\n"
	"  path TEXT,              -- file mapped (absolute where the loader said so)\n"
	"  buildid BLOB,           -- GNU build-id, NULL if none\n"
	"  base INTEGER,           -- load bias: file address + base = run-time address\n"
	"  lo INTEGER,             -- lowest run-time address of its loaded segments\n"
	"  hi INTEGER,             -- highest run-time address + 1\n"
	"  loaded INTEGER,         -- time mapped (or tracing began)\n"
	"  unloaded INTEGER        -- time unmapped, NULL if never\n"
	");\n"
	"CREATE TABLE frames(\n"
	"  process INTEGER,        -- processes.id\n"
	"  id INTEGER,             -- node of the stack tree; a stack is its innermost node's id\n"
	"  parent INTEGER,         -- the caller's node, 0 for an outermost frame\n"
	"  pc INTEGER,             -- return address as unwound (not adjusted)\n"
	"  PRIMARY KEY(process, id)\n"
	") WITHOUT ROWID;\n"
	/* events: a virtual table (trace-vtab.c) over event_pages */
	"CREATE VIRTUAL TABLE events USING pooldbg_events;\n"
	"CREATE TABLE event_pages(\n"
	"  first INTEGER PRIMARY KEY, -- events.seq of the page's first event\n"
	"  last INTEGER,           -- events.seq of its last\n"
	"  count INTEGER,          -- how many events it holds\n"
	"  data BLOB               -- the events, packed (pooldbg-trace(5), PACKED EVENTS)\n"
	");\n"
	"CREATE TABLE errors(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  process INTEGER,        -- processes.id\n"
	"  time INTEGER,\n"
	"  tid INTEGER,\n"
	"  ptr INTEGER,            -- the block or pointer named, 0 if none\n"
	"  stack INTEGER,          -- frames.id\n"
	"  message TEXT,           -- the pool's report (dump lines, then the panic)\n"
	"  kind TEXT,              -- 'overflow', 'underflow', 'double-free', 'invalid-free',\n"
	"                          -- 'write-after-free', 'mismatched-free', 'realloc-freed',\n"
	"                          -- 'use-after-free', 'corruption' or 'notice' (see pooldbg-trace(5))\n"
	"  block INTEGER,          -- the block concerned (the pointer the program got), NULL if none\n"
	"  size INTEGER,           -- its size as asked for, NULL if unknown\n"
	"  offset INTEGER,         -- the first damaged byte (or the pointer) from block; < 0 before it\n"
	"  alloc_stack INTEGER,    -- frames.id of the call that made the block, NULL if unknown\n"
	"  free_stack INTEGER,     -- frames.id of the call that freed it, NULL if not freed\n"
	"  dump BLOB,              -- the bytes around the damage, NULL if none\n"
	"  dump_addr INTEGER,      -- the address of dump's first byte\n"
	"  fatal INTEGER           -- 1 if the program was stopped after it\n"
	");\n"
	"CREATE TABLE marks(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  process INTEGER,        -- processes.id\n"
	"  time INTEGER,\n"
	"  tid INTEGER,\n"
	"  seq INTEGER,            -- events.seq of this process's last event before the mark;\n"
	"                          -- NULL if it had none\n"
	"  label TEXT              -- what pooldbg_mark() was given\n"
	");\n"
	"CREATE TABLE scans(\n"
	"  id INTEGER PRIMARY KEY, -- one reachability scan of one process image\n"
	"  process INTEGER,        -- processes.id\n"
	"  snapshot INTEGER,       -- 0: the scan at exit; 1, 2, ...: snapshots of this image\n"
	"  time INTEGER,           -- when the threads were stopped\n"
	"  end_time INTEGER,       -- when they were let go; NULL if the scan never ended\n"
	"  seq INTEGER,            -- events.seq of this process's last event before the scan\n"
	"  tid INTEGER,            -- the thread that scanned\n"
	"  threads INTEGER,        -- threads of the process, the scanning one included\n"
	"  stopped INTEGER,        -- of them, those that stopped and gave their registers\n"
	"  roots INTEGER,          -- bytes of root memory scanned\n"
	"  complete INTEGER        -- 1: every block of the scan is in scan_blocks\n"
	");\n"
	"CREATE TABLE scan_blocks(\n"
	"  scan INTEGER,           -- scans.id; one row per allocated block the scan found\n"
	"  ptr INTEGER,            -- the pointer the program holds\n"
	"  size INTEGER,           -- bytes asked for\n"
	"  class TEXT,             -- 'definite', 'indirect', 'possible' or 'reachable'\n"
	"  alloc_seq INTEGER,      -- blocks.alloc_seq of its lifetime; NULL: no recorded call\n"
	"                          -- made it (the runtime's own, or inherited over fork)\n"
	"  stack INTEGER,          -- frames.id of the call that made it (NULL with alloc_seq)\n"
	"  call TEXT,              -- that call, as in blocks.call\n"
	"  tag INTEGER,            -- the block's malloc tag: the allocating caller's pc\n"
	"  block INTEGER,          -- first byte of the pool block (its header)\n"
	"  bsize INTEGER,          -- bytes of the whole pool block\n"
	"  preview BLOB,           -- its first min(size, 32) bytes\n"
	"  weight REAL             -- a run with --sample: the blocks this sampled one stands\n"
	"                          -- for, 1/(1 - exp(-size/rate)); NULL: not sampled\n"
	");\n"
	"CREATE TABLE arenas(\n"
	"  scan INTEGER,           -- scans.id\n"
	"  base INTEGER,           -- first byte of the arena\n"
	"  size INTEGER            -- whole arena in bytes\n"
	");\n"
	"CREATE TABLE locations(\n"
	"  process INTEGER,        -- processes.id\n"
	"  pc INTEGER,             -- a pc of frames\n"
	"  depth INTEGER,          -- 0: innermost (an inlined callee); the last: the real function\n"
	"  function TEXT,          -- demangled name, NULL if unknown\n"
	"  file TEXT,              -- source file, NULL if unknown\n"
	"  line INTEGER,\n"
	"  column INTEGER,\n"
	"  module INTEGER,         -- modules.id holding pc, NULL if none\n"
	"  offset INTEGER,         -- pc - modules.base\n"
	"  PRIMARY KEY(process, pc, depth)\n"
	") WITHOUT ROWID;\n"
	/* blocks: a virtual table over the events (a free names the lifetime it ends) */
	"CREATE VIRTUAL TABLE blocks USING pooldbg_blocks;\n"
	"CREATE TABLE live_blocks(\n"
	"  alloc_seq INTEGER PRIMARY KEY, -- events.seq of the call that made it; one row per\n"
	"                          -- lifetime that no event ended (blocks.free_seq NULL)\n"
	"  process INTEGER,        -- processes.id\n"
	"  ptr INTEGER,            -- address the program got\n"
	"  size INTEGER,           -- bytes asked for\n"
	"  call TEXT,              -- the call that made it\n"
	"  stack INTEGER,          -- frames.id of that call\n"
	"  alloc_time INTEGER\n"
	");\n"
	/* live blocks when each image ended (an image replaced by exec has none: exec drops its heap) */
	"CREATE VIEW live_at_exit AS\n"
	"  SELECT b.process AS process, p.pid AS pid, b.ptr AS ptr, b.size AS size,\n"
	"         b.call AS call, b.stack AS stack, b.alloc_seq AS seq, b.alloc_time AS time\n"
	"  FROM blocks b JOIN processes p ON p.id = b.process\n"
	"  WHERE b.free_seq IS NULL AND coalesce(p.end_how, '') <> 'exec';\n"
	/* every allocation stack with what it made and what of it stayed */
	"CREATE VIEW allocations_by_stack AS\n"
	"  SELECT process, stack, count(*) AS allocations, sum(size) AS bytes,\n"
	"         sum(free_seq IS NULL) AS live,\n"
	"         sum(CASE WHEN free_seq IS NULL THEN size ELSE 0 END) AS live_bytes,\n"
	"         min(size) AS min_size, max(size) AS max_size\n"
	"  FROM blocks GROUP BY process, stack;\n"
	/* blocks live at exit grouped by the source line that allocated them */
	"CREATE VIEW live_by_location AS\n"
	"  SELECT count(*) AS blocks, sum(l.size) AS bytes, loc.function AS function,\n"
	"         loc.file AS file, loc.line AS line\n"
	"  FROM live_at_exit l\n"
	"  JOIN frames f ON f.process = l.process AND f.id = l.stack\n"
	"  LEFT JOIN locations loc ON loc.process = f.process AND loc.pc = f.pc AND loc.depth = 0\n"
	"  GROUP BY loc.function, loc.file, loc.line ORDER BY bytes DESC;\n"
	/* the blocks each image left at exit, with their leak class */
	"CREATE VIEW leaks AS\n"
	"  SELECT s.process AS process, p.pid AS pid, b.class AS class, b.ptr AS ptr,\n"
	"         b.size AS size, b.call AS call, b.stack AS stack, b.alloc_seq AS seq,\n"
	"         b.preview AS preview\n"
	"  FROM scans s JOIN scan_blocks b ON b.scan = s.id JOIN processes p ON p.id = s.process\n"
	"  WHERE s.snapshot = 0 AND b.alloc_seq IS NOT NULL;\n"
	/* the same, grouped by class and allocation stack, largest first */
	"CREATE VIEW leaks_by_stack AS\n"
	"  SELECT process, pid, class, stack, count(*) AS blocks, sum(size) AS bytes\n"
	"  FROM leaks GROUP BY process, class, stack ORDER BY bytes DESC;\n"
	/* bytes and blocks in use after each event that changed them, per process image */
	"CREATE VIEW heap_over_time AS\n"
	"  SELECT process, seq, time, delta,\n"
	"         sum(delta) OVER w AS in_use, sum(sign) OVER w AS blocks\n"
	"  FROM (SELECT process, alloc_seq AS seq, alloc_time AS time, size AS delta, 1 AS sign\n"
	"          FROM blocks\n"
	"        UNION ALL\n"
	"        SELECT process, free_seq, free_time, -size, -1 FROM blocks\n"
	"          WHERE free_seq IS NOT NULL)\n"
	"  WINDOW w AS (PARTITION BY process ORDER BY seq, sign ROWS UNBOUNDED PRECEDING);\n"
	/* ---- zones (<pooldbg/zone.h>) ---- */
	"CREATE TABLE zones(\n"
	"  process INTEGER,        -- processes.id\n"
	"  id INTEGER,             -- the zone's id in its process (1, 2, ...)\n"
	"  name TEXT,              -- as given to uma_zcreate\n"
	"  addr INTEGER,           -- the zone's handle\n"
	"  size INTEGER,           -- item size\n"
	"  stride INTEGER,         -- bytes per item in a slab; NULL until destroyed\n"
	"  created INTEGER,        -- time of uma_zcreate\n"
	"  destroyed INTEGER,      -- time of uma_zdestroy; NULL: never destroyed\n"
	"  used INTEGER,           -- at uma_zdestroy: items still held (leaked); else NULL\n"
	"  free INTEGER,           -- at uma_zdestroy: items free in caches and slabs\n"
	"  requests INTEGER,       -- at uma_zdestroy: uma_zalloc calls that returned an item\n"
	"  failures INTEGER,       -- at uma_zdestroy: uma_zalloc calls that returned NULL\n"
	"  frees INTEGER,          -- at uma_zdestroy: uma_zfree calls that gave one back\n"
	"  errors INTEGER,         -- at uma_zdestroy: debugging reports made\n"
	"  PRIMARY KEY(process, id)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE zone_events(\n"
	"  seq INTEGER PRIMARY KEY, -- events.seq of a 'zalloc' or 'zfree' event\n"
	"  zone INTEGER            -- zones.id (in the event's process)\n"
	");\n"
	/* the zone of each block a zone handed out (blocks.alloc_seq = zone_events.seq) */
	"CREATE VIEW zone_blocks AS\n"
	"  SELECT b.process AS process, b.ptr AS ptr, b.alloc_seq AS alloc_seq, z.id AS zone,\n"
	"         z.name AS zone_name\n"
	"  FROM blocks b JOIN zone_events e ON e.seq = b.alloc_seq\n"
	"  JOIN zones z ON z.process = b.process AND z.id = e.zone;\n";

/* Built after recording, when they no longer slow every insert down (scans are few). */
static const char indexes[] =
	"CREATE INDEX IF NOT EXISTS scan_blocks_scan ON scan_blocks(scan, class);\n";

const char *
trace_callname(int call)
{
	return trace_callname_of(call);
}

/* Run sql; on failure put "what: SQLite's reason" in err. */
static int
execsql(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg;

	msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s: %s", what, msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/*
 * The time index: derived tables poolview walks the run with, built once
 * after recording (pooldbg/timeline.c fills them).  %s is the schema they
 * go in: "main" in the trace, "temp" for a reader that builds them for a
 * trace made without them.  Seqs are events.seq; every image's blocks
 * count together.
 */
static const char timeline_ddl[] =
	"CREATE TABLE %s.timeline(\n"
	"  seq INTEGER PRIMARY KEY, -- last events.seq of a span of 256 events (the last span\n"
	"                          -- ends at the trace's last event)\n"
	"  time INTEGER,           -- events.time of event seq\n"
	"  in_use INTEGER,         -- bytes of the blocks alive after event seq\n"
	"  blocks INTEGER,         -- how many blocks those are\n"
	"  born INTEGER,           -- bytes allocated by the span's events\n"
	"  allocs INTEGER          -- allocations the span made\n"
	");\n"
	"CREATE TABLE %s.timeline_live(\n"
	"  seq INTEGER PRIMARY KEY, -- a checkpoint: the blocks alive after event seq\n"
	"  blocks INTEGER,         -- how many\n"
	"  data BLOB               -- their blocks.alloc_seq ascending, each as its difference\n"
	"                          -- from the one before, an unsigned LEB128 (7 bits a byte,\n"
	"                          -- low first, 0x80: more follow)\n"
	");\n"
	"CREATE TABLE %s.timeline_stacks(\n"
	"  process INTEGER,        -- processes.id\n"
	"  stack INTEGER,          -- frames.id: an allocation stack of blocks\n"
	"  allocations INTEGER,    -- block lifetimes it started\n"
	"  bytes INTEGER,          -- their bytes\n"
	"  PRIMARY KEY(process, stack)\n"
	") WITHOUT ROWID;\n";

int
trace_create_timeline(sqlite3 *db, const char *where, char *err, size_t errlen)
{
	char sql[sizeof timeline_ddl + 64];
	const char *p;
	size_t n, len;

	len = strlen(where);
	n = 0;
	for (p = timeline_ddl; *p != '\0'; p++) {
		if (n + len + 2 > sizeof sql) {
			snprintf(err, errlen, "timeline: schema name too long");
			return -1;
		}
		if (p[0] == '%' && p[1] == 's') {
			memcpy(sql + n, where, len);
			n += len;
			p++;
		} else
			sql[n++] = *p;
	}
	sql[n] = '\0';
	return execsql(db, sql, "timeline", err, errlen);
}

int
trace_create(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	char sql[256], why[200];
	sqlite3 *d;
	int fd;

	*db = NULL;
	d = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(path, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    trace_vtab_register(d) != SQLITE_OK) {
		snprintf(why, sizeof why, "%s", d != NULL ? sqlite3_errmsg(d) : "out of memory");
		goto fail;
	}
	/* synchronous first: each of the next three is a commit, which would sync otherwise */
	snprintf(sql, sizeof sql,
	    "PRAGMA synchronous = OFF; PRAGMA page_size = 16384; PRAGMA application_id = %d;"
	    " PRAGMA user_version = %d; PRAGMA journal_mode = WAL;"
	    " PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 4096;",
	    TRACE_APPID, TRACE_VERSION);
	if (execsql(d, sql, "settings", why, sizeof why) < 0 ||
	    execsql(d, "BEGIN", "schema", why, sizeof why) < 0 ||
	    execsql(d, schema, "schema", why, sizeof why) < 0)
		goto fail;
	snprintf(sql, sizeof sql,
	    "INSERT INTO meta VALUES('format', '%s'), ('version', '%d'),"
	    " ('complete', 'no'), ('symbolized', 'no'); COMMIT;",
	    TRACE_FORMAT, TRACE_VERSION);
	if (execsql(d, sql, "meta", why, sizeof why) < 0)
		goto fail;
	*db = d;
	return 0;

fail:
	snprintf(err, errlen, "%s: cannot create: %s", path, why);
	sqlite3_close(d);
	unlink(path);
	snprintf(sql, sizeof sql, "%s-wal", path);
	if (strlen(path) + 5 < sizeof sql)
		unlink(sql);
	snprintf(sql, sizeof sql, "%s-shm", path);
	if (strlen(path) + 5 < sizeof sql)
		unlink(sql);
	return -1;
}

int
trace_create_indexes(sqlite3 *db, char *err, size_t errlen)
{
	return execsql(db, indexes, "indexes", err, errlen);
}

/* The integer a one-row, one-column query gives; -1 if it fails. */
static long long
queryint(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	v = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
trace_meta(sqlite3 *db, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st;
	const unsigned char *v;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = -1;
	if (sqlite3_step(st) == SQLITE_ROW && (v = sqlite3_column_text(st, 0)) != NULL) {
		snprintf(buf, len, "%s", (const char *)v);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Open path read-only without creating it; NULL with why filled if it cannot be. */
static sqlite3 *
openro(const char *path, char *why, size_t whylen)
{
	struct stat sb;
	sqlite3 *db;

	if (stat(path, &sb) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(why, whylen, "%s", strerror(EISDIR));
		return NULL;
	}
	if (access(path, R_OK) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    trace_vtab_register(db) != SQLITE_OK) {
		snprintf(why, whylen, "%s", db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int
trace_probe(const char *path)
{
	char why[128];
	sqlite3 *db;
	int r;

	if ((db = openro(path, why, sizeof why)) == NULL)
		return -1;
	r = queryint(db, "PRAGMA application_id") == TRACE_APPID;
	sqlite3_close(db);
	return r;
}

int
trace_open_read(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	char why[200], fmt[64];
	sqlite3 *d;
	long long v;

	*db = NULL;
	if ((d = openro(path, why, sizeof why)) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, why);
		return -1;
	}
	/* a file that is not SQLite fails here, at its first read */
	if (queryint(d, "PRAGMA application_id") != TRACE_APPID ||
	    trace_meta(d, "format", fmt, sizeof fmt) < 0 || strcmp(fmt, TRACE_FORMAT) != 0) {
		snprintf(err, errlen, "%s: not a pooldbg trace", path);
		goto fail;
	}
	if ((v = queryint(d, "PRAGMA user_version")) >= 1 && v < TRACE_OLDEST) {
		/* version 3 and before: events and blocks as tables of rows */
		snprintf(err, errlen, "%s: made by an older pooldbg (version %lld); record it again",
		    path, v);
		goto fail;
	}
	if (v < TRACE_OLDEST || v > TRACE_VERSION) {
		snprintf(err, errlen, "%s: trace version %lld; this pooldbg reads versions %d to %d",
		    path, v, TRACE_OLDEST, TRACE_VERSION);
		goto fail;
	}
	*db = d;
	return 0;

fail:
	sqlite3_close(d);
	return -1;
}
