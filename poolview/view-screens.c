/*
 * poolview/view-screens.c -- the screens drawn from the model: the
 * overview with its heap chart, the stacks tree, the blocks list, the
 * heap map, the errors and a block's detail.  Each draws between the tab
 * bar (row 0) and the status line (the last row), from state view_sync
 * brought up to the cursor.
 *
 * Must never: run SQL, move the cursor, or read keys.
 */
#define NCURSES_WIDECHAR 1
#include "ui.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* printf at (y, x), cut at the right edge rather than wrapped to the next line. */
static void __attribute__((format(printf, 4, 5)))
putf(Ui *u, int y, int x, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (x >= u->cols)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	mvaddnstr(y, x, line, u->cols - x);
}

/* Colour pair c on, or the monochrome attribute mono. */
static void
on(Ui *u, int c, attr_t mono)
{
	if (u->color)
		attron(COLOR_PAIR(c));
	else
		attron(mono);
}

static void
off(Ui *u, int c, attr_t mono)
{
	if (u->color)
		attroff(COLOR_PAIR(c));
	else
		attroff(mono);
}

/* One eighth-high block for level 0..8 (0: blank); '#'-style without UTF-8. */
static void
barcell(Ui *u, int y, int x, int eighths)
{
	static const wchar_t *const bars[9] = {
		L" ", L"\u2581", L"\u2582", L"\u2583", L"\u2584", L"\u2585", L"\u2586", L"\u2587", L"\u2588"
	};
	static const char ascii[9] = " ..::||##";

	if (u->utf8)
		mvaddwstr(y, x, bars[eighths]);
	else
		mvaddch(y, x, (chtype)ascii[eighths]);
}

