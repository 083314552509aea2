/*
 * libpooldbg/trace-sym.c -- the symbolizer: reads a trace's modules and
 * frames, resolves each new (process, pc) with elfutils libdw and writes its
 * inline chain into table locations.
 *
 * How it goes: the modules are read into an array sorted by (process, lo);
 * the pcs still to do are read into another.  Each module row names a file
 * (path and recorded build-id); a file is opened the first time one of its
 * pcs needs it, as one Dwfl session holding that file alone, reported at
 * bias 0, so an address in it is pc - base whatever base the process had.
 * A resolved (file, address) is kept in a hash table: the same library
 * mapped at other bases in other processes costs one lookup per pc.  Names
 * and file names are interned, so the cache holds each string once.
 *
 * Owns: the rows of locations and meta 'symbolized'.  Never creates or alters
 * tables (the schema module does), never writes any other table, never runs
 * in a traced process, and never trusts a file whose build-id differs from
 * the one recorded (better no name than a wrong one).
 */
#include "config.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "sym.h"

/* libstdc++'s demangler (cxxabi.h is C++ only). */
char	*__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

enum {	/* SymFile.state */
	FILE_UNOPENED,
	FILE_OPEN,
	FILE_BAD,	/* missing, not ELF, build-id differs, or not a file at all */
};

typedef struct SymSym SymSym;	/* a function of a file's ELF symbol table */
struct SymSym {
	uint64_t addr;		/* in the file's address space */
	uint64_t size;		/* 0 if unknown: then it runs to the next symbol */
	const char *name;	/* into the ELF string table, alive with the Dwfl */
	int	rank;		/* binding: 2 global, 1 weak, 0 local; the higher names an address */
	int	code;		/* a function or label that can name a pc (not data) */
	int	sizeless;	/* st_size was 0: size is up to the next symbol or section end */
};

typedef struct SymCuRange SymCuRange;	/* one address range of a CU, by its own DW_AT_ranges */
struct SymCuRange {
	uint64_t lo, hi;	/* [lo, hi), CU addresses (before the bias) */
	Dwarf_Die cu;
};

typedef struct SymFile SymFile;
struct SymFile {
	const char *path;	/* interned, as table modules gives it */
	const char *bid;	/* recorded build-id in hex (interned), NULL if none */
	int	bidlen;
	int	state;		/* FILE_* */
	Dwfl	*dwfl;		/* a session holding this file alone, at bias 0 */
	Dwfl_Module *mod;
	SymSym	*syms;		/* its symbols by address, read at the first need */
	size_t	nsym;
	int	symsread;
	SymCuRange *cur;	/* its CUs by address, for files without .debug_aranges */
	size_t	ncur;
	Dwarf_Addr curbias;
	int	curread;
};

typedef struct SymMod SymMod;	/* one row of table modules */
struct SymMod {
	int64_t	id;		/* modules.id */
	int64_t	process;
	uint64_t base;		/* load bias: runtime address = file address + base */
	uint64_t lo, hi;	/* [lo, hi) of its PT_LOAD segments at run time */
	int64_t	loaded;		/* CLOCK_MONOTONIC ns; 0 if unknown */
	uint64_t maxhi;		/* the highest hi of this and every earlier module of its process */
	size_t	file;		/* index in Sym.files */
};

typedef struct SymScope SymScope;	/* a function or an inlined call in a CU */
struct SymScope {
	Dwarf_Die die;		/* a DW_TAG_subprogram or DW_TAG_inlined_subroutine */
	long	parent;		/* the scope it is inlined into; -1 for a function */
};

typedef struct SymRange SymRange;	/* one address range of a SymScope */
struct SymRange {
	uint64_t lo, hi;	/* [lo, hi), CU addresses (before the bias) */
	uint64_t maxhi;		/* the highest hi of this and every earlier range */
	size_t	scope;		/* index in SymCu.scopes */
	int	depth;		/* 0 for a function, +1 per inlined call inside */
};

typedef struct SymCu SymCu;	/* the functions of one CU, indexed at its first pc */
struct SymCu {
	size_t	file;		/* index in Sym.files */
	Dwarf_Off off;		/* the CU DIE's offset */
	SymScope *scopes;
	size_t	nscope, ascope;
	SymRange *ranges;	/* sorted by (lo, depth) */
	size_t	nrange, arange;
};

typedef struct SymRow SymRow;	/* one depth of an inline chain */
struct SymRow {
	const char *function;	/* interned, demangled; NULL if unknown */
	const char *file;	/* interned; NULL if unknown */
	int	line;		/* 0 = unknown */
	int	column;		/* 0 = unknown */
};

