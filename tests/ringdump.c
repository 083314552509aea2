/*
 * tests/ringdump.c -- print every record of every ring in a session
 * directory, one line each: the tests' stand-in for the recorder.
 *
 * Usage: ringdump [-f] [-q] DIR
 *   -f  follow: keep draining rings as they fill (the writers never wait
 *       for long) until every ring seen is closed or its writer is gone,
 *       and no new ring appeared for a while
 *   -q  print only a count of records per type for each ring
 *
 * Line shapes (every line names its ring with pid= and seq=):
 *   proc pid= seq= ppid= execseq= forked= exe= cmd=
 *   module pid= seq= path= base= lo= hi= buildid=
 *   unload pid= seq= base= lo=
 *   frame pid= seq= id= parent= pc=
 *   alloc pid= seq= tid= call= flags= ptr= size= align= time= stack= pcs=
 *   free pid= seq= tid= call= flags= ptr= size= stack= pcs=
 *   realloc pid= seq= tid= call= old= new= size= stack= pcs=
 *   thread pid= seq= tid= ending=
 *   error pid= seq= tid= ptr= stack= pcs= msg=
 *   exit pid= seq= how= status=
 *   mark pid= seq= tid= label=
 *   scan pid= seq= why=exit|snapshot snapshot= tid=
 *   arena pid= seq= base= size=
 *   live pid= seq= ptr= size= block= bsize= tag= cls= preview=
 *   scanend pid= seq= roots= threads= stopped= reachable=N/B possible=N/B
 *       indirect=N/B definite=N/B
 *   end pid= seq= state=closed|open
 * pcs= is the stack, innermost first, comma-separated.  cls= is one of
 * reachable, possible, indirect, definite; preview= the block's first
 * bytes in hex ("-" for none); N/B counts blocks and their bytes.
 *
 * Owns nothing but its output.  Exit 0, or 2 with one line for a
 * directory it cannot read or a damaged ring.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

enum { MAXRINGS = 1024 };

typedef struct Node Node;
struct Node {
	uint32_t parent;
	uint64_t pc;
};

typedef struct Dump Dump;
struct Dump {
	char	name[256];
	Ring	r;
	int	pid;
	unsigned seq;
	int	done;
	Node	*nodes;
	size_t	nnodes, cap;
	unsigned long count[REC_NTYPES];
};

static Dump dumps[MAXRINGS];
static int ndumps;
static int quiet;
static int following;
static const char *dir;

static const char *callnames[CALL_NCALLS] = {
	[CALL_MALLOC] = "malloc", [CALL_CALLOC] = "calloc", [CALL_REALLOC] = "realloc",
	[CALL_REALLOCARRAY] = "reallocarray", [CALL_POSIX_MEMALIGN] = "posix_memalign",
	[CALL_ALIGNED_ALLOC] = "aligned_alloc", [CALL_MEMALIGN] = "memalign",
	[CALL_VALLOC] = "valloc", [CALL_PVALLOC] = "pvalloc", [CALL_FREE] = "free",
	[CALL_NEW] = "new", [CALL_NEW_ARRAY] = "new[]", [CALL_DELETE] = "delete",
	[CALL_DELETE_ARRAY] = "delete[]", [CALL_MALLOCZ] = "mallocz",
	[CALL_MALLOCALIGN] = "mallocalign", [CALL_SMALLOC] = "smalloc",
};

static const char *typenames[REC_NTYPES] = {
	"pad", "proc", "module", "unload", "frame", "alloc", "free", "realloc",
	"thread", "exit", "error", "mark", "scan", "arena", "live", "scanend",
	"zone", "print",
};

static const char *clsnames[] = { "?", "reachable", "possible", "indirect", "definite" };

static void
fail(const char *what, const char *why)
{
	fprintf(stderr, "ringdump: %s: %s\n", what, why);
	exit(2);
}

static const char *
callname(unsigned k)
{
	return k < CALL_NCALLS && callnames[k] != NULL ? callnames[k] : "?";
}

static const char *
flagnames(unsigned f)
{
	static char buf[64];

	if (f == 0)
		return "-";
	snprintf(buf, sizeof buf, "%s%s%s", f & CALLF_NOTHROW ? "nothrow," : "",
	    f & CALLF_ALIGNED ? "aligned," : "", f & CALLF_SIZED ? "sized," : "");
	buf[strlen(buf) - 1] = '\0';
	return buf;
}

static void
pcs(Dump *d, uint32_t id)
{
	int n;

	printf(" pcs=");
	for (n = 0; id != 0 && id < d->nnodes && n < 1024; n++) {
		printf("%s0x%" PRIx64, n > 0 ? "," : "", d->nodes[id].pc);
		id = d->nodes[id].parent;
	}
	if (n == 0)
		printf("-");
}

static void
addnode(Dump *d, const RecFrame *f)
{
	if (f->id >= d->cap) {
		d->cap = d->cap == 0 ? 4096 : d->cap * 2;
		while (d->cap <= f->id)
			d->cap *= 2;
		d->nodes = realloc(d->nodes, d->cap * sizeof *d->nodes);
		if (d->nodes == NULL)
			fail("frames", strerror(errno));
	}
	d->nodes[f->id].parent = f->parent;
	d->nodes[f->id].pc = f->pc;
	if (f->id >= d->nnodes)
		d->nnodes = f->id + 1;
}

static void
printrec(Dump *d, const RecHdr *h)
{
	const char *s;
	uint32_t i;

	if (h->type < REC_NTYPES)
		d->count[h->type]++;
	if (h->type == REC_FRAME)
		addnode(d, (const RecFrame *)h);
	if (quiet)
		return;
	printf("%s pid=%d seq=%u", h->type < REC_NTYPES ? typenames[h->type] : "unknown",
	    d->pid, d->seq);
	switch (h->type) {
	case REC_PROC: {
		const RecProc *p = (const RecProc *)h;

		s = (const char *)(p + 1);
		printf(" ppid=%d execseq=%u forked=%u exe=%s cmd=", p->ppid, p->execseq,
		    p->forked, s);
		s += p->exelen;
		for (i = 0; i + 1 < p->cmdlen; i++)
			putchar(s[i] == '\0' ? ' ' : s[i]);
		break;
	}
	case REC_MODULE: {
		const RecModule *m = (const RecModule *)h;
		const uint8_t *b = (const uint8_t *)(m + 1);

		printf(" path=%s base=0x%" PRIx64 " lo=0x%" PRIx64 " hi=0x%" PRIx64 " buildid=",
		    (const char *)(b + m->buildidlen), m->base, m->lo, m->hi);
		for (i = 0; i < m->buildidlen; i++)
			printf("%02x", b[i]);
		if (m->buildidlen == 0)
			printf("-");
		break;
	}
	case REC_UNLOAD: {
		const RecUnload *u = (const RecUnload *)h;

		printf(" base=0x%" PRIx64 " lo=0x%" PRIx64, u->base, u->lo);
		break;
	}
	case REC_FRAME: {
		const RecFrame *f = (const RecFrame *)h;

		printf(" id=%u parent=%u pc=0x%" PRIx64, f->id, f->parent, f->pc);
		break;
	}
	case REC_ALLOC: {
		const RecAlloc *a = (const RecAlloc *)h;

		printf(" tid=%d call=%s flags=%s ptr=0x%" PRIx64 " size=%" PRIu64 " align=%" PRIu64
		    " time=%" PRIu64 " stack=%u", a->tid, callname(a->kind), flagnames(a->flags), a->ptr,
		    a->size, a->align, a->time, a->stack);
		pcs(d, a->stack);
		break;
	}
	case REC_FREE: {
		const RecFree *f = (const RecFree *)h;

		printf(" tid=%d call=%s flags=%s ptr=0x%" PRIx64 " size=%" PRIu64 " stack=%u",
		    f->tid, callname(f->kind), flagnames(f->flags), f->ptr, f->size, f->stack);
		pcs(d, f->stack);
		break;
	}
	case REC_REALLOC: {
		const RecRealloc *r = (const RecRealloc *)h;

		printf(" tid=%d call=%s old=0x%" PRIx64 " new=0x%" PRIx64 " size=%" PRIu64
		    " stack=%u", r->tid, callname(r->kind), r->oldptr, r->newptr, r->size, r->stack);
		pcs(d, r->stack);
		break;
	}
	case REC_THREAD: {
		const RecThread *t = (const RecThread *)h;

		printf(" tid=%d ending=%u", t->tid, t->ending);
		break;
	}
	case REC_EXIT: {
		const RecExit *x = (const RecExit *)h;
		static const char *hows[] = { "?", "normal", "_exit", "signal", "exec" };

		printf(" how=%s status=%d", x->how < 5 ? hows[x->how] : "?", x->status);
		break;
	}
	case REC_MARK: {
		const RecMark *m = (const RecMark *)h;

		printf(" tid=%d label=", m->tid);
		for (s = (const char *)(m + 1); *s != '\0'; s++)
			putchar(*s == '\n' || *s == ' ' ? '_' : *s);
		break;
	}
	case REC_SCAN: {
		const RecScan *c = (const RecScan *)h;

		printf(" why=%s snapshot=%u tid=%d", c->why == SCAN_EXIT ? "exit" :
		    c->why == SCAN_SNAPSHOT ? "snapshot" : "?", c->snapshot, c->tid);
		break;
	}
	case REC_ARENA: {
		const RecArena *a = (const RecArena *)h;

		printf(" base=0x%" PRIx64 " size=%" PRIu64, a->base, a->size);
		break;
	}
	case REC_LIVE: {
		const RecLive *l = (const RecLive *)h;

		printf(" ptr=0x%" PRIx64 " size=%" PRIu64 " block=0x%" PRIx64 " bsize=%" PRIu64
		    " tag=0x%" PRIx64 " cls=%s preview=", l->ptr, l->size, l->block, l->bsize, l->tag,
		    l->cls < 5 ? clsnames[l->cls] : "?");
		for (i = 0; i < l->previewlen && i < sizeof l->preview; i++)
			printf("%02x", l->preview[i]);
		if (l->previewlen == 0)
			printf("-");
		if (h->len >= sizeof *l && (l->flags & LIVEF_KNOWN))
			printf(" aseq=%" PRIu64 " stack=%" PRIu32, l->seq, l->stack);
		break;
	}
	case REC_SCANEND: {
		const RecScanEnd *e = (const RecScanEnd *)h;

		printf(" roots=%" PRIu64 " threads=%u stopped=%u", e->roots, e->threads, e->stopped);
		for (i = CLASS_REACHABLE; i <= CLASS_DEFINITE; i++)
			printf(" %s=%" PRIu64 "/%" PRIu64, clsnames[i], e->blocks[i], e->bytes[i]);
		break;
	}
	case REC_PRINT: {
		const RecPrint *r = (const RecPrint *)h;

		printf(" tid=%d text=", r->tid);
		for (i = 0, s = (const char *)(r + 1); i < r->textlen; i++)
			putchar(s[i] == '\n' ? '|' : s[i] == ' ' ? '_' : s[i]);
		break;
	}
	case REC_ERROR: {
		const RecError *e = (const RecError *)h;

		printf(" tid=%d ptr=0x%" PRIx64 " stack=%u", e->tid, e->ptr, e->stack);
		pcs(d, e->stack);
		printf(" msg=");
		for (s = (const char *)(e + 1); *s != '\0'; s++)
			putchar(*s == '\n' ? '|' : *s);
		break;
	}
	}
	putchar('\n');
}

/* Read what the ring holds now; 1 if anything was read. */
static int
drain(Dump *d)
{
	const RecHdr *h;
	int any;

	any = 0;
	while ((h = ring_peek(&d->r)) != NULL) {
		printrec(d, h);
		ring_consume(&d->r, h);
		any = 1;
	}
	if (errno == EPROTO)
		fail(d->name, "damaged ring");
	return any;
}

