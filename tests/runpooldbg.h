/*
 * tests/runpooldbg.h -- what the tests of `pooldbg run` share: running
 * pooldbg on tests/fakewriter in a scratch directory with the do-nothing
 * runtime preloaded, reading what it said on stderr, and querying the
 * trace it wrote.
 *
 * Run from the build tree (make check): rp_setup finds pooldbg/pooldbg,
 * tests/fakewriter and tests/.libs/libnooppreload.so there, or bails.
 */
#ifndef POOLDBG_RUNPOOLDBG_H
#define POOLDBG_RUNPOOLDBG_H

#include <limits.h>

#include "trace.h"

extern char pooldbg[PATH_MAX];	/* the recorder under test */
extern char fake[PATH_MAX];	/* tests/fakewriter */
extern char noop[PATH_MAX];	/* the library preloaded instead of the runtime */
extern char top[PATH_MAX];	/* the build tree */
extern char tmp[];		/* the scratch directory, made by rp_setup */
extern char errtext[16384];	/* the last run's stderr */
extern char path[PATH_MAX];	/* a scratch path */

/*
 * Find the programs, make the scratch directory, set the environment
 * (POOLDBG_PRELOAD the do-nothing runtime; no POOLDBG_FLAGS, LD_PRELOAD).
 * Bails out if anything is missing.
 */
void	rp_setup(void);
/* Remove the scratch directory and what is in it. */
void	rp_teardown(void);

/* Read the file p into buf (NUL-terminated; empty if unreadable). */
void	slurp(const char *p, char *buf, size_t len);
/* Run argv in dir (NULL: tmp), stdout to /dev/null, stderr into errtext; status as a shell gives it. */
int	runv(const char *dir, const char *const *argv);
#define RUN(dir, ...)	runv(dir, (const char *const[]){ pooldbg, __VA_ARGS__, NULL })

/* errtext on one line, for a test's name (a static buffer). */
const char *flat(void);
/* Lines in errtext. */
int	nlines(void);
/* Whether errtext begins with prefix and is one line. */
int	oneline(const char *prefix);
/* Whether errtext has a line that begins with line. */
int	hasline(const char *line);
/* The last line of errtext (a static buffer). */
const char *lastline(void);

/* tmp/name, in path. */
const char *tpath(const char *name);
int	exists(const char *p);
/* Entries of tmp (hidden ones aside). */
int	nfiles(void);
/* Remove every entry of tmp. */
void	cleantmp(void);

/* The trace at p, opened for reading; NULL (said as a TAP comment) if it cannot be. */
sqlite3	*opentrace(const char *p);
/* The first column of the first row of a query, as an integer; -999 if none or NULL. */
long long qi(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ... as text ("(null)" if NULL or none); a static buffer, reused. */
const char *qs(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* POOLDBG_RUNPOOLDBG_H */
