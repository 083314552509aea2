/*
 * tests/recorder.c -- `pooldbg run` end to end, without the runtime: the
 * program it runs is tests/fakewriter, which writes records by hand into
 * a ring of its own (the preloaded library is tests/nooppreload, which
 * does nothing).  Checks the trace against what each scenario wrote: the
 * rows of every table, the derived blocks and views, how processes ended,
 * the exit status passed through, the summary; and every refusal of bad
 * input (message, exit status, no trace left behind).
 *
 * Run from the build tree (make check); see runpooldbg.h.  Nothing here
 * depends on timing: the one wait is for a file the program creates.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "runpooldbg.h"

static void
test_cli(void)
{
	int r;

	r = RUN(NULL, "--version");
	ok(r == 0, "--version exits 0");
	r = RUN(NULL, "--help");
	ok(r == 0, "--help exits 0");
	r = RUN(NULL, "run", "--help");
	ok(r == 0, "run --help exits 0");

	r = runv(NULL, (const char *const[]){ pooldbg, NULL });
	ok(r == 2 && oneline("pooldbg: missing command; usage: pooldbg run"),
	    "no command: 2 and one usage line (%d: %s)", r, flat());
	r = RUN(NULL, "frob");
	ok(r == 2 && oneline("pooldbg: unknown command 'frob'; usage:"), "unknown command: 2 (%d)", r);
	r = RUN(NULL, "run");
	ok(r == 2 && oneline("pooldbg: missing PROGRAM; usage: pooldbg run [options] [--] PROGRAM"),
	    "missing PROGRAM: 2 and one usage line (%d: %s)", r, flat());
	r = RUN(NULL, "run", "-o", "x.db");
	ok(r == 2 && oneline("pooldbg: missing PROGRAM;"), "options but no PROGRAM: 2 (%d)", r);
	r = RUN(NULL, "run", "--bogus", fake, "noring");
	ok(r == 2 && oneline("pooldbg: unknown option '--bogus'; usage:"),
	    "unknown long option: 2 (%d: %s)", r, flat());
	r = RUN(NULL, "run", "-z", fake, "noring");
	ok(r == 2 && oneline("pooldbg: unknown option '-z'; usage:"), "unknown short option: 2 (%d)", r);
	r = RUN(NULL, "run", fake, "noring", "-o");
	ok(r == 0, "options after PROGRAM are PROGRAM's (%d)", r);
	cleantmp();
	r = RUN(NULL, "run", "-o");
	ok(r == 2 && oneline("pooldbg: option '-o' needs an argument;"), "-o without FILE: 2 (%d)", r);
	r = RUN(NULL, "run", "--depth", "0", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --depth: '0' is not a number from 1 to 256"), "--depth 0: 2");
	r = RUN(NULL, "run", "--depth", "257", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --depth: '257'"), "--depth 257: 2");
	r = RUN(NULL, "run", "--depth=12x", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --depth: '12x'"), "--depth 12x: 2");
	r = RUN(NULL, "run", "--flags", "paranoia,bogus", fake, "noring");
	ok(r == 2 && oneline("pooldbg: --flags: unknown flag 'bogus'"),
	    "--flags with an unknown name: 2 (%d: %s)", r, flat());
	ok(nfiles() == 0, "no usage error left a file behind (%d)", nfiles());
}

/*
 * A program with file capabilities, run by a user other than root: the
 * kernel has the loader ignore LD_PRELOAD.  As root only (to set the
 * attribute, then to run pooldbg as nobody through setpriv).
 */
