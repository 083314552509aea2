/*
 * poolview/keys.c -- every key poolview knows, in one table: key ->
 * action name -> function, with the screens it works on and the line the
 * help page shows.  The first row whose key and screen match wins, so a
 * screen's own meaning of a key comes before the general one.
 *
 * Must never: draw (beyond the help page), or run SQL but through the
 * model's calls.
 */
#include "ui.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTRL(c)		((c) & 0x1f)
#define ALL		0x7f
#define ON(s)		(1 << (s))
#define LISTS		(ON(SCR_STACKS) | ON(SCR_BLOCKS) | ON(SCR_ERRORS))

typedef struct Key Key;
struct Key {
	int	key;
	const char *name;	/* the action */
	int	screens;	/* ON(SCR_*) mask */
	void	(*fn)(Ui *);
	const char *keyname;	/* as the help shows it; NULL: a second key of the row above */
	const char *help;
};

static void
seek(Ui *u, int64_t seq)
{
	if (seq < 0) {
		snprintf(u->msg, sizeof u->msg, "nothing there");
		return;
	}
	if (u->leaksmode) {
		snprintf(u->msg, sizeof u->msg, "no events to move through: a --mode=leaks trace");
		return;
	}
	if (model_seek(u->m, seq) < 0)
		snprintf(u->msg, sizeof u->msg, "poolview: cannot move: out of memory");
}

static int64_t
bigstep(const Ui *u)
{
	return u->m->maxseq / 100 > 1 ? u->m->maxseq / 100 : 1;
}

static void a_quit(Ui *u) { u->quit = 1; }
static void a_help(Ui *u) { if (u->scr != SCR_HELP) { if (u->scr < NMAIN) u->back = u->scr; u->scr = SCR_HELP; u->helptop = 0; } }
static void a_back(Ui *u) { if (u->scr >= NMAIN) u->scr = u->back; }
static void a_next(Ui *u) { u->scr = u->scr < NMAIN ? (u->scr + 1) % NMAIN : u->back; }
static void a_prev(Ui *u) { u->scr = u->scr < NMAIN ? (u->scr + NMAIN - 1) % NMAIN : u->back; }
static void a_scr1(Ui *u) { u->scr = SCR_OVERVIEW; }
static void a_scr2(Ui *u) { u->scr = SCR_STACKS; }
static void a_scr3(Ui *u) { u->scr = SCR_BLOCKS; }
static void a_scr4(Ui *u) { u->scr = SCR_MAP; }
static void a_scr5(Ui *u) { u->scr = SCR_ERRORS; }
static void a_tprev(Ui *u) { seek(u, u->m->cur - 1); }
static void a_tnext(Ui *u) { seek(u, u->m->cur + 1); }
static void a_tback(Ui *u) { seek(u, u->m->cur - bigstep(u)); }
static void a_tfwd(Ui *u) { seek(u, u->m->cur + bigstep(u)); }
static void a_tstart(Ui *u) { seek(u, 0); }
static void a_tend(Ui *u) { seek(u, u->m->maxseq); }
static void a_tpeak(Ui *u) { seek(u, u->m->peakseq); }
static void a_nerr(Ui *u) { seek(u, model_point(u->m, PT_ERROR, 1)); }
static void a_perr(Ui *u) { seek(u, model_point(u->m, PT_ERROR, -1)); }
static void a_nmark(Ui *u) { seek(u, model_point(u->m, PT_MARK, 1)); }
static void a_pmark(Ui *u) { seek(u, model_point(u->m, PT_MARK, -1)); }
static void a_nsnap(Ui *u) { seek(u, model_point(u->m, PT_SNAPSHOT, 1)); }
static void a_psnap(Ui *u) { seek(u, model_point(u->m, PT_SNAPSHOT, -1)); }

static size_t helprows(void);