static int
writergone(int pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	return p[1] == ' ' && p[2] == 'Z';
}

static void
finish(Dump *d)
{
	int i;

	if (quiet) {
		printf("ring pid=%d seq=%u", d->pid, d->seq);
		for (i = 1; i < REC_NTYPES; i++)
			printf(" %s=%lu", typenames[i], d->count[i]);
		putchar('\n');
	}
	printf("end pid=%d seq=%u state=%s\n", d->pid, d->seq,
	    ring_closed(&d->r) ? "closed" : "open");
	fflush(stdout);
	ring_unmap(&d->r);
	free(d->nodes);
	d->nodes = NULL;
	d->done = 1;
}

static int
byname(const void *a, const void *b)
{
	return strcmp(((const Dump *)a)->name, ((const Dump *)b)->name);
}

/* Open the rings that appeared since the last look; how many did. */
static int
lookdir(void)
{
	char path[4096];
	struct dirent *e;
	size_t len;
	DIR *dp;
	int i, n0;
	Dump *d;

	if ((dp = opendir(dir)) == NULL)
		fail(dir, strerror(errno));
	n0 = ndumps;
	while ((e = readdir(dp)) != NULL && ndumps < MAXRINGS) {
		len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".ring") != 0 || len >= 256)
			continue;
		for (i = 0; i < ndumps; i++)
			if (strcmp(dumps[i].name, e->d_name) == 0)
				break;
		if (i < ndumps)
			continue;
		d = &dumps[ndumps];
		memset(d, 0, sizeof *d);
		strcpy(d->name, e->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (ring_open(&d->r, path) < 0) {
			if (errno == EPROTO && following)
				continue;	/* being created: look again later */
			fail(path, strerror(errno));
		}
		if (__atomic_load_n(&d->r.hdr->state, __ATOMIC_ACQUIRE) == 0) {
			/* the header is written, state last: not yet */
			ring_unmap(&d->r);
			continue;
		}
		d->pid = d->r.hdr->pid;
		d->seq = d->r.hdr->execseq;
		ndumps++;
	}
	closedir(dp);
	qsort(dumps + n0, (size_t)(ndumps - n0), sizeof dumps[0], byname);
	return ndumps - n0;
}

int
main(int argc, char **argv)
{
	struct timespec ms = { 0, 1000000 };
	int c, i, busy, idle, left;

	while ((c = getopt(argc, argv, "fq")) != -1) {
		switch (c) {
		case 'f': following = 1; break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: ringdump [-f] [-q] DIR\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: ringdump [-f] [-q] DIR\n");
		return 2;
	}
	dir = argv[optind];
	if (!following) {
		lookdir();
		for (i = 0; i < ndumps; i++) {
			drain(&dumps[i]);
			finish(&dumps[i]);
		}
		return 0;
	}
	for (idle = 0;;) {
		busy = lookdir() > 0;
		left = 0;
		for (i = 0; i < ndumps; i++) {
			if (dumps[i].done)
				continue;
			if (drain(&dumps[i]))
				busy = 1;
			else if (ring_closed(&dumps[i].r) || writergone(dumps[i].pid)) {
				drain(&dumps[i]);	/* what came just before the close */
				finish(&dumps[i]);
			}
			if (!dumps[i].done)
				left++;
		}
		idle = busy || left > 0 || ndumps == 0 ? 0 : idle + 1;
		if (idle > 300)
			break;
		if (!busy)
			nanosleep(&ms, NULL);
	}
	return 0;
}
