/*
 * pooldbg/drain.c -- from the rings to the trace.  Owns the set of ring
 * files of a session (found by scanning its directory), reading each one
 * record by record, turning each record of record.h into rows through the
 * writer (those of marks and scans through scan.c, which needs each
 * image's last event so far), batching those rows into transactions, and
 * deciding when a ring is finished: closed by its writer, or its writer
 * gone, and empty.  A finished ring's file is removed at once, so a long
 * run of many processes does not fill /dev/shm.
 *
 * Must never: make a traced process wait on SQLite: a record is consumed
 * whether or not it could be stored (after a full disk, nothing more is
 * stored, but the rings keep moving).
 */
#include "pooldbg.h"
#include "sym.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	BATCH_RECORDS	= 200000,	/* commit after this many records... */
	BATCH_NS	= 50000000,	/* ...or when the batch is this old */
	SCAN_NS		= 5000000,	/* look for new ring files this often */
	ROUND_RECORDS	= 4096,
	AHEADBYTES	= 640,	/* how far past the tail lookahead starts loads: ~10 records */	/* records from one ring per round, so no ring starves the others */
};

/* One ring file of the session. */
typedef struct Src Src;
struct Src {
	char	name[64];	/* file name in the session directory */
	pid_t	pid;		/* its writer, from the name */
	Ring	r;
	int	mapped;		/* r is open (the file had a valid header) */
	int64_t	proc;		/* processes.id, 0 until known */
	int64_t	lastseq;	/* events.seq of its last event stored, 0 before the first */
	ScanOpen scan;		/* its scan under way */
	int	ended;		/* REC_EXIT seen */
	int	forked;		/* REC_PROC said: a fork child, with its parent's heap */
	uint64_t *fpc;		/* leaks mode: the pc of each frame id, for the scans' sites */
	size_t	nfpc;
};

/* An image that ended without REC_EXIT. */
typedef struct Killed Killed;
struct Killed {
	int64_t	proc;
	pid_t	pid;
};

/* A child the recorder reaped. */
typedef struct Reaped Reaped;
struct Reaped {
	pid_t	pid;
	int	status;		/* as waitpid gives it */
};

struct Drain {
	char	*dir;
	TraceWriter *w;
	Lifetimes *life;	/* the blocks, made as events come */
	ErrReport *rep;		/* heap errors on stderr */
	Src	*src;		/* rings not finished yet */
	size_t	nsrc, asrc;
	Killed	*killed;
	size_t	nkilled, akilled;
	Reaped	*reaped;
	size_t	nreaped, areaped;
	uint64_t batch;		/* records in the open transaction */
	uint64_t batchstart;	/* when it opened */
	uint64_t lastscan;
	DrainStats st;
	sqlite3_stmt *zev;	/* INSERT INTO zone_events; finalized by drain_end */
	SymJob	*ahead;		/* given the modules and frames, if not NULL */
};

static uint64_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Make room for one more element of size sz in *v (of *n used, *a allocated); -1 if out of memory. */
static int
grow(void *v, size_t *n, size_t *a, size_t sz)
{
	void **p, *q;
	size_t na;

	p = v;
	if (*n < *a)
		return 0;
	na = *a ? *a * 2 : 16;
	if ((q = realloc(*p, na * sz)) == NULL)
		return -1;
	*p = q;
	*a = na;
	return 0;
}

Drain *
drain_new(const char *dir, TraceWriter *w)
{
	Drain *d;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	if ((d->dir = strdup(dir)) == NULL) {
		free(d);
		return NULL;
	}
	d->w = w;
	if ((d->life = life_new(w)) == NULL || (d->rep = errreport_new(w)) == NULL) {
		life_free(d->life);
		free(d->dir);
		free(d);
		return NULL;
	}
	return d;
}

void
drain_free(Drain *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nsrc; i++) {
		if (d->src[i].mapped)
			ring_unmap(&d->src[i].r);
		free(d->src[i].fpc);
	}
	free(d->src);
	free(d->killed);
	free(d->reaped);
	life_free(d->life);
	sqlite3_finalize(d->zev);
	errreport_free(d->rep);
	free(d->dir);
	free(d);
}

const DrainStats *
drain_stats(Drain *d)
{
	return &d->st;
}

Lifetimes *
drain_lifetimes(Drain *d)
{
	return d->life;
}