typedef struct SymHit SymHit;	/* a slot of the (file, address) cache */
struct SymHit {
	uint64_t addr;		/* pc - base */
	size_t	file;		/* index in Sym.files + 1; 0 marks an empty slot */
	size_t	first;		/* its chain: Sym.rows[first .. first + nrow) */
	size_t	nrow;
};

typedef struct SymPc SymPc;
struct SymPc {
	int64_t	process;
	uint64_t pc;
};

typedef struct Sym Sym;	/* the state of one sym_resolve call */
struct Sym {
	sqlite3	*db;
	char	*err;		/* the caller's buffer */
	size_t	errlen;
	SymFile	*files;
	size_t	nfile, afile;
	SymMod	*mods;		/* sorted by (process, lo) */
	size_t	nmod, amod;
	SymPc	*pcs;		/* sorted by (process, pc) */
	size_t	npc, apc;
	SymRow	*rows;		/* every resolved chain, end to end */
	size_t	nrow, arow;
	SymHit	*hits;		/* open addressing, a power of two of slots */
	size_t	nhit, ahit;
	SymCu	*cus;		/* every CU indexed so far */
	size_t	ncu, acu;
	size_t	*cuhash;	/* index in cus + 1 by (file, offset); open addressing */
	size_t	acuhash;
	char	**strs;		/* the interned strings, open addressing */
	size_t	nstr, astr;
	sqlite3_stmt *ins;
};

static int
fail(Sym *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err != NULL && s->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(s->err, s->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
dbfail(Sym *s, const char *what)
{
	return fail(s, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* Make room for need elements of size elem in *v (capacity *cap). */
static int
grow(Sym *s, void *vp, size_t *cap, size_t need, size_t elem)
{
	void **v = vp;
	size_t n;
	void *nv;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	nv = realloc(*v, n * elem);
	if (nv == NULL)
		return fail(s, "out of memory");
	*v = nv;
	*cap = n;
	return 0;
}

static uint64_t
hashbytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* The one copy of the n bytes at p (a NUL is added); NULL when out of memory. */
static const char *
internn(Sym *s, const char *p, size_t n)
{
	size_t i, mask;
	char **old, *c;
	size_t aold;

	if (2 * (s->nstr + 1) > s->astr) {
		old = s->strs;
		aold = s->astr;
		s->astr = aold ? 2 * aold : 1024;
		s->strs = calloc(s->astr, sizeof *s->strs);
		if (s->strs == NULL) {
			s->strs = old;
			s->astr = aold;
			fail(s, "out of memory");
			return NULL;
		}
		mask = s->astr - 1;
		for (i = 0; i < aold; i++) {
			size_t j;

			if (old[i] == NULL)
				continue;
			j = hashbytes(old[i], strlen(old[i])) & mask;
			while (s->strs[j] != NULL)
				j = (j + 1) & mask;
			s->strs[j] = old[i];
		}
		free(old);
	}
	mask = s->astr - 1;
	for (i = hashbytes(p, n) & mask; s->strs[i] != NULL; i = (i + 1) & mask)
		if (strncmp(s->strs[i], p, n) == 0 && s->strs[i][n] == '\0')
			return s->strs[i];
	c = malloc(n + 1);
	if (c == NULL) {
		fail(s, "out of memory");
		return NULL;
	}
	memcpy(c, p, n);
	c[n] = '\0';
	s->strs[i] = c;
	s->nstr++;
	return c;
}

static const char *
intern(Sym *s, const char *str)
{
	return internn(s, str, strlen(str));
}

/* ---- modules and files ---------------------------------------------------- */

/* The file of (path, build-id), added unopened if new; -1 when out of memory. */
static int
findfile(Sym *s, const char *path, const void *bid, int bidlen, size_t *idx)
{
	const char *ipath, *ibid;
	SymFile *f;
	size_t i;

	ipath = intern(s, path);
	if (ipath == NULL)
		return -1;
	ibid = NULL;
	if (bidlen > 0) {
		char hex[2 * 64 + 1];
		int k;

		if (bidlen > 64)
			bidlen = 64;
		for (k = 0; k < bidlen; k++)
			snprintf(hex + 2 * k, 3, "%02x", ((const unsigned char *)bid)[k]);
		ibid = intern(s, hex);
		if (ibid == NULL)
			return -1;
	}
	for (i = 0; i < s->nfile; i++)
		if (s->files[i].path == ipath && s->files[i].bid == ibid) {
			*idx = i;
			return 0;
		}
	if (grow(s, &s->files, &s->afile, s->nfile + 1, sizeof *s->files) < 0)
		return -1;
	f = &s->files[s->nfile];
	memset(f, 0, sizeof *f);
	f->path = ipath;
	f->bid = ibid;
	f->bidlen = ibid ? bidlen : 0;
	f->state = FILE_UNOPENED;
	*idx = s->nfile++;
	return 0;
}

static int
modcmp(const void *a, const void *b)
{
	const SymMod *x = a, *y = b;

	if (x->process != y->process)
		return x->process < y->process ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static int
loadmods(Sym *s)
{
	static const char q[] =
	    "SELECT id, process, path, buildid, base, lo, hi, loaded FROM modules";
	sqlite3_stmt *st;
	SymMod *m;
	const char *path;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "reading modules");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow(s, &s->mods, &s->amod, s->nmod + 1, sizeof *s->mods) < 0)
			goto out;
		m = &s->mods[s->nmod];
		m->id = sqlite3_column_int64(st, 0);
		m->process = sqlite3_column_int64(st, 1);
		path = (const char *)sqlite3_column_text(st, 2);
		m->base = (uint64_t)sqlite3_column_int64(st, 4);
		m->lo = (uint64_t)sqlite3_column_int64(st, 5);
		m->hi = (uint64_t)sqlite3_column_int64(st, 6);
		m->loaded = sqlite3_column_int64(st, 7);
		if (findfile(s, path ? path : "", sqlite3_column_blob(st, 3),
		    sqlite3_column_bytes(st, 3), &m->file) < 0)
			goto out;
		s->nmod++;
	}
	if (rc != SQLITE_DONE) {
		dbfail(s, "reading modules");
		goto out;
	}
	sqlite3_finalize(st);
	qsort(s->mods, s->nmod, sizeof *s->mods, modcmp);
	for (i = 0; i < s->nmod; i++) {
		m = &s->mods[i];
		m->maxhi = m->hi;
		if (i > 0 && m[-1].process == m->process && m[-1].maxhi > m->maxhi)
			m->maxhi = m[-1].maxhi;
	}
	return 0;
out:
	sqlite3_finalize(st);
	return -1;
}

/*
 * The module of process that held pc, or NULL.  Several may have over the
 * run (one unloaded, another loaded over it); a frame carries no time, so
 * the one loaded last wins.
 */
static SymMod *
findmod(Sym *s, int64_t process, uint64_t pc)
{
	size_t lo, hi, mid;
	SymMod *m, *best;

	/* the first module past (process, pc) */
	lo = 0;
	hi = s->nmod;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		m = &s->mods[mid];
		if (m->process < process || (m->process == process && m->lo <= pc))
			lo = mid + 1;
		else
			hi = mid;
	}
	best = NULL;
	while (lo-- > 0) {
		m = &s->mods[lo];
		if (m->process != process || m->maxhi <= pc)
			break;
		if (pc >= m->lo && pc < m->hi)
			if (best == NULL || m->loaded > best->loaded ||
			    (m->loaded == best->loaded && m->id > best->id))
				best = m;
	}
	return best;
}

static const Dwfl_Callbacks dwflcb = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = NULL,	/* the default: beside the file, .debug/, /usr/lib/debug */
};

