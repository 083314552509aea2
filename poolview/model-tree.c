/*
 * poolview/model-tree.c -- the allocation call tree: every allocation
 * stack (timeline_stacks, with what the scan at exit left of it by
 * class), its frames expanded through their inline chains, merged by
 * function into a tree top-down (callers first) and bottom-up (the
 * allocating function first); which nodes are open, their order, the
 * visible rows and the search through them.
 *
 * Must never: draw, or read the trace after model_tree_load.
 */
#include "poolview.h"
#include "hashmix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One frames row, open addressing on (process, id). */
typedef struct Fr Fr;
struct Fr {
	int64_t	process, id, parent;
	uint64_t pc;
	int	used;
};

/* The locations of one (process, pc): locs[first .. first + n). */
typedef struct Pc Pc;
struct Pc {
	int64_t	process;
	uint64_t pc;
	size_t	first;
	int	n;
	int	used;
};

typedef struct Frames Frames;
struct Frames {
	Fr	*fr;
	size_t	frmask;
	Pc	*pc;
	size_t	pcmask;
	Loc	*locs;
	size_t	nlocs, maxlocs;
};

static size_t
tablesize(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	size_t n, mask;

	n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = (size_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	for (mask = 1023; mask < 2 * n; mask = 2 * mask + 1)
		;
	return mask;
}

static int
readframes(Model *m, Frames *f)
{
	sqlite3_stmt *st;
	int64_t process, lastproc;
	uint64_t pc, lastpc;
	size_t i;
	Loc *nl;
	Pc *p;
	char buf[32];

	f->frmask = tablesize(m->db, "SELECT count(*) FROM frames");
	f->pcmask = tablesize(m->db, "SELECT count(*) FROM locations");
	if ((f->fr = calloc(f->frmask + 1, sizeof *f->fr)) == NULL ||
	    (f->pc = calloc(f->pcmask + 1, sizeof *f->pc)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(m->db, "SELECT process, id, parent, pc FROM frames", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		process = sqlite3_column_int64(st, 0);
		for (i = mix((uint64_t)sqlite3_column_int64(st, 1) * 31 + (uint64_t)process) & f->frmask;
		    f->fr[i].used; i = (i + 1) & f->frmask)
			;
		f->fr[i].used = 1;
		f->fr[i].process = process;
		f->fr[i].id = sqlite3_column_int64(st, 1);
		f->fr[i].parent = sqlite3_column_int64(st, 2);
		f->fr[i].pc = (uint64_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(m->db, "SELECT process, pc, function, file, line FROM locations"
	    " ORDER BY process, pc, depth", -1, &st, NULL) != SQLITE_OK)
		return -1;
	p = NULL;
	lastproc = -1;
	lastpc = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		process = sqlite3_column_int64(st, 0);
		pc = (uint64_t)sqlite3_column_int64(st, 1);
		if (p == NULL || process != lastproc || pc != lastpc) {
			for (i = mix(pc * 31 + (uint64_t)process) & f->pcmask; f->pc[i].used;
			    i = (i + 1) & f->pcmask)
				;
			p = &f->pc[i];
			p->used = 1;
			p->process = process;
			p->pc = pc;
			p->first = f->nlocs;
			lastproc = process;
			lastpc = pc;
		}
		if (f->nlocs == f->maxlocs) {
			f->maxlocs = f->maxlocs == 0 ? 4096 : 2 * f->maxlocs;
			if ((nl = realloc(f->locs, f->maxlocs * sizeof *nl)) == NULL)
				goto nomem;
			f->locs = nl;
		}
		nl = &f->locs[f->nlocs++];
		if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
			snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)pc);
			nl->func = model_intern(m, buf);
		} else
			nl->func = model_intern(m, (const char *)sqlite3_column_text(st, 2));
		nl->file = model_intern(m, (const char *)sqlite3_column_text(st, 3));
		nl->line = sqlite3_column_int(st, 4);
		p->n++;
	}
	sqlite3_finalize(st);
	return m->nomem ? -1 : 0;
nomem:
	sqlite3_finalize(st);
	return -1;
}

