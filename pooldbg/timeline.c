/*
 * pooldbg/timeline.c -- the time index of a trace, built once when the
 * recording is over so that a reader can stand at any event of the run
 * and ask what was alive then without scanning the run:
 *
 *   timeline         heap in use and blocks alive every TIMELINE_SPAN
 *                    events, with the bytes each span allocated: the
 *                    curve of the whole run in a few thousand rows;
 *   timeline_live    checkpoints: the set of blocks alive after chosen
 *                    events, as their alloc_seq in ascending order, each
 *                    the difference from the one before, LEB128-coded in
 *                    a blob.
 *                    A checkpoint is placed when at least
 *                    max(CKMIN, 4 x blocks alive) events passed since the
 *                    one before, so the sets stored add up to at most a
 *                    quarter of the events, and a reader gets the blocks
 *                    alive at any event from the checkpoint before it and
 *                    the events between (at most 4 x alive + CKMIN);
 *   timeline_stacks  allocations and bytes per allocation stack.
 *
 * Everything comes from the block lifetimes, one timeline_add each: the
 * recorder's lifetime.c adds them as it writes them to blocks, and
 * timeline_build reads them back from blocks for a trace made without
 * the index.  A block never freed (free_seq NULL) counts as alive to the
 * end of the trace.  All process images count together.
 *
 * Must never: change a table it did not create, or read events beyond
 * the one row per span it takes the time from.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "timeline.h"
#include "hashmix.h"

enum {
	CKMIN	= 65536,	/* fewest events between two checkpoints */
};

/* One allocation stack's totals, open addressing on (process, stack). */
typedef struct Stk Stk;
struct Stk {
	int64_t	process;
	int64_t	stack;
	uint64_t allocs;
	uint64_t bytes;
	int	used;
};

/* What a span adds up. */
typedef struct Acc Acc;
struct Acc {
	int64_t	inuse;		/* bytes alive after its last event (deltas until summed) */
	int64_t	nblk;		/* blocks alive after it (likewise) */
	uint64_t born;		/* bytes the span allocated */
	uint64_t allocs;
};

struct Timeline {
	sqlite3	*db;		/* while storing */
	int64_t	maxseq;		/* the trace's last events.seq, known when storing */
	size_t	nspan;		/* spans of the trace, known when storing */
	size_t	capspan;	/* spans of sp allocated (zeroed) */
	Acc	*sp;		/* per span, one cache line for the four */
	uint32_t *a, *f;	/* per block: alloc_seq, free_seq (0: never freed) */
	size_t	nb, maxb;
	Stk	*stk;
	size_t	stkmask, nstk;
	int64_t	*ck;		/* checkpoint seqs, ascending */
	uint32_t **set;		/* per checkpoint: the alloc_seqs alive after it */
	size_t	*nset, *maxset;
	size_t	nck;
	uint64_t *tm;		/* per span: the time of its last event, 0 if it never came (timeline_time) */
	size_t	captm;
	int64_t	lastseq;	/* the last event timeline_time saw, and its time */
	uint64_t lasttime;
	int	nomem;		/* out of memory while blocks came in */
	int	toomany;	/* an event seq of 2^32 or more came */
};
typedef struct Timeline Build;

static size_t
spanof(int64_t seq)
{
	return (size_t)((seq - 1) / TIMELINE_SPAN);
}

/* Count one block for its stack; -1 if out of memory. */
static int
stkadd(Build *b, int64_t process, int64_t stack, uint64_t size)
{
	Stk *ns, *e;
	size_t i, j, nmask;

	if (2 * (b->nstk + 1) > b->stkmask + 1) {
		nmask = b->stkmask == 0 ? 1023 : 2 * (b->stkmask + 1) - 1;
		if ((ns = calloc(nmask + 1, sizeof *ns)) == NULL)
			return -1;
		for (i = 0; b->stk != NULL && i <= b->stkmask; i++) {
			if (!b->stk[i].used)
				continue;
			for (j = mix((uint64_t)b->stk[i].stack * 31 + (uint64_t)b->stk[i].process) & nmask;
			    ns[j].used; j = (j + 1) & nmask)
				;
			ns[j] = b->stk[i];
		}
		free(b->stk);
		b->stk = ns;
		b->stkmask = nmask;
	}
	for (i = mix((uint64_t)stack * 31 + (uint64_t)process) & b->stkmask; b->stk[i].used;
	    i = (i + 1) & b->stkmask) {
		e = &b->stk[i];
		if (e->process == process && e->stack == stack) {
			e->allocs++;
			e->bytes += size;
			return 0;
		}
	}
	e = &b->stk[i];
	e->used = 1;
	e->process = process;
	e->stack = stack;
	e->allocs = 1;
	e->bytes = size;
	b->nstk++;
	return 0;
}

