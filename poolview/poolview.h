/*
 * poolview/poolview.h -- what the files of poolview share.  Cross-file
 * prototypes are grouped under the file that owns them.
 *
 * The model (model*.c) reads the trace and answers the questions of the
 * screens -- what is alive at the time cursor, the allocation tree, the
 * blocks, the heap map -- and never draws; the view (view*.c) draws the
 * model with curses and never runs SQL; keys.c maps keys to named
 * actions.  Every database handle was opened with trace_open_read.
 *
 * Glossary:
 *   cursor    the event the screens stand at: the heap as it was just
 *             after events.seq = cursor (0: before the first event)
 *   point     something on the time line worth jumping to: a mark, a
 *             snapshot scan, a heap error
 *   class     a block's leak class from the scan at exit of its image
 */
#ifndef POOLDBG_POOLVIEW_H
#define POOLDBG_POOLVIEW_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "trace.h"

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))

enum {	/* leak classes, as poolview orders them (Blk.cls) */
	CL_NONE,		/* no scan at exit classed it */
	CL_REACHABLE,
	CL_POSSIBLE,
	CL_INDIRECT,
	CL_DEFINITE,
	NCL
};

/* A block lifetime, as far as the model has read it. */
typedef struct Blk Blk;
struct Blk {
	int64_t	seq;		/* blocks.alloc_seq: its identity */
	int64_t	process;
	uint64_t ptr;
	uint64_t size;
	int64_t	stack;
	int64_t	time;		/* alloc_time */
	const char *call;	/* interned */
	int	cls;		/* CL_* */
	size_t	live;		/* 1 + its index in Model.live; 0: not alive at the cursor */
	struct Stack *st;	/* its stack's record, once the stacks are read */
	Blk	*next;		/* hash chain */
};

/* One row of timeline. */
typedef struct Span Span;
struct Span {
	int64_t	seq;
	int64_t	time;
	uint64_t inuse;
	uint64_t blocks;
	uint64_t born;
	uint64_t allocs;
};

enum { PT_MARK, PT_SNAPSHOT, PT_ERROR, PT_NKIND };

typedef struct Point Point;
struct Point {
	int64_t	seq;		/* the event it follows */
	int	kind;		/* PT_* */
	int64_t	id;		/* marks.id, scans.id or errors.id */
	const char *label;	/* mark label, "snapshot N", error kind */
};

/* Bytes of one stack and class the scan at exit found. */
typedef struct Leakrow Leakrow;
struct Leakrow {
	int64_t	process;
	int64_t	stack;
	uint64_t bytes;
	int	cls;
};

/* A frame of a stack: one function of an inline chain. */
typedef struct Loc Loc;
struct Loc {
	const char *func;	/* interned; "0x..." when unknown */
	const char *file;	/* interned; NULL unknown */
	int	line;
};

typedef struct Node Node;

/* An allocation stack with its totals. */
typedef struct Stack Stack;
struct Stack {
	int64_t	process;
	int64_t	stack;
	uint64_t allocs;
	uint64_t bytes;
	uint64_t leak[NCL];	/* bytes at exit by class */
	uint64_t alive;		/* bytes alive at the cursor (kept by the model as blocks come and go) */
	Loc	*chain;		/* innermost first */
	int	nchain;
	Node	*end[2];	/* its last node in the top-down [0] and bottom-up [1] tree */
	Stack	*next;		/* hash chain */
};

enum { COL_ALLOCS, COL_BYTES, COL_ALIVE, COL_DEF, COL_IND, COL_POS, COL_NAME, NCOL };

struct Node {
	const Loc *loc;		/* NULL for the root */
	Node	*parent;
	Node	**kids;
	size_t	nkids, maxkids;
	uint64_t v[COL_NAME];	/* values by COL_* */
	int	open;
	int	depth;
};

