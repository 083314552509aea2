/*
 * bench/mktrace.c -- a synthetic trace of N heap events for timing leak:
 * one process whose program allocates and frees from a few thousand
 * stacks (an inline chain every fifth function), keeps a working set of
 * ten thousand blocks, loses about one allocation in a hundred, and
 * ends with an exit scan that classes every block still live (the lost
 * ones definite or indirect, the working set reachable).  Written the
 * way the recorder writes: the trace writer's prepared statements in one
 * transaction, the indexes after, the write-ahead log folded in.
 *
 * usage: mktrace [-n EVENTS] [-e ERRORS] OUT.db   (OUT.db must not exist)
 *
 * Must never: be installed, or be taken for a trace of a real run (its
 * exe is /usr/bin/synthetic).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "trace.h"
#include "timeline.h"

enum {
	NFUNC	= 400,		/* functions of the program */
	NSTACK	= 3000,		/* allocation stacks */
	MAXDEPTH = 24,
	WORKING	= 10000,	/* blocks the program holds while it runs */
};

#define nelem(a)	(sizeof(a) / sizeof((a)[0]))
#define EXE	0x555555554000ULL
#define FUNCPC(f)	(EXE + 0x1000 + 0x40ULL * (f))

typedef struct Live Live;
struct Live {
	uint64_t ptr, size, time;
	int64_t	seq;
	uint32_t stack;
	int	lost;		/* never freed: a leak */
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "mktrace: %s: %s\n", what, why);
	exit(1);
}

static sqlite3_stmt *
prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(sql, sqlite3_errmsg(db));
	return st;
}