/* The selection of the list screen shown, and its length. */
static size_t *
selof(Ui *u, size_t *n)
{
	switch (u->scr) {
	case SCR_STACKS:
		*n = u->t.nrows;
		return &u->t.sel;
	case SCR_BLOCKS:
		*n = u->bl.n;
		return &u->bl.sel;
	case SCR_ERRORS:
		*n = (size_t)u->nerr;
		return &u->errsel;
	case SCR_HELP:
		*n = helprows() > (size_t)(u->rows - 4) ? helprows() - (size_t)(u->rows - 4) + 1 : 1;
		return &u->helptop;
	}
	*n = 0;
	return NULL;
}

static void
move_sel(Ui *u, long d)
{
	size_t *sel, n;

	if ((sel = selof(u, &n)) == NULL || n == 0)
		return;
	if (d < 0 && (size_t)-d > *sel)
		*sel = 0;
	else if (d > 0 && *sel + (size_t)d >= n)
		*sel = n - 1;
	else
		*sel = (size_t)((long)*sel + d);
}

static void a_up(Ui *u) { move_sel(u, -1); }
static void a_down(Ui *u) { move_sel(u, 1); }
static void a_pgup(Ui *u) { move_sel(u, -view_listrows(u)); }
static void a_pgdn(Ui *u) { move_sel(u, view_listrows(u)); }
static void a_top(Ui *u) { move_sel(u, -(long)1e9); }
static void a_bottom(Ui *u) { move_sel(u, (long)1e9); }

static void
detail(Ui *u, Blk *b)
{
	if (b == NULL)
		return;
	if (model_detail(u->m, b, &u->d) < 0) {
		snprintf(u->msg, sizeof u->msg, "cannot read the block's detail");
		return;
	}
	u->hasdetail = 1;
	u->back = u->scr;
	u->scr = SCR_DETAIL;
}

static void a_toggle(Ui *u) { tree_toggle(&u->t); }
static void a_expand(Ui *u) { tree_open(&u->t, 1); }
static void a_collapse(Ui *u) { tree_open(&u->t, 0); }
static void a_updown(Ui *u) { u->t.up = !u->t.up; u->t.sel = 0; u->top[SCR_STACKS] = 0; u->treeat = -1; tree_rows(&u->t); }
static void a_tsort(Ui *u) { u->t.sort = (u->t.sort + 1) % NCOL; tree_rows(&u->t); }
static void a_trev(Ui *u) { u->t.rev = !u->t.rev; tree_rows(&u->t); }

static void
a_search(Ui *u)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%s", u->t.pat);
	if (view_prompt(u, "search function or file: ", buf, sizeof buf) < 0)
		return;
	snprintf(u->t.pat, sizeof u->t.pat, "%s", buf);
	if (tree_search(&u->t, 1) < 0)
		snprintf(u->msg, sizeof u->msg, "no function or file matches \"%s\"", buf);
}

static void
a_snext(Ui *u)
{
	if (tree_search(&u->t, 1) < 0)
		snprintf(u->msg, sizeof u->msg, "no match");
}

static void
a_sprev(Ui *u)
{
	if (tree_search(&u->t, -1) < 0)
		snprintf(u->msg, sizeof u->msg, "no match");
}

static void a_bopen(Ui *u) { detail(u, u->bl.sel < u->bl.n ? u->bl.v[u->bl.sel] : NULL); }
static void refill(Ui *u) { u->listat = -1; }
static void a_bsort(Ui *u) { u->bl.sort = (u->bl.sort + 1) % NBS; refill(u); }
static void a_brev(Ui *u) { u->bl.rev = !u->bl.rev; refill(u); }
static void a_bcls(Ui *u) { u->bl.cls = u->bl.cls + 1 >= NCL ? -1 : u->bl.cls + 1; refill(u); }

static void
a_bclear(Ui *u)
{
	u->bl.minsize = u->bl.maxsize = 0;
	u->bl.cls = -1;
	u->bl.func[0] = '\0';
	refill(u);
}

