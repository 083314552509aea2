/*
 * leak/views.c -- the views of the heap leak(1) keeps from its Plan 9
 * ancestor: blocks grouped by allocation site (-s), the same as counts
 * with a total (-c), and every block (-a); and what the picture (-b)
 * shares with them: choosing the scans, the section headings, the one
 * error line.
 *
 * A site is a malloc tag: the pc that called the allocator.  It is looked
 * up as a pc of the process (stacks_pc): a tag that is the innermost pc
 * of the block's stack was symbolized with the stacks and reads as
 * "function file:line"; any other reads as its module and offset.
 *
 * -s and -c, like the leaks view of the trace, leave out blocks no
 * recorded call made (alloc_seq NULL: the runtime's own, or blocks a fork
 * child inherited); -a shows every block the scan found.
 *
 * Must never: write to the trace; print anything but the view to its
 * FILE and one line on stderr when it fails.
 */
#include "leak.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAXSTACK	= 256,	/* frames of one stack printed at most */
	SITELEN		= 512,	/* a formatted frame */
};

/* The classes in the order the views list them: the worst first. */
static const int classorder[] = { CLASS_DEFINITE, CLASS_INDIRECT, CLASS_POSSIBLE, CLASS_REACHABLE };

static const char *const classnames[NCLASS] = {
	[CLASS_REACHABLE]	= "reachable",
	[CLASS_POSSIBLE]	= "possible",
	[CLASS_INDIRECT]	= "indirect",
	[CLASS_DEFINITE]	= "definite",
};

/* ANSI colours of the classes (-s lines, -a class words). */
static const char *const classcolors[NCLASS] = {
	[CLASS_REACHABLE]	= "",
	[CLASS_POSSIBLE]	= "\033[33m",
	[CLASS_INDIRECT]	= "\033[35m",
	[CLASS_DEFINITE]	= "\033[1;31m",
};
#define NOCOLOR	"\033[0m"

/* One allocation site of one scan: the blocks of the chosen kinds with its tag. */
typedef struct Site Site;
struct Site {
	uint64_t tag;		/* the malloc tag; 0: none */
	uint64_t bytes;		/* bytes asked for, blocks of the chosen kinds */
	uint64_t blocks;
	uint64_t nclass[NCLASS]; /* blocks of each class */
	int64_t	stack;		/* the stack that made most of the bytes; 0: none */
	uint64_t stackbytes;	/* its bytes */
};

void
view_error(const View *v, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "leak: %s: %s\n", v->trace, buf);
}

void
view_dberror(const View *v, const char *what)
{
	const char *why;
	int code;

	code = sqlite3_errcode(v->db) & 0xff;
	switch (code) {
	case SQLITE_NOMEM:
		why = "out of memory";
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		why = "the trace is locked by another program";
		break;
	case SQLITE_IOERR:
		why = "read error";
		break;
	case SQLITE_OK:		/* failed on our side of the call */
	case SQLITE_ROW:
	case SQLITE_DONE:
		why = "out of memory";
		break;
	default:		/* a missing table or column, a malformed file */
		why = "the trace is damaged";
		break;
	}
	view_error(v, "cannot read %s: %s", what, why);
}

/* The CLASS_* of a scan_blocks.class text; 0 for anything else. */
static int
classof(const unsigned char *text)
{
	int c;

	if (text == NULL)
		return 0;
	for (c = 1; c < NCLASS; c++)
		if (strcmp((const char *)text, classnames[c]) == 0)
			return c;
	return 0;
}

/* An integer column that counts something: NULL and negative read as 0. */
static uint64_t
colcount(sqlite3_stmt *st, int col)
{
	int64_t x;

	x = sqlite3_column_int64(st, col);
	return x > 0 ? (uint64_t)x : 0;
}