static void
testcaps(char *script, size_t len)
{
	/* vfs_cap_data, revision 2: CAP_NET_RAW (13) permitted, not effective */
	static const unsigned char cap[20] = { 0, 0, 0, 2, 0, 0x20 };
	static const char setpriv[] = "/usr/bin/setpriv";
	int r;

	if (geteuid() != 0 || access(setpriv, X_OK) != 0) {
		tap_skip(3, "file capabilities: needs root and setpriv");
		return;
	}
	if (snprintf(script, len, "cp '%s' '%s/capped'", fake, tmp) >= (int)len || system(script) != 0)
		tap_bail("cannot copy fakewriter");
	r = runv(NULL, (const char *const[]){ setpriv, "--reuid=65534", "--regid=65534",
	    "--clear-groups", pooldbg, "--version", NULL });
	if (setxattr(tpath("capped"), "security.capability", cap, sizeof cap, 0) != 0 ||
	    chmod(tmp, 0755) != 0 || r != 0) {
		tap_skip(3, "file capabilities: cannot set them, or nobody cannot run pooldbg here");
		return;
	}
	r = runv(NULL, (const char *const[]){ setpriv, "--reuid=65534", "--regid=65534",
	    "--clear-groups", pooldbg, "run", "-o", "t.db", "./capped", "noring", NULL });
	ok(r == 2 && oneline("pooldbg: ./capped: has file capabilities"),
	    "a program with file capabilities, run by another user than root: 2 (%d: %s)", r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");
	r = RUN(NULL, "run", "-o", "t.db", "./capped", "noring");
	ok(strstr(errtext, "file capabilities") == NULL,
	    "the same program run by root is not refused (%d: %s)", r, flat());
	unlink(tpath("t.db"));
	chmod(tmp, 0700);
}

static void
test_badprogram(void)
{
	char script[PATH_MAX];
	unsigned char elf[64];
	int r, fd;

	r = RUN(NULL, "run", "-o", "t.db", "pooldbg-no-such-program-anywhere");
	ok(r == 127 && oneline("pooldbg: pooldbg-no-such-program-anywhere: command not found"),
	    "a program not in PATH: 127 (%d: %s)", r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");
	r = RUN(NULL, "run", "-o", "t.db", "./nothere");
	ok(r == 127 && oneline("pooldbg: ./nothere: no such file"), "a missing path: 127 (%d: %s)",
	    r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");

	fd = open(tpath("plain"), O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	r = RUN(NULL, "run", "-o", "t.db", "./plain");
	ok(r == 126 && oneline("pooldbg: ./plain: not executable"), "a file without x: 126 (%d: %s)",
	    r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");
	mkdir(tpath("adir"), 0755);
	r = RUN(NULL, "run", "-o", "t.db", "./adir");
	ok(r == 126 && oneline("pooldbg: ./adir: is a directory"), "a directory: 126 (%d)", r);
	ok(!exists(tpath("t.db")), "and no trace left behind");

	/* setuid: a copy of fakewriter with the bit */
	if (snprintf(script, sizeof script, "cp '%s' '%s/suid' && chmod 4755 '%s/suid'", fake, tmp,
	    tmp) >= (int)sizeof script || system(script) != 0)
		tap_bail("cannot make a setuid copy");
	r = RUN(NULL, "run", "-o", "t.db", "./suid", "noring");
	ok(r == 2 && oneline("pooldbg: ./suid: a set-user-ID or set-group-ID program"),
	    "a setuid program: 2 (%d: %s)", r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");
	chmod(tpath("suid"), 02755);
	r = RUN(NULL, "run", "-o", "t.db", "./suid", "noring");
	ok(r == 2 && oneline("pooldbg: ./suid: a set-user-ID or set-group-ID program"),
	    "a setgid program: 2 (%d)", r);

	testcaps(script, sizeof script);

	/* statically linked: an ELF header with no program headers, so no PT_INTERP */
	memset(elf, 0, sizeof elf);
	memcpy(elf, "\177ELF\2\1\1", 7);
	elf[16] = 2;	/* ET_EXEC */
	elf[18] = 62;	/* EM_X86_64 */
	elf[20] = 1;	/* EV_CURRENT */
	elf[52] = 64;	/* e_ehsize */
	elf[54] = 56;	/* e_phentsize */
	fd = open(tpath("static"), O_WRONLY | O_CREAT, 0755);
	if (fd < 0 || write(fd, elf, sizeof elf) != (ssize_t)sizeof elf)
		tap_bail("cannot write a static ELF");
	close(fd);
	r = RUN(NULL, "run", "-o", "t.db", "./static");
	ok(r == 2 && oneline("pooldbg: ./static: statically linked"),
	    "a statically linked program: 2 (%d: %s)", r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");
	snprintf(script, sizeof script, "#!%s/static\n", tmp);
	fd = open(tpath("script"), O_WRONLY | O_CREAT, 0755);
	if (fd < 0 || write(fd, script, strlen(script)) != (ssize_t)strlen(script))
		tap_bail("cannot write a script");
	close(fd);
	r = RUN(NULL, "run", "-o", "t.db", "./script");
	ok(r == 2 && hasline("pooldbg: ") && strstr(errtext, "statically linked") != NULL,
	    "a script whose interpreter is static: 2 (%d: %s)", r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");

	/* the output directory */
	r = RUN(NULL, "run", "-o", "/nonexistent-pooldbg-dir/t.db", fake, "touch", tpath("started"));
	ok(r == 2 && oneline("pooldbg: /nonexistent-pooldbg-dir/t.db: cannot write a trace in"),
	    "an output directory that does not exist: 2 (%d: %s)", r, flat());
	ok(!exists(tpath("started")), "said before the program started");
	if (geteuid() != 0) {
		mkdir(tpath("ro"), 0555);
		r = RUN(NULL, "run", "-o", "ro/t.db", fake, "touch", tpath("started"));
		ok(r == 2 && oneline("pooldbg: ro/t.db: cannot write a trace in ro: Permission denied"),
		    "a read-only output directory: 2 (%d: %s)", r, flat());
		ok(!exists(tpath("started")), "said before the program started");
	} else
		tap_skip(2, "root may write in a read-only directory");

	/* the runtime library */
	setenv("POOLDBG_PRELOAD", "/nonexistent/libpooldbg-malloc.so", 1);
	r = RUN(NULL, "run", "-o", "t.db", fake, "noring");
	ok(r == 2 && oneline("pooldbg: POOLDBG_PRELOAD: /nonexistent/libpooldbg-malloc.so:"),
	    "a POOLDBG_PRELOAD that does not exist: 2 (%d: %s)", r, flat());
	ok(!exists(tpath("t.db")), "and no trace left behind");
	setenv("POOLDBG_PRELOAD", noop, 1);
	cleantmp();
}

static void
test_output(void)
{
	char before[PATH_MAX], name[256];
	struct dirent *de;
	DIR *dp;
	sqlite3 *db;
	int r, fd, n;

	r = RUN(NULL, "run", "-o", "t.db", fake, "noring", "0");
	ok(r == 0 && exists(tpath("t.db")), "-o FILE writes FILE (%d: %s)", r, flat());
	ok(!exists(tpath("t.db-wal")) && !exists(tpath("t.db-shm")), "the trace is one file at the end");
	r = RUN(NULL, "run", "-o", "t.db", fake, "noring", "0");
	ok(r == 2 && oneline("pooldbg: t.db: exists; use --force to overwrite it"),
	    "an existing trace without --force: 2 (%d: %s)", r, flat());
	r = RUN(NULL, "run", "--force", "-o", "t.db", fake, "basic", "6");
	ok(r == 6, "--force overwrites a trace (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM processes"), 1, "the new trace is the new run's");
	sqlite3_close(db);

	fd = open(tpath("precious.c"), O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, "int x;\n", 7) != 7)
		tap_bail("write");
	close(fd);
	r = RUN(NULL, "run", "--force", "-o", "precious.c", fake, "noring");
	ok(r == 2 && oneline("pooldbg: precious.c: exists and is not a pooldbg trace; not overwritten"),
	    "--force never overwrites a file that is not a trace (%d: %s)", r, flat());
	slurp(tpath("precious.c"), before, sizeof before);
	ok(strcmp(before, "int x;\n") == 0, "which is left as it was");
	cleantmp();

	/* the default name: pooldbg.PROGRAM.PID.db, PID the program's */
	r = RUN(NULL, "run", fake, "basic", "0");
	ok(r == 0, "a run without -o (%d: %s)", r, flat());
	n = 0;
	name[0] = '\0';
	if ((dp = opendir(tmp)) != NULL) {
		while ((de = readdir(dp)) != NULL)
			if (de->d_name[0] != '.') {
				n++;
				snprintf(name, sizeof name, "%s", de->d_name);
			}
		closedir(dp);
	}
	db = opentrace(tpath(name));
	snprintf(before, sizeof before, "pooldbg.fakewriter.%lld.db",
	    qi(db, "SELECT pid FROM processes WHERE id = 1"));
	ok(n == 1 && strcmp(name, before) == 0, "writes pooldbg.fakewriter.PID.db, PID the program's (%s)",
	    name);
	snprintf(before, sizeof before, "pooldbg: trace written to %s; see: leak %s", name, name);
	ok(strcmp(lastline(), before) == 0, "the last line names it and the next command (%s)",
	    lastline());
	sqlite3_close(db);
	cleantmp();
}

static void
test_basic(void)
{
	char want[PATH_MAX + 64];
	sqlite3 *db;
	long long pid, p, pcs;
	int r;

	r = RUN(NULL, "run", "-o", "t.db", "--flags", "paranoia, noreuse", "--depth", "16", "--",
	    fake, "basic", "3");
	ok(r == 3, "the program's exit code 3 is pooldbg's (%d)", r);
	db = opentrace(tpath("t.db"));
	ok(db != NULL, "trace_open_read accepts the trace");

	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'format'"), "pooldbg-trace") == 0 &&
	    qi(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version'") == TRACE_VERSION,
	    "meta: format and version");
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'complete'"), "yes") == 0, "meta: complete");
	if (snprintf(want, sizeof want, "%s basic 3", fake) >= (int)sizeof want)
		tap_bail("path too long");
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'command'"), want) == 0,
	    "meta: command (%s)", qs(db, "SELECT value FROM meta WHERE key = 'command'"));
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'flags'"), "paranoia, noreuse") == 0 &&
	    strcmp(qs(db, "SELECT value FROM meta WHERE key = 'depth'"), "16") == 0 &&
	    strcmp(qs(db, "SELECT value FROM meta WHERE key = 'follow'"), "yes") == 0,
	    "meta: flags, depth, follow");
	ok(strlen(qs(db, "SELECT value FROM meta WHERE key = 'started'")) >= 19, "meta: started");
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'symbolized'"), "(null)") != 0,
	    "meta: symbolized is there");
	pcs = qi(db, "SELECT count(*) FROM (SELECT DISTINCT process, pc FROM locations)");
	is(qi(db, "PRAGMA user_version"), TRACE_VERSION, "user_version");

	is(qi(db, "SELECT count(*) FROM processes"), 1, "one process");
	pid = qi(db, "SELECT pid FROM processes");
	ok(pid > 0 && qi(db, "SELECT execseq FROM processes") == 0 &&
	    qi(db, "SELECT forked FROM processes") == 0 && qi(db, "SELECT parent FROM processes") == -999,
	    "pid, execseq 0, not forked, no parent");
	ok(strcmp(qs(db, "SELECT exe FROM processes"), "/fake/bin/fakewriter") == 0, "exe");
	ok(strcmp(qs(db, "SELECT cmdline FROM processes"), want) == 0, "cmdline, words joined by spaces");
	ok(strcmp(qs(db, "SELECT end_how FROM processes"), "exit") == 0 &&
	    qi(db, "SELECT end_status FROM processes") == 3, "ended by exit, status 3");
	ok(qi(db, "SELECT start FROM processes") > 0, "start time");

	is(qi(db, "SELECT count(*) FROM threads"), 2, "two threads");
	ok(qi(db, "SELECT last FROM threads WHERE tid = %lld", pid + 1) > 0 &&
	    qi(db, "SELECT last FROM threads WHERE tid = %lld", pid) == -999 &&
	    qi(db, "SELECT first FROM threads WHERE tid = %lld", pid) > 0,
	    "first seen; the second thread's end");

	is(qi(db, "SELECT count(*) FROM modules"), 2, "two modules");
	ok(qi(db, "SELECT length(buildid) FROM modules WHERE path = '/fake/bin/fakewriter'") == 4 &&
	    qi(db, "SELECT buildid IS NULL FROM modules WHERE path = '/fake/lib/libfake.so'") == 1,
	    "build-ids (a blob, or NULL)");
	ok(qi(db, "SELECT base FROM modules WHERE path = '/fake/lib/libfake.so'") == 0x7f0000000000LL &&
	    qi(db, "SELECT lo FROM modules WHERE path = '/fake/lib/libfake.so'") == 0x7f0000001000LL &&
	    qi(db, "SELECT hi FROM modules WHERE path = '/fake/lib/libfake.so'") == 0x7f0000009000LL,
	    "base, lo, hi");
	ok(qi(db, "SELECT unloaded FROM modules WHERE path = '/fake/lib/libfake.so'") > 0 &&
	    qi(db, "SELECT unloaded FROM modules WHERE path = '/fake/bin/fakewriter'") == -999,
	    "an unloaded module has its time; the other none");

	is(qi(db, "SELECT count(*) FROM frames"), 3, "three frames");
	ok(qi(db, "SELECT pc FROM frames WHERE id = 3") == 0x7f0000001234LL &&
	    qi(db, "SELECT parent FROM frames WHERE id = 3") == 1, "a frame's pc and parent");

	is(qi(db, "SELECT count(*) FROM events"), 12, "twelve events");
	is(qi(db, "SELECT count(*) FROM events WHERE type = 'alloc'"), 6, "six allocs");
	is(qi(db, "SELECT count(*) FROM events WHERE type = 'free'"), 2, "two frees");
	is(qi(db, "SELECT count(*) FROM events WHERE type = 'realloc'"), 4, "four reallocs");
	ok(strcmp(qs(db, "SELECT group_concat(call, ',') FROM (SELECT call FROM events ORDER BY seq)"),
	    "malloc,calloc,realloc,realloc,realloc,free,new,delete,malloc,posix_memalign,malloc,realloc")
	    == 0, "the calls, in order (%s)", qs(db, "SELECT group_concat(call, ',') FROM events"));
	ok(qi(db, "SELECT size FROM events WHERE call = 'delete'") == 24 &&
	    qi(db, "SELECT flags FROM events WHERE call = 'delete'") == 4 &&
	    qi(db, "SELECT size FROM events WHERE call = 'free'") == -999,
	    "a sized delete keeps its size; a free has none");
	ok(qi(db, "SELECT align FROM events WHERE call = 'posix_memalign'") == 64 &&
	    qi(db, "SELECT align FROM events WHERE call = 'calloc'") == -999, "align, or NULL");
	ok(qi(db, "SELECT newptr FROM events WHERE type = 'realloc' AND size = 1000") == 0 &&
	    qi(db, "SELECT newptr FROM events WHERE call = 'malloc' LIMIT 1") == -999 &&
	    qi(db, "SELECT newptr FROM events WHERE type = 'realloc' AND ptr = 4096") == 0x3000,
	    "newptr of a failed and a moving realloc");
	ok(qi(db, "SELECT count(*) FROM events WHERE tid = %lld", pid + 1) == 2 &&
	    qi(db, "SELECT stack FROM events WHERE call = 'calloc'") == 3, "tid and stack");
	ok(qi(db, "SELECT count(*) FROM events WHERE time IS NULL OR process <> 1") == 0,
	    "every event has its process and time");

	/* the blocks */
	is(qi(db, "SELECT count(*) FROM blocks"), 7, "seven block lifetimes");
	p = qi(db, "SELECT seq FROM events WHERE type = 'realloc' AND ptr = 4096");
	ok(qi(db, "SELECT free_seq FROM blocks WHERE ptr = 4096") == p &&
	    strcmp(qs(db, "SELECT free_call FROM blocks WHERE ptr = 4096"), "realloc") == 0,
	    "a realloc that moves a block ends its lifetime");
	ok(qi(db, "SELECT alloc_seq FROM blocks WHERE ptr = 12288 AND size = 200") == p &&
	    strcmp(qs(db, "SELECT call FROM blocks WHERE ptr = 12288 AND size = 200"), "realloc") == 0,
	    "... and starts the new block's");
	ok(qi(db, "SELECT count(*) FROM blocks WHERE ptr = 12288") == 2 &&
	    qi(db, "SELECT free_seq FROM blocks WHERE ptr = 12288 AND size = 200") ==
	    qi(db, "SELECT alloc_seq FROM blocks WHERE ptr = 12288 AND size = 150"),
	    "a realloc in place ends one lifetime and starts the next");
	ok(strcmp(qs(db, "SELECT free_call FROM blocks WHERE ptr = 8192"), "free") == 0 &&
	    qi(db, "SELECT size FROM blocks WHERE ptr = 8192") == 80 &&
	    strcmp(qs(db, "SELECT call FROM blocks WHERE ptr = 8192"), "calloc") == 0,
	    "a failed realloc leaves the block to its free");
	ok(strcmp(qs(db, "SELECT free_call FROM blocks WHERE ptr = 16384"), "delete") == 0 &&
	    qi(db, "SELECT free_stack FROM blocks WHERE ptr = 16384") == 3,
	    "new/delete: free_call and free_stack");
	ok(strcmp(qs(db, "SELECT free_call FROM blocks WHERE ptr = 24576"), "realloc") == 0,
	    "realloc(p, 0) ends p");
	ok(qi(db, "SELECT count(*) FROM blocks WHERE ptr = 0") == 0, "a failed malloc makes no block");
	ok(qi(db, "SELECT count(*) FROM blocks WHERE free_seq IS NOT NULL AND"
	    " (free_time IS NULL OR free_seq <= alloc_seq)") == 0, "every end follows its start");

	/* the views */
	ok(qi(db, "SELECT count(*) FROM live_at_exit") == 2 &&
	    qi(db, "SELECT sum(size) FROM live_at_exit") == 214, "live_at_exit: 2 blocks, 214 bytes");
	ok(qi(db, "SELECT pid FROM live_at_exit LIMIT 1") == pid, "live_at_exit gives the pid");
	ok(qi(db, "SELECT allocations FROM allocations_by_stack WHERE stack = 3") == 2 &&
	    qi(db, "SELECT bytes FROM allocations_by_stack WHERE stack = 3") == 80 + 24 &&
	    qi(db, "SELECT live_bytes FROM allocations_by_stack WHERE stack = 2") == 214 &&
	    qi(db, "SELECT live FROM allocations_by_stack WHERE stack = 2") == 2,
	    "allocations_by_stack (%lld, %lld)",
	    qi(db, "SELECT allocations FROM allocations_by_stack WHERE stack = 3"),
	    qi(db, "SELECT bytes FROM allocations_by_stack WHERE stack = 3"));
	ok(qi(db, "SELECT max(in_use) FROM heap_over_time") == 280 &&
	    qi(db, "SELECT in_use FROM heap_over_time ORDER BY seq DESC, delta DESC LIMIT 1") == 214 &&
	    qi(db, "SELECT max(blocks) FROM heap_over_time") == 3,
	    "heap_over_time: the peak and the end (%lld)", qi(db, "SELECT max(in_use) FROM heap_over_time"));
	ok(qi(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name ="
	    " 'scan_blocks_scan'") == 1 && qi(db, "SELECT count(*) FROM sqlite_master WHERE"
	    " name IN ('events', 'blocks') AND sql LIKE 'CREATE VIRTUAL TABLE%%'") == 2,
	    "the index is built; events and blocks are virtual tables, with none");
	sqlite3_close(db);

	/* the summary */
	ok(hasline("pooldbg: 1 process, 6 allocations, 2 frees, 4 reallocations"),
	    "summary: processes, allocations, frees (%s)", flat());
	ok(hasline("pooldbg: peak heap in use: 280 bytes"), "summary: peak heap in use");
	ok(hasline("pooldbg: live at exit: 2 blocks, 214 bytes"), "summary: live at exit");
	ok(hasline("pooldbg: heap errors: 0"), "summary: errors");
	ok(strcmp(lastline(), "pooldbg: trace written to t.db; see: leak t.db") == 0,
	    "summary: the last line names the next command (%s)", lastline());
	ok(!hasline("pooldbg: leak classes at exit:") && !hasline("pooldbg: 0 marks"),
	    "summary: no scan line and no marks line without scans or marks");
	{
		const char *a = strstr(errtext, "\npooldbg: after exit: ");
		double all, sy, ta;
		unsigned long npc, nah;

		ok(a != NULL && sscanf(a + 1, "pooldbg: after exit: %lf s (symbols %lf s, %lu pcs,"
		    " %lu %*s looked up during the run; tables %lf s)", &all, &sy, &npc, &nah,
		    &ta) == 5 && all >= ta && sy >= 0 && (long long)npc == pcs &&
		    (long long)nah <= pcs,
		    "summary: the time after exit, with the %lld pcs symbolized (%s)", pcs, flat());
	}
	cleantmp();
}

static void
test_processes(void)
{
	sqlite3 *db;
	int r;

	/* fork: a child with its own ring */
	r = RUN(NULL, "run", "-o", "t.db", fake, "fork");
	ok(r == 0, "fork: exit 0 (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM processes"), 2, "fork: two processes");
	ok(qi(db, "SELECT count(*) FROM processes WHERE forked = 1") == 1 &&
	    qi(db, "SELECT count(*) FROM processes WHERE forked = 0") == 1, "fork: the child is marked forked");
	ok(qi(db, "SELECT c.parent = p.id AND c.ppid = p.pid FROM processes c, processes p"
	    " WHERE c.forked = 1 AND p.forked = 0") == 1, "fork: the child's parent is the parent's image");
	ok(qi(db, "SELECT count(*) FROM events e JOIN processes p ON p.id = e.process"
	    " WHERE p.forked = 1") == 2, "fork: the child's events are its own");
	ok(qi(db, "SELECT count(*) FROM blocks b JOIN processes p ON p.id = b.process"
	    " WHERE p.forked = 1") == 1, "fork: a child's free of an inherited block ends none of its own");
	ok(qi(db, "SELECT count(*) FROM processes WHERE end_how = 'exit'") == 2, "fork: both exited");
	ok(hasline("pooldbg: 2 processes, "), "fork: the summary counts both");
	sqlite3_close(db);
	cleantmp();

	/* the parent exits first; pooldbg reaps the orphan and waits for it */
	r = RUN(NULL, "run", "-o", "t.db", fake, "orphan");
	ok(r == 0, "orphan: the program's status, not the orphan's (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM processes"), 2, "orphan: recorded too");
	ok(qi(db, "SELECT end_status FROM processes WHERE forked = 1") == 5 &&
	    qi(db, "SELECT count(*) FROM events e JOIN processes p ON p.id = e.process"
	    " WHERE p.forked = 1") == 2, "orphan: all it wrote after its parent ended");
	sqlite3_close(db);
	cleantmp();

	/* exec: the same pid, a new image */
	r = RUN(NULL, "run", "-o", "t.db", fake, "exec");
	ok(r == 4, "exec: the status of the exec'd image (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM processes"), 2, "exec: two images");
	ok(qi(db, "SELECT count(DISTINCT pid) FROM processes") == 1 &&
	    strcmp(qs(db, "SELECT group_concat(execseq) FROM (SELECT execseq FROM processes ORDER BY 1)"),
	    "0,1") == 0, "exec: one pid, execseq 0 and 1");
	ok(strcmp(qs(db, "SELECT end_how FROM processes WHERE execseq = 0"), "exec") == 0 &&
	    strcmp(qs(db, "SELECT end_how FROM processes WHERE execseq = 1"), "exit") == 0,
	    "exec: the first image ended by exec, the second by exit");
	ok(qi(db, "SELECT parent FROM processes WHERE execseq = 1") ==
	    qi(db, "SELECT id FROM processes WHERE execseq = 0"), "exec: the new image's parent is the old");
	ok(qi(db, "SELECT count(*) FROM live_at_exit WHERE ptr = 36864") == 0 &&
	    qi(db, "SELECT count(*) FROM blocks WHERE ptr = 36864 AND free_seq IS NULL") == 1,
	    "exec: a block the exec dropped is not live at exit");
	sqlite3_close(db);
	cleantmp();
}