/* Report the file at path alone in a new session; 0 if it opened and its build-id matches. */
static int
tryopen(SymFile *f, const char *path)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	Dwarf_Addr bias;
	char hex[2 * 64 + 1];
	int n, k;

	f->dwfl = dwfl_begin(&dwflcb);
	if (f->dwfl == NULL)
		return -1;
	dwfl_report_begin(f->dwfl);
	f->mod = dwfl_report_elf(f->dwfl, f->path, path, -1, 0, true);
	dwfl_report_end(f->dwfl, NULL, NULL);
	if (f->mod == NULL)
		goto bad;
	if (f->bid != NULL) {
		if (dwfl_module_getelf(f->mod, &bias) == NULL)
			goto bad;
		n = dwfl_module_build_id(f->mod, &bits, &vaddr);
		if (n != f->bidlen)
			goto bad;
		for (k = 0; k < n; k++)
			snprintf(hex + 2 * k, 3, "%02x", bits[k]);
		if (strcmp(hex, f->bid) != 0)
			goto bad;
	}
	return 0;
bad:
	dwfl_end(f->dwfl);
	f->dwfl = NULL;
	f->mod = NULL;
	return -1;
}

/*
 * Open f once.  The recorded path first; if it is gone or was rebuilt, the
 * debug file of the recorded build-id, which holds the same addresses.
 * Names that are not absolute paths ("[vdso]", "linux-vdso.so.1") are not
 * files.
 */
static void
openfile(SymFile *f)
{
	char dbg[200];

	f->state = FILE_BAD;
	if (f->path[0] == '/' && tryopen(f, f->path) == 0) {
		f->state = FILE_OPEN;
		return;
	}
	if (f->bid != NULL && strlen(f->bid) > 2) {
		snprintf(dbg, sizeof dbg, "/usr/lib/debug/.build-id/%.2s/%s.debug",
		    f->bid, f->bid + 2);
		if (tryopen(f, dbg) == 0)
			f->state = FILE_OPEN;
	}
}

