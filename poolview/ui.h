/*
 * poolview/ui.h -- what the view (view*.c) and the key table (keys.c)
 * share: the state of the session's screens.  Only files that draw or
 * read keys include it; the model never does.
 */
#ifndef POOLDBG_POOLVIEW_UI_H
#define POOLDBG_POOLVIEW_UI_H

#include "poolview.h"

enum {	/* screens */
	SCR_OVERVIEW, SCR_STACKS, SCR_BLOCKS, SCR_MAP, SCR_ERRORS, SCR_DETAIL, SCR_HELP, NSCR
};
#define NMAIN	5	/* screens 1..5 of the tab bar */

#define MINCOLS	80
#define MINROWS	24

typedef struct Ui Ui;
struct Ui {
	Model	*m;
	Tree	t;
	Blist	bl;
	Hmap	hm;
	Detail	d;
	int	hasdetail;
	Err	*errs;
	int	nerr;
	size_t	errsel;
	int	leaksmode;	/* the trace was recorded with --mode=leaks: no events */
	double	sample;		/* recorded with --sample BYTES (0: not): figures are of sampled blocks */
	int	scr;		/* SCR_* shown */
	int	back;		/* the screen Esc returns to from detail or help */
	int	rows, cols;
	int	color;		/* colours in use */
	int	utf8;		/* the locale speaks UTF-8: block characters */
	int	quit;
	size_t	top[NSCR];	/* first list row shown */
	size_t	helptop;
	int64_t	treeat, listat, mapat;	/* cursor they were filled at; -1: never */
	int	mapw, maph;
	char	msg[160];	/* a message for the status line, until the next key */
};

/* ---- view.c ---- */

/* Start curses (colours unless NO_COLOR is set or the terminal has none). */
void	view_start(Ui *u);
void	view_end(void);
/* Draw the whole screen for the current state. */
void	view_draw(Ui *u);
/* Read a line at the bottom after prompt into buf; 0, or -1 if Esc cancelled it. */
int	view_prompt(Ui *u, const char *prompt, char *buf, size_t len);
/* Bring the screen's derived state up to the cursor (tree alive, block list, map). */
void	view_sync(Ui *u);
/* Rows of the list area of a list screen (for paging). */
int	view_listrows(const Ui *u);
/* "1.5 MiB"-style size into buf. */
const char *view_bytes(uint64_t n, char *buf, size_t len);

/* ---- view-screens.c ---- */

void	draw_overview(Ui *u);
void	draw_stacks(Ui *u);
void	draw_blocks(Ui *u);
void	draw_map(Ui *u);
void	draw_errors(Ui *u);
void	draw_detail(Ui *u);

/* ---- keys.c ---- */

/* Do what key means on the current screen. */
void	keys_do(Ui *u, int key);
/* Draw the help page: every key of the table. */
void	draw_help(Ui *u);

#endif /* POOLDBG_POOLVIEW_UI_H */