static void
test_endings(void)
{
	sqlite3 *db;
	int r;

	r = RUN(NULL, "run", "-o", "t.db", fake, "kill", "1000");
	ok(r == 137, "SIGKILL: 128+9 (%d)", r);
	db = opentrace(tpath("t.db"));
	ok(strcmp(qs(db, "SELECT end_how FROM processes"), "killed") == 0 &&
	    qi(db, "SELECT end_status FROM processes") == 9, "SIGKILL: end_how 'killed', status 9");
	is(qi(db, "SELECT count(*) FROM events"), 1000, "SIGKILL: every record written before is stored");
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'complete'"), "yes") == 0,
	    "SIGKILL: the trace is complete all the same");
	sqlite3_close(db);
	cleantmp();

	r = RUN(NULL, "run", "-o", "t.db", fake, "segv");
	ok(r == 139, "SIGSEGV: 128+11 (%d)", r);
	db = opentrace(tpath("t.db"));
	ok(strcmp(qs(db, "SELECT end_how FROM processes"), "signal") == 0 &&
	    qi(db, "SELECT end_status FROM processes") == 11, "SIGSEGV: end_how 'signal', status 11");
	sqlite3_close(db);
	cleantmp();

	r = RUN(NULL, "run", "-o", "t.db", fake, "noring", "3");
	ok(r == 3, "no ring: exit 3 is 3 (%d)", r);
	ok(hasline("pooldbg: 0 processes, "), "no ring: nothing recorded, and said");
	cleantmp();
	r = RUN(NULL, "run", "-o", "t.db", fake, "selfkill");
	ok(r == 137, "no ring, SIGKILL: 137 (%d)", r);
	cleantmp();

	r = RUN(NULL, "run", "-o", "t.db", fake, "error");
	ok(r == 0, "a heap error (%d)", r);
	db = opentrace(tpath("t.db"));
	ok(qi(db, "SELECT count(*) FROM errors") == 1 && qi(db, "SELECT ptr FROM errors") == 4096 &&
	    qi(db, "SELECT stack FROM errors") == 2 && qi(db, "SELECT tid FROM errors") > 0 &&
	    strcmp(qs(db, "SELECT message FROM errors"),
	    "block 0x1000: tail magic0 corrupt\npanic: corrupt tail magic0") == 0,
	    "errors: ptr, stack, tid and the message");
	ok(hasline("pooldbg: heap errors: 1"), "summary: one heap error");
	sqlite3_close(db);
	cleantmp();
}

