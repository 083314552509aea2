/*
 * libpooldbg/poolflags.c -- the pool flags by name (see poolflags.h).
 * Compiled into the default pool's library and into the recorder, so both
 * know the same names.  Never allocates, never prints.
 */
#include "internal.h"

#include <string.h>

#include <pooldbg/pool.h>

#include "poolflags.h"

static const struct {
	const char *name;
	int	flag;
} flagtab[] = {
	{ "antagonism",	POOL_ANTAGONISM },
	{ "paranoia",	POOL_PARANOIA },
	{ "verbosity",	POOL_VERBOSITY },
	{ "debugging",	POOL_DEBUGGING },
	{ "logging",	POOL_LOGGING },
	{ "tolerance",	POOL_TOLERANCE },
	{ "noreuse",	POOL_NOREUSE },
};

int
poolflags_parse(const char *s, void (*bad)(const char *, size_t, void *), void *arg)
{
	const char *w, *e;
	size_t i, n;
	int flags;

	flags = 0;
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		w = s;
		while (*s != '\0' && *s != ',')
			s++;
		e = s;
		if (*s == ',')
			s++;
		while (e > w && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		n = (size_t)(e - w);
		if (n == 0)
			continue;
		for (i = 0; i < nelem(flagtab); i++)
			if (strlen(flagtab[i].name) == n && memcmp(flagtab[i].name, w, n) == 0)
				break;
		if (i < nelem(flagtab))
			flags |= flagtab[i].flag;
		else if (bad != NULL)
			bad(w, n, arg);
	}
	return flags;
}
