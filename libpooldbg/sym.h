/*
 * libpooldbg/sym.h -- the symbolizer: turns the raw return addresses of a
 * trace's stack frames into source locations after the run.
 *
 * Only the recorder (and the tests) include this; it needs sqlite3.h and is
 * linked with libdw, so it must never reach the preloaded runtime.
 */
#ifndef POOLDBG_SYM_H
#define POOLDBG_SYM_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

/*
 * sym_resolve -- fill table locations for every distinct (process, pc) of
 * table frames that has no row there yet, then set meta 'symbolized' = 'yes'.
 *
 * The tables modules, frames, locations and meta must exist with the columns
 * of the trace schema; sym_resolve creates nothing.  For each pc it picks the
 * module of that process whose [lo, hi) holds it (when several did over time,
 * the one loaded last), opens that module's file (each file once per call,
 * with separate debug files found through /usr/lib/debug and the build-id),
 * and looks up pc - 1, since a frame's pc is a return address.  It writes the
 * inline chain at that address: depth 0 the innermost inlined function, the
 * last depth the out-of-line function, each with its file (absolute where
 * the DWARF allows), line and column; for the outer depths those of the call
 * site.  C++ names are demangled.  With no DWARF, function comes from the
 * ELF symbol table and file/line stay NULL.  With no module, or a file that is
 * gone, is not a file (the vdso) or no longer has the recorded build-id, one
 * row of depth 0 with function NULL and module/offset as far as known.
 * Stored pcs are the original ones; offset = pc - the module's base.
 *
 * Files must still be on disk (or have their debug file installed): call it
 * right after the run.  A binary deleted before then is left unresolved.
 *
 * Runs inside one savepoint, so it nests in a caller's transaction; on
 * failure everything it wrote is rolled back.  Returns the number of
 * (process, pc) pairs it symbolized (0 when none were new), or -1 with a
 * one-line reason in err (if err is not NULL and errlen > 0).  Not
 * thread-safe with other users of db.
 */
int	sym_resolve(sqlite3 *db, char *err, size_t errlen);

/*
 * The same work in two halves, so the look-ups run while the caller does
 * something else with db (the recorder builds its tables meanwhile).
 *
 * sym_start reads the modules and the new (process, pc) pairs from db,
 * then looks them up in a thread of its own that never touches db.  Until
 * sym_finish, the caller may use db as it likes but must not change
 * modules, frames or locations.  ahead, if not NULL, is a job of
 * sym_ahead, which sym_start takes over whatever happens: its files stay
 * open and the addresses it looked up are not looked up again.  Returns
 * the job, or NULL with a one-line reason in err (nothing started,
 * nothing written).
 *
 * sym_finish waits for the look-ups and writes what sym_resolve writes,
 * inside one savepoint (rolled back on failure).  It frees j whatever
 * happens; st, when not NULL, gets the figures.  Returns the number of
 * (process, pc) pairs symbolized, or -1 with a one-line reason in err.
 *
 * sym_abandon waits for the look-ups (or stops the thread of a job of
 * sym_ahead) and frees j without writing.
 */
typedef struct SymJob SymJob;

typedef struct SymStats SymStats;
struct SymStats {
	size_t	pcs;		/* (process, pc) pairs symbolized */
	size_t	files;		/* module files opened with success */
	double	lookup;		/* seconds the look-ups took (in their thread) */
	double	wait;		/* seconds sym_finish waited for them */
	double	store;		/* seconds spent reading and writing the trace */
	size_t	ahead;		/* distinct addresses looked up by sym_ahead's thread */
	double	aheadsec;	/* its seconds of work, during the run */
};

SymJob	*sym_start(sqlite3 *db, SymJob *ahead, char *err, size_t errlen);
int	sym_finish(SymJob *j, sqlite3 *db, SymStats *st, char *err, size_t errlen);
void	sym_abandon(SymJob *j);

/*
 * Looking ahead: the look-ups started while the program still runs, from
 * what the recorder reads in its rings, so that little is left to do
 * after the run.
 *
 * sym_ahead starts a job with a thread of its own and no trace; NULL if
 * out of memory or no thread could be had.  sym_ahead_module gives it a
 * module of a process as the runtime reported it (path, build-id of bidlen
 * bytes, base, [lo, hi)), sym_ahead_pc a pc of a frame of that process
 * (the process numbers are the trace's processes.id).  They gather what
 * they are given and hand it to the thread in batches; sym_ahead_flush
 * hands over what is gathered so far.  The thread opens the modules'
 * files and looks the pcs up meanwhile, in the order given, with the
 * module that held each one when it was given (the one given last, when
 * several held it).  None of these three ever waits for the look-ups, and
 * none fails: what the thread could not do (out of memory, or not yet
 * done) is done after the run.  Only one thread may call them.
 * sym_ahead_done says how many of the items given (modules and pcs,
 * counted alike) the thread has worked through so far.
 *
 * The job then goes to sym_start (after the last call of these three),
 * which stops the thread and starts the look-ups of the tables' pcs, with
 * the tables' module map; or to sym_abandon.
 */
SymJob	*sym_ahead(void);
void	sym_ahead_module(SymJob *j, int64_t process, const char *path, const void *bid,
	    int bidlen, uint64_t base, uint64_t lo, uint64_t hi);
void	sym_ahead_pc(SymJob *j, int64_t process, uint64_t pc);
void	sym_ahead_flush(SymJob *j);
size_t	sym_ahead_done(SymJob *j);

#endif /* POOLDBG_SYM_H */