/* Every timeline_live row against blocks: its ids ascending, as many as said, the right ones. */
static void
checkpoints(sqlite3 *db)
{
	sqlite3_stmt *st, *q;
	const unsigned char *p;
	int64_t seq, id, want, sum;
	int n, i, len, good, rows;
	uint64_t d;
	int shift;

	good = 1;
	rows = 0;
	if (sqlite3_prepare_v2(db, "SELECT seq, blocks, data FROM timeline_live", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db, "SELECT count(*), sum(alloc_seq) FROM blocks"
	    " WHERE alloc_seq <= ?1 AND coalesce(free_seq, ?1 + 1) > ?1", -1, &q, NULL) != SQLITE_OK) {
		ok(0, "timeline_live: %s", sqlite3_errmsg(db));
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		seq = sqlite3_column_int64(st, 0);
		n = sqlite3_column_int(st, 1);
		p = sqlite3_column_blob(st, 2);
		len = sqlite3_column_bytes(st, 2);
		id = 0;
		sum = 0;
		for (i = 0; i < n && len > 0; i++) {
			d = 0;
			shift = 0;
			do {
				d |= (uint64_t)(*p & 0x7f) << shift;
				shift += 7;
				len--;
			} while (*p++ & 0x80 && len > 0);
			if (i > 0 && d == 0)
				good = 0;	/* not strictly ascending */
			id += (int64_t)d;
			sum += id;
		}
		sqlite3_bind_int64(q, 1, seq);
		want = -1;
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) == n && len == 0 &&
		    i == n)
			want = sqlite3_column_int64(q, 1);
		if (want != sum)
			good = 0;
		sqlite3_reset(q);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(q);
	ok(good && rows >= 4, "time index: %d checkpoints, each the blocks alive after it, ascending",
	    rows);
}

