/*
 * tests/symfix.c -- the -O0 half of the symbolizer's fixture library: plain
 * call sites and a symbol with a C++ mangled name.
 *
 * Test code only: every call a test looks up stays on one line with the
 * __LINE__ it reports.
 */
#include "symfix.h"

volatile int symfix_sink;
SymfixSite symfix_mangled;

/* Contract in symfix.h. */
__attribute__((noinline)) void
symfix_capture(SymfixSite *s, int line)
{
	s->pc = (uintptr_t)__builtin_return_address(0);
	s->line = line;
	symfix_sink++;
}

/* Contract in symfix.h. */
int
symfix_caller(SymfixSite *s)
{
	symfix_capture(s, __LINE__);
	return symfix_sink;
}

/* Contract in symfix.h. */
int
foo_bar(int x)
{
	symfix_capture(&symfix_mangled, __LINE__);
	return x + symfix_sink;
}
