/*
 * pooldbg/scan.c -- the records of marks and reachability scans, from the
 * ring to the trace: REC_MARK to a marks row; REC_SCAN to a scans row
 * (complete 0), each REC_ARENA to an arenas row and each REC_LIVE to a
 * scan_blocks row, REC_SCANEND to the scan's end, totals and complete 1.
 * A block a scan found is matched to the lifetime open at its address at
 * that moment (lifetime.c), which gives it the event, stack and call that
 * made it; a block with none is the runtime's own, stored without them,
 * or, in a fork child, one it inherited, not stored at all: a shell's
 * thousands of subshells would each store their parent's whole heap
 * again, and the parent's own scans have those blocks.  In leaks mode
 * (no events) the RecLive itself says what made the block: the stack,
 * call and allocation ordinal (as alloc_seq) the runtime kept in the
 * block's tag words.  With sampling, a block made by a recorded call is
 * weighed by 1/p, p = 1 - exp(-size / rate) the chance it had to be
 * sampled.  With the rows go the counts of the summary and of
 * --error-exitcode: the classes the scans at exit found.
 *
 * The runtime writes a scan as RecScan, RecArenas and RecLives, RecScanEnd,
 * with nothing else of the image between them.  A scan whose RecScanEnd
 * never comes (the image was killed while scanning) keeps complete 0 and
 * the blocks that came.  Records too short for their type, those of an
 * arena or block outside a scan, and values record.h does not define are
 * skipped.
 *
 * Must never: read the trace back (a million blocks go through here at
 * the pace of the ring), or change a lifetime.
 */
#include "pooldbg.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* How the run was recorded (scan_setmode). */
static struct {
	int	leaks;		/* --mode=leaks: RecLive says what made each block */
	double	rate;		/* --sample BYTES, 0: none */
} mode;

/* Before any record: leaks mode or not, the sample rate in bytes (0: none). */
void
scan_setmode(int leaks, double rate)
{
	mode.leaks = leaks;
	mode.rate = rate;
}

int
scan_wantsites(void)
{
	return mode.leaks;
}

static const char *const classnames[] = {
	[CLASS_REACHABLE]	= "reachable",
	[CLASS_POSSIBLE]	= "possible",
	[CLASS_INDIRECT]	= "indirect",
	[CLASS_DEFINITE]	= "definite",
};

const char *
scan_classname(int cls)
{
	if (cls < CLASS_REACHABLE || cls > CLASS_DEFINITE)
		return NULL;
	return classnames[cls];
}

/* The label of a mark: labellen bytes after the record, as a C string (malloc'd; NULL if out of memory). */
static char *
labelof(const RecMark *m)
{
	const char *p;
	size_t n;
	char *s;

	p = (const char *)(m + 1);
	n = m->labellen;
	while (n > 0 && p[n - 1] == '\0')
		n--;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void
mark(const ScanCtx *c, const RecHdr *h)
{
	const RecMark *m;
	char *label;

	m = (const RecMark *)h;
	if (h->len < sizeof *m || m->labellen > h->len - sizeof *m)
		return;
	label = labelof(m);
	trace_add_mark(c->w, c->proc, m->time, m->tid, c->lastseq, label != NULL ? label : "");
	free(label);
	c->st->marks++;
}

static void
begin(const ScanCtx *c, const RecHdr *h)
{
	const RecScan *r;
	uint32_t snapshot;

	r = (const RecScan *)h;
	if (h->len < sizeof *r)
		return;
	if (r->why == SCAN_EXIT)
		snapshot = 0;
	else if (r->why == SCAN_SNAPSHOT && r->snapshot > 0)
		snapshot = r->snapshot;
	else
		return;
	/* a scan before it that never ended stays as it is: complete 0 */
	c->open->on = 1;
	c->open->exit = snapshot == 0;
	c->open->id = 0;
	trace_add_scan(c->w, c->proc, snapshot, r->time, c->lastseq, r->tid, &c->open->id);
	if (snapshot == 0)
		c->st->exits++;
	else
		c->st->snapshots++;
}

static void
arena(const ScanCtx *c, const RecHdr *h)
{
	const RecArena *a;

	a = (const RecArena *)h;
	if (h->len < sizeof *a || !c->open->on)
		return;
	trace_add_arena(c->w, c->open->id, a->base, a->size);
}

static void
live(const ScanCtx *c, const RecHdr *h)
{
	const RecLive *lv;
	TraceScanBlock b;
	uint32_t stack;

	lv = (const RecLive *)h;
	if (h->len < offsetof(RecLive, seq) || !c->open->on ||
	    (b.cls = scan_classname(lv->cls)) == NULL)
		return;
	b.scan = c->open->id;
	b.ptr = lv->ptr;
	b.size = lv->size;
	b.weight = 0;
	if (h->len >= sizeof *lv && (lv->flags & LIVEF_KNOWN) && lv->seq != 0 && mode.leaks) {
		/* leaks mode: the runtime's live table says what made it */
		b.alloc_seq = (int64_t)lv->seq;
		b.stack = lv->stack;
		b.call = trace_callname(lv->call);
	} else if (life_lookup(c->life, c->proc, lv->ptr, &b.alloc_seq, &stack, &b.call))
		b.stack = stack;
	else if (c->forked)
		return;	/* its parent's: the parent's scans have it, the child's need not */
	else {
		b.alloc_seq = 0;
		b.stack = 0;
		b.call = NULL;
	}
	if (mode.rate > 0 && b.alloc_seq != 0 && b.size > 0)
		b.weight = 1 / -expm1(-(double)b.size / mode.rate);	/* 1/p: p = 1 - exp(-size/rate) */
	b.tag = lv->tag;
	/* leaks mode: the tag words held the live mark; the site is the stack's innermost pc */
	if (b.tag == 0 && b.stack > 0 && (size_t)b.stack < c->nfpc)
		b.tag = c->fpc[b.stack];
	b.block = lv->block;
	b.bsize = lv->bsize;
	b.preview = lv->preview;
	b.previewlen = lv->previewlen < sizeof lv->preview ? lv->previewlen : sizeof lv->preview;
	trace_add_scan_block(c->w, &b);
	/* what the program made and the scan at exit found: the summary's and --error-exitcode's */
	if (c->open->exit && b.alloc_seq != 0) {
		c->st->blocks[lv->cls]++;
		c->st->bytes[lv->cls] += lv->size;
		c->st->wblocks[lv->cls] += b.weight;
		c->st->wbytes[lv->cls] += b.weight * (double)lv->size;
	}
}

static void
end(const ScanCtx *c, const RecHdr *h)
{
	const RecScanEnd *x;

	x = (const RecScanEnd *)h;
	if (h->len < sizeof *x || !c->open->on)
		return;
	if (c->open->id != 0)
		trace_end_scan(c->w, c->open->id, x->time, x->threads, x->stopped, x->roots);
	c->open->on = 0;
	c->st->ended++;
}

void
scan_record(const ScanCtx *c, const RecHdr *h)
{
	switch (h->type) {
	case REC_MARK:		mark(c, h); break;
	case REC_SCAN:		begin(c, h); break;
	case REC_ARENA:		arena(c, h); break;
	case REC_LIVE:		live(c, h); break;
	case REC_SCANEND:	end(c, h); break;
	default:		break;
	}
}