static void
test_volume(void)
{
	char ranged[256];
	sqlite3 *db;
	int r;

	r = RUN(NULL, "run", "-o", "t.db", fake, "many", "100000", "0");
	ok(r == 0, "200000 records through a 64 KiB ring (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM events"), 200000, "every one of them stored");
	is(qi(db, "SELECT count(*) FROM blocks"), 100000, "and 100000 lifetimes");
	ok(qi(db, "SELECT count(*) FROM live_at_exit") == 0, "none live at exit");
	sqlite3_close(db);
	cleantmp();

	/*
	 * 700000 freed addresses: past 2^19 the recorder forgets the older
	 * half of the ended lifetimes it keeps for error reports, but never the
	 * last 2^18, so a write after free of the block freed 200000 frees ago
	 * still names the stacks that made and freed it
	 */
	r = RUN(NULL, "run", "-o", "t.db", fake, "forget", "700000", "200000");
	ok(r == 0, "700000 lifetimes at 700000 addresses (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM blocks WHERE free_seq IS NOT NULL"), 700000,
	    "every lifetime ended");
	ok(qi(db, "SELECT block FROM errors") == 0x100000 + 32 * 499999 &&
	    qi(db, "SELECT alloc_stack FROM errors") == 2 && qi(db, "SELECT free_stack FROM errors") == 3,
	    "a block freed 200000 frees earlier: its alloc and free stacks (%lld, %lld)",
	    (long long)qi(db, "SELECT alloc_stack FROM errors"),
	    (long long)qi(db, "SELECT free_stack FROM errors"));
	sqlite3_close(db);
	cleantmp();

	/*
	 * 1200000 blocks, a thousand alive at a time: the recorder forgets
	 * ended lifetimes in place while blocks are open, and every free
	 * still finds the lifetime it ends
	 */
	r = RUN(NULL, "run", "-o", "t.db", fake, "mixed", "1200000");
	ok(r == 0, "1200000 blocks freed out of order (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	is(qi(db, "SELECT count(*) FROM blocks WHERE free_seq IS NOT NULL"), 1199000,
	    "every free ended its block's lifetime");
	is(qi(db, "SELECT count(*) FROM live_at_exit"), 1000, "the last thousand live at exit");
	sqlite3_close(db);
	cleantmp();

	/*
	 * 300000 blocks with a thousand alive at a time, freed out of order:
	 * each checkpoint of the time index holds, ascending and delta-coded,
	 * exactly the alloc_seqs that blocks says are alive after it
	 */
	r = RUN(NULL, "run", "-o", "t.db", fake, "mixed", "300000");
	ok(r == 0, "300000 blocks freed out of order (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	checkpoints(db);
	/* blocks ended in a range that starts pages in: as a whole scan, filtered, finds them */
	snprintf(ranged, sizeof ranged, "%s", qs(db, "SELECT count(*) || ':' || sum(alloc_seq) ||"
	    " ':' || sum(ptr %% 1000003) || ':' || sum(stack) FROM blocks"
	    " WHERE free_seq > 300000 AND free_seq <= 500000"));
	ok(strcmp(ranged, qs(db, "WITH w AS MATERIALIZED (SELECT alloc_seq, free_seq, ptr, stack"
	    " FROM blocks) SELECT count(*) || ':' || sum(alloc_seq) || ':' || sum(ptr %% 1000003) ||"
	    " ':' || sum(stack) FROM w WHERE free_seq > 300000 AND free_seq <= 500000")) == 0 &&
	    strtol(ranged, NULL, 10) > 50000,
	    "blocks by a free_seq range mid-trace: the lifetimes a whole scan finds there (%s)", ranged);
	sqlite3_close(db);
	cleantmp();

	/*
	 * a full disk: the trace cannot grow past 60 pages (960 KiB; it
	 * needs ~120).  The recorder commits every 200000 records at the
	 * latest (~40 pages), sooner when a batch gets old: whatever the
	 * timing, its first commit fits and a later one does not.
	 */
	setenv("POOLDBG_TEST_MAX_PAGES", "60", 1);
	r = RUN(NULL, "run", "-o", "t.db", fake, "many", "300000", "3");
	unsetenv("POOLDBG_TEST_MAX_PAGES");
	ok(r == 3, "disk full: the program ran to its end and its status is passed (%d)", r);
	ok(hasline("pooldbg: t.db: disk full; trace incomplete"), "disk full: said (%s)", flat());
	ok(strcmp(lastline(), "pooldbg: what was recorded is in t.db; see: leak t.db") == 0,
	    "disk full: the last line calls the trace what was recorded (%s)", lastline());
	db = opentrace(tpath("t.db"));
	ok(db != NULL, "disk full: the trace still opens");
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'complete'"), "no") == 0,
	    "disk full: meta complete is 'no'");
	ok(qi(db, "SELECT count(*) FROM processes") == 1 && qi(db, "SELECT count(*) FROM events") > 0 &&
	    qi(db, "SELECT count(*) FROM events") < 600000,
	    "disk full: what was committed is kept (%lld events)", qi(db, "SELECT count(*) FROM events"));
	sqlite3_close(db);
	cleantmp();
}

