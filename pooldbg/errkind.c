/*
 * pooldbg/errkind.c -- what kind of heap error a report of the pool is:
 * the one place that reads the pool's words (pool(3), DIAGNOSTICS) and
 * names the error for errors.kind, as pooldbg-trace(5) documents it.
 *
 * A report (RecError's message) is the pool's print lines kept before
 * the panic, then the panic line.  The line that decides is the last one
 * that is not an indented dump line ("  header: ...", "  words before
 * it: ..."): the panic, or for a notice the line that names it (its dump
 * follows it).  The lines from the one before it on are the context some
 * kinds need: for "D2B called on non-block", the pool's line about the
 * pointer (outside every arena, or the two words before it, whose first
 * is the magic of the header the pointer would have: a free block's
 * there means the block was freed already).
 *
 * Must never: look at anything but the message, or return a name outside
 * the documented list.
 */
#include "pooldbg.h"

#include <string.h>

/* The header magics of a block that is no longer allocated (libpooldbg/pool-impl.h), as the pool prints a word. */
#define FREEDWORDS(x)	"words before it: 0xba5eba11" x, "words before it: 0xcab00d1f" x, \
			"words before it: 0xdeaddead" x, "words before it: 0xdeadfa11" x

/*
 * In order, the first entry whose reason is in the deciding line and, if
 * it has context words, one of them in the context, names the kind.
 */
static const struct {
	const char *reason;		/* in the deciding line */
	const char *context[4];		/* one of these before it; none: no condition */
	const char *kind;
} kinds[] = {
	/* POOL_TOLERANCE forgave one NUL past the end: reported, not fatal */
	{ "mem user overflow (one NUL, tolerated)",	{ NULL },	"notice" },
	/* free, realloc or msize of a pointer that is not an allocated block */
	{ "D2B called on non-block",	{ "(outside every arena)" },	"invalid-free" },
	{ "D2B called on non-block",	{ FREEDWORDS(" ") },		"double-free" },
	{ "D2B called on non-block",	{ NULL },			"invalid-free" },
	/* past the end of the caller's data: guard bytes, then the tail */
	{ ": mem user overflow:",	{ NULL },	"overflow" },
	{ ": corrupt tail magic0:",	{ NULL },	"overflow" },
	{ ": corrupt tail magic1:",	{ NULL },	"overflow" },
	{ ": corrupt tail ptr:",	{ NULL },	"overflow" },
	{ ": too much block data:",	{ NULL },	"overflow" },
	/* before the start of a block: its header */
	{ ": bad magic:",		{ NULL },	"underflow" },
	{ ": bad block size:",		{ NULL },	"underflow" },
	/* through a pointer to a freed block: its fill, or the tail of a block not allocated */
	{ ": dangling pointer write:",	{ NULL },	"write-after-free" },
	{ ": corrupt tail magic:",	{ NULL },	"write-after-free" },
};

/* Whether the line s..e (e excluded) holds word. */
static int
has(const char *s, const char *e, const char *word)
{
	size_t n;

	n = strlen(word);
	for (; (size_t)(e - s) >= n; s++)
		if (memcmp(s, word, n) == 0)
			return 1;
	return 0;
}

/* The start of the line that ends at e (the character before e is its last, or a newline before it). */
static const char *
linestart(const char *msg, const char *e)
{
	while (e > msg && e[-1] != '\n')
		e--;
	return e;
}

const char *
error_kind(const char *message)
{
	const char *end, *s, *e, *ctx;
	size_t i, j;
	int any;

	if (message == NULL)
		return "corruption";
	/* the deciding line: the last one that is not empty nor indented */
	end = message + strlen(message);
	e = end;
	for (;;) {
		while (e > message && e[-1] == '\n')
			e--;
		s = linestart(message, e);
		if (e == message || (e > s && s[0] != ' '))
			break;
		e = s;
	}
	if (e == message)
		return "corruption";
	/* its context: from the line before the previous deciding-kind line on */
	ctx = s;
	while (ctx > message) {
		ctx = linestart(message, ctx - 1);
		if (ctx[0] != ' ')
			break;
	}
	for (i = 0; i < nelem(kinds); i++) {
		if (!has(s, e, kinds[i].reason))
			continue;
		any = kinds[i].context[0] == NULL;
		for (j = 0; !any && j < nelem(kinds[i].context) && kinds[i].context[j] != NULL; j++)
			any = has(ctx, s, kinds[i].context[j]);
		if (any)
			return kinds[i].kind;
	}
	return "corruption";
}
