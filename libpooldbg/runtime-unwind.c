/*
 * libpooldbg/runtime-unwind.c -- the runtime's backtraces, the runtime's
 * own frames left out: walked over .eh_frame by cfi-unwind.c where every
 * frame's rule is of the simple kind, else by libunwind's unw_backtrace
 * with its per-thread cache.  POOLDBG_UNWIND=libunwind in the environment
 * leaves every stack to libunwind.
 *
 * libunwind is loaded with dlopen(RTLD_LOCAL) by the constructor instead
 * of being linked: the Debian build of libunwind.so exports backtrace and
 * the whole _Unwind_* family, which a preloaded dependency would put in
 * front of the C library's and libgcc_s's for every program (C++
 * exceptions would then unwind through libunwind), and its static archive
 * is not position-independent.  Loaded locally it adds nothing to the
 * program's namespace, and a program that brings its own libunwind keeps
 * it.  The soname comes from configure (POOLDBG_LIBUNWIND_SONAME).
 *
 * libunwind keeps a pipe open for ever (it checks addresses by writing
 * from them), made on its first unwind with pipe2: left alone it would
 * take the program's next descriptors (3 and 4 in most programs).  pipe2
 * is therefore interposed: called from inside the runtime (the guard set),
 * its two descriptors are moved up near the descriptor limit; called by
 * the program, it is the system call and nothing else.  The first unwind
 * is made by unwind_init, so the pipe exists before main.
 *
 * Must never: take the ring lock (unwinding runs before it is taken), or
 * be called with the pool lock held by a thread that has not unwound yet
 * (libunwind's thread-local cache may be allocated on first use).
 */
#include "internal.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "cfi-unwind.h"
#include "runtime.h"

#define STR2(x)	#x
#define STR(x)	STR2(x)

enum {
	SELFMAX	= 8,	/* runtime frames above the caller, at most */
	HIGHFD	= 1000,	/* the runtime's own descriptors go at or above this... */
	FDROOM	= 24,	/* ...or this far below the descriptor limit if it is lower */
};

static int	(*backtracefn)(void **, int);
static uintptr_t selflo, selfhi;	/* this library's PT_LOAD span */
static uintptr_t unwlo, unwhi;		/* libunwind's, once loaded */
static uintptr_t ldlo, ldhi;		/* the dynamic linker's */

/* Whether pc lies in this library (its frames are left out of stacks). */
int
unwind_isself(uintptr_t pc)
{
	return pc >= selflo && pc < selfhi;
}

/* The k-th object kept out of the scan's roots: 0 this library, 1 libunwind; 0 or -1. */
int
unwind_private(int k, uintptr_t *lo, uintptr_t *hi)
{
	if (k == 0 && selfhi != 0) {
		*lo = selflo;
		*hi = selfhi;
		return 0;
	}
	if (k == 1 && unwhi != 0) {
		*lo = unwlo;
		*hi = unwhi;
		return 0;
	}
	return -1;
}

/* The dynamic linker's PT_LOAD span (found by unwind_init); 0, or -1 if unknown. */
int
unwind_loader(uintptr_t *lo, uintptr_t *hi)
{
	if (ldhi == 0)
		return -1;
	*lo = ldlo;
	*hi = ldhi;
	return 0;
}

/* Move fd up out of the program's way; the new descriptor, or fd itself. */
static int
movehigh(int fd, int cloexec)
{
	struct rlimit rl;
	rlim_t base;
	int hi;

	base = HIGHFD;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < HIGHFD + FDROOM)
		base = rl.rlim_cur > 2 * FDROOM ? rl.rlim_cur - FDROOM : 0;
	if (base <= (rlim_t)fd)
		return fd;
	hi = fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, (int)base);
	if (hi < 0)
		return fd;
	close(fd);
	return hi;
}

/* pipe2: the system call; inside the runtime, both ends moved out of the program's way. */
EXPORT int
pipe2(int fds[2], int flags)
{
	int r;

	r = (int)syscall(SYS_pipe2, fds, flags);
	if (r == 0 && rt_inside) {
		fds[0] = movehigh(fds[0], flags & O_CLOEXEC);
		fds[1] = movehigh(fds[1], flags & O_CLOEXEC);
	}
	return r;
}

/* Load libunwind privately and make its first unwind; 0, or -1 (stacks stay empty).  Constructor only. */
int
unwind_init(void)
{
	int (*setpolicy)(unw_addr_space_t, unw_caching_policy_t);
	unw_addr_space_t *as;
	const char *env;
	void *h;

	(void)modules_bounds((const void *)unwind_init, &selflo, &selfhi);
	if (getauxval(AT_BASE) != 0)
		(void)modules_bounds((const void *)getauxval(AT_BASE), &ldlo, &ldhi);
	h = dlopen(POOLDBG_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return -1;
	*(void **)&backtracefn = dlsym(h, "unw_backtrace");
	*(void **)&setpolicy = dlsym(h, STR(unw_set_caching_policy));
	as = dlsym(h, STR(unw_local_addr_space));
	if (backtracefn == NULL)
		return -1;
	(void)modules_bounds((const void *)backtracefn, &unwlo, &unwhi);
	if (setpolicy != NULL && as != NULL)
		(void)setpolicy(*as, UNW_CACHE_PER_THREAD);
	env = getenv("POOLDBG_UNWIND");
	if (env == NULL || strcmp(env, "libunwind") != 0)
		(void)cfi_init();
	{
		void *buf[4];

		(void)backtracefn(buf, 4);	/* libunwind's own set-up, now, whichever walker serves */
	}
	return 0;
}

/* Up to max return addresses of the caller, innermost first, this library's frames skipped; the count. */
int
unwind_stack(uintptr_t *pcs, int max, const RtFrom *from)
{
	void *buf[RT_MAXDEPTH + SELFMAX];
	int n, i, k;

	if (backtracefn == NULL || max <= 0)
		return 0;
	if (max > RT_MAXDEPTH)
		max = RT_MAXDEPTH;
	if (from != NULL && from->sp != 0)
		n = cfi_backtrace_from(pcs, max, from->pc, from->sp, from->bp);
	else
		n = cfi_backtrace(pcs, max, unwind_isself);
	if (n >= 0)
		return n;
	n = backtracefn(buf, max + SELFMAX);
	for (i = 0; i < n && unwind_isself((uintptr_t)buf[i]); i++)
		;
	for (k = 0; i < n && k < max; i++, k++)
		pcs[k] = (uintptr_t)buf[i];
	return k;
}