static void
test_environment(void)
{
	char want[PATH_MAX * 2], session[PATH_MAX];
	const char *msg, *s, *e;
	sqlite3 *db;
	int r;

	setenv("LD_PRELOAD", noop, 1);
	r = RUN(NULL, "run", "-o", "t.db", "--no-follow", "--depth", "7", "--flags", "antagonism",
	    fake, "env");
	unsetenv("LD_PRELOAD");
	ok(r == 0, "env (%d: %s)", r, flat());
	db = opentrace(tpath("t.db"));
	msg = qs(db, "SELECT message FROM errors");
	if (snprintf(want, sizeof want, "LD_PRELOAD=%s:%s\n", noop, noop) >= (int)sizeof want)
		tap_bail("path too long");
	ok(strstr(msg, want) != NULL, "LD_PRELOAD: the runtime first, then what was there");
	ok(strstr(msg, "POOLDBG_FLAGS=antagonism\n") != NULL, "POOLDBG_FLAGS");
	ok(strstr(msg, "POOLDBG_DEPTH=7\n") != NULL, "POOLDBG_DEPTH");
	ok(strstr(msg, "POOLDBG_FOLLOW=0\n") != NULL, "POOLDBG_FOLLOW=0 with --no-follow");
	session[0] = '\0';
	if ((s = strstr(msg, "POOLDBG_SESSION=")) != NULL && (e = strchr(s, '\n')) != NULL)
		snprintf(session, sizeof session, "%.*s", (int)(e - s - 16), s + 16);
	ok(strstr(session, "/pooldbg-") != NULL && !exists(session),
	    "POOLDBG_SESSION, removed after the run (%s)", session);
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'follow'"), "no") == 0, "meta follow no");
	sqlite3_close(db);
	cleantmp();

	/* without POOLDBG_PRELOAD: the runtime of the build tree */
	unsetenv("POOLDBG_PRELOAD");
	r = RUN(NULL, "run", "-o", "t.db", fake, "env");
	setenv("POOLDBG_PRELOAD", noop, 1);
	db = opentrace(tpath("t.db"));
	msg = qs(db, "SELECT message FROM errors WHERE message LIKE 'LD_PRELOAD=%%'");
	snprintf(want, sizeof want, "LD_PRELOAD=%s/libpooldbg/.libs/libpooldbg-malloc.so\n", top);
	ok(r == 0 && strstr(msg, want) != NULL, "the build tree's runtime is found");
	ok(strstr(msg, "POOLDBG_FOLLOW=1\n") != NULL && strstr(msg, "POOLDBG_DEPTH=64\n") != NULL,
	    "defaults: follow, depth 64");
	sqlite3_close(db);
	cleantmp();
}

