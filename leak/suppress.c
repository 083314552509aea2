/*
 * leak/suppress.c -- suppression files, in both formats people keep:
 *
 *   LeakSanitizer's lines, "leak:PATTERN": the record is suppressed if
 *   PATTERN matches the function, the source file or the module of any
 *   frame of its stack.  As LSan matches: a substring, '*' for any run of
 *   characters, '^' at the start and '$' at the end anchor it.  Lines of
 *   other types (race:, called_from_lib:, ...) belong to other tools and
 *   are skipped; '#' starts a comment.
 *
 *   valgrind's entries, "{ NAME  Memcheck:Leak  [match-leak-kinds: K,..]
 *   fun:GLOB obj:GLOB src:GLOB ... }": the frame lines are matched from
 *   the innermost frame outwards, each against one frame ("..." against
 *   any number), and the entry matches when its lines run out before the
 *   stack does or with it.  Globs know '*', '?' and '\' (the next
 *   character as itself).  fun: names are matched demangled, as the trace
 *   holds them.  The allocator's own frames are never in a trace's
 *   stacks, so fun: lines naming the allocator (malloc, operator new,
 *   _Znwm, ...) at the head of an entry, as valgrind writes them, are
 *   passed over.  Entries for other tools or kinds are read and unused.
 *
 * A file may mix both: each entry is recognised by its first line.
 *
 * Must never: read the trace or print to stdout except supp_print's
 * block; a malformed file is refused with one line naming FILE:LINE.
 */
#include "leak.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { P_FUN, P_OBJ, P_SRC, P_ANY };	/* Pat.type */

typedef struct Pat Pat;
struct Pat {
	int	type;
	char	*glob;		/* NULL for P_ANY */
};

typedef struct Supp Supp;
struct Supp {
	int	lsan;		/* 1: a leak:PATTERN line; glob is its pattern */
	char	*name;		/* the entry's name, or "leak:PATTERN" */
	const char *file;	/* one of Supps.files */
	int	line;
	unsigned kinds;		/* classes it applies to: KIND() bits */
	char	*glob;		/* lsan: the pattern */
	Pat	*pats;		/* valgrind: the frame lines, innermost first */
	int	npats;
	int	first;		/* valgrind: pats[first] is the first not passed over */
	int	used;		/* a Memcheck:Leak entry (or an lsan line): it can match */
	uint64_t records, bytes, blocks;
};

struct Supps {
	Supp	*v;
	int	n, max;
	char	**files;	/* the paths read, for SuppUse.file */
	int	nfiles;
};

Supps *
supp_new(void)
{
	return calloc(1, sizeof(Supps));
}

static void
freesupp(Supp *s)
{
	int i;

	for (i = 0; i < s->npats; i++)
		free(s->pats[i].glob);
	free(s->pats);
	free(s->name);
	free(s->glob);
}

void
supp_free(Supps *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		freesupp(&s->v[i]);
	for (i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->v);
	free(s);
}

int
supp_count(const Supps *s)
{
	return s->n;
}

void
supp_use(const Supps *s, int i, SuppUse *u)
{
	const Supp *p = &s->v[i];

	u->name = p->name;
	u->file = p->file;
	u->line = p->line;
	u->records = p->records;
	u->bytes = p->bytes;
	u->blocks = p->blocks;
}

/* ---- matching ---- */