/* ---- one address ------------------------------------------------------------ */

/*
 * Drop "." components and doubled slashes from the path in buf, in place.
 * ".." stays: without the tree at hand, dir/.. is not known to be nothing.
 */
static void
tidypath(char *buf)
{
	char *r, *w;

	r = w = buf;
	while (*r != '\0') {
		if (r[0] == '/' && r[1] == '/')
			r++;
		else if ((r == buf || r[-1] == '/') && r[0] == '.' && r[1] == '/')
			r += 2;
		else if (r != buf && r[0] == '/' && r[1] == '.' && r[2] == '\0')
			r += 2;
		else
			*w++ = *r++;
	}
	*w = '\0';
	if (buf[0] == '\0')
		strcpy(buf, ".");
}

/* A source file name, joined with the compilation directory when relative. */
static const char *
srcname(Sym *s, Dwarf_Die *cu, const char *name)
{
	Dwarf_Attribute a;
	const char *dir;
	char buf[4096];
	int n;

	if (name == NULL)
		return NULL;
	dir = NULL;
	if (name[0] != '/')
		dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
	if (dir != NULL && dir[0] != '\0')
		n = snprintf(buf, sizeof buf, "%s/%s", dir, name);
	else
		n = snprintf(buf, sizeof buf, "%s", name);
	if (n < 0 || (size_t)n >= sizeof buf)
		return intern(s, name);
	tidypath(buf);
	return intern(s, buf);
}

/* A symbol's name as a person reads it: C++ demangled, the rest as is. */
static const char *
demangle(Sym *s, const char *name)
{
	const char *r;
	char *d;
	int status;

	if (name == NULL)
		return NULL;
	if (name[0] == '_' && name[1] == 'Z') {
		d = __cxa_demangle(name, NULL, NULL, &status);
		if (d != NULL && status == 0) {
			r = intern(s, d);
			free(d);
			return r;
		}
		free(d);
	}
	return intern(s, name);
}

static int
symcmp(const void *a, const void *b)
{
	const SymSym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* the best name of an address first: code, global, then sized */
	if (x->code != y->code)
		return y->code - x->code;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	return (y->size != 0) - (x->size != 0);
}

/*
 * Read f's symbols into an array sorted by address, once.  libdw's
 * dwfl_module_addrinfo scans the whole table on every call, which is what
 * a library without DWARF would cost per pc.  Data symbols are kept too:
 * they bound the sizeless symbols of hand-written assembly, which end at
 * the next symbol or the end of their section, whichever comes first.
 */
static int
readsyms(Sym *s, SymFile *f)
{
	GElf_Sym sym;
	GElf_Shdr sh;
	GElf_Addr addr;
	GElf_Word shndx;
	Dwarf_Addr bias;
	Elf *elf;
	SymSym *y;
	const char *name;
	uint64_t end;
	size_t asym, j, k;
	int i, n, type, bind;

	f->symsread = 1;
	asym = 0;
	n = dwfl_module_getsymtab(f->mod);
	for (i = 1; i < n; i++) {
		name = dwfl_module_getsym_info(f->mod, i, &sym, &addr, &shndx, &elf, &bias);
		type = GELF_ST_TYPE(sym.st_info);
		bind = GELF_ST_BIND(sym.st_info);
		if (name == NULL || name[0] == '\0' || shndx == SHN_UNDEF || addr == 0 ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE &&
		    type != STT_OBJECT))
			continue;
		if (grow(s, &f->syms, &asym, f->nsym + 1, sizeof *f->syms) < 0)
			return -1;
		y = &f->syms[f->nsym++];
		y->addr = addr;
		y->size = sym.st_size;
		y->name = name;
		y->rank = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;
		y->code = type != STT_OBJECT;
		y->sizeless = y->size == 0;
		/* a sizeless symbol ends with its section at the latest */
		if (y->sizeless && elf != NULL && shndx < SHN_LORESERVE &&
		    gelf_getshdr(elf_getscn(elf, shndx), &sh) != NULL &&
		    (sh.sh_flags & SHF_ALLOC) && sh.sh_addr + sh.sh_size + bias > addr)
			y->size = sh.sh_addr + sh.sh_size + bias - addr;
		else if (y->sizeless)
			y->size = UINT64_MAX - addr;
	}
	qsort(f->syms, f->nsym, sizeof *f->syms, symcmp);
	/* ... and at the next symbol */
	for (j = 0; j < f->nsym; j = k) {
		for (k = j + 1; k < f->nsym && f->syms[k].addr == f->syms[j].addr; k++)
			;
		if (k == f->nsym)
			break;
		end = f->syms[k].addr;
		for (; j < k; j++) {
			y = &f->syms[j];
			if (y->sizeless && y->size > end - y->addr)
				y->size = end - y->addr;
		}
	}
	return 0;
}