static void
step(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die("insert", sqlite3_errmsg(db));
	sqlite3_reset(st);
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "parse", "build", "emit", "lookup", "intern", "grow" };
	char err[512], fn[64], file[64];
	sqlite3_stmt *loc, *scanb;
	TraceWriter w;
	TimelineStats ts;
	struct timespec t0, t1;
	TraceEvent e;
	sqlite3 *db;
	Live *live, *lost, *b;
	uint32_t *stacks, id, parent;
	uint64_t nev, ev, ptr, t, nlive, nlost, maxlost, i;
	int64_t proc, seq;
	long nerr;
	int c, f, d, depth, s;
	unsigned char preview[32];

	nev = 10000000;
	nerr = 3;
	while ((c = getopt(argc, argv, "n:e:")) != -1) {
		switch (c) {
		case 'n':
			nev = strtoull(optarg, NULL, 10);
			break;
		case 'e':
			nerr = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: mktrace [-n EVENTS] [-e ERRORS] OUT.db\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: mktrace [-n EVENTS] [-e ERRORS] OUT.db\n");
		return 2;
	}
	if (trace_create(argv[optind], &db, err, sizeof err) < 0)
		die(argv[optind], err);
	if (trace_writer_open(&w, db) < 0)
		die("writer", w.msg);
	trace_begin(&w);
	trace_set_meta(&w, "command", "synthetic");
	trace_set_meta(&w, "recorder", "mktrace");
	trace_add_process(&w, 4242, 1, 0, 0, "/usr/bin/synthetic", "synthetic --bench", 1, &proc);
	trace_add_module(&w, proc, "/usr/bin/synthetic", NULL, 0, EXE, EXE, EXE + 0x100000, 1);

	/* the functions' locations: every fifth pc an inline chain of two */
	loc = prep(db, "INSERT INTO locations VALUES(?1, ?2, ?3, ?4, ?5, ?6, 1, 1, ?7)");
	for (f = 0; f < NFUNC; f++) {
		for (d = 0; d < (f % 5 == 0 ? 2 : 1); d++) {
			snprintf(fn, sizeof fn, "%s_%d%s", names[f % nelem(names)], f, d == 0 && f % 5 == 0 ? "_inl" : "");
			snprintf(file, sizeof file, "/src/synthetic/mod%d.c", f / 20);
			sqlite3_bind_int64(loc, 1, proc);
			sqlite3_bind_int64(loc, 2, (int64_t)FUNCPC(f));
			sqlite3_bind_int(loc, 3, d);
			sqlite3_bind_text(loc, 4, fn, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(loc, 5, file, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(loc, 6, 10 + f % 300 + d);
			sqlite3_bind_int64(loc, 7, (int64_t)(FUNCPC(f) - EXE));
			step(db, loc);
		}
	}
	sqlite3_finalize(loc);

	/* the stacks: main at the root, then a random chain each */
	if ((stacks = calloc(NSTACK, sizeof *stacks)) == NULL)
		die("stacks", "out of memory");
	id = 1;
	trace_add_frame(&w, proc, id, 0, FUNCPC(0));
	for (s = 0; s < NSTACK; s++) {
		parent = 1;
		depth = 3 + (int)(rnd() % (MAXDEPTH - 3));
		for (d = 0; d < depth; d++) {
			trace_add_frame(&w, proc, ++id, parent, FUNCPC(1 + rnd() % (NFUNC - 1)));
			parent = id;
		}
		stacks[s] = parent;
	}

	/* the events: a working set churned, one allocation in a hundred lost */
	live = calloc(WORKING, sizeof *live);
	maxlost = nev / 100 + 16;
	lost = calloc(maxlost, sizeof *lost);
	if (live == NULL || lost == NULL)
		die("blocks", "out of memory");
	nlive = nlost = 0;
	ptr = 0x10000000;
	t = 1000;
	memset(&e, 0, sizeof e);
	e.process = proc;
	e.tid = 4242;
	for (ev = 0; ev < nev; ev++) {
		t += 100;
		e.time = t;
		if (nlive == 0 || (nlive < WORKING && rnd() % 100 < 52)) {
			b = rnd() % 100 == 0 && nlost < maxlost ? &lost[nlost++] : &live[nlive++];
			b->ptr = ptr;
			ptr += 0x40;
			b->size = 8 + rnd() % 200;
			b->stack = stacks[rnd() % NSTACK];
			b->time = t;
			e.type = TRACE_ALLOC;
			e.call = CALL_MALLOC;
			e.ptr = b->ptr;
			e.size = b->size;
			e.stack = b->stack;
			trace_add_event(&w, &e);
			b->seq = trace_last_seq(&w);
		} else {
			i = rnd() % nlive;
			b = &live[i];
			e.type = TRACE_FREE;
			e.call = CALL_FREE;
			e.ptr = b->ptr;
			e.size = 0;
			e.stack = stacks[rnd() % NSTACK];
			trace_add_event(&w, &e);
			seq = trace_last_seq(&w);
			trace_add_block(&w, proc, b->ptr, b->size, "malloc", b->stack, b->seq, b->time,
			    seq, t, "free", e.stack);
			live[i] = live[--nlive];
		}
	}

	/* what was live at the end, and the exit scan that classes it */
	sqlite3_exec(db, "INSERT INTO scans VALUES(1, 1, 0, 0, 0, 0, 4242, 1, 1, 65536, 1)",
	    NULL, NULL, NULL);
	scanb = prep(db, "INSERT INTO scan_blocks VALUES(1, ?1, ?2, ?3, ?4, ?5, 'malloc', ?6,"
	    " ?7, ?8, ?9, NULL)");
	for (i = 0; i < nlive + nlost; i++) {
		b = i < nlive ? &live[i] : &lost[i - nlive];
		b->lost = i >= nlive;
		trace_add_block(&w, proc, b->ptr, b->size, "malloc", b->stack, b->seq, b->time,
		    0, 0, NULL, 0);
		memset(preview, 0, sizeof preview);
		snprintf((char *)preview, sizeof preview, "block %llu", (unsigned long long)b->seq);
		sqlite3_bind_int64(scanb, 1, (int64_t)b->ptr);
		sqlite3_bind_int64(scanb, 2, (int64_t)b->size);
		sqlite3_bind_text(scanb, 3, !b->lost ? "reachable" : b->seq % 4 == 0 ? "indirect" :
		    "definite", -1, SQLITE_STATIC);
		sqlite3_bind_int64(scanb, 4, b->seq);
		sqlite3_bind_int64(scanb, 5, b->stack);
		sqlite3_bind_int64(scanb, 6, (int64_t)FUNCPC(1));
		sqlite3_bind_int64(scanb, 7, (int64_t)b->ptr - 16);
		sqlite3_bind_int64(scanb, 8, (int64_t)b->size + 32);
		sqlite3_bind_blob(scanb, 9, preview, b->size < 32 ? (int)b->size : 32, SQLITE_TRANSIENT);
		step(db, scanb);
	}
	sqlite3_finalize(scanb);
	/* a few errors, so that leak looks their blocks up */
	for (c = 0; c < nerr && nlive > 0; c++) {
		TraceError te = { .process = proc, .time = t + (uint64_t)c, .tid = 4242,
		    .ptr = live[(uint64_t)c % nlive].ptr, .stack = stacks[c],
		    .message = "synthetic: tail magic overwritten", .kind = "overflow" };

		trace_add_error(&w, &te);
	}
	trace_end_process(&w, proc, "exit", 0);
	trace_set_meta(&w, "complete", "yes");
	trace_set_meta(&w, "symbolized", "yes");
	if (trace_commit(&w) < 0)
		die(argv[optind], w.msg);
	trace_writer_close(&w);
	if (trace_create_indexes(db, err, sizeof err) < 0)
		die(argv[optind], err);
	/* the time index, as derive builds it, timed for bench/poolview.sh */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    timeline_build(db, "main", &ts, err, sizeof err) < 0 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die(argv[optind], err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	sqlite3_close(db);
	printf("mktrace: %llu events, %llu blocks live at exit (%llu lost), %u frames\n",
	    (unsigned long long)nev, (unsigned long long)(nlive + nlost),
	    (unsigned long long)nlost, id);
	printf("mktrace: time index built in %.3f s (%llu spans, %llu checkpoints holding %llu blocks)\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    (unsigned long long)ts.spans, (unsigned long long)ts.checkpoints,
	    (unsigned long long)ts.stored);
	free(live);
	free(lost);
	free(stacks);
	return 0;
}