void
draw_overview(Ui *u)
{
	Model *m;
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	uint64_t *col, maxv, v;
	int w, h, x, y, lab, level, cx, kinds[PT_NKIND];
	int64_t s0, s1;
	size_t k, i;

	m = u->m;
	putf(u, 1, 1, "program  %.*s", u->cols - 12, m->program);
	if (u->leaksmode)
		putf(u, 2, 1, "processes %d   events 0   peak not known (no events)", m->nproc);
	else
		putf(u, 2, 1, "processes %d   events %lld   peak %s at event %lld", m->nproc,
		    (long long)m->maxseq, view_bytes(m->peak, b1, sizeof b1), (long long)m->peakseq);
	memset(kinds, 0, sizeof kinds);
	for (i = 0; i < m->npt; i++)
		kinds[m->pt[i].kind]++;
	/* without events (leaks mode) what was alive at exit is what the scans found */
	putf(u, 3, 1, "at exit %s alive   marks %d   snapshots %d   errors %d",
	    view_bytes(u->leaksmode ? m->inuse : m->nspan > 0 ? m->span[m->nspan - 1].inuse : 0,
	    b1, sizeof b1), kinds[PT_MARK], kinds[PT_SNAPSHOT], kinds[PT_ERROR]);
	putf(u, 4, 1, "%s: definite %s  indirect %s  possible %s  reachable %s",
	    u->sample > 0 ? "sampled blocks by class (leak estimates the totals)" : "by class",
	    view_bytes(m->leaktotal[CL_DEFINITE], b2, sizeof b2),
	    view_bytes(m->leaktotal[CL_INDIRECT], b3, sizeof b3),
	    view_bytes(m->leaktotal[CL_POSSIBLE], b4, sizeof b4),
	    view_bytes(m->leaktotal[CL_REACHABLE], b5, sizeof b5));

	/* the chart: heap in use over the run, one column a slice of the events */
	lab = 10;
	w = u->cols - lab - 2;
	h = u->rows - 12;
	if (w < 10 || h < 3 || m->maxseq == 0) {
		mvaddstr(6, 1, u->leaksmode ? "(no timeline: this trace was recorded with --mode=leaks;"
		    " the timeline needs a trace recorded with --mode=trace)" : "(no heap events)");
		return;
	}
	if ((col = calloc((size_t)w, sizeof *col)) == NULL)
		return;
	maxv = 1;
	for (k = 0; m->exact == NULL && k < m->nspan; k++) {
		x = (int)((m->span[k].seq - 1) * w / m->maxseq);
		if (x >= w)
			x = w - 1;
		if (m->span[k].inuse > col[x])
			col[x] = m->span[k].inuse;
		if (m->span[k].inuse > maxv)
			maxv = m->span[k].inuse;
	}
	/* a short trace event by event; elsewhere a slice without a span end shows its span */
	for (x = 0; x < w; x++) {
		s0 = (int64_t)x * m->maxseq / w + 1;
		s1 = (int64_t)(x + 1) * m->maxseq / w;
		if (m->exact != NULL) {
			for (; s0 <= s1 || (s0 == s1 + 1 && col[x] == 0 && s0 <= m->maxseq); s0++)
				if (model_inuse_at(m, s0) > col[x])
					col[x] = model_inuse_at(m, s0);
			if (col[x] > maxv)
				maxv = col[x];
		} else if (col[x] == 0 && x > 0)
			col[x] = model_inuse_at(m, s0);
	}
	cx = (int)(m->cur > 0 ? (m->cur - 1) * w / m->maxseq : 0);
	if (cx >= w)
		cx = w - 1;
	putf(u, 6, 0, "%9s", view_bytes(maxv, b1, sizeof b1));
	putf(u, 6 + h - 1, 0, "%9s", "0");
	for (x = 0; x < w; x++) {
		v = col[x];
		level = (int)((v * (uint64_t)h * 8 + maxv / 2) / maxv);
		if (x == cx)
			on(u, 6, A_REVERSE);
		else
			on(u, 2, A_NORMAL);
		for (y = 0; y < h; y++) {
			int e = level - (h - 1 - y) * 8;

			barcell(u, 6 + y, lab + x, e < 0 ? 0 : e > 8 ? 8 : e);
			if (x == cx && e <= 0)
				mvaddch(6 + y, lab + x, u->utf8 ? ACS_VLINE : '|');
		}
		if (x == cx)
			off(u, 6, A_REVERSE);
		else
			off(u, 2, A_NORMAL);
	}
	/* the points and the cursor under the chart */
	y = 6 + h;
	mvhline(y, lab, ' ', w);
	for (i = 0; i < m->npt; i++) {
		x = (int)(m->pt[i].seq > 0 ? (m->pt[i].seq - 1) * w / m->maxseq : 0);
		if (x >= w)
			x = w - 1;
		on(u, m->pt[i].kind == PT_ERROR ? 3 : m->pt[i].kind == PT_MARK ? 4 : 7, A_BOLD);
		mvaddch(y, lab + x, m->pt[i].kind == PT_ERROR ? 'E' : m->pt[i].kind == PT_MARK ? 'M' : 'S');
		off(u, m->pt[i].kind == PT_ERROR ? 3 : m->pt[i].kind == PT_MARK ? 4 : 7, A_BOLD);
	}
	x = (int)(m->peakseq > 0 ? (m->peakseq - 1) * w / m->maxseq : 0);
	mvaddch(y, lab + (x < w ? x : w - 1), 'P');
	attron(A_BOLD);
	mvaddch(y + 1, lab + cx, '^');
	attroff(A_BOLD);
	s1 = m->maxseq;
	putf(u, y + 2, 0, "%9s %s", "event", "1");
	putf(u, y + 2, lab + w - 20, "%20lld", (long long)s1);
	putf(u, y + 3, lab, "cursor at event %lld: heap in use %s   chart: P peak, M mark, S snapshot,"
	    " E error", (long long)m->cur, view_bytes(m->inuse, b1, sizeof b1));
	free(col);
}

static void
header(Ui *u, int y, const char *s)
{
	attron(A_BOLD | A_UNDERLINE);
	mvhline(y, 0, ' ', u->cols);
	mvaddnstr(y, 0, s, u->cols);
	attroff(A_BOLD | A_UNDERLINE);
}

/* Keep the selection sel in the window of n rows from *top. */
static void
scrollto(size_t *top, size_t sel, int n)
{
	if (sel < *top)
		*top = sel;
	if (sel >= *top + (size_t)n)
		*top = sel - (size_t)n + 1;
}

