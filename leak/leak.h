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

/*
 * leak's own class, beside record.h's CLASS_*: a block live when an
 * image without an exit scan ended (killed, or a runtime that did not
 * scan), known only from table blocks.
 */
#define CLASS_UNCLASSIFIED	0
#define NCLASS			5	/* CLASS_UNCLASSIFIED .. CLASS_DEFINITE */

/* A set of leak classes: bit (1 << CLASS_*) for each class in it. */
#define KIND(c)		(1u << (c))
#define KINDS_DEFAULT	(KIND(CLASS_DEFINITE) | KIND(CLASS_POSSIBLE) | KIND(CLASS_UNCLASSIFIED))
#define KINDS_ALL	(KIND(CLASS_DEFINITE) | KIND(CLASS_INDIRECT) | \
			 KIND(CLASS_POSSIBLE) | KIND(CLASS_REACHABLE) | KIND(CLASS_UNCLASSIFIED))

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

/* ---- leak.c ---- */

/* Print "leak: MESSAGE" on stderr, one line. */
void	say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- model.c ---- */

/* One process image of the trace (a row of processes). */
typedef struct Proc Proc;
struct Proc {
	int64_t	id;		/* processes.id */
	int	pid;
	char	*exe;		/* NULL: unknown */
	char	*cmdline;	/* arguments joined by spaces; NULL: unknown */
	char	*end_how;	/* exit, _exit, signal, exec, killed; NULL: not recorded */
	int64_t	execfrom;	/* processes.id of the image that executed it; 0: its pid's first */
	int	replaced;	/* a chosen image was executed from it */
	int	nerrs;		/* its heap errors in m->errs */
	int	has_status;	/* end_status is known */
	int64_t	end_status;
	int	chosen;		/* passes --pid and --since-mark */
	int64_t	scan;		/* scans.id read for it; 0: none */
	int	scan_unfinished; /* that scan never ended or says it is incomplete */
	int	unclassified;	/* no exit scan: its live blocks come from table blocks */
	int64_t	markseq;	/* --since-mark: only blocks with alloc_seq above; -1: all */
	int64_t	marktime;	/* --since-mark: only errors after; -1: all */
};

/* One leak record: the blocks of one (image, class, allocation stack). */
typedef struct Leak Leak;
struct Leak {
	const Proc *proc;
	int	cls;		/* CLASS_* (CLASS_UNCLASSIFIED included) */
	int64_t	stack;		/* frames.id of the allocation stack */
	uint64_t bytes;		/* sum of the sizes asked for */
	uint64_t blocks;
	uint64_t ptr;		/* the first allocated block of the group */
	int	npreview;	/* bytes of preview known; -1: none (no scan read it) */
	unsigned char preview[32];	/* its first bytes */
	char	zone[64];	/* the zone (zones.name) its items came from; "" for heap blocks */
	int	mapped;		/* blocks of a mapped heap (mmalloc(3)), which the scan never reads */
};

/* One heap error of table errors, with the block lifetime it names. */
typedef struct Herr Herr;
struct Herr {
	const Proc *proc;
	int64_t	id;		/* errors.id */
	char	*kind;		/* errors.kind; NULL: not recorded */
	uint64_t time;
	uint64_t ptr;		/* 0: none named */
	int64_t	stack;		/* where it was found */
	char	*message;	/* the pool's report; NULL: none */
	int64_t	size;		/* the block's size; -1: the block is not known */
	int64_t	alloc_stack;	/* its allocation stack; 0: not known */
	int64_t	free_stack;	/* the stack that freed it before; 0: none or not known */
	uint64_t block;		/* errors.block: the block concerned (hasblock set) */
	int64_t	offset;		/* errors.offset: the damage from block's start */
	int	hasblock;	/* the trace named the block */
	int	known;		/* the trace gave the block's stacks (no look-up in blocks) */
};