/* The name of the function or code label of f's symbol table holding addr, or NULL. */
static const char *
symname(SymFile *f, uint64_t addr)
{
	size_t lo, hi, mid, i, k;
	SymSym *y;

	lo = 0;
	hi = f->nsym;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * syms[lo - 1] starts closest below addr.  Go back to the first
	 * (best) symbol of that address; if it is data or ends before addr,
	 * a few earlier, larger functions may still hold addr.
	 */
	for (k = 0, i = lo; i > 0 && k < 16; k++) {
		i--;
		while (i > 0 && f->syms[i - 1].addr == f->syms[i].addr)
			i--;
		y = &f->syms[i];
		if (y->code && addr - y->addr < y->size)
			return y->name;
	}
	return NULL;
}

/* The name of a subprogram or inlined subroutine DIE: the linkage name demangled, else DW_AT_name. */
static const char *
diename(Sym *s, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n;

	n = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) != NULL ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a) != NULL)
		n = dwarf_formstring(&a);
	if (n != NULL && n[0] == '_' && n[1] == 'Z')
		return demangle(s, n);
	n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return n ? intern(s, n) : NULL;
}

static int
udata(Dwarf_Die *die, unsigned int name, Dwarf_Word *w)
{
	Dwarf_Attribute a;

	return dwarf_formudata(dwarf_attr(die, name, &a), w);
}

/* Where the inlined subroutine die was called from: its DW_AT_call_* into r. */
static void
callsite(Sym *s, Dwarf_Die *die, SymRow *r)
{
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;
	Dwarf_Word w;

	if (udata(die, DW_AT_call_line, &w) == 0 && w <= INT_MAX)
		r->line = (int)w;
	if (udata(die, DW_AT_call_column, &w) == 0 && w <= INT_MAX)
		r->column = (int)w;
	if (udata(die, DW_AT_call_file, &w) == 0 &&
	    dwarf_diecu(die, &cu, NULL, NULL) != NULL &&
	    dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && w < nfiles)
		r->file = srcname(s, &cu, dwarf_filesrc(files, w, NULL, NULL));
}

static SymRow *
newrow(Sym *s)
{
	SymRow *r;

	if (grow(s, &s->rows, &s->arow, s->nrow + 1, sizeof *s->rows) < 0)
		return NULL;
	r = &s->rows[s->nrow++];
	memset(r, 0, sizeof *r);
	return r;
}

/* DIEs whose children cannot hold code: the CU walk does not enter them. */
static int
leaftag(int tag)
{
	switch (tag) {
	case DW_TAG_formal_parameter:
	case DW_TAG_variable:
	case DW_TAG_member:
	case DW_TAG_enumeration_type:
	case DW_TAG_subroutine_type:
	case DW_TAG_array_type:
	case DW_TAG_call_site:
	case DW_TAG_GNU_call_site:
	case DW_TAG_template_type_parameter:
	case DW_TAG_template_value_parameter:
		return 1;
	}
	return 0;
}

/* Record the ranges of die as a scope of c; *idx its index, -1 if it has no code. */
static int
addscope(Sym *s, SymCu *c, Dwarf_Die *die, long parent, int depth, long *idx)
{
	Dwarf_Addr base, start, end;
	ptrdiff_t off;
	SymRange *r;
	size_t n;

	*idx = -1;
	n = 0;
	off = 0;
	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		if (start >= end)
			continue;
		if (grow(s, &c->ranges, &c->arange, c->nrange + 1, sizeof *c->ranges) < 0)
			return -1;
		r = &c->ranges[c->nrange++];
		r->lo = start;
		r->hi = end;
		r->scope = c->nscope;
		r->depth = depth;
		n++;
	}
	if (n == 0)
		return 0;
	if (grow(s, &c->scopes, &c->ascope, c->nscope + 1, sizeof *c->scopes) < 0)
		return -1;
	c->scopes[c->nscope].die = *die;
	c->scopes[c->nscope].parent = parent;
	*idx = (long)c->nscope++;
	return 0;
}

