/*
 * bench/sym.c -- how fast sym_resolve turns pcs into locations: N pcs spread
 * evenly over the code of one library of this process (libc by default,
 * which has DWARF where libc6-dbg is installed; libsqlite3 usually has only
 * its symbol table), as return addresses of one process; then, in one
 * more call, the same pcs in four more processes whose copy of the library
 * sits at other bases, so the answers come from sym_resolve's cache and the
 * time is mostly SQLite's.
 *
 * Prints one line per pass: pcs, seconds, pcs per second, rows in all.
 * It measures and never judges.
 * usage: sym [N [LIB]]  (N default 200000; LIB a part of the library's path,
 * default "/libc.so")
 */
#include "config.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "sym.h"

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE modules(id INTEGER PRIMARY KEY, process INTEGER, path TEXT,"
    " buildid BLOB, base INTEGER, lo INTEGER, hi INTEGER, loaded INTEGER, unloaded INTEGER);"
    "CREATE TABLE frames(process INTEGER, id INTEGER, parent INTEGER, pc INTEGER,"
    " PRIMARY KEY(process, id));"
    "CREATE TABLE locations(process INTEGER, pc INTEGER, depth INTEGER, function TEXT,"
    " file TEXT, line INTEGER, column INTEGER, module INTEGER, offset INTEGER,"
    " PRIMARY KEY(process, pc, depth));";

#define SHIFT	((uint64_t)1 << 44)	/* process 2's libraries, relative to ours */

typedef struct Seg Seg;
struct Seg {
	const char *path;
	uint64_t base, lo, hi;		/* the module */
	uint64_t xlo, xhi;		/* its executable segment */
};

#define NPROC	4	/* processes of the cached pass */

static Seg segs[1];
static int nseg;
static const char *want = "/libc.so";
static sqlite3 *db;

static int
onemod(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph;
	Seg *s;
	int i;

	(void)size;
	(void)arg;
	if (nseg == 1 || strstr(info->dlpi_name, want) == NULL)
		return 0;
	s = &segs[nseg++];
	memset(s, 0, sizeof *s);
	s->path = info->dlpi_name;
	s->base = info->dlpi_addr;
	s->lo = UINT64_MAX;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < s->lo)
			s->lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > s->hi)
			s->hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		if (ph->p_flags & PF_X) {
			s->xlo = info->dlpi_addr + ph->p_vaddr;
			s->xhi = s->xlo + ph->p_memsz;
		}
	}
	return 0;
}

static void
run(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sym: %s: %s\n", sql, msg);
		exit(1);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
pass(const char *what)
{
	char err[256], q[100];
	sqlite3_stmt *st;
	long rows;
	double t;
	int r;

	rows = 0;
	t = now();
	r = sym_resolve(db, err, sizeof err);
	t = now() - t;
	if (r < 0) {
		fprintf(stderr, "sym: sym_resolve: %s\n", err);
		exit(1);
	}
	snprintf(q, sizeof q, "SELECT count(*) FROM locations");
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		rows = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	printf("%-28s %8d pcs %8.3f s %10.0f pcs/s %8ld rows in all\n", what, r, t,
	    t > 0 ? r / t : 0.0, rows);
}

int
main(int argc, char **argv)
{
	sqlite3_stmt *mod, *fr;
	long n, i, id;
	int k, p;
	uint64_t pc;

	n = argc > 1 ? atol(argv[1]) : 200000;
	if (argc > 2)
		want = argv[2];
	sqlite3_initialize();	/* loaded, so libsqlite3 is in the map */
	dl_iterate_phdr(onemod, NULL);
	if (n < 1 || nseg == 0) {
		fprintf(stderr, "sym: no library matching %s in the module map\n", want);
		return 1;
	}
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return 1;
	run(schema);
	run("BEGIN");
	sqlite3_prepare_v2(db, "INSERT INTO modules(process, path, base, lo, hi, loaded)"
	    " VALUES (?, ?, ?, ?, ?, 1)", -1, &mod, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO frames VALUES (?, ?, 0, ?)", -1, &fr, NULL);
	for (p = 1; p <= 1 + NPROC; p++)
		for (k = 0; k < nseg; k++) {
			uint64_t d = (uint64_t)(p - 1) * SHIFT;

			sqlite3_reset(mod);
			sqlite3_bind_int(mod, 1, p);
			sqlite3_bind_text(mod, 2, segs[k].path, -1, SQLITE_STATIC);
			sqlite3_bind_int64(mod, 3, (int64_t)(segs[k].base + d));
			sqlite3_bind_int64(mod, 4, (int64_t)(segs[k].lo + d));
			sqlite3_bind_int64(mod, 5, (int64_t)(segs[k].hi + d));
			sqlite3_step(mod);
		}
	id = 0;
	for (i = 0; i < n; i++) {
		const Seg *s = &segs[i % nseg];

		/* evenly over the code, a few bytes past a boundary like a return address */
		pc = s->xlo + 1 + (uint64_t)((double)(s->xhi - s->xlo - 2) * (double)i / (double)n);
		for (p = 1; p <= 1 + NPROC; p++) {
			sqlite3_reset(fr);
			sqlite3_bind_int(fr, 1, p);
			sqlite3_bind_int64(fr, 2, ++id);
			sqlite3_bind_int64(fr, 3, (int64_t)(pc + (uint64_t)(p - 1) * SHIFT));
			sqlite3_step(fr);
		}
	}
	sqlite3_finalize(mod);
	sqlite3_finalize(fr);
	run("COMMIT");

	/* two passes: process 1 alone (cold), then the others in one call */
	run("CREATE TEMP TABLE later AS SELECT * FROM frames WHERE process > 1");
	run("DELETE FROM frames WHERE process > 1");
	printf("%s\n", segs[0].path);
	pass("one process (cold)");
	run("INSERT INTO frames SELECT * FROM later");
	pass("4 processes, one call");
	sqlite3_close(db);
	return 0;
}