/*
 * Store the event e of s and follow the lifetime it ends or starts.  Its
 * time is kept to the microsecond: most events then take the time of the
 * one before, or a byte more, in the packed pages.
 */
static void
event(Drain *d, Src *s, TraceEvent *e)
{
	e->time -= e->time % 1000;
	if (trace_add_event(d->w, e) == 0) {
		s->lastseq = trace_last_seq(d->w);
		life_event(d->life, s->lastseq, e);
	}
}

static char	*strcopy(const char *p, size_t n, char sep);
static int64_t	procof(Drain *d, Src *s);

/* ---- zones: REC_ZONE rows, and the zone of each zalloc/zfree event ---- */

/* The event just stored came from (or went back to) zone id. */
static void
zoneevent(Drain *d, Src *s, uint32_t zone)
{
	if (zone == 0 || d->w->rc != 0)
		return;
	if (d->zev == NULL && sqlite3_prepare_v2(d->w->db,
	    "INSERT INTO zone_events(seq, zone) VALUES(?1, ?2)", -1, &d->zev, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(d->zev, 1, s->lastseq);
	sqlite3_bind_int64(d->zev, 2, zone);
	sqlite3_step(d->zev);
	sqlite3_reset(d->zev);
}

/* A zone created (a new zones row) or destroyed (its figures filled in). */
static void
zonerec(Drain *d, Src *s, const RecZone *z)
{
	static const char create[] =
	    "INSERT OR REPLACE INTO zones(process, id, name, addr, size, created)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
	static const char destroy[] =
	    "UPDATE zones SET destroyed = ?3, stride = ?4, used = ?5, free = ?6, requests = ?7,"
	    " failures = ?8, frees = ?9, errors = ?10 WHERE process = ?1 AND id = ?2";
	sqlite3_stmt *st;
	char *name;

	if (z->h.len < sizeof *z || z->namelen > z->h.len - sizeof *z || d->w->rc != 0)
		return;
	if (sqlite3_prepare_v2(d->w->db, z->what == ZONE_CREATE ? create : destroy, -1, &st,
	    NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, procof(d, s));
	sqlite3_bind_int64(st, 2, z->id);
	if (z->what == ZONE_CREATE) {
		name = strcopy((const char *)z + sizeof *z, z->namelen, '\0');
		sqlite3_bind_text(st, 3, name != NULL ? name : "", -1, SQLITE_TRANSIENT);
		free(name);
		sqlite3_bind_int64(st, 4, (int64_t)z->addr);
		sqlite3_bind_int64(st, 5, (int64_t)z->size);
		sqlite3_bind_int64(st, 6, (int64_t)z->time);
	} else {
		sqlite3_bind_int64(st, 3, (int64_t)z->time);
		sqlite3_bind_int64(st, 4, (int64_t)z->stride);
		sqlite3_bind_int64(st, 5, (int64_t)z->used);
		sqlite3_bind_int64(st, 6, (int64_t)z->free);
		sqlite3_bind_int64(st, 7, (int64_t)z->requests);
		sqlite3_bind_int64(st, 8, (int64_t)z->failures);
		sqlite3_bind_int64(st, 9, (int64_t)z->frees);
		sqlite3_bind_int64(st, 10, (int64_t)z->errors);
	}
	sqlite3_step(st);
	sqlite3_finalize(st);
}

void
drain_scan(Drain *d)
{
	struct dirent *de;
	DIR *dp;
	char *end;
	size_t i, n;
	long pid;
	Src *s;

	d->lastscan = now();
	if ((dp = opendir(d->dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		n = strlen(de->d_name);
		if (n < 6 || n >= sizeof s->name || strcmp(de->d_name + n - 5, ".ring") != 0)
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (pid <= 0 || *end != '-')
			continue;
		for (i = 0; i < d->nsrc; i++)
			if (strcmp(d->src[i].name, de->d_name) == 0)
				break;
		if (i < d->nsrc)
			continue;
		if (grow(&d->src, &d->nsrc, &d->asrc, sizeof *d->src) < 0)
			break;	/* try again at the next scan */
		s = &d->src[d->nsrc++];
		memset(s, 0, sizeof *s);
		memcpy(s->name, de->d_name, n + 1);
		s->pid = (pid_t)pid;
	}
	closedir(dp);
}

/* Map s's file once its writer has written its header. */
static int
tryopen(Drain *d, Src *s)
{
	char path[4096];

	if (s->mapped)
		return 0;
	snprintf(path, sizeof path, "%s/%s", d->dir, s->name);
	if (ring_open(&s->r, path) < 0)
		return -1;
	s->mapped = 1;
	return 0;
}

/* Whether pid has ended: no such process, or a zombie. */
static int
pidgone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	return p[2] == 'Z' || p[2] == 'X';
}

/* The strings of a record: a copy of n bytes at p as a C string, NULs inside turned to sep. */
static char *
strcopy(const char *p, size_t n, char sep)
{
	char *s;
	size_t i;

	while (n > 0 && p[n - 1] == '\0')
		n--;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		s[i] = p[i] != '\0' ? p[i] : sep;
	s[n] = '\0';
	return s;
}

/* The process row of s, made up from the ring if its REC_PROC never came. */
static int64_t
procof(Drain *d, Src *s)
{
	if (s->proc == 0 && s->mapped)
		trace_add_process(d->w, s->pid, 0, s->r.hdr->execseq, 0, NULL, NULL, 0, &s->proc);
	return s->proc;
}

static const char *
howname(uint32_t how)
{
	switch (how) {
	case EXIT_NORMAL:	return "exit";
	case EXIT_UNDERSCORE:	return "_exit";
	case EXIT_SIGNAL:	return "signal";
	case EXIT_EXEC:		return "exec";
	default:		return "killed";
	}
}

/* A heap error of s: its row, with the block's stacks from the lifetimes, and its report on stderr. */
static void
herror(Drain *d, Src *s, const RecError *er)
{
	uint32_t astack, fstack;
	uint64_t size;
	TraceError e;
	char *msg;

	memset(&e, 0, sizeof e);
	msg = strcopy((const char *)(er + 1), er->msglen, '\n');
	e.process = procof(d, s);
	e.time = er->time;
	e.tid = er->tid;
	e.ptr = er->ptr;
	e.stack = er->stack;
	e.message = msg;
	e.kind = error_kind(er->kind);
	e.block = er->block;
	e.size = er->size;
	e.offset = er->offset;
	e.dump = er->dump;
	e.dumplen = er->dumplen <= ERR_DUMPMAX ? er->dumplen : ERR_DUMPMAX;
	e.dumpaddr = er->dumpaddr;
	e.fatal = (er->flags & ERRF_FATAL) != 0;
	if (er->block != 0 && life_block(d->life, e.process, er->block, &size, &astack, &fstack)) {
		if (e.size == 0)
			e.size = size;
		e.alloc_stack = astack;
		if (er->flags & ERRF_FREED)
			e.free_stack = fstack;
	}
	trace_add_error(d->w, &e);
	errreport_print(d->rep, s->pid, &e);
	free(msg);
	if (er->kind == ERR_NOTICE)
		d->st.notices++;
	else
		d->st.errors++;
}

/*
 * The lines the pool printed in process pid (REC_PRINT), on stderr, each
 * after "pooldbg: pid N: " as the error reports are; a last line without
 * its newline gets one.
 */
static void
printlines(int pid, const char *text, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(text, '\n', n);
		k = nl != NULL ? (size_t)(nl - text) : n;	/* the line without its newline */
		fprintf(stderr, "pooldbg: pid %d: %.*s\n", pid, (int)k, text);
		k += nl != NULL;
		text += k;
		n -= k;
	}
}

/*
 * Frame id's pc into s->fpc, the table grown to hold it (ids count up from
 * 1 in each image).  Left out when there is no memory: the site is then
 * found from table frames after the run.
 */
static void
notepc(Src *s, uint32_t id, uint64_t pc)
{
	uint64_t *v;
	size_t n;

	if (id >= s->nfpc) {
		n = s->nfpc ? s->nfpc : 1024;
		while (n <= id)
			n *= 2;
		if ((v = realloc(s->fpc, n * sizeof *v)) == NULL)
			return;
		memset(v + s->nfpc, 0, (n - s->nfpc) * sizeof *v);
		s->fpc = v;
		s->nfpc = n;
	}
	s->fpc[id] = pc;
}

/* Turn one record of s into rows; records too short for their type are skipped. */
static void
decode(Drain *d, Src *s, const RecHdr *h)
{
	const RecProc *p;
	const RecModule *m;
	const RecUnload *u;
	const RecFrame *f;
	const RecAlloc *a;
	const RecFree *fr;
	const RecRealloc *re;
	const RecThread *t;
	const RecExit *x;
	const RecError *er;
	const RecPrint *pr;
	const char *body;
	ScanCtx c;
	char *s1, *s2;
	TraceEvent e;
	TraceWriter *w;

	w = d->w;
	body = (const char *)h;
	memset(&e, 0, sizeof e);
	switch (h->type) {
	case REC_PROC:
		p = (const RecProc *)h;
		if (h->len < sizeof *p || (uint64_t)p->exelen + p->cmdlen > h->len - sizeof *p)
			break;
		s1 = strcopy(body + sizeof *p, p->exelen, '\0');
		s2 = strcopy(body + sizeof *p + p->exelen, p->cmdlen, ' ');
		if (s->proc == 0)
			trace_add_process(w, p->pid, p->ppid, p->execseq, p->forked != 0, s1, s2,
			    p->time, &s->proc);
		s->forked = p->forked != 0;
		free(s1);
		free(s2);
		d->st.processes++;
		break;
	case REC_MODULE:
		m = (const RecModule *)h;
		if (h->len < sizeof *m || (uint64_t)m->buildidlen + m->pathlen > h->len - sizeof *m)
			break;
		s1 = strcopy(body + sizeof *m + m->buildidlen, m->pathlen, '\0');
		trace_add_module(w, procof(d, s), s1, body + sizeof *m, m->buildidlen,
		    m->base, m->lo, m->hi, m->time);
		if (d->ahead != NULL && procof(d, s) != 0)
			sym_ahead_module(d->ahead, procof(d, s), s1, body + sizeof *m,
			    (int)m->buildidlen, m->base, m->lo, m->hi);
		free(s1);
		break;
	case REC_UNLOAD:
		u = (const RecUnload *)h;
		if (h->len >= sizeof *u)
			trace_unload_module(w, procof(d, s), u->base, u->lo, u->time);
		break;
	case REC_FRAME:
		f = (const RecFrame *)h;
		if (h->len < sizeof *f)
			break;
		trace_add_frame(w, procof(d, s), f->id, f->parent, f->pc);
		if (scan_wantsites())
			notepc(s, f->id, f->pc);
		if (d->ahead != NULL && procof(d, s) != 0)
			sym_ahead_pc(d->ahead, procof(d, s), f->pc);
		break;
	case REC_ALLOC:
		a = (const RecAlloc *)h;
		if (h->len < sizeof *a)
			break;
		e.process = procof(d, s);
		e.time = a->time;
		e.tid = a->tid;
		e.type = TRACE_ALLOC;
		e.call = a->kind;
		e.flags = a->flags;
		e.ptr = a->ptr;
		e.size = a->size;
		e.align = a->align;
		e.stack = a->stack;
		event(d, s, &e);
		zoneevent(d, s, a->zone);
		d->st.allocs++;
		break;
	case REC_FREE:
		fr = (const RecFree *)h;
		if (h->len < sizeof *fr)
			break;
		e.process = procof(d, s);
		e.time = fr->time;
		e.tid = fr->tid;
		e.type = TRACE_FREE;
		e.call = fr->kind;
		e.flags = fr->flags;
		e.ptr = fr->ptr;
		e.size = fr->size;
		e.stack = fr->stack;
		event(d, s, &e);
		zoneevent(d, s, fr->zone);
		d->st.frees++;
		break;
	case REC_REALLOC:
		re = (const RecRealloc *)h;
		if (h->len < sizeof *re)
			break;
		e.process = procof(d, s);
		e.time = re->time;
		e.tid = re->tid;
		e.type = TRACE_REALLOC;
		e.call = re->kind;
		e.flags = re->flags;
		e.ptr = re->oldptr;
		e.newptr = re->newptr;
		e.size = re->size;
		e.stack = re->stack;
		event(d, s, &e);
		d->st.reallocs++;
		break;
	case REC_THREAD:
		t = (const RecThread *)h;
		if (h->len >= sizeof *t)
			trace_add_thread(w, procof(d, s), t->tid, t->time, t->ending != 0);
		break;
	case REC_EXIT:
		x = (const RecExit *)h;
		if (h->len < sizeof *x)
			break;
		trace_end_process(w, procof(d, s), howname(x->how), x->status);
		s->ended = 1;
		break;
	case REC_ERROR:
		er = (const RecError *)h;
		if (h->len < sizeof *er || er->msglen > h->len - sizeof *er)
			break;
		herror(d, s, er);
		break;
	case REC_ZONE:
		zonerec(d, s, (const RecZone *)h);
		break;
	case REC_PRINT:
		pr = (const RecPrint *)h;
		if (h->len >= sizeof *pr && pr->textlen <= h->len - sizeof *pr)
			printlines(s->pid, body + sizeof *pr, pr->textlen);
		break;
	case REC_MARK:
	case REC_SCAN:
	case REC_ARENA:
	case REC_LIVE:
	case REC_SCANEND:
		c.w = w;
		c.life = d->life;
		c.st = &d->st.scan;
		c.open = &s->scan;
		c.proc = procof(d, s);
		c.lastseq = s->lastseq;
		c.forked = s->forked;
		c.fpc = s->fpc;
		c.nfpc = s->nfpc;
		scan_record(&c, h);
		break;
	default:
		break;	/* a type this recorder does not know: skipped */
	}
}

/* Commit the open batch if it is big or old enough (or if force). */
static void
maybecommit(Drain *d, int force)
{
	if (d->batch == 0)
		return;
	if (force || d->batch >= BATCH_RECORDS || now() - d->batchstart >= BATCH_NS) {
		trace_commit(d->w);
		d->batch = 0;
	}
}

/*
 * Start the loads the records a few ahead of the ring's tail will need:
 * the lifetime slots of their addresses, which are far apart in a big
 * table and would each stall the drain when its record comes.  *ahead is
 * the position looked at so far (0 at the start).
 */
static void
lookahead(Drain *d, Src *s, uint64_t *ahead)
{
	const RecHdr *r;
	uint64_t tail;

	tail = ring_tail(&s->r);
	if (*ahead < tail)
		*ahead = tail;
	while (*ahead - tail < AHEADBYTES && (r = ring_at(&s->r, ahead)) != NULL) {
		switch (r->type) {
		case REC_ALLOC:
			if (r->len >= sizeof(RecAlloc))
				life_prefetch(d->life, s->proc, ((const RecAlloc *)r)->ptr);
			break;
		case REC_FREE:
			if (r->len >= sizeof(RecFree))
				life_prefetch(d->life, s->proc, ((const RecFree *)r)->ptr);
			break;
		case REC_REALLOC:
			if (r->len >= sizeof(RecRealloc)) {
				life_prefetch(d->life, s->proc, ((const RecRealloc *)r)->oldptr);
				life_prefetch(d->life, s->proc, ((const RecRealloc *)r)->newptr);
			}
			break;
		}
		*ahead += r->len;
	}
}

/*
 * Move up to max records (0: all there are) from s into the trace.
 * Returns how many; *damaged set if the ring stopped making sense.
 */
static size_t
drainsrc(Drain *d, Src *s, size_t max, int *damaged)
{
	const RecHdr *h;
	size_t n, unwoken;
	uint64_t ahead;

	*damaged = 0;
	unwoken = 0;
	ahead = 0;
	for (n = 0; max == 0 || n < max; n++) {
		if ((h = ring_peek(&s->r)) == NULL) {
			*damaged = errno == EPROTO;
			break;
		}
		lookahead(d, s, &ahead);
		if (d->batch == 0) {
			trace_begin(d->w);
			d->batchstart = now();
		}
		decode(d, s, h);
		unwoken += h->len;
		ring_advance(&s->r, h);
		/* a writer waiting on a full ring gets room in big pieces, not record by record */
		if (unwoken >= s->r.size / 8) {
			ring_wake(&s->r);
			unwoken = 0;
		}
		d->st.records++;
		if (++d->batch >= BATCH_RECORDS)
			maybecommit(d, 1);
	}
	if (unwoken > 0)
		ring_wake(&s->r);
	return n;
}

/* s is done: unmap it, remove its file, remember it if it never said how it ended. */
static void
finish(Drain *d, size_t i)
{
	char path[4096];
	Src *s;

	s = &d->src[i];
	if (s->mapped) {
		/* a writer still there stops writing instead of waiting on a ring nobody reads */
		__atomic_store_n(&s->r.hdr->state, RING_CLOSED, __ATOMIC_RELEASE);
		if (!s->ended && procof(d, s) != 0 &&
		    grow(&d->killed, &d->nkilled, &d->akilled, sizeof *d->killed) == 0) {
			d->killed[d->nkilled].proc = s->proc;
			d->killed[d->nkilled].pid = s->pid;
			d->nkilled++;
		}
		ring_unmap(&s->r);
	}
	snprintf(path, sizeof path, "%s/%s", d->dir, s->name);
	unlink(path);
	free(s->fpc);
	d->src[i] = d->src[--d->nsrc];
}

/* Drain s to its end and finish it; it is known to be closed or dead. */
static void
drainall(Drain *d, size_t i)
{
	int damaged;

	drainsrc(d, &d->src[i], 0, &damaged);
	if (damaged) {
		say("%s: ring damaged; the rest of its records are lost", d->src[i].name);
		d->st.damaged++;
	}
	finish(d, i);
}

/*
 * Finish the rings that are done while the program still runs, so the
 * session directory holds only live rings: closed ones, and those whose
 * writer no longer exists (reaped: kill says ESRCH).  Zombies wait for
 * drain_idle; reading /proc for each ring this often would cost too much.
 */
static void
sweep(Drain *d)
{
	size_t i;
	Src *s;

	for (i = 0; i < d->nsrc;) {
		s = &d->src[i];
		if ((s->mapped && ring_closed(&s->r)) || (kill(s->pid, 0) < 0 && errno == ESRCH)) {
			tryopen(d, s);
			if (s->mapped)
				drainall(d, i);
			else
				finish(d, i);
		} else
			i++;
	}
}

size_t
drain_round(Drain *d)
{
	size_t i, n, total;
	int damaged;

	if (now() - d->lastscan >= SCAN_NS) {
		sweep(d);
		drain_scan(d);
	}
	total = 0;
	for (i = 0; i < d->nsrc; i++) {
		if (tryopen(d, &d->src[i]) < 0)
			continue;
		n = drainsrc(d, &d->src[i], ROUND_RECORDS, &damaged);
		total += n;
		if (damaged) {
			say("%s: ring damaged; the rest of its records are lost", d->src[i].name);
			d->st.damaged++;
			finish(d, i);
			i--;
		}
	}
	maybecommit(d, 0);
	if (d->ahead != NULL)
		sym_ahead_flush(d->ahead);
	return total;
}

void
drain_ahead(Drain *d, SymJob *j)
{
	d->ahead = j;
}

void
drain_reaped(Drain *d, pid_t pid, int st)
{
	size_t i;

	for (i = 0; i < d->nreaped; i++)
		if (d->reaped[i].pid == pid)
			break;
	if (i == d->nreaped) {
		if (grow(&d->reaped, &d->nreaped, &d->areaped, sizeof *d->reaped) < 0)
			return;
		d->nreaped++;
	}
	d->reaped[i].pid = pid;
	d->reaped[i].status = st;
}

int
drain_idle(Drain *d, int force)
{
	size_t i;
	Src *s;
	int done;

	for (i = 0; i < d->nsrc;) {
		s = &d->src[i];
		/* decide before the last look: what a dead writer wrote is all there */
		done = force || (s->mapped && ring_closed(&s->r)) || pidgone(s->pid);
		if (!done) {
			i++;
			continue;
		}
		tryopen(d, s);	/* a writer that died after writing its header */
		if (s->mapped)
			drainall(d, i);
		else
			finish(d, i);	/* died before its ring was whole: nothing in it */
	}
	return d->nsrc == 0;
}

int
drain_end(Drain *d)
{
	size_t i, j;
	int64_t status;
	int st;

	sqlite3_finalize(d->zev);	/* before the trace is closed */
	d->zev = NULL;
	maybecommit(d, 1);
	if (d->nkilled > 0 && trace_begin(d->w) == 0) {
		for (i = 0; i < d->nkilled; i++) {
			status = -1;
			for (j = 0; j < d->nreaped; j++)
				if (d->reaped[j].pid == d->killed[i].pid) {
					st = d->reaped[j].status;
					status = WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st);
				}
			trace_end_process(d->w, d->killed[i].proc, "killed", status);
		}
		trace_commit(d->w);
	}
	return d->w->rc != 0 ? -1 : 0;
}
