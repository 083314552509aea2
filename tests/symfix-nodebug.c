/*
 * tests/symfix-nodebug.c -- the part of the symbolizer's fixture library
 * built without debug information: its pcs can only be named from the ELF
 * symbol table, a C++ mangled one demangled.
 *
 * Test code only.
 */
#include "symfix.h"

SymfixSite symfix_bare_site;

/* Contract in symfix.h. */
int
symfix_bare(SymfixSite *s)
{
	symfix_capture(s, 0);
	return symfix_sink;
}

/* Contract in symfix.h. */
int
foo_baz(void)
{
	symfix_capture(&symfix_bare_site, 0);
	return symfix_sink;
}
