/*
 * poolview/model-blocks.c -- the blocks alive at the cursor as screens
 * list them: the filtered and sorted list, one block's detail (its free,
 * its realloc history, what a scan saw of it), the heap map, the errors.
 *
 * The heap map is exact only where the trace is: arenas are known at
 * scans, pool headers only for the blocks a scan saw.  It shows the
 * process image with the most bytes alive at the cursor: the arenas of
 * its scan nearest before the cursor (else the first after),
 * widened to the blocks alive at the cursor in that image; cells of an
 * alive block are allocated (leaked when its class at exit is definite,
 * indirect or possible), header bytes are those a scan recorded for a
 * block alive now, the rest of an arena is free, and addresses outside
 * every arena are shown as unknown.
 *
 * Must never: draw, or change the cursor.
 */
#include "poolview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const Model *sortm;
static int sortby, sortrev;

static int
blkcmp(const void *x, const void *y)
{
	const Blk *a = *(Blk *const *)x, *b = *(Blk *const *)y;
	int r;

	switch (sortby) {
	case BS_SIZE:
		r = a->size > b->size ? -1 : a->size < b->size;
		break;
	case BS_AGE:
		r = a->time < b->time ? -1 : a->time > b->time;
		break;
	case BS_CLASS:
		r = b->cls - a->cls;
		break;
	case BS_FUNC:
		r = strcmp(model_blkfunc(sortm, a), model_blkfunc(sortm, b));
		break;
	default:
		r = 0;
		break;
	}
	if (r == 0)
		r = a->ptr < b->ptr ? -1 : a->ptr > b->ptr;
	return sortrev ? -r : r;
}

int
blist_fill(Model *m, Blist *l)
{
	Blk **nv, *b, *selb;
	size_t i;

	selb = l->sel < l->n ? l->v[l->sel] : NULL;
	if (l->max < m->nlive) {
		if ((nv = realloc(l->v, (m->nlive + 1) * sizeof *nv)) == NULL)
			return -1;
		l->v = nv;
		l->max = m->nlive;
	}
	l->n = 0;
	for (i = 0; i < m->nlive; i++) {
		b = m->live[i];
		if (b->size < l->minsize || (l->maxsize != 0 && b->size > l->maxsize))
			continue;
		if (l->cls >= 0 && b->cls != l->cls)
			continue;
		if (l->func[0] != '\0' && strstr(model_blkfunc(m, b), l->func) == NULL)
			continue;
		l->v[l->n++] = b;
	}
	sortm = m;
	sortby = l->sort;
	sortrev = l->rev;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, blkcmp);
	for (l->sel = 0; selb != NULL && l->sel < l->n && l->v[l->sel] != selb; l->sel++)
		;
	if (l->sel >= l->n)
		l->sel = 0;
	return 0;
}

/* The lifetime a realloc ended at event seq of process, into line; 1 found. */
static int
before(Model *m, int64_t process, int64_t seq, int64_t *aseq, char *line, size_t len)
{
	sqlite3_stmt *st;
	int r;

	r = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT alloc_seq, call, ptr, size FROM blocks"
	    " WHERE free_seq = ?1 AND process = ?2", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, process);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*aseq = sqlite3_column_int64(st, 0);
		snprintf(line, len, "#%lld %s -> 0x%llx, %lld bytes", (long long)*aseq,
		    sqlite3_column_text(st, 1) != NULL ? (const char *)sqlite3_column_text(st, 1) : "?",
		    (unsigned long long)sqlite3_column_int64(st, 2),
		    (long long)sqlite3_column_int64(st, 3));
		r = 1;
	}
	sqlite3_finalize(st);
	return r;
}

