/*
 * pooldbg/report-error.c -- a heap error on stderr, the moment the
 * recorder drains it: what a programmer reads while the program still
 * runs.  Owns the report's wording and the on-the-spot symbolization of
 * its stacks: the frames and modules are read back through the writer's
 * own connection (its open transaction holds them), each module file is
 * opened once (sym-file.c), and each pc becomes "function file:line
 * (module+offset)", or "module+offset" where the file has no symbols.
 *
 *   pooldbg: pid 4242: overflow at 0x4a0018: 24 bytes into a block of 24 bytes at 0x4a0000
 *       found by free at:
 *         #0 main demo.c:12 (demo+0x1189)
 *       the block was allocated at:
 *         #0 main demo.c:9 (demo+0x1160)
 *       bytes 0x4a0008..0x4a0028: 61 61 ... [61] ...
 *
 * Must never: fail or stop the run (a report that cannot be made whole is
 * printed as far as it goes), or write anything but stderr.
 */
#include "pooldbg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym-impl.h"

enum {
	NFILES	= 64,	/* module files kept open */
	MAXSHOWN = 24,	/* frames shown per stack */
};

struct ErrReport {
	TraceWriter *w;
	sqlite3_stmt *frame;	/* parent, pc of (process, id) */
	sqlite3_stmt *module;	/* path, base, buildid of the module holding (process, pc) */
	SymFile	files[NFILES];
	char	*paths[NFILES];
	char	*bids[NFILES];
	int	nfiles;
	SymStrs	strs;
	SymRows	rows;
};

ErrReport *
errreport_new(TraceWriter *w)
{
	ErrReport *r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->w = w;
	return r;
}

void
errreport_free(ErrReport *r)
{
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nfiles; i++) {
		symfile_close(&r->files[i]);
		free(r->paths[i]);
		free(r->bids[i]);
	}
	sqlite3_finalize(r->frame);
	sqlite3_finalize(r->module);
	symstrs_free(&r->strs);
	free(r->rows.v);
	free(r);
}

