/*
 * leak/text.c -- the report people read (--format=text, the default) and
 * the folded stacks flame graphs are drawn from (--format=folded).
 *
 * text: the trace and its processes; the heap errors, each with its
 * message, its stack and the block it names; the leak records largest
 * first, each with its stack (innermost first, inlined callees marked)
 * and the first bytes of one of its blocks; then the totals of every
 * class and what each suppression took out.  Colours only when
 * Report.color says so.
 *
 * folded: one line per record, its frames outermost first joined by ';',
 * a space and its bytes (flamegraph.pl, speedscope, inferno).
 *
 * Must never: read the trace other than through report_frames, or print
 * a string from the trace without report_puts (a name could hold escape
 * sequences).
 */
#include "leak.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define C_RESET		"\033[0m"
#define C_BOLD		"\033[1m"
#define C_DIM		"\033[2m"
#define C_RED		"\033[1;31m"
#define C_YELLOW	"\033[33m"
#define C_MAGENTA	"\033[35m"
#define C_GREEN		"\033[32m"
#define C_CYAN		"\033[36m"

static const char *const classcolor[NCLASS] = {
	[CLASS_UNCLASSIFIED]	= C_MAGENTA,
	[CLASS_REACHABLE]	= C_GREEN,
	[CLASS_POSSIBLE]	= C_YELLOW,
	[CLASS_INDIRECT]	= C_MAGENTA,
	[CLASS_DEFINITE]	= C_RED,
};

/* Start colour c (when colours are on). */
static void
col(Report *r, const char *c)
{
	if (r->color)
		fputs(c, r->out);
}

/* "pid N EXE" of an image. */
static void
putproc(Report *r, const Proc *p)
{
	fprintf(r->out, "pid %d ", p->pid);
	report_puts(r->out, p->exe != NULL ? p->exe : "?");
}

static void
putstack(Report *r, const Frame *fr, int n, int total)
{
	char buf[2048];
	int i;

	for (i = 0; i < n; i++) {
		fprintf(r->out, "    #%-2d ", i);
		stacks_format(&fr[i], 0, buf, sizeof buf);
		report_puts(r->out, buf);
		fputc('\n', r->out);
	}
	if (total > n)
		fprintf(r->out, "    ... %d more frame%s (--max-frames)\n", total - n,
		    total - n == 1 ? "" : "s");
	if (total == 0)
		fputs("    (no stack recorded)\n", r->out);
}

/* The stack (process, stack) as putstack prints it. */
static void
stackof(Report *r, int64_t process, int64_t stack)
{
	static Frame fr[MAXFRAMES];
	int n, maxf;

	maxf = r->maxframes;
	r->maxframes = 0;
	n = report_frames(r, process, stack, fr);
	r->maxframes = maxf;
	putstack(r, fr, maxf > 0 && n > maxf ? maxf : n, n);
}

/* The first bytes of a block as hexdump -C shows them. */
static void
preview(Report *r, const Leak *l)
{
	int i, j;

	if (l->npreview < 0)
		return;
	fprintf(r->out, "    first %d byte%s of 0x%" PRIx64 ":\n", l->npreview,
	    l->npreview == 1 ? "" : "s", l->ptr);
	for (i = 0; i < l->npreview; i += 16) {
		fprintf(r->out, "      %04x ", i);
		for (j = i; j < i + 16; j++) {
			if (j == i + 8)
				fputc(' ', r->out);
			if (j < l->npreview)
				fprintf(r->out, " %02x", l->preview[j]);
			else
				fputs("   ", r->out);
		}
		fputs("  |", r->out);
		for (j = i; j < i + 16 && j < l->npreview; j++)
			fputc(l->preview[j] >= 0x20 && l->preview[j] < 0x7f ? l->preview[j] : '.', r->out);
		fputs("|\n", r->out);
	}
}

