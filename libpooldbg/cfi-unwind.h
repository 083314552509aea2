/*
 * libpooldbg/cfi-unwind.h -- a stack walker over .eh_frame's call-frame
 * information, with the rule of every return address cached (x86-64).
 */
#ifndef POOLDBG_CFI_UNWIND_H
#define POOLDBG_CFI_UNWIND_H

#include <stdint.h>

/*
 * Up to max return addresses of the caller's stack, innermost first,
 * those for which skip(pc) holds left out at the top of the stack (skip
 * may be NULL).  Returns the count, or -1 when some frame's rule is
 * beyond this walker (no call-frame information, a signal frame, a CFA
 * that is not rsp or rbp plus an offset, a frame out of order): the
 * caller then asks a general unwinder.  Never allocates, takes no lock.
 */
int	cfi_backtrace(uintptr_t *pcs, int max, int (*skip)(uintptr_t));
/*
 * The same, from a caller's frame: ip is the return address a call
 * pushed, sp the stack pointer once that call returns (the callee's CFA)
 * and bp the caller's rbp then; ip is the first pc.
 */
int	cfi_backtrace_from(uintptr_t *pcs, int max, uintptr_t ip, uintptr_t sp, uintptr_t bp);
/* Start walking (0), or say the walker cannot work here (-1).  Call once
 * the dynamic linker has finished starting the program. */
int	cfi_init(void);
/* Forget every cached rule: objects may have been unmapped. */
void	cfi_flush(void);
/* After fork, in the child: a rule being cached by another thread is dropped. */
void	cfi_forked(void);

#endif
