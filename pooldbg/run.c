/*
 * pooldbg/run.c -- `pooldbg run`: one recording from start to end.  Owns
 * the order of things (refuse what cannot work before anything exists;
 * the trace exists before the program starts; the program is never held
 * up by the recorder), the session directory, the program's environment,
 * the recorder's signals, reaping (pooldbg is the subreaper of everything
 * the program leaves behind), the end of the run, the summary and the
 * exit status.
 *
 * Must never: leave a trace behind when the program could not be started,
 * overwrite a file that is not a pooldbg trace, or change the program's
 * exit status (it is passed through, 128+N for signal N) unless
 * --error-exitcode asked to, and then only after the trace is finished.
 */
#include "pooldbg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sym.h"

extern char **environ;

static volatile sig_atomic_t mainpid;	/* the program, while it runs; 0 after */
static double endedat;			/* when the program ended (seconds()), 0 before */
static volatile sig_atomic_t nsignals;	/* INT/TERM/HUP/QUIT received */

/*
 * Forward a signal someone sent pooldbg to the program.  One the terminal
 * generated (SI_KERNEL) reached the program's process group already.
 */
static void
onsignal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	nsignals++;
	if (mainpid > 0 && (si == NULL || si->si_code != SI_KERNEL))
		kill((pid_t)mainpid, sig);
}

/* A child ended: nothing to do but cut the recorder's idle wait short. */
static void
onchild(int sig)
{
	(void)sig;
}

static void
catchsignals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onsignal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nelem(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/*
	 * Ignored, SIGCHLD would let the wait between two looks at the
	 * rings (up to 16 ms in leaks mode) run to its end after the
	 * program ended; handled, it ends the wait (nanosleep is not
	 * restarted after a handler).
	 */
	sa.sa_handler = onchild;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

/* CLOCK_MONOTONIC in seconds: for the time spent after the program ended. */
static double
seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
sleepms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Make the session directory into dir: under /dev/shm if it can be, else $TMPDIR or /tmp. */
static int
mksession(char *dir, size_t len)
{
	const char *tmp;

	if (access("/dev/shm", W_OK | X_OK) == 0) {
		snprintf(dir, len, "/dev/shm/pooldbg-XXXXXX");
		if (mkdtemp(dir) != NULL)
			return 0;
	}
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (snprintf(dir, len, "%s/pooldbg-XXXXXX", tmp) < (int)len && mkdtemp(dir) != NULL)
		return 0;
	say("cannot make a session directory in %s: %s", tmp, strerror(errno));
	return -1;
}

/* Remove the session directory and whatever is left in it. */
static void
rmsession(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dp;

	if ((dp = opendir(dir)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(dp);
	}
	rmdir(dir);
}

/* Remove a trace and its SQLite companions. */
static void
rmtrace(const char *path)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < nelem(ext); i++)
		if (snprintf(p, sizeof p, "%s%s", path, ext[i]) < (int)sizeof p)
			unlink(p);
}

/*
 * May a trace be written at path?  Said before the program starts: the
 * directory must be writable, and an existing file is replaced only with
 * --force and only if it is a pooldbg trace (or empty).  0 or exit status 2.
 */
static int
checkoutput(const char *path, int force)
{
	char dir[PATH_MAX], *slash;
	struct stat sb;

	if (lstat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			say("%s: is a directory", path);
			return 2;
		}
		if (!force) {
			say("%s: exists; use --force to overwrite it", path);
			return 2;
		}
		if (!S_ISREG(sb.st_mode) || (sb.st_size > 0 && trace_probe(path) != 1)) {
			say("%s: exists and is not a pooldbg trace; not overwritten", path);
			return 2;
		}
	}
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
		say("%s: %s", path, strerror(ENAMETOOLONG));
		return 2;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) < 0) {
		say("%s: cannot write a trace in %s: %s", path, dir, strerror(errno));
		return 2;
	}
	return 0;
}

/* Set name=value in the environment list env (of *n entries, room for more). */
static int
setenvlist(char **env, size_t *n, const char *name, const char *value)
{
	size_t i, len;
	char *s;

	len = strlen(name);
	if ((s = malloc(len + strlen(value) + 2)) == NULL)
		return -1;
	sprintf(s, "%s=%s", name, value);
	for (i = 0; i < *n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') {
			env[i] = s;
			return 0;
		}
	env[(*n)++] = s;
	env[*n] = NULL;
	return 0;
}

