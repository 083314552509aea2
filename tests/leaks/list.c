/*
 * tests/leaks/list.c -- a lost singly linked list of five 24-byte nodes:
 * nothing points to the head, each node points to the next.  Expected:
 * the head definitely lost (1 block, 24 bytes), the four others
 * indirectly lost (4 blocks, 96 bytes).
 *
 * Deterministic: the list is built and dropped in build(); its frame and
 * printf's are zeroed by clobber() before main returns.
 */
#include <stdlib.h>

#include "leaks.h"

typedef struct Node Node;
struct Node {
	Node	*next;
	long	value;
	long	pad;
};

static NOINLINE void
build(void)
{
	Node *head, *n;
	int i;

	head = NULL;
	for (i = 0; i < 5; i++) {
		n = malloc(sizeof *n);
		n->next = head;
		n->value = i;
		n->pad = 0;
		head = n;
	}
	block(head, "definite");
	for (n = head->next; n != NULL; n = n->next)
		block(n, "indirect");
}

int
main(void)
{
	build();
	expect(1, 24, 4, 96, 0, 0);
	clobber();
	return 0;
}