/* Index every function and inlined call under die; parent is the scope they sit in. */
static int
walkcu(Sym *s, SymCu *c, Dwarf_Die *die, long parent, int depth)
{
	Dwarf_Die child;
	long idx, p;
	int tag, d;

	if (dwarf_child(die, &child) != 0)
		return 0;
	do {
		tag = dwarf_tag(&child);
		p = parent;
		d = depth;
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			/* a nested function is a function of its own */
			if (tag == DW_TAG_subprogram) {
				p = -1;
				d = 0;
			}
			if (addscope(s, c, &child, p, d, &idx) < 0)
				return -1;
			if (idx >= 0) {
				p = idx;
				d++;
			}
		}
		if (!leaftag(tag) && dwarf_haschildren(&child) > 0 &&
		    walkcu(s, c, &child, p, d) < 0)
			return -1;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int
rangecmp(const void *a, const void *b)
{
	const SymRange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth - y->depth;
	/* aliases (assembler files name one code twice): the first DIE last, so it wins */
	return (x->scope < y->scope) - (x->scope > y->scope);
}

static size_t
cuslot(size_t file, Dwarf_Off off, size_t mask)
{
	uint64_t k = off;

	return (hashbytes(&k, sizeof k) ^ file) & mask;
}

/* The index of f's CU at DIE cu, walked now if new; NULL when out of memory. */
static SymCu *
getcu(Sym *s, size_t file, Dwarf_Die *cu)
{
	Dwarf_Off off;
	SymCu *c;
	size_t i, mask, aold, *old;

	off = dwarf_dieoffset(cu);
	if (2 * (s->ncu + 1) > s->acuhash) {
		old = s->cuhash;
		aold = s->acuhash;
		s->acuhash = aold ? 2 * aold : 256;
		s->cuhash = calloc(s->acuhash, sizeof *s->cuhash);
		if (s->cuhash == NULL) {
			s->cuhash = old;
			s->acuhash = aold;
			fail(s, "out of memory");
			return NULL;
		}
		mask = s->acuhash - 1;
		for (i = 0; i < aold; i++) {
			size_t j;

			if (old[i] == 0)
				continue;
			c = &s->cus[old[i] - 1];
			for (j = cuslot(c->file, c->off, mask); s->cuhash[j] != 0; j = (j + 1) & mask)
				;
			s->cuhash[j] = old[i];
		}
		free(old);
	}
	mask = s->acuhash - 1;
	for (i = cuslot(file, off, mask); s->cuhash[i] != 0; i = (i + 1) & mask) {
		c = &s->cus[s->cuhash[i] - 1];
		if (c->file == file && c->off == off)
			return c;
	}
	if (grow(s, &s->cus, &s->acu, s->ncu + 1, sizeof *s->cus) < 0)
		return NULL;
	c = &s->cus[s->ncu];
	memset(c, 0, sizeof *c);
	c->file = file;
	c->off = off;
	s->ncu++;
	s->cuhash[i] = s->ncu;
	if (walkcu(s, c, cu, -1, 0) < 0)
		return NULL;
	qsort(c->ranges, c->nrange, sizeof *c->ranges, rangecmp);
	for (i = 0; i < c->nrange; i++) {
		c->ranges[i].maxhi = c->ranges[i].hi;
		if (i > 0 && c->ranges[i - 1].maxhi > c->ranges[i].maxhi)
			c->ranges[i].maxhi = c->ranges[i - 1].maxhi;
	}
	return c;
}

/*
 * The innermost scope of c holding pc, or -1.  Scopes nest, so of the
 * ranges holding pc the one starting last is the innermost (the deeper
 * one on a tie, which sorts later; of equals, the first DIE).
 */
static long
innermost(SymCu *c, uint64_t pc)
{
	size_t lo, hi, mid;
	SymRange *r;

	lo = 0;
	hi = c->nrange;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->ranges[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo-- > 0) {
		r = &c->ranges[lo];
		if (r->maxhi <= pc)
			break;
		if (pc < r->hi)
			return (long)r->scope;
	}
	return -1;
}

static int
curcmp(const void *a, const void *b)
{
	const SymCuRange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/*
 * The CU of f holding addr when libdw finds none: it looks CUs up through
 * .debug_aranges only, which clang does not emit by default.  The CUs'
 * own ranges are read once into a sorted array.  NULL if none holds addr.
 */
static Dwarf_Die *
cuofaddr(Sym *s, SymFile *f, uint64_t addr, Dwarf_Addr *bias)
{
	Dwarf_Addr base, start, end;
	Dwarf_Die *cu;
	ptrdiff_t off;
	size_t lo, hi, mid, acur;

	if (!f->curread) {
		f->curread = 1;
		acur = 0;
		cu = NULL;
		while ((cu = dwfl_module_nextcu(f->mod, cu, &f->curbias)) != NULL) {
			off = 0;
			while ((off = dwarf_ranges(cu, off, &base, &start, &end)) > 0) {
				if (start >= end)
					continue;
				if (grow(s, &f->cur, &acur, f->ncur + 1, sizeof *f->cur) < 0)
					return NULL;
				f->cur[f->ncur].lo = start;
				f->cur[f->ncur].hi = end;
				f->cur[f->ncur].cu = *cu;
				f->ncur++;
			}
		}
		qsort(f->cur, f->ncur, sizeof *f->cur, curcmp);
	}
	addr -= f->curbias;
	lo = 0;
	hi = f->ncur;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->cur[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* CUs do not overlap: the last one starting at or below addr, if it reaches it */
	if (lo == 0 || addr >= f->cur[lo - 1].hi)
		return NULL;
	*bias = f->curbias;
	return &f->cur[lo - 1].cu;
}

/*
 * Append the chain of address addr (a call instruction's byte) of file
 * s->files[file] to s->rows: from the DWARF scopes when there are some,
 * else one row named from the ELF symbol table.  Always appends at least
 * one row.
 */
static int
resolve(Sym *s, size_t file, uint64_t addr)
{
	SymFile *f = &s->files[file];
	Dwarf_Die *cu;
	Dwarf_Addr bias;
	Dwarf_Line *line;
	SymScope *sc;
	SymRow *r, here;
	SymCu *c;
	size_t start;
	long k;
	int v;

	start = s->nrow;
	memset(&here, 0, sizeof here);
	cu = dwfl_module_addrdie(f->mod, addr, &bias);
	if (cu == NULL)
		cu = cuofaddr(s, f, addr, &bias);
	if (cu != NULL) {
		/* the line table gives the innermost depth's place */
		line = dwarf_getsrc_die(cu, addr - bias);
		if (line != NULL) {
			here.file = srcname(s, cu, dwarf_linesrc(line, NULL, NULL));
			if (dwarf_lineno(line, &v) == 0 && v > 0)
				here.line = v;
			if (dwarf_linecol(line, &v) == 0 && v > 0)
				here.column = v;
		}
		if ((c = getcu(s, file, cu)) == NULL)
			return -1;
		/* outward from the innermost inlined call to the function */
		for (k = innermost(c, addr - bias); k >= 0; k = sc->parent) {
			sc = &c->scopes[k];
			if ((r = newrow(s)) == NULL)
				return -1;
			*r = here;
			r->function = diename(s, &sc->die);
			/* the next depth out is placed at this one's call site */
			memset(&here, 0, sizeof here);
			if (sc->parent >= 0)
				callsite(s, &sc->die, &here);
		}
	}
	if (s->nrow == start) {
		if ((r = newrow(s)) == NULL)
			return -1;
		*r = here;
	}
	/* the out-of-line function: no DWARF name, take the symbol table's */
	r = &s->rows[s->nrow - 1];
	if (r->function == NULL) {
		if (!f->symsread && readsyms(s, f) < 0)
			return -1;
		r->function = demangle(s, symname(f, addr));
	}
	return 0;
}

/* The cached chain of (file, addr), resolved now if new; NULL if out of memory. */
static SymHit *
lookup(Sym *s, size_t file, uint64_t addr)
{
	SymHit *h, *old;
	size_t i, mask, aold;

	if (2 * (s->nhit + 1) > s->ahit) {
		old = s->hits;
		aold = s->ahit;
		s->ahit = aold ? 2 * aold : 4096;
		s->hits = calloc(s->ahit, sizeof *s->hits);
		if (s->hits == NULL) {
			s->hits = old;
			s->ahit = aold;
			fail(s, "out of memory");
			return NULL;
		}
		mask = s->ahit - 1;
		for (i = 0; i < aold; i++) {
			size_t j;

			if (old[i].file == 0)
				continue;
			j = hashbytes(&old[i].addr, sizeof old[i].addr) ^ old[i].file;
			for (j &= mask; s->hits[j].file != 0; j = (j + 1) & mask)
				;
			s->hits[j] = old[i];
		}
		free(old);
	}
	mask = s->ahit - 1;
	i = (hashbytes(&addr, sizeof addr) ^ (file + 1)) & mask;
	for (; s->hits[i].file != 0; i = (i + 1) & mask)
		if (s->hits[i].file == file + 1 && s->hits[i].addr == addr)
			return &s->hits[i];
	h = &s->hits[i];
	h->first = s->nrow;
	if (resolve(s, file, addr - 1) < 0)
		return NULL;
	h->file = file + 1;
	h->addr = addr;
	h->nrow = s->nrow - h->first;
	s->nhit++;
	return h;
}

/* ---- the tables -------------------------------------------------------------- */

static int
loadpcs(Sym *s)
{
	static const char q[] =
	    "SELECT DISTINCT process, pc FROM frames AS f WHERE NOT EXISTS"
	    " (SELECT 1 FROM locations AS l WHERE l.process = f.process AND l.pc = f.pc)"
	    " ORDER BY process, pc";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return dbfail(s, "reading frames");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow(s, &s->pcs, &s->apc, s->npc + 1, sizeof *s->pcs) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		s->pcs[s->npc].process = sqlite3_column_int64(st, 0);
		s->pcs[s->npc].pc = (uint64_t)sqlite3_column_int64(st, 1);
		s->npc++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dbfail(s, "reading frames");
	return 0;
}

static void
bindtext(sqlite3_stmt *st, int col, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static void
bindint(sqlite3_stmt *st, int col, int v)
{
	if (v > 0)
		sqlite3_bind_int(st, col, v);
	else
		sqlite3_bind_null(st, col);
}

/* Insert one row of locations; m NULL when no module held pc. */
static int
putrow(Sym *s, const SymPc *p, int depth, const SymRow *r, const SymMod *m)
{
	sqlite3_stmt *st = s->ins;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, p->process);
	sqlite3_bind_int64(st, 2, (int64_t)p->pc);
	sqlite3_bind_int(st, 3, depth);
	bindtext(st, 4, r ? r->function : NULL);
	bindtext(st, 5, r ? r->file : NULL);
	bindint(st, 6, r ? r->line : 0);
	bindint(st, 7, r ? r->column : 0);
	if (m != NULL) {
		sqlite3_bind_int64(st, 8, m->id);
		sqlite3_bind_int64(st, 9, (int64_t)(p->pc - m->base));
	} else {
		sqlite3_bind_null(st, 8);
		sqlite3_bind_null(st, 9);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		return dbfail(s, "writing locations");
	return 0;
}

static int
resolveall(Sym *s)
{
	static const char ins[] =
	    "INSERT INTO locations(process, pc, depth, function, file, line,"
	    " \"column\", module, \"offset\") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	static const char meta[] =
	    "INSERT OR REPLACE INTO meta(key, value) VALUES ('symbolized', 'yes')";
	const SymPc *p;
	SymMod *m;
	SymFile *f;
	SymHit *h;
	size_t i, k, first, nrow;

	if (sqlite3_prepare_v2(s->db, ins, -1, &s->ins, NULL) != SQLITE_OK)
		return dbfail(s, "writing locations");
	for (i = 0; i < s->npc; i++) {
		p = &s->pcs[i];
		m = p->pc != 0 ? findmod(s, p->process, p->pc) : NULL;
		f = m ? &s->files[m->file] : NULL;
		if (f != NULL && f->state == FILE_UNOPENED)
			openfile(f);
		if (f == NULL || f->state != FILE_OPEN) {
			if (putrow(s, p, 0, NULL, m) < 0)
				return -1;
			continue;
		}
		h = lookup(s, m->file, p->pc - m->base);
		if (h == NULL)
			return -1;
		first = h->first;	/* h moves when the table grows; its rows do not */
		nrow = h->nrow;
		for (k = 0; k < nrow; k++)
			if (putrow(s, p, (int)k, &s->rows[first + k], m) < 0)
				return -1;
	}
	if (sqlite3_exec(s->db, meta, NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(s, "writing meta");
	return 0;
}

static void
freeall(Sym *s)
{
	size_t i;

	sqlite3_finalize(s->ins);
	for (i = 0; i < s->nfile; i++) {
		if (s->files[i].dwfl != NULL)
			dwfl_end(s->files[i].dwfl);
		free(s->files[i].syms);
		free(s->files[i].cur);
	}
	for (i = 0; i < s->astr; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s->files);
	free(s->mods);
	free(s->pcs);
	free(s->rows);
	free(s->hits);
	for (i = 0; i < s->ncu; i++) {
		free(s->cus[i].scopes);
		free(s->cus[i].ranges);
	}
	free(s->cus);
	free(s->cuhash);
}

int
sym_resolve(sqlite3 *db, char *err, size_t errlen)
{
	Sym s;
	int rc;

	memset(&s, 0, sizeof s);
	s.db = db;
	s.err = err;
	s.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (sqlite3_exec(db, "SAVEPOINT sym_resolve", NULL, NULL, NULL) != SQLITE_OK)
		return dbfail(&s, "starting a transaction");
	rc = -1;
	if (loadmods(&s) < 0 || loadpcs(&s) < 0 || resolveall(&s) < 0)
		goto out;
	rc = s.npc > INT_MAX ? INT_MAX : (int)s.npc;
out:
	sqlite3_finalize(s.ins);
	s.ins = NULL;
	if (rc < 0)
		sqlite3_exec(db, "ROLLBACK TO sym_resolve", NULL, NULL, NULL);
	if (sqlite3_exec(db, "RELEASE sym_resolve", NULL, NULL, NULL) != SQLITE_OK &&
	    rc >= 0) {
		dbfail(&s, "committing locations");
		rc = -1;
	}
	freeall(&s);
	return rc;
}
