/*
 * leak/report.c -- one report, whatever its format: walks the leak
 * records largest first, keeps those of the classes asked for, reads
 * each one's stack once, lets the suppressions and --diff take theirs
 * out, and hands the rest to the format.  Also what every format needs
 * to print a stack.
 *
 * Records stream: the first is printed as soon as it is known not to be
 * suppressed, so a large report starts at once.  Only --diff reads every
 * stack first (a record is news only against the whole of this trace),
 * and so does merging (Report.merge): the records of several images with
 * one class and one symbolized stack become one, their bytes and blocks
 * added up, printed in the place their sum gives them, with the first
 * bytes of the largest record's block and the list of the images.
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

/* One merged record: what its member records add up to. */
typedef struct Group Group;
struct Group {
	uint64_t bytes, blocks;
	size_t	first;		/* its largest record: the first in the model's order */
};

static int
groupcmp(const void *a, const void *b)
{
	const Group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->blocks != y->blocks)
		return x->blocks < y->blocks ? 1 : -1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * Report.merge: every stack read and matched against the suppressions
 * first, the records grouped by class and symbolized stack, then one call
 * of the format per group, largest first.  0, or -1 (r->failed, or out of
 * memory).
 */
static int
mergedrun(Report *r, const Format *fmt, Frame *fr)
{
	const Model *m = r->m;
	Group *g;
	Diff *keys;
	Leak whole;
	size_t i, *next;
	long *grp, k, ng;
	int n, j, rc;

	rc = -1;
	g = NULL;
	next = NULL;
	if ((keys = diff_new()) == NULL || (grp = malloc((m->nleaks + 1) * sizeof *grp)) == NULL) {
		diff_free(keys);
		return -1;
	}
	if ((next = malloc((m->nleaks + 1) * sizeof *next)) == NULL ||
	    (r->procs = malloc(((size_t)m->nprocs + 1) * sizeof *r->procs)) == NULL)
		goto done;
	ng = 0;
	for (i = 0; i < m->nleaks; i++) {
		grp[i] = -1;
		if (!(r->kinds & KIND(m->leaks[i].cls)))
			continue;
		if ((n = wholestack(r, &m->leaks[i], fr)) < 0)
			goto done;
		if (r->supps != NULL && supp_match(r->supps, &m->leaks[i], fr, n) >= 0)
			continue;
		if ((grp[i] = diff_group(keys, &m->leaks[i], fr, n)) < 0)
			goto done;
		if (grp[i] == ng)
			ng++;	/* a new key */
	}
	if ((g = calloc((size_t)ng + 1, sizeof *g)) == NULL)
		goto done;
	for (k = 0; k < ng; k++)
		g[k].first = SIZE_MAX;
	for (i = m->nleaks; i-- > 0;) {
		/* backwards: each group's first record is the last one seen */
		if ((k = grp[i]) < 0)
			continue;
		next[i] = g[k].first;
		g[k].first = i;
		g[k].bytes += m->leaks[i].bytes;
		g[k].blocks += m->leaks[i].blocks;
	}
	qsort(g, (size_t)ng, sizeof *g, groupcmp);
	fmt->begin(r);
	for (k = 0; k < ng && !r->failed; k++) {
		whole = m->leaks[g[k].first];
		whole.bytes = g[k].bytes;
		whole.blocks = g[k].blocks;
		r->nprocs = 0;
		for (i = g[k].first; i != SIZE_MAX; i = next[i]) {
			for (j = 0; j < r->nprocs && r->procs[j] != m->leaks[i].proc; j++)
				;
			if (j == r->nprocs)
				r->procs[r->nprocs++] = m->leaks[i].proc;
		}
		if ((n = wholestack(r, &m->leaks[g[k].first], fr)) < 0)
			break;
		emit(r, fmt, &whole, fr, n);
	}
	r->nprocs = 0;
	if (!r->failed)
		fmt->end(r);
	rc = r->failed ? -1 : 0;
done:
	free(r->procs);
	r->procs = NULL;
	free(g);
	free(next);
	free(grp);
	diff_free(keys);
	return rc;
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
	if (r->merge && d == NULL) {
		rc = mergedrun(r, fmt, fr);
		free(fr);
		return rc;
	}

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