typedef struct Sum Sum;
struct Sum {
	uint64_t bytes;
	uint64_t blocks;
};

/* What to read: the chosen processes, scans and blocks. */
typedef struct Query Query;
struct Query {
	int	pid;		/* 0: every process */
	int	snapshot;	/* 0: the scans at exit; N: snapshot N */
	const char *mark;	/* NULL, or --since-mark's label */
};

/* A trace read: its processes, errors and leak records, largest first. */
typedef struct Model Model;
struct Model {
	Proc	*procs;
	int	nprocs;
	Leak	*leaks;		/* every class, sorted: bytes, then blocks, descending */
	size_t	nleaks;
	Herr	*errs;		/* of the chosen images, in time order */
	size_t	nerrs;
	Sum	sum[NCLASS];	/* every block of the chosen scans, by class */
	int	nunclassified;	/* chosen images read from blocks for want of an exit scan */
	int	nunfinished;	/* chosen images whose scan did not finish */
	double	sample;		/* recorded with --sample BYTES: blocks and bytes are estimates; 0: not */
};

/*
 * Read the trace db (open for reading; its path trace for messages) as q
 * asks into m (zeroed here).  0, or -1 with one line in err: no process
 * with that pid, no snapshot N, no such mark, or the trace unreadable
 * ("corrupt trace" and the like, never SQLite's own words).  The caller
 * frees m with model_free either way.
 */
int	model_read(Model *m, sqlite3 *db, const Query *q, char *err, size_t errlen);
void	model_free(Model *m);

/*
 * Fill the block fields of each error (size, alloc_stack, free_stack):
 * the lifetime of (process, ptr) that began last at or before the
 * error.  One pass over table blocks; call it only when they are
 * printed.  0, or -1 with err set.
 */
int	model_error_blocks(Model *m, sqlite3 *db, char *err, size_t errlen);

/* What to tell a user about a failed SQLite call on db: "corrupt trace", ... */
const char *model_sqlwhy(sqlite3 *db);

/* The name of a class ("definite", ... "unclassified"), and its words ("definitely lost"). */
const char *class_name(int cls);
const char *class_words(int cls);
/* The class of a name; -1 if none. */
int	class_byname(const char *name, size_t len);

/* Whether an error of this kind (errors.kind, NULL: unknown) counts for the exit status. */
int	error_counts(const char *kind);

/* ---- suppress.c ---- */

typedef struct Supps Supps;

/* An empty set of suppressions; NULL if out of memory.  Freed by supp_free. */
Supps	*supp_new(void);
void	supp_free(Supps *s);

/*
 * Add the suppressions of the file path: LeakSanitizer lines
 * (leak:PATTERN) and valgrind entries ({ ... Memcheck:Leak ... }), both
 * in one file if need be.  0, or -1 with one line in err ("PATH:LINE:
 * why", or "PATH: cannot open: why").
 */
int	supp_load(Supps *s, const char *path, char *err, size_t errlen);

/*
 * The first suppression that matches a record of class cls whose whole
 * stack is fr[0..n) (innermost first), or -1.  The match is counted
 * against it with the record's bytes and blocks.
 */
int	supp_match(Supps *s, const Leak *l, const Frame *fr, int n);

/* How many suppressions are loaded. */
int	supp_count(const Supps *s);

/* What suppression i removed; the strings belong to s. */
typedef struct SuppUse SuppUse;
struct SuppUse {
	const char *name;	/* the valgrind entry's name, or "leak:PATTERN" */
	const char *file;	/* where it was read */
	int	line;		/* its first line there */
	uint64_t records, bytes, blocks;	/* what it removed */
};
void	supp_use(const Supps *s, int i, SuppUse *u);

/*
 * Print a valgrind suppression that matches the record l with stack
 * fr[0..n) (innermost first): leak reads it back with --suppressions.
 */
void	supp_print(FILE *out, const Leak *l, const Frame *fr, int n);

/* ---- diff.c ---- */

