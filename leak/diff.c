/*
 * leak/diff.c -- --diff BASE: which leak records are news against an
 * earlier trace.  Records are compared by what does not change from run
 * to run: their class and their symbolized stack (each frame's function,
 * file and line; a frame without a function by its module's name and the
 * offset in it), never by addresses or stack ids.  A record is news when
 * no record of BASE has its class and stack, or when the records of this
 * trace with them hold more bytes than BASE's did.
 *
 * The same keys number the groups of records the text report merges
 * across the images of a trace (diff_group).
 *
 * Must never: write to either trace, or print anything.
 */
#include "leak.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct Ent Ent;
struct Ent {
	char	*key;		/* the class, then the frames (see keyof) */
	uint64_t base;		/* bytes in BASE */
	uint64_t cur;		/* bytes in this trace */
	int	inbase;		/* BASE has it */
	long	group;		/* its number for diff_group; -1: none yet */
};

struct Diff {
	Ent	*tab;		/* open addressing on the key */
	size_t	mask, n;
	char	*buf;		/* the key being built */
	size_t	buflen, bufmax;
	long	ngroups;	/* numbers diff_group gave */
};

static uint64_t
hashkey(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Append n bytes to d->buf; -1 if out of memory. */
static int
put(Diff *d, const char *s, size_t n)
{
	char *nb;
	size_t nmax;

	if (d->buflen + n + 1 > d->bufmax) {
		nmax = d->bufmax != 0 ? d->bufmax : 256;
		while (d->buflen + n + 1 > nmax)
			nmax *= 2;
		if ((nb = realloc(d->buf, nmax)) == NULL)
			return -1;
		d->buf = nb;
		d->bufmax = nmax;
	}
	memcpy(d->buf + d->buflen, s, n);
	d->buflen += n;
	d->buf[d->buflen] = '\0';
	return 0;
}

static int
puts0(Diff *d, const char *s)
{
	return put(d, s != NULL ? s : "?", strlen(s != NULL ? s : "?"));
}

/* The key of a record of class cls with stack fr[0..n) into d->buf; -1 if out of memory. */
static int
keyof(Diff *d, int cls, const Frame *fr, int n)
{
	char num[40];
	const char *mod;
	int i;

	d->buflen = 0;
	if (puts0(d, class_name(cls)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (put(d, "\036", 1) < 0)
			return -1;
		if (fr[i].function != NULL) {
			snprintf(num, sizeof num, "\037%d", fr[i].line);
			if (puts0(d, fr[i].function) < 0 || put(d, "\037", 1) < 0 ||
			    puts0(d, fr[i].file) < 0 || puts0(d, num) < 0)
				return -1;
		} else {
			mod = fr[i].module;
			if (mod != NULL && strrchr(mod, '/') != NULL)
				mod = strrchr(mod, '/') + 1;
			snprintf(num, sizeof num, "+0x%" PRIx64, fr[i].module != NULL ? fr[i].offset : fr[i].pc);
			if (puts0(d, mod) < 0 || puts0(d, num) < 0)
				return -1;
		}
	}
	return 0;
}

/* The entry of d->buf, made if make; NULL if absent (or out of memory). */
static Ent *
lookup(Diff *d, int make)
{
	Ent *nt;
	size_t i, j, nmask;

	if (make && 2 * (d->n + 1) > d->mask + 1) {
		nmask = d->mask != 0 ? 2 * (d->mask + 1) - 1 : 255;
		if ((nt = calloc(nmask + 1, sizeof *nt)) == NULL)
			return NULL;
		for (i = 0; d->tab != NULL && i <= d->mask; i++) {
			if (d->tab[i].key == NULL)
				continue;
			for (j = hashkey(d->tab[i].key) & nmask; nt[j].key != NULL; j = (j + 1) & nmask)
				;
			nt[j] = d->tab[i];
		}
		free(d->tab);
		d->tab = nt;
		d->mask = nmask;
	}
	if (d->tab == NULL)
		return NULL;
	for (i = hashkey(d->buf) & d->mask; d->tab[i].key != NULL; i = (i + 1) & d->mask)
		if (strcmp(d->tab[i].key, d->buf) == 0)
			return &d->tab[i];
	if (!make)
		return NULL;
	if ((d->tab[i].key = strdup(d->buf)) == NULL)
		return NULL;
	d->tab[i].group = -1;
	d->n++;
	return &d->tab[i];
}

/* Whether base has a mark labelled label; -1 if it cannot be read. */
static int
hasmark(sqlite3 *db, const char *label)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM marks WHERE label = ?1 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

Diff *
diff_new(void)
{
	return calloc(1, sizeof(Diff));
}

long
diff_group(Diff *d, const Leak *l, const Frame *fr, int n)
{
	Ent *e;

	if (keyof(d, l->cls, fr, n) < 0 || (e = lookup(d, 1)) == NULL)
		return -1;
	if (e->group < 0)
		e->group = d->ngroups++;
	return e->group;
}

Diff *
diff_open(const char *base, const Query *q, char *err, size_t errlen)
{
	char why[256];
	sqlite3 *db;
	Stacks *st;
	Frame *fr;
	Model m;
	Query bq;
	Diff *d;
	Ent *e;
	size_t i;
	int n, r;

	memset(&m, 0, sizeof m);
	st = NULL;
	fr = NULL;
	if ((d = diff_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (trace_open_read(base, &db, why, sizeof why) < 0) {
		snprintf(err, errlen, "--diff: %s", why);
		goto fail;
	}
	bq.pid = 0;
	bq.snapshot = q->snapshot;
	bq.mark = NULL;
	if (q->mark != NULL) {
		if ((r = hasmark(db, q->mark)) < 0) {
			snprintf(err, errlen, "--diff: %s: %s", base, model_sqlwhy(db));
			goto fail;
		}
		bq.mark = r ? q->mark : NULL;
	}
	if (model_read(&m, db, &bq, why, sizeof why) < 0) {
		snprintf(err, errlen, "--diff: %s: %s", base, why);
		goto fail;
	}
	if ((st = stacks_open(db, why, sizeof why)) == NULL ||
	    (fr = malloc(MAXFRAMES * sizeof *fr)) == NULL) {
		snprintf(err, errlen, "--diff: %s: %s", base, st == NULL ? why : "out of memory");
		goto fail;
	}
	for (i = 0; i < m.nleaks; i++) {
		n = stacks_get(st, m.leaks[i].proc->id, m.leaks[i].stack, fr, MAXFRAMES);
		if (n < 0) {
			snprintf(err, errlen, "--diff: %s: %s", base, model_sqlwhy(db));
			goto fail;
		}
		if (keyof(d, m.leaks[i].cls, fr, n) < 0 || (e = lookup(d, 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		e->inbase = 1;
		e->base += m.leaks[i].bytes;
	}
	free(fr);
	stacks_close(st);
	model_free(&m);
	sqlite3_close(db);
	return d;

fail:
	free(fr);
	stacks_close(st);
	model_free(&m);
	sqlite3_close(db);
	diff_free(d);
	return NULL;
}

void
diff_free(Diff *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; d->tab != NULL && i <= d->mask; i++)
		free(d->tab[i].key);
	free(d->tab);
	free(d->buf);
	free(d);
}

int
diff_add(Diff *d, const Leak *l, const Frame *fr, int n)
{
	Ent *e;

	if (keyof(d, l->cls, fr, n) < 0 || (e = lookup(d, 1)) == NULL)
		return -1;
	e->cur += l->bytes;
	return 0;
}

int
diff_news(Diff *d, const Leak *l, const Frame *fr, int n)
{
	Ent *e;

	if (keyof(d, l->cls, fr, n) < 0 || (e = lookup(d, 0)) == NULL)
		return 1;
	return !e->inbase || e->cur > e->base;
}