/* How an image ended, in words. */
static void
putend(Report *r, const Proc *p)
{
	const char *how = p->end_how;

	if (how == NULL)
		fputs("did not end", r->out);
	else if ((strcmp(how, "exit") == 0 || strcmp(how, "_exit") == 0) && p->has_status)
		fprintf(r->out, "exit %" PRId64, p->end_status);
	else if (strcmp(how, "signal") == 0 && p->has_status)
		fprintf(r->out, "killed by signal %" PRId64, p->end_status);
	else if (strcmp(how, "killed") == 0)
		fputs("killed", r->out);
	else if (strcmp(how, "exec") == 0)
		fputs("executed another program", r->out);
	else
		report_puts(r->out, how);
}

static void
errorout(Report *r, const Herr *e)
{
	const char *s, *nl;

	col(r, e->kind != NULL && strcmp(e->kind, "notice") == 0 ? C_CYAN : C_RED);
	fputs("error ", r->out);
	report_puts(r->out, e->kind != NULL ? e->kind : "(unknown kind)");
	col(r, C_RESET);
	if (e->ptr != 0)
		fprintf(r->out, " at 0x%" PRIx64, e->ptr);
	if (e->hasblock)
		fprintf(r->out, ", %" PRId64 " bytes %s the block at 0x%" PRIx64,
		    e->offset < 0 ? -e->offset : e->offset, e->offset < 0 ? "before" : "into", e->block);
	if (r->multiproc) {
		fputs(" in ", r->out);
		putproc(r, e->proc);
	}
	fputc('\n', r->out);
	for (s = e->message; s != NULL && *s != '\0'; s = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(s, '\n');
		if (nl == s || (nl == NULL && *s == '\0'))
			continue;
		fputs("    ", r->out);
		while (s < (nl != NULL ? nl : s + strlen(s))) {
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, r->out);
			s++;
		}
		fputc('\n', r->out);
	}
	stackof(r, e->proc->id, e->stack);
	if (e->size >= 0) {
		fprintf(r->out, "  the block of %" PRId64 " bytes was allocated at:\n", e->size);
		stackof(r, e->proc->id, e->alloc_stack);
		if (e->free_stack > 0) {
			fputs("  and freed at:\n", r->out);
			stackof(r, e->proc->id, e->free_stack);
		}
	}
	fputc('\n', r->out);
}

/*
 * Whether image k is one that a chosen image replaced by exec, with no
 * heap error of its own: its line would only repeat, under the pid of the
 * program it ran, the command line it inherited from its parent (an image
 * replaced by exec has no leaks; its heap went with it).
 */
static int
folded(const Model *m, int k)
{
	return m->procs[k].replaced && m->procs[k].nerrs == 0;
}

enum { LISTPROCS = 12 };	/* images the header names whatever they did; past that, those of note */

/*
 * Which images are of note, indexed as m->procs: those with a leak of a
 * reported class or a heap error, and those that ended other than by
 * exit (a signal, a kill, or no end recorded).  NULL if out of memory.
 */
static unsigned char *
ofnote(const Report *r)
{
	const Model *m = r->m;
	const char *how;
	unsigned char *note;
	size_t i;
	int k;

	if ((note = calloc((size_t)m->nprocs, 1)) == NULL)
		return NULL;
	for (i = 0; i < m->nleaks; i++)
		if (r->kinds & KIND(m->leaks[i].cls))
			note[m->leaks[i].proc - m->procs] = 1;
	for (k = 0; k < m->nprocs; k++) {
		how = m->procs[k].end_how;
		if (m->procs[k].nerrs > 0 || how == NULL || (strcmp(how, "exit") != 0 &&
		    strcmp(how, "_exit") != 0 && strcmp(how, "exec") != 0))
			note[k] = 1;
	}
	return note;
}

