/*
 * leak/report.c -- one report, whatever its format: walks the leak
 * records largest first, keeps those of the classes asked for, reads
 * each one's stack once, lets the suppressions and --diff take theirs
 * out, and hands the rest to the format.  Also what every format needs
 * to print a stack.
 *
 * Records stream: the first is printed as soon as it is known not to be
 * suppressed, so a large report starts at once.  Only --diff reads every
 * stack first (a record is news only against the whole of this trace).
 *
 * Must never: print anything itself (the formats do), or decide the exit
 * status (leak.c does, from what the report counted).
 */
#include "leak.h"

#include <stdlib.h>
#include <string.h>

int
report_frames(Report *r, int64_t process, int64_t stack, Frame *fr)
{
	int max, n;

	if (stack <= 0)
		return 0;
	max = r->maxframes > 0 && r->maxframes < MAXFRAMES ? r->maxframes : MAXFRAMES;
	if ((n = stacks_get(r->stacks, process, stack, fr, max)) < 0) {
		r->failed = 1;
		return 0;
	}
	return n;
}

/* The whole stack of l (up to MAXFRAMES frames); -1 if it cannot be read. */
static int
wholestack(Report *r, const Leak *l, Frame *fr)
{
	int n;

	if (l->stack <= 0)
		return 0;
	if ((n = stacks_get(r->stacks, l->proc->id, l->stack, fr, MAXFRAMES)) < 0)
		r->failed = 1;
	return n;
}

/* Hand l to the format: its frames cut to --max-frames. */
static void
emit(Report *r, const Format *fmt, const Leak *l, const Frame *fr, int n)
{
	int shown;

	shown = !fmt->whole && r->maxframes > 0 && n > r->maxframes ? r->maxframes : n;
	r->ntotal = n;
	fmt->leak(r, l, fr, shown);
	r->nshown++;
}

int
report_run(Report *r, const Format *fmt, Diff *d)
{
	const Model *m = r->m;
	unsigned char *out;
	Frame *fr;
	size_t i;
	int n, rc;

	rc = -1;
	out = NULL;
	if ((fr = malloc(MAXFRAMES * sizeof *fr)) == NULL)
		return -1;
	for (i = 0; i < m->nerrs; i++)
		r->nerrs += error_counts(m->errs[i].kind);

	if (d != NULL) {
		/* --diff: this trace's bytes per stack first, the suppressed left out */
		if ((out = calloc(m->nleaks + 1, 1)) == NULL)
			goto done;
		for (i = 0; i < m->nleaks; i++) {
			if (!(r->kinds & KIND(m->leaks[i].cls)))
				continue;
			if ((n = wholestack(r, &m->leaks[i], fr)) < 0)
				goto done;
			if (r->supps != NULL && supp_match(r->supps, &m->leaks[i], fr, n) >= 0)
				out[i] = 1;
			else if (diff_add(d, &m->leaks[i], fr, n) < 0)
				goto done;
		}
	}

	fmt->begin(r);
	for (i = 0; i < m->nleaks && !r->failed; i++) {
		if (!(r->kinds & KIND(m->leaks[i].cls)) || (out != NULL && out[i]))
			continue;
		if ((n = wholestack(r, &m->leaks[i], fr)) < 0)
			break;
		if (d == NULL && r->supps != NULL && supp_match(r->supps, &m->leaks[i], fr, n) >= 0)
			continue;
		if (d != NULL && !diff_news(d, &m->leaks[i], fr, n))
			continue;
		emit(r, fmt, &m->leaks[i], fr, n);
	}
	if (!r->failed)
		fmt->end(r);
	rc = r->failed ? -1 : 0;
done:
	free(out);
	free(fr);
	return rc;
}

void
report_puts(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}