static const Fr *
frfind(const Frames *f, int64_t process, int64_t id)
{
	size_t i;

	for (i = mix((uint64_t)id * 31 + (uint64_t)process) & f->frmask; f->fr[i].used;
	    i = (i + 1) & f->frmask)
		if (f->fr[i].process == process && f->fr[i].id == id)
			return &f->fr[i];
	return NULL;
}

static const Pc *
pcfind(const Frames *f, int64_t process, uint64_t pc)
{
	size_t i;

	for (i = mix(pc * 31 + (uint64_t)process) & f->pcmask; f->pc[i].used; i = (i + 1) & f->pcmask)
		if (f->pc[i].process == process && f->pc[i].pc == pc)
			return &f->pc[i];
	return NULL;
}

int
model_chain(Model *m, int64_t process, int64_t stack, const Loc **out, int max)
{
	static Loc unknown[64];
	static char names[64][24];
	const Frames *f;
	const Fr *fr;
	const Pc *p;
	int n, i, walked, u;

	f = m->frames;
	n = 0;
	u = 0;
	for (walked = 0; f != NULL && stack != 0 && n < max && walked < 4096; walked++) {
		if ((fr = frfind(f, process, stack)) == NULL)
			break;
		if ((p = pcfind(f, process, fr->pc)) != NULL) {
			for (i = 0; i < p->n && n < max; i++)
				out[n++] = &f->locs[p->first + (size_t)i];
		} else if (u < 64) {
			snprintf(names[u], sizeof names[u], "0x%llx", (unsigned long long)fr->pc);
			unknown[u].func = names[u];
			unknown[u].file = NULL;
			unknown[u].line = 0;
			out[n++] = &unknown[u++];
		}
		stack = fr->parent;
	}
	return n;
}

static Node *
child(Node *n, const Loc *loc)
{
	Node **nk, *k;
	size_t i;

	for (i = 0; i < n->nkids; i++)
		if (n->kids[i]->loc->func == loc->func && n->kids[i]->loc->file == loc->file)
			return n->kids[i];
	if (n->nkids == n->maxkids) {
		n->maxkids = n->maxkids == 0 ? 4 : 2 * n->maxkids;
		if ((nk = realloc(n->kids, n->maxkids * sizeof *nk)) == NULL)
			return NULL;
		n->kids = nk;
	}
	if ((k = calloc(1, sizeof *k)) == NULL)
		return NULL;
	k->loc = loc;
	k->parent = n;
	k->depth = n->depth + 1;
	n->kids[n->nkids++] = k;
	return k;
}

static void
addvals(Node *n, const Stack *s)
{
	n->v[COL_ALLOCS] += s->allocs;
	n->v[COL_BYTES] += s->bytes;
	n->v[COL_DEF] += s->leak[CL_DEFINITE];
	n->v[COL_IND] += s->leak[CL_INDIRECT];
	n->v[COL_POS] += s->leak[CL_POSSIBLE];
}

/* A new stack, hashed by (process, stack); NULL if out of memory.  *max: m->stacks' room. */
static Stack *
stacknew(Model *m, size_t *max, int64_t process, int64_t stack)
{
	Stack *s, **ns;
	size_t i;

	if (m->nstacks == *max) {
		*max = *max == 0 ? 1024 : 2 * *max;
		if ((ns = realloc(m->stacks, *max * sizeof *ns)) == NULL)
			return NULL;
		m->stacks = ns;
	}
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	m->stacks[m->nstacks++] = s;
	s->process = process;
	s->stack = stack;
	i = mix((uint64_t)s->stack * 31 + (uint64_t)s->process) & m->smask;
	s->next = m->stab[i];
	m->stab[i] = s;
	return s;
}

/*
 * The stacks of timeline_stacks with their leaks, hashed by (process,
 * stack).  A trace recorded with --mode=leaks has no timeline: its stacks
 * are those of the blocks the scans at exit found, counted from them.
 */