static void
test_signals(void)
{
	char marker[PATH_MAX];
	sqlite3 *db;
	pid_t pid;
	int st, i;

	snprintf(marker, sizeof marker, "%s/ready", tmp);
	if ((pid = fork()) == 0) {
		if (chdir(tmp) < 0 || freopen("/dev/null", "w", stderr) == NULL)
			_exit(98);
		execl(pooldbg, pooldbg, "run", "-o", "t.db", fake, "wait", marker, (char *)NULL);
		_exit(97);
	}
	/* wait for the program to be ready, however long that takes */
	for (i = 0; !exists(marker) && i < 600000; i++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	ok(exists(marker), "the program is running");
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM,
	    "SIGTERM to pooldbg reaches the program; pooldbg exits 143 (%#x)", st);
	db = opentrace(tpath("t.db"));
	ok(strcmp(qs(db, "SELECT end_how FROM processes"), "killed") == 0 &&
	    qi(db, "SELECT end_status FROM processes") == SIGTERM && qi(db, "SELECT count(*) FROM events") == 1,
	    "its trace is finished: killed by 15, its event kept");
	ok(strcmp(qs(db, "SELECT value FROM meta WHERE key = 'complete'"), "yes") == 0, "and complete");
	sqlite3_close(db);
	cleantmp();
}