/* Say why no scan was chosen: the trace has none, or none of that pid or snapshot. */
static void
noscans(const View *v)
{
	sqlite3_stmt *st;
	int64_t nscans, nprocs;

	nscans = nprocs = -1;
	if (sqlite3_prepare_v2(v->db, "SELECT count(*), (SELECT count(*) FROM processes WHERE pid = ?1)"
	    " FROM scans", -1, &st, NULL) != SQLITE_OK) {
		view_dberror(v, "scans");
		return;
	}
	sqlite3_bind_int(st, 1, v->pid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		nscans = sqlite3_column_int64(st, 0);
		nprocs = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (nscans < 0)
		view_dberror(v, "scans");
	else if (nscans == 0)
		view_error(v, "no reachability scans in the trace");
	else if (v->pid != 0 && nprocs == 0)
		view_error(v, "no process with pid %d in the trace", v->pid);
	else if (v->pid != 0 && v->snapshot == 0)
		view_error(v, "pid %d has no scan at exit", v->pid);
	else if (v->pid != 0)
		view_error(v, "pid %d has no snapshot %d", v->pid, v->snapshot);
	else if (v->snapshot == 0)
		view_error(v, "no process has a scan at exit");
	else
		view_error(v, "no process has a snapshot %d", v->snapshot);
}

long
view_scans(const View *v, Scan **scans)
{
	static const char sql[] =
	    "SELECT s.id, s.process, p.pid, p.exe, s.complete,"
	    "  (SELECT min(m.loaded) FROM modules m WHERE m.process = s.process)"
	    " FROM scans s LEFT JOIN processes p ON p.id = s.process"
	    " WHERE s.snapshot = ?1 AND (?2 = 0 OR p.pid = ?2)"
	    "  AND s.id = (SELECT max(t.id) FROM scans t"
	    "   WHERE t.process = s.process AND t.snapshot = ?1)"
	    " ORDER BY s.process";
	sqlite3_stmt *st;
	Scan *sc, *ns;
	const unsigned char *exe;
	size_t n, max;
	int rc;

	*scans = NULL;
	sc = NULL;
	n = max = 0;
	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK) {
		view_dberror(v, "scans");
		return -1;
	}
	sqlite3_bind_int(st, 1, v->snapshot);
	sqlite3_bind_int(st, 2, v->pid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == max) {
			max = max != 0 ? 2 * max : 8;
			if ((ns = realloc(sc, max * sizeof *ns)) == NULL) {
				view_error(v, "out of memory");
				goto fail;
			}
			sc = ns;
		}
		memset(&sc[n], 0, sizeof sc[n]);
		sc[n].id = sqlite3_column_int64(st, 0);
		sc[n].process = sqlite3_column_int64(st, 1);
		sc[n].snapshot = v->snapshot;
		sc[n].pid = sqlite3_column_int(st, 2);
		exe = sqlite3_column_text(st, 3);
		snprintf(sc[n].exe, sizeof sc[n].exe, "%s", exe != NULL ? (const char *)exe : "?");
		sc[n].complete = sqlite3_column_int(st, 4) != 0;
		sc[n].start = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
		n++;
	}
	if (rc != SQLITE_DONE) {
		view_dberror(v, "scans");
		goto fail;
	}
	sqlite3_finalize(st);
	if (n == 0) {
		noscans(v);
		return -1;
	}
	*scans = sc;
	return (long)n;

fail:
	sqlite3_finalize(st);
	free(sc);
	return -1;
}

void
view_heading(const Scan *sc, FILE *out)
{
	fprintf(out, "pid %d %s, ", sc->pid, sc->exe);
	if (sc->snapshot == 0)
		fprintf(out, "scan at exit");
	else
		fprintf(out, "snapshot %d", sc->snapshot);
	if (!sc->complete)
		fprintf(out, " (incomplete)");
}

/* The heading line of section i, after a blank line for every section but the first. */
static void
heading(const Scan *sc, long i, FILE *out)
{
	if (i > 0)
		fputc('\n', out);
	view_heading(sc, out);
	fputc('\n', out);
}

