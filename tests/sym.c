/*
 * tests/sym.c -- the symbolizer: return addresses captured at run time in
 * this program, in libc and in a fixture library (dlclosed before resolving,
 * so it resolves from its file) come back as the right function, file, line
 * and inline chain; C++ names are demangled; an address outside every module,
 * the vdso, a missing file and a rebuilt file give a row without a name;
 * each process gets the modules it had; a second call adds nothing; the
 * two halves (sym_start, sym_finish) write the same and sym_abandon nothing;
 * a job that looked ahead during the run (sym_ahead) writes the same rows,
 * follows the tables' module map where its own was wrong, and looks up
 * again none of the addresses it found.
 *
 * The trace tables are made here with the columns of the trace schema; the
 * test owns nothing else.
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "sym.h"
#include "symfix.h"
#include "tap.h"

#define DELTA	((uint64_t)1 << 44)	/* where process 2 has everything mapped, relative to us */

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE modules(id INTEGER PRIMARY KEY, process INTEGER, path TEXT,"
    " buildid BLOB, base INTEGER, lo INTEGER, hi INTEGER, loaded INTEGER, unloaded INTEGER);"
    "CREATE TABLE frames(process INTEGER, id INTEGER, parent INTEGER, pc INTEGER,"
    " PRIMARY KEY(process, id));"
    "CREATE TABLE locations(process INTEGER, pc INTEGER, depth INTEGER, function TEXT,"
    " file TEXT, line INTEGER, column INTEGER, module INTEGER, offset INTEGER,"
    " PRIMARY KEY(process, pc, depth));"
    "INSERT INTO meta VALUES ('symbolized', 'no');";

typedef struct Mod Mod;	/* a module of this process, as the runtime records it */
struct Mod {
	char	path[4096];
	uint64_t base, lo, hi;
	unsigned char bid[64];
	int	bidlen;
};

typedef struct Loc Loc;	/* one row of locations */
struct Loc {
	int	found;
	char	function[512];	/* "" for NULL */
	int	hasfunction;
	char	file[4096];
	int	hasfile;
	long	line, column;	/* -1 for NULL */
	int64_t	module;		/* -1 for NULL */
	int64_t	offset;
	int	hasoffset;
};

static Mod mods[256];
static int nmod;
static sqlite3 *db;
static int64_t frameid;

static void
exec(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		tap_bail("sql: %s: %s", sql, msg ? msg : "?");
}

static int
onemod(struct dl_phdr_info *info, size_t size, void *arg)
{
	Mod *m;
	const ElfW(Phdr) *ph;
	int i, first;
	ssize_t n;

	(void)size;
	(void)arg;
	if (nmod == (int)(sizeof mods / sizeof mods[0]))
		return 1;
	m = &mods[nmod];
	memset(m, 0, sizeof *m);
	if (info->dlpi_name[0] != '\0')
		snprintf(m->path, sizeof m->path, "%s", info->dlpi_name);
	else if (nmod == 0) {
		n = readlink("/proc/self/exe", m->path, sizeof m->path - 1);
		if (n <= 0)
			tap_bail("readlink /proc/self/exe failed");
		m->path[n] = '\0';
	}
	m->base = info->dlpi_addr;
	first = 1;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD) {
			uint64_t lo = info->dlpi_addr + ph->p_vaddr;
			uint64_t hi = lo + ph->p_memsz;

			if (first || lo < m->lo)
				m->lo = lo;
			if (first || hi > m->hi)
				m->hi = hi;
			first = 0;
		} else if (ph->p_type == PT_NOTE) {
			const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
			const unsigned char *end = p + ph->p_memsz;

			while (p + sizeof(ElfW(Nhdr)) <= end) {
				const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
				const unsigned char *name = p + sizeof *nh;
				const unsigned char *desc = name + ((nh->n_namesz + 3) & ~3u);

				if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
				    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= sizeof m->bid) {
					memcpy(m->bid, desc, nh->n_descsz);
					m->bidlen = (int)nh->n_descsz;
				}
				p = desc + ((nh->n_descsz + 3) & ~3u);
			}
		}
	}
	if (!first)
		nmod++;
	return 0;
}

