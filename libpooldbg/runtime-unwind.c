/*
 * libpooldbg/runtime-unwind.c -- the runtime's backtraces: libunwind's
 * unw_backtrace with its per-thread cache, the runtime's own frames left
 * out.
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
 * Must never: take the ring lock (unwinding runs before it is taken), or
 * be called with the pool lock held by a thread that has not unwound yet
 * (libunwind's thread-local cache may be allocated on first use).
 */
#include "internal.h"

#include <dlfcn.h>
#include <stdint.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "runtime.h"

#define STR2(x)	#x
#define STR(x)	STR2(x)

enum {
	SELFMAX	= 8,	/* runtime frames above the caller, at most */
};

static int	(*backtracefn)(void **, int);
static uintptr_t selflo, selfhi;	/* this library's PT_LOAD span */

int
unwind_isself(uintptr_t pc)
{
	return pc >= selflo && pc < selfhi;
}

int
unwind_init(void)
{
	int (*setpolicy)(unw_addr_space_t, unw_caching_policy_t);
	unw_addr_space_t *as;
	void *h;

	(void)modules_bounds((const void *)unwind_init, &selflo, &selfhi);
	h = dlopen(POOLDBG_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return -1;
	*(void **)&backtracefn = dlsym(h, "unw_backtrace");
	*(void **)&setpolicy = dlsym(h, STR(unw_set_caching_policy));
	as = dlsym(h, STR(unw_local_addr_space));
	if (backtracefn == NULL)
		return -1;
	if (setpolicy != NULL && as != NULL)
		(void)setpolicy(*as, UNW_CACHE_PER_THREAD);
	return 0;
}

int
unwind_stack(uintptr_t *pcs, int max)
{
	void *buf[RT_MAXDEPTH + SELFMAX];
	int n, i, k;

	if (backtracefn == NULL || max <= 0)
		return 0;
	if (max > RT_MAXDEPTH)
		max = RT_MAXDEPTH;
	n = backtracefn(buf, max + SELFMAX);
	for (i = 0; i < n && unwind_isself((uintptr_t)buf[i]); i++)
		;
	for (k = 0; i < n && k < max; i++, k++)
		pcs[k] = (uintptr_t)buf[i];
	return k;
}
