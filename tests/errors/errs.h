/*
 * tests/errors/errs.h -- what the heap-error corpus shares: functions the
 * compiler keeps as they are written, so that the stacks tests/errors.sh
 * expects are the stacks it finds.
 */
#ifndef ERRS_H
#define ERRS_H

#define KEEP	__attribute__((noinline, noclone, used))

/* Keep a pointer (or a value) from being optimized away. */
static inline void
sink(volatile void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* p, out of the compiler's sight (so it cannot see where a pointer came from). */
static KEEP void *
launder(void *p)
{
	sink(p);
	return p;
}

#endif