static void
num(char *buf, size_t len, uint64_t v, int bytes)
{
	if (v == 0)
		snprintf(buf, len, "-");
	else if (bytes)
		view_bytes(v, buf, len);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

void
draw_stacks(Ui *u)
{
	static const char *const names[NCOL] = { "allocs", "bytes", "alive", "definite", "indirect",
	    "possible", "function" };
	Tree *t;
	Node *n;
	char line[1024], cell[6][24], hd[256], nm[24];
	int y, nrows, namew, c;
	size_t r;

	t = &u->t;
	nrows = u->rows - 5;
	namew = u->cols - 6 * 10 - 1;
	snprintf(hd, sizeof hd, "%-*s", namew, t->up ? "bottom-up: allocating function first (b: top-down)" :
	    "top-down: callers first (b: bottom-up)");
	for (c = 0; c < COL_NAME; c++) {
		snprintf(nm, sizeof nm, "%s%s", names[c], c == t->sort ? "*" : "");
		snprintf(hd + strlen(hd), sizeof hd - strlen(hd), "%10s", nm);
	}
	header(u, 1, hd);
	putf(u, 2, 0, "sort: %s%s   search: %s", names[t->sort], t->rev ? " (ascending)" : "",
	    t->pat[0] != '\0' ? t->pat : "(/ to search)");
	scrollto(&u->top[SCR_STACKS], t->sel, nrows);
	for (y = 0; y < nrows && u->top[SCR_STACKS] + (size_t)y < t->nrows; y++) {
		r = u->top[SCR_STACKS] + (size_t)y;
		n = t->rows[r];
		if (n->loc == NULL)
			snprintf(line, sizeof line, "%c all allocations", n->open ? '-' : '+');
		else
			snprintf(line, sizeof line, "%*s%c %s%s%s", 2 * (n->depth < 30 ? n->depth : 30), "",
			    n->nkids == 0 ? ' ' : n->open ? '-' : '+', n->loc->func,
			    n->loc->file != NULL ? "  " : "",
			    n->loc->file != NULL ? strrchr(n->loc->file, '/') != NULL ?
			    strrchr(n->loc->file, '/') + 1 : n->loc->file : "");
		num(cell[0], sizeof cell[0], n->v[COL_ALLOCS], 0);
		for (c = 1; c < 6; c++)
			num(cell[c], sizeof cell[c], n->v[c], 1);
		if (r == t->sel)
			attron(A_REVERSE);
		mvhline(3 + y, 0, ' ', u->cols);
		putf(u, 3 + y, 0, "%-*.*s", namew, namew, line);
		for (c = 0; c < 6; c++) {
			if ((c >= COL_DEF && c <= COL_POS && n->v[c] > 0) && r != t->sel)
				on(u, 3, A_BOLD);
			putf(u, 3 + y, namew + 10 * c, "%10s", cell[c]);
			if ((c >= COL_DEF && c <= COL_POS && n->v[c] > 0) && r != t->sel)
				off(u, 3, A_BOLD);
		}
		if (r == t->sel)
			attroff(A_REVERSE);
	}
}

void
draw_blocks(Ui *u)
{
	static const char *const names[NBS] = { "address", "size", "age", "class", "function" };
	Blist *l;
	Model *m;
	Blk *b;
	char b1[32], filt[200];
	int y, nrows, c;
	int64_t now, age;
	size_t r;

	l = &u->bl;
	m = u->m;
	snprintf(filt, sizeof filt, "%zu of %zu blocks alive %s   sort: %s%s   filter:",
	    l->n, m->nlive, u->leaksmode ? "at exit" : "at the cursor", names[l->sort],
	    l->rev ? " (reversed)" : "");
	if (l->minsize > 0 || l->maxsize > 0)
		snprintf(filt + strlen(filt), sizeof filt - strlen(filt), " size %llu-%llu",
		    (unsigned long long)l->minsize, (unsigned long long)l->maxsize);
	if (l->cls >= 0)
		snprintf(filt + strlen(filt), sizeof filt - strlen(filt), " class %s",
		    model_clsname(l->cls));
	if (l->func[0] != '\0')
		snprintf(filt + strlen(filt), sizeof filt - strlen(filt), " function ~ %s", l->func);
	if (l->minsize == 0 && l->maxsize == 0 && l->cls < 0 && l->func[0] == '\0')
		snprintf(filt + strlen(filt), sizeof filt - strlen(filt), " none (z size, c class, f function)");
	mvaddnstr(2, 0, filt, u->cols);
	header(u, 1, "address              size        age class      allocated by");
	nrows = u->rows - 5;
	now = model_time(m, m->cur);
	scrollto(&u->top[SCR_BLOCKS], l->sel, nrows);
	for (y = 0; y < nrows && u->top[SCR_BLOCKS] + (size_t)y < l->n; y++) {
		r = u->top[SCR_BLOCKS] + (size_t)y;
		b = l->v[r];
		age = now - (b->time - m->t0);
		if (r == l->sel)
			attron(A_REVERSE);
		mvhline(3 + y, 0, ' ', u->cols);
		c = b->cls >= CL_POSSIBLE ? 3 : 0;
		putf(u, 3 + y, 0, "0x%-14llx %10s %9.3fs ", (unsigned long long)b->ptr,
		    view_bytes(b->size, b1, sizeof b1), (double)(age < 0 ? 0 : age) / 1e9);
		if (c != 0 && r != l->sel)
			on(u, c, A_BOLD);
		printw("%-10s", model_clsname(b->cls));
		if (c != 0 && r != l->sel)
			off(u, c, A_BOLD);
		printw("%.*s", u->cols - 49 > 0 ? u->cols - 49 : 0, model_blkfunc(m, b));
		if (r == l->sel)
			attroff(A_REVERSE);
	}
	if (l->n == 0)
		mvaddstr(4, 2, u->leaksmode ? "(no block alive at exit matches)" :
		    "(no block alive at the cursor matches)");
}

void
draw_map(Ui *u)
{
	static const char cellch[] = { '.', 'h', '#', '!', ' ' };
	static const int cellcol[] = { 5, 4, 2, 3, 0 };
	Hmap *hm;
	Blk *b;
	char b1[32], b2[32];
	int x, y, c;
	size_t i;

	hm = &u->hm;
	putf(u, 1, 0, "image %lld at event %lld: %s from 0x%llx, %s a cell", (long long)hm->process,
	    (long long)u->m->cur, view_bytes(hm->bytes, b1, sizeof b1), (unsigned long long)hm->lo,
	    view_bytes(hm->per, b2, sizeof b2));
	if (hm->derived)
		putf(u, 2, 0, "no arenas known: the bounds of the blocks alive");
	else
		putf(u, 2, 0, "arenas of the nearest scan (scans.id %lld), %d of them", (long long)hm->scan,
		    hm->narena);
	putf(u, u->rows - 4, 0, "# allocated  ! leaked  h header  . free  (blank) outside the arenas");
	if (hm->cell == NULL || hm->bytes == 0) {
		mvaddstr(4, 2, "(nothing alive at the cursor, and no arenas known)");
		return;
	}
	for (y = 0; y < hm->h; y++) {
		move(3 + y, 1);
		for (x = 0; x < hm->w; x++) {
			i = (size_t)y * (size_t)hm->w + (size_t)x;
			c = hm->cell[i];
			if (i == hm->sel)
				attron(A_REVERSE);
			else if (cellcol[c] != 0)
				on(u, cellcol[c], A_NORMAL);
			addch((chtype)cellch[c]);
			if (i == hm->sel)
				attroff(A_REVERSE);
			else if (cellcol[c] != 0)
				off(u, cellcol[c], A_NORMAL);
		}
	}
	b = hm->sel < (size_t)hm->w * (size_t)hm->h ? hm->blk[hm->sel] : NULL;
	move(u->rows - 3, 0);
	clrtoeol();
	if (b != NULL)
		putf(u, u->rows - 3, 0, "under the cursor: 0x%llx  %s  %s  %s  (Enter: detail)",
		    (unsigned long long)b->ptr, view_bytes(b->size, b1, sizeof b1), model_clsname(b->cls),
		    model_blkfunc(u->m, b));
	else
		putf(u, u->rows - 3, 0, "under the cursor: 0x%llx  no block",
		    (unsigned long long)(hm->lo + hm->sel * hm->per));
}

/* The frames of a stack from row y on, at most n rows; rows used. */
static int
stackrows(Ui *u, int64_t process, int64_t stack, int y, int n)
{
	const Loc *ch[64];
	const char *file;
	int k, nc, room, len;

	nc = model_chain(u->m, process, stack, ch, (int)nelem(ch));
	room = u->cols - 4 - 41 - 8;
	for (k = 0; k < nc && k < n; k++) {
		file = ch[k]->file != NULL ? ch[k]->file : "?";
		len = (int)strlen(file);
		/* a path too long for the line keeps its end, where the file's name is */
		if (ch[k]->file == NULL)
			putf(u, y + k, 4, "%s", ch[k]->func);
		else
			putf(u, y + k, 4, "%-40.40s %s%s:%d", ch[k]->func, len > room ? "..." : "",
			    len > room && room > 3 ? file + len - room + 3 : file, ch[k]->line);
	}
	if (nc == 0 && n > 0) {
		mvaddstr(y, 4, "(no stack recorded)");
		return 1;
	}
	return k;
}

void
draw_errors(Ui *u)
{
	Err *e;
	int y, nrows;
	size_t r;

	header(u, 1, "event      kind              pointer            report");
	if (u->nerr == 0) {
		mvaddstr(3, 2, "no heap errors in this trace");
		return;
	}
	nrows = (u->rows - 5) / 2;
	scrollto(&u->top[SCR_ERRORS], u->errsel, nrows);
	for (y = 0; y < nrows && u->top[SCR_ERRORS] + (size_t)y < (size_t)u->nerr; y++) {
		r = u->top[SCR_ERRORS] + (size_t)y;
		e = &u->errs[r];
		if (r == u->errsel)
			attron(A_REVERSE);
		else
			on(u, 3, A_NORMAL);
		mvhline(2 + y, 0, ' ', u->cols);
		putf(u, 2 + y, 0, "%-10lld %-17s 0x%-16llx %.*s", (long long)e->seq, e->kind,
		    (unsigned long long)e->ptr, u->cols - 49 > 0 ? u->cols - 49 : 0, e->msg);
		if (r == u->errsel)
			attroff(A_REVERSE);
		else
			off(u, 3, A_NORMAL);
	}
	e = &u->errs[u->errsel];
	header(u, 3 + nrows, "where (Enter: move the cursor to it)");
	stackrows(u, e->process, e->stack, 4 + nrows, u->rows - 6 - nrows);
}

void
draw_detail(Ui *u)
{
	Detail *d;
	char b1[32];
	int y, i, np;

	d = &u->d;
	if (!u->hasdetail) {
		mvaddstr(2, 2, "no block chosen");
		return;
	}
	putf(u, 1, 0, "block 0x%llx, %s (%llu bytes), made by %s at event %lld, class at exit: %s",
	    (unsigned long long)d->b.ptr, view_bytes(d->b.size, b1, sizeof b1),
	    (unsigned long long)d->b.size, d->b.call != NULL ? d->b.call : "?", (long long)d->b.seq,
	    model_clsname(d->b.cls));
	if (d->free_seq != 0)
		putf(u, 2, 0, "freed by %s at event %lld", d->free_call, (long long)d->free_seq);
	else
		mvaddstr(2, 0, "never freed");
	y = 3;
	if (d->bsize != 0)
		putf(u, y++, 0, "pool block 0x%llx, %llu bytes with its header; tag 0x%llx",
		    (unsigned long long)d->block, (unsigned long long)d->bsize,
		    (unsigned long long)d->tag);
	if (d->npreview > 0) {
		np = u->cols >= 120 ? d->npreview : d->npreview < 16 ? d->npreview : 16;
		mvaddstr(y, 0, "preview ");
		for (i = 0; i < np; i++)
			printw("%02x%s", d->preview[i], i % 4 == 3 ? " " : "");
		printw(" |");
		for (i = 0; i < np; i++)
			addch(d->preview[i] >= 32 && d->preview[i] < 127 ? d->preview[i] : '.');
		addch('|');
		y++;
	}
	header(u, y++, "allocation stack");
	y += stackrows(u, d->b.process, d->b.stack, y, d->free_seq == 0 && d->nhist == 0 ?
	    u->rows - y - 3 : (u->rows - y - 4) / 2);
	if (d->free_seq != 0) {
		header(u, y++, "free stack");
		y += stackrows(u, d->b.process, d->free_stack, y, (u->rows - y - 3) / 2);
	}
	if (d->nhist > 0 && y < u->rows - 3) {
		header(u, y++, "realloc history");
		for (i = 0; i < d->nhist && y < u->rows - 2; i++)
			mvaddnstr(y++, 4, d->hist[i], u->cols - 4);
	}
}