/* The innermost frame of tag as "function file:line"; "(no tag)" for none.  -1 if the trace could not be read. */
static int
sitename(const View *v, int64_t process, uint64_t tag, char *buf, size_t len)
{
	Frame f;

	if (tag == 0) {
		snprintf(buf, len, "(no tag)");
		return 0;
	}
	if (stacks_pc(v->stacks, process, tag, &f, 1) != 1) {
		view_dberror(v, "stacks");
		return -1;
	}
	stacks_format(&f, 0, buf, len);
	return 0;
}

/* Largest first; then more blocks; then by tag, so the order never depends on the trace's. */
static int
sitecmp(const void *a, const void *b)
{
	const Site *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->blocks != y->blocks)
		return x->blocks > y->blocks ? -1 : 1;
	return (x->tag > y->tag) - (x->tag < y->tag);
}

/*
 * The sites of scan sc with blocks of the chosen kinds, sorted, into
 * *sites (the caller frees it); how many, or -1 after the error line.
 */
static long
getsites(const View *v, const Scan *sc, Site **sites)
{
	static const char sql[] =
	    "SELECT coalesce(tag, 0), coalesce(stack, 0), class, count(*), sum(size)"
	    " FROM scan_blocks WHERE scan = ?1 AND alloc_seq IS NOT NULL"
	    " GROUP BY 1, 2, 3 ORDER BY 1, 2";
	sqlite3_stmt *st;
	Site *s, *ns, *cur;
	uint64_t tag, blocks, bytes, sbytes;
	int64_t stack, curstack;
	size_t n, max;
	int rc, c;

	*sites = NULL;
	s = NULL;
	n = max = 0;
	cur = NULL;
	curstack = 0;
	sbytes = 0;
	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK) {
		view_dberror(v, "blocks");
		return -1;
	}
	sqlite3_bind_int64(st, 1, sc->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tag = (uint64_t)sqlite3_column_int64(st, 0);
		stack = sqlite3_column_int64(st, 1);
		c = classof(sqlite3_column_text(st, 2));
		blocks = colcount(st, 3);
		bytes = colcount(st, 4);
		if (c == 0 || !(v->kinds & KIND(c)) || blocks == 0)
			continue;
		if (cur == NULL || cur->tag != tag) {
			if (n == max) {
				max = max != 0 ? 2 * max : 64;
				if ((ns = realloc(s, max * sizeof *ns)) == NULL) {
					view_error(v, "out of memory");
					goto fail;
				}
				s = ns;
			}
			cur = &s[n++];
			memset(cur, 0, sizeof *cur);
			cur->tag = tag;
			curstack = 0;
			sbytes = 0;
		}
		if (stack != curstack) {
			curstack = stack;
			sbytes = 0;
		}
		cur->bytes += bytes;
		cur->blocks += blocks;
		cur->nclass[c] += blocks;
		sbytes += bytes;
		if (sbytes > cur->stackbytes || (sbytes == cur->stackbytes && cur->stack == 0)) {
			cur->stack = stack;
			cur->stackbytes = sbytes;
		}
	}
	if (rc != SQLITE_DONE) {
		view_dberror(v, "blocks");
		goto fail;
	}
	sqlite3_finalize(st);
	if (n > 1)
		qsort(s, n, sizeof *s, sitecmp);
	*sites = s;
	return (long)n;

fail:
	sqlite3_finalize(st);
	free(s);
	return -1;
}

/* "definite or possible": the chosen kinds in words. */
static void
kindwords(unsigned kinds, char *buf, size_t len)
{
	size_t i, k, n;
	int off;

	for (n = 0, i = 0; i < nelem(classorder); i++)
		n += (kinds & KIND(classorder[i])) != 0;
	buf[0] = '\0';
	off = 0;
	for (k = 0, i = 0; i < nelem(classorder); i++) {
		if (!(kinds & KIND(classorder[i])))
			continue;
		off += snprintf(buf + off, len - (size_t)off, "%s%s",
		    k == 0 ? "" : k + 1 == n ? " or " : ", ", classnames[classorder[i]]);
		if ((size_t)off >= len)
			return;
		k++;
	}
}