static void
a_bfunc(Ui *u)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%s", u->bl.func);
	if (view_prompt(u, "blocks of functions containing: ", buf, sizeof buf) == 0) {
		snprintf(u->bl.func, sizeof u->bl.func, "%s", buf);
		refill(u);
	}
}

static void
a_bsize(Ui *u)
{
	char buf[64], *e;
	unsigned long long lo, hi;

	buf[0] = '\0';
	if (view_prompt(u, "size range MIN-MAX (bytes; empty: any): ", buf, sizeof buf) < 0)
		return;
	lo = strtoull(buf, &e, 10);
	hi = *e == '-' ? strtoull(e + 1, NULL, 10) : 0;
	u->bl.minsize = lo;
	u->bl.maxsize = hi;
	refill(u);
}

static void
mapmove(Ui *u, long d)
{
	long n, s;

	n = (long)u->hm.w * u->hm.h;
	s = (long)u->hm.sel + d;
	if (n > 0 && s >= 0 && s < n)
		u->hm.sel = (size_t)s;
}

static void a_mleft(Ui *u) { mapmove(u, -1); }
static void a_mright(Ui *u) { mapmove(u, 1); }
static void a_mup(Ui *u) { mapmove(u, -u->hm.w); }
static void a_mdown(Ui *u) { mapmove(u, u->hm.w); }

static void
a_mopen(Ui *u)
{
	if (u->hm.blk != NULL && u->hm.sel < (size_t)u->hm.w * (size_t)u->hm.h)
		detail(u, u->hm.blk[u->hm.sel]);
}

static void
a_eopen(Ui *u)
{
	if (u->nerr > 0)
		seek(u, u->errs[u->errsel].seq);
}