static void
test_reader(void)
{
	char err[512];
	sqlite3 *db;
	int fd;

	fd = open(tpath("junk.db"), O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, "this is not SQLite, not at all, not even close.\n", 48) != 48)
		tap_bail("write");
	close(fd);
	ok(trace_open_read(tpath("junk.db"), &db, err, sizeof err) < 0 && db == NULL &&
	    strstr(err, "junk.db: not a pooldbg trace") != NULL,
	    "a file that is not SQLite: not a pooldbg trace (%s)", err);
	sqlite3_open(tpath("other.db"), &db);
	sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", NULL, NULL, NULL);
	sqlite3_close(db);
	ok(trace_open_read(tpath("other.db"), &db, err, sizeof err) < 0 &&
	    strstr(err, "other.db: not a pooldbg trace") != NULL, "another SQLite database: refused (%s)", err);
	ok(trace_open_read(tpath("none.db"), &db, err, sizeof err) < 0 &&
	    strstr(err, "none.db: cannot open: No such file or directory") != NULL, "a missing file (%s)", err);
	ok(!exists(tpath("none.db")), "which is not created");

	if (RUN(NULL, "run", "-o", "t.db", fake, "noring") != 0)
		tap_bail("run: %s", errtext);
	sqlite3_open(tpath("t.db"), &db);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	ok(trace_open_read(tpath("t.db"), &db, err, sizeof err) < 0 &&
	    strstr(err, "t.db: trace version 99; this pooldbg reads versions 4 to 5") != NULL,
	    "another version: refused with one line (%s)", err);
	sqlite3_open(tpath("t.db"), &db);
	sqlite3_exec(db, "PRAGMA user_version = 4", NULL, NULL, NULL);
	sqlite3_close(db);
	err[0] = '\0';
	ok(trace_open_read(tpath("t.db"), &db, err, sizeof err) == 0,
	    "version 4 (times to the nanosecond) still opens (%s)", err);
	sqlite3_close(db);
	ok(trace_probe(tpath("t.db")) == 1 && trace_probe(tpath("other.db")) == 0 &&
	    trace_probe(tpath("none.db")) == -1, "trace_probe");
	cleantmp();
}

int
main(void)
{
	rp_setup();

	test_cli();
	test_badprogram();
	test_output();
	test_basic();
	test_processes();
	test_endings();
	test_volume();
	test_environment();
	test_signals();
	test_reader();

	rp_teardown();
	return tap_done();
}