/* The module of ours holding pc, or NULL. */
static Mod *
modof(uint64_t pc)
{
	int i;

	for (i = 0; i < nmod; i++)
		if (pc >= mods[i].lo && pc < mods[i].hi)
			return &mods[i];
	return NULL;
}

static int64_t
addmod(int64_t process, const char *path, const void *bid, int bidlen,
    uint64_t base, uint64_t lo, uint64_t hi, int64_t loaded, int64_t unloaded)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "INSERT INTO modules(process, path, buildid, base, lo, hi,"
	    " loaded, unloaded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		tap_bail("prepare: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	if (bidlen > 0)
		sqlite3_bind_blob(st, 3, bid, bidlen, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (int64_t)base);
	sqlite3_bind_int64(st, 5, (int64_t)lo);
	sqlite3_bind_int64(st, 6, (int64_t)hi);
	sqlite3_bind_int64(st, 7, loaded);
	if (unloaded >= 0)
		sqlite3_bind_int64(st, 8, unloaded);
	if (sqlite3_step(st) != SQLITE_DONE)
		tap_bail("insert module: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return sqlite3_last_insert_rowid(db);
}

static void
addframe(int64_t process, uint64_t pc)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "INSERT INTO frames(process, id, parent, pc) VALUES (?, ?, 0, ?)",
	    -1, &st, NULL) != SQLITE_OK)
		tap_bail("prepare: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_int64(st, 2, ++frameid);
	sqlite3_bind_int64(st, 3, (int64_t)pc);
	if (sqlite3_step(st) != SQLITE_DONE)
		tap_bail("insert frame: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

static int64_t
count(const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		tap_bail("prepare %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int64_t
nrows(int64_t process, uint64_t pc)
{
	char sql[200];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM locations WHERE process = %lld AND pc = %lld",
	    (long long)process, (long long)pc);
	return count(sql);
}

static Loc
loc(int64_t process, uint64_t pc, int depth)
{
	sqlite3_stmt *st;
	Loc l;

	memset(&l, 0, sizeof l);
	l.line = l.column = l.module = -1;
	if (sqlite3_prepare_v2(db, "SELECT function, file, line, column, module, offset"
	    " FROM locations WHERE process = ? AND pc = ? AND depth = ?", -1, &st, NULL) != SQLITE_OK)
		tap_bail("prepare: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, process);
	sqlite3_bind_int64(st, 2, (int64_t)pc);
	sqlite3_bind_int(st, 3, depth);
	if (sqlite3_step(st) == SQLITE_ROW) {
		l.found = 1;
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			l.hasfunction = 1;
			snprintf(l.function, sizeof l.function, "%s", sqlite3_column_text(st, 0));
		}
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			l.hasfile = 1;
			snprintf(l.file, sizeof l.file, "%s", sqlite3_column_text(st, 1));
		}
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			l.line = sqlite3_column_int(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			l.column = sqlite3_column_int(st, 3);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			l.module = sqlite3_column_int64(st, 4);
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			l.hasoffset = 1;
			l.offset = sqlite3_column_int64(st, 5);
		}
	}
	sqlite3_finalize(st);
	return l;
}

static int
endswith(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Check one depth: function name, file suffix (NULL: not checked), line. */
static void
checkdepth(const char *what, int64_t process, uint64_t pc, int depth,
    const char *function, const char *file, int line)
{
	Loc l = loc(process, pc, depth);

	if (!ok(l.found, "%s: depth %d has a row", what, depth)) {
		tap_skip(3, "no row");
		return;
	}
	if (!ok(l.hasfunction && strcmp(l.function, function) == 0,
	    "%s: depth %d function is %s", what, depth, function))
		tap_diag("got %s", l.hasfunction ? l.function : "NULL");
	if (file != NULL) {
		if (!ok(l.hasfile && endswith(l.file, file) && l.file[0] == '/',
		    "%s: depth %d file is absolute and ends in %s", what, depth, file))
			tap_diag("got %s", l.hasfile ? l.file : "NULL");
	} else
		tap_skip(1, "file not checked");
	if (!ok(l.line == line, "%s: depth %d line %d", what, depth, line))
		tap_diag("got %ld", l.line);
}

/* Check a pc that should get one nameless row with the given module (-1: none). */
static void
checknameless(const char *what, int64_t process, uint64_t pc, int64_t module, uint64_t base)
{
	Loc l = loc(process, pc, 0);

	ok(l.found && nrows(process, pc) == 1, "%s: one row", what);
	ok(!l.hasfunction && !l.hasfile && l.line == -1, "%s: function, file and line NULL", what);
	if (module < 0)
		ok(l.module == -1 && !l.hasoffset, "%s: module and offset NULL", what);
	else
		ok(l.module == module && l.hasoffset && (uint64_t)l.offset == pc - base,
		    "%s: module %lld, offset pc - base", what, (long long)module);
}

__attribute__((noinline)) static void
sym_capture(SymfixSite *s, int line)
{
	s->pc = (uintptr_t)__builtin_return_address(0);
	s->line = line;
	__asm__ volatile("" ::: "memory");
}

/* A call site in the main program, compiled with the build's CFLAGS. */
__attribute__((noinline)) static void
sym_mainsite(SymfixSite *s)
{
	sym_capture(s, __LINE__);
	__asm__ volatile("" ::: "memory");
}

static int
hasmodule(const char *path)
{
	int i;

	nmod = 0;
	dl_iterate_phdr(onemod, NULL);
	for (i = 0; i < nmod; i++)
		if (strcmp(mods[i].path, path) == 0)
			return 1;
	return 0;
}

int
main(void)
{
	void *lib;
	int (*caller)(SymfixSite *);
	int (*mangled)(int);
	int (*outer)(SymfixSite *);
	int (*bare)(SymfixSite *);
	int (*baz)(void);
	SymfixSite site, chain[3], mainsite, baresite, bazsite, *msite, *bsite;
	Mod *fix, *libc, *vdso, *exe;
	int64_t modid[256], modid2[256], fixid3, gone, rebuilt;
	uint64_t pclibc, pcvdso, pcunknown, pcgone, pcrebuilt, pcs[8];
	char err[256], dbg[256], hex[129];
	const unsigned char deadbeef[20] = { 0xde, 0xad, 0xbe, 0xef };
	struct stat sb;
	int i, n, fixidx, libcidx, vdsoidx;
	int64_t total;

	/* SYM_TEST_DB names a file to keep the trace in, to look at by hand */
	if (sqlite3_open(getenv("SYM_TEST_DB") ? getenv("SYM_TEST_DB") : ":memory:", &db) != SQLITE_OK)
		tap_bail("sqlite3_open failed");
	exec(schema);

	/* the run: capture the call sites, then the module map */
	lib = dlopen(SYMFIX_PATH, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
		tap_bail("dlopen %s: %s", SYMFIX_PATH, dlerror());
	caller = (int (*)(SymfixSite *))dlsym(lib, "symfix_caller");
	mangled = (int (*)(int))dlsym(lib, "_ZN3foo3barEi");
	outer = (int (*)(SymfixSite *))dlsym(lib, "symfix_inline_outer");
	msite = (SymfixSite *)dlsym(lib, "symfix_mangled");
	bare = (int (*)(SymfixSite *))dlsym(lib, "symfix_bare");
	baz = (int (*)(void))dlsym(lib, "_ZN3foo3bazEv");
	bsite = (SymfixSite *)dlsym(lib, "symfix_bare_site");
	if (caller == NULL || mangled == NULL || outer == NULL || msite == NULL ||
	    bare == NULL || baz == NULL || bsite == NULL)
		tap_bail("fixture symbols missing: %s", dlerror());
	caller(&site);
	mangled(1);
	outer(chain);
	bare(&baresite);
	baz();
	bazsite = *bsite;
	sym_mainsite(&mainsite);
	pclibc = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "getpid") + 4;
	pcvdso = (uint64_t)getauxval(AT_SYSINFO_EHDR) + 0x100;
	pcunknown = (uint64_t)(uintptr_t)&site;	/* the stack is no module */

	nmod = 0;
	dl_iterate_phdr(onemod, NULL);
	fix = modof(site.pc);
	libc = modof(pclibc);
	exe = modof(mainsite.pc);
	vdso = getauxval(AT_SYSINFO_EHDR) ? modof(pcvdso) : NULL;
	if (fix == NULL || libc == NULL || exe == NULL)
		tap_bail("call sites outside the module map");
	if (modof(pcunknown) != NULL)
		tap_bail("the stack is inside a module?");
	fixidx = (int)(fix - mods);
	libcidx = (int)(libc - mods);
	vdsoidx = vdso ? (int)(vdso - mods) : -1;
	SymfixSite fixsite = *msite;

	/* the library is gone before symbolizing: it resolves from its file */
	dlclose(lib);
	{
		Mod save[256];
		int nsave = nmod;

		memcpy(save, mods, sizeof save);
		ok(!hasmodule(save[fixidx].path), "the fixture library is unmapped after dlclose");
		memcpy(mods, save, sizeof save);
		nmod = nsave;
	}
	fix = &mods[fixidx];
	libc = &mods[libcidx];

	/* process 1: us; process 2: the same files at other bases */
	if (vdsoidx >= 0)	/* a kernel debug package could name it by build-id */
		mods[vdsoidx].bidlen = 0;
	for (i = 0; i < nmod; i++) {
		modid[i] = addmod(1, mods[i].path, mods[i].bid, mods[i].bidlen,
		    mods[i].base, mods[i].lo, mods[i].hi, 10 + i, i == fixidx ? 1000 : -1);
		modid2[i] = addmod(2, mods[i].path, mods[i].bid, mods[i].bidlen,
		    mods[i].base + DELTA, mods[i].lo + DELTA, mods[i].hi + DELTA, 10 + i, -1);
	}
	/* a file that is gone, and a file rebuilt since (another build-id) */
	gone = addmod(1, "/nonexistent/libgone.so", NULL, 0, 0x10000, 0x10000, 0x20000, 5, -1);
	pcgone = 0x10000 + 0x1234;
	rebuilt = addmod(1, fix->path, deadbeef, sizeof deadbeef,
	    0x40000000, 0x40000000 + (fix->lo - fix->base), 0x40000000 + (fix->hi - fix->base), 5, -1);
	pcrebuilt = 0x40000000 + (site.pc - fix->base);
	/* process 3: another library held the range first, then the fixture */
	addmod(3, "/nonexistent/libearlier.so", NULL, 0, fix->base, fix->lo, fix->hi, 1, 2);
	fixid3 = addmod(3, fix->path, fix->bid, fix->bidlen, fix->base, fix->lo, fix->hi, 3, -1);

	pcs[0] = site.pc;
	pcs[1] = fixsite.pc;
	pcs[2] = chain[0].pc;
	pcs[3] = mainsite.pc;
	pcs[4] = pclibc;
	pcs[5] = baresite.pc;
	pcs[6] = bazsite.pc;
	for (i = 0; i < 7; i++) {
		addframe(1, pcs[i]);
		addframe(2, pcs[i] + DELTA);
	}
	addframe(1, site.pc);	/* the same pc in another stack: resolved once */
	addframe(1, pcvdso);
	addframe(1, pcunknown);
	addframe(1, pcgone);
	addframe(1, pcrebuilt);
	addframe(3, site.pc);
	total = count("SELECT count(*) FROM (SELECT DISTINCT process, pc FROM frames)");

	err[0] = '\0';
	n = sym_resolve(db, err, sizeof err);
	if (!ok(n == total, "sym_resolve resolves each distinct (process, pc) once: %d", n))
		tap_diag("expected %lld: %s", (long long)total, err);
	ok(count("SELECT count(*) FROM meta WHERE key = 'symbolized' AND value = 'yes'") == 1,
	    "meta symbolized = yes");

	/* a plain call site, in the dlclosed library */
	checkdepth("caller", 1, site.pc, 0, "symfix_caller", "tests/symfix.c", site.line);
	ok(nrows(1, site.pc) == 1, "caller: no inline chain");
	{
		Loc l = loc(1, site.pc, 0);

		ok(l.module == modid[fixidx] && l.hasoffset &&
		    (uint64_t)l.offset == site.pc - fix->base, "caller: module and offset");
		ok(l.column == -1 || l.column > 0, "caller: column NULL or positive");
	}

	/* a C++ mangled name */
	checkdepth("mangled", 1, fixsite.pc, 0, "foo::bar(int)", "tests/symfix.c", fixsite.line);

	/* the inline chain: innermost first, outer depths at their call sites */
	ok(nrows(1, chain[0].pc) == 3, "inline: three depths (got %lld)",
	    (long long)nrows(1, chain[0].pc));
	checkdepth("inline", 1, chain[0].pc, 0, "symfix_inner", "tests/symfix-inline.c", chain[0].line);
	checkdepth("inline", 1, chain[0].pc, 1, "symfix_middle", "tests/symfix-inline.c", chain[1].line);
	checkdepth("inline", 1, chain[0].pc, 2, "symfix_inline_outer", "tests/symfix-inline.c",
	    chain[2].line);

	/* no DWARF: the symbol table's name, demangled, and no file or line */
	{
		Loc l = loc(1, baresite.pc, 0);

		ok(nrows(1, baresite.pc) == 1 && l.hasfunction &&
		    strcmp(l.function, "symfix_bare") == 0 && !l.hasfile && l.line == -1,
		    "no DWARF: symfix_bare from the symbol table, file and line NULL");
		l = loc(1, bazsite.pc, 0);
		if (!ok(l.hasfunction && strcmp(l.function, "foo::baz()") == 0,
		    "no DWARF: _ZN3foo3bazEv demangled to foo::baz()"))
			tap_diag("got %s", l.hasfunction ? l.function : "NULL");
		ok(l.module == modid[fixidx] && (uint64_t)l.offset == bazsite.pc - fix->base,
		    "no DWARF: module and offset");
	}

	/* the main program, built with whatever CFLAGS: the name at least */
	{
		Loc l = loc(1, mainsite.pc, nrows(1, mainsite.pc) - 1);

		ok(l.hasfunction && strcmp(l.function, "sym_mainsite") == 0,
		    "main program: function sym_mainsite");
		if (l.hasfile) {
			ok(endswith(l.file, "tests/sym.c"), "main program: file tests/sym.c");
			ok(loc(1, mainsite.pc, 0).line == mainsite.line, "main program: line %d",
			    mainsite.line);
		} else
			tap_skip(2, "the main program has no DWARF (CFLAGS without -g)");
		ok(l.module == modid[exe - mods], "main program: module");
	}

	/* libc: at least the symbol table's name */
	{
		Loc l = loc(1, pclibc, nrows(1, pclibc) - 1);

		if (!ok(l.hasfunction && strstr(l.function, "getpid") != NULL,
		    "libc: function names getpid"))
			tap_diag("got %s", l.hasfunction ? l.function : "NULL");
		ok(l.module == modid[libcidx], "libc: module");
	}

	/* nothing to find */
	if (vdsoidx >= 0)
		checknameless("vdso", 1, pcvdso, modid[vdsoidx], mods[vdsoidx].base);
	else
		tap_skip(3, "no vdso");
	checknameless("unknown pc", 1, pcunknown, -1, 0);
	checknameless("missing file", 1, pcgone, gone, 0x10000);
	checknameless("other build-id", 1, pcrebuilt, rebuilt, 0x40000000);

	/* process 2: same answers, its own modules */
	checkdepth("process 2", 2, site.pc + DELTA, 0, "symfix_caller", "tests/symfix.c", site.line);
	checkdepth("process 2", 2, chain[0].pc + DELTA, 2, "symfix_inline_outer",
	    "tests/symfix-inline.c", chain[2].line);
	{
		Loc l = loc(2, site.pc + DELTA, 0);

		ok(l.module == modid2[fixidx] && (uint64_t)l.offset == site.pc - fix->base,
		    "process 2: its own module, same offset");
	}
	ok(count("SELECT count(*) FROM locations WHERE process = 1 AND pc = 0") == 0,
	    "no stray rows");

	/* process 3: the module loaded last holds the pc */
	checkdepth("reloaded range", 3, site.pc, 0, "symfix_caller", "tests/symfix.c", site.line);
	ok(loc(3, site.pc, 0).module == fixid3, "reloaded range: the later module");

	/* a file without .debug_aranges (as clang builds them): same answers */
	{
		int64_t id = addmod(5, SYMFIX_NOARANGES_PATH, fix->bid, fix->bidlen,
		    fix->base, fix->lo, fix->hi, 1, -1);

		addframe(5, site.pc);
		addframe(5, chain[0].pc);
		ok(sym_resolve(db, err, sizeof err) == 2, "no aranges: resolved");
		checkdepth("no aranges", 5, site.pc, 0, "symfix_caller", "tests/symfix.c", site.line);
		ok(nrows(5, chain[0].pc) == 3, "no aranges: three depths");
		checkdepth("no aranges", 5, chain[0].pc, 0, "symfix_inner", "tests/symfix-inline.c",
		    chain[0].line);
		checkdepth("no aranges", 5, chain[0].pc, 2, "symfix_inline_outer",
		    "tests/symfix-inline.c", chain[2].line);
		ok(loc(5, site.pc, 0).module == id, "no aranges: module");
	}

	/* again: nothing new; one more frame: just that one */
	total = count("SELECT count(*) FROM locations");
	n = sym_resolve(db, err, sizeof err);
	ok(n == 0 && count("SELECT count(*) FROM locations") == total,
	    "a second sym_resolve adds nothing (%d)", n);
	addframe(1, site.pc + 1);
	n = sym_resolve(db, err, sizeof err);
	ok(n == 1 && count("SELECT count(*) FROM locations") == total + 1,
	    "a new frame: one new pc resolved (%d)", n);

	/*
	 * In two halves: the look-ups run while the caller writes other
	 * tables; abandoned, they write nothing; finished, what sym_resolve
	 * would, with the figures.
	 */
	{
		SymStats st;
		SymJob *j;

		addframe(1, site.pc + 2);
		addframe(1, chain[0].pc + 1);
		total = count("SELECT count(*) FROM locations");
		j = sym_start(db, NULL, err, sizeof err);
		ok(j != NULL, "sym_start: started (%s)", err);
		sym_abandon(j);
		ok(count("SELECT count(*) FROM locations") == total, "sym_abandon: nothing written");
		j = sym_start(db, NULL, err, sizeof err);
		exec("CREATE TABLE other(x); INSERT INTO other VALUES (1)");
		memset(&st, 0xff, sizeof st);
		n = j != NULL ? sym_finish(j, db, &st, err, sizeof err) : -1;
		ok(n == 2 && st.pcs == 2 && st.files == 1 && st.lookup >= 0 && st.wait >= 0 &&
		    st.store >= 0, "sym_finish: two pcs from one file (%d, %zu, %zu)", n, st.pcs,
		    st.files);
		ok(count("SELECT count(*) FROM locations") == total + 1 + nrows(1, chain[0].pc + 1) &&
		    nrows(1, chain[0].pc + 1) >= 1 && count("SELECT count(*) FROM other") == 1,
		    "sym_finish: their rows beside the caller's");
		checkdepth("two halves", 1, site.pc + 2, 0, "symfix_caller", "tests/symfix.c",
		    loc(1, site.pc + 1, 0).line);
	}

	/*
	 * Looking ahead: process 7 has the fixture where the job was told it
	 * is; process 8 has another file there, though the job was told the
	 * fixture.  The tables win.
	 */
	{
		SymStats st;
		SymJob *j;
		int64_t fix7, wrong8;
		uint64_t p7[3];
		size_t given, distinct;
		int k, d, same;

		j = sym_ahead();
		if (!ok(j != NULL, "sym_ahead: started"))
			tap_bail("no job");
		p7[0] = site.pc;
		p7[1] = fixsite.pc;
		p7[2] = chain[0].pc;
		sym_ahead_module(j, 7, fix->path, fix->bid, fix->bidlen, fix->base, fix->lo, fix->hi);
		sym_ahead_module(j, 8, fix->path, fix->bid, fix->bidlen, fix->base, fix->lo, fix->hi);
		sym_ahead_pc(j, 7, p7[0]);
		sym_ahead_pc(j, 7, p7[1]);
		sym_ahead_pc(j, 7, 0);	/* no pc: not an item */
		sym_ahead_pc(j, 8, site.pc + 4);
		sym_ahead_flush(j);
		given = 5;
		distinct = 2 + (p7[1] != p7[0]);
		/* it works on its own; wait until it has (no time limit but the test's) */
		while (sym_ahead_done(j) < given)
			usleep(1000);
		ok(sym_ahead_done(j) == given, "sym_ahead: every module and pc worked through");

		fix7 = addmod(7, fix->path, fix->bid, fix->bidlen, fix->base, fix->lo, fix->hi, 1, -1);
		wrong8 = addmod(8, "/nonexistent/libwrong.so", NULL, 0, fix->base, fix->lo, fix->hi,
		    1, -1);
		for (k = 0; k < 3; k++)
			addframe(7, p7[k]);
		addframe(8, site.pc + 4);
		total = count("SELECT count(*) FROM locations");
		j = sym_start(db, j, err, sizeof err);
		ok(j != NULL, "sym_start after sym_ahead: started (%s)", err);
		memset(&st, 0xff, sizeof st);
		n = j != NULL ? sym_finish(j, db, &st, err, sizeof err) : -1;
		if (!ok(n == 4 && st.pcs == 4 && st.ahead == distinct && st.files == 1 &&
		    st.aheadsec >= 0, "looked ahead: %zu addresses before, 4 pcs in all", distinct))
			tap_diag("n %d pcs %zu ahead %zu files %zu: %s", n, st.pcs, st.ahead,
			    st.files, err);
		same = 1;
		for (k = 0; k < 3; k++) {
			if (nrows(7, p7[k]) != nrows(1, p7[k]) || nrows(7, p7[k]) < 1)
				same = 0;
			for (d = 0; same && d < nrows(1, p7[k]); d++) {
				Loc a = loc(1, p7[k], d), b = loc(7, p7[k], d);

				same = b.found && b.module == fix7 &&
				    strcmp(a.function, b.function) == 0 &&
				    strcmp(a.file, b.file) == 0 && a.line == b.line;
			}
		}
		ok(same, "looked ahead: the same rows as sym_resolve wrote, one of them found after");
		{
			Loc w = loc(8, site.pc + 4, 0);

			ok(nrows(8, site.pc + 4) == 1 && w.found && !w.hasfunction &&
			    w.module == wrong8, "looked ahead: the tables' module map wins");
		}
		ok(count("SELECT count(*) FROM locations") ==
		    total + nrows(7, p7[0]) + nrows(7, p7[1]) + nrows(7, p7[2]) + 1,
		    "looked ahead: nothing else written");

		/* abandoned with work still queued: nothing written */
		j = sym_ahead();
		if (j != NULL) {
			for (k = 0; k < 5000; k++)
				sym_ahead_pc(j, 7, fix->lo + (uint64_t)k * 16);
			sym_ahead_module(j, 7, fix->path, fix->bid, fix->bidlen, fix->base, fix->lo,
			    fix->hi);
			sym_abandon(j);
		}
		ok(j != NULL && count("SELECT count(*) FROM locations") ==
		    total + nrows(7, p7[0]) + nrows(7, p7[1]) + nrows(7, p7[2]) + 1,
		    "sym_abandon of a job looking ahead: nothing written");
	}

	/* libc found by its build-id when its path is gone (needs libc6-dbg) */
	for (i = 0; i < libc->bidlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", libc->bid[i]);
	snprintf(dbg, sizeof dbg, "/usr/lib/debug/.build-id/%.2s/%s.debug", hex, hex + 2);
	if (libc->bidlen > 1 && stat(dbg, &sb) == 0) {
		int64_t id = addmod(4, "/nonexistent/libc.so.6", libc->bid, libc->bidlen,
		    libc->base, libc->lo, libc->hi, 1, -1);
		Loc l;

		addframe(4, pclibc);
		ok(sym_resolve(db, err, sizeof err) == 1, "libc by build-id: resolved");
		l = loc(4, pclibc, nrows(4, pclibc) - 1);
		if (!ok(l.hasfunction && strstr(l.function, "getpid") != NULL && l.module == id,
		    "libc by build-id: its debug file names getpid"))
			tap_diag("got %s", l.hasfunction ? l.function : "NULL");
	} else
		tap_skip(2, "no debug file for libc (libc6-dbg)");

	/* a trace without the tables: an error, nothing written */
	sqlite3_close(db);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		tap_bail("sqlite3_open failed");
	err[0] = '\0';
	n = sym_resolve(db, err, sizeof err);
	ok(n == -1 && err[0] != '\0', "no tables: -1 with a reason (%s)", err);
	sqlite3_close(db);
	return tap_done();
}