/* Make span k exist in b->sp (zeroed); -1 if out of memory. */
static int
growspans(Build *b, size_t k)
{
	Acc *ns;
	size_t cap;

	if (k < b->capspan)
		return 0;
	cap = b->capspan == 0 ? 4096 : b->capspan;
	while (cap <= k)
		cap *= 2;
	if ((ns = realloc(b->sp, cap * sizeof *ns)) == NULL)
		return -1;
	memset(ns + b->capspan, 0, (cap - b->capspan) * sizeof *ns);
	b->sp = ns;
	b->capspan = cap;
	return 0;
}

void
timeline_time(Timeline *b, int64_t seq, uint64_t time)
{
	uint64_t *n;
	size_t k, cap;

	b->lastseq = seq;
	b->lasttime = time;
	if (seq <= 0 || seq % TIMELINE_SPAN != 0)
		return;
	k = (size_t)(seq / TIMELINE_SPAN) - 1;
	if (k >= b->captm) {
		cap = b->captm == 0 ? 4096 : b->captm * 2;
		while (cap <= k)
			cap *= 2;
		if ((n = realloc(b->tm, cap * sizeof *n)) == NULL)
			return;		/* those spans are looked up in events */
		memset(n + b->captm, 0, (cap - b->captm) * sizeof *n);
		b->tm = n;
		b->captm = cap;
	}
	b->tm[k] = time;
}

/* The time of the last event of span k (ending at seq c) if timeline_time saw it, else 0. */
static uint64_t
spantime(const Build *b, size_t k, int64_t c)
{
	if (c == b->lastseq)
		return b->lasttime;
	if (c == (int64_t)(k + 1) * TIMELINE_SPAN && k < b->captm)
		return b->tm[k];
	return 0;
}

Timeline *
timeline_new(void)
{
	return calloc(1, sizeof(Timeline));
}

int
timeline_add(Timeline *b, int64_t process, uint64_t size, int64_t stack, int64_t as, int64_t fs)
{
	uint32_t *na, *nf;
	size_t k;

	if (b->nomem || b->toomany)
		return -1;
	if (as < 1 || (fs != 0 && fs <= as))
		return 0;	/* not a lifetime of these events */
	if (as >= (int64_t)UINT32_MAX || fs >= (int64_t)UINT32_MAX) {
		b->toomany = 1;
		return -1;
	}
	if (b->nb >= b->maxb) {
		b->maxb = b->maxb == 0 ? 65536 : 2 * b->maxb;
		na = realloc(b->a, b->maxb * sizeof *na);
		if (na != NULL)
			b->a = na;
		nf = realloc(b->f, b->maxb * sizeof *nf);
		if (nf != NULL)
			b->f = nf;
		if (na == NULL || nf == NULL)
			goto nomem;
	}
	if (growspans(b, spanof(as > fs ? as : fs)) < 0)
		goto nomem;
	b->a[b->nb] = (uint32_t)as;
	b->f[b->nb] = (uint32_t)fs;
	b->nb++;
	k = spanof(as);
	b->sp[k].inuse += (int64_t)size;
	b->sp[k].nblk++;
	b->sp[k].born += size;
	b->sp[k].allocs++;
	if (fs != 0) {
		k = spanof(fs);
		b->sp[k].inuse -= (int64_t)size;
		b->sp[k].nblk--;
	}
	if (stkadd(b, process, stack, size) < 0)
		goto nomem;
	return 0;

nomem:
	b->nomem = 1;
	return -1;
}

/*
 * One blocks row (process, size, stack, alloc_seq, free_seq), given by
 * SQLite to the aggregate pooldbg_timeline_row when a trace is indexed
 * after the fact.  An aggregate rather than a loop of sqlite3_column
 * calls: the values come without the connection's mutex taken and
 * released for every column of nine million rows.
 */
static void
rowstep(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	Build *b;
	int64_t fs;

	b = sqlite3_user_data(ctx);
	if (argc != 5)
		return;
	fs = sqlite3_value_type(v[4]) == SQLITE_NULL ? 0 : sqlite3_value_int64(v[4]);
	(void)timeline_add(b, sqlite3_value_int64(v[0]), (uint64_t)sqlite3_value_int64(v[1]),
	    sqlite3_value_int64(v[2]), sqlite3_value_int64(v[3]), fs);
}