int
model_detail(Model *m, const Blk *b, Detail *d)
{
	sqlite3_stmt *st;
	char tmp[8][96];
	int64_t seq, aseq;
	int n, i;

	memset(d, 0, sizeof *d);
	d->b = *b;
	d->b.next = NULL;
	if (sqlite3_prepare_v2(m->db, "SELECT free_seq, free_time, free_call, free_stack FROM blocks"
	    " WHERE process = ?1 AND stack = ?2 AND alloc_seq = ?3", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, b->process);
	sqlite3_bind_int64(st, 2, b->stack);
	sqlite3_bind_int64(st, 3, b->seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		d->free_seq = sqlite3_column_int64(st, 0);
		d->free_time = sqlite3_column_int64(st, 1);
		snprintf(d->free_call, sizeof d->free_call, "%s", sqlite3_column_text(st, 2) != NULL ?
		    (const char *)sqlite3_column_text(st, 2) : "?");
		d->free_stack = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(m->db, "SELECT tag, block, bsize, preview FROM scan_blocks"
	    " WHERE alloc_seq = ?1 ORDER BY scan DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, b->seq);
		if (sqlite3_step(st) == SQLITE_ROW) {
			d->tag = (uint64_t)sqlite3_column_int64(st, 0);
			d->block = (uint64_t)sqlite3_column_int64(st, 1);
			d->bsize = (uint64_t)sqlite3_column_int64(st, 2);
			d->npreview = sqlite3_column_bytes(st, 3);
			if (d->npreview > (int)sizeof d->preview)
				d->npreview = (int)sizeof d->preview;
			if (d->npreview > 0)
				memcpy(d->preview, sqlite3_column_blob(st, 3), (size_t)d->npreview);
		}
		sqlite3_finalize(st);
	}
	/* the lifetimes before it that reallocs ended, oldest first */
	n = 0;
	seq = b->seq;
	while (n < 6 && b->call != NULL && strcmp(b->call, "realloc") == 0 &&
	    before(m, b->process, seq, &aseq, tmp[n], sizeof tmp[n])) {
		n++;
		seq = aseq;
	}
	for (i = n; i-- > 0;)
		snprintf(d->hist[d->nhist++], sizeof d->hist[0], "%s", tmp[i]);
	if (n > 0 || strcmp(d->free_call, "realloc") == 0)
		snprintf(d->hist[d->nhist++], sizeof d->hist[0], "#%lld %s -> 0x%llx, %llu bytes"
		    "  (this block)", (long long)b->seq, b->call, (unsigned long long)b->ptr,
		    (unsigned long long)b->size);
	if (strcmp(d->free_call, "realloc") == 0 && sqlite3_prepare_v2(m->db, "SELECT newptr, size"
	    " FROM events WHERE seq = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, d->free_seq);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(d->hist[d->nhist++], sizeof d->hist[0], "#%lld realloc -> 0x%llx,"
			    " %lld bytes", (long long)d->free_seq,
			    (unsigned long long)sqlite3_column_int64(st, 0),
			    (long long)sqlite3_column_int64(st, 1));
		sqlite3_finalize(st);
	}
	return 0;
}

/* Mark the cells of [a, a + n) with state c, block b, where it outranks what is there. */
static void
paint(Hmap *hm, uint64_t a, uint64_t n, int c, Blk *b)
{
	uint64_t c0, c1, i, ncell;

	ncell = (uint64_t)hm->w * (uint64_t)hm->h;
	if (n == 0 || a + n <= hm->lo || a >= hm->lo + hm->bytes)
		return;
	if (a < hm->lo) {
		n -= hm->lo - a;
		a = hm->lo;
	}
	c0 = (a - hm->lo) / hm->per;
	c1 = (a + n - 1 - hm->lo) / hm->per;
	for (i = c0; i <= c1 && i < ncell; i++) {
		if (hm->cell[i] == MC_NONE || hm->cell[i] < c) {
			hm->cell[i] = (unsigned char)c;
			if (b != NULL)
				hm->blk[i] = b;
		} else if (hm->blk[i] == NULL && b != NULL)
			hm->blk[i] = b;
	}
}

void
hmap_free(Hmap *hm)
{
	free(hm->cell);
	free(hm->blk);
	hm->cell = NULL;
	hm->blk = NULL;
}

/* The process image with the most bytes alive at the cursor (the first image if none). */
static int64_t
heaviest(const Model *m)
{
	int64_t proc[64], best;
	uint64_t bytes[64], most;
	size_t i;
	int n, k;

	n = 0;
	for (i = 0; i < m->nlive; i++) {
		for (k = 0; k < n && proc[k] != m->live[i]->process; k++)
			;
		if (k == n) {
			if (n == (int)nelem(proc))
				continue;
			proc[n] = m->live[i]->process;
			bytes[n++] = 0;
		}
		bytes[k] += m->live[i]->size;
	}
	best = 1;
	most = 0;
	for (k = 0; k < n; k++)
		if (bytes[k] > most) {
			most = bytes[k];
			best = proc[k];
		}
	return best;
}

int
hmap_fill(Model *m, Hmap *hm, int w, int h)
{
	sqlite3_stmt *st;
	uint64_t lo, hi, base, size, ncell, ptr;
	int64_t process, seq;
	size_t i;
	Blk *b;

	hmap_free(hm);
	hm->w = w;
	hm->h = h;
	hm->scan = 0;
	hm->narena = 0;
	ncell = (uint64_t)w * (uint64_t)h;
	if (ncell == 0 || (hm->cell = malloc(ncell)) == NULL ||
	    (hm->blk = calloc(ncell, sizeof *hm->blk)) == NULL)
		return -1;
	memset(hm->cell, MC_NONE, ncell);
	process = heaviest(m);
	hm->process = process;
	if (sqlite3_prepare_v2(m->db, "SELECT id FROM scans WHERE process = ?2 ORDER BY"
	    " coalesce(seq, 0) > ?1, abs(coalesce(seq, 0) - ?1) LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, m->cur);
		sqlite3_bind_int64(st, 2, process);
		if (sqlite3_step(st) == SQLITE_ROW)
			hm->scan = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	lo = UINT64_MAX;
	hi = 0;
	if (hm->scan != 0 && sqlite3_prepare_v2(m->db, "SELECT base, size FROM arenas WHERE scan = ?1",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, hm->scan);
		while (sqlite3_step(st) == SQLITE_ROW) {
			base = (uint64_t)sqlite3_column_int64(st, 0);
			size = (uint64_t)sqlite3_column_int64(st, 1);
			lo = base < lo ? base : lo;
			hi = base + size > hi ? base + size : hi;
			hm->narena++;
		}
		sqlite3_finalize(st);
	}
	for (i = 0; i < m->nlive; i++) {
		b = m->live[i];
		if (b->process != process)
			continue;
		lo = b->ptr < lo ? b->ptr : lo;
		hi = b->ptr + b->size > hi ? b->ptr + b->size : hi;
	}
	hm->derived = hm->narena == 0;
	if (hi <= lo) {
		hm->lo = 0;
		hm->bytes = 0;
		hm->per = 1;
		return 0;
	}
	hm->lo = lo;
	hm->bytes = hi - lo;
	hm->per = (hm->bytes + ncell - 1) / ncell;
	if (hm->per == 0)
		hm->per = 1;
	if (hm->derived)
		paint(hm, lo, hi - lo, MC_FREE, NULL);
	else if (sqlite3_prepare_v2(m->db, "SELECT base, size FROM arenas WHERE scan = ?1", -1, &st,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, hm->scan);
		while (sqlite3_step(st) == SQLITE_ROW)
			paint(hm, (uint64_t)sqlite3_column_int64(st, 0),
			    (uint64_t)sqlite3_column_int64(st, 1), MC_FREE, NULL);
		sqlite3_finalize(st);
	}
	if (hm->scan != 0 && sqlite3_prepare_v2(m->db, "SELECT alloc_seq, block, bsize, ptr, size"
	    " FROM scan_blocks WHERE scan = ?1 AND alloc_seq IS NOT NULL", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, hm->scan);
		while (sqlite3_step(st) == SQLITE_ROW) {
			seq = sqlite3_column_int64(st, 0);
			if ((b = model_blk(m, seq)) == NULL || b->live == 0)
				continue;
			base = (uint64_t)sqlite3_column_int64(st, 1);
			size = (uint64_t)sqlite3_column_int64(st, 2);
			ptr = (uint64_t)sqlite3_column_int64(st, 3);
			if (ptr > base)
				paint(hm, base, ptr - base, MC_HEADER, b);
			ptr += (uint64_t)sqlite3_column_int64(st, 4);
			if (base + size > ptr)
				paint(hm, ptr, base + size - ptr, MC_HEADER, b);
		}
		sqlite3_finalize(st);
	}
	for (i = 0; i < m->nlive; i++) {
		b = m->live[i];
		if (b->process == process)
			paint(hm, b->ptr, b->size > 0 ? b->size : 1,
			    b->cls >= CL_POSSIBLE ? MC_LEAK : MC_ALLOC, b);
	}
	if (hm->sel >= ncell)
		hm->sel = 0;
	return 0;
}

int
model_errors(Model *m, Err **out)
{
	sqlite3_stmt *st;
	Err *v;
	size_t i, n;
	const char *msg, *nl;
	char first[200];

	*out = NULL;
	if ((v = calloc(m->npt + 1, sizeof *v)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(m->db, "SELECT process, ptr, stack, coalesce(kind, 'error'), message"
	    " FROM errors WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		free(v);
		return -1;
	}
	n = 0;
	for (i = 0; i < m->npt; i++) {
		if (m->pt[i].kind != PT_ERROR)
			continue;
		sqlite3_bind_int64(st, 1, m->pt[i].id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			v[n].id = m->pt[i].id;
			v[n].seq = m->pt[i].seq;
			v[n].process = sqlite3_column_int64(st, 0);
			v[n].ptr = (uint64_t)sqlite3_column_int64(st, 1);
			v[n].stack = sqlite3_column_int64(st, 2);
			v[n].kind = model_intern(m, (const char *)sqlite3_column_text(st, 3));
			msg = (const char *)sqlite3_column_text(st, 4);
			if (msg == NULL)
				msg = "";
			/* the panic line: the last line of the pool's report */
			while ((nl = strchr(msg, '\n')) != NULL && nl[1] != '\0')
				msg = nl + 1;
			snprintf(first, sizeof first, "%.*s", (int)strcspn(msg, "\n"), msg);
			v[n].msg = model_intern(m, first);
			n++;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	*out = v;
	return (int)n;
}