static int
readstacks(Model *m)
{
	sqlite3_stmt *st;
	Stack *s;
	size_t i, max;
	int fromscan;

	m->smask = tablesize(m->db, "SELECT count(*) FROM timeline_stacks");
	if ((m->stab = calloc(m->smask + 1, sizeof *m->stab)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(m->db, "SELECT process, stack, allocations, bytes FROM timeline_stacks",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	max = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((s = stacknew(m, &max, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1))) == NULL) {
			sqlite3_finalize(st);
			return -1;
		}
		s->allocs = (uint64_t)sqlite3_column_int64(st, 2);
		s->bytes = (uint64_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	fromscan = m->nstacks == 0;
	for (i = 0; i < m->nleakrows; i++) {
		s = model_stack(m, m->leakrows[i].process, m->leakrows[i].stack);
		if (s == NULL && fromscan &&
		    (s = stacknew(m, &max, m->leakrows[i].process, m->leakrows[i].stack)) == NULL)
			return -1;
		if (s == NULL)
			continue;
		s->leak[m->leakrows[i].cls] += m->leakrows[i].bytes;
		if (fromscan) {
			s->allocs++;
			s->bytes += m->leakrows[i].bytes;
		}
	}
	free(m->leakrows);
	m->leakrows = NULL;
	m->nleakrows = 0;
	return 0;
}

int
model_tree_load(Model *m, Tree *t, char *err, size_t errlen)
{
	const Loc *chain[512];
	Frames *f;
	Stack *s;
	Node *n;
	size_t i;
	int k, nc, up;

	memset(t, 0, sizeof *t);
	t->sort = COL_BYTES;
	if ((f = m->frames = calloc(1, sizeof *f)) == NULL || readframes(m, f) < 0 ||
	    readstacks(m) < 0)
		goto fail;
	for (i = 0; i < m->nlive; i++) {
		m->live[i]->st = model_stack(m, m->live[i]->process, m->live[i]->stack);
		if (m->live[i]->st != NULL)
			m->live[i]->st->alive += m->live[i]->size;
	}
	for (up = 0; up < 2; up++) {
		if ((t->root[up] = calloc(1, sizeof *t->root[up])) == NULL)
			goto fail;
		t->root[up]->open = 1;
	}
	for (i = 0; i < m->nstacks; i++) {
		s = m->stacks[i];
		nc = model_chain(m, s->process, s->stack, chain, (int)nelem(chain));
		if ((s->chain = calloc((size_t)nc + 1, sizeof *s->chain)) == NULL)
			goto fail;
		for (k = 0; k < nc; k++)
			s->chain[k] = *chain[k];
		s->nchain = nc;
		for (up = 0; up < 2; up++) {
			n = t->root[up];
			addvals(n, s);
			for (k = 0; k < nc; k++) {
				if ((n = child(n, up ? &s->chain[k] : &s->chain[nc - 1 - k])) == NULL)
					goto fail;
				addvals(n, s);
			}
			s->end[up] = n;
		}
	}
	/* open the chain every stack shares (main's callers, main) */
	for (up = 0; up < 2; up++)
		for (n = t->root[up]; n->nkids == 1; n = n->kids[0])
			n->kids[0]->open = 1;
	tree_rows(t);
	return 0;
fail:
	snprintf(err, errlen, "out of memory reading the stacks");
	return -1;
}

static void
nodefree(Node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		nodefree(n->kids[i]);
	free(n->kids);
	free(n);
}

void
model_tree_free(Tree *t)
{
	nodefree(t->root[0]);
	nodefree(t->root[1]);
	free(t->rows);
	memset(t, 0, sizeof *t);
}

static void
zeroalive(Node *n)
{
	size_t i;

	n->v[COL_ALIVE] = 0;
	for (i = 0; i < n->nkids; i++)
		zeroalive(n->kids[i]);
}

void
tree_alive(Model *m, Tree *t)
{
	Stack *s;
	Node *n;
	size_t i;
	int up;

	for (up = t->up; up == t->up; up++) {
		zeroalive(t->root[up]);
		for (i = 0; i < m->nstacks; i++) {
			s = m->stacks[i];
			if (s->alive == 0)
				continue;
			for (n = s->end[up]; n != NULL; n = n->parent)
				n->v[COL_ALIVE] += s->alive;
		}
	}
	tree_rows(t);
}

static int sortcol, sortrev;

static int
nodecmp(const void *x, const void *y)
{
	const Node *a = *(Node *const *)x, *b = *(Node *const *)y;
	int r;

	if (sortcol == COL_NAME)
		r = strcmp(a->loc->func, b->loc->func);
	else
		r = a->v[sortcol] > b->v[sortcol] ? -1 : a->v[sortcol] < b->v[sortcol];
	if (r == 0)
		r = strcmp(a->loc->func, b->loc->func);
	return sortrev ? -r : r;
}

static void
addrows(Tree *t, Node *n)
{
	Node **nr;
	size_t i;

	if (t->nrows == t->maxrows) {
		t->maxrows = t->maxrows == 0 ? 256 : 2 * t->maxrows;
		if ((nr = realloc(t->rows, t->maxrows * sizeof *nr)) == NULL)
			return;
		t->rows = nr;
	}
	t->rows[t->nrows++] = n;
	if (!n->open)
		return;
	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof *n->kids, nodecmp);
	for (i = 0; i < n->nkids; i++)
		addrows(t, n->kids[i]);
}

void
tree_rows(Tree *t)
{
	Node *sel;

	sel = t->sel < t->nrows ? t->rows[t->sel] : NULL;
	sortcol = t->sort;
	sortrev = t->rev;
	t->nrows = 0;
	if (t->root[t->up] != NULL)
		addrows(t, t->root[t->up]);
	t->sel = 0;
	while (sel != NULL && t->sel < t->nrows && t->rows[t->sel] != sel)
		t->sel++;
	if (t->sel >= t->nrows)
		t->sel = 0;
}

void
tree_toggle(Tree *t)
{
	if (t->sel < t->nrows && t->rows[t->sel]->nkids > 0) {
		t->rows[t->sel]->open = !t->rows[t->sel]->open;
		tree_rows(t);
	}
}

void
tree_open(Tree *t, int open)
{
	Node *n;

	if (t->sel >= t->nrows)
		return;
	n = t->rows[t->sel];
	if (open && n->nkids > 0 && !n->open) {
		n->open = 1;
		tree_rows(t);
	} else if (!open && n->open && n->nkids > 0) {
		n->open = 0;
		tree_rows(t);
	} else if (!open && n->parent != NULL) {
		while (t->sel > 0 && t->rows[t->sel] != n->parent)
			t->sel--;
	}
}

static int
matches(const Node *n, const char *pat)
{
	return n->loc != NULL && (strstr(n->loc->func, pat) != NULL ||
	    (n->loc->file != NULL && strstr(n->loc->file, pat) != NULL));
}

/* Every node in the order the rows show them when all are open. */
static void
collect(Node *n, Node ***v, size_t *nv, size_t *max)
{
	Node **nn;
	size_t i;

	if (*nv == *max) {
		*max = *max == 0 ? 1024 : 2 * *max;
		if ((nn = realloc(*v, *max * sizeof *nn)) == NULL)
			return;
		*v = nn;
	}
	(*v)[(*nv)++] = n;
	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof *n->kids, nodecmp);
	for (i = 0; i < n->nkids; i++)
		collect(n->kids[i], v, nv, max);
}

int
tree_search(Tree *t, int dir)
{
	Node **all, *cur, *hit, *p;
	size_t n, max, i, at, k;

	if (t->pat[0] == '\0' || t->root[t->up] == NULL)
		return -1;
	all = NULL;
	n = max = 0;
	sortcol = t->sort;
	sortrev = t->rev;
	collect(t->root[t->up], &all, &n, &max);
	cur = t->sel < t->nrows ? t->rows[t->sel] : NULL;
	for (at = 0; at < n && all[at] != cur; at++)
		;
	hit = NULL;
	for (k = 1; k <= n && hit == NULL; k++) {
		i = dir > 0 ? (at + k) % n : (at + n - k % n) % n;
		if (matches(all[i], t->pat))
			hit = all[i];
	}
	free(all);
	if (hit == NULL)
		return -1;
	for (p = hit->parent; p != NULL; p = p->parent)
		p->open = 1;
	tree_rows(t);
	for (t->sel = 0; t->sel < t->nrows && t->rows[t->sel] != hit; t->sel++)
		;
	return 0;
}

void
model_frames_free(Model *m)
{
	Frames *f;

	if ((f = m->frames) == NULL)
		return;
	free(f->fr);
	free(f->pc);
	free(f->locs);
	free(f);
	m->frames = NULL;
}