/* valgrind's glob: '*' any run, '?' one character, '\' quotes the next. */
static int
globmatch(const char *g, const char *s)
{
	const char *star, *sstar;
	int esc;

	star = sstar = NULL;
	while (*s != '\0') {
		if (*g == '*') {
			star = ++g;
			sstar = s;
			continue;
		}
		esc = *g == '\\' && g[1] != '\0';
		if (*g != '\0' && (esc ? g[1] == *s : (*g == '?' || *g == *s))) {
			g += esc ? 2 : 1;
			s++;
			continue;
		}
		if (star == NULL)
			return 0;
		g = star;	/* let the last star take one more character */
		s = ++sstar;
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

/*
 * LeakSanitizer's pattern: the parts between '*' found in order as
 * substrings; '^' first anchors the first part at the start, '$' last
 * anchors the last part at the end.  An empty string never matches.
 */
static int
lsanmatch(const char *pat, const char *s)
{
	const char *p, *star, *hit;
	size_t plen, len, slen;
	int start, end;

	if (s == NULL || *s == '\0')
		return 0;
	plen = strlen(pat);
	start = plen > 0 && pat[0] == '^';
	end = plen > (size_t)start && pat[plen - 1] == '$';
	p = pat + start;
	plen -= (size_t)start + (size_t)end;
	slen = strlen(s);
	for (;;) {
		star = memchr(p, '*', plen);
		len = star != NULL ? (size_t)(star - p) : plen;
		if (star == NULL && end) {
			/* the last part: at the very end of what is left */
			if (len > slen || (start && len != slen))
				return 0;
			return memcmp(s + slen - len, p, len) == 0;
		}
		if (len > 0) {
			if (start) {
				if (len > slen || memcmp(s, p, len) != 0)
					return 0;
				hit = s;
			} else if ((hit = memmem(s, slen, p, len)) == NULL)
				return 0;
			slen -= (size_t)(hit - s) + len;
			s = hit + len;
		}
		start = 0;
		if (star == NULL)
			return 1;
		plen -= len + 1;
		p = star + 1;
	}
}

static const char *
basename_of(const char *path)
{
	const char *p;

	p = strrchr(path, '/');
	return p != NULL ? p + 1 : path;
}

/* One valgrind frame line against one frame. */
static int
patmatch(const Pat *p, const Frame *f)
{
	char buf[1024];

	switch (p->type) {
	case P_FUN:
		return globmatch(p->glob, f->function != NULL ? f->function : "???");
	case P_OBJ:
		return globmatch(p->glob, f->module != NULL ? f->module : "???");
	case P_SRC:
		if (f->file == NULL)
			return globmatch(p->glob, "???");
		if (strchr(p->glob, ':') != NULL) {
			snprintf(buf, sizeof buf, "%s:%d", basename_of(f->file), f->line);
			return globmatch(p->glob, buf);
		}
		return globmatch(p->glob, basename_of(f->file));
	}
	return 0;
}

/* pats[i..] against fr[j..n); "..." tries every split. */
static int
framesmatch(const Pat *pats, int npats, int i, const Frame *fr, int n, int j)
{
	int k;

	for (; i < npats; i++, j++) {
		if (pats[i].type == P_ANY) {
			for (k = j; k <= n; k++)
				if (framesmatch(pats, npats, i + 1, fr, n, k))
					return 1;
			return 0;
		}
		if (j >= n || !patmatch(&pats[i], &fr[j]))
			return 0;
	}
	return 1;
}

static int
matches(const Supp *s, const Leak *l, const Frame *fr, int n)
{
	int j;

	if (!s->used || !(s->kinds & KIND(l->cls)))
		return 0;
	if (s->lsan) {
		for (j = 0; j < n; j++)
			if (lsanmatch(s->glob, fr[j].function) || lsanmatch(s->glob, fr[j].file) ||
			    lsanmatch(s->glob, fr[j].module))
				return 1;
		return 0;
	}
	return framesmatch(s->pats, s->npats, s->first, fr, n, 0);
}

int
supp_match(Supps *s, const Leak *l, const Frame *fr, int n)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (matches(&s->v[i], l, fr, n)) {
			s->v[i].records++;
			s->v[i].bytes += l->bytes;
			s->v[i].blocks += l->blocks;
			return i;
		}
	return -1;
}

/* ---- reading ---- */

/* A name of the allocator, as valgrind puts it at the top of a stack. */
static int
allocname(const char *g)
{
	static const char *const names[] = {
		"malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
		"aligned_alloc", "valloc", "pvalloc", "mallocz", "mallocalign", "smalloc",
	};
	size_t i;

	if (strpbrk(g, "*?\\") != NULL)
		return 0;
	for (i = 0; i < nelem(names); i++)
		if (strcmp(g, names[i]) == 0)
			return 1;
	return strncmp(g, "_Znw", 4) == 0 || strncmp(g, "_Zna", 4) == 0 ||
	    strncmp(g, "operator new", 12) == 0;
}

/* Strip leading and trailing blanks in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Room for one more entry, zeroed; NULL if out of memory. */
static Supp *
newsupp(Supps *s, const char *file, int line)
{
	Supp *nv;
	int nmax;

	if (s->n == s->max) {
		nmax = s->max != 0 ? 2 * s->max : 16;
		if ((nv = realloc(s->v, (size_t)nmax * sizeof *nv)) == NULL)
			return NULL;
		s->v = nv;
		s->max = nmax;
	}
	memset(&s->v[s->n], 0, sizeof s->v[s->n]);
	s->v[s->n].file = file;
	s->v[s->n].line = line;
	return &s->v[s->n++];
}

/* match-leak-kinds: a comma-separated list into *kinds; -1 if a word is unknown. */
static int
leakkinds(const char *list, unsigned *kinds)
{
	const char *w, *e;
	size_t n;
	int c;

	*kinds = 0;
	for (w = list; *w != '\0'; w = *e == ',' ? e + 1 : e) {
		while (*w == ' ' || *w == '\t')
			w++;
		for (e = w; *e != '\0' && *e != ','; e++)
			;
		n = (size_t)(e - w);
		while (n > 0 && (w[n - 1] == ' ' || w[n - 1] == '\t'))
			n--;
		if (n == 3 && memcmp(w, "all", 3) == 0)
			*kinds |= KINDS_ALL;
		else if (n == 4 && memcmp(w, "none", 4) == 0)
			;
		else if ((c = class_byname(w, n)) >= 0)
			*kinds |= KIND(c);
		else
			return -1;
	}
	return 0;
}

/* Add frame line t (fun:, obj:, src: or ...) to sp; -1 with why set. */
static int
addpat(Supp *sp, const char *t, const char **why)
{
	Pat *np;
	int type;

	if (strcmp(t, "...") == 0)
		type = P_ANY;
	else if (strncmp(t, "fun:", 4) == 0)
		type = P_FUN;
	else if (strncmp(t, "obj:", 4) == 0)
		type = P_OBJ;
	else if (strncmp(t, "src:", 4) == 0)
		type = P_SRC;
	else {
		*why = "expected fun:, obj:, src: or ... in a valgrind suppression";
		return -1;
	}
	if ((np = realloc(sp->pats, (size_t)(sp->npats + 1) * sizeof *np)) == NULL) {
		*why = strerror(ENOMEM);
		return -1;
	}
	sp->pats = np;
	np[sp->npats].type = type;
	np[sp->npats].glob = NULL;
	if (type != P_ANY && (np[sp->npats].glob = strdup(trim((char *)t + 4))) == NULL) {
		*why = strerror(ENOMEM);
		return -1;
	}
	sp->npats++;
	return 0;
}

/* The tool:kind line: whether it names Memcheck among its tools and the kind Leak. */
static int
memcheckleak(const char *t)
{
	const char *colon, *w, *e;

	if ((colon = strchr(t, ':')) == NULL)
		return -1;
	for (w = t; w < colon; w = e + 1) {
		for (e = w; e < colon && *e != ','; e++)
			;
		if (e - w == 8 && memcmp(w, "Memcheck", 8) == 0)
			return strcmp(colon + 1, "Leak") == 0;
		if (e >= colon)
			break;
	}
	return 0;
}

int
supp_load(Supps *s, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char buf[4096], **nf, *t;
	const char *why, *file;
	Supp *sp;
	int lineno, state, start, rc;

	enum { OUT, NAME, TOOL, BODY, SKIP };

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if ((nf = realloc(s->files, (size_t)(s->nfiles + 1) * sizeof *nf)) == NULL ||
	    (nf[s->nfiles] = strdup(path)) == NULL) {
		if (nf != NULL)
			s->files = nf;
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->files = nf;
	file = nf[s->nfiles++];

	rc = -1;
	why = NULL;
	sp = NULL;
	state = OUT;
	lineno = 0;
	start = 0;
	while (fgets(buf, sizeof buf, f) != NULL) {
		lineno++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			why = "line too long";
			goto out;
		}
		t = trim(buf);
		if (*t == '\0' || *t == '#')
			continue;
		switch (state) {
		case OUT:
			if (strcmp(t, "{") == 0) {
				state = NAME;
				start = lineno;
				break;
			}
			if (t[0] == '{' || t[0] == '}') {
				why = "a valgrind suppression opens with '{' alone on its line";
				goto out;
			}
			if (strchr(t, ':') == NULL) {
				why = "not a suppression (leak:PATTERN, or a valgrind entry in { })";
				goto out;
			}
			if (strncmp(t, "leak:", 5) != 0)
				break;		/* another sanitizer's type */
			t = trim(t + 5);
			if (*t == '\0') {
				why = "empty pattern after leak:";
				goto out;
			}
			if ((sp = newsupp(s, file, lineno)) == NULL) {
				why = strerror(ENOMEM);
				goto out;
			}
			sp->lsan = 1;
			sp->used = 1;
			sp->kinds = KINDS_ALL;
			sp->glob = strdup(t);
			sp->name = malloc(strlen(t) + 6);
			if (sp->glob == NULL || sp->name == NULL) {
				why = strerror(ENOMEM);
				goto out;
			}
			snprintf(sp->name, strlen(t) + 6, "leak:%s", t);
			break;
		case NAME:
			if (strcmp(t, "}") == 0 || strcmp(t, "{") == 0) {
				why = "a valgrind suppression needs a name, then Tool:Kind";
				goto out;
			}
			if ((sp = newsupp(s, file, start)) == NULL || (sp->name = strdup(t)) == NULL) {
				why = strerror(ENOMEM);
				goto out;
			}
			sp->kinds = KINDS_ALL;
			state = TOOL;
			break;
		case TOOL:
			if ((sp->used = memcheckleak(t)) < 0) {
				why = "expected Tool:Kind (Memcheck:Leak) after the name";
				goto out;
			}
			state = sp->used ? BODY : SKIP;
			break;
		case BODY:
			if (strcmp(t, "}") == 0) {
				while (sp->first < sp->npats && sp->pats[sp->first].type == P_FUN &&
				    allocname(sp->pats[sp->first].glob))
					sp->first++;
				state = OUT;
				break;
			}
			if (strncmp(t, "match-leak-kinds:", 17) == 0) {
				if (sp->npats > 0 || leakkinds(t + 17, &sp->kinds) < 0) {
					why = "match-leak-kinds: takes definite, indirect, possible, "
					    "reachable, all or none, before the frames";
					goto out;
				}
				break;
			}
			if (addpat(sp, t, &why) < 0)
				goto out;
			break;
		case SKIP:
			if (strcmp(t, "}") == 0)
				state = OUT;
			break;
		}
	}
	if (ferror(f)) {
		why = strerror(errno != 0 ? errno : EIO);
		goto out;
	}
	if (state != OUT) {
		lineno = start;
		why = "suppression not closed with '}'";
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	fclose(f);
	return rc;
}

/* ---- writing ---- */

/* s for a valgrind glob: '*', '?' and '\' quoted. */
static void
putglob(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '*' || *s == '?' || *s == '\\')
			fputc('\\', out);
		fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
	}
}

void
supp_print(FILE *out, const Leak *l, const Frame *fr, int n)
{
	const char *name;
	int i;

	name = "unknown";
	for (i = 0; i < n; i++)
		if (fr[i].function != NULL) {
			name = fr[i].function;
			break;
		}
	fprintf(out, "{\n   leak-%s-", class_name(l->cls));
	for (; *name != '\0'; name++)
		fputc((unsigned char)*name <= ' ' ? '_' : *name, out);
	fprintf(out, "\n   Memcheck:Leak\n   match-leak-kinds: %s\n", class_name(l->cls));
	for (i = 0; i < n; i++) {
		if (fr[i].function != NULL) {
			fputs("   fun:", out);
			putglob(out, fr[i].function);
		} else if (fr[i].module != NULL) {
			fputs("   obj:", out);
			putglob(out, fr[i].module);
		} else
			fputs("   fun:*", out);
		fputc('\n', out);
	}
	fputs("}\n", out);
}
