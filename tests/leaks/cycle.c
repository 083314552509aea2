/*
 * tests/leaks/cycle.c -- a lost cycle of three 32-byte blocks, a -> b ->
 * c -> a, nothing else pointing into it.  Every block of a lost cycle is
 * pointed to, so none is "directly" lost; as memcheck does, the block at
 * the lowest address leads the cycle's clique and is counted definitely
 * lost, the other two indirectly.  Expected: definite 1/32, indirect 2/64.
 *
 * Deterministic: the cycle lives only in make()'s frame, zeroed by
 * clobber() before main returns.
 */
#include <stdint.h>
#include <stdlib.h>

#include "leaks.h"

typedef struct Node Node;
struct Node {
	Node	*next;
	char	data[24];
};

static NOINLINE void
make(void)
{
	Node *n[3], *low;
	int i;

	for (i = 0; i < 3; i++)
		n[i] = calloc(1, sizeof *n[i]);
	for (i = 0; i < 3; i++)
		n[i]->next = n[(i + 1) % 3];
	low = n[0];
	for (i = 1; i < 3; i++)
		if ((uintptr_t)n[i] < (uintptr_t)low)
			low = n[i];
	for (i = 0; i < 3; i++)
		block(n[i], n[i] == low ? "definite" : "indirect");
}

int
main(void)
{
	make();
	expect(1, 32, 2, 64, 0, 0);
	clobber();
	return 0;
}