typedef struct Tree Tree;
struct Tree {
	Node	*root[2];	/* top-down, bottom-up */
	int	up;		/* 1: the bottom-up tree is shown */
	int	sort;		/* COL_* */
	int	rev;		/* ascending instead */
	Node	**rows;		/* the visible rows, in order */
	size_t	nrows, maxrows;
	size_t	sel;		/* selected row */
	char	pat[64];	/* search pattern, "" none */
};

enum { BS_ADDR, BS_SIZE, BS_AGE, BS_CLASS, BS_FUNC, NBS };

/* The Blocks screen's list. */
typedef struct Blist Blist;
struct Blist {
	Blk	**v;
	size_t	n, max;
	size_t	sel;
	int	sort;		/* BS_* */
	int	rev;
	uint64_t minsize, maxsize;	/* filter; maxsize 0: none */
	int	cls;		/* filter: -1 any, else CL_* */
	char	func[64];	/* filter: function substring */
};

enum { MC_FREE, MC_HEADER, MC_ALLOC, MC_LEAK, MC_NONE };

/* The heap map at the cursor. */
typedef struct Hmap Hmap;
struct Hmap {
	int	w, h;		/* cells */
	unsigned char *cell;	/* MC_* */
	Blk	**blk;		/* the block each cell shows, or NULL */
	uint64_t lo, bytes;	/* address range shown ... */
	uint64_t per;		/* ... bytes per cell */
	int64_t	process;	/* processes.id of the image shown */
	int64_t	scan;		/* scans.id the arenas come from, 0: none */
	int	narena;
	int	derived;	/* 1: bounds from the blocks, no arenas known */
	size_t	sel;
};

/* A block's detail. */
typedef struct Detail Detail;
struct Detail {
	Blk	b;
	int64_t	free_seq, free_time;	/* 0: never freed */
	char	free_call[24];
	int64_t	free_stack;
	uint64_t tag, block, bsize;	/* from a scan; bsize 0: none */
	unsigned char preview[32];
	int	npreview;
	char	hist[8][96];		/* realloc history lines */
	int	nhist;
};

typedef struct Model Model;
struct Model {
	sqlite3	*db;
	char	program[256];	/* first image's command line */
	int	nproc;
	int	cached;		/* 1: the time index was built into temp */
	int64_t	maxseq;
	int64_t	t0;		/* time of the first event */
	Span	*span;
	size_t	nspan;
	uint64_t *exact;	/* short traces: bytes in use after each event, [0 .. maxseq] */
	int64_t	*ck;		/* timeline_live seqs */
	size_t	nck;
	Point	*pt;
	size_t	npt;
	int64_t	peakseq;
	uint64_t peak;
	uint64_t leaktotal[NCL];

	int64_t	cur;		/* the cursor */
	uint64_t inuse;
	Blk	**live;
	size_t	nlive, maxlive;

	Blk	**tab;		/* every Blk read, by seq */
	size_t	tabmask, ntab;
	int64_t	*clsseq;	/* exit classes: open addressing seq -> cls */
	unsigned char *clsv;
	size_t	clsmask;

	struct Leakrow *leakrows;	/* the exit scans' bytes by stack and class, until the stacks are read */
	size_t	nleakrows;
	Blk	*slab;		/* Blks are carved from slabs of SLAB */
	size_t	slabused;
	void	**slabs;
	size_t	nslabs;
	Stack	**stab;		/* stacks by (process, stack) */
	size_t	smask;
	Stack	**stacks;
	size_t	nstacks;
	void	*strs;		/* interned strings (model.c) */
	void	*frames;	/* frames and locations (model-tree.c) */

	sqlite3_stmt *qev;	/* one event by seq */
	sqlite3_stmt *qborn;	/* births in (a, b] */
	sqlite3_stmt *qdied;	/* deaths in (a, b] */
	sqlite3_stmt *qck;	/* one checkpoint's blob */
	int	nomem;
};

/* ---- model-open.c ---- */

/*
 * Open the trace at path for browsing: trace_open_read's checks (its
 * one-line errors in err), then the time index (built into a private
 * temp schema when the trace lacks it), the time line, the points and
 * the classes at exit; the stacks come with model_tree_load.  The cursor
 * stands at 0, before the first event.  0, or -1 with err set; the
 * caller frees m with model_close either way.
 */