static const Key keys[] = {
	/* the heap map: arrows and vi keys move over the cells */
	{ KEY_LEFT, "map-left", ON(SCR_MAP), a_mleft, "Left h", "heap map: the cell to the left" },
	{ 'h', "map-left", ON(SCR_MAP), a_mleft, NULL, NULL },
	{ KEY_RIGHT, "map-right", ON(SCR_MAP), a_mright, "Right l", "heap map: the cell to the right" },
	{ 'l', "map-right", ON(SCR_MAP), a_mright, NULL, NULL },
	{ KEY_UP, "map-up", ON(SCR_MAP), a_mup, "Up k", "heap map: the cell above" },
	{ 'k', "map-up", ON(SCR_MAP), a_mup, NULL, NULL },
	{ KEY_DOWN, "map-down", ON(SCR_MAP), a_mdown, "Down j", "heap map: the cell below" },
	{ 'j', "map-down", ON(SCR_MAP), a_mdown, NULL, NULL },
	{ '\r', "map-open", ON(SCR_MAP), a_mopen, "Enter", "heap map: the detail of the block under the cursor" },
	{ '\n', "map-open", ON(SCR_MAP), a_mopen, NULL, NULL },
	{ KEY_ENTER, "map-open", ON(SCR_MAP), a_mopen, NULL, NULL },
	/* stacks */
	{ '\r', "tree-toggle", ON(SCR_STACKS), a_toggle, "Enter Space", "stacks: open or close the node" },
	{ '\n', "tree-toggle", ON(SCR_STACKS), a_toggle, NULL, NULL },
	{ KEY_ENTER, "tree-toggle", ON(SCR_STACKS), a_toggle, NULL, NULL },
	{ ' ', "tree-toggle", ON(SCR_STACKS), a_toggle, NULL, NULL },
	{ '+', "tree-open", ON(SCR_STACKS), a_expand, "+", "stacks: open the node" },
	{ '-', "tree-close", ON(SCR_STACKS), a_collapse, "-", "stacks: close the node (or go to its parent)" },
	{ 'b', "tree-direction", ON(SCR_STACKS), a_updown, "b", "stacks: top-down / bottom-up" },
	{ 'o', "tree-sort", ON(SCR_STACKS), a_tsort, "o", "stacks: sort by the next column" },
	{ 'O', "tree-reverse", ON(SCR_STACKS), a_trev, "O", "stacks: reverse the order" },
	{ '/', "tree-search", ON(SCR_STACKS), a_search, "/", "stacks: search function and file names" },
	{ 'n', "tree-next-match", ON(SCR_STACKS), a_snext, "n", "stacks: next match" },
	{ 'N', "tree-prev-match", ON(SCR_STACKS), a_sprev, "N", "stacks: previous match" },
	/* blocks */
	{ '\r', "block-open", ON(SCR_BLOCKS), a_bopen, "Enter", "blocks: the block's detail" },
	{ '\n', "block-open", ON(SCR_BLOCKS), a_bopen, NULL, NULL },
	{ KEY_ENTER, "block-open", ON(SCR_BLOCKS), a_bopen, NULL, NULL },
	{ 'o', "blocks-sort", ON(SCR_BLOCKS), a_bsort, "o", "blocks: sort by the next column" },
	{ 'O', "blocks-reverse", ON(SCR_BLOCKS), a_brev, "O", "blocks: reverse the order" },
	{ 'z', "blocks-size", ON(SCR_BLOCKS), a_bsize, "z", "blocks: only sizes in a range" },
	{ 'c', "blocks-class", ON(SCR_BLOCKS), a_bcls, "c", "blocks: only one class (again: the next)" },
	{ 'f', "blocks-function", ON(SCR_BLOCKS), a_bfunc, "f /", "blocks: only blocks of a function" },
	{ '/', "blocks-function", ON(SCR_BLOCKS), a_bfunc, NULL, NULL },
	{ 'x', "blocks-unfilter", ON(SCR_BLOCKS), a_bclear, "x", "blocks: no filter" },
	/* errors */
	{ '\r', "error-goto", ON(SCR_ERRORS), a_eopen, "Enter", "errors: move the cursor to the error" },
	{ '\n', "error-goto", ON(SCR_ERRORS), a_eopen, NULL, NULL },
	{ KEY_ENTER, "error-goto", ON(SCR_ERRORS), a_eopen, NULL, NULL },
	/* lists */
	{ KEY_UP, "up", LISTS | ON(SCR_HELP), a_up, "Up k", "lists: the row above" },
	{ 'k', "up", LISTS | ON(SCR_HELP), a_up, NULL, NULL },
	{ KEY_DOWN, "down", LISTS | ON(SCR_HELP), a_down, "Down j", "lists: the row below" },
	{ 'j', "down", LISTS | ON(SCR_HELP), a_down, NULL, NULL },
	{ CTRL('b'), "page-up", LISTS | ON(SCR_HELP), a_pgup, "^B ^U", "lists: a page up" },
	{ CTRL('u'), "page-up", LISTS | ON(SCR_HELP), a_pgup, NULL, NULL },
	{ CTRL('f'), "page-down", LISTS | ON(SCR_HELP), a_pgdn, "^F ^D", "lists: a page down" },
	{ CTRL('d'), "page-down", LISTS | ON(SCR_HELP), a_pgdn, NULL, NULL },
	{ 'g', "first", LISTS | ON(SCR_HELP), a_top, "g", "lists: the first row" },
	{ 'G', "last", LISTS | ON(SCR_HELP), a_bottom, "G", "lists: the last row" },
	/* time */
	{ KEY_LEFT, "time-back", ALL, a_tprev, "Left h ,", "time: one event back" },
	{ 'h', "time-back", ALL, a_tprev, NULL, NULL },
	{ ',', "time-back", ALL, a_tprev, NULL, NULL },
	{ KEY_RIGHT, "time-forward", ALL, a_tnext, "Right l .", "time: one event forward" },
	{ 'l', "time-forward", ALL, a_tnext, NULL, NULL },
	{ '.', "time-forward", ALL, a_tnext, NULL, NULL },
	{ KEY_PPAGE, "time-back-far", ALL, a_tback, "PgUp", "time: a hundredth of the run back" },
	{ KEY_NPAGE, "time-forward-far", ALL, a_tfwd, "PgDn", "time: a hundredth of the run forward" },
	{ KEY_HOME, "time-start", ALL, a_tstart, "Home ^", "time: the start (before the first event)" },
	{ '^', "time-start", ALL, a_tstart, NULL, NULL },
	{ KEY_END, "time-end", ALL, a_tend, "End $", "time: the end (the last event)" },
	{ '$', "time-end", ALL, a_tend, NULL, NULL },
	{ 'p', "time-peak", ALL, a_tpeak, "p", "time: the peak of heap in use" },
	{ 'e', "next-error", ALL, a_nerr, "e E", "time: the next / previous heap error" },
	{ 'E', "prev-error", ALL, a_perr, NULL, NULL },
	{ 'm', "next-mark", ALL, a_nmark, "m M", "time: the next / previous mark" },
	{ 'M', "prev-mark", ALL, a_pmark, NULL, NULL },
	{ 's', "next-snapshot", ALL, a_nsnap, "s S", "time: the next / previous snapshot" },
	{ 'S', "prev-snapshot", ALL, a_psnap, NULL, NULL },
	/* screens */
	{ '\t', "next-screen", ALL, a_next, "Tab", "the next screen (BackTab: the one before)" },
	{ KEY_BTAB, "prev-screen", ALL, a_prev, NULL, NULL },
	{ '1', "overview", ALL, a_scr1, "1", "the overview: totals and the heap over the run" },
	{ '2', "stacks", ALL, a_scr2, "2", "the allocation stacks" },
	{ '3', "blocks", ALL, a_scr3, "3", "the blocks alive at the cursor" },
	{ '4', "heap-map", ALL, a_scr4, "4", "the heap map at the cursor" },
	{ '5', "errors", ALL, a_scr5, "5", "the heap errors" },
	{ 27, "back", ALL, a_back, "Esc Backspace", "back from a detail or the help" },
	{ KEY_BACKSPACE, "back", ALL, a_back, NULL, NULL },
	{ 127, "back", ALL, a_back, NULL, NULL },
	{ 8, "back", ALL, a_back, NULL, NULL },
	{ '?', "help", ALL, a_help, "?", "this help" },
	{ 'q', "quit", ALL, a_quit, "q", "quit" },
};

