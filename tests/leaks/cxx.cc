/*
 * tests/leaks/cxx.cc -- C++ blocks lost: new int[10] (40 bytes: an array
 * of a trivial type has no cookie, the pointer is the block's start), a
 * list of three 16-byte nodes made by new (head definite, two indirect),
 * and new Obj[3] of a class with a destructor (24 bytes and the 8-byte
 * element count in front: one 32-byte block).  Expected: definite 3/88,
 * indirect 2/32.
 *
 * Deterministic: every pointer lives only in make()'s frame, zeroed by
 * clobber() before main returns.
 */
#include <cstdio>
#include <cstdlib>

extern "C" {
#include "leaks.h"
}

struct Node {
	Node	*next;
	long	value;
};

struct Obj {
	char	c[8];
	~Obj() { c[0] = 0; }
};

static NOINLINE void
make(void)
{
	int *a = new int[10];
	block(a, "definite");

	Node *head = nullptr;
	for (int i = 0; i < 3; i++) {
		Node *n = new Node;
		n->next = head;
		n->value = i;
		head = n;
	}
	block(head, "definite");
	for (Node *n = head->next; n != nullptr; n = n->next)
		block(n, "indirect");

	Obj *o = new Obj[3];
	block((char *)o - sizeof(size_t), "definite");
}

int
main()
{
	make();
	expect(3, 88, 2, 32, 0, 0);
	clobber();
	return 0;
}
