/*
 * leak/stacks.c -- stacks of a trace as people read them: a stack id
 * (frames.id of its innermost node) walked up the stack tree, each pc
 * expanded through its locations rows into its inline chain.
 *
 * Each (process, pc) is looked up once and its frames kept in a table
 * of its own, and every string (function, file, module path) is kept
 * once for the life of the reader, so a report that prints the same
 * functions a thousand times reads them once and can hold the frames of
 * any number of stacks at the same time.
 *
 * Must never: write to the trace, or print anything (the callers do).
 */
#include "leak.h"
#include "hashmix.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAXCHAIN	= 64,	/* frames of one pc's inline chain kept, at most */
	MAXWALK		= 4096,	/* nodes walked up one stack, at most (a damaged tree loops) */
};

/* The frames of one (process, pc), at frames[first .. first+n). */
typedef struct Pcent Pcent;
struct Pcent {
	int64_t	process;
	uint64_t pc;
	size_t	first;
	int	n;
	int	used;
};

struct Stacks {
	sqlite3	*db;
	sqlite3_stmt *node;	/* parent and pc of (process, id) */
	sqlite3_stmt *locs;	/* the locations rows of (process, pc), innermost first */
	sqlite3_stmt *mod;	/* the module holding (process, pc) */
	Pcent	*pcs;		/* open addressing on (process, pc) */
	size_t	pcmask, npcs;
	Frame	*frames;	/* every pc's chain, back to back */
	size_t	nframes, maxframes;
	char	**strs;		/* interned strings, open addressing */
	size_t	strmask, nstrs;
};

static uint64_t
strhash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The kept copy of s (NULL for NULL); NULL with *nomem set if out of memory. */
static const char *
intern(Stacks *s, const char *str, int *nomem)
{
	char **ns;
	size_t i, j, nmask;

	if (str == NULL)
		return NULL;
	if (2 * (s->nstrs + 1) > s->strmask + 1) {
		nmask = 2 * (s->strmask + 1) - 1;
		if ((ns = calloc(nmask + 1, sizeof *ns)) == NULL)
			goto nomem;
		for (i = 0; i <= s->strmask; i++) {
			if (s->strs[i] == NULL)
				continue;
			for (j = strhash(s->strs[i]) & nmask; ns[j] != NULL; j = (j + 1) & nmask)
				;
			ns[j] = s->strs[i];
		}
		free(s->strs);
		s->strs = ns;
		s->strmask = nmask;
	}
	for (i = strhash(str) & s->strmask; s->strs[i] != NULL; i = (i + 1) & s->strmask)
		if (strcmp(s->strs[i], str) == 0)
			return s->strs[i];
	if ((s->strs[i] = strdup(str)) == NULL)
		goto nomem;
	s->nstrs++;
	return s->strs[i];

nomem:
	*nomem = 1;
	return NULL;
}

