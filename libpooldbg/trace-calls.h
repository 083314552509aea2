/*
 * libpooldbg/trace-calls.h -- the names the trace stores for the calls of
 * record.h (events.call, blocks.call): one table, included by the schema
 * module and by the virtual tables, which the loadable extension builds
 * on their own.
 *
 * Must never: hold anything but the table (it is static in each includer).
 */
#ifndef POOLDBG_TRACE_CALLS_H
#define POOLDBG_TRACE_CALLS_H

#include "record.h"

static const char *const trace_callnames[CALL_NCALLS] = {
	[CALL_MALLOC]		= "malloc",
	[CALL_CALLOC]		= "calloc",
	[CALL_REALLOC]		= "realloc",
	[CALL_REALLOCARRAY]	= "reallocarray",
	[CALL_POSIX_MEMALIGN]	= "posix_memalign",
	[CALL_ALIGNED_ALLOC]	= "aligned_alloc",
	[CALL_MEMALIGN]		= "memalign",
	[CALL_VALLOC]		= "valloc",
	[CALL_PVALLOC]		= "pvalloc",
	[CALL_FREE]		= "free",
	[CALL_NEW]		= "new",
	[CALL_NEW_ARRAY]	= "new[]",
	[CALL_DELETE]		= "delete",
	[CALL_DELETE_ARRAY]	= "delete[]",
	[CALL_MALLOCZ]		= "mallocz",
	[CALL_MALLOCALIGN]	= "mallocalign",
	[CALL_SMALLOC]		= "smalloc",
	[CALL_ZALLOC]		= "zalloc",
	[CALL_ZFREE]		= "zfree",
	[CALL_MMALLOC]		= "mmalloc",
	[CALL_MREALLOC]		= "mrealloc",
	[CALL_MVALLOC]		= "mvalloc",
	[CALL_MFREE]		= "mfree",
};

/* The name of call; "unknown" if none. */
static inline const char *
trace_callname_of(int call)
{
	if (call <= 0 || call >= CALL_NCALLS || trace_callnames[call] == NULL)
		return "unknown";
	return trace_callnames[call];
}

#endif /* POOLDBG_TRACE_CALLS_H */
