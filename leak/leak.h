/*
 * leak/leak.h -- what the files of the leak command share.  Cross-file
 * prototypes are grouped under the file that owns them.
 *
 * leak reads a trace (pooldbg-trace(5)) and never writes one: every
 * database handle here was opened with trace_open_read.
 *
 * Glossary:
 *   scan      one reachability scan of one process image (table scans):
 *             the one at exit (snapshot 0) or a numbered snapshot
 *   class     a block's leak class: definite, indirect, possible,
 *             reachable (table scan_blocks)
 *   frame     one line of a printed stack: a function (or an inlined
 *             callee) at a source line, or a bare pc in a module
 */
#ifndef POOLDBG_LEAK_H
#define POOLDBG_LEAK_H

#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "record.h"	/* CLASS_* */
#include "trace.h"

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))

/* A set of leak classes: bit (1 << CLASS_*) for each class in it. */
#define KIND(c)		(1u << (c))
#define KINDS_DEFAULT	(KIND(CLASS_DEFINITE) | KIND(CLASS_POSSIBLE))
#define KINDS_ALL	(KIND(CLASS_DEFINITE) | KIND(CLASS_INDIRECT) | \
			 KIND(CLASS_POSSIBLE) | KIND(CLASS_REACHABLE))

/* ---- stacks.c ---- */

/* One printed frame of a stack. */
typedef struct Frame Frame;
struct Frame {
	uint64_t pc;		/* return address as recorded */
	const char *function;	/* demangled name; NULL: unknown */
	const char *file;	/* source file; NULL: unknown */
	int	line;		/* 0: unknown */
	int	column;		/* 0: unknown */
	const char *module;	/* path of the module holding pc; NULL: none known */
	uint64_t offset;	/* pc - the module's load bias (0 when module is NULL) */
	int	inlined;	/* 1: an inlined callee; the next frame is where it was inlined */
};

typedef struct Stacks Stacks;

/*
 * A reader of stacks on db (a trace open for reading); NULL if out of
 * memory or the trace lacks the tables (then err says so in one line).
 * The caller closes it with stacks_close, before closing db.
 */
Stacks	*stacks_open(sqlite3 *db, char *err, size_t errlen);
void	stacks_close(Stacks *s);

/*
 * The frames of stack id stack (frames.id) of process image process,
 * innermost first, each inline chain expanded (callee before caller):
 * up to max into out.  Returns how many, or -1 when the trace could not
 * be read.  The strings in out belong to s and stay valid until
 * stacks_close, so frames of several stacks can be held at once.
 */
int	stacks_get(Stacks *s, int64_t process, int64_t stack, Frame *out, int max);

/*
 * The frames of one pc of process image process, looked up as a frame of
 * a stack would be: its inline chain (callee first) when the trace
 * symbolized it, else one frame naming the module that holds it, or
 * only the pc.  For a pc that need not be in any stack (a malloc tag).
 * Up to max into out; returns how many (at least 1 when max > 0), or -1
 * when the trace could not be read.  The strings are s's, as above.
 */
int	stacks_pc(Stacks *s, int64_t process, uint64_t pc, Frame *out, int max);

/*
 * Print one frame as people read it: "function file:line" (the file
 * without its directory unless full); without a line, "function
 * (module+0xOFF)" or "function"; without a function, "0xPC
 * (module+0xOFF)" or "0xPC".  " (inlined)" follows an inlined callee.
 * Into buf (always terminated); returns buf.
 */
char	*stacks_format(const Frame *f, int full, char *buf, size_t len);

/* ---- views.c, picture.c ---- */

/* What the views of leak(1)'s ancestor are asked to show. */
typedef struct View View;
struct View {
	sqlite3	*db;		/* the trace, open for reading */
	const char *trace;	/* its path, for messages */
	Stacks	*stacks;	/* a reader on db */
	int	pid;		/* only this pid; 0: every process */
	int	snapshot;	/* 0: the scans at exit; N: snapshot N of each process */
	unsigned kinds;		/* classes to show: KIND() bits (-s, -c); -a and -b show all */
	int	maxframes;	/* frames of a stack to print; 0: all */
	int	color;		/* 1: ANSI colours */
};

/*
 * -s: live blocks of the chosen scans grouped by allocation site (the
 * malloc tag: the pc that called the allocator), largest first.
 * -c: per site: total bytes, count, average, function; a total line.
 * -a: every block of the chosen scans, one line each (address, size,
 * class, site).  Each writes to out and returns the number of blocks of
 * the chosen kinds shown (so the caller can set the exit status), or -1
 * after printing one line "leak: TRACE: why" on stderr.
 */
long	view_sites(const View *v, FILE *out);
long	view_counts(const View *v, FILE *out);
long	view_all(const View *v, FILE *out);

/*
 * -b FILE: a picture of the heap as of the chosen scan of one process
 * (v->pid, or the first process with a scan): allocated, free, leaked
 * and header bytes in colours, a few bytes per pixel, written as PNG to
 * path.  0, or -1 after printing one line on stderr.
 */
int	view_picture(const View *v, const char *path);

/* What views.c lends picture.c. */

/* One scan a view shows: of one process image. */
typedef struct Scan Scan;
struct Scan {
	int64_t	id;		/* scans.id */
	int64_t	process;	/* processes.id */
	int	snapshot;	/* scans.snapshot: 0 at exit */
	int	pid;		/* 0: the image is missing from processes */
	char	exe[256];	/* its executable, "?" if unknown */
	int	complete;	/* scans.complete */
	int64_t	start;		/* CLOCK_MONOTONIC ns tracing began in it; -1: unknown */
};

/*
 * The scans v chooses: of each process image of v->pid (every image if
 * 0), the one of snapshot v->snapshot (the last, should an image have
 * several), in processes.id order.  Returns how many (at least one), with
 * the array in *scans for the caller to free; or -1, *scans NULL, after
 * the one line on stderr (no scans at all, no such pid, none of that
 * snapshot, or the trace could not be read).
 */
long	view_scans(const View *v, Scan **scans);
/* The heading of a scan's section, without a newline: "pid 101 /bin/prog, scan at exit". */
void	view_heading(const Scan *sc, FILE *out);
/* Print "leak: TRACE: " and the message on stderr, one line. */
void	view_error(const View *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a failed SQLite call on v->db: "cannot read what: why", the why in words for people. */
void	view_dberror(const View *v, const char *what);

#endif /* POOLDBG_LEAK_H */
