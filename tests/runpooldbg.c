/*
 * tests/runpooldbg.c -- running `pooldbg run` in the tests and reading
 * what it left: its stderr and its trace (see runpooldbg.h).
 *
 * Must never: depend on timing, or leave anything outside its scratch
 * directory.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "runpooldbg.h"

char	pooldbg[PATH_MAX];	/* the recorder under test */
char	fake[PATH_MAX];	/* tests/fakewriter */
char	noop[PATH_MAX];	/* the library preloaded instead of the runtime */
char	top[PATH_MAX];	/* the build tree */
char	tmp[] = "/tmp/pooldbg-test-XXXXXX";
char	errtext[16384];	/* the last run's stderr */
char	path[PATH_MAX];	/* a scratch path */

/* Read the file p into buf (NUL-terminated). */
void
slurp(const char *p, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if ((fd = open(p, O_RDONLY)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* Run argv in dir (NULL: tmp), stdout to /dev/null, stderr into errtext; status as a shell gives it. */
int
runv(const char *dir, const char *const *argv)
{
	char errfile[PATH_MAX];
	pid_t pid;
	int st, fd;

	snprintf(errfile, sizeof errfile, "%s/.stderr", tmp);
	if ((pid = fork()) < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (chdir(dir != NULL ? dir : tmp) < 0)
			_exit(98);
		if ((fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			_exit(98);
		dup2(fd, 2);
		close(fd);
		if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
			dup2(fd, 1);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		_exit(97);
	}
	if (waitpid(pid, &st, 0) != pid)
		tap_bail("waitpid: %s", strerror(errno));
	slurp(errfile, errtext, sizeof errtext);
	unlink(errfile);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}


/* errtext on one line, for a test's name. */
const char *
flat(void)
{
	static char buf[sizeof errtext];
	size_t i;

	for (i = 0; errtext[i] != '\0'; i++)
		buf[i] = errtext[i] == '\n' ? '|' : errtext[i];
	buf[i] = '\0';
	return buf;
}

/* Lines in errtext. */
int
nlines(void)
{
	const char *s;
	int n;

	for (n = 0, s = errtext; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Whether errtext begins with prefix and is one line. */
int
oneline(const char *prefix)
{
	return strncmp(errtext, prefix, strlen(prefix)) == 0 && nlines() == 1;
}

/* Whether errtext has a line that begins with line. */
int
hasline(const char *line)
{
	const char *s;
	size_t n;

	n = strlen(line);
	for (s = errtext; s != NULL && *s != '\0'; s = strchr(s, '\n'), s = s != NULL ? s + 1 : s)
		if (strncmp(s, line, n) == 0)
			return 1;
	return 0;
}

/* The last line of errtext into buf. */
const char *
lastline(void)
{
	static char buf[1024];
	size_t n;
	char *e;

	n = strlen(errtext);
	while (n > 0 && errtext[n - 1] == '\n')
		n--;
	e = errtext + n;
	while (e > errtext && e[-1] != '\n')
		e--;
	snprintf(buf, sizeof buf, "%.*s", (int)(errtext + n - e), e);
	return buf;
}

/* tmp/name into path. */
const char *
tpath(const char *name)
{
	snprintf(path, sizeof path, "%s/%s", tmp, name);
	return path;
}

int
exists(const char *p)
{
	struct stat sb;

	return lstat(p, &sb) == 0;
}

/* Entries of tmp (hidden ones aside). */
int
nfiles(void)
{
	struct dirent *de;
	DIR *dp;
	int n;

	n = 0;
	if ((dp = opendir(tmp)) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL)
		n += de->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* Remove every entry of tmp. */
void
cleantmp(void)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *dp;

	if ((dp = opendir(tmp)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			snprintf(p, sizeof p, "%s/%s", tmp, de->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
	closedir(dp);
}

sqlite3 *
opentrace(const char *p)
{
	char err[512];
	sqlite3 *db;

	if (trace_open_read(p, &db, err, sizeof err) < 0) {
		tap_diag("%s", err);
		return NULL;
	}
	return db;
}

/* The first column of the first row of a query, as an integer; -999 if none. */
long long
qi(sqlite3 *db, const char *fmt, ...)
{
	char sql[1024];
	sqlite3_stmt *st;
	long long v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		tap_diag("query failed: %s: %s", sql, db != NULL ? sqlite3_errmsg(db) : "no trace");
		return -999;
	}
	v = -999;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ... as text ("(null)" if NULL or none); the buffer is reused. */
const char *
qs(sqlite3 *db, const char *fmt, ...)
{
	static char buf[4096];
	char sql[1024];
	sqlite3_stmt *st;
	const unsigned char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof buf, "(null)");
	if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		tap_diag("query failed: %s: %s", sql, db != NULL ? sqlite3_errmsg(db) : "no trace");
		return buf;
	}
	if (sqlite3_step(st) == SQLITE_ROW && (s = sqlite3_column_text(st, 0)) != NULL)
		snprintf(buf, sizeof buf, "%s", (const char *)s);
	sqlite3_finalize(st);
	return buf;
}
/* The absolute path of the build tree's rel into buf; bails if it is not there. */
static void
find(char *buf, const char *rel)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", top, rel) >= PATH_MAX || access(buf, F_OK) < 0)
		tap_bail("%s: %s (run from the build tree)", buf, strerror(errno));
}

void
rp_setup(void)
{
	if (getcwd(top, sizeof top) == NULL)
		tap_bail("getcwd: %s", strerror(errno));
	find(pooldbg, "pooldbg/pooldbg");
	find(fake, "tests/fakewriter");
	find(noop, "tests/.libs/libnooppreload.so");
	if (mkdtemp(tmp) == NULL)
		tap_bail("mkdtemp: %s", strerror(errno));
	setenv("POOLDBG_PRELOAD", noop, 1);
	unsetenv("POOLDBG_FLAGS");
	unsetenv("LD_PRELOAD");
}

void
rp_teardown(void)
{
	cleantmp();
	rmdir(tmp);
}
