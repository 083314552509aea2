/*
 * libpooldbg/pool-tree.c -- the Pool's free tree.
 *
 * Free blocks are kept in a splay tree ordered by size; each tree node
 * heads a ring of the other free blocks of exactly its size.  Lookups splay
 * top-down, so sizes used together stay near the root.  Allocation is best
 * fit: the smallest size that is large enough; within a size the block
 * freed most recently goes first (it is the one inserted right after the
 * node).  Everything here runs with the pool locked and never allocates.
 * This file never reads a block's data, only the Free links.
 */
#include "internal.h"

#include <stddef.h>

#include "pool-impl.h"

/*
 * Top-down splay: bring the node of the given size, or the last node met
 * on the way to where it would be, to the root of t.  Returns the new root.
 */
static Free *
splay(Free *t, uintptr_t size)
{
	Free n, *l, *r, *y;

	if (t == NULL)
		return NULL;
	n.left = n.right = NULL;
	l = r = &n;
	for (;;) {
		if (size < t->h.size) {
			if (t->left == NULL)
				break;
			if (size < t->left->h.size) {
				y = t->left;		/* rotate right */
				t->left = y->right;
				y->right = t;
				t = y;
				if (t->left == NULL)
					break;
			}
			r->left = t;			/* link right */
			r = t;
			t = t->left;
		} else if (size > t->h.size) {
			if (t->right == NULL)
				break;
			if (size > t->right->h.size) {
				y = t->right;		/* rotate left */
				t->right = y->left;
				y->left = t;
				t = y;
				if (t->right == NULL)
					break;
			}
			l->right = t;			/* link left */
			l = t;
			t = t->right;
		} else
			break;
	}
	l->right = t->left;
	r->left = t->right;
	t->left = n.right;
	t->right = n.left;
	return t;
}

/*
 * Add the free block f (header already FREE_MAGIC with its size) to the
 * tree.  Pool locked.
 */
void
treeinsert(Pool *p, Free *f)
{
	Free *t;

	t = splay(p->freeroot, f->h.size);
	if (t != NULL && t->h.size == f->h.size) {
		f->left = f->right = POISON;
		f->next = t->next;	/* newest right after the node */
		f->prev = t;
		t->next->prev = f;
		t->next = f;
		p->freeroot = t;
		return;
	}
	f->next = f->prev = f;
	if (t == NULL)
		f->left = f->right = NULL;
	else if (f->h.size < t->h.size) {
		f->left = t->left;
		f->right = t;
		t->left = NULL;
	} else {
		f->right = t->right;
		f->left = t;
		t->right = NULL;
	}
	p->freeroot = f;
}

/* Unlink f from its ring; f is not a tree node. */
static void
ringdelete(Free *f)
{
	f->prev->next = f->next;
	f->next->prev = f->prev;
	f->next = f->prev = POISON;
}

/*
 * Take f, a free block in the tree or in a ring, out of the free
 * structure.  Pool locked.
 */
void
treedelete(Pool *p, Free *f)
{
	Free *t, *x, *repl;

	if (f->left == POISON) {
		ringdelete(f);
		return;
	}
	t = splay(p->freeroot, f->h.size);	/* sizes are unique: t == f */
	if (f->next != f) {
		/* the rest of the ring, headed by the next block, takes f's place */
		repl = f->next;
		ringdelete(f);
		repl->left = t->left;
		repl->right = t->right;
		p->freeroot = repl;
		f->left = f->right = POISON;
		return;
	}
	if (t->left == NULL)
		p->freeroot = t->right;
	else {
		x = splay(t->left, f->h.size);	/* largest of the left side */
		x->right = t->right;
		p->freeroot = x;
	}
	f->left = f->right = f->next = f->prev = POISON;
}

/*
 * Best fit, found but left where it is: the node of the smallest size of
 * at least size bytes, splayed to the root, or NULL when no free block is
 * that large.  Pool locked.
 */
Free *
treefit(Pool *p, uintptr_t size)
{
	Free *t, *f;

	t = splay(p->freeroot, size);
	p->freeroot = t;
	if (t == NULL || t->h.size >= size)
		return t;
	/* the smallest node of the right subtree is the best fit */
	if (t->right == NULL)
		return NULL;
	for (f = t->right; f->left != NULL; f = f->left)
		;
	t = splay(t, f->h.size);
	p->freeroot = t;
	return t;
}

/*
 * Take a block of node t, the root treefit found, out of the free
 * structure and return it: the one freed last of its ring, else t.  Pool
 * locked.
 */
