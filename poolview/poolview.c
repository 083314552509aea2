/*
 * poolview/poolview.c -- the poolview command: its arguments, opening
 * the trace before curses starts (so a bad trace gets leak's one-line
 * error and exit status 2 on a plain terminal), the loop that reads a
 * key, lets keys.c act and redraws, and --bench, which times the first
 * screen and cursor moves without a terminal.
 *
 * Must never: run SQL (the model does), or leave the terminal in curses
 * mode when it exits.
 */
#include "ui.h"

#include <curses.h>
#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
usage(void)
{
	fprintf(stderr, "usage: poolview [--bench N] TRACE\n");
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double phase[3];	/* --bench: when the trace, the stacks and the cursor were ready */

/* What the first screen needs, from nothing: the trace, the stacks, the cursor at the end. */
static int
load(Ui *u, Model *m, const char *path)
{
	char err[512];
	int rc;

	memset(u, 0, sizeof *u);
	u->m = m;
	u->bl.cls = -1;
	u->bl.sort = BS_SIZE;
	u->treeat = u->listat = u->mapat = -1;
	rc = model_open(m, path, err, sizeof err);
	phase[0] = now();
	if (rc == 0)
		rc = model_tree_load(m, &u->t, err, sizeof err);
	phase[1] = now();
	/* how it was recorded (pooldbg(1) --mode, --sample); older traces say nothing */
	if (rc == 0 && trace_meta(m->db, "mode", err, sizeof err) == 0 && strcmp(err, "leaks") == 0)
		u->leaksmode = 1;
	if (rc == 0)
		rc = u->leaksmode ? model_loadscan(m) : model_seek(m, m->maxseq);
	phase[2] = now();
	if (rc < 0) {
		fprintf(stderr, "poolview: %s\n", m->nomem ? "out of memory" :
		    u->leaksmode ? "the scans at exit could not be read" : err);
		return -1;
	}
	if ((u->nerr = model_errors(m, &u->errs)) < 0)
		u->nerr = 0;
	if (trace_meta(m->db, "sample", err, sizeof err) == 0)
		u->sample = strtod(err, NULL);
	return 0;
}

/* --bench N: the first screen's time, then N cursor moves of each kind, on stdout. */
static int
bench(const char *path, long n)
{
	static const char *const kind[] = { "one event", "a hundredth", "anywhere" };
	Model m;
	Ui u;
	double t0, t1, worst, sum;
	int64_t seq;
	unsigned long long r;
	long i;
	int k;

	t0 = now();
	if (load(&u, &m, path) < 0) {
		model_close(&m);
		return 2;
	}
	tree_alive(&m, &u.t);
	blist_fill(&m, &u.bl);
	t1 = now();
	printf("first screen: %.3f s (%lld events, %zu blocks alive at the end; open %.3f s,"
	    " stacks %.3f s, cursor %.3f s)\n", t1 - t0, (long long)m.maxseq, m.nlive,
	    phase[0] - t0, phase[1] - phase[0], phase[2] - phase[1]);
	r = 88172645463325252ULL;
	for (k = 0; k < 3; k++) {
		worst = sum = 0;
		for (i = 0; i < n; i++) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			seq = k == 0 ? m.cur + (r & 1 ? 1 : -1) :
			    k == 1 ? m.cur + (r & 1 ? 1 : -1) * (m.maxseq / 100 + 1) :
			    (int64_t)(r % (unsigned long long)(m.maxseq + 1));
			t0 = now();
			model_seek(&m, seq);
			tree_alive(&m, &u.t);
			blist_fill(&m, &u.bl);
			t1 = now();
			sum += t1 - t0;
			if (t1 - t0 > worst)
				worst = t1 - t0;
		}
		printf("cursor move by %-12s mean %.1f ms, worst %.1f ms over %ld moves\n", kind[k],
		    n > 0 ? sum / (double)n * 1e3 : 0.0, worst * 1e3, n);
	}
	model_tree_free(&u.t);
	free(u.bl.v);
	free(u.errs);
	model_close(&m);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path;
	long nbench;
	Model m;
	Ui u;
	int i, key;

	setlocale(LC_ALL, "");
	path = NULL;
	nbench = -1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc)
			nbench = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			usage();
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "poolview: unknown option %s\n", argv[i]);
			usage();
		} else if (path == NULL)
			path = argv[i];
		else
			usage();
	}
	if (path == NULL)
		usage();
	if (nbench >= 0)
		return bench(path, nbench);
	if (load(&u, &m, path) < 0) {
		model_close(&m);
		return 2;
	}
	u.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	view_start(&u);
	while (!u.quit) {
		view_draw(&u);
		key = getch();
		if (key == ERR)
			continue;
		keys_do(&u, key);
	}
	view_end();
	model_tree_free(&u.t);
	hmap_free(&u.hm);
	free(u.bl.v);
	free(u.errs);
	model_close(&m);
	return 0;
}