/*
 * In the program's child process before exec: POOLDBG_HEAPFILE_PID is
 * its pid, so that the heap file is this process's alone (its own
 * children, forked or executed, keep their heaps in memory).  Writes into
 * the padding mkenv left; never allocates.
 */
static void
heapfilepid(char **env)
{
	static const char name[] = "POOLDBG_HEAPFILE_PID=";
	char digits[16];
	size_t i;
	int n;

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], name, sizeof name - 1) == 0) {
			n = snprintf(digits, sizeof digits, "%d", (int)getpid());
			if (n > 0 && n <= 11)
				memcpy(env[i] + sizeof name - 1, digits, (size_t)n + 1);
		}
}

/* The program's environment: ours plus the runtime's variables (pooldbg(1), ENVIRONMENT). */
static char **
mkenv(const Opts *o, const char *preload, const char *session, const char *flags)
{
	char **env, depth[16], sample[32], *pre;
	const char *old;
	size_t n, i;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 14, sizeof *env)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		env[i] = environ[i];
	if ((old = getenv("LD_PRELOAD")) != NULL && *old != '\0') {
		if ((pre = malloc(strlen(preload) + strlen(old) + 2)) == NULL)
			return NULL;
		sprintf(pre, "%s:%s", preload, old);
	} else if ((pre = strdup(preload)) == NULL)
		return NULL;
	snprintf(depth, sizeof depth, "%d", o->depth);
	snprintf(sample, sizeof sample, "%.0f", o->sample);
	if (setenvlist(env, &n, "LD_PRELOAD", pre) < 0 ||
	    setenvlist(env, &n, "POOLDBG_MODE", o->leaks ? "leaks" : "trace") < 0 ||
	    setenvlist(env, &n, "POOLDBG_SAMPLE", sample) < 0 ||
	    setenvlist(env, &n, "POOLDBG_SESSION", session) < 0 ||
	    setenvlist(env, &n, "POOLDBG_FLAGS", flags) < 0 ||
	    setenvlist(env, &n, "POOLDBG_DEPTH", depth) < 0 ||
	    setenvlist(env, &n, "POOLDBG_FOLLOW", o->follow ? "1" : "0") < 0 ||
	    (o->abortonerror && setenvlist(env, &n, "POOLDBG_ABORT_ON_ERROR", "1") < 0) ||
	    (o->quarantine != NULL && setenvlist(env, &n, "POOLDBG_QUARANTINE", o->quarantine) < 0) ||
	    /* leaks mode costs what a leak checker costs: no quarantine unless asked for */
	    (o->quarantine == NULL && o->leaks && setenvlist(env, &n, "POOLDBG_QUARANTINE", "0") < 0) ||
	    (o->guard != NULL && setenvlist(env, &n, "POOLDBG_GUARD", o->guard) < 0) ||
	    (o->guardsample != NULL &&
	    setenvlist(env, &n, "POOLDBG_GUARD_SAMPLE", o->guardsample) < 0))
		return NULL;
	/* --heap-file: the program's pid is written into the padding after the fork */
	if (o->heapfile != NULL && (setenvlist(env, &n, "POOLDBG_HEAPFILE", o->heapfile) < 0 ||
	    setenvlist(env, &n, "POOLDBG_HEAPFILE_PID", "           ") < 0))
		return NULL;
	free(pre);
	return env;
}