/*
 * The callers of a site under its line: the frames of the stack that made
 * most of its bytes, after the site itself, so that the site and these
 * lines are v->maxframes frames (0: all).  0, or -1 after the error line.
 */
static int
sitestack(const View *v, const Scan *sc, const Site *site, Frame *fr, int indent, FILE *out)
{
	char buf[SITELEN];
	int n, i, max;

	max = v->maxframes > 0 && v->maxframes < MAXSTACK ? v->maxframes : MAXSTACK;
	if (site->stack == 0 || max <= 1)
		return 0;
	if ((n = stacks_get(v->stacks, sc->process, site->stack, fr, MAXSTACK)) < 0) {
		view_dberror(v, "stacks");
		return -1;
	}
	/* the first frame is the site's line when the tag is the stack's innermost pc */
	i = n > 0 && fr[0].pc == site->tag ? 1 : 0;
	for (max += i - 1; i < n && i < max; i++)
		fprintf(out, "%*s<- %s\n", indent, "", stacks_format(&fr[i], 0, buf, sizeof buf));
	return 0;
}

/* The worst class a site has blocks of, for its colour. */
static int
worst(const Site *site)
{
	size_t i;

	for (i = 0; i < nelem(classorder); i++)
		if (site->nclass[classorder[i]] != 0)
			return classorder[i];
	return CLASS_REACHABLE;
}

long
view_sites(const View *v, FILE *out)
{
	char name[SITELEN], words[64];
	Scan *sc;
	Site *sites;
	Frame *fr;
	long nsc, nsites, i, j, total;
	size_t k;
	int indent, c;
	const char *on, *off;

	sites = NULL;
	fr = NULL;
	total = -1;
	if ((nsc = view_scans(v, &sc)) < 0)
		return -1;
	if ((fr = malloc(MAXSTACK * sizeof *fr)) == NULL) {
		view_error(v, "out of memory");
		goto done;
	}
	total = 0;
	for (i = 0; i < nsc; i++) {
		if ((nsites = getsites(v, &sc[i], &sites)) < 0) {
			total = -1;
			goto done;
		}
		heading(&sc[i], i, out);
		if (nsites == 0) {
			kindwords(v->kinds, words, sizeof words);
			fprintf(out, "no %s blocks\n", words);
		} else {
			indent = fprintf(out, "%10s %7s", "bytes", "blocks");
			for (k = 0; k < nelem(classorder); k++)
				if (v->kinds & KIND(classorder[k]))
					indent += fprintf(out, " %9s", classnames[classorder[k]]);
			indent += fprintf(out, "  ");
			fprintf(out, "site\n");
		}
		for (j = 0; j < nsites; j++) {
			if (sitename(v, sc[i].process, sites[j].tag, name, sizeof name) < 0) {
				total = -1;
				goto done;
			}
			c = worst(&sites[j]);
			on = v->color ? classcolors[c] : "";
			off = v->color && *on != '\0' ? NOCOLOR : "";
			fprintf(out, "%s%10" PRIu64 " %7" PRIu64, on, sites[j].bytes, sites[j].blocks);
			for (k = 0; k < nelem(classorder); k++)
				if (v->kinds & KIND(classorder[k]))
					fprintf(out, " %9" PRIu64, sites[j].nclass[classorder[k]]);
			fprintf(out, "  %s%s\n", name, off);
			if (sitestack(v, &sc[i], &sites[j], fr, indent, out) < 0) {
				total = -1;
				goto done;
			}
			total += (long)sites[j].blocks;
		}
		free(sites);
		sites = NULL;
	}

done:
	free(sites);
	free(fr);
	free(sc);
	return total;
}