Stacks *
stacks_open(sqlite3 *db, char *err, size_t errlen)
{
	static const char nodesql[] =
	    "SELECT parent, pc FROM frames WHERE process = ?1 AND id = ?2";
	static const char locsql[] =
	    "SELECT l.function, l.file, l.line, l.column, m.path, l.offset"
	    " FROM locations l LEFT JOIN modules m ON m.id = l.module"
	    " WHERE l.process = ?1 AND l.pc = ?2 ORDER BY l.depth";
	static const char modsql[] =
	    "SELECT path, ?2 - base FROM modules WHERE process = ?1 AND lo <= ?2 AND ?2 < hi"
	    " ORDER BY loaded DESC LIMIT 1";
	Stacks *s;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->db = db;
	s->pcmask = 1023;
	s->strmask = 1023;
	s->pcs = calloc(s->pcmask + 1, sizeof *s->pcs);
	s->strs = calloc(s->strmask + 1, sizeof *s->strs);
	if (s->pcs == NULL || s->strs == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (sqlite3_prepare_v2(db, nodesql, -1, &s->node, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, locsql, -1, &s->locs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, modsql, -1, &s->mod, NULL) != SQLITE_OK) {
		/* in words for people: SQLite's own ("no such column: ...") are not */
		snprintf(err, errlen, "cannot read stacks: %s",
		    sqlite3_errcode(db) == SQLITE_NOMEM ? "out of memory" : "the trace is damaged");
		goto fail;
	}
	return s;

fail:
	stacks_close(s);
	return NULL;
}

void
stacks_close(Stacks *s)
{
	size_t i;

	if (s == NULL)
		return;
	sqlite3_finalize(s->node);
	sqlite3_finalize(s->locs);
	sqlite3_finalize(s->mod);
	if (s->strs != NULL)
		for (i = 0; i <= s->strmask; i++)
			free(s->strs[i]);
	free(s->strs);
	free(s->pcs);
	free(s->frames);
	free(s);
}

/* Room for one more frame in s->frames; -1 if out of memory. */
static int
growframes(Stacks *s)
{
	Frame *nf;
	size_t nmax;

	if (s->nframes < s->maxframes)
		return 0;
	nmax = s->maxframes != 0 ? 2 * s->maxframes : 1024;
	if ((nf = realloc(s->frames, nmax * sizeof *nf)) == NULL)
		return -1;
	s->frames = nf;
	s->maxframes = nmax;
	return 0;
}

/* Grow the pc table when it is half full; -1 if out of memory. */
static int
growpcs(Stacks *s)
{
	Pcent *np;
	size_t i, j, nmask;

	if (2 * (s->npcs + 1) <= s->pcmask + 1)
		return 0;
	nmask = 2 * (s->pcmask + 1) - 1;
	if ((np = calloc(nmask + 1, sizeof *np)) == NULL)
		return -1;
	for (i = 0; i <= s->pcmask; i++) {
		if (!s->pcs[i].used)
			continue;
		j = mix(s->pcs[i].pc ^ (uint64_t)s->pcs[i].process << 48) & nmask;
		while (np[j].used)
			j = (j + 1) & nmask;
		np[j] = s->pcs[i];
	}
	free(s->pcs);
	s->pcs = np;
	s->pcmask = nmask;
	return 0;
}

static const char *
coltext(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* Read the frames of (process, pc) into s->frames; the entry describing them, or NULL on failure. */
static Pcent *
lookpc(Stacks *s, int64_t process, uint64_t pc)
{
	Pcent *e;
	Frame *f;
	size_t i;
	int rc, nomem;

	for (i = mix(pc ^ (uint64_t)process << 48) & s->pcmask; s->pcs[i].used; i = (i + 1) & s->pcmask)
		if (s->pcs[i].pc == pc && s->pcs[i].process == process)
			return &s->pcs[i];
	if (growpcs(s) < 0)
		return NULL;
	for (i = mix(pc ^ (uint64_t)process << 48) & s->pcmask; s->pcs[i].used; i = (i + 1) & s->pcmask)
		;
	e = &s->pcs[i];
	e->process = process;
	e->pc = pc;
	e->first = s->nframes;
	e->n = 0;

	nomem = 0;
	sqlite3_reset(s->locs);
	sqlite3_bind_int64(s->locs, 1, process);
	sqlite3_bind_int64(s->locs, 2, (int64_t)pc);
	while ((rc = sqlite3_step(s->locs)) == SQLITE_ROW && e->n < MAXCHAIN) {
		if (growframes(s) < 0)
			return NULL;
		f = &s->frames[s->nframes];
		memset(f, 0, sizeof *f);
		f->pc = pc;
		f->function = intern(s, coltext(s->locs, 0), &nomem);
		f->file = intern(s, coltext(s->locs, 1), &nomem);
		f->line = sqlite3_column_int(s->locs, 2);
		f->column = sqlite3_column_int(s->locs, 3);
		f->module = intern(s, coltext(s->locs, 4), &nomem);
		if (f->module != NULL)
			f->offset = (uint64_t)sqlite3_column_int64(s->locs, 5);
		f->inlined = 1;		/* every row but the last: fixed below */
		s->nframes++;
		e->n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return NULL;
	sqlite3_reset(s->locs);
	if (e->n > 0)
		s->frames[s->nframes - 1].inlined = 0;
	else {
		/* not symbolized: at least the module and the offset in it */
		if (growframes(s) < 0)
			return NULL;
		f = &s->frames[s->nframes];
		memset(f, 0, sizeof *f);
		f->pc = pc;
		sqlite3_reset(s->mod);
		sqlite3_bind_int64(s->mod, 1, process);
		sqlite3_bind_int64(s->mod, 2, (int64_t)pc);
		rc = sqlite3_step(s->mod);
		if (rc == SQLITE_ROW) {
			f->module = intern(s, coltext(s->mod, 0), &nomem);
			f->offset = (uint64_t)sqlite3_column_int64(s->mod, 1);
		}
		sqlite3_reset(s->mod);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return NULL;
		s->nframes++;
		e->n = 1;
	}
	if (nomem)
		return NULL;
	e->used = 1;
	s->npcs++;
	return e;
}

int
stacks_get(Stacks *s, int64_t process, int64_t stack, Frame *out, int max)
{
	Pcent *e;
	int64_t id, parent;
	uint64_t pc;
	int n, k, walked, rc;

	n = 0;
	for (id = stack, walked = 0; id > 0 && n < max && walked < MAXWALK; id = parent, walked++) {
		sqlite3_reset(s->node);
		sqlite3_bind_int64(s->node, 1, process);
		sqlite3_bind_int64(s->node, 2, id);
		rc = sqlite3_step(s->node);
		if (rc == SQLITE_DONE)
			break;		/* a node the trace never got: the stack ends here */
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s->node);
			return -1;
		}
		parent = sqlite3_column_int64(s->node, 0);
		pc = (uint64_t)sqlite3_column_int64(s->node, 1);
		sqlite3_reset(s->node);
		if ((e = lookpc(s, process, pc)) == NULL)
			return -1;
		/* e may move when the table grows: copy its frames before the next lookup */
		for (k = 0; k < e->n && n < max; k++)
			out[n++] = s->frames[e->first + (size_t)k];
	}
	return n;
}

int
stacks_pc(Stacks *s, int64_t process, uint64_t pc, Frame *out, int max)
{
	Pcent *e;
	int k;

	if ((e = lookpc(s, process, pc)) == NULL)
		return -1;
	for (k = 0; k < e->n && k < max; k++)
		out[k] = s->frames[e->first + (size_t)k];
	return k;
}

/* The last part of a path. */
static const char *
base(const char *path)
{
	const char *p;

	p = strrchr(path, '/');
	return p != NULL ? p + 1 : path;
}

char *
stacks_format(const Frame *f, int full, char *buf, size_t len)
{
	const char *inl;

	inl = f->inlined ? " (inlined)" : "";
	if (f->function != NULL && f->file != NULL && f->line > 0)
		snprintf(buf, len, "%s %s:%d%s", f->function, full ? f->file : base(f->file),
		    f->line, inl);
	else if (f->function != NULL && f->module != NULL)
		snprintf(buf, len, "%s (%s+0x%" PRIx64 ")%s", f->function, base(f->module),
		    f->offset, inl);
	else if (f->function != NULL)
		snprintf(buf, len, "%s%s", f->function, inl);
	else if (f->module != NULL)
		snprintf(buf, len, "0x%" PRIx64 " (%s+0x%" PRIx64 ")", f->pc, base(f->module),
		    f->offset);
	else
		snprintf(buf, len, "0x%" PRIx64, f->pc);
	return buf;
}
