/*
 * tests/recorder-scan.c -- `pooldbg run` on the records of marks and
 * reachability scans, and on heap errors, without the runtime: the
 * program is tests/fakewriter (see tests/recorder.c).  Checks the rows of
 * marks, scans, arenas and scan_blocks against what each scenario wrote,
 * the events.seq they point at, the blocks matched to their lifetimes (or
 * to none), the views leaks and leaks_by_stack, errors.kind, the summary,
 * and --error-exitcode both ways and with bad values.
 *
 * Run from the build tree (make check); see runpooldbg.h.  Nothing here
 * depends on timing.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "runpooldbg.h"

/* events.seq of the event of type and ptr (of the image that is not forked). */
static long long
seqof(sqlite3 *db, const char *type, long long ptr)
{
	return qi(db, "SELECT seq FROM events WHERE type = '%s' AND ptr = %lld", type, ptr);
}

static void
test_leaks(void)
{
	long long alloc5, realloc4, snap, ex;
	sqlite3 *db;
	int r;

	r = RUN(NULL, "run", "-o", "t.db", fake, "leaks", "3");
	ok(r == 3, "leaks: the program's status without --error-exitcode (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	alloc5 = seqof(db, "alloc", 0x5000);
	realloc4 = seqof(db, "realloc", 0x4000);
	ok(alloc5 > 0 && realloc4 > alloc5, "the events are there (%lld, %lld)", alloc5, realloc4);

	/* marks: the last event of the process before each */
	is(qi(db, "SELECT count(*) FROM marks"), 3, "three marks");
	ok(strcmp(qs(db, "SELECT group_concat(label, ',') FROM (SELECT label FROM marks ORDER BY id)"),
	    "start,loaded,done") == 0, "their labels, in order");
	ok(qi(db, "SELECT seq IS NULL FROM marks WHERE label = 'start'") == 1,
	    "a mark before any event: seq NULL");
	ok(qi(db, "SELECT seq FROM marks WHERE label = 'loaded'") == alloc5 &&
	    qi(db, "SELECT seq FROM marks WHERE label = 'done'") == realloc4,
	    "a mark's seq is the last event before it (%lld)",
	    qi(db, "SELECT seq FROM marks WHERE label = 'loaded'"));
	ok(qi(db, "SELECT count(*) FROM marks WHERE process = 1 AND tid > 0 AND time > 0") == 3,
	    "marks: process, tid, time");

	/* scans */
	is(qi(db, "SELECT count(*) FROM scans"), 2, "two scans");
	snap = qi(db, "SELECT id FROM scans WHERE snapshot = 1");
	ex = qi(db, "SELECT id FROM scans WHERE snapshot = 0");
	ok(snap > 0 && ex > 0, "a snapshot (1) and the scan at exit (0)");
	ok(qi(db, "SELECT seq FROM scans WHERE id = %lld", snap) == alloc5 &&
	    qi(db, "SELECT seq FROM scans WHERE id = %lld", ex) == realloc4,
	    "a scan's seq is the last event before it");
	ok(qi(db, "SELECT count(*) FROM scans WHERE complete = 1 AND end_time > time") == 2,
	    "both complete, with their end times");
	ok(qi(db, "SELECT threads FROM scans WHERE id = %lld", ex) == 2 &&
	    qi(db, "SELECT stopped FROM scans WHERE id = %lld", ex) == 1 &&
	    qi(db, "SELECT roots FROM scans WHERE id = %lld", ex) == 4096 &&
	    qi(db, "SELECT roots FROM scans WHERE id = %lld", snap) == 8192 &&
	    qi(db, "SELECT tid FROM scans WHERE id = %lld", ex) > 0,
	    "threads, stopped, roots, tid");
	ok(qi(db, "SELECT count(*) FROM arenas WHERE scan = %lld", snap) == 1 &&
	    qi(db, "SELECT count(*) FROM arenas WHERE scan = %lld", ex) == 2 &&
	    qi(db, "SELECT size FROM arenas WHERE scan = %lld AND base = %lld", ex, 0x20000000LL) ==
	    1 << 21, "arenas, per scan");

	/* the blocks of the snapshot: the lifetimes open at that moment */
	is(qi(db, "SELECT count(*) FROM scan_blocks WHERE scan = %lld", snap), 6,
	    "the snapshot found six blocks");
	ok(qi(db, "SELECT alloc_seq FROM scan_blocks WHERE scan = %lld AND ptr = %d", snap, 0x5000) ==
	    alloc5 && qi(db, "SELECT stack FROM scan_blocks WHERE scan = %lld AND ptr = %d", snap,
	    0x5000) == 2 && strcmp(qs(db, "SELECT call FROM scan_blocks WHERE scan = %lld AND ptr = %d",
	    snap, 0x5000), "malloc") == 0,
	    "a block freed after the snapshot has the lifetime it had then");
	ok(qi(db, "SELECT alloc_seq FROM scan_blocks WHERE scan = %lld AND ptr = %d", snap, 0x4000) ==
	    seqof(db, "alloc", 0x4000) && strcmp(qs(db, "SELECT call FROM scan_blocks WHERE scan = %lld"
	    " AND ptr = %d", snap, 0x4000), "calloc") == 0,
	    "a block moved after the snapshot: its calloc");
	ok(qi(db, "SELECT count(*) FROM scan_blocks WHERE scan = %lld AND class <> 'reachable'", snap) == 0,
	    "every class 'reachable'");

	/* the blocks of the scan at exit */
	is(qi(db, "SELECT count(*) FROM scan_blocks WHERE scan = %lld", ex), 5,
	    "the scan at exit found five blocks");
	ok(strcmp(qs(db, "SELECT group_concat(class, ',') FROM (SELECT class FROM scan_blocks"
	    " WHERE scan = %lld ORDER BY ptr)", ex), "definite,indirect,possible,reachable,definite") == 0,
	    "their classes by name (%s)", qs(db, "SELECT group_concat(class, ',') FROM scan_blocks"
	    " WHERE scan = %lld", ex));
	ok(qi(db, "SELECT alloc_seq FROM scan_blocks WHERE scan = %lld AND ptr = %d", ex, 0x6000) ==
	    realloc4 && strcmp(qs(db, "SELECT call FROM scan_blocks WHERE scan = %lld AND ptr = %d", ex,
	    0x6000), "realloc") == 0 && qi(db, "SELECT size FROM scan_blocks WHERE scan = %lld"
	    " AND ptr = %d", ex, 0x6000) == 450, "a block a realloc made: the realloc's seq and call");
	ok(qi(db, "SELECT alloc_seq = (SELECT alloc_seq FROM blocks WHERE ptr = 4096) FROM scan_blocks"
	    " WHERE scan = %lld AND ptr = 4096", ex) == 1 && strcmp(qs(db, "SELECT call FROM scan_blocks"
	    " WHERE scan = %lld AND ptr = %d", ex, 0x3000), "new") == 0,
	    "alloc_seq is the lifetime's, as in blocks");
	ok(qi(db, "SELECT count(*) FROM scan_blocks WHERE ptr = %d AND alloc_seq IS NULL AND"
	    " stack IS NULL AND call IS NULL", 0x9000) == 2,
	    "a block no recorded call made: alloc_seq, stack and call NULL");
	ok(qi(db, "SELECT block FROM scan_blocks WHERE scan = %lld AND ptr = %d", ex, 0x1000) ==
	    0x1000 - 64 && qi(db, "SELECT bsize FROM scan_blocks WHERE scan = %lld AND ptr = %d", ex,
	    0x1000) == 104 + 128 && qi(db, "SELECT tag FROM scan_blocks WHERE scan = %lld AND ptr = %d",
	    ex, 0x1000) == 0x400200, "block, bsize, tag");
	ok(qi(db, "SELECT length(preview) FROM scan_blocks WHERE scan = %lld AND ptr = %d", ex, 0x1000)
	    == 32 && strcmp(qs(db, "SELECT CAST(substr(preview, 1, 12) AS TEXT) FROM scan_blocks"
	    " WHERE scan = %lld AND ptr = %d", ex, 0x1000), "lost block A") == 0 &&
	    qi(db, "SELECT length(preview) FROM scan_blocks WHERE scan = %lld AND ptr = %d", ex, 0x9000)
	    == 16 && qi(db, "SELECT typeof(preview) = 'blob' FROM scan_blocks LIMIT 1") == 1,
	    "preview: a blob of min(size, 32) bytes");

	/* the views */
	is(qi(db, "SELECT count(*) FROM leaks"), 4, "leaks: the scan at exit's blocks that calls made");
	ok(qi(db, "SELECT size FROM leaks WHERE class = 'definite'") == 100 &&
	    qi(db, "SELECT seq FROM leaks WHERE class = 'definite'") == seqof(db, "alloc", 0x1000) &&
	    qi(db, "SELECT pid FROM leaks LIMIT 1") == qi(db, "SELECT pid FROM processes") &&
	    qi(db, "SELECT length(preview) FROM leaks WHERE class = 'possible'") == 32,
	    "leaks: class, size, seq, pid, preview");
	ok(qi(db, "SELECT bytes FROM leaks_by_stack WHERE class = 'definite' AND stack = 2") == 100 &&
	    qi(db, "SELECT blocks FROM leaks_by_stack WHERE class = 'reachable'") == 1 &&
	    qi(db, "SELECT count(*) FROM leaks_by_stack") == 4, "leaks_by_stack");
	ok(qi(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'scan_blocks_scan'")
	    == 1, "scan_blocks is indexed after the run");
	sqlite3_close(db);

	/* the summary */
	ok(hasline("pooldbg: leak classes at exit: definite 100 bytes in 1 block, indirect 200 bytes"
	    " in 1 block, possible 300 bytes in 1 block, reachable 450 bytes in 1 block"),
	    "summary: the classes at exit (%s)", flat());
	ok(hasline("pooldbg: 3 marks, 1 snapshot\n"), "summary: marks and snapshots");
	ok(strcmp(lastline(), "pooldbg: trace written to t.db; see: leak t.db") == 0,
	    "summary: the last line (%s)", lastline());
	cleantmp();
}

static void
test_exitcode(void)
{
	int r;

	r = RUN(NULL, "run", "--error-exitcode", "42", "-o", "t.db", fake, "leaks", "3");
	ok(r == 42, "--error-exitcode 42: a definite block: 42 (%d: %s)", r, flat());
	ok(hasline("pooldbg: trace written to t.db;"), "and the trace is written all the same");
	cleantmp();
	r = RUN(NULL, "run", "--error-exitcode=9", "-o", "t.db", fake, "clean", "3");
	ok(r == 3, "--error-exitcode: nothing lost, a notice: the program's status (%d: %s)", r, flat());
	ok(hasline("pooldbg: leak classes at exit: definite 0 bytes in 0 blocks, indirect 20 bytes"
	    " in 1 block, possible 0 bytes in 0 blocks, reachable 10 bytes in 1 block"),
	    "the runtime's own blocks are not counted (%s)", flat());
	ok(hasline("pooldbg: heap errors: 0, and 1 notice"), "a notice is not an error");
	cleantmp();
	r = RUN(NULL, "run", "--error-exitcode", "5", "-o", "t.db", fake, "error");
	ok(r == 5, "--error-exitcode: a heap error: 5 (%d)", r);
	cleantmp();
	r = RUN(NULL, "run", "--error-exitcode", "5", "-o", "t.db", fake, "basic", "4");
	ok(r == 4, "--error-exitcode: no scan, no error: the program's status (%d)", r);
	ok(!hasline("pooldbg: leak classes at exit:"), "and no line of classes without a scan");
	cleantmp();
	r = RUN(NULL, "run", "--error-exitcode", "255", "-o", "t.db", fake, "forkscan");
	ok(r == 255, "--error-exitcode: a definite block in a child: 255 (%d)", r);
	cleantmp();

	r = RUN(NULL, "run", "--error-exitcode", "0", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --error-exitcode: '0' is not a number from 1 to 255"),
	    "--error-exitcode 0: 2 and one line (%d: %s)", r, flat());
	r = RUN(NULL, "run", "--error-exitcode", "256", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --error-exitcode: '256'"), "--error-exitcode 256: 2");
	r = RUN(NULL, "run", "--error-exitcode=", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --error-exitcode: '' is not"), "--error-exitcode empty: 2 (%s)",
	    flat());
	r = RUN(NULL, "run", "--error-exitcode", "3x", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --error-exitcode: '3x'"), "--error-exitcode 3x: 2");
	r = RUN(NULL, "run", "--error-exitcode", "-1", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --error-exitcode: '-1'"), "--error-exitcode -1: 2");
	r = RUN(NULL, "run", fake, "noring", "--error-exitcode");
	ok(r == 0, "--error-exitcode after PROGRAM is PROGRAM's (%d)", r);
	r = RUN(NULL, "run", "--error-exitcode");
	ok(r == 2 && oneline("pooldbg: option '--error-exitcode' needs an argument;"),
	    "--error-exitcode without N: 2 (%s)", flat());
	cleantmp();
	ok(nfiles() == 0, "no bad value left a file behind");
}

static void
test_cut(void)
{
	sqlite3 *db;
	int r;

	r = RUN(NULL, "run", "-o", "t.db", fake, "cutscan");
	ok(r == 137, "killed while scanning: 137 (%d)", r);
	db = opentrace(tpath("t.db"));
	ok(qi(db, "SELECT count(*) FROM scans") == 1 && qi(db, "SELECT complete FROM scans") == 0 &&
	    qi(db, "SELECT end_time IS NULL AND roots IS NULL FROM scans") == 1,
	    "a scan that never ended: complete 0, no end time");
	ok(qi(db, "SELECT count(*) FROM scan_blocks") == 1 && qi(db, "SELECT count(*) FROM arenas") == 1 &&
	    qi(db, "SELECT count(*) FROM leaks") == 1, "what it found before is kept");
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'complete'"), "yes") == 0,
	    "and the trace is complete");
	sqlite3_close(db);
	ok(hasline("pooldbg: 0 marks, 0 snapshots, 1 scan cut short"), "summary: the scan cut short (%s)",
	    flat());
	cleantmp();

	r = RUN(NULL, "run", "-o", "t.db", fake, "forkscan");
	ok(r == 0, "forkscan (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	ok(qi(db, "SELECT count(*) FROM scans WHERE snapshot = 0") == 2, "a scan at exit per process");
	ok(qi(db, "SELECT count(*) FROM scan_blocks b JOIN scans s ON s.id = b.scan"
	    " JOIN processes p ON p.id = s.process WHERE p.forked = 1 AND b.ptr = 4096") == 0 &&
	    qi(db, "SELECT count(*) FROM scan_blocks b JOIN scans s ON s.id = b.scan"
	    " JOIN processes p ON p.id = s.process WHERE p.forked = 1 AND b.ptr = 32768 AND"
	    " b.alloc_seq IS NOT NULL") == 1,
	    "a fork child's scan: no row for the block it inherited, one for its own");
	ok(qi(db, "SELECT b.alloc_seq FROM scan_blocks b JOIN scans s ON s.id = b.scan"
	    " JOIN processes p ON p.id = s.process WHERE p.forked = 0 AND b.ptr = 4096") ==
	    qi(db, "SELECT seq FROM events WHERE ptr = 4096"),
	    "... and its own in the parent's");
	ok(qi(db, "SELECT count(*) FROM leaks") == 2 && qi(db, "SELECT count(DISTINCT process) FROM leaks")
	    == 2, "leaks: one block of each process");
	sqlite3_close(db);
	ok(hasline("pooldbg: leak classes at exit: definite 8 bytes in 1 block, indirect 0 bytes in"
	    " 0 blocks, possible 0 bytes in 0 blocks, reachable 10 bytes in 1 block"),
	    "summary: summed over the processes (%s)", flat());
	cleantmp();
}

static void
test_bad(void)
{
	sqlite3 *db;
	int r;

	r = RUN(NULL, "run", "-o", "t.db", fake, "badscan");
	ok(r == 0, "records that make no sense: no crash (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'complete'"), "yes") == 0, "a complete trace");
	ok(qi(db, "SELECT count(*) FROM marks") == 1 && strcmp(qs(db, "SELECT label FROM marks"),
	    "after") == 0, "a mark too short or longer than its record is skipped");
	ok(qi(db, "SELECT count(*) FROM scans") == 1 && qi(db, "SELECT snapshot FROM scans") == 1,
	    "a scan too short, or of no known kind, is skipped");
	ok(qi(db, "SELECT count(*) FROM arenas") == 0, "arenas too short or outside a scan: skipped");
	ok(qi(db, "SELECT count(*) FROM scan_blocks") == 2,
	    "blocks too short, outside a scan or of no known class: skipped (%lld)",
	    qi(db, "SELECT count(*) FROM scan_blocks"));
	ok(qi(db, "SELECT length(preview) FROM scan_blocks WHERE ptr = %d", 0x7000) == 32,
	    "a preview longer than its room is cut to 32 bytes");
	ok(qi(db, "SELECT complete FROM scans") == 1 && qi(db, "SELECT roots FROM scans") == 512,
	    "a scan end too short is skipped; the next one ends the scan");
	ok(qi(db, "SELECT seq FROM marks") == qi(db, "SELECT seq FROM events WHERE ptr = 4096") &&
	    qi(db, "SELECT count(*) FROM events") == 2, "and the records after them are stored");
	sqlite3_close(db);
	cleantmp();
}

static void
test_kinds(void)
{
	sqlite3 *db;
	int r;

	r = RUN(NULL, "run", "-o", "t.db", fake, "kinds");
	ok(r == 0, "kinds (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM errors"), 11, "eleven reports");
	ok(strcmp(qs(db, "SELECT group_concat(kind, ',') FROM (SELECT kind FROM errors ORDER BY id)"),
	    "overflow,overflow,underflow,double-free,invalid-free,invalid-free,write-after-free,notice,"
	    "corruption,corruption,corruption") == 0, "errors.kind: the runtime's kinds by name (%s)",
	    qs(db, "SELECT group_concat(kind, ',') FROM (SELECT kind FROM errors ORDER BY id)"));
	sqlite3_close(db);
	ok(hasline("pooldbg: heap errors: 10, and 1 notice"), "summary: errors and notices (%s)", flat());
	cleantmp();

	r = RUN(NULL, "run", "-o", "t.db", fake, "error");
	db = opentrace(tpath("t.db"));
	ok(r == 0 && strcmp(qs(db, "SELECT kind FROM errors"), "overflow") == 0,
	    "the kind the runtime sent, whatever the message says");
	sqlite3_close(db);
	cleantmp();
}

static void
test_volume(void)
{
	char num[24];
	long long n;
	sqlite3 *db;
	int r;

	/* past a batch of the drain's (10000 records), so across commits */
	n = 25000 * tap_scale();
	snprintf(num, sizeof num, "%lld", n);
	r = RUN(NULL, "run", "-o", "t.db", fake, "live", num);
	ok(r == 0, "a scan of %lld blocks (%d: %s)", n, r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM scan_blocks"), n, "every one stored");
	is(qi(db, "SELECT count(*) FROM leaks WHERE class = 'definite' AND seq IS NOT NULL"), n,
	    "every one matched to its lifetime");
	ok(qi(db, "SELECT count(*) FROM scan_blocks b JOIN events e ON e.seq = b.alloc_seq"
	    " WHERE e.ptr <> b.ptr") == 0, "each to its own");
	sqlite3_close(db);
	cleantmp();
}

int
main(void)
{
	rp_setup();

	test_leaks();
	test_exitcode();
	test_cut();
	test_bad();
	test_kinds();
	test_volume();

	rp_teardown();
	return tap_done();
}
