/*
 * libpooldbg/sym-impl.h -- what the symbolizer's two files share:
 * sym-file.c looks addresses up in one module file, trace-sym.c drives it
 * from a trace's tables.  Internal to libsym; sym.h is the interface.
 *
 * Nothing here touches SQLite; nothing here may reach the preloaded runtime.
 */
#ifndef POOLDBG_SYM_IMPL_H
#define POOLDBG_SYM_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

typedef struct SymStrs SymStrs;	/* a set of interned strings */
struct SymStrs {
	char	**v;		/* open addressing; NULL marks an empty slot */
	size_t	n, a;
	int	nomem;		/* sticky: some look-up ran out of memory */
};

typedef struct SymRow SymRow;	/* one depth of an inline chain */
struct SymRow {
	const char *function;	/* interned, demangled; NULL if unknown */
	const char *file;	/* interned; NULL if unknown */
	int	line;		/* 0 = unknown */
	int	column;		/* 0 = unknown */
};

typedef struct SymRows SymRows;	/* chains, end to end */
struct SymRows {
	SymRow	*v;
	size_t	n, a;
};

typedef struct SymSym SymSym;		/* sym-file.c's: a symbol of the ELF symbol table */
typedef struct SymCuRange SymCuRange;	/* sym-file.c's: a CU's range, without .debug_aranges */
typedef struct SymCu SymCu;		/* sym-file.c's: the functions of one CU */

enum {	/* SymFile.state */
	SYMFILE_UNOPENED,
	SYMFILE_OPEN,
	SYMFILE_BAD,	/* missing, not ELF, another build-id, or not a file at all */
};

typedef struct SymFile SymFile;	/* one module file; zeroed, then path and bid set */
struct SymFile {
	const char *path;	/* as table modules gives it; the caller keeps it alive */
	const char *bid;	/* recorded build-id in lower-case hex, NULL if none */
	int	state;		/* SYMFILE_* */
	/* the rest is sym-file.c's */
	Dwfl	*dwfl;		/* a session holding this file alone, at bias 0 */
	Dwfl_Module *mod;
	SymSym	*syms;		/* its symbols by address, read at the first need */
	size_t	nsym;
	int	symsread;
	SymCuRange *cur;	/* its CUs by address, read at the first need */
	size_t	ncur;
	Dwarf_Addr curbias;
	int	curread;
	SymCu	*cus;		/* the CUs indexed so far */
	size_t	ncu, acu;
	size_t	*cuhash;	/* index in cus + 1 by CU offset; open addressing */
	size_t	acuhash;
};

/* sym-file.c */
/* Grow *vp (an array of elem-byte elements, *cap of them) to hold need; -1 if out of memory (array kept). */
int	sym_grow(void *vp, size_t *cap, size_t need, size_t elem);
/* FNV-1a of n bytes: for the symbolizer's hash tables. */
uint64_t sym_hash(const void *p, size_t n);
/* The one copy in t of the n bytes at p, NUL added; NULL if out of memory.  Lives until symstrs_free. */
const char *symstrs_intern(SymStrs *t, const char *p, size_t n);
/* Free every string of t and t's table. */
void	symstrs_free(SymStrs *t);
/*
 * Open f if not yet tried: the recorded path if it is absolute and has the
 * recorded build-id, else the /usr/lib/debug/.build-id file of that
 * build-id.  Sets f->state to SYMFILE_OPEN or SYMFILE_BAD.
 */
void	symfile_open(SymFile *f);
/*
 * Append to rows the inline chain at addr, an address of the open file f
 * (the pc - 1 of a return address, minus the module's base): innermost
 * first, at least one row.  Strings are interned in strs.  -1 only when
 * out of memory.
 */
int	symfile_chain(SymFile *f, SymStrs *strs, uint64_t addr, SymRows *rows);
/* Free what f holds (not path or bid); f can be opened again. */
void	symfile_close(SymFile *f);

#endif /* POOLDBG_SYM_IMPL_H */
