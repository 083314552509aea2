/*
 * tests/leaks/tight.c -- the exit scan with little address space left: a
 * heap grown to some 64 MiB and freed, a lost list of three 40-byte nodes,
 * then, under the tracing runtime, an address-space limit (RLIMIT_AS) a
 * few MiB above what the process has mapped.  The scan's work area,
 * sized for every block 64 MiB of arenas could hold, no longer fits; the
 * scan must count the blocks and map just enough instead, and still
 * classify them.  Expected: the head definitely lost (1 block, 40
 * bytes), the two others indirectly lost (2 blocks, 80 bytes).
 *
 * Under valgrind (no libpooldbg in LD_PRELOAD) no limit is set: its own
 * memory is no business of this test.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "leaks.h"

enum {
	NBIG	= 16384,	/* blocks of BIG bytes: 64 MiB */
	BIG	= 4096,
	ROOM	= 16 << 20,	/* address space left above what is mapped */
};

typedef struct Node Node;
struct Node {
	Node	*next;
	long	value[4];
};

static NOINLINE void
grow(void)
{
	static void *big[NBIG];
	int i;

	for (i = 0; i < NBIG; i++)
		big[i] = malloc(BIG);
	for (i = 0; i < NBIG; i++)
		free(big[i]);
	memset(big, 0, sizeof big);
}

static NOINLINE void
build(void)
{
	Node *head, *n;
	int i;

	head = NULL;
	for (i = 0; i < 3; i++) {
		n = calloc(1, sizeof *n);
		n->next = head;
		head = n;
	}
	block(head, "definite");
	for (n = head->next; n != NULL; n = n->next)
		block(n, "indirect");
}

/* Bytes of address space mapped now (VmSize), or 0. */
static unsigned long
mapped(void)
{
	FILE *f;
	char line[256];
	unsigned long kb;

	kb = 0;
	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static NOINLINE void
tighten(void)
{
	const char *pre;
	struct rlimit rl;
	unsigned long m;

	pre = getenv("LD_PRELOAD");
	if (pre == NULL || strstr(pre, "libpooldbg") == NULL || (m = mapped()) == 0)
		return;
	rl.rlim_cur = rl.rlim_max = m + ROOM;
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		perror("setrlimit");
}

int
main(void)
{
	grow();
	build();
	expect(1, 40, 2, 80, 0, 0);
	tighten();
	clobber();
	return 0;
}
