/*
 * poolview/view.c -- the only file that talks to the terminal's frame:
 * curses started and ended, colours (or none, with NO_COLOR or a
 * monochrome terminal), the tab bar, the status line, the message for a
 * terminal too small, the prompt, and bringing each screen's derived
 * state up to the time cursor before it is drawn.
 *
 * Must never: run SQL, or change the model except through its calls.
 */
#include "ui.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tabs[NMAIN] = { "Overview", "Stacks", "Blocks", "Heap map", "Errors" };

const char *
view_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v;
	int u;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	v = (double)n;
	for (u = 0; v >= 1024 && u < 4; u++)
		v /= 1024;
	snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

void
view_start(Ui *u)
{
	const char *nc;

	initscr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	nc = getenv("NO_COLOR");
	u->color = has_colors() && (nc == NULL || nc[0] == '\0');
	if (u->color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_BLACK, COLOR_CYAN);	/* bars */
		init_pair(2, COLOR_GREEN, -1);		/* allocated */
		init_pair(3, COLOR_RED, -1);		/* leaked, errors */
		init_pair(4, COLOR_YELLOW, -1);		/* headers, marks */
		init_pair(5, COLOR_BLUE, -1);		/* free */
		init_pair(6, COLOR_CYAN, -1);		/* the cursor on the chart */
		init_pair(7, COLOR_MAGENTA, -1);	/* snapshots */
	}
	getmaxyx(stdscr, u->rows, u->cols);
}

void
view_end(void)
{
	endwin();
}

int
view_listrows(const Ui *u)
{
	return u->rows - 4 > 1 ? u->rows - 4 : 1;
}

void
view_sync(Ui *u)
{
	Model *m;
	int w, h;

	m = u->m;
	if (u->scr == SCR_STACKS && u->treeat != m->cur) {
		tree_alive(m, &u->t);
		u->treeat = m->cur;
	}
	if (u->scr == SCR_BLOCKS && u->listat != m->cur) {
		blist_fill(m, &u->bl);
		u->listat = m->cur;
	}
	w = u->cols - 2;
	h = u->rows - 7;
	if (u->scr == SCR_MAP && (u->mapat != m->cur || u->mapw != w || u->maph != h) && w > 0 &&
	    h > 0) {
		hmap_fill(m, &u->hm, w, h);
		u->mapat = m->cur;
		u->mapw = w;
		u->maph = h;
	}
}

static void
tabbar(Ui *u)
{
	int i, x;

	move(0, 0);
	if (u->color)
		attron(COLOR_PAIR(1));
	else
		attron(A_REVERSE);
	for (x = 0; x < u->cols; x++)
		addch(' ');
	mvaddstr(0, 1, "poolview");
	x = 11;
	for (i = 0; i < NMAIN; i++) {
		if (i == u->scr || (u->scr >= NMAIN && i == u->back))
			attron(A_BOLD | A_UNDERLINE);
		mvprintw(0, x, "%d:%s", i + 1, tabs[i]);
		attroff(A_BOLD | A_UNDERLINE);
		x += (int)strlen(tabs[i]) + 4;
	}
	mvaddstr(0, u->cols - 15, "?:help  q:quit");
	if (u->color)
		attroff(COLOR_PAIR(1));
	else
		attroff(A_REVERSE);
}

static void
statusline(Ui *u)
{
	Model *m;
	char line[512], b1[32];
	int64_t t;
	int x;

	m = u->m;
	t = model_time(m, m->cur);
	snprintf(line, sizeof line, " event %lld/%lld  +%lld.%06llds  heap in use %s in %zu blocks%s%s",
	    (long long)m->cur, (long long)m->maxseq, (long long)(t / 1000000000),
	    (long long)(t % 1000000000 / 1000), view_bytes(m->inuse, b1, sizeof b1), m->nlive,
	    m->cur == m->peakseq && m->peak > 0 ? "  (peak)" : "",
	    m->cached ? "  [index built for this session]" : "");
	move(u->rows - 1, 0);
	if (u->color)
		attron(COLOR_PAIR(1));
	else
		attron(A_REVERSE);
	for (x = 0; x < u->cols; x++)
		addch(' ');
	mvaddnstr(u->rows - 1, 0, line, u->cols);
	if (u->color)
		attroff(COLOR_PAIR(1));
	else
		attroff(A_REVERSE);
	if (u->msg[0] != '\0') {
		attron(A_BOLD);
		mvaddnstr(u->rows - 2, 0, u->msg, u->cols);
		attroff(A_BOLD);
	}
}

void
view_draw(Ui *u)
{
	char line[128];

	getmaxyx(stdscr, u->rows, u->cols);
	erase();
	if (u->rows < MINROWS || u->cols < MINCOLS) {
		snprintf(line, sizeof line, "terminal too small: %dx%d", u->cols, u->rows);
		mvaddnstr(u->rows / 2 - 1, 0, line, u->cols);
		snprintf(line, sizeof line, "poolview needs %dx%d", MINCOLS, MINROWS);
		mvaddnstr(u->rows / 2, 0, line, u->cols);
		mvaddnstr(u->rows / 2 + 1, 0, "(q quits)", u->cols);
		refresh();
		return;
	}
	view_sync(u);
	tabbar(u);
	switch (u->scr) {
	case SCR_OVERVIEW:
		draw_overview(u);
		break;
	case SCR_STACKS:
		draw_stacks(u);
		break;
	case SCR_BLOCKS:
		draw_blocks(u);
		break;
	case SCR_MAP:
		draw_map(u);
		break;
	case SCR_ERRORS:
		draw_errors(u);
		break;
	case SCR_DETAIL:
		draw_detail(u);
		break;
	case SCR_HELP:
		draw_help(u);
		break;
	}
	statusline(u);
	refresh();
}

int
view_prompt(Ui *u, const char *prompt, char *buf, size_t len)
{
	size_t n;
	int c;

	n = strlen(buf);
	curs_set(1);
	for (;;) {
		move(u->rows - 2, 0);
		clrtoeol();
		attron(A_BOLD);
		mvaddstr(u->rows - 2, 0, prompt);
		attroff(A_BOLD);
		addnstr(buf, u->cols - (int)strlen(prompt) - 1);
		refresh();
		c = getch();
		if (c == 27) {
			curs_set(0);
			return -1;
		}
		if (c == '\n' || c == '\r' || c == KEY_ENTER)
			break;
		if (c == KEY_BACKSPACE || c == 127 || c == 8) {
			if (n > 0)
				buf[--n] = '\0';
		} else if (c >= 32 && c < 127 && n + 1 < len) {
			buf[n++] = (char)c;
			buf[n] = '\0';
		} else if (c == KEY_RESIZE)
			view_draw(u);
	}
	curs_set(0);
	return 0;
}