long
view_counts(const View *v, FILE *out)
{
	char name[SITELEN];
	Scan *sc;
	Site *sites;
	uint64_t bytes, blocks;
	long nsc, nsites, i, j, total;

	sites = NULL;
	total = 0;
	if ((nsc = view_scans(v, &sc)) < 0)
		return -1;
	for (i = 0; i < nsc; i++) {
		if ((nsites = getsites(v, &sc[i], &sites)) < 0) {
			total = -1;
			break;
		}
		heading(&sc[i], i, out);
		fprintf(out, "%10s %7s %9s  %s\n", "bytes", "blocks", "average", "function");
		bytes = blocks = 0;
		for (j = 0; j < nsites; j++) {
			if (sitename(v, sc[i].process, sites[j].tag, name, sizeof name) < 0) {
				total = -1;
				break;
			}
			fprintf(out, "%10" PRIu64 " %7" PRIu64 " %9" PRIu64 "  %s\n", sites[j].bytes,
			    sites[j].blocks, sites[j].bytes / sites[j].blocks, name);
			bytes += sites[j].bytes;
			blocks += sites[j].blocks;
		}
		free(sites);
		sites = NULL;
		if (total < 0)
			break;
		fprintf(out, "%10" PRIu64 " %7" PRIu64 " %9" PRIu64 "  total\n", bytes, blocks,
		    blocks != 0 ? bytes / blocks : 0);
		total += (long)blocks;
	}
	free(sc);
	return total;
}

/* "0.012s": ns as seconds; "-" when unknown. */
static char *
age(int64_t start, int known, int64_t time, char *buf, size_t len)
{
	if (!known || start < 0 || time < start)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%" PRId64 ".%03" PRId64 "s", (time - start) / 1000000000,
		    (time - start) / 1000000 % 1000);
	return buf;
}

/* The -a section of scan sc (i: its index); the blocks of the chosen kinds in it, or -1 after the error line. */
static long
allblocks(const View *v, const Scan *sc, long i, FILE *out)
{
	static const char sql[] =
	    "SELECT b.ptr, b.size, b.class, coalesce(b.tag, 0), e.time"
	    " FROM scan_blocks b LEFT JOIN events e ON e.seq = b.alloc_seq"
	    " WHERE b.scan = ?1 ORDER BY b.ptr";
	char name[SITELEN], when[32];
	sqlite3_stmt *st;
	const char *on, *off;
	long n;
	int rc, c;

	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK) {
		view_dberror(v, "blocks");
		return -1;
	}
	sqlite3_bind_int64(st, 1, sc->id);
	heading(sc, i, out);
	fprintf(out, "%-18s %10s  %-9s %9s  %s\n", "address", "size", "class", "age", "site");
	n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c = classof(sqlite3_column_text(st, 2));
		if (sitename(v, sc->process, (uint64_t)sqlite3_column_int64(st, 3), name, sizeof name) < 0)
			goto fail;
		on = v->color && c != 0 ? classcolors[c] : "";
		off = *on != '\0' ? NOCOLOR : "";
		fprintf(out, "0x%016" PRIx64 " %10" PRIu64 "  %s%-9s%s %9s  %s\n",
		    (uint64_t)sqlite3_column_int64(st, 0), colcount(st, 1),
		    on, c != 0 ? classnames[c] : "?", off,
		    age(sc->start, sqlite3_column_type(st, 4) != SQLITE_NULL,
		    sqlite3_column_int64(st, 4), when, sizeof when), name);
		if (c != 0 && (v->kinds & KIND(c)))
			n++;
	}
	if (rc != SQLITE_DONE) {
		view_dberror(v, "blocks");
		goto fail;
	}
	sqlite3_finalize(st);
	return n;

fail:
	sqlite3_finalize(st);
	return -1;
}

long
view_all(const View *v, FILE *out)
{
	Scan *sc;
	long nsc, i, n, total;

	if ((nsc = view_scans(v, &sc)) < 0)
		return -1;
	total = 0;
	for (i = 0; i < nsc; i++) {
		if ((n = allblocks(v, &sc[i], i, out)) < 0) {
			total = -1;
			break;
		}
		total += n;
	}
	free(sc);
	return total;
}
