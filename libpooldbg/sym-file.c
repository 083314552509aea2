/*
 * libpooldbg/sym-file.c -- the symbolizer's look-ups in one module file:
 * opening it (the recorded build-id checked, its debug file found through
 * /usr/lib/debug), and the inline chain of an address in it.
 *
 * Each file is one Dwfl session holding that file alone, reported at bias
 * 0, so an address is pc - base whatever base a process had.  Two indexes
 * are built at a file's first need and make each address a binary search:
 * its ELF symbols sorted by address (libdw's dwfl_module_addrinfo scans the
 * whole table per call), and per CU, the ranges of its functions and
 * inlined calls with their parents (dwarf_getscopes walks the whole CU per
 * call).  Strings go through a SymStrs, so a name is stored once.
 *
 * Owns: SymFile and SymStrs contents.  Never touches the trace (SQLite),
 * never trusts a file whose build-id differs from the one recorded (better
 * no name than a wrong one), and reports no error but out of memory: what
 * cannot be found is a NULL in the row.
 */
#include "config.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym-impl.h"

/* libstdc++'s demangler (cxxabi.h is C++ only). */
char	*__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct SymSym {		/* a symbol of a file's ELF symbol table */
	uint64_t addr;		/* in the file's address space */
	uint64_t size;		/* bytes it covers (see sizeless) */
	const char *name;	/* into the ELF string table, alive with the Dwfl */
	int	rank;		/* binding: 2 global, 1 weak, 0 local; the higher names an address */
	int	code;		/* a function or label that can name a pc (not data) */
	int	sizeless;	/* st_size was 0: it covers up to the next symbol or its section's end */
};

struct SymCuRange {	/* one address range of a CU, by its own DW_AT_ranges */
	uint64_t lo, hi;	/* [lo, hi), CU addresses (before the bias) */
	Dwarf_Die cu;
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

struct SymCu {		/* the functions of one CU, indexed at its first pc */
	Dwarf_Off off;		/* the CU DIE's offset */
	SymScope *scopes;
	size_t	nscope, ascope;
	SymRange *ranges;	/* sorted by (lo, depth) */
	size_t	nrange, arange;
};

/* Contract in sym-impl.h. */
int
sym_grow(void *vp, size_t *cap, size_t need, size_t elem)
{
	void **v = vp;
	size_t n;
	void *nv;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / elem)
		return -1;
	nv = realloc(*v, n * elem);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = n;
	return 0;
}

/* Contract in sym-impl.h. */
uint64_t
sym_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* Contract in sym-impl.h. */
const char *
symstrs_intern(SymStrs *t, const char *p, size_t n)
{
	size_t i, mask;
	char **old, *c;
	size_t aold;

	if (2 * (t->n + 1) > t->a) {
		old = t->v;
		aold = t->a;
		t->a = aold ? 2 * aold : 1024;
		t->v = calloc(t->a, sizeof *t->v);
		if (t->v == NULL) {
			t->v = old;
			t->a = aold;
			t->nomem = 1;
			return NULL;
		}
		mask = t->a - 1;
		for (i = 0; i < aold; i++) {
			size_t j;

			if (old[i] == NULL)
				continue;
			j = sym_hash(old[i], strlen(old[i])) & mask;
			while (t->v[j] != NULL)
				j = (j + 1) & mask;
			t->v[j] = old[i];
		}
		free(old);
	}
	mask = t->a - 1;
	for (i = sym_hash(p, n) & mask; t->v[i] != NULL; i = (i + 1) & mask)
		if (strncmp(t->v[i], p, n) == 0 && t->v[i][n] == '\0')
			return t->v[i];
	c = malloc(n + 1);
	if (c == NULL) {
		t->nomem = 1;
		return NULL;
	}
	memcpy(c, p, n);
	c[n] = '\0';
	t->v[i] = c;
	t->n++;
	return c;
}

/* Contract in sym-impl.h. */
void
symstrs_free(SymStrs *t)
{
	size_t i;

	for (i = 0; i < t->a; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof *t);
}