int	model_open(Model *m, const char *path, char *err, size_t errlen);
void	model_close(Model *m);
/* Keep a copy of s for the model's life; NULL (and m->nomem) if out of memory. */
const char *model_intern(Model *m, const char *s);
/* Name of a class: "definite", ..., "-" for CL_NONE. */
const char *model_clsname(int cls);
/* The class of a name model_clsname gives; CL_NONE for any other (or NULL). */
int	model_clsbyname(const char *s);

/* ---- model.c ---- */

/* Put the cursor at seq (clamped to 0 .. maxseq), updating the blocks alive. 0, or -1 (out of memory / SQL). */
int	model_seek(Model *m, int64_t seq);
/*
 * A trace recorded with --mode=leaks has no events: the blocks alive are
 * those the scans at exit found that a recorded call made, each with its
 * class (its time the scan's).  0, or -1 (out of memory / SQL).
 */
int	model_loadscan(Model *m);
/* The time of event seq relative to the first event, ns; the nearest span's if it is not at hand. */
int64_t	model_time(Model *m, int64_t seq);
/* Bytes in use after seq: exact for a short trace, else the span ending at or before it. */
uint64_t model_inuse_at(const Model *m, int64_t seq);
/* The next (dir 1) or previous (dir -1) point of kind after/before the cursor; -1 none. kind -1: any. */
int64_t	model_point(const Model *m, int kind, int dir);
/* The block born at seq if the model has read it, else NULL. */
Blk	*model_blk(const Model *m, int64_t seq);
/* The stack record of (process, stack), or NULL. */
Stack	*model_stack(const Model *m, int64_t process, int64_t stack);
/* The leaf function of a block's stack: "?" if unknown. */
const char *model_blkfunc(const Model *m, const Blk *b);

/* ---- model-tree.c ---- */

/* Read frames and locations and build both trees over m->stacks. 0 or -1. */
int	model_tree_load(Model *m, Tree *t, char *err, size_t errlen);
void	model_tree_free(Tree *t);
/* Free what model_tree_load read of frames and locations (model_close calls it). */
void	model_frames_free(Model *m);
/* Recompute the alive column of the tree shown (t->up) from the blocks alive (after a seek), then re-sort. */
void	tree_alive(Model *m, Tree *t);
/* Rebuild the visible rows after a change of open nodes, sort or direction. */
void	tree_rows(Tree *t);
/* Open or close the selected node. */
void	tree_toggle(Tree *t);
/* Open (1) or close (0) the selected node; on close of a closed node select its parent. */
void	tree_open(Tree *t, int open);
/* Select the next (dir 1) or previous match of t->pat (function or file); 0 found, -1 none. */
int	tree_search(Tree *t, int dir);
/* The stack of blocks for a stack id, innermost first, into out (at most max): count. */
int	model_chain(Model *m, int64_t process, int64_t stack, const Loc **out, int max);

/* ---- model-blocks.c ---- */

/* Refill the list from the blocks alive at the cursor with its filter and sort. */
int	blist_fill(Model *m, Blist *l);
/* Read the detail of b: free, realloc history, scan data. 0, or -1. */
int	model_detail(Model *m, const Blk *b, Detail *d);
/* Lay the heap map at the cursor out on w x h cells. 0, or -1. */
int	hmap_fill(Model *m, Hmap *hm, int w, int h);
void	hmap_free(Hmap *hm);
/* Heap errors, for the Errors screen. */
typedef struct Err Err;
struct Err {
	int64_t	id, seq, process, stack;
	uint64_t ptr;
	const char *kind;	/* interned */
	const char *msg;	/* interned, first line */
};
/* Read the errors (at most max) into *out (the caller frees); count, or -1. */
int	model_errors(Model *m, Err **out);

#endif /* POOLDBG_POOLVIEW_H */