typedef struct Diff Diff;

/*
 * Read the leak records of the trace at base (every class and process,
 * the same snapshot, from the mark if base has it) to compare against.
 * NULL with one line in err if it cannot be read.
 */
Diff	*diff_open(const char *base, const Query *q, char *err, size_t errlen);
void	diff_free(Diff *d);

/* An empty set of keys, for diff_group alone; NULL if out of memory.  Freed by diff_free. */
Diff	*diff_new(void);

/*
 * The number of the group of records with l's class and symbolized stack
 * fr[0..n) (whole): 0 for the first key seen, 1 for the next new one, and
 * so on; -1 if out of memory.
 */
long	diff_group(Diff *d, const Leak *l, const Frame *fr, int n);

/* Add a record of this trace (stack fr[0..n), whole) to the comparison.  0, or -1 if out of memory. */
int	diff_add(Diff *d, const Leak *l, const Frame *fr, int n);

/*
 * Whether the record is news: its symbolized stack (and class) is not in
 * base, or the records of this trace with that stack hold more bytes
 * than base's (after every diff_add).
 */
int	diff_news(Diff *d, const Leak *l, const Frame *fr, int n);

/* ---- report.c: what the formats share ---- */

enum { FMT_TEXT, FMT_JSON, FMT_SARIF, FMT_FOLDED };

typedef struct Report Report;
struct Report {
	FILE	*out;
	const char *trace;	/* its path as given */
	const Model *m;
	Stacks	*stacks;
	Supps	*supps;		/* NULL: none */
	unsigned kinds;		/* the classes reported: KIND() bits */
	int	maxframes;	/* frames printed per stack; 0: all */
	int	color;		/* 1: ANSI colours */
	int	gensupp;	/* --gen-suppressions */
	int	multiproc;	/* the trace has more than one image: name it on each record */
	int	merge;		/* records of one class and symbolized stack from several images as one */
	const Proc **procs;	/* merging: the distinct images of the record being printed */
	int	nprocs;		/* how many; 0: not merging (the record's own image) */
	int	failed;		/* a stack could not be read: the trace is damaged */
	int	ntotal;		/* frames of the stack of the record being printed */
	size_t	nshown;		/* leak records printed so far */
	size_t	nitems;		/* other items a format printed (sarif: error results) */
	size_t	nerrs;		/* errors that count for the exit status */
};

/* s with control characters shown as '?' (a name from a trace never drives the terminal). */
void	report_puts(FILE *out, const char *s);

/* The frames of a stack to print, innermost first: up to r->maxframes into fr (room for MAXFRAMES). */
int	report_frames(Report *r, int64_t process, int64_t stack, Frame *fr);
#define MAXFRAMES	1024	/* frames of one stack read, at most */

/* One output format: begin before the first leak record, end after the last. */
typedef struct Format Format;
struct Format {
	const char *name;
	int	whole;		/* 1: every frame of a record, whatever --max-frames */
	void	(*begin)(Report *r);
	void	(*leak)(Report *r, const Leak *l, const Frame *fr, int n);
	void	(*end)(Report *r);
};

/*
 * Print the records of r->m of the classes r->kinds that no suppression
 * takes and that are news against d (NULL: no --diff), through fmt:
 * begin, one call per record, end.  0, or -1 if the trace failed under
 * it (r->failed set) or memory ran out.
 */
int	report_run(Report *r, const Format *fmt, Diff *d);

/* text.c (text, folded), json.c, sarif.c */
extern const Format fmt_text, fmt_folded, fmt_json, fmt_sarif;

/* ---- json.c: helpers sarif.c shares ---- */

/* s as a JSON string, quotes included; NULL prints null. */
void	json_str(FILE *out, const char *s);
/* The same for n bytes of s. */
void	json_strn(FILE *out, const char *s, size_t n);
/* An address as "0x..." */
void	json_addr(FILE *out, uint64_t a);

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