/* The statements, prepared the first time (the tables exist by then). */
static int
prepare(ErrReport *r)
{
	if (r->frame == NULL && sqlite3_prepare_v2(r->w->db,
	    "SELECT parent, pc FROM frames WHERE process = ?1 AND id = ?2", -1, &r->frame, NULL) != SQLITE_OK)
		return -1;
	if (r->module == NULL && sqlite3_prepare_v2(r->w->db,
	    "SELECT path, base, hex(buildid) FROM modules WHERE process = ?1 AND lo <= ?2 AND ?2 < hi"
	    " ORDER BY id DESC LIMIT 1", -1, &r->module, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

/* The file of path (build-id hex bid, may be NULL), opened once; NULL if there is no room. */
static SymFile *
fileof(ErrReport *r, const char *path, const char *bid)
{
	char *lower;
	int i;

	for (i = 0; i < r->nfiles; i++)
		if (strcmp(r->paths[i], path) == 0)
			return &r->files[i];
	if (r->nfiles == NFILES || (r->paths[r->nfiles] = strdup(path)) == NULL)
		return NULL;
	lower = NULL;
	if (bid != NULL && *bid != '\0' && (lower = strdup(bid)) != NULL)
		for (i = 0; lower[i] != '\0'; i++)
			if (lower[i] >= 'A' && lower[i] <= 'F')
				lower[i] = (char)(lower[i] - 'A' + 'a');
	r->bids[r->nfiles] = lower;
	memset(&r->files[r->nfiles], 0, sizeof r->files[r->nfiles]);
	r->files[r->nfiles].path = r->paths[r->nfiles];
	r->files[r->nfiles].bid = lower;
	symfile_open(&r->files[r->nfiles]);
	return &r->files[r->nfiles++];
}

static const char *
basename_of(const char *path)
{
	const char *s;

	s = strrchr(path, '/');
	return s != NULL ? s + 1 : path;
}

/* One frame's line: "#n function file:line (module+0xoff)". */
static void
putframe(ErrReport *r, int64_t process, int n, uint64_t pc)
{
	char path[4096], bid[128];
	const SymRow *row;
	SymFile *f;
	uint64_t base;
	int have;

	have = 0;
	base = 0;
	sqlite3_reset(r->module);
	sqlite3_bind_int64(r->module, 1, process);
	sqlite3_bind_int64(r->module, 2, (int64_t)pc);
	if (sqlite3_step(r->module) == SQLITE_ROW && sqlite3_column_text(r->module, 0) != NULL) {
		snprintf(path, sizeof path, "%s", (const char *)sqlite3_column_text(r->module, 0));
		base = (uint64_t)sqlite3_column_int64(r->module, 1);
		snprintf(bid, sizeof bid, "%s", sqlite3_column_text(r->module, 2) != NULL ?
		    (const char *)sqlite3_column_text(r->module, 2) : "");
		have = 1;
	}
	sqlite3_reset(r->module);
	fprintf(stderr, "        #%d ", n);
	if (!have) {
		fprintf(stderr, "0x%" PRIx64 "\n", pc);
		return;
	}
	r->rows.n = 0;
	f = fileof(r, path, bid);
	if (f != NULL && f->state == SYMFILE_OPEN && pc > base &&
	    symfile_chain(f, &r->strs, pc - 1 - base, &r->rows) == 0 && r->rows.n > 0) {
		row = &r->rows.v[0];
		fputs(row->function != NULL ? row->function : "??", stderr);
		if (row->file != NULL)
			fprintf(stderr, " %s:%d", basename_of(row->file), row->line);
		fputc(' ', stderr);
	}
	fprintf(stderr, "(%s+0x%" PRIx64 ")\n", basename_of(path), pc - base);
}

/* The frames of stack id in process, innermost first; "(no stack)" when there are none. */
static void
putstack(ErrReport *r, int64_t process, int64_t id, const char *title)
{
	int64_t next;
	uint64_t pc;
	int n;

	fprintf(stderr, "    %s:\n", title);
	for (n = 0; id != 0 && n < MAXSHOWN; n++, id = next) {
		sqlite3_reset(r->frame);
		sqlite3_bind_int64(r->frame, 1, process);
		sqlite3_bind_int64(r->frame, 2, id);
		if (sqlite3_step(r->frame) != SQLITE_ROW)
			break;
		next = sqlite3_column_int64(r->frame, 0);
		pc = (uint64_t)sqlite3_column_int64(r->frame, 1);
		sqlite3_reset(r->frame);
		putframe(r, process, n, pc);
	}
	sqlite3_reset(r->frame);
	if (n == 0)
		fputs("        (no stack)\n", stderr);
}

/* The hex dump, the damaged byte in brackets. */
static void
putdump(const TraceError *e)
{
	const unsigned char *b;
	uint64_t at;
	size_t i;

	if (e->dumplen == 0)
		return;
	b = e->dump;
	at = e->block != 0 ? e->block + (uint64_t)e->offset : e->ptr;
	fprintf(stderr, "    bytes 0x%" PRIx64 "..0x%" PRIx64 ":", e->dumpaddr,
	    e->dumpaddr + e->dumplen);
	for (i = 0; i < e->dumplen; i++) {
		if (i > 0 && i % 16 == 0)
			fputs("\n                ", stderr);
		if (e->dumpaddr + i == at)
			fprintf(stderr, " [%02x]", b[i]);
		else
			fprintf(stderr, " %02x", b[i]);
	}
	fputc('\n', stderr);
}

static const char *
foundby(const TraceError *e)
{
	if (strcmp(e->kind, "use-after-free") == 0 || (strcmp(e->kind, "overflow") == 0 &&
	    strstr(e->message, "fault") != NULL))
		return "the faulting access";
	return "found by";
}

void
errreport_print(ErrReport *r, int pid, const TraceError *e)
{
	const char *s;

	fprintf(stderr, "pooldbg: pid %d: %s", pid, e->kind);
	if (e->ptr != 0)
		fprintf(stderr, " at 0x%" PRIx64, e->ptr);
	if (e->block != 0) {
		fprintf(stderr, ": %" PRId64 " bytes %s a block of ", e->offset < 0 ? -e->offset :
		    e->offset, e->offset < 0 ? "before" : "into");
		if (e->size != 0 || e->alloc_stack != 0)
			fprintf(stderr, "%" PRIu64 " bytes ", e->size);
		fprintf(stderr, "at 0x%" PRIx64, e->block);
	}
	fputs(e->fatal ? " (the program is stopped)\n" : "\n", stderr);
	/* the runtime's own line, or the pool's panic line: the last of the message */
	if (e->message != NULL && *e->message != '\0') {
		s = e->message + strlen(e->message);
		while (s > e->message && s[-1] == '\n')
			s--;
		while (s > e->message && s[-1] != '\n')
			s--;
		fprintf(stderr, "    %.*s\n", (int)strcspn(s, "\n"), s);
	}
	if (prepare(r) == 0) {
		putstack(r, e->process, e->stack, strcmp(foundby(e), "found by") == 0 ?
		    "found by this call" : "at this access");
		if (e->alloc_stack != 0)
			putstack(r, e->process, e->alloc_stack, "the block was allocated at");
		if (e->free_stack != 0)
			putstack(r, e->process, e->free_stack, "and freed at");
	}
	putdump(e);
	fflush(stderr);
}
