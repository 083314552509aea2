/*
 * tests/leak-fixture.c -- traces with known content for tests/leak.sh:
 * made by trace_create (the real schema) and filled row by row, so every
 * address, stack, class and error of them is fixed and the reports of
 * leak can be compared with golden files.
 *
 * usage: leak-fixture DIR   (writes DIR/main.db, base.db, noscan.db, ...)
 *
 *   main.db     two images (pid 100, and 101 forked from it); stacks with
 *               an inline chain, an unsymbolized module frame, a bare pc
 *               and one 22 frames deep; blocks of every class at exit,
 *               snapshot 1 of pid 100, marks "start" (twice) and "late",
 *               blocks the child inherited, four heap errors (a double
 *               free of a pointer reused later, an overflow, a notice, an
 *               invalid free)
 *   base.db     the same program's earlier run for --diff: other pids,
 *               other stack ids and load addresses, fewer bytes from fill,
 *               no deep stack, more from init_cache
 *   noscan.db   no scans: an image killed, one replaced by exec
 *   clean.db    only reachable blocks and a notice
 *   incomplete.db  the same as clean.db, never marked complete
 *   partial.db  an exit scan that never ended
 *   odd.db      names with control characters, quotes and bytes that are
 *               not UTF-8
 *   newer.db    user_version TRACE_VERSION + 1
 *   notrace.db  a SQLite file of another program
 *
 * Must never: be installed; print anything but a failure.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

static const char *dir;

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "leak-fixture: %s: %s\n", what, why);
	exit(1);
}

/* Run printf-formatted SQL (sqlite3_mprintf: %q, %Q, %lld) or die. */
static void
x(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	char *sql, *msg;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	msg = NULL;
	if (sql == NULL || sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die(sql != NULL ? sql : "out of memory", msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(sql);
}

/* A new trace DIR/name, in a transaction. */
static sqlite3 *
create(const char *name)
{
	char path[4096], err[512];
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	if (trace_create(path, &db, err, sizeof err) < 0)
		die(path, err);
	x(db, "BEGIN");
	x(db, "INSERT INTO meta VALUES('command', 'prog -x input.txt'),"
	    " ('started', '2026-11-22T14:03:59+0100'), ('flags', ''), ('depth', '64'),"
	    " ('follow', 'yes'), ('recorder', 'pooldbg 0.1.0')");
	return db;
}

/* Commit, index, mark complete (or not), fold the log in, close. */
static void
finish(sqlite3 *db, int complete)
{
	char err[512];

	if (complete)
		x(db, "UPDATE meta SET value = 'yes' WHERE key IN ('complete', 'symbolized')");
	x(db, "COMMIT");
	if (trace_create_indexes(db, err, sizeof err) < 0)
		die("indexes", err);
	x(db, "PRAGMA journal_mode = DELETE");
	sqlite3_close(db);
}

static void
proc(sqlite3 *db, int id, int pid, int ppid, int parent, int forked, const char *exe,
    const char *cmd, const char *how, int status)
{
	x(db, "INSERT INTO processes VALUES(%d, %d, %d, %s, 0, %d, %Q, %Q, 1000, %Q, %s)",
	    id, pid, ppid, parent != 0 ? sqlite3_mprintf("%d", parent) : "NULL", forked, exe, cmd,
	    how, status >= 0 ? sqlite3_mprintf("%d", status) : "NULL");
}

/* Scan id of image process, by thread tid: an exit scan that finished, read at 9000. */
static void
exitscan(sqlite3 *db, int id, int process, int tid)
{
	x(db, "INSERT INTO scans VALUES(%d, %d, 0, 9000, 9001, 2000, %d, 1, 1, 4096, 1)", id, process,
	    tid);
}

/* A location row: depth 0 innermost. */
static void
loc(sqlite3 *db, int process, long long pc, int depth, const char *fn, const char *file,
    int line, int module, long long base)
{
	x(db, "INSERT INTO locations VALUES(%d, %lld, %d, %Q, %Q, %d, 1, %d, %lld)",
	    process, pc, depth, fn, file, line, module, pc - base);
}

static void
frame(sqlite3 *db, int process, int id, int parent, long long pc)
{
	x(db, "INSERT INTO frames VALUES(%d, %d, %d, %lld)", process, id, parent, pc);
}

/*
 * n blocks of size bytes from stack, live at exit (a lifetime in blocks,
 * and a row in scan_blocks of scan with cls; scan 0: no row), pointers
 * from ptr on every 0x40, alloc_seq from seq on; the first has preview.
 */
static void
blocks(sqlite3 *db, int process, int scan, const char *cls, long long ptr, int n, int size,
    int stack, long long seq, const char *preview)
{
	char hex[65];
	int i, k, plen;

	for (i = 0; i < n; i++) {
		x(db, "INSERT INTO blocks VALUES(%d, %lld, %d, 'malloc', %d, %lld, %lld,"
		    " NULL, NULL, NULL, NULL)", process, ptr + 0x40LL * i, size, stack, seq + i,
		    10 * (seq + i));
		if (scan == 0)
			continue;
		plen = size < 32 ? size : 32;
		for (k = 0; k < plen; k++)	/* the preview, zero-padded, as hex */
			snprintf(hex + 2 * k, 3, "%02x", i == 0 && preview != NULL &&
			    k < (int)strlen(preview) ? (unsigned char)preview[k] : 0);
		hex[2 * plen] = '\0';
		x(db, "INSERT INTO scan_blocks VALUES(%d, %lld, %d, %Q, %lld, %d, 'malloc',"
		    " 0, %lld, %d, X'%s', NULL)", scan, ptr + 0x40LL * i, size, cls, seq + i, stack,
		    ptr + 0x40LL * i - 16, size + 32, hex);
	}
}

/*
 * A lifetime that ended: a malloc at seq aseq and its free at fseq, as
 * events (a blocks row that ended is read from the events that made it).
 */
static void
ended(sqlite3 *db, int process, long long ptr, int size, int stack, long long aseq,
    long long atime, long long fseq, long long ftime, int fstack)
{
	x(db, "INSERT INTO events(seq, process, time, tid, type, call, flags, ptr, newptr, size,"
	    " align, stack) VALUES(%lld, %d, %lld, 100, 'alloc', 'malloc', 0, %lld, NULL, %d,"
	    " NULL, %d)", aseq, process, atime, ptr, size, stack);
	x(db, "INSERT INTO events(seq, process, time, tid, type, call, flags, ptr, newptr, size,"
	    " align, stack) VALUES(%lld, %d, %lld, 100, 'free', 'free', 0, %lld, NULL, NULL,"
	    " NULL, %d)", fseq, process, ftime, ptr, fstack);
}

#define EXE	0x555555554000LL	/* load bias of /usr/bin/prog */
#define P_MAIN	(EXE + 0x1100)
#define P_BUILD	(EXE + 0x1200)
#define P_FILL	(EXE + 0x1300)
#define P_INIT	(EXE + 0x1400)
#define P_FREE	(EXE + 0x1500)
#define P_REC	(EXE + 0x1600)
#define P_CHILD	(EXE + 0x1700)

/*
 * The program's modules, locations and stacks in image process; lib is
 * libfoo's load bias, idbase is added to every frame id but main's.
 */
static void
program(sqlite3 *db, int process, int modbase, long long lib, int idbase)
{
	int i, b = idbase;

	x(db, "INSERT INTO modules VALUES(%d, %d, '/usr/bin/prog', NULL, %lld, %lld, %lld, 0, NULL)",
	    modbase, process, EXE, EXE, EXE + 0x10000);
	x(db, "INSERT INTO modules VALUES(%d, %d, '/usr/lib/libfoo.so.1', NULL, %lld, %lld, %lld,"
	    " 0, NULL)", modbase + 1, process, lib, lib, lib + 0x10000);
	loc(db, process, P_MAIN, 0, "main", "/src/prog/main.c", 50, modbase, EXE);
	loc(db, process, P_BUILD, 0, "make_node", "/src/prog/list.c", 12, modbase, EXE);
	loc(db, process, P_BUILD, 1, "build_list", "/src/prog/list.c", 30, modbase, EXE);
	loc(db, process, P_FILL, 0, "fill", "/src/prog/list.c", 40, modbase, EXE);
	loc(db, process, lib + 0x1100, 0, "foo_strdup", "/src/foo/foo.c", 7, modbase + 1, lib);
	loc(db, process, P_INIT, 0, "init_cache", "/src/prog/cache.c", 21, modbase, EXE);
	loc(db, process, P_FREE, 0, "release", "/src/prog/list.c", 60, modbase, EXE);
	loc(db, process, P_REC, 0, "recurse", "/src/prog/recurse.c", 5, modbase, EXE);
	loc(db, process, P_CHILD, 0, "child_work", "/src/prog/child.c", 9, modbase, EXE);

	frame(db, process, 1, 0, P_MAIN);
	frame(db, process, b + 2, 1, P_BUILD);		/* make_node < build_list < main */
	frame(db, process, b + 3, 1, P_FILL);		/* fill < main */
	frame(db, process, b + 4, b + 3, lib + 0x1100);	/* foo_strdup < fill < main */
	frame(db, process, b + 5, 1, P_INIT);		/* init_cache < main */
	frame(db, process, b + 6, 1, P_FREE);		/* release < main */
	frame(db, process, b + 7, 1, lib + 0x2000);	/* libfoo+0x2000 < main */
	frame(db, process, b + 8, b + 7, 0x1234);	/* 0x1234 < libfoo+0x2000 < main */
	frame(db, process, b + 9, 1, P_REC);
	for (i = 10; i <= 29; i++)			/* recurse x21 < main */
		frame(db, process, b + i, b + i - 1, P_REC);
	frame(db, process, b + 30, 1, P_CHILD);		/* child_work < main */
}

static void
mkmain(void)
{
	sqlite3 *db = create("main.db");

	proc(db, 1, 100, 1, 0, 0, "/usr/bin/prog", "prog -x input.txt", "exit", 0);
	proc(db, 2, 101, 100, 1, 1, "/usr/bin/prog", "prog -x input.txt", "exit", 3);
	program(db, 1, 1, 0x7f0000000000LL, 0);
	program(db, 2, 3, 0x7f0000000000LL, 0);
	exitscan(db, 1, 1, 100);
	x(db, "INSERT INTO scans VALUES(2, 2, 0, 9100, 9101, 2100, 101, 1, 1, 4096, 1)");
	x(db, "INSERT INTO scans VALUES(3, 1, 1, 3000, 3001, 500, 100, 1, 1, 4096, 1)");
	x(db, "INSERT INTO marks VALUES(1, 1, 5000, 100, 1000, 'start')");
	x(db, "INSERT INTO marks VALUES(2, 1, 5500, 100, 1500, 'start')");
	x(db, "INSERT INTO marks VALUES(3, 1, 8000, 100, 100000, 'late')");

	/* pid 100 at exit */
	blocks(db, 1, 1, "definite", 0x10000, 100, 32, 2, 10, "node 0: hello, world!\n\t\x01");
	blocks(db, 1, 1, "indirect", 0x20000, 50, 16, 4, 200, "strdup'd text");
	blocks(db, 1, 1, "possible", 0x30000, 2, 1000, 5, 300, "cache");
	blocks(db, 1, 1, "reachable", 0x40000, 10, 100, 3, 400, NULL);
	blocks(db, 1, 1, "definite", 0x50000, 1, 64, 8, 500, NULL);
	blocks(db, 1, 1, "definite", 0x60000, 3, 10, 29, 1010, NULL);
	blocks(db, 1, 1, "definite", 0x70000, 5, 20, 3, 1001, "after the mark");
	/* the same make_node blocks at snapshot 1, still held then */
	x(db, "INSERT INTO scan_blocks SELECT 3, ptr, size, 'reachable', alloc_seq, stack, call,"
	    " tag, block, bsize, preview, weight FROM scan_blocks WHERE scan = 1 AND stack = 2");
	/* a block freed twice: its lifetime, and a later one at the same address */
	ended(db, 1, 0x90000LL, 24, 2, 600, 500, 610, 600, 6);
	ended(db, 1, 0x90000LL, 48, 3, 700, 900, 710, 950, 6);
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(1, 1, 700, 100, %lld, 6, "
	    "'pool: block 0x90000 is free\npanic: double free of 0x90000', 'double-free')", 0x90000LL);
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(2, 1, 6000, 100, %lld, 6, "
	    "'block 0x10000 size 32: 6e 6f 64 65 ...\ntail magic overwritten: overflow', 'overflow')",
	    0x10000LL);
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(3, 1, 7000, 100, 0, 5, 'arena grew to 1 MiB', 'notice')");
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(4, 2, 7100, 101, %lld, 30, "
	    "'free of 0xdead0: not a block of this pool', 'invalid-free')", 0xdead0LL);

	/* pid 101 at exit: what it inherited (no alloc_seq), and its own */
	x(db, "INSERT INTO scan_blocks VALUES(2, %lld, 32, 'definite', NULL, NULL, NULL, 0,"
	    " %lld, 64, zeroblob(32), NULL)", 0x10000LL, 0x10000LL - 16);
	blocks(db, 2, 2, "definite", 0x80000, 4, 256, 30, 3000, "child");
	finish(db, 1);
}

static void
mkbase(void)
{
	sqlite3 *db = create("base.db");

	proc(db, 1, 200, 1, 0, 0, "/usr/bin/prog", "prog -x input.txt", "exit", 0);
	proc(db, 2, 201, 200, 1, 1, "/usr/bin/prog", "prog -x input.txt", "exit", 3);
	program(db, 1, 1, 0x7f1000000000LL, 100);
	program(db, 2, 3, 0x7f1000000000LL, 100);
	exitscan(db, 1, 1, 200);
	x(db, "INSERT INTO scans VALUES(2, 2, 0, 9100, 9101, 2100, 201, 1, 1, 4096, 1)");
	blocks(db, 1, 1, "definite", 0x10000, 100, 32, 102, 10, NULL);
	blocks(db, 1, 1, "indirect", 0x20000, 50, 16, 104, 200, NULL);
	blocks(db, 1, 1, "possible", 0x30000, 3, 1000, 105, 300, NULL);
	blocks(db, 1, 1, "reachable", 0x40000, 10, 100, 103, 400, NULL);
	blocks(db, 1, 1, "definite", 0x50000, 1, 64, 108, 500, NULL);
	blocks(db, 1, 1, "definite", 0x70000, 5, 10, 103, 1001, NULL);
	blocks(db, 2, 2, "definite", 0x80000, 4, 256, 130, 3000, NULL);
	finish(db, 1);
}

static void
mknoscan(void)
{
	sqlite3 *db = create("noscan.db");

	proc(db, 1, 300, 1, 0, 0, "/usr/bin/prog", "prog", "killed", 9);
	proc(db, 2, 301, 300, 1, 0, "/bin/sh", "sh -c true", "exec", -1);
	program(db, 1, 1, 0x7f0000000000LL, 0);
	program(db, 2, 3, 0x7f0000000000LL, 0);
	blocks(db, 1, 0, NULL, 0x10000, 3, 32, 2, 10, NULL);
	blocks(db, 1, 0, NULL, 0x20000, 1, 500, 5, 20, NULL);
	ended(db, 1, 0x30000LL, 77, 3, 30, 300, 40, 400, 6);
	blocks(db, 2, 0, NULL, 0x40000, 2, 64, 2, 50, NULL);	/* dropped by exec */
	finish(db, 1);
}

static void
mkclean(const char *name, int complete)
{
	sqlite3 *db = create(name);

	proc(db, 1, 400, 1, 0, 0, "/usr/bin/prog", "prog", "exit", 0);
	program(db, 1, 1, 0x7f0000000000LL, 0);
	exitscan(db, 1, 1, 400);
	blocks(db, 1, 1, "reachable", 0x10000, 2, 48, 3, 10, "kept");
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(1, 1, 700, 400, 0, 5, 'arena grew to 1 MiB', 'notice')");
	finish(db, complete);
}

/*
 * Fork children of a shell that executed prog: pid 701's first image has
 * nothing of its own, pid 702's a heap error.
 */
static void
mkexec(void)
{
	sqlite3 *db = create("exec.db");

	proc(db, 1, 700, 1, 0, 0, "/bin/sh", "sh -c prog; prog", "exit", 0);
	proc(db, 2, 701, 700, 1, 1, "/bin/sh", "sh -c prog; prog", "exec", -1);
	proc(db, 3, 701, 700, 2, 0, "/usr/bin/prog", "prog", "exit", 0);
	proc(db, 4, 702, 700, 1, 1, "/bin/sh", "sh -c prog; prog", "exec", -1);
	proc(db, 5, 702, 700, 4, 0, "/usr/bin/prog", "prog", "exit", 0);
	x(db, "UPDATE processes SET execseq = 1 WHERE id IN (3, 5)");	/* executed by 2 and 4 */
	program(db, 1, 1, 0x7f0000000000LL, 0);
	program(db, 3, 3, 0x7f0000000000LL, 0);
	program(db, 4, 5, 0x7f0000000000LL, 0);
	program(db, 5, 7, 0x7f0000000000LL, 0);
	exitscan(db, 1, 1, 700);
	exitscan(db, 2, 3, 701);
	exitscan(db, 3, 5, 702);
	blocks(db, 3, 2, "definite", 0x10000, 1, 48, 3, 10, NULL);
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(1, 4, 700, 702, 0, 5, 'freed twice', 'double-free')");
	finish(db, 1);
}

/*
 * Five runs of one program under a shell, each with its library loaded at
 * its own address and its own stack ids: four leak from fill (pid 801 twice), pid 802
 * from init_cache too, and pid 805's block from fill is only possibly
 * lost.
 */
static void
mkmerge(void)
{
	sqlite3 *db = create("merge.db");
	int k;

	proc(db, 1, 800, 1, 0, 0, "/bin/sh", "sh runall", "exit", 0);
	exitscan(db, 1, 1, 800);
	for (k = 2; k <= 6; k++) {
		proc(db, k, 799 + k, 800, 0, 0, "/usr/bin/prog", "prog", "exit", 0);
		program(db, k, 10 * k, 0x7f0000000000LL + ((long long)k << 32), 100 * k);
		exitscan(db, k, k, 799 + k);
		blocks(db, k, k, k == 6 ? "possible" : "definite", 0x10000, k == 2 ? 2 : 1, 48,
		    100 * k + 3, 10 * k, NULL);
	}
	blocks(db, 3, 3, "definite", 0x20000, 1, 500, 300 + 5, 100, NULL);
	finish(db, 1);
}

/*
 * A shell running sixteen programs, more than the text report's header
 * names one by one: pid 902 leaks, pid 903 is killed by a signal, pid 904
 * frees a block twice, pid 905 leaks a block only possibly lost; the
 * other twelve exit (pid 906 with status 1) having nothing to report.
 */
static void
mkmany(void)
{
	sqlite3 *db = create("many.db");
	char cmd[16];
	int k;

	proc(db, 1, 900, 1, 0, 0, "/bin/sh", "sh runall", "exit", 0);
	exitscan(db, 1, 1, 900);
	for (k = 2; k <= 17; k++) {
		snprintf(cmd, sizeof cmd, "prog %d", k);
		proc(db, k, 900 + k, 900, 0, 0, "/usr/bin/prog", cmd,
		    k == 3 ? "signal" : "exit", k == 3 ? 11 : k == 6 ? 1 : 0);
		program(db, k, 10 * k, 0x7f0000000000LL, 100 * k);
		if (k != 3)
			exitscan(db, k, k, 900 + k);
	}
	blocks(db, 2, 2, "definite", 0x10000, 1, 48, 200 + 3, 20, NULL);
	blocks(db, 5, 5, "possible", 0x10000, 1, 64, 500 + 3, 50, NULL);
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(1, 4, 700, 904, 0, 405, 'freed twice', 'double-free')");
	finish(db, 1);
}

/* An exit scan that never ended (the process was killed during it). */
static void
mkpartial(void)
{
	sqlite3 *db = create("partial.db");

	proc(db, 1, 600, 1, 0, 0, "/usr/bin/prog", "prog", "killed", 9);
	program(db, 1, 1, 0x7f0000000000LL, 0);
	x(db, "INSERT INTO scans VALUES(1, 1, 0, 9000, NULL, 2000, 600, 1, 1, 4096, 0)");
	blocks(db, 1, 1, "definite", 0x10000, 2, 48, 3, 10, NULL);
	finish(db, 1);
}

static void
mkodd(void)
{
	sqlite3 *db = create("odd.db");

	proc(db, 1, 500, 1, 0, 0, "/tmp/odd\tname\xff", "odd \"quoted\" arg\\", "exit", 0);
	x(db, "INSERT INTO modules VALUES(1, 1, '/tmp/odd\tname\xff', NULL, 0, 4096, 8192, 0, NULL)");
	frame(db, 1, 1, 0, 0x1100);
	frame(db, 1, 2, 1, 0x1200);
	loc(db, 1, 0x1100, 0, "main", "/src/caf\xc3\xa9.c", 3, 1, 0);
	loc(db, 1, 0x1200, 0, "weird\x01" "fn\"q\"\\\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xed\xa0\x80",
	    "/src/\x1b[31mred.c", 4, 1, 0);
	exitscan(db, 1, 1, 500);
	blocks(db, 1, 1, "definite", 0x10000, 1, 8, 2, 10, "\x7f\x80\xff\"\\\n");
	x(db, "INSERT INTO errors(id, process, time, tid, ptr, stack, message, kind) VALUES(1, 1, 700, 500, 0, 2, 'line one\nline\ttwo \x1b[1m\xff', NULL)");
	finish(db, 1);
}

static void
mkothers(void)
{
	char path[4096];
	sqlite3 *db;

	mkclean("newer.db", 1);
	snprintf(path, sizeof path, "%s/newer.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	x(db, "PRAGMA user_version = %d", TRACE_VERSION + 1);
	sqlite3_close(db);

	snprintf(path, sizeof path, "%s/notrace.db", dir);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	x(db, "CREATE TABLE t(a, b); INSERT INTO t VALUES(1, 'x')");
	sqlite3_close(db);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: leak-fixture DIR\n");
		return 2;
	}
	dir = argv[1];
	mkmain();
	mkbase();
	mknoscan();
	mkclean("clean.db", 1);
	mkclean("incomplete.db", 0);
	mkodd();
	mkpartial();
	mkexec();
	mkmerge();
	mkmany();
	mkothers();
	return 0;
}