static void
textbegin(Report *r)
{
	const Model *m = r->m;
	unsigned char *note;
	size_t i;
	int k, nfolded, nlisted, nquiet, first;

	fputs("trace ", r->out);
	report_puts(r->out, r->trace);
	fputc('\n', r->out);
	if (m->sample > 0)
		fprintf(r->out, "estimates: one block sampled per %.0f bytes allocated on average;"
		    " every bytes and blocks figure below is estimated, not counted\n", m->sample);
	nlisted = 0;
	for (k = 0; k < m->nprocs; k++)
		nlisted += m->procs[k].chosen && !folded(m, k);
	/* many images: the first, then only those of note (all of them if memory is short) */
	note = nlisted > LISTPROCS ? ofnote(r) : NULL;
	nfolded = nquiet = 0;
	first = 1;
	for (k = 0; k < m->nprocs; k++) {
		if (!m->procs[k].chosen)
			continue;
		if (folded(m, k)) {
			nfolded++;
			continue;
		}
		if (note != NULL && !first && !note[k]) {
			nquiet++;
			continue;
		}
		first = 0;
		fprintf(r->out, "  pid %d: ", m->procs[k].pid);
		report_puts(r->out, m->procs[k].cmdline != NULL ? m->procs[k].cmdline :
		    m->procs[k].exe != NULL ? m->procs[k].exe : "?");
		fputs(" (", r->out);
		putend(r, &m->procs[k]);
		fputs(")\n", r->out);
	}
	free(note);
	if (nquiet > 0)
		fprintf(r->out, "  and %d more process%s that exited with nothing to report\n", nquiet,
		    nquiet == 1 ? "" : "es");
	if (nfolded > 0)
		fprintf(r->out, "  and %d earlier image%s of these pids, replaced by exec\n", nfolded,
		    nfolded == 1 ? "" : "s");
	fputc('\n', r->out);
	for (i = 0; i < m->nerrs; i++)
		errorout(r, &m->errs[i]);
}

enum { NAMEDPROCS = 3 };	/* images a merged record names; the rest are counted */

static void
textleak(Report *r, const Leak *l, const Frame *fr, int n)
{
	int k;

	col(r, classcolor[l->cls]);
	fputs(class_name(l->cls), r->out);
	col(r, C_RESET);
	fprintf(r->out, ": %" PRIu64 " bytes in %" PRIu64 " block%s %s", l->bytes, l->blocks,
	    l->blocks == 1 ? "" : "s", class_words(l->cls));
	if (l->zone[0] != '\0')
		fprintf(r->out, ", items of zone %s", l->zone);
	if (l->mapped)
		fprintf(r->out, ", blocks of a mapped heap");
	if (r->nprocs > 1) {
		/* a merged record: the images it came from, the first few named */
		fprintf(r->out, ", in %d processes: ", r->nprocs);
		for (k = 0; k < r->nprocs && k < NAMEDPROCS; k++) {
			if (k > 0)
				fputs(", ", r->out);
			putproc(r, r->procs[k]);
		}
		if (r->nprocs > NAMEDPROCS)
			fprintf(r->out, " and %d more", r->nprocs - NAMEDPROCS);
	} else if (r->multiproc) {
		fputs(", ", r->out);
		putproc(r, l->proc);
	}
	fputc('\n', r->out);
	putstack(r, fr, n, r->ntotal);
	preview(r, l);
	if (r->gensupp)
		supp_print(r->out, l, fr, n);
	fputc('\n', r->out);
}

/* The names of the classes in kinds, comma-separated. */
static void
putkinds(Report *r, unsigned kinds)
{
	static const int order[] = {
		CLASS_DEFINITE, CLASS_INDIRECT, CLASS_POSSIBLE, CLASS_REACHABLE, CLASS_UNCLASSIFIED,
	};
	size_t i;
	int first;

	first = 1;
	for (i = 0; i < nelem(order); i++)
		if (kinds & KIND(order[i])) {
			fprintf(r->out, "%s%s", first ? "" : ", ", class_name(order[i]));
			first = 0;
		}
}

