/*
 * pooldbg/errkind.c -- the names of the heap error kinds: the one place
 * that turns a RecError's kind (ERR_* of record.h, chosen by the runtime
 * that found the error) into the word errors.kind stores, leak(1) shows
 * and pooldbg-trace(5) documents.
 *
 * Must never: guess a kind from a message, or return a name outside the
 * documented list.
 */
#include "pooldbg.h"

static const char *const names[ERR_NKINDS] = {
	[ERR_CORRUPTION]	= "corruption",
	[ERR_OVERFLOW]		= "overflow",
	[ERR_UNDERFLOW]		= "underflow",
	[ERR_DOUBLE_FREE]	= "double-free",
	[ERR_INVALID_FREE]	= "invalid-free",
	[ERR_WRITE_AFTER_FREE]	= "write-after-free",
	[ERR_MISMATCHED_FREE]	= "mismatched-free",
	[ERR_REALLOC_FREED]	= "realloc-freed",
	[ERR_USE_AFTER_FREE]	= "use-after-free",
	[ERR_NOTICE]		= "notice",
};

const char *
error_kind(int kind)
{
	if (kind < 0 || kind >= ERR_NKINDS || names[kind] == NULL)
		return "corruption";
	return names[kind];
}
