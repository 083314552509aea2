/*
 * libpooldbg/sym.h -- the symbolizer's entry point, called by the recorder
 * once a run is over (defined in trace-sym.c).
 */
#ifndef POOLDBG_SYM_H
#define POOLDBG_SYM_H

#include <stddef.h>

#include <sqlite3.h>

/*
 * Fill locations for every (process, pc) of frames not yet in locations,
 * from the modules table; set meta 'symbolized'.  0, or -1 with one line
 * in err.
 */
int	sym_resolve(sqlite3 *db, char *err, size_t errlen);

#endif /* POOLDBG_SYM_H */