static const char *
intern(SymStrs *t, const char *str)
{
	return symstrs_intern(t, str, strlen(str));
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
		if (n <= 0 || 2 * (size_t)n != strlen(f->bid) || n > 64)
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
 * Contract in sym-impl.h.  The debug file of a build-id holds the same
 * addresses as the file.  Names that are not absolute paths ("[vdso]",
 * "linux-vdso.so.1") are not files.
 */
void
symfile_open(SymFile *f)
{
	char dbg[200];

	if (f->state != SYMFILE_UNOPENED)
		return;
	f->state = SYMFILE_BAD;
	if (f->path[0] == '/' && tryopen(f, f->path) == 0) {
		f->state = SYMFILE_OPEN;
		return;
	}
	if (f->bid != NULL && strlen(f->bid) > 2) {
		snprintf(dbg, sizeof dbg, "/usr/lib/debug/.build-id/%.2s/%s.debug",
		    f->bid, f->bid + 2);
		if (tryopen(f, dbg) == 0)
			f->state = SYMFILE_OPEN;
	}
}

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

/*
 * A source file name, joined with the compilation directory when relative.
 * DWARF 5 line tables name the compilation directory as directory 0, and
 * libdw has already put it in front: a relative compilation directory
 * (Debian builds with "./libio") then shows as the name's own first
 * components, and joining it again would double it.
 */
static const char *
srcname(SymStrs *strs, Dwarf_Die *cu, const char *name)
{
	Dwarf_Attribute a;
	const char *dir;
	char buf[4096], tdir[1024], tname[4096];
	size_t dl;
	int n;

	if (name == NULL)
		return NULL;
	dir = NULL;
	if (name[0] != '/')
		dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
	if (dir != NULL && dir[0] != '/' && strlen(dir) < sizeof tdir &&
	    strlen(name) < sizeof tname) {
		strcpy(tdir, dir);
		tidypath(tdir);
		strcpy(tname, name);
		tidypath(tname);
		dl = strlen(tdir);
		if (strcmp(tdir, ".") != 0 && strncmp(tname, tdir, dl) == 0 && tname[dl] == '/')
			dir = NULL;
	}
	if (dir != NULL && dir[0] != '\0')
		n = snprintf(buf, sizeof buf, "%s/%s", dir, name);
	else
		n = snprintf(buf, sizeof buf, "%s", name);
	if (n < 0 || (size_t)n >= sizeof buf)
		return intern(strs, name);
	tidypath(buf);
	return intern(strs, buf);
}

/* A symbol's name as a person reads it: C++ demangled, the rest as is. */
static const char *
demangle(SymStrs *strs, const char *name)
{
	const char *r;
	char *d;
	int status;

	if (name == NULL)
		return NULL;
	if (name[0] == '_' && name[1] == 'Z') {
		d = __cxa_demangle(name, NULL, NULL, &status);
		if (d != NULL && status == 0) {
			r = intern(strs, d);
			free(d);
			return r;
		}
		free(d);
	}
	return intern(strs, name);
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
readsyms(SymFile *f)
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
		if (sym_grow(&f->syms, &asym, f->nsym + 1, sizeof *f->syms) < 0)
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
diename(SymStrs *strs, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n;

	n = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) != NULL ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a) != NULL)
		n = dwarf_formstring(&a);
	if (n != NULL && n[0] == '_' && n[1] == 'Z')
		return demangle(strs, n);
	n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return n ? intern(strs, n) : NULL;
}

static int
udata(Dwarf_Die *die, unsigned int name, Dwarf_Word *w)
{
	Dwarf_Attribute a;

	return dwarf_formudata(dwarf_attr(die, name, &a), w);
}

/* Where the inlined subroutine die was called from: its DW_AT_call_* into r. */
static void
callsite(SymStrs *strs, Dwarf_Die *die, SymRow *r)
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
		r->file = srcname(strs, &cu, dwarf_filesrc(files, w, NULL, NULL));
}

static SymRow *
newrow(SymRows *rows)
{
	SymRow *r;

	if (sym_grow(&rows->v, &rows->a, rows->n + 1, sizeof *rows->v) < 0)
		return NULL;
	r = &rows->v[rows->n++];
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
addscope(SymCu *c, Dwarf_Die *die, long parent, int depth, long *idx)
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
		if (sym_grow(&c->ranges, &c->arange, c->nrange + 1, sizeof *c->ranges) < 0)
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
	if (sym_grow(&c->scopes, &c->ascope, c->nscope + 1, sizeof *c->scopes) < 0)
		return -1;
	c->scopes[c->nscope].die = *die;
	c->scopes[c->nscope].parent = parent;
	*idx = (long)c->nscope++;
	return 0;
}

/* Index every function and inlined call under die; parent is the scope they sit in. */
static int
walkcu(SymCu *c, Dwarf_Die *die, long parent, int depth)
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
			if (addscope(c, &child, p, d, &idx) < 0)
				return -1;
			if (idx >= 0) {
				p = idx;
				d++;
			}
		}
		if (!leaftag(tag) && dwarf_haschildren(&child) > 0 &&
		    walkcu(c, &child, p, d) < 0)
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
cuslot(Dwarf_Off off, size_t mask)
{
	uint64_t k = off;

	return sym_hash(&k, sizeof k) & mask;
}