/* The words of argv joined by spaces (malloc'd). */
static char *
joinargs(char **argv)
{
	size_t len, i;
	char *s;

	for (len = 1, i = 0; argv[i] != NULL; i++)
		len += strlen(argv[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* The meta rows the recorder owns, written before the program starts. */
static int
putmeta(TraceWriter *w, const Opts *o, const char *flags)
{
	char started[64], depth[16], sample[32], *cmd;
	struct tm tm;
	time_t t;
	int r;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%S%z", &tm);
	snprintf(depth, sizeof depth, "%d", o->depth);
	snprintf(sample, sizeof sample, "%.0f", o->sample);
	if ((cmd = joinargs(o->argv)) == NULL)
		return -1;
	r = trace_begin(w) < 0 ||
	    trace_set_meta(w, "command", cmd) < 0 ||
	    trace_set_meta(w, "started", started) < 0 ||
	    trace_set_meta(w, "flags", flags) < 0 ||
	    trace_set_meta(w, "depth", depth) < 0 ||
	    trace_set_meta(w, "follow", o->follow ? "yes" : "no") < 0 ||
	    trace_set_meta(w, "recorder", "pooldbg " PACKAGE_VERSION) < 0 ||
	    trace_set_meta(w, "mode", o->leaks ? "leaks" : "trace") < 0 ||
	    trace_set_meta(w, "events", o->leaks ? "no" : o->sample > 0 ? "sampled" : "yes") < 0 ||
	    trace_set_meta(w, "sample", sample) < 0 ||
	    trace_commit(w) < 0 ? -1 : 0;
	free(cmd);
	return r;
}

/* The fault injection of the test suite: a trace that cannot grow past n pages. */
static void
testlimits(sqlite3 *db)
{
	char sql[64];
	const char *s;

	if ((s = getenv("POOLDBG_TEST_MAX_PAGES")) != NULL && *s != '\0') {
		snprintf(sql, sizeof sql, "PRAGMA max_page_count = %ld", strtol(s, NULL, 10));
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
}

/* "1 process" / "2 processes". */
static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "definite 150 bytes in 2 blocks": what the scans at exit found of one class. */
static const char *
classtotal(char *buf, size_t len, const ScanStats *s, int cls, int sampled)
{
	uint64_t bytes, blocks;

	bytes = sampled ? (uint64_t)llround(s->wbytes[cls]) : s->bytes[cls];
	blocks = sampled ? (uint64_t)llround(s->wblocks[cls]) : s->blocks[cls];
	snprintf(buf, len, "%s %llu %s in %llu %s", scan_classname(cls),
	    (unsigned long long)bytes, plural(bytes, "byte", "bytes"),
	    (unsigned long long)blocks, plural(blocks, "block", "blocks"));
	return buf;
}

static void
summary(const Opts *o, const DrainStats *s, const DeriveStats *ds)
{
	char def[96], ind[96], pos[96], rea[96], cut[64];
	const ScanStats *sc;
	uint64_t unended;

	if (o->leaks)
		say("mode: leaks (no events recorded: the scans' blocks and their stacks)%s",
		    o->sample > 0 ? "; sampled" : "");
	else
		say("mode: trace%s", o->sample > 0 ? " (sampled: only the sampled blocks' events)" : "");
	if (o->sample > 0)
		say("sampling: one block per %.0f bytes on average; leak reports estimates", o->sample);
	if (o->leaks)
		say("%llu %s", (unsigned long long)s->processes,
		    plural(s->processes, "process", "processes"));
	else
		say("%llu %s, %llu %s, %llu %s, %llu %s%s",
		    (unsigned long long)s->processes, plural(s->processes, "process", "processes"),
		    (unsigned long long)s->allocs, plural(s->allocs, "allocation", "allocations"),
		    (unsigned long long)s->frees, plural(s->frees, "free", "frees"),
	    (unsigned long long)s->reallocs, plural(s->reallocs, "reallocation", "reallocations"),
		    o->sample > 0 ? " (sampled)" : "");
	if (ds != NULL && !o->leaks) {
		say("peak heap in use: %llu bytes", (unsigned long long)ds->peak);
		say("live at exit: %llu %s, %llu bytes", (unsigned long long)ds->live,
		    plural(ds->live, "block", "blocks"), (unsigned long long)ds->livebytes);
	}
	sc = &s->scan;
	if (sc->exits > 0)
		say("%sleak classes at exit: %s, %s, %s, %s", o->sample > 0 ? "estimated " : "",
		    classtotal(def, sizeof def, sc, CLASS_DEFINITE, o->sample > 0),
		    classtotal(ind, sizeof ind, sc, CLASS_INDIRECT, o->sample > 0),
		    classtotal(pos, sizeof pos, sc, CLASS_POSSIBLE, o->sample > 0),
		    classtotal(rea, sizeof rea, sc, CLASS_REACHABLE, o->sample > 0));
	unended = sc->exits + sc->snapshots - sc->ended;
	cut[0] = '\0';
	if (unended > 0)
		snprintf(cut, sizeof cut, ", %llu %s cut short", (unsigned long long)unended,
		    plural(unended, "scan", "scans"));
	if (sc->marks > 0 || sc->snapshots > 0 || unended > 0)
		say("%llu %s, %llu %s%s", (unsigned long long)sc->marks, plural(sc->marks, "mark", "marks"),
		    (unsigned long long)sc->snapshots, plural(sc->snapshots, "snapshot", "snapshots"), cut);
	if (s->notices > 0)
		say("heap errors: %llu, and %llu %s", (unsigned long long)s->errors,
		    (unsigned long long)s->notices, plural(s->notices, "notice", "notices"));
	else
		say("heap errors: %llu", (unsigned long long)s->errors);
}

/*
 * Whether the run found what --error-exitcode asks about: a heap error
 * (notices aside), or a block a recorded call made that a scan at exit
 * found definitely or possibly lost.  The rule of leak(1)'s status 1.
 */
static int
foundtrouble(const DrainStats *s)
{
	return s->errors > 0 || s->scan.blocks[CLASS_DEFINITE] > 0 ||
	    s->scan.blocks[CLASS_POSSIBLE] > 0;
}

/*
 * Drain the rings until the program ended, every process it left behind
 * ended (pooldbg is their reaper), and every ring is finished.  A signal
 * after the program ended stops the waiting: the rings still open are
 * emptied and closed, and their processes go on untraced.  The program's
 * wait status goes into *mainst.
 */
static void
record(pid_t child, Drain *d, int *mainst, int leaks)
{
	int st, ended, forced, children, idle;
	pid_t p;
	size_t n;

	ended = forced = idle = 0;
	for (;;) {
		n = drain_round(d);
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p == child) {
				mainpid = 0;
				endedat = seconds();
				*mainst = st;
				ended = 1;
				nsignals = 0;	/* from now on a signal means: stop waiting */
			}
			drain_reaped(d, p, st);
		}
		children = !(p < 0 && errno == ECHILD);
		if (ended && nsignals > 0 && !forced) {
			forced = 1;
			say("interrupted: not waiting for the program's remaining processes");
		}
		if (ended && (!children || forced) && drain_idle(d, forced)) {
			/* a ring made just before its writer ended may be new to us */
			drain_scan(d);
			if (drain_idle(d, forced))
				break;
			continue;
		}
		/*
		 * Idle: wait a millisecond.  In leaks mode the rings are idle
		 * but for frames, threads and scans, so the wait grows to 16 ms
		 * while nothing comes (a full ring then waits that long at most).
		 */
		if (n > 0)
			idle = 0;
		else {
			sleepms(leaks ? 1L << (idle < 4 ? idle : 4) : 1);
			idle++;
		}
	}
}

int
run(const Opts *o)
{
	char prog[PATH_MAX], preload[PATH_MAX], session[PATH_MAX], out[PATH_MAX], err[512];
	char symerr[512];
	double tables;
	SymStats ss;
	SymJob *job, *ahead;
	const char *flags, *base;
	char **env, c;
	int gop[2], errp[2], r, st, e, status, complete, derived;
	TraceWriter w;
	DeriveStats ds;
	Drain *d = NULL;
	sqlite3 *db = NULL;
	pid_t child;
	ssize_t got;

	/* 1. everything that can be refused is refused before anything exists */
	if ((r = prog_find(o->argv[0], prog, sizeof prog)) != 0)
		return r;
	scan_setmode(o->leaks, o->sample);
	if ((r = prog_preload(preload, sizeof preload)) != 0)
		return r;
	if (o->output != NULL && (r = checkoutput(o->output, o->force)) != 0)
		return r;
	if (o->output == NULL && access(".", W_OK | X_OK) < 0) {
		say("cannot write a trace in the current directory: %s", strerror(errno));
		return 2;
	}
	flags = o->flags != NULL ? o->flags :
	    getenv("POOLDBG_FLAGS") != NULL ? getenv("POOLDBG_FLAGS") : "";
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		say("cannot become the reaper of the program's processes: %s", strerror(errno));
		return 2;
	}
	if (mksession(session, sizeof session) < 0)
		return 2;
	if ((env = mkenv(o, preload, session, flags)) == NULL) {
		say("out of memory");
		rmsession(session);
		return 2;
	}

	/* 2. the program waits, unstarted, until its trace exists */
	if (pipe2(gop, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		say("pipe: %s", strerror(errno));
		rmsession(session);
		return 2;
	}
	fflush(NULL);
	if ((child = fork()) < 0) {
		say("fork: %s", strerror(errno));
		rmsession(session);
		return 2;
	}
	if (child == 0) {
		close(gop[1]);
		close(errp[0]);
		if (read(gop[0], &c, 1) != 1)
			_exit(127);
		if (o->heapfile != NULL)
			heapfilepid(env);
		execve(prog, o->argv, env);
		e = errno;
		if (write(errp[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(gop[0]);
	close(errp[1]);

	if (o->output != NULL)
		snprintf(out, sizeof out, "%s", o->output);
	else {
		base = strrchr(o->argv[0], '/') != NULL ? strrchr(o->argv[0], '/') + 1 : o->argv[0];
		snprintf(out, sizeof out, "pooldbg.%s.%d.db", base, (int)child);
		r = checkoutput(out, o->force);
	}
	if (r == 0 && o->force)
		rmtrace(out);
	if (r == 0 && trace_create(out, &db, err, sizeof err) < 0) {
		say("%s", err);
		r = 2;
	}
	if (r == 0) {
		testlimits(db);
		if (trace_writer_open(&w, db) < 0 || putmeta(&w, o, flags) < 0) {
			say("%s: cannot write: %s", out, w.msg);
			trace_writer_close(&w);
			sqlite3_close(db);
			rmtrace(out);
			r = 2;
		}
	}
	if (r == 0 && (d = drain_new(session, &w)) == NULL) {
		say("out of memory");
		trace_writer_close(&w);
		sqlite3_close(db);
		rmtrace(out);
		r = 2;
	}
	if (r != 0) {
		close(gop[1]);	/* the child sees EOF and leaves without starting the program */
		waitpid(child, &st, 0);
		close(errp[0]);
		rmsession(session);
		return r;
	}

	/* the symbols are looked up as the frames come, on a core the program leaves idle */
	ahead = sym_ahead();
	drain_ahead(d, ahead);

	/* 3. start it; an exec that fails leaves no trace either */
	mainpid = child;
	catchsignals();
	c = 'g';
	if (write(gop[1], &c, 1) != 1)
		kill(child, SIGKILL);
	close(gop[1]);
	got = read(errp[0], &e, sizeof e);
	close(errp[0]);
	if (got == (ssize_t)sizeof e) {
		say("%s: cannot execute: %s", o->argv[0], strerror(e));
		waitpid(child, &st, 0);
		sym_abandon(ahead);
		drain_free(d);
		trace_writer_close(&w);
		sqlite3_close(db);
		rmtrace(out);
		rmsession(session);
		return e == ENOENT ? 127 : 126;
	}

	/* 4. record until the program and everything it left behind ended */
	st = 0;
	record(child, d, &st, o->leaks);
	status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);

	/* 5. finish the trace */
	complete = 0;
	tables = 0;
	memset(&ss, 0, sizeof ss);
	drain_end(d);
	drain_ahead(d, NULL);
	job = NULL;
	if (w.rc != 0)
		sym_abandon(ahead);
	else {
		/* the rest of the symbols are looked up while the tables are built */
		job = sym_start(db, ahead, symerr, sizeof symerr);
		tables = seconds();
		derived = derive(db, drain_lifetimes(d), o->leaks, &ds, &r, err, sizeof err) == 0;
		tables = seconds() - tables;
		if (!derived) {
			sym_abandon(job);
			if (r == SQLITE_FULL)
				w.rc = SQLITE_FULL;
			else {
				w.rc = r != 0 ? r : SQLITE_ERROR;
				snprintf(w.msg, sizeof w.msg, "%.200s", err);
			}
		} else {
			if (job == NULL || sym_finish(job, db, &ss, symerr, sizeof symerr) < 0)
				say("%s: symbols: %s", out, symerr);
			complete = trace_set_meta(&w, "complete", "yes") == 0;
		}
	}
	summary(o, drain_stats(d), complete ? &ds : NULL);
	if (o->errexit != 0 && foundtrouble(drain_stats(d)))
		status = o->errexit;
	if (!complete) {
		if (w.rc == SQLITE_FULL)
			say("%s: disk full; trace incomplete", out);
		else
			say("%s: %s; trace incomplete", out, w.msg);
	}
	trace_writer_close(&w);
	/* one file again: fold the write-ahead log in (harmless if it cannot be) */
	sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	sqlite3_close(db);
	drain_free(d);
	rmsession(session);
	if (complete && endedat > 0)
		say("after exit: %.2f s (symbols %.2f s, %zu pcs, %zu %s looked up during the run;"
		    " tables %.2f s)", seconds() - endedat, ss.lookup + ss.store, ss.pcs, ss.ahead,
		    ss.ahead == 1 ? "address" : "addresses", tables);
	if (complete)
		say("trace written to %s; see: leak %s", out, out);
	else
		say("what was recorded is in %s; see: leak %s", out, out);
	return status;
}
