/*
 * tests/leaks/leaks.h -- what the programs of the leak corpus share: the
 * lines they print for tests/leaks.sh, and the stack clobber that makes
 * their answers deterministic.
 *
 * Each program runs once under the tracing runtime and, where it is
 * installed, once under valgrind --leak-check=full.  On stdout it prints
 *   expect pid=P definite=N/B indirect=N/B possible=N/B
 *       the blocks and bytes of each class in the exit scan of process P
 *       ("?" for a count the program cannot know)
 *   block pid=P ptr=X cls=C
 *       block X is in class C in that scan
 *   threads pid=P threads=T stopped=S
 *       what that scan says of the threads
 *
 * Determinism: a pointer left in a dead stack slot or a register is a
 * root to a conservative scan (ours and memcheck's alike).  So every
 * program makes its blocks in functions that main calls, prints what it
 * expects from there, and has main call clobber() before it returns: the
 * dead frames below main -- where the exit path's frames, and the scan,
 * will run -- are zeroed.  main itself keeps no pointer.  Registers are
 * reused by the calls that follow (printf, clobber, exit).
 *
 * Owns nothing but its output.
 */
#ifndef LEAKS_H
#define LEAKS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define NOINLINE	__attribute__((noinline))
#define MAYBEUNUSED	__attribute__((unused))

enum { CLOBBER = 256 << 10 };

/* Zero CLOBBER bytes of stack below the caller's frame. */
static NOINLINE MAYBEUNUSED void
clobber(void)
{
	volatile char pad[CLOBBER];
	size_t i;

	for (i = 0; i < sizeof pad; i++)
		pad[i] = 0;
}

/* The exit scan of this process must hold exactly these counts. */
static MAYBEUNUSED void
expect(int dn, size_t db, int in, size_t ib, int pn, size_t pb)
{
	printf("expect pid=%d definite=%d/%zu indirect=%d/%zu possible=%d/%zu\n", (int)getpid(),
	    dn, db, in, ib, pn, pb);
	fflush(stdout);
}

/* Block p must be of class cls in this process's exit scan. */
#define block(p, cls)	blockat((uintptr_t)(p), (cls))

/* (An address, not a pointer: the compiler would take the block's bytes for read.) */
static MAYBEUNUSED void
blockat(uintptr_t p, const char *cls)
{
	printf("block pid=%d ptr=%#lx cls=%s\n", (int)getpid(), (unsigned long)p, cls);
	fflush(stdout);
}

#endif /* LEAKS_H */
