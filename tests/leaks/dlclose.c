/*
 * tests/leaks/dlclose.c -- a block held by a global of a dlopen'd library
 * (dlclose-lib.c: 250 bytes) that is dlclosed before exit: its data goes
 * with it, so the block is definitely lost (1 block, 250 bytes).
 *
 * Usage: dlclose LIBRARY
 *
 * Deterministic: the library's pointer, returned to run(), lives only in
 * its frame, zeroed by clobber() before main returns.
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "leaks.h"

static NOINLINE int
run(const char *path)
{
	void *h, *p;
	void *(*keep)(size_t);

	if ((h = dlopen(path, RTLD_NOW)) == NULL) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	*(void **)&keep = dlsym(h, "leakdl_keep");
	if (keep == NULL)
		return 1;
	p = keep(250);
	block(p, "definite");
	dlclose(h);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2 || run(argv[1]) != 0)
		return 1;
	expect(1, 250, 0, 0, 0, 0);
	clobber();
	return 0;
}
