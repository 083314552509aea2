/*
 * libpooldbg/poolflags.h -- the names of the pool's debug flags and the
 * parser of a comma-separated list of them, shared by the default pool
 * (POOLDBG_FLAGS) and the recorder (--flags).
 */
#ifndef POOLDBG_POOLFLAGS_H
#define POOLDBG_POOLFLAGS_H

#include <stddef.h>

/*
 * The POOL_* bits named by list, comma-separated names (antagonism,
 * paranoia, verbosity, debugging, logging, tolerance, noreuse; blanks
 * around a name and empty items ignored).  For each unknown name calls
 * bad(name, length, arg) and goes on.  Never allocates; safe before main.
 */
int	poolflags_parse(const char *list, void (*bad)(const char *, size_t, void *), void *arg);

#endif /* POOLDBG_POOLFLAGS_H */
