/*
 * tests/mmalloc-traced.c -- a mapped heap under pooldbg run
 * (tests/mmalloc-trace.sh): in a heap file named by its argument it
 * makes four blocks with mmalloc, one with mvalloc, grows one with
 * mrealloc and frees two with mfree, leaving three (64 + 4000 + 300
 * bytes) allocated at exit; in the default pool (no heap) it leaks one
 * block of 77 bytes through mmalloc(NULL).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pooldbg/mmalloc.h>

static void *keep[8];

static void *
leakone(void *md, size_t n)
{
	return mmalloc(md, n);
}

int
main(int argc, char **argv)
{
	void *md, *a, *b, *c, *d, *v;
	int fd;

	if (argc != 2)
		return 2;
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (md = mmalloc_attach(fd, NULL)) == NULL) {
		fprintf(stderr, "mmalloc-traced: %s: %s\n", argv[1], mmalloc_attach_error());
		return 1;
	}
	a = mmalloc(md, 64);
	b = mmalloc(md, 100);
	c = mmalloc(md, 200);
	d = leakone(md, 300);
	v = mvalloc(md, 4000);
	b = mrealloc(md, b, 1000);
	mfree(md, c);
	mfree(md, b);
	if (a == NULL || d == NULL || v == NULL)
		return 1;
	memset(v, 1, 4000);
	keep[0] = leakone(NULL, 77);
	keep[0] = NULL;	/* lost */
	printf("%p %p %p\n", a, d, v);
	return 0;	/* the heap stays attached: a, d and v are still allocated */
}