static void
rowfinal(sqlite3_context *ctx)
{
	sqlite3_result_null(ctx);
}

/* The one pass over blocks. */
static int
readblocks(Build *b, char *err, size_t errlen)
{
	sqlite3_stmt *mx;
	char *msg;
	int rc;

	/* the rows' count is near max(rowid): a first guess that spares copies */
	if (sqlite3_prepare_v2(b->db, "SELECT coalesce(max(rowid), 0) FROM main.blocks", -1, &mx,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(mx) == SQLITE_ROW && sqlite3_column_int64(mx, 0) > 0) {
			b->maxb = (size_t)sqlite3_column_int64(mx, 0) + 1;
			b->a = malloc(b->maxb * sizeof *b->a);
			b->f = malloc(b->maxb * sizeof *b->f);
			if (b->a == NULL || b->f == NULL)
				b->maxb = 0;
		}
		sqlite3_finalize(mx);
	}
	if (sqlite3_create_function(b->db, "pooldbg_timeline_row", 5, SQLITE_UTF8, b, NULL, rowstep,
	    rowfinal) != SQLITE_OK) {
		snprintf(err, errlen, "timeline: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	msg = NULL;
	rc = sqlite3_exec(b->db, "SELECT pooldbg_timeline_row(process, size, stack, alloc_seq, free_seq)"
	    " FROM main.blocks", NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "timeline: reading blocks: %s", msg != NULL ? msg :
		    sqlite3_errmsg(b->db));
	sqlite3_free(msg);
	sqlite3_create_function(b->db, "pooldbg_timeline_row", 5, SQLITE_UTF8, NULL, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return -1;
	return 0;
}

static int64_t
spanend(const Build *b, size_t k)
{
	int64_t e;

	e = (int64_t)(k + 1) * TIMELINE_SPAN;
	return e > b->maxseq ? b->maxseq : e;
}

/* Choose the checkpoints and gather the blocks alive after each. */
static int
checkpoints(Build *b, char *err, size_t errlen)
{
	int64_t last, gap, c;
	size_t k, i, lo, hi, j, n;

	n = b->nspan;
	b->ck = calloc(n + 1, sizeof *b->ck);
	b->set = calloc(n + 1, sizeof *b->set);
	b->nset = calloc(n + 1, sizeof *b->nset);
	b->maxset = calloc(n + 1, sizeof *b->maxset);
	if (b->ck == NULL || b->set == NULL || b->nset == NULL || b->maxset == NULL)
		goto nomem;
	last = 0;
	for (k = 0; k < n; k++) {
		c = spanend(b, k);
		gap = 4 * b->sp[k].nblk;
		if (gap < CKMIN)
			gap = CKMIN;
		if (c - last < gap)
			continue;
		b->ck[b->nck] = c;
		b->maxset[b->nck] = (size_t)b->sp[k].nblk;
		if (b->sp[k].nblk > 0 &&
		    (b->set[b->nck] = malloc((size_t)b->sp[k].nblk * sizeof **b->set)) == NULL)
			goto nomem;
		b->nck++;
		last = c;
	}
	for (i = 0; i < b->nb && b->nck > 0; i++) {
		/* the first checkpoint at or after the block's birth */
		lo = 0;
		hi = b->nck;
		while (lo < hi) {
			j = lo + (hi - lo) / 2;
			if (b->ck[j] < (int64_t)b->a[i])
				lo = j + 1;
			else
				hi = j;
		}
		for (j = lo; j < b->nck && b->ck[j] < (b->f[i] != 0 ? (int64_t)b->f[i] : b->maxseq + 1);
		    j++)
			if (b->nset[j] < b->maxset[j])
				b->set[j][b->nset[j]++] = b->a[i];
	}
	return 0;

nomem:
	snprintf(err, errlen, "timeline: out of memory");
	return -1;
}

enum { RADIXBITS = 11, RADIX = 1 << RADIXBITS };	/* three passes cover 32 bits */

/*
 * ids[0..n-1] sorted ascending through tmp (n entries), in three passes
 * of 11 bits, least significant first; returns ids or tmp, whichever
 * holds the result.  A checkpoint's set is millions of ids on a big run,
 * where a comparison sort took seconds.
 */
static uint32_t *
radixsort(uint32_t *ids, uint32_t *tmp, size_t n)
{
	size_t count[3][RADIX], sum[3], c;
	uint32_t *from, *to, *t;
	size_t i;
	int p, shift;

	memset(count, 0, sizeof count);
	for (i = 0; i < n; i++) {
		count[0][ids[i] & (RADIX - 1)]++;
		count[1][ids[i] >> RADIXBITS & (RADIX - 1)]++;
		count[2][ids[i] >> 2 * RADIXBITS]++;
	}
	sum[0] = sum[1] = sum[2] = 0;
	for (i = 0; i < RADIX; i++)
		for (p = 0; p < 3; p++) {
			c = count[p][i];
			count[p][i] = sum[p];
			sum[p] += c;
		}
	from = ids;
	to = tmp;
	for (p = 0; p < 3; p++) {
		shift = p * RADIXBITS;
		for (i = 0; i < n; i++)
			to[count[p][from[i] >> shift & (RADIX - 1)]++] = from[i];
		t = from;
		from = to;
		to = t;
	}
	return from;
}

/*
 * A checkpoint's set as the blob of timeline_live into buf (5 bytes per id
 * at most): sorted (tmp: room for n ids), then each id as its difference
 * from the one before.  Returns its length.
 */
static size_t
encode(uint32_t *ids, uint32_t *tmp, size_t n, unsigned char *buf)
{
	uint32_t d, prev;
	size_t i, len;

	ids = radixsort(ids, tmp, n);
	len = 0;
	prev = 0;
	for (i = 0; i < n; i++) {
		d = ids[i] - prev;
		prev = ids[i];
		while (d >= 0x80) {
			buf[len++] = (unsigned char)(d | 0x80);
			d >>= 7;
		}
		buf[len++] = (unsigned char)d;
	}
	return len;
}

static int
prep(Build *b, sqlite3_stmt **st, const char *fmt, const char *schema, char *err, size_t errlen)
{
	char sql[256];

	snprintf(sql, sizeof sql, "INSERT INTO %s.%s", schema, fmt);
	if (sqlite3_prepare_v2(b->db, sql, -1, st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "timeline: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	return 0;
}

/* Write the three tables. */
static int
store(Build *b, const char *schema, char *err, size_t errlen)
{
	sqlite3_stmt *sp, *lv, *sk, *tm;
	unsigned char *buf;
	uint32_t *tmp;
	size_t k, maxn;
	uint64_t t;
	int64_t c;
	int rc;

	sp = lv = sk = tm = NULL;
	buf = NULL;
	tmp = NULL;
	rc = -1;
	if (prep(b, &sp, "timeline VALUES(?1, ?2, ?3, ?4, ?5, ?6)", schema, err, errlen) < 0 ||
	    prep(b, &lv, "timeline_live VALUES(?1, ?2, ?3)", schema, err, errlen) < 0 ||
	    prep(b, &sk, "timeline_stacks VALUES(?1, ?2, ?3, ?4)", schema, err, errlen) < 0)
		goto out;
	if (sqlite3_prepare_v2(b->db, "SELECT time FROM main.events WHERE seq = ?1", -1, &tm,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "timeline: %s", sqlite3_errmsg(b->db));
		goto out;
	}
	for (k = 0; k < b->nspan; k++) {
		c = spanend(b, k);
		sqlite3_bind_int64(sp, 1, c);
		if ((t = spantime(b, k, c)) != 0)
			sqlite3_bind_int64(sp, 2, (int64_t)t);
		else {
			sqlite3_bind_int64(tm, 1, c);
			if (sqlite3_step(tm) == SQLITE_ROW)
				sqlite3_bind_int64(sp, 2, sqlite3_column_int64(tm, 0));
			else
				sqlite3_bind_null(sp, 2);
			sqlite3_reset(tm);
		}
		sqlite3_bind_int64(sp, 3, b->sp[k].inuse);
		sqlite3_bind_int64(sp, 4, b->sp[k].nblk);
		sqlite3_bind_int64(sp, 5, (int64_t)b->sp[k].born);
		sqlite3_bind_int64(sp, 6, (int64_t)b->sp[k].allocs);
		if (sqlite3_step(sp) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(sp);
	}
	maxn = 0;
	for (k = 0; k < b->nck; k++)
		if (b->nset[k] > maxn)
			maxn = b->nset[k];
	if ((buf = malloc(maxn * 5 + 1)) == NULL || (tmp = malloc(maxn * sizeof *tmp + 1)) == NULL) {
		snprintf(err, errlen, "timeline: out of memory");
		goto out;
	}
	for (k = 0; k < b->nck; k++) {
		sqlite3_bind_int64(lv, 1, b->ck[k]);
		sqlite3_bind_int64(lv, 2, (int64_t)b->nset[k]);
		sqlite3_bind_blob(lv, 3, buf, (int)encode(b->set[k], tmp, b->nset[k], buf), SQLITE_STATIC);
		if (sqlite3_step(lv) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(lv);
	}
	for (k = 0; b->stk != NULL && k <= b->stkmask; k++) {
		if (!b->stk[k].used)
			continue;
		sqlite3_bind_int64(sk, 1, b->stk[k].process);
		sqlite3_bind_int64(sk, 2, b->stk[k].stack);
		sqlite3_bind_int64(sk, 3, (int64_t)b->stk[k].allocs);
		sqlite3_bind_int64(sk, 4, (int64_t)b->stk[k].bytes);
		if (sqlite3_step(sk) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(sk);
	}
	rc = 0;
	goto out;

sqlfail:
	snprintf(err, errlen, "timeline: %s", sqlite3_errmsg(b->db));
out:
	free(buf);
	free(tmp);
	sqlite3_finalize(sp);
	sqlite3_finalize(lv);
	sqlite3_finalize(sk);
	sqlite3_finalize(tm);
	return rc;
}

int
timeline_store(Timeline *b, sqlite3 *db, const char *schema, TimelineStats *ts, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	size_t k;
	int rc;

	b->db = db;
	rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(last), 0) FROM main.event_pages", -1, &st,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "timeline: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		b->maxseq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (b->toomany || b->maxseq >= (int64_t)UINT32_MAX) {
		snprintf(err, errlen, "timeline: more than 2^32 events");
		return -1;
	}
	if (b->nomem) {
		snprintf(err, errlen, "timeline: out of memory");
		return -1;
	}
	/* all or nothing: a failure leaves no table behind */
	if (sqlite3_exec(db, "SAVEPOINT timeline", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "timeline: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (trace_create_timeline(db, schema, err, errlen) < 0)
		goto out;
	if (b->maxseq == 0) {
		rc = 0;		/* no events: the tables stay empty */
		goto out;
	}
	b->nspan = spanof(b->maxseq) + 1;
	if (growspans(b, b->nspan - 1) < 0) {
		snprintf(err, errlen, "timeline: out of memory");
		goto out;
	}
	/* the spans held deltas: now what was alive after each */
	for (k = 1; k < b->nspan; k++) {
		b->sp[k].inuse += b->sp[k - 1].inuse;
		b->sp[k].nblk += b->sp[k - 1].nblk;
	}
	if (checkpoints(b, err, errlen) < 0)
		goto out;
	free(b->a);
	free(b->f);
	b->a = b->f = NULL;
	b->nb = b->maxb = 0;
	if (store(b, schema, err, errlen) < 0)
		goto out;
	if (ts != NULL) {
		ts->spans = b->nspan;
		ts->checkpoints = b->nck;
		ts->stacks = b->nstk;
		ts->stored = 0;
		for (k = 0; k < b->nck; k++)
			ts->stored += b->nset[k];
	}
	rc = 0;
out:
	if (rc < 0)
		sqlite3_exec(db, "ROLLBACK TO timeline", NULL, NULL, NULL);
	sqlite3_exec(db, "RELEASE timeline", NULL, NULL, NULL);
	return rc;
}

void
timeline_free(Timeline *b)
{
	size_t k;

	if (b == NULL)
		return;
	for (k = 0; b->set != NULL && k < b->nck; k++)
		free(b->set[k]);
	free(b->set);
	free(b->nset);
	free(b->maxset);
	free(b->ck);
	free(b->a);
	free(b->f);
	free(b->stk);
	free(b->sp);
	free(b->tm);
	free(b);
}

int
timeline_build(sqlite3 *db, const char *schema, TimelineStats *ts, char *err, size_t errlen)
{
	Timeline *b;
	int rc;

	if ((b = timeline_new()) == NULL) {
		snprintf(err, errlen, "timeline: out of memory");
		return -1;
	}
	b->db = db;
	rc = -1;
	if (readblocks(b, err, errlen) == 0)
		rc = timeline_store(b, db, schema, ts, err, errlen);
	timeline_free(b);
	return rc;
}