static void
textend(Report *r)
{
	static const int order[] = {
		CLASS_DEFINITE, CLASS_INDIRECT, CLASS_POSSIBLE, CLASS_REACHABLE, CLASS_UNCLASSIFIED,
	};
	const Model *m = r->m;
	SuppUse u;
	uint64_t sb, sn;
	size_t i;
	int k, nnotice;

	if (r->nshown == 0) {
		fputs("no leaks of the kinds reported (", r->out);
		putkinds(r, r->kinds);
		fputs(")\n\n", r->out);
	}
	fputs("summary:\n", r->out);
	for (i = 0; i < nelem(order); i++) {
		if (order[i] == CLASS_UNCLASSIFIED && m->nunclassified == 0)
			continue;
		fputs("  ", r->out);
		col(r, classcolor[order[i]]);
		fprintf(r->out, "%-26s", class_words(order[i]));
		col(r, C_RESET);
		fprintf(r->out, " %" PRIu64 " bytes in %" PRIu64 " block%s\n",
		    m->sum[order[i]].bytes, m->sum[order[i]].blocks,
		    m->sum[order[i]].blocks == 1 ? "" : "s");
	}
	sb = sn = 0;
	for (k = 0; r->supps != NULL && k < supp_count(r->supps); k++) {
		supp_use(r->supps, k, &u);
		sb += u.bytes;
		sn += u.blocks;
	}
	if (sn > 0)
		fprintf(r->out, "  %-26s %" PRIu64 " bytes in %" PRIu64 " block%s\n", "suppressed", sb,
		    sn, sn == 1 ? "" : "s");
	nnotice = 0;
	for (i = 0; i < m->nerrs; i++)
		nnotice += !error_counts(m->errs[i].kind);
	fprintf(r->out, "  %-26s %zu", "heap errors", m->nerrs - (size_t)nnotice);
	if (nnotice > 0)
		fprintf(r->out, " (and %d notice%s)", nnotice, nnotice == 1 ? "" : "s");
	fputc('\n', r->out);
	for (k = 0; k < m->nprocs; k++) {
		if (m->procs[k].chosen && m->procs[k].scan != 0 && m->procs[k].scan_unfinished) {
			fputs("note: the scan of ", r->out);
			putproc(r, &m->procs[k]);
			fputs(" did not finish: some of its blocks may be missing\n", r->out);
		}
	}
	for (k = 0; r->supps != NULL && k < supp_count(r->supps); k++) {
		supp_use(r->supps, k, &u);
		if (u.records == 0)
			continue;
		fputs("suppressed by ", r->out);
		report_puts(r->out, u.name);
		fputs(" (", r->out);
		report_puts(r->out, u.file);
		fprintf(r->out, ":%d): %" PRIu64 " record%s, %" PRIu64 " bytes in %" PRIu64 " block%s\n",
		    u.line, u.records, u.records == 1 ? "" : "s", u.bytes, u.blocks,
		    u.blocks == 1 ? "" : "s");
	}
}

const Format fmt_text = { "text", 0, textbegin, textleak, textend };

/* ---- folded ---- */

static void
foldedbegin(Report *r)
{
	(void)r;
}

/* One frame's name for a flame graph: its function, or where its pc is. */
static void
foldname(Report *r, const Frame *f)
{
	const char *s, *mod;

	if (f->function != NULL) {
		for (s = f->function; *s != '\0'; s++)
			fputc(*s == ';' ? ':' : (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, r->out);
		return;
	}
	if (f->module != NULL) {
		mod = strrchr(f->module, '/') != NULL ? strrchr(f->module, '/') + 1 : f->module;
		for (s = mod; *s != '\0'; s++)
			fputc(*s == ';' || *s == ' ' ? '_' : (unsigned char)*s < 0x20 ? '?' : *s, r->out);
		fprintf(r->out, "+0x%" PRIx64, f->offset);
		return;
	}
	fprintf(r->out, "0x%" PRIx64, f->pc);
}

static void
foldedleak(Report *r, const Leak *l, const Frame *fr, int n)
{
	int i;

	if (n == 0)
		fputs("[no stack]", r->out);
	for (i = n - 1; i >= 0; i--) {
		foldname(r, &fr[i]);
		if (i > 0)
			fputc(';', r->out);
	}
	fprintf(r->out, " %" PRIu64 "\n", l->bytes);
}

static void
foldedend(Report *r)
{
	(void)r;
}

const Format fmt_folded = { "folded", 1, foldedbegin, foldedleak, foldedend };
