/*
 * libpooldbg/wordlock.h -- a lock that is one word, given back by a store.
 *
 * The tracing runtime's ring lock is held for short spells, right after
 * stores to lines that may still be on their way in (a block's header,
 * tail and fill).  An atomic write waits for all
 * of them; so a pthread mutex's unlock does.  This lock is taken by an
 * exchange and given back by a plain release store.  A taker that finds it
 * held spins a while, then sleeps on the word a slice at a time: nobody
 * wakes it, so giving the lock back never needs to know of takers.  The
 * word is 0 when free, 1 when held; a fork child stores 0 in it.
 */
#ifndef POOLDBG_WORDLOCK_H
#define POOLDBG_WORDLOCK_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
	WORDLOCK_SPINS	= 100,		/* pauses before the first sleep */
	WORDLOCK_SLICE	= 50000,	/* ns a taker sleeps, at most, before it looks again */
};

static inline int
wordtrylock(atomic_int *l)
{
	return atomic_exchange_explicit(l, 1, memory_order_acquire) == 0 ? 0 : -1;
}

static inline void
wordlock(atomic_int *l)
{
	static const struct timespec slice = { 0, WORDLOCK_SLICE };
	int spins;

	spins = 0;
	while (atomic_exchange_explicit(l, 1, memory_order_acquire) != 0)
		while (atomic_load_explicit(l, memory_order_relaxed) != 0) {
			if (++spins < WORDLOCK_SPINS)
				__builtin_ia32_pause();
			else
				(void)syscall(SYS_futex, l, FUTEX_WAIT_PRIVATE, 1, &slice, NULL, 0);
		}
}

static inline void
wordunlock(atomic_int *l)
{
	atomic_store_explicit(l, 0, memory_order_release);
}

#endif /* POOLDBG_WORDLOCK_H */