void
keys_do(Ui *u, int key)
{
	size_t i;

	u->msg[0] = '\0';
	if (key == KEY_RESIZE)
		return;
	if (u->rows < MINROWS || u->cols < MINCOLS) {
		if (key == 'q')
			u->quit = 1;
		return;
	}
	for (i = 0; i < nelem(keys); i++) {
		if (keys[i].key == key && (keys[i].screens & ON(u->scr)) != 0) {
			keys[i].fn(u);
			return;
		}
	}
	snprintf(u->msg, sizeof u->msg, "no action for that key here (? shows every key)");
}

/* Rows of the help page: the rows of the table with a key name. */
static size_t
helprows(void)
{
	size_t i, n;

	for (i = n = 0; i < nelem(keys); i++)
		n += keys[i].keyname != NULL;
	return n;
}

void
draw_help(Ui *u)
{
	size_t i, row;
	int y;

	attron(A_BOLD);
	mvprintw(1, 0, "poolview keys, %zu-%zu of %zu (Esc: back; Up/Down/g/G scroll)", u->helptop + 1,
	    u->helptop + (size_t)(u->rows - 4) < helprows() ? u->helptop + (size_t)(u->rows - 4) :
	    helprows(), helprows());
	attroff(A_BOLD);
	y = 2;
	row = 0;
	for (i = 0; i < nelem(keys) && y < u->rows - 1; i++) {
		if (keys[i].keyname == NULL)
			continue;
		if (row++ < u->helptop)
			continue;
		mvprintw(y++, 2, "%-14s %-18s %s", keys[i].keyname, keys[i].name, keys[i].help);
	}
}
