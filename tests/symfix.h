/*
 * tests/symfix.h -- the fixture library tests/sym dlopens: call sites whose
 * return addresses and lines it captures, for the symbolizer to find again.
 *
 * Test code only; the library is built apart from CFLAGS (see Makefile.am).
 */
#ifndef POOLDBG_SYMFIX_H
#define POOLDBG_SYMFIX_H

#include <stdint.h>

typedef struct SymfixSite SymfixSite;
struct SymfixSite {
	uintptr_t pc;	/* a return address: a pc inside the caller, after the call */
	int	line;	/* the line of that call */
};

/* symfix.c (-O0) */
/* Store the return address of this call and line into *s; never inlined. */
void	symfix_capture(SymfixSite *s, int line);
/* A plain call site: s gets a pc inside symfix_caller. */
int	symfix_caller(SymfixSite *s);
/* Named _ZN3foo3barEi, foo::bar(int) once demangled; stores its call site in symfix_mangled. */
int	foo_bar(int x) __asm__("_ZN3foo3barEi");
extern SymfixSite symfix_mangled;
extern volatile int symfix_sink;

/* symfix-inline.c (-O2) */
/*
 * An inline chain three deep: chain[0] gets the pc of a call in
 * symfix_inner, inlined into symfix_middle, inlined into
 * symfix_inline_outer, and the line of that call; chain[1].line the line
 * where symfix_middle calls symfix_inner; chain[2].line the line where
 * symfix_inline_outer calls symfix_middle.
 */
int	symfix_inline_outer(SymfixSite chain[3]);

/* symfix-nodebug.c (-O0, no DWARF) */
/* A call site only the symbol table can name: s gets a pc inside symfix_bare. */
int	symfix_bare(SymfixSite *s);
/* Named _ZN3foo3bazEv, foo::baz(); stores its call site in symfix_bare_site. */
int	foo_baz(void) __asm__("_ZN3foo3bazEv");
extern SymfixSite symfix_bare_site;

#endif /* POOLDBG_SYMFIX_H */