Free *
treepick(Pool *p, Free *t)
{
	Free *f;

	if (t->next != t) {
		f = t->next;
		ringdelete(f);
		f->left = f->right = POISON;
		return f;
	}
	treedelete(p, t);
	return t;
}

/*
 * Best fit: take the smallest free block of at least size bytes out of the
 * free structure and return it, or NULL when none is large enough.  Within
 * a size, the block freed last is taken.  Pool locked.
 */
Free *
treetake(Pool *p, uintptr_t size)
{
	Free *t;

	if ((t = treefit(p, size)) == NULL)
		return NULL;
	return treepick(p, t);
}

/*
 * Put r, of rest bytes, in the place of node t, the root treefit found and
 * alone of its size, and take t out, when the order allows it: every node
 * on t's left is smaller than rest (those on its right are larger than t
 * already).  Returns 1, or 0 with nothing changed.  The caller cuts t in
 * two and r is its rest: where the tree would take t out and put r back,
 * searching twice more, r takes the place t leaves.  The nodes left of
 * the root are those the search passed on its way down, so looking for
 * their largest walks the same path; a longer one than CUTWALK nodes is
 * left to the long way.  Pool locked.
 */
int
treecut(Pool *p, Free *t, Free *r, uintptr_t rest)
{
	enum { CUTWALK = 32 };
	Free *x;
	int k;

	if (p->freeroot != t || t->next != t)
		return 0;
	if ((x = t->left) != NULL) {
		for (k = 0; x->right != NULL; x = x->right)
			if (++k > CUTWALK)
				return 0;
		if (x->h.size >= rest)
			return 0;
	}
	r->h.size = rest;
	r->left = t->left;
	r->right = t->right;
	r->next = r->prev = r;
	p->freeroot = r;
	t->left = t->right = t->next = t->prev = POISON;
	return 1;
}

/* The blocks of the ring headed by t, t included. */
static unsigned long
ringlen(Free *t)
{
	unsigned long n;
	Free *f;

	n = 1;
	for (f = t->next; f != t; f = f->next)
		n++;
	return n;
}

/*
 * See internal.h.  Morris's in-order walk: each node's predecessor points
 * back at it while its left side is walked, then is set right again, so
 * no stack is needed however deep the tree, and the tree is left as it
 * was found.
 */
unsigned long
tree_countl(Pool *p)
{
	unsigned long n;
	Free *t, *pre;

	n = 0;
	t = p->freeroot;
	while (t != NULL) {
		if (t->left == NULL) {
			n += ringlen(t);
			t = t->right;
			continue;
		}
		for (pre = t->left; pre->right != NULL && pre->right != t; pre = pre->right)
			;
		if (pre->right == NULL) {
			pre->right = t;
			t = t->left;
		} else {
			pre->right = NULL;
			n += ringlen(t);
			t = t->right;
		}
	}
	return n;
}

/*
 * Check the subtree t: sizes strictly between lo and hi, magics, rings.
 * budget is the number of free blocks the arena walk found; meeting more
 * means a cycle.  Adds the bytes seen to *bytes and returns the number of
 * blocks seen, or -1 after reporting the first broken node through
 * panicblock (which does not return).  Pool locked.
 */
long
treecheck(Pool *p, Free *t, uintptr_t lo, uintptr_t hi, long budget, uintptr_t *bytes)
{
	Free *f;
	long n, m;

	if (t == NULL)
		return 0;
	if (arenaof(p, t) == NULL)
		panicblock(p, (Bhdr *)t, NULL, "bad free tree");
	if (budget <= 0 || t->h.magic != FREE_MAGIC ||
	    t->h.size <= lo || t->h.size >= hi || t->left == POISON || t->right == POISON)
		panicblock(p, (Bhdr *)t, arenaof(p, t), "bad free tree");
	n = 1;
	*bytes += t->h.size;
	for (f = t->next; f != t; f = f->next) {
		if (arenaof(p, f) == NULL)
			panicblock(p, (Bhdr *)f, NULL, "bad free tree");
		if (n >= budget || f->h.magic != FREE_MAGIC ||
		    f->h.size != t->h.size || f->left != POISON || f->right != POISON ||
		    f->next->prev != f)
			panicblock(p, (Bhdr *)f, arenaof(p, f), "bad free tree");
		*bytes += f->h.size;
		n++;
	}
	m = treecheck(p, t->left, lo, t->h.size, budget - n, bytes);
	n += m;
	m = treecheck(p, t->right, t->h.size, hi, budget - n, bytes);
	return n + m;
}
