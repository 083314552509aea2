/*
 * pooldbg/check.c -- `pooldbg check HEAPFILE`: a heap file read offline
 * (the default pool of a program run with --heap-file, or an mmalloc
 * heap), every block checked, every damaged block named.
 *
 * Owns the command's output: one line per damaged block on stdout,
 *
 *	HEAPFILE: block 0xADDR (STATE, N bytes): WHAT
 *
 * with, for an allocated block, the pointer its owner was given;
 * then one summary line.  Exit 0 when every block is sound, 1 when damage
 * was found, 2 for a usage error or a file that is no readable heap.
 *
 * Must never: write the heap file (mmalloc_walkfile maps it read-only),
 * or show a user anything but one line per fault and the summary.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <pooldbg/mmalloc.h>

#include "pooldbg.h"

typedef struct Tally Tally;
struct Tally {
	const char *path;
	uint64_t blocks, alloc, allocbytes, freeb, freebytes, quick, damaged;
};

static const char *
statename(int state)
{
	switch (state) {
	case MMB_ALLOC:	return "allocated";
	case MMB_FREE:	return "free";
	case MMB_QUICK:	return "on a quick list";
	case MMB_OTHER:	return "other";
	default:	return "unreadable";
	}
}

static int
oneblock(const mmalloc_block *b, void *arg)
{
	Tally *t = arg;

	t->blocks++;
	switch (b->state) {
	case MMB_ALLOC:
		t->alloc++;
		t->allocbytes += b->dsize;
		break;
	case MMB_FREE:
		t->freeb++;
		t->freebytes += b->size;
		break;
	case MMB_QUICK:
		t->quick++;
		break;
	}
	if (b->damage == NULL)
		return 0;
	t->damaged++;
	if (b->state == MMB_ALLOC || b->state == MMB_QUICK)
		printf("%s: block %#" PRIx64 " (%s, %" PRIu64 " bytes, pointer %#" PRIx64 "): %s\n",
		    t->path, b->addr, statename(b->state), b->size, b->ptr, b->damage);
	else
		printf("%s: block %#" PRIx64 " (%s, %" PRIu64 " bytes): %s\n", t->path, b->addr,
		    statename(b->state), b->size, b->damage);
	return 0;
}

/* See pooldbg.h. */
int
check(int argc, char **argv)
{
	char err[256];
	Tally t;
	int r;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: pooldbg check HEAPFILE\n"
		    "Walk the heap file HEAPFILE (pooldbg run --heap-file, or mmalloc) offline\n"
		    "and name every damaged block.  Exit 0 clean, 1 damage found, 2 unreadable.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '\0' || (argv[1][0] == '-' && argv[1][1] != '\0')) {
		say("check: usage: pooldbg check HEAPFILE");
		return 2;
	}
	memset(&t, 0, sizeof t);
	t.path = argv[1];
	err[0] = '\0';
	r = mmalloc_walkfile(argv[1], oneblock, &t, err, sizeof err);
	if (r == 2) {
		say("check: %s: %s", argv[1], err);
		return 2;
	}
	printf("%s: %" PRIu64 " blocks: %" PRIu64 " allocated (%" PRIu64 " bytes), %" PRIu64
	    " free (%" PRIu64 " bytes), %" PRIu64 " on quick lists; %" PRIu64 " damaged\n",
	    argv[1], t.blocks, t.alloc, t.allocbytes, t.freeb, t.freebytes, t.quick, t.damaged);
	fflush(stdout);
	return r;
}