/* The index of f's CU at DIE cu, walked now if new; NULL when out of memory. */
static SymCu *
getcu(SymFile *f, Dwarf_Die *cu)
{
	Dwarf_Off off;
	SymCu *c;
	size_t i, mask, aold, *old;

	off = dwarf_dieoffset(cu);
	if (2 * (f->ncu + 1) > f->acuhash) {
		old = f->cuhash;
		aold = f->acuhash;
		f->acuhash = aold ? 2 * aold : 256;
		f->cuhash = calloc(f->acuhash, sizeof *f->cuhash);
		if (f->cuhash == NULL) {
			f->cuhash = old;
			f->acuhash = aold;
			return NULL;
		}
		mask = f->acuhash - 1;
		for (i = 0; i < aold; i++) {
			size_t j;

			if (old[i] == 0)
				continue;
			c = &f->cus[old[i] - 1];
			for (j = cuslot(c->off, mask); f->cuhash[j] != 0; j = (j + 1) & mask)
				;
			f->cuhash[j] = old[i];
		}
		free(old);
	}
	mask = f->acuhash - 1;
	for (i = cuslot(off, mask); f->cuhash[i] != 0; i = (i + 1) & mask) {
		c = &f->cus[f->cuhash[i] - 1];
		if (c->off == off)
			return c;
	}
	if (sym_grow(&f->cus, &f->acu, f->ncu + 1, sizeof *f->cus) < 0)
		return NULL;
	c = &f->cus[f->ncu];
	memset(c, 0, sizeof *c);
	c->off = off;
	f->ncu++;
	f->cuhash[i] = f->ncu;
	if (walkcu(c, cu, -1, 0) < 0)
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
cuofaddr(SymFile *f, uint64_t addr, Dwarf_Addr *bias, int *nomem)
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
				if (sym_grow(&f->cur, &acur, f->ncur + 1, sizeof *f->cur) < 0) {
					*nomem = 1;
					return NULL;
				}
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
 * Contract in sym-impl.h.  The chain comes from the DWARF scopes when there
 * are some, else it is one row named from the ELF symbol table.
 */
int
symfile_chain(SymFile *f, SymStrs *strs, uint64_t addr, SymRows *rows)
{
	Dwarf_Die *cu;
	Dwarf_Addr bias;
	Dwarf_Line *line;
	SymScope *sc;
	SymRow *r, here;
	SymCu *c;
	size_t start;
	long k;
	int v;

	start = rows->n;
	memset(&here, 0, sizeof here);
	cu = dwfl_module_addrdie(f->mod, addr, &bias);
	if (cu == NULL)
		cu = cuofaddr(f, addr, &bias, &strs->nomem);
	if (cu != NULL) {
		/* the line table gives the innermost depth's place */
		line = dwarf_getsrc_die(cu, addr - bias);
		if (line != NULL) {
			here.file = srcname(strs, cu, dwarf_linesrc(line, NULL, NULL));
			if (dwarf_lineno(line, &v) == 0 && v > 0)
				here.line = v;
			if (dwarf_linecol(line, &v) == 0 && v > 0)
				here.column = v;
		}
		if ((c = getcu(f, cu)) == NULL)
			return -1;
		/* outward from the innermost inlined call to the function */
		for (k = innermost(c, addr - bias); k >= 0; k = sc->parent) {
			sc = &c->scopes[k];
			if ((r = newrow(rows)) == NULL)
				return -1;
			*r = here;
			r->function = diename(strs, &sc->die);
			/* the next depth out is placed at this one's call site */
			memset(&here, 0, sizeof here);
			if (sc->parent >= 0)
				callsite(strs, &sc->die, &here);
		}
	}
	if (rows->n == start) {
		if ((r = newrow(rows)) == NULL)
			return -1;
		*r = here;
	}
	/* the out-of-line function: no DWARF name, take the symbol table's */
	r = &rows->v[rows->n - 1];
	if (r->function == NULL) {
		if (!f->symsread && readsyms(f) < 0)
			return -1;
		r->function = demangle(strs, symname(f, addr));
	}
	return 0;
}

/* Contract in sym-impl.h. */
void
symfile_close(SymFile *f)
{
	size_t i;

	if (f->dwfl != NULL)
		dwfl_end(f->dwfl);
	for (i = 0; i < f->ncu; i++) {
		free(f->cus[i].scopes);
		free(f->cus[i].ranges);
	}
	free(f->cus);
	free(f->cuhash);
	free(f->syms);
	free(f->cur);
	f->dwfl = NULL;
	f->mod = NULL;
	f->syms = NULL;
	f->cur = NULL;
	f->cus = NULL;
	f->cuhash = NULL;
	f->nsym = f->ncur = f->ncu = f->acu = f->acuhash = 0;
	f->symsread = f->curread = 0;
	f->state = SYMFILE_UNOPENED;
}
